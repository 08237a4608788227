//! Django's permission tables: creating each model's four permissions, and
//! reading what a user holds directly and through groups.

use std::collections::{HashMap, HashSet};

use crate::db::Connection;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter,
};

use super::models::{content_type, group_permission, permission, user_group, user_permission};
use crate::model::{Action, ModelMeta};

/// Creates the content type of each model and its `add`, `change`,
/// `delete` and `view` permissions, when missing (none for link tables
/// declared `#[api(permissions_of = ...)]`). Idempotent, and it
/// never removes a permission (users may hold it).
pub async fn sync_permissions(
    db: &impl ConnectionTrait,
    models: impl IntoIterator<Item = &'static ModelMeta>,
) -> Result<(), DbErr> {
    let mut types: HashMap<(String, String), i32> = content_type::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|ct| ((ct.app_label, ct.model), ct.id))
        .collect();
    let existing: HashSet<(i32, String)> = permission::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.content_type_id, p.codename))
        .collect();
    // Link tables (`permissions_of`) follow their parent's permissions and
    // get none of their own, as Django's auto-created through tables.
    for meta in models
        .into_iter()
        .filter(|m| m.permissions_parent().is_none())
    {
        let key = (meta.app_label.to_string(), meta.model_name.to_string());
        let type_id = match types.get(&key) {
            Some(id) => *id,
            None => {
                let row = content_type::ActiveModel {
                    app_label: Set(key.0.clone()),
                    model: Set(key.1.clone()),
                    ..Default::default()
                }
                .insert(db)
                .await?;
                types.insert(key, row.id);
                row.id
            }
        };
        let verbose = meta.verbose_name();
        for action in Action::ALL {
            let codename = meta.codename(action);
            if existing.contains(&(type_id, codename.clone())) {
                continue;
            }
            permission::ActiveModel {
                name: Set(format!("Can {} {verbose}", action.codename())),
                content_type_id: Set(type_id),
                codename: Set(codename),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// Every `app_label.codename` held by user `user_id`, directly or through
/// a group.
pub async fn user_permissions(db: &Connection, user_id: i32) -> Result<HashSet<String>, DbErr> {
    let mut ids: HashSet<i32> = user_permission::Entity::find()
        .filter(user_permission::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.permission_id)
        .collect();
    let groups: Vec<i32> = user_group::Entity::find()
        .filter(user_group::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.group_id)
        .collect();
    if !groups.is_empty() {
        ids.extend(
            group_permission::Entity::find()
                .filter(group_permission::Column::GroupId.is_in(groups))
                .all(db)
                .await?
                .into_iter()
                .map(|row| row.permission_id),
        );
    }
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = permission::Entity::find()
        .filter(permission::Column::Id.is_in(ids))
        .find_also_related(content_type::Entity)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(p, ct)| ct.map(|ct| format!("{}.{}", ct.app_label, p.codename)))
        .collect())
}
