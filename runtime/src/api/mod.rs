//! The generated REST endpoints: list, retrieve, create, replace, partial
//! update and delete under `/api/{plural}`, written once, generic over [`Model`].

use std::collections::HashMap;
use std::str::FromStr;

use crate::db::Connection;
use axum::Json;
use axum::extract::{MatchedPath, Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sea_orm::{EntityTrait, IntoActiveModel, Value};
use serde::Serialize;
use serde_json::{Value as JsonValue, json};

pub use crate::query::{
    Filter, ListQuery, ListSettings, LoadByKeys, LoadedRows, Lookup, OrderTerm, Pagination,
    RESERVED, encode_cursor, integer_range, load_by_keys, max_page, null_of, parse_expand,
    parse_value, range_ctx, search_words, value_from_json,
};

pub use crate::auth::policy::{Scope, authorize, authorize_meta, permission_code};
use crate::auth::policy::{check_row, json_in_scope};
use crate::auth::{CurrentUser, OptionalUser};
use crate::db::Db;
use crate::error::{ApiError, ApiResult, ErrorDetail, ErrorKind, ValidationError};
pub use crate::model::Action;
use crate::model::{FieldKind, FieldMeta, Model, ModelMeta};
use crate::query::{RowView, row_view};
use crate::schema::DeferredJson;
use crate::state::{AppState, Router};
use crate::write::UnitOfWork;
use crate::write::cascade::{self, DeleteRights};

/// The routes of one model: `/api/{plural}` and `/api/{plural}/{pk}`.
pub fn routes<M: Model>() -> Router {
    routes_at::<M>(&format!("/api/{}", M::meta().plural))
}

/// The routes of one model mounted at `path` (`{path}` and `{path}/{pk}`),
/// as [`App::model_at`](crate::App::model_at) registers them.
pub fn routes_at<M: Model>(path: &str) -> Router {
    let path = path.trim_end_matches('/');
    Router::new()
        .route(path, get(list::<M>).post(create::<M>))
        .route(
            &format!("{path}/{{pk}}"),
            get(retrieve::<M>)
                .put(replace::<M>)
                .patch(partial_update::<M>)
                .delete(destroy::<M>),
        )
}

/// A list without pages: `{"items": [...]}` (`#[api(pagination = "none")]`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Items<T> {
    /// The rows.
    pub items: Vec<T>,
}

/// One page of a list (`?page=`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// How many rows match, over all pages.
    pub total: u64,
    /// This page's number, from 1.
    #[schemars(range(min = 1))]
    pub page: u64,
    /// Rows per page.
    #[schemars(range(min = 1))]
    pub page_size: u64,
}

/// One page of a list by keyset (`?cursor=`): no total, a cursor onward.
///
/// `next` is always sent (null on the last page), so the schema lists it as
/// required although it is an `Option`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(extend("required" = ["items", "next", "page_size"]))]
pub struct CursorPage<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// The `cursor` of the next page; null on the last page.
    pub next: Option<String>,
    /// Rows per page.
    #[schemars(range(min = 1))]
    pub page_size: u64,
}

