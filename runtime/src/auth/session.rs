//! Database sessions and CSRF protection, as Django does them: a
//! `sessionid` cookie naming a row of `django_session`, and a `csrftoken`
//! cookie that every unsafe request must echo (form field
//! `csrfmiddlewaretoken` or header `X-CSRFToken`). The admin's login makes
//! sessions; the API accepts them too ([`SessionAuthenticator`]).

use crate::db::Connection;
use axum::http::header::{COOKIE, HeaderMap, HeaderValue, SET_COOKIE};
use axum::http::request::Parts;
use base64::Engine;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DbErr, EntityTrait};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::models::session;
use super::{AuthError, AuthFuture, Authenticator, User};

/// The session cookie's name (Django's default).
pub const SESSION_COOKIE: &str = "sessionid";
/// The CSRF cookie's name (Django's default).
pub const CSRF_COOKIE: &str = "csrftoken";
/// The form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrfmiddlewaretoken";
/// The header carrying the CSRF token on API calls.
pub const CSRF_HEADER: &str = "x-csrftoken";

/// How long a session lives without a new login: two weeks, as in Django.
pub const SESSION_AGE: chrono::Duration = chrono::Duration::weeks(2);

/// What a session holds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SessionData {
    /// The logged-in user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i32>,
    /// A fingerprint of the user's password hash: changing the password
    /// ends every other session (Django's session auth hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_hash: Option<String>,
    /// Messages to show on the next page ("The post was added successfully.").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
}

/// A one-time message shown at the top of the next page.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Message {
    /// `success`, `warning` or `error`.
    pub level: String,
    /// The text (escaped when shown).
    pub text: String,
}

/// Cookie attributes chosen by the app.
#[derive(Clone, Copy, Debug, Default)]
pub struct CookiePolicy {
    /// Add `Secure` (serve over HTTPS only).
    pub secure: bool,
}

