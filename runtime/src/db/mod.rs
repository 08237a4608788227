//! The database: connecting from `DATABASE_URL`, creating missing tables
//! from the registered entities, the [`Connection`] every query goes
//! through, and the [`Db`] extractor for handlers.
//!
//! On SQLite a datetime is TEXT, and SQLite compares it as text: two
//! spellings of one instant (`2021-01-01T00:00:29+00:00` and
//! `2021-01-01 00:00:29`) are different values and sort apart. So every
//! datetime ferrobridge binds on SQLite — written, filtered on, compared
//! with in a cursor — is first spelled one way, the way Django writes it
//! ([`sqlite_datetime`]): then text order is time order, and a Django
//! project sharing the file reads and orders the rows as its own.

pub mod mysql;
pub mod sqlite;
mod unicode;

use std::collections::BTreeSet;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{IndexCreateStatement, TableCreateStatement};
use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, ExecResult, IsolationLevel, QueryResult, Schema, Statement, TransactionError,
    TransactionOptions, TransactionSession, TransactionTrait, Value,
};

use crate::model::RowReader;

/// A datetime as ferrobridge stores it on SQLite, which is how Django
/// writes it there: UTC without an offset, a space between date and time,
/// and six fraction digits unless the microseconds are zero, when there is
/// no fraction at all (`2026-11-29 20:54:25.504511`, `2026-11-29 20:54:25`).
///
/// Anything finer than a microsecond is dropped (Django keeps no more).
/// With one spelling for every value, comparing the text compares the
/// instants: a missing fraction sorts before any fraction of that second.
pub fn sqlite_datetime(at: &DateTime<Utc>) -> String {
    use chrono::Timelike;
    let seconds = at.format("%Y-%m-%d %H:%M:%S");
    // A leap second's nanoseconds run past 1e9; its fraction is the rest.
    let micros = at.nanosecond() % 1_000_000_000 / 1_000;
    if micros == 0 {
        seconds.to_string()
    } else {
        format!("{seconds}.{micros:06}")
    }
}

/// `value` as it is bound on SQLite: datetimes of every chrono flavour in
/// the [`sqlite_datetime`] spelling (a naive datetime is taken as UTC, as
/// Django does without time zones), anything else untouched.
fn sqlite_value(value: Value) -> Value {
    let utc = match value {
        Value::ChronoDateTimeUtc(Some(at)) => at,
        Value::ChronoDateTime(Some(at)) => at.and_utc(),
        Value::ChronoDateTimeWithTimeZone(Some(at)) => at.with_timezone(&Utc),
        Value::ChronoDateTimeLocal(Some(at)) => at.with_timezone(&Utc),
        other => return other,
    };
    Value::String(Some(sqlite_datetime(&utc)))
}

/// `stmt` with its values spelled for `backend`: see [`sqlite_value`].
fn canonical(backend: DbBackend, mut stmt: Statement) -> Statement {
    if backend == DbBackend::Sqlite
        && let Some(values) = stmt.values.as_mut()
    {
        for value in values.0.iter_mut() {
            *value = sqlite_value(std::mem::replace(value, Value::Bool(None)));
        }
    }
    stmt
}

/// The connection pool every ferrobridge query goes through: SeaORM's
/// [`DatabaseConnection`] with datetimes bound in one spelling on SQLite
/// (see the [module docs](self)); on PostgreSQL and MySQL statements pass
/// untouched. On SQLite the statements run on the calling thread through
/// the [`sqlite`] pool instead of sqlx's connection threads.
///
/// It implements [`ConnectionTrait`] and [`TransactionTrait`], so SeaORM
/// code reads as usual: `post::Entity::find().all(&db).await`,
/// `db.begin().await`. It does not deref to the raw pool, which would
/// bypass the spelling without a word; [`Connection::inner`] is the
/// explicit way out for what only the pool has (its sqlx pool, say).
#[derive(Clone)]
pub struct Connection {
    inner: DatabaseConnection,
    /// On SQLite, the in-thread pool every statement runs on.
    sqlite: Option<Arc<sqlite::Pool>>,
    /// SeaORM's metric hook, called here for the statements the SQLite
    /// pool runs (the sqlx pool calls its own).
    metric: Option<Metric>,
    changes: Arc<ChangeSignal>,
    /// Whom the units of work begun on this handle name as the acting user
    /// (see [`Connection::acting_as`]).
    actor: Option<i32>,
}

