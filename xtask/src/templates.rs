//! The files `cargo xtask new` and `scaffold app` write, kept as files
//! under `xtask/templates/` so they read (and review) as the code they become.

/// The project's Cargo.toml: its own workspace with the `xtask` member.
pub const CARGO_TOML: &str = include_str!("../templates/project/Cargo.toml");
/// `.cargo/config.toml`: the `cargo xtask` alias.
pub const CARGO_CONFIG: &str = include_str!("../templates/project/cargo-config.toml");
/// `.gitignore`.
pub const GITIGNORE: &str = include_str!("../templates/project/gitignore");
/// `README.md`.
pub const README: &str = include_str!("../templates/project/README.md");
/// `src/main.rs`: runs the application's command line.
pub const MAIN_RS: &str = include_str!("../templates/project/main.rs");
/// `src/lib.rs`: the `APPS` list and `app()`.
pub const LIB_RS: &str = include_str!("../templates/project/lib.rs");
/// `tests/common/mod.rs`: the in-process client every test uses.
pub const TESTS_COMMON: &str = include_str!("../templates/project/tests-common.rs");
/// `xtask/Cargo.toml`.
pub const XTASK_CARGO_TOML: &str = include_str!("../templates/project/xtask-Cargo.toml");
/// `xtask/src/main.rs`.
pub const XTASK_MAIN_RS: &str = include_str!("../templates/project/xtask-main.rs");
/// `src/<app>/mod.rs`.
pub const APP_MOD: &str = include_str!("../templates/app/mod.rs");
/// `src/<app>/models.rs`.
pub const APP_MODELS: &str = include_str!("../templates/app/models.rs");
/// `src/<app>/migrations/mod.rs` of an app without migrations yet: what the
/// runtime's `ferrobridge::migrations::render_module` writes for no
/// migrations (a test in `tests/suite/workflow.rs` compares them), so
/// `makemigrations` finds the directory registered and rewrites the file.
pub const APP_MIGRATIONS_MOD: &str = include_str!("../templates/app/migrations-mod.rs");

/// `tests/<app>_<model>.rs`: the CRUD test of a scaffolded model.
pub const CRUD_TEST: &str = include_str!("../templates/test/crud.rs");
/// In a CRUD test: creating the row a foreign key points at.
pub const CRUD_PARENT: &str = include_str!("../templates/test/crud-parent.rs");
/// In a CRUD test: comparing what was sent with what came back.
pub const CRUD_COMPARE: &str = include_str!("../templates/test/crud-compare.rs");
/// In a CRUD test: a PATCH of one field.
pub const CRUD_PATCH: &str = include_str!("../templates/test/crud-patch.rs");

/// `template` with each `{{key}}` replaced by its value.
///
/// # Panics
/// When a `{{...}}` is left: a template and its caller disagree, a bug here.
pub fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (key, value) in vars {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    if let Some(at) = out.find("{{") {
        let end = out[at..].find("}}").map_or(out.len(), |e| at + e + 2);
        panic!("template variable {} has no value", &out[at..end]);
    }
    out
}
