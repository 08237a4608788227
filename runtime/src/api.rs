//! The generated REST endpoints: list, retrieve, create, replace, partial
//! update and delete under `/api/{plural}`, written once, generic over [`Model`].

use std::str::FromStr;

use axum::Json;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sea_orm::{
    ActiveModelTrait, EntityTrait, IntoActiveModel, Order, PaginatorTrait, QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::Value;

use crate::app::Router;
use crate::db::Db;
use crate::error::{ApiError, ApiResult, ErrorDetail, ValidationError};
use crate::model::{FieldKind, Model};
use crate::schema::JsonBody;

/// Bytes escaped in a path segment: all but RFC 3986's unreserved characters.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Default `page_size` of list endpoints.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// Largest `page_size` a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

/// The routes of one model: `/api/{plural}` and `/api/{plural}/{pk}`.
pub fn routes<M: Model>() -> Router {
    let plural = M::meta().plural;
    Router::new()
        .route(&format!("/api/{plural}"), get(list::<M>).post(create::<M>))
        .route(
            &format!("/api/{plural}/{{pk}}"),
            get(retrieve::<M>)
                .put(replace::<M>)
                .patch(partial_update::<M>)
                .delete(destroy::<M>),
        )
}

/// One page of a list.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// How many rows match, over all pages.
    pub total: u64,
    /// This page's number, from 1.
    pub page: u64,
    /// Rows per page.
    pub page_size: u64,
}

/// The query of a list request.
#[derive(Debug, PartialEq, Eq)]
pub struct ListQuery {
    /// Page number, from 1.
    pub page: u64,
    /// Rows per page, 1 to [`MAX_PAGE_SIZE`].
    pub page_size: u64,
}

impl ListQuery {
    /// The parameters a list accepts.
    pub const ALLOWED: &'static [&'static str] = &["page", "page_size"];

    /// Parses a raw query string, rejecting unknown parameters (400) and bad values (422).
    pub fn parse(raw: Option<&str>) -> ApiResult<Self> {
        let mut query = ListQuery {
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
        };
        let mut errors = Vec::new();
        let mut unknown = Vec::new();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let loc = vec![Value::from("query"), Value::from(key.as_ref())];
            let target = match key.as_ref() {
                "page" => &mut query.page,
                "page_size" => &mut query.page_size,
                _ => {
                    unknown.push(ErrorDetail::new(
                        loc,
                        "unknown_parameter",
                        format!(
                            "Unknown query parameter; allowed: {}",
                            Self::ALLOWED.join(", ")
                        ),
                    ));
                    continue;
                }
            };
            let max = if key == "page_size" {
                MAX_PAGE_SIZE
            } else {
                u64::MAX
            };
            match value.parse::<i128>() {
                Ok(n) if n >= 1 && n <= i128::from(max) => *target = n as u64,
                Ok(n) => {
                    let kind = if n < 1 {
                        "greater_than_equal"
                    } else {
                        "less_than_equal"
                    };
                    errors.push(
                        ErrorDetail::new(loc, kind, format!("Input should be between 1 and {max}"))
                            .with_ctx(serde_json::json!({ "ge": 1, "le": max })),
                    );
                }
                Err(_) => errors.push(ErrorDetail::new(
                    loc,
                    "int_parsing",
                    "Input should be a valid integer, unable to parse string as an integer",
                )),
            }
        }
        if !unknown.is_empty() {
            return Err(ApiError::BadRequest(ValidationError { detail: unknown }));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(ValidationError { detail: errors }));
        }
        Ok(query)
    }
}

fn parse_key<M: Model>(raw: &str) -> ApiResult<M::Key> {
    M::Key::from_str(raw).map_err(|_| {
        let meta = M::meta();
        let kind = meta
            .field(meta.primary_key)
            .map(|f| f.kind)
            .unwrap_or(FieldKind::String);
        let (kind, msg) = match kind {
            FieldKind::Integer => (
                "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer",
            ),
            other => other.type_error(),
        };
        ApiError::Validation(ValidationError::single(ErrorDetail::new(
            vec!["path".into(), "pk".into()],
            kind,
            msg,
        )))
    })
}

