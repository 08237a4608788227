//! The change log's guarantees, below HTTP (`changes::read_since`,
//! `changes::subscribe`, and the write path's `UnitOfWork`): events are
//! read in commit order even when transactions commit out of the order they
//! began in; a rolled-back unit of work leaves none; pruning turns old
//! cursors into `Read::Expired`; on PostgreSQL a commit on one instance
//! wakes readers on the others through NOTIFY within 200 ms, and without
//! NOTIFY they still read it within the safety poll; a restarted
//! PostgreSQL (a private cluster, never the shared server) and an instance
//! killed with SIGKILL lose and duplicate nothing for a reader resuming
//! from its cursor.
//!
//! Every wait is bounded ([`PATIENCE`]).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use ferrobridge::__private::sea_orm::{
    ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait, Statement, TransactionTrait,
};
use ferrobridge::changes::{self, ChangeAction, ChangeEvent, Read};
use ferrobridge::db::{Connection, PoolSettings};
use ferrobridge::write::UnitOfWork;
use ferrobridge_tests::{Backend, PrivatePostgres, TestDb, db_tests};
use serde_json::json;

use crate::faults::{Server, client, prepare};

/// The longest any one step may take before the test fails rather than hangs.
const PATIENCE: Duration = Duration::from_secs(30);

/// How soon a commit on one instance must reach a reader on another (issue #16).
const CROSS_INSTANCE: Duration = Duration::from_millis(200);

/// The labels of the models these tests write.
fn labels() -> Vec<String> {
    vec![changes::model_label(
        <blog::Author as ferrobridge::Model>::meta(),
    )]
}

/// A new author named `name`, for `UnitOfWork::create`.
fn author(name: &str) -> blog::author::ActiveModel {
    blog::author::ActiveModel {
        name: Set(name.to_owned()),
        email: Set(None),
        ..Default::default()
    }
}

/// Creates author `name` in its own unit of work on `db`.
async fn write(db: &Connection, name: &str) {
    let work = UnitOfWork::begin(db).await.expect("begin");
    work.create::<blog::Author>(author(name), None)
        .await
        .expect("create");
    work.commit().await.expect("commit");
}

/// The author's name an event carries.
fn name(event: &ChangeEvent) -> String {
    event.data["name"].as_str().unwrap_or_default().to_owned()
}

/// Reads the log after `cursor` as a feed client does (subscribe, read,
/// wait when empty) until `want` events came or `within` passed; answers
/// the events and the cursor to resume from.
async fn follow(
    db: &Connection,
    cursor: i64,
    want: usize,
    within: Duration,
) -> (Vec<ChangeEvent>, i64) {
    let mut subscription = changes::subscribe(db);
    let (mut seen, mut cursor) = (Vec::new(), cursor);
    let deadline = Instant::now() + within;
    loop {
        match changes::read_since(db, &labels(), cursor, 100)
            .await
            .expect("read the log")
        {
            Read::Events {
                events,
                cursor: next,
            } => {
                assert!(
                    next >= cursor,
                    "the cursor went back from {cursor} to {next}"
                );
                cursor = next;
                seen.extend(events);
            }
            Read::Expired { oldest } => panic!("cursor {cursor} expired (oldest {oldest})"),
        }
        if seen.len() >= want || Instant::now() >= deadline {
            return (seen, cursor);
        }
        subscription
            .wait(deadline.saturating_duration_since(Instant::now()))
            .await;
    }
}

/// Asserts the cursors of `events` strictly increase (so none is repeated).
fn assert_increasing(events: &[ChangeEvent]) {
    for pair in events.windows(2) {
        assert!(
            pair[0].id() < pair[1].id(),
            "cursors out of order: {} then {}",
            pair[0].cursor,
            pair[1].cursor
        );
    }
}

/// Runs `step`, failing the test rather than hanging when it blocks.
async fn bounded<T>(what: &str, step: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, step)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {PATIENCE:?}"))
}

