//! The change feed over HTTP (`GET /api/{plural}/changes`, long-poll, and
//! `GET /api/{plural}/events`, Server-Sent Events) on the blog example:
//! delivery, waiting and waking, resuming without duplicates, the list's
//! filters and permissions per event, access ending mid-stream, expired
//! cursors, and rolled-back writes leaving nothing.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use ferrobridge::__private::sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use ferrobridge::feed::FeedSettings;
use ferrobridge::prelude::*;
use ferrobridge_tests::{
    AdminClient, PASSWORD, Reply, TestDb, UserKind, call_as, create_staff, create_user, db_tests,
    token_login,
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Private notes: each user's feed shows only their own (`own_rows_only`).
#[derive(Model, Clone, Debug)]
#[model(app = "feedtest")]
#[api(owner = owner_id, own_rows_only, filter(text))]
pub struct Memo {
    #[field(primary_key)]
    pub id: i64,
    #[field(references = ferrobridge::auth::User, on_delete = "cascade")]
    pub owner_id: i32,
    pub text: String,
}

/// How often the tests' streams re-check access: short, so a revoked
/// reader is cut off well within a second.
const REVALIDATE: Duration = Duration::from_millis(200);

/// The blog app with [`Memo`] and the tests' short re-check interval.
fn app() -> ferrobridge::App {
    blog::app().model::<Memo>().feed_settings(FeedSettings {
        revalidate: REVALIDATE,
        ..FeedSettings::default()
    })
}

/// `app` on `db`: its router and the superuser's token.
async fn setup(app: &ferrobridge::App, db: &TestDb) -> (axum::Router, String) {
    app.create_tables(&db.db).await.expect("create tables");
    let (_, root) = create_user(&db.db, "root", UserKind::Superuser).await;
    (app.router(db.db.clone()), root)
}

async fn get(router: &axum::Router, token: Option<&str>, uri: &str) -> Reply {
    call_as(router, token, Method::GET, uri, None).await
}

async fn post(router: &axum::Router, token: &str, uri: &str, body: Value) -> Value {
    let reply = call_as(router, Some(token), Method::POST, uri, Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    reply.json
}

/// One event of an SSE stream, as a browser's `EventSource` parses it.
#[derive(Debug, Default)]
struct SseEvent {
    /// `event:`; empty for an unnamed (`message`) event.
    event: String,
    id: Option<String>,
    data: String,
}

impl SseEvent {
    fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|_| panic!("not JSON: {}", self.data))
    }
}

/// What reading a stream gave.
#[derive(Debug)]
enum Next {
    Event(SseEvent),
    /// The server closed the stream.
    End,
    /// Nothing within the time asked.
    Quiet,
}

/// Reads Server-Sent Events from a response body: frames are split at
/// blank lines, comments (`: ping`) are skipped.
struct SseReader {
    body: Body,
    buffer: String,
}

impl SseReader {
    /// The next event within `within`.
    async fn next(&mut self, within: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent::default();
                let mut data = Vec::new();
                for line in frame.lines() {
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "event" => event.event = value.to_string(),
                        "id" => event.id = Some(value.to_string()),
                        "data" => data.push(value.to_string()),
                        _ => {}
                    }
                }
                if data.is_empty() && event.event.is_empty() {
                    continue; // a comment: the heartbeat
                }
                event.data = data.join("\n");
                return Next::Event(event);
            }
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Err(_) => return Next::Quiet,
                Ok(None) => return Next::End,
                Ok(Some(frame)) => {
                    let frame = frame.expect("body frame");
                    if let Ok(bytes) = frame.into_data() {
                        self.buffer.push_str(&String::from_utf8_lossy(&bytes));
                    }
                }
            }
        }
    }

    /// The next event, which must come within two seconds.
    async fn expect(&mut self) -> SseEvent {
        match self.next(Duration::from_secs(2)).await {
            Next::Event(event) => event,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// No event for `within`.
    async fn expect_quiet(&mut self, within: Duration) {
        match self.next(within).await {
            Next::Quiet => {}
            other => panic!("expected no event, got {other:?}"),
        }
    }
}

/// Opens `uri` as an event stream; panics unless it answers 200 `text/event-stream`.
async fn open(
    router: &axum::Router,
    token: Option<&str>,
    uri: &str,
    last_event_id: Option<&str>,
) -> SseReader {
    let response = open_raw(router, token, uri, last_event_id).await;
    if response.status() != StatusCode::OK {
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        panic!("{uri}: {status} {}", String::from_utf8_lossy(&body));
    }
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream",
        "{uri}"
    );
    SseReader {
        body: response.into_body(),
        buffer: String::new(),
    }
}

