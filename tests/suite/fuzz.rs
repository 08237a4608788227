//! Property-based fuzzing (proptest) of what a stranger controls: the list
//! query parser (filters, lookups, ordering, cursor, search, page and
//! page_size, expand), the JSON body reader (`DeferredJson` into the blog
//! models' Create and Update schemas) and the whole router of the blog
//! example (API lists and retrieves, bodies, the admin's change list and
//! autocomplete) with generated query strings. Nothing may panic and every
//! answer is 2xx or 4xx.
//!
//! A normal test run tries a few hundred cases per target. With
//! `FERROBRIDGE_FUZZ_SECONDS=N` each target runs for N seconds (targets run
//! concurrently, as tests do); `cargo xtask fuzz --seconds N` does that. A
//! failure panics with proptest's minimal (shrunk) failing input.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use axum::response::IntoResponse;
use base64::Engine;
use ferrobridge::api::{ListQuery, ListSettings, RESERVED, parse_expand};
use ferrobridge::model::Model;
use ferrobridge::schema::{DeferredJson, JsonDepth};
use ferrobridge_tests::{AdminClient, Backend, PASSWORD, TestDb, call};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use serde_json::json;

/// Cases per target in a normal test run: enough to catch a regression of
/// the bounds, few enough that the suite stays fast.
const DEFAULT_CASES: u32 = 128;

/// Runs `test` on inputs from `strategy`: `DEFAULT_CASES` of them, or
/// rounds of them until `FERROBRIDGE_FUZZ_SECONDS` have passed. Panics
/// with the shrunk input of the first failure.
fn fuzz<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let budget = std::env::var("FERROBRIDGE_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let start = Instant::now();
    let mut total = 0u64;
    loop {
        let config = Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: 2048,
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        match runner.run(&strategy, &test) {
            Ok(()) => total += u64::from(cases),
            Err(TestError::Fail(reason, input)) => panic!(
                "fuzz target `{name}` failed after {total} cases: {reason}\n\
                 minimal failing input: {input:#?}"
            ),
            Err(TestError::Abort(reason)) => panic!("fuzz target `{name}` aborted: {reason}"),
        }
        match budget {
            Some(budget) if start.elapsed() < budget => continue,
            _ => break,
        }
    }
    eprintln!(
        "fuzz target `{name}`: {total} cases in {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

/// Values at the edges of every type a parameter is read as.
const EDGES: &[&str] = &[
    "",
    " ",
    "0",
    "-0",
    "1",
    "-1",
    "32767",
    "32768",
    "-32769",
    "2147483647",
    "2147483648",
    "-2147483649",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "4611686018427387904",
    "92233720368547759",
    "99999999999999999999999999999999999999999",
    "1e308",
    "1e400",
    "-1e400",
    "NaN",
    "inf",
    "0x10",
    " 7 ",
    "true",
    "false",
    "yes",
    "article",
    "2024-01-31",
    "2024-02-30",
    "+262143-12-31",
    "-262144-01-01",
    "2024-01-31T12:00:00Z",
    "262143-12-31T23:59:59Z",
    "-262143-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59.999999999-23:59",
    "79228162514264337593543950335",
    "79228162514264337593543950336",
    "0.0000000000000000000000000001",
    "00000000-0000-0000-0000-000000000000",
    "%",
    "_",
    "'",
    "\"",
    "\\",
    "\0",
    "a\0b",
    ";--",
    "\u{202e}",
    "\u{fffd}",
    "é",
    "title",
    "-title",
    "name",
    "-name,id",
    "author",
    "owner",
    "author,owner",
    ",,,",
];

const FIELDS: &[&str] = &[
    "id",
    "name",
    "email",
    "title",
    "body",
    "author_id",
    "owner_id",
    "published",
    "kind",
    "likes",
    "rating",
    "created_at",
    "updated_at",
    "username",
    "is_staff",
    "is_active",
    "author",
    "nope",
    "",
];

const LOOKUPS: &[&str] = &[
    "",
    "__exact",
    "__ne",
    "__gt",
    "__gte",
    "__lt",
    "__lte",
    "__in",
    "__contains",
    "__icontains",
    "__startswith",
    "__istartswith",
    "__isnull",
    "__name",
    "__bogus",
    "__",
];

/// A query parameter's name: mostly ones the parser knows.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(RESERVED.to_vec()).prop_map(str::to_string),
        4 => (prop::sample::select(FIELDS), prop::sample::select(LOOKUPS))
            .prop_map(|(f, l)| format!("{f}{l}")),
        1 => any::<String>(),
    ]
}

