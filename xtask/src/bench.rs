//! `cargo xtask bench`: the permissions endpoint served five ways (and,
//! with `--peer python`, by Django through django-fastapi-bridge), loaded
//! with `wrk` on 127.0.0.1, compared as ratios; cursor pages on a
//! million-row table; with `--compile`, the derive's compile cost. See the
//! README's "Benchmarks". `--soak` runs the change feed soak of [`soak`] instead.

pub mod compile;
pub mod layout;
pub mod python;
pub mod report;
pub mod soak;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// The variants, in report order, with the letter the issue gives each.
const VARIANTS: [(&str, &str); 5] = [
    ("a", "generated"),
    ("b", "runtime"),
    ("c", "axum-seaorm"),
    ("d", "sqlx"),
    ("e", "rusqlite"),
];

/// The Python peer's two endpoints: (letter, name, path prefix).
const BRIDGE: [(&str, &str, &str); 2] = [("f", "bridge-sync", ""), ("g", "bridge-async", "/async")];

/// The ratios reported, as (numerator, denominator) letters.
const RATIOS: [(&str, &str); 5] = [("a", "c"), ("b", "c"), ("c", "d"), ("a", "e"), ("a", "g")];

/// Rows of the depth scenario's table.
pub const DEPTH_ROWS: u64 = 1_000_000;

/// What the benchmark runs; set from the command line.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Short smoke run: no warm-up, 1 s runs.
    pub quick: bool,
    /// Seconds of warm-up load before measuring.
    pub warmup: u32,
    /// Seconds per measured run.
    pub duration: u32,
    /// Measured runs per variant and scenario; the median is reported.
    pub repeats: usize,
    /// Open connections of the load generator.
    pub connections: u32,
    /// The MySQL / MariaDB database of the `list-24-mysql` scenario
    /// (`--mysql`, else `DATABASE_URL_MYSQL`); `None` leaves it out.
    pub mysql: Option<String>,
    /// `--peer python`: Django through django-fastapi-bridge side by side,
    /// and Django's `migrate` making the SQLite file of the 24-row scenarios.
    pub peer_python: bool,
    /// Leave out the million-row cursor scenarios (`--no-depth`).
    pub no_depth: bool,
    /// Rewrite the README's block even on a `--quick` run (`--readme`).
    pub readme: bool,
    /// The command line, for the reports.
    pub command: String,
}

impl Settings {
    /// The full run, or the quick one.
    pub fn new(quick: bool) -> Self {
        if quick {
            Settings {
                quick,
                warmup: 0,
                duration: 1,
                repeats: 3,
                connections: 32,
                mysql: None,
                peer_python: false,
                no_depth: false,
                readme: false,
                command: "cargo xtask bench".into(),
            }
        } else {
            Settings {
                quick,
                warmup: 3,
                duration: 8,
                repeats: 3,
                connections: 32,
                mysql: None,
                peer_python: false,
                no_depth: false,
                readme: false,
                command: "cargo xtask bench".into(),
            }
        }
    }
}

struct Scenario {
    name: &'static str,
    rows: usize,
    method: &'static str,
    path: String,
    body: Option<&'static str>,
    backend: Backend,
}

/// The database a scenario runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    /// A SQLite file per variant: a copy of Django's when `--peer python`
    /// made one (24-row scenarios), else seeded by the example.
    Sqlite,
    /// The PostgreSQL database of `DATABASE_URL`.
    Postgres,
    /// The MySQL / MariaDB database of `--mysql` or `DATABASE_URL_MYSQL`.
    Mysql,
}

impl Backend {
    /// The name in the reports.
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgresql",
            Backend::Mysql => "mysql",
        }
    }
}

const CREATE_BODY: &str = r#"{"name":"Can fly","content_type_id":2,"codename":"fly_permission"}"#;

