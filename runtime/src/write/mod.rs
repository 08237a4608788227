//! The one write path: every row the generated API, the admin (forms,
//! inlines, bulk actions, the delete page) and the runtime's model helpers
//! create, change or delete goes through a [`UnitOfWork`], one database
//! transaction per request.
//!
//! What a write means is decided here, once: the model's `Create`/`Update`
//! conversions fill defaults, auto fields (`auto_now`, `auto_now_add`) and
//! hash `#[field(password)]` values; [`UnitOfWork::create`] sets the owner;
//! constraint errors become 409/422 naming the field ([`constraint`]); a
//! `restrict` reference refuses a delete with 409, and what a delete would
//! take with it is found beforehand by [`cascade`]. Decisions that need the
//! user (permissions, `write_perm`, row scope) are taken by the layers above
//! (`api`, `admin`, `auth`) before they call in; [`guarded_changes`] tells
//! them which fields of a write need such a decision.
//!
//! Every create, update and delete made here is also a change event
//! ([`crate::changes`]): the row's `Read` representation after the change
//! (the last one for a delete), its owner and the acting user, written to
//! the change log at [`UnitOfWork::commit`], in the same transaction, so a
//! rolled-back write leaves no event. So are the changes the database makes
//! as a consequence of a delete ([`UnitOfWork::delete`]): the rows an
//! `on_delete = "cascade"` reference takes with it, and the rows whose
//! foreign key an `on_delete = "set_null"` reference empties.
//!
//! Rows of models change only through here: the API's create, PUT, PATCH
//! and DELETE, the admin's forms, inlines, delete page and "delete
//! selected", `auth::create_superuser`, `auth::change_password` and the
//! admin's password form. What writes elsewhere is bookkeeping, not a
//! model's data, and stays with its owner: auth's tokens, sessions and
//! external identity links, `last_login` and a password re-hash at login
//! (Django's `update_last_login` signal is no change event either), the
//! admin's log entries (written in the same transaction as the change they
//! record, through [`UnitOfWork::tx`]), `migrate`'s tables, content types
//! and permissions, and an app's own admin actions, which get a
//! [`Connection`] and decide for themselves.

pub mod cascade;
pub mod constraint;

use std::str::FromStr;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, IntoActiveModel, Iterable, ModelTrait,
    QueryFilter, QuerySelect, SqlErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
    Value,
};
use serde_json::Value as JsonValue;

use crate::changes::{self, ChangeAction, PendingChange};
use crate::db::{Connection, Transaction};
use crate::error::{ApiError, ApiResult};
use crate::model::{Action, FieldDefault, FieldMeta, Model, ModelMeta};
use crate::query::{Models, ReadRow, read_row};

pub use constraint::{constraint_violation, db_error};

/// A row of `M` as SeaORM returns it.
pub type Row<M> = <<M as Model>::Entity as EntityTrait>::Model;
type Col<M> = <<M as Model>::Entity as EntityTrait>::Column;

/// The column of `M` named `name` (a field name of its metadata).
fn column<M: Model>(name: &str) -> Result<Col<M>, DbErr> {
    Col::<M>::from_str(name).map_err(|_| DbErr::Custom(format!("no column `{name}`")))
}

/// The writes of one request, in one transaction: all of them are kept by
/// [`UnitOfWork::commit`], none if it is dropped (or a write failed and
/// the caller returned early), as Django's `transaction.atomic`.
///
/// Reads during the work go through [`UnitOfWork::tx`] too: on SQLite a
/// new pool connection may wait for the transaction's lock to open.
pub struct UnitOfWork {
    tx: Transaction,
    /// Who makes the changes, for their events.
    actor: Option<i32>,
    /// The events of the changes so far, written at commit.
    pending: std::sync::Mutex<Vec<PendingChange>>,
    /// Wakes this process's feed readers after a commit with events.
    signal: std::sync::Arc<crate::db::ChangeSignal>,
}

impl UnitOfWork {
    /// Begins a transaction on `db`, for the user `db` acts for
    /// ([`Connection::acting_as`]; none for a plain pool).
    ///
    /// On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken (waiting
    /// out the busy timeout) before the first read, so a request that reads
    /// a row and then writes it never finds its snapshot stale half-way,
    /// which SQLite reports as an immediate `SQLITE_BUSY`. PostgreSQL
    /// ignores the mode.
    pub async fn begin(db: &Connection) -> ApiResult<UnitOfWork> {
        UnitOfWork::begin_as(db, db.actor()).await
    }

