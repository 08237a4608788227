//! The change log: one row per created, updated or deleted model row,
//! written by the write layer in the same transaction as the change
//! ([`record`], called when a unit of work of the write layer commits),
//! and read by a cursor ([`read_since`]) that hands events out in commit
//! order.
//!
//! # Commit order
//! A cursor is the log row's id. Ids alone are not commit order when two
//! transactions write at once: one can take id 7, the other id 8 and commit
//! first, and a reader that saw 8 would skip 7 when it commits (the classic
//! `id > last_seen` trap). So events are inserted last, just before
//! `COMMIT`, under a lock held until the commit: on SQLite the write lock
//! every unit of work of the write layer takes with `BEGIN
//! IMMEDIATE`, on PostgreSQL a transaction-level advisory lock
//! ([`ORDER_LOCK`]), on MySQL / MariaDB the row lock of the one row of
//! [`ChangeOrder`] (MySQL's advisory locks, `GET_LOCK`, belong to the
//! session, which outlives the transaction in the pool; a row lock is
//! released by the commit itself). Ids are then taken in commit order,
//! and a reader that sees id `n` has already seen, or will never see,
//! every id below it.
//!
//! # Waking readers
//! A commit with events wakes the readers of its own process at once (the
//! [`ChangeSignal`] of the pool). On PostgreSQL it also sends one
//! `NOTIFY` ([`CHANNEL`]) that other instances' listeners ([`subscribe`])
//! turn into the same wake-up. Wake-ups are only hints: the events are read
//! from the log, and readers poll it anyway every [`POLL_INTERVAL`], so a
//! lost notification delays an event but never loses it. SQLite and MySQL
//! have no notifications: other processes' commits are read by that poll.
//!
//! # Retention
//! [`prune`] deletes events older than the retention, keeping the newest
//! pruned one as a marker row (action `pruned`): a cursor older than the
//! marker can no longer be resumed without a gap, and [`read_since`]
//! answers [`Read::Expired`] for it rather than skipping silently.

mod hub;

use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::prelude::DateTimeUtc;
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, TransactionTrait,
};
use serde::Serialize;
use serde_json::Value as JsonValue;

use crate::Model;
use crate::db::{ChangeSignal, Connection, Transaction};
use crate::model::ModelMeta;

pub use hub::{Batch, Hub, Logged, next_batch};

/// The PostgreSQL channel a commit with events notifies.
pub const CHANNEL: &str = "ferrobridge_changes";

/// The key of the PostgreSQL advisory lock that puts event ids in commit order.
pub const ORDER_LOCK: i64 = 0x6665_7272_6f63_6867; // "ferrochg"

/// How often a waiting reader looks at the log without a wake-up: the
/// longest a lost notification (or a write by another process on SQLite)
/// delays an event.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// One row of the change log (`ferrobridge_change`). Not served by the
/// API: the change feed reads it, filtered by each reader's permissions.
#[derive(Model, Clone, Debug, PartialEq)]
#[model(app = "feed", table = "ferrobridge_change", plural = "changes")]
#[admin(hidden)]
pub struct Change {
    /// The cursor: ids are taken in commit order (see the module docs).
    #[field(primary_key)]
    pub id: i64,
    /// The changed row's model, as `app_label.model_name`.
    #[field(max_length = 200, index)]
    pub model: String,
    /// The changed row's primary key, as text (as in URLs).
    #[field(max_length = 255)]
    pub pk: String,
    /// `create`, `update`, `delete`, or `pruned` for the retention marker.
    #[field(max_length = 10)]
    pub action: String,
    /// The row's `Read` representation after the change (for a delete,
    /// the last one), as JSON.
    #[field(text)]
    pub data: String,
    /// The row's owner (`#[api(owner)]`), for `own_rows_only` readers.
    pub owner_id: Option<i64>,
    /// Who made the change (none for the CLI or an anonymous writer).
    pub user_id: Option<i32>,
    /// When it was committed.
    #[field(index)]
    pub created_at: DateTimeUtc,
}

/// The one row (id [`ORDER_ROW`]) whose lock orders event ids by commit
/// on MySQL / MariaDB (see the module docs): [`record`] locks it before
/// inserting events and the commit releases it. The table exists on every
/// backend, so the migrations do not depend on it; only MySQL writes it.
#[derive(Model, Clone, Debug, PartialEq)]
#[model(
    app = "feed",
    table = "ferrobridge_change_order",
    plural = "change_orders"
)]
#[admin(hidden)]
pub struct ChangeOrder {
    /// Always [`ORDER_ROW`].
    #[field(primary_key)]
    pub id: i32,
}

