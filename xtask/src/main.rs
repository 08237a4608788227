//! Project automation, run as `cargo xtask <command>`.
//!
//! - `new <path>`: a standalone ferrobridge application (see the README's
//!   "Developer workflow"); `scaffold app|model` and `expand <Model>` come
//!   from the library, shared with generated projects' own `cargo xtask`.
//! - `ci`: what CI checks, in order: formatting, clippy with warnings
//!   denied, then the whole test suite (PostgreSQL too when
//!   `DATABASE_URL_POSTGRES` is set; `.ci/run` sets it).
//! - `fuzz [--seconds N]`: the proptest fuzz targets of `tests/suite/fuzz.rs`
//!   (list query parser, JSON body reader, the blog router on SQLite and,
//!   when `DATABASE_URL_POSTGRES` is set, PostgreSQL), each for N seconds
//!   (default 60), concurrently, on a debug build so that arithmetic
//!   overflow panics too; exits non-zero with the minimal failing input.
//! - `genmodels [--seed N] [--models M] [--off FAMILIES]`: the
//!   generated-models test (`tests/generated`) on another seed or a larger
//!   set than the CI's default (seed 1, 16 models).
//! - `bench [--quick] [--mysql URL] [--peer python] [--no-depth] [--readme]`:
//!   the permissions endpoint served five ways, loaded with wrk on
//!   127.0.0.1 (plus `list-24-postgres` when `DATABASE_URL` is PostgreSQL,
//!   `list-24-mysql` with `--mysql` or `DATABASE_URL_MYSQL`, Django through
//!   django-fastapi-bridge with `--peer python`), then cursor pages on a
//!   million rows; writes `target/bench/<UTC time>-<kind>.{md,json}` and
//!   `report.{md,json}`, and (full runs, `--readme`) the README's block.
//! - `bench --compile [--cold]`: the build time of a 50-model app and the
//!   derive's expansion lines per field; `bench --readme` alone rewrites the
//!   README's block from the newest reports.
//! - `layout [--peer python]`: the permissions example's link order
//!   (`examples/permissions/link-order.txt`), the functions its server ran
//!   under callgrind; see `bench::layout`.
//! - `bench --soak [--clients N] [--duration S] [--writes-per-second R]
//!   [--soak-postgres URL]`: the blog's change feed with N idle SSE clients
//!   under a write load; writes `target/bench/soak.{md,json}`.

mod bench;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};
use ferrobridge_xtask::{DevTask, exit_code, new};

