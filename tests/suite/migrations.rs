//! Versioned migrations on SQLite, PostgreSQL and MySQL: one model evolving through
//! five versions (each a struct in its own module sharing the table
//! `library_book`), migrated forwards and back with rows present; the
//! written migration file; and the commands that refuse to run unmigrated.

use ferrobridge::__private::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder,
};
use ferrobridge::App;
use ferrobridge::db::Connection;
use ferrobridge::migrations::{
    AppMigrations, DetectOptions, Migration, MigrationError, Operation, plan_migrations,
};
use ferrobridge_tests::{TestDb, db_tests};

/// Version 1: the initial model.
mod v1 {
    use ferrobridge::prelude::*;

    /// A book.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "library", table = "library_book")]
    pub struct Book {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 100)]
        pub title: String,
        pub pages: i32,
    }
}

/// Version 2: a field with a default.
mod v2 {
    use ferrobridge::prelude::*;

    /// A book.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "library", table = "library_book")]
    pub struct Book {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 100)]
        pub title: String,
        pub pages: i32,
        #[field(default = false)]
        pub published: bool,
    }
}

/// Version 3: `pages` becomes nullable.
mod v3 {
    use ferrobridge::prelude::*;

    /// A book.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "library", table = "library_book")]
    pub struct Book {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 100)]
        pub title: String,
        pub pages: Option<i32>,
        #[field(default = false)]
        pub published: bool,
    }
}

/// Version 4: `title` gets an index.
mod v4 {
    use ferrobridge::prelude::*;

    /// A book.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "library", table = "library_book")]
    pub struct Book {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 100, index)]
        pub title: String,
        pub pages: Option<i32>,
        #[field(default = false)]
        pub published: bool,
    }
}

/// Version 5: `title` is renamed `headline`.
mod v5 {
    use ferrobridge::prelude::*;

    /// A book.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "library", table = "library_book")]
    pub struct Book {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 100, index)]
        pub headline: String,
        pub pages: Option<i32>,
        #[field(default = false)]
        pub published: bool,
    }
}

/// The app of one version, with `migrations` registered (no auth tables:
/// they have their own migrations, tested through the blog).
fn app<M: ferrobridge::Model>(migrations: &AppMigrations) -> App {
    App::new("library")
        .without_auth()
        .model::<M>()
        .migrations(migrations.clone())
}

