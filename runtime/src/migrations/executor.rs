//! Applying and unapplying migrations: the order they run in, the
//! `ferrobridge_migrations` record, and each operation as sea-query
//! statements per backend (with SQLite's table rebuild).

use std::collections::{BTreeSet, HashMap};

use crate::db::Connection;
use sea_orm::sea_query::{
    Alias, ColumnDef, ColumnType, Expr, ExprTrait, ForeignKey as SqlForeignKey, ForeignKeyAction,
    Func, Index as SqlIndex, IndexCreateStatement, JoinType, Query, StringLen, Table,
    TableCreateStatement, Value,
};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, TransactionTrait};

use super::state::{ModelState, ProjectState};
use super::{
    AppMigrations, DbType, DefaultValue, Field, Index, Migration, OnDelete, Operation, RECORD_TABLE,
};

/// Every registered app's migrations, and what can be computed from them.
#[derive(Clone, Debug, Default)]
pub struct Migrator {
    apps: Vec<AppMigrations>,
    /// Dependencies read from the operations: a migration with a foreign key
    /// to a table another app's migration creates comes after it, even when
    /// its file (written before makemigrations declared them) does not say so.
    implicit: HashMap<Key, Vec<Key>>,
}

/// One migration to apply (or unapply) in a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Its app label.
    pub app: String,
    /// Its name.
    pub name: String,
    /// Unapply it instead of applying it.
    pub backwards: bool,
}

/// The migrations `migrate` will run, in order.
#[derive(Clone, Debug, Default)]
pub struct MigrationPlan {
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
}

type Key = (String, String);

impl Migrator {
    /// The migrations of `apps`, applied in dependency order (ties by registration order).
    pub fn new(apps: Vec<AppMigrations>) -> Self {
        let implicit = implicit_dependencies(&apps);
        Migrator { apps, implicit }
    }

    /// The registered apps' migrations.
    pub fn apps(&self) -> &[AppMigrations] {
        &self.apps
    }

    /// The migrations of app `app`.
    pub fn app(&self, app: &str) -> Option<&AppMigrations> {
        self.apps.iter().find(|a| a.app == app)
    }

    fn migration(&self, key: &Key) -> Option<&Migration> {
        self.app(&key.0).and_then(|a| a.get(&key.1))
    }

    /// What `key` must come after: the previous migration of its app and its
    /// declared dependencies.
    fn dependencies(&self, key: &Key) -> Vec<Key> {
        let Some(app) = self.app(&key.0) else {
            return Vec::new();
        };
        let Some(position) = app.migrations.iter().position(|m| m.name == key.1) else {
            return Vec::new();
        };
        let mut deps: Vec<Key> = Vec::new();
        if position > 0 {
            deps.push((key.0.clone(), app.migrations[position - 1].name.clone()));
        }
        deps.extend(app.migrations[position].dependencies.iter().cloned());
        deps
    }

    /// `key` and everything it declares it comes after, directly or not.
    fn declared_closure(&self, key: &Key) -> BTreeSet<Key> {
        let mut set = BTreeSet::new();
        let mut stack = vec![key.clone()];
        while let Some(key) = stack.pop() {
            if set.insert(key.clone()) {
                stack.extend(self.dependencies(&key));
            }
        }
        set
    }

    /// The declared dependencies, then those read from foreign keys.
    fn all_dependencies(&self, key: &Key) -> Vec<Key> {
        let mut deps = self.dependencies(key);
        deps.extend(self.implicit.get(key).into_iter().flatten().cloned());
        deps
    }

    /// Every migration in an order where each comes after what it depends on.
    pub fn full_order(&self) -> Result<Vec<Key>, String> {
        let mut order: Vec<Key> = Vec::new();
        let mut done: BTreeSet<Key> = BTreeSet::new();
        let mut visiting: BTreeSet<Key> = BTreeSet::new();
        for app in &self.apps {
            for migration in &app.migrations {
                self.visit(
                    (app.app.clone(), migration.name.clone()),
                    &mut order,
                    &mut done,
                    &mut visiting,
                )?;
            }
        }
        Ok(order)
    }

    fn visit(
        &self,
        key: Key,
        order: &mut Vec<Key>,
        done: &mut BTreeSet<Key>,
        visiting: &mut BTreeSet<Key>,
    ) -> Result<(), String> {
        if done.contains(&key) {
            return Ok(());
        }
        if self.migration(&key).is_none() {
            return Err(format!(
                "migration {}.{} is named as a dependency but not registered",
                key.0, key.1
            ));
        }
        if !visiting.insert(key.clone()) {
            return Err(format!(
                "migrations depend on each other in a cycle through {}.{}: remove the \
                 `.depends_on(...)` that closes it (for foreign keys between two apps, \
                 makemigrations puts the one that closes the cycle in a later migration)",
                key.0, key.1
            ));
        }
        for dep in self.dependencies(&key) {
            self.visit(dep, order, done, visiting)?;
        }
        // Read from foreign keys, not declared: skipped where they would close a cycle.
        for dep in self.implicit.get(&key).into_iter().flatten() {
            let closes_cycle = self
                .declared_closure(dep)
                .iter()
                .any(|k| visiting.contains(k));
            if !closes_cycle {
                self.visit(dep.clone(), order, done, visiting)?;
            }
        }
        visiting.remove(&key);
        done.insert(key.clone());
        order.push(key);
        Ok(())
    }

