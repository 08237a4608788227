//! The bounds on list queries (`ListSettings`): every user-controlled list
//! (search words, filters, `__in` items, ordering terms, `expand` names,
//! cursor text) and every number (pages, page sizes, primary keys and
//! filter values at the column's integer bounds) is checked before it
//! becomes SQL, on the API and the admin, each at its limit and one past it.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use ferrobridge::api::ListSettings;
use ferrobridge_tests::{
    AdminClient, PASSWORD, TestDb, UserKind, blog_router, call, db_tests, send,
};
use serde_json::{Value, json};

db_tests!(
    search_words_and_length_are_bounded,
    page_offsets_fit_an_i64,
    filters_in_lists_ordering_expand_and_cursors_are_bounded,
    integers_past_their_column_answer_422,
    list_limits_are_configurable,
    body_size_and_json_depth_are_bounded,
    admin_search_pages_and_keys_are_bounded,
);

/// `n` copies of `word`, joined by `+` (a space in a query string).
fn words(word: &str, n: usize) -> String {
    vec![word; n].join("+")
}

async fn get(router: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let reply = call(router, Method::GET, uri, None).await;
    (reply.status, reply.json)
}

/// Asserts a 422 whose only detail is at `loc` with `kind`, returning its `ctx`.
fn refused(reply: (StatusCode, Value), loc: Value, kind: &str) -> Value {
    let (status, body) = reply;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let detail = &body["detail"][0];
    assert_eq!(detail["loc"], loc, "{body}");
    assert_eq!(detail["type"], kind, "{body}");
    detail["ctx"].clone()
}

async fn search_words_and_length_are_bounded(db: &TestDb) {
    let router = blog_router(db).await;
    let limits = ListSettings::default();
    for list in ["/api/authors", "/api/posts", "/api/users"] {
        let at = format!("{list}?search={}", words("ab", limits.max_search_words));
        assert_eq!(get(&router, &at).await.0, StatusCode::OK, "{at}");
        let over = format!("{list}?search={}", words("ab", limits.max_search_words + 1));
        let ctx = refused(
            get(&router, &over).await,
            json!(["query", "search"]),
            "too_long",
        );
        assert_eq!(ctx["max_length"], limits.max_search_words);
        assert_eq!(ctx["actual_length"], limits.max_search_words + 1);
        // What used to overflow a stack or the database's expression depth.
        let hostile = format!("{list}?search={}", words("ab", 17_000));
        let (status, body) = get(&router, &hostile).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        // Repeated `search` parameters count together.
        let split = format!(
            "{list}?search={}&search={}",
            words("ab", limits.max_search_words),
            "ab"
        );
        refused(
            get(&router, &split).await,
            json!(["query", "search"]),
            "too_long",
        );
        // Found by the fuzzer: PostgreSQL refuses NUL in text (it was a 500 there).
        let nul = format!("{list}?search=a%00b");
        refused(
            get(&router, &nul).await,
            json!(["query", "search"]),
            "string_nul",
        );
    }
    let at = format!(
        "/api/authors?search={}",
        "a".repeat(limits.max_search_length)
    );
    assert_eq!(get(&router, &at).await.0, StatusCode::OK);
    let over = format!(
        "/api/authors?search={}",
        "a".repeat(limits.max_search_length + 1)
    );
    let ctx = refused(
        get(&router, &over).await,
        json!(["query", "search"]),
        "string_too_long",
    );
    assert_eq!(ctx["max_length"], limits.max_search_length);
}

