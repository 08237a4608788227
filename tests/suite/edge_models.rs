//! Unusual but valid models compile without warnings and work end to end:
//! a model with only a primary key, a String primary key, every field
//! nullable, a self-reference, and every supported scalar type.

use axum::http::{Method, StatusCode};
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
    pub maybe_small: Option<i16>,
    pub maybe_label: Option<String>,
    pub maybe_at: Option<DateTimeUtc>,
}

async fn edge_router(db: &TestDb) -> axum::Router {
    let app = App::new("edge")
        .model::<Marker>()
        .model::<Country>()
        .model::<Category>()
        .model::<Sample>();
    app.create_tables(&db.db).await.expect("create tables");
    app.router(db.db.clone())
}

db_tests!(edge_models_work_end_to_end);

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

    let sample = json!({
        "small": -32768, "medium": 2147483647, "large": 9007199254740991_i64,
        "single": 1.5, "double": 0.1, "flag": true, "label": "ünïcödé ✓",
        "at": "2024-02-29T23:59:59.123456Z",
        "maybe_small": null, "maybe_label": "x", "maybe_at": null
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

    let overflow = call(
        &router,
        Method::POST,
        "/api/samples",
        Some(
            json!({ "small": 40000, "medium": 1, "large": 1, "single": 1.0, "double": 1.0,
                     "flag": false, "label": "", "at": "yesterday" }),
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
    assert_eq!(locs, ["small", "at"]);
}
