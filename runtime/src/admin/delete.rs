//! Deleting from the admin: the confirmation page of one object
//! (`/admin/{app}/{model}/{pk}/delete/`) and of a bulk "Delete selected"
//! action, each listing what the delete cascades to (the object's history
//! page is in `history`).
//!
//! The cascade is found by walking every admin model's foreign keys to the
//! deleted model, as Django's `Collector` does: `on_delete = "cascade"`
//! rows are listed (and walked in turn), `restrict` rows protect the
//! object and refuse the delete, `set_null` rows are only updated. The
//! database enforces the same rules, so the listing is what will happen.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::db::Connection;
use axum::Form;
use axum::extract::Path;
use minijinja::context;
use sea_orm::DbErr;
use serde::Serialize;

use super::context::{AdminCtx, PageResult, Reject, server_error};
use super::objects::{admin_model, change_url, count_name, list_url, rows_by_pk};
use super::ops::{AdminOps, AdminRow, BoxFut};
use super::site::{FormFields, capitalize};
use super::{LogAction, change_message, log_action, verbose_name_plural};
use crate::error::ApiError;
use crate::model::{Action, ModelMeta, OnDelete};
use crate::query::{Filter, ListQuery};
use crate::write::UnitOfWork;

/// Rows listed per relation and level: the page stays readable and the
/// walk bounded; the rest is counted ("and 250 more posts").
const RELATION_CAP: u64 = 100;
/// How deep the walk follows cascades.
const MAX_DEPTH: usize = 6;

/// One object of the "will be deleted" tree.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Node {
    /// The model in words ("Post"); empty for an "and N more" line.
    label: String,
    display: String,
    url: Option<String>,
    children: Vec<Node>,
}

/// What deleting some rows involves.
#[derive(Default)]
pub(crate) struct Collected {
    /// The deleted rows, each with what it cascades to.
    deleted: Vec<Node>,
    /// Rows that forbid the delete (`on_delete = "restrict"`).
    pub(crate) protected: Vec<Node>,
    /// How many rows of each model go, by plural name.
    summary: BTreeMap<String, u64>,
    /// Models the user may not delete that the delete would reach.
    pub(crate) perms_needed: Vec<String>,
}

/// Who decides whether the rows a delete cascades to may go: the admin
/// asks for each model's `delete` permission (as Django's admin), the API
/// applies each model's own policy, owner rules included.
pub(crate) trait DeleteRights: Send + Sync {
    /// Whether the caller may delete `rows` of `meta`; `complete` is false
    /// when `rows` are only the first of more (a row rule cannot be checked).
    fn may_delete<'a>(
        &'a self,
        meta: &'static ModelMeta,
        rows: &'a [AdminRow],
        complete: bool,
    ) -> BoxFut<'a, bool>;
}

/// The admin's rule: the model's `delete` permission.
struct AdminRights<'a>(&'a AdminCtx);

impl DeleteRights for AdminRights<'_> {
    fn may_delete<'a>(
        &'a self,
        meta: &'static ModelMeta,
        _rows: &'a [AdminRow],
        _complete: bool,
    ) -> BoxFut<'a, bool> {
        Box::pin(self.0.has_perm(meta, Action::Delete))
    }
}

impl Collected {
    fn blocked(&self) -> bool {
        !self.protected.is_empty() || !self.perms_needed.is_empty()
    }

    fn context(&self) -> minijinja::Value {
        context! {
            deleted_objects => self.deleted,
            protected => self.protected,
            summary => self.summary.iter().map(|(k, v)| context! { name => capitalize(k), count => v }).collect::<Vec<_>>(),
            perms_needed => self.perms_needed,
        }
    }
}

fn node(meta: &ModelMeta, row: &AdminRow) -> Node {
    Node {
        label: capitalize(&meta.verbose_name()),
        display: row.display.clone(),
        url: (!meta.admin.hidden).then(|| change_url(meta, &row.pk)),
        children: Vec::new(),
    }
}