async fn page_offsets_fit_an_i64(db: &TestDb) {
    let router = blog_router(db).await;
    // The issue's request: the offset (page - 1) * 100 overflowed the i64 bind.
    let ctx = refused(
        get(
            &router,
            "/api/authors?page=4611686018427387904&page_size=100",
        )
        .await,
        json!(["query", "page"]),
        "less_than_equal",
    );
    // One bound for every page size, the one the OpenAPI document states:
    // the largest page size's offset fits an i64.
    let max = ListSettings::default().max_page();
    assert_eq!(max, i64::MAX as u64 / 100);
    assert_eq!(ctx["le"], max);
    let (status, body) = get(&router, &format!("/api/authors?page={max}&page_size=100")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"], json!([]));
    assert_eq!(
        get(&router, &format!("/api/posts?page={max}")).await.0,
        StatusCode::OK
    );
    refused(
        get(&router, &format!("/api/posts?page={}", max + 1)).await,
        json!(["query", "page"]),
        "less_than_equal",
    );
    refused(
        get(&router, &format!("/api/posts?page={}", u64::MAX)).await,
        json!(["query", "page"]),
        "less_than_equal",
    );
    refused(
        get(
            &router,
            "/api/posts?page=99999999999999999999999999999999999999999",
        )
        .await,
        json!(["query", "page"]),
        "int_parsing",
    );
    // Page size: refused past the maximum, not clamped.
    let limits = ListSettings::default();
    assert_eq!(
        get(
            &router,
            &format!("/api/posts?page_size={}", limits.max_page_size)
        )
        .await
        .0,
        StatusCode::OK
    );
    let ctx = refused(
        get(
            &router,
            &format!("/api/posts?page_size={}", limits.max_page_size + 1),
        )
        .await,
        json!(["query", "page_size"]),
        "less_than_equal",
    );
    assert_eq!(ctx["le"], limits.max_page_size);
}

async fn filters_in_lists_ordering_expand_and_cursors_are_bounded(db: &TestDb) {
    let router = blog_router(db).await;
    let limits = ListSettings::default();

    let filters = |n: usize| vec!["title__icontains=a"; n].join("&");
    let at = format!("/api/posts?{}", filters(limits.max_filters));
    assert_eq!(get(&router, &at).await.0, StatusCode::OK);
    let over = format!("/api/posts?{}", filters(limits.max_filters + 1));
    let ctx = refused(get(&router, &over).await, json!(["query"]), "too_long");
    assert_eq!(ctx["max_length"], limits.max_filters);
    // Unknown names count too: they are refused by number, not one by one.
    let unknown = format!("/api/posts?{}", vec!["nope=1"; 5_000].join("&"));
    refused(get(&router, &unknown).await, json!(["query"]), "too_long");

    let value = "a".repeat(limits.max_filter_value_length);
    let at = format!("/api/posts?title__icontains={value}");
    assert_eq!(get(&router, &at).await.0, StatusCode::OK);
    let over = format!("/api/posts?title__icontains={value}a");
    let ctx = refused(
        get(&router, &over).await,
        json!(["query", "title__icontains"]),
        "string_too_long",
    );
    assert_eq!(ctx["max_length"], limits.max_filter_value_length);
    let over = format!("/api/posts?title__in=b,{value}a");
    refused(
        get(&router, &over).await,
        json!(["query", "title__in"]),
        "string_too_long",
    );

    let items = |n: usize| (1..=n).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let at = format!("/api/posts?likes__in={}", items(limits.max_in_values));
    assert_eq!(get(&router, &at).await.0, StatusCode::OK);
    let over = format!("/api/posts?likes__in={}", items(limits.max_in_values + 1));
    let ctx = refused(
        get(&router, &over).await,
        json!(["query", "likes__in"]),
        "too_long",
    );
    assert_eq!(ctx["max_length"], limits.max_in_values);
    assert_eq!(ctx["actual_length"], limits.max_in_values + 1);

    let terms = |n: usize| vec!["title"; n].join(",");
    let at = format!("/api/posts?ordering={}", terms(limits.max_ordering_terms));
    assert_eq!(get(&router, &at).await.0, StatusCode::OK);
    let over = format!(
        "/api/posts?ordering={}",
        terms(limits.max_ordering_terms + 1)
    );
    let ctx = refused(
        get(&router, &over).await,
        json!(["query", "ordering"]),
        "too_long",
    );
    assert_eq!(ctx["max_length"], limits.max_ordering_terms);

    // Repeated names are one relation, expanded once.
    let author = call(
        &router,
        Method::POST,
        "/api/authors",
        Some(json!({ "name": "Ann" })),
    )
    .await;
    let post = call(
        &router,
        Method::POST,
        "/api/posts",
        Some(json!({ "title": "t", "body": "b", "author_id": author.json["id"] })),
    )
    .await;
    assert_eq!(post.status, StatusCode::CREATED, "{}", post.json);
    let repeated = format!("/api/posts?expand={}", vec!["author"; 5_000].join(","));
    let (status, body) = get(&router, &repeated).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"][0]["author"]["name"], "Ann");
    let pk = &post.json["id"];
    let (status, _) = get(&router, &format!("/api/posts/{pk}?expand=author,author")).await;
    assert_eq!(status, StatusCode::OK);
    let names = |n: usize| {
        (0..n)
            .map(|i| format!("x{i}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    // At the bound, unknown names are a 400 naming each; past it a 422.
    let at = format!("/api/posts?expand={}", names(limits.max_expand));
    assert_eq!(get(&router, &at).await.0, StatusCode::BAD_REQUEST);
    let over = format!("/api/posts?expand={}", names(limits.max_expand + 1));
    let ctx = refused(
        get(&router, &over).await,
        json!(["query", "expand"]),
        "too_long",
    );
    assert_eq!(ctx["max_length"], limits.max_expand);
    let over = format!("/api/posts/{pk}?expand={}", names(limits.max_expand + 1));
    refused(
        get(&router, &over).await,
        json!(["query", "expand"]),
        "too_long",
    );

    let cursor = "A".repeat(limits.max_cursor_length);
    // At the limit the cursor is read, and refused as one the list never
    // handed out (404, as in DRF); one character more is refused unread.
    let (status, body) = get(&router, &format!("/api/authors?cursor={cursor}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let ctx = refused(
        get(&router, &format!("/api/authors?cursor={cursor}A")).await,
        json!(["query", "cursor"]),
        "string_too_long",
    );
    assert_eq!(ctx["max_length"], limits.max_cursor_length);
}

async fn integers_past_their_column_answer_422(db: &TestDb) {
    let router = blog_router(db).await;
    // i64 primary keys in paths.
    assert_eq!(
        get(&router, "/api/posts/9223372036854775807").await.0,
        StatusCode::NOT_FOUND
    );
    for uri in [
        "/api/posts/9223372036854775808",
        "/api/posts/-9223372036854775809",
        "/api/users/2147483648",
    ] {
        let (status, body) = get(&router, uri).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {body}");
        assert_eq!(body["detail"][0]["loc"], json!(["path", "pk"]), "{uri}");
    }
    assert_eq!(
        get(&router, "/api/users/2147483647").await.0,
        StatusCode::NOT_FOUND
    );
    // Filter values at the bounds of the column's type: i32 `likes`, i64 `author_id`.
    for (uri, kind, bound) in [
        (
            "/api/posts?likes=2147483648",
            "less_than_equal",
            json!({ "le": i32::MAX }),
        ),
        (
            "/api/posts?likes=-2147483649",
            "greater_than_equal",
            json!({ "ge": i32::MIN }),
        ),
        (
            "/api/posts?likes__gt=99999999999",
            "less_than_equal",
            json!({ "le": i32::MAX }),
        ),
        (
            "/api/posts?likes__in=1,2147483648",
            "less_than_equal",
            json!({ "le": i32::MAX }),
        ),
        (
            "/api/posts?author_id=9223372036854775808",
            "less_than_equal",
            json!({ "le": i64::MAX }),
        ),
    ] {
        let loc = uri.split(['?', '=']).nth(1).unwrap();
        let ctx = refused(get(&router, uri).await, json!(["query", loc]), kind);
        assert_eq!(ctx, bound, "{uri}");
    }
    for uri in [
        "/api/posts?likes=2147483647",
        "/api/posts?likes=-2147483648",
        "/api/posts?likes__gt=2147483647",
        "/api/posts?likes__lte=-2147483648",
        "/api/posts?author_id=9223372036854775807",
        "/api/posts?author_id__in=-9223372036854775808,9223372036854775807",
        "/api/posts?likes__ne=0",
    ] {
        let (status, body) = get(&router, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    }
}

async fn list_limits_are_configurable(db: &TestDb) {
    let app = blog::app().list_limits(ListSettings {
        max_search_words: 2,
        max_search_length: 10,
        max_filters: 1,
        max_filter_value_length: 3,
        max_in_values: 2,
        max_ordering_terms: 1,
        max_expand: 1,
        max_cursor_length: 8,
        ..ListSettings::default()
    });
    let router = ferrobridge_tests::authed_router(&app, &db.db).await;
    for (ok, over, loc) in [
        ("search=a+b", "search=a+b+c", json!(["query", "search"])),
        (
            "search=aaaaaaaaaa",
            "search=aaaaaaaaaab",
            json!(["query", "search"]),
        ),
        ("likes=1", "likes=1&likes=2", json!(["query"])),
        ("title=abc", "title=abcd", json!(["query", "title"])),
        (
            "likes__in=1,2",
            "likes__in=1,2,3",
            json!(["query", "likes__in"]),
        ),
        (
            "ordering=-title",
            "ordering=title,likes",
            json!(["query", "ordering"]),
        ),
        (
            "expand=author",
            "expand=author,owner",
            json!(["query", "expand"]),
        ),
        ("cursor=", "cursor=AAAAAAAAA", json!(["query", "cursor"])),
    ] {
        let (status, body) = get(&router, &format!("/api/posts?{ok}")).await;
        assert_eq!(status, StatusCode::OK, "{ok}: {body}");
        let (status, body) = get(&router, &format!("/api/posts?{over}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{over}: {body}");
        assert_eq!(body["detail"][0]["loc"], loc, "{over}");
    }
}

async fn admin_search_pages_and_keys_are_bounded(db: &TestDb) {
    let router = blog_router(db).await;
    let mut admin = AdminClient::new(router.clone());
    admin.login("root", PASSWORD).await;
    for i in 0..3 {
        let reply = call(
            &router,
            Method::POST,
            "/api/authors",
            Some(json!({ "name": format!("Writer {i}") })),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    let limits = ListSettings::default();
    // The change list ignores search text past the bounds (it answers a
    // query string it cannot use with the page, never an error).
    let hostile = format!("/admin/blog/author/?q={}", words("Writer", 8_000));
    let page = admin.get(&hostile).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Writer 2"), "{}", page.body);
    // A page past the last shows the last, however far past.
    for p in [
        "4611686018427387904",
        "18446744073709551615",
        "99999999999999999999999",
    ] {
        let page = admin.get(&format!("/admin/blog/author/?p={p}")).await;
        assert_eq!(page.status, StatusCode::OK, "p={p}");
        assert!(page.body.contains("Writer 1"), "p={p}");
    }
    let page = admin
        .get(&format!(
            "/admin/blog/author/?q={}&p=4611686018427387904",
            words("Writer", 50)
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    // Links repeat the query string: only what the change list reads, within the limits.
    let junk = vec!["junk=1"; 3000].join("&");
    let uri = format!("/admin/blog/post/?{junk}&q={}", "w".repeat(5000));
    let page = admin.get(&uri).await;
    assert_eq!(page.status, StatusCode::OK);
    // Once, in the action form that posts back to this very URL; in no link.
    assert_eq!(page.body.matches("junk=1").count(), 3000);
    assert!(!page.body.contains("junk=1\""));
    let long = "w".repeat(5000);
    assert_eq!(
        page.body.matches(&long).count(),
        1,
        "only in the form's action"
    );
    assert!(page.body.contains(&"w".repeat(limits.max_search_length)));
    // The autocomplete answers JSON, so past the bounds it answers the API's 422.
    let at = format!(
        "/admin/blog/author/autocomplete/?term={}",
        words("writer", limits.max_search_words)
    );
    let page = admin.get(&at).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for term in [
        words("writer", limits.max_search_words + 1),
        words("ab", 17_000),
        "w".repeat(limits.max_search_length + 1),
    ] {
        let page = admin
            .get(&format!(
                "/admin/blog/author/autocomplete/?term={term}&page=4611686018427387904"
            ))
            .await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            page.body
        );
        let body: Value = serde_json::from_str(&page.body).unwrap();
        assert_eq!(body["detail"][0]["loc"], json!(["query", "term"]));
    }
    let page = admin
        .get("/admin/blog/author/autocomplete/?page=18446744073709551615")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // Keys past their column's type are no object: 404, never a 500.
    for uri in [
        "/admin/blog/post/9223372036854775808/change/",
        "/admin/blog/post/-9223372036854775809/delete/",
        "/admin/auth/user/2147483648/change/",
        "/admin/auth/user/2147483648/password/",
    ] {
        assert_eq!(admin.get(uri).await.status, StatusCode::NOT_FOUND, "{uri}");
    }
    // A filter value past its column's type is ignored, as any value that does not parse.
    for uri in [
        "/admin/blog/post/?author_id__exact=9223372036854775808",
        "/admin/blog/post/?author_id__exact=9223372036854775807",
    ] {
        assert_eq!(admin.get(uri).await.status, StatusCode::OK, "{uri}");
    }
}

/// `{"name": [[...]]}` with arrays and objects nested `levels` deep in all.
fn nested_name(levels: usize) -> String {
    let inner = levels - 1;
    format!("{{\"name\": {}1{}}}", "[".repeat(inner), "]".repeat(inner))
}

async fn post_raw(router: &axum::Router, uri: &str, body: String) -> (StatusCode, Value) {
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let reply = send(router, request).await;
    (reply.status, reply.json)
}

async fn body_size_and_json_depth_are_bounded(db: &TestDb) {
    // The defaults: 64 levels accepted, 65 refused.
    let router = blog_router(db).await;
    let (_, body) = post_raw(&router, "/api/authors", nested_name(64)).await;
    assert_eq!(body["detail"][0]["loc"], json!(["body", "name"]), "{body}");
    let (_, body) = post_raw(&router, "/api/authors", nested_name(65)).await;
    assert_eq!(body["detail"][0]["ctx"]["max_depth"], 64, "{body}");

    let app = blog::app().body_limit(1000).json_depth(5);
    let (_, token) = ferrobridge_tests::create_user(&db.db, "other", UserKind::Superuser).await;
    let router = ferrobridge_tests::with_token(app.router(db.db.clone()), token);
    // At the depth limit the body is read, and `name` found not a string.
    let (status, body) = post_raw(&router, "/api/authors", nested_name(5)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["detail"][0]["loc"], json!(["body", "name"]), "{body}");
    // One past it, the body is refused whole.
    let (status, body) = post_raw(&router, "/api/authors", nested_name(6)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["detail"][0]["loc"], json!(["body"]), "{body}");
    assert_eq!(body["detail"][0]["type"], "json_invalid");
    assert_eq!(body["detail"][0]["ctx"]["max_depth"], 5);
    // PATCH reads bodies the same way.
    let (status, created) = post_raw(&router, "/api/authors", r#"{"name": "Ann"}"#.into()).await;
    assert_eq!(status, StatusCode::CREATED);
    let uri = format!("/api/authors/{}", created["id"]);
    let request = Request::patch(&uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(nested_name(6)))
        .unwrap();
    let reply = send(&router, request).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json["detail"][0]["ctx"]["max_depth"], 5);

    // Body size: the limit itself is accepted, one byte more is 413.
    let name = |len: usize| {
        let padding = len - r#"{"name": ""}"#.len();
        format!(r#"{{"name": "{}"}}"#, " ".repeat(padding))
    };
    let (status, body) = post_raw(&router, "/api/authors", name(1000)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["detail"][0]["loc"], json!(["body", "name"]), "{body}");
    let (status, _) = post_raw(&router, "/api/authors", name(1001)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}
