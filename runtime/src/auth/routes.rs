//! `POST /api/auth/token` (OAuth2 password flow), `POST /api/auth/logout`
//! and `GET /api/auth/me`, with throttling of failed logins. Their OpenAPI
//! operations are written by the openapi module, which sits above auth.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form, Json};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde::{Deserialize, Serialize};

use super::models::{token, user};
use super::{
    CurrentUser, PasswordCheck, User, check_password, hash_password, new_token, token_digest,
};
use crate::error::{ApiError, ErrorDetail, ErrorKind, ValidationError};
use crate::state::{AppState, Router};

/// The form of RFC 6749 section 4.3 (FastAPI's `OAuth2PasswordRequestForm`).
/// Deliberately not `Debug`: it holds a password.
#[derive(Deserialize)]
pub struct TokenForm {
    /// `password` when given.
    pub grant_type: Option<String>,
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
    /// Accepted as RFC 6749 allows, and ignored: permissions come from the
    /// user's groups and grants.
    #[allow(dead_code)]
    pub scope: Option<String>,
}

/// A bearer token, as RFC 6749 section 5.1 answers it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TokenResponse {
    /// The token to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

fn form_error(rejection: axum::extract::rejection::FormRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge;
    }
    let message = rejection.body_text();
    let detail = ErrorDetail::new(
        vec!["body".into()],
        ErrorKind::FormInvalid,
        "Expected an application/x-www-form-urlencoded body with `username` and `password`",
    )
    .with_ctx(serde_json::json!({ "error": message }));
    ApiError::Validation(ValidationError::single(detail))
}

/// `POST /api/auth/token`: checks a username and password, answers a token.
pub async fn token_endpoint(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    form: Result<Form<TokenForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(form_error)?;
    if form.grant_type.as_deref().is_some_and(|g| g != "password") {
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only grant_type=password is supported",
        ));
    }
    if form.username.contains('\0') || form.password.contains('\0') {
        // No account has one, and PostgreSQL cannot compare text holding NUL.
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Incorrect username or password",
        ));
    }
    let throttle = state.auth().throttle;
    let addr = connect.map(|Extension(ConnectInfo(addr))| addr.ip());
    if let Some(wait) = throttle
        .check(&state.db, &form.username, addr)
        .await
        .map_err(throttle_unavailable)?
    {
        return Err(ApiError::TooManyRequests(wait));
    }
    let Some((user, check)) = verify_password(&state, &form).await? else {
        throttle
            .failed(&state.db, &form.username, addr)
            .await
            .map_err(throttle_unavailable)?;
        return Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Incorrect username or password",
        ));
    };
    throttle
        .succeeded(&state.db, &form.username, addr)
        .await
        .map_err(throttle_unavailable)?;
    let user_id = user.id;
    record_login(&state, user, check, form.password).await?;
    issue_token(&state, user_id).await
}

/// A login the throttle could not count is refused (503), never let
/// through uncounted: see the throttle's module docs.
pub(crate) fn throttle_unavailable(error: sea_orm::DbErr) -> ApiError {
    ApiError::ServiceUnavailable(format!("the login throttle is unavailable: {error}"))
}

/// The active account `form` names, when its password is right, with how
/// the stored hash checked out; `None` for any wrong name or password.
async fn verify_password(
    state: &AppState,
    form: &TokenForm,
) -> Result<Option<(user::Model, PasswordCheck)>, ApiError> {
    let found = user::Entity::find()
        .filter(user::Column::Username.eq(form.username.as_str()))
        .one(&state.db)
        .await
        .map_err(ApiError::internal)?;
    // Hash even for unknown users, so timing does not reveal which names exist.
    let stored = found
        .as_ref()
        .map(|u| u.password.clone())
        .unwrap_or_else(|| DUMMY_HASH.to_string());
    let password = form.password.clone();
    let check = tokio::task::spawn_blocking(move || check_password(&password, &stored))
        .await
        .map_err(ApiError::internal)?;
    Ok(match (found, check) {
        (Some(user), PasswordCheck::Valid | PasswordCheck::ValidNeedsRehash) if user.is_active => {
            Some((user, check))
        }
        _ => None,
    })
}

