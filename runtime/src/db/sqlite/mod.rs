//! SQLite on the calling thread: a pool of rusqlite connections that runs
//! each statement on the worker that asks, instead of sending it to a
//! connection's own thread and waiting for the answer (what sqlx's SQLite
//! driver does, and what held every sqlx-based path to a third of what the
//! same file serves in-thread).
//!
//! - WAL mode: readers never wait for the writer. Each reader statement
//!   runs on a connection taken from the idle list (a new one is opened
//!   when none is idle) and given back after.
//! - One writer: statements that write (SQLite itself says whether a
//!   prepared statement is read-only) and every transaction run on the one
//!   write connection, taken in turn through an async semaphore, so writers
//!   of this process queue without blocking a worker thread.
//! - Another process's write lock (a second instance, Django on the same
//!   file) is waited for in slices: SQLite's own `busy_timeout` blocks the
//!   thread for at most [`BUSY_SLICE`], then the task sleeps asynchronously
//!   and tries again, until the pool's acquire timeout.
//! - Group commit: a write transaction's `COMMIT` does not sync the file
//!   itself. Its work is kept in the writer's open SQLite transaction, the
//!   writer goes to the next write transaction waiting (which runs inside a
//!   savepoint of the same SQLite transaction), and one `COMMIT`, one
//!   fsync, makes the whole group durable; only then does each member's
//!   commit return. A member that fails or rolls back undoes its savepoint
//!   alone; a deferred foreign key a member leaves broken fails that
//!   member's commit, as its own `COMMIT` would have. What ends a group: a
//!   task spawned by its first member, which queues for the writer after
//!   the tasks that were ready, and anything that needs the writer outside
//!   a write transaction (a statement on its own, a migration, `close`).
//!   If the group's `COMMIT` fails, every member's commit fails with it.
//!   An `INSERT`, `UPDATE` or `DELETE` outside a transaction is a write
//!   transaction of its own and joins a group the same way; other
//!   statements outside a transaction commit the group first and run
//!   alone.
//! - A statement's work itself is not bounded: a query that scans a large
//!   table holds its worker thread as long as it runs, as a hand-written
//!   rusqlite handler would.
//!
//! Rows come back as SeaORM [`QueryResult`]s holding what SQLite stores,
//! which SeaORM converts to each field's type (see [`values`]).

mod values;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::{Connection as Raw, OpenFlags};
use sea_orm::{DbErr, ExecResult, ProxyExecResult, ProxyRow, QueryResult, RuntimeErr, Statement};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::model::{Column, ColumnRow, RowReader};

/// How long SQLite's busy handler may block a worker thread at a time
/// while another process holds the write lock; between slices the task
/// sleeps without holding the thread.
pub const BUSY_SLICE: Duration = Duration::from_millis(10);

/// The savepoint a write transaction runs in when it joins a group.
const MEMBER: &str = "ferrobridge_member";

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;

/// How a pool opens its connections.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// The file, or `:memory:`.
    pub path: String,
    /// Whether the file is created when missing (`?mode=rwc`).
    pub create: bool,
    /// Read only (`?mode=ro`).
    pub read_only: bool,
    /// `PRAGMA foreign_keys`.
    pub foreign_keys: bool,
    /// How long a writer waits for the write lock, in process and out.
    pub acquire_timeout: Duration,
    /// Idle reader connections kept open.
    pub max_idle: usize,
}

impl Options {
    /// Reads a `sqlite:` URL as sqlx does: `sqlite://path`, `sqlite:path`,
    /// `sqlite::memory:`, with `?mode=ro|rw|rwc|memory`.
    pub fn from_url(url: &str) -> Result<Options, DbErr> {
        let rest = url
            .strip_prefix("sqlite:")
            .ok_or_else(|| DbErr::Conn(RuntimeErr::Internal(format!("not a SQLite URL: {url}"))))?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let path = percent_encoding::percent_decode_str(path)
            .decode_utf8_lossy()
            .into_owned();
        let mut options = Options {
            path: if path.is_empty() {
                ":memory:".into()
            } else {
                path
            },
            create: false,
            read_only: false,
            foreign_keys: true,
            acquire_timeout: Duration::from_secs(5),
            max_idle: 16,
        };
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match (&*key, &*value) {
                ("mode", "rwc") => options.create = true,
                ("mode", "rw") => {}
                ("mode", "ro") => options.read_only = true,
                ("mode", "memory") => options.path = ":memory:".into(),
                ("mode", other) => {
                    return Err(DbErr::Conn(RuntimeErr::Internal(format!(
                        "unknown SQLite mode `{other}` (use ro, rw, rwc or memory)"
                    ))));
                }
                _ => {}
            }
        }
        Ok(options)
    }

    fn memory(&self) -> bool {
        self.path == ":memory:"
    }

    /// Opens one connection: WAL, `synchronous = FULL`, foreign keys as
    /// set, the short busy slice, the Unicode `lower()`.
    fn open(&self, first: bool) -> rusqlite::Result<Raw> {
        let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        if self.read_only {
            flags |= OpenFlags::SQLITE_OPEN_READ_ONLY;
        } else {
            flags |= OpenFlags::SQLITE_OPEN_READ_WRITE;
            if self.create || self.memory() {
                flags |= OpenFlags::SQLITE_OPEN_CREATE;
            }
        }
        let conn = if self.memory() {
            Raw::open_in_memory_with_flags(flags)?
        } else {
            Raw::open_with_flags(&self.path, flags)?
        };
        conn.busy_timeout(BUSY_SLICE)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // Plans independent of bound values: else SQLite (the bundled 3.51) plans
        // `LIMIT ?` with the bound number and marks the statement expired
        // whenever the number is bound again, so every page and retrieve
        // would compile its cached statement anew.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        if first && !self.read_only && !self.memory() {
            // The journal mode is the file's, kept across connections;
            // setting it takes the write lock, so only the first does.
            conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", self.foreign_keys)?;
        super::unicode::register_on(&conn)?;
        Ok(conn)
    }
}

