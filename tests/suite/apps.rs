//! Two apps with models of the same name served together: each keeps its
//! own routes, schemas, operationIds and tags (app-qualified, whatever the
//! registration order), and a route clash that remains is an error returned
//! by `App` and reported by `check`, before any database is touched.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use ferrobridge::App;
use ferrobridge::cli::Command;
use ferrobridge::prelude::*;
use ferrobridge_tests::{AdminClient, PASSWORD, TestDb, authed_router, call, db_tests};
use serde_json::{Value, json};

mod billing {
    use ferrobridge::prelude::*;

    /// Where an invoice stands in billing.
    #[derive(Choices, Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Status {
        /// Not paid yet
        Open,
        /// Paid
        Paid,
    }

    /// An invoice we send.
    #[derive(Model, Clone, Debug)]
    #[model(app = "billing")]
    pub struct Invoice {
        #[field(primary_key)]
        pub id: i64,
        pub amount: i64,
        #[field(choices, default = Status::Open)]
        pub status: Status,
    }
}

mod sales {
    use ferrobridge::prelude::*;

    /// Where an invoice stands in sales.
    #[derive(Choices, Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Status {
        /// Being written
        Draft,
        /// Sent to the customer
        Sent,
    }

    /// An invoice a salesperson drafts.
    #[derive(Model, Clone, Debug)]
    #[model(app = "sales")]
    pub struct Invoice {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 100)]
        pub customer: String,
        #[field(choices, default = Status::Draft)]
        pub status: Status,
    }
}

mod accounts {
    use ferrobridge::prelude::*;

    /// A player profile, not an account.
    #[derive(Model, Clone, Debug)]
    #[model(app = "accounts")]
    pub struct User {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 40)]
        pub nickname: String,
    }
}

mod transfers {
    use ferrobridge::prelude::*;

    /// Moves an invoice from billing to sales: two enums named `Status`.
    #[derive(Model, Clone, Debug)]
    #[model(app = "billing")]
    pub struct Transfer {
        #[field(primary_key)]
        pub id: i64,
        #[field(choices)]
        pub from_status: super::billing::Status,
        #[field(choices)]
        pub to_status: super::sales::Status,
    }
}

fn shop() -> App {
    App::new("shop")
        .model::<billing::Invoice>()
        .model::<sales::Invoice>()
        .model::<accounts::User>()
}

fn shop_reversed() -> App {
    App::new("shop")
        .model::<accounts::User>()
        .model::<sales::Invoice>()
        .model::<billing::Invoice>()
}

db_tests!(both_invoices_and_both_users_are_served);

