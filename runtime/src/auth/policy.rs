//! The row policy of every model (`#[api(policy = ...)]`): who may view,
//! add, change or delete its rows, and which rows ([`Scope`]). The REST
//! API, the change feed and the admin's autocomplete share it, so a row
//! looks the same to a user through each of them.

use sea_orm::EntityTrait;
use serde_json::Value as JsonValue;

use super::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::model::{Action, Model, ModelMeta, Policy};
use crate::state::AppState;

/// Which rows an allowed caller may act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every row.
    All,
    /// Only rows whose owner field is this user (others look absent: 404).
    OwnRows(i64),
    /// Rows this user owns (others: 403).
    Owned(i64),
}

/// Applies the model's policy to the caller: 401 for anonymous callers
/// where a user is needed, 403 without the permission.
pub async fn authorize<M: Model>(
    state: &AppState,
    user: &Option<CurrentUser>,
    action: Action,
) -> ApiResult<Scope> {
    authorize_meta(state, user, M::meta(), action).await
}

/// [`authorize`] for a model known only by its metadata (the target of a
/// foreign key, a model a delete cascades to): the policy, owner field and
/// `own_rows_only` all live in [`ModelMeta`].
pub async fn authorize_meta(
    state: &AppState,
    user: &Option<CurrentUser>,
    meta: &'static ModelMeta,
    action: Action,
) -> ApiResult<Scope> {
    let code = || permission_code(meta, action);
    let need_user = || {
        user.as_ref().ok_or_else(|| {
            ApiError::Unauthorized("Authentication credentials were not provided".into())
        })
    };
    match meta.api.policy {
        Policy::AllowAny => Ok(Scope::All),
        Policy::PublicRead if action == Action::View => Ok(Scope::All),
        Policy::Authenticated => need_user().map(|_| Scope::All),
        Policy::ModelPermissions | Policy::PublicRead => {
            need_user()?.require_perm(&state.db, &code()).await?;
            Ok(Scope::All)
        }
        Policy::Owner => {
            let user = need_user()?;
            let user_id = i64::from(user.id);
            // Creating, and reading shared rows, need no permission: look
            // permissions up only where they widen the scope.
            let restricted = match action {
                Action::Add => return Ok(Scope::All),
                Action::View if !meta.api.own_rows_only => return Ok(Scope::All),
                Action::View => Scope::OwnRows(user_id),
                Action::Change | Action::Delete => Scope::Owned(user_id),
            };
            let permitted = user
                .has_perm(&state.db, &code())
                .await
                .map_err(ApiError::internal)?;
            Ok(if permitted { Scope::All } else { restricted })
        }
        Policy::PermissionsOf(_) => {
            // A link table (a user's groups, a group's permissions) has no
            // permissions of its own, as Django's auto-created through
            // tables: reading it is viewing the parent, and adding, changing
            // or removing a link is changing the parent.
            let parent = meta.permissions_parent().ok_or_else(|| {
                ApiError::internal(format!(
                    "{}: permissions_of names no foreign key",
                    meta.table
                ))
            })?;
            let parent_action = if action == Action::View {
                Action::View
            } else {
                Action::Change
            };
            Box::pin(authorize_meta(state, user, parent, parent_action)).await?;
            Ok(Scope::All)
        }
    }
}

/// `app.action_model`, the permission `action` needs on `meta` (for a link
/// table, the parent's `view` or `change`).
pub fn permission_code(meta: &ModelMeta, action: Action) -> String {
    meta.permission_code(action)
}

/// Whether `row` (a `Read` object of `meta`) is inside `scope`, judged by the
/// owner field's value in the JSON (no owner field shown: outside).
pub fn json_in_scope(meta: &ModelMeta, scope: Scope, row: &JsonValue) -> bool {
    match scope {
        Scope::All => true,
        Scope::OwnRows(user) | Scope::Owned(user) => {
            meta.api
                .owner
                .and_then(|owner| meta.field(owner))
                .and_then(|f| f.read_as)
                .and_then(|key| row.get(key))
                .and_then(JsonValue::as_i64)
                == Some(user)
        }
    }
}

/// 404 or 403 when `row` is outside the caller's scope.
pub fn check_row<M: Model>(scope: Scope, row: &<M::Entity as EntityTrait>::Model) -> ApiResult<()> {
    match scope {
        Scope::All => Ok(()),
        Scope::OwnRows(user) if M::owner_of(row) == Some(user) => Ok(()),
        Scope::OwnRows(_) => Err(ApiError::NotFound),
        Scope::Owned(user) if M::owner_of(row) == Some(user) => Ok(()),
        Scope::Owned(_) => Err(ApiError::Forbidden(format!(
            "Only the owner of this {} may change or delete it",
            M::meta().verbose_name()
        ))),
    }
}