/// The pool: idle readers, the one writer, and what they are opened with.
#[derive(Debug)]
pub(crate) struct Pool {
    options: Options,
    readers: Mutex<Vec<Raw>>,
    writer: Mutex<Option<Raw>>,
    /// One permit: whoever holds it holds [`Pool::writer`].
    write_turn: Arc<Semaphore>,
    /// The group of committed write transactions the writer's open SQLite
    /// transaction holds, waiting for their one `COMMIT` (see the module
    /// docs); `None` when the writer holds no one's work.
    group: Mutex<Option<watch::Sender<Option<Outcome>>>>,
    /// Group `COMMIT`s run so far (what the tests count).
    group_commits: AtomicUsize,
    closed: AtomicBool,
}

/// How a group's `COMMIT` ended, as each member's commit returns it.
type Outcome = Result<(), DbErr>;

/// Runs `attempt` until it succeeds, fails with something other than
/// SQLite's busy error, or `deadline` passes; sleeps between tries.
async fn retry_busy<T>(
    deadline: Instant,
    mut attempt: impl FnMut() -> Result<T, rusqlite::Error>,
) -> Result<T, rusqlite::Error> {
    let mut pause = Duration::from_millis(1);
    loop {
        match attempt() {
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(BUSY_SLICE);
            }
            other => return other,
        }
    }
}

/// [`retry_busy`] on a held connection, which it owns across its sleeps
/// (a connection is `Send` but not `Sync`: no reference to it may live
/// across an await) and gives back to the pool when done.
async fn on_held<T>(
    held: Held,
    deadline: Instant,
    mut attempt: impl FnMut(&Raw) -> Result<T, rusqlite::Error>,
) -> Result<T, rusqlite::Error> {
    let mut pause = Duration::from_millis(1);
    loop {
        match attempt(held.conn()) {
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(BUSY_SLICE);
            }
            other => return other,
        }
    }
}

fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(e, _)
        if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

impl Pool {
    /// Opens the pool and its write connection (which creates the file
    /// with `?mode=rwc` and turns WAL on).
    pub async fn open(options: Options) -> Result<Arc<Pool>, DbErr> {
        let deadline = Instant::now() + options.acquire_timeout;
        let writer = retry_busy(deadline, || options.open(true))
            .await
            .map_err(|e| DbErr::Conn(runtime_err(e)))?;
        Ok(Arc::new(Pool {
            options,
            readers: Mutex::new(Vec::new()),
            writer: Mutex::new(Some(writer)),
            write_turn: Arc::new(Semaphore::new(1)),
            group: Mutex::new(None),
            group_commits: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        }))
    }

    /// Waits for the writer's turn, up to the acquire timeout, and commits
    /// the group it holds, if any: the writer comes back outside any
    /// transaction.
    async fn writer(self: &Arc<Self>) -> Result<Held, DbErr> {
        let held = self.writer_turn().await?;
        self.settle(held.conn());
        Ok(held)
    }

    /// The writer as it is: inside a group's open transaction when one is
    /// waiting for its `COMMIT`.
    async fn writer_turn(self: &Arc<Self>) -> Result<Held, DbErr> {
        let permit = tokio::time::timeout(
            self.options.acquire_timeout,
            self.write_turn.clone().acquire_owned(),
        )
        .await
        .map_err(|_| busy_error("timed out waiting for the write connection"))?
        .map_err(|_| closed_error())?;
        self.hold_writer(permit)
    }

    fn hold_writer(self: &Arc<Self>, permit: OwnedSemaphorePermit) -> Result<Held, DbErr> {
        let conn = self
            .writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(closed_error)?;
        Ok(Held {
            conn: Some(conn),
            home: Home::Writer(self.clone(), permit),
        })
    }

    fn group(&self) -> std::sync::MutexGuard<'_, Option<watch::Sender<Option<Outcome>>>> {
        self.group.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends the group `conn` (the writer) holds, if any: one `COMMIT` for
    /// all its members, whose commits then return its outcome.
    fn settle(&self, conn: &Raw) {
        let Some(group) = self.group().take() else {
            return;
        };
        let outcome = if conn.is_autocommit() {
            // SQLite rolled the transaction back itself (an I/O error, a
            // full disk): the members' work is gone.
            Err(exec_err(lost()))
        } else {
            self.group_commits.fetch_add(1, Ordering::Relaxed);
            tracing::trace!(members = group.receiver_count(), "SQLite group commit");
            let committed = conn
                .prepare_cached("COMMIT")
                .and_then(|mut stmt| stmt.raw_execute());
            committed.map(|_| ()).map_err(|e| {
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                exec_err(e)
            })
        };
        group.send_replace(Some(outcome));
    }

    /// Joins `conn`'s (the writer's) committed work to the group, opening
    /// one (and the task that ends it) when none is waiting; the receiver
    /// tells how the group's `COMMIT` ended.
    fn join_group(self: &Arc<Self>) -> watch::Receiver<Option<Outcome>> {
        let mut group = self.group();
        if let Some(open) = group.as_ref() {
            return open.subscribe();
        }
        let (sender, receiver) = watch::channel(None);
        *group = Some(sender);
        drop(group);
        let pool = self.clone();
        tokio::spawn(async move {
            // Behind the tasks that are ready now, whose write transactions
            // then join this group before it commits.
            tokio::task::yield_now().await;
            // No timeout: a member may hold the writer as long as it
            // likes, and the group waits for it.
            if let Ok(permit) = pool.write_turn.clone().acquire_owned().await {
                if let Ok(held) = pool.hold_writer(permit) {
                    pool.settle(held.conn());
                }
            }
        });
        receiver
    }

