//! Creating accounts from code: tests and set-up scripts need a superuser
//! without going through the interactive `createsuperuser` command.

use crate::db::Connection;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DbErr};

use crate::auth::models::{User, user};

/// Creates an active superuser (staff too) with `password` hashed as argon2id.
///
/// Generated projects' tests call it to log in through `POST /api/auth/token`
/// as a real client would. The username must be free. Code calling it
/// chooses the password, so the app's password policy is not applied here
/// (the `createsuperuser` command applies it).
pub async fn create_superuser(
    db: &Connection,
    username: &str,
    email: &str,
    password: &str,
) -> Result<User, DbErr> {
    let password = password.to_owned();
    // Hashing takes tens of milliseconds on purpose: keep it off the async workers.
    let hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
        .await
        .map_err(|e| DbErr::Custom(format!("password hashing failed: {e}")))?;
    let row = user::ActiveModel {
        username: Set(username.to_owned()),
        email: Set(email.to_owned()),
        password: Set(hash),
        is_superuser: Set(true),
        is_staff: Set(true),
        is_active: Set(true),
        first_name: Set(String::new()),
        last_name: Set(String::new()),
        date_joined: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(User::from(row))
}