/// A metric callback, shared by a handle and its transactions.
type Metric = Arc<dyn Fn(&sea_orm::metric::Info<'_>) + Send + Sync>;

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("backend", &self.inner.get_database_backend())
            .field("in_thread_sqlite", &self.sqlite.is_some())
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

/// Times `run` and reports it to `metric`, as SeaORM's drivers do.
async fn measured<T>(
    metric: &Option<Metric>,
    stmt: &Statement,
    run: impl Future<Output = Result<T, DbErr>>,
) -> Result<T, DbErr> {
    let Some(callback) = metric else {
        return run.await;
    };
    let start = std::time::Instant::now();
    let result = run.await;
    callback(&sea_orm::metric::Info {
        elapsed: start.elapsed(),
        statement: stmt,
        failed: result.is_err(),
    });
    result
}

/// Wakes the readers of a pool's change log when events may have been
/// committed (see the `changes` module): every clone of a [`Connection`]
/// shares its pool's signal, so a commit through one wakes readers on all.
#[derive(Debug)]
pub struct ChangeSignal {
    sender: tokio::sync::watch::Sender<u64>,
    /// Whether the pool's listener task runs (see [`ChangeSignal::start_listener`]).
    listening: std::sync::atomic::AtomicBool,
}

impl Default for ChangeSignal {
    fn default() -> Self {
        ChangeSignal {
            sender: tokio::sync::watch::Sender::new(0),
            listening: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl ChangeSignal {
    /// Wakes every current subscriber.
    pub fn wake(&self) {
        self.sender.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that sees the wake-ups after this call.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.sender.subscribe()
    }

    /// Runs `start` (which starts the change log's listener on PostgreSQL)
    /// unless a listener of this pool runs already. A listener that ended
    /// (its runtime shut down, say) calls [`ChangeSignal::listener_stopped`],
    /// so the next subscriber starts another rather than waiting on none.
    pub fn start_listener(&self, start: impl FnOnce()) {
        use std::sync::atomic::Ordering;
        if self
            .listening
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            start();
        }
    }

    /// Records that the pool's listener ended; see [`ChangeSignal::start_listener`].
    pub fn listener_stopped(&self) {
        self.listening
            .store(false, std::sync::atomic::Ordering::Release);
    }
}

impl Connection {
    /// Wraps an open pool.
    pub fn new(inner: DatabaseConnection) -> Self {
        Connection {
            inner,
            sqlite: None,
            metric: None,
            changes: Arc::default(),
            actor: None,
        }
    }

    /// A SQLite pool that runs statements in-thread on `pool`, with `inner`
    /// (a lazily connecting sqlx pool on the same file) as the raw way out.
    fn sqlite(pool: Arc<sqlite::Pool>, inner: DatabaseConnection) -> Self {
        Connection {
            sqlite: Some(pool),
            ..Connection::new(inner)
        }
    }

    /// On SQLite, a pool of its own on the same file whose connections do
    /// not enforce foreign keys, whose writer waits up to `wait` for the
    /// write lock: migrations rebuild tables that others reference. An
    /// in-memory database has one connection: it is this pool. Elsewhere,
    /// this pool.
    pub(crate) async fn without_foreign_keys(
        &self,
        wait: std::time::Duration,
    ) -> Result<Connection, DbErr> {
        match &self.sqlite {
            Some(pool) if !pool.in_memory() => Ok(Connection {
                sqlite: Some(pool.without_foreign_keys(wait).await?),
                metric: None,
                ..self.clone()
            }),
            _ => Ok(self.clone()),
        }
    }

    /// This pool, as a handle acting for user `actor`: the units of work
    /// begun on it without naming a user (`write::UnitOfWork::begin`) name
    /// `actor` in their change events. The admin hands its bulk actions
    /// such a handle, so an action's writes are the caller's.
    pub fn acting_as(&self, actor: Option<i32>) -> Connection {
        Connection {
            actor,
            ..self.clone()
        }
    }

    /// The user this handle acts for (see [`Connection::acting_as`]).
    pub fn actor(&self) -> Option<i32> {
        self.actor
    }

    /// The pool's change-log wake-up signal.
    pub fn change_signal(&self) -> &Arc<ChangeSignal> {
        &self.changes
    }

    /// The raw pool. Datetimes bound through it on SQLite are spelled by
    /// sqlx (RFC 3339 with nanoseconds) and compare wrongly with stored
    /// ones: use it only for statements without datetimes. On SQLite it is
    /// a sqlx pool on the same file that connects when first used, beside
    /// the in-thread pool ferrobridge's own statements run on.
    pub fn inner(&self) -> &DatabaseConnection {
        &self.inner
    }

    /// The raw pool, by value; see [`Connection::inner`].
    pub fn into_inner(self) -> DatabaseConnection {
        self.inner
    }

    /// Which database this is, without importing [`ConnectionTrait`].
    pub fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    /// Calls `callback` after each statement (SeaORM's metric hook).
    pub fn set_metric_callback<F>(&mut self, callback: F)
    where
        F: Fn(&sea_orm::metric::Info<'_>) + Send + Sync + 'static,
    {
        if self.sqlite.is_some() {
            self.metric = Some(Arc::new(callback));
        } else {
            self.inner.set_metric_callback(callback);
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), DbErr> {
        match &self.sqlite {
            Some(pool) => pool.ping().await,
            None => self.inner.ping().await,
        }
    }

    /// Closes the pool.
    pub async fn close(self) -> Result<(), DbErr> {
        if let Some(pool) = &self.sqlite {
            pool.close().await?;
        }
        self.inner.close().await
    }

    fn backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    /// Runs a SELECT whose rows become `T` as `reader` says: on SQLite by
    /// position from the values as stored, when the statement selects the
    /// reader's columns (no SeaORM row in between); elsewhere by name.
    pub async fn query_read<T>(
        &self,
        stmt: Statement,
        reader: RowReader<T>,
    ) -> Result<Vec<T>, DbErr> {
        let stmt = canonical(self.backend(), stmt);
        match &self.sqlite {
            Some(pool) => measured(&self.metric, &stmt, pool.query_read(&stmt, reader)).await,
            None => (self.inner.query_all_raw(stmt).await?.iter())
                .map(reader.by_name)
                .collect(),
        }
    }

    async fn run_execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match &self.sqlite {
            Some(pool) => measured(&self.metric, &stmt, pool.execute(&stmt)).await,
            None => self.inner.execute_raw(stmt).await,
        }
    }

    async fn run_execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match &self.sqlite {
            Some(pool) => pool.execute_unprepared(sql).await,
            None => self.inner.execute_unprepared(sql).await,
        }
    }

    async fn run_query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.sqlite {
            Some(pool) => measured(&self.metric, &stmt, pool.query(&stmt)).await,
            None => self.inner.query_all_raw(stmt).await,
        }
    }

    async fn run_query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.sqlite {
            Some(_) => Ok(self.run_query_all(stmt).await?.into_iter().next()),
            None => self.inner.query_one_raw(stmt).await,
        }
    }

    async fn run_begin(
        &self,
        read_only: bool,
        options: Option<TransactionOptions>,
    ) -> Result<Transaction, DbErr> {
        let inner = match (&self.sqlite, options) {
            (Some(pool), _) => TxInner::Sqlite(pool.begin(read_only).await?),
            (None, Some(options)) => TxInner::Sea(self.inner.begin_with_options(options).await?),
            (None, None) => TxInner::Sea(self.inner.begin().await?),
        };
        Ok(Transaction {
            inner,
            metric: self.metric.clone(),
        })
    }
}

impl From<DatabaseConnection> for Connection {
    fn from(inner: DatabaseConnection) -> Self {
        Connection::new(inner)
    }
}

/// A transaction begun on a [`Connection`], with the same spelling of
/// datetimes; it commits with [`TransactionSession::commit`] (or the
/// inherent [`Transaction::commit`]) and rolls back when dropped.
pub struct Transaction {
    inner: TxInner,
    metric: Option<Metric>,
}

/// What runs a transaction's statements.
#[derive(Debug)]
enum TxInner {
    /// SeaORM's (sqlx's) transaction: PostgreSQL and MySQL.
    Sea(DatabaseTransaction),
    /// The in-thread SQLite pool's.
    Sqlite(sqlite::Transaction),
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl Transaction {
    /// Commits. On SQLite a failed `COMMIT` (a deferred foreign key that
    /// does not hold, say) is rolled back and returned as the error.
    pub async fn commit(self) -> Result<(), DbErr> {
        match self.inner {
            TxInner::Sea(inner) => inner.commit().await,
            TxInner::Sqlite(inner) => inner.commit().await,
        }
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), DbErr> {
        match self.inner {
            TxInner::Sea(inner) => inner.rollback().await,
            TxInner::Sqlite(inner) => inner.rollback(),
        }
    }

    /// The raw transaction on PostgreSQL and MySQL (see
    /// [`Connection::inner`] for the caveat); `None` on SQLite, whose
    /// transactions run on the in-thread pool.
    pub fn inner(&self) -> Option<&DatabaseTransaction> {
        match &self.inner {
            TxInner::Sea(inner) => Some(inner),
            TxInner::Sqlite(_) => None,
        }
    }

    fn backend(&self) -> DbBackend {
        match &self.inner {
            TxInner::Sea(inner) => inner.get_database_backend(),
            TxInner::Sqlite(_) => DbBackend::Sqlite,
        }
    }

    async fn run_execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match &self.inner {
            TxInner::Sea(inner) => inner.execute_raw(stmt).await,
            TxInner::Sqlite(inner) => {
                measured(&self.metric, &stmt, async { inner.execute(&stmt) }).await
            }
        }
    }

    async fn run_execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match &self.inner {
            TxInner::Sea(inner) => inner.execute_unprepared(sql).await,
            TxInner::Sqlite(inner) => inner.execute_unprepared(sql),
        }
    }

    async fn run_query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.inner {
            TxInner::Sea(inner) => inner.query_all_raw(stmt).await,
            TxInner::Sqlite(inner) => {
                measured(&self.metric, &stmt, async { inner.query(&stmt) }).await
            }
        }
    }

    async fn run_query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.inner {
            TxInner::Sea(inner) => inner.query_one_raw(stmt).await,
            TxInner::Sqlite(_) => Ok(self.run_query_all(stmt).await?.into_iter().next()),
        }
    }

    async fn run_begin(
        &self,
        _read_only: bool,
        options: Option<TransactionOptions>,
    ) -> Result<Transaction, DbErr> {
        let inner = match (&self.inner, options) {
            (TxInner::Sqlite(inner), _) => TxInner::Sqlite(inner.begin()?),
            (TxInner::Sea(inner), Some(options)) => {
                TxInner::Sea(inner.begin_with_options(options).await?)
            }
            (TxInner::Sea(inner), None) => TxInner::Sea(inner.begin().await?),
        };
        Ok(Transaction {
            inner,
            metric: self.metric.clone(),
        })
    }

    /// Runs `callback` in this transaction, committing on `Ok`.
    async fn run<F, T, E>(self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c Transaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        let result = callback(&self).await.map_err(TransactionError::Transaction);
        if result.is_ok() {
            self.commit().await.map_err(TransactionError::Connection)?;
        } else {
            self.rollback()
                .await
                .map_err(TransactionError::Connection)?;
        }
        result
    }
}

