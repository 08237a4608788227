//! The management command line every ferrobridge app gets from [`App::run`]:
//! `serve`, `migrate` and `openapi`, with `--help` on each.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::app::App;

/// Command line of a ferrobridge app.
#[derive(Debug, Parser)]
#[command(version, about = "A ferrobridge application")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The management commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API over HTTP (creates missing tables first).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8000")]
        bind: SocketAddr,
    },
    /// Create the tables of registered models that do not exist yet, then exit.
    Migrate,
    /// Print the OpenAPI 3.1 document (as served at `/openapi.json`) and exit;
    /// opens no database.
    Openapi,
}

/// Parses the process arguments and runs the command on `app`.
pub async fn run(app: App) -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        let document = serde_json::to_string_pretty(&app.openapi())?;
        println!("{document}");
        return Ok(());
    }
    init_tracing();
    let url = crate::db::url_from_env(app.name());
    let db = crate::db::connect(&url).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot open the database at DATABASE_URL ({}): {e}",
            redact(&url)
        )
    })?;
    app.create_tables(&db)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create tables: {e}"))?;
    match cli.command {
        Command::Openapi => Ok(()),
        Command::Migrate => {
            tracing::info!(database = %redact(&url), "tables are up to date");
            Ok(())
        }
        Command::Serve { bind } => {
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
            tracing::info!(
                "serving {} on http://{} (database {})",
                app.name(),
                listener.local_addr()?,
                redact(&url)
            );
            axum::serve(listener, app.router(db))
                .with_graceful_shutdown(shutdown_signal())
                .await?;
            tracing::info!("shut down");
            Ok(())
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default: info, plus one line per request).
pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Resolves on Ctrl-C or SIGTERM, so in-flight requests finish before exit.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

/// The URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
