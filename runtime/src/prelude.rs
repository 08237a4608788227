//! `use ferrobridge::prelude::*;` brings what a model file and handlers need.

pub use crate::App;
pub use crate::db::Db;
pub use crate::error::{ApiError, ApiResult};
pub use crate::{Choices, Model};
pub use axum::Json;
pub use axum::routing::{delete, get, patch, post, put};
pub use sea_orm::prelude::DateTimeUtc;
pub use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
