//! [`JwtAuthenticator`]: bearer JWTs (RS256, ES256, ...) issued by an
//! external OAuth2/OIDC server, checked against its JWKS (fetched from a URL
//! or read from a file, cached, refreshed when a token names an unknown key),
//! with issuer, audience and expiry checked, mapped to a local user.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::db::Connection;
use axum::http::request::Parts;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};
use tokio::sync::RwLock;

use super::identity::{link_identity, linked_user};
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
/// A token's user is the local account linked to its (`iss`, `sub`) pair
/// ([`ExternalIdentity`](crate::auth::ExternalIdentity)); names and emails
/// never select an account by themselves, so a token whose `sub` or email
/// equals a local superuser's username or address does not log in as them.
/// Link an existing account with [`link_identity`](crate::auth::link_identity)
/// (or the `linkidentity` command); [`create_users`](Self::create_users)
/// gives unknown identities a new non-staff account, and
/// [`link_verified_email`](Self::link_verified_email) lets a verified email
/// address link to an existing non-staff account.
///
/// ```no_run
/// use ferrobridge::auth::{JwksSource, JwtAuthenticator};
/// let jwt = JwtAuthenticator::new(JwksSource::Url("https://id.example.com/.well-known/jwks.json".into()))
///     .issuer("https://id.example.com/")
///     .audience("my-api")
///     .username_claim("preferred_username")
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
    link_verified_email: bool,
    min_refresh: Duration,
    keys: RwLock<Option<(JwkSet, Instant)>>,
}

/// Unknown `kid`s refresh the key set at most this often.
const MIN_REFRESH: Duration = Duration::from_secs(10);

impl JwtAuthenticator {
    /// Tokens signed by a key of `source`, for the local users their
    /// (`iss`, `sub`) pairs are linked to.
    pub fn new(source: JwksSource) -> Self {
        JwtAuthenticator {
            source,
            issuer: None,
            audience: None,
            claim: "sub".into(),
            create_users: false,
            link_verified_email: false,
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

    /// The claim a new account's username is made from when
    /// [`create_users`](Self::create_users) creates one (default `sub`;
    /// `preferred_username` or `email` read better). It never selects an
    /// existing account: a taken name gets a numbered suffix.
    pub fn username_claim(mut self, claim: impl Into<String>) -> Self {
        self.claim = claim.into();
        self
    }

    /// Gives an identity seen for the first time a NEW local account
    /// (active, not staff, no usable password) linked to it; otherwise
    /// unknown identities are refused until linked.
    pub fn create_users(mut self, create: bool) -> Self {
        self.create_users = create;
        self
    }

    /// Lets an identity seen for the first time link to the one existing
    /// account with its email address, when the token says
    /// `"email_verified": true` and that account is active and neither
    /// staff nor superuser (those are linked only explicitly, with
    /// [`link_identity`](crate::auth::link_identity)). Off by default.
    pub fn link_verified_email(mut self, link: bool) -> Self {
        self.link_verified_email = link;
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

    async fn verify(&self, token: &str, db: &Connection) -> Result<User, AuthError> {
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
        self.local_user(&data.claims, db).await
    }

    /// Who vouches for a token without an `iss` claim: the configured
    /// issuer, else the key set it was checked against.
    fn default_issuer(&self) -> String {
        match (&self.issuer, &self.source) {
            (Some(issuer), _) => issuer.clone(),
            (None, JwksSource::Url(url)) => format!("jwks:{url}"),
            (None, JwksSource::File(path)) => format!("jwks:{}", path.display()),
        }
    }

    /// The local account of a valid token's (`iss`, `sub`) pair.
    async fn local_user(
        &self,
        claims: &serde_json::Value,
        db: &Connection,
    ) -> Result<User, AuthError> {
        // An unreachable database answers 503, as for the other authenticators.
        let failed = |e: DbErr| AuthError::lookup_failed(&e);
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
        };
        let Some(subject) = text("sub") else {
            return Err(AuthError("Token has no `sub` claim".into()));
        };
        let issuer = text("iss")
            .map(str::to_string)
            .unwrap_or_else(|| self.default_issuer());
        let active = |row: user::Model| {
            if row.is_active {
                Ok(User::from(row))
            } else {
                Err(AuthError("User inactive".into()))
            }
        };
        if let Some(row) = linked_user(db, &issuer, subject).await.map_err(failed)? {
            return active(row);
        }
        if self.link_verified_email
            && claims.get("email_verified") == Some(&serde_json::Value::Bool(true))
            && let Some(email) = text("email")
        {
            let owners = user::Entity::find()
                .filter(user::Column::Email.eq(email))
                .limit(2)
                .all(db)
                .await
                .map_err(failed)?;
            if let [owner] = owners.as_slice()
                && owner.is_active
                && !owner.is_staff
                && !owner.is_superuser
            {
                link_identity(db, owner.id, &issuer, subject)
                    .await
                    .map_err(failed)?;
                return active(owner.clone());
            }
        }
        if !self.create_users {
            return Err(AuthError(
                "Unknown identity: it is not linked to a local account".into(),
            ));
        }
        let wanted = text(&self.claim).unwrap_or(subject);
        let email = text("email").unwrap_or("");
        match self.create_user(db, wanted, email, &issuer, subject).await {
            Ok(row) => Ok(User::from(row)),
            // Another request created it first.
            Err(error) => match linked_user(db, &issuer, subject).await.map_err(failed)? {
                Some(row) => active(row),
                None => Err(failed(error)),
            },
        }
    }

    /// A new active, non-staff account for an identity, with a username
    /// made from `wanted` that no account has, and its link, in one transaction.
    async fn create_user(
        &self,
        db: &Connection,
        wanted: &str,
        email: &str,
        issuer: &str,
        subject: &str,
    ) -> Result<user::Model, DbErr> {
        // Django's username characters; a suffix must still fit in 150.
        let mut base: String = wanted
            .chars()
            .filter(|c| c.is_alphanumeric() || "_.@+-".contains(*c))
            .take(140)
            .collect();
        if base.is_empty() {
            base = "user".into();
        }
        let mut username = base.clone();
        let mut n = 1u32;
        while user::Entity::find()
            .filter(user::Column::Username.eq(username.as_str()))
            .one(db)
            .await?
            .is_some()
        {
            n += 1;
            username = format!("{base}-{n}");
        }
        let txn = db.begin().await?;
        let row = user::ActiveModel {
            username: Set(username),
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
        .insert(&txn)
        .await?;
        link_identity(&txn, row.id, issuer, subject).await?;
        txn.commit().await?;
        Ok(row)
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
    fn authenticate<'a>(&'a self, parts: &'a Parts, db: &'a Connection) -> AuthFuture<'a> {
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
