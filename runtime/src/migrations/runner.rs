//! The runner: applies (or unapplies) the steps of a plan on a database,
//! one transaction per migration, and keeps the `ferrobridge_migrations`
//! record of what is applied. The DDL of each operation comes from the
//! [schema editor](super::schema_editor).

use std::collections::BTreeSet;

use sea_orm::sea_query::{Alias, ColumnDef, Expr, ExprTrait, Query, Table};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, TransactionTrait};

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

    /// Runs `plan` on `db`, one transaction per migration, calling `progress`
    /// before each step and with whether it was only recorded (an initial
    /// migration whose tables exist).
    pub async fn run(
        &self,
        db: &Connection,
        plan: &MigrationPlan,
        mut progress: impl FnMut(&Step, StepOutcome),
    ) -> Result<(), MigrationError> {
        if plan.steps.is_empty() {
            return Ok(());
        }
        let conn = migration_connection(db).await?;
        let own_connection = db.get_database_backend() == DbBackend::Sqlite;
        let result = async {
            ensure_record_table(&conn).await?;
            for step in &plan.steps {
                let outcome =
                    self.run_step(&conn, step)
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
        .await;
        if own_connection {
            conn.close().await.ok();
        }
        result
    }

    /// Applies or unapplies one migration in a transaction of its own.
    async fn run_step(
        &self,
        conn: &Connection,
        step: &Step,
    ) -> Result<StepOutcome, MigrationError> {
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
        if step.backwards {
            unapply(&tx, &step.app, migration, &states).await?;
            unrecord(&tx, &step.app, &step.name).await?;
        } else {
            apply(&tx, &step.app, migration, &states).await?;
            record(&tx, &step.app, &step.name).await?;
        }
        check_foreign_keys(&tx).await?;
        tx.commit().await?;
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

    /// An app's first migration, only creating models, whose tables all exist.
    async fn is_existing_initial(
        &self,
        conn: &Connection,
        app: &str,
        migration: &Migration,
    ) -> Result<bool, MigrationError> {
        let first = self
            .app(app)
            .and_then(|a| a.migrations.first())
            .is_some_and(|m| m.name == migration.name);
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
/// `states` as [`Migrator::states_through`] gives them.
async fn apply(
    tx: &Transaction,
    app: &str,
    migration: &Migration,
    states: &[ProjectState],
) -> Result<(), MigrationError> {
    for (i, operation) in migration.operations.iter().enumerate() {
        apply_operation(tx, app, operation, &states[i], &states[i + 1]).await?;
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

/// The connection migrations run on. SQLite only enforces foreign keys
/// per connection and ignores `PRAGMA foreign_keys` inside a transaction,
/// so a table rebuild (which drops a referenced table) runs on a connection
/// of its own, opened with enforcement off; `check_foreign_keys` verifies
/// the rows before each commit instead.
async fn migration_connection(db: &Connection) -> Result<Connection, MigrationError> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(db.clone());
    }
    use sea_orm::sqlx::sqlite::SqlitePoolOptions;
    let options = (*db.inner().get_sqlite_connection_pool().connect_options())
        .clone()
        .foreign_keys(false);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|e| MigrationError::MigrationConnection {
            reason: e.to_string(),
        })?;
    Ok(sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool).into())
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
