//! `cargo xtask new <path>`: a standalone ferrobridge application with one
//! app, one example model, its test and its own `cargo xtask`.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};

use crate::project::{rustfmt, write_new};
use crate::scaffold::{Project, scaffold_app, scaffold_model};
use crate::templates::{self, render};

/// The example model every new project starts with, as scaffold arguments.
pub const EXAMPLE_MODEL: (&str, &[&str]) = (
    "Note",
    &[
        "title:String:max_length=200:min_length=1",
        "body:text",
        "done:bool:default=false",
        "created_at:DateTimeUtc:auto_now_add",
    ],
);

/// What `cargo xtask new` was asked for.
#[derive(Clone, Debug)]
pub struct NewProject {
    /// The directory to create (it may exist if empty).
    pub path: PathBuf,
    /// The package name; default the directory's name.
    pub name: Option<String>,
    /// The ferrobridge runtime crate to depend on; default this repository's `runtime/`.
    pub ferrobridge: Option<PathBuf>,
    /// The first app's name.
    pub app: String,
    /// Run the project's `makemigrations` for the example model (which builds
    /// it); without it the project has no migration until one is made.
    pub makemigrations: bool,
}

/// Creates the project; answers its directory.
pub fn new_project(options: &NewProject) -> anyhow::Result<PathBuf> {
    let path = &options.path;
    if path.exists() {
        if !path.is_dir() {
            bail!("{} exists and is not a directory", path.display());
        }
        if std::fs::read_dir(path)?.next().is_some() {
            bail!(
                "{} is not empty: `cargo xtask new` only writes into a new or empty directory",
                path.display()
            );
        }
    }
    let name = match &options.name {
        Some(name) => name.clone(),
        None => path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| {
                anyhow!(
                    "{} has no usable directory name: pass --name",
                    path.display()
                )
            })?
            .to_string(),
    };
    check_package_name(&name)?;
    let crate_name = name.replace('-', "_");

    let this_repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the repository")
        .to_path_buf();
    let runtime = options
        .ferrobridge
        .clone()
        .unwrap_or_else(|| this_repo.join("runtime"));
    let runtime = runtime
        .canonicalize()
        .with_context(|| format!("--ferrobridge {}: no such directory", runtime.display()))?;
    let manifest = std::fs::read_to_string(runtime.join("Cargo.toml")).with_context(|| {
        format!(
            "--ferrobridge {}: no Cargo.toml there; point it at ferrobridge's runtime/ crate",
            runtime.display()
        )
    })?;
    if !manifest
        .lines()
        .any(|l| l.trim() == "name = \"ferrobridge\"")
    {
        bail!(
            "--ferrobridge {}: that crate is not `ferrobridge`; point it at ferrobridge's runtime/ crate",
            runtime.display()
        );
    }
    // The xtask library and lock file of the same checkout as the runtime,
    // so the project's versions are the ones that checkout was tested with.
    let checkout = runtime.parent().unwrap_or(&this_repo);
    let from_checkout = |relative: &str| {
        let candidate = checkout.join(relative);
        if candidate.exists() {
            candidate
        } else {
            this_repo.join(relative)
        }
    };
    let xtask = from_checkout("xtask").canonicalize()?;
    let lock = from_checkout("Cargo.lock");

    std::fs::create_dir_all(path).with_context(|| format!("cannot create {}", path.display()))?;
    let root = path.canonicalize()?;
    let ferrobridge_path = toml_string(&runtime)?;
    let xtask_path = toml_string(&xtask)?;
    let vars = [
        ("name", name.as_str()),
        ("crate", crate_name.as_str()),
        ("ferrobridge", ferrobridge_path.as_str()),
        ("xtask", xtask_path.as_str()),
    ];
    let files: [(&str, &str); 9] = [
        ("Cargo.toml", templates::CARGO_TOML),
        (".cargo/config.toml", templates::CARGO_CONFIG),
        (".gitignore", templates::GITIGNORE),
        ("README.md", templates::README),
        ("src/main.rs", templates::MAIN_RS),
        ("src/lib.rs", templates::LIB_RS),
        ("tests/common/mod.rs", templates::TESTS_COMMON),
        ("xtask/Cargo.toml", templates::XTASK_CARGO_TOML),
        ("xtask/src/main.rs", templates::XTASK_MAIN_RS),
    ];
    for (file, template) in files {
        write_new(&root.join(file), &render(template, &vars))?;
    }
    std::fs::copy(&lock, root.join("Cargo.lock"))
        .with_context(|| format!("cannot copy {}", lock.display()))?;
    rustfmt(&[
        root.join("src/main.rs"),
        root.join("src/lib.rs"),
        root.join("tests/common/mod.rs"),
        root.join("xtask/src/main.rs"),
    ])?;

    let project = Project {
        root: root.clone(),
        crate_name,
    };
    scaffold_app(&project, &options.app)?;
    let (model, fields) = EXAMPLE_MODEL;
    let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
    scaffold_model(
        &project,
        &options.app,
        model,
        &fields,
        options.makemigrations,
    )?;
    eprintln!(
        "created {name} in {}\n  cd {} && cargo run -- serve    # http://127.0.0.1:8000/docs\n  cargo test\n  cargo xtask scaffold model {} Tag name:String:max_length=50:unique",
        root.display(),
        path.display(),
        options.app
    );
    Ok(root)
}

/// Cargo's rules for a package name, plus names that would clash with the
/// crates the project depends on or its `xtask` member.
fn check_package_name(name: &str) -> anyhow::Result<()> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        bail!(
            "`{name}` is not a package name: use letters, digits, `-` and `_`, starting with a letter (or pass --name)"
        );
    }
    let crate_name = name.replace('-', "_");
    let taken = [
        "xtask",
        "ferrobridge",
        "ferrobridge_xtask",
        "test",
        "std",
        "core",
        "alloc",
        "tokio",
        "anyhow",
        "serde_json",
        "axum",
        "tower",
    ];
    if taken.contains(&crate_name.as_str()) || syn::parse_str::<syn::Ident>(&crate_name).is_err() {
        bail!(
            "`{name}` clashes with a crate the project uses or a Rust keyword: pass another --name"
        );
    }
    Ok(())
}

/// A path as a TOML basic string. JSON's string escapes are a subset of
/// TOML's, so serde_json quotes it correctly.
fn toml_string(path: &Path) -> anyhow::Result<String> {
    let text = path
        .to_str()
        .ok_or_else(|| anyhow!("{} is not valid UTF-8", path.display()))?;
    Ok(serde_json::to_string(text)?)
}
