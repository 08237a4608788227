//! `/openapi.json` describes every endpoint of the blog in OpenAPI 3.1, and
//! `/docs` serves Swagger UI from the app itself.
//!
//! The served document is also written to `target/openapi.json` (or to
//! `$OPENAPI_OUT`), where `.ci/run` checks it with openapi-spec-validator.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use ferrobridge::prelude::*;
use ferrobridge_tests::{Backend, TestDb};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// A raw response: status, headers and body bytes.
struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

async fn get_raw(router: &axum::Router, uri: &str, headers: &[(header::HeaderName, &str)]) -> Raw {
    let mut request = Request::builder().method(Method::GET).uri(uri);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Raw {
        status,
        headers,
        body,
    }
}

fn header_of(raw: &Raw, name: header::HeaderName) -> &str {
    raw.headers
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// The blog's document as served, also written where `.ci/run` validates it.
async fn served_document() -> Value {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let app = blog::app();
    app.create_tables(&db.db).await.unwrap();
    let router = app.router(db.db.clone());
    let reply = get_raw(&router, "/openapi.json", &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(header_of(&reply, header::CONTENT_TYPE), "application/json");
    let document: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(document, app.openapi(), "served = App::openapi()");
    db.finish().await;

    let out = std::env::var_os("OPENAPI_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/openapi.json")
        });
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(&out, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
    document
}

fn operation<'a>(document: &'a Value, path: &str, method: &str) -> &'a Value {
    let op = &document["paths"][path][method];
    assert!(op.is_object(), "no {method} {path} in the document");
    op
}

fn param<'a>(op: &'a Value, name: &str) -> Option<&'a Value> {
    op["parameters"]
        .as_array()
        .and_then(|params| params.iter().find(|p| p["name"] == name))
}

fn param_names(op: &Value) -> Vec<&str> {
    op["parameters"]
        .as_array()
        .map(|params| params.iter().filter_map(|p| p["name"].as_str()).collect())
        .unwrap_or_default()
}

