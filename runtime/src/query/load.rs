//! Rows of a model known only by its metadata, loaded by primary key: the
//! `Read` objects `?expand=` embeds, and the display strings the admin
//! shows for a foreign key. The derive stores the two loaders of each
//! model in its [`ModelMeta`](crate::model::ModelMeta).

use std::future::Future;
use std::pin::Pin;

use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, Value};
use serde_json::Value as Json;

use crate::db::Connection;
use crate::model::Model;

/// A boxed future borrowing for `'a`.
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Rows as `(primary key text, Read JSON)` pairs, loading in the background.
pub type LoadedRows<'a> = BoxFut<'a, Result<Vec<(String, Json)>, DbErr>>;

/// Loads rows of one model by primary key, for `?expand=`.
pub type LoadByKeys = for<'a> fn(&'a Connection, Vec<Value>) -> LoadedRows<'a>;

/// The [`LoadByKeys`] of `M`: one `SELECT ... WHERE pk IN (...)`.
pub fn load_by_keys<M: Model>(db: &Connection, keys: Vec<Value>) -> LoadedRows<'_> {
    Box::pin(async move {
        let rows = M::Entity::find()
            .filter(M::primary_key_column().is_in(keys))
            .all(db)
            .await?;
        rows.into_iter()
            .map(|row| {
                let key = M::primary_key(&row).to_string();
                serde_json::to_value(M::Read::from(row))
                    .map(|json| (key, json))
                    .map_err(|e| DbErr::Custom(e.to_string()))
            })
            .collect()
    })
}

/// Display strings of rows by primary key: what a foreign key column or
/// widget shows for the referenced row.
pub type LoadLabels =
    for<'a> fn(&'a Connection, Vec<Value>) -> BoxFut<'a, Result<Vec<(String, String)>, DbErr>>;

/// The [`LoadLabels`] of `M`: one `SELECT ... WHERE pk IN (...)`.
pub fn load_labels<M: Model>(
    db: &Connection,
    keys: Vec<Value>,
) -> BoxFut<'_, Result<Vec<(String, String)>, DbErr>> {
    Box::pin(async move {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows = M::Entity::find()
            .filter(M::primary_key_column().is_in(keys))
            .all(db)
            .await?;
        Ok(rows
            .iter()
            .map(|row| (M::primary_key(row).to_string(), M::display(row)))
            .collect())
    })
}
