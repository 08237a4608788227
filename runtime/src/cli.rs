//! The management command line every ferrobridge app gets from [`App::run`],
//! Django's `manage.py` for Rust: `serve`, `migrate`, `makemigrations`,
//! `showmigrations`, `createsuperuser`, `changepassword`, `openapi` and
//! `check`, with `--help` on each. A command that fails prints one line
//! saying what to do and exits with status 1.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::db::Connection;
use clap::{Parser, Subcommand};
use sea_orm::DbBackend;
use tracing_subscriber::EnvFilter;

use crate::app::App;
use crate::migrations::{DetectOptions, OneOffDefault, Step, StepOutcome};

mod users;

use users::{change_password, create_superuser};
pub use users::{create_superuser_noinput, link_identity, set_user_password};

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
    /// Serve the API over HTTP. Refuses to start while models have changes
    /// without a migration or migrations are unapplied, except that a new
    /// SQLite database (no tables yet) is migrated first.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8000")]
        bind: SocketAddr,
    },
    /// Apply pending migrations (all, one app's, or forwards or back to a
    /// named one), then create missing permissions.
    Migrate {
        /// Only this app label's migrations (and what they depend on).
        app: Option<String>,
        /// Migrate to this migration of APP (a prefix such as `0002` is
        /// enough), forwards or back; `zero` unapplies all of APP.
        migration_name: Option<String>,
        /// Show what would run, without running it.
        #[arg(long)]
        plan: bool,
    },
    /// Write new migrations for the changes in the models.
    Makemigrations {
        /// Only this app label.
        app: Option<String>,
        /// The new migration's name (after its number), instead of one made
        /// from its operations.
        #[arg(long)]
        name: Option<String>,
        /// A renamed field, `model.old=new` (repeatable): a rename, not a drop plus an add.
        #[arg(long = "rename", value_name = "MODEL.OLD=NEW")]
        renames: Vec<String>,
        /// Never ask (a possible rename without `--rename` is then an error).
        #[arg(long)]
        noinput: bool,
        /// A one-off value, `app.model.field=VALUE` (or `model.field=VALUE`;
        /// repeatable), for the rows of a field made NOT NULL, or added NOT
        /// NULL, without a default; the column keeps no default.
        #[arg(long = "default", value_name = "APP.MODEL.FIELD=VALUE")]
        defaults: Vec<String>,
        /// Exit with status 1 when changes have no migration; write nothing.
        #[arg(long)]
        check: bool,
        /// Print the migrations instead of writing them.
        #[arg(long)]
        dry_run: bool,
    },
    /// List each app's migrations, `[X]` applied, `[ ]` not.
    Showmigrations {
        /// Only this app label.
        app: Option<String>,
    },
    /// Print the OpenAPI 3.1 document (as served at `/openapi.json`) and exit;
    /// opens no database.
    Openapi,
    /// Check the models, the configuration, the database connection,
    /// unmigrated model changes and unapplied migrations; status 1 on a problem.
    Check {
        /// Also list settings that are insecure in production (development
        /// secret key, no allowed hosts, cookies without `Secure`, no HSTS,
        /// development environment, CORS with any origin and credentials).
        #[arg(long)]
        deploy: bool,
    },
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
    /// Set a user's password, asking for it twice; checked against the
    /// app's password policy (three tries), and every bearer token of the
    /// user is revoked.
    Changepassword {
        /// The user; defaults to `$USER`.
        username: Option<String>,
    },
    /// Link an external identity (the `iss` and `sub` claims of its JWTs)
    /// to a local account, staff and superusers included; the only way a
    /// token from another server logs in as an existing privileged account.
    Linkidentity {
        /// The local account.
        username: String,
        /// The issuer (`iss` claim), e.g. `https://id.example.com/`.
        #[arg(long)]
        issuer: String,
        /// The subject (`sub` claim): the account's id at the issuer.
        #[arg(long)]
        subject: String,
        /// Remove the link instead.
        #[arg(long)]
        unlink: bool,
    },
}