/// The id of [`ChangeOrder`]'s row.
pub const ORDER_ROW: i32 = 1;

/// What happened to a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeAction {
    /// The row was created.
    Create,
    /// The row was changed.
    Update,
    /// The row was deleted (the event carries its last representation).
    Delete,
}

impl ChangeAction {
    /// The name stored in the log and sent to clients.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Create => "create",
            ChangeAction::Update => "update",
            ChangeAction::Delete => "delete",
        }
    }

    fn parse(stored: &str) -> Option<ChangeAction> {
        match stored {
            "create" => Some(ChangeAction::Create),
            "update" => Some(ChangeAction::Update),
            "delete" => Some(ChangeAction::Delete),
            _ => None,
        }
    }
}

/// The action of the retention marker row.
const PRUNED: &str = "pruned";

/// `app_label.model_name`: how the log names a model.
pub fn model_label(meta: &ModelMeta) -> String {
    format!("{}.{}", meta.app_label, meta.model_name)
}

/// A change made in a transaction, written at its commit by [`record`].
#[derive(Clone, Debug)]
pub struct PendingChange {
    /// The model.
    pub meta: &'static ModelMeta,
    /// The row's primary key, as text.
    pub pk: String,
    /// What happened.
    pub action: ChangeAction,
    /// The `Read` representation after the change (the last one for a delete).
    pub data: JsonValue,
    /// The row's owner, if the model has one.
    pub owner: Option<i64>,
    /// Who made the change.
    pub user: Option<i32>,
}

/// Writes `pending` to the log in `tx`, as the last statements before its
/// commit: under the lock that orders ids by commit (see the module docs),
/// with one `NOTIFY` on PostgreSQL (delivered by the server at commit, and
/// only if it commits).
pub async fn record(tx: &Transaction, pending: Vec<PendingChange>) -> Result<(), DbErr> {
    if pending.is_empty() {
        return Ok(());
    }
    let backend = tx.get_database_backend();
    lock_order(tx).await?;
    let now = Utc::now();
    if let [change] = pending.as_slice() {
        // The one event of most writes: its INSERT is kept, not rebuilt.
        let values = vec![
            model_label(change.meta).into(),
            change.pk.clone().into(),
            change.action.as_str().into(),
            change.data.to_string().into(),
            change.owner.into(),
            change.user.into(),
            now.into(),
        ];
        let sql = one_insert_sql(backend);
        tx.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    } else {
        insert_events(tx, pending, now).await?;
    }
    if backend == DbBackend::Postgres {
        tx.execute_raw(Statement::from_sql_and_values(
            backend,
            "SELECT pg_notify($1, '')",
            [CHANNEL.into()],
        ))
        .await?;
    }
    Ok(())
}

/// The columns of one event's INSERT, in the order [`record`] binds them.
const EVENT_COLUMNS: [change::Column; 7] = [
    change::Column::Model,
    change::Column::Pk,
    change::Column::Action,
    change::Column::Data,
    change::Column::OwnerId,
    change::Column::UserId,
    change::Column::CreatedAt,
];

/// The SQL (built by sea-query, once per backend) inserting one event,
/// its values bound in [`EVENT_COLUMNS`]' order.
fn one_insert_sql(backend: DbBackend) -> String {
    static KEPT: [std::sync::OnceLock<String>; 3] = [const { std::sync::OnceLock::new() }; 3];
    let build = || {
        let mut insert = Query::insert();
        insert
            .into_table(change::Entity)
            .columns(EVENT_COLUMNS)
            .values_panic([
                String::new().into(),
                String::new().into(),
                String::new().into(),
                String::new().into(),
                None::<i64>.into(),
                None::<i32>.into(),
                Utc::now().into(),
            ]);
        backend.build(&insert).sql
    };
    let slot = match backend {
        DbBackend::MySql => 0,
        DbBackend::Postgres => 1,
        DbBackend::Sqlite => 2,
        // A backend added to SeaORM later: built every time, still right.
        #[allow(unreachable_patterns)]
        _ => return build(),
    };
    KEPT[slot].get_or_init(build).clone()
}

/// Inserts several events in one statement, in their order.
async fn insert_events(
    tx: &Transaction,
    pending: Vec<PendingChange>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let rows = pending.into_iter().map(|change| change::ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        model: sea_orm::ActiveValue::Set(model_label(change.meta)),
        pk: sea_orm::ActiveValue::Set(change.pk),
        action: sea_orm::ActiveValue::Set(change.action.as_str().to_owned()),
        data: sea_orm::ActiveValue::Set(change.data.to_string()),
        owner_id: sea_orm::ActiveValue::Set(change.owner),
        user_id: sea_orm::ActiveValue::Set(change.user),
        created_at: sea_orm::ActiveValue::Set(now),
    });
    change::Entity::insert_many(rows)
        .exec_without_returning(tx)
        .await?;
    Ok(())
}

