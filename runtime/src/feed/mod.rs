//! The change feed over HTTP: every routed model's changes, read from the
//! change log ([`crate::changes`]) by a cursor, as a long-poll
//! (`GET {path}/changes`) and as Server-Sent Events (`GET {path}/events`).
//!
//! # Who sees what
//! A reader passes the list endpoint's rules, event by event: the model's
//! `view` policy ([`authorize_meta`]), `own_rows_only` (events of rows the
//! reader owns only), and the list's declared filters from the query
//! string (`?author_id=3`), each judged on the row as the event shows it
//! (after the change; for a delete, as it was last) with
//! [`Filter::matches_json`], the list's lookups compared as the database
//! compares them. Judging in memory makes an event cost no query per
//! reader, which thousands of open streams need; the permission itself is
//! the reader's now (re-checked while streaming).
//!
//! # Access while waiting
//! Both answers start with the list's authentication and permission check
//! (401/403 before anything is streamed). A stream then re-runs the
//! authenticators on the request's original headers, and the `view`
//! policy, every [`FeedSettings::revalidate`]: a revoked token, a logged
//! out session, a deactivated user or a removed permission ends it with an
//! `event: error`. A long-poll checks again before it answers events that
//! arrived while it waited.
//!
//! # Cursors
//! A cursor is a change log id, handed out in commit order. Answers carry
//! the cursor to resume from; events a reader may not see are passed over
//! (the cursor moves past them). A cursor older than the retained window
//! ([`FeedSettings::retention`], pruned by [`spawn_pruner`]) answers 410
//! with the oldest one still available; a stream sends `event: reset` and
//! goes on from there, never skipping silently.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sea_orm::DbErr;
use serde::Serialize;
use serde_json::{Value as JsonValue, json};
use tokio::time::Instant;

use crate::auth::policy::{Scope, authorize_meta};
use crate::auth::{CurrentUser, OptionalUser, authenticate_headers};
use crate::changes::{self, Batch, ChangeEvent, Hub, Logged, next_batch};
use crate::db::Connection;
use crate::error::{ApiError, ApiResult, ErrorDetail, ErrorKind, ValidationError};
use crate::model::{Action, Model, ModelMeta};
use crate::query::{Filter, ListQuery, ListSettings, RESERVED};
use crate::state::{AppState, Router};

/// `timeout` of a long-poll that names none, in seconds.
pub const DEFAULT_TIMEOUT: u64 = 25;
/// The longest `timeout` a long-poll may ask for, in seconds.
pub const MAX_TIMEOUT: u64 = 60;
/// Log rows read at once; a batch costs one more query to check its
/// created and updated rows against the reader's list.
const BATCH: u64 = 200;

/// How the feed follows its readers and keeps its log, set with
/// [`App::feed_settings`](crate::App::feed_settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedSettings {
    /// How often a stream re-checks the reader's credentials and `view`
    /// permission (5 s): the longest a revoked reader keeps receiving.
    pub revalidate: Duration,
    /// How long events are kept (7 days); a cursor older than that gets
    /// 410 / `event: reset`.
    pub retention: Duration,
    /// How often an idle stream sends a `: ping` comment (15 s), so
    /// proxies and clients see the connection alive.
    pub heartbeat: Duration,
    /// How often `serve` prunes events past the retention (1 hour).
    pub prune_every: Duration,
}

impl Default for FeedSettings {
    fn default() -> Self {
        FeedSettings {
            revalidate: Duration::from_secs(5),
            retention: Duration::from_secs(7 * 24 * 60 * 60),
            heartbeat: Duration::from_secs(15),
            prune_every: Duration::from_secs(60 * 60),
        }
    }
}

/// The app's feed settings, as installed in its state when the router is
/// built (the defaults for a state built by hand).
pub fn settings(state: &AppState) -> FeedSettings {
    state.layer::<FeedSettings>().copied().unwrap_or_default()
}

/// The feed routes of one model mounted at `path`: `{path}/changes` and
/// `{path}/events`. Their static segment wins over `{path}/{pk}` in the
/// router, so a row whose key is `changes` or `events` is not reachable by
/// retrieve (only string keys can be).
pub fn routes_at<M: Model>(path: &str) -> Router {
    let path = path.trim_end_matches('/');
    Router::new()
        .route(&format!("{path}/changes"), get(long_poll::<M>))
        .route(&format!("{path}/events"), get(stream::<M>))
}

/// The paths [`routes_at`] serves under `path`.
pub fn paths(path: &str) -> [String; 2] {
    let path = path.trim_end_matches('/');
    [format!("{path}/changes"), format!("{path}/events")]
}

/// What a long-poll answers: the events after the cursor (possibly none)
/// and the cursor to ask from next.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ChangePage {
    /// The events, oldest first.
    pub items: Vec<ChangeEvent>,
    /// Send it as `since` to get the events after these.
    pub cursor: String,
}

