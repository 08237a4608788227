//! Logging in and out of the admin and changing one's password: the
//! session is started (a new key and CSRF token) and ended here.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::{Extension, Form};
use minijinja::context;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde::Deserialize;

use super::context::{AdminCtx, PageResult, Reject, safe_next, server_error};
use super::site::{FormFields, field};
use crate::auth::models::user;
use crate::auth::session::{self, SESSION_COOKIE, SessionData};
use crate::auth::{PasswordCheck, PasswordContext, PasswordPolicy, check_password, hash_password};

/// `?next=` of the login page.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /admin/login/`.
pub async fn login_form(mut ctx: AdminCtx, Query(query): Query<NextQuery>) -> PageResult {
    let next = safe_next(query.next.as_deref());
    if ctx.user.as_ref().is_some_and(|u| u.is_staff) {
        return Ok(ctx.redirect(&next));
    }
    Ok(ctx.render(
        "admin/login.html",
        context! { title => "Log in", next => next, username => "" },
    ))
}

const LOGIN_ERROR: &str = "Please enter the correct username and password for a staff account. Note that both fields may be case-sensitive.";

/// `POST /admin/login/`: checks the password of an active staff user,
/// then starts a new session (a new key and CSRF token: no fixation).
pub async fn login(
    mut ctx: AdminCtx,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    Form(form): Form<FormFields>,
) -> PageResult {
    ctx.check_csrf(&form)?;
    let username = field(&form, "username").unwrap_or("").to_string();
    let password = field(&form, "password").unwrap_or("").to_string();
    let next = safe_next(field(&form, "next"));
    // The API's throttle: per username, per address, trusted pairs exempt.
    let throttle = ctx.state.auth().throttle;
    let db = ctx.state.db.clone();
    let addr = connect.map(|Extension(ConnectInfo(addr))| addr.ip());
    if let Some(wait) = throttle
        .check(&db, &username, addr)
        .await
        .map_err(throttle_unavailable)?
    {
        let mut page = ctx.render_status(
            StatusCode::TOO_MANY_REQUESTS,
            "admin/login.html",
            context! { title => "Log in", next => next, username => username,
            error => format!("Too many failed logins. Try again in {wait} seconds.") },
        );
        page.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(wait));
        return Ok(page);
    }
    let found = user::Entity::find()
        .filter(user::Column::Username.eq(username.as_str()))
        .one(&db)
        .await
        .map_err(|e| Reject(server_error(e)))?;
    let stored = found
        .as_ref()
        .map(|u| u.password.clone())
        .unwrap_or_else(|| crate::auth::routes::DUMMY_HASH.to_string());
    let typed = password.clone();
    let check = tokio::task::spawn_blocking(move || check_password(&typed, &stored))
        .await
        .map_err(|e| Reject(server_error(e)))?;
    let account = match (found, check) {
        (Some(account), PasswordCheck::Valid | PasswordCheck::ValidNeedsRehash)
            if account.is_active && account.is_staff =>
        {
            account
        }
        _ => {
            throttle
                .failed(&db, &username, addr)
                .await
                .map_err(throttle_unavailable)?;
            return Ok(ctx.render(
                "admin/login.html",
                context! { title => "Log in", next => next, username => username, error => LOGIN_ERROR },
            ));
        }
    };
    throttle
        .succeeded(&db, &username, addr)
        .await
        .map_err(throttle_unavailable)?;
    start_session(&ctx, account, check, password, &next).await
}

/// A login the throttle could not count is refused with the admin's 503
/// page, never let through uncounted (see `crate::auth::LoginThrottle`).
fn throttle_unavailable(error: sea_orm::DbErr) -> Reject {
    Reject(server_error(crate::auth::routes::throttle_unavailable(
        error,
    )))
}

/// Logs `account` in after its password `typed` passed `check`: records the
/// login (rehashing the password if its hash is outdated), ends the old
/// session, and redirects to `next` with a new session and CSRF cookie.
async fn start_session(
    ctx: &AdminCtx,
    account: user::Model,
    check: PasswordCheck,
    typed: String,
    next: &str,
) -> PageResult {
    let db = ctx.state.db.clone();
    let mut active = account.clone().into_active_model();
    active.last_login = Set(Some(chrono::Utc::now()));
    let mut password_hash = account.password.clone();
    if check == PasswordCheck::ValidNeedsRehash {
        password_hash = tokio::task::spawn_blocking(move || hash_password(&typed))
            .await
            .map_err(|e| Reject(server_error(e)))?;
        active.password = Set(password_hash.clone());
    }
    active
        .update(&db)
        .await
        .map_err(|e| Reject(server_error(e)))?;
    if let Some(old) = &ctx.session_key {
        session::delete(&db, old)
            .await
            .map_err(|e| Reject(server_error(e)))?;
    }
    let data = SessionData {
        user_id: Some(account.id),
        auth_hash: Some(session::auth_hash(&password_hash)),
        messages: Vec::new(),
    };
    let key = session::create(&db, &data)
        .await
        .map_err(|e| Reject(server_error(e)))?;
    let csrf = session::new_csrf_token(ctx.secret_key(), Some(&key))
        .map_err(|e| Reject(server_error(e)))?;
    let policy = ctx.admin().site.cookies;
    let mut response = super::redirect(next);
    let headers = response.headers_mut();
    session::add_cookie(
        headers,
        session::set_cookie(
            SESSION_COOKIE,
            &key,
            Some(session::SESSION_AGE),
            true,
            policy,
        ),
    );
    session::add_cookie(
        headers,
        session::set_cookie(
            session::CSRF_COOKIE,
            &csrf,
            Some(chrono::Duration::weeks(52)),
            false,
            policy,
        ),
    );
    Ok(response)
}

