//! What the admin does with one model's rows, behind an object-safe trait
//! so pages can work on any registered model by its app label and name.
//! [`Ops<M>`] implements it once, generically, with SeaORM.

use std::marker::PhantomData;
use std::str::FromStr;

use crate::db::Connection;
use sea_orm::{
    DbErr, EntityTrait, ModelTrait, Value,
};
use serde_json::Value as JsonValue;

use crate::__private::Rescale;
use crate::error::{ApiError, ValidationError};
use crate::model::{DbType, FieldKind, Model, ModelMeta};
use crate::query::{Filter, ListQuery, parse_value};
use crate::schema::FromJsonBody;
use crate::write::UnitOfWork;

pub use crate::query::{BoxFut, LoadLabels, load_labels};

/// One row as the admin shows it.
#[derive(Clone, Debug)]
pub struct AdminRow {
    /// The primary key, as text (as in URLs).
    pub pk: String,
    /// The row's display string (`Model::display`).
    pub display: String,
    /// Every field but write-only ones, by name.
    pub values: Vec<(&'static str, Value)>,
}

impl AdminRow {
    /// The value of field `name`.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

/// The admin's operations on one model.
pub trait AdminOps: Send + Sync + 'static {
    /// The model's metadata.
    fn meta(&self) -> &'static ModelMeta;
    /// Validates a body as [`AdminOps::create`] (`partial`: as
    /// [`AdminOps::update`]) would, writing nothing, so a form with inlines
    /// can check every part before saving any.
    fn validate(&self, body: &JsonValue, partial: bool) -> Result<(), ValidationError> {
        let _ = (body, partial);
        Ok(())
    }
    /// A page of rows and the number of rows matching in all: `query`
    /// run by the query layer, as the REST list runs it.
    fn query<'a>(
        &'a self,
        db: &'a Connection,
        query: &'a ListQuery,
    ) -> BoxFut<'a, Result<(Vec<AdminRow>, u64), DbErr>>;
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
    ) -> BoxFut<'a, Result<Option<AdminRow>, DbErr>>;
    /// Creates a row from a JSON object, validated like `POST /api/...`,
    /// in the request's `work`; `owner` fills an `#[api(owner)]` field.
    fn create<'a>(
        &'a self,
        work: &'a UnitOfWork,
        body: JsonValue,
        owner: Option<i64>,
    ) -> BoxFut<'a, Result<AdminRow, ApiError>>;
    /// Changes the fields present in a JSON object, validated like
    /// `PATCH /api/...`, in the request's `work`.
    fn update<'a>(
        &'a self,
        work: &'a UnitOfWork,
        pk: &'a str,
        body: JsonValue,
    ) -> BoxFut<'a, Result<AdminRow, ApiError>>;
    /// Deletes the rows with these primary keys in the request's `work`;
    /// how many went.
    fn delete<'a>(
        &'a self,
        work: &'a UnitOfWork,
        pks: &'a [String],
    ) -> BoxFut<'a, Result<u64, ApiError>>;
}

/// [`AdminOps`] of model `M`.
pub struct Ops<M>(PhantomData<fn() -> M>);

impl<M> Default for Ops<M> {
    fn default() -> Self {
        Ops(PhantomData)
    }
}

type Row<M> = <<M as Model>::Entity as EntityTrait>::Model;
type Col<M> = <<M as Model>::Entity as EntityTrait>::Column;

/// The admin's view of a row of `M`.
pub fn admin_row<M: Model>(row: &Row<M>) -> AdminRow {
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
    AdminRow {
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

fn find_by_pk<M: Model>(pk: &str) -> Option<sea_orm::Select<M::Entity>> {
    let key = M::Key::from_str(pk).ok()?;
    Some(M::Entity::find_by_id(key))
}

impl<M: Model> AdminOps for Ops<M> {
    fn meta(&self) -> &'static ModelMeta {
        M::meta()
    }

    fn validate(&self, body: &JsonValue, partial: bool) -> Result<(), ValidationError> {
        if partial {
            M::Update::from_json_body(body.clone()).map(drop)
        } else {
            M::Create::from_json_body(body.clone()).map(drop)
        }
    }

    fn query<'a>(
        &'a self,
        db: &'a Connection,
        query: &'a ListQuery,
    ) -> BoxFut<'a, Result<(Vec<AdminRow>, u64), DbErr>> {
        Box::pin(async move {
            let fetched = crate::query::fetch::<M>(db, query).await?;
            let rows: Vec<AdminRow> = fetched.rows.iter().map(admin_row::<M>).collect();
            let total = fetched.total.unwrap_or(rows.len() as u64);
            Ok((rows, total))
        })
    }

    fn count<'a>(
        &'a self,
        db: &'a Connection,
        query: &'a ListQuery,
    ) -> BoxFut<'a, Result<u64, DbErr>> {
        Box::pin(crate::query::count::<M>(db, query))
    }

    fn get<'a>(
        &'a self,
        db: &'a Connection,
        pk: &'a str,
    ) -> BoxFut<'a, Result<Option<AdminRow>, DbErr>> {
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
            let fetched = crate::query::fetch::<M>(db, &query).await?;
            Ok(fetched.rows.first().map(admin_row::<M>))
        })
    }

    fn create<'a>(
        &'a self,
        work: &'a UnitOfWork,
        body: JsonValue,
        owner: Option<i64>,
    ) -> BoxFut<'a, Result<AdminRow, ApiError>> {
        Box::pin(async move {
            let input = M::Create::from_json_body(body)?;
            let row = work.create::<M>(M::insert_from(input), owner).await?;
            Ok(admin_row::<M>(&row))
        })
    }

    fn update<'a>(
        &'a self,
        work: &'a UnitOfWork,
        pk: &'a str,
        body: JsonValue,
    ) -> BoxFut<'a, Result<AdminRow, ApiError>> {
        Box::pin(async move {
            // Read in the transaction: the row as this request left it.
            let row = find_by_pk::<M>(pk)
                .ok_or(ApiError::NotFound)?
                .one(work.tx())
                .await
                .map_err(ApiError::internal)?
                .ok_or(ApiError::NotFound)?;
            let input = M::Update::from_json_body(body)?;
            let row = work.change::<M, _>(row, input, M::patch_with).await?;
            Ok(admin_row::<M>(&row))
        })
    }

    fn delete<'a>(
        &'a self,
        work: &'a UnitOfWork,
        pks: &'a [String],
    ) -> BoxFut<'a, Result<u64, ApiError>> {
        Box::pin(async move {
            let Some(pk_field) = M::meta().field(M::meta().primary_key) else {
                return Ok(0);
            };
            let keys: Vec<Value> = pks
                .iter()
                .filter_map(|pk| parse_value(pk_field, pk).ok())
                .collect();
            work.delete::<M>(keys).await
        })
    }
}

/// A value as text for forms and the change list: `""` for NULL.
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

/// A value as text in an `<input>` of `kind`: datetimes as
/// `datetime-local` wants them (UTC, to the second).
pub fn input_text(kind: FieldKind, value: &Value) -> String {
    match (kind, value) {
        (FieldKind::DateTime, Value::ChronoDateTimeUtc(Some(dt))) => {
            dt.format("%Y-%m-%dT%H:%M:%S").to_string()
        }
        (FieldKind::Json, Value::Json(Some(json))) => {
            serde_json::to_string_pretty(json).unwrap_or_default()
        }
        _ => value_text(value),
    }
}
