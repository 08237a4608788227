//! The migrations of app `feed`, in order. Written by `makemigrations`,
//! which rewrites this file with each new migration.

mod m0001_initial;
mod m0002_changeorder;

/// The migrations of app `feed`: register them with `App::migrations(...)`.
pub fn all() -> ferrobridge::migrations::AppMigrations {
    ferrobridge::migrations::AppMigrations::new(
        "feed",
        env!("CARGO_MANIFEST_DIR"),
        "src/migrations/builtin/feed",
    )
    .migration(m0001_initial::migration())
    .migration(m0002_changeorder::migration())
}
