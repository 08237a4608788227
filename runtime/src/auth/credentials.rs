//! Setting passwords: the app's [`PasswordPolicy`] checked on every path
//! that sets one, and every bearer token of the account revoked when it
//! changes (sessions end through their password fingerprint, see
//! [`super::session`]).

use std::any::TypeId;

use crate::db::Connection;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter,
};
use serde_json::Value;

use super::models::{User, token, user};
use super::validation::{PasswordContext, PasswordPolicy};
use crate::error::{ApiError, ApiResult, ErrorDetail, ValidationError};
use crate::model::Model;
use crate::schema::{DeferredJson, FromJsonBody};
use crate::state::AppState;
use crate::write::UnitOfWork;

/// Deletes every bearer token of `user_id`; answers how many there were.
pub async fn revoke_tokens(db: &impl ConnectionTrait, user_id: i32) -> Result<u64, DbErr> {
    let deleted = token::Entity::delete_many()
        .filter(token::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

/// Stores `password` (hashed as argon2id) for `account` and revokes its
/// bearer tokens, in one transaction. Every admin session of the account
/// then fails its password fingerprint check; a caller changing its own
/// password keeps its session by storing the new fingerprint, as Django's
/// `update_session_auth_hash` does. The policy is the caller's to apply
/// first ([`PasswordPolicy::problems`]).
pub async fn change_password(
    db: &Connection,
    account: user::Model,
    password: &str,
) -> Result<user::Model, DbErr> {
    let work = UnitOfWork::begin(db).await.map_err(db_err)?;
    let saved = set_password(&work, account, password)
        .await
        .map_err(db_err)?;
    work.commit().await.map_err(db_err)?;
    Ok(saved)
}

/// [`change_password`] as one part of a larger write (the admin's password
/// form logs the change in the same transaction).
pub(crate) async fn set_password(
    work: &UnitOfWork,
    account: user::Model,
    password: &str,
) -> ApiResult<user::Model> {
    let password = password.to_owned();
    // Hashing takes tens of milliseconds on purpose: keep it off the async workers.
    let hash = tokio::task::spawn_blocking(move || super::hash_password(&password))
        .await
        .map_err(|e| ApiError::internal(format!("password hashing failed: {e}")))?;
    let id = account.id;
    let mut active = account.clone().into_active_model();
    active.password = Set(hash);
    let saved = work.update::<User>(account, active).await?;
    revoke_tokens(work.tx(), id)
        .await
        .map_err(ApiError::internal)?;
    Ok(saved)
}

/// A write path error where a [`DbErr`] is promised: its text, no SQL.
pub(crate) fn db_err(error: ApiError) -> DbErr {
    DbErr::Custom(error.to_string())
}

/// The 422 of a password the policy refuses, at `["body", field]`.
pub fn password_error(field: &str, problems: Vec<super::PasswordProblem>) -> ApiError {
    ApiError::Validation(ValidationError {
        detail: problems
            .into_iter()
            .map(|p| ErrorDetail::new(vec!["body".into(), field.into()], p.code, p.message))
            .collect(),
    })
}

/// Parses a create (`existing` is `None`) or update body of `M`, and checks
/// each `#[field(password)]` it sets against the app's policy, compared with
/// the row's attributes as they will be after the write. Answers the body
/// and whether it sets a password.
pub(crate) fn read_body<M: Model, T: FromJsonBody>(
    state: &AppState,
    body: DeferredJson,
    existing: Option<&<M::Entity as sea_orm::EntityTrait>::Model>,
) -> ApiResult<(T, bool)> {
    // Most models have no password field: their writes pay for nothing here.
    if !M::meta().fields.iter().any(|f| f.password) {
        return Ok((body.parse()?, false));
    }
    let fields: Vec<&str> = M::meta()
        .fields
        .iter()
        .filter(|f| f.password)
        .map(|f| f.name)
        .collect();
    let (input, json) = body.parse_with_json::<T>()?;
    let written: Vec<(&str, &str)> = fields
        .iter()
        .filter_map(|name| Some((*name, json.get(*name)?.as_str()?)))
        .collect();
    if written.is_empty() {
        return Ok((input, false));
    }
    let mut after = match existing {
        Some(row) => serde_json::to_value(M::Read::from(row.clone())).unwrap_or(Value::Null),
        None => Value::Null,
    };
    if let (Some(after), Some(sent)) = (after.as_object_mut(), json.as_object()) {
        after.extend(sent.clone());
    } else if existing.is_none() {
        after = json.clone();
    }
    let context = PasswordContext::from_json(&after);
    let policy: &PasswordPolicy = &state.auth().password_policy;
    let mut detail = Vec::new();
    for (field, password) in written {
        if let ApiError::Validation(error) =
            password_error(field, policy.problems(password, &context))
        {
            detail.extend(error.detail);
        }
    }
    if !detail.is_empty() {
        return Err(ApiError::Validation(ValidationError { detail }));
    }
    Ok((input, true))
}

/// After a write that set a password of `M`: when `M` is the built-in
/// [`User`], the account's bearer tokens are revoked (its sessions already
/// fail their fingerprint check).
pub(crate) async fn password_written<M: Model>(
    db: &impl ConnectionTrait,
    key: &M::Key,
) -> ApiResult<()> {
    if TypeId::of::<M>() != TypeId::of::<User>() {
        return Ok(());
    }
    let Ok(user_id) = key.to_string().parse::<i32>() else {
        return Ok(());
    };
    revoke_tokens(db, user_id)
        .await
        .map_err(ApiError::internal)?;
    Ok(())
}