/// A cursor: random bytes, or the shape the server hands out with
/// generated orderings and values.
fn cursor() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        Just(json!(null)),
        any::<bool>().prop_map(|b| json!(b)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        prop::sample::select(EDGES).prop_map(|s| json!(s)),
        any::<String>().prop_map(|s| json!(s)),
    ];
    let signature = prop::sample::select(vec![
        "name,id",
        "-name,id",
        "id",
        "-id",
        "-created_at,id",
        "title,id",
        "likes,-title,id",
        "rating,id",
        "username,id",
        "",
    ]);
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    prop_oneof![
        (signature, prop::collection::vec(scalar, 0..5))
            .prop_map(move |(o, v)| b64(json!({ "o": o, "v": v }).to_string().as_bytes())),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(move |b| b64(&b)),
        any::<String>(),
    ]
}

/// A parameter's value: edges of every type, word lists, long repeats,
/// cursors and arbitrary text.
fn value() -> impl Strategy<Value = String> {
    let word = prop::sample::select(EDGES);
    let separator = prop::sample::select(vec![" ", ",", "+", "\t", ", "]);
    prop_oneof![
        4 => word.clone().prop_map(str::to_string),
        2 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|n| n.to_string()),
        2 => (prop::collection::vec(word.clone(), 0..30), separator.clone())
            .prop_map(|(words, sep)| words.join(sep)),
        1 => (word, separator, 0usize..2000)
            .prop_map(|(w, sep, n)| vec![w; n].join(sep)),
        1 => cursor(),
        2 => any::<String>(),
    ]
}

/// A query string as a client sends it, percent-encoded.
fn query() -> impl Strategy<Value = String> {
    prop::collection::vec((key(), value()), 0..12).prop_map(|pairs| {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    })
}

/// A raw query string: encoded pairs, or any text at all.
fn raw_query() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => query(),
        1 => any::<String>(),
        1 => prop::collection::vec(any::<u8>(), 0..200)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

fn status_of(error: ferrobridge::error::ApiError) -> StatusCode {
    error.into_response().status()
}

fn client_error(status: StatusCode, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        status.is_success() || status.is_client_error() || status.is_redirection(),
        "{what} answered {status}"
    );
    Ok(())
}

#[test]
fn list_query_parser_never_panics() {
    let metas = [
        blog::Author::meta(),
        blog::Post::meta(),
        ferrobridge::auth::models::User::meta(),
    ];
    let settings = ListSettings::default();
    fuzz("list query parser", DEFAULT_CASES * 4, raw_query(), |raw| {
        for meta in metas {
            match ListQuery::parse(meta, Some(&raw), settings) {
                Ok(query) => {
                    prop_assert!(query.search.len() <= settings.max_search_words);
                    prop_assert!(query.filters.len() <= settings.max_filters);
                    prop_assert!(query.expand.len() <= settings.max_expand);
                    // Given ordering terms, plus the primary key.
                    prop_assert!(query.ordering.len() <= settings.max_ordering_terms + 1);
                    for filter in &query.filters {
                        prop_assert!(filter.values.len() <= settings.max_in_values);
                    }
                }
                Err(error) => client_error(status_of(error), "ListQuery::parse")?,
            }
            if let Err(error) = parse_expand(meta, Some(&raw), settings) {
                client_error(status_of(error), "parse_expand")?;
            }
        }
        Ok(())
    });
}