    /// The state after every registered migration.
    pub fn state(&self) -> Result<ProjectState, String> {
        let mut state = ProjectState::default();
        for key in self.full_order()? {
            let migration = self.migration(&key).expect("ordered keys exist");
            state.apply_migration(&key.0, migration)?;
        }
        Ok(state)
    }

    /// The state just before migration `name` of `app` (every migration
    /// ordered before it applied).
    fn state_before(&self, app: &str, name: &str) -> Result<ProjectState, String> {
        let mut state = ProjectState::default();
        for key in self.full_order()? {
            if key.0 == app && key.1 == name {
                return Ok(state);
            }
            let migration = self.migration(&key).expect("ordered keys exist");
            state.apply_migration(&key.0, migration)?;
        }
        Err(format!("no migration {app}.{name}"))
    }

    /// Migration names of `app` that start with `prefix` (`0002` finds `0002_post_subtitle`).
    fn resolve(&self, app: &str, prefix: &str) -> Result<String, String> {
        let migrations = self
            .app(app)
            .ok_or_else(|| format!("app `{app}` has no migrations"))?;
        if let Some(m) = migrations.get(prefix) {
            return Ok(m.name.clone());
        }
        let found: Vec<&Migration> = migrations
            .migrations
            .iter()
            .filter(|m| m.name.starts_with(prefix))
            .collect();
        match found.as_slice() {
            [one] => Ok(one.name.clone()),
            [] => Err(format!(
                "app `{app}` has no migration `{prefix}` (see `showmigrations {app}`)"
            )),
            _ => Err(format!(
                "more than one migration of app `{app}` starts with `{prefix}`: be more precise"
            )),
        }
    }

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

    /// The steps that bring the database to `target`: every pending
    /// migration (`None`), those of one app (`(app, None)`), up or down to a
    /// named one (`(app, Some(name))`), or none of an app (`(app, Some("zero"))`).
    pub fn plan(
        &self,
        applied: &BTreeSet<Key>,
        target: Option<(&str, Option<&str>)>,
    ) -> Result<MigrationPlan, String> {
        let order = self.full_order()?;
        let forwards = |wanted: &BTreeSet<Key>| -> MigrationPlan {
            MigrationPlan {
                steps: order
                    .iter()
                    .filter(|k| wanted.contains(*k) && !applied.contains(*k))
                    .map(|k| Step {
                        app: k.0.clone(),
                        name: k.1.clone(),
                        backwards: false,
                    })
                    .collect(),
            }
        };
        let Some((app, name)) = target else {
            return Ok(forwards(&order.iter().cloned().collect()));
        };
        let migrations = self
            .app(app)
            .ok_or_else(|| format!("app `{app}` has no migrations"))?;
        let name = match name {
            None => {
                let wanted = migrations
                    .migrations
                    .iter()
                    .map(|m| (app.to_string(), m.name.clone()))
                    .collect::<Vec<_>>();
                return Ok(forwards(&self.with_dependencies(wanted)));
            }
            Some("zero") => None,
            Some(prefix) => Some(self.resolve(app, prefix)?),
        };
        let position = match &name {
            Some(name) => migrations.migrations.iter().position(|m| &m.name == name),
            None => None,
        };
        let later: Vec<Key> = migrations
            .migrations
            .iter()
            .skip(position.map_or(0, |p| p + 1))
            .map(|m| (app.to_string(), m.name.clone()))
            .filter(|k| applied.contains(k))
            .collect();
        let target_applied = name
            .as_ref()
            .is_none_or(|n| applied.contains(&(app.to_string(), n.clone())));
        if target_applied && !later.is_empty() {
            let unapply = self.with_dependents(later, applied);
            return Ok(MigrationPlan {
                steps: order
                    .iter()
                    .rev()
                    .filter(|k| unapply.contains(*k))
                    .map(|k| Step {
                        app: k.0.clone(),
                        name: k.1.clone(),
                        backwards: true,
                    })
                    .collect(),
            });
        }
        match name {
            Some(name) => Ok(forwards(
                &self.with_dependencies(vec![(app.to_string(), name)]),
            )),
            None => Ok(MigrationPlan::default()),
        }
    }

    fn with_dependencies(&self, keys: Vec<Key>) -> BTreeSet<Key> {
        let mut set = BTreeSet::new();
        let mut stack = keys;
        while let Some(key) = stack.pop() {
            if set.insert(key.clone()) {
                stack.extend(self.all_dependencies(&key));
            }
        }
        set
    }