async fn open_raw(
    router: &axum::Router,
    token: Option<&str>,
    uri: &str,
    last_event_id: Option<&str>,
) -> axum::response::Response {
    let mut request = Request::get(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    let request = request.body(Body::empty()).expect("request");
    router.clone().oneshot(request).await.expect("infallible")
}

db_tests!(
    long_poll_answers_at_once_waits_and_wakes,
    long_poll_outlives_the_request_timeout,
    long_poll_refuses_what_the_list_refuses,
    events_stream_resumes_without_duplicates,
    filters_narrow_both_feeds,
    permissions_decide_each_event,
    access_ending_ends_the_stream,
    an_expired_cursor_is_gone_or_reset,
    a_rolled_back_unit_of_work_leaves_no_event,
);

async fn long_poll_answers_at_once_waits_and_wakes(db: &TestDb) {
    let (router, root) = setup(&app(), db).await;
    let start = get(&router, Some(&root), "/api/posts/changes?timeout=0").await;
    assert_eq!(start.status, StatusCode::OK, "{:?}", start.json);
    assert_eq!(start.json["items"], json!([]));
    let from = start.json["cursor"].as_str().unwrap().to_string();

    let author = post(&router, &root, "/api/authors", json!({ "name": "Ann" })).await;
    let first = post(
        &router,
        &root,
        "/api/posts",
        json!({ "title": "One", "body": "...", "author_id": author["id"] }),
    )
    .await;
    // Events exist after the cursor: answered at once.
    let began = Instant::now();
    let uri = format!("/api/posts/changes?since={from}&timeout=30");
    let found = get(&router, Some(&root), &uri).await;
    assert!(began.elapsed() < Duration::from_secs(2));
    assert_eq!(found.status, StatusCode::OK);
    let items = found.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "only the post's event: {items:?}");
    assert_eq!(items[0]["model"], "blog.post");
    assert_eq!(items[0]["action"], "create");
    assert_eq!(items[0]["pk"], first["id"].to_string());
    assert_eq!(items[0]["data"]["title"], "One");
    assert!(items[0]["user"].is_i64());
    assert!(items[0].get("owner").is_none());
    let cursor = found.json["cursor"].as_str().unwrap().to_string();
    assert_eq!(items[0]["cursor"], cursor);

    // Nothing new: it waits out the timeout and answers the same cursor.
    let began = Instant::now();
    let uri = format!("/api/posts/changes?since={cursor}&timeout=1");
    let idle = get(&router, Some(&root), &uri).await;
    assert!(began.elapsed() >= Duration::from_millis(950));
    assert_eq!(idle.status, StatusCode::OK);
    assert_eq!(idle.json, json!({ "items": [], "cursor": cursor }));

    // A write during the wait answers it early.
    let waiting = {
        let router = router.clone();
        let root = root.clone();
        let uri = format!("/api/posts/changes?since={cursor}&timeout=20");
        tokio::spawn(async move {
            let began = Instant::now();
            (get(&router, Some(&root), &uri).await, began.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let uri = format!("/api/posts/{}", first["id"]);
    let patched = call_as(
        &router,
        Some(&root),
        Method::PATCH,
        &uri,
        Some(json!({ "title": "One, again" })),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK);
    let (woken, took) = waiting.await.unwrap();
    assert!(took < Duration::from_secs(3), "woken after {took:?}");
    assert_eq!(woken.json["items"][0]["action"], "update");
    assert_eq!(woken.json["items"][0]["data"]["title"], "One, again");

    // `/changes` and `/events` do not hide retrieve.
    let retrieved = get(&router, Some(&root), &uri).await;
    assert_eq!(retrieved.status, StatusCode::OK);
    assert_eq!(retrieved.json["title"], "One, again");
}

async fn long_poll_outlives_the_request_timeout(db: &TestDb) {
    let app = app().request_timeout(Some(Duration::from_millis(500)));
    let (router, root) = setup(&app, db).await;
    let began = Instant::now();
    let waited = get(&router, Some(&root), "/api/posts/changes?timeout=1").await;
    assert_eq!(waited.status, StatusCode::OK, "{:?}", waited.json);
    assert!(began.elapsed() >= Duration::from_millis(950));
    // Other routes still get the timeout's bound (and answer well within it).
    assert_eq!(
        get(&router, Some(&root), "/api/posts").await.status,
        StatusCode::OK
    );
}

async fn long_poll_refuses_what_the_list_refuses(db: &TestDb) {
    let (router, root) = setup(&app(), db).await;
    for (query, status) in [
        ("timeout=61", StatusCode::UNPROCESSABLE_ENTITY),
        ("timeout=-1", StatusCode::UNPROCESSABLE_ENTITY),
        ("timeout=soon", StatusCode::UNPROCESSABLE_ENTITY),
        ("since=-3", StatusCode::UNPROCESSABLE_ENTITY),
        ("since=abc", StatusCode::UNPROCESSABLE_ENTITY),
        ("author_id=x", StatusCode::UNPROCESSABLE_ENTITY),
        ("page=2", StatusCode::BAD_REQUEST),
        ("ordering=title", StatusCode::BAD_REQUEST),
        ("nonsense=1", StatusCode::BAD_REQUEST),
        ("body=x", StatusCode::BAD_REQUEST),
        ("title__near=x", StatusCode::BAD_REQUEST),
    ] {
        let reply = get(&router, Some(&root), &format!("/api/posts/changes?{query}")).await;
        assert_eq!(reply.status, status, "{query}: {:?}", reply.json);
        assert!(reply.json["detail"].is_array(), "{query}: {:?}", reply.json);
    }
    // The stream takes no `timeout`, and checks `Last-Event-ID`.
    let response = open_raw(&router, Some(&root), "/api/posts/events?timeout=5", None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = open_raw(&router, Some(&root), "/api/posts/events", Some("x")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn events_stream_resumes_without_duplicates(db: &TestDb) {
    let (router, root) = setup(&app(), db).await;
    let author = post(&router, &root, "/api/authors", json!({ "name": "Ann" })).await;
    let mut stream = open(&router, Some(&root), "/api/posts/events", None).await;
    stream.expect_quiet(Duration::from_millis(300)).await;

    let created = post(
        &router,
        &root,
        "/api/posts",
        json!({ "title": "Live", "body": "...", "author_id": author["id"] }),
    )
    .await;
    let first = stream.expect().await;
    assert_eq!(first.event, "", "an unnamed event reaches onmessage");
    let data = first.json();
    assert_eq!(data["action"], "create");
    assert_eq!(first.id.as_deref(), data["cursor"].as_str());
    assert_eq!(data["data"]["title"], "Live");

    let uri = format!("/api/posts/{}", created["id"]);
    let patch = json!({ "title": "Live, edited" });
    call_as(&router, Some(&root), Method::PATCH, &uri, Some(patch)).await;
    let second = stream.expect().await;
    assert_eq!(second.json()["action"], "update");
    stream.expect_quiet(Duration::from_millis(300)).await;

    // Reconnecting with the first event's id replays what came after it,
    // once: `Last-Event-ID` wins over `since`.
    let mut resumed = open(
        &router,
        Some(&root),
        "/api/posts/events?since=0",
        first.id.as_deref(),
    )
    .await;
    assert_eq!(resumed.expect().await.id, second.id);
    resumed.expect_quiet(Duration::from_millis(300)).await;

    // Both streams see the delete, with the row's last representation.
    let deleted = call_as(&router, Some(&root), Method::DELETE, &uri, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let third = stream.expect().await;
    assert_eq!(third.json()["action"], "delete");
    assert_eq!(third.json()["data"]["title"], "Live, edited");
    assert_eq!(resumed.expect().await.id, third.id);
    stream.expect_quiet(Duration::from_millis(300)).await;

    // The long-poll resumes from the same cursors, with the same events:
    // each is judged on the row as it shows it, so the update is delivered
    // although its row is gone since (its delete follows).
    let uri = format!(
        "/api/posts/changes?since={}&timeout=0",
        first.id.as_deref().unwrap()
    );
    let polled = get(&router, Some(&root), &uri).await;
    let cursors: Vec<&str> = polled.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["cursor"].as_str().unwrap())
        .collect();
    assert_eq!(
        cursors,
        vec![second.id.as_deref().unwrap(), third.id.as_deref().unwrap()]
    );
}

async fn filters_narrow_both_feeds(db: &TestDb) {
    let (router, root) = setup(&app(), db).await;
    let ann = post(&router, &root, "/api/authors", json!({ "name": "Ann" })).await;
    let bob = post(&router, &root, "/api/authors", json!({ "name": "Bob" })).await;
    let from = get(&router, Some(&root), "/api/posts/changes?timeout=0")
        .await
        .json["cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let uri = format!("/api/posts/events?author_id={}", bob["id"]);
    let mut bobs = open(&router, Some(&root), &uri, None).await;

    let mut ids = Vec::new();
    for (author, title) in [(&ann, "Ann's"), (&bob, "Bob's"), (&ann, "Ann's again")] {
        let body = json!({ "title": title, "body": "...", "author_id": author["id"] });
        ids.push(post(&router, &root, "/api/posts", body).await["id"].clone());
    }
    let event = bobs.expect().await.json();
    assert_eq!(event["data"]["title"], "Bob's");
    bobs.expect_quiet(Duration::from_millis(300)).await;
    // Deletes are judged by the row's last representation.
    for id in &ids {
        let uri = format!("/api/posts/{id}");
        call_as(&router, Some(&root), Method::DELETE, &uri, None).await;
    }
    let event = bobs.expect().await.json();
    assert_eq!(event["action"], "delete");
    assert_eq!(event["pk"], ids[1].to_string());
    bobs.expect_quiet(Duration::from_millis(300)).await;

    let uri = format!(
        "/api/posts/changes?since={from}&timeout=0&author_id={}",
        ann["id"]
    );
    let anns = get(&router, Some(&root), &uri).await;
    let seen: Vec<(String, String)> = anns.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["action"].as_str().unwrap().to_string(),
                item["pk"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Ann's creates and deletes, each judged on the row it shows (the
    // rows are gone since; the filter still places each event).
    let pair = |action: &str, id: &Value| (action.to_string(), id.to_string());
    assert_eq!(
        seen,
        vec![
            pair("create", &ids[0]),
            pair("create", &ids[2]),
            pair("delete", &ids[0]),
            pair("delete", &ids[2]),
        ]
    );
    // Lookups work on deletes too: no title starts with "Zed".
    let uri = format!("/api/posts/changes?since={from}&timeout=0&title__istartswith=zed");
    assert_eq!(
        get(&router, Some(&root), &uri).await.json["items"],
        json!([])
    );
}

async fn permissions_decide_each_event(db: &TestDb) {
    let (router, root) = setup(&app(), db).await;
    let (_, ann) = create_user(&db.db, "ann", UserKind::Regular).await;
    let (_, bob) = create_user(&db.db, "bob", UserKind::Regular).await;

    // The list's rules: anonymous readers of posts get 401, a user without
    // `auth.view_group` 403, before anything is streamed.
    for uri in ["/api/posts/changes?timeout=0", "/api/posts/events"] {
        let response = open_raw(&router, None, uri, None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{uri}");
    }
    assert_eq!(
        get(&router, Some(&ann), "/api/groups").await.status,
        StatusCode::FORBIDDEN
    );
    for uri in ["/api/groups/changes?timeout=0", "/api/groups/events"] {
        let response = open_raw(&router, Some(&ann), uri, None).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{uri}");
    }

    // own_rows_only: each user follows only their own memos.
    let from = get(&router, Some(&ann), "/api/memos/changes?timeout=0")
        .await
        .json["cursor"]
        .as_str()
        .unwrap()
        .to_string();
    let mut anns = open(&router, Some(&ann), "/api/memos/events", None).await;
    let mine = post(&router, &ann, "/api/memos", json!({ "text": "ann's" })).await;
    let theirs = post(&router, &bob, "/api/memos", json!({ "text": "bob's" })).await;
    assert_eq!(anns.expect().await.json()["data"]["text"], "ann's");
    anns.expect_quiet(Duration::from_millis(300)).await;
    for (token, memo) in [(&bob, &theirs), (&ann, &mine)] {
        let uri = format!("/api/memos/{}", memo["id"]);
        let deleted = call_as(&router, Some(token), Method::DELETE, &uri, None).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    }
    let delete = anns.expect().await.json();
    assert_eq!(
        (delete["action"].as_str(), delete["pk"].as_str()),
        (Some("delete"), Some(mine["id"].to_string().as_str()))
    );
    anns.expect_quiet(Duration::from_millis(300)).await;

    let uri = format!("/api/memos/changes?since={from}&timeout=0");
    let bobs = get(&router, Some(&bob), &uri).await;
    let texts: Vec<(&str, &str)> = bobs.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["action"].as_str().unwrap(),
                item["data"]["text"].as_str().unwrap(),
            )
        })
        .collect();
    // Bob's create and delete are his alone.
    assert_eq!(texts, vec![("create", "bob's"), ("delete", "bob's")]);
    // The superuser (with `view_memo`) follows every memo.
    let all = get(&router, Some(&root), &uri).await;
    assert_eq!(all.json["items"].as_array().unwrap().len(), 4);
}

async fn access_ending_ends_the_stream(db: &TestDb) {
    use ferrobridge::auth::models::user_permission;
    let (router, _root) = setup(&app(), db).await;

    // A permission removed mid-stream.
    let viewer = create_staff(&db.db, "viewer", &["view_group"]).await;
    let login = token_login(&router, "viewer", PASSWORD).await;
    let token = login.json["access_token"].as_str().unwrap().to_string();
    let mut groups = open(&router, Some(&token), "/api/groups/events", None).await;
    groups.expect_quiet(Duration::from_millis(500)).await;
    user_permission::Entity::delete_many()
        .filter(user_permission::Column::UserId.eq(viewer))
        .exec(&db.db)
        .await
        .unwrap();
    let began = Instant::now();
    let error = groups.expect().await;
    assert!(
        began.elapsed() < Duration::from_secs(1),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(error.event, "error");
    assert!(
        error.json()["detail"]
            .as_str()
            .unwrap()
            .contains("auth.view_group"),
        "{}",
        error.data
    );
    assert!(matches!(
        groups.next(Duration::from_secs(1)).await,
        Next::End
    ));

    // A token revoked mid-stream (logging out).
    let (_, reader) = create_user(&db.db, "reader", UserKind::Regular).await;
    let mut posts = open(&router, Some(&reader), "/api/posts/events", None).await;
    let out = call_as(
        &router,
        Some(&reader),
        Method::POST,
        "/api/auth/logout",
        None,
    )
    .await;
    assert!(out.status.is_success(), "{:?}", out.json);
    let began = Instant::now();
    let error = posts.expect().await;
    assert!(
        began.elapsed() < Duration::from_secs(1),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(error.event, "error");
    assert!(matches!(
        posts.next(Duration::from_secs(1)).await,
        Next::End
    ));
    // And the long-poll refuses the token from the start.
    let refused = get(&router, Some(&reader), "/api/posts/changes?timeout=0").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    // A session logged out mid-stream (the admin's logout, as a browser's
    // `EventSource` follows with the session cookie).
    create_staff(&db.db, "editor", &[]).await;
    let mut admin = AdminClient::new(router.clone());
    admin.login("editor", PASSWORD).await;
    let cookies: Vec<String> = admin
        .cookies
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let request = Request::get("/api/posts/events")
        .header(header::COOKIE, cookies.join("; "))
        .body(Body::empty())
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let mut followed = SseReader {
        body: response.into_body(),
        buffer: String::new(),
    };
    followed.expect_quiet(Duration::from_millis(300)).await;
    let page = admin.post("/admin/logout/", &[]).await;
    assert!(page.status.is_success() || page.status.is_redirection());
    let began = Instant::now();
    let error = followed.expect().await;
    assert!(
        began.elapsed() < Duration::from_secs(1),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(error.event, "error");
    assert!(matches!(
        followed.next(Duration::from_secs(1)).await,
        Next::End
    ));
}

async fn an_expired_cursor_is_gone_or_reset(db: &TestDb) {
    let app = app().feed_settings(FeedSettings {
        retention: Duration::ZERO,
        ..FeedSettings::default()
    });
    let (router, root) = setup(&app, db).await;
    for name in ["Ann", "Bob", "Cy"] {
        post(&router, &root, "/api/authors", json!({ "name": name })).await;
    }
    let before = get(
        &router,
        Some(&root),
        "/api/authors/changes?since=0&timeout=0",
    )
    .await;
    assert_eq!(before.json["items"].as_array().unwrap().len(), 3);
    tokio::time::sleep(Duration::from_millis(20)).await;
    // Everything but the newest event goes; the newest pruned one stays
    // as the marker of the window.
    assert!(app.prune_changes(&db.db).await.unwrap() >= 1);

    let gone = get(
        &router,
        Some(&root),
        "/api/authors/changes?since=0&timeout=0",
    )
    .await;
    assert_eq!(gone.status, StatusCode::GONE, "{:?}", gone.json);
    assert!(gone.json["detail"].is_string());
    let oldest = gone.json["oldest"].as_str().unwrap().to_string();
    let newest = before.json["items"][2]["cursor"].as_str().unwrap();
    assert!(oldest.parse::<i64>().unwrap() < newest.parse::<i64>().unwrap());

    // From `oldest` on, nothing is missing: the newest event follows.
    let uri = format!("/api/authors/changes?since={oldest}&timeout=0");
    let rest = get(&router, Some(&root), &uri).await;
    assert_eq!(rest.json["items"][0]["cursor"], newest);

    let mut stream = open(&router, Some(&root), "/api/authors/events?since=0", None).await;
    let reset = stream.expect().await;
    assert_eq!(reset.event, "reset");
    assert_eq!(reset.json(), json!({ "oldest": oldest }));
    assert_eq!(reset.id.as_deref(), Some(oldest.as_str()));
    let next = stream.expect().await;
    assert_eq!(next.event, "");
    assert_eq!(next.id.as_deref(), Some(newest));

    // A cursor no log handed out (a restored database, a typo) cannot be
    // resumed either: 410 at once rather than a wait that never ends.
    let future = get(
        &router,
        Some(&root),
        "/api/authors/changes?since=1000000000&timeout=5",
    )
    .await;
    assert_eq!(future.status, StatusCode::GONE, "{:?}", future.json);
    assert_eq!(future.json["oldest"], json!(oldest));
}

async fn a_rolled_back_unit_of_work_leaves_no_event(db: &TestDb) {
    use blog::{Author, author};
    use ferrobridge::write::UnitOfWork;
    let (router, root) = setup(&app(), db).await;
    let before = ferrobridge::changes::latest(&db.db).await.unwrap();
    let waiting = {
        let router = router.clone();
        let root = root.clone();
        let uri = format!("/api/authors/changes?since={before}&timeout=1");
        tokio::spawn(async move { get(&router, Some(&root), &uri).await })
    };
    {
        let work = UnitOfWork::begin(&db.db).await.unwrap();
        let active = author::ActiveModel {
            name: Set("Never".into()),
            email: Set(None),
            ..Default::default()
        };
        work.create::<Author>(active, None).await.unwrap();
        // Dropped without commit: rolled back.
    }
    let answered = waiting.await.unwrap();
    assert_eq!(answered.status, StatusCode::OK);
    assert_eq!(
        answered.json,
        json!({ "items": [], "cursor": before.to_string() })
    );
    assert_eq!(ferrobridge::changes::latest(&db.db).await.unwrap(), before);
    assert_eq!(
        author::Entity::find().all(&db.db).await.unwrap().len(),
        0,
        "the row went with its event"
    );
}

/// Both feed operations of every model are in the OpenAPI document.
#[test]
fn the_feed_is_documented() {
    let document = app().openapi();
    let changes = &document["paths"]["/api/posts/changes"]["get"];
    assert_eq!(changes["operationId"], "list_post_changes");
    let names: Vec<&str> = changes["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in ["since", "timeout", "author_id", "title__icontains"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    assert!(!names.contains(&"page"));
    assert_eq!(
        changes["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/PostChangePage"
    );
    assert_eq!(
        changes["responses"]["410"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/CursorExpired"
    );
    for status in ["401", "403", "422"] {
        assert!(changes["responses"][status].is_object(), "{status}");
    }
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["PostChangePage"]["properties"]["items"]["items"]["$ref"],
        "#/components/schemas/PostChangeEvent"
    );
    assert_eq!(
        schemas["PostChangeEvent"]["allOf"][1]["properties"]["data"]["$ref"],
        "#/components/schemas/PostRead"
    );
    assert!(schemas["ChangeEvent"]["properties"]["action"].is_object());
    assert!(schemas["ChangeEvent"]["properties"].get("owner").is_none());
    let events = &document["paths"]["/api/posts/events"]["get"];
    assert_eq!(events["operationId"], "stream_post_events");
    assert!(events["responses"]["200"]["content"]["text/event-stream"].is_object());
    let names: Vec<&str> = events["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Last-Event-ID") && !names.contains(&"timeout"));
    // Public reads stay public: authors' feeds take an optional token.
    let authors = &document["paths"]["/api/authors/changes"]["get"];
    assert_eq!(authors["security"][0], json!({}));
}

/// Over a real socket with the server `serve` runs: the stream flushes
/// each event as it happens, and shutting down does not wait for open
/// streams longer than [`ferrobridge::server::SHUTDOWN_GRACE`].
#[tokio::test]
async fn streams_over_tcp_and_do_not_hold_shutdown() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(db) = TestDb::new(ferrobridge_tests::Backend::Sqlite).await else {
        return;
    };
    let (router, root) = setup(&app(), &db).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let settings = ferrobridge::ServerSettings::default();
    let server = tokio::spawn(ferrobridge::serve(
        listener,
        router.clone(),
        settings,
        async {
            let _ = stopped.await;
        },
    ));

    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET /api/authors/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {root}\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut received = String::new();
    let mut buffer = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while !received.contains("text/event-stream") {
        let n = tokio::time::timeout_at(deadline, socket.read(&mut buffer))
            .await
            .expect("response head")
            .unwrap();
        assert!(n > 0, "closed: {received}");
        received.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    post(&router, &root, "/api/authors", json!({ "name": "Wired" })).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while !received.contains("\"Wired\"") {
        let n = tokio::time::timeout_at(deadline, socket.read(&mut buffer))
            .await
            .expect("the event, flushed")
            .unwrap();
        assert!(n > 0, "closed: {received}");
        received.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    assert!(received.contains("\nid: "), "{received}");

    let began = Instant::now();
    stop.send(()).unwrap();
    tokio::time::timeout(
        ferrobridge::server::SHUTDOWN_GRACE + Duration::from_secs(5),
        server,
    )
    .await
    .expect("serve returns with a stream still open")
    .unwrap()
    .unwrap();
    assert!(began.elapsed() >= Duration::from_secs(1));
    drop(socket);
    db.finish().await;
}