/// No migrations yet, kept in a directory of the temp dir.
fn empty_migrations(tag: &str) -> AppMigrations {
    let dir = std::env::temp_dir().join(format!(
        "fb_migrations_{tag}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    ));
    AppMigrations::new("library", dir, "src/migrations")
}

/// The migration `makemigrations` makes for `app`, renames given as flags.
fn next_migration(app: &App, renames: &[(&str, &str, &str)]) -> Migration {
    let renames = renames
        .iter()
        .map(|(m, o, n)| (m.to_string(), o.to_string(), n.to_string()))
        .collect();
    let changes = app
        .detect_changes(
            None,
            DetectOptions {
                renames,
                ..Default::default()
            },
        )
        .expect("detect changes");
    let planned = plan_migrations(&app.migrator(), &changes, None, |_| None).expect("plan");
    assert_eq!(planned.len(), 1, "one migration for app library");
    planned[0].migration.clone()
}

async fn migrate(app: &App, db: &Connection, target: Option<(&str, Option<&str>)>) {
    app.migrate(db, target, |_, _| {})
        .await
        .unwrap_or_else(|e| panic!("migrate to {target:?}: {e}"));
}

/// Every row of the table, as version `M` sees it.
async fn rows<M>(db: &Connection) -> Vec<M>
where
    M: ferrobridge::Model,
{
    <M::Entity as EntityTrait>::find()
        .order_by_asc(M::primary_key_column())
        .all(db)
        .await
        .expect("read rows")
        .into_iter()
        .map(M::from)
        .collect()
}

/// The five versions in order, each migrated with rows present, then back to the first.
async fn evolve(db: &TestDb) {
    let conn = &db.db;
    let mut migrations = empty_migrations("evolve");

    // Version 1: create.
    let initial = next_migration(&app::<v1::Book>(&migrations), &[]);
    assert_eq!(initial.name, "0001_initial");
    assert!(matches!(
        initial.operations[..],
        [Operation::CreateModel(_)]
    ));
    migrations = migrations.migration(initial);
    migrate(&app::<v1::Book>(&migrations), conn, None).await;
    for (title, pages) in [("Dune", 412), ("Emma", 474)] {
        v1::book::ActiveModel {
            title: Set(title.into()),
            pages: Set(pages),
            ..Default::default()
        }
        .insert(conn)
        .await
        .expect("insert v1");
    }
    let original = rows::<v1::Book>(conn).await;
    assert_eq!(original.len(), 2);

    // Version 2: a field with a default; existing rows take it.
    let add = next_migration(&app::<v2::Book>(&migrations), &[]);
    assert_eq!(add.name, "0002_book_add_published");
    assert!(matches!(add.operations[..], [Operation::AddField(_)]));
    migrations = migrations.migration(add);
    migrate(&app::<v2::Book>(&migrations), conn, None).await;
    let books = rows::<v2::Book>(conn).await;
    assert_eq!(
        books,
        vec![
            v2::Book {
                id: original[0].id,
                title: "Dune".into(),
                pages: 412,
                published: false
            },
            v2::Book {
                id: original[1].id,
                title: "Emma".into(),
                pages: 474,
                published: false
            },
        ]
    );

    // Version 3: nullable; a new row without pages.
    let nullable = next_migration(&app::<v3::Book>(&migrations), &[]);
    assert_eq!(nullable.name, "0003_book_alter_pages");
    migrations = migrations.migration(nullable);
    migrate(&app::<v3::Book>(&migrations), conn, None).await;
    v3::book::ActiveModel {
        title: Set("Ulysses".into()),
        pages: Set(None),
        published: Set(true),
        ..Default::default()
    }
    .insert(conn)
    .await
    .expect("a row with NULL pages");
    let books = rows::<v3::Book>(conn).await;
    assert_eq!(books.len(), 3);
    assert_eq!(
        (books[0].title.as_str(), books[0].pages),
        ("Dune", Some(412))
    );
    assert_eq!(books[2].pages, None);

    // Version 4: an index.
    let index = next_migration(&app::<v4::Book>(&migrations), &[]);
    assert_eq!(index.name, "0004_book_alter_title");
    match &index.operations[..] {
        [Operation::AlterField(op)] => assert!(op.field.index),
        other => panic!("expected AlterField, got {other:?}"),
    }
    migrations = migrations.migration(index);
    migrate(&app::<v4::Book>(&migrations), conn, None).await;
    let indexed = rows::<v4::Book>(conn).await;
    assert_eq!(indexed.len(), 3);

    // Version 5: a rename needs the flag without a terminal...
    let refused = app::<v5::Book>(&migrations)
        .detect_changes(None, DetectOptions::default())
        .expect_err("an unanswered possible rename");
    assert!(
        matches!(&refused, MigrationError::PossibleRename { model, old, new, .. }
            if model == "book" && old == "title" && new == "headline"),
        "{refused:?}"
    );
    assert!(
        refused.to_string().contains("--rename book.title=headline"),
        "{refused}"
    );
    // ... and with it, keeps every value.
    let rename = next_migration(
        &app::<v5::Book>(&migrations),
        &[("book", "title", "headline")],
    );
    assert_eq!(rename.name, "0005_book_rename_title_headline");
    assert!(matches!(rename.operations[..], [Operation::RenameField(_)]));
    migrations = migrations.migration(rename);
    let latest = app::<v5::Book>(&migrations);
    migrate(&latest, conn, None).await;
    assert!(
        latest.unmigrated_apps().expect("detect").is_empty(),
        "the models match the migrations"
    );
    let renamed = rows::<v5::Book>(conn).await;
    let headlines: Vec<&str> = renamed.iter().map(|b| b.headline.as_str()).collect();
    assert_eq!(headlines, ["Dune", "Emma", "Ulysses"]);
    assert_eq!(renamed[1].pages, Some(474));
    assert!(renamed[2].published);

    // Back to version 3: the index and the rename are undone, rows kept.
    migrate(&latest, conn, Some(("library", Some("0003")))).await;
    let back = rows::<v3::Book>(conn).await;
    let titles: Vec<&str> = back.iter().map(|b| b.title.as_str()).collect();
    assert_eq!(titles, ["Dune", "Emma", "Ulysses"]);
    assert_eq!(back[0].pages, Some(412));

    // Back to version 1 needs NOT NULL pages again: give Ulysses its pages first.
    let mut ulysses: v3::book::ActiveModel =
        <v3::book::Entity as EntityTrait>::find_by_id(back[2].id)
            .one(conn)
            .await
            .expect("read")
            .expect("Ulysses")
            .into();
    ulysses.pages = Set(Some(730));
    ulysses.update(conn).await.expect("update");
    migrate(&latest, conn, Some(("library", Some("0001_initial")))).await;
    let first = rows::<v1::Book>(conn).await;
    assert_eq!(&first[..2], &original[..]);
    assert_eq!((first[2].title.as_str(), first[2].pages), ("Ulysses", 730));

    // And forwards again to the latest, still every row.
    migrate(&latest, conn, None).await;
    assert_eq!(rows::<v5::Book>(conn).await.len(), 3);

    // `zero` drops the table.
    migrate(&latest, conn, Some(("library", Some("zero")))).await;
    let tables = ferrobridge::migrations::table_names(conn)
        .await
        .expect("tables");
    assert!(!tables.contains("library_book"), "{tables:?}");
}

/// `showmigrations` marks applied migrations `[X]`.
async fn showmigrations(db: &TestDb) {
    let mut migrations = empty_migrations("show");
    let next = next_migration(&app::<v1::Book>(&migrations), &[]);
    migrations = migrations.migration(next);
    let next = next_migration(&app::<v2::Book>(&migrations), &[]);
    migrations = migrations.migration(next);
    let app = app::<v2::Book>(&migrations);
    migrate(&app, &db.db, Some(("library", Some("0001")))).await;
    let shown = ferrobridge::cli::show_migrations(&app, &db.db, None)
        .await
        .expect("showmigrations");
    assert_eq!(
        shown,
        // `feed` is the change log's built-in app, in every project.
        "feed\n [ ] 0001_initial\n [ ] 0002_changeorder\nlibrary\n [X] 0001_initial\n [ ] 0002_book_add_published\n"
    );
}

/// `check` and `serve` refuse to run with unmigrated model changes or
/// unapplied migrations, saying which command fixes it.
async fn refuse_unmigrated(db: &TestDb) {
    let mut migrations = empty_migrations("refuse");
    let next = next_migration(&app::<v1::Book>(&migrations), &[]);
    migrations = migrations.migration(next);
    migrate(&app::<v1::Book>(&migrations), &db.db, None).await;

    // Models changed (version 2), no migration for it.
    let changed = app::<v2::Book>(&migrations);
    let problems = ferrobridge::cli::check(&changed, &db.url)
        .await
        .expect_err("check finds the change");
    assert!(
        problems.iter().any(|p| p.contains(
            "Your models in app 'library' have changes that are not yet reflected in a migration: run `cargo run -- makemigrations`"
        )),
        "{problems:?}"
    );
    let error = ferrobridge::cli::prepare_to_serve(&changed, &db.db, false)
        .await
        .expect_err("serve refuses");
    assert!(error.to_string().contains("makemigrations"), "{error}");

    // A migration for it, not applied.
    let next = next_migration(&changed, &[]);
    migrations = migrations.migration(next);
    let pending = app::<v2::Book>(&migrations);
    let error = ferrobridge::cli::prepare_to_serve(&pending, &db.db, false)
        .await
        .expect_err("serve refuses");
    assert!(
        error
            .to_string()
            .contains("library.0002_book_add_published")
            && error.to_string().contains("cargo run -- migrate"),
        "{error}"
    );
    let problems = ferrobridge::cli::check(&pending, &db.url)
        .await
        .expect_err("check finds the pending migration");
    assert!(
        problems.iter().any(|p| p.contains("unapplied")),
        "{problems:?}"
    );

    // Applied: both are satisfied.
    migrate(&pending, &db.db, None).await;
    ferrobridge::cli::check(&pending, &db.url)
        .await
        .expect("no issue");
    ferrobridge::cli::prepare_to_serve(&pending, &db.db, false)
        .await
        .expect("serve may start");

    // A change makemigrations cannot write without a decision (a NOT NULL
    // field appears as another goes): serve says it is unmigrated, and why.
    let mut renamed = empty_migrations("refuse_rename");
    let initial = next_migration(&app::<v4::Book>(&renamed), &[]);
    renamed = renamed.migration(initial);
    let error = ferrobridge::cli::prepare_to_serve(&app::<v5::Book>(&renamed), &db.db, false)
        .await
        .expect_err("serve refuses");
    let error = error.to_string();
    assert!(
        error.contains("not yet reflected in a migration")
            && error.contains("cannot add the NOT NULL field `library.book.headline`"),
        "{error}"
    );
}

/// A database made from the models (`create_tables`, or Django) gets its
/// initial migration recorded, not run, as `migrate --fake-initial`.
async fn existing_tables_fake_the_initial_migration(db: &TestDb) {
    let mut migrations = empty_migrations("fake");
    let initial = next_migration(&app::<v1::Book>(&migrations), &[]);
    migrations = migrations.migration(initial);
    let app = app::<v1::Book>(&migrations);
    app.create_tables(&db.db).await.expect("create tables");
    v1::book::ActiveModel {
        title: Set("Dune".into()),
        pages: Set(412),
        ..Default::default()
    }
    .insert(&db.db)
    .await
    .expect("insert");
    let mut outcomes = Vec::new();
    app.migrate(&db.db, None, |step, outcome| {
        outcomes.push((step.name.clone(), outcome))
    })
    .await
    .expect("migrate");
    // The library's and the change log's (`feed`) initial migrations,
    // and `feed`'s second, marked initial (its table exists too).
    let faked = |name: &str| {
        (
            name.to_string(),
            ferrobridge::migrations::StepOutcome::Faked,
        )
    };
    assert_eq!(
        outcomes,
        [
            faked("0001_initial"),
            faked("0002_changeorder"),
            faked("0001_initial")
        ]
    );
    assert_eq!(rows::<v1::Book>(&db.db).await.len(), 1);
}

/// Two apps, `catalog` and `shop`, with a foreign key from `shop` to `catalog`.
mod catalog {
    use ferrobridge::prelude::*;

    /// A product.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "catalog")]
    #[api(policy = "allow_any")]
    pub struct Product {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 50)]
        pub name: String,
    }
}