    fn with_dependents(&self, keys: Vec<Key>, applied: &BTreeSet<Key>) -> BTreeSet<Key> {
        let mut dependents: HashMap<Key, Vec<Key>> = HashMap::new();
        for app in &self.apps {
            for migration in &app.migrations {
                let key = (app.app.clone(), migration.name.clone());
                for dep in self.all_dependencies(&key) {
                    dependents.entry(dep).or_default().push(key.clone());
                }
            }
        }
        let mut set = BTreeSet::new();
        let mut stack = keys;
        while let Some(key) = stack.pop() {
            if applied.contains(&key) && set.insert(key.clone()) {
                stack.extend(dependents.get(&key).cloned().unwrap_or_default());
            }
        }
        set
    }

    /// Runs `plan` on `db`, one transaction per migration, calling `progress`
    /// before each step and with whether it was only recorded (an initial
    /// migration whose tables exist).
    pub async fn run(
        &self,
        db: &Connection,
        plan: &MigrationPlan,
        mut progress: impl FnMut(&Step, StepOutcome),
    ) -> Result<(), DbErr> {
        if plan.steps.is_empty() {
            return Ok(());
        }
        let conn = migration_connection(db).await?;
        let own_connection = db.get_database_backend() == DbBackend::Sqlite;
        let result = async {
            ensure_record_table(&conn).await?;
            for step in &plan.steps {
                let outcome = self.run_step(&conn, step).await.map_err(|e| {
                    DbErr::Custom(format!(
                        "{} {}.{}: {e}",
                        if step.backwards {
                            "unapplying"
                        } else {
                            "applying"
                        },
                        step.app,
                        step.name
                    ))
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

    async fn run_step(&self, conn: &Connection, step: &Step) -> Result<StepOutcome, DbErr> {
        let custom = DbErr::Custom;
        let migration = self
            .migration(&(step.app.clone(), step.name.clone()))
            .ok_or_else(|| custom(format!("no migration {}.{}", step.app, step.name)))?;
        let before = self.state_before(&step.app, &step.name).map_err(custom)?;
        // The state after each operation: states[i] is before operation i.
        let mut states = vec![before];
        for operation in &migration.operations {
            let mut next = states.last().expect("one state at least").clone();
            next.apply(&step.app, operation).map_err(custom)?;
            states.push(next);
        }
        if !step.backwards && self.is_existing_initial(conn, &step.app, migration).await? {
            let tx = conn.begin().await?;
            record(&tx, &step.app, &step.name).await?;
            tx.commit().await?;
            return Ok(StepOutcome::Faked);
        }
        let tx = conn.begin().await?;
        if step.backwards {
            for code in migration.code.iter().rev() {
                if let Some(reverse) = code.reverse {
                    reverse(&tx).await?;
                }
            }
            for (i, operation) in migration.operations.iter().enumerate().rev() {
                let reverse = states[i].reverse(&step.app, operation).map_err(custom)?;
                apply_operation(&tx, &step.app, &reverse, &states[i + 1], &states[i]).await?;
            }
            unrecord(&tx, &step.app, &step.name).await?;
        } else {
            for (i, operation) in migration.operations.iter().enumerate() {
                apply_operation(&tx, &step.app, operation, &states[i], &states[i + 1]).await?;
            }
            for code in &migration.code {
                (code.forward)(&tx)
                    .await
                    .map_err(|e| custom(format!("{}: {e}", code.description)))?;
            }
            record(&tx, &step.app, &step.name).await?;
        }
        check_foreign_keys(&tx).await?;
        tx.commit().await?;
        Ok(StepOutcome::Done)
    }

    /// An app's first migration, only creating models, whose tables all exist.
    async fn is_existing_initial(
        &self,
        conn: &Connection,
        app: &str,
        migration: &Migration,
    ) -> Result<bool, DbErr> {
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

/// For each migration, the migrations of other apps that create a table its
/// operations hold a foreign key to.
fn implicit_dependencies(apps: &[AppMigrations]) -> HashMap<Key, Vec<Key>> {
    let mut creators: HashMap<&str, Key> = HashMap::new();
    for app in apps {
        for migration in &app.migrations {
            for operation in &migration.operations {
                if let Operation::CreateModel(op) = operation {
                    creators
                        .entry(op.table.as_str())
                        .or_insert_with(|| (app.app.clone(), migration.name.clone()));
                }
            }
        }
    }
    let mut implicit: HashMap<Key, Vec<Key>> = HashMap::new();
    for app in apps {
        for migration in &app.migrations {
            let key = (app.app.clone(), migration.name.clone());
            for operation in &migration.operations {
                let fields: Vec<&Field> = match operation {
                    Operation::CreateModel(op) => op.fields.iter().collect(),
                    Operation::AddField(op) => vec![&op.field],
                    Operation::AlterField(op) => vec![&op.field],
                    _ => Vec::new(),
                };
                for table in fields.iter().filter_map(|f| f.references.as_ref()) {
                    let Some(creator) = creators.get(table.table.as_str()) else {
                        continue;
                    };
                    let deps = implicit.entry(key.clone()).or_default();
                    if creator.0 != app.app && !deps.contains(creator) {
                        deps.push(creator.clone());
                    }
                }
            }
        }
    }
    implicit
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
async fn migration_connection(db: &Connection) -> Result<Connection, DbErr> {
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
        .map_err(|e| DbErr::Custom(format!("cannot open a migration connection: {e}")))?;
    Ok(sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool).into())
}

/// On SQLite, fails when a row references a missing row (foreign keys are
/// not enforced on the migration connection).
async fn check_foreign_keys(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
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
        return Err(DbErr::Custom(format!(
            "rows of `{table}` reference missing rows of `{parent}`: the migration was rolled back"
        )));
    }
    Ok(())
}

/// The tables of the database (SQLite's internal ones left out).
pub(crate) async fn table_names(conn: &impl ConnectionTrait) -> Result<BTreeSet<String>, DbErr> {
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
                Expr::col(Alias::new("table_schema")).eq(Func::cust(Alias::new("current_schema"))),
            )
            .to_owned(),
    };
    let rows = conn.query_all(&query).await?;
    rows.into_iter()
        .map(|row| row.try_get("", "name"))
        .collect()
}

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

fn sql_type(db_type: DbType) -> ColumnType {
    match db_type {
        DbType::SmallInteger => ColumnType::SmallInteger,
        DbType::Integer => ColumnType::Integer,
        DbType::BigInteger => ColumnType::BigInteger,
        DbType::Float => ColumnType::Float,
        DbType::Double => ColumnType::Double,
        DbType::Boolean => ColumnType::Boolean,
        DbType::String(Some(n)) => ColumnType::String(StringLen::N(n)),
        DbType::String(None) => ColumnType::String(StringLen::None),
        DbType::Text => ColumnType::Text,
        DbType::Decimal(digits, places) => ColumnType::Decimal(Some((digits, places))),
        DbType::Date => ColumnType::Date,
        DbType::DateTime => ColumnType::TimestampWithTimeZone,
        DbType::Uuid => ColumnType::Uuid,
        DbType::Json => ColumnType::Json,
    }
}

fn sql_value(value: &DefaultValue) -> Value {
    match value {
        DefaultValue::Bool(b) => (*b).into(),
        DefaultValue::Int(i) => (*i).into(),
        DefaultValue::Float(f) => (*f).into(),
        DefaultValue::Str(s) => s.as_str().into(),
    }
}

fn action(on_delete: OnDelete) -> ForeignKeyAction {
    match on_delete {
        OnDelete::Cascade => ForeignKeyAction::Cascade,
        OnDelete::SetNull => ForeignKeyAction::SetNull,
        OnDelete::Restrict => ForeignKeyAction::Restrict,
    }
}

/// The full column definition of `field`, as CREATE TABLE writes it.
fn column_def(field: &Field) -> ColumnDef {
    let mut def = ColumnDef::new_with_type(Alias::new(&field.name), sql_type(field.db_type));
    if field.null {
        def.null();
    } else {
        def.not_null();
    }
    if field.auto_increment {
        def.auto_increment();
    }
    if field.primary_key {
        def.primary_key();
    }
    if field.unique {
        def.unique_key();
    }
    if let Some(default) = &field.default {
        def.default(sql_value(default));
    }
    def
}

fn foreign_key_name(table: &str, column: &str) -> String {
    format!("fk-{table}-{column}")
}

fn index_name(table: &str, column: &str) -> String {
    format!("idx-{table}-{column}")
}

/// CREATE TABLE of `model` under the name `table`.
///
/// SQLite takes AUTOINCREMENT only on a column declared `integer` (every
/// SQLite integer is 64-bit), so an auto-increment `i16` key is declared
/// `integer` there; PostgreSQL keeps SMALLINT (`smallserial`).
fn create_table(model: &ModelState, table: &str, sqlite: bool) -> TableCreateStatement {
    let mut create = Table::create();
    create.table(Alias::new(table));
    for field in &model.fields {
        if sqlite && field.auto_increment && field.db_type == DbType::SmallInteger {
            let mut widened = field.clone();
            widened.db_type = DbType::Integer;
            create.col(column_def(&widened));
        } else {
            create.col(column_def(field));
        }
        if let Some(key) = &field.references {
            create.foreign_key(
                SqlForeignKey::create()
                    .name(foreign_key_name(&model.table, &field.name))
                    .from(Alias::new(table), Alias::new(&field.name))
                    .to(Alias::new(&key.table), Alias::new(&key.column))
                    .on_delete(action(key.on_delete)),
            );
        }
    }
    create
}

fn field_index(model: &ModelState, field: &Field) -> IndexCreateStatement {
    SqlIndex::create()
        .name(index_name(&model.table, &field.name))
        .table(Alias::new(&model.table))
        .col(Alias::new(&field.name))
        .to_owned()
}

fn model_index(model: &ModelState, index: &Index) -> IndexCreateStatement {
    let mut create = SqlIndex::create();
    create.name(&index.name).table(Alias::new(&model.table));
    for column in &index.columns {
        create.col(Alias::new(column));
    }
    if index.unique {
        create.unique();
    }
    create
}

/// Every index of `model`: one per indexed field, then the extra ones.
fn indexes(model: &ModelState) -> Vec<IndexCreateStatement> {
    let mut all: Vec<IndexCreateStatement> = model
        .fields
        .iter()
        .filter(|f| f.index)
        .map(|f| field_index(model, f))
        .collect();
    all.extend(model.indexes.iter().map(|i| model_index(model, i)));
    all
}

async fn drop_index(conn: &impl ConnectionTrait, table: &str, name: &str) -> Result<(), DbErr> {
    conn.execute(
        SqlIndex::drop()
            .name(name)
            .table(Alias::new(table))
            .if_exists(),
    )
    .await?;
    Ok(())
}

fn model_of<'a>(state: &'a ProjectState, app: &str, name: &str) -> Result<&'a ModelState, DbErr> {
    state
        .model(app, name)
        .ok_or_else(|| DbErr::Custom(format!("app `{app}` has no model `{name}`")))
}

fn field_of<'a>(model: &'a ModelState, name: &str) -> Result<&'a Field, DbErr> {
    model
        .field(name)
        .ok_or_else(|| DbErr::Custom(format!("model `{}` has no field `{name}`", model.name)))
}

