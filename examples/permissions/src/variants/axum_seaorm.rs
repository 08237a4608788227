//! (c) Plain axum + SeaORM, as an expert writes it without ferrobridge:
//! hand-declared entities, the connection pool in the router state.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ConnectOptions, Database, DatabaseConnection, EntityTrait, QueryOrder, QuerySelect,
};

use crate::wire::{Item, Items, NewPermission, Paging, error};

/// Hand-written SeaORM entities for Django's two tables.
pub mod entity {
    /// `django_content_type`.
    pub mod content_type {
        use sea_orm::entity::prelude::*;

        /// One row.
        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "django_content_type")]
        pub struct Model {
            /// Primary key.
            #[sea_orm(primary_key)]
            pub id: i32,
            /// App label.
            pub app_label: String,
            /// Model name.
            pub model: String,
        }

        /// No relations followed from this side.
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    /// `auth_permission`.
    pub mod permission {
        use sea_orm::entity::prelude::*;

        /// One row.
        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "auth_permission")]
        pub struct Model {
            /// Primary key.
            #[sea_orm(primary_key)]
            pub id: i32,
            /// Name.
            pub name: String,
            /// Content type.
            pub content_type_id: i32,
            /// Code name.
            pub codename: String,
        }

        /// The content type foreign key.
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {
            /// `content_type_id` -> `django_content_type.id`.
            #[sea_orm(
                belongs_to = "super::content_type::Entity",
                from = "Column::ContentTypeId",
                to = "super::content_type::Column::Id"
            )]
            ContentType,
        }

        impl Related<super::content_type::Entity> for Entity {
            fn to() -> RelationDef {
                Relation::ContentType.def()
            }
        }

        impl ActiveModelBehavior for ActiveModel {}
    }
}

use entity::{content_type, permission};

/// Opens the pool the way ferrobridge does (same SQLite pragmas, SeaORM's
/// default pool), so only the request path differs.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false);
    if url.starts_with("sqlite:") {
        options.map_sqlx_sqlite_opts(|opts| {
            opts.foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
        });
    }
    Ok(Database::connect(options).await?)
}

/// The router on a pool for `url`.
pub async fn router(url: &str) -> anyhow::Result<axum::Router> {
    let db = connect(url).await?;
    Ok(axum::Router::new()
        .route("/permissions", get(list).post(create))
        .route("/permissions/{pk}", get(retrieve))
        .with_state(db))
}

async fn list(State(db): State<DatabaseConnection>, Query(paging): Query<Paging>) -> Response {
    let slice = match paging.limit_offset() {
        Ok(slice) => slice,
        Err(msg) => return error(StatusCode::UNPROCESSABLE_ENTITY, msg),
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
    match query.into_tuple::<(i32, String)>().all(&db).await {
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

async fn retrieve(State(db): State<DatabaseConnection>, Path(pk): Path<i32>) -> Response {
    let row = permission::Entity::find_by_id(pk)
        .select_only()
        .column(permission::Column::Id)
        .column(permission::Column::Name)
        .into_tuple::<(i32, String)>()
        .one(&db)
        .await;
    match row {
        Ok(Some((pk, name))) => Json(Item { pk, name }).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "Not found"),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"),
    }
}

async fn create(
    State(db): State<DatabaseConnection>,
    Json(input): Json<NewPermission>,
) -> Response {
    if let Err(msg) = input.check() {
        return error(StatusCode::UNPROCESSABLE_ENTITY, msg);
    }
    let name = input.name.clone();
    let row = permission::ActiveModel {
        id: NotSet,
        name: Set(input.name),
        content_type_id: Set(input.content_type_id),
        codename: Set(input.codename),
    };
    match permission::Entity::insert(row).exec(&db).await {
        Ok(done) => created(done.last_insert_id, name),
        Err(_) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Could not create the permission",
        ),
    }
}

/// 201 with the new row and its `Location`, as every variant answers.
pub fn created(pk: i32, name: String) -> Response {
    let mut response = (StatusCode::CREATED, Json(Item { pk, name })).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/permissions/{pk}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}
