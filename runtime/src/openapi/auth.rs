//! The OpenAPI operations of the auth endpoints (`POST /api/auth/token`,
//! `POST /api/auth/logout`, `GET /api/auth/me`), whose handlers live in
//! [`crate::auth`]: documenting sits above auth, so auth needs no part of
//! the document builder.

use super::{Operation, RouteDocs};
use crate::auth::routes::{Me, TokenResponse};

/// The operations of the auth endpoints, each with its path.
pub(crate) fn auth_routes() -> Vec<(String, RouteDocs)> {
    vec![
        (
            "/api/auth/token".into(),
            RouteDocs::new().post(
                Operation::new("Log in with a username and password (OAuth2 password flow)")
                    .operation_id("login")
                    .tag("auth")
                    .form_body::<TokenFormDocs>()
                    .response::<TokenResponse>(200, "A bearer token")
                    .response::<OAuthError>(
                        400,
                        "Incorrect username or password, or a grant type other than `password`",
                    )
                    .error_response(413)
                    .error_response(422)
                    .error_response(429),
            ),
        ),
        (
            "/api/auth/logout".into(),
            RouteDocs::new().post(
                Operation::new("Revoke the token used for this request")
                    .operation_id("logout")
                    .tag("auth")
                    .requires_auth()
                    .response_without_body(204, "Logged out"),
            ),
        ),
        (
            "/api/auth/me".into(),
            RouteDocs::new().get(
                Operation::new("The current user and their permissions")
                    .operation_id("me")
                    .tag("auth")
                    .requires_auth()
                    .response::<Me>(200, "The current user"),
            ),
        ),
    ]
}

/// An error of the token endpoint, as RFC 6749 section 5.2 answers it.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct OAuthError {
    /// The description again, under FastAPI's key.
    detail: String,
    /// `invalid_grant` or `unsupported_grant_type`.
    error: String,
    /// What went wrong, for a person.
    error_description: String,
}

/// The token form, as documented (RFC 6749 section 4.3).
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
struct TokenFormDocs {
    /// `password`.
    grant_type: Option<String>,
    /// The username.
    username: String,
    /// The password.
    password: String,
    /// Ignored.
    scope: Option<String>,
}