/// `ConnectionTrait`, `TransactionTrait` and `RowSource` for a wrapper
/// whose `inner` runs the statements: each bound value is respelled by
/// [`canonical`] first.
macro_rules! canonical_connection {
    ($wrapper:ty) => {
        /// The loaders of the model metadata (and the write layer's reads
        /// of what a delete takes with it, in its transaction) read through
        /// the wrapper, so their statements get its datetime spelling too.
        impl crate::model::RowSource for $wrapper {
            fn backend(&self) -> DbBackend {
                self.get_database_backend()
            }

            fn select_rows(
                &self,
                stmt: Statement,
            ) -> crate::model::LoaderFuture<'_, Vec<sea_orm::QueryResult>> {
                Box::pin(self.query_all_raw(stmt))
            }
        }

        #[async_trait::async_trait]
        impl ConnectionTrait for $wrapper {
            fn get_database_backend(&self) -> DbBackend {
                self.backend()
            }

            async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
                let stmt = canonical(self.get_database_backend(), stmt);
                self.run_execute(stmt).await
            }

            async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
                self.run_execute_unprepared(sql).await
            }

            async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
                let stmt = canonical(self.get_database_backend(), stmt);
                self.run_query_one(stmt).await
            }

            async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
                let stmt = canonical(self.get_database_backend(), stmt);
                self.run_query_all(stmt).await
            }

            fn support_returning(&self) -> bool {
                self.get_database_backend().support_returning()
            }
        }

        #[async_trait::async_trait]
        impl TransactionTrait for $wrapper {
            type Transaction = Transaction;

            async fn begin(&self) -> Result<Transaction, DbErr> {
                self.run_begin(false, None).await
            }

            async fn begin_with_config(
                &self,
                isolation_level: Option<IsolationLevel>,
                access_mode: Option<AccessMode>,
            ) -> Result<Transaction, DbErr> {
                let read_only = matches!(access_mode, Some(AccessMode::ReadOnly));
                let options = TransactionOptions {
                    isolation_level,
                    access_mode,
                    ..Default::default()
                };
                self.run_begin(read_only, Some(options)).await
            }

            async fn begin_with_options(
                &self,
                options: TransactionOptions,
            ) -> Result<Transaction, DbErr> {
                let read_only = matches!(options.access_mode, Some(AccessMode::ReadOnly));
                self.run_begin(read_only, Some(options)).await
            }

            async fn transaction<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
            where
                F: for<'c> FnOnce(
                        &'c Transaction,
                    )
                        -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
                    + Send,
                T: Send,
                E: std::fmt::Display + std::fmt::Debug + Send,
            {
                let txn = self.begin().await.map_err(TransactionError::Connection)?;
                txn.run(callback).await
            }

            async fn transaction_with_config<F, T, E>(
                &self,
                callback: F,
                isolation_level: Option<IsolationLevel>,
                access_mode: Option<AccessMode>,
            ) -> Result<T, TransactionError<E>>
            where
                F: for<'c> FnOnce(
                        &'c Transaction,
                    )
                        -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
                    + Send,
                T: Send,
                E: std::fmt::Display + std::fmt::Debug + Send,
            {
                let txn = self
                    .begin_with_config(isolation_level, access_mode)
                    .await
                    .map_err(TransactionError::Connection)?;
                txn.run(callback).await
            }
        }
    };
}