/// Runs `operation` of app `app`, taking the schema from `before` to `after`.
async fn apply_operation(
    conn: &impl ConnectionTrait,
    app: &str,
    operation: &Operation,
    before: &ProjectState,
    after: &ProjectState,
) -> Result<(), DbErr> {
    let sqlite = conn.get_database_backend() == DbBackend::Sqlite;
    match operation {
        Operation::CreateModel(op) => {
            let model = model_of(after, app, &op.name)?;
            conn.execute(&create_table(model, &model.table, sqlite))
                .await?;
            for index in indexes(model) {
                conn.execute(&index).await?;
            }
        }
        Operation::DeleteModel(op) => {
            let model = model_of(before, app, &op.name)?;
            conn.execute(Table::drop().table(Alias::new(&model.table)))
                .await?;
        }
        Operation::AddField(op) => {
            let old = model_of(before, app, &op.model)?;
            let new = model_of(after, app, &op.model)?;
            add_field(conn, old, new, op).await?;
        }
        Operation::RemoveField(op) => {
            let old = model_of(before, app, &op.model)?;
            let new = model_of(after, app, &op.model)?;
            if sqlite {
                rebuild(conn, old, new, None).await?;
            } else {
                // PostgreSQL drops the column's indexes and constraints with it.
                conn.execute(
                    Table::alter()
                        .table(Alias::new(&old.table))
                        .drop_column(Alias::new(&op.name)),
                )
                .await?;
            }
        }
        Operation::AlterField(op) => {
            let old_model = model_of(before, app, &op.model)?;
            let new_model = model_of(after, app, &op.model)?;
            alter_field(conn, old_model, new_model, op).await?;
        }
        Operation::RenameField(op) => {
            let old_model = model_of(before, app, &op.model)?;
            let new_model = model_of(after, app, &op.model)?;
            let field = field_of(new_model, &op.new)?;
            let table = &new_model.table;
            if field.index {
                drop_index(conn, table, &index_name(table, &op.old)).await?;
            }
            if !sqlite && field.references.is_some() {
                conn.execute(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_foreign_key(Alias::new(foreign_key_name(table, &op.old))),
                )
                .await?;
            }
            conn.execute(
                Table::alter()
                    .table(Alias::new(&old_model.table))
                    .rename_column(Alias::new(&op.old), Alias::new(&op.new)),
            )
            .await?;
            if !sqlite && let Some(key) = &field.references {
                add_foreign_key_postgres(conn, table, field, key).await?;
            }
            if field.index {
                conn.execute(&field_index(new_model, field)).await?;
            }
        }
        Operation::AddIndex(op) => {
            let model = model_of(after, app, &op.model)?;
            conn.execute(&model_index(model, &op.index)).await?;
        }
        Operation::RemoveIndex(op) => {
            let model = model_of(before, app, &op.model)?;
            drop_index(conn, &model.table, &op.name).await?;
        }
    }
    Ok(())
}

