//! The index of each model's default ordering (issue #15): `makemigrations`
//! writes it (and drops it when the ordering changes or the model opts
//! out), the database reports it once applied and not once unapplied,
//! `App::create_tables` makes it too, and SQLite's planner reads a list's
//! first page through it instead of sorting the table.

use ferrobridge::__private::sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use ferrobridge::__private::sea_orm::{ConnectionTrait, DbBackend, QueryTrait, Statement};
use ferrobridge::db::Connection;
use ferrobridge::migrations::{
    AppMigrations, DetectOptions, Migration, Operation, plan_migrations, render_migration,
};
use ferrobridge::query::{ListQuery, Pagination, page_select};
use ferrobridge::{App, Model as _};
use ferrobridge_tests::{TestDb, db_tests};

/// Version 1: entries newest first; comments ordered through their entry.
mod v1 {
    use ferrobridge::prelude::*;

    /// A journal entry.
    #[derive(Model, Clone, Debug)]
    #[model(app = "journal", table = "journal_entry", ordering = "-created_at")]
    pub struct Entry {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 100)]
        pub title: String,
        pub created_at: DateTimeUtc,
    }

    /// A comment, listed in its entries' title order (a join: no index).
    #[derive(Model, Clone, Debug)]
    #[model(app = "journal", table = "journal_comment", ordering = "entry__title")]
    pub struct Comment {
        #[field(primary_key)]
        pub id: i64,
        #[field(references = Entry, on_delete = "cascade")]
        pub entry_id: i64,
        #[field(max_length = 100)]
        pub body: String,
    }
}

/// Version 2: entries by title, then newest first.
mod v2 {
    use ferrobridge::prelude::*;

    /// A journal entry.
    #[derive(Model, Clone, Debug)]
    #[model(
        app = "journal",
        table = "journal_entry",
        ordering = "title,-created_at"
    )]
    pub struct Entry {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 100)]
        pub title: String,
        pub created_at: DateTimeUtc,
    }

    /// A comment, listed in its entries' title order (a join: no index).
    #[derive(Model, Clone, Debug)]
    #[model(app = "journal", table = "journal_comment", ordering = "entry__title")]
    pub struct Comment {
        #[field(primary_key)]
        pub id: i64,
        #[field(references = Entry, on_delete = "cascade")]
        pub entry_id: i64,
        #[field(max_length = 100)]
        pub body: String,
    }
}

/// Version 3: the same ordering, opted out of its index.
mod v3 {
    use ferrobridge::prelude::*;

    /// A journal entry.
    #[derive(Model, Clone, Debug)]
    #[model(
        app = "journal",
        table = "journal_entry",
        ordering = "title,-created_at",
        ordering_index = false
    )]
    pub struct Entry {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 100)]
        pub title: String,
        pub created_at: DateTimeUtc,
    }

    /// A comment, listed in its entries' title order (a join: no index).
    #[derive(Model, Clone, Debug)]
    #[model(app = "journal", table = "journal_comment", ordering = "entry__title")]
    pub struct Comment {
        #[field(primary_key)]
        pub id: i64,
        #[field(references = Entry, on_delete = "cascade")]
        pub entry_id: i64,
        #[field(max_length = 100)]
        pub body: String,
    }
}

/// Orderings an index of the table already serves, so none is made.
mod covered {
    use ferrobridge::prelude::*;

    /// Ordered by its primary key.
    #[derive(Model, Clone, Debug)]
    #[model(app = "covered", ordering = "-id")]
    pub struct ByKey {
        #[field(primary_key)]
        pub id: i64,
        pub rank: i32,
    }

    /// Ordered by a unique NOT NULL field.
    #[derive(Model, Clone, Debug)]
    #[model(app = "covered", ordering = "code,rank")]
    pub struct ByUnique {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 20, unique)]
        pub code: String,
        pub rank: i32,
    }

    /// Ordered by a `unique_together` group, in one direction.
    #[derive(Model, Clone, Debug)]
    #[model(app = "covered", ordering = "-b,-a", unique_together(a, b))]
    pub struct ByGroup {
        #[field(primary_key)]
        pub id: i64,
        pub a: i32,
        pub b: i32,
    }

    /// The same group in mixed directions: the unique index does not
    /// serve that order, so an ordering index is made.
    #[derive(Model, Clone, Debug)]
    #[model(app = "covered", ordering = "b,-a", unique_together(a, b))]
    pub struct Mixed {
        #[field(primary_key)]
        pub id: i64,
        pub a: i32,
        pub b: i32,
    }
}