/// The app holding the cross-app foreign key.
mod shop {
    use ferrobridge::prelude::*;

    /// An order of a product of another app.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "shop")]
    #[api(policy = "allow_any")]
    pub struct Order {
        #[field(primary_key)]
        pub id: i64,
        #[field(references = super::catalog::Product, on_delete = "cascade")]
        pub product_id: i64,
        pub quantity: i32,
    }
}

/// Two apps referencing each other: `left.Left` -> `right.Right` -> `left.Left`.
mod left {
    use ferrobridge::prelude::*;

    /// One side of the cycle.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "left")]
    #[api(policy = "allow_any")]
    pub struct Left {
        #[field(primary_key)]
        pub id: i64,
        #[field(references = super::right::Right, on_delete = "set_null")]
        pub right_id: Option<i64>,
    }
}

/// The other side of the cycle.
mod right {
    use ferrobridge::prelude::*;

    /// The other side of the cycle.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "right")]
    #[api(policy = "allow_any")]
    pub struct Right {
        #[field(primary_key)]
        pub id: i64,
        #[field(references = super::left::Left, on_delete = "cascade")]
        pub left_id: i64,
    }
}

/// Empty migrations of each label, in a fresh temp directory.
fn empty_apps(tag: &str, labels: &[&str]) -> Vec<AppMigrations> {
    labels
        .iter()
        .map(|label| {
            let base = empty_migrations(&format!("{tag}_{label}"));
            AppMigrations::new(*label, base.manifest_dir, "src/migrations")
        })
        .collect()
}

/// `app` without auth, with `migrations` registered in their order.
fn with_migrations(mut app: App, migrations: &[AppMigrations]) -> App {
    app = app.without_auth();
    for m in migrations {
        app = app.migrations(m.clone());
    }
    app
}

/// What `makemigrations --noinput` plans for `app`: `(app, migration)` in order.
fn plan_all(app: &App) -> Vec<(String, Migration)> {
    let changes = app
        .detect_changes(None, DetectOptions::default())
        .expect("detect changes");
    plan_migrations(&app.migrator(), &changes, None, |_| None)
        .expect("plan")
        .into_iter()
        .map(|p| (p.app, p.migration))
        .collect()
}

/// `migrations` with the planned ones appended to their apps.
fn register(migrations: &[AppMigrations], planned: &[(String, Migration)]) -> Vec<AppMigrations> {
    let mut out = migrations.to_vec();
    for (app, migration) in planned {
        let entry = out.iter_mut().find(|m| m.app == *app).expect("an app");
        *entry = entry.clone().migration(migration.clone());
    }
    out
}

fn remove_dirs(migrations: &[AppMigrations]) {
    for m in migrations {
        std::fs::remove_dir_all(&m.manifest_dir).ok();
    }
}

