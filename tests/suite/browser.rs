//! `/docs` in a real browser: headless Chromium, driven through chromedriver
//! by fantoccini, renders the blog's operations from the app's own assets,
//! logs in with the Authorize button and calls an endpoint with the token;
//! the blog's live page follows a change feed (a stand-in answering as the
//! feed's contract says) and tells an anonymous visitor to log in.
//!
//! Needs `chromium` and `chromedriver` (Debian packages `chromium` and
//! `chromium-driver`; `CHROMIUM` and `CHROMEDRIVER` override the paths).
//! When `CI` is set and they are missing the test fails; elsewhere it skips
//! with a message. Set `BROWSER_SCREENSHOT=file.png` to keep a screenshot.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use ferrobridge_tests::{Backend, TestDb};
use serde_json::json;

/// A child process killed (and reaped) when dropped, even if the test panics.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn executable(variable: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Headless Chromium driving a real server of `router`, on a free port.
pub(crate) struct Browser {
    /// The WebDriver session.
    pub client: fantoccini::Client,
    /// `http://127.0.0.1:{port}` of the server.
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    _driver: KillOnDrop,
    _profile: TempDir,
}

impl Browser {
    /// Serves `router` and opens Chromium at `width`x`height`; `None` when
    /// Chromium is missing outside CI (in CI that is a failure).
    pub async fn start(router: axum::Router, width: u32, height: u32) -> Option<Browser> {
        let chromium = executable(
            "CHROMIUM",
            &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        );
        let chromedriver = executable("CHROMEDRIVER", &["/usr/bin/chromedriver"]);
        let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
            let message = "chromium and chromedriver are needed for the browser tests \
                           (apt-get install chromium chromium-driver; .ci/run installs them)";
            if std::env::var_os("CI").is_some() {
                panic!("{message}");
            }
            eprintln!("skipped: {message}");
            return None;
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });

        let port = free_port();
        let driver = KillOnDrop(
            Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display())),
        );
        let profile = TempDir(std::env::temp_dir().join(format!(
            "ferrobridge-chromium-{}-{port}",
            std::process::id()
        )));
        std::fs::create_dir_all(&profile.0).unwrap();
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.0.display()),
                ],
            },
        });
        let mut capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => unreachable!(),
        };
        if width < 600 {
            // Headless windows have a minimum width; a phone is emulated instead.
            capabilities["goog:chromeOptions"]["mobileEmulation"] = json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0, "touch": true },
            });
        }

        // chromedriver takes a moment to listen.
        let webdriver = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => break client,
                Err(error) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => panic!("cannot open a chromedriver session: {error}"),
            }
        };
        Some(Browser {
            client,
            base,
            stop,
            server,
            _driver: driver,
            _profile: profile,
        })
    }

    /// Closes the browser and stops the server.
    pub async fn finish(self) {
        self.client.close().await.ok();
        self.stop.send(()).ok();
        self.server.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn docs_page_renders_the_operations_in_chromium() {
    // The blog on a real socket, on a fresh SQLite database.
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let app = blog::app();
    app.create_tables(&db.db).await.unwrap();
    ferrobridge_tests::create_user(&db.db, "docs_user", ferrobridge_tests::UserKind::Regular).await;
    let Some(browser) = Browser::start(app.router(db.db.clone()), 1280, 2000).await else {
        return;
    };
    let (client, base) = (browser.client.clone(), browser.base.clone());

    let result = async {
        client.goto(&format!("{base}/docs")).await?;
        client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(".opblock .opblock-summary-path"))
            .await?;
        let title = client.title().await?;
        let mut summaries = Vec::new();
        for block in client.find_all(Locator::Css(".opblock-summary")).await? {
            summaries.push(block.text().await?);
        }
        let info = client
            .find(Locator::Css(".information-container"))
            .await?
            .text()
            .await?;
        // The Authorize button logs in through `/api/auth/token` (OAuth2
        // password flow) and the page then sends the token with requests.
        let wait = Duration::from_secs(30);
        client
            .find(Locator::Css(".auth-wrapper .authorize"))
            .await?
            .click()
            .await?;
        client
            .wait()
            .at_most(wait)
            .for_element(Locator::Id("oauth_username"))
            .await?
            .send_keys("docs_user")
            .await?;
        client
            .find(Locator::Id("oauth_password"))
            .await?
            .send_keys(ferrobridge_tests::PASSWORD)
            .await?;
        client
            .find(Locator::Css(".auth-btn-wrapper .authorize"))
            .await?
            .click()
            .await?;
        client
            .wait()
            .at_most(wait)
            .for_element(Locator::XPath(
                "//div[contains(@class,'auth-btn-wrapper')]/button[contains(., 'Logout')]",
            ))
            .await?;
        client
            .find(Locator::Css(".auth-btn-wrapper .btn-done"))
            .await?
            .click()
            .await?;
        client
            .find(Locator::Css("#operations-auth-me .opblock-summary"))
            .await?
            .click()
            .await?;
        client
            .wait()
            .at_most(wait)
            .for_element(Locator::Css("#operations-auth-me .try-out__btn"))
            .await?
            .click()
            .await?;
        client
            .wait()
            .at_most(wait)
            .for_element(Locator::Css("#operations-auth-me .execute"))
            .await?
            .click()
            .await?;
        let me = client
            .wait()
            .at_most(wait)
            .for_element(Locator::Css(
                "#operations-auth-me .live-responses-table tbody .response-col_description pre",
            ))
            .await?
            .text()
            .await?;
        if let Some(path) = std::env::var_os("BROWSER_SCREENSHOT") {
            std::fs::write(path, client.screenshot().await?).ok();
        }
        Ok::<_, fantoccini::error::CmdError>((title, summaries, info, me))
    }
    .await;
    browser.finish().await;
    let (title, summaries, info, me) = result.expect("the docs page renders and logs in");
    assert!(
        me.contains("\"username\": \"docs_user\""),
        "GET /api/auth/me through the docs page: {me}"
    );

    assert_eq!(title, "blog - API docs");
    assert!(info.contains("blog"), "{info}");
    assert!(info.contains("OAS 3.1"), "{info}");
    let joined = summaries.join("\n");
    for expected in [
        "/api/posts",
        "list_posts",
        "create_post",
        "/api/posts/{pk}",
        "partial_update_post",
        "delete_post",
        "list_authors",
        "/api/stats",
        "blog_stats",
    ] {
        assert!(
            joined.contains(expected),
            "{expected} not rendered; operations:\n{joined}"
        );
    }
    // Nine models with eight operations each (list, create, retrieve, put,
    // patch, delete, changes, events), the blog's three and auth's three.
    assert_eq!(summaries.len(), 8 * 9 + 3 + 3, "{joined}");

    db.finish().await;
}

