//! Creating accounts from code: tests and set-up scripts need a superuser
//! without going through the interactive `createsuperuser` command.

use sea_orm::{ActiveValue::Set, DbErr};

use crate::auth::credentials::db_err;
use crate::auth::models::{User, user};
use crate::db::Connection;
use crate::write::UnitOfWork;

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
    let active = user::ActiveModel {
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
    };
    // Through the one write path, as every row change.
    let work = UnitOfWork::begin(db).await.map_err(db_err)?;
    let row = work.create::<User>(active, None).await.map_err(db_err)?;
    work.commit().await.map_err(db_err)?;
    Ok(User::from(row))
}
