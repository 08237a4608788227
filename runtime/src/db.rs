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

/// How long a request waits for a pooled connection (opening a new one
/// included) before it is answered 503 with `Retry-After`: 5 seconds.
pub const DEFAULT_ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The connection pool's size and wait, set with
/// [`App::pool`](crate::App::pool) and overridden by the environment
/// (see [`PoolSettings::with_env`]).
///
/// A request that finds every connection in use waits at most
/// `acquire_timeout` for one, then answers 503 with `Retry-After`; the same
/// bound covers opening a new connection (sqlx has one deadline for both, and
/// retries a refused connection until it), so a database that is down or
/// restarting costs a request at most this long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    /// The most connections the pool opens; `None` keeps SeaORM's default
    /// (1 on SQLite, whose writers take turns anyway; 10 elsewhere).
    pub max_connections: Option<u32>,
    /// How long a request waits for a connection; default [`DEFAULT_ACQUIRE_TIMEOUT`].
    pub acquire_timeout: std::time::Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: None,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        }
    }
}

impl PoolSettings {
    /// These settings, overridden by `DATABASE_MAX_CONNECTIONS` (a whole
    /// number, at least 1) and `DATABASE_ACQUIRE_TIMEOUT` (seconds, `0.5`
    /// allowed) when they are set; an unreadable value is an error naming it.
    pub fn with_env(self) -> Result<Self, String> {
        self.with_vars(|name| std::env::var(name).ok())
    }

    fn with_vars(mut self, var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        if let Some(value) = set("DATABASE_MAX_CONNECTIONS") {
            let n: u32 = value
                .trim()
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    format!("DATABASE_MAX_CONNECTIONS must be a whole number of at least 1, not `{value}`")
                })?;
            self.max_connections = Some(n);
        }
        if let Some(value) = set("DATABASE_ACQUIRE_TIMEOUT") {
            self.acquire_timeout = value
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    format!("DATABASE_ACQUIRE_TIMEOUT must be a positive number of seconds, not `{value}`")
                })?;
        }
        Ok(self)
    }
}

/// Opens a pool on `url` (`sqlite://...`, `postgres://...`) with the
/// default [`PoolSettings`] and the environment's overrides.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let settings = PoolSettings::default().with_env().map_err(DbErr::Custom)?;
    connect_with(url, settings).await
}

/// Opens a pool on `url` with `settings`.
///
/// SQLite runs in WAL mode with `synchronous = FULL`: a write is
/// acknowledged only after its commit is in the WAL file on disk, so it
/// survives the process being killed and the machine losing power.
/// `NORMAL` would skip that sync at each commit (WAL keeps the database
/// consistent, and a killed process loses nothing either way), but a power
/// cut could then lose the last acknowledged writes; ferrobridge does not
/// trade those for speed by default.
pub async fn connect_with(url: &str, settings: PoolSettings) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    // Statement logs would print user data at INFO; keep them out of the logs.
    options.sqlx_logging(false);
    // SeaORM hands `connect_timeout` to the same sqlx deadline; one setting it is.
    options.acquire_timeout(settings.acquire_timeout);
    if let Some(max) = settings.max_connections {
        options.max_connections(max);
    }
    if url.starts_with("sqlite:") {
        // Foreign keys are enforced per connection in SQLite; sqlx turns them
        // on by default, and a busy timeout lets writers queue instead of failing.
        options.map_sqlx_sqlite_opts(|opts| {
            opts.foreign_keys(true)
                .busy_timeout(std::time::Duration::from_secs(5))
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
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
        let meta = (entry.meta)();
        for columns in meta.unique_together {
            let mut index = sea_orm::sea_query::Index::create();
            index
                .name(meta.unique_index_name(columns))
                .table(sea_orm::sea_query::Alias::new(meta.table))
                .unique()
                .if_not_exists();
            for column in *columns {
                index.col(sea_orm::sea_query::Alias::new(*column));
            }
            db.execute(&index).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<PoolSettings, String> {
        PoolSettings::default().with_vars(|name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn pool_settings_read_the_environment_and_refuse_nonsense() {
        let set = read(&[
            ("DATABASE_MAX_CONNECTIONS", "3"),
            ("DATABASE_ACQUIRE_TIMEOUT", "0.5"),
        ])
        .unwrap();
        assert_eq!(set.max_connections, Some(3));
        assert_eq!(set.acquire_timeout, std::time::Duration::from_millis(500));
        assert_eq!(read(&[]).unwrap(), PoolSettings::default());
        for (name, value) in [
            ("DATABASE_MAX_CONNECTIONS", "0"),
            ("DATABASE_MAX_CONNECTIONS", "many"),
            ("DATABASE_ACQUIRE_TIMEOUT", "-1"),
            ("DATABASE_ACQUIRE_TIMEOUT", "0"),
            ("DATABASE_ACQUIRE_TIMEOUT", "5s"),
        ] {
            let error = read(&[(name, value)]).unwrap_err();
            assert!(error.contains(name) && error.contains(value), "{error}");
        }
    }
}
