//! `cargo xtask bench --soak`: the change feed (issue #16) under many idle
//! SSE clients and a steady write load.
//!
//! The blog example (release build) serves a fresh SQLite database (and,
//! with `--soak-postgres URL`, PostgreSQL). N clients of this process open
//! `GET /api/posts/events` as a superuser; once all are connected the
//! server's RSS growth gives the memory per idle stream. Then posts are
//! created at a fixed rate, each titled `soak <seq> <send time in µs>`, and
//! every client records, for every event it receives, the delivery latency
//! (receive time minus send time, and minus the event's `at`). At the end
//! every acknowledged write must have reached every client exactly once.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};

use super::{build_release, free_port, machine, target_dir};

/// What the soak runs; set from the command line.
#[derive(Clone, Debug)]
pub struct SoakSettings {
    /// Idle SSE clients held open during the run.
    pub clients: usize,
    /// Seconds of write load.
    pub duration: u32,
    /// Posts created per second.
    pub writes_per_second: f64,
    /// Seconds to wait after the last write for the events still on their way.
    pub drain: u32,
    /// A PostgreSQL database to run on as well as SQLite.
    pub postgres: Option<String>,
}

/// Streams opened at once while connecting: more would overflow the
/// listener's backlog and turn into SYN retries (seconds each).
const CONNECT_CONCURRENCY: usize = 128;
/// Writes in flight at once; past it the writer waits, and the report shows
/// the rate reached.
const WRITES_IN_FLIGHT: usize = 64;
/// File descriptors besides the streams: the database, the writes' own
/// connections, logs.
const SPARE_FILES: u64 = 256;
/// Tries of a stream's first connection before the soak gives up on it.
const CONNECT_TRIES: u32 = 20;
/// The password of the soak's superuser (a throwaway database's only account).
const PASSWORD: &str = "soak-Superuser-2026!";

/// Runs the soak on SQLite (and PostgreSQL when asked), writes
/// `target/bench/soak.{json,md}` and prints the table. Fails when a
/// client did not connect, a write failed or an event was lost.
pub fn run(settings: SoakSettings) -> anyhow::Result<()> {
    let started = Instant::now();
    let (soft, hard) = raise_open_files(settings.clients as u64 + SPARE_FILES)?;
    eprintln!(
        "==> open files: soft limit {soft} (hard {hard}); the server inherits it, each side needs about {}",
        settings.clients as u64 + SPARE_FILES
    );
    let binary = build_release("blog")?;
    let out_dir = target_dir().join("bench");
    let work = out_dir.join("soak");
    std::fs::create_dir_all(&work)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut backends = vec![("sqlite", None)];
    if let Some(url) = &settings.postgres {
        backends.push(("postgresql", Some(url.clone())));
    }
    let mut runs = Vec::new();
    for (backend, url) in backends {
        eprintln!(
            "==> soak on {backend}: {} clients, {} s of {} writes/s",
            settings.clients, settings.duration, settings.writes_per_second
        );
        let url = match url {
            Some(url) => url,
            None => {
                let file = work.join("blog.sqlite3");
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                }
                format!("sqlite://{}?mode=rwc", file.display())
            }
        };
        let log = work.join(format!("server-{backend}.log"));
        let run = runtime.block_on(soak_backend(&settings, &binary, &url, &log))?;
        let summary = &run;
        eprintln!(
            "    {backend}: {}/{} connected, {:.1} KiB per idle client, {} of {} events delivered, {} lost, {} duplicates, p50 {:.1} ms, p99 {:.1} ms",
            summary.connected,
            settings.clients,
            summary.rss_per_client_kib(),
            summary.delivery.delivered,
            summary.delivery.expected,
            summary.delivery.lost,
            summary.delivery.duplicates,
            summary.send_latency.p50_ms,
            summary.send_latency.p99_ms,
        );
        runs.push((backend, run));
    }
    drop(runtime);

    let report = json!({
        "machine": machine(),
        "settings": {
            "clients": settings.clients,
            "duration_s": settings.duration,
            "writes_per_second": settings.writes_per_second,
            "drain_s": settings.drain,
            "open_files_soft_limit": soft,
            "endpoint": "GET /api/posts/events (SSE), POST /api/posts",
        },
        "runs": runs.iter().map(|(backend, run)| run.to_json(backend)).collect::<Vec<_>>(),
    });
    let markdown = markdown(&report);
    std::fs::write(
        out_dir.join("soak.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(out_dir.join("soak.md"), &markdown)?;
    println!("{markdown}");
    eprintln!(
        "==> wrote {} and soak.json in {:.0} s",
        out_dir.join("soak.md").display(),
        started.elapsed().as_secs_f64()
    );
    let failures: Vec<String> = runs
        .iter()
        .flat_map(|(backend, run)| {
            run.failures(settings.clients)
                .into_iter()
                .map(move |f| format!("{backend}: {f}"))
        })
        .collect();
    if !failures.is_empty() {
        bail!("the soak failed:\n  {}", failures.join("\n  "));
    }
    Ok(())
}

/// Raises the soft limit of open files to the hard limit (this process and
/// the server it starts, which inherits it) and checks it is at least `needed`.
#[cfg(unix)]
fn raise_open_files(needed: u64) -> anyhow::Result<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given, which lives
    // for the whole call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error()).context("getrlimit(RLIMIT_NOFILE)");
    }
    // An unlimited hard limit still stops at the kernel's `nr_open`.
    let ceiling = if limit.rlim_max == libc::RLIM_INFINITY {
        std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(1 << 20)
    } else {
        limit.rlim_max
    };
    if limit.rlim_cur < ceiling {
        let raised = libc::rlimit {
            rlim_cur: ceiling,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct it is given.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(std::io::Error::last_os_error())
                .context("setrlimit(RLIMIT_NOFILE) to the hard limit");
        }
        limit.rlim_cur = ceiling;
    }
    if limit.rlim_cur < needed {
        bail!(
            "the hard limit of open files is {}, but the soak needs about {needed} in this process and as many in the server: raise it (`ulimit -Hn`, /etc/security/limits.conf) or pass a smaller --clients",
            limit.rlim_max
        );
    }
    Ok((limit.rlim_cur, limit.rlim_max))
}

