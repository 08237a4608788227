//! (d) Plain axum + sqlx with raw SQL: the floor of this stack.

use std::str::FromStr;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use super::axum_seaorm::created;
use super::{LIST_SQL, list_sql};
use crate::wire::{Item, Items, NewPermission, Paging, error};

/// A pool on one of the three backends.
#[derive(Clone, Debug)]
pub enum Pool {
    /// SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
    /// MySQL or MariaDB.
    Mysql(MySqlPool),
}

/// Opens a pool configured as SeaORM's default one (on SQLite: one
/// connection, ferrobridge's pragmas), so the stacks share the same pool.
pub async fn connect(url: &str) -> anyhow::Result<Pool> {
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        Ok(Pool::Sqlite(pool))
    } else if url.starts_with("mysql:") {
        Ok(Pool::Mysql(MySqlPoolOptions::new().connect(url).await?))
    } else {
        Ok(Pool::Postgres(PgPoolOptions::new().connect(url).await?))
    }
}

/// The router on a pool for `url`.
pub async fn router(url: &str) -> anyhow::Result<axum::Router> {
    let pool = connect(url).await?;
    Ok(axum::Router::new()
        .route("/permissions", get(list).post(create))
        .route("/permissions/{pk}", get(retrieve))
        .with_state(pool))
}

/// SQLite's and MySQL's placeholders.
const LIST_PAGE_SQLITE: &str = concat!(list_sql!(), " LIMIT ? OFFSET ?");
const LIST_PAGE_PG: &str = concat!(list_sql!(), " LIMIT $1 OFFSET $2");

async fn list(State(pool): State<Pool>, Query(paging): Query<Paging>) -> Response {
    let slice = match paging.limit_offset() {
        Ok(slice) => slice,
        Err(msg) => return error(StatusCode::UNPROCESSABLE_ENTITY, msg),
    };
    let rows: Result<Vec<(i32, String)>, sqlx::Error> = match (&pool, slice) {
        (Pool::Sqlite(p), None) => sqlx::query_as(LIST_SQL).fetch_all(p).await,
        (Pool::Postgres(p), None) => sqlx::query_as(LIST_SQL).fetch_all(p).await,
        (Pool::Mysql(p), None) => sqlx::query_as(LIST_SQL).fetch_all(p).await,
        (Pool::Sqlite(p), Some((limit, offset))) => {
            sqlx::query_as(LIST_PAGE_SQLITE)
                .bind(limit as i64)
                .bind(offset as i64)
                .fetch_all(p)
                .await
        }
        (Pool::Postgres(p), Some((limit, offset))) => {
            sqlx::query_as(LIST_PAGE_PG)
                .bind(limit as i64)
                .bind(offset as i64)
                .fetch_all(p)
                .await
        }
        (Pool::Mysql(p), Some((limit, offset))) => {
            sqlx::query_as(LIST_PAGE_SQLITE)
                .bind(limit as i64)
                .bind(offset as i64)
                .fetch_all(p)
                .await
        }
    };
    match rows {
        Ok(rows) => {
            let items = rows
                .into_iter()
                .map(|(pk, name)| Item { pk, name })
                .collect();
            Json(Items { items }).into_response()
        }
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"),
    }
}

async fn retrieve(State(pool): State<Pool>, Path(pk): Path<i32>) -> Response {
    let row: Result<Option<(i32, String)>, sqlx::Error> = match &pool {
        Pool::Sqlite(p) => {
            sqlx::query_as("SELECT id, name FROM auth_permission WHERE id = ?")
                .bind(pk)
                .fetch_optional(p)
                .await
        }
        Pool::Postgres(p) => {
            sqlx::query_as("SELECT id, name FROM auth_permission WHERE id = $1")
                .bind(pk)
                .fetch_optional(p)
                .await
        }
        Pool::Mysql(p) => {
            sqlx::query_as("SELECT id, name FROM auth_permission WHERE id = ?")
                .bind(pk)
                .fetch_optional(p)
                .await
        }
    };
    match row {
        Ok(Some((pk, name))) => Json(Item { pk, name }).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "Not found"),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"),
    }
}

async fn create(State(pool): State<Pool>, Json(input): Json<NewPermission>) -> Response {
    if let Err(msg) = input.check() {
        return error(StatusCode::UNPROCESSABLE_ENTITY, msg);
    }
    let id: Result<(i32,), sqlx::Error> = match &pool {
        Pool::Sqlite(p) => {
            sqlx::query_as(
                "INSERT INTO auth_permission (name, content_type_id, codename) VALUES (?, ?, ?) RETURNING id",
            )
            .bind(&input.name)
            .bind(input.content_type_id)
            .bind(&input.codename)
            .fetch_one(p)
            .await
        }
        Pool::Postgres(p) => {
            sqlx::query_as(
                "INSERT INTO auth_permission (name, content_type_id, codename) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(&input.name)
            .bind(input.content_type_id)
            .bind(&input.codename)
            .fetch_one(p)
            .await
        }
        // MySQL has no `RETURNING` (MariaDB's is 10.5+): the connection's
        // last insert id instead.
        Pool::Mysql(p) => sqlx::query(
            "INSERT INTO auth_permission (name, content_type_id, codename) VALUES (?, ?, ?)",
        )
        .bind(&input.name)
        .bind(input.content_type_id)
        .bind(&input.codename)
        .execute(p)
        .await
        .and_then(|done| {
            i32::try_from(done.last_insert_id())
                .map(|id| (id,))
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))
        }),
    };
    match id {
        Ok((pk,)) => created(pk, input.name),
        Err(_) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Could not create the permission",
        ),
    }
}
