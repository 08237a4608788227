//! The HTTP layer's defaults (issue #12): same-site redirects after login,
//! security headers on every face, HSTS and CORS when configured, allowed
//! hosts, CSRF tokens signed with the secret key for their session, and
//! the production checks (`serve` refusing the development key, `check --deploy`).

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use ferrobridge::cli::Command;
use ferrobridge::security::{Cors, Environment, same_site_path};
use ferrobridge_tests::{
    AdminClient, PASSWORD, Page, TestDb, UserKind, authed_router, blog_router, create_user,
    db_tests,
};
use http_body_util::BodyExt;
use proptest::prelude::*;
use tower::ServiceExt;

db_tests!(
    login_next_stays_on_the_site,
    every_face_gets_the_security_headers,
    hsts_only_when_configured,
    cors_is_off_by_default,
    cors_preflight_allowed_and_refused,
    allowed_hosts_refuse_other_hosts,
    csrf_cookie_is_bound_to_its_session_and_key,
    blog_live_page_is_served_by_the_app,
);

/// What a browser makes of `location` on a page of `http://testserver/`.
fn resolve(location: &str) -> url::Url {
    url::Url::parse("http://testserver/")
        .unwrap()
        .join(location)
        .unwrap_or_else(|e| panic!("{location:?} does not parse: {e}"))
}

fn assert_same_site(location: &str) {
    let resolved = resolve(location);
    assert_eq!(
        resolved.origin(),
        url::Url::parse("http://testserver/").unwrap().origin(),
        "{location:?} leads to {resolved}"
    );
}

/// `next` values that lead a browser to another site, as an attacker writes them.
const HOSTILE: &[&str] = &[
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "\t//evil.example",
    " //evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/.//evil.example",
    "/./\\evil.example",
    "/..//evil.example",
    "http://evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "\u{0}//evil.example",
    "/\u{85}/evil.example",
    "/\u{3000}/evil.example",
    "evil.example",
    "/%09/evil.example",
];