#[cfg(not(unix))]
fn raise_open_files(_needed: u64) -> anyhow::Result<(u64, u64)> {
    bail!("the soak reads /proc and sets RLIMIT_NOFILE: it runs on Linux")
}

/// A resident-memory figure of `pid` from `/proc/<pid>/status`, in KiB
/// (`VmRSS` now, `VmHWM` the peak).
fn memory_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Microseconds since the Unix epoch, the clock the titles carry.
fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// The blog server process, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs one management command of the blog (`migrate`, `createsuperuser`).
fn manage(binary: &Path, url: &str, args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new(binary)
        .args(args)
        .env("DATABASE_URL", url)
        .env("FERROBRIDGE_SUPERUSER_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .output()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    if !output.status.success() {
        bail!(
            "`blog {}` failed ({}): {}{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Migrates the database, creates the soak's superuser and starts serving.
async fn start_server(
    binary: &Path,
    url: &str,
    clients: usize,
    log: &Path,
) -> anyhow::Result<(Server, String)> {
    manage(binary, url, &["migrate"])?;
    // A new name each run: a reused PostgreSQL database keeps earlier ones.
    let username = format!("soak{}", now_us());
    manage(
        binary,
        url,
        &[
            "createsuperuser",
            "--noinput",
            "--username",
            &username,
            "--email",
            "soak@example.com",
        ],
    )?;
    let port = free_port()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let child = Command::new(binary)
        .args(["serve", "--bind", &addr.to_string()])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        // Every stream holds a connection; the writes need a few more.
        .env("BLOG_MAX_CONNECTIONS", (clients + 256).to_string())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log)?)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let mut server = Server {
        child,
        addr,
        log: log.to_path_buf(),
    };
    let started = Instant::now();
    loop {
        if let Ok((StatusCode::OK, _)) = request(addr, Method::GET, "/healthz", None, None).await {
            break;
        }
        if let Some(status) = server.child.try_wait()? {
            bail!(
                "the blog server exited during startup ({status}); see {}",
                server.log.display()
            );
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("the blog server did not answer /healthz within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let form = format!(
        "username={username}&password={}",
        PASSWORD.replace('!', "%21")
    );
    let (status, body) = request(
        addr,
        Method::POST,
        "/api/auth/token",
        None,
        Some(("application/x-www-form-urlencoded", form)),
    )
    .await?;
    if status != StatusCode::OK {
        bail!("POST /api/auth/token answered {status}: {body}");
    }
    let token: Value = serde_json::from_str(&body).context("the token answer is not JSON")?;
    let token = token["access_token"]
        .as_str()
        .context("no access_token in the token answer")?
        .to_string();
    Ok((server, token))
}

/// One request over a fresh connection: `(status, body)`.
async fn request(
    addr: SocketAddr,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, String)>,
) -> anyhow::Result<(StatusCode, String)> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let connection = tokio::spawn(connection);
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let request = match body {
        Some((content_type, body)) => builder
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))?,
        None => builder.body(Full::new(Bytes::new()))?,
    };
    let response = sender.send_request(request).await;
    let result = match response {
        Ok(response) => {
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            Ok((status, String::from_utf8_lossy(&body).into_owned()))
        }
        Err(error) => Err(error.into()),
    };
    connection.abort();
    result
}

/// What the clients share.
struct Shared {
    addr: SocketAddr,
    token: String,
    /// Writes planned: the sequence numbers are `0..planned`.
    planned: usize,
    /// Clients whose stream answered 200 once.
    connected: AtomicUsize,
    /// Distinct soak events received, over all clients.
    delivered: AtomicU64,
    /// The first reason a client gave up, which stops the soak.
    fatal: Mutex<Option<String>>,
    connect_gate: Semaphore,
}

/// What one client saw.
#[derive(Debug, Default)]
struct ClientLog {
    /// Per write sequence number, how often the event arrived.
    counts: Vec<u16>,
    /// Receive time minus send time (the title's), µs, first deliveries only.
    send_latency_us: Vec<u64>,
    /// Receive time minus the event's `at`, µs, first deliveries only.
    commit_latency_us: Vec<u64>,
    /// Events that are not soak posts' creations.
    foreign: u64,
    /// Streams reopened (with `Last-Event-ID`) after the server ended one.
    reconnects: u64,
    /// `event: reset` received (the cursor had expired).
    resets: u64,
    /// `event: error` received (access ended).
    stream_errors: u64,
    /// The last reason a stream ended, when one did.
    last_error: Option<String>,
}

