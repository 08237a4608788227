//! The HTTP layer's safe defaults, as Django's `SecurityMiddleware`,
//! `ALLOWED_HOSTS`, `SECRET_KEY` and `check --deploy` give them: response
//! headers on every answer, same-site redirects, a host check, CORS (off
//! unless configured), the secret key and the settings `check --deploy`
//! looks at.
//!
//! Settings come from the environment when [`App::new`](crate::App::new)
//! runs (`FERROBRIDGE_ENV`, `FERROBRIDGE_SECRET_KEY`,
//! `FERROBRIDGE_ALLOWED_HOSTS`); the `App` methods of the same names
//! override them.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer};

/// The key used when none is configured. Anyone can read it here, so
/// `FERROBRIDGE_ENV=production` refuses to start with it.
pub const DEVELOPMENT_SECRET_KEY: &str = "ferrobridge-development-key-do-not-use-in-production";

/// Shorter keys are reported by `check --deploy` (Django asks for 50 characters).
pub const MIN_SECRET_KEY_LENGTH: usize = 50;

/// `Referrer-Policy` on every response: Django's default.
pub const REFERRER_POLICY: &str = "same-origin";

/// The admin's Content-Security-Policy: its pages load only their own
/// stylesheet and script (no inline code), post forms only to this site and
/// cannot be framed.
pub const ADMIN_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
     script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; \
     form-action 'self'; frame-ancestors 'none'";

/// Where the app runs: `FERROBRIDGE_ENV=production`, or development (anything else).
///
/// ferrobridge has no debug mode: responses never carry stack traces, SQL
/// or internal errors, in either environment. Development only relaxes
/// what a laptop needs: the development secret key is accepted, and with no
/// allowed hosts configured any `Host` is answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Environment {
    /// The default: the development key is accepted, any host is answered.
    #[default]
    Development,
    /// `serve` refuses to start without a real secret key and allowed hosts.
    Production,
}

impl Environment {
    /// `FERROBRIDGE_ENV`: `production` (any case) or development.
    pub fn from_env() -> Self {
        match std::env::var("FERROBRIDGE_ENV") {
            Ok(value) if value.trim().eq_ignore_ascii_case("production") => Self::Production,
            _ => Self::Development,
        }
    }
}

/// Cross-origin resource sharing, through tower-http's [`CorsLayer`]. Off
/// unless [`App::cors`](crate::App::cors) is called: browsers then refuse
/// other sites' scripts the answers, as the same-origin policy wants.
#[derive(Clone, Debug, Default)]
pub struct Cors {
    origins: Vec<String>,
    credentials: bool,
    max_age: Option<Duration>,
}

impl Cors {
    /// Allows scripts of these origins (`https://app.example`; `*` for any).
    pub fn allow_origins<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Cors {
            origins: origins.into_iter().map(Into::into).collect(),
            ..Cors::default()
        }
    }

    /// Lets those scripts send cookies and `Authorization`
    /// (`Access-Control-Allow-Credentials: true`).
    pub fn allow_credentials(mut self, allow: bool) -> Self {
        self.credentials = allow;
        self
    }

    /// How long browsers may cache a preflight's answer.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Whether any origin is allowed (`*`).
    pub fn allows_any_origin(&self) -> bool {
        self.origins.iter().any(|o| o == "*")
    }

    /// Whether credentials are allowed.
    pub fn allows_credentials(&self) -> bool {
        self.credentials
    }

    fn layer(&self) -> CorsLayer {
        let origin = if self.allows_any_origin() {
            if self.credentials {
                // Browsers refuse `*` with credentials; echoing the origin is
                // what "any origin with credentials" means (and `check --deploy` warns).
                AllowOrigin::mirror_request()
            } else {
                AllowOrigin::any()
            }
        } else {
            AllowOrigin::list(
                self.origins
                    .iter()
                    .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()),
            )
        };
        let mut layer = CorsLayer::new()
            .allow_origin(origin)
            .allow_methods(AllowMethods::list([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ]))
            .allow_headers(AllowHeaders::list([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                HeaderName::from_static("x-csrftoken"),
            ]))
            .expose_headers([header::LOCATION])
            .allow_credentials(self.credentials);
        if let Some(age) = self.max_age {
            layer = layer.max_age(age);
        }
        layer
    }
}

/// The security settings of an [`App`](crate::App).
#[derive(Clone, Debug, Default)]
pub struct SecuritySettings {
    /// Development or production.
    pub environment: Environment,
    /// `None`: the development key.
    pub secret_key: Option<String>,
    /// Host names answered (`example.com`, `.example.com` for it and its
    /// subdomains, `*` for any); `None` or empty: any host in development.
    pub allowed_hosts: Option<Vec<String>>,
    /// `Strict-Transport-Security: max-age=...` when set.
    pub hsts: Option<Duration>,
    /// Off when `None`.
    pub cors: Option<Cors>,
}

