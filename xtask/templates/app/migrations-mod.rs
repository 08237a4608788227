//! The migrations of app `{{app}}`, in order. Written by `makemigrations`,
//! which rewrites this file with each new migration.

/// The migrations of app `{{app}}`: register them with `App::migrations(...)`.
pub fn all() -> ferrobridge::migrations::AppMigrations {
    ferrobridge::migrations::AppMigrations::new("{{app}}", env!("CARGO_MANIFEST_DIR"), "src/{{app}}/migrations")
}