    /// [`UnitOfWork::begin`] for changes made by user `actor`, whom their
    /// change events name.
    pub async fn begin_as(db: &Connection, actor: Option<i32>) -> ApiResult<UnitOfWork> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let tx = db
            .begin_with_options(options)
            .await
            .map_err(ApiError::internal)?;
        Ok(UnitOfWork {
            tx,
            actor,
            pending: std::sync::Mutex::default(),
            signal: db.change_signal().clone(),
        })
    }

    /// The transaction, for bookkeeping written with the rows (the admin's
    /// log entry, a revoked token) and for reads of this request's writes.
    pub fn tx(&self) -> &Transaction {
        &self.tx
    }

    /// Keeps every write, and writes their change events (see
    /// [`crate::changes`] for why they go last).
    pub async fn commit(self) -> ApiResult<()> {
        let pending = std::mem::take(&mut *self.pending_events());
        let any = !pending.is_empty();
        changes::record(&self.tx, pending)
            .await
            .map_err(ApiError::internal)?;
        self.tx.commit().await.map_err(ApiError::internal)?;
        if any {
            self.signal.wake();
        }
        Ok(())
    }

    fn pending_events(&self) -> std::sync::MutexGuard<'_, Vec<PendingChange>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues the event of `action` on `row` for the commit.
    fn changed<M: Model>(&self, action: ChangeAction, row: &Row<M>) -> ApiResult<()> {
        let read = read_row::<M>(row).map_err(ApiError::internal)?;
        self.queue(M::meta(), action, read);
        Ok(())
    }

    /// Queues the event of `action` on `row`, of model `meta`, for the commit.
    fn queue(&self, meta: &'static ModelMeta, action: ChangeAction, row: ReadRow) {
        self.pending_events().push(PendingChange {
            meta,
            pk: row.pk,
            action,
            data: row.data,
            owner: row.owner,
            user: self.actor,
        });
    }

    /// Inserts `active` (built by `M::insert_from`: defaults, auto fields
    /// and hashed passwords already in), owned by `owner` when the model
    /// has an `#[api(owner)]` field.
    pub async fn create<M: Model>(
        &self,
        mut active: M::ActiveModel,
        owner: Option<i64>,
    ) -> ApiResult<Row<M>> {
        if let Some(owner) = owner {
            M::set_owner(&mut active, owner);
        }
        let row = self.save::<M>(active, Save::Insert).await?;
        self.changed::<M>(ChangeAction::Create, &row)?;
        Ok(row)
    }

    /// Saves the changes of `active` to `row` (`auto_now` fields are set by
    /// the model's `replace_with`/`patch_with`). Only values that differ
    /// from `row`'s are written: a write that changes nothing (a value sent
    /// again as stored) touches no row, records no event and answers `row`
    /// as it is.
    pub async fn update<M: Model>(&self, row: Row<M>, active: M::ActiveModel) -> ApiResult<Row<M>> {
        let active = differences::<M>(&row, &active);
        if !active.is_changed() {
            return Ok(row);
        }
        let row = self.save::<M>(active, Save::Update).await?;
        self.changed::<M>(ChangeAction::Update, &row)?;
        Ok(row)
    }

    /// Runs `save` of `active` in the transaction; where a failure must be
    /// located (see [`constraint::needs_probe`]), under a savepoint, so the
    /// referenced rows can be looked up after it.
    async fn save<M: Model>(&self, active: M::ActiveModel, save: Save) -> ApiResult<Row<M>> {
        if !constraint::needs_probe::<M>() {
            let saved = save.run::<M>(active, &self.tx).await;
            return saved.map_err(|error| db_error(M::meta(), error));
        }
        let probe = active.clone();
        let savepoint = self.savepoint().await?;
        match save.run::<M>(active, &savepoint).await {
            Ok(row) => {
                savepoint.commit().await.map_err(ApiError::internal)?;
                Ok(row)
            }
            Err(error) => Err(self.located::<M>(savepoint, &probe, error).await),
        }
    }

    /// A savepoint before a write whose failure must be examined: with
    /// several foreign keys a violation does not say which (SQLite never
    /// does), so the referenced rows are looked up after it, in this
    /// transaction, which PostgreSQL allows only once back at the savepoint.
    async fn savepoint(&self) -> ApiResult<Transaction> {
        self.tx.begin().await.map_err(ApiError::internal)
    }

    /// The error of a write that failed after `savepoint`, located.
    async fn located<M: Model>(
        &self,
        savepoint: Transaction,
        written: &M::ActiveModel,
        error: DbErr,
    ) -> ApiError {
        if let Err(rollback) = savepoint.rollback().await {
            return ApiError::internal(rollback);
        }
        constraint::write_error::<M>(&self.tx, Some(written), error).await
    }

    /// Applies `apply` (`M::replace_with` for PUT, `M::patch_with` for
    /// PATCH) to `row` with `input` and saves it.
    pub async fn change<M: Model, T>(
        &self,
        row: Row<M>,
        input: T,
        apply: fn(&mut M::ActiveModel, T),
    ) -> ApiResult<Row<M>> {
        let mut active: M::ActiveModel = row.clone().into_active_model();
        apply(&mut active, input);
        self.update::<M>(row, active).await
    }

    /// Deletes the rows of `M` with these primary keys; how many went. A
    /// row still referenced through `on_delete = "restrict"` refuses with 409.
    ///
    /// Records a `delete` event for each of these rows, and for what the
    /// database does to the rows of `models` as a consequence: a `delete`
    /// for each row it deletes by `on_delete = "cascade"` (with its last
    /// representation) and an `update` for each row whose foreign key it
    /// sets to NULL by `on_delete = "set_null"` (with the new one). Pass
    /// the app's registry, [`AppState::models`](crate::state::AppState::models):
    /// rows of models not in `models` (internal tables such as tokens and
    /// sessions are not) change without events.
    pub async fn delete<M: Model>(&self, models: &Models, keys: Vec<Value>) -> ApiResult<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let doomed = self
            .doomed::<M>(M::primary_key_column().is_in(keys))
            .await?;
        self.delete_rows::<M>(models, doomed).await
    }

    /// Deletes the row of `M` with primary key `key`, recording what
    /// [`UnitOfWork::delete`] records.
    pub async fn delete_key<M: Model>(&self, models: &Models, key: M::Key) -> ApiResult<u64> {
        let mut doomed = Vec::new();
        let row = M::Entity::find_by_id(key).lock_exclusive().one(&self.tx);
        if let Some(row) = row.await.map_err(|error| db_error(M::meta(), error))? {
            doomed.push(row);
        }
        self.delete_rows::<M>(models, doomed).await
    }

    /// The rows of `M` matching `condition`, read before their delete (its
    /// event carries each row as it was last) and, on PostgreSQL, locked
    /// (`FOR UPDATE`) so no other transaction references them anew before
    /// the delete; on SQLite `BEGIN IMMEDIATE` already keeps other writers out.
    async fn doomed<M: Model>(
        &self,
        condition: sea_orm::sea_query::SimpleExpr,
    ) -> ApiResult<Vec<Row<M>>> {
        M::Entity::find()
            .filter(condition)
            .lock_exclusive()
            .all(&self.tx)
            .await
            .map_err(|error| db_error(M::meta(), error))
    }

    /// Deletes `doomed`, queuing the events [`UnitOfWork::delete`] describes.
    async fn delete_rows<M: Model>(&self, models: &Models, doomed: Vec<Row<M>>) -> ApiResult<u64> {
        if doomed.is_empty() {
            return Ok(0);
        }
        let meta = M::meta();
        let pk = M::primary_key_column();
        let keys: Vec<Value> = doomed.iter().map(|row| row.get(pk)).collect();
        let pks: Vec<String> = doomed.iter().map(|row| key_text::<M>(&pk, row)).collect();
        // What the database will delete or set to NULL is read before it
        // does, in this transaction: afterwards the deleted rows are gone.
        let found = cascade::consequences(&self.tx, models.all(), meta, &pks)
            .await
            .map_err(|error| db_error(meta, error))?;
        let rows = M::Entity::delete_many().filter(pk.is_in(keys));
        let count = deleted::<M>(rows.exec(&self.tx).await)?;
        for row in &doomed {
            self.changed::<M>(ChangeAction::Delete, row)?;
        }
        for (related, row) in found.deleted {
            self.queue(related, ChangeAction::Delete, row);
        }
        for (related, pks) in found.nulled {
            let related_meta = related.meta();
            let Some(pk_field) = related_meta.field(related_meta.primary_key) else {
                continue;
            };
            let keys = pks
                .iter()
                .filter_map(|pk| crate::query::parse_value(pk_field, pk).ok())
                .collect();
            let after = related
                .read_where(&self.tx, pk_field, keys)
                .await
                .map_err(|error| db_error(related_meta, error))?;
            for row in after {
                self.queue(related_meta, ChangeAction::Update, row);
            }
        }
        Ok(count)
    }
}