fn more(meta: &ModelMeta, count: u64) -> Node {
    Node {
        label: String::new(),
        display: format!("… and {count} more {}", count_name(meta, count)),
        url: None,
        children: Vec::new(),
    }
}

/// Finds everything deleting `rows` of `ops` reaches, for an admin user.
pub(crate) async fn collect(
    ctx: &AdminCtx,
    ops: &Arc<dyn AdminOps>,
    rows: &[AdminRow],
) -> Result<Collected, DbErr> {
    let models = ctx.admin().models.clone();
    collect_with(&ctx.state.db, &models, &AdminRights(ctx), ops, rows).await
}

/// Finds everything deleting `rows` of `ops` reaches among `models`,
/// asking `rights` about each model the delete cascades to.
pub(crate) async fn collect_with(
    db: &Connection,
    models: &[Arc<dyn AdminOps>],
    rights: &dyn DeleteRights,
    ops: &Arc<dyn AdminOps>,
    rows: &[AdminRow],
) -> Result<Collected, DbErr> {
    let walker = Walker { db, models, rights };
    let mut out = Collected::default();
    let mut visited = HashSet::new();
    let meta = ops.meta();
    for row in rows {
        visited.insert((meta.table, row.pk.clone()));
    }
    *out.summary.entry(verbose_name_plural(meta)).or_default() += rows.len() as u64;
    let mut denied = HashSet::new();
    let deleted = walk(
        &walker,
        ops.clone(),
        rows.to_vec(),
        0,
        &mut out,
        &mut visited,
        &mut denied,
    )
    .await?;
    out.deleted = deleted;
    Ok(out)
}

/// What the walk reads from and asks.
struct Walker<'w> {
    db: &'w Connection,
    models: &'w [Arc<dyn AdminOps>],
    rights: &'w dyn DeleteRights,
}

/// The nodes of `rows`, each with the rows that cascade from it.
fn walk<'a>(
    ctx: &'a Walker<'a>,
    ops: Arc<dyn AdminOps>,
    rows: Vec<AdminRow>,
    depth: usize,
    out: &'a mut Collected,
    visited: &'a mut HashSet<(&'static str, String)>,
    denied: &'a mut HashSet<&'static str>,
) -> BoxFut<'a, Result<Vec<Node>, DbErr>> {
    Box::pin(async move {
        let meta = ops.meta();
        let mut nodes: Vec<Node> = rows.iter().map(|r| node(meta, r)).collect();
        if depth >= MAX_DEPTH || rows.is_empty() {
            return Ok(nodes);
        }
        let db = ctx.db;
        for related in ctx.models {
            let related_meta = related.meta();
            for field in related_meta.fields {
                let Some(target) = field.references else {
                    continue;
                };
                if target().table != meta.table || field.on_delete == OnDelete::SetNull {
                    continue;
                }
                let keys: Vec<sea_orm::Value> = rows
                    .iter()
                    .filter_map(|r| crate::query::parse_value(field, &r.pk).ok())
                    .collect();
                if keys.is_empty() {
                    continue;
                }
                let query = ListQuery::page(related_meta, 1, RELATION_CAP)
                    .filter(Filter::is_in(field, keys));
                let (found, total) = related.query(db, &query).await?;
                if total == 0 {
                    continue;
                }
                let rest = total.saturating_sub(found.len() as u64);
                if field.on_delete == OnDelete::Restrict {
                    out.protected
                        .extend(found.iter().map(|r| node(related_meta, r)));
                    if rest > 0 {
                        out.protected.push(more(related_meta, rest));
                    }
                    continue;
                }
                *out.summary
                    .entry(verbose_name_plural(related_meta))
                    .or_default() += total;
                let complete = rest == 0;
                // Link tables go with either end, as Django skips the
                // permission check for auto-created through models.
                let link = related_meta.permissions_parent().is_some();
                if !link
                    && !denied.contains(related_meta.table)
                    && !ctx.rights.may_delete(related_meta, &found, complete).await
                {
                    denied.insert(related_meta.table);
                    out.perms_needed.push(related_meta.verbose_name());
                }
                let fresh: Vec<AdminRow> = found
                    .into_iter()
                    .filter(|r| visited.insert((related_meta.table, r.pk.clone())))
                    .collect();
                let parents: Vec<Option<String>> = fresh
                    .iter()
                    .map(|r| r.value(field.name).map(super::ops::value_text))
                    .collect();
                let children = walk(
                    ctx,
                    related.clone(),
                    fresh,
                    depth + 1,
                    &mut *out,
                    &mut *visited,
                    &mut *denied,
                )
                .await?;
                for (child, parent) in children.into_iter().zip(parents) {
                    match rows.iter().position(|r| Some(&r.pk) == parent.as_ref()) {
                        Some(i) => nodes[i].children.push(child),
                        None => nodes.push(child),
                    }
                }
                if rest > 0 {
                    nodes.push(more(related_meta, rest));
                }
            }
        }
        Ok(nodes)
    })
}