async fn login_next_stays_on_the_site(db: &TestDb) {
    let router = blog_router(db).await;
    create_user(&db.db, "admin", UserKind::Superuser).await;
    for next in HOSTILE {
        let mut client = AdminClient::new(router.clone());
        client.get("/admin/login/").await;
        let page = client
            .post(
                "/admin/login/",
                &[
                    ("username", "admin"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::FOUND, "{next:?}: {}", page.body);
        assert_same_site(page.location());
        assert!(
            page.location().starts_with("/admin/") || page.location().starts_with("/%09/"),
            "{next:?} -> {}",
            page.location()
        );
        // Logged in: the login page redirects at once to `next`.
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("next", next)
            .finish();
        let page = client.get(&format!("/admin/login/?{query}")).await;
        assert_eq!(page.status, StatusCode::FOUND, "{next:?}");
        assert_same_site(page.location());
    }
    // The issue's request, as sent: `%2F%09%2Fevil.example` is `/\t/evil.example`.
    let mut client = AdminClient::new(router.clone());
    client.login("admin", PASSWORD).await;
    let page = client.get("/admin/login/?next=%2F%09%2Fevil.example").await;
    assert_eq!(page.location(), "/admin/");
    let page = client.get("/admin/login/?next=%2F%0A%2Fevil.example").await;
    assert_eq!(page.status, StatusCode::FOUND);
    assert_eq!(page.location(), "/admin/");
    // Same-site paths survive, normalised and percent-encoded.
    let page = client
        .get("/admin/login/?next=%2Fadmin%2Fblog%2Fpost%2F%3Fq%3Dcaf%C3%A9")
        .await;
    assert_eq!(page.location(), "/admin/blog/post/?q=caf%C3%A9");
}

#[test]
fn same_site_paths_are_kept_and_others_refused() {
    for hostile in HOSTILE {
        if let Some(path) = same_site_path(hostile) {
            assert_same_site(&path);
        }
    }
    for refused in [
        "/\t/evil.example",
        "/.//evil.example",
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
    ] {
        assert_eq!(same_site_path(refused), None, "{refused:?}");
    }
    assert_eq!(
        same_site_path("/admin/blog/post/?o=-1&q=a"),
        Some("/admin/blog/post/?o=-1&q=a".into())
    );
    assert_eq!(same_site_path("/admin/./blog/../"), Some("/admin/".into()));
    assert_eq!(same_site_path("/é"), Some("/%C3%A9".into()));
}

/// Pieces attackers combine: slashes and backslashes, dots, encoded
/// slashes, schemes, hosts, whitespace and control characters, unicode.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "/",
        "//",
        "\\",
        "/\\",
        ".",
        "..",
        "./",
        "%2F",
        "%2f",
        "%5C",
        "%09",
        "%0A",
        "\t",
        "\n",
        "\r",
        " ",
        "\u{0}",
        "\u{7f}",
        "\u{85}",
        "\u{a0}",
        "\u{2028}",
        "\u{3000}",
        "\u{ff0f}",
        "é",
        ":",
        "@",
        "?",
        "#",
        "evil.example",
        "http:",
        "https:",
        "javascript:",
        "admin",
        "%",
        "%%",
        "&",
        "=",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    /// Whatever `next` is, the redirect parses relative to the site and
    /// stays on its origin, and it is a valid `Location` header.
    #[test]
    fn safe_next_never_leaves_the_site(pieces in prop::collection::vec(piece(), 0..8)) {
        let next = pieces.concat();
        let to = ferrobridge::admin::safe_next(Some(&next));
        prop_assert!(axum::http::HeaderValue::from_str(&to).is_ok(), "{next:?} -> {to:?}");
        let resolved = resolve(&to);
        prop_assert_eq!(
            resolved.origin(),
            url::Url::parse("http://testserver/").unwrap().origin(),
            "{:?} -> {:?} -> {}", next, to, resolved
        );
        prop_assert!(to.starts_with('/') && !to.starts_with("//"));
        // Also as a browser reads it: backslashes as slashes.
        let as_browser = to.replace('\\', "/");
        prop_assert!(!as_browser.starts_with("//"));
    }
}

fn header_of(reply: &Page, name: &str) -> Option<String> {
    reply
        .headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

/// Sends `request` in process; any body as text.
async fn send(router: &axum::Router, request: Request<Body>) -> Page {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(router: &axum::Router, uri: &str) -> Page {
    send(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn every_face_gets_the_security_headers(db: &TestDb) {
    let router = blog_router(db).await;
    for (uri, status) in [
        ("/api/posts", 200),
        ("/api/posts/999999", 404),
        ("/api/authors?page=x", 422),
        ("/openapi.json", 200),
        ("/docs", 200),
        ("/docs/assets/swagger-ui.css", 200),
        ("/docs/assets/swagger-ui-bundle.js", 200),
        ("/healthz", 200),
        ("/no/such/page", 404),
        ("/admin/login/", 200),
        ("/admin/static/admin.css", 200),
        ("/admin/static/admin.js", 200),
        ("/admin/", 302),
    ] {
        let reply = get(&router, uri).await;
        assert_eq!(reply.status.as_u16(), status, "{uri}");
        assert_eq!(
            header_of(&reply, "x-content-type-options").as_deref(),
            Some("nosniff"),
            "{uri}"
        );
        assert_eq!(
            header_of(&reply, "referrer-policy").as_deref(),
            Some("same-origin"),
            "{uri}"
        );
        assert_eq!(
            header_of(&reply, "cross-origin-opener-policy").as_deref(),
            Some("same-origin"),
            "{uri}"
        );
        assert_eq!(
            header_of(&reply, "strict-transport-security"),
            None,
            "{uri}"
        );
        if uri.starts_with("/admin/") {
            assert_eq!(
                header_of(&reply, "x-frame-options").as_deref(),
                Some("DENY"),
                "{uri}"
            );
            let csp = header_of(&reply, "content-security-policy").unwrap_or_default();
            assert!(csp.contains("frame-ancestors 'none'"), "{uri}: {csp}");
            assert!(csp.contains("script-src 'self'"), "{uri}: {csp}");
            assert!(!csp.contains("unsafe-inline"), "{uri}: {csp}");
        }
    }
    let docs = get(&router, "/docs").await;
    let csp = header_of(&docs, "content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'self'"), "{csp}");
    // The admin's pages carry no inline script or style the CSP would block.
    let login = get(&router, "/admin/login/").await;
    assert!(!login.body.contains("<script>"), "{}", login.body);
    assert!(!login.body.contains("<style"), "{}", login.body);
    assert!(!login.body.contains("style=\""), "{}", login.body);
}

/// The URLs `text` loads or links to (`src="..."`, `href="..."`, `url(...)`,
/// and string literals in scripts): a page served by the app loads nothing
/// from another site.
fn external_urls(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for scheme in ["http:", "https:", "ws:", "wss:", "//"] {
        for (at, _) in text.match_indices(scheme) {
            let before = text[..at].chars().last().unwrap_or(' ');
            // `//` after a `:` is a scheme's; alone it is a comment unless quoted.
            if scheme == "//" && !matches!(before, '"' | '\'' | '`' | '(') {
                continue;
            }
            found.push(text[at..].chars().take(40).collect());
        }
    }
    found
}

async fn blog_live_page_is_served_by_the_app(db: &TestDb) {
    let router = blog_router(db).await;
    let page = get(&router, "/live").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        header_of(&page, "content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    // It follows posts through the change feed, with its own files only.
    assert!(
        page.body
            .contains("<script src=\"/live.js\" defer></script>")
    );
    assert!(page.body.contains("href=\"/live.css\""));
    assert!(
        page.body.contains("/admin/login/?next=/live"),
        "the login hint"
    );
    assert!(!page.body.contains("<script>"), "no inline script");
    let csp = header_of(&page, "content-security-policy").unwrap_or_default();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let script = get(&router, "/live.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert_eq!(
        header_of(&script, "content-type").as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert!(script.body.contains("new EventSource("));
    assert!(script.body.contains("/api/posts/events"));
    let style = get(&router, "/live.css").await;
    assert_eq!(style.status, StatusCode::OK);
    for (uri, body) in [
        ("/live", &page.body),
        ("/live.js", &script.body),
        ("/live.css", &style.body),
    ] {
        assert_eq!(external_urls(body), Vec::<String>::new(), "{uri}");
    }
    assert_eq!(
        external_urls("<script src=\"https://cdn.example/x.js\">"),
        vec!["https://cdn.example/x.js\">".to_string()]
    );
    assert_eq!(
        external_urls("<link href=\"//cdn.example/x.css\">").len(),
        1
    );
    // A page for people: not an operation of the API's document.
    let document = get(&router, "/openapi.json").await;
    assert!(!document.body.contains("\"/live"), "{}", document.body);
}

async fn hsts_only_when_configured(db: &TestDb) {
    let app = blog::app().hsts(std::time::Duration::from_secs(31_536_000));
    let router = authed_router(&app, &db.db).await;
    for uri in ["/api/posts", "/admin/login/", "/docs"] {
        let reply = get(&router, uri).await;
        assert_eq!(
            header_of(&reply, "strict-transport-security").as_deref(),
            Some("max-age=31536000; includeSubDomains"),
            "{uri}"
        );
    }
}

fn preflight(origin: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/posts")
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization, content-type",
        )
        .body(Body::empty())
        .unwrap()
}

async fn cors_is_off_by_default(db: &TestDb) {
    let router = blog_router(db).await;
    let reply = send(&router, preflight("https://app.example")).await;
    assert_eq!(header_of(&reply, "access-control-allow-origin"), None);
    let request = Request::get("/api/posts")
        .header(header::ORIGIN, "https://app.example")
        .body(Body::empty())
        .unwrap();
    let reply = send(&router, request).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(header_of(&reply, "access-control-allow-origin"), None);
}

async fn cors_preflight_allowed_and_refused(db: &TestDb) {
    let app =
        blog::app().cors(Cors::allow_origins(["https://app.example"]).allow_credentials(true));
    let router = authed_router(&app, &db.db).await;

    let allowed = send(&router, preflight("https://app.example")).await;
    assert!(allowed.status.is_success(), "{}", allowed.status);
    assert_eq!(
        header_of(&allowed, "access-control-allow-origin").as_deref(),
        Some("https://app.example")
    );
    assert_eq!(
        header_of(&allowed, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    let methods = header_of(&allowed, "access-control-allow-methods").unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let headers = header_of(&allowed, "access-control-allow-headers").unwrap();
    assert!(headers.contains("authorization"), "{headers}");
    assert_eq!(
        header_of(&allowed, "x-content-type-options").as_deref(),
        Some("nosniff")
    );

    let refused = send(&router, preflight("https://evil.example")).await;
    assert_eq!(header_of(&refused, "access-control-allow-origin"), None);
    assert_eq!(
        header_of(&refused, "access-control-allow-credentials").as_deref(),
        Some("true")
    );

    let request = Request::get("/api/posts")
        .header(header::ORIGIN, "https://app.example")
        .body(Body::empty())
        .unwrap();
    let simple = send(&router, request).await;
    assert_eq!(
        header_of(&simple, "access-control-allow-origin").as_deref(),
        Some("https://app.example")
    );
}

fn with_host(uri: &str, host: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::HOST, host)
        .body(Body::empty())
        .unwrap()
}

async fn allowed_hosts_refuse_other_hosts(db: &TestDb) {
    let open = blog_router(db).await;
    let reply = send(&open, with_host("/api/posts", "anything.example")).await;
    assert_eq!(reply.status, StatusCode::OK, "no allowed hosts: any host");

    let app = blog::app().allowed_hosts(["example.com", ".example.org"]);
    let router = app.router(db.db.clone());
    for host in [
        "example.com",
        "EXAMPLE.com:8443",
        "example.org",
        "api.example.org",
        "example.com.",
    ] {
        let reply = send(&router, with_host("/healthz", host)).await;
        assert_eq!(reply.status, StatusCode::OK, "{host}");
    }
    for host in [
        "evil.example",
        "example.com.evil.example",
        "notexample.org",
        "user@example.com",
        "",
        "example.com/x",
    ] {
        for uri in ["/api/posts", "/admin/login/"] {
            let reply = send(&router, with_host(uri, host)).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{host} {uri}");
            let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
            assert_eq!(
                body["detail"],
                "Invalid Host header: this site is not served under that name"
            );
            assert_eq!(
                header_of(&reply, "x-content-type-options").as_deref(),
                Some("nosniff")
            );
        }
    }
    let missing = send(
        &router,
        Request::get("/api/posts").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

async fn csrf_cookie_is_bound_to_its_session_and_key(db: &TestDb) {
    let router = blog_router(db).await;
    create_user(&db.db, "admin", UserKind::Superuser).await;

    // A token of the attacker's choosing, in both cookie and field (the
    // naive double-submit check would pass it).
    let mut client = AdminClient::new(router.clone());
    client.get("/admin/login/").await;
    let chosen = "x".repeat(32);
    client.cookies.insert("csrftoken".into(), chosen.clone());
    let page = client
        .post(
            "/admin/login/",
            &[
                ("username", "admin"),
                ("password", PASSWORD),
                ("next", "/admin/"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    // The refusal hands out a proper token; the next page works.
    let mut client = AdminClient::new(router.clone());
    client.login("admin", PASSWORD).await;

    // An anonymous token, valid before login, planted after it (cookie
    // tossing from a sibling subdomain): refused for the logged-in session.
    let mut stranger = AdminClient::new(router.clone());
    stranger.get("/admin/login/").await;
    let planted = stranger.csrf();
    assert!(planted.len() > 32);
    let own = client.csrf();
    client.cookies.insert("csrftoken".into(), planted.clone());
    let page = client.post("/admin/logout/", &[]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);

    // Its own token still works.
    client.cookies.insert("csrftoken".into(), own);
    let page = client.post("/admin/logout/", &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // After logout the page's new token (for no session) logs in again.
    assert_ne!(client.csrf(), planted);
    client.login("admin", PASSWORD).await;

    // A token signed with another app's key is refused.
    let other = blog::app().secret_key("another key, another site, another set of tokens......");
    let other_router = other.router(db.db.clone());
    let mut elsewhere = AdminClient::new(other_router);
    elsewhere.get("/admin/login/").await;
    let mut client = AdminClient::new(router.clone());
    client.get("/admin/login/").await;
    client.cookies.insert("csrftoken".into(), elsewhere.csrf());
    let page = client
        .post_raw(
            "/admin/login/",
            &[
                ("csrfmiddlewaretoken", elsewhere.csrf().as_str()),
                ("username", "admin"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
}

const GOOD_KEY: &str = "k3y-7f9c2e1d4b6a8f0e3c5d7b9a1f2e4d6c8b0a3f5e7d9c1b2a4f6e8d0c2b4a6f8e";

fn configured() -> ferrobridge::App {
    blog::app()
        .environment(Environment::Production)
        .secret_key(GOOD_KEY)
        .allowed_hosts(["blog.example"])
        .secure_cookies(true)
        .hsts(std::time::Duration::from_secs(31_536_000))
}

/// A SQLite URL whose file does not exist: `check` then looks at no database.
fn no_database() -> String {
    let path = std::env::temp_dir().join(format!(
        "ferrobridge-deploy-{}-{}.sqlite3",
        std::process::id(),
        uuid_like()
    ));
    format!("sqlite://{}?mode=rwc", path.display())
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[test]
fn check_deploy_lists_each_insecure_setting() {
    let problems =
        ferrobridge::cli::check_deploy(&blog::app().environment(Environment::Development));
    let codes: Vec<&str> = problems
        .iter()
        .map(|p| p.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "security.W001",
            "security.W003",
            "security.W004",
            "security.W005",
            "security.W006"
        ],
        "{problems:#?}"
    );
    assert!(problems[0].contains("FERROBRIDGE_SECRET_KEY"));

    let short = ferrobridge::cli::check_deploy(&configured().secret_key("short"));
    assert_eq!(short.len(), 1, "{short:?}");
    assert!(short[0].starts_with("security.W002"), "{short:?}");

    let any_with_credentials = ferrobridge::cli::check_deploy(
        &configured().cors(Cors::allow_origins(["*"]).allow_credentials(true)),
    );
    assert_eq!(any_with_credentials.len(), 1);
    assert!(any_with_credentials[0].starts_with("security.W007"));
    let listed = ferrobridge::cli::check_deploy(
        &configured().cors(Cors::allow_origins(["https://app.example"]).allow_credentials(true)),
    );
    assert!(listed.is_empty(), "{listed:?}");

    assert!(ferrobridge::cli::check_deploy(&configured()).is_empty());
}

#[tokio::test]
async fn check_deploy_fails_until_configured() {
    let deploy = || Command::Check { deploy: true };
    let insecure = ferrobridge::cli::execute(
        blog::app().environment(Environment::Development),
        deploy(),
        &no_database(),
    )
    .await
    .unwrap_err();
    assert_eq!(insecure.to_string(), "system check identified 5 issue(s)");
    // Without --deploy the same app passes.
    ferrobridge::cli::execute(
        blog::app(),
        Command::Check { deploy: false },
        &no_database(),
    )
    .await
    .unwrap();
    ferrobridge::cli::execute(configured(), deploy(), &no_database())
        .await
        .unwrap();
}

#[tokio::test]
async fn production_refuses_to_serve_without_a_real_key_or_hosts() {
    let serve = || Command::Serve {
        bind: "127.0.0.1:0".parse().unwrap(),
    };
    let production = || blog::app().environment(Environment::Production);
    let cases = [
        (production(), "needs a secret key"),
        (
            production().secret_key(ferrobridge::security::DEVELOPMENT_SECRET_KEY),
            "refuses the development secret key",
        ),
        (production().secret_key(GOOD_KEY), "needs allowed hosts"),
    ];
    for (app, expected) in cases {
        let error = ferrobridge::cli::execute(app, serve(), &no_database())
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains(expected), "{error}");
        assert!(error.contains("FERROBRIDGE_"), "{error}");
    }
}
