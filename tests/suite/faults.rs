//! Faults lose nothing. The blog example runs as a real process (its own
//! `main.rs`, built by `cargo test` as `blog-example`): killed with SIGKILL
//! during a write load and restarted, every write acknowledged with a 2xx
//! is stored; stopped with SIGTERM, it finishes the request in flight,
//! refuses new connections and exits 0. In process: PostgreSQL going away
//! under load (a TCP proxy cuts every connection and turns new ones away)
//! answers 503 with `Retry-After` within a bound and recovers without a
//! restart; a pool whose only connection is held answers 503 once the
//! acquire timeout has passed.
//!
//! Every wait is bounded ([`PATIENCE`]); child processes are killed on drop.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use ferrobridge::__private::sea_orm::{EntityTrait, TransactionTrait};
use ferrobridge::db::Connection;
use ferrobridge::db::PoolSettings;
use ferrobridge_tests::{Backend, Reply, TestDb, UserKind, call_as, create_user, db_tests};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// The blog example's binary.
const BLOG: &str = env!("CARGO_BIN_EXE_blog-example");

/// The longest any one step may take before the test fails rather than hangs.
const PATIENCE: Duration = Duration::from_secs(60);

/// How long the proxy plays a PostgreSQL restart, at least.
const OUTAGE: Duration = Duration::from_secs(3);

/// Concurrent writers in the SIGKILL test.
const WRITERS: usize = 8;

/// Writes acknowledged before the SIGKILL.
const ACKNOWLEDGED_BEFORE_KILL: usize = 200;

/// Migrates `db` as `blog migrate` does and adds a superuser; answers its token.
pub(crate) async fn prepare(db: &TestDb) -> String {
    blog::app()
        .migrate(&db.db, None, |_, _| {})
        .await
        .expect("migrate");
    create_user(&db.db, "root", UserKind::Superuser).await.1
}

/// `blog-example serve` on a port of its choosing; killed when dropped.
/// Other modules of the suite start instances with it too (the change
/// feed's SIGKILL test).
pub(crate) struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts the server on the database at `url` and waits until
    /// `/healthz` answers 200. It binds port 0 and the port is read from its
    /// "serving ... on http://..." log line, so parallel tests never race for one.
    pub(crate) async fn start(url: &str) -> Server {
        let mut child = Command::new(BLOG)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn,ferrobridge::cli=info")
            .env_remove("DATABASE_MAX_CONNECTIONS")
            .env_remove("DATABASE_ACQUIRE_TIMEOUT")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {BLOG}: {e}"));
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (found, mut address) = tokio::sync::mpsc::unbounded_channel();
        let lines = log.clone();
        // Reads to the end, so the pipe never fills while the server runs.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(addr) = line
                    .split_once(" on http://")
                    .and_then(|(_, rest)| rest.split_whitespace().next())
                    .and_then(|addr| addr.parse::<SocketAddr>().ok())
                {
                    let _ = found.send(addr);
                }
                let mut log = lines.lock().expect("log");
                log.push_str(&line);
                log.push('\n');
            }
        });
        let addr = tokio::time::timeout(PATIENCE, address.recv()).await;
        let Ok(Some(addr)) = addr else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the blog server did not start:\n{}",
                log.lock().expect("log")
            );
        };
        let mut server = Server { child, addr, log };
        server.wait_healthy().await;
        server
    }

    pub(crate) fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn wait_healthy(&mut self) {
        let client = client();
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the blog server exited with {status}:\n{}", self.log());
            }
            if let Ok(reply) = client.get(format!("{}/healthz", self.base())).send().await
                && reply.status() == StatusCode::OK
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "/healthz did not answer 200:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    /// SIGKILL: no shutdown code runs, as in a crash or an OOM kill.
    pub(crate) fn sigkill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, as `docker stop`, systemd and Kubernetes send.
    fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    async fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(PATIENCE)
        .build()
        .expect("HTTP client")
}

