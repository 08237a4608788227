//! Every verb of the generated API with its success status, on each backend.

use axum::http::{Method, StatusCode, header};
use ferrobridge_tests::{TestDb, blog_router, call, db_tests};
use serde_json::json;

db_tests!(
    create_answers_201_with_location,
    list_is_ordered_and_paginated,
    retrieve_answers_200_or_404,
    put_replaces_every_writable_field,
    patch_changes_only_given_fields,
    delete_answers_204_then_404,
    deleting_an_author_cascades_to_posts,
    hand_written_route_uses_the_same_database,
    choices_are_stored_validated_and_filtered,
);

async fn author(router: &axum::Router, name: &str) -> i64 {
    let reply = call(
        router,
        Method::POST,
        "/api/authors",
        Some(json!({ "name": name })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    reply.json["id"].as_i64().expect("id")
}

async fn post(router: &axum::Router, author_id: i64, title: &str) -> serde_json::Value {
    let reply = call(
        router,
        Method::POST,
        "/api/posts",
        Some(json!({ "title": title, "body": "Lorem ipsum", "author_id": author_id })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);
    reply.json
}

async fn create_answers_201_with_location(db: &TestDb) {
    let router = blog_router(db).await;
    let reply = call(
        &router,
        Method::POST,
        "/api/authors",
        Some(json!({ "name": "Ann", "email": "ann@example.com" })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let id = reply.json["id"].as_i64().expect("server-set id");
    assert_eq!(
        reply.json,
        json!({ "id": id, "name": "Ann", "email": "ann@example.com" })
    );
    assert_eq!(
        reply.headers[header::LOCATION],
        format!("/api/authors/{id}")
    );

    let created = post(&router, id, "Hello").await;
    // Defaults and server-set fields are filled in; nullable fields are null.
    assert_eq!(created["published"], json!(false));
    assert_eq!(created["likes"], json!(0));
    assert_eq!(created["rating"], json!(null));
    assert_eq!(created["author_id"], json!(id));
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));

    // The Location header leads to the same object.
    let location = format!("/api/posts/{}", created["id"]);
    let fetched = call(&router, Method::GET, &location, None).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.json, created);
}

async fn list_is_ordered_and_paginated(db: &TestDb) {
    let router = blog_router(db).await;
    for name in ["Cleo", "Ann", "Bob"] {
        author(&router, name).await;
    }
    // Authors are ordered by name (`#[model(ordering = "name")]`).
    let reply = call(&router, Method::GET, "/api/authors", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let names: Vec<&str> = reply.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ann", "Bob", "Cleo"]);
    assert_eq!(reply.json["total"], json!(3));

    let page = call(
        &router,
        Method::GET,
        "/api/authors?page=2&page_size=2",
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(page.json["items"][0]["name"], json!("Cleo"));
    assert_eq!(page.json["total"], json!(3));
    assert_eq!(page.json["page"], json!(2));
    assert_eq!(page.json["page_size"], json!(2));

    // Posts come newest first (`ordering = "-created_at"`).
    let ann = author(&router, "Dora").await;
    post(&router, ann, "first").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    post(&router, ann, "second").await;
    let posts = call(&router, Method::GET, "/api/posts", None).await;
    assert_eq!(posts.json["items"][0]["title"], json!("second"));
    assert_eq!(posts.json["items"][1]["title"], json!("first"));
}

async fn retrieve_answers_200_or_404(db: &TestDb) {
    let router = blog_router(db).await;
    let id = author(&router, "Ann").await;
    let reply = call(&router, Method::GET, &format!("/api/authors/{id}"), None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json["name"], json!("Ann"));

    let missing = call(&router, Method::GET, "/api/authors/999999", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json, json!({ "detail": "Not found" }));
}

async fn put_replaces_every_writable_field(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = author(&router, "Ann").await;
    let bob = author(&router, "Bob").await;
    let created = post(&router, ann, "Draft").await;
    let uri = format!("/api/posts/{}", created["id"]);
    let reply = call(
        &router,
        Method::PUT,
        &uri,
        Some(json!({ "title": "Final", "body": "Done", "author_id": bob, "published": true, "rating": 4.5 })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["title"], json!("Final"));
    assert_eq!(reply.json["author_id"], json!(bob));
    assert_eq!(reply.json["published"], json!(true));
    assert_eq!(reply.json["rating"], json!(4.5));
    // Left out of the PUT body: back to its default, like a fresh create.
    assert_eq!(reply.json["likes"], json!(0));
    assert_eq!(reply.json["created_at"], created["created_at"]);
    assert_ne!(reply.json["updated_at"], created["updated_at"]);

    // PUT needs every required field.
    let partial = call(&router, Method::PUT, &uri, Some(json!({ "title": "x" }))).await;
    assert_eq!(partial.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fetched = call(&router, Method::GET, &uri, None).await;
    assert_eq!(fetched.json["title"], json!("Final"));

    let missing = call(
        &router,
        Method::PUT,
        "/api/posts/424242",
        Some(json!({ "title": "t", "body": "b", "author_id": ann })),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn patch_changes_only_given_fields(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = author(&router, "Ann").await;
    let created = post(&router, ann, "Draft").await;
    let uri = format!("/api/posts/{}", created["id"]);

    let reply = call(&router, Method::PATCH, &uri, Some(json!({ "rating": 3.0 }))).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["rating"], json!(3.0));
    assert_eq!(reply.json["title"], json!("Draft"));
    assert_eq!(reply.json["body"], created["body"]);

    let reply = call(
        &router,
        Method::PATCH,
        &uri,
        Some(json!({ "published": true })),
    )
    .await;
    assert_eq!(reply.json["published"], json!(true));
    assert_eq!(
        reply.json["rating"],
        json!(3.0),
        "absent key leaves the value"
    );

    let reply = call(
        &router,
        Method::PATCH,
        &uri,
        Some(json!({ "rating": null })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json["rating"],
        json!(null),
        "null clears a nullable field"
    );

    // `null` is no value for a required field.
    let reply = call(&router, Method::PATCH, &uri, Some(json!({ "title": null }))).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json["detail"][0]["loc"], json!(["body", "title"]));

    let fetched = call(&router, Method::GET, &uri, None).await;
    assert_eq!(fetched.json["title"], json!("Draft"));
    assert_eq!(fetched.json["published"], json!(true));

    let missing = call(&router, Method::PATCH, "/api/posts/424242", Some(json!({}))).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn delete_answers_204_then_404(db: &TestDb) {
    let router = blog_router(db).await;
    let id = author(&router, "Ann").await;
    let uri = format!("/api/authors/{id}");
    let reply = call(&router, Method::DELETE, &uri, None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.json.is_null());
    assert_eq!(
        call(&router, Method::GET, &uri, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&router, Method::DELETE, &uri, None).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn deleting_an_author_cascades_to_posts(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = author(&router, "Ann").await;
    let bob = author(&router, "Bob").await;
    post(&router, ann, "by Ann").await;
    post(&router, bob, "by Bob").await;
    let reply = call(
        &router,
        Method::DELETE,
        &format!("/api/authors/{ann}"),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let posts = call(&router, Method::GET, "/api/posts", None).await;
    assert_eq!(posts.json["total"], json!(1));
    assert_eq!(posts.json["items"][0]["title"], json!("by Bob"));
}

async fn hand_written_route_uses_the_same_database(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = author(&router, "Ann").await;
    let first = post(&router, ann, "one").await;
    post(&router, ann, "two").await;
    let uri = format!("/api/posts/{}", first["id"]);
    call(
        &router,
        Method::PATCH,
        &uri,
        Some(json!({ "published": true })),
    )
    .await;
    let reply = call(&router, Method::GET, "/api/stats", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json,
        json!({ "authors": 1, "posts": 2, "published": 1 })
    );
}

async fn choices_are_stored_validated_and_filtered(db: &TestDb) {
    let router = blog_router(db).await;
    let ann = author(&router, "Ann").await;
    let article = post(&router, ann, "default kind").await;
    assert_eq!(article["kind"], json!("article"));
    let link = call(
        &router,
        Method::POST,
        "/api/posts",
        Some(json!({ "title": "a link", "body": "...", "author_id": ann, "kind": "link" })),
    )
    .await;
    assert_eq!(link.status, StatusCode::CREATED, "{:?}", link.json);
    assert_eq!(link.json["kind"], json!("link"));

    let bad = call(
        &router,
        Method::POST,
        "/api/posts",
        Some(json!({ "title": "t", "body": "b", "author_id": ann, "kind": "poem" })),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad.json["detail"][0],
        json!({
            "loc": ["body", "kind"],
            "msg": "Input should be 'article', 'note' or 'link'",
            "type": "enum",
            "ctx": { "expected": "'article', 'note' or 'link'" }
        })
    );

    let uri = format!("/api/posts/{}", article["id"]);
    let patched = call(
        &router,
        Method::PATCH,
        &uri,
        Some(json!({ "kind": "note" })),
    )
    .await;
    assert_eq!(patched.json["kind"], json!("note"));
    let notes = call(&router, Method::GET, "/api/posts?kind=note", None).await;
    assert_eq!(notes.json["total"], json!(1));
    assert_eq!(notes.json["items"][0]["id"], article["id"]);
    let links = call(
        &router,
        Method::GET,
        "/api/posts?kind__in=link,article",
        None,
    )
    .await;
    assert_eq!(links.json["total"], json!(1));
    let unknown = call(&router, Method::GET, "/api/posts?kind=poem", None).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.json["detail"][0]["type"], json!("enum"));
}
