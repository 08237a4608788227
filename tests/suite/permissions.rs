//! The benchmark endpoint (`examples/permissions`): every variant answers
//! the same bytes, the generated one on PostgreSQL too; and the derive
//! features it uses (`read(pk, ...)`, `pagination = "none"`, ordering across
//! a foreign key, `App::model_at`) behave as documented.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use ferrobridge::prelude::*;
use ferrobridge_tests::{Backend, TestDb, call, db_tests, run_on};
use http_body_util::BodyExt;
use permissions::Variant;
use serde_json::json;
use tower::ServiceExt;

/// Status, `Location` and raw body of one request.
async fn raw(
    router: &axum::Router,
    method: Method,
    uri: &str,
    body: Option<&str>,
) -> (StatusCode, Option<String>, String) {
    let request = Request::builder().method(method).uri(uri);
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, location, String::from_utf8(bytes.to_vec()).unwrap())
}

fn variants(backend: Backend) -> Vec<Variant> {
    Variant::ALL
        .into_iter()
        .filter(|v| backend == Backend::Sqlite || *v != Variant::Rusqlite)
        .collect()
}

/// What each variant answers to the benchmark's requests, on Django's rows.
async fn answers(db: &TestDb, variant: Variant) -> Vec<(StatusCode, Option<String>, String)> {
    let router = permissions::router(variant, &db.url, 24).await.unwrap();
    let mut out = vec![
        raw(&router, Method::GET, "/permissions", None).await,
        raw(
            &router,
            Method::GET,
            "/permissions?page=2&page_size=5",
            None,
        )
        .await,
        raw(&router, Method::GET, "/permissions/9", None).await,
        raw(&router, Method::GET, "/permissions/999", None).await,
    ];
    let body = r#"{"name":"Can fly","content_type_id":2,"codename":"fly_permission"}"#;
    let created = raw(&router, Method::POST, "/permissions", Some(body)).await;
    // Each variant runs on the same database: put it back as it was.
    let pk = created
        .1
        .as_deref()
        .and_then(|l| l.rsplit('/').next())
        .unwrap()
        .to_string();
    let generated = permissions::app().router(db.db.clone());
    let deleted = raw(
        &generated,
        Method::DELETE,
        &format!("/permissions/{pk}"),
        None,
    )
    .await;
    assert_eq!(deleted.0, StatusCode::NO_CONTENT, "{variant:?}");
    let created = (
        created.0,
        created.1.map(|l| l.replace(&pk, "{pk}")),
        created.2.replace(&pk, "{pk}"),
    );
    out.push(created);
    out
}

db_tests!(every_variant_answers_the_same_bytes);