impl App {
    /// Runs the command line (`serve`, `migrate`, `makemigrations`, ...): see [`run`].
    pub async fn run(self) -> anyhow::Result<()> {
        run(self).await
    }
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

/// Runs the command line `args` (the first is the program name) on `app`,
/// with the database of `DATABASE_URL`.
pub async fn run_from<I, T>(app: App, args: I) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args).unwrap_or_else(|e| e.exit());
    let url = crate::db::url_from_env(app.name());
    execute(app, cli.command, &url).await
}

/// Runs `command` on `app` with the database at `url`.
pub async fn execute(app: App, command: Command, url: &str) -> anyhow::Result<()> {
    if matches!(command, Command::Serve { .. })
        && let Some(refusal) = app.security().production_refusal()
    {
        anyhow::bail!("{refusal}");
    }
    // Before the database is opened (a new SQLite file would be created
    // and migrated for an app that cannot start).
    if matches!(command, Command::Serve { .. }) {
        route_check(&app)?;
    }
    match command {
        Command::Openapi => {
            let document = serde_json::to_string_pretty(&app.openapi())?;
            println!("{document}");
            Ok(())
        }
        Command::Makemigrations {
            app: label,
            name,
            renames,
            noinput,
            defaults,
            check,
            dry_run,
        } => {
            let options = MakeMigrations {
                app: label,
                name,
                renames,
                defaults,
                noinput,
                check,
                dry_run,
            };
            let report = make_migrations(&app, &options)?;
            print!("{report}");
            Ok(())
        }
        Command::Check { deploy } => {
            init_tracing();
            let mut report = check(&app, url).await;
            if deploy {
                let insecure = check_deploy(&app);
                if !insecure.is_empty() {
                    let mut all = report.err().unwrap_or_default();
                    all.extend(insecure);
                    report = Err(all);
                }
            }
            match report {
                Ok(()) => {
                    println!("System check identified no issues.");
                    Ok(())
                }
                Err(problems) => {
                    for problem in &problems {
                        eprintln!("- {problem}");
                    }
                    anyhow::bail!("system check identified {} issue(s)", problems.len())
                }
            }
        }
        command => {
            init_tracing();
            let fresh = is_new_sqlite(url);
            let db = open(url, app.pool_settings()).await?;
            run_with_database(app, command, &db, url, fresh).await
        }
    }
}

async fn open(url: &str, pool: crate::db::PoolSettings) -> anyhow::Result<Connection> {
    let pool = pool.with_env().map_err(anyhow::Error::msg)?;
    crate::db::connect_with(url, pool).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot open the database at DATABASE_URL ({}): {e}",
            redact(url)
        )
    })
}

/// Fails with every route clash of `app`, one per line.
fn route_check(app: &App) -> anyhow::Result<()> {
    let problems = app.route_problems();
    if problems.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "the app's routes clash, so it cannot be served:\n- {}",
        problems.join("\n- ")
    )
}

/// A SQLite URL whose file does not exist yet: a new development database.
fn is_new_sqlite(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return false;
    };
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    !path.is_empty() && !path.contains(":memory:") && !std::path::Path::new(path).exists()
}

/// Runs a command that works on the database `db` (opened from `url`;
/// `fresh_file`: a new SQLite file).
async fn run_with_database(
    app: App,
    command: Command,
    db: &Connection,
    url: &str,
    fresh_file: bool,
) -> anyhow::Result<()> {
    match command {
        Command::Migrate {
            app: label,
            migration_name,
            plan,
        } => migrate_command(&app, db, label, migration_name, plan).await,
        Command::Showmigrations { app: label } => {
            print!("{}", show_migrations(&app, db, label.as_deref()).await?);
            Ok(())
        }
        Command::Createsuperuser {
            username,
            email,
            noinput,
        } => {
            require_migrated(&app, db).await?;
            create_superuser(&app, db, username, email, noinput).await
        }
        Command::Changepassword { username } => {
            require_migrated(&app, db).await?;
            change_password(&app, db, username).await
        }
        Command::Linkidentity {
            username,
            issuer,
            subject,
            unlink,
        } => {
            require_migrated(&app, db).await?;
            link_identity(db, &username, &issuer, &subject, unlink).await
        }
        Command::Serve { bind } => serve(&app, db, url, bind, fresh_file).await,
        Command::Openapi | Command::Makemigrations { .. } | Command::Check { .. } => {
            unreachable!("handled without a database")
        }
    }
}

