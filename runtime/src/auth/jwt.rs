//! [`JwtAuthenticator`]: bearer JWTs (RS256, ES256, ...) issued by an
//! external OAuth2/OIDC server, checked against its JWKS (fetched from a URL
//! or read from a file, cached, refreshed when a token names an unknown key),
//! with issuer, audience and expiry checked, mapped to a local user.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::http::request::Parts;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use tokio::sync::RwLock;

use super::models::user;
use super::{AuthError, AuthFuture, Authenticator, User, bearer_token};

/// Where the signing keys come from.
#[derive(Clone, Debug)]
pub enum JwksSource {
    /// The server's `jwks_uri`, fetched over HTTP(S).
    Url(String),
    /// A JWKS document on disk.
    File(PathBuf),
}

/// Validates JWTs from an external identity provider.
///
/// ```no_run
/// use ferrobridge::auth::{JwksSource, JwtAuthenticator};
/// let jwt = JwtAuthenticator::new(JwksSource::Url("https://id.example.com/.well-known/jwks.json".into()))
///     .issuer("https://id.example.com/")
///     .audience("my-api")
///     .username_claim("email")
///     .create_users(true);
/// ferrobridge::App::new("blog").authenticator(jwt);
/// ```
#[derive(Debug)]
pub struct JwtAuthenticator {
    source: JwksSource,
    issuer: Option<String>,
    audience: Option<String>,
    claim: String,
    create_users: bool,
    min_refresh: Duration,
    keys: RwLock<Option<(JwkSet, Instant)>>,
}

/// Unknown `kid`s refresh the key set at most this often.
const MIN_REFRESH: Duration = Duration::from_secs(10);

impl JwtAuthenticator {
    /// Tokens signed by a key of `source`; the `sub` claim names the local user.
    pub fn new(source: JwksSource) -> Self {
        JwtAuthenticator {
            source,
            issuer: None,
            audience: None,
            claim: "sub".into(),
            create_users: false,
            min_refresh: MIN_REFRESH,
            keys: RwLock::new(None),
        }
    }

    /// Requires the `iss` claim to be `issuer`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Requires the `aud` claim to contain `audience`.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// The claim holding the local username (default `sub`).
    pub fn username_claim(mut self, claim: impl Into<String>) -> Self {
        self.claim = claim.into();
        self
    }

    /// Creates a local user (with no usable password) the first time a
    /// valid token names an unknown one; otherwise such tokens are refused.
    pub fn create_users(mut self, create: bool) -> Self {
        self.create_users = create;
        self
    }

    /// How soon after loading the key set a token with an unknown `kid` may
    /// load it again (default 10 seconds), so garbage tokens cannot hammer the server.
    pub fn min_refresh(mut self, interval: Duration) -> Self {
        self.min_refresh = interval;
        self
    }

    async fn fetch(&self) -> Result<JwkSet, AuthError> {
        let unavailable = |e: &dyn std::fmt::Display| {
            tracing::error!(error = %e, "cannot load the JWKS");
            AuthError("Cannot validate tokens right now".into())
        };
        let text = match &self.source {
            JwksSource::File(path) => tokio::fs::read_to_string(path)
                .await
                .map_err(|e| unavailable(&e))?,
            JwksSource::Url(url) => reqwest::Client::new()
                .get(url)
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| unavailable(&e))?
                .text()
                .await
                .map_err(|e| unavailable(&e))?,
        };
        serde_json::from_str(&text).map_err(|e| unavailable(&e))
    }

    /// The key named `kid`, refreshing the cached set when it is unknown.
    async fn key(&self, kid: Option<&str>) -> Result<jsonwebtoken::jwk::Jwk, AuthError> {
        let find = |set: &JwkSet| match kid {
            Some(kid) => set.find(kid).cloned(),
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        };
        if let Some((set, _)) = &*self.keys.read().await
            && let Some(key) = find(set)
        {
            return Ok(key);
        }
        let mut cache = self.keys.write().await;
        let stale = cache
            .as_ref()
            .is_none_or(|(_, at)| at.elapsed() >= self.min_refresh);
        if stale {
            *cache = Some((self.fetch().await?, Instant::now()));
        }
        cache
            .as_ref()
            .and_then(|(set, _)| find(set))
            .ok_or_else(|| AuthError("Token signed by an unknown key".into()))
    }

    async fn verify(&self, token: &str, db: &DatabaseConnection) -> Result<User, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError("Malformed token".into()))?;
        let jwk = self.key(header.kid.as_deref()).await?;
        let key =
            DecodingKey::from_jwk(&jwk).map_err(|_| AuthError("Unusable signing key".into()))?;
        let mut validation = Validation::new(header.alg);
        if let Some(alg) = jwk.common.key_algorithm {
            // The key decides the algorithm, never the token alone.
            let expected = format!("{alg:?}");
            if expected != format!("{:?}", header.alg) {
                return Err(AuthError("Token algorithm does not match its key".into()));
            }
        }
        match &self.issuer {
            Some(issuer) => validation.set_issuer(&[issuer]),
            None => validation.iss = None,
        }
        match &self.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&["exp"]);
        let data = decode::<serde_json::Value>(token, &key, &validation)
            .map_err(|e| AuthError(format!("Invalid token: {}", describe(&e))))?;
        let Some(name) = data.claims.get(&self.claim).and_then(|v| v.as_str()) else {
            return Err(AuthError(format!("Token has no `{}` claim", self.claim)));
        };
        let existing = user::Entity::find()
            .filter(user::Column::Username.eq(name))
            .one(db)
            .await
            .map_err(|_| AuthError("Could not validate credentials".into()))?;
        match existing {
            Some(row) if row.is_active => Ok(User::from(row)),
            Some(_) => Err(AuthError("User inactive".into())),
            None if self.create_users => {
                let email = data
                    .claims
                    .get("email")
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                let row = user::ActiveModel {
                    username: Set(name.chars().take(150).collect()),
                    email: Set(email.chars().take(254).collect()),
                    // Django's unusable password: this account logs in only by token.
                    password: Set("!".into()),
                    is_superuser: Set(false),
                    first_name: Set(String::new()),
                    last_name: Set(String::new()),
                    is_staff: Set(false),
                    is_active: Set(true),
                    date_joined: Set(chrono::Utc::now()),
                    ..Default::default()
                }
                .insert(db)
                .await
                .map_err(|_| AuthError("Could not create the user".into()))?;
                Ok(User::from(row))
            }
            None => Err(AuthError("Unknown user".into())),
        }
    }
}

fn describe(error: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::ImmatureSignature => "not valid yet",
        ErrorKind::MissingRequiredClaim(_) => "missing claim",
        _ => "rejected",
    }
}

impl Authenticator for JwtAuthenticator {
    fn authenticate<'a>(&'a self, parts: &'a Parts, db: &'a DatabaseConnection) -> AuthFuture<'a> {
        Box::pin(async move {
            match bearer_token(parts) {
                Some(token) if token.matches('.').count() == 2 => {
                    self.verify(token, db).await.map(Some)
                }
                _ => Ok(None),
            }
        })
    }
}
