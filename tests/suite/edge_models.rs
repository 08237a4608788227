//! Unusual but valid models compile without warnings and work end to end:
//! a model with only a primary key, a String primary key, every field
//! nullable, a self-reference, and every supported scalar type.

use axum::http::{Method, StatusCode};
use ferrobridge::__private::chrono::NaiveDate;
use ferrobridge::__private::rust_decimal::Decimal;
use ferrobridge::__private::serde_json::Value as Json;
use ferrobridge::__private::uuid::Uuid;
use ferrobridge::prelude::*;
use ferrobridge_tests::{TestDb, call, db_tests};
use serde_json::json;

/// Nothing but an id.
#[derive(Model, Clone, Debug)]
#[model(app = "edge")]
pub struct Marker {
    #[field(primary_key)]
    pub id: i32,
}

/// Keyed by a natural String key.
#[derive(Model, Clone, Debug)]
#[model(app = "edge", plural = "countries")]
pub struct Country {
    #[field(primary_key, max_length = 2, min_length = 2)]
    pub code: String,
    pub name: String,
}

/// A tree of categories: a nullable self-reference.
#[derive(Model, Clone, Debug)]
#[model(app = "edge", ordering = "name")]
pub struct Category {
    #[field(primary_key)]
    pub id: i64,
    #[field(unique, max_length = 50)]
    pub name: String,
    #[field(references = Category, on_delete = "set_null")]
    pub parent_id: Option<i64>,
}

/// Private notes: each user sees only their own.
#[derive(Model, Clone, Debug)]
#[model(app = "edge")]
#[api(owner = owner_id, own_rows_only)]
pub struct Memo {
    #[field(primary_key)]
    pub id: i64,
    #[field(references = ferrobridge::auth::User, on_delete = "cascade")]
    pub owner_id: i32,
    pub text: String,
}

/// Two foreign keys to the same model, one of them protecting its target.
#[derive(Model, Clone, Debug)]
#[model(app = "edge", unknown_fields = "ignore")]
pub struct Link {
    #[field(primary_key)]
    pub id: i64,
    #[field(references = Category, on_delete = "cascade")]
    pub source_id: i64,
    #[field(references = self::Category, on_delete = "restrict")]
    pub target_id: i64,
}

/// One field of every supported type, each nullable twin too.
#[derive(Model, Clone, Debug)]
#[model(app = "edge")]
pub struct Sample {
    #[field(primary_key)]
    pub id: i64,
    pub small: i16,
    pub medium: i32,
    pub large: i64,
    pub single: f32,
    pub double: f64,
    pub flag: bool,
    pub label: String,
    pub at: DateTimeUtc,
    pub day: NaiveDate,
    #[field(max_digits = 16, decimal_places = 4)]
    pub price: Decimal,
    pub token: Uuid,
    pub data: Json,
    pub maybe_small: Option<i16>,
    pub maybe_label: Option<String>,
    pub maybe_at: Option<DateTimeUtc>,
    #[field(max_digits = 6, decimal_places = 3)]
    pub maybe_price: Option<Decimal>,
    pub maybe_data: Option<Json>,
}

/// Keyed by a server-generated UUID.
#[derive(Model, Clone, Debug)]
#[model(app = "edge")]
pub struct Ticket {
    #[field(primary_key)]
    pub id: Uuid,
    #[field(regex = "^[A-Z]{3}-[0-9]+$")]
    pub code: String,
    #[field(url)]
    pub link: Option<String>,
}

async fn edge_router(db: &TestDb) -> axum::Router {
    let app = App::new("edge")
        .model::<Marker>()
        .model::<Country>()
        .model::<Category>()
        .model::<Memo>()
        .model::<Link>()
        .model::<Sample>()
        .model::<Ticket>();
    ferrobridge_tests::authed_router(&app, &db.db).await
}

db_tests!(
    edge_models_work_end_to_end,
    own_rows_only_hides_other_users_rows
);

