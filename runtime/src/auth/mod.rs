//! Authentication and Django-style permissions.
//!
//! - [`models`]: `User`, `Group`, `Permission`, `ContentType` and the link
//!   tables, on Django's own tables, registered by every [`App`](crate::App).
//! - Passwords are argon2id in Django's `argon2$argon2id$...` format
//!   ([`hash_password`]); Django's pbkdf2 hashes verify too and are
//!   re-hashed at the next login. New passwords
//!   pass the app's [`PasswordPolicy`] (Django's validators) on every path,
//!   and [`change_password`] revokes the account's tokens.
//! - Failed logins go through one [`LoginThrottle`] (API and admin).
//! - External identities become local users only through
//!   [`ExternalIdentity`] links ([`link_identity`]).
//! - Who is calling is decided by [`Authenticator`]s, tried in order: the
//!   built-in [`TokenAuthenticator`] (opaque bearer tokens from
//!   `POST /api/auth/token`), [`SessionAuthenticator`] (the admin's login
//!   sessions, Django's `django_session`, with CSRF: [`session`]) and
//!   [`JwtAuthenticator`] (JWTs from an external OAuth2/OIDC server,
//!   checked against its JWKS). Their settings live in [`AuthState`],
//!   read from the app's state with `state.auth()`.
//! - Handlers receive the result through extractors: [`CurrentUser`] (401
//!   without a user), [`OptionalUser`], and [`Perm`] (403 without the permission).
//!
//! # Writing your own dependency
//! Any type implementing axum's `FromRequestParts` is a dependency, like
//! FastAPI's `Depends`. Build on these extractors:
//!
//! ```no_run
//! use axum::extract::FromRequestParts;
//! use axum::http::request::Parts;
//! use ferrobridge::auth::CurrentUser;
//! use ferrobridge::error::ApiError;
//!
//! /// A staff member, or 403.
//! pub struct Staff(pub CurrentUser);
//!
//! impl<S: Send + Sync> FromRequestParts<S> for Staff
//! where
//!     CurrentUser: FromRequestParts<S, Rejection = ApiError>,
//! {
//!     type Rejection = ApiError;
//!     async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
//!         let user = CurrentUser::from_request_parts(parts, state).await?;
//!         if user.is_staff { Ok(Staff(user)) } else { Err(ApiError::Forbidden("Staff only".into())) }
//!     }
//! }
//! ```

mod credentials;
mod extract;
mod identity;
mod jwt;
pub mod models;
mod permissions;
pub mod policy;
pub(crate) mod routes;
pub mod session;
mod state;
mod throttle;
mod token;
mod users;
mod validation;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::db::Connection;
use axum::http::header;
use axum::http::request::Parts;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

pub use crate::password::{PasswordCheck, check_password, hash_password};
pub use credentials::{change_password, password_error, revoke_tokens};
pub(crate) use credentials::{password_written, read_body, set_password};
pub use extract::{AuthUser, CurrentUser, OptionalUser, Perm, authenticate_headers};
pub use identity::{identity_key, link_identity, linked_user, unlink_identity};
pub use jwt::{JwksSource, JwtAuthenticator};
pub use models::{
    ContentType, ExternalIdentity, Group, GroupPermission, Permission, Token, User, UserGroup,
    UserPermission,
};
pub use permissions::{sync_permissions, user_permissions};
pub use policy::{Scope, authorize, authorize_meta, permission_code};
pub use session::SessionAuthenticator;
pub use state::AuthState;
pub use throttle::{
    FAILED_LOGIN_WINDOW, LoginThrottle, MAX_FAILED_LOGINS, MAX_FAILED_LOGINS_PER_ADDRESS,
    TRUSTED_LOGIN_AGE,
};
pub use token::{new_token, token_digest};
pub use users::create_superuser;
pub use validation::{
    CommonPassword, MinimumLength, NumericPassword, PasswordContext, PasswordPolicy,
    PasswordProblem, PasswordValidator, UserAttributeSimilarity,
};

/// A permission as a type, for [`Perm`] guards: `#[derive(Model)]` makes
/// `post::perms::{Add, Change, Delete, View}` for every model.
pub trait PermissionCode: Send + Sync + 'static {
    /// `app_label.codename`, e.g. `blog.change_post`.
    const CODE: &'static str;
}

/// Why a request's credentials were refused (401; 403 for [`AuthError::csrf`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError(pub String);

const CSRF_FAILED: &str = "CSRF Failed: ";
const UNAVAILABLE: &str = "Database unavailable: ";

impl AuthError {
    /// A session-authenticated unsafe request without a valid CSRF token:
    /// answered 403, as DRF does, since the credentials themselves are fine.
    pub fn csrf(reason: &str) -> Self {
        AuthError(format!("{CSRF_FAILED}{reason}"))
    }

    /// Made by [`AuthError::csrf`].
    pub fn is_csrf(&self) -> bool {
        self.0.starts_with(CSRF_FAILED)
    }

    /// Credentials that could not be looked up because the query failed.
    /// When the database is unreachable ([`crate::error::is_unavailable`])
    /// the request is answered 503 with `Retry-After`, so clients retry
    /// rather than drop a token that is fine; otherwise it is a 401.
    pub fn lookup_failed(error: &sea_orm::DbErr) -> Self {
        if crate::error::is_unavailable(error) {
            // Logged with the 503 it becomes.
            AuthError(format!("{UNAVAILABLE}{error}"))
        } else {
            tracing::error!(%error, "credential lookup failed");
            AuthError("Could not validate credentials".into())
        }
    }

    /// Made by [`AuthError::lookup_failed`] for an unreachable database.
    pub fn is_unavailable(&self) -> bool {
        self.0.starts_with(UNAVAILABLE)
    }
}

/// What an [`Authenticator`] answers: a user, `None` when the request is
/// not for it (try the next one), or an error when credentials are bad.
pub type AuthFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<User>, AuthError>> + Send + 'a>>;

/// Decides who is calling. Several can be installed with
/// [`App::authenticator`](crate::App::authenticator); the first that
/// recognises the request's credentials decides.
pub trait Authenticator: Send + Sync + 'static {
    /// The user the request's credentials belong to.
    fn authenticate<'a>(&'a self, parts: &'a Parts, db: &'a Connection) -> AuthFuture<'a>;
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Opaque bearer tokens issued by `POST /api/auth/token`, looked up by digest.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokenAuthenticator;

impl Authenticator for TokenAuthenticator {
    fn authenticate<'a>(&'a self, parts: &'a Parts, db: &'a Connection) -> AuthFuture<'a> {
        Box::pin(async move {
            let Some(token) = bearer_token(parts) else {
                return Ok(None);
            };
            if token.matches('.').count() == 2 {
                return Ok(None); // a JWT: another authenticator's
            }
            let found = models::token::Entity::find()
                .filter(models::token::Column::Digest.eq(token_digest(token)))
                .find_also_related(models::user::Entity)
                .one(db)
                .await
                .map_err(|e| AuthError::lookup_failed(&e))?;
            match found {
                Some((token, Some(user)))
                    if token.expires_at > chrono::Utc::now() && user.is_active =>
                {
                    Ok(Some(User::from(user)))
                }
                Some((_, Some(_))) => Err(AuthError("Token expired or user inactive".into())),
                _ => Err(AuthError("Invalid token".into())),
            }
        })
    }
}

/// The authenticators an app uses, in order.
#[derive(Clone)]
pub struct Authenticators(pub Arc<Vec<Arc<dyn Authenticator>>>);

impl std::fmt::Debug for Authenticators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Authenticators({})", self.0.len())
    }
}
