//! One reader of the change log per app, shared by every client that
//! follows it (the feed's long-polls and streams, the admin's change lists).
//!
//! Without it each client would read the log itself on every wake-up and
//! every safety poll: with thousands of idle SSE clients that is thousands
//! of queries a second before anything changes, and one more per client
//! per commit. The [`Hub`] reads the log once per wake-up (and once per
//! [`POLL_INTERVAL`](super::POLL_INTERVAL)) and keeps the newest
//! events in memory, each serialized once; clients read from memory and
//! wait on the hub's head. A client whose cursor is older than what the hub
//! holds (a reconnect after a while, a long-poll from yesterday's cursor)
//! reads the log directly until it catches up.

use std::collections::VecDeque;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use tokio::sync::watch;

use super::{ChangeEvent, Read};
use crate::db::Connection;
use crate::state::AppState;

/// Events kept in memory; a client further behind reads the log.
const KEPT: usize = 10_000;
/// Log rows the hub reads at once.
const BATCH: u64 = 1_000;

/// An event as the hub keeps it: the event and its JSON, made once for
/// every client.
#[derive(Debug)]
pub struct Logged {
    /// The event.
    pub event: ChangeEvent,
    /// `event` serialized, as an SSE `data:` line carries it.
    pub json: String,
    id: i64,
}

impl Logged {
    /// `event`, serialized.
    pub fn new(event: ChangeEvent) -> Arc<Logged> {
        let id = event.id();
        let json = serde_json::to_string(&event).unwrap_or_default();
        Arc::new(Logged { event, json, id })
    }
}

#[derive(Debug)]
struct Window {
    /// Every event with an id in `(start, head]`, oldest first.
    events: VecDeque<Arc<Logged>>,
    start: i64,
    head: i64,
}

impl Default for Window {
    /// Before the hub's first read every cursor is behind it.
    fn default() -> Self {
        Window {
            events: VecDeque::new(),
            start: i64::MAX,
            head: i64::MAX,
        }
    }
}

/// The app's shared reader of the change log (see the [module docs](self)),
/// installed in the state when the router is built; its task starts with
/// the first client.
#[derive(Debug)]
pub struct Hub {
    db: Connection,
    window: RwLock<Window>,
    /// The head, once the hub has read the log: clients wait on it.
    head: watch::Sender<Option<i64>>,
    started: std::sync::Once,
}

/// What [`Hub::read`] found.
enum HubRead {
    /// Events of the model after the cursor (possibly none) and the cursor
    /// to read on from.
    Events(Vec<Arc<Logged>>, i64),
    /// The cursor is outside the hub's window: read the log.
    Behind,
}

impl Hub {
    /// A hub over `db`'s change log.
    pub fn new(db: Connection) -> Self {
        Hub {
            db,
            window: RwLock::default(),
            head: watch::Sender::new(None),
            started: std::sync::Once::new(),
        }
    }

    /// The hub of `state`'s app, its task started; one is made for a
    /// state built without the app's router.
    pub fn of(state: &AppState) -> Arc<Hub> {
        let hub = match state.layer::<Arc<Hub>>() {
            Some(hub) => hub.clone(),
            None => Arc::new(Hub::new(state.db.clone())),
        };
        hub.started.call_once(|| {
            tokio::spawn(run(hub.db.clone(), Arc::downgrade(&hub)));
        });
        hub
    }

    /// A receiver that sees the head move.
    pub fn watch(&self) -> watch::Receiver<Option<i64>> {
        self.head.subscribe()
    }

    /// Up to `limit` events labelled `label` after `cursor`, from memory.
    fn read(&self, label: &str, cursor: i64, limit: usize) -> HubRead {
        let window = self.window.read().unwrap_or_else(|e| e.into_inner());
        // Past the head is the log's to judge too: a commit the hub has not
        // read yet, or a cursor no log ever handed out (410).
        if cursor < window.start || cursor > window.head {
            return HubRead::Behind;
        }
        let first = window.events.partition_point(|logged| logged.id <= cursor);
        let mut found = Vec::new();
        let mut next = window.head.max(cursor);
        for logged in window.events.range(first..) {
            if logged.event.model == label {
                found.push(logged.clone());
                if found.len() == limit {
                    next = logged.id;
                    break;
                }
            }
        }
        HubRead::Events(found, next)
    }

