//! Auth's part of the shared state: [`AuthState`], installed in the
//! [`AppState`] when the app is built and read with `state.auth()`.

use std::sync::{Arc, LazyLock};

use super::{Authenticators, LoginThrottle, PasswordPolicy};
use crate::state::AppState;

/// Authentication settings shared by every request.
#[derive(Clone, Debug)]
pub struct AuthState {
    /// Tried in order; the first that recognises the credentials decides.
    pub authenticators: Authenticators,
    /// How long tokens from `POST /api/auth/token` live.
    pub token_ttl: chrono::Duration,
    /// Failed-login counting (the counts are in the database).
    pub throttle: LoginThrottle,
    /// The rules every new password must pass.
    pub password_policy: PasswordPolicy,
}

impl Default for AuthState {
    /// No authenticator (every request is anonymous), one-hour tokens and
    /// Django's password rules.
    fn default() -> Self {
        AuthState {
            authenticators: Authenticators(Arc::default()),
            token_ttl: chrono::Duration::hours(1),
            throttle: LoginThrottle,
            password_policy: PasswordPolicy::django(),
        }
    }
}

/// What a state without auth's slot answers: nobody is authenticated.
static ANONYMOUS: LazyLock<AuthState> = LazyLock::new(AuthState::default);

impl AppState {
    /// The auth settings the app was built with; a state built without them
    /// authenticates nobody ([`AuthState::default`]).
    pub fn auth(&self) -> &AuthState {
        self.layer::<AuthState>().unwrap_or(&ANONYMOUS)
    }
}
