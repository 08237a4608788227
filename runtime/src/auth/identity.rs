//! Links between external identities (an issuer's `iss` and `sub`) and
//! local accounts: the only way a token from another server becomes a
//! local user. Attaching one to an existing account, above all a staff or
//! superuser account, is an explicit act: [`link_identity`] from code, or
//! the `linkidentity` command.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter,
};
use sha2::{Digest, Sha256};

use super::models::{external_identity, user};

/// The unique key of an (issuer, subject) pair: hex SHA-256 of both,
/// length-prefixed so no two pairs share a key.
pub fn identity_key(issuer: &str, subject: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update((issuer.len() as u64).to_be_bytes());
    hasher.update(issuer.as_bytes());
    hasher.update(subject.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The local account `subject` at `issuer` is linked to, if any.
pub async fn linked_user(
    db: &impl ConnectionTrait,
    issuer: &str,
    subject: &str,
) -> Result<Option<user::Model>, DbErr> {
    let found = external_identity::Entity::find()
        .filter(external_identity::Column::Key.eq(identity_key(issuer, subject)))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(_, user)| user))
}

/// Links `subject` at `issuer` to the local account `user_id`, whatever
/// that account is (staff and superusers included: this is the explicit
/// link [`JwtAuthenticator`](crate::auth::JwtAuthenticator) never makes by
/// itself). Linking a pair again to the same user changes nothing; a pair
/// linked to another user is an error (unlink it first).
pub async fn link_identity(
    db: &impl ConnectionTrait,
    user_id: i32,
    issuer: &str,
    subject: &str,
) -> Result<external_identity::Model, DbErr> {
    if issuer.is_empty() || subject.is_empty() {
        return Err(DbErr::Custom(
            "the issuer and subject must not be empty".into(),
        ));
    }
    let key = identity_key(issuer, subject);
    if let Some(existing) = external_identity::Entity::find()
        .filter(external_identity::Column::Key.eq(key.as_str()))
        .one(db)
        .await?
    {
        if existing.user_id == user_id {
            return Ok(existing);
        }
        return Err(DbErr::Custom(format!(
            "`{subject}` at `{issuer}` is already linked to another user"
        )));
    }
    external_identity::ActiveModel {
        key: Set(key),
        issuer: Set(issuer.to_string()),
        subject: Set(subject.to_string()),
        user_id: Set(user_id),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Removes the link of `subject` at `issuer`; answers whether there was one.
pub async fn unlink_identity(
    db: &impl ConnectionTrait,
    issuer: &str,
    subject: &str,
) -> Result<bool, DbErr> {
    let deleted = external_identity::Entity::delete_many()
        .filter(external_identity::Column::Key.eq(identity_key(issuer, subject)))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}