async fn both_invoices_and_both_users_are_served(db: &TestDb) {
    let router = authed_router(&shop(), &db.db).await;
    let created = call(
        &router,
        Method::POST,
        "/api/billing/invoices",
        Some(json!({ "amount": 5, "status": "paid" })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    assert_eq!(created.headers["location"], "/api/billing/invoices/1");
    assert_eq!(
        created.json,
        json!({ "id": 1, "amount": 5, "status": "paid" })
    );
    let created = call(
        &router,
        Method::POST,
        "/api/sales/invoices",
        Some(json!({ "customer": "Ann" })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    assert_eq!(created.headers["location"], "/api/sales/invoices/1");
    assert_eq!(
        created.json,
        json!({ "id": 1, "customer": "Ann", "status": "draft" })
    );
    // Each reads its own body: billing's field is unknown to sales.
    let wrong = call(
        &router,
        Method::POST,
        "/api/sales/invoices",
        Some(json!({ "customer": "Bo", "amount": 3 })),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let patched = call(
        &router,
        Method::PATCH,
        "/api/sales/invoices/1",
        Some(json!({ "status": "sent" })),
    )
    .await;
    assert_eq!(patched.json["status"], "sent");
    let billing = call(&router, Method::GET, "/api/billing/invoices/1", None).await;
    assert_eq!(billing.json["status"], "paid");
    let list = call(&router, Method::GET, "/api/sales/invoices", None).await;
    assert_eq!(list.json["total"], 1);
    assert_eq!(list.json["items"][0]["customer"], "Ann");
    let deleted = call(&router, Method::DELETE, "/api/billing/invoices/1", None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let list = call(&router, Method::GET, "/api/billing/invoices", None).await;
    assert_eq!(list.json["total"], 0);
    assert_eq!(
        call(&router, Method::GET, "/api/sales/invoices/1", None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        call(&router, Method::GET, "/api/invoices", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The app's own User beside the built-in one: both qualified.
    let profile = call(
        &router,
        Method::POST,
        "/api/accounts/users",
        Some(json!({ "nickname": "ace" })),
    )
    .await;
    assert_eq!(profile.status, StatusCode::CREATED, "{:?}", profile.json);
    let accounts = call(&router, Method::GET, "/api/accounts/users", None).await;
    assert_eq!(
        accounts.json["items"],
        json!([{ "id": 1, "nickname": "ace" }])
    );
    let auth = call(&router, Method::GET, "/api/auth/users", None).await;
    assert_eq!(auth.status, StatusCode::OK, "{:?}", auth.json);
    assert_eq!(auth.json["items"][0]["username"], "root");
    // Models whose names nobody shares keep their plain ones.
    let groups = call(&router, Method::GET, "/api/groups", None).await;
    assert_eq!(groups.status, StatusCode::OK);
    // The admin tells them apart by app label, as Django's does.
    let mut admin = AdminClient::new(router);
    admin.login("root", PASSWORD).await;
    let page = admin.get("/admin/accounts/user/1/change/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("ace"));
    let page = admin.get("/admin/auth/user/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("root"));
    let page = admin.get("/admin/sales/invoice/1/change/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Ann"));
}

/// Every `$ref` in `value`, as component names.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.trim_start_matches("#/components/schemas/").to_string());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

fn operation_ids(doc: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            ids.push(operation["operationId"].as_str().unwrap().to_string());
        }
    }
    ids
}

fn tags(doc: &Value) -> Vec<String> {
    doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

fn properties(doc: &Value, schema: &str) -> BTreeSet<String> {
    doc["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no component {schema}"))
        .keys()
        .cloned()
        .collect()
}

fn ok_schema<'a>(doc: &'a Value, path: &str, method: &str, status: &str) -> &'a Value {
    &doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
}

#[test]
fn the_document_keeps_same_named_models_apart() {
    let doc = shop().openapi();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for prefix in ["BillingInvoice", "SalesInvoice", "AuthUser", "AccountsUser"] {
        for suffix in ["Create", "Update", "Read", "Page", "CursorPage"] {
            assert!(
                schemas.contains_key(&format!("{prefix}{suffix}")),
                "{prefix}{suffix}"
            );
        }
    }
    for plain in [
        "InvoiceRead",
        "UserRead",
        "UserPage",
        "Status",
        "UserCreate2",
    ] {
        assert!(!schemas.contains_key(plain), "{plain} is ambiguous");
    }
    // No name depends on schemars' collision numbering.
    for name in schemas.keys() {
        assert!(!name.ends_with(|c: char| c.is_ascii_digit()), "{name}");
    }
    // Each component has its own model's fields.
    assert!(properties(&doc, "AuthUserRead").contains("username"));
    assert!(!properties(&doc, "AuthUserRead").contains("nickname"));
    assert_eq!(
        properties(&doc, "AccountsUserRead"),
        ["id", "nickname"].map(String::from).into()
    );
    assert!(properties(&doc, "BillingInvoiceCreate").contains("amount"));
    assert!(properties(&doc, "SalesInvoiceCreate").contains("customer"));
    assert_eq!(schemas["BillingStatus"]["enum"], json!(["open", "paid"]));
    assert_eq!(schemas["SalesStatus"]["enum"], json!(["draft", "sent"]));
    // The built-in /api/auth/users is documented with auth's User.
    let list = ok_schema(&doc, "/api/auth/users", "get", "200");
    assert_eq!(
        list["anyOf"][0]["$ref"],
        "#/components/schemas/AuthUserPage"
    );
    assert_eq!(
        schemas["AuthUserPage"]["properties"]["items"]["items"]["$ref"],
        "#/components/schemas/AuthUserRead"
    );
    assert_eq!(
        ok_schema(&doc, "/api/accounts/users/{pk}", "get", "200")["$ref"],
        "#/components/schemas/AccountsUserRead"
    );
    assert!(doc["paths"]["/api/users"].is_null());
    assert!(doc["paths"]["/api/invoices"].is_null());
    assert!(doc["paths"]["/api/groups"].is_object());
    // Every reference resolves.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for name in &all {
        assert!(schemas.contains_key(name), "dangling $ref {name}");
    }

    let ids = operation_ids(&doc);
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate operationIds: {ids:?}");
    for id in [
        "billing_list_invoices",
        "sales_create_invoice",
        "auth_partial_update_user",
        "accounts_delete_user",
        "list_groups",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id}");
    }
    let tags = tags(&doc);
    let unique: BTreeSet<&String> = tags.iter().collect();
    assert_eq!(unique.len(), tags.len(), "duplicate tags: {tags:?}");
    for tag in [
        "billing.Invoice",
        "sales.Invoice",
        "auth.User",
        "accounts.User",
        "Group",
    ] {
        assert!(tags.iter().any(|t| t == tag), "{tag}");
    }
    let tag = &doc["paths"]["/api/sales/invoices"]["post"]["tags"];
    assert_eq!(tag, &json!(["sales.Invoice"]));
}

#[test]
fn names_do_not_depend_on_registration_order() {
    let (a, b) = (shop().openapi(), shop_reversed().openapi());
    assert_eq!(a["components"], b["components"]);
    assert_eq!(a["paths"], b["paths"]);
    let (mut ta, mut tb) = (tags(&a), tags(&b));
    ta.sort();
    tb.sort();
    assert_eq!(ta, tb);
    let names = |app: App| {
        let mut names: Vec<(String, String)> = app
            .model_names()
            .into_iter()
            .map(|(meta, names)| {
                (
                    format!("{}.{}", meta.app_label, meta.object_name),
                    names.path,
                )
            })
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(shop()), names(shop_reversed()));
}

#[test]
fn model_at_keeps_its_path_and_still_gets_distinct_names() {
    let app = App::new("shop")
        .model_at::<billing::Invoice>("/billing/invoices")
        .model_at::<sales::Invoice>("/sales/invoices/");
    assert!(app.route_problems().is_empty());
    let doc = app.openapi();
    assert!(doc["paths"]["/billing/invoices/{pk}"]["put"].is_object());
    assert!(doc["paths"]["/sales/invoices"]["get"].is_object());
    assert_eq!(
        doc["paths"]["/sales/invoices"]["get"]["operationId"],
        "sales_list_invoices"
    );
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("SalesInvoiceCursorPage"));
    assert!(schemas.contains_key("BillingInvoicePage"));
    assert!(!schemas.contains_key("InvoicePage"));
    // One invoice alone keeps the plain names.
    let doc = App::new("shop").model::<sales::Invoice>().openapi();
    assert!(doc["paths"]["/api/invoices"].is_object());
    assert!(doc["components"]["schemas"]["InvoiceRead"].is_object());
    assert!(doc["components"]["schemas"]["Status"].is_object());
}

async fn hello() -> &'static str {
    "hello"
}

fn clash(app: App, expected: &str) {
    let problems = app.route_problems();
    assert!(
        problems.iter().any(|p| p.contains(expected)),
        "{expected:?} not in {problems:?}"
    );
}

#[tokio::test]
async fn remaining_clashes_are_errors_not_panics() {
    clash(
        App::new("shop")
            .model_at::<billing::Invoice>("/invoices")
            .model_at::<sales::Invoice>("/invoices"),
        "GET, POST `/invoices` is routed twice, by the model billing.Invoice and by the model sales.Invoice",
    );
    clash(
        shop().route("/api/billing/invoices", get(hello)),
        "GET `/api/billing/invoices` is routed twice, by a hand-written route and by the model billing.Invoice",
    );
    clash(
        App::new("shop")
            .model::<sales::Invoice>()
            .route("/api/invoices/{id}", axum::routing::post(hello)),
        "the routes `/api/invoices/{id}` (a hand-written route) and `/api/invoices/{pk}` (the model sales.Invoice) differ only in their parameters' names",
    );
    clash(
        App::new("shop")
            .route("/hello", get(hello))
            .route("/hello", get(hello).post(hello)),
        "GET `/hello` is routed twice, by a hand-written route and by a hand-written route",
    );
    clash(
        App::new("shop").route("/healthz", get(hello)),
        "GET `/healthz` is routed twice",
    );
    clash(
        App::new("shop").admin_page("/admin/login/", "Login", get(hello)),
        "GET `/admin/login/` is routed twice, by the admin site and by an admin page",
    );
    clash(
        App::new("shop")
            .model::<billing::Invoice>()
            .model_at::<billing::Invoice>("/again"),
        "models billing.Invoice and billing.Invoice would have the same names",
    );
    // Different methods on one path are one route.
    let fine = App::new("shop")
        .route("/hello", get(hello))
        .route("/hello", axum::routing::post(hello));
    assert_eq!(fine.route_problems(), Vec::<String>::new());
    let db = ferrobridge::db::connect("sqlite::memory:").await.unwrap();
    assert!(fine.try_router(db.clone()).is_ok());
    let error = App::new("shop")
        .route("/hello", get(hello))
        .route("/hello", get(hello))
        .try_router(db)
        .expect_err("a clash is an error");
    assert!(error.to_string().contains("GET `/hello` is routed twice"));
}

fn clashing() -> App {
    App::new("shop")
        .model_at::<billing::Invoice>("/invoices")
        .model_at::<sales::Invoice>("/invoices")
}

#[tokio::test]
async fn check_reports_clashes_and_serve_touches_no_database() {
    let dir = std::env::temp_dir().join(format!("fb-apps-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("shop.sqlite3");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let problems = ferrobridge::cli::check(&clashing(), &url)
        .await
        .unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("routes: GET, POST `/invoices` is routed twice")),
        "{problems:?}"
    );
    let error = ferrobridge::cli::execute(clashing(), Command::Check { deploy: false }, &url)
        .await
        .unwrap_err();
    assert!(error.to_string().starts_with("system check identified"));
    let bind = "127.0.0.1:0".parse().unwrap();
    let error = ferrobridge::cli::execute(clashing(), Command::Serve { bind }, &url)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("`/invoices` is routed twice"),
        "{error}"
    );
    assert!(
        !file.exists(),
        "serve created {} before refusing",
        file.display()
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn two_enums_of_one_name_in_one_model_stay_two_schemas() {
    let doc = App::new("shop").model::<transfers::Transfer>().openapi();
    let schemas = &doc["components"]["schemas"];
    let choices = |field: &str| {
        let mut names = Vec::new();
        refs(&schemas["TransferCreate"]["properties"][field], &mut names);
        schemas[&names[0]]["enum"].clone()
    };
    assert_eq!(choices("from_status"), json!(["open", "paid"]));
    assert_eq!(choices("to_status"), json!(["draft", "sent"]));
}