async fn own_rows_only_hides_other_users_rows(db: &TestDb) {
    use ferrobridge_tests::{UserKind, call_as, create_user};
    let router = edge_router(db).await;
    let (_, ann) = create_user(&db.db, "ann", UserKind::Regular).await;
    let (_, bob) = create_user(&db.db, "bob", UserKind::Regular).await;
    let memo = call_as(
        &router,
        Some(&ann),
        Method::POST,
        "/api/memos",
        Some(json!({ "text": "ann's" })),
    )
    .await;
    assert_eq!(memo.status, StatusCode::CREATED, "{:?}", memo.json);
    call_as(
        &router,
        Some(&bob),
        Method::POST,
        "/api/memos",
        Some(json!({ "text": "bob's" })),
    )
    .await;
    let anns = call_as(&router, Some(&ann), Method::GET, "/api/memos", None).await;
    assert_eq!(anns.json["total"], json!(1));
    assert_eq!(anns.json["items"][0]["text"], json!("ann's"));
    let uri = format!("/api/memos/{}", memo.json["id"]);
    assert_eq!(
        call_as(&router, Some(&bob), Method::GET, &uri, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call_as(
            &router,
            Some(&bob),
            Method::PATCH,
            &uri,
            Some(json!({ "text": "x" }))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // The superuser (the router's default caller) sees every row.
    let all = ferrobridge_tests::call(&router, Method::GET, "/api/memos", None).await;
    assert_eq!(all.json["total"], json!(2));
}

async fn edge_models_work_end_to_end(db: &TestDb) {
    let router = edge_router(db).await;

    let marker = call(&router, Method::POST, "/api/markers", Some(json!({}))).await;
    assert_eq!(marker.status, StatusCode::CREATED, "{:?}", marker.json);
    let uri = format!("/api/markers/{}", marker.json["id"]);
    assert_eq!(
        call(&router, Method::PATCH, &uri, Some(json!({})))
            .await
            .status,
        StatusCode::OK
    );

    let country = call(
        &router,
        Method::POST,
        "/api/countries",
        Some(json!({ "code": "FR", "name": "France" })),
    )
    .await;
    assert_eq!(country.status, StatusCode::CREATED, "{:?}", country.json);
    assert_eq!(country.headers["location"], "/api/countries/FR");
    let spaced = call(
        &router,
        Method::POST,
        "/api/countries",
        Some(json!({ "code": "a/", "name": "odd" })),
    )
    .await;
    assert_eq!(spaced.headers["location"], "/api/countries/a%2F");
    let found = call(&router, Method::GET, "/api/countries/a%2F", None).await;
    assert_eq!(found.json["name"], json!("odd"));
    let renamed = call(
        &router,
        Method::PATCH,
        "/api/countries/FR",
        Some(json!({ "name": "République française" })),
    )
    .await;
    assert_eq!(
        renamed.json,
        json!({ "code": "FR", "name": "République française" })
    );
    let dup = call(
        &router,
        Method::POST,
        "/api/countries",
        Some(json!({ "code": "FR", "name": "again" })),
    )
    .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let bad = call(
        &router,
        Method::POST,
        "/api/countries",
        Some(json!({ "code": "FRA", "name": "x" })),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let root = call(
        &router,
        Method::POST,
        "/api/categories",
        Some(json!({ "name": "root" })),
    )
    .await;
    assert_eq!(root.status, StatusCode::CREATED, "{:?}", root.json);
    let child = call(
        &router,
        Method::POST,
        "/api/categories",
        Some(json!({ "name": "child", "parent_id": root.json["id"] })),
    )
    .await;
    assert_eq!(child.status, StatusCode::CREATED, "{:?}", child.json);
    let deleted = call(
        &router,
        Method::DELETE,
        &format!("/api/categories/{}", root.json["id"]),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let orphan = call(
        &router,
        Method::GET,
        &format!("/api/categories/{}", child.json["id"]),
        None,
    )
    .await;
    assert_eq!(
        orphan.json["parent_id"],
        json!(null),
        "on_delete = set_null"
    );

    let a = call(
        &router,
        Method::POST,
        "/api/categories",
        Some(json!({ "name": "a" })),
    )
    .await
    .json["id"]
        .clone();
    let b = call(
        &router,
        Method::POST,
        "/api/categories",
        Some(json!({ "name": "b" })),
    )
    .await
    .json["id"]
        .clone();
    let missing_target = call(
        &router,
        Method::POST,
        "/api/links",
        Some(json!({ "source_id": a, "target_id": 9999 })),
    )
    .await;
    assert_eq!(missing_target.status, StatusCode::CONFLICT);
    assert_eq!(
        missing_target.json["detail"][0]["loc"],
        json!(["body", "target_id"])
    );
    let missing_source = call(
        &router,
        Method::POST,
        "/api/links",
        Some(json!({ "source_id": 9999, "target_id": b })),
    )
    .await;
    assert_eq!(
        missing_source.json["detail"][0]["loc"],
        json!(["body", "source_id"])
    );
    // `unknown_fields = "ignore"`: extra keys are dropped, not rejected.
    let link = call(
        &router,
        Method::POST,
        "/api/links",
        Some(json!({ "source_id": a, "target_id": b, "note": "x" })),
    )
    .await;
    assert_eq!(link.status, StatusCode::CREATED, "{:?}", link.json);
    assert_eq!(link.json.as_object().unwrap().len(), 3);
    let patch = call(
        &router,
        Method::PATCH,
        &format!("/api/links/{}", link.json["id"]),
        Some(json!({ "target_id": 424242 })),
    )
    .await;
    assert_eq!(patch.json["detail"][0]["loc"], json!(["body", "target_id"]));
    let protected = call(
        &router,
        Method::DELETE,
        &format!("/api/categories/{b}"),
        None,
    )
    .await;
    assert_eq!(
        protected.status,
        StatusCode::CONFLICT,
        "{:?}",
        protected.json
    );
    assert_eq!(
        call(&router, Method::GET, &format!("/api/categories/{b}"), None)
            .await
            .status,
        StatusCode::OK
    );
    let cascaded = call(
        &router,
        Method::DELETE,
        &format!("/api/categories/{a}"),
        None,
    )
    .await;
    assert_eq!(cascaded.status, StatusCode::NO_CONTENT);
    assert_eq!(
        call(
            &router,
            Method::GET,
            &format!("/api/links/{}", link.json["id"]),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    let sample = json!({
        "small": -32768, "medium": 2147483647, "large": 9007199254740991_i64,
        "single": 1.5, "double": 0.1, "flag": true, "label": "ünïcödé ✓",
        "at": "2024-02-29T23:59:59.123456Z",
        "day": "2024-02-29", "price": "12345678901.5600", "token": "67e55044-10b1-426f-9247-bb680e5fe0c8",
        "data": { "nested": [1, 2.5, "three", null, { "deep": true }] },
        "maybe_small": null, "maybe_label": "x", "maybe_at": null,
        "maybe_price": "-0.001", "maybe_data": null
    });
    let created = call(&router, Method::POST, "/api/samples", Some(sample.clone())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    let fetched = call(
        &router,
        Method::GET,
        &format!("/api/samples/{}", created.json["id"]),
        None,
    )
    .await;
    let mut expected = sample;
    expected["id"] = created.json["id"].clone();
    assert_eq!(fetched.json, expected);
    // The admin shows decimals at their declared scale, as the API does
    // (SQLite stores them as REAL and would give back `12345678901.56`).
    let mut admin = ferrobridge_tests::AdminClient::new(router.clone());
    admin.login("root", ferrobridge_tests::PASSWORD).await;
    let form = admin
        .get(&format!(
            "/admin/edge/sample/{}/change/",
            created.json["id"]
        ))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(
        form.body.contains("value=\"12345678901.5600\""),
        "{}",
        form.body
    );
    assert!(form.body.contains("value=\"-0.001\""), "{}", form.body);

    let ticket = call(
        &router,
        Method::POST,
        "/api/tickets",
        Some(json!({ "code": "ABC-12", "link": "https://example.com/x" })),
    )
    .await;
    assert_eq!(ticket.status, StatusCode::CREATED, "{:?}", ticket.json);
    let id = ticket.json["id"].as_str().expect("server-generated uuid");
    assert_eq!(id.len(), 36);
    let fetched = call(&router, Method::GET, &format!("/api/tickets/{id}"), None).await;
    assert_eq!(fetched.json["code"], json!("ABC-12"));
    let invalid = call(
        &router,
        Method::POST,
        "/api/tickets",
        Some(json!({ "code": "abc", "link": "not a url", "id": "x" })),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let types: Vec<&str> = invalid.json["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["extra_forbidden", "string_pattern_mismatch", "url_parsing"]
    );
    let bad_key = call(&router, Method::GET, "/api/tickets/not-a-uuid", None).await;
    assert_eq!(bad_key.status, StatusCode::UNPROCESSABLE_ENTITY);

    let overflow = call(
        &router,
        Method::POST,
        "/api/samples",
        Some(
            json!({ "small": 40000, "medium": 1, "large": 1, "single": 1.0, "double": 1.0,
                     "flag": false, "label": "", "at": "yesterday", "day": "2024-02-30",
                     "price": 1.5, "token": "nope", "data": 1, "maybe_price": "1.0001" }),
        ),
    )
    .await;
    assert_eq!(overflow.status, StatusCode::UNPROCESSABLE_ENTITY);
    let locs: Vec<&str> = overflow.json["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["loc"][1].as_str().unwrap())
        .collect();
    assert_eq!(locs, ["small", "at", "day", "token", "maybe_price"]);
}