/// Every `$ref` under `value`.
fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", Value::String(target)) => found.push(target),
                    _ => refs(child, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_every_operation() {
    let document = served_document().await;
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["info"]["title"], "blog");
    assert!(document["info"]["version"].is_string());

    let expected = [
        ("/api/authors", "get", "list_authors"),
        ("/api/authors", "post", "create_author"),
        ("/api/authors/{pk}", "get", "retrieve_author"),
        ("/api/authors/{pk}", "put", "update_author"),
        ("/api/authors/{pk}", "patch", "partial_update_author"),
        ("/api/authors/{pk}", "delete", "delete_author"),
        ("/api/posts", "get", "list_posts"),
        ("/api/posts", "post", "create_post"),
        ("/api/posts/{pk}", "get", "retrieve_post"),
        ("/api/posts/{pk}", "put", "update_post"),
        ("/api/posts/{pk}", "patch", "partial_update_post"),
        ("/api/posts/{pk}", "delete", "delete_post"),
        ("/api/stats", "get", "blog_stats"),
        ("/api/auth/token", "post", "login"),
        ("/api/auth/logout", "post", "logout"),
        ("/api/auth/me", "get", "me"),
        ("/api/users", "get", "list_users"),
        ("/api/groups/{pk}", "patch", "partial_update_group"),
        (
            "/api/posts/{pk}/publish",
            "post",
            "post_api_posts_pk_publish",
        ),
        ("/api/my/posts", "get", "get_api_my_posts"),
        ("/api/posts/changes", "get", "list_post_changes"),
        ("/api/posts/events", "get", "stream_post_events"),
    ];
    for (path, method, id) in expected {
        assert_eq!(operation(&document, path, method)["operationId"], id);
    }
    let count: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    // Eight per model (six CRUD and two change feed operations; seven
    // auth models, two blog models), three auth endpoints and three
    // hand-written routes.
    assert_eq!(count, 8 * 9 + 3 + 3, "no other operations");
    let mut ids: Vec<&str> = expected.iter().map(|(_, _, id)| *id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), expected.len(), "operationIds are unique");

    // One tag per model, described by its doc comment.
    let tags = document["tags"].as_array().unwrap();
    assert!(tags.iter().any(|t| {
        t["name"] == "Post"
            && t["description"]
                .as_str()
                .unwrap()
                .starts_with("A blog post.")
    }));
    assert!(tags.iter().any(|t| {
        t["name"] == "Author"
            && t["description"]
                .as_str()
                .unwrap()
                .starts_with("A person who writes posts.")
    }));
    assert_eq!(
        operation(&document, "/api/posts", "get")["tags"],
        json!(["Post"])
    );

    // Bodies and responses are the generated schemas.
    let schema_of = |op: &Value, status: &str| {
        op["responses"][status]["content"]["application/json"]["schema"].clone()
    };
    let create = operation(&document, "/api/posts", "post");
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"],
        json!({ "$ref": "#/components/schemas/PostCreate" })
    );
    assert_eq!(create["requestBody"]["required"], true);
    assert_eq!(
        schema_of(create, "201"),
        json!({ "$ref": "#/components/schemas/PostRead" })
    );
    assert!(create["responses"]["201"]["headers"]["Location"].is_object());
    let patch = operation(&document, "/api/posts/{pk}", "patch");
    assert_eq!(
        patch["requestBody"]["content"]["application/json"]["schema"],
        json!({ "$ref": "#/components/schemas/PostUpdate" })
    );
    let put = operation(&document, "/api/posts/{pk}", "put");
    assert_eq!(
        put["requestBody"]["content"]["application/json"]["schema"],
        json!({ "$ref": "#/components/schemas/PostCreate" })
    );
    let retrieve = operation(&document, "/api/posts/{pk}", "get");
    assert_eq!(
        schema_of(retrieve, "200"),
        json!({ "$ref": "#/components/schemas/PostRead" })
    );
    assert_eq!(
        param(retrieve, "pk").unwrap(),
        &json!({
            "name": "pk", "in": "path", "required": true,
            "description": "The post's `id`.",
            "schema": {
                "type": "integer", "format": "int64",
                "minimum": i64::MIN, "maximum": i64::MAX,
            }
        })
    );
    let delete = operation(&document, "/api/posts/{pk}", "delete");
    assert!(delete["responses"]["204"].is_object());
    assert!(delete["responses"]["204"].get("content").is_none());

    // Errors in FastAPI's shape.
    for (path, method, statuses) in [
        ("/api/posts", "get", &[400, 404, 422][..]),
        ("/api/posts", "post", &[409, 413, 415, 422][..]),
        ("/api/posts/{pk}", "get", &[400, 404, 422][..]),
        ("/api/posts/{pk}", "put", &[404, 409, 413, 415, 422][..]),
        ("/api/posts/{pk}", "patch", &[404, 409, 413, 415, 422][..]),
        ("/api/posts/{pk}", "delete", &[404, 409, 422][..]),
    ] {
        let op = operation(&document, path, method);
        for status in statuses {
            let schema = schema_of(op, &status.to_string());
            if *status == 409 {
                // A unique conflict says why in words; a missing foreign
                // key names the field as a validation detail.
                assert_eq!(
                    schema["anyOf"],
                    json!([
                        { "$ref": "#/components/schemas/HTTPError" },
                        { "$ref": "#/components/schemas/HTTPValidationError" }
                    ]),
                    "{method} {path}"
                );
                continue;
            }
            let expected = if matches!(status, 400 | 415 | 422) {
                "#/components/schemas/HTTPValidationError"
            } else {
                "#/components/schemas/HTTPError"
            };
            assert_eq!(schema["$ref"], expected, "{method} {path} {status}");
        }
    }
    let schemas = &document["components"]["schemas"];
    assert_eq!(
        schemas["HTTPValidationError"]["properties"]["detail"]["items"],
        json!({ "$ref": "#/components/schemas/ValidationError" })
    );
    assert_eq!(
        schemas["ValidationError"]["required"],
        json!(["loc", "msg", "type"])
    );
    assert_eq!(
        schemas["HTTPError"]["properties"]["detail"]["type"],
        "string"
    );

    // The generated schemas carry the fields' constraints and docs.
    let title = &schemas["PostCreate"]["properties"]["title"];
    assert_eq!(title["maxLength"], 200);
    assert_eq!(title["minLength"], 1);
    assert_eq!(title["description"], "The headline.");
    assert_eq!(schemas["PostRead"]["properties"]["id"]["readOnly"], true);
    let page = &schemas["PostPage"];
    assert_eq!(
        page["required"],
        json!(["items", "total", "page", "page_size"])
    );
    assert_eq!(
        page["properties"]["items"]["items"],
        json!({ "$ref": "#/components/schemas/PostRead" })
    );
    let list = operation(&document, "/api/posts", "get");
    assert_eq!(
        schema_of(list, "200"),
        json!({ "anyOf": [
            { "$ref": "#/components/schemas/PostPage" },
            { "$ref": "#/components/schemas/PostCursorPage" },
        ]})
    );

    // The hand-written route, described with RouteDocs.
    let stats = operation(&document, "/api/stats", "get");
    assert_eq!(stats["summary"], "Blog statistics");
    assert_eq!(stats["tags"], json!(["Stats"]));
    assert_eq!(
        schema_of(stats, "200"),
        json!({ "$ref": "#/components/schemas/Stats" })
    );
    assert_eq!(
        schemas["Stats"]["properties"]["published"]["type"],
        "integer"
    );
    assert_eq!(
        schemas["Stats"]["properties"]["authors"]["description"],
        "How many authors there are."
    );

    // Every reference resolves inside the document.
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(found.len() > 20, "{found:?}");
    for target in found {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {target}"));
        assert!(
            document.pointer(pointer).is_some(),
            "$ref {target} does not resolve"
        );
    }
}