/// What became of the writes of the SIGKILL test, by key (an author's
/// name or a post's title, each written once).
#[derive(Default)]
struct Tally {
    attempted: BTreeSet<String>,
    /// Answered 2xx.
    acknowledged: BTreeSet<String>,
    /// Answered with another status.
    refused: BTreeSet<String>,
    /// No answer: in flight when the server was killed, or sent after.
    unanswered: BTreeSet<String>,
}

/// Writes authors and posts (alternately) until `stop` is set or the
/// server stops answering.
async fn writer(
    base: String,
    token: String,
    author_id: Value,
    worker: usize,
    tally: Arc<Mutex<Tally>>,
    acknowledged: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) {
    let client = client();
    for i in 0.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let key = format!("w{worker}-{i}");
        let request = if i % 2 == 0 {
            client
                .post(format!("{base}/api/authors"))
                .json(&json!({ "name": key }))
        } else {
            client
                .post(format!("{base}/api/posts"))
                .json(&json!({ "title": key, "body": "load", "author_id": author_id }))
        };
        tally.lock().expect("tally").attempted.insert(key.clone());
        let outcome = request.bearer_auth(&token).send().await;
        let mut tally = tally.lock().expect("tally");
        match outcome {
            Ok(reply) if reply.status().is_success() => {
                tally.acknowledged.insert(key);
                acknowledged.fetch_add(1, Ordering::SeqCst);
            }
            Ok(_) => {
                tally.refused.insert(key);
            }
            Err(_) => {
                tally.unanswered.insert(key);
                break;
            }
        }
    }
}

/// Every author name and post title stored, read through a new connection.
async fn stored_keys(url: &str) -> BTreeSet<String> {
    let db = ferrobridge::db::connect(url).await.expect("reopen");
    let authors = blog::author::Entity::find()
        .all(&db)
        .await
        .expect("authors");
    let posts = blog::post::Entity::find().all(&db).await.expect("posts");
    db.close().await.ok();
    authors
        .into_iter()
        .map(|a| a.name)
        .chain(posts.into_iter().map(|p| p.title))
        .collect()
}

db_tests!(sigkill_during_writes_loses_no_acknowledged_write);

/// Eight clients write as fast as the server acknowledges; after 200
/// acknowledged writes the server is killed with SIGKILL, then restarted
/// on the same database. Asserted, with A the writes answered 2xx, R those
/// answered with another status, U those without an answer (in flight at
/// the kill, at most one per client, or refused connections after it) and
/// S the rows stored: A ⊆ S (nothing acknowledged is lost), S ⊆ A ∪ U
/// (nothing refused or never sent is stored, so S ∩ R = ∅), and
/// |S \ A| ≤ number of clients.
async fn sigkill_during_writes_loses_no_acknowledged_write(db: &TestDb) {
    let token = prepare(db).await;
    let mut server = Server::start(&db.url).await;
    let base = server.base();
    let seed = client()
        .post(format!("{base}/api/authors"))
        .bearer_auth(&token)
        .json(&json!({ "name": "seed" }))
        .send()
        .await
        .expect("create the seed author");
    assert_eq!(seed.status(), StatusCode::CREATED);
    let seed: Value = seed.json().await.expect("JSON");

    let tally = Arc::new(Mutex::new(Tally::default()));
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|worker| {
            tokio::spawn(writer(
                base.clone(),
                token.clone(),
                seed["id"].clone(),
                worker,
                tally.clone(),
                acknowledged.clone(),
                stop.clone(),
            ))
        })
        .collect();
    let deadline = Instant::now() + PATIENCE;
    while acknowledged.load(Ordering::SeqCst) < ACKNOWLEDGED_BEFORE_KILL {
        assert!(
            Instant::now() < deadline,
            "only {} writes acknowledged:\n{}",
            acknowledged.load(Ordering::SeqCst),
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.sigkill();
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.await.expect("writer");
    }

    let mut server = Server::start(&db.url).await;
    let after = client()
        .post(format!("{}/api/authors", server.base()))
        .bearer_auth(&token)
        .json(&json!({ "name": "after restart" }))
        .send()
        .await
        .expect("write after the restart");
    assert_eq!(after.status(), StatusCode::CREATED);
    server.sigkill();

    let mut stored = stored_keys(&db.url).await;
    assert!(stored.remove("seed") && stored.remove("after restart"));
    let tally = tally.lock().expect("tally");
    let lost: Vec<_> = tally.acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    let answered: BTreeSet<_> = tally.acknowledged.union(&tally.unanswered).collect();
    let unexpected: Vec<_> = stored.iter().filter(|k| !answered.contains(k)).collect();
    assert!(
        unexpected.is_empty(),
        "stored but refused or never sent: {unexpected:?}"
    );
    let in_flight = stored.difference(&tally.acknowledged).count();
    assert!(
        in_flight <= WRITERS,
        "{in_flight} unacknowledged writes stored, more than the {WRITERS} that can be in flight"
    );
    eprintln!(
        "{:?} SIGKILL: attempted {}, acknowledged {}, refused {}, unanswered {}, \
         stored {} (acknowledged {} + unacknowledged in flight {})",
        db.backend,
        tally.attempted.len(),
        tally.acknowledged.len(),
        tally.refused.len(),
        tally.unanswered.len(),
        stored.len(),
        tally.acknowledged.len(),
        in_flight
    );
}

