//! Rows of a model known only by its metadata, loaded by primary key: the
//! `Read` objects `?expand=` embeds, and the display strings the admin
//! shows for a foreign key. The derive stores the two loaders of each
//! model in its [`ModelMeta`](crate::model::ModelMeta); their types live
//! there ([`LoadByKeys`], [`LoadLabels`]), over a [`RowSource`].

use std::future::Future;
use std::pin::Pin;

use sea_orm::{ColumnTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryTrait, Value};
use serde_json::Value as Json;

use crate::model::Model;
pub use crate::model::{LoadByKeys, LoadLabels, LoaderFuture, RowSource};

/// A boxed future borrowing for `'a`.
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Rows as `(primary key text, Read JSON)` pairs, loading in the background.
pub type LoadedRows<'a> = LoaderFuture<'a, Vec<(String, Json)>>;

/// The rows of `M` whose primary key is one of `keys`: one
/// `SELECT ... WHERE pk IN (...)`.
async fn rows_by_keys<M: Model>(
    db: &dyn RowSource,
    keys: Vec<Value>,
) -> Result<Vec<<M::Entity as EntityTrait>::Model>, DbErr> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let stmt = M::Entity::find()
        .filter(M::primary_key_column().is_in(keys))
        .build(db.backend());
    db.select_rows(stmt)
        .await?
        .iter()
        .map(|row| <M::Entity as EntityTrait>::Model::from_query_result(row, ""))
        .collect()
}

/// The [`LoadByKeys`] of `M`.
pub fn load_by_keys<M: Model>(db: &dyn RowSource, keys: Vec<Value>) -> LoadedRows<'_> {
    Box::pin(async move {
        rows_by_keys::<M>(db, keys)
            .await?
            .into_iter()
            .map(|row| {
                let key = M::primary_key(&row).to_string();
                serde_json::to_value(M::Read::from(row))
                    .map(|json| (key, json))
                    .map_err(|e| DbErr::Custom(e.to_string()))
            })
            .collect()
    })
}

/// The [`LoadLabels`] of `M`.
pub fn load_labels<M: Model>(
    db: &dyn RowSource,
    keys: Vec<Value>,
) -> LoaderFuture<'_, Vec<(String, String)>> {
    Box::pin(async move {
        let rows = rows_by_keys::<M>(db, keys).await?;
        Ok(rows
            .iter()
            .map(|row| (M::primary_key(row).to_string(), M::display(row)))
            .collect())
    })
}