/// What the stand-in feed saw: each `/api/posts/events` request's
/// `Last-Event-ID` ("none" without one) and query string.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// One event as the change feed sends it.
fn feed_event(cursor: u32, action: &str, pk: u32, title: &str) -> String {
    let event = json!({
        "cursor": cursor.to_string(),
        "model": "blog.post",
        "pk": pk.to_string(),
        "action": action,
        "data": { "id": pk, "title": title },
        "user": 1,
        "at": "2026-11-30T08:00:00.123456Z",
    });
    format!("id: {cursor}\ndata: {event}\n\n")
}

/// The blog's live page served beside a stand-in of the change feed's
/// routes (`/api/posts/changes`, `/api/posts/events`, as the contract of
/// the feed describes them) and of `/api/auth/me`: the page's script is
/// tested on its own. A query with `anonymous` is answered as a visitor
/// without a session (401). The event stream ends after each batch, so
/// the browser reconnects and must send the last id it saw.
fn live_page_router(seen: Seen) -> axum::Router {
    use axum::extract::RawQuery;
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::response::IntoResponse;
    use axum::routing::get;

    let anonymous = |query: &Option<String>| query.as_deref().unwrap_or("").contains("anonymous");
    axum::Router::new()
        .route("/live", get(blog::live_page))
        .route("/live.js", get(blog::live_script))
        .route("/live.css", get(blog::live_stylesheet))
        .route(
            "/api/auth/me",
            get(|| async { axum::Json(json!({ "id": 1, "username": "ann" })) }),
        )
        .route(
            "/api/posts/changes",
            get(move |RawQuery(query): RawQuery| async move {
                if anonymous(&query) {
                    let detail =
                        json!({ "detail": "Authentication credentials were not provided." });
                    return (StatusCode::UNAUTHORIZED, axum::Json(detail)).into_response();
                }
                axum::Json(json!({ "items": [], "cursor": "0" })).into_response()
            }),
        )
        .route(
            "/api/posts/events",
            get(
                move |headers: HeaderMap, RawQuery(query): RawQuery| async move {
                    let last = headers
                        .get("last-event-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("none")
                        .to_string();
                    seen.lock()
                        .unwrap()
                        .push((last.clone(), query.unwrap_or_default()));
                    let body = match last.as_str() {
                        "none" => format!(
                            "retry: 100\n\n{}{}",
                            feed_event(1, "create", 5, "Hello <b>world</b>"),
                            feed_event(2, "update", 5, "Hello again")
                        ),
                        "2" => feed_event(3, "delete", 6, "Gone"),
                        // Nothing more: come back much later.
                        _ => "retry: 600000\n\n".to_string(),
                    };
                    ([(header::CONTENT_TYPE, "text/event-stream")], body)
                },
            ),
        )
}

#[tokio::test]
async fn blog_live_page_follows_the_feed_in_chromium() {
    let seen = Seen::default();
    let Some(browser) = Browser::start(live_page_router(seen.clone()), 1024, 800).await else {
        return;
    };
    let (client, base) = (browser.client.clone(), browser.base.clone());
    let result = async {
        client.goto(&format!("{base}/live?author_id=3")).await?;
        // Three events arrive, the last after a reconnect.
        let deadline = Instant::now() + Duration::from_secs(20);
        let items = loop {
            let items = client
                .execute(
                    "return [...document.querySelectorAll('#events li')].map(li => li.textContent);",
                    vec![],
                )
                .await?;
            if items.as_array().is_some_and(|a| a.len() >= 3) || Instant::now() > deadline {
                break items;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let status = client.find(Locator::Id("status")).await?.text().await?;
        let login_hidden = client
            .execute("return document.getElementById('login').hidden;", vec![])
            .await?;

        // Without a session: the page says to log in at /admin/ first.
        client.goto(&format!("{base}/live?anonymous=1")).await?;
        let login = client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("#login:not([hidden])"))
            .await?
            .text()
            .await?;
        let anonymous_status = client.find(Locator::Id("status")).await?.text().await?;
        Ok::<_, fantoccini::error::CmdError>((items, status, login_hidden, login, anonymous_status))
    }
    .await;
    browser.finish().await;
    let (items, status, login_hidden, login, anonymous_status) = result.unwrap();
    let items: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(items.len(), 3, "{items:?}");
    // Newest first, each with its action and title (as text, never markup).
    assert!(items[0].starts_with("delete#6 Gone"), "{items:?}");
    assert!(items[1].starts_with("update#5 Hello again"), "{items:?}");
    assert!(
        items[2].starts_with("create#5 Hello <b>world</b>"),
        "{items:?}"
    );
    // The stand-in ended its last stream: the page says it is reconnecting.
    assert!(status.contains("reconnecting"), "{status}");
    assert_eq!(login_hidden, json!(true));
    // The browser resumed after the last event it saw, with the page's filter.
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen[0],
        ("none".to_string(), "author_id=3".to_string()),
        "{seen:?}"
    );
    assert_eq!(seen[1].0, "2", "{seen:?}");
    assert!(
        seen.iter().all(|(_, query)| query == "author_id=3"),
        "{seen:?}"
    );
    assert!(login.contains("log in at /admin/"), "{login}");
    assert!(
        anonymous_status.contains("Not logged in"),
        "{anonymous_status}"
    );
}

/// The live page against the blog's real change feed (the router lets the
/// browser's requests in as a superuser, as a session would): posts created
/// and deleted through the API appear on the page as they happen.
#[tokio::test]
async fn blog_live_page_follows_the_real_feed_in_chromium() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let router = ferrobridge_tests::blog_router(&db).await;
    let Some(browser) = Browser::start(router.clone(), 1024, 800).await else {
        db.finish().await;
        return;
    };
    let (client, base) = (browser.client.clone(), browser.base.clone());
    let result = async {
        client.goto(&format!("{base}/live")).await?;
        // Writes only after the stream is open: it follows from now.
        client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::XPath(
                "//*[@id='status'][starts-with(normalize-space(.), 'Following posts')]",
            ))
            .await?;
        let author = ferrobridge_tests::call(
            &router,
            axum::http::Method::POST,
            "/api/authors",
            Some(json!({ "name": "Ann" })),
        )
        .await;
        let post = ferrobridge_tests::call(
            &router,
            axum::http::Method::POST,
            "/api/posts",
            Some(json!({ "title": "Live <i>post</i>", "body": "b", "author_id": author.json["id"] })),
        )
        .await;
        let uri = format!("/api/posts/{}", post.json["id"]);
        ferrobridge_tests::call(&router, axum::http::Method::DELETE, &uri, None).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let items = client
                .execute(
                    "return [...document.querySelectorAll('#events li')].map(li => li.textContent);",
                    vec![],
                )
                .await?;
            if items.as_array().is_some_and(|a| a.len() >= 2) || Instant::now() > deadline {
                break Ok::<_, fantoccini::error::CmdError>((items, post.json["id"].clone()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    .await;
    browser.finish().await;
    db.finish().await;
    let (items, id) = result.unwrap();
    let items: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(items.len(), 2, "{items:?}");
    // Newest first: the delete, then the create, titles as text.
    assert!(
        items[0].starts_with(&format!("delete#{id} Live <i>post</i>")),
        "{items:?}"
    );
    assert!(
        items[1].starts_with(&format!("create#{id} Live <i>post</i>")),
        "{items:?}"
    );
}
