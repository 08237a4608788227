//! The history of every change made through the admin, in Django's
//! `django_admin_log`: writing an entry ([`log_action`], with Django's JSON
//! [`change_message`]), reading it back as sentences, the object history
//! page (`/admin/{app}/{model}/{pk}/history/`) and the index's recent actions.

use std::collections::BTreeMap;

use axum::extract::Path;
use minijinja::context;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::context::{AdminCtx, PageResult, Reject, server_error};
use super::models::{find_log_entries, log_entry};
use super::objects::{admin_model, change_url, list_url, readable};
use super::site::{app_title, capitalize};
use super::verbose_name_plural;
use crate::auth::models::{content_type, user};

/// Django's `LogEntry.action_flag` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogAction {
    /// 1: an object was added.
    Addition = 1,
    /// 2: an object was changed.
    Change = 2,
    /// 3: an object was deleted.
    Deletion = 3,
}

/// Records an admin action in `django_admin_log`, as Django's admin does:
/// `message` is Django's JSON change message (see [`change_message`]).
pub async fn log_action(
    db: &impl ConnectionTrait,
    user_id: i32,
    meta: &crate::model::ModelMeta,
    object_id: &str,
    object_repr: &str,
    action: LogAction,
    message: serde_json::Value,
) -> Result<(), sea_orm::DbErr> {
    let content_type_id = content_type::Entity::find()
        .filter(content_type::Column::AppLabel.eq(meta.app_label))
        .filter(content_type::Column::Model.eq(meta.model_name))
        .one(db)
        .await?
        .map(|t| t.id);
    let repr: String = object_repr.chars().take(200).collect();
    // Nothing is read back: on MySQL that read would not decode Django's
    // unsigned `action_flag` (see `find_log_entries`).
    let entry = log_entry::ActiveModel {
        action_time: Set(chrono::Utc::now()),
        user_id: Set(user_id),
        content_type_id: Set(content_type_id),
        object_id: Set(Some(object_id.to_string())),
        object_repr: Set(repr),
        action_flag: Set(action as i16),
        change_message: Set(message.to_string()),
        ..Default::default()
    };
    log_entry::Entity::insert(entry)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Django's change message: `[{"added": {}}]`, `[{"changed": {"fields":
/// ["Title"]}}]` or `[{"deleted": {}}]`; inline rows add
/// `{"added": {"name": "post", "object": "..."}}` entries.
pub fn change_message(action: LogAction, changed_fields: &[String]) -> serde_json::Value {
    match action {
        LogAction::Addition => serde_json::json!([{ "added": {} }]),
        LogAction::Deletion => serde_json::json!([{ "deleted": {} }]),
        LogAction::Change if changed_fields.is_empty() => serde_json::json!([]),
        LogAction::Change => serde_json::json!([{ "changed": { "fields": changed_fields } }]),
    }
}

/// A change message as a sentence ("Changed Title and Body."), as
/// Django's `LogEntry.get_change_message`.
pub fn describe_change_message(message: &str) -> String {
    let Ok(serde_json::Value::Array(parts)) = serde_json::from_str::<serde_json::Value>(message)
    else {
        return message.to_string();
    };
    let mut sentences = Vec::new();
    for part in parts {
        let Some((kind, detail)) = part.as_object().and_then(|o| o.iter().next()) else {
            continue;
        };
        let object = match (detail.get("name"), detail.get("object")) {
            (Some(name), Some(object)) => format!(
                " {} “{}”",
                name.as_str().unwrap_or(""),
                object.as_str().unwrap_or("")
            ),
            _ => String::new(),
        };
        match kind.as_str() {
            "added" => sentences.push(format!("Added{object}.")),
            "deleted" => sentences.push(format!("Deleted{object}.")),
            "changed" => {
                let fields: Vec<&str> = detail
                    .get("fields")
                    .and_then(|f| f.as_array())
                    .map(|f| f.iter().filter_map(|v| v.as_str()).collect())
                    .unwrap_or_default();
                let list = match fields.as_slice() {
                    [] => String::new(),
                    [one] => (*one).to_string(),
                    [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
                };
                let on = if object.is_empty() {
                    String::new()
                } else {
                    format!(" for{object}")
                };
                sentences.push(format!("Changed {list}{on}."));
            }
            _ => {}
        }
    }
    if sentences.is_empty() {
        "No fields changed.".to_string()
    } else {
        sentences.join(" ")
    }
}

/// `GET /admin/{app}/{model}/{pk}/history/`: the object's log entries,
/// oldest first; also for a deleted object, from its last entry's name.
pub async fn history(
    mut ctx: AdminCtx,
    Path((app, model, pk)): Path<(String, String, String)>,
) -> PageResult {
    ctx.staff()?;
    let ops = admin_model(&mut ctx, &app, &model)?;
    let meta = ops.meta();
    if !ctx.can_view(meta).await {
        return Err(Reject(
            ctx.forbidden("You don't have permission to view this object."),
        ));
    }
    let db = ctx.state.db.clone();
    let fail = |e: DbErr| Reject(server_error(e));
    let row = ops.get(&db, &pk).await.map_err(fail)?;
    let kind = content_type::Entity::find()
        .filter(content_type::Column::AppLabel.eq(meta.app_label))
        .filter(content_type::Column::Model.eq(meta.model_name))
        .one(&db)
        .await
        .map_err(fail)?;
    let entries = match &kind {
        Some(kind) => find_log_entries(db.get_database_backend())
            .filter(log_entry::Column::ContentTypeId.eq(kind.id))
            .filter(log_entry::Column::ObjectId.eq(pk.as_str()))
            .order_by_asc(log_entry::Column::ActionTime)
            .order_by_asc(log_entry::Column::Id)
            .all(&db)
            .await
            .map_err(fail)?,
        None => Vec::new(),
    };
    let object = match (&row, entries.last()) {
        (Some(row), _) => row.display.clone(),
        (None, Some(entry)) => entry.object_repr.clone(),
        (None, None) => return Err(Reject(ctx.not_found())),
    };
    let user_ids: Vec<i32> = entries.iter().map(|e| e.user_id).collect();
    let names: BTreeMap<i32, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(user_ids))
        .all(&db)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|u| (u.id, u.username))
        .collect();
    let actions: Vec<minijinja::Value> = entries
        .iter()
        .map(|entry| {
            context! {
                time => readable(&sea_orm::Value::from(entry.action_time)).unwrap_or_default(),
                iso => entry.action_time.to_rfc3339(),
                user => names.get(&entry.user_id).cloned().unwrap_or_default(),
                message => describe_change_message(&entry.change_message),
            }
        })
        .collect();
    Ok(ctx.render(
        "admin/object_history.html",
        context! {
            title => format!("Change history: {object}"),
            app_label => meta.app_label,
            app_name => app_title(meta.app_label),
            plural_title => capitalize(&verbose_name_plural(meta)),
            list_url => list_url(meta),
            object => object,
            object_url => row.as_ref().map(|r| change_url(meta, &r.pk)),
            action_list => actions,
        },
    ))
}

