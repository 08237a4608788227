//! What Django's auth admin adds for the built-in user: setting a user's
//! password through a form of its own (the hash itself is never shown or
//! edited), and the user's form hooks ([`UserAdmin`]).

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::Path;
use minijinja::context;
use sea_orm::EntityTrait;

use super::context::{AdminCtx, PageResult, Reject, server_error};
use super::login::check_new_password;
use super::model_admin::{Confirmation, ModelAdmin, OwnPage};
use super::site::FormFields;
use super::{LogAction, log_action, quote_pk};
use crate::auth::PasswordContext;
use crate::auth::models::{User, user};
use crate::model::{Action, FieldMeta, Model};
use crate::write::UnitOfWork;

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
        &ctx.state.auth().password_policy,
        &mut errors,
        ("password1", "password2"),
        (new1, new2),
        &PasswordContext::of_user(&User::from(account.clone())),
    );
    if !errors.is_empty() {
        return Ok(page(&mut ctx, &account, errors));
    }
    // The password, the revoked tokens and the log entry: one transaction.
    let fail = |e: crate::error::ApiError| Reject(server_error(format!("{e:?}")));
    let work = UnitOfWork::begin_as(&ctx.state.db, ctx.user.as_ref().map(|u| u.id))
        .await
        .map_err(fail)?;
    // Revokes the account's tokens; its sessions fail their fingerprint.
    let saved = crate::auth::set_password(&work, account.clone(), new1)
        .await
        .map_err(fail)?;
    log_action(
        work.tx(),
        me.id,
        User::meta(),
        &account.id.to_string(),
        &account.username,
        LogAction::Change,
        serde_json::json!([{ "changed": { "fields": ["Password"] } }]),
    )
    .await
    .map_err(|e| Reject(server_error(e)))?;
    work.commit().await.map_err(fail)?;
    if account.id == me.id {
        // Changing one's own password keeps this session (Django's update_session_auth_hash).
        ctx.session.auth_hash = Some(super::session::auth_hash(&saved.password));
    }
    ctx.message("success", "Password changed successfully.")
        .await;
    Ok(ctx.redirect(&format!(
        "/admin/auth/user/{}/change/",
        quote_pk(&account.id.to_string())
    )))
}

/// The built-in user's form hooks, as Django's `UserAdmin`: the add form
/// asks for the name and the password twice, nothing else (flags, groups
/// and permissions follow on the change form, which needs
/// `auth.change_user`); the change form shows no hash, only a link to the
/// password page above.
#[derive(Clone, Copy, Debug, Default)]
pub struct UserAdmin;

impl ModelAdmin for UserAdmin {
    fn add_fields(&self) -> Option<&'static [&'static str]> {
        Some(&["username", "password"])
    }

    fn add_confirmation(&self) -> Option<Confirmation> {
        Some(Confirmation {
            field: "password",
            input: "password2",
            label: "Password confirmation",
            help: "Enter the same password as before, for verification.",
        })
    }

    fn inlines_on_add(&self) -> bool {
        false
    }

    fn edit_after_add(&self) -> bool {
        true
    }

    fn own_page(&self, field: &FieldMeta) -> Option<OwnPage> {
        // Django's ReadOnlyPasswordHashField: the hash is never shown.
        (field.name == "password").then_some(OwnPage {
            url: "../password/",
            text: "Raw passwords are not stored, so there is no way to see this user’s password; change it using this form.",
        })
    }
}