/// Takes the lock that orders event ids by commit, held until `tx` ends
/// (see the module docs); on SQLite the unit of work's write lock is it.
///
/// On MySQL an upsert of [`ChangeOrder`]'s row: on the existing row it
/// takes the exclusive record lock at once (a plain `SELECT ... FOR
/// UPDATE` would need the row to exist, and `INSERT IGNORE` takes a shared
/// lock first, which two writers could both hold and then deadlock
/// upgrading), and the first writer ever creates the row, the others
/// waiting on its key. The lock is taken before the events' insert, so a
/// writer never waits for it while holding a lock on the log.
async fn lock_order<C: ConnectionTrait>(tx: &C) -> Result<(), DbErr> {
    let backend = tx.get_database_backend();
    match backend {
        DbBackend::Postgres => {
            tx.execute_raw(Statement::from_sql_and_values(
                backend,
                "SELECT pg_advisory_xact_lock($1)",
                [ORDER_LOCK.into()],
            ))
            .await?;
        }
        DbBackend::MySql => {
            let mut upsert = Query::insert();
            upsert
                .into_table(change_order::Entity)
                .columns([change_order::Column::Id])
                .values_panic([ORDER_ROW.into()])
                .on_conflict(
                    OnConflict::column(change_order::Column::Id)
                        .update_column(change_order::Column::Id)
                        .to_owned(),
                );
            tx.execute(&upsert).await?;
        }
        _ => {}
    }
    Ok(())
}

/// One event of the feed, as clients receive it.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ChangeEvent {
    /// Resume after this event with `since=` / `Last-Event-ID`.
    pub cursor: String,
    /// The model, as `app_label.model_name`.
    pub model: String,
    /// The row's primary key, as text (as in URLs).
    pub pk: String,
    /// What happened to the row.
    pub action: ChangeAction,
    /// The row as the API reads it after the change; for a delete, as it
    /// was last.
    pub data: JsonValue,
    /// The id of the user who made the change, if any.
    pub user: Option<i32>,
    /// When the change was committed.
    pub at: DateTime<Utc>,
    /// The row's owner, for the readers' row policy (not sent).
    #[serde(skip)]
    #[schemars(skip)]
    pub owner: Option<i64>,
}

impl ChangeEvent {
    /// The event's cursor as a number.
    pub fn id(&self) -> i64 {
        self.cursor.parse().unwrap_or_default()
    }
}

/// What [`read_since`] found after a cursor.
#[derive(Clone, Debug, PartialEq)]
pub enum Read {
    /// The events after the cursor, oldest first (possibly none), and the
    /// cursor to read on from: the last event's, or the one asked for.
    Events {
        /// The events.
        events: Vec<ChangeEvent>,
        /// Where the next read starts.
        cursor: i64,
    },
    /// The cursor is older than the retained window (or newer than any
    /// event): events after it are gone. Resume from `oldest`, after a reset.
    Expired {
        /// The oldest cursor that can still be resumed without a gap.
        oldest: i64,
    },
}

/// The newest cursor in the log (0 for an empty log): where a reader that
/// starts "from now" begins.
pub async fn latest(db: &Connection) -> Result<i64, DbErr> {
    let newest = change::Entity::find()
        .select_only()
        .column_as(change::Column::Id.max(), "newest")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?;
    Ok(newest.flatten().unwrap_or(0))
}

/// The oldest cursor that can be resumed without a gap: the retention
/// marker's, or 0 when nothing was ever pruned. The marker is always the
/// log's first row ([`prune`] deletes everything before it), so this reads
/// one row by the primary key, however long the log.
pub async fn oldest(db: &Connection) -> Result<i64, DbErr> {
    let first = change::Entity::find()
        .select_only()
        .columns([change::Column::Id, change::Column::Action])
        .order_by_asc(change::Column::Id)
        .into_tuple::<(i64, String)>()
        .one(db)
        .await?;
    Ok(match first {
        Some((id, action)) if action == PRUNED => id,
        _ => 0,
    })
}

/// Up to `limit` events of the models labelled `models` after cursor
/// `since`, oldest first; [`Read::Expired`] when `since` is before the
/// retained window or after the newest event.
pub async fn read_since(
    db: &Connection,
    models: &[String],
    since: i64,
    limit: u64,
) -> Result<Read, DbErr> {
    read_after(db, Some(models), since, limit).await
}

