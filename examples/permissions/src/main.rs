//! `cargo run --release -p permissions -- serve --bind 127.0.0.1:8000 --variant generated`
//!
//! Serves `GET /permissions` (and `/permissions/{pk}`, `POST /permissions`)
//! one of five ways on `DATABASE_URL` (default: `permissions.sqlite3`,
//! created and seeded with Django's 24 rows, or `--rows N` synthetic ones).

use std::ffi::OsString;
use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use permissions::Variant;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    about = "Django's auth_permission list, served five ways",
    after_help = "Other commands (migrate, makemigrations, showmigrations, check, openapi) are ferrobridge's management commands."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create and seed the tables if needed, then serve over HTTP.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8000")]
        bind: SocketAddr,
        /// Which implementation answers.
        #[arg(long, value_enum, default_value = "generated")]
        variant: Variant,
        /// Permissions to seed into an empty table: 24 is Django's own rows,
        /// any other number synthetic ones.
        #[arg(long, default_value_t = permissions::seed::DJANGO_ROWS)]
        rows: usize,
    },
    /// Any other command goes to ferrobridge's management CLI (`migrate`, `makemigrations`, ...).
    #[command(external_subcommand)]
    Manage(Vec<OsString>),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Warnings only by default: a log line per request would measure the logger.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let (bind, variant, rows) = match Cli::parse().command {
        Command::Serve {
            bind,
            variant,
            rows,
        } => (bind, variant, rows),
        Command::Manage(args) => {
            let args = std::iter::once("permissions".into()).chain(args);
            if let Err(error) = ferrobridge::cli::run_from(permissions::app(), args).await {
                eprintln!("error: {error:#}");
                std::process::exit(1);
            }
            return Ok(());
        }
    };
    let url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| permissions::DEFAULT_URL.to_string());
    let router = permissions::router(variant, &url, rows).await?;
    let listener = tokio::net::TcpListener::bind(bind).await?;
    eprintln!(
        "permissions: variant {} on http://{}/permissions",
        variant.name(),
        listener.local_addr()?
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(ferrobridge::cli::shutdown_signal())
        .await?;
    Ok(())
}
