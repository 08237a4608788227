//! The migrations of app `sessions`, in order. Written by `makemigrations`,
//! which rewrites this file with each new migration.

mod m0001_initial;

/// The migrations of app `sessions`: register them with `App::migrations(...)`.
pub fn all() -> ferrobridge::migrations::AppMigrations {
    ferrobridge::migrations::AppMigrations::new(
        "sessions",
        env!("CARGO_MANIFEST_DIR"),
        "src/migrations/builtin/sessions",
    )
    .migration(m0001_initial::migration())
}