/// `GET /api/{plural}`: one page in the model's default ordering, made total by the primary key.
pub async fn list<M: Model>(db: Db, RawQuery(raw): RawQuery) -> ApiResult<Json<Page<M::Read>>> {
    let query = ListQuery::parse(raw.as_deref())?;
    let meta = M::meta();
    let mut select = M::Entity::find();
    let mut pk_ordered = false;
    for term in meta.ordering {
        let column = <M::Entity as EntityTrait>::Column::from_str(term.field)
            .map_err(|_| ApiError::internal(format!("unknown ordering field {}", term.field)))?;
        pk_ordered |= term.field == meta.primary_key;
        let order = if term.descending {
            Order::Desc
        } else {
            Order::Asc
        };
        select = select.order_by(column, order);
    }
    if !pk_ordered {
        select = select.order_by(M::primary_key_column(), Order::Asc);
    }
    let total = select
        .clone()
        .count(&*db)
        .await
        .map_err(ApiError::internal)?;
    let rows = select
        .offset((query.page - 1).saturating_mul(query.page_size))
        .limit(query.page_size)
        .all(&*db)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(Page {
        items: rows.into_iter().map(M::Read::from).collect(),
        total,
        page: query.page,
        page_size: query.page_size,
    }))
}

/// `GET /api/{plural}/{pk}`: 404 `{"detail":"Not found"}` when there is no such row.
pub async fn retrieve<M: Model>(db: Db, Path(pk): Path<String>) -> ApiResult<Json<M::Read>> {
    let key = parse_key::<M>(&pk)?;
    let row = M::Entity::find_by_id(key)
        .one(&*db)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(M::Read::from(row)))
}

/// `POST /api/{plural}`: 201 with the new object and its `Location`.
pub async fn create<M: Model>(db: Db, JsonBody(input): JsonBody<M::Create>) -> ApiResult<Response> {
    let row = M::insert_from(input)
        .insert(&*db)
        .await
        .map_err(|e| ApiError::from_db(M::meta(), e))?;
    let key = M::primary_key(&row).to_string();
    let key = percent_encoding::utf8_percent_encode(&key, PATH_SEGMENT);
    let location = format!("/api/{}/{key}", M::meta().plural);
    let mut response = (StatusCode::CREATED, Json(M::Read::from(row))).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

async fn find_row<M: Model>(db: &Db, pk: &str) -> ApiResult<<M::Entity as EntityTrait>::Model> {
    let key = parse_key::<M>(pk)?;
    M::Entity::find_by_id(key)
        .one(&**db)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError::NotFound)
}

async fn save<M: Model>(
    db: &Db,
    row: <M::Entity as EntityTrait>::Model,
    active: M::ActiveModel,
) -> ApiResult<Json<M::Read>> {
    if !active.is_changed() {
        return Ok(Json(M::Read::from(row)));
    }
    let row = active
        .update(&**db)
        .await
        .map_err(|e| ApiError::from_db(M::meta(), e))?;
    Ok(Json(M::Read::from(row)))
}

/// `PUT /api/{plural}/{pk}`: replaces every writable field.
pub async fn replace<M: Model>(
    db: Db,
    Path(pk): Path<String>,
    JsonBody(input): JsonBody<M::Create>,
) -> ApiResult<Json<M::Read>> {
    let row = find_row::<M>(&db, &pk).await?;
    let mut active: M::ActiveModel = row.clone().into_active_model();
    M::replace_with(&mut active, input);
    save::<M>(&db, row, active).await
}

/// `PATCH /api/{plural}/{pk}`: changes the fields present in the body.
pub async fn partial_update<M: Model>(
    db: Db,
    Path(pk): Path<String>,
    JsonBody(input): JsonBody<M::Update>,
) -> ApiResult<Json<M::Read>> {
    let row = find_row::<M>(&db, &pk).await?;
    let mut active: M::ActiveModel = row.clone().into_active_model();
    M::patch_with(&mut active, input);
    save::<M>(&db, row, active).await
}

/// `DELETE /api/{plural}/{pk}`: 204, or 404 when there is no such row.
pub async fn destroy<M: Model>(db: Db, Path(pk): Path<String>) -> ApiResult<StatusCode> {
    let key = parse_key::<M>(&pk)?;
    let result = M::Entity::delete_by_id(key)
        .exec(&*db)
        .await
        .map_err(|e| ApiError::from_db(M::meta(), e))?;
    if result.rows_affected == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /healthz`: 200 `{"status":"ok"}` when the database answers, 503 otherwise.
pub async fn healthz(db: Db) -> Response {
    match db.ping().await {
        Ok(()) => Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(error) => {
            tracing::warn!(%error, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "detail": "database unreachable" })),
            )
                .into_response()
        }
    }
}
