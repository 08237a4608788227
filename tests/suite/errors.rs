//! Bad input gets a 4xx in FastAPI's shape and changes nothing.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use ferrobridge_tests::{TestDb, blog_router, call, db_tests, send};
use serde_json::{Value, json};

db_tests!(
    invalid_fields_are_all_reported,
    constraints_answer_422_with_context,
    malformed_bodies_answer_4xx,
    missing_foreign_key_answers_409_at_the_field,
    unique_violation_answers_409_naming_the_field,
    bad_path_and_query_answer_4xx,
    oversized_body_answers_413,
    hostile_bodies_answer_4xx_and_change_nothing,
    constraint_edges_are_inclusive,
);

async fn count(router: &axum::Router, plural: &str) -> i64 {
    let reply = call(router, Method::GET, &format!("/api/{plural}"), None).await;
    reply.json["total"].as_i64().unwrap()
}

async fn invalid_fields_are_all_reported(db: &TestDb) {
    let router = blog_router(db).await;
    let reply = call(
        &router,
        Method::POST,
        "/api/posts",
        Some(json!({ "title": 5, "published": "yes", "surprise": 1 })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.json,
        json!({ "detail": [
            { "loc": ["body", "surprise"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden" },
            { "loc": ["body", "title"], "msg": "Input should be a valid string", "type": "string_type" },
            { "loc": ["body", "body"], "msg": "Field required", "type": "missing" },
            { "loc": ["body", "author_id"], "msg": "Field required", "type": "missing" },
            { "loc": ["body", "published"], "msg": "Input should be a valid boolean", "type": "bool_type" },
        ]})
    );
    assert_eq!(count(&router, "posts").await, 0);
}

async fn constraints_answer_422_with_context(db: &TestDb) {
    let router = blog_router(db).await;
    let too_long = "x".repeat(101);
    let reply = call(
        &router,
        Method::POST,
        "/api/authors",
        Some(json!({ "name": too_long })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.json,
        json!({ "detail": [{
            "loc": ["body", "name"],
            "msg": "String should have at most 100 characters",
            "type": "string_too_long",
            "ctx": { "max_length": 100 }
        }]})
    );
    // The edge itself is accepted, counted in characters, not bytes.
    let edge = "é".repeat(100);
    let ok = call(
        &router,
        Method::POST,
        "/api/authors",
        Some(json!({ "name": edge })),
    )
    .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{:?}", ok.json);

    let empty = call(
        &router,
        Method::POST,
        "/api/authors",
        Some(json!({ "name": "" })),
    )
    .await;
    assert_eq!(empty.json["detail"][0]["type"], json!("string_too_short"));
    assert_eq!(empty.json["detail"][0]["ctx"], json!({ "min_length": 1 }));

    let id = ok.json["id"].as_i64().unwrap();
    let rating = call(
        &router,
        Method::POST,
        "/api/posts",
        Some(json!({ "title": "t", "body": "b", "author_id": id, "rating": 5.5, "likes": -1 })),
    )
    .await;
    assert_eq!(rating.status, StatusCode::UNPROCESSABLE_ENTITY);
    let types: Vec<&str> = rating.json["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["greater_than_equal", "less_than_equal"]);
    assert_eq!(count(&router, "authors").await, 1);
    assert_eq!(count(&router, "posts").await, 0);
}

async fn malformed_bodies_answer_4xx(db: &TestDb) {
    let router = blog_router(db).await;
    let raw = |body: &'static str, content_type: &'static str| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/authors")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let reply = send(&router, raw("{\"name\": ", "application/json")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json["detail"][0]["type"], json!("json_invalid"));
    assert_eq!(reply.json["detail"][0]["loc"], json!(["body"]));

    let reply = send(&router, raw("[1, 2]", "application/json")).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.json["detail"][0]["type"],
        json!("model_attributes_type")
    );

    let reply = send(
        &router,
        raw("name=Ann", "application/x-www-form-urlencoded"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        reply.json["detail"][0]["loc"],
        json!(["header", "content-type"])
    );

    let reply = send(&router, raw("{\"name\": \"\\ud800\"}", "application/json")).await;
    assert!(reply.status.is_client_error(), "{:?}", reply);

    // SQL metacharacters are data, not code.
    let reply = call(
        &router,
        Method::POST,
        "/api/authors",
        Some(json!({ "name": "Robert'); DROP TABLE blog_author;--" })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(count(&router, "authors").await, 1);
}

async fn missing_foreign_key_answers_409_at_the_field(db: &TestDb) {
    let router = blog_router(db).await;
    let reply = call(
        &router,
        Method::POST,
        "/api/posts",
        Some(json!({ "title": "t", "body": "b", "author_id": 777 })),
    )
    .await;
    // The body is valid (the document cannot say which rows exist): the
    // request conflicts with the stored rows, as a unique value does.
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.json["detail"][0]["loc"], json!(["body", "author_id"]));
    assert_eq!(reply.json["detail"][0]["type"], json!("foreign_key"));
    let text = reply.json.to_string().to_lowercase();
    assert!(
        !text.contains("constraint") && !text.contains("sql"),
        "{text}"
    );
}

async fn unique_violation_answers_409_naming_the_field(db: &TestDb) {
    let router = blog_router(db).await;
    let body = json!({ "name": "Ann", "email": "ann@example.com" });
    let first = call(&router, Method::POST, "/api/authors", Some(body.clone())).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = call(&router, Method::POST, "/api/authors", Some(body)).await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(
        second.json,
        json!({ "detail": "Author with this email already exists." })
    );
    assert_eq!(count(&router, "authors").await, 1);
}

async fn bad_path_and_query_answer_4xx(db: &TestDb) {
    let router = blog_router(db).await;
    let reply = call(&router, Method::GET, "/api/authors/abc", None).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json["detail"][0]["loc"], json!(["path", "pk"]));
    assert_eq!(reply.json["detail"][0]["type"], json!("int_parsing"));

    let reply = call(&router, Method::GET, "/api/authors?page=zero", None).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json["detail"][0]["loc"], json!(["query", "page"]));

    let reply = call(&router, Method::GET, "/api/authors?page_size=1000", None).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.json["detail"][0]["ctx"],
        json!({ "ge": 1, "le": 100 })
    );

    let reply = call(&router, Method::GET, "/api/authors?colour=red", None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json["detail"][0]["loc"], json!(["query", "colour"]));
    assert!(
        reply.json["detail"][0]["msg"]
            .as_str()
            .unwrap()
            .contains("page, page_size")
    );

    let reply = call(
        &router,
        Method::GET,
        "/api/authors/99999999999999999999999",
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn oversized_body_answers_413(db: &TestDb) {
    let router = blog_router(db).await;
    let name = "x".repeat(2 * 1024 * 1024);
    let reply = call(
        &router,
        Method::POST,
        "/api/authors",
        Some(json!({ "name": name })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(count(&router, "authors").await, 0);
}

async fn hostile_bodies_answer_4xx_and_change_nothing(db: &TestDb) {
    let router = blog_router(db).await;
    let raw = |body: Vec<u8>| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/authors")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let ten_mb = format!("{{\"name\": \"{}\"}}", "a".repeat(10 * 1024 * 1024));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("deeply nested", deep.into_bytes()),
        (
            "nested object",
            format!(
                "{{\"name\": {}\"x\"{}}}",
                "{\"a\":".repeat(5_000),
                "}".repeat(5_000)
            )
            .into_bytes(),
        ),
        ("invalid UTF-8", b"{\"name\": \"\xff\xfe\"}".to_vec()),
        ("NUL in a string", br#"{"name": "a\u0000b"}"#.to_vec()),
        ("huge integer", br#"{"name": "x", "id": 1e999}"#.to_vec()),
        ("empty body", Vec::new()),
        ("10 MB", ten_mb.into_bytes()),
    ];
    for (what, body) in cases {
        let reply = send(&router, raw(body)).await;
        assert!(reply.status.is_client_error(), "{what}: {:?}", reply.status);
        assert!(
            reply.json["detail"].is_array() || reply.json["detail"].is_string(),
            "{what}"
        );
    }
    let reply = call(&router, Method::POST, "/api/posts", Some(json!({
        "title": "t", "body": "b", "author_id": 99999999999999999999_f64, "likes": 3000000000_i64
    }))).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let locs: Vec<Value> = reply.json["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["loc"][1].clone())
        .collect();
    assert_eq!(locs, [json!("author_id"), json!("likes")]);
    assert_eq!(count(&router, "authors").await, 0);
    assert_eq!(count(&router, "posts").await, 0);
}

async fn constraint_edges_are_inclusive(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = call(
        &router,
        Method::POST,
        "/api/authors",
        Some(json!({ "name": "A" })),
    )
    .await;
    assert_eq!(
        ann.status,
        StatusCode::CREATED,
        "min_length = 1 accepts one character"
    );
    let id = ann.json["id"].clone();
    let post = |extra: Value| {
        let mut body = json!({ "title": "t", "body": "b", "author_id": id });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    for (extra, ok) in [
        (json!({ "likes": 0 }), true),
        (json!({ "likes": -1 }), false),
        (json!({ "rating": 0.0 }), true),
        (json!({ "rating": 5.0 }), true),
        (json!({ "rating": 5.000001 }), false),
        (json!({ "rating": -0.000001 }), false),
        (json!({ "title": "x".repeat(200) }), true),
        (json!({ "title": "x".repeat(201) }), false),
        (json!({ "title": "" }), false),
    ] {
        let reply = call(
            &router,
            Method::POST,
            "/api/posts",
            Some(post(extra.clone())),
        )
        .await;
        let expected = if ok {
            StatusCode::CREATED
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        assert_eq!(reply.status, expected, "{extra}: {:?}", reply.json);
    }
    let email = |e: &str| json!({ "name": "E", "email": e });
    assert_eq!(
        call(
            &router,
            Method::POST,
            "/api/authors",
            Some(email("e@example.com"))
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let bad = call(
        &router,
        Method::POST,
        "/api/authors",
        Some(email("not-an-email")),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json["detail"][0]["type"], json!("value_error"));
}
