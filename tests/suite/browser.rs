//! `/docs` in a real browser: headless Chromium, driven through chromedriver
//! by fantoccini, renders the blog's operations from the app's own assets,
//! logs in with the Authorize button and calls an endpoint with the token.
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
    assert_eq!(summaries.len(), 6 * 9 + 3 + 3, "{joined}");

    db.finish().await;
}