/// `row` with the values `active` sets that differ from it: what an
/// update really changes.
fn differences<M: Model>(row: &Row<M>, active: &M::ActiveModel) -> M::ActiveModel {
    let mut changes: M::ActiveModel = row.clone().into_active_model();
    for column in Col::<M>::iter() {
        if let sea_orm::ActiveValue::Set(value) = active.get(column) {
            changes.set_if_not_equals(column, value);
        }
    }
    changes
}

/// Which statement [`UnitOfWork::save`] runs.
#[derive(Clone, Copy)]
enum Save {
    /// `INSERT`.
    Insert,
    /// `UPDATE` of the changed columns.
    Update,
}

impl Save {
    async fn run<M: Model>(
        self,
        active: M::ActiveModel,
        tx: &Transaction,
    ) -> Result<Row<M>, DbErr> {
        match self {
            Save::Insert => active.insert(tx).await,
            Save::Update => active.update(tx).await,
        }
    }
}

/// How many rows a delete of `M` removed, or why it could not.
fn deleted<M: Model>(result: Result<sea_orm::DeleteResult, DbErr>) -> ApiResult<u64> {
    match result {
        Ok(result) => Ok(result.rows_affected),
        Err(error)
            if matches!(
                constraint_violation(&error),
                Some(SqlErr::ForeignKeyConstraintViolation(_))
            ) =>
        {
            Err(constraint::protected(M::meta()))
        }
        Err(error) => Err(db_error(M::meta(), error)),
    }
}

