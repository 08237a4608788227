//! The migrations of app `blog`, in order. Written by `makemigrations`,
//! which rewrites this file with each new migration.

mod m0001_initial;

/// The migrations of app `blog`: register them with `App::migrations(...)`.
pub fn all() -> ferrobridge::migrations::AppMigrations {
    ferrobridge::migrations::AppMigrations::new(
        "blog",
        env!("CARGO_MANIFEST_DIR"),
        "src/migrations",
    )
    .migration(m0001_initial::migration())
}
