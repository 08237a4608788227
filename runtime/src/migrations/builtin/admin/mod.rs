//! The migrations of app `admin`, in order. Written by `makemigrations`,
//! which rewrites this file with each new migration.

mod m0001_initial;
mod m0002_logentry_add_index;

/// The migrations of app `admin`: register them with `App::migrations(...)`.
pub fn all() -> ferrobridge::migrations::AppMigrations {
    ferrobridge::migrations::AppMigrations::new(
        "admin",
        env!("CARGO_MANIFEST_DIR"),
        "src/migrations/builtin/admin",
    )
    .migration(m0001_initial::migration())
    .migration(m0002_logentry_add_index::migration())
}
