//! `GET /admin/{app}/{model}/autocomplete/?term=...&page=N`: the JSON that
//! a foreign key's search box asks for, in the shape of Django's select2
//! endpoint, so a key to a table of 100,000 rows never becomes a
//! 100,000-option `<select>`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::AdminOps;
use super::context::{AdminCtx, Reject, server_error};
use crate::model::{FieldKind, FieldMeta};
use crate::query::{ListQuery, search_words};

/// Results per page, as Django's `paginate_by`.
pub const PAGE_SIZE: u64 = 20;

/// The query string of the endpoint; both parts optional.
#[derive(Debug, Default, Deserialize)]
pub struct AutocompleteQuery {
    /// The text typed so far; every word must match.
    term: Option<String>,
    /// The page, from 1; anything else is page 1.
    page: Option<String>,
}

/// A JSON error answer `{"detail": ...}`, as the admin's JSON endpoints give.
pub(super) fn json_error(status: StatusCode, detail: &str) -> Response {
    (status, Json(json!({ "detail": detail }))).into_response()
}

/// The model a JSON endpoint of the admin was asked about (`found`), if
/// the user may view its rows: else the JSON 404 (no such model) or 403
/// (neither the view nor the change permission) to answer instead.
pub(super) async fn viewable(
    ctx: &AdminCtx,
    found: Option<Arc<dyn AdminOps>>,
) -> Result<Arc<dyn AdminOps>, Response> {
    let Some(ops) = found else {
        return Err(json_error(StatusCode::NOT_FOUND, "No such model."));
    };
    if !ctx.can_view(ops.meta()).await {
        return Err(json_error(
            StatusCode::FORBIDDEN,
            "You don't have permission to view these objects.",
        ));
    }
    Ok(ops)
}

/// Answers `{"results": [{"id": "1", "text": "Ann"}], "pagination": {"more": true}}`,
/// searching the model's admin search fields (else its text fields) and its
/// primary key. Needs a staff session and the view (or change) permission.
pub async fn autocomplete(
    ctx: AdminCtx,
    Path((app, model)): Path<(String, String)>,
    Query(query): Query<AutocompleteQuery>,
) -> Result<Response, Reject> {
    ctx.staff()?;
    let ops = match viewable(&ctx, ctx.admin().find(&app, &model)).await {
        Ok(ops) => ops,
        Err(answer) => return Ok(answer),
    };
    let meta = ops.meta();
    let search_fields: Vec<&'static FieldMeta> = if meta.admin.search.is_empty() {
        meta.fields
            .iter()
            .filter(|f| f.kind == FieldKind::String && !f.write_only)
            .collect()
    } else {
        meta.admin
            .search
            .iter()
            .filter_map(|name| meta.field(name))
            .collect()
    };
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<u64>().ok())
        .filter(|p| *p >= 1)
        // Far past any real page; keeps the offset from overflowing.
        .map_or(1, |p| p.min(1_000_000_000));
    // NUL cannot be in any stored text (PostgreSQL refuses it in a query).
    let term = query.term.unwrap_or_default().replace('\0', "");
    // Bounded as the API's `search`: every word is one more condition.
    let words = match search_words("term", &term, &ctx.state.list) {
        Ok(words) => words,
        Err(detail) => {
            let error =
                crate::error::ApiError::Validation(crate::error::ValidationError::single(detail));
            return Ok(error.into_response());
        }
    };
    // The admin's search, as the change list's: every word in a search
    // field or the primary key.
    let mut rows = ListQuery::page(meta, page, PAGE_SIZE);
    rows.search = words;
    rows.search_fields = search_fields;
    rows.search_primary_key = true;
    let (found, total) = ops
        .query(&ctx.state.db, &rows)
        .await
        .map_err(|e| Reject(server_error(e)))?;
    let results: Vec<_> = found
        .into_iter()
        .map(|row| json!({ "id": row.pk, "text": row.display }))
        .collect();
    let more = page * PAGE_SIZE < total;
    let mut response =
        Json(json!({ "results": results, "pagination": { "more": more } })).into_response();
    ctx.finish(&mut response);
    Ok(response)
}