#[tokio::test]
async fn list_parameters_document_paging_ordering_search_expand_and_lookups() {
    let document = blog::app().page_size(20, 500).openapi();
    let posts = operation(&document, "/api/posts", "get");
    let names = param_names(posts);
    for name in [
        "page",
        "page_size",
        "cursor",
        "ordering",
        "search",
        "expand",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert_eq!(
        param(posts, "page_size").unwrap()["schema"],
        json!({ "type": "integer", "minimum": 1, "maximum": 500, "default": 20 })
    );
    assert_eq!(param(posts, "page").unwrap()["schema"]["minimum"], 1);
    // `ordering` and `expand` are comma-separated names, as the parser
    // reads them (spaces and empty items ignored): a pattern says which.
    let ordering = param(posts, "ordering").unwrap();
    let pattern =
        ferrobridge::__private::regex::Regex::new(ordering["schema"]["pattern"].as_str().unwrap())
            .unwrap();
    for accepted in [
        "",
        "created_at",
        "-created_at,title",
        " likes , -rating ,",
        "title,,",
    ] {
        assert!(pattern.is_match(accepted), "{accepted:?}");
    }
    for refused in ["body", "--title", "title,-", "-", "title\t", "author__name"] {
        assert!(!pattern.is_match(refused), "{refused:?}");
    }
    // The list's bounds are stated, so a client that keeps to the document
    // is never refused by them (ListSettings' defaults).
    let limits = ferrobridge::api::ListSettings::default();
    // A request within every parameter's bound can still be too long as a
    // whole: every operation documents the 431 the server's head limit gives.
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            assert!(
                operation["responses"]["431"].is_object(),
                "{method} {path} does not document 431"
            );
        }
    }
    let nine_terms = vec!["title"; limits.max_ordering_terms + 1].join(",");
    assert!(pattern.is_match(&vec!["title"; limits.max_ordering_terms].join(",")));
    assert!(!pattern.is_match(&nine_terms));
    let search = &param(posts, "search").unwrap()["schema"];
    assert_eq!(search["maxLength"], limits.max_search_length);
    let words =
        ferrobridge::__private::regex::Regex::new(search["pattern"].as_str().unwrap()).unwrap();
    assert!(words.is_match(&vec!["ab"; limits.max_search_words].join(" ")));
    assert!(!words.is_match(&vec!["ab"; limits.max_search_words + 1].join(" ")));
    assert_eq!(
        param(posts, "cursor").unwrap()["schema"]["maxLength"],
        limits.max_cursor_length
    );
    let title_in = &param(posts, "title__in").unwrap()["schema"];
    assert_eq!(title_in["maxItems"], limits.max_in_values);
    assert_eq!(
        title_in["items"]["maxLength"],
        limits.max_filter_value_length
    );
    assert!(
        ordering["description"]
            .as_str()
            .unwrap()
            .contains("created_at, title, likes, rating")
    );
    assert!(
        param(posts, "search").unwrap()["description"]
            .as_str()
            .unwrap()
            .contains("title, body")
    );
    let expand = param(posts, "expand").unwrap()["schema"]["pattern"]
        .as_str()
        .unwrap();
    let expand = ferrobridge::__private::regex::Regex::new(expand).unwrap();
    assert!(expand.is_match("author,owner") && expand.is_match(""));
    assert!(!expand.is_match("title") && !expand.is_match("-author"));

    // Each declared filter, with every lookup its kind takes, typed.
    let schema = |name: &str| {
        param(posts, name).unwrap_or_else(|| panic!("no parameter {name}"))["schema"].clone()
    };
    // Integer filter values are checked against the column's own type:
    // `likes` is an i32, `author_id` an i64.
    let int32 = json!({
        "type": "integer", "format": "int32",
        "minimum": i32::MIN, "maximum": i32::MAX,
    });
    let int64 = json!({
        "type": "integer", "format": "int64",
        "minimum": i64::MIN, "maximum": i64::MAX,
    });
    // Strings with NUL are refused (422 `string_nul`).
    // Each filter value is bounded (ListSettings::max_filter_value_length).
    let text = json!({ "type": "string", "maxLength": 1000, "pattern": "^[^\\u0000]*$" });
    assert_eq!(schema("published"), json!({ "type": "boolean" }));
    assert_eq!(schema("published__ne"), json!({ "type": "boolean" }));
    assert_eq!(schema("published__isnull"), json!({ "type": "boolean" }));
    assert_eq!(schema("likes"), int32);
    assert_eq!(schema("likes__gte"), int32);
    // `__in` is a comma-separated list of at least one value.
    assert_eq!(param(posts, "likes__in").unwrap()["explode"], false);
    assert_eq!(
        schema("likes__in"),
        json!({ "type": "array", "items": int32, "minItems": 1, "maxItems": 100 })
    );
    assert_eq!(schema("rating__lt"), json!({ "type": "number" }));
    assert_eq!(schema("author_id__in")["items"], int64);
    assert_eq!(
        schema("created_at__gte"),
        json!({ "type": "string", "format": "date-time" })
    );
    assert_eq!(schema("title__icontains"), text);
    assert_eq!(schema("title__in")["items"], text);
    // Choices are an enum of their stored strings.
    let kinds = json!({ "type": "string", "enum": ["article", "note", "link"] });
    assert_eq!(schema("kind"), kinds);
    assert_eq!(schema("kind__ne"), kinds);
    assert_eq!(schema("kind__in")["items"], kinds);
    assert!(param(posts, "kind__icontains").is_none());
    assert_eq!(schema("title__istartswith"), text);
    assert_eq!(schema("rating__isnull"), json!({ "type": "boolean" }));
    for absent in [
        "published__gt",
        "published__in",
        "likes__icontains",
        "body",
        "body__icontains",
        "updated_at",
        "title__exact",
    ] {
        assert!(
            param(posts, absent).is_none(),
            "{absent} should not be documented"
        );
    }
    let filters = names.iter().filter(|n| {
        ![
            "page",
            "page_size",
            "cursor",
            "ordering",
            "search",
            "expand",
        ]
        .contains(n)
    });
    for name in filters {
        let field = name.split("__").next().unwrap();
        assert!(
            [
                "author_id",
                "published",
                "kind",
                "likes",
                "rating",
                "created_at",
                "title"
            ]
            .contains(&field),
            "{name}"
        );
    }
    let description = param(posts, "title__icontains").unwrap()["description"]
        .as_str()
        .unwrap();
    assert!(description.contains("case-insensitive"), "{description}");

    // Authors have no foreign key: no `expand`; they search by name.
    let authors = operation(&document, "/api/authors", "get");
    assert!(param(authors, "expand").is_none());
    assert!(param(authors, "search").is_some());
    assert!(param(authors, "email__icontains").is_some());
    assert!(param(operation(&document, "/api/authors/{pk}", "get"), "expand").is_none());
    assert!(param(operation(&document, "/api/posts/{pk}", "get"), "expand").is_some());
}

