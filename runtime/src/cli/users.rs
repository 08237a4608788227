//! The commands about accounts: `createsuperuser`, `changepassword` and
//! `linkidentity`, each checking the app's password policy where a
//! password is set.

use super::prompt;
use crate::app::App;
use crate::db::Connection;

fn prompt_password() -> anyhow::Result<String> {
    loop {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password (again): ")?;
        if first != again {
            eprintln!("Error: your passwords didn't match.");
        } else if first.is_empty() {
            eprintln!("Error: blank passwords aren't allowed.");
        } else {
            return Ok(first);
        }
    }
}

/// The app's password policy's messages for `password` of `username`/`email`.
fn password_problems(app: &App, username: &str, email: &str, password: &str) -> Vec<String> {
    let account = crate::auth::PasswordContext::new()
        .with("username", username)
        .with("email", email);
    app.password_policy
        .problems(password, &account)
        .into_iter()
        .map(|p| p.message)
        .collect()
}

pub(super) async fn create_superuser(
    app: &App,
    db: &Connection,
    username: Option<String>,
    email: Option<String>,
    noinput: bool,
) -> anyhow::Result<()> {
    let interactive = !noinput && std::io::IsTerminal::is_terminal(&std::io::stdin());
    let username = match username {
        Some(name) => name,
        None if interactive => prompt("Username")?,
        None => anyhow::bail!("--username is required with --noinput (or without a terminal)"),
    };
    let email = match email {
        Some(email) => email,
        None if interactive => prompt("Email address")?,
        None => String::new(),
    };
    if !interactive {
        let password = std::env::var("FERROBRIDGE_SUPERUSER_PASSWORD").map_err(|_| {
            anyhow::anyhow!(
                "set FERROBRIDGE_SUPERUSER_PASSWORD to the password when using --noinput"
            )
        })?;
        return create_superuser_noinput(app, db, &username, &email, &password).await;
    }
    check_new_username(db, &username).await?;
    let password = loop {
        let password = prompt_password()?;
        let problems = password_problems(app, &username, &email, &password);
        if problems.is_empty() {
            break password;
        }
        // Django's createsuperuser: the problems, then a choice to keep it anyway.
        for problem in &problems {
            eprintln!("{problem}");
        }
        let answer = prompt("Bypass password validation and create user anyway? [y/N]")?;
        if answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes") {
            break password;
        }
    };
    crate::auth::create_superuser(db, &username, &email, &password).await?;
    eprintln!("Superuser `{username}` created successfully.");
    Ok(())
}

async fn check_new_username(db: &Connection, username: &str) -> anyhow::Result<()> {
    use crate::auth::models::user;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    if username.is_empty() || username.chars().count() > 150 {
        anyhow::bail!("the username must have 1 to 150 characters");
    }
    let taken = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await?;
    if taken.is_some() {
        anyhow::bail!("the username `{username}` is already taken");
    }
    Ok(())
}

/// `createsuperuser --noinput`: creates the superuser when `password`
/// passes the app's password policy, and refuses it otherwise (unlike
/// Django, which skips validation there: a script gets no chance to answer
/// "bypass?", so a weak password is an error it must fix, not a silent default).
pub async fn create_superuser_noinput(
    app: &App,
    db: &Connection,
    username: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<()> {
    check_new_username(db, username).await?;
    if password.is_empty() {
        anyhow::bail!("blank passwords aren't allowed");
    }
    let problems = password_problems(app, username, email, password);
    if !problems.is_empty() {
        anyhow::bail!(
            "the password was refused: {} (choose another in FERROBRIDGE_SUPERUSER_PASSWORD)",
            problems.join(" ")
        );
    }
    crate::auth::create_superuser(db, username, email, password).await?;
    eprintln!("Superuser `{username}` created successfully.");
    Ok(())
}

/// The account called `username`, or an error saying it does not exist.
async fn find_user(
    db: &Connection,
    username: &str,
) -> anyhow::Result<crate::auth::models::user::Model> {
    use crate::auth::models::user;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("user `{username}` does not exist"))
}

/// `changepassword`'s work once the password is typed: refused when the
/// app's password policy refuses it, else stored, and every bearer token of
/// the user revoked (admin sessions end through their password fingerprint).
pub async fn set_user_password(
    app: &App,
    db: &Connection,
    username: &str,
    password: &str,
) -> anyhow::Result<()> {
    let found = find_user(db, username).await?;
    let problems = app.password_policy.problems(
        password,
        &crate::auth::PasswordContext::of_user(&found.clone().into()),
    );
    if !problems.is_empty() {
        anyhow::bail!(
            "{}",
            problems
                .into_iter()
                .map(|p| p.message)
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    crate::auth::change_password(db, found, password).await?;
    Ok(())
}

pub(super) async fn change_password(
    app: &App,
    db: &Connection,
    username: Option<String>,
) -> anyhow::Result<()> {
    let username = username
        .or_else(|| std::env::var("USER").ok())
        .ok_or_else(|| anyhow::anyhow!("name the user: changepassword <username>"))?;
    find_user(db, &username).await?;
    eprintln!("Changing password for user `{username}`");
    // Django's changepassword: three tries, no bypass.
    for _ in 0..3 {
        let password = prompt_password()?;
        match set_user_password(app, db, &username, &password).await {
            Ok(()) => {
                eprintln!("Password changed successfully for user `{username}`.");
                return Ok(());
            }
            Err(problem) => eprintln!("{problem}"),
        }
    }
    anyhow::bail!("aborting password change for user `{username}` after 3 attempts")
}

/// `linkidentity`: links (or with `unlink`, unlinks) `subject` at `issuer`
/// to the account `username`.
pub async fn link_identity(
    db: &Connection,
    username: &str,
    issuer: &str,
    subject: &str,
    unlink: bool,
) -> anyhow::Result<()> {
    let found = find_user(db, username).await?;
    if unlink {
        match crate::auth::linked_user(db, issuer, subject).await? {
            Some(linked) if linked.id == found.id => {
                crate::auth::unlink_identity(db, issuer, subject).await?;
                eprintln!("Unlinked `{subject}` at `{issuer}` from user `{username}`.");
                Ok(())
            }
            _ => anyhow::bail!("`{subject}` at `{issuer}` is not linked to user `{username}`"),
        }
    } else {
        crate::auth::link_identity(db, found.id, issuer, subject)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        eprintln!("Linked `{subject}` at `{issuer}` to user `{username}`.");
        Ok(())
    }
}
