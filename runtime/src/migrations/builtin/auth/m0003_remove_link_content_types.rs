//! Migration `0003_remove_link_content_types` of app `auth`, written by hand:
//!
//! - Remove the content types (and their permissions) that ferrobridge
//!   versions before this one created for the link tables
//!
//! Django gives its auto-created many-to-many tables no content type, and
//! neither does ferrobridge any more; but earlier versions made
//! `auth.usergroup`, `auth.grouppermission` and `auth.userpermission` with
//! four permissions each, which Django's `remove_stale_contenttypes` then
//! offers to delete. This deletes exactly those rows when present, with
//! the grants of their permissions, and clears the content type of admin
//! log entries that named them (Django's `SET_NULL`). Unapplying it
//! restores nothing: no version uses those rows.

//!
//! It reads and writes the tables by name, as the migrations made them, not
//! through today's entities: a migration must keep meaning what it meant
//! when the models change (Django's migrations use historical models for the
//! same reason), and the migrations stay below the auth and admin code.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbErr};

use ferrobridge::migrations::MigrationTransaction;
use ferrobridge::migrations::prelude::*;

/// The link tables' model names ferrobridge used to give content types.
const LINK_MODELS: [&str; 3] = ["usergroup", "grouppermission", "userpermission"];

/// The migration: its dependencies and operations, in order.
pub fn migration() -> Migration {
    Migration::new("0003_remove_link_content_types").run_code(RunCode::new(
        "Remove the content types of auth's link tables",
        |tx| Box::pin(remove_link_content_types(tx)),
    ))
}

/// The `id`s of the rows of `table` that `filter` keeps.
async fn ids_where(
    tx: &MigrationTransaction,
    table: &str,
    filter: Expr,
) -> Result<Vec<i32>, DbErr> {
    let query = Query::select()
        .column(Alias::new("id"))
        .from(Alias::new(table))
        .and_where(filter)
        .to_owned();
    tx.query_all(&query)
        .await?
        .iter()
        .map(|row| row.try_get("", "id"))
        .collect()
}

/// Deletes the rows of `table` whose `column` is one of `ids`.
async fn delete_where_in(
    tx: &MigrationTransaction,
    table: &str,
    column: &str,
    ids: &[i32],
) -> Result<(), DbErr> {
    tx.execute(
        Query::delete()
            .from_table(Alias::new(table))
            .and_where(Expr::col(Alias::new(column)).is_in(ids.iter().copied())),
    )
    .await?;
    Ok(())
}

async fn remove_link_content_types(tx: &MigrationTransaction) -> Result<(), DbErr> {
    let types = ids_where(
        tx,
        "django_content_type",
        Expr::col(Alias::new("app_label"))
            .eq("auth")
            .and(Expr::col(Alias::new("model")).is_in(LINK_MODELS)),
    )
    .await?;
    if types.is_empty() {
        return Ok(());
    }
    let permissions = ids_where(
        tx,
        "auth_permission",
        Expr::col(Alias::new("content_type_id")).is_in(types.iter().copied()),
    )
    .await?;
    delete_where_in(
        tx,
        "auth_user_user_permissions",
        "permission_id",
        &permissions,
    )
    .await?;
    delete_where_in(tx, "auth_group_permissions", "permission_id", &permissions).await?;
    // The admin's table comes with a later app's migration: on a database
    // that has rows to clean it exists, on a fresh one there is nothing to clear.
    if crate::db::table_names(tx)
        .await?
        .contains("django_admin_log")
    {
        tx.execute(
            Query::update()
                .table(Alias::new("django_admin_log"))
                .value(Alias::new("content_type_id"), Option::<i32>::None)
                .and_where(Expr::col(Alias::new("content_type_id")).is_in(types.iter().copied())),
        )
        .await?;
    }
    delete_where_in(tx, "auth_permission", "id", &permissions).await?;
    delete_where_in(tx, "django_content_type", "id", &types).await?;
    Ok(())
}