/// JSON text: generated values with hostile leaves (huge numbers, NUL,
/// lone surrogates) under the blog's field names, sometimes nested deeply.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(vec![
            "null",
            "true",
            "false",
            "0",
            "-0",
            "1.5",
            "1e999",
            "-1e999",
            "123456789012345678901234567890",
            "9223372036854775808",
            "-9223372036854775809",
            "2147483648",
            "\"\"",
            "\"\\u0000\"",
            "\"a\\u0000b\"",
            "\"\\ud800\"",
            "\"2024-01-31T12:00:00Z\"",
            "\"+262143-12-31T23:59:59Z\"",
            "\"article\"",
            "\"x@example.com\"",
        ])
        .prop_map(str::to_string),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| serde_json::to_string(&n).unwrap_or_default()),
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
        prop::sample::select(EDGES).prop_map(|s| serde_json::to_string(s).unwrap_or_default()),
    ];
    let tree = leaf.prop_recursive(4, 32, 6, |inner| {
        let field = prop_oneof![
            4 => prop::sample::select(FIELDS).prop_map(str::to_string),
            1 => any::<String>(),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec((field, inner), 0..8).prop_map(|pairs| {
                let members: Vec<String> = pairs
                    .into_iter()
                    .map(|(k, v)| format!("{}:{v}", serde_json::to_string(&k).unwrap_or_default()))
                    .collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    });
    (tree, 0usize..200).prop_map(|(tree, depth)| {
        if depth < 150 {
            tree
        } else {
            format!("{}{tree}{}", "[".repeat(depth), "]".repeat(depth))
        }
    })
}

/// A request body: JSON text, JSON text with bytes broken (invalid UTF-8,
/// NUL, cut short), or any bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => json_text().prop_map(String::into_bytes),
        2 => (json_text(), any::<prop::sample::Index>(), prop::sample::select(vec![
            &b"\xff"[..], b"\x00", b"\xc3", b"\xed\xa0\x80", b"", b"\"", b"}",
        ]), any::<bool>())
            .prop_map(|(text, at, insert, cut)| {
                let mut bytes = text.into_bytes();
                let at = at.index(bytes.len() + 1);
                if cut {
                    bytes.truncate(at);
                }
                bytes.splice(at.min(bytes.len())..at.min(bytes.len()), insert.iter().copied());
                bytes
            }),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

fn read<T: ferrobridge::schema::FromJsonBody>(bytes: &[u8]) -> Result<Option<T>, TestCaseError> {
    match DeferredJson::from_bytes(bytes.to_vec(), JsonDepth::default()).parse::<T>() {
        Ok(value) => Ok(Some(value)),
        Err(error) => {
            client_error(status_of(error), "DeferredJson::parse")?;
            Ok(None)
        }
    }
}

#[test]
fn json_body_reader_never_panics() {
    fuzz("JSON body reader", DEFAULT_CASES * 4, body(), |bytes| {
        if let Some(input) = read::<<blog::Post as Model>::Create>(&bytes)? {
            let _ = blog::Post::insert_from(input);
        }
        read::<<blog::Post as Model>::Update>(&bytes)?;
        if let Some(input) = read::<<blog::Author as Model>::Create>(&bytes)? {
            let _ = blog::Author::insert_from(input);
        }
        read::<<blog::Author as Model>::Update>(&bytes)?;
        read::<<ferrobridge::auth::models::User as Model>::Create>(&bytes)?;
        read::<<ferrobridge::auth::models::User as Model>::Update>(&bytes)?;
        Ok(())
    });
}

/// A path segment: edges, numbers, arbitrary text, percent-encoded.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(EDGES).prop_map(str::to_string),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<String>(),
    ]
    .prop_map(|s| {
        percent_encoding::utf8_percent_encode(&s, percent_encoding::NON_ALPHANUMERIC).to_string()
    })
}

