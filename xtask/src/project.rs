//! Where things are: the workspace around the current directory, its
//! packages and their crate roots, and in-place edits of Rust sources.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, anyhow, bail};
use proc_macro2::LineColumn;

/// The `cargo` that runs us (`$CARGO` under `cargo run`), so nested builds
/// use the same toolchain.
pub fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The root directory of the workspace `dir` is in, as cargo sees it.
pub fn workspace_root(dir: &Path) -> anyhow::Result<PathBuf> {
    let output = Command::new(cargo())
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .current_dir(dir)
        .output()
        .context("cannot run cargo locate-project")?;
    if !output.status.success() {
        bail!(
            "{} is not inside a Cargo workspace: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let manifest = PathBuf::from(String::from_utf8(output.stdout)?.trim());
    Ok(manifest
        .parent()
        .ok_or_else(|| anyhow!("cargo gave a manifest without a directory"))?
        .to_path_buf())
}

/// A crate root of a workspace package: a library or a binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The package's name.
    pub package: String,
    /// `lib` or `bin`.
    pub kind: String,
    /// The target's name (the crate name of a lib, the binary name of a bin).
    pub name: String,
    /// Its root source file.
    pub root: PathBuf,
}

/// The library and binary targets of every member of the workspace in `dir`,
/// libraries first, from `cargo metadata`.
pub fn workspace_targets(dir: &Path) -> anyhow::Result<Vec<Target>> {
    let output = Command::new(cargo())
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(dir)
        .output()
        .context("cannot run cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let mut targets = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let package_name = package["name"].as_str().unwrap_or_default();
        for target in package["targets"].as_array().into_iter().flatten() {
            let kinds: Vec<&str> = target["kind"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|k| k.as_str())
                .collect();
            let kind = if kinds
                .iter()
                .any(|k| matches!(*k, "lib" | "rlib" | "proc-macro"))
            {
                "lib"
            } else if kinds.contains(&"bin") {
                "bin"
            } else {
                continue;
            };
            targets.push(Target {
                package: package_name.to_string(),
                kind: kind.to_string(),
                name: target["name"].as_str().unwrap_or_default().to_string(),
                root: PathBuf::from(target["src_path"].as_str().unwrap_or_default()),
            });
        }
    }
    targets.sort_by_key(|t| t.kind != "lib");
    Ok(targets)
}

/// Formats files in place with rustfmt, as `cargo fmt` would, so what
/// scaffold writes passes `cargo fmt --check`.
pub fn rustfmt(files: &[PathBuf]) -> anyhow::Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let status = Command::new("rustfmt")
        .args(["--edition", "2024"])
        .args(files)
        .status()
        .context("cannot run rustfmt (rustup component add rustfmt)")?;
    if !status.success() {
        bail!("rustfmt failed on {files:?}");
    }
    Ok(())
}

/// Reads and parses a Rust file.
pub fn parse_file(path: &Path) -> anyhow::Result<(String, syn::File)> {
    let source =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file = syn::parse_file(&source)
        .with_context(|| format!("{} does not parse as Rust", path.display()))?;
    Ok((source, file))
}

/// The byte offset of a span position (1-based line, 0-based column in
/// characters) in `source`.
pub fn offset(source: &str, at: LineColumn) -> usize {
    let line_start: usize = source
        .split_inclusive('\n')
        .take(at.line - 1)
        .map(str::len)
        .sum();
    let line = &source[line_start..];
    line_start
        + line
            .char_indices()
            .nth(at.column)
            .map_or(line.len(), |(i, _)| i)
}

/// `source` with `text` inserted at byte `at`.
pub fn insert(source: &str, at: usize, text: &str) -> String {
    let mut out = String::with_capacity(source.len() + text.len());
    out.push_str(&source[..at]);
    out.push_str(text);
    out.push_str(&source[at..]);
    out
}

/// `source` with `use {path};` added unless the file already has that
/// exact `use`: after the last top-level `use`, else before the first item.
pub fn ensure_use(source: &str, path: &str) -> anyhow::Result<String> {
    let file = syn::parse_file(source)?;
    let wanted: syn::ItemUse = syn::parse_str(&format!("use {path};"))?;
    let wanted_tree = quote::quote!(#wanted).to_string();
    let mut last_use = None;
    for item in &file.items {
        if let syn::Item::Use(item_use) = item {
            let tree = item_use.tree.clone();
            let plain = quote::quote!(use #tree;).to_string();
            if plain == wanted_tree {
                return Ok(source.to_string());
            }
            last_use = Some(item_use);
        }
    }
    let line = format!("use {path};\n");
    Ok(match (last_use, file.items.first()) {
        (Some(item), _) => {
            let end = offset(source, syn::spanned::Spanned::span(item).end());
            insert(source, end, &format!("\n{}", line.trim_end()))
        }
        (None, Some(first)) => {
            let start = offset(source, item_start(first));
            insert(source, start, &format!("{line}\n"))
        }
        (None, None) => format!("{}\n\n{line}", source.trim_end()),
    })
}

/// Where an item begins, its outer attributes (doc comments included) first.
pub fn item_start(item: &syn::Item) -> LineColumn {
    let attrs: &[syn::Attribute] = match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => &[],
    };
    let first = attrs
        .first()
        .map(|a| a.pound_token.span)
        .unwrap_or_else(|| syn::spanned::Spanned::span(item));
    first.start()
}

/// Writes `contents` to `path`, creating its directory, refusing to replace a file.
pub fn write_new(path: &Path, contents: &str) -> anyhow::Result<()> {
    if path.exists() {
        bail!("{} exists already: not overwriting it", path.display());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensure_use_goes_after_the_last_use_or_before_the_first_item() {
        let with_use = "//! Models.\n\nuse a::b;\n\npub struct X;\n";
        let out = ensure_use(with_use, "crate::c::D").unwrap();
        assert_eq!(
            out,
            "//! Models.\n\nuse a::b;\nuse crate::c::D;\n\npub struct X;\n"
        );
        assert_eq!(ensure_use(&out, "crate::c::D").unwrap(), out);

        let without = "//! Models.\n\n/// An X.\npub struct X;\n";
        assert_eq!(
            ensure_use(without, "a::*").unwrap(),
            "//! Models.\n\nuse a::*;\n\n/// An X.\npub struct X;\n"
        );
        assert_eq!(
            ensure_use("//! Empty.\n", "a::*").unwrap(),
            "//! Empty.\n\nuse a::*;\n"
        );
    }
}