canonical_connection!(Connection);
canonical_connection!(Transaction);

#[async_trait::async_trait]
impl TransactionSession for Transaction {
    async fn commit(self) -> Result<(), DbErr> {
        Transaction::commit(self).await
    }

    async fn rollback(self) -> Result<(), DbErr> {
        Transaction::rollback(self).await
    }
}

/// The connection pool, injected into any handler: `async fn h(db: Db)`.
///
/// Derefs to the [`Connection`], so queries read as usual:
/// `post::Entity::find().all(&*db).await`.
#[derive(Clone, Debug)]
pub struct Db(pub Connection);

impl Deref for Db {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0
    }
}

/// Any state the pool can be taken from: the app's `AppState` (the state
/// module sits above this one, so it provides the `FromRef`), or your own.
impl<S> FromRequestParts<S> for Db
where
    Connection: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Db(Connection::from_ref(state)))
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

/// Opens a pool on `url` (`sqlite://...`, `postgres://...`, `mysql://...`) with the
/// default [`PoolSettings`] and the environment's overrides.
pub async fn connect(url: &str) -> Result<Connection, DbErr> {
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
pub async fn connect_with(url: &str, settings: PoolSettings) -> Result<Connection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    // Statement logs would print user data at INFO; keep them out of the logs.
    options.sqlx_logging(false);
    // SeaORM hands `connect_timeout` to the same sqlx deadline; one setting it is.
    options.acquire_timeout(settings.acquire_timeout);
    if let Some(max) = settings.max_connections {
        options.max_connections(max);
    }
    if url.starts_with("sqlite:") {
        return connect_sqlite(url, settings).await;
    }
    Database::connect(options).await.map(Connection::new)
}

