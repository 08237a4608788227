//! The runner: applies (or unapplies) the steps of a plan on a database,
//! one transaction per migration, and keeps the `ferrobridge_migrations`
//! record of what is applied. The DDL of each operation comes from the
//! [schema editor](super::schema_editor).
//!
//! MySQL commits each DDL statement as it runs (as Django notes, migrations
//! there are not atomic): a failed migration is not recorded and the lock
//! is freed as elsewhere, and the runner undoes the operations it completed
//! by running their reverse (see `undo`).
//!
//! A run holds the database's [`MigrationLock`] from before it reads what
//! is applied until its last step is done, so instances started together
//! on one database take turns: the first applies the migrations, the
//! others then find nothing to do.

use std::collections::BTreeSet;
use std::time::Duration;

use sea_orm::sea_query::{Alias, ColumnDef, Expr, ExprTrait, Query, Table};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};

use super::plan::{Key, MigrationPlan, Migrator, Step};
use super::schema_editor::apply_operation;
use super::state::ProjectState;
use super::{Migration, MigrationError, Operation, RECORD_TABLE};
use crate::db::{Connection, Transaction, table_names};

impl Migrator {
    /// Creates the record table when missing and reads which migrations are applied.
    pub async fn applied(&self, db: &impl ConnectionTrait) -> Result<BTreeSet<Key>, DbErr> {
        ensure_record_table(db).await?;
        let rows = db
            .query_all(
                Query::select()
                    .columns([Alias::new("app"), Alias::new("name")])
                    .from(Alias::new(RECORD_TABLE)),
            )
            .await?;
        rows.into_iter()
            .map(|row| Ok((row.try_get("", "app")?, row.try_get("", "name")?)))
            .collect()
    }

    /// Takes the database's migration lock (see [`MigrationLock`]),
    /// waiting while another run holds it.
    pub async fn lock(&self, db: &Connection) -> Result<MigrationLock, MigrationError> {
        MigrationLock::acquire(db).await
    }

    /// Runs `plan`, one transaction per migration, calling `progress` after
    /// each step with whether it was only recorded (an initial migration
    /// whose tables exist). `conn` is where a [`MigrationLock`] says
    /// migrations run ([`MigrationLock::transaction`], or the pool), and
    /// `plan` was made from what [`Migrator::applied`] read there after the
    /// lock was taken.
    pub(crate) async fn run<C>(
        &self,
        conn: &C,
        plan: &MigrationPlan,
        mut progress: impl FnMut(&Step, StepOutcome),
    ) -> Result<(), MigrationError>
    where
        C: ConnectionTrait + TransactionTrait<Transaction = Transaction>,
    {
        if plan.steps.is_empty() {
            return Ok(());
        }
        ensure_record_table(conn).await?;
        for step in &plan.steps {
            let outcome = self
                .run_step(conn, step)
                .await
                .map_err(|e| MigrationError::Step {
                    app: step.app.clone(),
                    name: step.name.clone(),
                    backwards: step.backwards,
                    error: Box::new(e),
                })?;
            progress(step, outcome);
        }
        Ok(())
    }

    /// Applies or unapplies one migration in a transaction of its own (a
    /// savepoint inside the lock's transaction on SQLite), rolled back when
    /// the migration fails.
    async fn run_step<C>(&self, conn: &C, step: &Step) -> Result<StepOutcome, MigrationError>
    where
        C: ConnectionTrait + TransactionTrait<Transaction = Transaction>,
    {
        let key: Key = (step.app.clone(), step.name.clone());
        let migration = self
            .migration(&key)
            .ok_or_else(|| MigrationError::UnknownMigration {
                app: step.app.clone(),
                name: step.name.clone(),
            })?;
        let states = self.states_through(&step.app, migration)?;
        if !step.backwards && self.is_existing_initial(conn, &step.app, migration).await? {
            let tx = conn.begin().await?;
            record(&tx, &step.app, &step.name).await?;
            tx.commit().await?;
            return Ok(StepOutcome::Faked);
        }
        let tx = conn.begin().await?;
        let mut completed = 0;
        let done = async {
            if step.backwards {
                unapply(&tx, &step.app, migration, &states).await?;
                unrecord(&tx, &step.app, &step.name).await?;
            } else {
                apply(&tx, &step.app, migration, &states, &mut completed).await?;
                record(&tx, &step.app, &step.name).await?;
            }
            check_foreign_keys(&tx).await
        }
        .await;
        match done {
            Ok(()) => tx.commit().await?,
            // Explicitly, not on drop: inside the lock's SQLite transaction
            // the steps before this one are kept by committing that
            // transaction, which must not hold this step's half.
            Err(error) => {
                tx.rollback().await?;
                if conn.get_database_backend() == DbBackend::MySql && completed > 0 {
                    undo(conn, &step.app, migration, &states[..=completed]).await;
                }
                return Err(error);
            }
        }
        Ok(StepOutcome::Done)
    }