/// Reads an HTTP response head (through the blank line).
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).await.expect("read");
        assert!(n == 1, "connection closed after {head:?}");
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A POST whose body is still arriving when SIGTERM comes: it is answered
/// 201 and stored, connections opened after the signal are refused, and
/// the process exits with status 0. `Expect: 100-continue` makes the
/// server say when the handler has started reading the body, so the
/// signal lands mid-request without guessing a delay. The behaviour is the
/// HTTP server's, so SQLite suffices.
#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_and_exits_0() {
    let Some(db) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    let token = prepare(&db).await;
    let mut server = Server::start(&db.url).await;
    let addr = server.addr;
    let body = json!({ "name": "In flight" }).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/authors HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("send head");
    let interim = tokio::time::timeout(PATIENCE, read_head(&mut stream))
        .await
        .expect("100 Continue in time");
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");
    stream.write_all(first.as_bytes()).await.expect("send");

    server.sigterm();
    let deadline = Instant::now() + PATIENCE;
    loop {
        match TcpStream::connect(addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            // A connect that races the listener's close is reset rather
            // than refused; the next one tells.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                assert!(Instant::now() < deadline, "connect after SIGTERM: {e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("connect after SIGTERM: {e}"),
            Ok(_) => {
                assert!(
                    Instant::now() < deadline,
                    "still accepting connections after SIGTERM"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    assert!(
        server.child.try_wait().expect("try_wait").is_none(),
        "the server exited with a request in flight"
    );

    stream.write_all(rest.as_bytes()).await.expect("send rest");
    let mut response = String::new();
    tokio::time::timeout(PATIENCE, stream.read_to_string(&mut response))
        .await
        .expect("response in time")
        .expect("read response");
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    let status = server.wait_exit().await;
    assert_eq!(status.code(), Some(0), "{status}:\n{}", server.log());
    assert!(stored_keys(&db.url).await.contains("In flight"));
    db.finish().await;
}

/// A TCP proxy in front of PostgreSQL that can play a restart: [`Proxy::cut`]
/// closes every open connection and closes new ones at once, until
/// [`Proxy::restore`]. The machine's PostgreSQL, shared by the other tests,
/// is never touched.
struct Proxy {
    addr: SocketAddr,
    state: Arc<Mutex<ProxyState>>,
    accept: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct ProxyState {
    down: bool,
    links: Vec<tokio::task::AbortHandle>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let state = Arc::new(Mutex::new(ProxyState::default()));
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                // Checked and recorded under one lock, so `cut` misses no link.
                let mut state = shared.lock().expect("proxy state");
                if state.down {
                    drop(client);
                    continue;
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                state.links.push(link.abort_handle());
            }
        });
        Proxy {
            addr,
            state,
            accept,
        }
    }

    fn cut(&self) {
        let mut state = self.state.lock().expect("proxy state");
        state.down = true;
        for link in state.links.drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.state.lock().expect("proxy state").down = false;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// What a load request got, or `None` when it was not answered within [`PATIENCE`].
/// The time is how long it took to answer.
type Sample = Option<(StatusCode, Option<String>, Value, Duration)>;

/// Asserts `reply` is the outage's answer: 503, `Retry-After`, a JSON
/// `detail` string with no SQL in it.
fn assert_unavailable(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {reply:?}"
    );
    assert_eq!(
        reply
            .headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
        Some("2"),
        "{what}: {reply:?}"
    );
    let detail = reply.json["detail"].as_str().unwrap_or_else(|| {
        panic!("{what}: no detail string: {reply:?}");
    });
    assert_no_sql(detail, what);
}

fn assert_no_sql(text: &str, what: &str) {
    let lower = text.to_lowercase();
    for word in [
        "select",
        "insert",
        "sqlx",
        "query error",
        "connection error",
    ] {
        assert!(!lower.contains(word), "{what} shows `{word}`: {text}");
    }
}

/// An admin page for a request carrying a session cookie (so the admin
/// looks the session up): its status, `Retry-After` and body.
async fn admin_page(router: &axum::Router) -> (StatusCode, Option<String>, String) {
    let request = Request::get("/admin/")
        .header(header::COOKIE, "sessionid=0123456789abcdef0123456789abcdef")
        .header(header::AUTHORIZATION, "")
        .body(Body::empty())
        .expect("request");
    let response = tokio::time::timeout(PATIENCE, router.clone().oneshot(request))
        .await
        .expect("the admin answers in time")
        .expect("infallible");
    let status = response.status();
    let retry = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, retry, String::from_utf8_lossy(&bytes).into_owned())
}

/// One request of the outage test's load, bounded by [`PATIENCE`].
async fn load_request(router: &axum::Router, worker: usize, i: usize) -> Sample {
    let call = if i.is_multiple_of(2) {
        ferrobridge_tests::call(router, Method::GET, "/api/authors?page_size=5", None)
    } else {
        let name = format!("o{worker}-{i}");
        ferrobridge_tests::call(
            router,
            Method::POST,
            "/api/authors",
            Some(json!({ "name": name })),
        )
    };
    let started = Instant::now();
    let reply = tokio::time::timeout(PATIENCE, call).await.ok()?;
    let retry = reply
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Some((reply.status, retry, reply.json, started.elapsed()))
}

/// Waits until `counter` reaches `target`.
async fn wait_for(counter: &AtomicUsize, target: usize, what: &str) {
    let deadline = Instant::now() + PATIENCE;
    while counter.load(Ordering::SeqCst) < target {
        assert!(Instant::now() < deadline, "{what}: only {counter:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// PostgreSQL (and MySQL, below) restarting under load: four clients read and write through
/// the app while a proxy between it and PostgreSQL drops every connection
/// and turns new ones away. Every request is answered within the bound
/// (none hangs), each with a 2xx or a 503 carrying `Retry-After` and a JSON
/// `detail` (never a 500); during the outage the API, the token check,
/// `/healthz` and the admin answer 503; once PostgreSQL is back the same
/// app serves again without a restart.
#[tokio::test]
async fn postgres_outage_answers_503_with_retry_after_then_recovers() {
    server_outage_answers_503_with_retry_after_then_recovers(Backend::Postgres).await;
}

/// The same restart of MySQL / MariaDB under load.
#[tokio::test]
async fn mysql_outage_answers_503_with_retry_after_then_recovers() {
    server_outage_answers_503_with_retry_after_then_recovers(Backend::Mysql).await;
}

async fn server_outage_answers_503_with_retry_after_then_recovers(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let default_port = if backend == Backend::Mysql {
        3306
    } else {
        5432
    };
    let app = blog::app();
    app.create_tables(&db.db).await.expect("tables");
    let (_, token) = create_user(&db.db, "root", UserKind::Superuser).await;
    let mut url = reqwest::Url::parse(&db.url).expect("database URL");
    let upstream = tokio::net::lookup_host((
        url.host_str().expect("host").to_string(),
        url.port().unwrap_or(default_port),
    ))
    .await
    .expect("resolve the database server")
    .next()
    .expect("an address");
    let proxy = Proxy::start(upstream).await;
    url.set_host(Some("127.0.0.1")).expect("host");
    url.set_port(Some(proxy.addr.port())).expect("port");
    let settings = PoolSettings {
        max_connections: Some(4),
        acquire_timeout: Duration::from_secs(1),
    };
    let pool = ferrobridge::db::connect_with(url.as_str(), settings)
        .await
        .expect("connect through the proxy");
    let router = ferrobridge_tests::with_token(app.router(pool.clone()), token);

    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let ok = Arc::new(AtomicUsize::new(0));
    let unavailable = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let (router, samples, ok, unavailable, stop) = (
                router.clone(),
                samples.clone(),
                ok.clone(),
                unavailable.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let sample = load_request(&router, worker, i).await;
                    match &sample {
                        Some((status, ..)) if status.is_success() => {
                            ok.fetch_add(1, Ordering::SeqCst);
                        }
                        Some((StatusCode::SERVICE_UNAVAILABLE, ..)) => {
                            unavailable.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => {}
                    }
                    samples.lock().expect("samples").push(sample);
                    i += 1;
                    // Paces the load; 503s come back at once.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();
    wait_for(&ok, 20, "successes before the outage").await;

    proxy.cut();
    let outage_started = Instant::now();
    let anonymous = call_as(&router, None, Method::GET, "/api/authors", None).await;
    assert_unavailable(&anonymous, "anonymous list");
    let listed = ferrobridge_tests::call(&router, Method::GET, "/api/authors", None).await;
    assert_unavailable(&listed, "list with a token");
    let created = ferrobridge_tests::call(
        &router,
        Method::POST,
        "/api/authors",
        Some(json!({ "name": "during the outage" })),
    )
    .await;
    assert_unavailable(&created, "create");
    let health = ferrobridge_tests::call(&router, Method::GET, "/healthz", None).await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(health.headers.contains_key(header::RETRY_AFTER));
    let (status, retry, page) = admin_page(&router).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
    assert_eq!(retry.as_deref(), Some("2"));
    assert_no_sql(&page, "the admin page");
    let seen = unavailable.load(Ordering::SeqCst);
    wait_for(&unavailable, seen + 20, "503s during the outage").await;
    // A restart takes seconds; the pool's connections all die meanwhile.
    tokio::time::sleep(OUTAGE.saturating_sub(outage_started.elapsed())).await;
    let outage = outage_started.elapsed();

    proxy.restore();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let reply = ferrobridge_tests::call(&router, Method::GET, "/api/authors", None).await;
        if reply.status == StatusCode::OK {
            break;
        }
        assert_unavailable(&reply, "while recovering");
        assert!(Instant::now() < deadline, "no recovery: {reply:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered = ok.load(Ordering::SeqCst);
    wait_for(&ok, recovered + 20, "successes after the outage").await;
    stop.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.expect("worker");
    }
    for i in 0..10 {
        let reply = load_request(&router, 99, i).await;
        let (status, ..) = reply.expect("answered");
        assert!(status.is_success(), "after recovery: {status}");
    }

    let samples = std::mem::take(&mut *samples.lock().expect("samples"));
    let mut answered_503 = 0;
    let mut slowest_503 = Duration::ZERO;
    for sample in samples.iter() {
        let Some((status, retry, body, took)) = sample else {
            panic!("a request was not answered within {PATIENCE:?}");
        };
        if status.is_success() {
            continue;
        }
        assert_eq!(*status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(retry.as_deref(), Some("2"), "{body}");
        assert_no_sql(body["detail"].as_str().expect("detail"), "a 503");
        answered_503 += 1;
        slowest_503 = slowest_503.max(*took);
    }
    eprintln!(
        "{backend:?} outage of {outage:?}: {} requests, {} answered 2xx, {answered_503} answered 503, none 500 or unanswered; slowest 503 {slowest_503:?}",
        samples.len(),
        samples.len() - answered_503
    );
    drop(router);
    pool.close().await.ok();
    drop(proxy);
    db.finish().await;
}

db_tests!(pool_exhaustion_answers_503_after_the_acquire_timeout);

/// A pool of one connection, held by an open transaction: requests wait
/// the acquire timeout, then answer 503 with `Retry-After` (the API with
/// and without a token, `/healthz`, the admin); once the connection is
/// free they succeed again. On SQLite the held transaction holds the one
/// writer: reads are still answered at once (WAL readers never wait),
/// writes wait the acquire timeout, then answer 503.
async fn pool_exhaustion_answers_503_after_the_acquire_timeout(db: &TestDb) {
    let app = blog::app();
    app.create_tables(&db.db).await.expect("tables");
    let (_, token) = create_user(&db.db, "root", UserKind::Superuser).await;
    let wait = Duration::from_millis(500);
    let settings = PoolSettings {
        max_connections: Some(1),
        acquire_timeout: wait,
    };
    let pool: Connection = ferrobridge::db::connect_with(&db.url, settings)
        .await
        .expect("a pool of one");
    let router = app.router(pool.clone());
    let list = call_as(&router, Some(&token), Method::GET, "/api/authors", None).await;
    assert_eq!(list.status, StatusCode::OK, "{list:?}");

    let held = pool.begin().await.expect("hold the only connection");
    if db.backend == Backend::Sqlite {
        for uri in ["/api/authors", "/healthz"] {
            let started = Instant::now();
            let read = call_as(&router, Some(&token), Method::GET, uri, None).await;
            assert_eq!(read.status, StatusCode::OK, "{uri}: {read:?}");
            assert!(started.elapsed() < wait, "{uri} waited for the writer");
        }
        let started = Instant::now();
        let write = tokio::time::timeout(
            PATIENCE,
            call_as(
                &router,
                Some(&token),
                Method::POST,
                "/api/authors",
                Some(json!({ "name": "Ann" })),
            ),
        )
        .await
        .expect("answered, not hung");
        assert!(
            started.elapsed() >= wait,
            "the write did not wait for the writer"
        );
        assert_unavailable(&write, "a write while the writer is held");
        held.rollback().await.expect("release");
        let write = call_as(
            &router,
            Some(&token),
            Method::POST,
            "/api/authors",
            Some(json!({ "name": "Ann" })),
        )
        .await;
        assert_eq!(write.status, StatusCode::CREATED, "{write:?}");
        pool.close().await.ok();
        return;
    }
    for (who, uri) in [
        (None, "/api/authors"),
        (Some(token.as_str()), "/api/authors"),
        (None, "/healthz"),
    ] {
        let started = Instant::now();
        let reply = tokio::time::timeout(PATIENCE, call_as(&router, who, Method::GET, uri, None))
            .await
            .expect("answered, not hung");
        assert!(
            started.elapsed() >= wait,
            "{uri} did not wait for a connection"
        );
        if uri == "/healthz" {
            assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
            assert!(reply.headers.contains_key(header::RETRY_AFTER));
        } else {
            assert_unavailable(&reply, uri);
        }
    }
    let (status, retry, page) = admin_page(&router).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
    assert_eq!(retry.as_deref(), Some("2"));
    assert_no_sql(&page, "the admin page");
    held.rollback().await.expect("release");

    let list = call_as(&router, Some(&token), Method::GET, "/api/authors", None).await;
    assert_eq!(list.status, StatusCode::OK, "{list:?}");
    pool.close().await.ok();
}
