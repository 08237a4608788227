//! What the admin does with one model's rows, behind an object-safe trait
//! so pages can work on any registered model by its app label and name.
//! Reads are the query layer's [`DynRows`] (an [`AdminRow`] is its
//! [`RowView`](crate::query::RowView)); [`AdminOps`] adds the writes, and
//! [`Ops<M>`] implements both once, generically, with SeaORM.

use std::str::FromStr;

use sea_orm::{EntityTrait, Value};
use serde_json::Value as JsonValue;

use crate::error::{ApiError, ValidationError};
use crate::model::{FieldKind, Model};
use crate::query::{ModelRows, Models, parse_value};
use crate::schema::FromJsonBody;
use crate::write::UnitOfWork;

pub use crate::query::{
    BoxFut, DynRows, LoadLabels, RowView as AdminRow, load_labels, row_view as admin_row,
    value_text,
};

/// The admin's operations on one model: the reads of [`DynRows`] and the
/// validated writes of its forms.
pub trait AdminOps: DynRows {
    /// Validates a body as [`AdminOps::create`] (`partial`: as
    /// [`AdminOps::update`]) would, writing nothing, so a form with inlines
    /// can check every part before saving any.
    fn validate(&self, body: &JsonValue, partial: bool) -> Result<(), ValidationError> {
        let _ = (body, partial);
        Ok(())
    }
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
    /// how many went. `models` (the app's registry) names the rows whose
    /// cascaded deletes and set-null updates get change events too.
    fn delete<'a>(
        &'a self,
        work: &'a UnitOfWork,
        models: &'a Models,
        pks: &'a [String],
    ) -> BoxFut<'a, Result<u64, ApiError>>;
}

/// [`AdminOps`] of model `M`: the query layer's [`ModelRows`], which reads
/// its rows, with the admin's writes.
pub type Ops<M> = ModelRows<M>;

fn find_by_pk<M: Model>(pk: &str) -> Option<sea_orm::Select<M::Entity>> {
    let key = M::Key::from_str(pk).ok()?;
    Some(M::Entity::find_by_id(key))
}

impl<M: Model> AdminOps for Ops<M> {
    fn validate(&self, body: &JsonValue, partial: bool) -> Result<(), ValidationError> {
        if partial {
            M::Update::from_json_body(body.clone()).map(drop)
        } else {
            M::Create::from_json_body(body.clone()).map(drop)
        }
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
        models: &'a Models,
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
            work.delete::<M>(models, keys).await
        })
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