    /// The state before each operation of `migration` (of `app`), then the
    /// state after the last: `states[i]` is before operation `i`.
    fn states_through(
        &self,
        app: &str,
        migration: &Migration,
    ) -> Result<Vec<ProjectState>, MigrationError> {
        let mut states = vec![self.state_before(app, &migration.name)?];
        for operation in &migration.operations {
            let mut next = states.last().expect("one state at least").clone();
            next.apply(app, operation)?;
            states.push(next);
        }
        Ok(states)
    }

    /// An app's first migration (or one marked [`Migration::initial`]),
    /// only creating models, whose tables all exist.
    async fn is_existing_initial(
        &self,
        conn: &impl ConnectionTrait,
        app: &str,
        migration: &Migration,
    ) -> Result<bool, MigrationError> {
        let first = self
            .app(app)
            .and_then(|a| a.migrations.first())
            .is_some_and(|m| m.name == migration.name)
            || migration.initial;
        let creates: Vec<&str> = migration
            .operations
            .iter()
            .filter_map(|op| match op {
                Operation::CreateModel(op) => Some(op.table.as_str()),
                _ => None,
            })
            .collect();
        let only_creates = creates.len() == migration.operations.len() && migration.code.is_empty();
        if !first || creates.is_empty() || !only_creates {
            return Ok(false);
        }
        let tables = table_names(conn).await?;
        Ok(creates.iter().all(|t| tables.contains(*t)))
    }
}

/// Runs the operations of `migration`, then its data steps, on `tx`;
/// `states` as [`Migrator::states_through`] gives them. `completed` counts
/// the operations done, for [`undo`].
async fn apply(
    tx: &Transaction,
    app: &str,
    migration: &Migration,
    states: &[ProjectState],
    completed: &mut usize,
) -> Result<(), MigrationError> {
    for (i, operation) in migration.operations.iter().enumerate() {
        apply_operation(tx, app, operation, &states[i], &states[i + 1]).await?;
        *completed = i + 1;
    }
    for code in &migration.code {
        (code.forward)(tx)
            .await
            .map_err(|error| MigrationError::RunCode {
                description: code.description.clone(),
                error,
            })?;
    }
    Ok(())
}

/// MySQL commits each DDL statement as it runs, so rolling back a failed
/// migration's transaction keeps the schema changes of the operations it
/// completed. Short of a rollback, their reverse is run, last first
/// (`states` is the state before each of them, then after the last), so
/// the schema is back as the record says (the failed migration is not
/// recorded) and the next run starts it over. Best effort: an operation
/// that failed half-way is not undone, nor what a data step committed; a
/// reverse that fails is logged and the migration's own error returned.
async fn undo<C: ConnectionTrait>(
    conn: &C,
    app: &str,
    migration: &Migration,
    states: &[ProjectState],
) {
    for (i, operation) in migration.operations[..states.len() - 1]
        .iter()
        .enumerate()
        .rev()
    {
        let undone = async {
            let reverse = states[i].reverse(app, operation)?;
            apply_operation(conn, app, &reverse, &states[i + 1], &states[i]).await
        }
        .await;
        if let Err(error) = undone {
            tracing::warn!(
                migration = %migration.name,
                %error,
                "MySQL: could not undo an operation of the failed migration \
                 (DDL is not transactional there); fix the schema by hand"
            );
            return;
        }
    }
}

/// Undoes `migration` on `tx`: the reverse of its data steps, then the
/// reverse of each operation, last first.
async fn unapply(
    tx: &Transaction,
    app: &str,
    migration: &Migration,
    states: &[ProjectState],
) -> Result<(), MigrationError> {
    for code in migration.code.iter().rev() {
        if let Some(reverse) = code.reverse {
            reverse(tx).await.map_err(|error| MigrationError::RunCode {
                description: code.description.clone(),
                error,
            })?;
        }
    }
    for (i, operation) in migration.operations.iter().enumerate().rev() {
        let reverse = states[i].reverse(app, operation)?;
        apply_operation(tx, app, &reverse, &states[i + 1], &states[i]).await?;
    }
    Ok(())
}

/// How a step went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// Its operations ran.
    Done,
    /// Recorded only: an initial migration whose tables existed already.
    Faked,
}

/// The key of the PostgreSQL advisory lock of [`MigrationLock`]: one fixed
/// number for every ferrobridge app (the ASCII of `fb_migr8`), so any two
/// runs on one database take turns, whichever app they belong to.
const POSTGRES_LOCK_KEY: i64 = 0x6662_5f6d_6967_7238;

