//! Regressions found by the generated-models test (`tests/generated`),
//! each on the smallest model that shows it.

use axum::http::{Method, StatusCode};
use ferrobridge::migrations::{AppMigrations, DetectOptions, plan_migrations};
use ferrobridge::prelude::*;
use ferrobridge_tests::{TestDb, call, db_tests};
use serde_json::json;

/// An auto-increment `i16` key: SQLite takes AUTOINCREMENT only on an
/// `integer` column, so `migrate` failed there on CREATE TABLE.
#[derive(Model, Clone, Debug)]
#[model(app = "tiny")]
#[api(policy = "allow_any")]
pub struct Tiny {
    #[field(primary_key)]
    pub id: i16,
    /// `default = 3` on a float field did not compile.
    #[field(default = 3)]
    pub ratio: f64,
}

db_tests!(a_small_integer_key_migrates_and_counts);

async fn a_small_integer_key_migrates_and_counts(db: &TestDb) {
    let mut app = App::new("tiny").without_auth().model::<Tiny>();
    let changes = app
        .detect_changes(
            None,
            DetectOptions {
                renames: Vec::new(),
                ask: None,
                ..DetectOptions::default()
            },
        )
        .expect("detect changes");
    let dir = std::env::temp_dir().join("fb_tiny_migrations");
    let planned = plan_migrations(&app.migrator(), &changes, None, |_| {
        Some((dir.clone(), "m".into()))
    })
    .expect("plan");
    for planned in planned {
        let migrations = AppMigrations::new(&planned.app, dir.clone(), "m");
        app = app.migrations(migrations.migration(planned.migration));
    }
    app.migrate(&db.db, None, |_, _| {}).await.expect("migrate");
    let router = app.router(db.db.clone());
    for id in [1, 2] {
        let reply = call(&router, Method::POST, "/api/tinies", Some(json!({}))).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        assert_eq!(reply.json, json!({"id": id, "ratio": 3.0}));
    }
}

/// Referenced through an `i32` key.
#[derive(Model, Clone, Debug)]
#[model(app = "widths", display = "{name}")]
pub struct Shelf {
    #[field(primary_key)]
    pub id: i32,
    pub name: String,
}

/// A foreign key to an `i32` key, shown in the change list and the form.
#[derive(Model, Clone, Debug)]
#[model(app = "widths")]
#[admin(list_display(id, shelf_id), autocomplete(shelf_id))]
pub struct Jar {
    #[field(primary_key)]
    pub id: i64,
    #[field(references = Shelf)]
    pub shelf_id: i32,
}

db_tests!(admin_labels_bind_keys_with_their_width);

/// The change list looked labels up with the row's `i32`, the change form
/// with a parsed `i64`: on PostgreSQL the second use of the cached
/// statement answered 500 ("incorrect binary data format").
async fn admin_labels_bind_keys_with_their_width(db: &TestDb) {
    use ferrobridge_tests::{AdminClient, PASSWORD, UserKind, create_user};
    let app = App::new("widths").model::<Shelf>().model::<Jar>();
    app.create_tables(&db.db).await.expect("tables");
    create_user(&db.db, "root", UserKind::Superuser).await;
    let mut client = AdminClient::new(app.router(db.db.clone()));
    client.login("root", PASSWORD).await;
    let added = client
        .post("/admin/widths/shelf/add/", &[("name", "top")])
        .await;
    assert_eq!(added.status, StatusCode::FOUND, "{}", added.body);
    let added = client
        .post("/admin/widths/jar/add/", &[("shelf_id", "1")])
        .await;
    assert_eq!(added.status, StatusCode::FOUND, "{}", added.body);
    for _ in 0..12 {
        for uri in ["/admin/widths/jar/", "/admin/widths/jar/1/change/"] {
            let page = client.get(uri).await;
            assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.body);
        }
    }
}
