//! `use ferrobridge::prelude::*;` brings what a model file and handlers need.

pub use crate::App;
pub use crate::auth::{CurrentUser, OptionalUser, Perm};
pub use crate::db::Db;
pub use crate::error::{ApiError, ApiResult};
pub use crate::openapi::{Operation, RouteDocs};
pub use crate::{Choices, Model};
pub use axum::Json;
pub use axum::routing::{delete, get, patch, post, put};
// Field types a model may use, so a model file needs no other import
// (`serde_json::Value` stays qualified: `Json` here is axum's extractor).
pub use chrono::NaiveDate;
pub use rust_decimal::Decimal;
/// Derive it on the types of hand-written handlers to document them (see
/// [`Operation::response`]); the derive needs `schemars` among the crate's
/// dependencies, or `#[schemars(crate = "ferrobridge::schemars")]`.
pub use schemars::JsonSchema;
pub use sea_orm::prelude::DateTimeUtc;
pub use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
pub use uuid::Uuid;
