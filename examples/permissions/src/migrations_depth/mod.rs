//! The migrations of app `depth`, in order. Written by `makemigrations`,
//! which rewrites this file with each new migration.

mod m0001_initial;

/// The migrations of app `depth`: register them with `App::migrations(...)`.
pub fn all() -> ferrobridge::migrations::AppMigrations {
    ferrobridge::migrations::AppMigrations::new(
        "depth",
        env!("CARGO_MANIFEST_DIR"),
        "src/migrations_depth",
    )
    .migration(m0001_initial::migration())
}