/// `migrate [APP [MIGRATION_NAME]] [--plan]`: prints the plan, or applies
/// it and says when models have changes no migration records.
async fn migrate_command(
    app: &App,
    db: &Connection,
    label: Option<String>,
    migration_name: Option<String>,
    plan: bool,
) -> anyhow::Result<()> {
    if migration_name.is_some() && label.is_none() {
        anyhow::bail!("name the app too: migrate APP MIGRATION_NAME");
    }
    let target = label.as_deref().map(|l| (l, migration_name.as_deref()));
    if plan {
        let migrator = app.migrator();
        let applied = migrator.applied(db).await?;
        let plan = migrator
            .plan(&applied, target)
            .map_err(anyhow::Error::msg)?;
        if plan.steps.is_empty() {
            println!("No planned migration operations.");
        }
        for step in &plan.steps {
            println!("{}", step_line(step));
        }
        return Ok(());
    }
    migrate(app, db, target).await?;
    if let Ok(unmigrated) = app.unmigrated_apps()
        && !unmigrated.is_empty()
    {
        println!(
            "Your models in app(s) {} have changes that are not yet reflected in a migration, and so won't be applied: run `cargo run -- makemigrations`, then `migrate` again.",
            quoted(&unmigrated)
        );
    }
    Ok(())
}

/// `serve`: checks (or, on a new SQLite file, migrates) the database, then
/// serves the app on `bind` until Ctrl-C or SIGTERM.
async fn serve(
    app: &App,
    db: &Connection,
    url: &str,
    bind: SocketAddr,
    fresh_file: bool,
) -> anyhow::Result<()> {
    prepare_to_serve(app, db, fresh_file).await?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    tracing::info!(
        "serving {} on http://{} (database {})",
        app.name(),
        listener.local_addr()?,
        redact(url)
    );
    let router = app.try_router(db.clone())?;
    let pruner = crate::feed::spawn_pruner(db.clone(), app.feed());
    let served =
        crate::server::serve(listener, router, app.server_settings(), shutdown_signal()).await;
    pruner.abort();
    served?;
    tracing::info!("shut down");
    Ok(())
}