/// One request to the router.
#[derive(Debug, Clone)]
enum Call {
    List(&'static str, String),
    Retrieve(&'static str, String, String),
    Write(Method, String, Vec<u8>),
    ChangeList(&'static str, String),
    Autocomplete(String),
    AdminObject(&'static str, String),
}

fn calls() -> impl Strategy<Value = Vec<Call>> {
    let list = prop::sample::select(vec!["authors", "posts", "users", "groups", "permissions"]);
    let writable = prop::sample::select(vec!["authors", "posts"]);
    let model = prop::sample::select(vec!["blog/author", "blog/post", "auth/user"]);
    let call = prop_oneof![
        4 => (list.clone(), query()).prop_map(|(l, q)| Call::List(l, q)),
        1 => (list, segment(), query()).prop_map(|(l, pk, q)| Call::Retrieve(l, pk, q)),
        2 => (
            writable,
            prop::sample::select(vec![Method::POST, Method::PUT, Method::PATCH]),
            prop_oneof![Just("1".to_string()), segment()],
            body(),
        )
            .prop_map(|(l, method, pk, body)| {
                let uri = if method == Method::POST {
                    format!("/api/{l}")
                } else {
                    format!("/api/{l}/{pk}")
                };
                Call::Write(method, uri, body)
            }),
        2 => (model.clone(), query()).prop_map(|(m, q)| Call::ChangeList(m, q)),
        1 => query().prop_map(Call::Autocomplete),
        1 => (model, segment()).prop_map(|(m, pk)| Call::AdminObject(m, pk)),
    ];
    prop::collection::vec(call, 1..6)
}

/// The blog example on `backend` with a few rows, a superuser's router
/// and an admin session.
async fn seeded_blog(db: &TestDb) -> (axum::Router, AdminClient) {
    let router = ferrobridge_tests::blog_router(db).await;
    for name in ["Ann", "Bob"] {
        let author = call(
            &router,
            Method::POST,
            "/api/authors",
            Some(json!({ "name": name })),
        )
        .await;
        for title in ["Rust", "rust book", "Go"] {
            let post = json!({ "title": title, "body": "b", "author_id": author.json["id"] });
            call(&router, Method::POST, "/api/posts", Some(post)).await;
        }
    }
    let mut admin = AdminClient::new(router.clone());
    admin.login("root", PASSWORD).await;
    (router, admin)
}

async fn answer(
    router: &axum::Router,
    admin: &mut AdminClient,
    call: &Call,
) -> (StatusCode, String) {
    let request = |method: Method, uri: &str, body: Vec<u8>| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
    };
    let (uri, status) = match call {
        Call::List(list, query) => {
            let uri = format!("/api/{list}?{query}");
            (uri.clone(), get(router, &uri).await)
        }
        Call::Retrieve(list, pk, query) => {
            let uri = format!("/api/{list}/{pk}?{query}");
            (uri.clone(), get(router, &uri).await)
        }
        Call::Write(method, uri, body) => {
            let Ok(request) = request(method.clone(), uri, body.clone()) else {
                return (StatusCode::OK, uri.clone());
            };
            (uri.clone(), send_raw(router, request).await)
        }
        Call::ChangeList(model, query) => {
            let uri = format!("/admin/{model}/?{query}");
            (uri.clone(), admin_get(admin, &uri).await)
        }
        Call::Autocomplete(query) => {
            let uri = format!("/admin/blog/author/autocomplete/?{query}");
            (uri.clone(), admin_get(admin, &uri).await)
        }
        Call::AdminObject(model, pk) => {
            let uri = format!("/admin/{model}/{pk}/change/");
            (uri.clone(), admin_get(admin, &uri).await)
        }
    };
    (status, uri)
}

async fn admin_get(admin: &mut AdminClient, uri: &str) -> StatusCode {
    match Request::get(uri).body(Body::empty()) {
        Ok(request) => admin.request(request).await.status,
        // Not a request a client could send.
        Err(_) => StatusCode::OK,
    }
}

async fn get(router: &axum::Router, uri: &str) -> StatusCode {
    match Request::get(uri).body(Body::empty()) {
        Ok(request) => send_raw(router, request).await,
        // Not a request a client could send.
        Err(_) => StatusCode::OK,
    }
}

/// The status only: the body of an error need not be JSON here (the admin's pages).
async fn send_raw(router: &axum::Router, request: Request<Body>) -> StatusCode {
    use tower::ServiceExt;
    router
        .clone()
        .oneshot(request)
        .await
        .map(|r| r.status())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn router_answers_no_5xx(backend: Backend) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let Some(db) = runtime.block_on(TestDb::new(backend)) else {
        return;
    };
    let (router, admin) = runtime.block_on(seeded_blog(&db));
    let admin = std::cell::RefCell::new(admin);
    let name = format!("blog router on {backend:?}");
    fuzz(&name, DEFAULT_CASES / 2, calls(), |calls| {
        let mut admin = admin.borrow_mut();
        for call in &calls {
            let (status, uri) = runtime.block_on(answer(&router, &mut admin, call));
            prop_assert!(
                !status.is_server_error(),
                "{call:?} ({uri}) answered {status}"
            );
        }
        Ok(())
    });
    runtime.block_on(db.finish());
}

#[test]
fn router_answers_no_5xx_on_sqlite() {
    router_answers_no_5xx(Backend::Sqlite);
}

#[test]
fn router_answers_no_5xx_on_postgres() {
    router_answers_no_5xx(Backend::Postgres);
}

#[test]
fn router_answers_no_5xx_on_mysql() {
    router_answers_no_5xx(Backend::Mysql);
}
