//! What `#[derive(Model)]` emits beside its compile errors, so code that
//! uses the model (`Post::meta()`, `post::Entity`, `PostCreate`,
//! `App::model::<Post>()`) gets no cascade of further errors, as
//! thiserror does. The crate does not build while the derive reports an
//! error, so nothing here ever runs; it only has to type-check.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::schema::FromJsonBody;

/// The stand-in row of a model whose derive failed.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ferrobridge_fallback")]
pub struct Model {
    /// A key, as every entity needs one.
    #[sea_orm(primary_key)]
    pub id: i64,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter)]
pub enum Relation {}

impl RelationTrait for Relation {
    fn def(&self) -> RelationDef {
        match *self {}
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// The stand-in Create and Update bodies.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Body {}

impl FromJsonBody for Body {
    fn from_json_body(_: serde_json::Value) -> Result<Self, ValidationError> {
        Ok(Body {})
    }
}

/// The stand-in Read schema.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Read {}

impl From<Model> for Read {
    fn from(_: Model) -> Self {
        Read {}
    }
}

/// The stand-in permission types of `post::perms`.
pub mod perms {
    macro_rules! perms {
        ($($name:ident),*) => {$(
            /// A permission of a model whose derive failed.
            #[derive(Clone, Copy, Debug)]
            pub struct $name;
            impl crate::auth::PermissionCode for $name {
                const CODE: &'static str = "";
            }
        )*};
    }
    perms!(Add, Change, Delete, View);
}
