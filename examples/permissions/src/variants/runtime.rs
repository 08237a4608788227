//! (b) Hand-written handlers on the ferrobridge runtime: the app's router,
//! middleware and `Db` extractor, with a SeaORM query on the generated entity.

use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ferrobridge::__private::sea_orm::{
    ActiveValue::{NotSet, Set},
    QuerySelect,
};
use ferrobridge::db::Connection;
use ferrobridge::prelude::*;

use crate::wire::{Item, Items, NewPermission, Paging, error};
use crate::{content_type, permission};

/// The app: `/permissions` routes written by hand, no generated endpoints.
pub fn app() -> ferrobridge::App {
    ferrobridge::App::new("permissions")
        .route("/permissions", get(list).post(create))
        .route("/permissions/{pk}", get(retrieve))
}

/// The app's router on `db`.
pub fn router(db: Connection) -> axum::Router {
    app().router(db)
}

/// `GET /permissions`.
pub async fn list(db: Db, Query(paging): Query<Paging>) -> ApiResult<Response> {
    let slice = match paging.limit_offset() {
        Ok(slice) => slice,
        Err(msg) => return Ok(error(StatusCode::UNPROCESSABLE_ENTITY, msg)),
    };
    let mut query = permission::Entity::find()
        .select_only()
        .column(permission::Column::Id)
        .column(permission::Column::Name)
        .inner_join(content_type::Entity)
        .order_by_asc(content_type::Column::AppLabel)
        .order_by_asc(content_type::Column::Model)
        .order_by_asc(permission::Column::Codename);
    if let Some((limit, offset)) = slice {
        query = query.limit(limit).offset(offset);
    }
    let rows: Vec<(i32, String)> = query
        .into_tuple()
        .all(&*db)
        .await
        .map_err(ApiError::internal)?;
    let items = rows
        .into_iter()
        .map(|(pk, name)| Item { pk, name })
        .collect();
    Ok(Json(Items { items }).into_response())
}

/// `GET /permissions/{pk}`.
pub async fn retrieve(db: Db, Path(pk): Path<i32>) -> ApiResult<Json<Item>> {
    let row: Option<(i32, String)> = permission::Entity::find_by_id(pk)
        .select_only()
        .column(permission::Column::Id)
        .column(permission::Column::Name)
        .into_tuple()
        .one(&*db)
        .await
        .map_err(ApiError::internal)?;
    let (pk, name) = row.ok_or(ApiError::NotFound)?;
    Ok(Json(Item { pk, name }))
}

/// `POST /permissions`.
pub async fn create(db: Db, Json(input): Json<NewPermission>) -> ApiResult<Response> {
    if let Err(msg) = input.check() {
        return Ok(error(StatusCode::UNPROCESSABLE_ENTITY, msg));
    }
    let name = input.name.clone();
    let row = permission::ActiveModel {
        id: NotSet,
        name: Set(input.name),
        content_type_id: Set(input.content_type_id),
        codename: Set(input.codename),
    };
    let pk = permission::Entity::insert(row)
        .exec(&*db)
        .await
        .map_err(ApiError::internal)?
        .last_insert_id;
    let mut response = (StatusCode::CREATED, Json(Item { pk, name })).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/permissions/{pk}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}