/// Opens the in-thread SQLite pool on `url` (see [`sqlite`]), and beside
/// it, for [`Connection::inner`], a sqlx pool on the same file that
/// connects only when used.
///
/// Foreign keys are enforced per connection in SQLite: every connection
/// turns them on; a writer waits up to the acquire timeout for another
/// process's write lock.
async fn connect_sqlite(url: &str, settings: PoolSettings) -> Result<Connection, DbErr> {
    use sea_orm::sqlx::ConnectOptions as _;
    use sea_orm::sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };
    use std::str::FromStr;
    let mut options = sqlite::Options::from_url(url)?;
    options.acquire_timeout = settings.acquire_timeout;
    if let Some(max) = settings.max_connections {
        options.max_idle = max as usize;
    }
    let pool = sqlite::Pool::open(options).await?;
    let raw = SqliteConnectOptions::from_str(url)
        .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::Internal(e.to_string())))?
        .foreign_keys(true)
        .busy_timeout(settings.acquire_timeout)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .disable_statement_logging();
    let mut raw_pool = SqlitePoolOptions::new()
        .min_connections(0)
        .acquire_timeout(settings.acquire_timeout)
        // Case folding as PostgreSQL's and MySQL's (see `unicode`).
        .after_connect(|connection, _| Box::pin(unicode::register(connection)));
    if let Some(max) = settings.max_connections {
        raw_pool = raw_pool.max_connections(max);
    }
    let inner =
        sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(raw_pool.connect_lazy_with(raw));
    Ok(Connection::sqlite(pool, inner))
}