impl SecuritySettings {
    /// The settings the environment gives: `FERROBRIDGE_ENV`,
    /// `FERROBRIDGE_SECRET_KEY`, `FERROBRIDGE_ALLOWED_HOSTS` (comma-separated).
    pub fn from_env() -> Self {
        let secret_key = std::env::var("FERROBRIDGE_SECRET_KEY")
            .ok()
            .filter(|k| !k.is_empty());
        let allowed_hosts = std::env::var("FERROBRIDGE_ALLOWED_HOSTS").ok().map(|v| {
            v.split(',')
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .collect::<Vec<_>>()
        });
        SecuritySettings {
            environment: Environment::from_env(),
            secret_key,
            allowed_hosts,
            hsts: None,
            cors: None,
        }
    }

    /// The key in use: the configured one, else the development key.
    pub fn key(&self) -> SecretKey {
        SecretKey::new(self.secret_key.as_deref().unwrap_or(DEVELOPMENT_SECRET_KEY))
    }

    /// Why this app must not serve in production, if it must not: checked by
    /// `serve` when `FERROBRIDGE_ENV=production`.
    pub fn production_refusal(&self) -> Option<String> {
        if self.environment != Environment::Production {
            return None;
        }
        match self.secret_key.as_deref() {
            None => {
                return Some(
                    "FERROBRIDGE_ENV=production needs a secret key: set FERROBRIDGE_SECRET_KEY \
                     (or App::secret_key) to a random string of 50+ characters"
                        .into(),
                );
            }
            Some(DEVELOPMENT_SECRET_KEY) => {
                return Some(
                    "FERROBRIDGE_ENV=production refuses the development secret key: set \
                     FERROBRIDGE_SECRET_KEY to a random string of 50+ characters"
                        .into(),
                );
            }
            Some(_) => {}
        }
        if self.allowed_hosts.as_ref().is_none_or(Vec::is_empty) {
            return Some(
                "FERROBRIDGE_ENV=production needs allowed hosts: set FERROBRIDGE_ALLOWED_HOSTS \
                 (or App::allowed_hosts) to the names the site is served under"
                    .into(),
            );
        }
        None
    }

    /// The insecure settings `check --deploy` reports, one line each with the fix.
    pub fn deploy_problems(&self, secure_cookies: bool) -> Vec<String> {
        let mut problems = Vec::new();
        match self.secret_key.as_deref() {
            None | Some(DEVELOPMENT_SECRET_KEY) => problems.push(
                "security.W001 the secret key is the development key: set FERROBRIDGE_SECRET_KEY \
                 to a random string of 50+ characters"
                    .to_string(),
            ),
            Some(key) if key.chars().count() < MIN_SECRET_KEY_LENGTH => problems.push(format!(
                "security.W002 the secret key has {} characters: use a random string of \
                 {MIN_SECRET_KEY_LENGTH}+ in FERROBRIDGE_SECRET_KEY",
                key.chars().count()
            )),
            Some(_) => {}
        }
        if self.environment != Environment::Production {
            problems.push(
                "security.W003 the app runs in development (the development key is accepted, any \
                 Host is answered): set FERROBRIDGE_ENV=production"
                    .to_string(),
            );
        }
        if self.allowed_hosts.as_ref().is_none_or(Vec::is_empty) {
            problems.push(
                "security.W004 no allowed hosts: set FERROBRIDGE_ALLOWED_HOSTS (or \
                 App::allowed_hosts) to the site's host names"
                    .to_string(),
            );
        }
        if !secure_cookies {
            problems.push(
                "security.W005 session and CSRF cookies are sent over plain HTTP: call \
                 App::secure_cookies(true) and serve over HTTPS"
                    .to_string(),
            );
        }
        if self.hsts.is_none() {
            problems.push(
                "security.W006 no Strict-Transport-Security header: call App::hsts(...) (for \
                 example one year) once the site is served over HTTPS only"
                    .to_string(),
            );
        }
        if let Some(cors) = &self.cors
            && cors.allows_any_origin()
            && cors.allows_credentials()
        {
            problems.push(
                "security.W007 CORS lets any origin send credentialed requests: list the \
                 trusted origins in Cors::allow_origins, or turn credentials off"
                    .to_string(),
            );
        }
        problems
    }