    /// An idle reader, or a new one.
    fn reader(self: &Arc<Self>) -> Result<Held, DbErr> {
        if self.closed.load(Ordering::Acquire) {
            return Err(closed_error());
        }
        let idle = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self
                .options
                .open(false)
                .map_err(|e| DbErr::Conn(runtime_err(e)))?,
        };
        Ok(Held {
            conn: Some(conn),
            home: Home::Readers(self.clone()),
        })
    }

    /// Runs a statement outside any transaction: on a reader when SQLite
    /// says it only reads (and the database is a file), else on the writer.
    pub async fn query(self: &Arc<Self>, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
        let deadline = Instant::now() + self.options.acquire_timeout;
        let read = self.on_reader(stmt, |conn, prepared| {
            run_prepared(conn, prepared, stmt).map(|(rows, _)| rows)
        });
        if let Some(rows) = read.await? {
            return Ok(rows);
        }
        if groupable(&stmt.sql) {
            return self
                .write_alone(|conn| run(conn, stmt), query_err)
                .await
                .map(|(rows, _)| rows);
        }
        let writer = self.writer().await?;
        on_held(writer, deadline, |conn| run(conn, stmt))
            .await
            .map(|(rows, _)| rows)
            .map_err(query_err)
    }

    /// [`Pool::query`] of a SELECT whose rows become `T` as `reader` says:
    /// by position from the stored values when the statement selects its
    /// columns, without SeaORM rows in between.
    pub async fn query_read<T>(
        self: &Arc<Self>,
        stmt: &Statement,
        reader: RowReader<T>,
    ) -> Result<Vec<T>, DbErr> {
        let read = self.on_reader(stmt, |conn, prepared| {
            read_prepared(conn, prepared, stmt, reader)
        });
        if let Some(rows) = read.await? {
            return rows;
        }
        // Boxed: the rare way (a statement that writes, an in-memory
        // database) would make every read's future as large as its own.
        let results = Box::pin(self.query(stmt)).await?;
        results.iter().map(reader.by_name).collect()
    }

    /// `work` on `stmt` prepared on a reader, when the database is a file
    /// and SQLite says the statement only reads; `None` otherwise (it
    /// runs on the writer).
    async fn on_reader<T>(
        self: &Arc<Self>,
        stmt: &Statement,
        mut work: impl FnMut(&Raw, rusqlite::CachedStatement<'_>) -> Result<T, rusqlite::Error>,
    ) -> Result<Option<T>, DbErr> {
        if self.options.memory() {
            return Ok(None);
        }
        let held = self.reader()?;
        let mut attempt = |conn: &Raw| {
            let prepared = conn.prepare_cached(&stmt.sql)?;
            if !prepared.readonly() {
                return Ok(None);
            }
            work(conn, prepared).map(Some)
        };
        // A reader rarely finds the file busy: the first attempt runs here,
        // and only a busy one takes the retries (boxed: their timer would
        // make every read's future, and each one awaiting it, larger).
        match attempt(held.conn()) {
            Err(e) if is_busy(&e) => {}
            done => return done.map_err(query_err),
        }
        let deadline = Instant::now() + self.options.acquire_timeout;
        Box::pin(on_held(held, deadline, attempt))
            .await
            .map_err(query_err)
    }

    /// Runs a statement that may write, on the writer.
    pub async fn execute(self: &Arc<Self>, stmt: &Statement) -> Result<ExecResult, DbErr> {
        if groupable(&stmt.sql) {
            return self
                .write_alone(|conn| run(conn, stmt), exec_err)
                .await
                .map(|(_, result)| result.into());
        }
        let deadline = Instant::now() + self.options.acquire_timeout;
        let writer = self.writer().await?;
        on_held(writer, deadline, |conn| run(conn, stmt))
            .await
            .map(|(_, result)| result.into())
            .map_err(exec_err)
    }

    /// Runs `work` (one statement outside any transaction) as a write
    /// transaction of its own, which commits with the group: it returns
    /// once the group's `COMMIT` has, as the statement alone would have
    /// returned once its own had. A statement that fails undoes itself
    /// alone and returns its error (`error` wraps it).
    async fn write_alone<T>(
        self: &Arc<Self>,
        work: impl FnOnce(&Raw) -> Result<T, rusqlite::Error>,
        error: fn(rusqlite::Error) -> DbErr,
    ) -> Result<T, DbErr> {
        let txn = self.begin(false).await?;
        match txn.with(work) {
            Ok(value) => txn.commit().await.map(|()| value),
            Err(e) => {
                txn.rollback()?;
                Err(error(e))
            }
        }
    }

    /// Runs `sql` (one or more statements, no parameters) on the writer.
    pub async fn execute_unprepared(self: &Arc<Self>, sql: &str) -> Result<ExecResult, DbErr> {
        let deadline = Instant::now() + self.options.acquire_timeout;
        let writer = self.writer().await?;
        on_held(writer, deadline, |conn| batch(conn, sql))
            .await
            .map(Into::into)
            .map_err(exec_err)
    }

    /// Begins a transaction: `BEGIN IMMEDIATE` on the writer (taking the
    /// write lock up front, so no statement inside waits for it), or a
    /// savepoint in the group the writer holds; for a read-only one, a
    /// deferred transaction on a reader.
    pub async fn begin(self: &Arc<Self>, read_only: bool) -> Result<Transaction, DbErr> {
        let deadline = Instant::now() + self.options.acquire_timeout;
        if read_only && !self.options.memory() {
            return self.begin_on(self.reader()?, "BEGIN", None, deadline).await;
        }
        if read_only {
            return self
                .begin_on(self.writer().await?, "BEGIN", None, deadline)
                .await;
        }
        let held = self.writer_turn().await?;
        let grouped = self.group().is_some() && !held.conn().is_autocommit();
        if grouped {
            return self
                .begin_on(
                    held,
                    &format!("SAVEPOINT {MEMBER}"),
                    Some(Member::Joined),
                    deadline,
                )
                .await;
        }
        // A group whose transaction SQLite rolled back: its members learn it.
        self.settle(held.conn());
        self.begin_on(held, "BEGIN IMMEDIATE", Some(Member::Opened), deadline)
            .await
    }

    /// Runs `begin` on `held`, retrying while another process holds the
    /// write lock. `member`: how a write transaction sits in its group.
    async fn begin_on(
        &self,
        held: Held,
        begin: &str,
        member: Option<Member>,
        deadline: Instant,
    ) -> Result<Transaction, DbErr> {
        let mut pause = Duration::from_millis(1);
        loop {
            let begun = held
                .conn()
                .prepare_cached(begin)
                .and_then(|mut stmt| stmt.raw_execute());
            match begun {
                Err(e) if is_busy(&e) && Instant::now() < deadline => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(BUSY_SLICE);
                }
                other => break other.map(|_| ()).map_err(exec_err)?,
            }
        }
        Ok(Transaction {
            shared: Arc::new(Mutex::new(held)),
            depth: 0,
            open: true,
            member,
        })
    }

    /// Checks that the file answers.
    pub async fn ping(self: &Arc<Self>) -> Result<(), DbErr> {
        self.query(&Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "SELECT 1",
        ))
        .await
        .map(|_| ())
    }

    /// Closes every idle connection; the pool answers no more statements.
    pub async fn close(self: &Arc<Self>) -> Result<(), DbErr> {
        self.closed.store(true, Ordering::Release);
        // Wait for the writer to be idle, commit what it holds, then close it.
        let turn = self.write_turn.clone().acquire_owned().await;
        if let Ok(turn) = turn {
            if let Ok(held) = self.hold_writer(turn) {
                self.settle(held.conn());
            }
        }
        self.write_turn.close();
        self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(())
    }

    /// A pool on the same file whose connections have foreign keys off:
    /// migrations rebuild tables that others reference.
    pub async fn without_foreign_keys(
        &self,
        acquire_timeout: Duration,
    ) -> Result<Arc<Pool>, DbErr> {
        let mut options = self.options.clone();
        options.foreign_keys = false;
        options.acquire_timeout = acquire_timeout;
        Pool::open(options).await
    }

    /// Whether this pool's database lives in memory (one connection).
    pub fn in_memory(&self) -> bool {
        self.options.memory()
    }
}