/// How to create one model's table: SeaORM's CREATE TABLE and CREATE INDEX
/// statements for the backend of the [`Schema`] it is given (what the
/// derive's entity describes), each `IF NOT EXISTS`.
pub type CreateTableFn = fn(&Schema) -> (TableCreateStatement, Vec<IndexCreateStatement>);

/// Creates each table (and its indexes) that does not exist yet, in the
/// order given, which must put every foreign key's target first: `tables`
/// pairs how to create each model's table with its metadata (for the
/// `unique_together` indexes).
pub(crate) async fn create_missing_tables(
    db: &Connection,
    tables: &[(CreateTableFn, &'static crate::model::ModelMeta)],
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let schema = Schema::new(backend);
    for (create_table, meta) in tables {
        let (mut table, mut indexes) = create_table(&schema);
        if backend == DbBackend::MySql {
            let (rebuilt, long) = mysql::create_table(&table);
            table = rebuilt;
            indexes = indexes
                .iter()
                .map(|index| mysql::index(meta.table, index, &long))
                .collect();
        }
        db.execute(&table).await?;
        for index in indexes {
            create_index(db, &index).await?;
        }
        for columns in meta.unique_together {
            let mut index = sea_orm::sea_query::Index::create();
            index
                .name(mysql::identifier_on(
                    &meta.unique_index_name(columns),
                    backend,
                ))
                .table(sea_orm::sea_query::Alias::new(meta.table))
                .unique()
                .if_not_exists();
            for column in *columns {
                index.col(sea_orm::sea_query::Alias::new(*column));
            }
            create_index(db, &index).await?;
        }
    }
    Ok(())
}

/// Creates `indexes` (each `IF NOT EXISTS`) that do not exist yet: the
/// default orderings' indexes, which the migrations' code writes.
pub(crate) async fn create_missing_indexes(
    db: &Connection,
    indexes: &[IndexCreateStatement],
) -> Result<(), DbErr> {
    for index in indexes {
        create_index(db, index).await?;
    }
    Ok(())
}

/// Runs `index` (made `IF NOT EXISTS`), which sea-query does not write
/// for MySQL: there an index that exists already (error 1061) is left be.
async fn create_index(db: &Connection, index: &IndexCreateStatement) -> Result<(), DbErr> {
    match db.execute(index).await {
        Err(DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e)))
            if db.get_database_backend() == DbBackend::MySql
                && e.as_database_error()
                    .and_then(|e| e.try_downcast_ref::<sea_orm::sqlx::mysql::MySqlDatabaseError>())
                    .is_some_and(|e| e.number() == 1061) =>
        {
            Ok(())
        }
        other => other.map(|_| ()),
    }
}