/// The classic `id > last_seen` trap on PostgreSQL and MySQL (on SQLite
/// T2 could not begin while T1 is open): see [`out_of_order_commits`].
#[tokio::test]
async fn out_of_order_commits_are_read_in_commit_order() {
    for backend in [Backend::Postgres, Backend::Mysql] {
        ferrobridge_tests::run_on(backend, |db| Box::pin(out_of_order_commits(db))).await;
    }
}

/// T1 begins and creates a row, T2 begins, creates and commits while T1 is
/// still open, and a reader following the log sees T2's event; then T1
/// commits and the reader, going on from the cursor after T2's event, sees
/// T1's too. Every event exactly once, cursors increasing. Were events
/// inserted at write time, T1's would hold the smaller id, below the
/// reader's cursor by the time it commits, and the second read would time
/// out without it.
async fn out_of_order_commits(db: &TestDb) {
    blog::app().create_tables(&db.db).await.expect("tables");
    let start = changes::latest(&db.db).await.expect("latest");

    let t1 = UnitOfWork::begin(&db.db).await.expect("begin T1");
    bounded("T1's create", t1.create::<blog::Author>(author("T1"), None))
        .await
        .expect("T1 creates");
    let t2 = UnitOfWork::begin(&db.db).await.expect("begin T2");
    bounded("T2's create", t2.create::<blog::Author>(author("T2"), None))
        .await
        .expect("T2 creates");
    bounded("T2's commit while T1 is open", t2.commit())
        .await
        .expect("T2 commits");

    let (first, cursor) = follow(&db.db, start, 1, PATIENCE).await;
    let names: Vec<_> = first.iter().map(name).collect();
    assert_eq!(names, ["T2"], "the reader sees T2's commit at once");

    bounded("T1's commit", t1.commit())
        .await
        .expect("T1 commits");
    let (second, end) = follow(&db.db, cursor, 1, Duration::from_secs(5)).await;
    let names: Vec<_> = second.iter().map(name).collect();
    assert_eq!(
        names,
        ["T1"],
        "T1 committed after the reader passed T2's cursor {cursor}: its event must still come"
    );
    assert!(end > cursor);

    // Nothing more, and the whole log read again is the same two, once each.
    let (rest, _) = follow(&db.db, end, 1, Duration::from_millis(300)).await;
    assert!(rest.is_empty(), "repeated or extra events: {rest:?}");
    let (all, _) = follow(&db.db, start, 2, PATIENCE).await;
    assert_eq!(all.iter().map(name).collect::<Vec<_>>(), ["T2", "T1"]);
    assert_increasing(&all);
}

/// SQLite, three pools on one file (two writers and a reader, as three
/// processes would be): the second writer's `BEGIN IMMEDIATE` waits until
/// the first commits, so their events are in the log in commit order, and
/// the reader (not blocked by either, thanks to WAL) sees both in order.
#[tokio::test]
async fn sqlite_writers_take_turns_and_are_read_in_order() {
    let Some(db) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    blog::app().create_tables(&db.db).await.expect("tables");
    let first = ferrobridge::db::connect(&db.url).await.expect("pool 1");
    let second = ferrobridge::db::connect(&db.url).await.expect("pool 2");
    let start = changes::latest(&db.db).await.expect("latest");

    let t1 = UnitOfWork::begin(&first).await.expect("begin T1");
    t1.create::<blog::Author>(author("T1"), None)
        .await
        .expect("T1 creates");
    let began = Arc::new(Mutex::new(None::<Instant>));
    let t2 = tokio::spawn({
        let (second, began) = (second.clone(), began.clone());
        async move {
            let t2 = UnitOfWork::begin(&second).await.expect("begin T2");
            *began.lock().expect("began") = Some(Instant::now());
            t2.create::<blog::Author>(author("T2"), None)
                .await
                .expect("T2 creates");
            t2.commit().await.expect("T2 commits");
        }
    });
    // T1 holds the write lock: T2 cannot even begin, and the reader sees nothing yet.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        began.lock().expect("began").is_none(),
        "T2 began while T1 held the write lock"
    );
    let (early, _) = follow(&db.db, start, 1, Duration::from_millis(100)).await;
    assert!(early.is_empty(), "uncommitted events read: {early:?}");
    let committed = Instant::now();
    t1.commit().await.expect("T1 commits");
    bounded("T2", t2).await.expect("T2's task");
    let t2_began = began.lock().expect("began").expect("T2 began");
    assert!(t2_began >= committed, "T2 began before T1 committed");

    let (events, _) = follow(&db.db, start, 2, PATIENCE).await;
    assert_eq!(events.iter().map(name).collect::<Vec<_>>(), ["T1", "T2"]);
    assert_increasing(&events);
    first.close().await.ok();
    second.close().await.ok();
    db.finish().await;
}