/// The 410 of a cursor older than the retained window.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct CursorExpired {
    /// What happened, in words.
    pub detail: String,
    /// The oldest cursor still available: resume from it (after reloading
    /// what the client shows, since events before it are gone).
    pub oldest: String,
}

/// Deletes the events older than `settings.retention` (see
/// [`changes::prune`]); how many went.
pub async fn prune(db: &Connection, settings: &FeedSettings) -> Result<u64, DbErr> {
    changes::prune(db, settings.retention).await
}

/// Prunes the log now and then every [`FeedSettings::prune_every`], until
/// the returned task is aborted; `serve` runs one. A failed prune is
/// logged and tried again at the next turn.
pub fn spawn_pruner(db: Connection, settings: FeedSettings) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match prune(&db, &settings).await {
                Ok(0) => {}
                Ok(pruned) => tracing::info!(pruned, "change feed: pruned old events"),
                Err(error) => tracing::warn!(%error, "change feed: pruning failed"),
            }
            tokio::time::sleep(settings.prune_every.max(Duration::from_secs(1))).await;
        }
    })
}

/// A feed request's query string, read.
struct FeedQuery {
    since: Option<i64>,
    timeout: Duration,
    filters: Vec<Filter>,
}

fn query_detail(loc: &str, kind: ErrorKind, msg: impl Into<String>) -> ErrorDetail {
    ErrorDetail::new(
        vec![JsonValue::from("query"), JsonValue::from(loc)],
        kind,
        msg,
    )
}

/// A cursor as sent: a whole number, at least 0.
fn parse_cursor(raw: &str) -> Result<i64, (ErrorKind, String)> {
    match raw.trim().parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n),
        Ok(_) => Err((
            ErrorKind::GreaterThanEqual,
            "Input should be greater than or equal to 0".into(),
        )),
        Err(_) => Err((
            ErrorKind::IntParsing,
            "Input should be a valid integer, unable to parse string as an integer".into(),
        )),
    }
}

/// Reads `since`, `timeout` (long-poll only) and the list's filters; the
/// list's other parameters (pages, ordering, search, expand) are 400s, as
/// unknown parameters, and filters answer the list's own 400/422.
fn parse_query(
    meta: &'static ModelMeta,
    raw: Option<&str>,
    list: ListSettings,
    long_poll: bool,
) -> ApiResult<FeedQuery> {
    let mut unknown = Vec::new();
    let mut invalid = Vec::new();
    let mut since = None;
    let mut timeout = Duration::from_secs(DEFAULT_TIMEOUT);
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "since" => match parse_cursor(&value) {
                Ok(cursor) => since = Some(cursor),
                Err((kind, msg)) => invalid.push(query_detail("since", kind, msg)),
            },
            "timeout" if long_poll => match value.trim().parse::<i128>() {
                Ok(n) if (0..=i128::from(MAX_TIMEOUT)).contains(&n) => {
                    timeout = Duration::from_secs(n as u64);
                }
                Ok(n) => {
                    let kind = if n < 0 {
                        ErrorKind::GreaterThanEqual
                    } else {
                        ErrorKind::LessThanEqual
                    };
                    invalid.push(
                        query_detail(
                            "timeout",
                            kind,
                            format!("Input should be between 0 and {MAX_TIMEOUT}"),
                        )
                        .with_ctx(json!({ "ge": 0, "le": MAX_TIMEOUT })),
                    );
                }
                Err(_) => invalid.push(query_detail(
                    "timeout",
                    ErrorKind::IntParsing,
                    "Input should be a valid integer, unable to parse string as an integer",
                )),
            },
            key if RESERVED.contains(&key) || key == "timeout" => {
                let mut allowed = vec!["since"];
                if long_poll {
                    allowed.push("timeout");
                }
                allowed.extend(meta.api.filter.iter().copied());
                unknown.push(query_detail(
                    key,
                    ErrorKind::UnknownParameter,
                    format!(
                        "Not a parameter of the change feed; allowed: {} (filters take Django lookups such as `__gte`)",
                        allowed.join(", ")
                    ),
                ));
            }
            key => {
                rest.append_pair(key, &value);
            }
        }
    }
    if !unknown.is_empty() {
        return Err(ApiError::BadRequest(ValidationError { detail: unknown }));
    }
    let rest = rest.finish();
    let filters = ListQuery::parse(meta, Some(&rest), list)?.filters;
    if !invalid.is_empty() {
        return Err(ApiError::Validation(ValidationError { detail: invalid }));
    }
    Ok(FeedQuery {
        since,
        timeout,
        filters,
    })
}

