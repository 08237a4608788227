//! Versioned migrations on SQLite and PostgreSQL: one model evolving through
//! five versions (each a struct in its own module sharing the table
//! `library_book`), migrated forwards and back with rows present; the
//! written migration file; and the commands that refuse to run unmigrated.

use ferrobridge::__private::sea_orm::{
    ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder,
};
use ferrobridge::App;
use ferrobridge::db::Connection;
use ferrobridge::migrations::{
    AppMigrations, DetectOptions, Migration, Operation, plan_migrations,
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
        .detect_changes(None, DetectOptions { renames, ask: None })
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
        .detect_changes(
            None,
            DetectOptions {
                renames: Vec::new(),
                ask: None,
            },
        )
        .expect_err("an unanswered possible rename");
    assert!(
        refused.contains("--rename book.title=headline"),
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
        "library\n [X] 0001_initial\n [ ] 0002_book_add_published\n"
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
    assert_eq!(
        outcomes,
        [(
            "0001_initial".to_string(),
            ferrobridge::migrations::StepOutcome::Faked
        )]
    );
    assert_eq!(rows::<v1::Book>(&db.db).await.len(), 1);
}

db_tests!(
    evolve,
    showmigrations,
    refuse_unmigrated,
    existing_tables_fake_the_initial_migration
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
                renames: Vec::new(),
                ask: Some(&mut ask),
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
                error.contains(
                    "cannot add the NOT NULL field `library.book.headline` without a default"
                ),
                "{error}"
            ),
            other => panic!("answer {answer}: {other:?}"),
        }
    }
}