db_tests!(
    rolled_back_work_leaves_no_event,
    prune_keeps_the_newest_and_expires_older_cursors,
    events_being_committed_hold_back_the_next_writer,
    concurrent_writers_are_read_once_each_in_order
);

/// The lock that orders ids by commit, on every backend: a transaction
/// that has written its events holds it until it commits, so another
/// writer's events cannot take the next id and commit first (a reader that
/// passed that id would never read the first one's). T2's commit waits for
/// T1's; the log then holds T1's event before T2's, and a reader that read
/// the log while T2 waited saw neither.
async fn events_being_committed_hold_back_the_next_writer(db: &TestDb) {
    blog::app().create_tables(&db.db).await.expect("tables");
    let start = changes::latest(&db.db).await.expect("latest");
    // Each writer its own pool, as instances are (a pool of SQLite's may
    // hold one connection, which the reader needs).
    let first = ferrobridge::db::connect(&db.url).await.expect("pool 1");
    let second = ferrobridge::db::connect(&db.url).await.expect("pool 2");

    // T1: its events written, as `UnitOfWork::commit` writes them, and not committed yet.
    let t1 = first.begin().await.expect("begin T1");
    let pending = changes::PendingChange {
        meta: <blog::Author as ferrobridge::Model>::meta(),
        pk: "0".to_owned(),
        action: ChangeAction::Create,
        data: json!({ "name": "T1" }),
        owner: None,
        user: None,
    };
    bounded("T1's events", changes::record(&t1, vec![pending]))
        .await
        .expect("T1 records");
    let t2 = tokio::spawn(async move {
        write(&second, "T2").await;
        second.close().await.ok();
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !t2.is_finished(),
        "T2 committed while T1 held the order lock"
    );
    let (early, _) = follow(&db.db, start, 1, Duration::from_millis(100)).await;
    assert!(early.is_empty(), "uncommitted events read: {early:?}");
    bounded("T1's commit", t1.commit())
        .await
        .expect("T1 commits");
    bounded("T2", t2).await.expect("T2's task");
    let (events, _) = follow(&db.db, start, 2, PATIENCE).await;
    assert_eq!(events.iter().map(name).collect::<Vec<_>>(), ["T1", "T2"]);
    assert_increasing(&events);
    first.close().await.ok();
}

/// Several writers (each its own pool, as instances are) commit at once,
/// each creating authors and renaming one shared author, while a reader
/// follows the log: every write succeeds (no deadlock or lock timeout
/// between the rows' locks and the order lock), and the reader, which read
/// while they wrote, has every event once, in cursor order.
async fn concurrent_writers_are_read_once_each_in_order(db: &TestDb) {
    const WRITERS: usize = 6;
    const WRITES: usize = 8;
    blog::app().create_tables(&db.db).await.expect("tables");
    write(&db.db, "shared").await;
    let shared = blog::author::Entity::find()
        .one(&db.db)
        .await
        .expect("read")
        .expect("the shared author");
    let start = changes::latest(&db.db).await.expect("latest");
    let reader = tokio::spawn({
        let db = db.db.clone();
        async move { follow(&db, start, WRITERS * WRITES * 2, PATIENCE).await.0 }
    });
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let pool = ferrobridge::db::connect(&db.url).await.expect("pool");
        let shared = shared.clone();
        writers.push(tokio::spawn(async move {
            for n in 0..WRITES {
                let work = UnitOfWork::begin(&pool).await.expect("begin");
                work.create::<blog::Author>(author(&format!("w{w} #{n}")), None)
                    .await
                    .expect("create");
                work.change::<blog::Author, _>(
                    shared.clone(),
                    format!("shared by w{w} #{n}"),
                    |active, name: String| active.name = Set(name),
                )
                .await
                .expect("update");
                work.commit().await.expect("commit");
            }
            pool.close().await.ok();
        }));
    }
    for writer in writers {
        bounded("a writer", writer).await.expect("writer task");
    }
    let events = bounded("the reader", reader).await.expect("reader task");
    assert_eq!(events.len(), WRITERS * WRITES * 2, "{events:?}");
    assert_increasing(&events);
    let (all, _) = follow(&db.db, start, WRITERS * WRITES * 2, PATIENCE).await;
    assert_eq!(all, events, "a second reading differs");
}

