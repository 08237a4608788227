//! The rows of a model known only at run time: [`DynRows`], an
//! object-safe read of one model (a page, a count, one row by key) as
//! [`RowView`]s, implemented once for every [`Model`] by [`ModelRows`], and
//! [`Models`], the registry of every registered model's rows that the app
//! installs in the [`AppState`]. The admin's pages and the write layer's
//! cascade walk read models they name only by table through these; the
//! write layer also reads, through [`DynRows::read_where`], the `Read`
//! representation of rows the database deletes or changes as a
//! consequence of a delete, for their change events.

use std::marker::PhantomData;
use std::str::FromStr;
use std::sync::{Arc, LazyLock};

use sea_orm::{DbErr, EntityTrait, ModelTrait, Value};
use serde_json::Value as JsonValue;

use super::{BoxFut, Filter, ListQuery, RowSource, count, fetch, parse_value};
use crate::__private::Rescale;
use crate::db::Connection;
use crate::model::{DbType, FieldMeta, Model, ModelMeta};
use crate::state::AppState;

/// One row of a model known at run time: its key, display string and values.
#[derive(Clone, Debug)]
pub struct RowView {
    /// The primary key, as text (as in URLs).
    pub pk: String,
    /// The row's display string (`Model::display`).
    pub display: String,
    /// Every field but write-only ones, by name.
    pub values: Vec<(&'static str, Value)>,
}

impl RowView {
    /// The value of field `name`.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

/// A row as the API reads it: what a change event carries.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadRow {
    /// The primary key, as text (as in URLs).
    pub pk: String,
    /// The model's `Read` representation of the row (write-only fields
    /// are not in it).
    pub data: JsonValue,
    /// The row's owner (`#[api(owner)]`), if the model has one.
    pub owner: Option<i64>,
}

/// The [`ReadRow`] of a row of `M`.
pub fn read_row<M: Model>(row: &Row<M>) -> Result<ReadRow, serde_json::Error> {
    Ok(ReadRow {
        pk: value_text(&row.get(M::primary_key_column())),
        data: serde_json::to_value(M::Read::from(row.clone()))?,
        owner: M::owner_of(row),
    })
}

/// Reads of one model's rows, behind an object-safe trait so code can work
/// on any registered model by its metadata.
pub trait DynRows: Send + Sync + 'static {
    /// The model's metadata.
    fn meta(&self) -> &'static ModelMeta;
    /// A page of rows and the number of rows matching in all: `query`
    /// run by [`fetch`], as the REST list runs it.
    fn query<'a>(
        &'a self,
        db: &'a Connection,
        query: &'a ListQuery,
    ) -> BoxFut<'a, Result<(Vec<RowView>, u64), DbErr>>;
    /// How many rows match `query`'s filters and search, over all pages.
    fn count<'a>(
        &'a self,
        db: &'a Connection,
        query: &'a ListQuery,
    ) -> BoxFut<'a, Result<u64, DbErr>>;
    /// The row with primary key `pk` (`None`: no such row, or not a valid key).
    fn get<'a>(
        &'a self,
        db: &'a Connection,
        pk: &'a str,
    ) -> BoxFut<'a, Result<Option<RowView>, DbErr>>;
    /// Every row whose `field` holds one of `values` (all of them, no
    /// page), as [`ReadRow`]s in primary key order, read from `db`: unlike
    /// the reads above it may be a transaction, which sees its own writes.
    /// With the primary key as `field`, the rows with these keys.
    fn read_where<'a>(
        &'a self,
        db: &'a dyn RowSource,
        field: &'static FieldMeta,
        values: Vec<Value>,
    ) -> BoxFut<'a, Result<Vec<ReadRow>, DbErr>>;
}

/// How many values one `IN (...)` binds: far below SQLite's (32766) and
/// PostgreSQL's (65535) limits on bound parameters.
const IN_CHUNK: usize = 500;

/// The rows of `M` whose `field` holds one of `values`, as [`ReadRow`]s.
async fn read_where<M: Model>(
    db: &dyn RowSource,
    field: &'static FieldMeta,
    values: Vec<Value>,
) -> Result<Vec<ReadRow>, DbErr> {
    use sea_orm::{ColumnTrait, FromQueryResult, QueryFilter, QueryOrder, QueryTrait};
    let column = Col::<M>::from_str(field.name)
        .map_err(|_| DbErr::Custom(format!("no column `{}`", field.name)))?;
    let mut out = Vec::new();
    for chunk in values.chunks(IN_CHUNK) {
        let stmt = M::Entity::find()
            .filter(column.is_in(chunk.iter().cloned()))
            .order_by_asc(M::primary_key_column())
            .build(db.backend());
        for result in db.select_rows(stmt).await? {
            let row = Row::<M>::from_query_result(&result, "")?;
            out.push(read_row::<M>(&row).map_err(|e| DbErr::Custom(e.to_string()))?);
        }
    }
    Ok(out)
}