    /// The host names answered, lowercase (`None`: any).
    pub(crate) fn hosts(&self) -> Option<Arc<[String]>> {
        let hosts: Vec<String> = self
            .allowed_hosts
            .iter()
            .flatten()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        (!hosts.is_empty()).then(|| hosts.into())
    }

    /// CORS, when configured.
    pub(crate) fn cors_layer(&self) -> Option<CorsLayer> {
        self.cors.as_ref().map(Cors::layer)
    }

    /// The headers every response gets unless its handler set them:
    /// Django's `SecurityMiddleware` defaults, and HSTS when configured.
    pub(crate) fn response_headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = vec![
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static(REFERRER_POLICY),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ];
        if let Some(age) = self.hsts {
            let value =
                HeaderValue::from_str(&format!("max-age={}; includeSubDomains", age.as_secs()))
                    .expect("digits are a valid header");
            headers.push((header::STRICT_TRANSPORT_SECURITY, value));
        }
        headers
    }
}

/// Whether `host` (a `Host` header: name and optional port) matches one of
/// `allowed` (lowercase): exact, `.example.com` for the domain and its
/// subdomains, or `*`.
pub fn host_allowed(allowed: &[String], host: &str) -> bool {
    let Ok(authority) = host.parse::<axum::http::uri::Authority>() else {
        return false;
    };
    if authority.as_str().contains('@') {
        return false;
    }
    let name = authority.host().trim_end_matches('.').to_ascii_lowercase();
    allowed.iter().any(|pattern| {
        pattern == "*"
            || match pattern.strip_prefix('.') {
                Some(domain) => name == domain || name.ends_with(pattern.as_str()),
                None => name == *pattern,
            }
    })
}

/// The `400` of a request whose `Host` is not one of `allowed`
/// (lowercase); `None` when it is.
pub(crate) fn host_refusal(allowed: &[String], request: &Request) -> Option<Response> {
    let uri_host = request.uri().authority().map(|a| a.as_str());
    let host = uri_host.or_else(|| {
        request
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
    });
    if host.is_some_and(|host| host_allowed(allowed, host)) {
        return None;
    }
    Some(
        (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({
                "detail": "Invalid Host header: this site is not served under that name"
            })),
        )
            .into_response(),
    )
}

/// The app's secret key, keying the HMACs ferrobridge signs with (the
/// admin's CSRF tokens). Available to handlers as `Extension<SecretKey>`.
#[derive(Clone)]
pub struct SecretKey(Arc<[u8]>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// A key from its text.
    pub fn new(key: &str) -> Self {
        SecretKey(Arc::from(key.as_bytes()))
    }

    fn mac(&self, purpose: &str, message: &[&str]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        // Lengths keep ("ab", "c") and ("a", "bc") apart.
        for part in std::iter::once(purpose).chain(message.iter().copied()) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    /// HMAC-SHA256 of `message` for `purpose`, in URL-safe base64.
    pub fn sign(&self, purpose: &str, message: &[&str]) -> String {
        use base64::Engine;
        let tag = self.mac(purpose, message).finalize().into_bytes();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag)
    }

    /// Whether `signature` is [`SecretKey::sign`]'s (compared in constant time).
    pub fn verify(&self, purpose: &str, message: &[&str], signature: &str) -> bool {
        use base64::Engine;
        let Ok(tag) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        self.mac(purpose, message).verify_slice(&tag).is_ok()
    }
}

/// `raw` as a same-site path to redirect to, normalised, or `None` when a
/// browser could take it anywhere else: Django's
/// `url_has_allowed_host_and_scheme` with no other host allowed.
///
/// Refused: anything not starting with one `/` (schemes, `//host`,
/// relative paths), backslashes (browsers read `\` as `/`), and control or
/// whitespace characters (browsers drop tabs and newlines, so `/\t/evil`
/// becomes `//evil`). What is left is parsed against a base URL as a
/// browser would, and must keep the base's origin; its path is then written
/// back percent-encoded, and refused if normalisation (`/.//evil`) made it
/// start with `//`.
pub fn same_site_path(raw: &str) -> Option<String> {
    if !raw.starts_with('/')
        || raw.starts_with("//")
        || raw
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
    {
        return None;
    }
    let base = url::Url::parse("http://same-site.invalid/").expect("a valid base URL");
    let joined = base.join(raw).ok()?;
    if joined.origin() != base.origin() || !joined.username().is_empty() {
        return None;
    }
    let mut out = joined.path().to_string();
    if out.starts_with("//") || !out.starts_with('/') {
        return None;
    }
    if let Some(query) = joined.query() {
        out.push('?');
        out.push_str(query);
    }
    if let Some(fragment) = joined.fragment() {
        out.push('#');
        out.push_str(fragment);
    }
    Some(out)
}