/// A random URL-safe secret of 32 characters (24 random bytes).
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 24];
    getrandom::getrandom(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The fingerprint of a password hash kept in sessions.
pub fn auth_hash(password_hash: &str) -> String {
    let digest = Sha256::digest(password_hash.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` header value. The session cookie is HttpOnly; the CSRF
/// cookie is readable by scripts that need to echo it in `X-CSRFToken`.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: Option<chrono::Duration>,
    http_only: bool,
    policy: CookiePolicy,
) -> HeaderValue {
    let mut builder = cookie::Cookie::build((name.to_string(), value.to_string()))
        .path("/")
        .same_site(cookie::SameSite::Lax)
        .http_only(http_only)
        .secure(policy.secure);
    if let Some(age) = max_age {
        builder = builder.max_age(cookie::time::Duration::seconds(age.num_seconds()));
    }
    HeaderValue::from_str(&builder.build().to_string()).expect("cookie text is a valid header")
}

/// Appends a `Set-Cookie` header.
pub fn add_cookie(headers: &mut HeaderMap, value: HeaderValue) {
    headers.append(SET_COOKIE, value);
}

const CSRF_PURPOSE: &str = "ferrobridge.admin.csrf";

/// A new CSRF token: a random nonce and the HMAC (keyed by the app's secret
/// key) of the nonce and the session it belongs to (`None` before login).
/// Binding it to the session means a token planted in the browser by
/// another site sharing the domain (cookie tossing) is refused.
pub fn new_csrf_token(
    key: &crate::security::SecretKey,
    session_key: Option<&str>,
) -> Result<String, getrandom::Error> {
    let nonce = new_secret()?;
    let tag = key.sign(CSRF_PURPOSE, &[session_key.unwrap_or(""), &nonce]);
    Ok(format!("{nonce}.{tag}"))
}

/// Whether `token` was made by [`new_csrf_token`] with this key for this session.
pub fn csrf_token_valid(
    key: &crate::security::SecretKey,
    session_key: Option<&str>,
    token: &str,
) -> bool {
    token.split_once('.').is_some_and(|(nonce, tag)| {
        key.verify(CSRF_PURPOSE, &[session_key.unwrap_or(""), nonce], tag)
    })
}

/// Whether the token sent equals the CSRF cookie (compared in constant time).
pub fn csrf_matches(cookie: Option<&str>, sent: Option<&str>) -> bool {
    match (cookie, sent) {
        (Some(cookie), Some(sent)) if !cookie.is_empty() => {
            cookie.as_bytes().ct_eq(sent.as_bytes()).into()
        }
        _ => false,
    }
}

/// Why an unsafe request fails the CSRF check, if it does: a cross-site
/// `Origin`, a cookie this app did not sign for this session, or a token
/// that does not match the cookie.
pub fn csrf_failure(
    headers: &HeaderMap,
    sent: Option<&str>,
    key: &crate::security::SecretKey,
    session_key: Option<&str>,
) -> Option<&'static str> {
    if let (Some(origin), Some(host)) = (
        headers
            .get(axum::http::header::ORIGIN)
            .and_then(|v| v.to_str().ok()),
        headers
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok()),
    ) && origin != "null"
    {
        let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        if !origin_host.eq_ignore_ascii_case(host) {
            return Some("Origin checking failed: the request came from another site.");
        }
    }
    let cookie = cookie(headers, CSRF_COOKIE);
    let Some(cookie) = cookie else {
        return Some("CSRF cookie not set.");
    };
    if !csrf_token_valid(key, session_key, &cookie) {
        return Some("CSRF cookie has an invalid signature: reload the page.");
    }
    let cookie = Some(cookie);
    if !csrf_matches(cookie.as_deref(), sent) {
        return Some("CSRF token missing or incorrect.");
    }
    None
}

/// The session named by the request's cookie, if it exists and has not expired.
pub async fn load(
    db: &Connection,
    headers: &HeaderMap,
) -> Result<Option<(String, SessionData)>, DbErr> {
    let Some(key) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    if key.is_empty() || key.len() > 40 {
        return Ok(None);
    }
    let Some(row) = session::Entity::find_by_id(key.clone()).one(db).await? else {
        return Ok(None);
    };
    if row.expire_date <= chrono::Utc::now() {
        session::Entity::delete_by_id(key).exec(db).await?;
        return Ok(None);
    }
    let data = serde_json::from_str(&row.session_data).unwrap_or_default();
    Ok(Some((key, data)))
}

/// Stores a new session; returns its key.
pub async fn create(db: &Connection, data: &SessionData) -> Result<String, DbErr> {
    let key = new_secret().map_err(|e| DbErr::Custom(e.to_string()))?;
    session::ActiveModel {
        session_key: Set(key.clone()),
        session_data: Set(serde_json::to_string(data).expect("session data serializes")),
        expire_date: Set(chrono::Utc::now() + SESSION_AGE),
    }
    .insert(db)
    .await?;
    Ok(key)
}

/// Saves a session's data under its key.
pub async fn save(db: &Connection, key: &str, data: &SessionData) -> Result<(), DbErr> {
    session::ActiveModel {
        session_key: sea_orm::ActiveValue::Unchanged(key.to_string()),
        session_data: Set(serde_json::to_string(data).expect("session data serializes")),
        expire_date: sea_orm::ActiveValue::NotSet,
    }
    .update(db)
    .await?;
    Ok(())
}

/// Saves `data` under `key` only if the stored data is still `before`
/// (as [`save`] wrote it): a late write that would drop what another
/// request stored since (a message queued meanwhile) writes nothing.
pub async fn save_if_unchanged(
    db: &Connection,
    key: &str,
    before: &SessionData,
    data: &SessionData,
) -> Result<(), DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let before = serde_json::to_string(before).expect("session data serializes");
    session::Entity::update_many()
        .col_expr(
            session::Column::SessionData,
            sea_orm::sea_query::Expr::value(
                serde_json::to_string(data).expect("session data serializes"),
            ),
        )
        .filter(session::Column::SessionKey.eq(key))
        .filter(session::Column::SessionData.eq(before))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes a session (logout, or its key being rotated).
pub async fn delete(db: &Connection, key: &str) -> Result<(), DbErr> {
    session::Entity::delete_by_id(key.to_string())
        .exec(db)
        .await?;
    Ok(())
}

/// The active user a session belongs to, checking the password fingerprint.
pub async fn session_user(db: &Connection, data: &SessionData) -> Result<Option<User>, DbErr> {
    let Some(id) = data.user_id else {
        return Ok(None);
    };
    let Some(user) = super::models::user::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let current = auth_hash(&user.password);
    let fingerprint_ok = data
        .auth_hash
        .as_deref()
        .is_some_and(|h| bool::from(h.as_bytes().ct_eq(current.as_bytes())));
    Ok((user.is_active && fingerprint_ok).then(|| User::from(user)))
}

/// The app's secret key, put in every request by the app's router.
pub(crate) fn secret_key(parts: &Parts) -> crate::security::SecretKey {
    parts
        .extensions
        .get::<crate::security::SecretKey>()
        .cloned()
        .unwrap_or_else(|| crate::security::SecretKey::new(crate::security::DEVELOPMENT_SECRET_KEY))
}

/// The admin's login session, accepted by the API too (DRF's
/// `SessionAuthentication`): unsafe methods need the CSRF token in
/// `X-CSRFToken`, or they are refused with 403.
#[derive(Clone, Copy, Debug, Default)]
pub struct SessionAuthenticator;

impl Authenticator for SessionAuthenticator {
    fn authenticate<'a>(&'a self, parts: &'a Parts, db: &'a Connection) -> AuthFuture<'a> {
        Box::pin(async move {
            let loaded = load(db, &parts.headers)
                .await
                .map_err(|e| AuthError::lookup_failed(&e))?;
            let Some((session_key, data)) = loaded else {
                return Ok(None);
            };
            let user = session_user(db, &data)
                .await
                .map_err(|e| AuthError::lookup_failed(&e))?;
            let Some(user) = user else {
                return Ok(None);
            };
            if !parts.method.is_safe() {
                let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                let key = secret_key(parts);
                if let Some(reason) = csrf_failure(&parts.headers, sent, &key, Some(&session_key)) {
                    return Err(AuthError::csrf(reason));
                }
            }
            Ok(Some(user))
        })
    }
}