/// The part of a `ChangeEvent` the soak checks.
#[derive(Deserialize)]
struct Wire {
    model: String,
    action: String,
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    data: WireData,
}

#[derive(Default, Deserialize)]
struct WireData {
    #[serde(default)]
    title: Option<String>,
}

/// The title of write `seq` sent at `sent_us`.
fn title(seq: usize, sent_us: i64) -> String {
    format!("soak {seq} {sent_us}")
}

/// `(seq, sent_us)` back from a soak title.
fn parse_title(title: &str) -> Option<(usize, i64)> {
    let mut words = title.strip_prefix("soak ")?.split(' ');
    let seq = words.next()?.parse().ok()?;
    let sent = words.next()?.parse().ok()?;
    words.next().is_none().then_some((seq, sent))
}

impl ClientLog {
    fn new(planned: usize) -> Self {
        ClientLog {
            counts: vec![0; planned],
            ..ClientLog::default()
        }
    }

    /// Records one SSE event; true when it was a first delivery.
    fn record(&mut self, event: &SseEvent, received_us: i64) -> bool {
        match event.event.as_deref() {
            None | Some("message") => {}
            Some("reset") => {
                self.resets += 1;
                return false;
            }
            Some("error") => {
                self.stream_errors += 1;
                self.last_error = Some(format!("event: error {}", event.data));
                return false;
            }
            Some(_) => {
                self.foreign += 1;
                return false;
            }
        }
        let Ok(wire) = serde_json::from_str::<Wire>(&event.data) else {
            self.foreign += 1;
            return false;
        };
        let parsed = wire.data.title.as_deref().and_then(parse_title);
        let (seq, sent_us) = match parsed {
            Some((seq, sent))
                if wire.model == "blog.post"
                    && wire.action == "create"
                    && seq < self.counts.len() =>
            {
                (seq, sent)
            }
            _ => {
                self.foreign += 1;
                return false;
            }
        };
        let count = &mut self.counts[seq];
        *count = count.saturating_add(1);
        if *count > 1 {
            return false;
        }
        self.send_latency_us
            .push(received_us.saturating_sub(sent_us).max(0) as u64);
        if let Some(at) = wire
            .at
            .as_deref()
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        {
            self.commit_latency_us
                .push(received_us.saturating_sub(at.timestamp_micros()).max(0) as u64);
        }
        true
    }
}

/// Opens the stream: `(connection task, body)` once the server answered 200
/// with `text/event-stream`.
async fn open_stream(
    shared: &Shared,
    last_event_id: Option<&str>,
) -> Result<(tokio::task::JoinHandle<()>, Incoming), StreamError> {
    let stream = tokio::net::TcpStream::connect(shared.addr)
        .await
        .map_err(|e| StreamError::Retry(format!("connect: {e}")))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| StreamError::Retry(format!("handshake: {e}")))?;
    let connection = tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut builder = Request::builder()
        .method(Method::GET)
        .uri("/api/posts/events")
        .header("host", shared.addr.to_string())
        .header("accept", "text/event-stream")
        .header("authorization", format!("Bearer {}", shared.token));
    if let Some(id) = last_event_id {
        builder = builder.header("last-event-id", id);
    }
    let request = builder
        .body(Full::new(Bytes::new()))
        .map_err(|e| StreamError::Fatal(e.to_string()))?;
    let response = match sender.send_request(request).await {
        Ok(response) => response,
        Err(e) => {
            connection.abort();
            return Err(StreamError::Retry(format!("request: {e}")));
        }
    };
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if status != StatusCode::OK || !content_type.starts_with("text/event-stream") {
        let body = response
            .into_body()
            .collect()
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
            .unwrap_or_default();
        connection.abort();
        let error = format!(
            "GET /api/posts/events answered {status} ({content_type}): {}",
            body.chars().take(300).collect::<String>()
        );
        // Overload answers are worth another try; anything else is a bug or
        // a build without the change feed.
        return Err(if status == StatusCode::SERVICE_UNAVAILABLE {
            StreamError::Retry(error)
        } else {
            StreamError::Fatal(error)
        });
    }
    Ok((connection, response.into_body()))
}

enum StreamError {
    Retry(String),
    Fatal(String),
}