fn scenarios(postgres: bool, mysql: bool) -> Vec<Scenario> {
    let scenario = |name, rows, method, path: &str, body, backend| Scenario {
        name,
        rows,
        method,
        path: path.to_string(),
        body,
        backend,
    };
    let mut list = vec![
        scenario("list-24", 24, "GET", "/permissions", None, Backend::Sqlite),
        scenario(
            "list-1000-paged-100",
            1000,
            "GET",
            "/permissions?page_size=100",
            None,
            Backend::Sqlite,
        ),
        scenario(
            "retrieve",
            24,
            "GET",
            "/permissions/9",
            None,
            Backend::Sqlite,
        ),
        scenario(
            "create",
            24,
            "POST",
            "/permissions",
            Some(CREATE_BODY),
            Backend::Sqlite,
        ),
    ];
    if postgres {
        list.push(scenario(
            "list-24-postgres",
            24,
            "GET",
            "/permissions",
            None,
            Backend::Postgres,
        ));
    }
    if mysql {
        list.push(scenario(
            "list-24-mysql",
            24,
            "GET",
            "/permissions",
            None,
            Backend::Mysql,
        ));
    }
    list
}

/// One `wrk` run.
#[derive(Clone, Debug)]
struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `wrk`, installed from Debian's packages when missing and possible.
fn ensure_wrk() -> anyhow::Result<()> {
    if have("wrk") {
        return Ok(());
    }
    eprintln!("==> wrk is missing: installing it with apt-get (Debian package `wrk`)");
    let status = Command::new("sh")
        .args(["-c", "apt-get update -qq && apt-get install -y -qq wrk"])
        .status();
    if have("wrk") {
        return Ok(());
    }
    bail!(
        "wrk is required (apt-get install wrk, or your system's package); installing it failed: {status:?}"
    )
}

/// Builds the workspace package `package` in release; its binary.
fn build_release(package: &str) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("==> cargo build --release -p {package}");
    let status = Command::new(&cargo)
        .args(["build", "--release", "-p", package])
        .current_dir(workspace_root())
        .status()?;
    if !status.success() {
        bail!("building {package} failed");
    }
    Ok(target_dir().join("release").join(package))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// One HTTP/1.1 request over a fresh connection: `(status, body)`.
fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> anyhow::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .context("malformed HTTP response")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no status line")?;
    Ok((status, body.to_string()))
}

/// How to start one server process of the benchmark.
pub struct Launch {
    /// What the messages call it.
    pub label: String,
    /// The executable.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Environment variables added to the inherited ones.
    pub env: Vec<(String, String)>,
    /// Its working directory; the current one when `None`.
    pub cwd: Option<PathBuf>,
}