#[tokio::test]
async fn plain_routes_are_documented_by_method_and_path() {
    let document = blog::app()
        .route(
            "/api/things/{id}",
            get(|| async { "thing" }).delete(|| async { "gone" }),
        )
        .route("/files/{*rest}", post(|| async { "ok" }))
        .openapi();
    let thing = operation(&document, "/api/things/{id}", "get");
    assert_eq!(thing["operationId"], "get_api_things_id");
    assert_eq!(
        thing["responses"]["200"]["description"],
        "Successful response"
    );
    assert_eq!(
        param(thing, "id").unwrap(),
        &json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } })
    );
    assert_eq!(
        operation(&document, "/api/things/{id}", "delete")["operationId"],
        "delete_api_things_id"
    );
    assert!(document["paths"]["/api/things/{id}"].get("post").is_none());
    let files = operation(&document, "/files/{rest}", "post");
    assert_eq!(param(files, "rest").unwrap()["in"], "path");
}

#[tokio::test]
async fn docs_page_and_its_assets_are_served_by_the_app() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let router = ferrobridge_tests::blog_router(&db).await;

    let page = get_raw(&router, "/docs", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        header_of(&page, header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    assert!(header_of(&page, header::CONTENT_SECURITY_POLICY).contains("default-src 'self'"));
    let html = String::from_utf8(page.body).unwrap();
    assert!(html.contains("<title>blog - API docs</title>"));
    assert!(html.contains(r#"data-openapi-url="/openapi.json""#));
    assert!(
        !html.contains("//"),
        "no absolute or CDN URLs in the page:\n{html}"
    );

    let mut linked: Vec<&str> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with("/docs/assets/"))
        .collect();
    linked.sort();
    assert_eq!(linked.len(), 3, "{linked:?}");
    for url in linked {
        let expected = if url.contains(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        let asset = get_raw(&router, url, &[]).await;
        assert_eq!(asset.status, StatusCode::OK, "{url}");
        assert_eq!(header_of(&asset, header::CONTENT_TYPE), expected, "{url}");
        assert_eq!(
            header_of(&asset, header::CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
        assert!(asset.body.len() > 100, "{url}");
        let etag = header_of(&asset, header::ETAG).to_string();
        let again = get_raw(&router, url, &[(header::IF_NONE_MATCH, &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{url}");
        assert!(again.body.is_empty());
    }

    let initializer = get_raw(&router, "/docs/assets/swagger-initializer.js", &[]).await;
    assert_eq!(initializer.status, StatusCode::OK);
    assert_eq!(header_of(&initializer, header::CACHE_CONTROL), "no-cache");
    let script = String::from_utf8(initializer.body).unwrap();
    assert!(script.contains("SwaggerUIBundle("));
    assert!(script.contains("/openapi.json"));
    assert!(
        !script.contains("http"),
        "no other origin in the initializer"
    );

    let css = get_raw(&router, "/docs/assets/swagger-ui.css", &[]).await;
    assert_eq!(
        header_of(&css, header::CONTENT_TYPE),
        "text/css; charset=utf-8"
    );
    let license = get_raw(&router, "/docs/assets/LICENSE", &[]).await;
    assert_eq!(license.status, StatusCode::OK);
    assert_eq!(
        header_of(&license, header::CONTENT_TYPE),
        "text/plain; charset=utf-8"
    );
    assert!(String::from_utf8_lossy(&license.body).contains("Apache License"));

    let missing = get_raw(&router, "/docs/assets/nope.js", &[]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let traversal = get_raw(&router, "/docs/assets/..%2FCargo.toml", &[]).await;
    assert_eq!(traversal.status, StatusCode::NOT_FOUND);
    let slash = get_raw(&router, "/docs/", &[]).await;
    assert_eq!(slash.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(header_of(&slash, header::LOCATION), "/docs");
    db.finish().await;
}

// --- The document says what the server accepts and refuses (issue #12) ---

use axum::extract::{Path, Query};
use ferrobridge_tests::{blog_router, call, call_as, db_tests, send};

db_tests!(
    update_schemas_are_nullable_only_where_null_is_taken,
    integers_are_documented_and_checked_at_their_rust_bounds,
    strings_with_nul_are_documented_and_refused,
    hand_written_path_parameters_are_typed_and_answer_json_errors,
    token_endpoint_documents_and_answers_413_and_422,
    public_operations_document_the_optional_token,
);

fn component<'a>(document: &'a Value, name: &str) -> &'a Value {
    &document["components"]["schemas"][name]
}

async fn update_schemas_are_nullable_only_where_null_is_taken(db: &TestDb) {
    let document = blog::app().openapi();
    let update = &component(&document, "PostUpdate")["properties"];
    assert_eq!(update["title"]["type"], "string", "{update}");
    assert_eq!(update["likes"]["type"], "integer", "{update}");
    assert_eq!(update["rating"]["type"], json!(["number", "null"]));
    let router = blog_router(db).await;
    let author = call(
        &router,
        Method::POST,
        "/api/authors",
        Some(json!({ "name": "A" })),
    )
    .await;
    let post = call(
        &router,
        Method::POST,
        "/api/posts",
        Some(json!({ "title": "t", "body": "b", "author_id": author.json["id"], "rating": 2.0 })),
    )
    .await;
    let url = format!("/api/posts/{}", post.json["id"]);
    let refused = call(&router, Method::PATCH, &url, Some(json!({ "title": null }))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json["detail"][0]["type"], "string_type");
    let cleared = call(
        &router,
        Method::PATCH,
        &url,
        Some(json!({ "rating": null })),
    )
    .await;
    assert_eq!(cleared.status, StatusCode::OK, "{:?}", cleared.json);
    assert_eq!(cleared.json["rating"], Value::Null);
}

async fn integers_are_documented_and_checked_at_their_rust_bounds(db: &TestDb) {
    let document = blog::app().openapi();
    let pk = &param(operation(&document, "/api/posts/{pk}", "get"), "pk").unwrap()["schema"];
    assert_eq!(
        *pk,
        json!({ "type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX })
    );
    // `Group.id` is an i32.
    let group_pk = &param(operation(&document, "/api/groups/{pk}", "get"), "pk").unwrap()["schema"];
    assert_eq!(group_pk["maximum"], json!(i32::MAX));
    assert_eq!(group_pk["minimum"], json!(i32::MIN));
    // `likes: i32` with `min_value = 0`: the declared bound wins where tighter.
    let likes = &component(&document, "PostCreate")["properties"]["likes"];
    assert_eq!(likes["minimum"], json!(0));
    assert_eq!(likes["maximum"], json!(i32::MAX));
    // Every integer of every schema has both bounds.
    let mut unbounded = Vec::new();
    fn walk(value: &Value, at: String, unbounded: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                let integer = map.get("type").is_some_and(|t| {
                    t == "integer" || t.as_array().is_some_and(|a| a.contains(&json!("integer")))
                });
                if integer
                    && map.contains_key("format")
                    && !(map.contains_key("minimum") && map.contains_key("maximum"))
                {
                    unbounded.push(at.clone());
                }
                for (key, item) in map {
                    walk(item, format!("{at}/{key}"), unbounded);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, format!("{at}/{i}"), unbounded);
                }
            }
            _ => {}
        }
    }
    walk(&document, String::new(), &mut unbounded);
    assert!(unbounded.is_empty(), "{unbounded:?}");

    // A page whose offset would not fit an i64 is refused, and says so.
    let page = &param(operation(&document, "/api/posts", "get"), "page").unwrap()["schema"];
    assert_eq!(page["maximum"], json!(i64::MAX / 100));

    let router = blog_router(db).await;
    for query in [
        "page=4611686018427387904&page_size=100",
        "page=92233720368547759",
    ] {
        let reply = call(&router, Method::GET, &format!("/api/authors?{query}"), None).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
    }
    let last_page = format!("/api/authors?page={}&page_size=100", i64::MAX / 100);
    assert_eq!(
        call(&router, Method::GET, &last_page, None).await.status,
        StatusCode::OK
    );
    let past = call(&router, Method::GET, "/api/posts/9223372036854775808", None).await;
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);
    let last = call(&router, Method::GET, "/api/posts/9223372036854775807", None).await;
    assert_eq!(last.status, StatusCode::NOT_FOUND);
    let author = call(
        &router,
        Method::POST,
        "/api/authors",
        Some(json!({ "name": "A" })),
    )
    .await;
    let body = |likes: Value| {
        Some(json!({ "title": "t", "body": "b", "author_id": author.json["id"], "likes": likes }))
    };
    let over = call(
        &router,
        Method::POST,
        "/api/posts",
        body(json!(2147483648u64)),
    )
    .await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY);
    // JSON Schema (and Pydantic) count 3.0 as an integer.
    let integral = call(&router, Method::POST, "/api/posts", body(json!(3.0))).await;
    assert_eq!(integral.status, StatusCode::CREATED, "{:?}", integral.json);
    assert_eq!(integral.json["likes"], json!(3));
    let fraction = call(&router, Method::POST, "/api/posts", body(json!(3.5))).await;
    assert_eq!(fraction.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn strings_with_nul_are_documented_and_refused(db: &TestDb) {
    let document = blog::app().openapi();
    let nul_free = json!("^[^\\u0000]*$");
    let create = &component(&document, "PostCreate")["properties"];
    assert_eq!(create["title"]["pattern"], nul_free);
    assert_eq!(create["body"]["pattern"], nul_free);
    assert_eq!(
        component(&document, "AuthorUpdate")["properties"]["name"]["pattern"],
        nul_free
    );
    // Path parameters and hand-written bodies take NUL: nothing is claimed there.
    let publish = operation(&document, "/api/posts/{pk}/publish", "post");
    assert!(
        param(publish, "pk").unwrap()["schema"]
            .get("pattern")
            .is_none()
    );
    let list = operation(&document, "/api/posts", "get");
    // `search` has its own pattern (bounding its words), NUL-free as well.
    assert_eq!(
        param(list, "search").unwrap()["schema"]["allOf"][0]["pattern"],
        nul_free
    );
    assert_eq!(param(list, "title").unwrap()["schema"]["pattern"], nul_free);

    let router = blog_router(db).await;
    let body = call(
        &router,
        Method::POST,
        "/api/authors",
        Some(json!({ "name": "a\u{0}b" })),
    )
    .await;
    assert_eq!(body.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body.json["detail"][0]["type"], "string_nul");
    for query in ["search=a%00", "title=a%00", "title__in=a,b%00"] {
        let reply = call(&router, Method::GET, &format!("/api/posts?{query}"), None).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(reply.json["detail"][0]["type"], "string_nul", "{query}");
    }
}

#[tokio::test]
async fn ordering_is_left_out_without_orderable_fields() {
    let document = blog::app().openapi();
    // The link tables declare no `ordering(...)`.
    for path in [
        "/api/user_groups",
        "/api/user_permissions",
        "/api/group_permissions",
    ] {
        let list = operation(&document, path, "get");
        assert!(param(list, "ordering").is_none(), "{path}");
    }
    assert!(param(operation(&document, "/api/posts", "get"), "ordering").is_some());
}

/// A hand-written handler taking a query, as `App::handle` documents it.
#[derive(ferrobridge::__private::serde::Deserialize, JsonSchema)]
#[serde(crate = "ferrobridge::__private::serde")]
#[schemars(crate = "ferrobridge::schemars")]
struct Paging {
    /// A number.
    n: u32,
}

async fn typed_query(Query(paging): Query<Paging>) -> String {
    paging.n.to_string()
}

async fn typed_body(Json(paging): Json<Paging>) -> String {
    paging.n.to_string()
}

async fn two_params(Path((id, slug)): Path<(i16, String)>) -> String {
    format!("{id}/{slug}")
}

async fn hand_written_path_parameters_are_typed_and_answer_json_errors(db: &TestDb) {
    let document = blog::app().openapi();
    let publish = operation(&document, "/api/posts/{pk}/publish", "post");
    assert_eq!(
        param(publish, "pk").unwrap()["schema"],
        json!({ "type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX })
    );
    for status in ["401", "403", "404", "422"] {
        assert!(publish["responses"][status].is_object(), "{status}");
    }
    let router = blog_router(db).await;
    let reply = call(&router, Method::POST, "/api/posts/abc/publish", None).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json["detail"][0]["loc"], json!(["path", "pk"]));
    assert_eq!(reply.json["detail"][0]["type"], "int_parsing");
    let reply = call(
        &router,
        Method::POST,
        "/api/posts/99999999999999999999/publish",
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Any axum extractor, on any hand-written route, answers JSON errors.
    let app = ferrobridge::App::new("extractors")
        .body_limit(64)
        .handle(Method::GET, "/q", "Query", typed_query)
        .handle(Method::POST, "/j", "Json", typed_body)
        .handle(Method::GET, "/p/{id}/{slug}", "Path", two_params);
    let document = app.openapi();
    let params = operation(&document, "/p/{id}/{slug}", "get");
    assert_eq!(
        param(params, "id").unwrap()["schema"]["maximum"],
        json!(i16::MAX)
    );
    assert_eq!(param(params, "slug").unwrap()["schema"]["type"], "string");
    for status in ["413", "415", "422"] {
        assert!(operation(&document, "/j", "post")["responses"][status].is_object());
    }
    let router = app.router(db.db.clone());
    let shape = |reply: &ferrobridge_tests::Reply, loc: &str| {
        assert_eq!(
            reply.headers[header::CONTENT_TYPE],
            "application/json",
            "{reply:?}"
        );
        assert_eq!(reply.json["detail"][0]["loc"][0], loc, "{reply:?}");
    };
    let reply = call(&router, Method::GET, "/q?n=minus", None).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    shape(&reply, "query");
    let reply = call(&router, Method::GET, "/p/40000/x", None).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    shape(&reply, "path");
    assert_eq!(reply.json["detail"][0]["loc"], json!(["path", "id"]));
    let reply = call(&router, Method::POST, "/j", Some(json!({ "n": "x" }))).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    shape(&reply, "body");
    let request = Request::post("/j")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    let reply = send(&router, request).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    shape(&reply, "header");
    let reply = call(
        &router,
        Method::POST,
        "/j",
        Some(json!({ "n": 1, "pad": "x".repeat(100) })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json["detail"], "Request body is too large");
}

async fn token_endpoint_documents_and_answers_413_and_422(db: &TestDb) {
    let document = blog::app().openapi();
    let login = operation(&document, "/api/auth/token", "post");
    for status in ["200", "400", "413", "422", "429"] {
        assert!(login["responses"][status].is_object(), "{status}");
    }
    let app = blog::app().body_limit(256);
    let router = ferrobridge_tests::authed_router(&app, &db.db).await;
    let empty = send(
        &router,
        Request::post("/api/auth/token")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let big = format!("username=root&password={}", "x".repeat(1000));
    let request = Request::post("/api/auth/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(big))
        .unwrap();
    let reply = send(&router, request).await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{:?}",
        reply.json
    );
}

async fn public_operations_document_the_optional_token(db: &TestDb) {
    let document = blog::app().openapi();
    let list = operation(&document, "/api/authors", "get");
    assert_eq!(
        list["security"],
        json!([{}, { "OAuth2PasswordBearer": [] }])
    );
    assert!(list["responses"]["401"].is_object());
    let router = blog_router(db).await;
    let reply = call_as(
        &router,
        Some("not-a-token"),
        Method::GET,
        "/api/authors",
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}
