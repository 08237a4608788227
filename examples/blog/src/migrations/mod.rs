//! The migrations of app `blog`, in order. Written by `makemigrations`,
//! which rewrites this file with each new migration.

mod m0001_initial;
mod m0002_author_add_index_post_add_index;

/// The migrations of app `blog`: register them with `App::migrations(...)`.
pub fn all() -> ferrobridge::migrations::AppMigrations {
    ferrobridge::migrations::AppMigrations::new(
        "blog",
        env!("CARGO_MANIFEST_DIR"),
        "src/migrations",
    )
    .migration(m0001_initial::migration())
    .migration(m0002_author_add_index_post_add_index::migration())
}
