//! The extractors that inject the caller: [`CurrentUser`], [`OptionalUser`]
//! and the permission guard [`Perm`]. Authentication runs once per request;
//! its result is kept in the request's extensions for the next extractor.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use crate::db::Connection;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use sea_orm::DbErr;
use tokio::sync::OnceCell;

use super::{PermissionCode, User, user_permissions};
use crate::error::ApiError;
use crate::state::AppState;

/// An authenticated user, with their permissions loaded on first use.
pub struct AuthUser {
    /// The account. Its `password` field holds only a hash and is never serialized.
    pub user: User,
    permissions: OnceCell<HashSet<String>>,
}

impl std::fmt::Debug for AuthUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.user.fmt(f)
    }
}

impl AuthUser {
    /// Wraps an account.
    pub fn new(user: User) -> Self {
        AuthUser {
            user,
            permissions: OnceCell::new(),
        }
    }

    /// Every `app_label.codename` the user holds, directly or through groups
    /// (for a superuser, only those given explicitly: check [`AuthUser::has_perm`]).
    pub async fn permissions(&self, db: &Connection) -> Result<&HashSet<String>, DbErr> {
        self.permissions
            .get_or_try_init(|| user_permissions(db, self.user.id))
            .await
    }

    /// Whether the user may do `code` (`blog.change_post`): active
    /// superusers may do everything, as in Django.
    pub async fn has_perm(&self, db: &Connection, code: &str) -> Result<bool, DbErr> {
        if !self.user.is_active {
            return Ok(false);
        }
        if self.user.is_superuser {
            return Ok(true);
        }
        Ok(self.permissions(db).await?.contains(code))
    }

    /// `Ok` when the user has `code`, else 403.
    pub async fn require_perm(&self, db: &Connection, code: &str) -> Result<(), ApiError> {
        match self.has_perm(db, code).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ApiError::Forbidden(format!(
                "You do not have the permission `{code}`"
            ))),
            Err(e) => Err(ApiError::internal(e)),
        }
    }
}

/// The authenticated caller; 401 with `WWW-Authenticate: Bearer` when there
/// is none or the credentials are invalid or expired.
///
/// ```no_run
/// use ferrobridge::prelude::*;
///
/// async fn whoami(user: CurrentUser) -> String {
///     user.username.clone()
/// }
/// ```
#[derive(Clone, Debug)]
pub struct CurrentUser(pub Arc<AuthUser>);

impl Deref for CurrentUser {
    type Target = AuthUser;
    fn deref(&self) -> &AuthUser {
        &self.0
    }
}

impl Deref for AuthUser {
    type Target = User;
    fn deref(&self) -> &User {
        &self.user
    }
}

/// The caller if authenticated, `None` for anonymous requests (invalid
/// credentials are still a 401, as in DRF).
#[derive(Clone, Debug)]
pub struct OptionalUser(pub Option<CurrentUser>);

/// Authentication's outcome, kept in the request's extensions.
#[derive(Clone)]
struct Resolved(Option<CurrentUser>);

/// Runs the app's authenticators once per request.
pub(crate) async fn resolve(
    parts: &mut Parts,
    state: &AppState,
) -> Result<Option<CurrentUser>, ApiError> {
    if let Some(Resolved(user)) = parts.extensions.get::<Resolved>() {
        return Ok(user.clone());
    }
    if !parts
        .headers
        .contains_key(axum::http::header::AUTHORIZATION)
        && !parts.headers.contains_key(axum::http::header::COOKIE)
    {
        // No credentials: anonymous, without touching the database (nor
        // the extensions: looking again costs less than keeping the answer).
        return Ok(None);
    }
    let mut found = None;
    for authenticator in state.auth().authenticators.0.iter() {
        match authenticator.authenticate(parts, &state.db).await {
            Ok(Some(user)) => {
                found = Some(CurrentUser(Arc::new(AuthUser::new(user))));
                break;
            }
            Ok(None) => continue,
            Err(error) if error.is_csrf() => return Err(ApiError::Forbidden(error.0)),
            Err(error) if error.is_unavailable() => {
                return Err(ApiError::ServiceUnavailable(error.0));
            }
            Err(error) => return Err(ApiError::Unauthorized(error.0)),
        }
    }
    if found.is_none() && super::bearer_token(parts).is_some() {
        return Err(ApiError::Unauthorized("Invalid token".into()));
    }
    parts.extensions.insert(Resolved(found.clone()));
    Ok(found)
}

/// Runs the app's authenticators again on the headers of a `GET` request
/// already answered (its `Authorization` and cookies): how a long-lived
/// answer (the change feed's streams) checks that the credentials it was
/// opened with still name an active user. `None` when they name nobody
/// now (a logged-out session); a revoked or expired token is an error, as
/// on a new request.
pub async fn authenticate_headers(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Option<CurrentUser>, ApiError> {
    let (mut parts, ()) = axum::http::Request::new(()).into_parts();
    parts.headers = headers.clone();
    resolve(&mut parts, state).await
}

impl<S> FromRequestParts<S> for CurrentUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = AppState::from_ref(state);
        resolve(parts, &state)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("Not authenticated".into()))
    }
}

impl<S> FromRequestParts<S> for OptionalUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = AppState::from_ref(state);
        Ok(OptionalUser(resolve(parts, &state).await?))
    }
}

/// A permission guard: the current user, who holds `P` (401 when
/// anonymous, 403 without the permission).
///
/// ```no_run
/// use ferrobridge::prelude::*;
/// # mod post { pub mod perms { pub struct Change; impl ferrobridge::auth::PermissionCode for Change { const CODE: &'static str = "blog.change_post"; } } }
///
/// async fn publish_all(Perm(user, ..): Perm<post::perms::Change>) -> String {
///     format!("{} may change posts", user.username)
/// }
/// ```
pub struct Perm<P: PermissionCode>(pub CurrentUser, pub PhantomData<P>);

impl<S, P> FromRequestParts<S> for Perm<P>
where
    AppState: FromRef<S>,
    S: Send + Sync,
    P: PermissionCode,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = AppState::from_ref(state);
        let user = CurrentUser::from_request_parts(parts, state).await?;
        user.require_perm(&app.db, P::CODE).await?;
        Ok(Perm(user, PhantomData))
    }
}
