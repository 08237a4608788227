//! `cargo xtask bench`: the permissions endpoint served five ways, loaded
//! with `wrk` on 127.0.0.1, compared as ratios. See the README's "Benchmarks".
//! `--soak` runs the change feed soak of [`soak`] instead.

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

/// The ratios reported, as (numerator, denominator) letters.
const RATIOS: [(&str, &str); 4] = [("a", "c"), ("b", "c"), ("c", "d"), ("a", "e")];

/// The bar: generated and runtime handlers reach this share of axum + SeaORM.
const BAR: f64 = 0.95;

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
            }
        } else {
            Settings {
                quick,
                warmup: 3,
                duration: 8,
                repeats: 3,
                connections: 32,
                mysql: None,
            }
        }
    }
}

struct Scenario {
    name: &'static str,
    rows: usize,
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    backend: Backend,
}

/// The database a scenario runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    /// A fresh SQLite file per variant.
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
    let mut list = vec![
        Scenario {
            name: "list-24",
            rows: 24,
            method: "GET",
            path: "/permissions",
            body: None,
            backend: Backend::Sqlite,
        },
        Scenario {
            name: "list-1000-paged-100",
            rows: 1000,
            method: "GET",
            path: "/permissions?page_size=100",
            body: None,
            backend: Backend::Sqlite,
        },
        Scenario {
            name: "retrieve",
            rows: 24,
            method: "GET",
            path: "/permissions/9",
            body: None,
            backend: Backend::Sqlite,
        },
        Scenario {
            name: "create",
            rows: 24,
            method: "POST",
            path: "/permissions",
            body: Some(CREATE_BODY),
            backend: Backend::Sqlite,
        },
    ];
    if postgres {
        list.push(Scenario {
            name: "list-24-postgres",
            rows: 24,
            method: "GET",
            path: "/permissions",
            body: None,
            backend: Backend::Postgres,
        });
    }
    if mysql {
        list.push(Scenario {
            name: "list-24-mysql",
            rows: 24,
            method: "GET",
            path: "/permissions",
            body: None,
            backend: Backend::Mysql,
        });
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

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(
        binary: &Path,
        variant: &str,
        scenario: &Scenario,
        db_url: &str,
        pin: bool,
    ) -> anyhow::Result<Server> {
        let port = free_port()?;
        let bind = format!("127.0.0.1:{port}");
        let rows = scenario.rows.to_string();
        let args = [
            "serve",
            "--bind",
            &bind,
            "--variant",
            variant,
            "--rows",
            &rows,
        ];
        let mut command = if pin {
            let mut c = Command::new("taskset");
            c.args(["-c", "0"]).arg(binary).args(args);
            c
        } else {
            let mut c = Command::new(binary);
            c.args(args);
            c
        };
        let child = command
            .env("DATABASE_URL", db_url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut server = Server { child, port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait()? {
                bail!("the {variant} server exited during startup ({status})");
            }
            if started.elapsed() > Duration::from_secs(30) {
                server.stop();
                bail!("the {variant} server did not start listening within 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    /// Peak resident memory so far (`VmHWM`), in KiB.
    fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
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
    scenario: &Scenario,
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
    command.arg(format!("http://127.0.0.1:{port}{}", scenario.path));
    let output = command.output().context("cannot run wrk")?;
    if !output.status.success() {
        bail!("wrk failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    parse_wrk(&String::from_utf8_lossy(&output.stdout))
}

/// The body a scenario's request gets, with the new primary key of a
/// create replaced so variants compare equal.
fn probe(port: u16, scenario: &Scenario) -> anyhow::Result<(u16, String)> {
    let (status, body) = http(port, scenario.method, scenario.path, scenario.body)?;
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

/// Builds, runs every scenario and writes the reports.
pub fn run(settings: Settings) -> anyhow::Result<()> {
    let started = Instant::now();
    ensure_wrk()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("==> cargo build --release -p permissions");
    let status = Command::new(&cargo)
        .args(["build", "--release", "-p", "permissions"])
        .current_dir(workspace_root())
        .status()?;
    if !status.success() {
        bail!("building permissions failed");
    }
    let binary = target_dir().join("release/permissions");
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

    let mut reports = Vec::new();
    let mysql_url = settings.mysql.clone();
    for scenario in scenarios(postgres_url.is_some(), mysql_url.is_some()) {
        eprintln!(
            "==> {} ({} {})",
            scenario.name, scenario.method, scenario.path
        );
        let mut reference: Option<(String, (u16, String))> = None;
        let mut results = serde_json::Map::new();
        for (letter, variant) in VARIANTS {
            if scenario.backend != Backend::Sqlite && variant == "rusqlite" {
                continue;
            }
            let db_url = match (scenario.backend, &postgres_url, &mysql_url) {
                (Backend::Postgres, Some(url), _) | (Backend::Mysql, _, Some(url)) => url.clone(),
                _ => {
                    let file = db_dir.join(format!("{}-{variant}.sqlite3", scenario.name));
                    for suffix in ["", "-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                    }
                    format!("sqlite://{}?mode=rwc", file.display())
                }
            };
            let server = Server::start(&binary, variant, &scenario, &db_url, pin)?;
            let answer = probe(server.port, &scenario)?;
            if scenario.method == "GET"
                && scenario.path == "/permissions"
                && scenario.rows == 24
                && answer.1 != expected
            {
                bail!(
                    "{variant} answered {} bytes on {}, not the expected 904-byte body",
                    answer.1.len(),
                    scenario.name
                );
            }
            match &reference {
                None => reference = Some((variant.to_string(), answer)),
                Some((first, body)) if *body != answer => bail!(
                    "{variant} and {first} answer {} differently:\n{first}: {:?}\n{variant}: {:?}",
                    scenario.name,
                    body,
                    answer
                ),
                Some(_) => {}
            }
            let script = (scenario.method == "POST").then_some(script.as_path());
            if settings.warmup > 0 {
                wrk(
                    &settings,
                    server.port,
                    &scenario,
                    settings.warmup,
                    script,
                    pin,
                )?;
            }
            let mut runs = Vec::new();
            for _ in 0..settings.repeats {
                runs.push(wrk(
                    &settings,
                    server.port,
                    &scenario,
                    settings.duration,
                    script,
                    pin,
                )?);
            }
            let rss = server.peak_rss_kib();
            drop(server);
            let errors: u64 = runs.iter().map(|r| r.errors).sum();
            let result = json!({
                "letter": letter,
                "rps": median(runs.iter().map(|r| r.rps).collect()),
                "p50_ms": median(runs.iter().map(|r| r.p50_ms).collect()),
                "p99_ms": median(runs.iter().map(|r| r.p99_ms).collect()),
                "peak_rss_kib": rss,
                "errors": errors,
                "runs": runs.iter().map(|r| json!({ "rps": r.rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "errors": r.errors })).collect::<Vec<_>>(),
            });
            eprintln!(
                "    {letter} {variant:<12} {:>10.0} rq/s  p50 {:>7.3} ms  p99 {:>7.3} ms  peak RSS {:>6} KiB{}",
                result["rps"].as_f64().unwrap_or(f64::NAN),
                result["p50_ms"].as_f64().unwrap_or(f64::NAN),
                result["p99_ms"].as_f64().unwrap_or(f64::NAN),
                rss.map(|r| r.to_string()).unwrap_or_else(|| "?".into()),
                if errors > 0 {
                    format!("  ({errors} errors!)")
                } else {
                    String::new()
                }
            );
            results.insert(variant.to_string(), result);
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
        reports.push(json!({
            "scenario": scenario.name,
            "request": format!("{} {}", scenario.method, scenario.path),
            "rows": scenario.rows,
            "backend": scenario.backend.name(),
            "results": results,
            "ratios": ratios,
        }));
    }

    let report = json!({
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
        "scenarios": reports,
    });
    let markdown = markdown(&report);
    std::fs::write(
        out_dir.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(out_dir.join("report.md"), &markdown)?;
    println!("{markdown}");
    eprintln!(
        "==> wrote {} and report.json in {:.0} s",
        out_dir.join("report.md").display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn expected_list_body() -> anyhow::Result<String> {
    let path = workspace_root().join("examples/permissions/data/django-permissions.json");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    Ok(serde_json::to_string(&data["seed_endpoint_response"])?)
}

fn markdown(report: &Value) -> String {
    let m = &report["machine"];
    let s = &report["settings"];
    let mut out = format!(
        "# ferrobridge benchmark: `GET /permissions` five ways\n\n\
         Machine: {} ({} cores, {}). Load: `wrk -t1 -c{}`, {} s warm-up, median of {} runs of {} s{}.\n\
         Server {}.\n\n",
        m["cpu"].as_str().unwrap_or("?"),
        m["cores"],
        m["os"].as_str().unwrap_or("?"),
        s["connections"],
        s["warmup_s"],
        s["repeats"],
        s["duration_s"],
        if s["quick"] == true {
            " (`--quick`: a smoke run, not a measurement)"
        } else {
            ""
        },
        if s["pinned"] == true {
            "pinned to CPU 0 and wrk to CPU 1 with taskset"
        } else {
            "and wrk not pinned (taskset or a second core missing)"
        },
    );
    for scenario in report["scenarios"].as_array().into_iter().flatten() {
        out += &format!(
            "## {} — `{}` ({} rows, {})\n\n| variant | rq/s | p50 ms | p99 ms | peak RSS MiB | errors |\n|---|---:|---:|---:|---:|---:|\n",
            scenario["scenario"].as_str().unwrap_or("?"),
            scenario["request"].as_str().unwrap_or("?"),
            scenario["rows"],
            scenario["backend"].as_str().unwrap_or("?"),
        );
        for (name, r) in scenario["results"].as_object().into_iter().flatten() {
            out += &format!(
                "| ({}) {} | {:.0} | {:.3} | {:.3} | {} | {} |\n",
                r["letter"].as_str().unwrap_or("?"),
                name,
                r["rps"].as_f64().unwrap_or(f64::NAN),
                r["p50_ms"].as_f64().unwrap_or(f64::NAN),
                r["p99_ms"].as_f64().unwrap_or(f64::NAN),
                r["peak_rss_kib"]
                    .as_f64()
                    .map(|k| format!("{:.1}", k / 1024.0))
                    .unwrap_or_else(|| "?".into()),
                r["errors"],
            );
        }
        let ratios: Vec<String> = scenario["ratios"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let v = v.as_f64().unwrap_or(f64::NAN);
                let bar = if (k == "a/c" || k == "b/c") && v < BAR {
                    format!(" (below the {BAR} bar)")
                } else {
                    String::new()
                };
                format!("{k} = {v:.2}{bar}")
            })
            .collect();
        out += &format!("\nRatios of rq/s: {}\n\n", ratios.join(", "));
    }
    out
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
