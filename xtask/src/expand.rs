//! `cargo xtask expand <Model>`: the code `#[derive(Model)]` generates for
//! one model, formatted.
//!
//! With cargo-expand installed the expansion is rustc's own, every nested
//! derive (serde, SeaORM, validator) expanded too; without it, the derive's
//! pipeline in ferrobridge-codegen runs directly on the struct and
//! prettyplease formats it, which needs no nightly and no build.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use quote::ToTokens;

use crate::project::{cargo, workspace_root, workspace_targets};
use crate::sources::{FoundModel, models_in};

/// How to expand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// cargo-expand when it is on `PATH`, else [`Engine::Codegen`].
    Auto,
    /// ferrobridge-codegen and prettyplease, in process.
    Codegen,
    /// `cargo expand` (rustc's expansion, nested derives included).
    CargoExpand,
}

/// Every model of the workspace around `dir`, each crate's models once
/// (a binary declaring its library's modules again is not counted twice).
pub fn workspace_models(dir: &Path) -> anyhow::Result<Vec<FoundModel>> {
    let root = workspace_root(dir)?;
    let mut models: Vec<FoundModel> = Vec::new();
    for target in workspace_targets(&root)? {
        for model in models_in(&target)? {
            let seen = models
                .iter()
                .any(|m| m.file == model.file && m.item.ident == model.item.ident);
            if !seen {
                models.push(model);
            }
        }
    }
    Ok(models)
}

/// The one model `query` designates: `Post`, or a path ending in it whose
/// other segments are its app label or, in order, segments of its module
/// path (`blog::Post`, `blog::models::Post`). Several matches are an error
/// listing them.
pub fn resolve<'a>(models: &'a [FoundModel], query: &str) -> anyhow::Result<&'a FoundModel> {
    let segments: Vec<&str> = query.split("::").filter(|s| !s.is_empty()).collect();
    let Some((name, prefix)) = segments.split_last() else {
        bail!("name a model: cargo xtask expand Post");
    };
    let matching: Vec<&FoundModel> = models
        .iter()
        .filter(|m| m.name() == *name)
        .filter(|m| {
            if prefix.is_empty() {
                return true;
            }
            let label_matches = prefix.len() == 1 && m.app_label.as_deref() == Some(prefix[0]);
            let path = m.path();
            let full: Vec<&str> = path.split("::").collect();
            let module = &full[..full.len() - 1];
            // The given segments in order, gaps allowed: `blog::Post`
            // finds `blog::models::Post`.
            let mut rest = module.iter();
            label_matches || prefix.iter().all(|p| rest.any(|m| m == p))
        })
        .collect();
    match matching.as_slice() {
        [one] => Ok(one),
        [] => {
            let known: BTreeSet<String> = models.iter().map(FoundModel::path).collect();
            if known.is_empty() {
                bail!("no struct derives Model in this workspace");
            }
            bail!(
                "no model `{query}` in this workspace; models: {}",
                known.into_iter().collect::<Vec<_>>().join(", ")
            )
        }
        many => {
            let mut list = String::new();
            for m in many {
                list.push_str(&format!(
                    "\n  {} (app \"{}\", {})",
                    m.path(),
                    m.app_label.as_deref().unwrap_or("?"),
                    m.file.display()
                ));
            }
            // Suggest the app label only when it tells the candidates apart.
            let labels: BTreeSet<Option<&String>> =
                many.iter().map(|m| m.app_label.as_ref()).collect();
            let example = match &many[0].app_label {
                Some(app) if labels.len() == many.len() => format!("{app}::{name}"),
                _ => many[0].path(),
            };
            bail!(
                "`{query}` is ambiguous; name it by app label or module path, e.g. `{example}`:{list}"
            )
        }
    }
}