/// Of `events` (of `M`, in log order), those the reader may see: in its
/// scope (judged on the row's owner when the change was made) and passing
/// its `filters` (judged on the row as the event shows it), in memory, so a
/// change costs no query per reader (see the module docs).
fn visible(scope: Scope, filters: &[Filter], events: Vec<Arc<Logged>>) -> Vec<Arc<Logged>> {
    events
        .into_iter()
        .filter(|logged| match scope {
            Scope::All => true,
            Scope::OwnRows(user) | Scope::Owned(user) => logged.event.owner == Some(user),
        })
        .filter(|logged| filters.iter().all(|f| f.matches_json(&logged.event.data)))
        .collect()
}

/// Authenticates the request's original `headers` again and applies the
/// `view` policy: the scope the reader has now, or why it has none. The
/// credentials must still name the user the request was opened by (a
/// logged-out session names nobody).
async fn recheck(
    state: &AppState,
    meta: &'static ModelMeta,
    headers: &HeaderMap,
    opened_by: Option<i32>,
) -> ApiResult<Scope> {
    let user: Option<CurrentUser> = authenticate_headers(state, headers).await?;
    if user.as_ref().map(|u| u.id) != opened_by {
        return Err(ApiError::Unauthorized(
            "The credentials this feed was opened with are no longer valid".into(),
        ));
    }
    authorize_meta(state, &user, meta, Action::View).await
}

/// The 410 of a cursor before the retained window.
fn gone(oldest: i64) -> Response {
    let body = CursorExpired {
        detail: "This cursor is older than the retained change events; \
                 reload, then follow from `oldest`"
            .into(),
        oldest: oldest.to_string(),
    };
    (StatusCode::GONE, Json(body)).into_response()
}

/// `GET {path}/changes?since=&timeout=&<filters>`: the events after
/// `since` (from now without it) at once, or, when there are none yet,
/// as soon as some arrive within `timeout` seconds (default
/// [`DEFAULT_TIMEOUT`], at most [`MAX_TIMEOUT`]); else an empty list and
/// the same cursor. 410 for an expired cursor.
pub async fn long_poll<M: Model>(
    State(state): State<AppState>,
    OptionalUser(user): OptionalUser,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let meta = M::meta();
    let mut scope = authorize_meta(&state, &user, meta, Action::View).await?;
    let query = parse_query(meta, raw.as_deref(), state.list, true)?;
    let opened_by = user.as_ref().map(|u| u.id);
    drop(user);
    let db = &state.db;
    let label = changes::model_label(meta);
    let hub = Hub::of(&state);
    // Watched before the first read, so a commit between the read and the
    // wait still wakes it.
    let mut head = hub.watch();
    let mut cursor = match query.since {
        Some(since) => since,
        None => changes::latest(db).await.map_err(ApiError::internal)?,
    };
    let deadline = Instant::now() + query.timeout;
    let mut waited = false;
    loop {
        let batch = next_batch(&hub, db, &label, cursor, BATCH)
            .await
            .map_err(ApiError::internal)?;
        match batch {
            Batch::Expired(oldest) => return Ok(gone(oldest)),
            Batch::Events(events, next) if next > cursor => {
                if waited && !events.is_empty() {
                    // Events came while the request waited: the caller
                    // must still be who it was, with the right to see them.
                    scope = recheck(&state, meta, &headers, opened_by).await?;
                    waited = false;
                }
                let items = visible(scope, &query.filters, events);
                cursor = next;
                if !items.is_empty() {
                    let page = ChangePage {
                        items: items.iter().map(|logged| logged.event.clone()).collect(),
                        cursor: cursor.to_string(),
                    };
                    return Ok(Json(page).into_response());
                }
                // Only events this reader may not see: read on at once.
                continue;
            }
            Batch::Events(..) => {}
        }
        let now = Instant::now();
        if now >= deadline {
            let page = ChangePage {
                items: Vec::new(),
                cursor: cursor.to_string(),
            };
            return Ok(Json(page).into_response());
        }
        let _ = tokio::time::timeout_at(deadline, head.changed()).await;
        waited = true;
    }
}

/// The cursor of a `Last-Event-ID` header (an `EventSource` reconnecting).
fn last_event_id(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("\u{0}");
    if text.trim().is_empty() {
        return Ok(None);
    }
    parse_cursor(text).map(Some).map_err(|(kind, msg)| {
        ApiError::Validation(ValidationError::single(ErrorDetail::new(
            vec![JsonValue::from("header"), JsonValue::from("last-event-id")],
            kind,
            msg,
        )))
    })
}