    /// The oldest cursor the hub answers from memory.
    fn start(&self) -> i64 {
        self.window.read().unwrap_or_else(|e| e.into_inner()).start
    }

    fn append(&self, events: Vec<ChangeEvent>, head: i64) {
        let mut window = self.window.write().unwrap_or_else(|e| e.into_inner());
        window.events.extend(events.into_iter().map(Logged::new));
        while window.events.len() > KEPT {
            if let Some(old) = window.events.pop_front() {
                window.start = old.id;
            }
        }
        window.head = head;
        drop(window);
        self.head.send_replace(Some(head));
    }

    /// Starts the window afresh at `head` (the first read, or after the
    /// log was pruned past the hub).
    fn reset(&self, head: i64) {
        let mut window = self.window.write().unwrap_or_else(|e| e.into_inner());
        *window = Window {
            events: VecDeque::new(),
            start: head,
            head,
        };
        drop(window);
        self.head.send_replace(Some(head));
    }
}

/// The hub's task: reads the log after its head whenever events may have
/// been committed, until the hub is dropped. Errors (the database away)
/// are logged and retried at the poll interval; clients keep waiting.
async fn run(db: Connection, hub: Weak<Hub>) {
    let mut wake = super::subscribe(&db);
    let mut head = None;
    loop {
        let Some(live) = hub.upgrade() else {
            return;
        };
        let more = match head {
            None => match super::latest(&db).await {
                Ok(latest) => {
                    live.reset(latest);
                    head = Some(latest);
                    false
                }
                Err(error) => {
                    tracing::warn!(%error, "change feed: cannot read the change log");
                    false
                }
            },
            Some(from) => match super::read_all_since(&db, from, BATCH).await {
                Ok(Read::Events { events, cursor }) if cursor > from => {
                    let full = events.len() as u64 == BATCH;
                    live.append(events, cursor);
                    head = Some(cursor);
                    full
                }
                Ok(Read::Events { .. }) => false,
                Ok(Read::Expired { .. }) => {
                    head = None;
                    true
                }
                Err(error) => {
                    tracing::warn!(%error, "change feed: cannot read the change log");
                    false
                }
            },
        };
        drop(live);
        if !more {
            wake.wait(Duration::from_secs(1)).await;
        }
    }
}

/// What [`next_batch`] found after a cursor.
pub enum Batch {
    /// Events of the model (possibly none) and the cursor to read on from.
    Events(Vec<Arc<Logged>>, i64),
    /// The cursor is older than the retained window: resume from `oldest`.
    Expired(i64),
}

/// Up to `limit` events labelled `label` after `cursor`: from the hub's
/// memory, or from the log while the cursor is older than the hub's window.
pub async fn next_batch(
    hub: &Hub,
    db: &Connection,
    label: &str,
    cursor: i64,
    limit: u64,
) -> Result<Batch, sea_orm::DbErr> {
    let limit_len = usize::try_from(limit).unwrap_or(usize::MAX);
    if let HubRead::Events(events, next) = hub.read(label, cursor, limit_len) {
        return Ok(Batch::Events(events, next));
    }
    // Read after the window's start was: the log then holds every event
    // up to it, so a batch that is not full has caught up with the hub.
    let start = hub.start();
    let labels = [label.to_owned()];
    Ok(match super::read_since(db, &labels, cursor, limit).await? {
        Read::Expired { oldest } => Batch::Expired(oldest),
        Read::Events {
            events,
            cursor: next,
        } => {
            let caught_up = (events.len() as u64) < limit && start != i64::MAX;
            let next = if caught_up { next.max(start) } else { next };
            Batch::Events(events.into_iter().map(Logged::new).collect(), next)
        }
    })
}
