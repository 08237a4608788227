//! The seed article's benchmark endpoint: Django's `auth_permission` table,
//! listed as `{"items":[{"pk":1,"name":"Can add log entry"}, ...]}` in
//! Django's default `Permission` ordering (content type app label, model,
//! then codename: a join), served five ways so they can be compared:
//!
//! | variant | what serves `GET /permissions` |
//! |---|---|
//! | `generated` | ferrobridge's generated list endpoint ([`Permission`] with `#[api(read(pk, name), pagination = "none")]`) |
//! | `runtime` | a hand-written handler on the ferrobridge runtime, with its `Db` extractor |
//! | `axum-seaorm` | plain axum + SeaORM, no ferrobridge |
//! | `sqlx` | plain axum + sqlx with raw SQL |
//! | `rusqlite` | plain axum + rusqlite, one connection per worker thread, cached statement (SQLite only) |
//!
//! Every variant also answers `GET /permissions?page_size=100` (and
//! `page=`), `GET /permissions/{pk}` and `POST /permissions` with the same bytes.
//! The tables carry Django's names, so `DATABASE_URL` may point at a real
//! Django project's SQLite file.
//!
//! [`depth`] is the benchmark's other data set: a table of a million rows
//! paged by cursor (`permissions depth ...`).

pub mod depth;
pub mod migrations_auth;
pub mod migrations_contenttypes;
pub mod migrations_depth;
pub mod models;
pub mod seed;
pub mod variants;
pub mod wire;

pub use models::{ContentType, Permission, content_type, permission};

use std::str::FromStr;

/// The five ways the endpoint is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// (a) ferrobridge's generated list endpoint.
    Generated,
    /// (b) a hand-written handler on the ferrobridge runtime.
    Runtime,
    /// (c) plain axum + SeaORM.
    AxumSeaorm,
    /// (d) plain axum + sqlx, raw SQL.
    Sqlx,
    /// (e) plain axum + rusqlite on the worker thread (SQLite only).
    Rusqlite,
}

impl Variant {
    /// Every variant, in the order reports list them.
    pub const ALL: [Variant; 5] = [
        Variant::Generated,
        Variant::Runtime,
        Variant::AxumSeaorm,
        Variant::Sqlx,
        Variant::Rusqlite,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Generated => "generated",
            Variant::Runtime => "runtime",
            Variant::AxumSeaorm => "axum-seaorm",
            Variant::Sqlx => "sqlx",
            Variant::Rusqlite => "rusqlite",
        }
    }
}

impl FromStr for Variant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Variant::ALL
            .into_iter()
            .find(|v| v.name() == s)
            .ok_or_else(|| format!("unknown variant `{s}`"))
    }
}

/// The ferrobridge app of the `generated` variant: both Django tables
/// registered, `Permission`'s generated endpoints mounted at `/permissions`.
pub fn app() -> ferrobridge::App {
    // As the seed article's project: no auth checks on this endpoint, and
    // ferrobridge's own auth app left out so the tables hold Django's rows only.
    ferrobridge::App::new("permissions")
        .without_auth()
        .model::<ContentType>()
        .model_at::<Permission>("/permissions")
        // Written by `cargo run -p permissions -- makemigrations`.
        .migrations(migrations_contenttypes::all())
        .migrations(migrations_auth::all())
}

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_URL: &str = "sqlite://permissions.sqlite3?mode=rwc";

/// Opens `url`, creates the two tables if missing and seeds them if empty
/// (the 24 Django rows, or `rows` synthetic ones), then builds the router
/// of `variant` on it.
pub async fn router(variant: Variant, url: &str, rows: usize) -> anyhow::Result<axum::Router> {
    let db = ferrobridge::db::connect(url).await?;
    seed::prepare(&db, rows).await?;
    Ok(match variant {
        Variant::Generated => app().router(db),
        Variant::Runtime => variants::runtime::router(db),
        Variant::AxumSeaorm => {
            db.close().await.ok();
            variants::axum_seaorm::router(url).await?
        }
        Variant::Sqlx => {
            db.close().await.ok();
            variants::sqlx::router(url).await?
        }
        Variant::Rusqlite => {
            db.close().await.ok();
            variants::rusqlite::router(url)?
        }
    })
}