/// The name of the MySQL lock of [`MigrationLock`], before the database's
/// name: MySQL's named locks are server-wide, so each database gets its own
/// (hashed, as a name may have at most 64 characters).
const MYSQL_LOCK_NAME: &str = "ferrobridge_migrate:";

/// How long a run on SQLite waits for another run's write lock before it
/// gives up (`database is locked`): longer than any migration should take.
const SQLITE_LOCK_WAIT: Duration = Duration::from_secs(15 * 60);

/// The database-wide lock a `migrate` run holds from before it reads which
/// migrations are applied until it has applied the rest (and created the
/// permissions), so runs started together (instances deployed at once)
/// take turns instead of racing to create the same tables.
///
/// - PostgreSQL: a session-level advisory lock (`pg_advisory_lock`) held
///   by a connection of its own, beside the pool the migrations run on,
///   each in its own transaction as before. Ending the session (release,
///   or the process dying) frees the lock.
/// - MySQL / MariaDB: a named lock (`GET_LOCK`), held the same way by a
///   connection of its own; it too is freed when the session ends.
/// - SQLite: an advisory lock would need a server; the database's own
///   write lock is what every process opening the file honours. The run
///   takes it with `BEGIN IMMEDIATE` on the migration connection and holds
///   it until the end: reading what is applied and applying the rest then
///   happen in one transaction, each migration under a savepoint of its
///   own. A lock file beside the database was the other choice; it needs
///   the database's path (not every SQLite URL has one), a writable
///   directory, and cleaning up, and processes that do not know of it
///   (an older ferrobridge, `sqlite3`) would ignore it, where they all wait
///   for the write lock.
pub struct MigrationLock {
    held: Held,
}

enum Held {
    /// A connection of its own holding the advisory lock.
    Postgres(sea_orm::sqlx::postgres::PgConnection),
    /// A connection of its own holding the named lock.
    MySql(sea_orm::sqlx::mysql::MySqlConnection),
    /// The migration connection, and its `BEGIN IMMEDIATE` transaction.
    Sqlite { tx: Transaction, conn: Connection },
}

impl MigrationLock {
    /// Takes the lock on `db`'s database, waiting (on SQLite at most
    /// [`SQLITE_LOCK_WAIT`]) while another run holds it.
    pub async fn acquire(db: &Connection) -> Result<Self, MigrationError> {
        let unavailable = |reason: String| MigrationError::MigrationConnection { reason };
        let refused = |e: &dyn std::fmt::Display| MigrationError::Lock {
            reason: e.to_string(),
        };
        if db.get_database_backend() == DbBackend::Sqlite {
            let conn = migration_connection(db).await?;
            let options = TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            };
            let tx = conn
                .begin_with_options(options)
                .await
                .map_err(|e| refused(&e))?;
            return Ok(MigrationLock {
                held: Held::Sqlite { tx, conn },
            });
        }
        use sea_orm::sqlx::Connection as _;
        if db.get_database_backend() == DbBackend::MySql {
            let options = db.inner().get_mysql_connection_pool().connect_options();
            let mut conn = sea_orm::sqlx::mysql::MySqlConnection::connect_with(&options)
                .await
                .map_err(|e| unavailable(e.to_string()))?;
            let taken: Option<i64> =
                sea_orm::sqlx::query_scalar("SELECT GET_LOCK(SHA1(CONCAT(?, DATABASE())), 0)")
                    .bind(MYSQL_LOCK_NAME)
                    .fetch_one(&mut conn)
                    .await
                    .map_err(|e| refused(&e))?;
            if taken != Some(1) {
                tracing::info!("another migrate run holds the migration lock: waiting for it");
                // MariaDB takes no infinite timeout: a year is as long.
                let taken: Option<i64> = sea_orm::sqlx::query_scalar(
                    "SELECT GET_LOCK(SHA1(CONCAT(?, DATABASE())), 31536000)",
                )
                .bind(MYSQL_LOCK_NAME)
                .fetch_one(&mut conn)
                .await
                .map_err(|e| refused(&e))?;
                if taken != Some(1) {
                    return Err(refused(&"GET_LOCK did not grant the migration lock"));
                }
            }
            return Ok(MigrationLock {
                held: Held::MySql(conn),
            });
        }
        let options = db.inner().get_postgres_connection_pool().connect_options();
        let mut conn = sea_orm::sqlx::postgres::PgConnection::connect_with(&options)
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        // Fixed statements with the key bound: sea-query builds no
        // statement for a connection outside a SeaORM pool.
        let taken: bool = sea_orm::sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(POSTGRES_LOCK_KEY)
            .fetch_one(&mut conn)
            .await
            .map_err(|e| refused(&e))?;
        if !taken {
            tracing::info!("another migrate run holds the migration lock: waiting for it");
            sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(POSTGRES_LOCK_KEY)
                .execute(&mut conn)
                .await
                .map_err(|e| refused(&e))?;
        }
        Ok(MigrationLock {
            held: Held::Postgres(conn),
        })
    }

    /// Where migrations run while the lock is held: on SQLite, the lock's
    /// transaction (on a connection that does not enforce foreign keys, see
    /// `migration_connection`); `None` on PostgreSQL, where they run on the
    /// pool.
    pub fn transaction(&self) -> Option<&Transaction> {
        match &self.held {
            Held::Sqlite { tx, .. } => Some(tx),
            Held::Postgres(_) | Held::MySql(_) => None,
        }
    }

    /// Releases the lock. On SQLite this commits what the run did: every
    /// migration that completed, even when a later one failed (its
    /// savepoint was rolled back), as separate transactions would have
    /// kept them. If the commit fails, the whole run is rolled back, the
    /// record with it, so the database stays as the record says.
    pub async fn release(self) -> Result<(), MigrationError> {
        match self.held {
            Held::Sqlite { tx, conn } => {
                let committed = tx.commit().await;
                conn.close().await.ok();
                committed?;
            }
            Held::Postgres(mut conn) => {
                use sea_orm::sqlx::Connection as _;
                // Closing the session frees the lock too; unlocking first
                // frees it even if the close is not acknowledged.
                let _ = sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(POSTGRES_LOCK_KEY)
                    .execute(&mut conn)
                    .await;
                conn.close().await.ok();
            }
            Held::MySql(mut conn) => {
                use sea_orm::sqlx::Connection as _;
                let _ = sea_orm::sqlx::query("SELECT RELEASE_LOCK(SHA1(CONCAT(?, DATABASE())))")
                    .bind(MYSQL_LOCK_NAME)
                    .execute(&mut conn)
                    .await;
                conn.close().await.ok();
            }
        }
        Ok(())
    }
}

