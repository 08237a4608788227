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
    /// Create a superuser. Asks for the username, email and password on a
    /// terminal; with `--noinput`, takes them from the flags and the
    /// password from `FERROBRIDGE_SUPERUSER_PASSWORD`.
    Createsuperuser {
        /// The login name.
        #[arg(long)]
        username: Option<String>,
        /// The email address.
        #[arg(long)]
        email: Option<String>,
        /// Never prompt (for scripts).
        #[arg(long)]
        noinput: bool,
    },
    /// Set a user's password, asking for it twice.
    Changepassword {
        /// The user; defaults to `$USER`.
        username: Option<String>,
    },
}

/// Parses the process arguments and runs the command on `app`. A failure
/// is printed as one readable line (no backtrace) and exits with status 1.
pub async fn run(app: App) -> anyhow::Result<()> {
    if let Err(error) = run_from(app, std::env::args_os()).await {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
    Ok(())
}

/// Runs the command line `args` (the first is the program name) on `app`.
pub async fn run_from<I, T>(app: App, args: I) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args).unwrap_or_else(|e| e.exit());
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
        Command::Createsuperuser {
            username,
            email,
            noinput,
        } => create_superuser(&db, username, email, noinput).await,
        Command::Changepassword { username } => change_password(&db, username).await,
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
            let service = app
                .router(db)
                .into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, service)
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

fn prompt(label: &str) -> anyhow::Result<String> {
    use std::io::Write;
    eprint!("{label}: ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

fn prompt_password() -> anyhow::Result<String> {
    loop {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password (again): ")?;
        if first != again {
            eprintln!("Error: your passwords didn't match.");
        } else if first.is_empty() {
            eprintln!("Error: blank passwords aren't allowed.");
        } else {
            return Ok(first);
        }
    }
}

async fn create_superuser(
    db: &sea_orm::DatabaseConnection,
    username: Option<String>,
    email: Option<String>,
    noinput: bool,
) -> anyhow::Result<()> {
    use crate::auth::models::user;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    let interactive = !noinput && std::io::IsTerminal::is_terminal(&std::io::stdin());
    let username = match username {
        Some(name) => name,
        None if interactive => prompt("Username")?,
        None => anyhow::bail!("--username is required with --noinput (or without a terminal)"),
    };
    if username.is_empty() || username.len() > 150 {
        anyhow::bail!("the username must have 1 to 150 characters");
    }
    let email = match email {
        Some(email) => email,
        None if interactive => prompt("Email address")?,
        None => String::new(),
    };
    let password = if interactive {
        prompt_password()?
    } else {
        std::env::var("FERROBRIDGE_SUPERUSER_PASSWORD").map_err(|_| {
            anyhow::anyhow!(
                "set FERROBRIDGE_SUPERUSER_PASSWORD to the password when using --noinput"
            )
        })?
    };
    if password.is_empty() {
        anyhow::bail!("blank passwords aren't allowed");
    }
    let taken = user::Entity::find()
        .filter(user::Column::Username.eq(username.as_str()))
        .one(db)
        .await?;
    if taken.is_some() {
        anyhow::bail!("the username `{username}` is already taken");
    }
    let hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&password)).await?;
    user::ActiveModel {
        username: Set(username.clone()),
        email: Set(email),
        password: Set(hash),
        is_superuser: Set(true),
        is_staff: Set(true),
        is_active: Set(true),
        first_name: Set(String::new()),
        last_name: Set(String::new()),
        date_joined: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    eprintln!("Superuser `{username}` created successfully.");
    Ok(())
}

async fn change_password(
    db: &sea_orm::DatabaseConnection,
    username: Option<String>,
) -> anyhow::Result<()> {
    use crate::auth::models::user;
    use sea_orm::{
        ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    };
    let username = username
        .or_else(|| std::env::var("USER").ok())
        .ok_or_else(|| anyhow::anyhow!("name the user: changepassword <username>"))?;
    let found = user::Entity::find()
        .filter(user::Column::Username.eq(username.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("user `{username}` does not exist"))?;
    eprintln!("Changing password for user `{username}`");
    let password = prompt_password()?;
    let hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&password)).await?;
    let mut active = found.into_active_model();
    active.password = Set(hash);
    active.update(db).await?;
    eprintln!("Password changed successfully for user `{username}`.");
    Ok(())
}