async fn every_variant_answers_the_same_bytes(db: &TestDb) {
    let expected = permissions::seed::expected_body();
    assert_eq!(expected.len(), 904, "the reference response is 904 bytes");
    let reference = answers(db, Variant::Generated).await;
    assert_eq!(reference[0], (StatusCode::OK, None, expected.clone()));
    assert_eq!(
        reference[1].2,
        r#"{"items":[{"pk":10,"name":"Can change group"},{"pk":11,"name":"Can delete group"},{"pk":12,"name":"Can view group"},{"pk":5,"name":"Can add permission"},{"pk":6,"name":"Can change permission"}]}"#
    );
    assert_eq!(reference[2].2, r#"{"pk":9,"name":"Can add group"}"#);
    assert_eq!(reference[3].0, StatusCode::NOT_FOUND);
    assert_eq!(reference[3].2, r#"{"detail":"Not found"}"#);
    assert_eq!(reference[4].0, StatusCode::CREATED);
    assert_eq!(reference[4].1.as_deref(), Some("/permissions/{pk}"));
    assert_eq!(reference[4].2, r#"{"pk":{pk},"name":"Can fly"}"#);
    for variant in variants(db.backend) {
        assert_eq!(
            answers(db, variant).await,
            reference,
            "{variant:?} differs from generated"
        );
    }
}

#[tokio::test]
async fn a_thousand_rows_page_identically() {
    run_on(Backend::Sqlite, |db| {
        Box::pin(async move {
            let mut bodies = Vec::new();
            for variant in Variant::ALL {
                let router = permissions::router(variant, &db.url, 1000).await.unwrap();
                let all = raw(&router, Method::GET, "/permissions", None).await;
                let page = raw(&router, Method::GET, "/permissions?page_size=100", None).await;
                let last = raw(
                    &router,
                    Method::GET,
                    "/permissions?page=10&page_size=100",
                    None,
                )
                .await;
                bodies.push((variant, all, page, last));
            }
            let (_, all, page, last) = &bodies[0];
            let all: serde_json::Value = serde_json::from_str(&all.2).unwrap();
            assert_eq!(all["items"].as_array().unwrap().len(), 1000);
            let page: serde_json::Value = serde_json::from_str(&page.2).unwrap();
            assert_eq!(page["items"].as_array().unwrap().len(), 100);
            let all = all["items"].as_array().unwrap();
            assert_eq!(page["items"].as_array().unwrap()[..], all[..100]);
            let last: serde_json::Value = serde_json::from_str(&last.2).unwrap();
            assert_eq!(last["items"].as_array().unwrap()[..], all[900..]);
            for (variant, all, page, last) in &bodies[1..] {
                assert_eq!(
                    (all, page, last),
                    (&bodies[0].1, &bodies[0].2, &bodies[0].3),
                    "{variant:?}"
                );
            }
        })
    })
    .await;
}

#[tokio::test]
async fn rusqlite_refuses_postgres_urls() {
    let error = permissions::variants::rusqlite::router("postgres://postgres@127.0.0.1/x")
        .expect_err("an error")
        .to_string();
    assert!(error.contains("SQLite only"), "{error}");
}

db_tests!(unpaged_lists_and_read_fields);

async fn unpaged_lists_and_read_fields(db: &TestDb) {
    permissions::seed::prepare(&db.db, 24).await.unwrap();
    let router = permissions::app().router(db.db.clone());
    // No page envelope, no cursor.
    let reply = call(&router, Method::GET, "/permissions?cursor=", None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.json);
    let reply = call(&router, Method::GET, "/permissions?page_size=101", None).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The Read schema is `pk` and `name`; writes still take every writable field.
    let reply = call(
        &router,
        Method::PATCH,
        "/permissions/1",
        Some(json!({ "codename": "add_entry" })),
    )
    .await;
    assert_eq!(reply.json, json!({ "pk": 1, "name": "Can add log entry" }));
    let reply = call(
        &router,
        Method::POST,
        "/permissions",
        Some(json!({ "name": "x" })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The generated content type endpoints are still at /api/{plural}, ordered by app_label, model.
    let reply = call(&router, Method::GET, "/api/content_types?page_size=2", None).await;
    assert_eq!(
        reply.json,
        json!({ "items": [
            { "id": 1, "app_label": "admin", "model": "logentry" },
            { "id": 3, "app_label": "auth", "model": "group" },
        ], "total": 6, "page": 1, "page_size": 2 })
    );
}

/// A paged model whose Read schema renames the primary key and whose
/// default ordering crosses a nullable foreign key (a LEFT JOIN).
mod shelf {
    use ferrobridge::prelude::*;

    /// A shelf.
    #[derive(Model, Clone, Debug)]
    #[model(app = "lib", ordering = "label")]
    pub struct Shelf {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 20)]
        pub label: String,
    }

    /// A book, ordered by its shelf's label, then title.
    #[derive(Model, Clone, Debug)]
    #[model(app = "lib", ordering = "-shelf__label,title")]
    #[api(read(pk, title, shelf_id), filter(title))]
    pub struct Book {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 50)]
        pub title: String,
        #[field(references = Shelf, on_delete = "set_null")]
        pub shelf_id: Option<i64>,
    }

    /// The bad one: `ordering` names a field `Shelf` does not have.
    #[derive(Model, Clone, Debug)]
    #[model(app = "lib", ordering = "shelf__lable")]
    pub struct Misfiled {
        #[field(primary_key)]
        pub id: i64,
        #[field(references = Shelf)]
        pub shelf_id: i64,
    }
}

db_tests!(ordering_across_a_nullable_foreign_key);

async fn ordering_across_a_nullable_foreign_key(db: &TestDb) {
    use shelf::{Book, Shelf};
    let app = App::new("lib").model::<Shelf>().model_at::<Book>("/books/");
    let router = ferrobridge_tests::authed_router(&app, &db.db).await;
    for label in ["a", "b"] {
        let reply = call(
            &router,
            Method::POST,
            "/api/shelfs",
            Some(json!({ "label": label })),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    for (title, shelf) in [
        ("x", json!(1)),
        ("y", json!(2)),
        ("z", json!(null)),
        ("w", json!(2)),
    ] {
        let reply = call(
            &router,
            Method::POST,
            "/books",
            Some(json!({ "title": title, "shelf_id": shelf })),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
        assert!(
            reply.headers[header::LOCATION]
                .to_str()
                .unwrap()
                .starts_with("/books/")
        );
    }
    let reply = call(&router, Method::GET, "/books", None).await;
    // `-shelf__label`: b, a, then the book without a shelf (NULLs last descending).
    assert_eq!(
        reply.json,
        json!({ "items": [
            { "pk": 4, "title": "w", "shelf_id": 2 },
            { "pk": 2, "title": "y", "shelf_id": 2 },
            { "pk": 1, "title": "x", "shelf_id": 1 },
            { "pk": 3, "title": "z", "shelf_id": null },
        ], "total": 4, "page": 1, "page_size": 50 })
    );
    let reply = call(
        &router,
        Method::GET,
        "/books?page=2&page_size=2&title__ne=x",
        None,
    )
    .await;
    assert_eq!(
        reply.json["items"],
        json!([{ "pk": 3, "title": "z", "shelf_id": null }])
    );
    // Keyset pages cannot follow a joined ordering; `page` can.
    let reply = call(&router, Method::GET, "/books?cursor=", None).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json["detail"][0]["type"], "cursor_unavailable");
    // `expand` reads the foreign key under its Read name.
    let reply = call(&router, Method::GET, "/books/1?expand=shelf", None).await;
    assert_eq!(
        reply.json,
        json!({ "pk": 1, "title": "x", "shelf_id": 1, "shelf": { "id": 1, "label": "a" } })
    );
}

#[test]
#[should_panic(
    expected = "Misfiled: #[model(ordering)] names `shelf__lable`, but Shelf has no field `lable` (its fields: id, label)"
)]
fn a_related_ordering_naming_a_missing_field_stops_the_app() {
    let _ = App::new("lib")
        .model::<shelf::Shelf>()
        .model::<shelf::Misfiled>();
}

#[test]
fn openapi_describes_the_mount_path_and_the_unpaged_list() {
    let doc = permissions::app().openapi();
    let list = &doc["paths"]["/permissions"]["get"];
    assert!(doc["paths"]["/permissions/{pk}"]["get"].is_object());
    assert!(doc["paths"]["/api/permissions"].is_null());
    assert_eq!(
        list["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/PermissionList"
    );
    let params: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(!params.contains(&"cursor"), "{params:?}");
    assert_eq!(
        doc["components"]["schemas"]["PermissionRead"]["required"],
        json!(["pk", "name"])
    );
    assert!(doc["components"]["schemas"]["PermissionPage"].is_null());
}