/// A unit of work dropped without `commit` (a failed request) leaves
/// neither its row nor an event; a committed one with a create, an update
/// and a delete leaves three events, in that order.
async fn rolled_back_work_leaves_no_event(db: &TestDb) {
    blog::app().create_tables(&db.db).await.expect("tables");
    let start = changes::latest(&db.db).await.expect("latest");
    let work = UnitOfWork::begin(&db.db).await.expect("begin");
    work.create::<blog::Author>(author("rolled back"), None)
        .await
        .expect("create");
    drop(work);
    let (events, _) = follow(&db.db, start, 1, Duration::from_millis(300)).await;
    assert!(events.is_empty(), "a rolled-back write left {events:?}");
    let authors = blog::author::Entity::find()
        .all(&db.db)
        .await
        .expect("authors");
    assert!(authors.is_empty(), "a rolled-back write left {authors:?}");

    let work = UnitOfWork::begin(&db.db).await.expect("begin");
    let row = work
        .create::<blog::Author>(author("kept"), None)
        .await
        .expect("create");
    let row = work
        .change::<blog::Author, _>(row, "renamed", |active, name: &str| {
            active.name = Set(name.to_owned());
        })
        .await
        .expect("update");
    // Nothing references the new author: no registry is needed for cascades.
    work.delete_key::<blog::Author>(&Default::default(), row.id)
        .await
        .expect("delete");
    work.commit().await.expect("commit");
    let (events, _) = follow(&db.db, start, 3, PATIENCE).await;
    let seen: Vec<_> = events.iter().map(|e| (e.action, name(e))).collect();
    assert_eq!(
        seen,
        [
            (ChangeAction::Create, "kept".to_owned()),
            (ChangeAction::Update, "renamed".to_owned()),
            (ChangeAction::Delete, "renamed".to_owned()),
        ]
    );
    assert_increasing(&events);
}

/// `prune` with no retention deletes every event but the two newest, and
/// turns the older of those into the marker: cursors before it answer
/// `Read::Expired` naming it, resuming from it reads the newest event,
/// and the newest cursor stays (ids never go back).
async fn prune_keeps_the_newest_and_expires_older_cursors(db: &TestDb) {
    blog::app().create_tables(&db.db).await.expect("tables");
    for n in 1..=3 {
        write(&db.db, &format!("a{n}")).await;
    }
    let (events, _) = follow(&db.db, 0, 3, PATIENCE).await;
    let ids: Vec<i64> = events.iter().map(ChangeEvent::id).collect();
    assert_eq!(ids.len(), 3);
    // Timestamps are stored to the microsecond: make sure all are past.
    tokio::time::sleep(Duration::from_millis(10)).await;
    let pruned = changes::prune(&db.db, Duration::ZERO).await.expect("prune");
    assert_eq!(pruned, 1, "only the event before the marker goes");
    assert_eq!(changes::oldest(&db.db).await.expect("oldest"), ids[1]);
    assert_eq!(changes::latest(&db.db).await.expect("latest"), ids[2]);
    for stale in [0, ids[0]] {
        let read = changes::read_since(&db.db, &labels(), stale, 100)
            .await
            .expect("read");
        assert_eq!(read, Read::Expired { oldest: ids[1] }, "cursor {stale}");
    }
    let (rest, cursor) = follow(&db.db, ids[1], 1, PATIENCE).await;
    assert_eq!(rest.iter().map(name).collect::<Vec<_>>(), ["a3"]);
    assert_eq!(cursor, ids[2]);
    // Pruning again with nothing old enough but the newest changes nothing.
    assert_eq!(
        changes::prune(&db.db, Duration::from_secs(3600))
            .await
            .expect("prune"),
        0
    );
    assert_eq!(changes::oldest(&db.db).await.expect("oldest"), ids[1]);
}