/// The connection migrations run on. SQLite only enforces foreign keys
/// per connection and ignores `PRAGMA foreign_keys` inside a transaction,
/// so a table rebuild (which drops a referenced table) runs on a connection
/// of its own, opened with enforcement off; `check_foreign_keys` verifies
/// the rows before each commit instead. It waits up to [`SQLITE_LOCK_WAIT`]
/// for the write lock (another run's [`MigrationLock`]).
async fn migration_connection(db: &Connection) -> Result<Connection, MigrationError> {
    db.without_foreign_keys(SQLITE_LOCK_WAIT)
        .await
        .map_err(|e| MigrationError::MigrationConnection {
            reason: e.to_string(),
        })
}

/// On SQLite, fails when a row references a missing row (foreign keys are
/// not enforced on the migration connection).
async fn check_foreign_keys(conn: &impl ConnectionTrait) -> Result<(), MigrationError> {
    if conn.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    // A fixed PRAGMA: sea-query has no statement for it.
    let rows = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA foreign_key_check",
        ))
        .await?;
    if let Some(row) = rows.first() {
        let table: String = row.try_get_by_index(0).unwrap_or_default();
        let parent: String = row.try_get_by_index(2).unwrap_or_default();
        return Err(MigrationError::BrokenForeignKeys { table, parent });
    }
    Ok(())
}

/// Creates `ferrobridge_migrations` unless it exists (Django's
/// `django_migrations` has the same columns).
async fn ensure_record_table(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
    conn.execute(
        Table::create()
            .table(Alias::new(RECORD_TABLE))
            .if_not_exists()
            .col(
                ColumnDef::new(Alias::new("id"))
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(Alias::new("app")).string_len(255).not_null())
            .col(
                ColumnDef::new(Alias::new("name"))
                    .string_len(255)
                    .not_null(),
            )
            .col(
                ColumnDef::new(Alias::new("applied"))
                    .timestamp_with_time_zone()
                    .not_null(),
            ),
    )
    .await?;
    Ok(())
}

/// Records migration `name` of `app` as applied, now.
async fn record(conn: &impl ConnectionTrait, app: &str, name: &str) -> Result<(), DbErr> {
    conn.execute(
        Query::insert()
            .into_table(Alias::new(RECORD_TABLE))
            .columns([Alias::new("app"), Alias::new("name"), Alias::new("applied")])
            .values_panic([app.into(), name.into(), chrono::Utc::now().into()]),
    )
    .await?;
    Ok(())
}

/// Forgets that migration `name` of `app` was applied.
async fn unrecord(conn: &impl ConnectionTrait, app: &str, name: &str) -> Result<(), DbErr> {
    conn.execute(
        Query::delete()
            .from_table(Alias::new(RECORD_TABLE))
            .and_where(Expr::col(Alias::new("app")).eq(app))
            .and_where(Expr::col(Alias::new("name")).eq(name)),
    )
    .await?;
    Ok(())
}
