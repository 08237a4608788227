//! The blog example: authors and their posts, served by ferrobridge.
//!
//! `cargo run -p blog -- serve` starts it on `blog.sqlite3` (created and
//! migrated on first start); `DATABASE_URL=postgres://...` moves it to PostgreSQL.

pub mod models;

pub use models::{Author, Post};

/// The blog application with its models registered.
pub fn app() -> ferrobridge::App {
    ferrobridge::App::new("blog")
        .model::<Author>()
        .model::<Post>()
}