/// One client: holds its stream open until `stop`, reopening it with
/// `Last-Event-ID` if the server ends it.
async fn client(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) -> ClientLog {
    let mut log = ClientLog::new(shared.planned);
    let mut parser = SseParser::default();
    let mut ever_connected = false;
    let mut tries = 0;
    loop {
        if *stop.borrow() {
            return log;
        }
        let opened = {
            let _permit = if ever_connected {
                None
            } else {
                shared.connect_gate.acquire().await.ok()
            };
            open_stream(&shared, parser.last_event_id.as_deref()).await
        };
        let (connection, mut body) = match opened {
            Ok(opened) => opened,
            Err(StreamError::Fatal(error)) => {
                shared.fatal.lock().unwrap().get_or_insert(error.clone());
                log.last_error = Some(error);
                return log;
            }
            Err(StreamError::Retry(error)) => {
                tries += 1;
                if !ever_connected && tries >= CONNECT_TRIES {
                    let error = format!("no stream after {tries} tries: {error}");
                    shared.fatal.lock().unwrap().get_or_insert(error.clone());
                    log.last_error = Some(error);
                    return log;
                }
                log.last_error = Some(error);
                tokio::time::sleep(Duration::from_millis(100 * u64::from(tries.min(10)))).await;
                continue;
            }
        };
        if ever_connected {
            log.reconnects += 1;
        } else {
            ever_connected = true;
            shared.connected.fetch_add(1, Ordering::Relaxed);
        }
        tries = 0;
        loop {
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => {
                    connection.abort();
                    return log;
                }
                frame = body.frame() => match frame {
                    Some(Ok(frame)) => {
                        if let Some(data) = frame.data_ref() {
                            let received = now_us();
                            for event in parser.push(data) {
                                if log.record(&event, received) {
                                    shared.delivered.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    }
                    Some(Err(error)) => {
                        log.last_error = Some(format!("stream: {error}"));
                        break;
                    }
                    None => {
                        log.last_error = Some("the server ended the stream".into());
                        break;
                    }
                }
            }
        }
        connection.abort();
    }
}

/// One write's outcome.
struct Write {
    seq: usize,
    acknowledged: bool,
    round_trip_us: u64,
    error: Option<String>,
}

/// Creates posts at `rate` per second for `planned` writes.
async fn write_load(shared: Arc<Shared>, author: i64, rate: f64) -> (Vec<Write>, f64) {
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let in_flight = Arc::new(Semaphore::new(WRITES_IN_FLIGHT));
    let started = Instant::now();
    let mut handles = Vec::with_capacity(shared.planned);
    for seq in 0..shared.planned {
        ticker.tick().await;
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            break;
        };
        let shared = shared.clone();
        handles.push(tokio::spawn(async move {
            let sent_us = now_us();
            let body = json!({ "title": title(seq, sent_us), "body": "soak", "author_id": author });
            let began = Instant::now();
            let answer = request(
                shared.addr,
                Method::POST,
                "/api/posts",
                Some(&shared.token),
                Some(("application/json", body.to_string())),
            )
            .await;
            drop(permit);
            let round_trip_us = began.elapsed().as_micros() as u64;
            match answer {
                Ok((StatusCode::CREATED, _)) => Write {
                    seq,
                    acknowledged: true,
                    round_trip_us,
                    error: None,
                },
                Ok((status, body)) => Write {
                    seq,
                    acknowledged: false,
                    round_trip_us,
                    error: Some(format!(
                        "{status}: {}",
                        body.chars().take(200).collect::<String>()
                    )),
                },
                Err(error) => Write {
                    seq,
                    acknowledged: false,
                    round_trip_us,
                    error: Some(error.to_string()),
                },
            }
        }));
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut writes = Vec::with_capacity(handles.len());
    for handle in handles {
        if let Ok(write) = handle.await {
            writes.push(write);
        }
    }
    let achieved = if seconds > 0.0 {
        writes.len() as f64 / seconds
    } else {
        f64::NAN
    };
    (writes, achieved)
}

/// One backend's results.
struct SoakRun {
    connected: usize,
    connect_seconds: f64,
    rss_before_kib: Option<u64>,
    rss_connected_kib: Option<u64>,
    peak_rss_kib: Option<u64>,
    writes_planned: usize,
    writes_acknowledged: usize,
    write_errors: Vec<String>,
    writes_per_second: f64,
    post_latency: Percentiles,
    delivery: Delivery,
    send_latency: Percentiles,
    commit_latency: Percentiles,
    foreign: u64,
    reconnects: u64,
    resets: u64,
    stream_errors: u64,
    stream_end_reasons: Vec<String>,
    fatal: Option<String>,
}

impl SoakRun {
    fn rss_per_client_kib(&self) -> f64 {
        match (self.rss_before_kib, self.rss_connected_kib) {
            (Some(before), Some(after)) if self.connected > 0 => {
                (after as f64 - before as f64) / self.connected as f64
            }
            _ => f64::NAN,
        }
    }

    /// Why this run fails the soak, if it does.
    fn failures(&self, clients: usize) -> Vec<String> {
        let mut failures = Vec::new();
        if let Some(fatal) = &self.fatal {
            failures.push(fatal.clone());
        }
        if self.connected < clients {
            failures.push(format!(
                "only {} of {clients} clients connected",
                self.connected
            ));
        }
        if !self.write_errors.is_empty() {
            failures.push(format!(
                "{} writes failed, e.g. {}",
                self.write_errors.len(),
                self.write_errors[0]
            ));
        }
        if self.delivery.lost > 0 {
            failures.push(format!(
                "{} of {} events lost (not delivered by the end of the drain)",
                self.delivery.lost, self.delivery.expected
            ));
        }
        failures
    }

    fn to_json(&self, backend: &str) -> Value {
        json!({
            "backend": backend,
            "clients_connected": self.connected,
            "connect_s": self.connect_seconds,
            "rss_before_kib": self.rss_before_kib,
            "rss_connected_kib": self.rss_connected_kib,
            "rss_per_idle_client_kib": finite(self.rss_per_client_kib()),
            "peak_rss_kib": self.peak_rss_kib,
            "writes": {
                "planned": self.writes_planned,
                "acknowledged": self.writes_acknowledged,
                "failed": self.write_errors.len(),
                "errors": distinct(&self.write_errors, 5),
                "per_second": finite(self.writes_per_second),
                "post_latency_ms": self.post_latency.to_json(),
            },
            "events": {
                "expected": self.delivery.expected,
                "delivered": self.delivery.delivered,
                "lost": self.delivery.lost,
                "duplicates": self.delivery.duplicates,
                "of_unacknowledged_writes": self.delivery.unacknowledged,
                "foreign": self.foreign,
                "clients_missing_events": self.delivery.clients_missing,
            },
            "latency_from_send_ms": self.send_latency.to_json(),
            "latency_from_commit_ms": self.commit_latency.to_json(),
            "reconnects": self.reconnects,
            "resets": self.resets,
            "stream_errors": self.stream_errors,
            "stream_end_reasons": self.stream_end_reasons,
            "fatal": self.fatal,
        })
    }
}

/// The first `n` distinct messages of `messages`.
fn distinct(messages: &[String], n: usize) -> Vec<&str> {
    let mut seen: Vec<&str> = Vec::new();
    for message in messages {
        if seen.len() == n {
            break;
        }
        if !seen.contains(&message.as_str()) {
            seen.push(message);
        }
    }
    seen
}

/// `value`, or JSON null for NaN (JSON has no NaN).
fn finite(value: f64) -> Value {
    if value.is_finite() {
        json!(value)
    } else {
        Value::Null
    }
}

/// Runs the soak against one database.
async fn soak_backend(
    settings: &SoakSettings,
    binary: &Path,
    url: &str,
    log: &Path,
) -> anyhow::Result<SoakRun> {
    let (mut server, token) = start_server(binary, url, settings.clients, log).await?;
    let pid = server.child.id();
    let (status, body) = request(
        server.addr,
        Method::POST,
        "/api/authors",
        Some(&token),
        Some(("application/json", json!({ "name": "Soak" }).to_string())),
    )
    .await?;
    if status != StatusCode::CREATED {
        bail!("POST /api/authors answered {status}: {body}");
    }
    let author: Value = serde_json::from_str(&body)?;
    let author = author["id"]
        .as_i64()
        .or_else(|| author["pk"].as_i64())
        .context("the new author has no id")?;

    let planned =
        ((f64::from(settings.duration) * settings.writes_per_second).round() as usize).max(1);
    let shared = Arc::new(Shared {
        addr: server.addr,
        token,
        planned,
        connected: AtomicUsize::new(0),
        delivered: AtomicU64::new(0),
        fatal: Mutex::new(None),
        connect_gate: Semaphore::new(CONNECT_CONCURRENCY),
    });
    let rss_before_kib = memory_kib(pid, "VmRSS");
    let (stop_tx, stop_rx) = watch::channel(false);
    let clients: Vec<_> = (0..settings.clients)
        .map(|_| tokio::spawn(client(shared.clone(), stop_rx.clone())))
        .collect();

    // Connect everyone before the first write.
    let began = Instant::now();
    let limit = Duration::from_secs(30) + Duration::from_millis(10 * settings.clients as u64);
    let mut last_report = Instant::now();
    while shared.connected.load(Ordering::Relaxed) < settings.clients
        && shared.fatal.lock().unwrap().is_none()
        && began.elapsed() < limit
    {
        if let Some(status) = server.child.try_wait()? {
            bail!("the server exited ({status}); see {}", server.log.display());
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "    {} of {} connected",
                shared.connected.load(Ordering::Relaxed),
                settings.clients
            );
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connect_seconds = began.elapsed().as_secs_f64();
    let connected = shared.connected.load(Ordering::Relaxed);
    // Let the server finish setting up the last streams (their first
    // read, their subscriptions) before the memory is read.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_connected_kib = memory_kib(pid, "VmRSS");
    eprintln!(
        "    {connected} of {} connected in {connect_seconds:.1} s; server RSS {} -> {} KiB",
        settings.clients,
        rss_before_kib.map_or("?".into(), |k| k.to_string()),
        rss_connected_kib.map_or("?".into(), |k| k.to_string()),
    );

    let ready = connected == settings.clients && shared.fatal.lock().unwrap().is_none();
    let (writes, writes_per_second) = if ready {
        write_load(shared.clone(), author, settings.writes_per_second).await
    } else {
        (Vec::new(), f64::NAN)
    };
    let acknowledged = acknowledged(planned, &writes);
    let acked_count = acknowledged.iter().filter(|a| **a).count();
    let expected = (acked_count * connected) as u64;
    eprintln!(
        "    {acked_count} of {planned} writes acknowledged at {writes_per_second:.1}/s; draining"
    );
    let drain_began = Instant::now();
    while ready
        && shared.delivered.load(Ordering::Relaxed) < expected
        && drain_began.elapsed() < Duration::from_secs(settings.drain.into())
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A moment more, so duplicates arriving after the last expected event show.
    if ready {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let peak_rss_kib = memory_kib(pid, "VmHWM");
    let _ = stop_tx.send(true);
    let mut logs = Vec::with_capacity(clients.len());
    for handle in clients {
        if let Ok(log) = handle.await {
            logs.push(log);
        }
    }
    drop(server);

    let counts: Vec<&[u16]> = logs.iter().map(|l| l.counts.as_slice()).collect();
    let delivery = tally(&acknowledged, &counts);
    let mut send: Vec<u64> = logs
        .iter()
        .flat_map(|l| l.send_latency_us.iter().copied())
        .collect();
    let mut commit: Vec<u64> = logs
        .iter()
        .flat_map(|l| l.commit_latency_us.iter().copied())
        .collect();
    let mut post: Vec<u64> = writes.iter().map(|w| w.round_trip_us).collect();
    let mut reasons: Vec<String> = logs.iter().filter_map(|l| l.last_error.clone()).collect();
    reasons.sort();
    reasons.dedup();
    reasons.truncate(5);
    let fatal = shared.fatal.lock().unwrap().clone();
    Ok(SoakRun {
        connected,
        connect_seconds,
        rss_before_kib,
        rss_connected_kib,
        peak_rss_kib,
        writes_planned: planned,
        writes_acknowledged: acked_count,
        write_errors: writes.iter().filter_map(|w| w.error.clone()).collect(),
        writes_per_second,
        post_latency: Percentiles::of(&mut post),
        delivery,
        send_latency: Percentiles::of(&mut send),
        commit_latency: Percentiles::of(&mut commit),
        foreign: logs.iter().map(|l| l.foreign).sum(),
        reconnects: logs.iter().map(|l| l.reconnects).sum(),
        resets: logs.iter().map(|l| l.resets).sum(),
        stream_errors: logs.iter().map(|l| l.stream_errors).sum(),
        stream_end_reasons: reasons,
        fatal,
    })
}

/// Which sequence numbers were answered 201.
fn acknowledged(planned: usize, writes: &[Write]) -> Vec<bool> {
    let mut acknowledged = vec![false; planned];
    for write in writes.iter().filter(|w| w.acknowledged) {
        acknowledged[write.seq] = true;
    }
    acknowledged
}

/// Events expected against events received, over every client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Delivery {
    /// Acknowledged writes × clients.
    expected: u64,
    /// Of those, how many arrived (at least once).
    delivered: u64,
    /// Of those, how many never arrived.
    lost: u64,
    /// Arrivals beyond the first of the same write at the same client.
    duplicates: u64,
    /// Arrivals of writes that were not acknowledged (failed or unanswered
    /// writes that committed anyway): neither expected nor lost.
    unacknowledged: u64,
    /// Clients that missed at least one expected event.
    clients_missing: u64,
}

/// Counts deliveries: `counts[client][seq]` is how often `seq` reached `client`.
fn tally(acknowledged: &[bool], counts: &[&[u16]]) -> Delivery {
    let mut delivery = Delivery::default();
    for client in counts {
        let mut missing = false;
        for (seq, &acked) in acknowledged.iter().enumerate() {
            let count = u64::from(client.get(seq).copied().unwrap_or(0));
            if acked {
                delivery.expected += 1;
                if count == 0 {
                    delivery.lost += 1;
                    missing = true;
                } else {
                    delivery.delivered += 1;
                }
                delivery.duplicates += count.saturating_sub(1);
            } else {
                delivery.unacknowledged += count;
            }
        }
        delivery.clients_missing += u64::from(missing);
    }
    delivery
}

/// Latency percentiles, in milliseconds (NaN with no samples).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Percentiles {
    samples: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

impl Percentiles {
    /// Sorts `samples_us` and reads the percentiles off it.
    fn of(samples_us: &mut [u64]) -> Self {
        samples_us.sort_unstable();
        let ms = |us: Option<u64>| us.map_or(f64::NAN, |us| us as f64 / 1000.0);
        Percentiles {
            samples: samples_us.len(),
            p50_ms: ms(percentile(samples_us, 50.0)),
            p99_ms: ms(percentile(samples_us, 99.0)),
            max_ms: ms(samples_us.last().copied()),
        }
    }

    fn to_json(self) -> Value {
        json!({
            "samples": self.samples,
            "p50": finite(self.p50_ms),
            "p99": finite(self.p99_ms),
            "max": finite(self.max_ms),
        })
    }
}

/// The nearest-rank percentile `p` (0 < p <= 100) of sorted `values`: the
/// smallest value with at least p% of the values at or below it.
fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// One Server-Sent Event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct SseEvent {
    /// The `event:` field; `None` for an unnamed event (`message`).
    event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    data: String,
    /// The `id:` field of this event, if it had one.
    id: Option<String>,
}

/// An incremental `text/event-stream` parser (the WHATWG HTML "event
/// stream interpretation"): bytes in, dispatched events out, whatever way
/// the stream was cut into chunks.
#[derive(Debug, Default)]
struct SseParser {
    /// The bytes of the line being read.
    line: Vec<u8>,
    /// The previous chunk ended in `\r`: a `\n` first in the next one
    /// belongs to that line break.
    after_cr: bool,
    /// The first line has ended (a BOM before it is skipped).
    started: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
    /// The stream's last event ID, sent back as `Last-Event-ID`.
    last_event_id: Option<String>,
}

impl SseParser {
    /// Feeds `chunk`; returns the events it completed.
    fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for &byte in chunk {
            if self.after_cr {
                self.after_cr = false;
                if byte == b'\n' {
                    continue;
                }
            }
            match byte {
                b'\n' => self.end_line(&mut events),
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(&mut events);
                }
                _ => self.line.push(byte),
            }
        }
        events
    }

    fn end_line(&mut self, events: &mut Vec<SseEvent>) {
        let mut bytes = std::mem::take(&mut self.line);
        if !self.started {
            // Only the stream's first line may start with a BOM; it is
            // stripped here, where the line is whole however it was chunked.
            self.started = true;
            if bytes.starts_with(b"\xEF\xBB\xBF") {
                bytes.drain(..3);
            }
        }
        let line = String::from_utf8_lossy(&bytes).into_owned();
        if line.is_empty() {
            // Blank line: dispatch (an event without data is dropped, but
            // its id still counts).
            let event = self.event.take();
            let id = self.id.take();
            // The resume point moves only with a whole event: a stream cut
            // between `id:` and the blank line resumes before that event.
            if id.is_some() {
                self.last_event_id.clone_from(&id);
            }
            if self.has_data {
                self.has_data = false;
                events.push(SseEvent {
                    event,
                    data: std::mem::take(&mut self.data),
                    id,
                });
            }
            return;
        }
        if line.starts_with(':') {
            return; // A comment, such as the `: ping` heartbeat.
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_str(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.id = Some(value.to_string()),
            _ => {} // `retry` and unknown fields: nothing the soak uses.
        }
    }
}

fn markdown(report: &Value) -> String {
    let m = &report["machine"];
    let s = &report["settings"];
    let mut out = format!(
        "# ferrobridge change feed soak: `GET /api/posts/events`\n\n\
         Machine: {} ({} cores, {}). {} idle SSE clients (one tokio process, the load generator), \
         then {} s of `POST /api/posts` at {} writes/s; events counted until every one arrived \
         or {} s after the last write. Latency: receive time minus the write's send time \
         (`from send`) and minus the event's `at` (`from commit`).\n\n",
        m["cpu"].as_str().unwrap_or("?"),
        m["cores"],
        m["os"].as_str().unwrap_or("?"),
        s["clients"],
        s["duration_s"],
        s["writes_per_second"],
        s["drain_s"],
    );
    out += "| backend | connected | RSS before → connected MiB | RSS per idle client KiB | writes acked / planned (rate/s) | events expected | delivered | lost (not delivered by the end of the drain) | duplicates | p50 ms from send | p99 ms from send | p50 / p99 ms from commit | reconnects |\n\
            |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    let mib = |v: &Value| {
        v.as_f64()
            .map_or("?".to_string(), |k| format!("{:.1}", k / 1024.0))
    };
    let num = |v: &Value, digits: usize| {
        v.as_f64()
            .map_or("?".to_string(), |x| format!("{x:.digits$}"))
    };
    for run in report["runs"].as_array().into_iter().flatten() {
        let w = &run["writes"];
        let e = &run["events"];
        out += &format!(
            "| {} | {} | {} → {} | {} | {} / {} ({}) | {} | {} | {} | {} | {} | {} | {} / {} | {} |\n",
            run["backend"].as_str().unwrap_or("?"),
            run["clients_connected"],
            mib(&run["rss_before_kib"]),
            mib(&run["rss_connected_kib"]),
            num(&run["rss_per_idle_client_kib"], 1),
            w["acknowledged"],
            w["planned"],
            num(&w["per_second"], 1),
            e["expected"],
            e["delivered"],
            e["lost"],
            e["duplicates"],
            num(&run["latency_from_send_ms"]["p50"], 1),
            num(&run["latency_from_send_ms"]["p99"], 1),
            num(&run["latency_from_commit_ms"]["p50"], 1),
            num(&run["latency_from_commit_ms"]["p99"], 1),
            run["reconnects"],
        );
    }
    for run in report["runs"].as_array().into_iter().flatten() {
        let backend = run["backend"].as_str().unwrap_or("?");
        let mut notes = Vec::new();
        if let Some(fatal) = run["fatal"].as_str() {
            notes.push(format!("stopped: {fatal}"));
        }
        let failed = run["writes"]["failed"].as_u64().unwrap_or(0);
        if failed > 0 {
            notes.push(format!(
                "{failed} writes failed: {}",
                run["writes"]["errors"]
            ));
        }
        for (key, what) in [
            (
                "of_unacknowledged_writes",
                "events of unacknowledged writes",
            ),
            ("foreign", "events that were not the soak's posts"),
        ] {
            let n = run["events"][key].as_u64().unwrap_or(0);
            if n > 0 {
                notes.push(format!("{n} {what}"));
            }
        }
        for (key, what) in [
            ("resets", "`event: reset`"),
            ("stream_errors", "`event: error`"),
        ] {
            let n = run[key].as_u64().unwrap_or(0);
            if n > 0 {
                notes.push(format!("{n} {what}"));
            }
        }
        if run["reconnects"].as_u64().unwrap_or(0) > 0 {
            notes.push(format!("streams ended by: {}", run["stream_end_reasons"]));
        }
        out += &format!(
            "\n{backend}: POST round trip p50 {} ms, p99 {} ms; server peak RSS {} MiB; connecting took {} s.{}",
            num(&run["writes"]["post_latency_ms"]["p50"], 1),
            num(&run["writes"]["post_latency_ms"]["p99"], 1),
            mib(&run["peak_rss_kib"]),
            num(&run["connect_s"], 1),
            if notes.is_empty() {
                String::new()
            } else {
                format!(" {}.", notes.join("; "))
            }
        );
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> (Vec<SseEvent>, Option<String>) {
        let mut parser = SseParser::default();
        let mut events = Vec::new();
        for chunk in chunks {
            events.extend(parser.push(chunk));
        }
        (events, parser.last_event_id)
    }

    #[test]
    fn sse_parser_reads_events_comments_and_ids() {
        let stream = b": ping\n\nid: 7\ndata: {\"a\":1}\n\nevent: reset\ndata: {\"oldest\":\"3\"}\n\nid: 8\ndata: x\ndata:y\n\n";
        let (events, last) = parse_all(&[stream]);
        assert_eq!(
            events,
            vec![
                SseEvent {
                    event: None,
                    data: "{\"a\":1}".into(),
                    id: Some("7".into())
                },
                SseEvent {
                    event: Some("reset".into()),
                    data: "{\"oldest\":\"3\"}".into(),
                    id: None
                },
                SseEvent {
                    event: None,
                    data: "x\ny".into(),
                    id: Some("8".into())
                },
            ]
        );
        assert_eq!(last.as_deref(), Some("8"));
    }

    #[test]
    fn sse_parser_is_indifferent_to_chunking_and_line_endings() {
        let stream: &[u8] =
            b"\xEF\xBB\xBFid: 1\r\ndata: one\r\n\r\nid: 2\rdata: two\r\rid: 3\ndata: three\n\n";
        let (whole, last) = parse_all(&[stream]);
        assert_eq!(
            whole.iter().map(|e| e.data.as_str()).collect::<Vec<_>>(),
            ["one", "two", "three"]
        );
        assert_eq!(last.as_deref(), Some("3"));
        // Every split, byte by byte included, gives the same events: the
        // `\r\n` pairs cut in two must not count as two line breaks.
        for cut in 0..=stream.len() {
            let (parts, _) = parse_all(&[&stream[..cut], &stream[cut..]]);
            assert_eq!(parts, whole, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(parse_all(&bytes).0, whole);
    }

    #[test]
    fn sse_parser_drops_events_without_data_and_waits_for_the_blank_line() {
        let (events, last) = parse_all(&[b"id: 4\n\nevent: error\n\n", b"data: partial\n"]);
        assert!(events.is_empty());
        // An id-only event still moves the resume point.
        assert_eq!(last.as_deref(), Some("4"));
        let mut parser = SseParser::default();
        assert!(parser.push(b"data: a").is_empty());
        assert!(parser.push(b"b\n").is_empty());
        assert_eq!(parser.push(b"\n")[0].data, "ab");
        // A stream cut inside an event: resume from the event before it.
        let (events, last) = parse_all(&[b"id: 5\ndata: x\n\nid: 6\ndata: y\n"]);
        assert_eq!(events.len(), 1);
        assert_eq!(last.as_deref(), Some("5"));
    }

    #[test]
    fn titles_round_trip_and_records_count_first_deliveries() {
        assert_eq!(
            parse_title(&title(12, 1_700_000_000_123_456)),
            Some((12, 1_700_000_000_123_456))
        );
        assert_eq!(parse_title("soak 1"), None);
        assert_eq!(parse_title("soak 1 2 3"), None);
        assert_eq!(parse_title("Hello"), None);

        let mut log = ClientLog::new(3);
        let event = |seq: usize, model: &str| SseEvent {
            event: None,
            data: json!({
                "cursor": "9", "model": model, "pk": "1", "action": "create",
                "data": { "title": title(seq, 1_000_000) },
                "user": 1, "at": "1970-01-01T00:00:01.500000Z",
            })
            .to_string(),
            id: Some("9".into()),
        };
        assert!(log.record(&event(1, "blog.post"), 3_000_000));
        assert!(!log.record(&event(1, "blog.post"), 3_500_000));
        assert!(!log.record(&event(2, "blog.author"), 3_000_000));
        assert!(!log.record(&event(7, "blog.post"), 3_000_000));
        assert_eq!(log.counts, [0, 2, 0]);
        assert_eq!(log.send_latency_us, [2_000_000]);
        assert_eq!(log.commit_latency_us, [1_500_000]);
        assert_eq!(log.foreign, 2);
        let reset = SseEvent {
            event: Some("reset".into()),
            data: "{\"oldest\":\"1\"}".into(),
            id: None,
        };
        assert!(!log.record(&reset, 0));
        assert_eq!(log.resets, 1);
    }

    #[test]
    fn tally_counts_losses_duplicates_and_unacknowledged_writes() {
        let acknowledged = [true, true, false, true];
        let a: &[u16] = &[1, 1, 0, 1];
        let b: &[u16] = &[1, 0, 1, 3];
        let c: &[u16] = &[2, 1]; // a client log shorter than the writes
        let delivery = tally(&acknowledged, &[a, b, c]);
        assert_eq!(
            delivery,
            Delivery {
                expected: 9,
                delivered: 7,
                lost: 2,
                duplicates: 3,
                unacknowledged: 1,
                clients_missing: 2,
            }
        );
        assert_eq!(tally(&acknowledged, &[a]).lost, 0);
    }

    #[test]
    fn distinct_keeps_the_first_of_each_message() {
        let messages = ["a", "a", "b", "a", "c", "d"].map(String::from);
        assert_eq!(distinct(&messages, 2), ["a", "b"]);
        assert_eq!(distinct(&messages, 9), ["a", "b", "c", "d"]);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut values: Vec<u64> = (1..=100).rev().map(|v| v * 1000).collect();
        let p = Percentiles::of(&mut values);
        assert_eq!(
            (p.samples, p.p50_ms, p.p99_ms, p.max_ms),
            (100, 50.0, 99.0, 100.0)
        );
        assert_eq!(percentile(&[5], 99.0), Some(5));
        assert_eq!(percentile(&[1, 2, 3], 50.0), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), Some(2));
        assert_eq!(percentile(&[], 50.0), None);
        assert!(Percentiles::of(&mut []).p50_ms.is_nan());
    }
}
