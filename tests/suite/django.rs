//! A database made by Django's own migrations (the stock Django 5.2
//! project of `tests/django`, pinned in `tests/django/requirements.txt`),
//! served by ferrobridge, then used by Django again: ferrobridge must leave
//! it Django's (password hashes, content types, admin history, migrations).
//!
//! Python comes from `FERROBRIDGE_DJANGO_PYTHON` (the `python` of a venv
//! with the requirements installed; `.ci/run` makes `target/django-venv`).
//! Unset, the test is skipped locally and fails in CI.

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use ferrobridge::__private::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use ferrobridge::admin::models::log_entry;
use ferrobridge::auth::models::{
    UserGroup, content_type, group, group_permission, permission, user, user_group, user_permission,
};
use ferrobridge::error::ApiError;
use ferrobridge::{App, Model};
use ferrobridge_tests::{AdminClient, Backend, TestDb, db_tests, token_login};
use serde_json::{Value, json};

db_tests!(django_round_trip, stale_link_content_types_are_removed);

const ADMIN_PASSWORD: &str = "Adm1n-pass-phrase";
const ALICE_PASSWORD: &str = "Al1ce-pass-phrase";
const ALICE_NEW_PASSWORD: &str = "Al1ce-changed-in-ferrobridge";
const BOB_PASSWORD: &str = "B0b-pass-phrase";

/// The Django project of `tests/django`, on one database.
struct Django {
    python: PathBuf,
    database_url: String,
}

impl Django {
    /// `None` (skipped) outside CI when `FERROBRIDGE_DJANGO_PYTHON` is unset.
    fn new(db: &TestDb) -> Option<Django> {
        let python = match std::env::var_os("FERROBRIDGE_DJANGO_PYTHON") {
            Some(python) if !python.is_empty() => PathBuf::from(python),
            _ if std::env::var_os("CI").is_some() => panic!(
                "CI runs the Django round trip: set FERROBRIDGE_DJANGO_PYTHON to the python of a \
                 venv with tests/django/requirements.txt installed (see .ci/run)"
            ),
            _ => {
                eprintln!("FERROBRIDGE_DJANGO_PYTHON is unset: the Django round trip is not run");
                return None;
            }
        };
        assert!(
            python.exists(),
            "FERROBRIDGE_DJANGO_PYTHON={} does not exist",
            python.display()
        );
        Some(Django {
            python,
            database_url: db.url.clone(),
        })
    }

    fn project() -> &'static Path {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/django"))
    }

    /// Runs `python <args>` in the project; returns stdout, panics on failure.
    async fn run(&self, args: Vec<String>) -> String {
        let mut command = std::process::Command::new(&self.python);
        command
            .args(&args)
            .current_dir(Self::project())
            .env("FERROBRIDGE_DJANGO_DATABASE_URL", &self.database_url)
            .env("PYTHONDONTWRITEBYTECODE", "1");
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("join")
            .expect("run python");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "python {args:?} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// `manage.py <args>`.
    async fn manage(&self, args: &[&str]) -> String {
        let mut all = vec!["manage.py".to_string()];
        all.extend(args.iter().map(|a| a.to_string()));
        self.run(all).await
    }

    /// One step of `tests/django/steps.py`; its JSON answer.
    async fn step(&self, step: &str, input: Value) -> Value {
        let args = vec!["steps.py".into(), step.into(), input.to_string()];
        let stdout = self.run(args).await;
        let last = stdout.lines().last().unwrap_or_default();
        serde_json::from_str(last).unwrap_or_else(|e| panic!("step {step}: {e}: {stdout}"))
    }
}

/// Every content type and permission, as Django's setup step lists them.
async fn permission_rows(db: &impl ConnectionTrait) -> (Value, Value) {
    let types = content_type::Entity::find().all(db).await.unwrap();
    let label = |id: i32| {
        types
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.app_label.clone())
            .unwrap_or_default()
    };
    let mut type_rows: Vec<(String, String)> = types
        .iter()
        .map(|t| (t.app_label.clone(), t.model.clone()))
        .collect();
    type_rows.sort();
    let mut perm_rows: Vec<(String, String, String)> = permission::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (label(p.content_type_id), p.codename, p.name))
        .collect();
    perm_rows.sort();
    (json!(type_rows), json!(perm_rows))
}

