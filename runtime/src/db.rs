//! The database: connecting from `DATABASE_URL`, creating missing tables
//! from the registered entities, and the [`Db`] extractor for handlers.

use std::ops::Deref;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, Schema};

use crate::app::AppState;

/// The connection pool, injected into any handler: `async fn h(db: Db)`.
///
/// Derefs to SeaORM's [`DatabaseConnection`], so queries read as usual:
/// `post::Entity::find().all(&*db).await`.
#[derive(Clone, Debug)]
pub struct Db(pub DatabaseConnection);

impl Deref for Db {
    type Target = DatabaseConnection;
    fn deref(&self) -> &DatabaseConnection {
        &self.0
    }
}

impl<S> FromRequestParts<S> for Db
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Db(AppState::from_ref(state).db))
    }
}

/// The URL used when `DATABASE_URL` is unset: a SQLite file named after the
/// app in the working directory, created if missing.
pub fn default_url(app_name: &str) -> String {
    format!("sqlite://{app_name}.sqlite3?mode=rwc")
}

/// `DATABASE_URL`, or [`default_url`].
pub fn url_from_env(app_name: &str) -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| default_url(app_name))
}

/// Opens a pool on `url` (`sqlite://...`, `postgres://...`).
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    // Statement logs would print user data at INFO; keep them out of the logs.
    options.sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // Foreign keys are enforced per connection in SQLite; sqlx turns them
        // on by default, and a busy timeout lets writers queue instead of failing.
        options.map_sqlx_sqlite_opts(|opts| {
            opts.foreign_keys(true)
                .busy_timeout(std::time::Duration::from_secs(5))
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
        });
    }
    Database::connect(options).await
}

/// Creates each table (and its indexes) that does not exist yet, in an
/// order where every foreign key's target comes first.
pub(crate) async fn create_missing_tables(
    db: &DatabaseConnection,
    tables: &[crate::app::ModelEntry],
) -> Result<(), DbErr> {
    let schema = Schema::new(db.get_database_backend());
    for entry in tables {
        let (table, indexes) = (entry.create_table)(&schema);
        db.execute(&table).await?;
        for index in indexes {
            db.execute(&index).await?;
        }
    }
    Ok(())
}