/// A connection taken from the pool, given back when dropped.
#[derive(Debug)]
struct Held {
    conn: Option<Raw>,
    home: Home,
}

#[derive(Debug)]
enum Home {
    Readers(Arc<Pool>),
    Writer(Arc<Pool>, #[allow(dead_code)] OwnedSemaphorePermit),
}

impl Held {
    fn conn(&self) -> &Raw {
        self.conn
            .as_ref()
            .expect("a held connection is present until dropped")
    }

    /// The pool of a held writer.
    fn writer_pool(&self) -> Option<&Arc<Pool>> {
        match &self.home {
            Home::Writer(pool, _) => Some(pool),
            Home::Readers(_) => None,
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let grouped = match &self.home {
            Home::Writer(pool, _) => {
                let group = pool.group();
                match group.as_ref() {
                    // The group's transaction is gone (SQLite rolled it back
                    // after an error): its members' commits fail.
                    Some(_) if conn.is_autocommit() => {
                        drop(group);
                        pool.settle(&conn);
                        false
                    }
                    Some(_) => true,
                    None => false,
                }
            }
            Home::Readers(_) => false,
        };
        if !grouped && !conn.is_autocommit() {
            // A transaction left open (its future dropped mid-way) must not
            // reach the next user of the connection; a group's stays open
            // for its `COMMIT`.
            let _ = conn.execute_batch("ROLLBACK");
        }
        match &self.home {
            Home::Readers(pool) => {
                let mut idle = pool.readers.lock().unwrap_or_else(|e| e.into_inner());
                if idle.len() < pool.options.max_idle && !pool.closed.load(Ordering::Acquire) {
                    idle.push(conn);
                }
            }
            // The permit drops after this, so the next writer finds it back.
            Home::Writer(pool, _) => {
                *pool.writer.lock().unwrap_or_else(|e| e.into_inner()) = Some(conn);
            }
        }
    }
}

/// A transaction on one connection of the pool, held until it ends.
/// Nested ones (begun on a transaction) are savepoints of the same
/// connection.
#[derive(Debug)]
pub(crate) struct Transaction {
    shared: Arc<Mutex<Held>>,
    depth: usize,
    open: bool,
    /// For a write transaction (depth 0 on the writer): how it sits in
    /// the SQLite transaction its group commits.
    member: Option<Member>,
}

/// How a write transaction began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Member {
    /// With `BEGIN IMMEDIATE`: no one's work was waiting on the writer.
    Opened,
    /// In the savepoint [`MEMBER`], inside a group's open transaction.
    Joined,
}

impl Transaction {
    fn with<T>(&self, f: impl FnOnce(&Raw) -> T) -> T {
        let held = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        f(held.conn())
    }

    fn savepoint(&self) -> String {
        format!("ferrobridge_sp_{}", self.depth)
    }

    /// Runs a statement in the transaction.
    pub fn query(&self, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.with(|conn| run(conn, stmt))
            .map(|(rows, _)| rows)
            .map_err(query_err)
    }

    /// Runs a statement that may write in the transaction.
    pub fn execute(&self, stmt: &Statement) -> Result<ExecResult, DbErr> {
        self.with(|conn| run(conn, stmt))
            .map(|(_, result)| result.into())
            .map_err(exec_err)
    }

    /// Runs `sql` (no parameters) in the transaction.
    pub fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.with(|conn| batch(conn, sql))
            .map(Into::into)
            .map_err(exec_err)
    }

