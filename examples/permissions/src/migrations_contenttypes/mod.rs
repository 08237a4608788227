//! The migrations of app `contenttypes`, in order. Written by `makemigrations`,
//! which rewrites this file with each new migration.

mod m0001_initial;

/// The migrations of app `contenttypes`: register them with `App::migrations(...)`.
pub fn all() -> ferrobridge::migrations::AppMigrations {
    ferrobridge::migrations::AppMigrations::new(
        "contenttypes",
        env!("CARGO_MANIFEST_DIR"),
        "src/migrations_contenttypes",
    )
    .migration(m0001_initial::migration())
}