/// The `#[field(write_perm = ...)]` fields a write of `active` really
/// changes, with the action whose permission each needs: on create
/// (`before` is `None`) a value other than the field's default, on update
/// a value other than the stored one. Resending a value unchanged is no
/// change, so it needs no permission.
pub fn guarded_changes<M: Model>(
    active: &M::ActiveModel,
    before: Option<&Row<M>>,
) -> Vec<(&'static FieldMeta, Action)> {
    let mut guarded = Vec::new();
    for field in M::meta().fields {
        let Some(action) = field.write_perm else {
            continue;
        };
        let Ok(column) = column::<M>(field.name) else {
            continue;
        };
        let sea_orm::ActiveValue::Set(value) = active.get(column) else {
            continue;
        };
        let unchanged = match before {
            Some(row) => row.get(column) == value,
            None => is_default(field, &value),
        };
        if !unchanged {
            guarded.push((field, action));
        }
    }
    guarded
}

/// Whether `value` is what a create leaves `field` at when not given: its
/// `default`, or NULL for a nullable field without one.
fn is_default(field: &FieldMeta, value: &Value) -> bool {
    let json = sea_orm::sea_query::value::sea_value_to_json_value(value);
    match field.default {
        Some(FieldDefault::Bool(b)) => json == JsonValue::Bool(b),
        Some(FieldDefault::Int(n)) => json.as_f64() == Some(n as f64),
        Some(FieldDefault::Float(x)) => json.as_f64() == Some(x),
        Some(FieldDefault::Str(s)) => json.as_str() == Some(s),
        Some(FieldDefault::Choice(choice)) => json.as_str() == Some(choice()),
        None => field.nullable && JsonValue::is_null(&json),
    }
}

/// The primary key of `row` as text, as in URLs.
fn key_text<M: Model>(pk: &Col<M>, row: &Row<M>) -> String {
    crate::query::value_text(&row.get(*pk))
}
