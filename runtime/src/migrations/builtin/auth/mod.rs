//! The migrations of app `auth`, in order. Written by `makemigrations`,
//! which rewrites this file with each new migration.

mod m0001_initial;
mod m0002_unique_links;
mod m0003_remove_link_content_types;

/// The migrations of app `auth`: register them with `App::migrations(...)`.
pub fn all() -> ferrobridge::migrations::AppMigrations {
    ferrobridge::migrations::AppMigrations::new(
        "auth",
        env!("CARGO_MANIFEST_DIR"),
        "src/migrations/builtin/auth",
    )
    .migration(m0001_initial::migration())
    .migration(m0002_unique_links::migration())
    .migration(m0003_remove_link_content_types::migration())
}