    /// A savepoint inside this transaction.
    pub fn begin(&self) -> Result<Transaction, DbErr> {
        let nested = Transaction {
            shared: self.shared.clone(),
            depth: self.depth + 1,
            open: true,
            member: None,
        };
        let sql = format!("SAVEPOINT {}", nested.savepoint());
        self.with(|conn| conn.execute_batch(&sql))
            .map_err(exec_err)?;
        Ok(nested)
    }

    /// Commits (or releases the savepoint). A failed `COMMIT` (a deferred
    /// foreign key broken, say) is rolled back and returned. A write
    /// transaction returns once its group's `COMMIT` has (see the module
    /// docs).
    pub async fn commit(mut self) -> Result<(), DbErr> {
        self.open = false;
        if self.member.is_some() {
            return self.commit_member().await;
        }
        let result = self.with(|conn| {
            if self.depth == 0 {
                // From the statement cache: not parsed again per write.
                conn.prepare_cached("COMMIT")?.raw_execute().map(|_| ())
            } else {
                conn.execute_batch(&format!("RELEASE {}", self.savepoint()))
            }
        });
        if result.is_err() {
            self.undo();
        }
        result.map_err(exec_err)
    }

    /// A write transaction's commit: its work joins the group, the writer
    /// goes to the next in line, and the group's `COMMIT` is awaited.
    async fn commit_member(self) -> Result<(), DbErr> {
        let joined = self.with(|conn| {
            if conn.is_autocommit() {
                // What SQLite says to a COMMIT without a transaction: it
                // rolled this one back after an error.
                return Err(lost());
            }
            if deferred_foreign_keys(conn) {
                // The COMMIT of this transaction alone would fail so; the
                // group's must not.
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                    Some("FOREIGN KEY constraint failed".into()),
                ));
            }
            if self.member == Some(Member::Joined) {
                conn.prepare_cached(&format!("RELEASE {MEMBER}"))?
                    .raw_execute()?;
            }
            Ok(())
        });
        if let Err(e) = joined {
            self.undo();
            return Err(exec_err(e));
        }
        let mut outcome = {
            let held = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            let pool = held
                .writer_pool()
                .expect("a write transaction holds the writer")
                .clone();
            let outcome = pool.join_group();
            if Arc::strong_count(&self.shared) > 1 {
                // A nested transaction still holds the writer (and may be
                // dropped only after this returns): no one else could
                // commit the group, so commit it now.
                pool.settle(held.conn());
            }
            outcome
        };
        // The writer goes back now, for the next write transaction to join
        // the group.
        drop(self);
        let ended = outcome.wait_for(Option::is_some).await;
        match ended.as_deref() {
            Ok(Some(Ok(()))) => Ok(()),
            Ok(Some(Err(error))) => Err(error.clone()),
            // The pool went away with the group uncommitted.
            Ok(None) | Err(_) => Err(closed_error()),
        }
    }

    /// Rolls back (to the savepoint).
    pub fn rollback(mut self) -> Result<(), DbErr> {
        self.open = false;
        self.undo();
        Ok(())
    }

    fn undo(&self) {
        let sql = if self.member == Some(Member::Joined) {
            format!("ROLLBACK TO {MEMBER}; RELEASE {MEMBER}")
        } else if self.depth == 0 {
            "ROLLBACK".to_string()
        } else {
            let name = self.savepoint();
            format!("ROLLBACK TO {name}; RELEASE {name}")
        };
        self.with(|conn| {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch(&sql);
            }
        });
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if self.open {
            self.undo();
        }
    }
}

/// Whether `sql` is a plain `INSERT`, `UPDATE` or `DELETE`: a statement
/// that runs inside a group's transaction as it would alone. Anything else
/// outside a transaction keeps the writer to itself: `PRAGMA foreign_keys`
/// is ignored inside a transaction, and `VACUUM`, `BEGIN` or a change of
/// journal mode fail there.
fn groupable(sql: &str) -> bool {
    let head = sql.trim_start().as_bytes().get(..7);
    [b"INSERT ", b"UPDATE ", b"DELETE "]
        .iter()
        .any(|keyword| head.is_some_and(|head| head.eq_ignore_ascii_case(*keyword)))
}

/// Whether `conn`'s transaction holds a deferred foreign key that does not
/// hold (the `COMMIT` would fail).
fn deferred_foreign_keys(conn: &Raw) -> bool {
    let (mut current, mut highest) = (0, 0);
    // SAFETY: the handle is `conn`'s own, open while `conn` is borrowed,
    // and SQLITE_DBSTATUS_DEFERRED_FKS only reads a counter of it.
    let code = unsafe {
        rusqlite::ffi::sqlite3_db_status(
            conn.handle(),
            rusqlite::ffi::SQLITE_DBSTATUS_DEFERRED_FKS,
            &mut current,
            &mut highest,
            0,
        )
    };
    code == rusqlite::ffi::SQLITE_OK && current > 0
}

/// What a member's commit fails with when SQLite rolled the group's
/// transaction back on its own (after an I/O error or a full disk, say).
fn lost() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
        Some("the transaction was rolled back after an error".into()),
    )
}

/// Prepares (from the connection's cache), binds and steps `stmt`,
/// reading every row as SeaORM rows typed by [`values`].
fn run(
    conn: &Raw,
    stmt: &Statement,
) -> Result<(Vec<QueryResult>, ProxyExecResult), rusqlite::Error> {
    run_prepared(conn, conn.prepare_cached(&stmt.sql)?, stmt)
}