#[derive(Parser)]
#[command(about = "ferrobridge project automation")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Create a standalone ferrobridge application in an empty directory.
    New {
        /// Where to create it; must not exist or be empty.
        path: PathBuf,
        /// The package name; default the directory's name.
        #[arg(long)]
        name: Option<String>,
        /// The ferrobridge runtime crate to depend on (by path); default
        /// this repository's `runtime/`.
        #[arg(long, value_name = "PATH")]
        ferrobridge: Option<PathBuf>,
        /// The first app's name.
        #[arg(long, default_value = "notes")]
        app: String,
        /// Skip running the new project's `makemigrations` (and so its first
        /// build); run `cargo run -- makemigrations` there before serving or testing.
        #[arg(long)]
        no_makemigrations: bool,
    },
    #[command(flatten)]
    Dev(DevTask),
    /// Run formatting and lint checks, then every test.
    Ci,
    /// Fuzz the list query parser, the JSON body reader and the blog router
    /// for a fixed time (see README "Fuzzing").
    Fuzz {
        /// Seconds each target runs (they run at the same time).
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    /// Run the generated-models test on another seed or more models (see
    /// README "Generated models").
    Genmodels {
        /// The grammar's seed (the CI runs seed 1).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// How many models (the CI runs 16; at least 4).
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(4..))]
        models: u64,
        /// Families of the grammar to leave out, comma-separated:
        /// raw, keywords, names, crossapp, datetime ("" for none; default:
        /// those whose fixes have not landed, as the CI runs).
        #[arg(long)]
        off: Option<String>,
    },
    /// Rewrite the permissions example's link order from callgrind runs of its
    /// release server (needs valgrind; see README "Where the time went").
    Layout {
        /// Also profile a server on Django's `migrate` (the benchmark's
        /// `--peer python` file; needs python3 with venv and pip).
        #[arg(long, value_name = "PEER", value_parser = ["python"])]
        peer: Option<String>,
    },
    /// Benchmark `GET /permissions` served five ways (see README "Benchmarks"),
    /// or, with `--soak`, soak the blog's change feed.
    Bench {
        /// A smoke run under two minutes: no warm-up, three 1 s runs each.
        #[arg(long)]
        quick: bool,
        /// Seconds per measured run (default 8; 1 with --quick); with
        /// --soak, seconds of write load (default 60).
        #[arg(long)]
        duration: Option<u32>,
        /// Seconds of warm-up load (default 3; 0 with --quick).
        #[arg(long)]
        warmup: Option<u32>,
        /// Measured runs per variant and scenario, at least 3 (the median is reported).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(3..))]
        repeats: u32,
        /// Open connections of the load generator.
        #[arg(long, default_value_t = 32)]
        connections: u32,
        /// Instead of the endpoint benchmark: hold --clients idle SSE streams
        /// of `GET /api/posts/events` open on the blog example (release
        /// build, fresh SQLite file), create posts at --writes-per-second for
        /// --duration seconds, and report delivery latency, RSS per idle
        /// client and lost or duplicated events.
        #[arg(long, conflicts_with_all = ["quick", "warmup", "repeats", "connections"])]
        soak: bool,
        /// With --soak: idle SSE clients held open.
        #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u32).range(1..))]
        clients: u32,
        /// With --soak: posts created per second; each reaches every client,
        /// so 5/s is 25,000 events a second to 5,000 clients, which a 2-core
        /// machine running the clients too delivers with room to spare.
        #[arg(long, default_value_t = 5.0, value_parser = positive_rate)]
        writes_per_second: f64,
        /// With --soak: seconds to wait after the last write for events in flight.
        #[arg(long, default_value_t = 30)]
        drain: u32,
        /// Also run the `list-24-mysql` scenario on this MySQL / MariaDB
        /// database (default: `DATABASE_URL_MYSQL` when set; migrated and
        /// seeded, so use a database of its own).
        #[arg(long, value_name = "URL", conflicts_with = "soak")]
        mysql: Option<String>,
        /// With --soak: run on this PostgreSQL database too (migrated and
        /// written to; use a database of its own).
        #[arg(long, value_name = "URL", requires = "soak")]
        soak_postgres: Option<String>,
        /// Serve the seed list with a peer too: `python` is Django 5.2 through
        /// django-fastapi-bridge 0.2 on uvicorn (venv from
        /// xtask/python/requirements.txt in target/bench/python-venv), whose
        /// `migrate` makes the SQLite file of the 24-row scenarios. Without
        /// Python it says so and runs the rest.
        #[arg(long, value_name = "PEER", value_parser = ["python"], conflicts_with = "soak")]
        peer: Option<String>,
        /// Leave out the cursor-pagination scenarios on 1,000,000 rows.
        #[arg(long, conflicts_with = "soak")]
        no_depth: bool,
        /// Rewrite the README's block between `<!-- bench:begin -->` and
        /// `<!-- bench:end -->` (full runs always do). Alone, without a run
        /// to make: from the newest reports in target/bench.
        #[arg(long, conflicts_with = "soak")]
        readme: bool,
        /// Instead of the endpoints: generate a 50-model app, time its clean
        /// and incremental builds, and count the derive's expansion lines.
        #[arg(long, conflicts_with_all = ["soak", "quick", "peer", "no_depth"])]
        compile: bool,
        /// With --compile: also time a build with every dependency from scratch.
        #[arg(long, requires = "compile")]
        cold: bool,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Task::New {
            path,
            name,
            ferrobridge,
            app,
            no_makemigrations,
        } => {
            let options = new::NewProject {
                path,
                name,
                ferrobridge,
                app,
                makemigrations: !no_makemigrations,
            };
            exit_code("new", new::new_project(&options).map(drop))
        }
        Task::Dev(task) => {
            let name = match &task {
                DevTask::Scaffold(_) => "scaffold",
                DevTask::Expand { .. } => "expand",
            };
            exit_code(name, ferrobridge_xtask::run_dev(task))
        }
        Task::Ci => ci(),
        Task::Layout { peer } => match bench::layout::run(peer.is_some()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("layout: {error:#}");
                ExitCode::FAILURE
            }
        },
        Task::Fuzz { seconds } => fuzz(seconds),
        Task::Genmodels { seed, models, off } => genmodels(seed, models, off.as_deref()),
        Task::Bench {
            soak: true,
            duration,
            clients,
            writes_per_second,
            drain,
            soak_postgres,
            ..
        } => {
            let settings = bench::soak::SoakSettings {
                clients: clients as usize,
                duration: duration.unwrap_or(60).max(1),
                writes_per_second,
                drain,
                postgres: soak_postgres,
            };
            match bench::soak::run(settings) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("xtask bench --soak: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Task::Bench {
            compile: true,
            cold,
            readme,
            ..
        } => {
            let settings = bench::compile::CompileSettings {
                cold,
                readme,
                command: command_line(),
            };
            match bench::compile::run(settings) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("xtask bench --compile: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Task::Bench {
            readme: true,
            quick: false,
            duration: None,
            warmup: None,
            mysql: None,
            peer: None,
            no_depth: false,
            ..
        } if only_readme() => match bench::readme_only() {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("xtask bench --readme: {error:#}");
                ExitCode::FAILURE
            }
        },
        Task::Bench {
            quick,
            duration,
            warmup,
            repeats,
            connections,
            mysql,
            peer,
            no_depth,
            readme,
            ..
        } => {
            let mut settings = bench::Settings::new(quick);
            settings.peer_python = peer.as_deref() == Some("python");
            settings.no_depth = no_depth;
            settings.readme = readme;
            settings.command = command_line();
            settings.mysql = mysql.or_else(|| {
                std::env::var("DATABASE_URL_MYSQL")
                    .ok()
                    .filter(|u| !u.is_empty())
            });
            settings.duration = duration.unwrap_or(settings.duration).max(1);
            settings.warmup = warmup.unwrap_or(settings.warmup);
            settings.repeats = repeats as usize;
            settings.connections = connections.max(1);
            match bench::run(settings) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("xtask bench: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// The command as typed, for the reports: `cargo xtask bench ...`.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("cargo xtask {}", args.join(" "))
}

/// `bench --readme` with no other argument: rewrite the README from the
/// kept reports instead of running the benchmark.
fn only_readme() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    args == ["bench", "--readme"]
}

/// A `--writes-per-second` value: a positive, finite number.
fn positive_rate(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!(
            "expected a positive number of writes per second, not {value:?}"
        )),
    }
}