/// [`read_since`] of every model's events.
pub async fn read_all_since(db: &Connection, since: i64, limit: u64) -> Result<Read, DbErr> {
    read_after(db, None, since, limit).await
}

async fn read_after(
    db: &Connection,
    models: Option<&[String]>,
    since: i64,
    limit: u64,
) -> Result<Read, DbErr> {
    let oldest = oldest(db).await?;
    if since < oldest {
        return Ok(Read::Expired { oldest });
    }
    let mut rows = change::Entity::find()
        .filter(change::Column::Id.gt(since))
        .filter(change::Column::Action.ne(PRUNED));
    if let Some(models) = models {
        rows = rows.filter(change::Column::Model.is_in(models.iter().cloned()));
    }
    let rows = rows
        .order_by_asc(change::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    if rows.is_empty() && since > 0 && since > latest(db).await? {
        return Ok(Read::Expired { oldest });
    }
    let cursor = rows.last().map_or(since, |row| row.id);
    let events = rows.into_iter().filter_map(event).collect();
    Ok(Read::Events { events, cursor })
}

/// A stored row as the event clients receive; `None` for a row this
/// version cannot read (an unknown action), which is skipped, not fatal.
fn event(row: change::Model) -> Option<ChangeEvent> {
    Some(ChangeEvent {
        cursor: row.id.to_string(),
        model: row.model,
        pk: row.pk,
        action: ChangeAction::parse(&row.action)?,
        data: serde_json::from_str(&row.data).unwrap_or(JsonValue::Null),
        user: row.user_id,
        at: row.created_at,
        owner: row.owner_id,
    })
}

/// Deletes events committed before `now - retention`, keeping the newest
/// of them as the marker that makes older cursors [`Read::Expired`]; how
/// many went. The newest event is never deleted, so ids never go back.
pub async fn prune(db: &Connection, retention: Duration) -> Result<u64, DbErr> {
    let Ok(retention) = chrono::Duration::from_std(retention) else {
        return Ok(0);
    };
    let cutoff = Utc::now() - retention;
    // One transaction: a marker without the deletes, or deletes without
    // the marker (a silent gap), must never be seen. Immediate on SQLite,
    // as every writer's, so the read below cannot go stale before the writes.
    let options = sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..sea_orm::TransactionOptions::default()
    };
    let tx = db.begin_with_options(options).await?;
    // No order lock: writers only insert after the newest event, which
    // is kept, so on MySQL this transaction's locks (rows up to the
    // marker) never meet theirs, and writers do not wait for a long prune.
    let newest = change::Entity::find()
        .select_only()
        .column_as(change::Column::Id.max(), "newest")
        .into_tuple::<Option<i64>>()
        .one(&tx)
        .await?
        .flatten()
        .unwrap_or(0);
    let marker = change::Entity::find()
        .select_only()
        .column_as(change::Column::Id.max(), "marker")
        .filter(change::Column::CreatedAt.lt(cutoff))
        .filter(change::Column::Id.lt(newest))
        .into_tuple::<Option<i64>>()
        .one(&tx)
        .await?
        .flatten();
    let Some(marker) = marker else {
        return Ok(0);
    };
    change::Entity::update_many()
        .col_expr(change::Column::Action, PRUNED.into())
        .col_expr(change::Column::Data, "null".into())
        .filter(change::Column::Id.eq(marker))
        .exec(&tx)
        .await?;
    let deleted = change::Entity::delete_many()
        .filter(change::Column::Id.lt(marker))
        .exec(&tx)
        .await?
        .rows_affected;
    tx.commit().await?;
    Ok(deleted)
}

/// A handle that wakes when events may have been committed: at once for
/// this process's commits, through `LISTEN` for other instances' on
/// PostgreSQL. Take it before reading the log, then wait on it when the
/// read found nothing, so no commit between the two is missed.
pub struct Subscription {
    receiver: tokio::sync::watch::Receiver<u64>,
}