/// `GET /admin/logout/`: logging out changes state, so it takes a POST
/// (with the CSRF token), as in Django 5; a GET goes back to the index.
pub async fn logout_get(ctx: AdminCtx) -> Response {
    ctx.redirect("/admin/")
}

/// `POST /admin/logout/`: ends the session and forgets its cookie.
pub async fn logout(mut ctx: AdminCtx, Form(form): Form<FormFields>) -> PageResult {
    ctx.check_csrf(&form)?;
    if let Some(key) = &ctx.session_key {
        session::delete(&ctx.state.db, key)
            .await
            .map_err(|e| Reject(server_error(e)))?;
    }
    ctx.user = None;
    ctx.session_key = None;
    ctx.rotate_csrf(None)?;
    let mut response = ctx.render("admin/login.html", context! {
        title => "Logged out", next => "/admin/", username => "",
        info => "You have been logged out. Thanks for spending some quality time with the site today.",
    });
    session::add_cookie(
        response.headers_mut(),
        session::set_cookie(
            SESSION_COOKIE,
            "",
            Some(chrono::Duration::zero()),
            true,
            ctx.admin().site.cookies,
        ),
    );
    Ok(response)
}

/// `GET /admin/password_change/`.
pub async fn password_change_form(mut ctx: AdminCtx) -> PageResult {
    ctx.staff()?;
    Ok(ctx.render(
        "admin/password_change.html",
        context! { title => "Password change", errors => BTreeMap::<String, Vec<String>>::new() },
    ))
}

/// Checks a new password typed twice, as Django's password forms do: the
/// app's password policy's problems go under the first of `fields`, a
/// mismatch under the second.
pub fn check_new_password(
    policy: &PasswordPolicy,
    errors: &mut BTreeMap<String, Vec<String>>,
    fields: (&str, &str),
    (password, confirmation): (&str, &str),
    account: &PasswordContext,
) {
    if password != confirmation {
        errors
            .entry(fields.1.into())
            .or_default()
            .push("The two password fields didn’t match.".into());
    }
    let problems = policy.problems(password, account);
    if !problems.is_empty() {
        errors
            .entry(fields.0.into())
            .or_default()
            .extend(problems.into_iter().map(|p| p.message));
    }
}

/// `POST /admin/password_change/`: the old password, then the new one
/// twice; the session stays valid, every other session of the user ends.
pub async fn password_change(mut ctx: AdminCtx, Form(form): Form<FormFields>) -> PageResult {
    let me = ctx.staff()?;
    ctx.check_csrf(&form)?;
    let old = field(&form, "old_password").unwrap_or("").to_string();
    let new1 = field(&form, "new_password1").unwrap_or("").to_string();
    let new2 = field(&form, "new_password2").unwrap_or("").to_string();
    let db = ctx.state.db.clone();
    let stored = me.password.clone();
    let check = tokio::task::spawn_blocking(move || check_password(&old, &stored))
        .await
        .map_err(|e| Reject(server_error(e)))?;
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if !matches!(
        check,
        PasswordCheck::Valid | PasswordCheck::ValidNeedsRehash
    ) {
        errors
            .entry("old_password".into())
            .or_default()
            .push("Your old password was entered incorrectly. Please enter it again.".into());
    }
    check_new_password(
        &ctx.state.auth().password_policy,
        &mut errors,
        ("new_password1", "new_password2"),
        (&new1, &new2),
        &PasswordContext::of_user(&me),
    );
    if !errors.is_empty() {
        return Ok(ctx.render(
            "admin/password_change.html",
            context! { title => "Password change", errors => errors },
        ));
    }
    let account = user::Entity::find_by_id(me.id)
        .one(&db)
        .await
        .map_err(|e| Reject(server_error(e)))?
        .ok_or_else(|| Reject(server_error("the user vanished")))?;
    // Revokes the account's tokens; other sessions fail their fingerprint.
    let saved = crate::auth::change_password(&db, account, &new1)
        .await
        .map_err(|e| Reject(server_error(e)))?;
    ctx.session.auth_hash = Some(session::auth_hash(&saved.password));
    ctx.message("success", "Your password was changed.").await;
    Ok(ctx.redirect("/admin/"))
}