/// Bytes escaped in a path segment: all but RFC 3986's unreserved characters.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(crate) fn parse_key<M: Model>(raw: &str) -> ApiResult<M::Key> {
    M::Key::from_str(raw).map_err(|_| {
        let meta = M::meta();
        let kind = meta
            .field(meta.primary_key)
            .map(|f| f.kind)
            .unwrap_or(FieldKind::String);
        let (kind, msg) = match kind {
            FieldKind::Integer => (
                ErrorKind::IntParsing,
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

/// `GET /api/{plural}`: one page of rows, filtered, searched and ordered
/// as the query asks (see [`ListQuery`]), with `?expand=` embedding related objects.
pub async fn list<M: Model>(
    State(state): State<AppState>,
    OptionalUser(user): OptionalUser,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let scope = authorize::<M>(&state, &user, Action::View).await?;
    let meta = M::meta();
    let mut query = ListQuery::parse(meta, raw.as_deref(), state.list)?;
    if let (Scope::OwnRows(user_id), Some(owner)) =
        (scope, meta.api.owner.and_then(|o| meta.field(o)))
    {
        // Rows of others look absent: the owner rule is one more filter.
        query.filters.push(Filter::exact(
            owner,
            crate::query::integer_value(owner, user_id),
        ));
    }
    let fetched = crate::query::fetch_read::<M>(&state.db, &query)
        .await
        .map_err(ApiError::internal)?;
    let items: Vec<M::Read> = fetched.rows;
    match query.pagination {
        Pagination::All { .. } if query.expand.is_empty() => {
            Ok(Json(Items { items }).into_response())
        }
        Pagination::All { .. } => {
            let items = expand_items(&state, &user, &query.expand, to_json_items(items)?).await?;
            Ok(Json(json!({ "items": items })).into_response())
        }
        Pagination::Page { page, page_size } => {
            let total = fetched.total.unwrap_or_default();
            if query.expand.is_empty() {
                let page = Page {
                    items,
                    total,
                    page,
                    page_size,
                };
                return Ok(Json(page).into_response());
            }
            let items = expand_items(&state, &user, &query.expand, to_json_items(items)?).await?;
            Ok(Json(
                json!({ "items": items, "total": total, "page": page, "page_size": page_size }),
            )
            .into_response())
        }
        Pagination::Cursor { page_size, .. } => {
            let items = to_json_items(items)?;
            let next = match items.last() {
                Some(last) if fetched.more => Some(next_cursor(&query.ordering, last)),
                _ => None,
            };
            let items = expand_items(&state, &user, &query.expand, items).await?;
            Ok(
                Json(json!({ "items": items, "next": next, "page_size": page_size }))
                    .into_response(),
            )
        }
    }
}

/// The cursor of the page after the one ending with `last` (a `Read`
/// object): its ordering values, read back from the JSON.
fn next_cursor(ordering: &[OrderTerm], last: &JsonValue) -> String {
    let values = ordering
        .iter()
        .map(|t| {
            t.field
                .read_as
                .and_then(|key| last.get(key))
                .cloned()
                .unwrap_or(JsonValue::Null)
        })
        .collect();
    encode_cursor(ordering, values)
}

fn to_json_items<T: Serialize>(items: Vec<T>) -> ApiResult<Vec<JsonValue>> {
    items
        .into_iter()
        .map(|item| serde_json::to_value(item).map_err(ApiError::internal))
        .collect()
}

fn key_text(value: &JsonValue) -> Option<String> {
    match value {
        JsonValue::String(s) => Some(s.clone()),
        JsonValue::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Embeds, for each foreign key in `expand`, the referenced object under the
/// relation's name, with one query per relation for all `items`.
///
/// Each relation passes the target model's own policy for `view`, as a list
/// of the target would: a caller who may not view the target model at all
/// gets 401/403 naming the relation and the permission; a row outside the
/// caller's row policy (`own_rows_only`) is embedded as `null`.
async fn expand_items(
    state: &AppState,
    user: &Option<CurrentUser>,
    expand: &[&'static FieldMeta],
    mut items: Vec<JsonValue>,
) -> ApiResult<Vec<JsonValue>> {
    let db = &state.db;
    for field in expand {
        let Some(target) = field.references.map(|r| r()) else {
            continue;
        };
        let Some(target_pk) = target.field(target.primary_key) else {
            continue;
        };
        let scope = authorize_meta(state, user, target, Action::View)
            .await
            .map_err(|error| {
                let why = format!(
                    "expand={}: viewing {} needs `{}`",
                    field.relation_name(),
                    target.verbose_name(),
                    permission_code(target, Action::View)
                );
                match error {
                    ApiError::Unauthorized(_) => ApiError::Unauthorized(why),
                    ApiError::Forbidden(_) => ApiError::Forbidden(why),
                    other => other,
                }
            })?;
        let mut keys: Vec<String> = items
            .iter()
            .filter_map(|item| item.get(field.read_as?).and_then(key_text))
            .collect();
        keys.sort();
        keys.dedup();
        let values: Vec<Value> = keys
            .iter()
            .filter_map(|k| parse_value(target_pk, k).ok())
            .collect();
        let loaded: HashMap<String, JsonValue> = if values.is_empty() {
            HashMap::new()
        } else {
            (target.load_by_keys)(db, values)
                .await
                .map_err(ApiError::internal)?
                .into_iter()
                .filter(|(_, row)| json_in_scope(target, scope, row))
                .collect()
        };
        for item in &mut items {
            let embedded = item
                .get(field.read_as.unwrap_or(field.name))
                .and_then(key_text)
                .and_then(|k| loaded.get(&k).cloned())
                .unwrap_or(JsonValue::Null);
            if let JsonValue::Object(object) = item {
                object.insert(field.relation_name().to_string(), embedded);
            }
        }
    }
    Ok(items)
}

/// `GET /api/{plural}/{pk}`: 404 `{"detail":"Not found"}` when there is no
/// such row; `?expand=` embeds related objects as in lists.
pub async fn retrieve<M: Model>(
    State(state): State<AppState>,
    OptionalUser(user): OptionalUser,
    Path(pk): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let scope = authorize::<M>(&state, &user, Action::View).await?;
    let db = &state.db;
    let expand = parse_expand(M::meta(), raw.as_deref(), state.list)?;
    let read = match scope {
        Scope::OwnRows(user_id) => {
            // The owner is checked on the whole row; `Read` may not show it.
            let row = find_row::<M>(db, &pk).await?;
            if M::owner_of(&row) != Some(user_id) {
                return Err(ApiError::NotFound);
            }
            M::Read::from(row)
        }
        Scope::All | Scope::Owned(_) => find_read::<M>(db, &pk).await?,
    };
    if expand.is_empty() {
        return Ok(Json(read).into_response());
    }
    let items = expand_items(&state, &user, &expand, to_json_items(vec![read])?).await?;
    Ok(Json(items.into_iter().next().unwrap_or(JsonValue::Null)).into_response())
}

/// `POST /api/{plural}`: 201 with the new object and its `Location`.
pub async fn create<M: Model>(
    State(state): State<AppState>,
    OptionalUser(user): OptionalUser,
    path: MatchedPath,
    body: DeferredJson,
) -> ApiResult<Response> {
    authorize::<M>(&state, &user, Action::Add).await?;
    let (input, _) = crate::auth::read_body::<M, M::Create>(&state, body, None)?;
    let active = M::insert_from(input);
    check_write_perms::<M>(&state, &user, &active, None).await?;
    let work = UnitOfWork::begin_as(&state.db, user.as_ref().map(|u| u.id)).await?;
    let owner = user.as_ref().map(|user| i64::from(user.id));
    let row = work.create::<M>(active, owner).await?;
    work.commit().await?;
    let key = M::primary_key(&row).to_string();
    let key = percent_encoding::utf8_percent_encode(&key, PATH_SEGMENT);
    let location = format!("{}/{key}", path.as_str().trim_end_matches('/'));
    let mut response = (StatusCode::CREATED, Json(M::Read::from(row))).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

async fn find_row<M: Model>(
    db: &Connection,
    pk: &str,
) -> ApiResult<<M::Entity as EntityTrait>::Model> {
    let key = parse_key::<M>(pk)?;
    M::Entity::find_by_id(key)
        .one(db)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError::NotFound)
}

/// The `Read` of the row `pk`, selecting only the columns it shows.
async fn find_read<M: Model>(db: &Connection, pk: &str) -> ApiResult<M::Read> {
    let key = parse_key::<M>(pk)?;
    let stmt = crate::query::select_read_by_key::<M>(db.get_database_backend(), key)
        .map_err(ApiError::internal)?;
    let rows = (db.query_read(stmt, crate::model::read_reader::<M>()).await)
        .map_err(ApiError::internal)?;
    rows.into_iter().next().ok_or(ApiError::NotFound)
}

/// `PUT /api/{plural}/{pk}`: replaces every writable field.
pub async fn replace<M: Model>(
    State(state): State<AppState>,
    OptionalUser(user): OptionalUser,
    Path(pk): Path<String>,
    body: DeferredJson,
) -> ApiResult<Json<M::Read>> {
    change::<M, M::Create>(&state, &user, &pk, body, M::replace_with).await
}

/// `PATCH /api/{plural}/{pk}`: changes the fields present in the body.
pub async fn partial_update<M: Model>(
    State(state): State<AppState>,
    OptionalUser(user): OptionalUser,
    Path(pk): Path<String>,
    body: DeferredJson,
) -> ApiResult<Json<M::Read>> {
    change::<M, M::Update>(&state, &user, &pk, body, M::patch_with).await
}

/// PUT and PATCH: permission, then the row (404), its owner, then the body,
/// applied to the row by `apply` and saved with any tokens a new password
/// revokes, in one transaction.
async fn change<M: Model, T: crate::schema::FromJsonBody>(
    state: &AppState,
    user: &Option<CurrentUser>,
    pk: &str,
    body: DeferredJson,
    apply: fn(&mut M::ActiveModel, T),
) -> ApiResult<Json<M::Read>> {
    let scope = authorize::<M>(state, user, Action::Change).await?;
    let row = find_row::<M>(&state.db, pk).await?;
    check_row::<M>(scope, &row)?;
    let (input, password) = crate::auth::read_body::<M, T>(state, body, Some(&row))?;
    let key = M::primary_key(&row);
    let mut active: M::ActiveModel = row.clone().into_active_model();
    apply(&mut active, input);
    check_write_perms::<M>(state, user, &active, Some(&row)).await?;
    let work = UnitOfWork::begin_as(&state.db, user.as_ref().map(|u| u.id)).await?;
    let saved = work.update::<M>(row, active).await?;
    if password {
        crate::auth::password_written::<M>(work.tx(), &key).await?;
    }
    work.commit().await?;
    Ok(Json(M::Read::from(saved)))
}

/// Refuses (403 naming the field and the permission) a write that sets a
/// `#[field(write_perm = "change")]` field the caller may not write: on
/// create (`before` is `None`) to anything but its default, on update to
/// anything but its stored value ([`crate::write::guarded_changes`]).
pub(crate) async fn check_write_perms<M: Model>(
    state: &AppState,
    user: &Option<CurrentUser>,
    active: &M::ActiveModel,
    before: Option<&<M::Entity as EntityTrait>::Model>,
) -> ApiResult<()> {
    let meta = M::meta();
    for (field, action) in crate::write::guarded_changes::<M>(active, before) {
        let code = meta.permission_code(action);
        let why = || format!("Setting `{}` needs the permission `{code}`", field.name);
        let Some(user) = user else {
            return Err(ApiError::Unauthorized(why()));
        };
        if !user
            .has_perm(&state.db, &code)
            .await
            .map_err(ApiError::internal)?
        {
            return Err(ApiError::Forbidden(why()));
        }
    }
    Ok(())
}

/// `DELETE /api/{plural}/{pk}`: 204, or 404 when there is no such row.
///
/// The rows the delete cascades to are found by the write layer's
/// [`cascade`] walk (as the admin's delete page finds them), and each must
/// be deletable by the caller under its own model's policy (owner rules
/// included), else 403 naming what blocks it; a `restrict` reference
/// answers 409.
pub async fn destroy<M: Model>(
    State(state): State<AppState>,
    OptionalUser(user): OptionalUser,
    Path(pk): Path<String>,
) -> ApiResult<StatusCode> {
    let scope = authorize::<M>(&state, &user, Action::Delete).await?;
    let row = find_row::<M>(&state.db, &pk).await?;
    check_row::<M>(scope, &row)?;
    check_cascade::<M>(&state, &user, &row).await?;
    let work = UnitOfWork::begin_as(&state.db, user.as_ref().map(|u| u.id)).await?;
    if work
        .delete_key::<M>(state.models(), M::primary_key(&row))
        .await?
        == 0
    {
        return Err(ApiError::NotFound);
    }
    work.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The API's answer to "may the caller delete these cascaded rows": the
/// model's own policy for `delete`, with owner rules checked row by row.
struct ApiRights<'a> {
    state: &'a AppState,
    user: &'a Option<CurrentUser>,
    /// The permissions missing, for the 403's message.
    missing: std::sync::Mutex<Vec<String>>,
}

impl DeleteRights for ApiRights<'_> {
    fn may_delete<'a>(
        &'a self,
        meta: &'static ModelMeta,
        rows: &'a [RowView],
        complete: bool,
    ) -> crate::query::BoxFut<'a, bool> {
        Box::pin(async move {
            let allowed = match authorize_meta(self.state, self.user, meta, Action::Delete).await {
                Ok(Scope::All) => true,
                Ok(Scope::Owned(user) | Scope::OwnRows(user)) => {
                    // Past the collector's cap the rows are not all known:
                    // an owner rule cannot be checked, so it does not pass.
                    complete
                        && rows.iter().all(|row| {
                            meta.api
                                .owner
                                .and_then(|owner| row.value(owner))
                                .map(sea_orm::sea_query::value::sea_value_to_json_value)
                                .and_then(|v| v.as_i64())
                                == Some(user)
                        })
                }
                Err(_) => false,
            };
            if !allowed && let Ok(mut missing) = self.missing.lock() {
                missing.push(format!(
                    "{} (`{}`)",
                    meta.verbose_name(),
                    permission_code(meta, Action::Delete)
                ));
            }
            allowed
        })
    }
}

/// Refuses a delete of `row` that would cascade to rows the caller may not
/// delete (403) or that other rows protect (409), as the admin's delete
/// page does. The walk covers the app's registered models
/// ([`AppState::models`]).
async fn check_cascade<M: Model>(
    state: &AppState,
    user: &Option<CurrentUser>,
    row: &<M::Entity as EntityTrait>::Model,
) -> ApiResult<()> {
    let meta = M::meta();
    let rights = ApiRights {
        state,
        user,
        missing: std::sync::Mutex::new(Vec::new()),
    };
    let collected = cascade::collect(
        &state.db,
        state.models().all(),
        &rights,
        meta,
        &[row_view::<M>(row)],
    )
    .await
    .map_err(ApiError::internal)?;
    if !collected.protected.is_empty() {
        return Err(ApiError::Conflict(format!(
            "Cannot delete this {}: other objects still reference it.",
            meta.object_name
        )));
    }
    let missing = rights.missing.into_inner().unwrap_or_default();
    if !missing.is_empty() {
        return Err(ApiError::Forbidden(format!(
            "Deleting this {} would also delete objects you may not delete: {}",
            meta.verbose_name(),
            missing.join(", ")
        )));
    }
    Ok(())
}

/// `GET /healthz`: 200 `{"status":"ok"}` when the database answers, 503 with
/// `Retry-After` otherwise.
pub async fn healthz(db: Db) -> Response {
    match db.ping().await {
        Ok(()) => Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(error) => {
            tracing::warn!(%error, "health check: database unreachable");
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "detail": "database unreachable" })),
            )
                .into_response();
            crate::error::unavailable_headers(response.headers_mut());
            response
        }
    }
}