/// Adds `op.field`: with `ALTER TABLE ... ADD COLUMN` where the backend can,
/// else (SQLite, with a constraint) by rebuilding the table.
async fn add_field(
    conn: &impl ConnectionTrait,
    old: &ModelState,
    new: &ModelState,
    op: &super::AddField,
) -> Result<(), DbErr> {
    let sqlite = conn.get_database_backend() == DbBackend::Sqlite;
    let field = &op.field;
    let fill = op.one_off_default.as_ref().or(field.default.as_ref());
    if !field.null && fill.is_none() && has_rows(conn, &new.table).await? {
        return Err(DbErr::Custom(format!(
            "cannot add the NOT NULL column `{}.{}` without a default: the table has rows, \
             and they need a value. Give the field `#[field(default = ...)]` or make it \
             nullable, or give this AddField `.one_off_default(VALUE)` \
             (`makemigrations --default {}.{}.{}=VALUE` writes it)",
            new.table, field.name, new.app, new.name, field.name
        )));
    }
    // SQLite's ADD COLUMN takes no constraint, and a NOT NULL column only with a default.
    let simple = !field.unique
        && !field.primary_key
        && field.references.is_none()
        && (field.null || field.default.is_some());
    if sqlite && !simple {
        let fill = op
            .one_off_default
            .as_ref()
            .map(|v| (field.name.as_str(), v));
        return rebuild(conn, old, new, fill).await;
    }
    let mut column = column_def(field);
    if let Some(value) = &op.one_off_default {
        column.default(sql_value(value));
    }
    let table = Alias::new(&new.table);
    conn.execute(Table::alter().table(table.clone()).add_column(column))
        .await?;
    if op.one_off_default.is_some() {
        // One-off: the rows have it now; the column keeps the field's default (none).
        let reset = ColumnDef::new(Alias::new(&field.name))
            .default(Expr::value(Value::String(None)))
            .to_owned();
        conn.execute(Table::alter().table(table).modify_column(reset))
            .await?;
    }
    if let Some(key) = &field.references {
        add_foreign_key_postgres(conn, &new.table, field, key).await?;
    }
    if field.index {
        conn.execute(&field_index(new, field)).await?;
    }
    Ok(())
}