/// The tables of the database (SQLite's internal ones left out).
pub async fn table_names(conn: &impl ConnectionTrait) -> Result<BTreeSet<String>, DbErr> {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
    let query = match conn.get_database_backend() {
        DbBackend::Sqlite => Query::select()
            .column(Alias::new("name"))
            .from(Alias::new("sqlite_master"))
            .and_where(Expr::col(Alias::new("type")).eq("table"))
            .and_where(Expr::col(Alias::new("name")).not_like("sqlite_%"))
            .to_owned(),
        _ => Query::select()
            .expr_as(Expr::col(Alias::new("table_name")), Alias::new("name"))
            .from((Alias::new("information_schema"), Alias::new("tables")))
            .and_where(
                Expr::col(Alias::new("table_schema")).eq(Func::cust(Alias::new(
                    if conn.get_database_backend() == DbBackend::MySql {
                        "database"
                    } else {
                        "current_schema"
                    },
                ))),
            )
            .to_owned(),
    };
    let rows = conn.query_all(&query).await?;
    rows.into_iter()
        .map(|row| row.try_get("", "name"))
        .collect()
}

/// Rows read and respelled at a time by [`normalize_sqlite_datetimes`].
const NORMALIZE_BATCH: u64 = 1000;

/// Respells, on SQLite, each stored datetime of the `(table, column)`
/// pairs that is not in the [`sqlite_datetime`] spelling (sqlx's RFC 3339,
/// an offset, a `T`, `.000000`, Unix seconds...), so text comparison is
/// time comparison for rows written before or beside ferrobridge. Missing
/// tables and text that is no datetime at all are left as they are. Cheap
/// when everything is already canonical: one scan per column that selects
/// nothing. Does nothing on other databases. Returns the rows changed.
pub async fn normalize_sqlite_datetimes<C>(db: &C, columns: &[(&str, &str)]) -> Result<u64, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(0);
    }
    let tables = table_names(db).await?;
    let mut changed = 0;
    for (table, column) in columns {
        if tables.contains(*table) {
            changed += normalize_column(db, table, column).await?;
        }
    }
    Ok(changed)
}