/// The backends of change-log listeners on `db`'s database.
async fn listener_pids(db: &Connection) -> BTreeSet<i32> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pid FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN %'",
        ))
        .await
        .expect("pg_stat_activity");
    rows.iter()
        .map(|row| row.try_get::<i32>("", "pid").expect("pid"))
        .collect()
}

/// Waits until `db`'s database has `count` listeners other than `old`; answers them.
async fn wait_for_listeners(db: &Connection, count: usize, old: &BTreeSet<i32>) -> BTreeSet<i32> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let pids: BTreeSet<i32> = listener_pids(db).await;
        let fresh: BTreeSet<i32> = pids.difference(old).copied().collect();
        if fresh.len() >= count {
            return fresh;
        }
        assert!(
            Instant::now() < deadline,
            "{count} new listeners expected, found {pids:?} (old {old:?})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads the log on `db` after `cursor`, waiting on `subscription` when
/// empty, until the one event `who` commits is there; answers when the
/// reader had it, and the cursor after it.
async fn delivery(
    db: &Connection,
    subscription: &mut changes::Subscription,
    cursor: i64,
    who: &str,
) -> (Instant, i64) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let read = changes::read_since(db, &labels(), cursor, 100)
            .await
            .expect("read");
        let Read::Events {
            events,
            cursor: next,
        } = read
        else {
            panic!("expired: {read:?}");
        };
        if !events.is_empty() {
            assert_eq!(events.iter().map(name).collect::<Vec<_>>(), [who]);
            return (Instant::now(), next);
        }
        assert!(
            Instant::now() < deadline,
            "{who}'s event did not arrive within {PATIENCE:?}"
        );
        subscription.wait(PATIENCE).await;
    }
}

/// Commits author `who` through `db` once the readers (started with it)
/// have read the empty log and wait: a reader that is not woken then
/// sleeps through its safety poll, about [`changes::POLL_INTERVAL`] more.
/// Answers when the commit returned.
async fn write_while_they_wait(db: &Connection, who: &str) -> Instant {
    tokio::time::sleep(Duration::from_millis(50)).await;
    write(db, who).await;
    Instant::now()
}