/// Redefines `op.field`: an index alone is added or dropped; otherwise
/// SQLite rebuilds the table and PostgreSQL alters the column in place.
async fn alter_field(
    conn: &impl ConnectionTrait,
    old_model: &ModelState,
    new_model: &ModelState,
    op: &super::AlterField,
) -> Result<(), DbErr> {
    let old = field_of(old_model, &op.field.name)?;
    let new = &op.field;
    let only_index = Field {
        index: new.index,
        ..old.clone()
    } == *new;
    if only_index {
        if new.index {
            conn.execute(&field_index(new_model, new)).await?;
        } else {
            let name = index_name(&old_model.table, &old.name);
            drop_index(conn, &old_model.table, &name).await?;
        }
        return Ok(());
    }
    let fill = op.one_off_default.as_ref().or(new.default.as_ref());
    if old.null && !new.null && fill.is_none() {
        require_no_nulls(conn, new_model, new).await?;
    }
    if conn.get_database_backend() == DbBackend::Sqlite {
        let fill = op.one_off_default.as_ref().map(|v| (new.name.as_str(), v));
        rebuild(conn, old_model, new_model, fill).await
    } else {
        alter_postgres(conn, new_model, old, new, fill).await
    }
}

/// Whether `table` has a row.
async fn has_rows(conn: &impl ConnectionTrait, table: &str) -> Result<bool, DbErr> {
    let query = Query::select()
        .expr(Expr::val(1))
        .from(Alias::new(table))
        .limit(1)
        .to_owned();
    Ok(conn.query_one(&query).await?.is_some())
}

/// Fails, naming the way out, when rows hold NULL in a column about to
/// become NOT NULL without a value for them.
async fn require_no_nulls(
    conn: &impl ConnectionTrait,
    model: &ModelState,
    field: &Field,
) -> Result<(), DbErr> {
    let query = Query::select()
        .expr(Expr::val(1))
        .from(Alias::new(&model.table))
        .and_where(Expr::col(Alias::new(&field.name)).is_null())
        .limit(1)
        .to_owned();
    if conn.query_one(&query).await?.is_none() {
        return Ok(());
    }
    Err(DbErr::Custom(format!(
        "cannot make the column `{table}.{column}` NOT NULL: rows hold NULL there. Give the \
         field `#[field(default = ...)]`, or give this AlterField `.one_off_default(VALUE)` \
         (`makemigrations --default {app}.{model}.{column}=VALUE` writes it), or set those \
         rows first",
        table = model.table,
        column = field.name,
        app = model.app,
        model = model.name,
    )))
}

async fn add_foreign_key_postgres(
    conn: &impl ConnectionTrait,
    table: &str,
    field: &Field,
    key: &super::ForeignKey,
) -> Result<(), DbErr> {
    conn.execute(
        Table::alter().table(Alias::new(table)).add_foreign_key(
            SqlForeignKey::create()
                .name(foreign_key_name(table, &field.name))
                .from_tbl(Alias::new(table))
                .from_col(Alias::new(&field.name))
                .to_tbl(Alias::new(&key.table))
                .to_col(Alias::new(&key.column))
                .on_delete(action(key.on_delete))
                .get_foreign_key(),
        ),
    )
    .await?;
    Ok(())
}

