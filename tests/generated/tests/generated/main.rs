//! The generated-models test: every model `ferrobridge-genmodels` wrote
//! for this build is migrated on SQLite and PostgreSQL, then driven through
//! create, retrieve, every declared filter lookup, search, ordering and
//! cursor pages, PATCH, PUT and DELETE, the OpenAPI document and the
//! admin's change list, add and change forms, as a superuser. Nothing may
//! answer 5xx; every failure is collected and reported at once, with the
//! model and the request.

mod drive;
mod values;

use ferrobridge::db::Connection;
use ferrobridge::migrations::{AppMigrations, DetectOptions, plan_migrations};
use ferrobridge_tests::{TestDb, UserKind, create_user, db_tests, with_token};

db_tests!(generated_models_work_end_to_end);

async fn generated_models_work_end_to_end(db: &TestDb) {
    // The server's own log says why a request answered 5xx.
    if std::env::var_os("RUST_LOG").is_some() {
        ferrobridge::cli::init_tracing();
    }
    let generated = ferrobridge_generated::description();
    let app = migrated_app(&db.db).await;
    let (user_id, token) = create_user(&db.db, "root", UserKind::Superuser).await;
    let router = with_token(app.router(db.db.clone()), token);
    let mut run = drive::Run::new(generated, router, user_id, db.backend);
    run.create_all().await;
    run.retrieve_all().await;
    run.lists().await;
    run.updates().await;
    run.bad_input().await;
    run.openapi(db.backend == ferrobridge_tests::Backend::Sqlite)
        .await;
    run.admin(app.router(db.db.clone())).await;
    run.delete_all().await;
    run.finish();
}

/// The generated app with its migrations made as `makemigrations` makes
/// them (into a temporary directory, never written) and applied as
/// `migrate` applies them.
async fn migrated_app(db: &Connection) -> ferrobridge::App {
    let mut app = ferrobridge_generated::app();
    app.check_models()
        .unwrap_or_else(|e| panic!("check: {e}\n{}", ferrobridge_generated::SOURCE));
    let changes = app
        .detect_changes(
            None,
            DetectOptions {
                renames: Vec::new(),
                ask: None,
                ..DetectOptions::default()
            },
        )
        .unwrap_or_else(|e| panic!("makemigrations: {e}"));
    let dir = std::env::temp_dir().join(format!("fb_generated_{}", std::process::id()));
    let planned = plan_migrations(&app.migrator(), &changes, None, |_| {
        Some((dir.clone(), "migrations".to_string()))
    })
    .unwrap_or_else(|e| panic!("plan migrations: {e}"));
    for migration in planned {
        let label = migration.app.clone();
        let apps = AppMigrations::new(&label, dir.clone(), "migrations");
        app = app.migrations(apps.migration(migration.migration));
    }
    app.migrate(db, None, |_, _| {})
        .await
        .unwrap_or_else(|e| panic!("migrate: {e}"));
    let left = app
        .unmigrated_apps()
        .expect("detect changes after migrating");
    assert!(
        left.is_empty(),
        "changes without a migration after migrating: {left:?}"
    );
    app
}
