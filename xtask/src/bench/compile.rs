//! `cargo xtask bench --compile`: what `#[derive(Model)]` costs to build.
//!
//! Writes an app of [`MODELS`] models in `target/bench/compile/app`, a crate
//! of its own depending on this repository's `ferrobridge` by path: the
//! models come from `ferrobridge-genmodels` (the generated-models test's
//! grammar: every field type the derive supports, with the options each
//! accepts, nullable and required foreign keys within and across apps),
//! seed 1, so every run builds the same source. It times a clean build of
//! the crate alone (its dependencies built first, untimed, in its own
//! target directory), then an incremental build after one model changed;
//! `--cold` also times a clean build with every dependency. Expansion
//! lines per field come from the derive's own pipeline
//! ([`ferrobridge_xtask::expand::codegen`]), formatted, without nightly.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::{report, target_dir, workspace_root};

/// How many models the app has.
pub const MODELS: usize = 50;

/// The package name of the generated crate.
const PACKAGE: &str = "ferrobridge-bench-compile";

/// What `--compile` runs.
#[derive(Clone, Debug)]
pub struct CompileSettings {
    /// Also time a build with every dependency from scratch (`--cold`).
    pub cold: bool,
    /// Rewrite the README's block with this run (`--readme`).
    pub readme: bool,
    /// The command line, for the report.
    pub command: String,
}

/// Lines of the derive's formatted expansion and fields, over every model of `source`.
pub fn expansion(source: &str) -> anyhow::Result<(usize, usize, usize)> {
    let file = syn::parse_file(source).context("the generated models do not parse")?;
    let mut models = 0;
    let mut fields = 0;
    let mut lines = 0;
    let mut pending: Vec<&syn::Item> = file.items.iter().collect();
    while let Some(item) = pending.pop() {
        match item {
            syn::Item::Mod(module) => {
                if let Some((_, items)) = &module.content {
                    pending.extend(items.iter());
                }
            }
            syn::Item::Struct(strukt) if derives_model(strukt) => {
                models += 1;
                fields += strukt.fields.len();
                lines += ferrobridge_xtask::expand::codegen(strukt)?.lines().count();
            }
            _ => {}
        }
    }
    Ok((models, fields, lines))
}

fn derives_model(item: &syn::ItemStruct) -> bool {
    item.attrs.iter().any(|attr| {
        attr.path().is_ident("derive")
            && attr
                .parse_args_with(
                    syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
                )
                .is_ok_and(|paths| paths.iter().any(|p| p.is_ident("Model")))
    })
}

/// `source` with a doc line added to its first model: a change the derive
/// sees (the doc comment is the model's help text), so the build redoes it.
pub fn touch_one_model(source: &str, note: &str) -> anyhow::Result<String> {
    let at = source
        .find("#[derive(Model")
        .context("no model in the generated source")?;
    let line_start = source[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let indent = &source[line_start..at];
    Ok(format!(
        "{}{indent}/// {note}\n{}",
        &source[..line_start],
        &source[line_start..]
    ))
}

fn write_if_changed(path: &Path, text: &str) -> anyhow::Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text)?;
    }
    Ok(())
}

