//! Migrations of the built-in apps, written by the migration writer.
//! Regenerate them after changing or adding a built-in model (see
//! `ferrobridge::app::builtin_models`):
//! `FERROBRIDGE_WRITE_BUILTIN_MIGRATIONS=1 cargo test -p ferrobridge builtin_migrations`.

pub mod admin;
pub mod auth;
pub mod contenttypes;
pub mod feed;
pub mod ferrobridge;
pub mod sessions;

/// Every built-in app's migrations, in dependency order.
pub fn all() -> Vec<crate::migrations::AppMigrations> {
    vec![
        contenttypes::all(),
        auth::all(),
        ferrobridge::all(),
        sessions::all(),
        admin::all(),
        feed::all(),
    ]
}