/// The formatted expansion of `query`'s derive, for the workspace around `dir`.
pub fn expand(dir: &Path, query: &str, engine: Engine) -> anyhow::Result<String> {
    let root = workspace_root(dir)?;
    let models = workspace_models(&root)?;
    let model = resolve(&models, query)?;
    let file = model.file.strip_prefix(&root).unwrap_or(&model.file);
    let use_cargo_expand = match engine {
        Engine::Codegen => false,
        Engine::CargoExpand => true,
        Engine::Auto => cargo_expand_installed(),
    };
    if use_cargo_expand {
        return through_cargo_expand(&root, model, file);
    }
    let header = format!(
        "// #[derive(Model)] on {} ({}), expanded by ferrobridge-codegen.\n// Nested derives (serde, SeaORM, schemars, validator) stay as attributes; install cargo-expand to see them expanded too.\n\n",
        model.path(),
        file.display()
    );
    Ok(header + &codegen(&model.item)?)
}

/// The derive's output for `item`, as the proc-macro would produce it, formatted.
pub fn codegen(item: &syn::ItemStruct) -> anyhow::Result<String> {
    let input: syn::DeriveInput = syn::parse2(item.to_token_stream())?;
    let tokens = ferrobridge_codegen::expand_model(&input);
    let file: syn::File =
        syn::parse2(tokens).context("the derive's output does not parse as items")?;
    if let Some(errors) = compile_errors(&file) {
        bail!("the derive reports errors on `{}`:\n{errors}", item.ident);
    }
    Ok(prettyplease::unparse(&file))
}

/// The messages of `compile_error!` invocations: the derive's diagnostics.
fn compile_errors(file: &syn::File) -> Option<String> {
    let messages: Vec<String> = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Macro(m) if m.mac.path.segments.last()?.ident == "compile_error" => {
                let lit: syn::LitStr = m.mac.parse_body().ok()?;
                Some(format!("  {}", lit.value()))
            }
            _ => None,
        })
        .collect();
    (!messages.is_empty()).then(|| messages.join("\n"))
}

/// `cargo-expand` on `PATH` (what `cargo expand` runs).
pub fn cargo_expand_installed() -> bool {
    let exe = format!("cargo-expand{}", std::env::consts::EXE_SUFFIX);
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    // cargo also finds subcommands in $CARGO_HOME/bin.
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    dirs.iter().any(|dir| dir.join(&exe).is_file())
}

