//! Project automation, run as `cargo xtask <command>`.
//!
//! - `ci`: what CI checks, in order: formatting, clippy with warnings
//!   denied, then the whole test suite (PostgreSQL too when
//!   `DATABASE_URL_POSTGRES` is set; `.ci/run` sets it).

use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "ferrobridge project automation")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run formatting and lint checks, then every test.
    Ci,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Task::Ci => ci(),
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