/// PostgreSQL alters a column in place, one change at a time; `fill` is
/// what rows holding NULL get when the column becomes NOT NULL.
async fn alter_postgres(
    conn: &impl ConnectionTrait,
    model: &ModelState,
    old: &Field,
    new: &Field,
    fill: Option<&DefaultValue>,
) -> Result<(), DbErr> {
    let table = Alias::new(&model.table);
    let column = Alias::new(&new.name);
    if old.references.is_some() && old.references != new.references {
        conn.execute(
            Table::alter()
                .table(table.clone())
                .drop_foreign_key(Alias::new(foreign_key_name(&model.table, &old.name))),
        )
        .await?;
    }
    let retyped = old.db_type != new.db_type;
    if retyped {
        if old.default.is_some() {
            // The old default may not convert to the new type; it is set again below.
            let drop = ColumnDef::new(column.clone())
                .default(Expr::value(Value::String(None)))
                .to_owned();
            conn.execute(Table::alter().table(table.clone()).modify_column(drop))
                .await?;
        }
        retype_postgres(conn, model, old, new).await?;
    }
    if old.default != new.default || (retyped && new.default.is_some()) {
        let mut def = ColumnDef::new(column.clone());
        match &new.default {
            Some(value) => def.default(sql_value(value)),
            // PostgreSQL's implicit default is NULL: setting it drops the old one.
            None => def.default(Expr::value(Value::String(None))),
        };
        conn.execute(Table::alter().table(table.clone()).modify_column(def))
            .await?;
    }
    if old.null != new.null {
        if !new.null
            && let Some(value) = fill
        {
            // Rows without a value take the default (or the one-off value).
            let value = Func::cast_as(
                Expr::val(sql_value(value)),
                Alias::new(postgres_type(new.db_type)),
            );
            conn.execute(
                Query::update()
                    .table(table.clone())
                    .value(column.clone(), value)
                    .and_where(Expr::col(column.clone()).is_null()),
            )
            .await?;
        }
        let mut def = ColumnDef::new(column.clone());
        if new.null {
            def.null();
        } else {
            def.not_null();
        }
        conn.execute(Table::alter().table(table.clone()).modify_column(def))
            .await?;
    }
    if old.unique && !new.unique {
        for name in unique_constraints(conn, &model.table, &old.name).await? {
            conn.execute(
                Table::alter()
                    .table(table.clone())
                    .drop_constraint(Alias::new(name)),
            )
            .await?;
        }
    }
    if new.unique && !old.unique {
        conn.execute(
            Table::alter()
                .table(table.clone())
                .modify_column(ColumnDef::new(column.clone()).unique_key()),
        )
        .await?;
    }
    if old.index != new.index {
        if new.index {
            conn.execute(&field_index(model, new)).await?;
        } else {
            drop_index(conn, &model.table, &index_name(&model.table, &old.name)).await?;
        }
    }
    if let Some(key) = &new.references
        && old.references != new.references
    {
        add_foreign_key_postgres(conn, &model.table, new, key).await?;
    }
    Ok(())
}

/// Changes the column's type, converting each value as Django does
/// (`USING "column"::type`); a value that does not convert fails the
/// migration with the column and the value named.
async fn retype_postgres(
    conn: &impl ConnectionTrait,
    model: &ModelState,
    old: &Field,
    new: &Field,
) -> Result<(), DbErr> {
    let column = Alias::new(&new.name);
    let cast = Func::cast_as(
        Expr::col(column.clone()),
        Alias::new(postgres_type(new.db_type)),
    );
    let def = ColumnDef::new_with_type(column, sql_type(new.db_type))
        .using(cast)
        .to_owned();
    let alter = Table::alter()
        .table(Alias::new(&model.table))
        .modify_column(def)
        .to_owned();
    conn.execute(&alter).await.map_err(|e| {
        let reason = e.to_string();
        let reason = reason
            .rsplit("error returned from database: ")
            .next()
            .unwrap_or(&reason);
        DbErr::Custom(format!(
            "cannot convert column `{}.{}` from {} to {}: {reason}. Change or clear the values \
             that are not a valid {}, then migrate again (nothing was changed)",
            model.table,
            new.name,
            old.db_type.rust_name(),
            new.db_type.rust_name(),
            new.db_type.rust_name(),
        ))
    })?;
    Ok(())
}

/// PostgreSQL's name of the type `sql_type` gives `db_type`, for `CAST`.
fn postgres_type(db_type: DbType) -> String {
    match db_type {
        DbType::SmallInteger => "smallint".into(),
        DbType::Integer => "integer".into(),
        DbType::BigInteger => "bigint".into(),
        DbType::Float => "real".into(),
        DbType::Double => "double precision".into(),
        DbType::Boolean => "boolean".into(),
        DbType::String(Some(n)) => format!("varchar({n})"),
        DbType::String(None) => "varchar".into(),
        DbType::Text => "text".into(),
        DbType::Decimal(digits, places) => format!("numeric({digits}, {places})"),
        DbType::Date => "date".into(),
        DbType::DateTime => "timestamp with time zone".into(),
        DbType::Uuid => "uuid".into(),
        DbType::Json => "json".into(),
    }
}

