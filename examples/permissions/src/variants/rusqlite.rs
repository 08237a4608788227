//! (e) Plain axum + rusqlite: each tokio worker thread keeps its own SQLite
//! connection (`thread_local!`) and runs the cached prepared statement right
//! there, without sqlx's per-connection thread: the floor of SQLite access.
//! SQLite only.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::axum_seaorm::created;
use super::{LIST_SQL, list_sql};
use crate::wire::{Item, Items, NewPermission, Paging, error};

const LIST_PAGE_SQL: &str = concat!(list_sql!(), " LIMIT ?1 OFFSET ?2");

thread_local! {
    static CONNECTION: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

/// The file a `sqlite:` URL names; an error for any other URL.
pub fn sqlite_path(url: &str) -> anyhow::Result<String> {
    let Some(rest) = url.strip_prefix("sqlite:") else {
        anyhow::bail!(
            "the rusqlite variant serves SQLite only; DATABASE_URL is not a sqlite: URL (use another --variant for PostgreSQL)"
        );
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path == ":memory:" {
        anyhow::bail!("the rusqlite variant needs a SQLite file, not an in-memory database");
    }
    Ok(path.to_string())
}

fn open(path: &str) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(Duration::from_secs(5))?;
    connection.pragma_update(None, "foreign_keys", true)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    Ok(connection)
}

/// Runs `f` on this thread's connection to `path`, opening it on first use.
fn with_connection<T>(
    path: &str,
    f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    CONNECTION.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(open(path)?);
        }
        f(slot.as_ref().expect("opened above"))
    })
}

/// The router for `url` (a `sqlite:` file URL).
pub fn router(url: &str) -> anyhow::Result<axum::Router> {
    let path: Arc<str> = Arc::from(sqlite_path(url)?);
    open(&path)?; // fail at startup, not on the first request
    Ok(axum::Router::new()
        .route("/permissions", get(list).post(create))
        .route("/permissions/{pk}", get(retrieve))
        .with_state(path))
}

async fn list(State(path): State<Arc<str>>, Query(paging): Query<Paging>) -> Response {
    let slice = match paging.limit_offset() {
        Ok(slice) => slice,
        Err(msg) => return error(StatusCode::UNPROCESSABLE_ENTITY, msg),
    };
    let items = with_connection(&path, |connection| {
        let row = |r: &rusqlite::Row<'_>| {
            Ok(Item {
                pk: r.get(0)?,
                name: r.get(1)?,
            })
        };
        match slice {
            None => connection
                .prepare_cached(LIST_SQL)?
                .query_map([], row)?
                .collect::<rusqlite::Result<Vec<Item>>>(),
            Some((limit, offset)) => connection
                .prepare_cached(LIST_PAGE_SQL)?
                .query_map([limit as i64, offset as i64], row)?
                .collect::<rusqlite::Result<Vec<Item>>>(),
        }
    });
    match items {
        Ok(items) => Json(Items { items }).into_response(),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"),
    }
}

async fn retrieve(State(path): State<Arc<str>>, Path(pk): Path<i32>) -> Response {
    let row = with_connection(&path, |connection| {
        connection
            .prepare_cached("SELECT id, name FROM auth_permission WHERE id = ?1")?
            .query_row([pk], |r| {
                Ok(Item {
                    pk: r.get(0)?,
                    name: r.get(1)?,
                })
            })
            .optional()
    });
    match row {
        Ok(Some(item)) => Json(item).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "Not found"),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"),
    }
}

async fn create(State(path): State<Arc<str>>, Json(input): Json<NewPermission>) -> Response {
    if let Err(msg) = input.check() {
        return error(StatusCode::UNPROCESSABLE_ENTITY, msg);
    }
    let id = with_connection(&path, |connection| {
        connection
            .prepare_cached(
                "INSERT INTO auth_permission (name, content_type_id, codename) VALUES (?1, ?2, ?3) RETURNING id",
            )?
            .query_row(
                rusqlite::params![input.name, input.content_type_id, input.codename],
                |r| r.get::<_, i32>(0),
            )
    });
    match id {
        Ok(pk) => created(pk, input.name),
        Err(_) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Could not create the permission",
        ),
    }
}
