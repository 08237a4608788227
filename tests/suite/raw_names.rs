//! Raw identifiers and keyword names: a field `r#type` is called `type`
//! everywhere (JSON key, column, filter/ordering/search names, OpenAPI,
//! admin label and input, migration), raw-named foreign keys work, and
//! structs whose entity module would be a keyword (`Where` -> `r#where`,
//! `Crate` -> `crate_`) compile and are served.

use axum::http::{Method, StatusCode};
use ferrobridge::__private::sea_orm::{ConnectionTrait, DatabaseBackend, IdenStatic, Statement};
use ferrobridge::prelude::*;
use ferrobridge_tests::{Backend, TestDb, call, db_tests};
use serde_json::json;

/// Kinds of things; the struct's module is `r#type`.
#[derive(Model, Clone, Debug)]
#[model(app = "kw", display = "{type}")]
#[api(filter(r#async), search(r#type), ordering(r#type))]
pub struct Type {
    #[field(primary_key)]
    pub id: i64,
    #[field(max_length = 40)]
    pub r#type: String,
    #[field(default = false)]
    pub r#async: bool,
    /// A self-reference with a raw keyword name.
    #[field(references = Type, on_delete = "set_null")]
    pub r#ref: Option<i64>,
}

/// The main model: its module is `r#where`; its fields are keywords.
#[derive(Model, Clone, Debug)]
#[model(app = "kw", ordering = "-r#type")]
#[api(
    filter(r#type, r#match, r#type_id),
    search(type),
    ordering(r#type, r#ref, id)
)]
#[admin(
    list_display(id, r#type, r#match),
    list_filter(r#match),
    search(r#type)
)]
pub struct Where {
    #[field(primary_key)]
    pub id: i64,
    #[field(max_length = 50, min_length = 1)]
    pub r#type: String,
    #[field(default = false)]
    pub r#match: bool,
    pub r#ref: Option<i32>,
    #[field(references = Type, on_delete = "cascade")]
    pub r#type_id: i64,
    #[field(references = Type, on_delete = "set_null")]
    pub r#parent_id: Option<i64>,
}

/// `crate` cannot be raw: the module is `crate_`.
#[derive(Model, Clone, Debug)]
#[model(app = "kw")]
pub struct Crate {
    #[field(primary_key)]
    pub id: i64,
    pub r#use: String,
}

/// `super` cannot be raw either: `super_`.
#[derive(Model, Clone, Debug)]
#[model(app = "kw")]
pub struct Super {
    #[field(primary_key)]
    pub id: i64,
}

/// Module `r#match`.
#[derive(Model, Clone, Debug)]
#[model(app = "kw", plural = "matches")]
pub struct Match {
    #[field(primary_key)]
    pub id: i64,
    #[field(references = Where)]
    pub r#where_id: Option<i64>,
}

/// Modules `r#async`, `r#dyn`, `r#try`, `r#gen`; `self_ref` is plain.
macro_rules! keyword_models {
    ($($name:ident),*) => {$(
        #[derive(Model, Clone, Debug)]
        #[model(app = "kw")]
        pub struct $name {
            #[field(primary_key)]
            pub id: i64,
            pub r#struct: Option<String>,
        }
    )*};
}
keyword_models!(Async, Dyn, Try, Gen, SelfRef);

/// Names that are not their own snake_case: SeaORM would call the
/// columns `type` and `kind`; they keep the names as written.
#[derive(Model, Clone, Debug)]
#[model(app = "kw")]
#[api(filter(type_), search(kind_), ordering(type_))]
pub struct Trailing {
    #[field(primary_key)]
    pub id: i64,
    #[field(max_length = 20)]
    pub type_: String,
    pub kind_: Option<String>,
}

db_tests!(trailing_underscores_keep_their_columns);

async fn trailing_underscores_keep_their_columns(db: &TestDb) {
    let app = App::new("kw").model::<Trailing>();
    let router = ferrobridge_tests::authed_router(&app, &db.db).await;
    assert_eq!(columns(db, "kw_trailing").await, ["id", "type_", "kind_"]);
    for (type_, kind_) in [("b", "second"), ("a", "first")] {
        let reply = call(
            &router,
            Method::POST,
            "/api/trailings",
            Some(json!({"type_": type_, "kind_": kind_})),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    }
    let list = call(&router, Method::GET, "/api/trailings?ordering=type_", None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.json);
    assert_eq!(list.json["items"][0]["kind_"], "first");
    let found = call(
        &router,
        Method::GET,
        "/api/trailings?type_=b&search=sec",
        None,
    )
    .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.json);
    assert_eq!(found.json["total"], 1, "{}", found.json);
}

fn kw_app() -> App {
    App::new("kw")
        .model::<Type>()
        .model::<Where>()
        .model::<Crate>()
        .model::<Super>()
        .model::<Match>()
        .model::<Async>()
        .model::<Dyn>()
        .model::<Try>()
        .model::<Gen>()
        .model::<SelfRef>()
}

/// The generated names, as documented: raw modules, `_`-suffixed ones,
/// and the columns SeaORM derives from raw fields.
#[test]
fn generated_names_follow_the_keyword_rule() {
    let _: (r#type::Entity, r#where::Entity) = (r#type::Entity, r#where::Entity);
    assert_eq!(<Where as ferrobridge::Model>::meta().fields[1].name, "type");
    assert_eq!(IdenStatic::as_str(&r#where::Column::Type), "type");
    assert_eq!(IdenStatic::as_str(&r#where::Column::TypeId), "type_id");
    let _ = r#where::Relation::Type;
    let _ = r#where::Relation::Parent;
    let _ = r#type::Relation::Ref;
    let _ = crate_::Entity;
    let _ = super_::Entity;
    let _ = (
        r#match::Entity,
        r#async::Entity,
        r#dyn::Entity,
        r#try::Entity,
    );
    let _ = (r#gen::Entity, self_ref::Entity);
    assert_eq!(Crate::meta().table, "kw_crate");
    assert_eq!(Crate::meta().fields[1].name, "use");
    assert!(!WhereCreate::default_match());
}

db_tests!(raw_names_work_end_to_end);

/// Column names of `table` as the database has them.
async fn columns(db: &TestDb, table: &str) -> Vec<String> {
    let (backend, sql) = match db.backend {
        Backend::Sqlite => (
            DatabaseBackend::Sqlite,
            format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
        ),
        Backend::Mysql => (
            DatabaseBackend::MySql,
            format!(
                "SELECT column_name AS name FROM information_schema.columns WHERE table_name = '{table}' AND table_schema = DATABASE() ORDER BY ordinal_position"
            ),
        ),
        Backend::Postgres => (
            DatabaseBackend::Postgres,
            format!(
                "SELECT column_name AS name FROM information_schema.columns WHERE table_name = '{table}' ORDER BY ordinal_position"
            ),
        ),
    };
    let rows = db
        .db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("columns");
    rows.iter()
        .map(|r| r.try_get::<String>("", "name").expect("name"))
        .collect()
}

async fn raw_names_work_end_to_end(db: &TestDb) {
    let router = ferrobridge_tests::authed_router(&kw_app(), &db.db).await;
    assert_eq!(
        columns(db, "kw_where").await,
        ["id", "type", "match", "ref", "type_id", "parent_id"]
    );
    assert_eq!(columns(db, "kw_type").await, ["id", "type", "async", "ref"]);

    let kind = call(
        &router,
        Method::POST,
        "/api/types",
        Some(json!({"type": "k"})),
    )
    .await;
    assert_eq!(kind.status, StatusCode::CREATED, "{:?}", kind.json);
    assert_eq!(
        kind.json,
        json!({"id": 1, "type": "k", "async": false, "ref": null})
    );
    let child = call(
        &router,
        Method::POST,
        "/api/types",
        Some(json!({"type": "child", "ref": 1, "async": true})),
    )
    .await;
    assert_eq!(child.status, StatusCode::CREATED, "{:?}", child.json);

    for (kind, matched) in [("beta", true), ("alpha", false), ("gamma", true)] {
        let body = json!({"type": kind, "match": matched, "type_id": 1, "parent_id": 2, "ref": 7});
        let made = call(&router, Method::POST, "/api/wheres", Some(body)).await;
        assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.json);
        assert!(made.json.get("r#type").is_none(), "{:?}", made.json);
    }
    // The old spelling is an unknown key, as any other.
    let raw = call(
        &router,
        Method::POST,
        "/api/wheres",
        Some(json!({"r#type": "x", "type_id": 1})),
    )
    .await;
    assert_eq!(raw.status, StatusCode::UNPROCESSABLE_ENTITY);
    let invalid = call(
        &router,
        Method::POST,
        "/api/wheres",
        Some(json!({"type": "", "type_id": 1})),
    )
    .await;
    assert_eq!(invalid.json["detail"][0]["loc"], json!(["body", "type"]));

    let got = call(&router, Method::GET, "/api/wheres/1", None).await;
    assert_eq!(
        got.json,
        json!({"id": 1, "type": "beta", "match": true, "ref": 7, "type_id": 1, "parent_id": 2})
    );
    let patched = call(
        &router,
        Method::PATCH,
        "/api/wheres/1",
        Some(json!({"type": "delta", "match": false})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.json);
    assert_eq!(patched.json["type"], json!("delta"));

    let list = |query: &str| {
        let router = router.clone();
        let uri = format!("/api/wheres?{query}");
        async move {
            let reply = call(&router, Method::GET, &uri, None).await;
            assert_eq!(reply.status, StatusCode::OK, "{uri}: {:?}", reply.json);
            reply.json["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| i["type"].as_str().expect("type").to_string())
                .collect::<Vec<_>>()
        }
    };
    // Default ordering `-type`.
    assert_eq!(list("").await, ["gamma", "delta", "alpha"]);
    assert_eq!(list("ordering=type").await, ["alpha", "delta", "gamma"]);
    assert_eq!(list("ordering=-ref,id").await, ["delta", "alpha", "gamma"]);
    assert_eq!(list("type=alpha").await, ["alpha"]);
    assert_eq!(
        list("type__in=alpha,gamma&ordering=type").await,
        ["alpha", "gamma"]
    );
    assert_eq!(list("match=true").await, ["gamma"]);
    assert_eq!(list("type_id=1").await.len(), 3);
    assert_eq!(list("search=ELT").await, ["delta"]);
    let refused = call(&router, Method::GET, "/api/wheres?r%23type=alpha", None).await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        refused.json
    );
    assert_eq!(
        call(
            &router,
            Method::GET,
            "/api/types?search=chi&async=true",
            None
        )
        .await
        .json["total"],
        json!(1)
    );
    let expanded = call(&router, Method::GET, "/api/wheres/1?expand=type", None).await;
    assert_eq!(expanded.status, StatusCode::OK, "{:?}", expanded.json);

    let openapi = call(&router, Method::GET, "/openapi.json", None).await.json;
    let schemas = &openapi["components"]["schemas"];
    for schema in ["WhereCreate", "WhereRead", "WhereUpdate"] {
        let properties = schemas[schema]["properties"].as_object().expect(schema);
        assert!(properties.contains_key("type"), "{schema}: {properties:?}");
        assert!(properties.keys().all(|k| !k.contains('#')), "{schema}");
    }
    let parameters = openapi["paths"]["/api/wheres"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    let names: Vec<&str> = parameters
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        names.contains(&"type") && names.contains(&"type__in"),
        "{names:?}"
    );
    assert!(names.iter().all(|n| !n.contains('#')), "{names:?}");

    let mut admin = ferrobridge_tests::AdminClient::new(router.clone());
    admin.login("root", ferrobridge_tests::PASSWORD).await;
    let changelist = admin.get("/admin/kw/where/?q=delta&match__exact=0").await;
    assert_eq!(changelist.status, StatusCode::OK, "{}", changelist.body);
    assert!(changelist.body.contains(">Type<"), "{}", changelist.body);
    assert!(!changelist.body.contains("R#"), "{}", changelist.body);
    assert!(changelist.body.contains("delta"), "{}", changelist.body);
    let sorted = admin.get("/admin/kw/where/?o=2").await;
    assert_eq!(sorted.status, StatusCode::OK, "{}", sorted.body);
    let form = admin.get("/admin/kw/where/add/").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("name=\"type\""), "{}", form.body);
    assert!(form.body.contains("name=\"type_id\""), "{}", form.body);
    assert!(
        form.body.contains(">Type:<") || form.body.contains(">Type<"),
        "{}",
        form.body
    );
    assert!(!form.body.contains("r#"), "{}", form.body);
    let csrf = admin.csrf();
    let added = admin
        .post(
            "/admin/kw/where/add/",
            &[
                ("csrfmiddlewaretoken", &csrf),
                ("type", "from-admin"),
                ("type_id", "1"),
                ("parent_id", ""),
                ("ref", ""),
            ],
        )
        .await;
    assert!(
        added.status == StatusCode::FOUND || added.status == StatusCode::SEE_OTHER,
        "{}",
        added.body
    );
    assert_eq!(list("type=from-admin").await, ["from-admin"]);

    for path in [
        "/api/crates",
        "/api/supers",
        "/api/matches",
        "/api/asyncs",
        "/api/dyns",
        "/api/tries",
        "/api/gens",
        "/api/self_refs",
    ] {
        let made = call(&router, Method::POST, path, Some(json!({}))).await;
        assert!(
            made.status.is_success() || made.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{path}"
        );
        let listed = call(&router, Method::GET, path, None).await;
        assert_eq!(listed.status, StatusCode::OK, "{path}: {:?}", listed.json);
    }
    let deleted = call(&router, Method::DELETE, "/api/types/1", None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:?}", deleted.json);
    assert_eq!(
        list("").await.len(),
        0,
        "on_delete = cascade through r#type_id"
    );
}

/// `makemigrations` writes the column `type`, never `r#type`.
#[test]
fn makemigrations_writes_unraw_column_names() {
    let dir = std::env::temp_dir().join(format!("fb_raw_migrations_{}", std::process::id()));
    let migrations = ferrobridge::migrations::AppMigrations::new("kw", dir, "src/migrations");
    let app = App::new("kw")
        .without_auth()
        .model::<Type>()
        .model::<Where>()
        .migrations(migrations.clone());
    ferrobridge::cli::make_migrations(
        &app,
        &ferrobridge::cli::MakeMigrations {
            noinput: true,
            ..Default::default()
        },
    )
    .expect("makemigrations");
    let written: String = std::fs::read_dir(migrations.path())
        .expect("migrations dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name() != "mod.rs")
        .map(|e| std::fs::read_to_string(e.path()).expect("read"))
        .collect();
    assert!(written.contains("\"type\""), "{written}");
    assert!(written.contains("\"type_id\""), "{written}");
    assert!(!written.contains("r#"), "{written}");
    std::fs::remove_dir_all(&migrations.manifest_dir).ok();
}