fn app<E: ferrobridge::Model, C: ferrobridge::Model>(migrations: &AppMigrations) -> App {
    App::new("journal")
        .without_auth()
        .model::<E>()
        .model::<C>()
        .migrations(migrations.clone())
}

fn empty_migrations(tag: &str) -> AppMigrations {
    let dir = std::env::temp_dir().join(format!(
        "fb_ordering_index_{tag}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    ));
    AppMigrations::new("journal", dir, "src/migrations")
}

/// What `makemigrations` makes for `app`: `None` when nothing changed.
fn next_migration(app: &App) -> Option<Migration> {
    let changes = app
        .detect_changes(None, DetectOptions::default())
        .expect("detect changes");
    let planned = plan_migrations(&app.migrator(), &changes, None, |_| None).expect("plan");
    assert!(planned.len() <= 1, "one migration at most: {planned:?}");
    planned.first().map(|p| p.migration.clone())
}

async fn migrate(app: &App, db: &Connection, target: Option<(&str, Option<&str>)>) {
    app.migrate(db, target, |_, _| {})
        .await
        .unwrap_or_else(|e| panic!("migrate to {target:?}: {e}"));
}

/// The names of `table`'s indexes, as the database reports them.
async fn index_names(db: &Connection, table: &str) -> Vec<String> {
    let name = |column: &str| Expr::col(Alias::new(column));
    let query = match db.get_database_backend() {
        DbBackend::Sqlite => Query::select()
            .expr_as(name("name"), Alias::new("name"))
            .from(Alias::new("sqlite_master"))
            .and_where(name("type").eq("index"))
            .and_where(name("tbl_name").eq(table))
            .to_owned(),
        DbBackend::Postgres => Query::select()
            .expr_as(name("indexname"), Alias::new("name"))
            .from(Alias::new("pg_indexes"))
            .and_where(name("tablename").eq(table))
            .and_where(name("schemaname").eq(Func::cust(Alias::new("current_schema"))))
            .to_owned(),
        _ => Query::select()
            .distinct()
            .expr_as(name("index_name"), Alias::new("name"))
            .from((Alias::new("information_schema"), Alias::new("statistics")))
            .and_where(name("table_schema").eq(Func::cust(Alias::new("database"))))
            .and_where(name("table_name").eq(table))
            .to_owned(),
    };
    let rows = db.query_all(&query).await.expect("list indexes");
    let mut names: Vec<String> = rows
        .into_iter()
        .map(|row| row.try_get("", "name").expect("index name"))
        .collect();
    names.sort();
    names
}

/// The AddIndex operations of `migration`, as `(model, name, columns)`.
fn added_indexes(migration: &Migration) -> Vec<(String, String, Vec<String>)> {
    (migration.operations.iter())
        .filter_map(|op| match op {
            Operation::AddIndex(add) => Some((
                add.model.clone(),
                add.index.name.clone(),
                add.index.columns.clone(),
            )),
            _ => None,
        })
        .collect()
}

/// The names the RemoveIndex operations of `migration` drop.
fn removed_indexes(migration: &Migration) -> Vec<String> {
    (migration.operations.iter())
        .filter_map(|op| match op {
            Operation::RemoveIndex(remove) => Some(remove.name.clone()),
            _ => None,
        })
        .collect()
}

/// SQLite's plan of the first page of `E`'s list, one line per step.
async fn first_page_plan<E: ferrobridge::Model>(db: &Connection) -> Vec<String> {
    plan::<E>(db, &ListQuery::page(E::meta(), 1, 20)).await
}

/// SQLite's plan of the page `query` asks for, one line per step.
async fn plan<E: ferrobridge::Model>(db: &Connection, query: &ListQuery) -> Vec<String> {
    let statement = page_select::<E>(db, query)
        .expect("the page's SELECT")
        .build(DbBackend::Sqlite);
    let explain = Statement::from_sql_and_values(
        DbBackend::Sqlite,
        format!("EXPLAIN QUERY PLAN {}", statement.sql),
        statement.values.map(|v| v.0).unwrap_or_default(),
    );
    db.query_all_raw(explain)
        .await
        .expect("explain")
        .into_iter()
        .map(|row| row.try_get::<String>("", "detail").expect("detail"))
        .collect()
}

/// SQLite's plan of a cursor page of `E`'s list after the row `after`
/// (its ordering values), one line per step.
async fn cursor_page_plan<E: ferrobridge::Model>(
    db: &Connection,
    after: Vec<serde_json::Value>,
) -> Vec<String> {
    let mut query = ListQuery::page(E::meta(), 1, 20);
    query.pagination = Pagination::Cursor {
        after: Some(after),
        page_size: 20,
    };
    plan::<E>(db, &query).await
}

/// Created with the model, dropped and re-added as the ordering changes,
/// dropped on opting out; each step reported by the database, unapplied
/// back to the start; SQLite's planner reads the first page through it.
async fn makemigrations_writes_the_ordering_index(db: &TestDb) {
    let conn = &db.db;
    let mut migrations = empty_migrations("evolve");
    let newest_first = v1::Entry::meta()
        .ordering_index()
        .expect("-created_at is indexed");
    assert_eq!(newest_first.columns, ["-created_at", "id"]);
    assert!(
        newest_first
            .name
            .starts_with("journal_entry_created_at_id_")
    );
    assert!(newest_first.name.ends_with("_idx") && newest_first.name.len() <= 63);
    assert_eq!(v1::Comment::meta().ordering_index(), None, "a join");

    // Version 1: created with the models; the comment's ordering has none.
    let initial = next_migration(&app::<v1::Entry, v1::Comment>(&migrations)).expect("initial");
    assert_eq!(
        added_indexes(&initial),
        [(
            "entry".to_string(),
            newest_first.name.clone(),
            newest_first.columns.clone()
        )]
    );
    let file = render_migration("journal", &initial);
    assert!(
        file.contains(&format!(
            "AddIndex::new(\"entry\", Index::new({:?}, [\"-created_at\", \"id\"]))",
            newest_first.name
        )),
        "{file}"
    );
    migrations = migrations.migration(initial);
    let v1_app = app::<v1::Entry, v1::Comment>(&migrations);
    assert_eq!(next_migration(&v1_app), None, "a second run is a no-op");
    migrate(&v1_app, conn, None).await;
    assert!(
        index_names(conn, "journal_entry")
            .await
            .contains(&newest_first.name)
    );
    if db.backend == ferrobridge_tests::Backend::Sqlite {
        let plan = first_page_plan::<v1::Entry>(conn).await;
        assert!(
            plan.iter().all(|step| !step.contains("TEMP B-TREE")),
            "the first page sorts nothing: {plan:?}"
        );
        assert!(
            plan.iter().any(|step| step.contains(&newest_first.name)),
            "the first page reads the index: {plan:?}"
        );
        // A page deep in the list starts reading the index at the cursor
        // (a range search), not at the first row.
        let deep = cursor_page_plan::<v1::Entry>(
            conn,
            vec![
                serde_json::json!("2026-01-01T00:00:00Z"),
                serde_json::json!(7),
            ],
        )
        .await;
        assert!(
            deep.iter().any(|step| step.starts_with("SEARCH")
                && step.contains(&newest_first.name)
                && step.contains("created_at<")),
            "a cursor page searches the index from the cursor: {deep:?}"
        );
    }

    // Version 2: a new ordering replaces the index.
    let by_title = v2::Entry::meta().ordering_index().expect("indexed");
    assert_eq!(by_title.columns, ["title", "-created_at", "id"]);
    let change = next_migration(&app::<v2::Entry, v2::Comment>(&migrations)).expect("changed");
    assert_eq!(
        removed_indexes(&change),
        std::slice::from_ref(&newest_first.name)
    );
    assert_eq!(
        added_indexes(&change),
        [(
            "entry".to_string(),
            by_title.name.clone(),
            by_title.columns.clone()
        )]
    );
    assert_eq!(change.operations.len(), 2, "{:?}", change.operations);
    migrations = migrations.migration(change);
    let v2_app = app::<v2::Entry, v2::Comment>(&migrations);
    assert_eq!(next_migration(&v2_app), None);
    migrate(&v2_app, conn, None).await;
    let names = index_names(conn, "journal_entry").await;
    assert!(names.contains(&by_title.name), "{names:?}");
    assert!(!names.contains(&newest_first.name), "{names:?}");

    // Version 3: opted out, the index goes; the list sorts again.
    assert_eq!(v3::Entry::meta().ordering_index(), None);
    let opt_out = next_migration(&app::<v3::Entry, v3::Comment>(&migrations)).expect("opt out");
    assert_eq!(
        removed_indexes(&opt_out),
        std::slice::from_ref(&by_title.name)
    );
    assert_eq!(opt_out.operations.len(), 1, "{:?}", opt_out.operations);
    migrations = migrations.migration(opt_out);
    let v3_app = app::<v3::Entry, v3::Comment>(&migrations);
    assert_eq!(next_migration(&v3_app), None);
    migrate(&v3_app, conn, None).await;
    let names = index_names(conn, "journal_entry").await;
    assert!(!names.contains(&by_title.name), "{names:?}");
    if db.backend == ferrobridge_tests::Backend::Sqlite {
        let plan = first_page_plan::<v3::Entry>(conn).await;
        assert!(
            plan.iter()
                .any(|step| step.contains("USE TEMP B-TREE FOR ORDER BY")),
            "without the index the table is sorted: {plan:?}"
        );
    }

    // Back: each unapplied step restores the index before it.
    migrate(&v3_app, conn, Some(("journal", Some("0002")))).await;
    assert!(
        index_names(conn, "journal_entry")
            .await
            .contains(&by_title.name)
    );
    migrate(&v3_app, conn, Some(("journal", Some("0001")))).await;
    let names = index_names(conn, "journal_entry").await;
    assert!(names.contains(&newest_first.name), "{names:?}");
    assert!(!names.contains(&by_title.name), "{names:?}");
    migrate(&v3_app, conn, Some(("journal", Some("zero")))).await;
    assert_eq!(
        index_names(conn, "journal_entry").await,
        Vec::<String>::new()
    );
}

/// A database made without migrations gets the index too, once however
/// often the tables are created.
async fn create_tables_makes_the_ordering_index(db: &TestDb) {
    let app = app::<v2::Entry, v2::Comment>(&empty_migrations("create"));
    app.create_tables(&db.db).await.expect("create tables");
    app.create_tables(&db.db)
        .await
        .expect("create tables again");
    let index = v2::Entry::meta().ordering_index().expect("indexed");
    let names = index_names(&db.db, "journal_entry").await;
    assert!(names.contains(&index.name), "{names:?}");
    if db.backend == ferrobridge_tests::Backend::Sqlite {
        let plan = first_page_plan::<v2::Entry>(&db.db).await;
        assert!(
            plan.iter().all(|step| !step.contains("TEMP B-TREE")),
            "{plan:?}"
        );
    }
}

db_tests!(
    makemigrations_writes_the_ordering_index,
    create_tables_makes_the_ordering_index
);

/// No index where one the table has anyway serves the ordering.
#[test]
fn covered_orderings_get_no_index() {
    assert_eq!(covered::ByKey::meta().ordering_index(), None);
    assert_eq!(covered::ByUnique::meta().ordering_index(), None);
    assert_eq!(covered::ByGroup::meta().ordering_index(), None);
    let mixed = covered::Mixed::meta().ordering_index().expect("mixed");
    assert_eq!(mixed.columns, ["b", "-a", "id"]);
}

/// The name is deterministic, at most 63 characters however long the
/// table and columns, and tells directions apart.
#[test]
fn ordering_index_names() {
    use ferrobridge::model::ordering_index_name;
    let name = ordering_index_name("blog_post", &["-created_at", "id"]);
    assert_eq!(
        name,
        ordering_index_name("blog_post", &["-created_at", "id"])
    );
    assert_ne!(
        name,
        ordering_index_name("blog_post", &["created_at", "id"])
    );
    let long = "t".repeat(80);
    let cut = ordering_index_name(&long, &["a_very_long_column_name", "id"]);
    assert_eq!(cut.len(), 63, "{cut}");
    assert!(cut.ends_with("_idx"));
}

/// The examples' migrations (and the built-in apps') hold their ordering
/// indexes: `makemigrations --check` finds nothing to write. The
/// permissions example orders permissions through a join and opts its
/// content types out (Django's unique index serves them).
#[test]
fn the_examples_migrations_are_up_to_date() {
    for app in [blog::app(), permissions::app()] {
        let report = ferrobridge::cli::make_migrations(
            &app,
            &ferrobridge::cli::MakeMigrations {
                check: true,
                ..Default::default()
            },
        )
        .expect("no changes");
        assert_eq!(report, "No changes detected\n");
    }
}