/// [`run`] with `stmt` already prepared (from `conn`'s cache).
fn run_prepared(
    conn: &Raw,
    mut prepared: rusqlite::CachedStatement<'_>,
    stmt: &Statement,
) -> Result<(Vec<QueryResult>, ProxyExecResult), rusqlite::Error> {
    bind(&mut prepared, stmt)?;
    let columns = prepared.column_count();
    if columns == 0 {
        let changed = prepared.raw_execute()?;
        return Ok((
            Vec::new(),
            ProxyExecResult::new(conn.last_insert_rowid() as u64, changed as u64),
        ));
    }
    // One list of names for every row of the result.
    let names: Arc<[String]> = (0..columns)
        .map(|i| prepared.column_name(i).map(str::to_string))
        .collect::<Result<_, _>>()?;
    // The values of every row in one list, which the rows share: a row
    // allocates no list of its own. Room for a few rows up front.
    let mut values = Vec::with_capacity(8 * columns);
    let mut rows = prepared.raw_query();
    while let Some(row) = rows.next()? {
        for i in 0..columns {
            values.push(values::stored(row.get_ref(i)?).to_value());
        }
    }
    drop(rows);
    let out = ProxyRow::all_in_order(names, values)
        .map(QueryResult::from)
        .collect();
    let changed = conn.changes();
    Ok((
        out,
        ProxyExecResult::new(conn.last_insert_rowid() as u64, changed),
    ))
}

/// Binds and steps `prepared` (`stmt`), reading each row with `reader`:
/// by position when it selects `reader`'s columns. A failing step is the
/// outer error (busy, say: retried), a row that does not read the inner.
fn read_prepared<T>(
    conn: &Raw,
    mut prepared: rusqlite::CachedStatement<'_>,
    stmt: &Statement,
    reader: RowReader<T>,
) -> Result<Result<Vec<T>, DbErr>, rusqlite::Error> {
    let names = (0..prepared.column_count()).map(|i| prepared.column_name(i).unwrap_or_default());
    let Some((columns, read)) = reader.positions(names) else {
        let (rows, _) = run_prepared(conn, prepared, stmt)?;
        return Ok(rows.iter().map(reader.by_name).collect());
    };
    bind(&mut prepared, stmt)?;
    let mut out = Vec::new();
    let mut rows = prepared.raw_query();
    while let Some(row) = rows.next()? {
        // The reading asks the same names at the same positions on every
        // row: checked on the first.
        let columns = if out.is_empty() {
            &columns[..]
        } else {
            &[][..]
        };
        match read(&SqliteRow { row, columns }) {
            Ok(value) => out.push(value),
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(out))
}

/// Binds `stmt`'s values to `prepared`.
fn bind(prepared: &mut rusqlite::CachedStatement<'_>, stmt: &Statement) -> rusqlite::Result<()> {
    if let Some(params) = &stmt.values {
        for (i, value) in params.0.iter().enumerate() {
            prepared.raw_bind_parameter(i + 1, values::Bind(value))?;
        }
    }
    Ok(())
}

/// A row being stepped, read by position ([`ColumnRow`]).
struct SqliteRow<'a, 'r> {
    row: &'a rusqlite::Row<'r>,
    /// The statement's columns, each read's name checked against them;
    /// empty: not checked (a row after the first).
    columns: &'a [&'static str],
}

impl ColumnRow for SqliteRow<'_, '_> {
    fn column(&self, index: usize, name: &str) -> Result<Column<'_>, DbErr> {
        if !self.columns.is_empty() && self.columns.get(index) != Some(&name) {
            return Err(DbErr::Type(format!(
                "column {index} of the row is not `{name}`"
            )));
        }
        match self.row.get_ref(index) {
            Ok(value) => Ok(Column::Stored(values::stored(value))),
            Err(error) => Err(query_err(error)),
        }
    }
}

fn batch(conn: &Raw, sql: &str) -> Result<ProxyExecResult, rusqlite::Error> {
    conn.execute_batch(sql)?;
    Ok(ProxyExecResult::new(
        conn.last_insert_rowid() as u64,
        conn.changes(),
    ))
}

/// `error` as SeaORM's runtime error: SQLite's failures as sqlx database
/// errors ([`SqliteFailure`]), anything else as text.
fn runtime_err(error: rusqlite::Error) -> RuntimeErr {
    use sea_orm::sqlx::Error;
    match error {
        rusqlite::Error::SqliteFailure(e, message) => {
            let failure = crate::error::SqliteFailure {
                code: e.extended_code,
                message: message.unwrap_or_else(|| e.to_string()),
            };
            RuntimeErr::SqlxError(Arc::new(Error::Database(Box::new(failure))))
        }
        other => RuntimeErr::Internal(other.to_string()),
    }
}

fn query_err(error: rusqlite::Error) -> DbErr {
    DbErr::Query(runtime_err(error))
}

fn exec_err(error: rusqlite::Error) -> DbErr {
    DbErr::Exec(runtime_err(error))
}

/// SQLite's busy error (code 5), as a timed-out wait for the write lock
/// reads: the caller answers 503, as for a busy file.
fn busy_error(message: &str) -> DbErr {
    DbErr::Exec(runtime_err(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
        Some(message.to_string()),
    )))
}