/// Three instances (three pools) on one PostgreSQL database, each with a
/// subscribed reader: a commit through any one reaches the waiting readers
/// of the other two within 200 ms of its commit. A reader not woken would
/// sleep its safety poll (about 1 s), and the local wake-up only reaches
/// the writer's own pool: the speed is NOTIFY's. Then, with the listeners'
/// backends terminated, the next event is still read within the poll
/// interval, and once the listeners are back (by themselves) NOTIFY is
/// fast again. Last, a pool whose only connection is held can never
/// LISTEN: its reader still gets each event, by the safety poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_wakes_other_instances_and_the_poll_covers_its_loss() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    blog::app().create_tables(&db.db).await.expect("tables");
    let mut pools = Vec::new();
    for _ in 0..3 {
        pools.push(ferrobridge::db::connect(&db.url).await.expect("pool"));
    }
    let mut subscriptions: Vec<_> = pools.iter().map(changes::subscribe).collect();
    wait_for_listeners(&db.db, 3, &BTreeSet::new()).await;
    let mut cursor = changes::latest(&db.db).await.expect("latest");

    for round in 0..6 {
        let writer = round % 3;
        let who = format!("round {round}");
        let [a, b] = [(writer + 1) % 3, (writer + 2) % 3];
        let (low, high) = (a.min(b), a.max(b));
        let (left, right) = subscriptions.split_at_mut(high);
        let (sub_low, sub_high) = (&mut left[low], &mut right[0]);
        let ((got_low, next_low), (got_high, next_high), committed) = tokio::join!(
            delivery(&pools[low], sub_low, cursor, &who),
            delivery(&pools[high], sub_high, cursor, &who),
            write_while_they_wait(&pools[writer], &who),
        );
        assert_eq!(next_low, next_high);
        cursor = next_low;
        for (reader, got) in [(low, got_low), (high, got_high)] {
            let took = got.saturating_duration_since(committed);
            eprintln!("commit on instance {writer} read on {reader} after {took:?}");
            assert!(
                took < CROSS_INSTANCE,
                "instance {reader} read a commit of instance {writer} {took:?} after it"
            );
        }
    }

    // Listening made impossible for a moment: the listeners' backends are killed.
    let old = listener_pids(&db.db).await;
    assert_eq!(old.len(), 3, "{old:?}");
    for pid in &old {
        db.db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_terminate_backend($1)",
                [(*pid).into()],
            ))
            .await
            .expect("terminate a listener");
    }
    let who = "after the listeners died";
    let ((got, next), committed) = tokio::join!(
        delivery(&pools[1], &mut subscriptions[1], cursor, who),
        write_while_they_wait(&pools[0], who),
    );
    let took = got.saturating_duration_since(committed);
    eprintln!("with the listeners terminated: read after {took:?}");
    assert!(
        took < changes::POLL_INTERVAL + Duration::from_millis(300),
        "{took:?}"
    );
    cursor = next;

    // The listeners come back by themselves, and NOTIFY with them.
    wait_for_listeners(&db.db, 3, &old).await;
    let who = "listeners back";
    let ((got, next), committed) = tokio::join!(
        delivery(&pools[2], &mut subscriptions[2], cursor, who),
        write_while_they_wait(&pools[0], who),
    );
    let took = got.saturating_duration_since(committed);
    assert!(took < CROSS_INSTANCE, "after reconnecting: {took:?}");
    cursor = next;

    // A pool that can never LISTEN: its one connection is held.
    let settings = PoolSettings {
        max_connections: Some(1),
        acquire_timeout: Duration::from_millis(200),
    };
    let starved = ferrobridge::db::connect_with(&db.url, settings)
        .await
        .expect("a pool of one");
    let held = starved.begin().await.expect("hold its connection");
    let before = listener_pids(&db.db).await;
    let mut deaf = changes::subscribe(&starved);
    for n in 0..2 {
        let who = format!("deaf {n}");
        let ((got, next), committed) = tokio::join!(
            delivery(&pools[1], &mut deaf, cursor, &who),
            write_while_they_wait(&pools[0], &who),
        );
        let took = got.saturating_duration_since(committed);
        eprintln!("without a listener: read after {took:?}");
        assert!(
            took < changes::POLL_INTERVAL + Duration::from_millis(300),
            "the safety poll took {took:?}"
        );
        assert!(
            took > changes::POLL_INTERVAL / 2,
            "read after {took:?} with no listener: something else woke it"
        );
        cursor = next;
    }
    assert_eq!(
        listener_pids(&db.db).await,
        before,
        "the starved pool listens"
    );
    held.rollback().await.ok();
    drop(deaf);
    starved.close().await.ok();
    for pool in pools {
        bounded("closing a pool with a listener", pool.close())
            .await
            .ok();
    }
    db.finish().await;
}