async fn stored_hash(db: &impl ConnectionTrait, username: &str) -> String {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await
        .unwrap()
        .expect("the user exists")
        .password
}

/// Django migrates and makes users; ferrobridge migrates, serves logins,
/// an admin change and a password change; Django then still works.
async fn django_round_trip(db: &TestDb) {
    let Some(django) = Django::new(db) else {
        return;
    };
    if db.backend == Backend::Mysql {
        // The server default Django meets on a stock MariaDB (the harness
        // makes its databases utf8mb4_bin): Django names no collation, so its
        // tables take this one.
        db.db
            .execute_unprepared("ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
            .await
            .unwrap();
    }
    django.manage(&["migrate", "--noinput", "-v0"]).await;
    let passwords =
        json!({ "admin": ADMIN_PASSWORD, "alice": ALICE_PASSWORD, "bob": BOB_PASSWORD });
    let setup = django
        .step("setup", json!({ "passwords": passwords }))
        .await;
    let group_id = setup["group_id"].as_i64().expect("group id");
    let djangos = (setup["content_types"].clone(), setup["permissions"].clone());
    assert_eq!(
        permission_rows(&db.db).await,
        djangos,
        "read as Django wrote them"
    );

    let app = App::new("djangosite");
    app.migrate(&db.db, None, |_, _| {})
        .await
        .expect("ferrobridge migrates Django's database");
    assert_eq!(
        permission_rows(&db.db).await,
        djangos,
        "ferrobridge adds no content type or permission to Django's"
    );
    assert_fresh_database_has_djangos_rows(&djangos).await;
    a_conflict_names_djangos_unique_together(db, group_id).await;

    let router = app.router(db.db.clone());
    for (username, password) in [("admin", ADMIN_PASSWORD), ("alice", ALICE_PASSWORD)] {
        let reply = token_login(&router, username, password).await;
        assert_eq!(reply.status, StatusCode::OK, "{username}: {:?}", reply.json);
        let hash = stored_hash(&db.db, username).await;
        assert!(
            hash.starts_with("argon2$argon2id$v=19$"),
            "{username}'s pbkdf2 hash is upgraded in Django's argon2 format: {hash}"
        );
    }
    assert_eq!(
        stored_hash(&db.db, "bob").await,
        setup["hashes"]["bob"].as_str().expect("bob's hash"),
        "a user who did not log in keeps Django's hash"
    );

    let mut admin = AdminClient::new(router.clone());
    admin.login("admin", ADMIN_PASSWORD).await;
    let mut alice = AdminClient::new(router.clone());
    alice.login("alice", ALICE_PASSWORD).await;
    // ferrobridge's change lands between two of Django's in the history.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let page = admin
        .post(
            &format!("/admin/auth/group/{group_id}/change/"),
            &[
                ("name", "editors-ferrobridge"),
                ("grouppermission-TOTAL_FORMS", "0"),
                ("grouppermission-INITIAL_FORMS", "0"),
                ("_save", "Save"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let page = alice
        .post(
            "/admin/password_change/",
            &[
                ("old_password", ALICE_PASSWORD),
                ("new_password1", ALICE_NEW_PASSWORD),
                ("new_password2", ALICE_NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    let logins = json!({
        "pbkdf2": ["bob", BOB_PASSWORD],
        "upgraded": ["admin", ADMIN_PASSWORD],
        "changed": ["alice", ALICE_NEW_PASSWORD],
        "old_password": ["alice", ALICE_PASSWORD],
    });
    let report = django
        .step(
            "verify",
            json!({ "group_id": group_id, "logins": logins, "admin_login": ["alice", ALICE_NEW_PASSWORD] }),
        )
        .await;
    assert_django_still_works(&report);
    assert_history_in_time_order(&report);
}

fn assert_django_still_works(report: &Value) {
    let check = report["check"].as_str().unwrap_or_default();
    assert!(check.contains("no issues"), "manage.py check: {check}");
    let migrations = report["showmigrations"].as_str().unwrap_or_default();
    assert!(
        migrations.contains("[X] 0012_alter_user_first_name_max_length")
            && !migrations.contains("[ ]"),
        "manage.py showmigrations: {migrations}"
    );
    assert_eq!(report["migration_problems"], json!([]), "{report:#}");
    assert_eq!(
        report["stale_content_types"],
        json!([]),
        "remove_stale_contenttypes would delete these"
    );
    assert_eq!(
        report["hashers"],
        json!({ "admin": "argon2", "alice": "argon2", "bob": "pbkdf2_sha256" }),
        "Django identifies every stored hash"
    );
    assert_eq!(
        report["authenticate"],
        json!({ "pbkdf2": true, "upgraded": true, "changed": true, "old_password": false }),
        "django.contrib.auth.authenticate()"
    );
    assert_eq!(report["admin_login"], json!(true), "Django's Client.login");
    assert_eq!(report["django_change_status"], json!(302), "{report:#}");
    assert_eq!(report["history_page_status"], json!(200), "{report:#}");
    assert_eq!(report["admin_index_status"], json!(200), "{report:#}");
}

/// Django's history page orders by `action_time`: Django's add, then
/// ferrobridge's change, then Django's change (the order they were made,
/// which their ids record).
fn assert_history_in_time_order(report: &Value) {
    let history = report["history"].as_array().expect("history");
    let ids: Vec<i64> = history.iter().filter_map(|e| e["id"].as_i64()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(history.len(), 3, "{history:#?}");
    let messages: Vec<(i64, &str)> = history
        .iter()
        .map(|e| {
            (
                e["flag"].as_i64().unwrap_or(0),
                e["message"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        messages,
        [(1, "Added."), (2, "Changed Name."), (2, "Changed Name.")],
        "Django reads ferrobridge's change message"
    );
    assert_eq!(
        ids, sorted,
        "Django lists the entries in the order they were made: {history:#?}"
    );
    let recent: Vec<i64> = report["recent_actions"]
        .as_array()
        .expect("recent actions")
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    assert!(
        recent.len() >= 3 && recent.windows(2).all(|w| w[0] > w[1]),
        "LogEntry's default ordering (-action_time) lists the newest first: {recent:?}"
    );
}

/// Django names a `unique_together` constraint with a digest
/// (`auth_user_groups_user_id_group_id_94350c0c_uniq`), which PostgreSQL and
/// MySQL report; the 409 still names the fields.
async fn a_conflict_names_djangos_unique_together(db: &TestDb, group_id: i64) {
    let admin_id = user::Entity::find()
        .filter(user::Column::Username.eq("admin"))
        .one(&db.db)
        .await
        .unwrap()
        .expect("Django's admin")
        .id;
    let membership = || user_group::ActiveModel {
        user_id: Set(admin_id),
        group_id: Set(group_id as i32),
        ..Default::default()
    };
    user_group::Entity::insert(membership())
        .exec_without_returning(&db.db)
        .await
        .unwrap();
    let duplicate = user_group::Entity::insert(membership())
        .exec_without_returning(&db.db)
        .await
        .expect_err("Django's unique constraint holds");
    let error = ferrobridge::write::db_error(UserGroup::meta(), duplicate);
    assert!(
        matches!(&error, ApiError::Conflict(message) if message.contains("with this user_id and group_id already exists")),
        "{error:?}"
    );
    user_group::Entity::delete_many()
        .filter(user_group::Column::UserId.eq(admin_id))
        .exec(&db.db)
        .await
        .unwrap();
}

/// A database ferrobridge makes from nothing has exactly the content types
/// and permissions Django's `migrate` makes for the same apps.
async fn assert_fresh_database_has_djangos_rows(djangos: &(Value, Value)) {
    let fresh = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    App::new("fresh")
        .migrate(&fresh.db, None, |_, _| {})
        .await
        .expect("migrate a fresh database");
    assert_eq!(&permission_rows(&fresh.db).await, djangos);
    fresh.finish().await;
}

/// Earlier versions gave auth's link tables content types and permissions
/// (which Django calls stale); `auth.0003_remove_link_content_types` deletes
/// exactly those, their grants, and clears admin log entries naming them.
async fn stale_link_content_types_are_removed(db: &TestDb) {
    let app = App::new("cleanup");
    app.migrate(&db.db, None, |_, _| {}).await.expect("migrate");
    app.migrate(&db.db, Some(("auth", Some("0002_unique_links"))), |_, _| {})
        .await
        .expect("unapply the cleanup");
    let (_, root_token) =
        ferrobridge_tests::create_user(&db.db, "root", ferrobridge_tests::UserKind::Superuser)
            .await;
    drop(root_token);
    let root = user::Entity::find().one(&db.db).await.unwrap().unwrap().id;
    let editors = group::ActiveModel {
        name: Set("editors".into()),
        ..Default::default()
    }
    .insert(&db.db)
    .await
    .unwrap()
    .id;
    let view_user = permission::Entity::find()
        .filter(permission::Column::Codename.eq("view_user"))
        .one(&db.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    grant(&db.db, root, editors, view_user).await;
    let mut stale_type = 0;
    for model in ["usergroup", "grouppermission", "userpermission"] {
        let (type_id, permissions) = stale_rows(&db.db, model).await;
        grant(&db.db, root, editors, permissions[0]).await;
        stale_type = type_id;
    }
    let kept = log(&db.db, root, None).await;
    let cleared = log(&db.db, root, Some(stale_type)).await;
    let before = permission_rows(&db.db).await;
    assert_eq!(before.0.as_array().unwrap().len(), 9, "{before:?}");

    app.migrate(&db.db, None, |_, _| {}).await.expect("migrate");
    let after = permission_rows(&db.db).await;
    assert_eq!(after.0.as_array().unwrap().len(), 6, "{after:?}");
    assert_eq!(after.1.as_array().unwrap().len(), 24, "{after:?}");
    let grants: Vec<i32> = user_permission::Entity::find()
        .all(&db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.permission_id)
        .chain(
            group_permission::Entity::find()
                .all(&db.db)
                .await
                .unwrap()
                .into_iter()
                .map(|g| g.permission_id),
        )
        .collect();
    assert_eq!(grants, [view_user, view_user], "only the live grants stay");
    let entries = log_entry::Entity::find().all(&db.db).await.unwrap();
    let content_types: Vec<(i32, Option<i32>)> =
        entries.iter().map(|e| (e.id, e.content_type_id)).collect();
    assert_eq!(
        content_types,
        [(kept.0, kept.1), (cleared.0, None)],
        "entries stay; the one naming a removed content type loses it"
    );
}

/// A content type and four permissions for auth's link model `model`, as
/// earlier versions made them.
async fn stale_rows(db: &impl ConnectionTrait, model: &str) -> (i32, Vec<i32>) {
    let type_id = content_type::ActiveModel {
        app_label: Set("auth".into()),
        model: Set(model.into()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap()
    .id;
    let mut permissions = Vec::new();
    for action in ["add", "change", "delete", "view"] {
        let row = permission::ActiveModel {
            name: Set(format!("Can {action} {model}")),
            content_type_id: Set(type_id),
            codename: Set(format!("{action}_{model}")),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        permissions.push(row.id);
    }
    (type_id, permissions)
}

async fn grant(db: &impl ConnectionTrait, user_id: i32, group_id: i32, permission_id: i32) {
    user_permission::ActiveModel {
        user_id: Set(user_id),
        permission_id: Set(permission_id),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    group_permission::ActiveModel {
        group_id: Set(group_id),
        permission_id: Set(permission_id),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
}

/// An admin log entry about content type `type_id` (the user's own when `None`).
async fn log(db: &impl ConnectionTrait, user_id: i32, type_id: Option<i32>) -> (i32, Option<i32>) {
    let type_id = match type_id {
        Some(id) => id,
        None => {
            content_type::Entity::find()
                .filter(content_type::Column::Model.eq("user"))
                .one(db)
                .await
                .unwrap()
                .unwrap()
                .id
        }
    };
    let row = log_entry::ActiveModel {
        action_time: Set(ferrobridge::__private::chrono::Utc::now()),
        user_id: Set(user_id),
        content_type_id: Set(Some(type_id)),
        object_id: Set(Some("1".into())),
        object_repr: Set("x".into()),
        action_flag: Set(2),
        change_message: Set("[]".into()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    (row.id, row.content_type_id)
}