fn closed_error() -> DbErr {
    DbErr::Conn(RuntimeErr::SqlxError(Arc::new(
        sea_orm::sqlx::Error::PoolClosed,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::DbBackend;

    fn sql(text: &str) -> Statement {
        Statement::from_string(DbBackend::Sqlite, text)
    }

    /// A pool on a new file of its own, with a table `t` and a table
    /// `child` whose key to `t` is checked at commit.
    async fn pool(name: &str) -> (Arc<Pool>, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!(
            "ferrobridge-group-{name}-{}.sqlite3",
            std::process::id()
        ));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let options =
            Options::from_url(&format!("sqlite://{}?mode=rwc", path.display())).expect("url");
        let pool = Pool::open(options).await.expect("open");
        pool.execute_unprepared(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
             CREATE TABLE child (id INTEGER PRIMARY KEY,
                 t_id INTEGER REFERENCES t (id) DEFERRABLE INITIALLY DEFERRED);",
        )
        .await
        .expect("tables");
        (pool, path)
    }

    async fn ids(pool: &Arc<Pool>, table: &str) -> Vec<i64> {
        pool.query(&sql(&format!("SELECT id FROM {table} ORDER BY id")))
            .await
            .expect("ids")
            .iter()
            .map(|row| row.try_get_by_index::<i64>(0).expect("id"))
            .collect()
    }

    /// Each task's write transaction: its statements, then commit (or
    /// roll back when `commit` is false).
    fn writer_task(
        pool: &Arc<Pool>,
        statements: &[&str],
        commit: bool,
    ) -> tokio::task::JoinHandle<Result<(), DbErr>> {
        let pool = pool.clone();
        let statements: Vec<String> = statements.iter().map(|s| s.to_string()).collect();
        tokio::spawn(async move {
            let txn = pool.begin(false).await?;
            for statement in &statements {
                // A failing statement undoes itself and the transaction goes on.
                let _ = txn.execute(&sql(statement));
            }
            if commit {
                txn.commit().await
            } else {
                txn.rollback()
            }
        })
    }

    #[tokio::test]
    async fn write_transactions_ready_together_share_one_commit() {
        let (pool, _path) = pool("together").await;
        let before = pool.group_commits.load(Ordering::Relaxed);
        let tasks: Vec<_> = (1..=20)
            .map(|i| writer_task(&pool, &[&format!("INSERT INTO t VALUES ({i}, 'x')")], true))
            .collect();
        for task in tasks {
            task.await.expect("task").expect("commit");
        }
        // Read on another connection: each commit returned after the rows
        // were committed.
        assert_eq!(ids(&pool, "t").await, (1..=20).collect::<Vec<_>>());
        assert_eq!(pool.group_commits.load(Ordering::Relaxed) - before, 1);
    }

    #[tokio::test]
    async fn a_member_that_fails_or_rolls_back_leaves_the_others() {
        let (pool, _path) = pool("members").await;
        let before = pool.group_commits.load(Ordering::Relaxed);
        let a = writer_task(&pool, &["INSERT INTO t VALUES (1, 'a')"], true);
        let b = writer_task(&pool, &["INSERT INTO t VALUES (2, 'b')"], false);
        // The duplicate key fails alone; the row after it stays.
        let c = writer_task(
            &pool,
            &[
                "INSERT INTO t VALUES (1, 'dup')",
                "INSERT INTO t VALUES (3, 'c')",
            ],
            true,
        );
        // A child of no parent: this transaction's COMMIT would fail.
        let d = writer_task(
            &pool,
            &[
                "INSERT INTO t VALUES (4, 'd')",
                "INSERT INTO child VALUES (1, 999)",
            ],
            true,
        );
        // A child whose parent an earlier member wrote.
        let e = writer_task(&pool, &["INSERT INTO child VALUES (2, 3)"], true);
        a.await.expect("a").expect("a commits");
        b.await.expect("b").expect("b rolls back");
        c.await.expect("c").expect("c commits");
        let broken = d.await.expect("d").expect_err("d's foreign key");
        assert!(
            broken.to_string().contains("FOREIGN KEY constraint failed"),
            "{broken}"
        );
        e.await.expect("e").expect("e commits");
        assert_eq!(ids(&pool, "t").await, [1, 3]);
        assert_eq!(ids(&pool, "child").await, [2]);
        assert_eq!(pool.group_commits.load(Ordering::Relaxed) - before, 1);
    }

    #[tokio::test]
    async fn a_dropped_member_is_undone_alone() {
        let (pool, _path) = pool("dropped").await;
        let a = writer_task(&pool, &["INSERT INTO t VALUES (1, 'a')"], true);
        let b = {
            let pool = pool.clone();
            tokio::spawn(async move {
                let txn = pool.begin(false).await.expect("begin b");
                txn.execute(&sql("INSERT INTO t VALUES (2, 'b')"))
                    .expect("insert b");
                drop(txn);
            })
        };
        let c = writer_task(&pool, &["INSERT INTO t VALUES (3, 'c')"], true);
        a.await.expect("a").expect("a commits");
        b.await.expect("b");
        c.await.expect("c").expect("c commits");
        assert_eq!(ids(&pool, "t").await, [1, 3]);
    }

    #[tokio::test]
    async fn a_group_whose_transaction_sqlite_ended_fails_every_member() {
        let (pool, _path) = pool("lost").await;
        let a = writer_task(&pool, &["INSERT INTO t VALUES (1, 'a')"], true);
        // As SQLite does after an I/O error or a full disk: the whole
        // transaction rolled back under the members.
        let b = writer_task(&pool, &["INSERT INTO t VALUES (2, 'b')", "ROLLBACK"], true);
        assert!(a.await.expect("a").is_err(), "a's work is gone");
        assert!(b.await.expect("b").is_err(), "b's work is gone");
        assert_eq!(ids(&pool, "t").await, Vec::<i64>::new());
        // The writer is usable again.
        writer_task(&pool, &["INSERT INTO t VALUES (3, 'c')"], true)
            .await
            .expect("c")
            .expect("c commits");
        assert_eq!(ids(&pool, "t").await, [3]);
    }

    #[tokio::test]
    async fn a_commit_with_a_nested_transaction_still_open_commits_at_once() {
        let (pool, _path) = pool("nested").await;
        let outer = pool.begin(false).await.expect("begin");
        outer
            .execute(&sql("INSERT INTO t VALUES (1, 'outer')"))
            .expect("insert");
        let inner = outer.begin().expect("savepoint");
        inner
            .execute(&sql("INSERT INTO t VALUES (2, 'inner')"))
            .expect("insert");
        // The nested one still holds the writer: waiting for a group
        // commit would never end.
        tokio::time::timeout(Duration::from_secs(5), outer.commit())
            .await
            .expect("the commit returned")
            .expect("committed");
        drop(inner);
        assert_eq!(ids(&pool, "t").await, [1, 2]);
    }

    #[tokio::test]
    async fn writes_outside_a_transaction_join_the_group() {
        let (pool, _path) = pool("alone-writes").await;
        let before = pool.group_commits.load(Ordering::Relaxed);
        let tasks: Vec<_> = (1..=10)
            .map(|i| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    pool.execute(&sql(&format!("INSERT INTO t VALUES ({i}, 'x')")))
                        .await
                })
            })
            .collect();
        // One that fails (a duplicate key) fails alone.
        let duplicate = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.execute(&sql("INSERT INTO t VALUES (1, 'dup')")).await })
        };
        // A child of no parent, checked at commit: refused, as alone.
        let orphan = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.execute(&sql("INSERT INTO child VALUES (1, 999)"))
                    .await
            })
        };
        // RETURNING reads through `query`.
        let returning = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.query(&sql("INSERT INTO t VALUES (11, 'r') RETURNING id"))
                    .await
            })
        };
        for task in tasks {
            assert_eq!(
                task.await.expect("task").expect("insert").rows_affected(),
                1
            );
        }
        assert!(duplicate.await.expect("dup").is_err(), "the duplicate key");
        let orphan = orphan
            .await
            .expect("orphan")
            .expect_err("the missing parent");
        assert!(orphan.to_string().contains("FOREIGN KEY"), "{orphan}");
        let rows = returning
            .await
            .expect("returning")
            .expect("insert returning");
        assert_eq!(rows[0].try_get_by_index::<i64>(0).expect("id"), 11);
        assert_eq!(ids(&pool, "t").await, (1..=11).collect::<Vec<_>>());
        assert_eq!(ids(&pool, "child").await, Vec::<i64>::new());
        assert_eq!(pool.group_commits.load(Ordering::Relaxed) - before, 1);
        // What cannot run inside a transaction still runs alone.
        pool.execute(&sql("VACUUM")).await.expect("vacuum");
    }

    #[tokio::test]
    async fn a_statement_on_its_own_commits_the_waiting_group_first() {
        let (pool, _path) = pool("alone").await;
        let a = writer_task(&pool, &["INSERT INTO t VALUES (1, 'a')"], true);
        // Let a commit into a group and wait for it.
        tokio::task::yield_now().await;
        pool.execute(&sql("VACUUM")).await.expect("vacuum, alone");
        a.await.expect("a").expect("a commits");
        assert_eq!(ids(&pool, "t").await, [1]);
        pool.close().await.expect("close");
    }
}

