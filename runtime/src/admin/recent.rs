//! `GET /admin/{app}/{model}/changes/?since=CURSOR`: which rows of a model
//! changed after a change-log cursor, for the change list's "rows changed
//! since this page was loaded" notice.
//!
//! The change list embeds the log's newest cursor ([`changes::latest`])
//! when it renders, and the admin's script long-polls this endpoint from
//! it. The answer is `{"changed": ["5", "7"], "cursor": "42"}`: the primary
//! keys changed (created, updated or deleted) after `since`, each once, and
//! the cursor to ask from next. With nothing changed it waits, up to
//! `timeout` seconds (default and most [`MAX_WAIT`]), for a commit, then
//! answers an empty list with the same cursor. A cursor older than the
//! retained log answers 410 with the oldest one still readable: the page
//! can no longer tell which rows changed, only that it is out of date.
//!
//! It needs what the change list needs: a staff session (else the login
//! redirect) and the model's view or change permission (else 403). The
//! admin shows every row to such a user, so every row's key is theirs to
//! see here.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::autocomplete::{json_error, viewable};
use super::context::{AdminCtx, Reject, server_error};
use crate::changes::{self, Batch};

/// The longest one request waits for a change: under the default request
/// timeout (30 s), so a quiet list answers before the server gives up.
pub const MAX_WAIT: Duration = Duration::from_secs(25);

/// How many log events one answer reads at most; the rest come with the
/// next request, which answers at once.
const READ_LIMIT: u64 = 1000;

/// The query string: the cursor, and how long to wait for a change.
#[derive(Debug, Default, Deserialize)]
pub struct RecentQuery {
    /// The cursor to read after, as the page embedded it (required).
    since: Option<String>,
    /// Seconds to wait when nothing changed yet, `0..=25` (default 25).
    timeout: Option<String>,
}

/// `since` and `timeout` checked, or the 400 answer saying what is wrong.
fn parse(query: &RecentQuery) -> Result<(i64, Duration), Response> {
    let since = match query.since.as_deref().map(str::trim) {
        None | Some("") => {
            return Err(json_error(
                StatusCode::BAD_REQUEST,
                "`since` is required: the cursor the change list was rendered at.",
            ));
        }
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|c| *c >= 0)
            .ok_or_else(|| {
                json_error(
                    StatusCode::BAD_REQUEST,
                    "`since` must be a cursor: a whole number from 0.",
                )
            })?,
    };
    let max = MAX_WAIT.as_secs();
    let wait = match query.timeout.as_deref().map(str::trim) {
        None | Some("") => MAX_WAIT,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|s| *s <= max)
            .map(Duration::from_secs)
            .ok_or_else(|| {
                json_error(
                    StatusCode::BAD_REQUEST,
                    &format!("`timeout` must be a whole number of seconds from 0 to {max}."),
                )
            })?,
    };
    Ok((since, wait))
}

/// The handler: see the module docs.
pub async fn recent_changes(
    ctx: AdminCtx,
    Path((app, model)): Path<(String, String)>,
    Query(query): Query<RecentQuery>,
) -> Result<Response, Reject> {
    ctx.staff()?;
    let shown = ctx
        .admin()
        .find(&app, &model)
        .filter(|o| !o.meta().admin.hidden);
    let ops = match viewable(&ctx, shown).await {
        Ok(ops) => ops,
        Err(answer) => return Ok(answer),
    };
    let meta = ops.meta();
    let (mut since, wait) = match parse(&query) {
        Ok(parsed) => parsed,
        Err(answer) => return Ok(answer),
    };
    let db = &ctx.state.db;
    let label = changes::model_label(meta);
    let deadline = Instant::now() + wait;
    // The app's one reader of the log, as the feed's clients use it;
    // watched before the first read, so a commit between a read that found
    // nothing and the wait still wakes the wait.
    let hub = changes::Hub::of(&ctx.state);
    let mut head = hub.watch();
    let changed = loop {
        let batch = changes::next_batch(&hub, db, &label, since, READ_LIMIT)
            .await
            .map_err(|e| Reject(server_error(e)))?;
        match batch {
            Batch::Expired(oldest) => {
                let mut answer = (
                    StatusCode::GONE,
                    Json(json!({
                        "detail": "The change log no longer holds this cursor: reload the page.",
                        "oldest": oldest.to_string(),
                    })),
                )
                    .into_response();
                ctx.finish(&mut answer);
                return Ok(answer);
            }
            Batch::Events(events, cursor) => {
                since = cursor;
                if !events.is_empty() {
                    let mut pks: Vec<String> = Vec::new();
                    for logged in events {
                        if !pks.contains(&logged.event.pk) {
                            pks.push(logged.event.pk.clone());
                        }
                    }
                    break pks;
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break Vec::new();
        }
        let _ = tokio::time::timeout(left, head.changed()).await;
    };
    let mut answer =
        Json(json!({ "changed": changed, "cursor": since.to_string() })).into_response();
    ctx.finish(&mut answer);
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(since: Option<&str>, timeout: Option<&str>) -> RecentQuery {
        RecentQuery {
            since: since.map(String::from),
            timeout: timeout.map(String::from),
        }
    }

    #[test]
    fn since_is_a_required_cursor() {
        assert!(parse(&query(None, None)).is_err());
        assert!(parse(&query(Some(""), None)).is_err());
        assert!(parse(&query(Some("-1"), None)).is_err());
        assert!(parse(&query(Some("abc"), None)).is_err());
        assert_eq!(parse(&query(Some("7"), None)).ok(), Some((7, MAX_WAIT)));
    }

    #[test]
    fn timeout_is_bounded() {
        assert_eq!(
            parse(&query(Some("0"), Some("0"))).ok(),
            Some((0, Duration::ZERO))
        );
        assert_eq!(
            parse(&query(Some("0"), Some("25"))).ok(),
            Some((0, MAX_WAIT))
        );
        assert!(parse(&query(Some("0"), Some("26"))).is_err());
        assert!(parse(&query(Some("0"), Some("1.5"))).is_err());
    }
}
