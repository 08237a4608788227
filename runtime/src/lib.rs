//! ferrobridge: Django and FastAPI in one Rust codebase.
//!
//! Write a plain struct, add `#[derive(Model)]`, register it with
//! [`App::model`], and get a SeaORM entity, validated request/response
//! schemas and REST CRUD endpoints under `/api/{plural}`, on axum.
//!
//! ```no_run
//! use ferrobridge::prelude::*;
//!
//! /// An author of posts.
//! #[derive(Model, Clone, Debug)]
//! #[model(app = "blog")]
//! pub struct Author {
//!     #[field(primary_key)]
//!     pub id: i64,
//!     #[field(max_length = 100, min_length = 1)]
//!     pub name: String,
//! }
//!
//! #[tokio::main]
//! async fn main() -> anyhow::Result<()> {
//!     ferrobridge::App::new("blog").model::<Author>().run().await
//! }
//! ```
//!
//! Modules, one concern each: [`app`] (the application and its router),
//! [`model`] (what the derive implements), [`api`] (the generated endpoints),
//! [`schema`] (request bodies), [`error`] (FastAPI-shaped errors),
//! [`db`] (connection, tables, the [`Db`](db::Db) extractor), [`state`]
//! (what every request shares), [`auth`] (users, permissions, sessions),
//! [`admin`] (the admin site), [`feed`] (the change feed's long-poll and
//! Server-Sent Events), [`openapi`] (the OpenAPI 3.1 document) and
//! [`docs`] (`/openapi.json`, `/docs`), [`cli`] (management commands) and
//! [`migrations`] (versioned schema changes), [`security`] (headers, hosts,
//! CORS, the secret key) and [`server`] (the HTTP server with its timeouts).
//! Each imports only the modules below it (the README's "Layout" draws
//! the layers).

// Generated code names `::ferrobridge`; the built-in auth models are
// generated inside this crate too.
extern crate self as ferrobridge;

pub mod admin;
pub mod api;
pub mod app;
pub mod auth;
pub mod changes;
pub mod cli;
pub mod db;
pub mod docs;
pub mod error;
#[doc(hidden)]
pub mod fallback;
pub mod feed;
mod middleware;
pub mod migrations;
pub mod model;
pub mod names;
pub mod openapi;
pub mod password;
pub mod prelude;
pub mod query;
pub mod rejection;
pub mod schema;
pub mod security;
pub mod server;
pub mod state;
pub mod write;

pub use app::App;
pub use ferrobridge_macros::{Choices, Model};
pub use model::{Choices, Model};
/// The JSON Schema library request and response schemas are made with.
pub use schemars;
pub use server::{ServerSettings, serve};

/// Re-exports and helpers for generated code only; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use chrono;
    pub use regex;
    pub use rust_decimal;
    pub use schemars;
    pub use sea_orm;
    pub use serde;
    pub use serde_json;
    pub use uuid;

    /// `chrono::DateTime<chrono::Utc>`, the type of a datetime field, under
    /// one name that keeps generated code short.
    pub type DateTimeUtc = chrono::DateTime<chrono::Utc>;

    /// Stand-ins emitted beside a failed derive's errors.
    pub use crate::fallback;

    /// The schemars `transform` of `M`'s create body: constraint keywords
    /// from `M`'s field metadata.
    pub fn constrain_create<M: crate::Model>(schema: &mut schemars::Schema) {
        crate::schema::constrain_schema(schema, M::meta(), crate::schema::SchemaKind::Create);
    }

    /// The schemars `transform` of `M`'s PATCH body.
    pub fn constrain_patch<M: crate::Model>(schema: &mut schemars::Schema) {
        crate::schema::constrain_schema(schema, M::meta(), crate::schema::SchemaKind::Patch);
    }

    /// The schemars `transform` of `M`'s response body: `readOnly` on server-set fields.
    pub fn constrain_read<M: crate::Model>(schema: &mut schemars::Schema) {
        crate::schema::constrain_schema(schema, M::meta(), crate::schema::SchemaKind::Read);
    }

    /// The join of a foreign key: `column` references `key`, the primary
    /// key of another table, and deleting a row there does `on_delete`.
    pub fn belongs_to<C, K>(
        column: C,
        key: K,
        on_delete: sea_orm::sea_query::ForeignKeyAction,
    ) -> sea_orm::RelationDef
    where
        C: sea_orm::ColumnTrait,
        C::EntityName: sea_orm::EntityTrait<Column = C>,
        K: sea_orm::ColumnTrait,
        K::EntityName: sea_orm::EntityTrait<Column = K> + Default,
    {
        <C::EntityName as sea_orm::EntityTrait>::belongs_to(K::EntityName::default())
            .from(column)
            .to(key)
            .on_delete(on_delete)
            .into()
    }

    /// Sets a column from a PATCH field that is present (`Some`); an
    /// absent field leaves the column as it is.
    pub fn set_present<V: Into<sea_orm::Value>>(
        column: &mut sea_orm::ActiveValue<V>,
        value: Option<V>,
    ) {
        if let Some(value) = value {
            *column = sea_orm::ActiveValue::Set(value);
        }
    }

    /// Deserializes a PATCH field of a non-nullable JSON column: `null` is
    /// a value to store (`Some(Null)`), not an absent key.
    pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        D: serde::Deserializer<'de>,
        T: serde::Deserialize<'de>,
    {
        T::deserialize(deserializer).map(Some)
    }

    /// Deserializes a `Choices` enum from its stored string, naming the
    /// allowed values when it is none of them.
    pub fn deserialize_choice<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: serde::Deserializer<'de>,
        T: crate::Choices,
    {
        let value = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
        T::from_choice(&value).ok_or_else(|| serde::de::Error::unknown_variant(&value, T::VARIANTS))
    }

    /// Brings a Decimal read from the database to the field's declared scale.
    pub trait Rescale {
        /// The value with exactly `places` decimal places.
        fn rescaled(self, places: u32) -> Self;
    }

    impl Rescale for rust_decimal::Decimal {
        fn rescaled(mut self, places: u32) -> Self {
            self.rescale(places);
            self
        }
    }

    impl Rescale for Option<rust_decimal::Decimal> {
        fn rescaled(self, places: u32) -> Self {
            self.map(|d| d.rescaled(places))
        }
    }

    /// Deserializes a PATCH field of a nullable column: an explicit `null`
    /// becomes `Some(None)` (clear it), an absent key stays `None` (keep it).
    pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: serde::Deserializer<'de>,
        T: serde::Deserialize<'de>,
    {
        <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
    }
}
