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

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use crate::admin::models::log_entry;
use crate::auth::models::{content_type, group_permission, permission, user_permission};
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

async fn remove_link_content_types(tx: &MigrationTransaction) -> Result<(), DbErr> {
    let types: Vec<i32> = content_type::Entity::find()
        .select_only()
        .column(content_type::Column::Id)
        .filter(content_type::Column::AppLabel.eq("auth"))
        .filter(content_type::Column::Model.is_in(LINK_MODELS))
        .into_tuple()
        .all(tx)
        .await?;
    if types.is_empty() {
        return Ok(());
    }
    let permissions: Vec<i32> = permission::Entity::find()
        .select_only()
        .column(permission::Column::Id)
        .filter(permission::Column::ContentTypeId.is_in(types.clone()))
        .into_tuple()
        .all(tx)
        .await?;
    user_permission::Entity::delete_many()
        .filter(user_permission::Column::PermissionId.is_in(permissions.clone()))
        .exec(tx)
        .await?;
    group_permission::Entity::delete_many()
        .filter(group_permission::Column::PermissionId.is_in(permissions.clone()))
        .exec(tx)
        .await?;
    // The admin's table comes with a later app's migration: on a database
    // that has rows to clean it exists, on a fresh one there is nothing to clear.
    if crate::migrations::table_names(tx)
        .await?
        .contains("django_admin_log")
    {
        log_entry::Entity::update_many()
            .col_expr(
                log_entry::Column::ContentTypeId,
                Expr::value(Option::<i32>::None),
            )
            .filter(log_entry::Column::ContentTypeId.is_in(types.clone()))
            .exec(tx)
            .await?;
    }
    permission::Entity::delete_many()
        .filter(permission::Column::Id.is_in(permissions))
        .exec(tx)
        .await?;
    content_type::Entity::delete_many()
        .filter(content_type::Column::Id.is_in(types))
        .exec(tx)
        .await?;
    Ok(())
}