/// The last ten log entries of `user_id`, for the index's "Recent actions".
pub(super) async fn recent_actions(
    ctx: &AdminCtx,
    user_id: i32,
) -> Result<Vec<minijinja::Value>, Reject> {
    let db = &ctx.state.db;
    let entries = find_log_entries(db.get_database_backend())
        .filter(log_entry::Column::UserId.eq(user_id))
        .order_by_desc(log_entry::Column::ActionTime)
        .order_by_desc(log_entry::Column::Id)
        .limit(10)
        .all(db)
        .await
        .map_err(|e| Reject(server_error(e)))?;
    let type_ids: Vec<i32> = entries.iter().filter_map(|e| e.content_type_id).collect();
    let types: BTreeMap<i32, (String, String)> = content_type::Entity::find()
        .filter(content_type::Column::Id.is_in(type_ids))
        .all(db)
        .await
        .map_err(|e| Reject(server_error(e)))?
        .into_iter()
        .map(|t| (t.id, (t.app_label, t.model)))
        .collect();
    Ok(entries
        .into_iter()
        .map(|entry| {
            let kind = entry.content_type_id.and_then(|id| types.get(&id));
            let ops = kind.and_then(|(app, model)| ctx.admin().find(app, model));
            let url = match (&ops, &entry.object_id, entry.action_flag) {
                (Some(ops), Some(id), 1 | 2) => Some(format!(
                    "/admin/{}/{}/{}/change/",
                    ops.meta().app_label,
                    ops.meta().model_name,
                    super::quote_pk(id)
                )),
                _ => None,
            };
            context! {
                object_repr => entry.object_repr,
                action => match entry.action_flag { 1 => "addition", 2 => "change", _ => "deletion" },
                model => ops.map(|o| capitalize(&o.meta().verbose_name())),
                url => url,
            }
        })
        .collect())
}
