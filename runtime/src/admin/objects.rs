//! Finding and naming the admin's objects, for every page that lists or
//! acts on them (the change list, the delete pages, history): a model by
//! its URL, rows by their keys, their URLs, and how counts and dates read.

use std::collections::{HashMap, HashSet};

use sea_orm::Value;

use super::context::{AdminCtx, Reject};
use super::ops::{AdminOps, AdminRow, value_text};
use super::{quote_pk, verbose_name_plural};
use crate::model::ModelMeta;
use crate::query::{Filter, ListQuery, parse_value};

/// `posts`, or `post` for one.
pub(crate) fn count_name(meta: &ModelMeta, count: u64) -> String {
    if count == 1 {
        meta.verbose_name()
    } else {
        verbose_name_plural(meta)
    }
}

/// A datetime or date as people read it (`May 1, 2024, 14:05`), in UTC.
pub(crate) fn readable(value: &Value) -> Option<String> {
    match value {
        Value::ChronoDateTimeUtc(Some(dt)) => Some(dt.format("%b %-d, %Y, %H:%M").to_string()),
        Value::ChronoDate(Some(d)) => Some(d.format("%b %-d, %Y").to_string()),
        _ => None,
    }
}

/// The admin model `app.model`, or the 404 page: `#[admin(hidden)]`
/// models are left out of the admin's pages.
pub(crate) fn admin_model(
    ctx: &mut AdminCtx,
    app: &str,
    model: &str,
) -> Result<std::sync::Arc<dyn AdminOps>, Reject> {
    let ops = ctx.model(app, model)?;
    if ops.meta().admin.hidden {
        return Err(Reject(ctx.not_found()));
    }
    Ok(ops)
}

/// The change URL of a row.
pub(crate) fn change_url(meta: &ModelMeta, pk: &str) -> String {
    format!(
        "/admin/{}/{}/{}/change/",
        meta.app_label,
        meta.model_name,
        quote_pk(pk)
    )
}

/// The change list URL of a model.
pub(crate) fn list_url(meta: &ModelMeta) -> String {
    format!("/admin/{}/{}/", meta.app_label, meta.model_name)
}

/// The rows with these primary keys, in the order given, skipping keys
/// that are invalid or gone.
pub(crate) async fn rows_by_pk(
    ops: &dyn AdminOps,
    db: &crate::db::Connection,
    pks: &[String],
) -> Result<Vec<AdminRow>, sea_orm::DbErr> {
    let meta = ops.meta();
    let Some(pk_field) = meta.field(meta.primary_key) else {
        return Ok(Vec::new());
    };
    let mut seen = HashSet::new();
    let keys: Vec<Value> = pks
        .iter()
        .filter(|pk| seen.insert(pk.as_str()))
        .filter_map(|pk| parse_value(pk_field, pk).ok())
        .collect();
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let query =
        ListQuery::page(meta, 1, keys.len() as u64).filter(Filter::is_in(pk_field, keys.clone()));
    let (mut rows, _) = ops.query(db, &query).await?;
    let position: HashMap<String, usize> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (value_text(k), i))
        .collect();
    rows.sort_by_key(|r| position.get(&r.pk).copied().unwrap_or(usize::MAX));
    Ok(rows)
}
