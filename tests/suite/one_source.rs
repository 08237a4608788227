//! One source per constraint: `#[derive(Model)]` writes each constraint
//! once, into the field's `FieldMeta`, and the body reader (422), the JSON
//! Schema of the request bodies and the admin's form all read it there.

use std::path::Path;

use axum::http::{Method, StatusCode};
use ferrobridge::prelude::*;
use ferrobridge_tests::{AdminClient, PASSWORD, TestDb, authed_router, call, db_tests};
use serde_json::{Value, json};

/// A gadget with a constraint of each kind.
#[derive(Model, Clone, Debug)]
#[model(app = "one_source")]
pub struct Gadget {
    #[field(primary_key)]
    pub id: i64,
    /// Its code.
    #[field(max_length = 7, min_length = 3, regex = "^[a-z]+$")]
    pub code: String,
    #[field(min_value = 2, max_value = 9)]
    pub size: i32,
    #[field(max_length = 80, url)]
    pub link: Option<String>,
}

/// The generated code names each constraint once: in `FieldMeta`, with the
/// VARCHAR's length also in the entity's column type, and nowhere else
/// (no `#[validate]` attribute, no check of its own in the body reader).
#[test]
fn the_expansion_writes_each_constraint_once() {
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("suite/one_source.rs"))
            .expect("read this file");
    let file = syn::parse_file(&source).expect("parse");
    let item = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Struct(s) if s.ident == "Gadget" => Some(s),
            _ => None,
        })
        .expect("struct Gadget");
    let input: syn::DeriveInput = syn::parse_quote!(#item);
    let tokens = ferrobridge_codegen::expand_model(&input);
    let code = prettyplease::unparse(&syn::parse2(tokens).expect("generated code parses"));
    let count = |needle: &str| code.matches(needle).count();
    assert_eq!(count("\"^[a-z]+$\""), 1, "{code}");
    assert_eq!(count("min_length(3)"), 1, "{code}");
    assert_eq!(count("min_value(2.0)"), 1, "{code}");
    assert_eq!(count("max_value(9.0)"), 1, "{code}");
    assert_eq!(count("format(\"uri\")"), 1, "{code}");
    assert_eq!(count("DbType::String(Some(7))"), 1, "{code}");
    assert_eq!(count("StringLen::N(7)"), 1, "the column type, {code}");
    for gone in ["validate", "check_length", "check_range", "check_pattern"] {
        assert_eq!(count(gone), 0, "{gone} in {code}");
    }
}

async fn constraints_reach_the_422_the_schema_and_the_form(db: &TestDb) {
    let meta = Gadget::meta();
    let code = meta.field("code").expect("code");
    let size = meta.field("size").expect("size");
    let app = ferrobridge::App::new("one_source").model::<Gadget>();
    let router = authed_router(&app, &db.db).await;

    // The 422: every bound as the metadata says.
    let reply = call(
        &router,
        Method::POST,
        "/api/gadgets",
        Some(json!({ "code": "abcdefghij", "size": 10, "link": "nope" })),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        reply.json
    );
    let detail = reply.json["detail"].as_array().expect("detail").clone();
    let of =
        |field: &str| -> Vec<&Value> { detail.iter().filter(|d| d["loc"][1] == field).collect() };
    assert_eq!(of("code")[0]["type"], "string_too_long");
    assert_eq!(of("code")[0]["ctx"]["max_length"], json!(code.max_length));
    assert_eq!(of("size")[0]["type"], "less_than_equal");
    assert_eq!(
        of("size")[0]["ctx"]["le"],
        json!(size.max_value.map(|v| v as i64))
    );
    assert_eq!(of("link")[0]["type"], "url_parsing");
    let reply = call(
        &router,
        Method::POST,
        "/api/gadgets",
        Some(json!({ "code": "AB", "size": 1 })),
    )
    .await;
    let detail = reply.json["detail"].as_array().expect("detail").clone();
    let kinds: Vec<&Value> = detail.iter().map(|d| &d["type"]).collect();
    assert_eq!(
        kinds,
        [
            "string_too_short",
            "string_pattern_mismatch",
            "greater_than_equal"
        ],
        "{detail:?}"
    );
    assert_eq!(detail[1]["ctx"]["pattern"], json!(code.pattern));
    let reply = call(
        &router,
        Method::POST,
        "/api/gadgets",
        Some(json!({ "code": "abc", "size": 9, "link": "https://example.com/" })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.json);

    // The JSON Schema of both bodies: the same values.
    let document = app.openapi();
    for schema in ["GadgetCreate", "GadgetUpdate"] {
        let properties = &document["components"]["schemas"][schema]["properties"];
        assert_eq!(
            properties["code"]["maxLength"],
            json!(code.max_length),
            "{schema}"
        );
        assert_eq!(
            properties["code"]["minLength"],
            json!(code.min_length),
            "{schema}"
        );
        assert_eq!(
            properties["code"]["pattern"],
            json!(code.pattern),
            "{schema}"
        );
        assert_eq!(properties["size"]["minimum"], json!(2), "{schema}");
        assert_eq!(properties["size"]["maximum"], json!(9), "{schema}");
        assert_eq!(properties["link"]["format"], "uri", "{schema}");
        assert_eq!(properties["link"]["maxLength"], 80, "{schema}");
    }

    // The admin's form: the same bounds on its inputs.
    let mut client = AdminClient::new(router.clone());
    client.login("root", PASSWORD).await;
    let page = client.get("/admin/one_source/gadget/add/").await;
    assert_eq!(page.status, StatusCode::OK);
    let row = |name: &str| -> String {
        let start = page.body.find(&format!("id=\"id_{name}\"")).expect(name);
        let end = page.body[start..]
            .find('>')
            .map_or(page.body.len(), |e| start + e);
        page.body[start..end].to_string()
    };
    assert!(
        row("code").contains(&format!("maxlength=\"{}\"", code.max_length.unwrap())),
        "{}",
        row("code")
    );
    assert!(
        row("size").contains("min=\"2\"") && row("size").contains("max=\"9\""),
        "{}",
        row("size")
    );
}

db_tests!(constraints_reach_the_422_the_schema_and_the_form);

/// A choices enum named like one of the runtime's metadata types.
#[derive(Choices, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Open
    Open,
    /// Close
    Close,
}

/// A model whose `meta()` cannot use the short names (its enum is
/// `Action`): it names the runtime's items by absolute paths, and compiles.
#[derive(Model, Clone, Debug)]
#[model(app = "one_source")]
pub struct Step {
    #[field(primary_key)]
    pub id: i64,
    #[field(choices, default = Action::Open)]
    pub action: Action,
}

#[test]
fn metadata_names_stay_out_of_the_way_of_user_types() {
    let action = Step::meta().field("action").expect("action");
    assert_eq!(action.choices, ["open", "close"]);
    match action.default {
        Some(ferrobridge::model::FieldDefault::Choice(value)) => assert_eq!(value(), "open"),
        other => panic!("{other:?}"),
    }
}