fn through_cargo_expand(root: &Path, model: &FoundModel, file: &Path) -> anyhow::Result<String> {
    let mut command = Command::new(cargo());
    command
        .current_dir(root)
        .args(["expand", "--color", "never", "--package"])
        .arg(&model.target.package);
    if model.target.kind == "lib" {
        command.arg("--lib");
    } else {
        command.args(["--bin", &model.target.name]);
    }
    if !model.module.is_empty() {
        command.arg(model.module.join("::"));
    }
    let output = command.output().context("cannot run cargo expand")?;
    if !output.status.success() {
        bail!(
            "cargo expand failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let expanded = String::from_utf8(output.stdout)?;
    let parsed =
        syn::parse_file(&expanded).context("cargo expand printed something that does not parse")?;
    // cargo expand prints the whole module: keep what this derive made.
    let module_items = match parsed.items.as_slice() {
        [syn::Item::Mod(m)] if m.content.is_some() && !model.module.is_empty() => m
            .content
            .as_ref()
            .map(|(_, items)| items.clone())
            .unwrap_or_default(),
        _ => parsed.items,
    };
    let kept = derived_items(&model.item, module_items)?;
    let header = format!(
        "// #[derive(Model)] on {} ({}), expanded by cargo expand.\n\n",
        model.path(),
        file.display()
    );
    Ok(header
        + &prettyplease::unparse(&syn::File {
            shebang: None,
            attrs: Vec::new(),
            items: kept,
        }))
}

/// From a whole module's expansion, the items `item`'s derive generated and
/// what nested derives generated for them. The names come from running the
/// derive's first step here: the modules and types it declares, and the
/// traits it implements for the struct itself.
pub fn derived_items(
    item: &syn::ItemStruct,
    expanded: Vec<syn::Item>,
) -> anyhow::Result<Vec<syn::Item>> {
    let input: syn::DeriveInput = syn::parse2(item.to_token_stream())?;
    let first: syn::File = syn::parse2(ferrobridge_codegen::expand_model(&input))?;
    let mut names = BTreeSet::new();
    let mut struct_traits = BTreeSet::new();
    for generated in &first.items {
        match generated {
            syn::Item::Mod(m) => {
                names.insert(m.ident.to_string());
            }
            syn::Item::Struct(s) => {
                names.insert(s.ident.to_string());
            }
            syn::Item::Enum(e) => {
                names.insert(e.ident.to_string());
            }
            syn::Item::Impl(i) if self_name(i).as_deref() == Some(&item.ident.to_string()) => {
                if let Some(t) = trait_name(i) {
                    struct_traits.insert(t);
                }
            }
            _ => {}
        }
    }
    let wanted = |i: &syn::Item| -> bool {
        match i {
            syn::Item::Mod(m) => names.contains(&m.ident.to_string()),
            syn::Item::Struct(s) => names.contains(&s.ident.to_string()),
            syn::Item::Enum(e) => names.contains(&e.ident.to_string()),
            syn::Item::Impl(imp) => match self_name(imp) {
                Some(name) if names.contains(&name) => true,
                Some(name) if item.ident == name => {
                    trait_name(imp).is_some_and(|t| struct_traits.contains(&t))
                }
                _ => false,
            },
            _ => false,
        }
    };
    let mut kept = Vec::new();
    for i in expanded {
        match &i {
            // serde and others wrap their impls in `const _: () = { ... };`.
            syn::Item::Const(c) if c.ident == "_" => {
                if let syn::Expr::Block(block) = &*c.expr
                    && block
                        .block
                        .stmts
                        .iter()
                        .any(|s| matches!(s, syn::Stmt::Item(inner) if wanted(inner)))
                {
                    kept.push(i);
                }
            }
            _ if wanted(&i) => kept.push(i),
            _ => {}
        }
    }
    Ok(kept)
}

fn self_name(item: &syn::ItemImpl) -> Option<String> {
    match &*item.self_ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn trait_name(item: &syn::ItemImpl) -> Option<String> {
    item.trait_
        .as_ref()
        .and_then(|(_, path, _)| path.segments.last())
        .map(|s| s.ident.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What cargo expand prints for a module with two models: each derive's
    /// items (nested derives' impls in `const _` blocks included), the
    /// structs themselves and their other derives' impls.
    #[test]
    fn cargo_expand_output_is_narrowed_to_one_derive() {
        let tag: syn::ItemStruct = syn::parse_quote! {
            #[derive(Model, Clone)]
            #[model(app = "shop")]
            pub struct Tag {
                #[field(primary_key)]
                pub id: i64,
                #[field(max_length = 20)]
                pub name: String,
            }
        };
        let module: syn::File = syn::parse_quote! {
            pub struct Tag { pub id: i64, pub name: String }
            impl ::core::clone::Clone for Tag { fn clone(&self) -> Self { todo!() } }
            pub mod tag { pub struct Model; }
            pub struct TagCreate { pub name: String }
            const _: () = { impl serde::Serialize for TagCreate {} };
            impl ::ferrobridge::Model for Tag {}
            pub struct Other;
            pub mod other { pub struct Model; }
            const _: () = { impl serde::Serialize for Other {} };
        };
        let kept = derived_items(&tag, module.items).unwrap();
        let text = quote::quote!(#(#kept)*).to_string();
        assert!(text.contains("pub mod tag"), "{text}");
        assert!(text.contains("for TagCreate"), "{text}");
        assert!(text.contains("ferrobridge :: Model for Tag"), "{text}");
        assert!(!text.contains("Clone for Tag"), "{text}");
        assert!(!text.contains("Other"), "{text}");
        assert!(!text.contains("pub struct Tag {"), "{text}");
    }
}