/// A foreign key into another app makes the migration depend on that app's
/// migration creating the target, in the file and in the plan, whichever
/// app is registered first; `migrate` then creates the target table first.
async fn cross_app_dependency(db: &TestDb) {
    for shop_first in [true, false] {
        let labels = if shop_first {
            ["shop", "catalog"]
        } else {
            ["catalog", "shop"]
        };
        let migrations = empty_apps("cross", &labels);
        let mut app = App::new("cross");
        app = if shop_first {
            app.model::<shop::Order>().model::<catalog::Product>()
        } else {
            app.model::<catalog::Product>().model::<shop::Order>()
        };
        let app = with_migrations(app, &migrations);
        let planned = plan_all(&app);
        let names: Vec<(&str, &str)> = planned
            .iter()
            .map(|(a, m)| (a.as_str(), m.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [("catalog", "0001_initial"), ("shop", "0001_initial")]
        );
        assert_eq!(
            planned[1].1.dependencies,
            [("catalog".to_string(), "0001_initial".to_string())]
        );
        let file = ferrobridge::migrations::render_migration("shop", &planned[1].1);
        assert!(
            file.contains(r#".depends_on("catalog", "0001_initial")"#),
            "{file}"
        );
        // Registered in the app's order (shop's first when it comes first).
        let registered = with_migrations(
            if shop_first {
                App::new("cross")
                    .model::<shop::Order>()
                    .model::<catalog::Product>()
            } else {
                App::new("cross")
                    .model::<catalog::Product>()
                    .model::<shop::Order>()
            },
            &register(&migrations, &planned),
        );
        let mut steps = Vec::new();
        registered
            .migrate(&db.db, None, |step, _| {
                steps.push(format!("{}.{}", step.app, step.name))
            })
            .await
            .unwrap_or_else(|e| panic!("migrate (shop first: {shop_first}): {e}"));
        // The change log's `feed` app is migrated on the first round only.
        steps.retain(|step| !step.starts_with("feed."));
        assert_eq!(steps, ["catalog.0001_initial", "shop.0001_initial"]);
        let product = catalog::product::ActiveModel {
            name: Set("Tea".into()),
            ..Default::default()
        }
        .insert(&db.db)
        .await
        .expect("a product");
        shop::order::ActiveModel {
            product_id: Set(product.id),
            quantity: Set(2),
            ..Default::default()
        }
        .insert(&db.db)
        .await
        .expect("an order of it");
        assert!(registered.unmigrated_apps().expect("detect").is_empty());
        // Unapplying catalog unapplies shop first, which depends on it.
        let mut back = Vec::new();
        registered
            .migrate(&db.db, Some(("catalog", Some("zero"))), |step, _| {
                back.push(format!("{}.{}", step.app, step.name))
            })
            .await
            .expect("migrate catalog zero");
        assert_eq!(back, ["shop.0001_initial", "catalog.0001_initial"]);
        remove_dirs(&migrations);
    }
}

/// Migration files written before dependencies were declared still apply
/// in foreign-key order: the dependency is read from the operations.
async fn undeclared_dependency_is_read_from_foreign_keys(db: &TestDb) {
    let migrations = empty_apps("implicit", &["shop", "catalog"]);
    let app = with_migrations(
        App::new("implicit")
            .model::<shop::Order>()
            .model::<catalog::Product>(),
        &migrations,
    );
    let mut planned = plan_all(&app);
    for (_, migration) in &mut planned {
        migration.dependencies.clear();
    }
    let registered = with_migrations(
        App::new("implicit")
            .model::<shop::Order>()
            .model::<catalog::Product>(),
        &register(&migrations, &planned),
    );
    let mut steps = Vec::new();
    registered
        .migrate(&db.db, None, |step, _| {
            steps.push(format!("{}.{}", step.app, step.name))
        })
        .await
        .expect("migrate");
    assert_eq!(
        steps,
        [
            "feed.0001_initial",
            "feed.0002_changeorder",
            "catalog.0001_initial",
            "shop.0001_initial"
        ]
    );
    remove_dirs(&migrations);
}

/// A cycle of foreign keys between two apps is split as Django does: the
/// foreign key that closes it goes into the first app's second migration,
/// which depends on both initial migrations.
async fn cross_app_cycle(db: &TestDb) {
    let migrations = empty_apps("cycle", &["left", "right"]);
    let app = with_migrations(
        App::new("cycle")
            .model::<left::Left>()
            .model::<right::Right>(),
        &migrations,
    );
    let planned = plan_all(&app);
    let names: Vec<(&str, &str)> = planned
        .iter()
        .map(|(a, m)| (a.as_str(), m.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("left", "0001_initial"),
            ("right", "0001_initial"),
            ("left", "0002_left_add_right_id"),
        ]
    );
    match &planned[0].1.operations[..] {
        [Operation::CreateModel(create)] => {
            let fields: Vec<&str> = create.fields.iter().map(|f| f.name.as_str()).collect();
            assert_eq!(fields, ["id"]);
        }
        other => panic!("expected CreateModel, got {other:?}"),
    }
    assert_eq!(
        planned[1].1.dependencies,
        [("left".to_string(), "0001_initial".to_string())]
    );
    assert!(matches!(
        planned[2].1.operations[..],
        [Operation::AddField(_)]
    ));
    assert_eq!(
        planned[2].1.dependencies,
        [("right".to_string(), "0001_initial".to_string())]
    );
    let file = ferrobridge::migrations::render_migration("left", &planned[2].1);
    assert!(
        file.contains(r#".depends_on("right", "0001_initial")"#),
        "{file}"
    );
    // Registered the other way round, the plan still runs in dependency order.
    let registered = with_migrations(
        App::new("cycle")
            .model::<right::Right>()
            .model::<left::Left>(),
        &register(&migrations, &planned)
            .into_iter()
            .rev()
            .collect::<Vec<_>>(),
    );
    let mut steps = Vec::new();
    registered
        .migrate(&db.db, None, |step, _| {
            steps.push(format!("{}.{}", step.app, step.name))
        })
        .await
        .expect("migrate the cycle");
    assert_eq!(
        steps,
        [
            "feed.0001_initial",
            "feed.0002_changeorder",
            "left.0001_initial",
            "right.0001_initial",
            "left.0002_left_add_right_id"
        ]
    );
    assert!(registered.unmigrated_apps().expect("detect").is_empty());
    let first = left::left::ActiveModel {
        right_id: Set(None),
        ..Default::default()
    }
    .insert(&db.db)
    .await
    .expect("a left");
    let other = right::right::ActiveModel {
        left_id: Set(first.id),
        ..Default::default()
    }
    .insert(&db.db)
    .await
    .expect("a right");
    let mut first: left::left::ActiveModel = first.into();
    first.right_id = Set(Some(other.id));
    first.update(&db.db).await.expect("close the loop");
    remove_dirs(&migrations);
}

/// Two models of one app referencing each other.
mod ring {
    use ferrobridge::prelude::*;

    /// Created first; its key to `Beta` is added after `Beta` exists.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "ring")]
    #[api(policy = "allow_any")]
    pub struct Alpha {
        #[field(primary_key)]
        pub id: i64,
        #[field(references = Beta, on_delete = "set_null")]
        pub beta_id: Option<i64>,
    }

    /// References `Alpha`.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "ring")]
    #[api(policy = "allow_any")]
    pub struct Beta {
        #[field(primary_key)]
        pub id: i64,
        #[field(references = Alpha, on_delete = "cascade")]
        pub alpha_id: i64,
    }
}

/// A cycle inside one app: both tables are created, then the foreign key
/// that closes the cycle is added (PostgreSQL checks the referenced table).
async fn cycle_inside_an_app(db: &TestDb) {
    let migrations = empty_apps("ring", &["ring"]);
    let app = with_migrations(
        App::new("ring")
            .model::<ring::Alpha>()
            .model::<ring::Beta>(),
        &migrations,
    );
    let planned = plan_all(&app);
    assert_eq!(planned.len(), 1);
    let described: Vec<String> = planned[0]
        .1
        .operations
        .iter()
        .map(Operation::describe)
        .collect();
    assert_eq!(
        described,
        [
            "Create model alpha",
            "Create model beta",
            "Add field beta_id to alpha"
        ]
    );
    let registered = with_migrations(
        App::new("ring")
            .model::<ring::Alpha>()
            .model::<ring::Beta>(),
        &register(&migrations, &planned),
    );
    migrate(&registered, &db.db, None).await;
    assert!(registered.unmigrated_apps().expect("detect").is_empty());
    remove_dirs(&migrations);
}

/// `code` as text, then as an integer (table `convert_item`).
mod text_code {
    use ferrobridge::prelude::*;

    /// An item with a textual code.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "convert", table = "convert_item")]
    #[api(policy = "allow_any")]
    pub struct Item {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 20)]
        pub code: String,
    }
}

/// `code` as an integer.
mod int_code {
    use ferrobridge::prelude::*;

    /// An item with a numeric code.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "convert", table = "convert_item")]
    #[api(policy = "allow_any")]
    pub struct Item {
        #[field(primary_key)]
        pub id: i64,
        pub code: i32,
    }
}

fn convert_app<M: ferrobridge::Model>(migrations: &AppMigrations) -> App {
    App::new("convert")
        .without_auth()
        .model::<M>()
        .migrations(migrations.clone())
}

/// Every row, read on a new connection: PostgreSQL refuses a statement
/// prepared (and cached by the pool's connections) before its table's column
/// changed type ("cached plan must not change result type").
async fn rows_fresh<M: ferrobridge::Model>(db: &TestDb) -> Vec<M> {
    let conn = ferrobridge::db::connect(&db.url).await.expect("connect");
    let rows = rows::<M>(&conn).await;
    conn.close().await.ok();
    rows
}

/// A String field becoming an integer keeps numeric values (PostgreSQL
/// casts with `USING`); one value that is not a number fails the whole
/// migration, naming the column and the value, and changes nothing.
async fn text_to_integer(db: &TestDb) {
    let conn = &db.db;
    let base = empty_migrations("convert");
    let mut migrations = AppMigrations::new("convert", base.manifest_dir, "src/migrations");
    let initial = next_migration(&convert_app::<text_code::Item>(&migrations), &[]);
    migrations = migrations.migration(initial);
    let retype = next_migration(&convert_app::<int_code::Item>(&migrations), &[]);
    assert_eq!(retype.name, "0002_item_alter_code");
    migrations = migrations.migration(retype);
    let latest = convert_app::<int_code::Item>(&migrations);
    migrate(&latest, conn, Some(("convert", Some("0001")))).await;
    for code in ["12", "345"] {
        text_code::item::ActiveModel {
            code: Set(code.into()),
            ..Default::default()
        }
        .insert(conn)
        .await
        .expect("insert");
    }
    migrate(&latest, conn, None).await;
    let codes: Vec<i32> = rows_fresh::<int_code::Item>(db)
        .await
        .iter()
        .map(|i| i.code)
        .collect();
    assert_eq!(codes, [12, 345]);

    // Back to text (every integer converts), then one code that is no number.
    migrate(&latest, conn, Some(("convert", Some("0001")))).await;
    text_code::item::ActiveModel {
        code: Set("A-7".into()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .expect("insert");
    let error = latest
        .migrate(conn, None, |_, _| {})
        .await
        .expect_err("A-7 is no integer")
        .to_string();
    assert!(
        error.contains("cannot convert column `convert_item.code` from String to i32")
            && error.contains("A-7"),
        "{error}"
    );
    let codes: Vec<String> = rows_fresh::<text_code::Item>(db)
        .await
        .into_iter()
        .map(|i| i.code)
        .collect();
    assert_eq!(codes, ["12", "345", "A-7"], "nothing changed");
    let pending = ferrobridge::cli::pending_migrations(&latest, conn)
        .await
        .expect("pending");
    assert_eq!(pending, ["convert.0002_item_alter_code"]);
    std::fs::remove_dir_all(&migrations.manifest_dir).ok();
}

/// `rating` nullable, then NOT NULL without a default, then a new NOT NULL
/// `score` without a default (table `notes_note`).
mod note_v1 {
    use ferrobridge::prelude::*;

    /// A note, maybe rated.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "notes", table = "notes_note")]
    #[api(policy = "allow_any")]
    pub struct Note {
        #[field(primary_key)]
        pub id: i64,
        pub rating: Option<i32>,
    }
}

/// `rating` NOT NULL, without a default.
mod note_v2 {
    use ferrobridge::prelude::*;

    /// A rated note.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "notes", table = "notes_note")]
    #[api(policy = "allow_any")]
    pub struct Note {
        #[field(primary_key)]
        pub id: i64,
        pub rating: i32,
    }
}

/// A new NOT NULL `score`, without a default.
mod note_v3 {
    use ferrobridge::prelude::*;

    /// A rated, scored note.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "notes", table = "notes_note")]
    #[api(policy = "allow_any")]
    pub struct Note {
        #[field(primary_key)]
        pub id: i64,
        pub rating: i32,
        pub score: i32,
    }
}

fn notes_app<M: ferrobridge::Model>(migrations: &AppMigrations) -> App {
    App::new("notes")
        .without_auth()
        .model::<M>()
        .migrations(migrations.clone())
}

/// The migration for `app` with one-off defaults `defaults` (`app.model.field=VALUE`).
fn next_with_defaults(app: &App, defaults: &[&str]) -> Result<Migration, MigrationError> {
    let defaults = defaults
        .iter()
        .map(|d| ferrobridge::migrations::OneOffDefault::parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    let changes = app.detect_changes(
        None,
        DetectOptions {
            defaults,
            ..Default::default()
        },
    )?;
    let planned = plan_migrations(&app.migrator(), &changes, None, |_| None)?;
    Ok(planned[0].migration.clone())
}

/// A nullable field made NOT NULL without a default is refused, naming the
/// field and `--default`; with it, NULL rows get the value once. The same
/// for a new NOT NULL field on a table with rows.
async fn not_null_needs_a_one_off_default(db: &TestDb) {
    let conn = &db.db;
    let base = empty_migrations("notes");
    let mut migrations = AppMigrations::new("notes", base.manifest_dir, "src/migrations");
    let initial = next_migration(&notes_app::<note_v1::Note>(&migrations), &[]);
    migrations = migrations.migration(initial);
    migrate(&notes_app::<note_v1::Note>(&migrations), conn, None).await;
    for rating in [Some(5), None] {
        note_v1::note::ActiveModel {
            rating: Set(rating),
            ..Default::default()
        }
        .insert(conn)
        .await
        .expect("insert");
    }

    let v2 = notes_app::<note_v2::Note>(&migrations);
    let refused = next_with_defaults(&v2, &[]).expect_err("no value for the NULL rows");
    assert!(
        matches!(&refused, MigrationError::MadeNotNullWithoutDefault { field, .. } if field == "rating"),
        "{refused:?}"
    );
    let refused = refused.to_string();
    assert!(
        refused.contains(
            "cannot make NOT NULL the nullable field `notes.note.rating` without a default"
        ) && refused.contains("--default notes.note.rating=VALUE"),
        "{refused}"
    );
    let typo = next_with_defaults(&v2, &["note.rating=many"])
        .expect_err("not an integer")
        .to_string();
    assert!(typo.contains("`many` is not one"), "{typo}");
    // A hand-written AlterField without the value stops at `migrate`, saying why.
    let bare = Migration::new("0002_bare").operation(ferrobridge::migrations::AlterField::new(
        "note",
        ferrobridge::migrations::Field::integer("rating"),
    ));
    let error = notes_app::<note_v2::Note>(&migrations.clone().migration(bare))
        .migrate(conn, None, |_, _| {})
        .await
        .expect_err("NULL rows")
        .to_string();
    assert!(error.contains("rows hold NULL there"), "{error}");

    // The command says the same, and takes the value as `--default`.
    let command = |defaults: &[&str]| {
        ferrobridge::cli::make_migrations(
            &v2,
            &ferrobridge::cli::MakeMigrations {
                defaults: defaults.iter().map(|d| d.to_string()).collect(),
                noinput: true,
                dry_run: true,
                ..Default::default()
            },
        )
    };
    let refused = command(&[]).expect_err("refused").to_string();
    assert!(
        refused.contains("--default notes.note.rating=VALUE"),
        "{refused}"
    );
    let printed = command(&["notes.note.rating=0"]).expect("dry run");
    assert!(printed.contains(".one_off_default(0)"), "{printed}");
    let unused = command(&["notes.note.rating=0", "note.other=1"])
        .expect_err("no such change")
        .to_string();
    assert!(unused.contains("--default note.other=1"), "{unused}");
    let alter = next_with_defaults(&v2, &["notes.note.rating=0"]).expect("with a one-off");
    let file = ferrobridge::migrations::render_migration("notes", &alter);
    assert!(file.contains(".one_off_default(0)"), "{file}");
    migrations = migrations.migration(alter);
    let v2 = notes_app::<note_v2::Note>(&migrations);
    migrate(&v2, conn, None).await;
    let ratings: Vec<i32> = rows::<note_v2::Note>(conn)
        .await
        .iter()
        .map(|n| n.rating)
        .collect();
    assert_eq!(ratings, [5, 0]);
    assert!(v2.unmigrated_apps().expect("detect").is_empty());

    // A new NOT NULL field: refused alone, existing rows get the one-off value.
    let v3 = notes_app::<note_v3::Note>(&migrations);
    let refused = next_with_defaults(&v3, &[])
        .expect_err("no value for existing rows")
        .to_string();
    assert!(
        refused.contains("cannot add the NOT NULL field `notes.note.score` without a default")
            && refused.contains("--default notes.note.score=VALUE"),
        "{refused}"
    );
    let add = next_with_defaults(&v3, &["note.score=7"]).expect("with a one-off");
    migrations = migrations.migration(add);
    let v3 = notes_app::<note_v3::Note>(&migrations);
    migrate(&v3, conn, None).await;
    let scores: Vec<i32> = rows::<note_v3::Note>(conn)
        .await
        .iter()
        .map(|n| n.score)
        .collect();
    assert_eq!(scores, [7, 7]);
    assert!(v3.unmigrated_apps().expect("detect").is_empty());
    // The value was for existing rows only: a new row must say its score.
    let missing = note_v3::note::ActiveModel {
        rating: Set(1),
        ..Default::default()
    }
    .insert(conn)
    .await;
    assert!(missing.is_err(), "the column keeps no default");
    std::fs::remove_dir_all(&migrations.manifest_dir).ok();
}

db_tests!(
    evolve,
    showmigrations,
    refuse_unmigrated,
    existing_tables_fake_the_initial_migration,
    cross_app_dependency,
    undeclared_dependency_is_read_from_foreign_keys,
    cross_app_cycle,
    cycle_inside_an_app,
    text_to_integer,
    not_null_needs_a_one_off_default
);

/// `makemigrations --rename book.title=headline --noinput` writes the
/// migration file and the regenerated `mod.rs`.
#[test]
fn makemigrations_writes_the_file() {
    let mut migrations = empty_migrations("write");
    let next = next_migration(&app::<v1::Book>(&migrations), &[]);
    migrations = migrations.migration(next);
    let next = next_migration(&app::<v4::Book>(&migrations), &[]);
    migrations = migrations.migration(next);
    let latest = app::<v5::Book>(&migrations);
    let refused = ferrobridge::cli::make_migrations(
        &latest,
        &ferrobridge::cli::MakeMigrations {
            noinput: true,
            ..Default::default()
        },
    )
    .expect_err("a possible rename without the flag");
    assert!(
        refused.to_string().contains("--rename book.title=headline"),
        "{refused}"
    );
    let report = ferrobridge::cli::make_migrations(
        &latest,
        &ferrobridge::cli::MakeMigrations {
            renames: vec!["book.title=headline".into()],
            noinput: true,
            ..Default::default()
        },
    )
    .expect("makemigrations");
    let dir = migrations.path();
    let file = dir.join("m0003_book_rename_title_headline.rs");
    assert!(
        report.contains("- Rename field title on book to headline"),
        "{report}"
    );
    let migration = std::fs::read_to_string(&file).expect("the migration file");
    let module = std::fs::read_to_string(dir.join("mod.rs")).expect("mod.rs");
    insta::assert_snapshot!("migration_file", migration);
    let module = module.replace(&migrations.manifest_dir.display().to_string(), "<dir>");
    insta::assert_snapshot!("migration_module", module);
    let rename = next_migration(&latest, &[("book", "title", "headline")]);
    let registered = app::<v5::Book>(&migrations.clone().migration(rename));
    let again = ferrobridge::cli::make_migrations(
        &registered,
        &ferrobridge::cli::MakeMigrations {
            check: true,
            ..Default::default()
        },
    )
    .expect("no more changes");
    assert_eq!(again, "No changes detected\n");
    std::fs::remove_dir_all(&migrations.manifest_dir).ok();
}

/// On a terminal, a lost field and a new one of the same type are asked
/// about: "yes" makes a rename; "no" a removal plus an addition, refused
/// here because the new NOT NULL field has no default for existing rows.
#[test]
fn a_possible_rename_is_asked() {
    let mut migrations = empty_migrations("ask");
    let initial = next_migration(&app::<v4::Book>(&migrations), &[]);
    migrations = migrations.migration(initial);
    let app = app::<v5::Book>(&migrations);
    for answer in [true, false] {
        let mut questions = Vec::new();
        let mut ask = |question: &str| {
            questions.push(question.to_string());
            answer
        };
        let changes = app.detect_changes(
            None,
            DetectOptions {
                ask: Some(&mut ask),
                ..Default::default()
            },
        );
        assert_eq!(
            questions,
            ["Did you rename book.title to book.headline (a String)? [y/N]"]
        );
        match changes {
            Ok(changes) if answer => {
                let described: Vec<String> = changes.apps[0]
                    .operations
                    .iter()
                    .map(Operation::describe)
                    .collect();
                assert_eq!(described, ["Rename field title on book to headline"]);
            }
            Err(error) if !answer => assert!(
                error.to_string().contains(
                    "cannot add the NOT NULL field `library.book.headline` without a default"
                ),
                "{error}"
            ),
            other => panic!("answer {answer}: {other:?}"),
        }
    }
}

/// Hand-written migrations of app `parts` that change a table every way the
/// schema editor knows: unique keys, NOT NULL with a one-off value, an index
/// whose name is longer than MySQL's 64 characters, a renamed foreign key
/// column, a removed one; then all of it is unapplied and applied again.
fn parts_migrations() -> AppMigrations {
    use ferrobridge::migrations::prelude::*;
    let create = Migration::new("0001_initial")
        .operation(
            CreateModel::new("maker", "parts_maker")
                .field(Field::big_integer("id").primary_key().auto_increment())
                .field(Field::string("name").max_length(50)),
        )
        .operation(
            CreateModel::new("part", "parts_part")
                .field(Field::big_integer("id").primary_key().auto_increment())
                .field(Field::string("code").max_length(20))
                .field(
                    Field::big_integer("maker_id")
                        .null()
                        .references("parts_maker", "id")
                        .on_delete(OnDelete::Cascade)
                        .index(),
                )
                .field(Field::text("notes").null()),
        );
    let constrain = Migration::new("0002_constrain")
        .operation(AlterField::new(
            "part",
            Field::string("code").max_length(20).unique(),
        ))
        .operation(AlterField::new("part", Field::text("notes")).one_off_default("none"))
        .operation(AddIndex::new(
            "part",
            Index::new(LONG_INDEX, ["code", "notes"]),
        ));
    let rename =
        Migration::new("0003_rename").operation(RenameField::new("part", "maker_id", "vendor_id"));
    let remove = Migration::new("0004_remove")
        .operation(RemoveIndex::new("part", LONG_INDEX))
        .operation(RemoveField::new("part", "vendor_id"));
    AppMigrations::new("parts", std::env::temp_dir(), "parts_migrations")
        .migration(create)
        .migration(constrain)
        .migration(rename)
        .migration(remove)
}

/// Longer than the 64 characters MySQL takes for a name.
const LONG_INDEX: &str = "parts_part_an_index_whose_name_is_longer_than_mysql_takes_code_notes_idx";

/// Inserts a part with `code` and the given columns, as plain SQL values.
async fn insert_part(
    db: &Connection,
    values: &[(&str, ferrobridge::__private::sea_orm::Value)],
) -> Result<(), ferrobridge::__private::sea_orm::DbErr> {
    use ferrobridge::__private::sea_orm::ConnectionTrait;
    use ferrobridge::__private::sea_orm::sea_query::{Alias, Query};
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new("parts_part"))
        .columns(values.iter().map(|(c, _)| Alias::new(*c)));
    insert
        .values(values.iter().map(|(_, v)| v.clone().into()))
        .expect("as many values as columns");
    db.execute(&insert).await.map(|_| ())
}

async fn every_schema_change_applies_and_unapplies(db: &TestDb) {
    let conn = &db.db;
    let app = App::new("parts")
        .without_auth()
        .migrations(parts_migrations());
    migrate(&app, conn, Some(("parts", Some("0001_initial")))).await;
    use ferrobridge::__private::sea_orm::ConnectionTrait;
    use ferrobridge::__private::sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    conn.execute(
        Query::insert()
            .into_table(Alias::new("parts_maker"))
            .columns([Alias::new("id"), Alias::new("name")])
            .values_panic([1i64.into(), "Acme".into()]),
    )
    .await
    .expect("a maker");
    insert_part(conn, &[("code", "a".into()), ("maker_id", 1i64.into())])
        .await
        .expect("a part without notes");

    migrate(&app, conn, None).await;
    insert_part(conn, &[("code", "b".into()), ("notes", "x".into())])
        .await
        .expect("another code");
    insert_part(conn, &[("code", "a".into()), ("notes", "x".into())])
        .await
        .expect_err("`code` is unique");
    let row = conn
        .query_one(
            Query::select()
                .column(Alias::new("notes"))
                .from(Alias::new("parts_part"))
                .and_where(Expr::col(Alias::new("code")).eq("a")),
        )
        .await
        .expect("select")
        .expect("part a");
    let notes: String = row.try_get("", "notes").expect("notes");
    assert_eq!(notes, "none", "the NULL took the one-off value");

    // Back to the start: every operation's reverse, last first.
    migrate(&app, conn, Some(("parts", Some("0001_initial")))).await;
    insert_part(conn, &[("code", "a".into()), ("maker_id", 1i64.into())])
        .await
        .expect("`code` is no longer unique, `maker_id` is back");
    insert_part(conn, &[("code", "c".into()), ("maker_id", 99i64.into())])
        .await
        .expect_err("the foreign key is back");
    conn.execute(Query::delete().from_table(Alias::new("parts_part")))
        .await
        .expect("clear");

    // And forward again, over the names the first run left behind.
    migrate(&app, conn, None).await;
    migrate(&app, conn, Some(("parts", Some("zero")))).await;
    let tables = ferrobridge::db::table_names(conn).await.expect("tables");
    assert!(!tables.contains("parts_part"), "{tables:?}");
}

db_tests!(every_schema_change_applies_and_unapplies);

/// Runs the blog example's binary with `args` on the database at `url`.
fn blog_cli(url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_blog-example"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run the blog example")
}

/// The management commands as a process, on a fresh database: `serve`
/// refuses it unmigrated (SQLite's is migrated first, see `Command::Serve`),
/// `migrate` applies everything, `showmigrations` says so,
/// `makemigrations --check` finds no change, and `migrate blog zero` then
/// `migrate` go back and forth.
async fn the_cli_migrates_a_fresh_database(db: &TestDb) {
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    if !db.url.starts_with("sqlite") {
        let serve = blog_cli(&db.url, &["serve", "--bind", "127.0.0.1:0"]);
        assert!(!serve.status.success(), "{}", text(&serve));
        assert!(
            text(&serve).contains("unapplied migration"),
            "{}",
            text(&serve)
        );
    }
    let run = blog_cli(&db.url, &["migrate"]);
    assert!(run.status.success(), "{}", text(&run));
    assert!(
        text(&run).contains("Applying blog.0001_initial... OK"),
        "{}",
        text(&run)
    );
    let shown = blog_cli(&db.url, &["showmigrations"]);
    assert!(shown.status.success(), "{}", text(&shown));
    assert!(
        text(&shown).contains("[X] 0001_initial"),
        "{}",
        text(&shown)
    );
    assert!(!text(&shown).contains("[ ]"), "{}", text(&shown));
    let check = blog_cli(&db.url, &["makemigrations", "--check"]);
    assert!(check.status.success(), "{}", text(&check));
    let back = blog_cli(&db.url, &["migrate", "blog", "zero"]);
    assert!(back.status.success(), "{}", text(&back));
    assert!(
        text(&back).contains("Unapplying blog.0001_initial... OK"),
        "{}",
        text(&back)
    );
    let again = blog_cli(&db.url, &["migrate"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("Applying blog.0001_initial... OK"),
        "{}",
        text(&again)
    );
}

db_tests!(the_cli_migrates_a_fresh_database);