/// `GET {path}/events?since=&<filters>`: Server-Sent Events, one unnamed
/// event per change (`id:` its cursor, `data:` its JSON), from
/// `Last-Event-ID`, else `since`, else now; `: ping` comments while idle;
/// `event: reset` for an expired cursor; `event: error` when the reader's
/// access ends.
pub async fn stream<M: Model>(
    State(state): State<AppState>,
    OptionalUser(user): OptionalUser,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let meta = M::meta();
    let scope = authorize_meta(&state, &user, meta, Action::View).await?;
    let query = parse_query(meta, raw.as_deref(), state.list, false)?;
    let resume = last_event_id(&headers)?;
    let hub = Hub::of(&state);
    let head = hub.watch();
    let cursor = match resume.or(query.since) {
        Some(cursor) => cursor,
        None => changes::latest(&state.db)
            .await
            .map_err(ApiError::internal)?,
    };
    let settings = settings(&state);
    let now = Instant::now();
    let follow = Follow::<M> {
        label: changes::model_label(meta),
        opened_by: user.as_ref().map(|u| u.id),
        state,
        headers,
        scope,
        filters: query.filters,
        cursor,
        hub,
        head,
        settings,
        next_check: now + settings.revalidate,
        next_ping: now + settings.heartbeat,
        verified: true,
        queue: VecDeque::new(),
        done: false,
        model: PhantomData,
    };
    let events = futures_util::stream::unfold(follow, |mut follow| async move {
        let event = follow.next().await?;
        Some((Ok::<_, Infallible>(event), follow))
    });
    let mut response = Sse::new(events).into_response();
    // nginx buffers responses unless told otherwise, which would hold
    // events back until its buffer fills.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// One SSE reader's position and rights.
struct Follow<M> {
    state: AppState,
    label: String,
    headers: HeaderMap,
    opened_by: Option<i32>,
    scope: Scope,
    filters: Vec<Filter>,
    cursor: i64,
    /// The app's reader of the log, and its head as this stream saw it.
    hub: Arc<Hub>,
    head: tokio::sync::watch::Receiver<Option<i64>>,
    settings: FeedSettings,
    next_check: Instant,
    next_ping: Instant,
    /// Whether the last access check passed; while it could not be made
    /// (the database unreachable) nothing is delivered.
    verified: bool,
    queue: VecDeque<Event>,
    done: bool,
    model: PhantomData<fn() -> M>,
}

impl<M: Model> Follow<M> {
    /// The next SSE frame; `None` ends the stream.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(event);
            }
            if self.done {
                return None;
            }
            let now = Instant::now();
            if now >= self.next_check {
                self.check(now).await;
                continue;
            }
            if now >= self.next_ping {
                self.next_ping = now + self.settings.heartbeat;
                return Some(Event::default().comment("ping"));
            }
            if self.verified {
                match self.read().await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(error) => tracing::warn!(%error, "change feed: reading the log failed"),
                }
            }
            let until = self.next_check.min(self.next_ping);
            let _ = tokio::time::timeout_at(until, self.head.changed()).await;
        }
    }

    /// Re-checks the reader's access; ends the stream with `event: error`
    /// when it is gone. A check that cannot be made (the database down)
    /// holds delivery back and is tried again soon.
    async fn check(&mut self, now: Instant) {
        let meta = M::meta();
        match recheck(&self.state, meta, &self.headers, self.opened_by).await {
            Ok(scope) => {
                self.scope = scope;
                self.verified = true;
                self.next_check = now + self.settings.revalidate;
            }
            Err(error @ (ApiError::ServiceUnavailable(_) | ApiError::Internal(_))) => {
                tracing::warn!(%error, "change feed: cannot re-check a reader's access");
                self.verified = false;
                self.next_check = now + self.settings.revalidate.min(changes::POLL_INTERVAL);
            }
            Err(denied) => {
                let detail = match denied {
                    ApiError::Unauthorized(detail) | ApiError::Forbidden(detail) => detail,
                    ApiError::NotFound => "Not found".to_string(),
                    other => other.to_string(),
                };
                let data = json!({ "detail": detail }).to_string();
                self.queue
                    .push_back(Event::default().event("error").data(data));
                self.done = true;
            }
        }
    }

    /// Reads one batch after the cursor into the queue; whether there may
    /// be more to read at once (a batch was read, or a reset queued).
    async fn read(&mut self) -> Result<bool, DbErr> {
        let db = &self.state.db;
        match next_batch(&self.hub, db, &self.label, self.cursor, BATCH).await? {
            Batch::Expired(oldest) => {
                let data = json!({ "oldest": oldest.to_string() }).to_string();
                self.queue.push_back(
                    Event::default()
                        .event("reset")
                        .id(oldest.to_string())
                        .data(data),
                );
                self.cursor = oldest;
                Ok(true)
            }
            Batch::Events(_, cursor) if cursor <= self.cursor => Ok(false),
            Batch::Events(events, cursor) => {
                let items = visible(self.scope, &self.filters, events);
                self.cursor = cursor;
                for item in items {
                    let event = Event::default().id(item.event.cursor.clone());
                    self.queue.push_back(event.data(&item.json));
                }
                Ok(true)
            }
        }
    }
}