/// `cargo build` of the generated crate in its own target directory, timed.
fn build(cargo: &str, app: &Path, target: &Path, what: &str) -> anyhow::Result<f64> {
    eprintln!("==> {what}");
    let started = Instant::now();
    let output = Command::new(cargo)
        .args(["build", "--quiet"])
        .current_dir(app)
        .env("CARGO_TARGET_DIR", target)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()?;
    let seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!(
            "cargo build of {} failed:\n{}",
            app.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    eprintln!("    {seconds:.1} s");
    Ok(seconds)
}

/// Generates the app, builds and measures it, and writes the reports.
pub fn run(settings: CompileSettings) -> anyhow::Result<()> {
    let date = chrono::Utc::now();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let dir = target_dir().join("bench/compile");
    let app = dir.join("app");
    let target = dir.join("target");
    std::fs::create_dir_all(app.join("src"))?;

    let config = ferrobridge_genmodels::Config {
        seed: 1,
        models: MODELS,
        features: ferrobridge_genmodels::Features::all(),
    };
    let source = ferrobridge_genmodels::generate(&config).source();
    let root = workspace_root();
    let manifest = format!(
        "# Written by `cargo xtask bench --compile`: {MODELS} generated models.\n\
         [package]\nname = \"{PACKAGE}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nferrobridge = {{ path = {:?} }}\n\n\
         # Not a member of the repository's workspace, though it sits under its target/.\n[workspace]\n",
        root.join("runtime").display().to_string()
    );
    write_if_changed(&app.join("Cargo.toml"), &manifest)?;
    // The repository's versions of every dependency, resolved offline.
    if let Ok(lock) = std::fs::read_to_string(root.join("Cargo.lock")) {
        write_if_changed(&app.join("Cargo.lock"), &lock)?;
    }
    write_if_changed(
        &app.join("src/lib.rs"),
        "//! The compile benchmark's app: the models of `models.rs`, all registered.\n\n\
         mod models;\npub use models::*;\n\n\
         /// The app serving every model.\npub fn app() -> ferrobridge::App {\n    register(ferrobridge::App::new(\"bench\"))\n}\n",
    )?;
    let models_path = app.join("src/models.rs");
    write_if_changed(&models_path, &source)?;

    let (models, fields, lines) = expansion(&source)?;
    eprintln!("==> {models} models, {fields} fields: the derive expands to {lines} lines");

    let mut cold = None;
    if settings.cold {
        let _ = std::fs::remove_dir_all(&target);
        cold = Some(build(
            &cargo,
            &app,
            &target,
            "clean build with every dependency (--cold)",
        )?);
    } else {
        build(
            &cargo,
            &app,
            &target,
            "building the dependencies (not timed)",
        )?;
    }
    let status = Command::new(&cargo)
        .args(["clean", "--quiet", "-p", PACKAGE])
        .current_dir(&app)
        .env("CARGO_TARGET_DIR", &target)
        .status()?;
    if !status.success() {
        bail!("cargo clean -p {PACKAGE} failed");
    }
    let clean = build(&cargo, &app, &target, "clean build of the app crate alone")?;
    let touched = touch_one_model(
        &source,
        &format!("Touched by the compile bench at {}.", date.to_rfc3339()),
    )?;
    std::fs::write(&models_path, touched)?;
    let incremental = build(
        &cargo,
        &app,
        &target,
        "incremental build after touching one model",
    )?;

    let report_json: Value = json!({
        "kind": "compile",
        "date": date.format("%Y-%m-%d %H:%M UTC").to_string(),
        "command": settings.command,
        "machine": super::machine(),
        "compile": {
            "crate": app.display().to_string(),
            "generator": format!("ferrobridge-genmodels seed {}, every family on", config.seed),
            "models": models,
            "fields": fields,
            "profile": "dev",
            "clean_with_dependencies_s": cold,
            "clean_crate_s": clean,
            "incremental_s": incremental,
            "expansion_lines": lines,
            "lines_per_field": lines as f64 / fields.max(1) as f64,
        },
    });
    let markdown = report::compile_markdown(&report_json);
    let out_dir = target_dir().join("bench");
    let kept = report::write(
        &out_dir,
        &report::file_stamp(&date),
        "compile",
        &report_json,
        &markdown,
    )?;
    println!("{markdown}");
    if settings.readme {
        let endpoints = report::latest(&out_dir, &["endpoints"])
            .or_else(|| report::latest(&out_dir, &["quick"]));
        let readme = root.join("README.md");
        report::rewrite_readme(
            &readme,
            &report::readme_block(endpoints.as_ref(), Some(&report_json)),
        )?;
        eprintln!("==> rewrote the benchmark block of {}", readme.display());
    }
    eprintln!("==> wrote {}", kept.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_models_fields_and_expansion() {
        let source = "pub mod app_a {\n    use ferrobridge::prelude::*;\n    #[derive(Model, Clone, Debug)]\n    #[model(app = \"a\")]\n    pub struct Note {\n        #[field(primary_key)]\n        pub id: i64,\n        #[field(max_length = 20)]\n        pub title: String,\n    }\n    #[derive(Clone, Debug)]\n    pub struct Other { pub x: i32 }\n}\n";
        let (models, fields, lines) = expansion(source).unwrap();
        assert_eq!((models, fields), (1, 2));
        assert!(
            lines > 50,
            "the derive writes an entity, schemas and more: {lines}"
        );
    }

    #[test]
    fn touches_the_first_model_only() {
        let source = "mod a {\n    #[derive(Model)]\n    struct A {}\n    #[derive(Model)]\n    struct B {}\n}\n";
        let touched = touch_one_model(source, "changed").unwrap();
        assert_eq!(
            touched,
            "mod a {\n    /// changed\n    #[derive(Model)]\n    struct A {}\n    #[derive(Model)]\n    struct B {}\n}\n"
        );
        assert!(touch_one_model("struct A;", "x").is_err());
    }
}