/// Deletes `rows` and records each deletion in `django_admin_log`, all in
/// one transaction: a failing delete leaves every row and no log entry.
async fn delete_rows(
    ctx: &AdminCtx,
    ops: &Arc<dyn AdminOps>,
    rows: &[AdminRow],
) -> Result<u64, ApiError> {
    let work = UnitOfWork::begin(&ctx.state.db).await?;
    let pks: Vec<String> = rows.iter().map(|r| r.pk.clone()).collect();
    let deleted = ops.delete(&work, &pks).await?;
    let user_id = ctx.user.as_ref().map_or(0, |u| u.id);
    for row in rows {
        log_action(
            work.tx(),
            user_id,
            ops.meta(),
            &row.pk,
            &row.display,
            LogAction::Deletion,
            change_message(LogAction::Deletion, &[]),
        )
        .await
        .map_err(ApiError::internal)?;
    }
    work.commit().await?;
    Ok(deleted)
}

/// What a failed delete tells the user.
fn delete_error(error: &ApiError) -> String {
    match error {
        ApiError::Conflict(message) => message.clone(),
        other => {
            tracing::error!(error = ?other, "admin delete failed");
            "The delete failed; the error has been logged.".into()
        }
    }
}

/// The confirmation of "Delete selected ...", or with `confirmed` the
/// delete itself.
pub(crate) async fn delete_selected(
    mut ctx: AdminCtx,
    ops: Arc<dyn AdminOps>,
    selected: Vec<String>,
    confirmed: bool,
    back: String,
) -> PageResult {
    let meta = ops.meta();
    let db = ctx.state.db.clone();
    let rows = rows_by_pk(ops.as_ref(), &db, &selected)
        .await
        .map_err(|e| Reject(server_error(e)))?;
    if rows.is_empty() {
        ctx.message(
            "warning",
            "Items must be selected in order to perform actions on them. No items have been changed.",
        )
        .await;
        return Ok(ctx.redirect(&back));
    }
    let collected = collect(&ctx, &ops, &rows)
        .await
        .map_err(|e| Reject(server_error(e)))?;
    if confirmed && !collected.blocked() {
        match delete_rows(&ctx, &ops, &rows).await {
            Ok(count) => {
                let text = format!("Successfully deleted {count} {}.", count_name(meta, count));
                ctx.message("success", text).await;
            }
            Err(error) => ctx.message("error", delete_error(&error)).await,
        }
        return Ok(ctx.redirect(&back));
    }
    let plural = verbose_name_plural(meta);
    let title = if collected.blocked() {
        format!("Cannot delete {plural}")
    } else {
        "Are you sure?".to_string()
    };
    Ok(ctx.render(
        "admin/delete_selected_confirmation.html",
        context! {
            title => title,
            app_label => meta.app_label,
            app_name => super::site::app_title(meta.app_label),
            plural_title => capitalize(&plural),
            verbose_name_plural => plural,
            list_url => list_url(meta),
            back_url => back,
            selected => rows.iter().map(|r| r.pk.clone()).collect::<Vec<_>>(),
            ..collected.context()
        },
    ))
}