/// The names of PostgreSQL's single-column unique constraints on `table.column`
/// (looked up, since a renamed column keeps its constraint's old name).
async fn unique_constraints(
    conn: &impl ConnectionTrait,
    table: &str,
    column: &str,
) -> Result<Vec<String>, DbErr> {
    let tc = Alias::new("tc");
    let ccu = Alias::new("ccu");
    let query = Query::select()
        .expr_as(
            Expr::col((tc.clone(), Alias::new("constraint_name"))),
            Alias::new("name"),
        )
        .from_as(
            (
                Alias::new("information_schema"),
                Alias::new("table_constraints"),
            ),
            tc.clone(),
        )
        .join_as(
            JoinType::InnerJoin,
            (
                Alias::new("information_schema"),
                Alias::new("constraint_column_usage"),
            ),
            ccu.clone(),
            Expr::col((tc.clone(), Alias::new("constraint_name")))
                .equals((ccu.clone(), Alias::new("constraint_name")))
                .and(
                    Expr::col((tc.clone(), Alias::new("table_schema")))
                        .equals((ccu.clone(), Alias::new("table_schema"))),
                ),
        )
        .and_where(Expr::col((tc.clone(), Alias::new("constraint_type"))).eq("UNIQUE"))
        .and_where(Expr::col((tc.clone(), Alias::new("table_name"))).eq(table))
        .and_where(
            Expr::col((tc.clone(), Alias::new("table_schema")))
                .eq(Func::cust(Alias::new("current_schema"))),
        )
        .and_where(Expr::col((ccu.clone(), Alias::new("column_name"))).eq(column))
        .to_owned();
    let rows = conn.query_all(&query).await?;
    rows.into_iter()
        .map(|row| row.try_get("", "name"))
        .collect()
}

/// SQLite's way to change a table: create the new shape under another name,
/// copy the rows of every column both shapes have, drop the old table,
/// rename the new one and recreate its indexes (Django's `_remake_table`).
/// `fill` is a column and the value its rows get where they have none (a
/// one-off default).
async fn rebuild(
    conn: &impl ConnectionTrait,
    old: &ModelState,
    new: &ModelState,
    fill: Option<(&str, &DefaultValue)>,
) -> Result<(), DbErr> {
    let temporary = format!("new__{}", new.table);
    conn.execute(&create_table(new, &temporary, true)).await?;
    let mut columns = Vec::new();
    let mut values: Vec<Expr> = Vec::new();
    for field in &new.fields {
        let one_off = fill.filter(|(name, _)| *name == field.name).map(|f| f.1);
        let Some(previous) = old.field(&field.name) else {
            if let Some(value) = one_off {
                columns.push(Alias::new(&field.name));
                values.push(Expr::val(sql_value(value)));
            }
            continue;
        };
        columns.push(Alias::new(&field.name));
        let value = Expr::col(Alias::new(&field.name));
        values.push(match one_off.or(field.default.as_ref()) {
            // A column becoming NOT NULL takes its default where it was NULL.
            Some(default) if previous.null && !field.null => value.if_null(sql_value(default)),
            _ => value,
        });
    }
    let mut select = Query::select();
    select.exprs(values).from(Alias::new(&old.table));
    conn.execute(
        Query::insert()
            .into_table(Alias::new(&temporary))
            .columns(columns)
            .select_from(select)
            .map_err(|e| DbErr::Custom(e.to_string()))?,
    )
    .await?;
    for field in &new.fields {
        if let Some(previous) = old.field(&field.name)
            && previous.db_type != field.db_type
        {
            check_converted(conn, &temporary, &new.table, previous, field).await?;
        }
    }
    conn.execute(Table::drop().table(Alias::new(&old.table)))
        .await?;
    conn.execute(Table::rename().table(Alias::new(&temporary), Alias::new(&new.table)))
        .await?;
    for index in indexes(new) {
        conn.execute(&index).await?;
    }
    Ok(())
}

/// SQLite keeps a value its new column's type cannot hold as it was (text
/// `abc` in an INTEGER column); PostgreSQL refuses it. The same refusal here,
/// so a type change means the same on both: the first value of `field` in
/// `temporary` whose storage class is not the new type's fails the migration.
async fn check_converted(
    conn: &impl ConnectionTrait,
    temporary: &str,
    table: &str,
    old: &Field,
    field: &Field,
) -> Result<(), DbErr> {
    let classes: &[&str] = match field.db_type {
        DbType::SmallInteger | DbType::Integer | DbType::BigInteger | DbType::Boolean => {
            &["integer", "null"]
        }
        DbType::Float | DbType::Double => &["integer", "real", "null"],
        _ => return Ok(()),
    };
    let column = Alias::new(&field.name);
    let query = Query::select()
        .expr_as(
            Func::cast_as(Expr::col(column.clone()), Alias::new("text")),
            Alias::new("value"),
        )
        .from(Alias::new(temporary))
        .and_where(
            Expr::expr(Func::cust(Alias::new("typeof")).arg(Expr::col(column)))
                .is_not_in(classes.iter().copied()),
        )
        .limit(1)
        .to_owned();
    let Some(row) = conn.query_one(&query).await? else {
        return Ok(());
    };
    let value: String = row.try_get("", "value").unwrap_or_default();
    let ty = field.db_type.rust_name();
    Err(DbErr::Custom(format!(
        "cannot convert column `{table}.{}` from {} to {ty}: {value:?} is not a valid {ty}. \
         Change or clear the values that are not a valid {ty}, then migrate again \
         (nothing was changed)",
        field.name,
        old.db_type.rust_name(),
    )))
}