fn quoted(labels: &[String]) -> String {
    labels
        .iter()
        .map(|l| format!("'{l}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn step_line(step: &Step) -> String {
    format!(
        "{} {}.{}",
        if step.backwards { "Unapply" } else { "Apply" },
        step.app,
        step.name
    )
}

/// Applies migrations up to `target`, printing one line per migration as Django does.
pub async fn migrate(
    app: &App,
    db: &Connection,
    target: Option<(&str, Option<&str>)>,
) -> anyhow::Result<()> {
    let mut any = false;
    app.migrate(db, target, |step, outcome| {
        any = true;
        let verb = if step.backwards {
            "Unapplying"
        } else {
            "Applying"
        };
        let result = match outcome {
            StepOutcome::Done => "OK",
            StepOutcome::Faked => "FAKED (its tables exist already)",
        };
        println!("  {verb} {}.{}... {result}", step.app, step.name);
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if !any {
        println!("No migrations to apply.");
    }
    Ok(())
}

/// Fails unless every migration is applied, saying how to apply them.
async fn require_migrated(app: &App, db: &Connection) -> anyhow::Result<()> {
    let pending = pending_migrations(app, db).await?;
    if !pending.is_empty() {
        anyhow::bail!(
            "the database has {} unapplied migration(s) ({}): run `cargo run -- migrate` first",
            pending.len(),
            pending.join(", ")
        );
    }
    Ok(())
}

/// The unapplied migrations, as `app.name`.
pub async fn pending_migrations(app: &App, db: &Connection) -> anyhow::Result<Vec<String>> {
    let migrator = app.migrator();
    let applied = migrator.applied(db).await?;
    let plan = migrator.plan(&applied, None).map_err(anyhow::Error::msg)?;
    Ok(plan
        .steps
        .iter()
        .map(|s| format!("{}.{}", s.app, s.name))
        .collect())
}

fn unmigrated_message(apps: &[String]) -> String {
    let which = if apps.len() == 1 {
        format!("app '{}'", apps[0])
    } else {
        format!("apps {}", quoted(apps))
    };
    format!(
        "Your models in {which} have changes that are not yet reflected in a migration: run `cargo run -- makemigrations`, then `cargo run -- migrate`"
    )
}

/// What `serve` checks first: no unmigrated model change, and no unapplied
/// migration, except on a new SQLite database, which is migrated here.
pub async fn prepare_to_serve(app: &App, db: &Connection, fresh_file: bool) -> anyhow::Result<()> {
    route_check(app)?;
    app.check_models().map_err(anyhow::Error::msg)?;
    let unmigrated = app.unmigrated_apps().map_err(|e| {
        anyhow::anyhow!(
            "your models have changes that are not yet reflected in a migration, and \
             `cargo run -- makemigrations` cannot write them as they are: {e}"
        )
    })?;
    if !unmigrated.is_empty() {
        anyhow::bail!("{}", unmigrated_message(&unmigrated));
    }
    // `showmigrations` may have created the (empty) record table already.
    let fresh = db.get_database_backend() == DbBackend::Sqlite
        && (fresh_file
            || crate::migrations::table_names(db)
                .await?
                .iter()
                .all(|t| t == crate::migrations::RECORD_TABLE));
    if fresh {
        tracing::info!("new SQLite database: applying every migration");
        app.migrate(db, None, |step, _| {
            tracing::info!("applied {}.{}", step.app, step.name)
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        return Ok(());
    }
    let pending = pending_migrations(app, db).await?;
    if !pending.is_empty() {
        anyhow::bail!(
            "the database has {} unapplied migration(s) ({}): run `cargo run -- migrate` first",
            pending.len(),
            pending.join(", ")
        );
    }
    Ok(())
}

/// `showmigrations`: each app's migrations, `[X]` when applied.
pub async fn show_migrations(
    app: &App,
    db: &Connection,
    label: Option<&str>,
) -> anyhow::Result<String> {
    let migrator = app.migrator();
    let applied = migrator.applied(db).await?;
    if let Some(label) = label
        && migrator.app(label).is_none()
    {
        anyhow::bail!("app `{label}` has no migrations");
    }
    let mut out = String::new();
    for migrations in migrator.apps() {
        if label.is_some_and(|l| l != migrations.app) {
            continue;
        }
        writeln!(out, "{}", migrations.app)?;
        if migrations.migrations.is_empty() {
            writeln!(out, " (no migrations)")?;
        }
        for migration in &migrations.migrations {
            let mark = if applied.contains(&(migrations.app.clone(), migration.name.clone())) {
                'X'
            } else {
                ' '
            };
            writeln!(out, " [{mark}] {}", migration.name)?;
        }
    }
    Ok(out)
}

/// `check`: every problem found, each saying what to do.
pub async fn check(app: &App, url: &str) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    if let Err(e) = app.check_models() {
        problems.push(format!("models: {e}"));
    }
    problems.extend(
        app.route_problems()
            .into_iter()
            .map(|p| format!("routes: {p}")),
    );
    if !(url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://")
        || url.starts_with("mysql://"))
    {
        problems.push(format!(
            "DATABASE_URL ({}) is none of `sqlite://...`, `postgres://...`, `mysql://...`",
            redact(url)
        ));
    }
    let migrator = app.migrator();
    if let Err(e) = migrator.state() {
        problems.push(format!("migrations: {e}"));
    }
    match app.unmigrated_apps() {
        Ok(apps) if !apps.is_empty() => problems.push(unmigrated_message(&apps)),
        Ok(_) => {}
        Err(e) => problems.push(format!(
            "models have changes that `makemigrations` cannot write as they are: {e}"
        )),
    }
    if !is_new_sqlite(url) {
        match open(url, app.pool_settings()).await {
            Err(e) => problems.push(format!("{e:#}")),
            Ok(db) => {
                match pending_migrations(app, &db).await {
                    Ok(pending) if !pending.is_empty() => problems.push(format!(
                        "the database has {} unapplied migration(s) ({}): run `cargo run -- migrate`",
                        pending.len(),
                        pending.join(", ")
                    )),
                    Ok(_) => {}
                    Err(e) => problems.push(format!("database: {e:#}")),
                }
                db.close().await.ok();
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// `check --deploy`: the settings that are insecure in production, one
/// line each saying how to fix it (empty when the app is ready), as
/// Django's `check --deploy`.
pub fn check_deploy(app: &App) -> Vec<String> {
    app.security().deploy_problems(app.has_secure_cookies())
}

/// The options of `makemigrations`.
#[derive(Clone, Debug, Default)]
pub struct MakeMigrations {
    /// Only this app label.
    pub app: Option<String>,
    /// `--name`.
    pub name: Option<String>,
    /// `--rename model.old=new`, as written.
    pub renames: Vec<String>,
    /// `--default app.model.field=VALUE`, as written.
    pub defaults: Vec<String>,
    /// `--noinput`.
    pub noinput: bool,
    /// `--check`.
    pub check: bool,
    /// `--dry-run`.
    pub dry_run: bool,
}

fn parse_rename(raw: &str) -> anyhow::Result<(String, String, String)> {
    let parsed = raw.split_once('=').and_then(|(left, new)| {
        let (model, old) = left.split_once('.')?;
        Some((model.trim(), old.trim(), new.trim()))
    });
    match parsed {
        Some((model, old, new)) if !model.is_empty() && !old.is_empty() && !new.is_empty() => {
            Ok((model.to_lowercase(), old.to_string(), new.to_string()))
        }
        _ => anyhow::bail!(
            "--rename takes `model.old_field=new_field` (e.g. `post.title=headline`), not `{raw}`"
        ),
    }
}

/// Where an app label without registered migrations keeps them: under the
/// crate `cargo run` names in `CARGO_MANIFEST_DIR`, `src/migrations` for the
/// app's own label, `src/migrations_{label}` for others.
fn default_location(app: &App, label: &str) -> Option<(PathBuf, String)> {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")?;
    let dir = if label == app.name() {
        "src/migrations".to_string()
    } else {
        format!("src/migrations_{label}")
    };
    Some((PathBuf::from(manifest), dir))
}

/// `makemigrations`: detects the changes, asks about renames on a terminal,
/// and writes (or, with `--dry-run`, prints) the migrations; returns what to print.
pub fn make_migrations(app: &App, options: &MakeMigrations) -> anyhow::Result<String> {
    let changes = detect_changes(app, options)?;
    if changes.is_empty() {
        return Ok(match &options.app {
            Some(label) => format!(
                "No changes detected in app '{label}'
"
            ),
            None => "No changes detected
"
            .to_string(),
        });
    }
    if options.check {
        anyhow::bail!("{}", unmigrated_message(&changes.labels()));
    }
    let migrator = app.migrator();
    let planned =
        crate::migrations::plan_migrations(&migrator, &changes, options.name.as_deref(), |label| {
            default_location(app, label)
        })
        .map_err(anyhow::Error::msg)?;
    let mut out = describe_planned(&migrator, &planned, options.dry_run)?;
    if options.dry_run {
        return Ok(out);
    }
    crate::migrations::write_planned(&planned)?;
    registration_hints(&migrator, &planned, &mut out)?;
    Ok(out)
}

/// The changes `makemigrations` would write for `options`: its renames and
/// one-off defaults parsed, and a possible rename asked about on a terminal
/// (never asked with `--noinput`, taken as "no" with `--check`).
fn detect_changes(
    app: &App,
    options: &MakeMigrations,
) -> anyhow::Result<crate::migrations::Changes> {
    let renames = options
        .renames
        .iter()
        .map(|r| parse_rename(r))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let defaults = options
        .defaults
        .iter()
        .map(|d| OneOffDefault::parse(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let labels = match &options.app {
        Some(label) => {
            if !app.app_labels().contains(label) {
                anyhow::bail!(
                    "no app `{label}`: the apps are {}",
                    quoted(&app.app_labels())
                );
            }
            Some(vec![label.clone()])
        }
        None => None,
    };
    let interactive =
        !options.noinput && !options.check && std::io::IsTerminal::is_terminal(&std::io::stdin());
    let mut ask = |question: &str| -> bool {
        prompt(question)
            .map(|answer| matches!(answer.to_lowercase().as_str(), "y" | "yes"))
            .unwrap_or(false)
    };
    let mut never = |_: &str| false;
    let ask: Option<&mut dyn FnMut(&str) -> bool> = if interactive {
        Some(&mut ask)
    } else if options.check {
        // `--check` only asks whether something changed.
        Some(&mut never)
    } else {
        None
    };
    app.detect_changes(
        labels.as_deref(),
        DetectOptions {
            renames,
            ask,
            defaults,
        },
    )
    .map_err(anyhow::Error::msg)
}

/// What `makemigrations` prints of the planned migrations (each one's file
/// and operations, and with `dry_run` its source), refusing to overwrite a
/// file or a module the app does not register yet.
fn describe_planned(
    migrator: &crate::migrations::Migrator,
    planned: &[crate::migrations::PlannedMigration],
    dry_run: bool,
) -> anyhow::Result<String> {
    let mut out = String::new();
    for plan in planned {
        let registered = migrator.app(&plan.app).is_some();
        let module = plan.manifest_dir.join(&plan.dir).join("mod.rs");
        if !registered && module.exists() && !dry_run {
            anyhow::bail!(
                "{} exists but app `{}` registers no migrations: add `.migrations(migrations::all())`                  (with `mod migrations;`) to your App before making more",
                module.display(),
                plan.app
            );
        }
        if plan.file().exists() && !dry_run {
            anyhow::bail!(
                "{} exists already: rebuild the app (`cargo run -- makemigrations` recompiles it) so it registers that migration",
                plan.file().display()
            );
        }
        writeln!(out, "Migrations for '{}':", plan.app)?;
        writeln!(out, "  {}", plan.file().display())?;
        for operation in &plan.migration.operations {
            writeln!(out, "    - {}", operation.describe())?;
        }
        if dry_run {
            out.push_str(&crate::migrations::render_migration(
                &plan.app,
                &plan.migration,
            ));
        }
    }
    Ok(out)
}

/// After writing: for each app that had no migrations, how to register them.
fn registration_hints(
    migrator: &crate::migrations::Migrator,
    planned: &[crate::migrations::PlannedMigration],
    out: &mut String,
) -> anyhow::Result<()> {
    for (i, plan) in planned.iter().enumerate() {
        let first_of_app = planned[..i].iter().all(|p| p.app != plan.app);
        if first_of_app && migrator.app(&plan.app).is_none() {
            let module_path = if plan.dir == "src/migrations" {
                "migrations".to_string()
            } else {
                plan.dir.trim_start_matches("src/").replace('/', "::")
            };
            writeln!(
                out,
                "App '{}' had no migrations: register them with `mod {module_path};` in your crate root and `.migrations({module_path}::all())` on your App, then run `migrate`.",
                plan.app
            )?;
        }
    }
    Ok(())
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
