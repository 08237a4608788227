//! The pages Django's auth admin adds: setting a user's password through
//! a form of its own (the hash itself is never shown or edited).

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::Path;
use minijinja::context;
use sea_orm::EntityTrait;

use super::context::{AdminCtx, PageResult, Reject, server_error};
use super::login::check_new_password;
use super::site::FormFields;
use super::{LogAction, log_action, quote_pk};
use crate::auth::PasswordContext;
use crate::auth::models::{User, user};
use crate::model::{Action, Model};

fn field<'a>(form: &'a FormFields, name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

async fn target(ctx: &mut AdminCtx, pk: &str) -> Result<user::Model, Reject> {
    ctx.staff()?;
    ctx.require_perm(User::meta(), Action::Change).await?;
    let id: i32 = match pk.parse() {
        Ok(id) => id,
        Err(_) => return Err(Reject(ctx.not_found())),
    };
    match user::Entity::find_by_id(id).one(&ctx.state.db).await {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(Reject(ctx.not_found())),
        Err(e) => Err(Reject(server_error(e))),
    }
}

fn page(
    ctx: &mut AdminCtx,
    account: &user::Model,
    errors: BTreeMap<String, Vec<String>>,
) -> axum::response::Response {
    ctx.render(
        "admin/set_password.html",
        context! {
            title => format!("Change password: {}", account.username),
            username => account.username.clone(),
            change_url => format!("/admin/auth/user/{}/change/", quote_pk(&account.id.to_string())),
            errors => errors,
        },
    )
}

/// `GET /admin/auth/user/{pk}/password/`.
pub async fn set_password_form(mut ctx: AdminCtx, Path(pk): Path<String>) -> PageResult {
    let account = target(&mut ctx, &pk).await?;
    Ok(page(&mut ctx, &account, BTreeMap::new()))
}

/// `POST /admin/auth/user/{pk}/password/`: the new password twice, checked
/// like the password change form; stored as an argon2 hash and logged.
pub async fn set_password(
    mut ctx: AdminCtx,
    Path(pk): Path<String>,
    Form(form): Form<FormFields>,
) -> PageResult {
    let account = target(&mut ctx, &pk).await?;
    ctx.check_csrf(&form)?;
    let me = ctx.staff()?;
    let (new1, new2) = (field(&form, "password1"), field(&form, "password2"));
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    check_new_password(
        &ctx.state.auth.password_policy,
        &mut errors,
        ("password1", "password2"),
        (new1, new2),
        &PasswordContext::of_user(&User::from(account.clone())),
    );
    if !errors.is_empty() {
        return Ok(page(&mut ctx, &account, errors));
    }
    let db = ctx.state.db.clone();
    // Revokes the account's tokens; its sessions fail their fingerprint.
    let saved = crate::auth::change_password(&db, account.clone(), new1)
        .await
        .map_err(|e| Reject(server_error(e)))?;
    if account.id == me.id {
        // Changing one's own password keeps this session (Django's update_session_auth_hash).
        ctx.session.auth_hash = Some(super::session::auth_hash(&saved.password));
    }
    log_action(
        &db,
        me.id,
        User::meta(),
        &account.id.to_string(),
        &account.username,
        LogAction::Change,
        serde_json::json!([{ "changed": { "fields": ["Password"] } }]),
    )
    .await
    .map_err(|e| Reject(server_error(e)))?;
    ctx.message("success", "Password changed successfully.")
        .await;
    Ok(ctx.redirect(&format!(
        "/admin/auth/user/{}/change/",
        quote_pk(&account.id.to_string())
    )))
}