/// Whether a pool dropped (every `Connection` gone) stops its listener and
/// gives the connection back: the listener's backend leaves the server.
#[tokio::test]
async fn a_dropped_pool_stops_listening() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let pool = ferrobridge::db::connect(&db.url).await.expect("pool");
    let subscription = changes::subscribe(&pool);
    let pids = wait_for_listeners(&db.db, 1, &BTreeSet::new()).await;
    drop(subscription);
    drop(pool);
    let deadline = Instant::now() + Duration::from_secs(2);
    while !listener_pids(&db.db).await.is_disjoint(&pids) {
        assert!(
            Instant::now() < deadline,
            "the listener of a dropped pool still runs"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    db.finish().await;
}

/// A reader subscribed on its own instance while PostgreSQL (a private
/// cluster of this test's) restarts: writes before and after the restart
/// all reach it, each exactly once by cursor, with no pool, listener or
/// reader recreated; after the restart the listener is back and NOTIFY
/// wakes the reader fast again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_loses_and_repeats_nothing() {
    let Some(cluster) = PrivatePostgres::start() else {
        return;
    };
    let url = cluster.create_database("feed").await;
    let settings = PoolSettings {
        max_connections: Some(4),
        acquire_timeout: Duration::from_secs(2),
    };
    let writer = ferrobridge::db::connect_with(&url, settings)
        .await
        .expect("writer pool");
    let reader = ferrobridge::db::connect_with(&url, settings)
        .await
        .expect("reader pool");
    blog::app().create_tables(&writer).await.expect("tables");

    // The reader: follows the log from the start, riding out read errors.
    let received = Arc::new(Mutex::new(Vec::<ChangeEvent>::new()));
    let errors = Arc::new(Mutex::new(0usize));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let follower = tokio::spawn({
        let (reader, received, errors, stop) = (
            reader.clone(),
            received.clone(),
            errors.clone(),
            stop.clone(),
        );
        async move {
            let mut subscription = changes::subscribe(&reader);
            let mut cursor = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                match changes::read_since(&reader, &labels(), cursor, 100).await {
                    Ok(Read::Events {
                        events,
                        cursor: next,
                    }) => {
                        cursor = next;
                        if events.is_empty() {
                            subscription.wait(PATIENCE).await;
                        }
                        received.lock().expect("received").extend(events);
                    }
                    Ok(Read::Expired { oldest }) => panic!("expired, oldest {oldest}"),
                    Err(_) => {
                        *errors.lock().expect("errors") += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        }
    });
    let wait_for = |count: usize| {
        let received = received.clone();
        async move {
            let deadline = Instant::now() + PATIENCE;
            while received.lock().expect("received").len() < count {
                assert!(
                    Instant::now() < deadline,
                    "the reader has fewer than {count}"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };

    let mut written = Vec::new();
    for n in 0..3 {
        let who = format!("before {n}");
        write(&writer, &who).await;
        written.push(who);
    }
    wait_for(3).await;
    wait_for_listeners(&writer, 1, &BTreeSet::new()).await;

    tokio::task::block_in_place(|| cluster.restart());

    // The pools find the old connections dead and open new ones.
    for n in 0..3 {
        let who = format!("after {n}");
        let deadline = Instant::now() + PATIENCE;
        let work = loop {
            match UnitOfWork::begin(&writer).await {
                Ok(work) => break work,
                Err(error) => {
                    assert!(
                        Instant::now() < deadline,
                        "no writes after the restart: {error:?}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        work.create::<blog::Author>(author(&who), None)
            .await
            .expect("create after the restart");
        work.commit().await.expect("commit after the restart");
        written.push(who);
    }
    wait_for(6).await;

    // The reader's pool listens again by itself, on the restarted server.
    wait_for_listeners(&writer, 1, &BTreeSet::new()).await;
    eprintln!(
        "PostgreSQL restart: {} read errors ridden out",
        errors.lock().expect("errors")
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    bounded("the reader", follower).await.expect("reader task");
    let events = received.lock().expect("received").clone();
    assert_eq!(events.iter().map(name).collect::<Vec<_>>(), written);
    assert_increasing(&events);

    // And its NOTIFY wakes a waiting reader of that pool at once.
    let cursor = changes::latest(&writer).await.expect("latest");
    let mut subscription = changes::subscribe(&reader);
    let ((got, _), committed) = tokio::join!(
        delivery(&reader, &mut subscription, cursor, "notified"),
        write_while_they_wait(&writer, "notified"),
    );
    let took = got.saturating_duration_since(committed);
    assert!(
        took < CROSS_INSTANCE,
        "no NOTIFY after the restart: {took:?}"
    );
    writer.close().await.ok();
    reader.close().await.ok();
}

db_tests!(a_killed_instance_leaves_the_log_to_the_next);

/// A client of instance 1 (the blog example as a real process) has read
/// the first events of its writes when instance 1 is killed with SIGKILL;
/// it resumes from its cursor on instance 2 (an in-process router on the
/// same database) and gets the rest of instance 1's events and instance
/// 2's own, each once, in order.
async fn a_killed_instance_leaves_the_log_to_the_next(db: &TestDb) {
    let token = prepare(db).await;
    let start = changes::latest(&db.db).await.expect("latest");
    let mut first = Server::start(&db.url).await;
    let http = client();
    let mut written = Vec::new();
    for n in 0..5 {
        let who = format!("instance 1 #{n}");
        let reply = http
            .post(format!("{}/api/authors", first.base()))
            .bearer_auth(&token)
            .json(&json!({ "name": who }))
            .send()
            .await
            .expect("write through instance 1");
        assert_eq!(reply.status(), StatusCode::CREATED, "{}", first.log());
        written.push(who);
    }
    // The client read three events before the crash: its cursor is the third's.
    let (read, _) = follow(&db.db, start, 5, PATIENCE).await;
    assert_eq!(read.len(), 5);
    let cursor = read[2].id();
    first.sigkill();

    let second = ferrobridge_tests::with_token(blog::app().router(db.db.clone()), token.clone());
    for n in 0..2 {
        let who = format!("instance 2 #{n}");
        let reply = ferrobridge_tests::call(
            &second,
            Method::POST,
            "/api/authors",
            Some(json!({ "name": who })),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        written.push(who);
    }
    let (resumed, _) = follow(&db.db, cursor, 4, PATIENCE).await;
    assert_eq!(
        resumed.iter().map(name).collect::<Vec<_>>(),
        written[3..],
        "resumed after cursor {cursor}"
    );
    assert_increasing(&resumed);
    assert!(resumed.iter().all(|e| e.action == ChangeAction::Create));
    let list =
        ferrobridge_tests::call(&second, Method::GET, "/api/authors?page_size=50", None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json["total"], json!(written.len()), "{:?}", list.json);
}

/// Locks author `id` in `tx` (an update that changes nothing).
async fn lock_author(
    tx: &ferrobridge::db::Transaction,
    id: i64,
) -> Result<(), ferrobridge::__private::sea_orm::DbErr> {
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::MySql,
        "UPDATE blog_author SET name = name WHERE id = ?",
        [id.into()],
    ))
    .await
    .map(drop)
}

/// Should two MySQL writers still deadlock (rows of their own locked in
/// opposite orders; the order lock never takes part, see
/// [`concurrent_writers_are_read_once_each_in_order`]), the victim's error
/// is a 503 to try again, as SQLite's busy timeout is, not a 500.
#[tokio::test]
async fn a_mysql_deadlock_is_unavailable_not_internal() {
    let Some(db) = TestDb::new(Backend::Mysql).await else {
        return;
    };
    blog::app().create_tables(&db.db).await.expect("tables");
    write(&db.db, "first").await;
    write(&db.db, "second").await;
    let ids: Vec<i64> = blog::author::Entity::find()
        .all(&db.db)
        .await
        .expect("authors")
        .iter()
        .map(|row| row.id)
        .collect();
    let (t1, t2) = (
        db.db.begin().await.expect("T1"),
        db.db.begin().await.expect("T2"),
    );
    lock_author(&t1, ids[0]).await.expect("T1 locks the first");
    lock_author(&t2, ids[1]).await.expect("T2 locks the second");
    let (one, two) = tokio::join!(
        bounded("T1", lock_author(&t1, ids[1])),
        bounded("T2", async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            lock_author(&t2, ids[0]).await
        }),
    );
    let error = one
        .err()
        .or(two.err())
        .expect("one of them is the deadlock's victim");
    assert!(
        ferrobridge::error::is_unavailable(&error),
        "a deadlock is not retryable: {error:?}"
    );
    let response =
        axum::response::IntoResponse::into_response(ferrobridge::error::ApiError::internal(error));
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    drop((t1, t2));
    db.finish().await;
}
