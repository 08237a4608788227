//! The site's own pages: login, logout, password change, the index of
//! apps and models with recent actions, and the static assets.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use minijinja::context;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Deserialize;

use super::context::{AdminCtx, PageResult, Reject, safe_next, server_error};
use super::models::log_entry;
use crate::auth::models::{content_type, user};
use crate::auth::session::{self, SESSION_COOKIE, SessionData};
use crate::auth::{PasswordCheck, PasswordContext, PasswordPolicy, check_password, hash_password};
use crate::model::Action;

/// The form fields of a POST, in order (a key may repeat).
pub type FormFields = Vec<(String, String)>;

fn field<'a>(form: &'a FormFields, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

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
    let throttle = ctx.state.auth().throttle.clone();
    let addr = connect.map(|Extension(ConnectInfo(addr))| addr.ip());
    if let Some(wait) = throttle.check(&username, addr) {
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
    let db = ctx.state.db.clone();
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
            throttle.failed(&username, addr);
            return Ok(ctx.render(
                "admin/login.html",
                context! { title => "Log in", next => next, username => username, error => LOGIN_ERROR },
            ));
        }
    };
    throttle.succeeded(&username, addr);
    let mut active = account.clone().into_active_model();
    active.last_login = Set(Some(chrono::Utc::now()));
    let mut password_hash = account.password.clone();
    if check == PasswordCheck::ValidNeedsRehash {
        password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
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
    let mut response = super::redirect(&next);
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

/// One model's entry on the index.
#[derive(serde::Serialize)]
struct ModelLink {
    name: String,
    object_name: &'static str,
    url: Option<String>,
    add_url: Option<String>,
}

/// The apps and models the user may see, each model once.
async fn app_list(ctx: &AdminCtx, only: Option<&str>) -> Vec<minijinja::Value> {
    let mut apps: BTreeMap<&'static str, Vec<ModelLink>> = BTreeMap::new();
    for ops in &ctx.admin().models {
        let meta = ops.meta();
        if meta.admin.hidden || only.is_some_and(|a| a != meta.app_label) {
            continue;
        }
        let view =
            ctx.has_perm(meta, Action::View).await || ctx.has_perm(meta, Action::Change).await;
        let add = ctx.has_perm(meta, Action::Add).await;
        if !view && !add {
            continue;
        }
        let base = format!("/admin/{}/{}/", meta.app_label, meta.model_name);
        apps.entry(meta.app_label).or_default().push(ModelLink {
            name: capitalize(&super::verbose_name_plural(meta)),
            object_name: meta.object_name,
            url: view.then(|| base.clone()),
            add_url: add.then(|| format!("{base}add/")),
        });
    }
    apps.into_iter()
        .map(|(label, models)| {
            context! {
                app_label => label,
                name => app_title(label),
                url => format!("/admin/{label}/"),
                models => models,
            }
        })
        .collect()
}

/// An app label as a heading (`blog` -> `Blog`; Django's names for its own apps).
pub fn app_title(label: &str) -> String {
    match label {
        "auth" => "Authentication and Authorization".into(),
        "contenttypes" => "Content Types".into(),
        other => capitalize(&other.replace('_', " ")),
    }
}

/// The first letter in upper case.
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `GET /admin/`: the apps and models the user may use, and their recent actions.
pub async fn index(mut ctx: AdminCtx) -> PageResult {
    let me = ctx.staff()?;
    let apps = app_list(&ctx, None).await;
    let recent = recent_actions(&ctx, me.id).await?;
    Ok(ctx.render(
        "admin/index.html",
        context! { title => "Site administration", app_list => apps, recent_actions => recent },
    ))
}

/// `GET /admin/{app}/`: one app's models.
pub async fn app_index(mut ctx: AdminCtx, Path(app): Path<String>) -> PageResult {
    ctx.staff()?;
    let apps = app_list(&ctx, Some(&app)).await;
    if apps.is_empty() {
        return Err(Reject(ctx.not_found()));
    }
    Ok(ctx.render(
        "admin/app_index.html",
        context! { title => format!("{} administration", app_title(&app)), app_list => apps, app_label => app },
    ))
}

async fn recent_actions(ctx: &AdminCtx, user_id: i32) -> Result<Vec<minijinja::Value>, Reject> {
    let db = &ctx.state.db;
    let entries = log_entry::Entity::find()
        .filter(log_entry::Column::UserId.eq(user_id))
        .order_by_desc(log_entry::Column::ActionTime)
        .order_by_desc(log_entry::Column::Id)
        .limit(10)
        .all(db)
        .await
        .map_err(|e| Reject(server_error(e)))?;
    let type_ids: Vec<i32> = entries.iter().filter_map(|e| e.content_type_id).collect();
    let types: BTreeMap<i32, (String, String)> = content_type::Entity::find()
        .filter(content_type::Column::Id.is_in(type_ids))
        .all(db)
        .await
        .map_err(|e| Reject(server_error(e)))?
        .into_iter()
        .map(|t| (t.id, (t.app_label, t.model)))
        .collect();
    Ok(entries
        .into_iter()
        .map(|entry| {
            let kind = entry.content_type_id.and_then(|id| types.get(&id));
            let ops = kind.and_then(|(app, model)| ctx.admin().find(app, model));
            let url = match (&ops, &entry.object_id, entry.action_flag) {
                (Some(ops), Some(id), 1 | 2) => Some(format!(
                    "/admin/{}/{}/{}/change/",
                    ops.meta().app_label,
                    ops.meta().model_name,
                    super::quote_pk(id)
                )),
                _ => None,
            };
            context! {
                object_repr => entry.object_repr,
                action => match entry.action_flag { 1 => "addition", 2 => "change", _ => "deletion" },
                model => ops.map(|o| capitalize(&o.meta().verbose_name())),
                url => url,
            }
        })
        .collect())
}

/// `GET /admin/static/admin.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        super::templates::STYLESHEET,
    )
        .into_response()
}

/// `GET /admin/static/admin.js`.
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        super::templates::SCRIPT,
    )
        .into_response()
}
