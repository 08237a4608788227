//! Deleting from the admin: the confirmation page of one object
//! (`/admin/{app}/{model}/{pk}/delete/`) and of a bulk "Delete selected"
//! action, each listing what the delete cascades to (the object's history
//! page is in `history`).
//!
//! What the delete reaches is found by the write layer's
//! [`cascade`](crate::write::cascade) walk, asking for each model's
//! `delete` permission as Django's admin does; this module turns it into
//! the page: labels, links and "and N more" lines.

use std::collections::BTreeMap;
use std::sync::Arc;

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
use crate::model::{Action, ModelMeta};
use crate::write::UnitOfWork;
use crate::write::cascade::{self, DeleteRights, Reached};

/// One object of the "will be deleted" tree.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Node {
    /// The model in words ("Post"); empty for an "and N more" line.
    label: String,
    display: String,
    url: Option<String>,
    children: Vec<Node>,
}

/// What deleting some rows involves, as the page shows it.
pub(crate) struct Collected {
    /// The deleted rows, each with what it cascades to.
    deleted: Vec<Node>,
    /// Rows that forbid the delete (`on_delete = "restrict"`).
    protected: Vec<Node>,
    /// How many rows of each model go, by plural name.
    summary: BTreeMap<String, u64>,
    /// Models the user may not delete that the delete would reach.
    perms_needed: Vec<String>,
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
    fn new(found: cascade::Collected) -> Collected {
        let mut summary = BTreeMap::new();
        for (meta, count) in &found.counts {
            *summary.entry(verbose_name_plural(meta)).or_default() += count;
        }
        Collected {
            deleted: found.deleted.iter().map(node).collect(),
            protected: found.protected.iter().map(node).collect(),
            summary,
            perms_needed: found.refused.iter().map(|m| m.verbose_name()).collect(),
        }
    }

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

/// The page's line of one entry of the tree (and of its children).
fn node(reached: &Reached) -> Node {
    match reached {
        Reached::Row {
            meta,
            row,
            children,
        } => Node {
            label: capitalize(&meta.verbose_name()),
            display: row.display.clone(),
            url: (!meta.admin.hidden).then(|| change_url(meta, &row.pk)),
            children: children.iter().map(node).collect(),
        },
        Reached::More { meta, count } => Node {
            label: String::new(),
            display: format!("… and {count} more {}", count_name(meta, *count)),
            url: None,
            children: Vec::new(),
        },
    }
}

/// Finds everything deleting `rows` of `ops` reaches, for an admin user.
pub(crate) async fn collect(
    ctx: &AdminCtx,
    ops: &Arc<dyn AdminOps>,
    rows: &[AdminRow],
) -> Result<Collected, DbErr> {
    let found = cascade::collect(
        &ctx.state.db,
        ctx.state.models().all(),
        &AdminRights(ctx),
        ops.meta(),
        rows,
    )
    .await?;
    Ok(Collected::new(found))
}

/// Deletes `rows` and records each deletion in `django_admin_log`, all in
/// one transaction: a failing delete leaves every row and no log entry.
async fn delete_rows(
    ctx: &AdminCtx,
    ops: &Arc<dyn AdminOps>,
    rows: &[AdminRow],
) -> Result<u64, ApiError> {
    let work = UnitOfWork::begin_as(&ctx.state.db, ctx.user.as_ref().map(|u| u.id)).await?;
    let pks: Vec<String> = rows.iter().map(|r| r.pk.clone()).collect();
    let deleted = ops.delete(&work, ctx.state.models(), &pks).await?;
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
    let to = if ctx.can_view(meta).await {
        list_url(meta)
    } else {
        "/admin/".to_string()
    };
    Ok(ctx.redirect(&to))
}
