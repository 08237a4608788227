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
    /// The depth data set: a large table listed by cursor pages (see `permissions::depth`).
    Depth {
        #[command(subcommand)]
        command: DepthCommand,
    },
    /// Any other command goes to ferrobridge's management CLI (`migrate`, `makemigrations`, ...).
    #[command(external_subcommand)]
    Manage(Vec<OsString>),
}

#[derive(Subcommand)]
enum DepthCommand {
    /// Serve the depth app's generated endpoints (`/entries`) on `DATABASE_URL`.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8000")]
        bind: SocketAddr,
    },
    /// Append synthetic entries to the migrated table of the SQLite file of `DATABASE_URL`.
    Fill {
        /// How many entries to add.
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
    },
    /// Any other command goes to the depth app's management CLI (`migrate`, `makemigrations`, ...).
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
        Command::Depth { command } => return depth(command).await,
        Command::Manage(args) => return manage(permissions::app(), args).await,
    };
    let url = database_url();
    let router = permissions::router(variant, &url, rows).await?;
    let listener = tokio::net::TcpListener::bind(bind).await?;
    eprintln!(
        "permissions: variant {} on http://{}/permissions",
        variant.name(),
        listener.local_addr()?
    );
    serve(listener, router).await
}

/// Serves `router` with `axum::serve`, every variant alike. The router's
/// handlers get their state once, here, and each connection shares that
/// router: given a `Router` itself, `axum::serve` gives every new connection
/// its own copy of the whole routing table (`with_state` per connection),
/// a megabyte at 64 connections for the generated app's routes.
async fn serve(listener: tokio::net::TcpListener, router: axum::Router) -> anyhow::Result<()> {
    axum::serve(listener, router.with_state(()).into_make_service())
        .with_graceful_shutdown(ferrobridge::cli::shutdown_signal())
        .await?;
    Ok(())
}

fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| permissions::DEFAULT_URL.to_string())
}

async fn manage(app: ferrobridge::App, args: Vec<OsString>) -> anyhow::Result<()> {
    let args = std::iter::once("permissions".into()).chain(args);
    if let Err(error) = ferrobridge::cli::run_from(app, args).await {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
    Ok(())
}

async fn depth(command: DepthCommand) -> anyhow::Result<()> {
    match command {
        DepthCommand::Serve { bind } => {
            let db = ferrobridge::db::connect(&database_url()).await?;
            let router = permissions::depth::app().router(db);
            let listener = tokio::net::TcpListener::bind(bind).await?;
            eprintln!(
                "permissions: depth entries on http://{}/entries",
                listener.local_addr()?
            );
            serve(listener, router).await
        }
        DepthCommand::Fill { rows } => permissions::depth::fill(&database_url(), rows),
        DepthCommand::Manage(args) => manage(permissions::depth::app(), args).await,
    }
}