/// [`normalize_sqlite_datetimes`] of one column, in batches by rowid.
async fn normalize_column<C>(db: &C, table: &str, column: &str) -> Result<u64, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    let (rowid, col) = (Alias::new("rowid"), Alias::new(column));
    let (mut after, mut changed) = (i64::MIN, 0);
    loop {
        let select = Query::select()
            .expr_as(Expr::col(rowid.clone()), Alias::new("id"))
            .column(col.clone())
            .from(Alias::new(table))
            .and_where(Expr::col(rowid.clone()).gt(after))
            .and_where(Expr::col(col.clone()).is_not_null())
            .and_where(canonical_text(&col).not())
            .order_by(rowid.clone(), sea_orm::Order::Asc)
            .limit(NORMALIZE_BATCH)
            .to_owned();
        let rows = db.query_all(&select).await?;
        let Some(last) = rows.last() else {
            return Ok(changed);
        };
        after = last.try_get::<i64>("", "id")?;
        let txn = db.begin().await?;
        for row in &rows {
            // Text no reader understands stays for a person to look at.
            let Ok(at) = row.try_get::<DateTime<Utc>>("", column) else {
                continue;
            };
            let update = Query::update()
                .table(Alias::new(table))
                .value(col.clone(), at)
                .and_where(Expr::col(rowid.clone()).eq(row.try_get::<i64>("", "id")?))
                .to_owned();
            txn.execute(&update).await?;
            changed += 1;
        }
        txn.commit().await?;
    }
}

/// SQL that holds when `col` is spelled as [`sqlite_datetime`] spells.
fn canonical_text(col: &sea_orm::sea_query::Alias) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::extension::sqlite::SqliteExpr;
    use sea_orm::sea_query::{Expr, ExprTrait};
    const D: &str = "[0-9]";
    let seconds = format!("{D}{D}{D}{D}-{D}{D}-{D}{D} {D}{D}:{D}{D}:{D}{D}");
    let micros = format!("{seconds}.{D}{D}{D}{D}{D}{D}");
    let whole = Expr::col(col.clone()).glob(seconds);
    let fraction = Expr::col(col.clone())
        .glob(micros)
        .and(Expr::col(col.clone()).not_like("%.000000"));
    whole.or(fraction)
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
    fn datetimes_are_spelled_as_django_writes_them_on_sqlite() {
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc)
        };
        let cases = [
            ("2026-11-29T20:54:25Z", "2026-11-29 20:54:25"),
            ("2026-11-29T20:54:25.5Z", "2026-11-29 20:54:25.500000"),
            ("2026-11-29T20:54:25.504511Z", "2026-11-29 20:54:25.504511"),
            // Nanoseconds are cut, not rounded: .9999999 stays in its second.
            (
                "2026-11-29T20:54:25.999999999Z",
                "2026-11-29 20:54:25.999999",
            ),
            ("2026-11-29T20:54:25.000000999Z", "2026-11-29 20:54:25"),
            ("2026-11-29T21:54:25.25+01:00", "2026-11-29 20:54:25.250000"),
            ("0999-01-02T03:04:05Z", "0999-01-02 03:04:05"),
        ];
        for (input, stored) in cases {
            assert_eq!(sqlite_datetime(&at(input)), stored, "{input}");
        }
        let naive = at("2026-11-29T20:54:25.1Z").naive_utc();
        for value in [
            Value::from(at("2026-11-29T20:54:25.1Z")),
            Value::from(naive),
            Value::from(at("2026-11-29T22:54:25.1+02:00").fixed_offset()),
        ] {
            assert_eq!(
                sqlite_value(value),
                Value::from("2026-11-29 20:54:25.100000")
            );
        }
        assert_eq!(
            sqlite_value(Value::ChronoDateTimeUtc(None)),
            Value::ChronoDateTimeUtc(None)
        );
        let stmt = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT $1",
            [Value::from(at("2026-11-29T20:54:25Z"))],
        );
        assert_eq!(canonical(DbBackend::Postgres, stmt.clone()), stmt);
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