#[cfg(test)]
mod read_tests {
    use super::*;
    use crate::model::{DbType, FieldMeta, ReadRow};
    use sea_orm::DbBackend;

    /// A row of `t` as a test reads it: from its position or by name.
    #[derive(Debug, PartialEq)]
    struct Row(i64, Option<String>, &'static str);

    /// `t`'s fields: `id`, `v` and `secret` (not shown).
    static FIELDS: [FieldMeta; 3] = [
        FieldMeta::new("id", DbType::BigInteger),
        FieldMeta::new("v", DbType::Text).nullable(),
        FieldMeta::new("secret", DbType::Text).not_read(),
    ];

    fn read(row: &dyn ColumnRow) -> Result<Row, DbErr> {
        let how = match row.column(0, "id")? {
            Column::ByName(_) => "name",
            Column::Stored(_) => "position",
        };
        Ok(Row(row.get(0, "id")?, row.get(1, "v")?, how))
    }

    /// Rows read by position when the statement selects the reader's
    /// columns, by name when it does not; the same values either way.
    #[tokio::test]
    async fn rows_read_by_position_only_from_the_columns_they_name() {
        let path =
            std::env::temp_dir().join(format!("ferrobridge-read-{}.sqlite3", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let pool = Pool::open(Options::from_url(&url).expect("url"))
            .await
            .expect("open");
        pool.execute_unprepared(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, secret TEXT);
             INSERT INTO t VALUES (1, 'one', 's'), (2, NULL, 's'), (3, 'three', 's');",
        )
        .await
        .expect("table");
        let reader = RowReader {
            by_position: Some((&FIELDS[..], read as ReadRow<Row>)),
            by_name: |row| read(row),
        };
        let query = |sql: &str| {
            let stmt = Statement::from_sql_and_values(DbBackend::Sqlite, sql, [2i64.into()]);
            let pool = pool.clone();
            async move { pool.query_read(&stmt, reader).await.expect("read") }
        };
        let fast = query("SELECT id, v FROM t WHERE id <= ? ORDER BY id").await;
        let slow = query("SELECT v, id FROM t WHERE id <= ? ORDER BY id").await;
        let wider = query("SELECT id, v, secret FROM t WHERE id <= ? ORDER BY id").await;
        let expect = |how| [Row(1, Some("one".into()), how), Row(2, None, how)];
        assert_eq!(fast, expect("position"));
        assert_eq!(slow, expect("name"));
        assert_eq!(wider, expect("name"));
        // A value its field refuses is the reader's error, not a panic.
        let stmt = Statement::from_string(DbBackend::Sqlite, "SELECT v AS id, id AS v FROM t");
        assert!(pool.query_read(&stmt, reader).await.is_err());
        // A reading whose names are not the columns' fails, not misreads.
        let swapped = RowReader {
            by_position: Some((&FIELDS[..], |row: &dyn ColumnRow| {
                Ok(Row(row.get(1, "id")?, row.get(0, "v")?, "position"))
            })),
            by_name: |row| read(row),
        };
        let stmt = Statement::from_string(DbBackend::Sqlite, "SELECT id, v FROM t");
        let error = pool
            .query_read(&stmt, swapped)
            .await
            .expect_err("names checked");
        assert!(error.to_string().contains("is not `id`"), "{error}");
        pool.close().await.expect("close");
    }
}