impl Subscription {
    /// Waits until a wake-up or `timeout` (never longer than
    /// [`POLL_INTERVAL`], so a lost wake-up costs at most that).
    pub async fn wait(&mut self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout.min(POLL_INTERVAL);
        let woke = tokio::time::timeout_at(deadline, self.receiver.changed()).await;
        // The pool is gone, so no wake-up will come: a caller that reads
        // through another pool still polls at the interval rather than
        // spinning on a wait that returns at once.
        if let Ok(Err(_)) = woke {
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// Subscribes to wake-ups of `db`'s change log; on PostgreSQL the first
/// subscription starts the pool's listener (see [`listen`]).
pub fn subscribe(db: &Connection) -> Subscription {
    let signal = db.change_signal();
    // Taken before the listener can send its first wake-up, so that one is seen.
    let receiver = signal.subscribe();
    if db.get_database_backend() == DbBackend::Postgres {
        signal.start_listener(|| {
            let pool = db.inner().get_postgres_connection_pool().clone();
            tokio::spawn(listen(pool, Arc::downgrade(signal)));
        });
    }
    Subscription { receiver }
}

/// The first pause before listening again after a failure; it doubles up
/// to [`LISTEN_RETRY_MAX`] while failures last.
const LISTEN_RETRY: Duration = Duration::from_millis(100);

/// The longest pause between attempts to listen again.
const LISTEN_RETRY_MAX: Duration = Duration::from_secs(5);

/// Marks the pool's listener stopped however its task ends (returned, or
/// dropped with its runtime), so a later [`subscribe`] starts another.
struct Running(Weak<ChangeSignal>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(signal) = self.0.upgrade() {
            signal.listener_stopped();
        }
    }
}

/// Wakes the readers of `signal`; false when its pool is gone.
fn wake(signal: &Weak<ChangeSignal>) -> bool {
    match signal.upgrade() {
        Some(live) => {
            live.wake();
            true
        }
        None => false,
    }
}

/// Resolves when the signal `receiver` belongs to is dropped, that is when
/// the last [`Connection`] of its pool is.
async fn dropped(mut receiver: tokio::sync::watch::Receiver<u64>) {
    while receiver.changed().await.is_ok() {}
}

/// Turns notifications on [`CHANNEL`] into wake-ups of `signal` until the
/// signal's pool is dropped or closed; the listening connection is taken
/// from the pool and goes back to it then.
///
/// Every (re)connection wakes readers once, since notifications sent while
/// there was none were missed: when the connection is lost (a restarted
/// server, a terminated backend) sqlx's listener connects again and listens
/// again at once; when that fails (the server is still down) a new listener
/// is tried with a growing pause. Readers poll the log meanwhile anyway.
async fn listen(pool: sea_orm::sqlx::PgPool, signal: Weak<ChangeSignal>) {
    use sea_orm::sqlx::postgres::PgListener;
    let _running = Running(signal.clone());
    let Some(receiver) = signal.upgrade().map(|live| live.subscribe()) else {
        return;
    };
    // Dropping the pool's last `Connection` ends the task at once, and the
    // pool (which the task keeps alive) with it.
    let mut gone = std::pin::pin!(dropped(receiver));
    let mut pause = LISTEN_RETRY;
    loop {
        let connect = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        let connected = tokio::select! {
            () = &mut gone => return,
            connected = connect => connected,
        };
        let mut listener = match connected {
            Ok(listener) => listener,
            // `Connection::close` was called: nothing will be listened to again.
            Err(_) if pool.is_closed() => return,
            Err(error) => {
                tracing::warn!(%error, "change feed: cannot listen, retrying");
                tokio::select! {
                    () = &mut gone => return,
                    () = tokio::time::sleep(pause) => {}
                }
                pause = (pause * 2).min(LISTEN_RETRY_MAX);
                continue;
            }
        };
        pause = LISTEN_RETRY;
        if !wake(&signal) {
            return;
        }
        loop {
            let received = tokio::select! {
                () = &mut gone => return,
                received = listener.try_recv() => received,
            };
            match received {
                // A notification, or (`None`) a lost connection that sqlx
                // has replaced and listens on again: either way, wake.
                Ok(_) => {}
                Err(_) if pool.is_closed() => return,
                // The connection was lost and could not be replaced yet.
                Err(error) => {
                    tracing::warn!(%error, "change feed: listening connection lost, reconnecting");
                    break;
                }
            }
            if !wake(&signal) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kept INSERT is the one sea-query builds for any event: its text
    /// does not depend on the values, nulls or not.
    #[test]
    fn kept_event_insert_is_what_sea_query_builds() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres, DbBackend::MySql] {
            let mut insert = Query::insert();
            insert
                .into_table(change::Entity)
                .columns(EVENT_COLUMNS)
                .values_panic([
                    "blog.post".into(),
                    "7".into(),
                    "create".into(),
                    "{\"id\":7}".into(),
                    Some(3_i64).into(),
                    Some(1_i32).into(),
                    Utc::now().into(),
                ]);
            assert_eq!(one_insert_sql(backend), backend.build(&insert).sql);
            assert_eq!(one_insert_sql(backend), one_insert_sql(backend));
        }
    }
}