/// Stores the login's time, and `password` hashed anew when its stored
/// hash is of an older kind (Django's pbkdf2).
async fn record_login(
    state: &AppState,
    user: user::Model,
    check: PasswordCheck,
    password: String,
) -> Result<(), ApiError> {
    let mut active = user.into_active_model();
    active.last_login = Set(Some(chrono::Utc::now()));
    if check == PasswordCheck::ValidNeedsRehash {
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(ApiError::internal)?;
        active.password = Set(hash);
    }
    active.update(&state.db).await.map_err(ApiError::internal)?;
    Ok(())
}

/// A new bearer token for `user_id`, stored by digest, as the token
/// endpoint answers it (never cached).
async fn issue_token(state: &AppState, user_id: i32) -> Result<Response, ApiError> {
    let (access_token, digest) = new_token().map_err(ApiError::internal)?;
    let ttl = state.auth().token_ttl;
    token::ActiveModel {
        digest: Set(digest),
        user_id: Set(user_id),
        created_at: Set(chrono::Utc::now()),
        expires_at: Set(chrono::Utc::now() + ttl),
        ..Default::default()
    }
    .insert(&state.db)
    .await
    .map_err(ApiError::internal)?;
    let mut response = Json(TokenResponse {
        access_token,
        token_type: "bearer",
        expires_in: ttl.num_seconds().max(0) as u64,
    })
    .into_response();
    no_store(response.headers_mut());
    Ok(response)
}

/// An argon2 hash of a random string, verified against when the username is
/// unknown so that answering takes as long as for a real user.
pub(crate) const DUMMY_HASH: &str = "argon2$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$WmYeUDEOphoBlBhQvDqv9Xk3dJAEZG7Y3GQ2yC9OEkU";

fn no_store(headers: &mut HeaderMap) {
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (
        status,
        Json(serde_json::json!({ "detail": description, "error": error, "error_description": description })),
    )
        .into_response();
    no_store(response.headers_mut());
    response
}

/// `POST /api/auth/logout`: revokes the bearer token used for this request.
pub async fn logout_endpoint(
    State(state): State<AppState>,
    _user: CurrentUser,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' ').map(|(_, t)| t.trim().to_string()));
    if let Some(token) = token {
        token::Entity::delete_many()
            .filter(token::Column::Digest.eq(token_digest(&token)))
            .exec(&state.db)
            .await
            .map_err(ApiError::internal)?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// What `GET /api/auth/me` answers: the user, and what they may do.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Me {
    /// The account (never the password hash).
    #[serde(flatten)]
    pub user: super::models::UserRead,
    /// Every `app_label.codename` held, directly or through groups.
    pub permissions: Vec<String>,
}

/// `GET /api/auth/me`: the current user.
pub async fn me_endpoint(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Me>, ApiError> {
    let mut permissions: Vec<String> = user
        .permissions(&state.db)
        .await
        .map_err(ApiError::internal)?
        .iter()
        .cloned()
        .collect();
    permissions.sort();
    let row: user::Model = User::clone(&user.user).into();
    Ok(Json(Me {
        user: super::models::UserRead::from(row),
        permissions,
    }))
}

/// The paths and methods [`router`] routes, for the clash check that runs
/// before any router is built.
pub(crate) const ROUTES: &[(&str, &[&str])] = &[
    ("/api/auth/token", &["post"]),
    ("/api/auth/logout", &["post"]),
    ("/api/auth/me", &["get"]),
];

/// The auth endpoints.
pub(crate) fn router() -> Router {
    use axum::routing::{get, post};
    Router::new()
        .route("/api/auth/token", post(token_endpoint))
        .route("/api/auth/logout", post(logout_endpoint))
        .route("/api/auth/me", get(me_endpoint))
}