/// [`DynRows`] of model `M`.
pub struct ModelRows<M>(PhantomData<fn() -> M>);

impl<M> Default for ModelRows<M> {
    fn default() -> Self {
        ModelRows(PhantomData)
    }
}

type Row<M> = <<M as Model>::Entity as EntityTrait>::Model;
type Col<M> = <<M as Model>::Entity as EntityTrait>::Column;

/// The [`RowView`] of a row of `M`.
pub fn row_view<M: Model>(row: &Row<M>) -> RowView {
    let values = M::meta()
        .fields
        .iter()
        .filter(|f| !f.write_only)
        .filter_map(|f| {
            Col::<M>::from_str(f.name)
                .ok()
                .map(|c| (f.name, at_declared_scale(f.db_type, row.get(c))))
        })
        .collect();
    RowView {
        pk: M::primary_key(row).to_string(),
        display: M::display(row),
        values,
    }
}

/// A Decimal with its column's decimal places, as the API answers it: SQLite
/// stores decimals as REAL, so `12.50` comes back as `12.5`.
fn at_declared_scale(db_type: DbType, value: Value) -> Value {
    match (db_type, value) {
        (DbType::Decimal(_, places), Value::Decimal(Some(d))) => {
            Value::Decimal(Some(d.rescaled(places)))
        }
        (_, value) => value,
    }
}

impl<M: Model> DynRows for ModelRows<M> {
    fn meta(&self) -> &'static ModelMeta {
        M::meta()
    }

    fn query<'a>(
        &'a self,
        db: &'a Connection,
        query: &'a ListQuery,
    ) -> BoxFut<'a, Result<(Vec<RowView>, u64), DbErr>> {
        Box::pin(async move {
            let fetched = fetch::<M>(db, query).await?;
            let rows: Vec<RowView> = fetched.rows.iter().map(row_view::<M>).collect();
            let total = fetched.total.unwrap_or(rows.len() as u64);
            Ok((rows, total))
        })
    }

    fn count<'a>(
        &'a self,
        db: &'a Connection,
        query: &'a ListQuery,
    ) -> BoxFut<'a, Result<u64, DbErr>> {
        Box::pin(count::<M>(db, query))
    }

    fn get<'a>(
        &'a self,
        db: &'a Connection,
        pk: &'a str,
    ) -> BoxFut<'a, Result<Option<RowView>, DbErr>> {
        Box::pin(async move {
            let meta = M::meta();
            let Some(pk_field) = meta.field(meta.primary_key) else {
                return Ok(None);
            };
            // Not a valid key: no such row.
            let Ok(key) = parse_value(pk_field, pk) else {
                return Ok(None);
            };
            let query = ListQuery::page(meta, 1, 1).filter(Filter::exact(pk_field, key));
            let fetched = fetch::<M>(db, &query).await?;
            Ok(fetched.rows.first().map(row_view::<M>))
        })
    }

    fn read_where<'a>(
        &'a self,
        db: &'a dyn RowSource,
        field: &'static FieldMeta,
        values: Vec<Value>,
    ) -> BoxFut<'a, Result<Vec<ReadRow>, DbErr>> {
        Box::pin(read_where::<M>(db, field, values))
    }
}

/// A value as text, as keys are written in URLs and forms: `""` for NULL.
pub fn value_text(value: &Value) -> String {
    // sea-query turns a Decimal into a JSON float: digits and scale would go.
    if let Value::Decimal(Some(d)) = value {
        return d.to_string();
    }
    match sea_orm::sea_query::value::sea_value_to_json_value(value) {
        JsonValue::Null => String::new(),
        JsonValue::String(s) => s,
        JsonValue::Bool(b) => b.to_string(),
        JsonValue::Number(n) => n.to_string(),
        other => serde_json::to_string_pretty(&other).unwrap_or_default(),
    }
}

/// The rows of every model registered with [`App::model`](crate::App::model)
/// (internal tables such as tokens and sessions aside), in registration
/// order: installed in the state when the app is built, read through
/// [`AppState::models`].
#[derive(Clone, Default)]
pub struct Models(Vec<Arc<dyn DynRows>>);

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|rows| rows.meta().table))
            .finish()
    }
}

impl Models {
    /// A registry of these models' rows.
    pub fn new(models: Vec<Arc<dyn DynRows>>) -> Self {
        Models(models)
    }

    /// Every model's rows, in registration order.
    pub fn all(&self) -> &[Arc<dyn DynRows>] {
        &self.0
    }

    /// The rows of the model on `table`.
    pub fn by_table(&self, table: &str) -> Option<&Arc<dyn DynRows>> {
        self.0.iter().find(|rows| rows.meta().table == table)
    }
}

/// What a state without the registry's slot answers: no model.
static NO_MODELS: LazyLock<Models> = LazyLock::new(Models::default);

impl AppState {
    /// The rows of every registered model, installed when the app is
    /// built; a state built without them has none.
    pub fn models(&self) -> &Models {
        self.layer::<Models>().unwrap_or(&NO_MODELS)
    }
}