impl Launch {
    /// The permissions example's binary with `args`, on `db_url`.
    fn permissions(binary: &Path, label: &str, args: &[&str], db_url: &str) -> Launch {
        Launch {
            label: label.to_string(),
            program: binary.to_path_buf(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: vec![
                ("DATABASE_URL".into(), db_url.into()),
                ("RUST_LOG".into(), "warn".into()),
            ],
            cwd: None,
        }
    }
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Starts `launch` (on CPU 0 when `pin`) and waits until `port` accepts
    /// connections.
    fn start(launch: Launch, port: u16, pin: bool) -> anyhow::Result<Server> {
        let mut command = if pin {
            let mut c = Command::new("taskset");
            c.args(["-c", "0"]).arg(&launch.program);
            c
        } else {
            Command::new(&launch.program)
        };
        command.args(&launch.args);
        command.envs(launch.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &launch.cwd {
            command.current_dir(dir);
        }
        // taskset execs the program, so the child's pid is the server's.
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", launch.program.display()))?;
        let label = &launch.label;
        let mut server = Server { child, port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait()? {
                bail!("the {label} server exited during startup ({status})");
            }
            if started.elapsed() > Duration::from_secs(60) {
                server.stop();
                bail!("the {label} server did not start listening within 60 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    /// Peak resident memory so far (`VmHWM`) of the server and every
    /// process under it, in KiB: the sum of each one's peak, so for a
    /// server that forks workers it is an upper bound of the tree's peak.
    fn peak_rss_kib(&self) -> Option<u64> {
        self.tree_kib("VmHWM:")
    }

    /// Anonymous resident memory now (`RssAnon`: heaps and stacks, not the
    /// program's mapped code) of the server and every process under it, in
    /// KiB.
    fn anon_kib(&self) -> Option<u64> {
        self.tree_kib("RssAnon:")
    }

    /// The `/proc/<pid>/status` line `key`, summed over the server's
    /// process tree, in KiB.
    fn tree_kib(&self, key: &str) -> Option<u64> {
        let mut total = 0;
        let mut pending = vec![self.child.id()];
        let mut seen = 0;
        while let Some(pid) = pending.pop() {
            seen += 1;
            if seen > 1024 {
                break;
            }
            total += status_kib(pid, key)?;
            pending.extend(children(pid));
        }
        Some(total)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The child processes of `pid` (of each of its threads).
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

fn parse_latency_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => return None,
    })
}

fn parse_wrk(output: &str) -> anyhow::Result<Run> {
    let mut run = Run {
        rps: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        errors: 0,
    };
    for line in output.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => run.rps = n.parse()?,
            ["50%", t] => run.p50_ms = parse_latency_ms(t).context("p50")?,
            ["99%", t] => run.p99_ms = parse_latency_ms(t).context("p99")?,
            ["Non-2xx", "or", "3xx", "responses:", n] => run.errors += n.parse::<u64>()?,
            ["Socket", "errors:", rest @ ..] => {
                run.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>()
            }
            _ => {}
        }
    }
    if run.rps.is_nan() || run.p50_ms.is_nan() {
        bail!("could not read wrk's output:\n{output}");
    }
    Ok(run)
}

fn wrk(
    settings: &Settings,
    port: u16,
    path: &str,
    seconds: u32,
    script: Option<&Path>,
    pin: bool,
) -> anyhow::Result<Run> {
    let mut command = if pin {
        let mut c = Command::new("taskset");
        c.args(["-c", "1", "wrk"]);
        c
    } else {
        Command::new("wrk")
    };
    command.args([
        "-t1",
        &format!("-c{}", settings.connections),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    command.arg(format!("http://127.0.0.1:{port}{path}"));
    let output = command.output().context("cannot run wrk")?;
    if !output.status.success() {
        bail!("wrk failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    parse_wrk(&String::from_utf8_lossy(&output.stdout))
}

/// Warm-up, then `settings.repeats` measured runs: the result's JSON.
fn measure(
    settings: &Settings,
    server: &Server,
    letter: &str,
    path: &str,
    script: Option<&Path>,
    pin: bool,
) -> anyhow::Result<Value> {
    if settings.warmup > 0 {
        wrk(settings, server.port, path, settings.warmup, script, pin)?;
    }
    let mut runs = Vec::new();
    for _ in 0..settings.repeats {
        runs.push(wrk(
            settings,
            server.port,
            path,
            settings.duration,
            script,
            pin,
        )?);
    }
    let errors: u64 = runs.iter().map(|r| r.errors).sum();
    Ok(json!({
        "letter": letter,
        "rps": median(runs.iter().map(|r| r.rps).collect()),
        "p50_ms": median(runs.iter().map(|r| r.p50_ms).collect()),
        "p99_ms": median(runs.iter().map(|r| r.p99_ms).collect()),
        "peak_rss_kib": server.peak_rss_kib(),
        "anon_kib": server.anon_kib(),
        "errors": errors,
        "runs": runs.iter().map(|r| json!({ "rps": r.rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "errors": r.errors })).collect::<Vec<_>>(),
    }))
}

fn print_result(letter: &str, name: &str, result: &Value) {
    let errors = result["errors"].as_u64().unwrap_or(0);
    eprintln!(
        "    {letter} {name:<13} {:>10.0} rq/s  p50 {:>7.3} ms  p99 {:>7.3} ms  peak RSS {:>7} KiB{}",
        result["rps"].as_f64().unwrap_or(f64::NAN),
        result["p50_ms"].as_f64().unwrap_or(f64::NAN),
        result["p99_ms"].as_f64().unwrap_or(f64::NAN),
        result["peak_rss_kib"]
            .as_u64()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "?".into()),
        if errors > 0 {
            format!("  ({errors} errors!)")
        } else {
            String::new()
        }
    );
}

/// The body a scenario's request gets, with the new primary key of a
/// create replaced so variants compare equal.
fn probe(port: u16, scenario: &Scenario, path: &str) -> anyhow::Result<(u16, String)> {
    let (status, body) = http(port, scenario.method, path, scenario.body)?;
    if scenario.method == "POST" {
        let value: Value = serde_json::from_str(&body).context("create answered no JSON")?;
        let pk = value["pk"].to_string();
        return Ok((status, body.replacen(&pk, "{pk}", 1)));
    }
    Ok((status, body))
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    json!({ "cpu": cpu, "cores": cores, "os": std::env::consts::OS })
}

/// Removes a SQLite file and its WAL companions.
fn remove_sqlite(file: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
}

/// Builds, runs every scenario and writes the reports.
pub fn run(settings: Settings) -> anyhow::Result<()> {
    let started = Instant::now();
    let date = chrono::Utc::now();
    ensure_wrk()?;
    let binary = build_release("permissions")?;
    let out_dir = target_dir().join("bench");
    let db_dir = out_dir.join("db");
    std::fs::create_dir_all(&db_dir)?;
    let script = out_dir.join("create.lua");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [[{CREATE_BODY}]]\n"
        ),
    )?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let pin = cores >= 2 && have("taskset");
    let postgres_url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"));
    let expected = expected_list_body()?;

    // The Python peer, and Django's own database for the 24-row scenarios.
    let mut peer_note = None;
    let mut peer = None;
    let mut django_db = None;
    if settings.peer_python {
        let made = python::Peer::prepare(&out_dir).and_then(|p| {
            let file = db_dir.join("django.sqlite3");
            eprintln!("==> Django's migrate -> {}", file.display());
            p.make_database(&file)?;
            Ok((p, file))
        });
        match made {
            Ok((p, file)) => {
                peer_note = Some(format!(
                    "django-fastapi-bridge 0.2 on uvicorn (1 worker), {} (xtask/python/requirements.txt)",
                    p.python_version
                ));
                peer = Some(p);
                django_db = Some(file);
            }
            Err(error) => {
                eprintln!(
                    "==> the Python peer is left out, the rest runs: {error:#}\n    (it needs python3 with venv and pip, and PyPI)"
                );
                peer_note = Some(format!("left out ({error:#})").replace('\n', " "));
            }
        }
    }

    let mut reports = Vec::new();
    let mysql_url = settings.mysql.clone();
    for scenario in scenarios(postgres_url.is_some(), mysql_url.is_some()) {
        eprintln!(
            "==> {} ({} {})",
            scenario.name, scenario.method, scenario.path
        );
        let mut reference: Option<(String, (u16, String))> = None;
        let mut results = serde_json::Map::new();
        // The Django file stands for the 24 seed rows of the reads; the
        // 1000-row scenario keeps the example's synthetic rows, and create
        // its seeded file: Django's schema has a unique (content_type_id,
        // codename), which wrk's one repeated body would break from the
        // second request on.
        let from_django = django_db.as_ref().filter(|_| {
            scenario.backend == Backend::Sqlite && scenario.rows == 24 && scenario.method == "GET"
        });
        let mut targets: Vec<(&str, &str, &str)> = VARIANTS
            .iter()
            .filter(|(_, v)| scenario.backend == Backend::Sqlite || *v != "rusqlite")
            .map(|&(letter, variant)| (letter, variant, ""))
            .collect();
        // The bridge's endpoint is the seed list, nothing else.
        let with_peer = peer.is_some() && scenario.name == "list-24";
        if with_peer {
            targets.extend(BRIDGE);
        }
        for (letter, name, prefix) in targets {
            let db_file = db_dir.join(format!("{}-{name}.sqlite3", scenario.name));
            if scenario.backend == Backend::Sqlite {
                remove_sqlite(&db_file);
                if let Some(django) = from_django {
                    std::fs::copy(django, &db_file)?;
                }
            }
            let db_url = match (scenario.backend, &postgres_url, &mysql_url) {
                (Backend::Postgres, Some(url), _) | (Backend::Mysql, _, Some(url)) => url.clone(),
                _ => format!("sqlite://{}?mode=rwc", db_file.display()),
            };
            let port = free_port()?;
            let launch = match &peer {
                Some(peer) if name.starts_with("bridge-") => peer.server(port, &db_file),
                _ => Launch::permissions(
                    &binary,
                    name,
                    &[
                        "serve",
                        "--bind",
                        &format!("127.0.0.1:{port}"),
                        "--variant",
                        name,
                        "--rows",
                        &scenario.rows.to_string(),
                    ],
                    &db_url,
                ),
            };
            let server = Server::start(launch, port, pin)?;
            let path = format!("{prefix}{}", scenario.path);
            let answer = probe(server.port, &scenario, &path)?;
            if scenario.method == "GET"
                && scenario.path == "/permissions"
                && scenario.rows == 24
                && answer.1 != expected
            {
                bail!(
                    "{name} answered {} bytes on {}, not the expected {}-byte body:\n{}",
                    answer.1.len(),
                    scenario.name,
                    expected.len(),
                    answer.1
                );
            }
            match &reference {
                None => reference = Some((name.to_string(), answer)),
                Some((first, body)) if *body != answer => bail!(
                    "{name} and {first} answer {} differently:\n{first}: {:?}\n{name}: {:?}",
                    scenario.name,
                    body,
                    answer
                ),
                Some(_) => {}
            }
            let script = (scenario.method == "POST").then_some(script.as_path());
            let result = measure(&settings, &server, letter, &path, script, pin)?;
            drop(server);
            print_result(letter, name, &result);
            results.insert(name.to_string(), result);
        }
        let rps = |letter: &str| {
            results
                .values()
                .find(|r| r["letter"] == letter)
                .and_then(|r| r["rps"].as_f64())
        };
        let mut ratios = serde_json::Map::new();
        for (top, bottom) in RATIOS {
            if let (Some(t), Some(b)) = (rps(top), rps(bottom)) {
                ratios.insert(format!("{top}/{bottom}"), json!(t / b));
            }
        }
        let mut entry = json!({
            "scenario": scenario.name,
            "request": format!("{} {}", scenario.method, scenario.path),
            "rows": scenario.rows,
            "backend": scenario.backend.name(),
            "database": if from_django.is_some() { "a copy of Django's migrate per variant" } else if scenario.backend == Backend::Sqlite { "a fresh file per variant, seeded by the example" } else { "the shared server database" },
            "results": results,
            "ratios": ratios,
        });
        if peer.is_some() && !with_peer {
            entry["note"] = json!(
                "No Python peer here: the bridge's project serves only the seed list (`GET /permissions`)."
            );
        }
        reports.push(entry);
    }

    let memory = reports
        .iter()
        .find(|s| s["scenario"] == "list-24")
        .and_then(|s| {
            let generated = &s["results"]["generated"];
            let python = &s["results"]["bridge-async"];
            let (rss, python_rss) = (
                generated["peak_rss_kib"].as_f64()?,
                python["peak_rss_kib"].as_f64()?,
            );
            Some(json!({
                "generated_kib": rss,
                "python_kib": python_rss,
                "ratio": rss / python_rss,
                "generated_anon_kib": generated["anon_kib"],
                "python_anon_kib": python["anon_kib"],
            }))
        });
    let mut depth = None;
    if settings.no_depth {
        eprintln!("==> depth scenarios left out (--no-depth)");
    } else {
        let (scenarios, summary) = run_depth(&settings, &binary, &db_dir, pin)?;
        reports.extend(scenarios);
        depth = Some(summary);
    }

    let kind = if settings.quick { "quick" } else { "endpoints" };
    let report = json!({
        "kind": kind,
        "date": date.format("%Y-%m-%d %H:%M UTC").to_string(),
        "command": settings.command,
        "machine": machine(),
        "settings": {
            "quick": settings.quick,
            "warmup_s": settings.warmup,
            "duration_s": settings.duration,
            "repeats": settings.repeats,
            "connections": settings.connections,
            "load_generator": "wrk -t1 --latency",
            "pinned": pin,
        },
        "database": if django_db.is_some() {
            "Django 5.2's `manage.py migrate` (xtask/python), copied per variant"
        } else {
            "a fresh SQLite file per variant, seeded with Django's rows by the example"
        },
        "peer": { "python": peer_note.unwrap_or_else(|| "not asked for (--peer python)".into()) },
        "memory": memory,
        "depth": depth,
        "scenarios": reports,
    });
    let markdown = report::endpoints_markdown(&report);
    let kept = report::write(
        &out_dir,
        &report::file_stamp(&date),
        kind,
        &report,
        &markdown,
    )?;
    println!("{markdown}");
    if settings.readme || !settings.quick {
        let compile = report::latest(&out_dir, &["compile"]);
        let readme = workspace_root().join("README.md");
        report::rewrite_readme(
            &readme,
            &report::readme_block(Some(&report), compile.as_ref()),
        )?;
        eprintln!("==> rewrote the benchmark block of {}", readme.display());
    }
    eprintln!(
        "==> wrote {} (and report.md / report.json) in {:.0} s",
        kept.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Rewrites the README's block from the newest kept reports, without
/// running anything (`--readme` alone after a run).
pub fn readme_only() -> anyhow::Result<()> {
    let out_dir = target_dir().join("bench");
    let endpoints =
        report::latest(&out_dir, &["endpoints"]).or_else(|| report::latest(&out_dir, &["quick"]));
    let compile = report::latest(&out_dir, &["compile"]);
    if endpoints.is_none() && compile.is_none() {
        bail!(
            "no report in {} yet: run `cargo xtask bench` first",
            out_dir.display()
        );
    }
    let readme = workspace_root().join("README.md");
    report::rewrite_readme(
        &readme,
        &report::readme_block(endpoints.as_ref(), compile.as_ref()),
    )?;
    eprintln!("==> rewrote the benchmark block of {}", readme.display());
    Ok(())
}

fn run_quiet(command: &mut Command) -> anyhow::Result<()> {
    let output = command.stdin(Stdio::null()).output()?;
    if !output.status.success() {
        bail!(
            "{:?} failed ({}):\n{}",
            command,
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

fn get_json(port: u16, path: &str) -> anyhow::Result<Value> {
    let (status, body) = http(port, "GET", path, None)?;
    if status != 200 {
        bail!("GET {path} answered {status}: {body}");
    }
    serde_json::from_str(&body).with_context(|| format!("GET {path} answered no JSON"))
}

/// The pks of a page's items.
fn page_pks(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["pk"].as_i64())
        .collect()
}

/// The cursor that continues after the row `row` (a read body), made as
/// the list makes its own: the `next` of a first page tells the format,
/// checked against that page's last row before it is reused.
fn cursor_after(first_page: &Value, row: &Value) -> anyhow::Result<String> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let next = first_page["next"]
        .as_str()
        .context("the first page has no `next` cursor")?;
    let mut payload: Value = serde_json::from_slice(
        &engine
            .decode(next)
            .context("the `next` cursor is not URL-safe base64")?,
    )
    .context("the `next` cursor is not JSON")?;
    let last = first_page["items"]
        .as_array()
        .and_then(|items| items.last())
        .context("the first page is empty")?;
    let expected = json!([last["created_at"], last["pk"]]);
    if payload["v"] != expected {
        bail!(
            "the list's cursor holds {}, not the last row's [created_at, pk] {expected}: the depth bench must learn the new format",
            payload["v"]
        );
    }
    payload["v"] = json!([row["created_at"], row["pk"]]);
    Ok(engine.encode(payload.to_string()))
}

/// The depth scenarios: a table of [`DEPTH_ROWS`] entries made by the
/// app's own `migrate` (so the indexes its migrations declare are there),
/// filled in one transaction, then the first cursor page, the last one and
/// a retrieve, each checked before it is loaded.
fn run_depth(
    settings: &Settings,
    binary: &Path,
    db_dir: &Path,
    pin: bool,
) -> anyhow::Result<(Vec<Value>, Value)> {
    let file = db_dir.join("depth.sqlite3");
    remove_sqlite(&file);
    let url = format!("sqlite://{}?mode=rwc", file.display());
    eprintln!("==> depth: `permissions depth migrate`, then {DEPTH_ROWS} rows");
    run_quiet(
        Command::new(binary)
            .args(["depth", "migrate"])
            .env("DATABASE_URL", &url),
    )?;
    let filling = Instant::now();
    run_quiet(
        Command::new(binary)
            .args(["depth", "fill", "--rows", &DEPTH_ROWS.to_string()])
            .env("DATABASE_URL", &url),
    )?;
    eprintln!("    filled in {:.1} s", filling.elapsed().as_secs_f64());
    let port = free_port()?;
    let server = Server::start(
        Launch::permissions(
            binary,
            "depth",
            &["depth", "serve", "--bind", &format!("127.0.0.1:{port}")],
            &url,
        ),
        port,
        pin,
    )?;
    let rows = DEPTH_ROWS as i64;
    let first_path = "/entries?cursor=&page_size=100";
    let first = get_json(port, first_path)?;
    let newest: Vec<i64> = (rows - 99..=rows).rev().collect();
    if page_pks(&first) != newest {
        bail!("the first cursor page is not the 100 newest entries: {first}");
    }
    // The last page: the 100 oldest entries, after entry 101.
    let row = get_json(port, "/entries/101")?;
    let cursor = cursor_after(&first, &row)?;
    let last_path = format!("/entries?cursor={cursor}&page_size=100");
    let last = get_json(port, &last_path)?;
    let oldest: Vec<i64> = (1..=100).rev().collect();
    if page_pks(&last) != oldest || !last["next"].is_null() {
        bail!("the last cursor page is not entries 100 to 1 with no `next`: {last}");
    }
    let retrieve_path = format!("/entries/{}", DEPTH_ROWS / 2);
    if get_json(port, &retrieve_path)?["pk"] != json!(DEPTH_ROWS / 2) {
        bail!("GET {retrieve_path} answered another row");
    }
    let mut scenarios = Vec::new();
    let steps = [
        (
            "depth-first-page",
            first_path.to_string(),
            first_path.to_string(),
        ),
        (
            "depth-last-page",
            last_path.clone(),
            "/entries?cursor=<after entry 101>&page_size=100".to_string(),
        ),
        (
            "depth-retrieve",
            retrieve_path.clone(),
            retrieve_path.clone(),
        ),
    ];
    for (name, path, shown) in steps {
        eprintln!("==> {name} (GET {shown})");
        let result = measure(settings, &server, "a", &path, None, pin)?;
        print_result("a", "generated", &result);
        scenarios.push(json!({
            "scenario": name,
            "request": format!("GET {shown}"),
            "rows": DEPTH_ROWS,
            "backend": "sqlite",
            "depth": true,
            "results": { "generated": result },
            "ratios": {},
            "note": "Generated endpoint only: the table is the depth app's `Entry` (ordering `-created_at`), made by its migrations; no hand-written variant serves it.",
        }));
    }
    let rps = |i: usize| scenarios[i]["results"]["generated"]["rps"].as_f64();
    let p50 = |i: usize| scenarios[i]["results"]["generated"]["p50_ms"].as_f64();
    let summary = json!({
        "rows": DEPTH_ROWS,
        "last_over_first": rps(0).zip(rps(1)).map(|(first, last)| first / last),
        "p50_last_over_first": p50(1).zip(p50(0)).map(|(last, first)| last / first),
        "retrieve_over_first": rps(0).zip(rps(2)).map(|(first, retrieve)| first / retrieve),
    });
    Ok((scenarios, summary))
}

fn expected_list_body() -> anyhow::Result<String> {
    let path = workspace_root().join("examples/permissions/data/django-permissions.json");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    Ok(serde_json::to_string(&data["seed_endpoint_response"])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let output = "Running 1s test @ http://127.0.0.1:1/permissions\n  1 threads and 32 connections\n  Latency Distribution\n     50%  812.00us\n     75%    1.10ms\n     90%    1.50ms\n     99%    2.31ms\n  20000 requests in 1.00s, 18.00MB read\n  Non-2xx or 3xx responses: 3\nRequests/sec:  19950.12\nTransfer/sec:     17.90MB\n";
        let run = parse_wrk(output).unwrap();
        assert_eq!(run.rps, 19950.12);
        assert!((run.p50_ms - 0.812).abs() < 1e-9);
        assert_eq!(run.p99_ms, 2.31);
        assert_eq!(run.errors, 3);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
    }
}