/// Runs the fuzz targets with a time budget. A debug build: the suite's
/// own build is reused, and overflow checks turn silent wrap-arounds into
/// failures the fuzzer can see.
fn fuzz(seconds: u64) -> ExitCode {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let args = [
        "test",
        "-p",
        "ferrobridge-tests",
        "--test",
        "suite",
        "fuzz::",
        "--",
        "--nocapture",
        "--test-threads=4",
    ];
    eprintln!(
        "==> fuzz for {seconds} s per target: cargo {}",
        args.join(" ")
    );
    let status = Command::new(&cargo)
        .args(args)
        .env("FERROBRIDGE_FUZZ_SECONDS", seconds.to_string())
        .status();
    match status {
        Ok(status) if status.success() => {
            if std::env::var_os("DATABASE_URL_POSTGRES").is_none() {
                eprintln!(
                    "note: DATABASE_URL_POSTGRES is unset, so the router was fuzzed on SQLite only"
                );
            }
            ExitCode::SUCCESS
        }
        Ok(status) => {
            eprintln!(
                "xtask fuzz: a target failed ({status}); its minimal failing input is printed above"
            );
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("xtask fuzz: cannot run cargo: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Rebuilds `ferrobridge-generated` with another set of models (its build
/// script reads the variables) and runs its test.
fn genmodels(seed: u64, models: u64, off: Option<&str>) -> ExitCode {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let args = ["test", "-p", "ferrobridge-generated"];
    let shown = off.unwrap_or("the default");
    eprintln!(
        "==> generated models: seed {seed}, {models} models, off [{shown}]: cargo {}",
        args.join(" ")
    );
    let mut command = Command::new(&cargo);
    command
        .args(args)
        .env("FERROBRIDGE_GEN_SEED", seed.to_string())
        .env("FERROBRIDGE_GEN_MODELS", models.to_string());
    match off {
        Some(off) => command.env("FERROBRIDGE_GEN_OFF", off),
        None => command.env_remove("FERROBRIDGE_GEN_OFF"),
    };
    let status = command.status();
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            eprintln!(
                "xtask genmodels: failed ({status}); the failures and the seed are listed above"
            );
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("xtask genmodels: cannot run cargo: {error}");
            ExitCode::FAILURE
        }
    }
}

fn ci() -> ExitCode {
    let steps: [(&str, &[&str]); 3] = [
        ("format", &["fmt", "--all", "--check"]),
        (
            "lint",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
        ("test", &["test", "--workspace"]),
    ];
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for (name, args) in steps {
        eprintln!("==> {name}: cargo {}", args.join(" "));
        match Command::new(&cargo).args(args).status() {
            Ok(status) if status.success() => {}
            Ok(status) => {
                eprintln!("xtask ci: step `{name}` failed ({status})");
                return ExitCode::FAILURE;
            }
            Err(error) => {
                eprintln!("xtask ci: cannot run cargo: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    if std::env::var_os("DATABASE_URL_POSTGRES").is_none() {
        eprintln!("note: DATABASE_URL_POSTGRES is unset, so the PostgreSQL variants did not run");
    }
    ExitCode::SUCCESS
}