/// The row `pk` of `ops`, or the 404 page.
async fn object(ctx: &mut AdminCtx, ops: &Arc<dyn AdminOps>, pk: &str) -> Result<AdminRow, Reject> {
    match ops.get(&ctx.state.db, pk).await {
        Ok(Some(row)) => Ok(row),
        Ok(None) => Err(Reject(ctx.not_found())),
        Err(e) => Err(Reject(server_error(e))),
    }
}

fn render_confirmation(
    ctx: &mut AdminCtx,
    ops: &Arc<dyn AdminOps>,
    row: &AdminRow,
    collected: &Collected,
    error: Option<String>,
) -> axum::response::Response {
    let meta = ops.meta();
    let title = if collected.blocked() {
        format!("Cannot delete {}", meta.verbose_name())
    } else {
        "Are you sure?".to_string()
    };
    ctx.render(
        "admin/delete_confirmation.html",
        context! {
            title => title,
            app_label => meta.app_label,
            app_name => super::site::app_title(meta.app_label),
            plural_title => capitalize(&verbose_name_plural(meta)),
            verbose_name => meta.verbose_name(),
            list_url => list_url(meta),
            object => row.display.clone(),
            object_url => change_url(meta, &row.pk),
            error => error,
            ..collected.context()
        },
    )
}

/// `GET /admin/{app}/{model}/{pk}/delete/`: what the delete would remove.
pub async fn delete_view(
    mut ctx: AdminCtx,
    Path((app, model, pk)): Path<(String, String, String)>,
) -> PageResult {
    ctx.staff()?;
    let ops = admin_model(&mut ctx, &app, &model)?;
    ctx.require_perm(ops.meta(), Action::Delete).await?;
    let row = object(&mut ctx, &ops, &pk).await?;
    let collected = collect(&ctx, &ops, std::slice::from_ref(&row))
        .await
        .map_err(|e| Reject(server_error(e)))?;
    Ok(render_confirmation(&mut ctx, &ops, &row, &collected, None))
}

/// `POST /admin/{app}/{model}/{pk}/delete/`: deletes, records it, and
/// goes back to the change list.
pub async fn delete_post(
    mut ctx: AdminCtx,
    Path((app, model, pk)): Path<(String, String, String)>,
    Form(form): Form<FormFields>,
) -> PageResult {
    ctx.staff()?;
    let ops = admin_model(&mut ctx, &app, &model)?;
    ctx.check_csrf(&form)?;
    let meta = ops.meta();
    ctx.require_perm(meta, Action::Delete).await?;
    let row = object(&mut ctx, &ops, &pk).await?;
    let collected = collect(&ctx, &ops, std::slice::from_ref(&row))
        .await
        .map_err(|e| Reject(server_error(e)))?;
    if collected.blocked() {
        return Ok(render_confirmation(&mut ctx, &ops, &row, &collected, None));
    }
    if let Err(error) = delete_rows(&ctx, &ops, std::slice::from_ref(&row)).await {
        let text = delete_error(&error);
        return Ok(render_confirmation(
            &mut ctx,
            &ops,
            &row,
            &collected,
            Some(text),
        ));
    }
    ctx.message(
        "success",
        format!(
            "The {} “{}” was deleted successfully.",
            meta.verbose_name(),
            row.display
        ),
    )
    .await;
    let to = if ctx.has_perm(meta, Action::View).await || ctx.has_perm(meta, Action::Change).await {
        list_url(meta)
    } else {
        "/admin/".to_string()
    };
    Ok(ctx.redirect(&to))
}
