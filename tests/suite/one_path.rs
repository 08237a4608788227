//! One data path: the REST list and the admin change list run the same
//! typed query, so the same filter, lookup, ordering and NULL placement
//! give the same rows through `GET /api/...` and `/admin/<app>/<model>/`.
//! The cases come from the model's metadata and [`Lookup::for_kind`], not
//! from a hand-written list: a new lookup or field kind is covered as soon
//! as it exists.

use axum::http::{Method, StatusCode};
use ferrobridge::api::Lookup;
use ferrobridge::model::{FieldKind, FieldMeta, Model};
use ferrobridge_tests::{AdminClient, PASSWORD, TestDb, call, db_tests};
use serde_json::{Value, json};

mod onepath {
    use ferrobridge::__private::chrono::NaiveDate;
    use ferrobridge::__private::rust_decimal::Decimal;
    use ferrobridge::__private::uuid::Uuid;
    use ferrobridge::prelude::*;

    /// Who made a gadget.
    #[derive(Model, Clone, Debug)]
    #[model(app = "onepath", display = "{name}")]
    pub struct Maker {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 50)]
        pub name: String,
    }

    /// A size.
    #[derive(Choices, Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Size {
        /// Small
        Small,
        /// Large
        Large,
    }

    /// A field of every filterable kind, nullable twins, a nullable
    /// foreign key; each filterable through the API and the admin alike.
    #[derive(Model, Clone, Debug)]
    #[model(app = "onepath", display = "{name}")]
    #[api(
        filter(
            id,
            count,
            maybe_count,
            ratio,
            flag,
            maybe_flag,
            name,
            maybe_name,
            notes,
            day,
            maybe_day,
            at,
            maybe_at,
            price,
            token,
            size,
            maybe_size,
            maker_id
        ),
        ordering(
            maybe_count,
            ratio,
            maybe_flag,
            maybe_name,
            maybe_day,
            maybe_at,
            maybe_size,
            maker_id
        )
    )]
    #[admin(
        list_display(
            id,
            maybe_count,
            ratio,
            maybe_flag,
            maybe_name,
            maybe_day,
            maybe_at,
            maybe_size,
            maker_id
        ),
        list_filter(
            id,
            count,
            maybe_count,
            ratio,
            flag,
            maybe_flag,
            name,
            maybe_name,
            notes,
            day,
            maybe_day,
            at,
            maybe_at,
            price,
            token,
            size,
            maybe_size,
            maker_id
        )
    )]
    pub struct Gadget {
        #[field(primary_key)]
        pub id: i64,
        pub count: i32,
        pub maybe_count: Option<i64>,
        pub ratio: f64,
        pub flag: bool,
        pub maybe_flag: Option<bool>,
        #[field(max_length = 50)]
        pub name: String,
        #[field(max_length = 50)]
        pub maybe_name: Option<String>,
        #[field(text)]
        pub notes: String,
        pub day: NaiveDate,
        pub maybe_day: Option<NaiveDate>,
        pub at: DateTimeUtc,
        pub maybe_at: Option<DateTimeUtc>,
        #[field(max_digits = 10, decimal_places = 2)]
        pub price: Decimal,
        pub token: Uuid,
        #[field(choices)]
        pub size: Size,
        #[field(choices)]
        pub maybe_size: Option<Size>,
        #[field(references = Maker, on_delete = "set_null")]
        pub maker_id: Option<i64>,
    }

    /// Ordered by its maker's name across a nullable foreign key.
    #[derive(Model, Clone, Debug)]
    #[model(app = "onepath", ordering = "maker__name", display = "{label}")]
    pub struct Part {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 20)]
        pub label: String,
        #[field(references = Maker, on_delete = "set_null")]
        pub maker_id: Option<i64>,
    }

    /// Ordered by its maker's name, descending.
    #[derive(Model, Clone, Debug)]
    #[model(app = "onepath", ordering = "-maker__name", display = "{label}")]
    #[admin(list_display(label))]
    pub struct Spare {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 20)]
        pub label: String,
        #[field(references = Maker, on_delete = "set_null")]
        pub maker_id: Option<i64>,
    }
}

use onepath::{Gadget, Maker, Part, Spare};

db_tests!(
    every_lookup_gives_the_same_rows_through_api_and_admin,
    every_isnull_spelling_of_the_api_works_in_the_admin,
    null_ordering_is_the_same_through_api_and_admin,
    related_ordering_through_the_admin_matches_the_api,
);

/// The router (requests as a superuser) and an admin client logged in as
/// the same superuser, on seeded makers and gadgets.
struct Site {
    router: axum::Router,
    admin: AdminClient,
}

impl Site {
    async fn new(db: &TestDb) -> Site {
        let app = ferrobridge::App::new("onepath")
            .model::<Maker>()
            .model::<Gadget>()
            .model::<Part>()
            .model::<Spare>();
        let router = ferrobridge_tests::authed_router(&app, &db.db).await;
        let mut admin = AdminClient::new(router.clone());
        admin.login("root", PASSWORD).await;
        let site = Site { router, admin };
        site.seed().await;
        site
    }

    async fn post(&self, path: &str, body: Value) {
        let reply = call(&self.router, Method::POST, path, Some(body)).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{path}: {:?}",
            reply.json
        );
    }

    async fn seed(&self) {
        for name in ["Acme", "Bolt", "Zeta"] {
            self.post("/api/makers", json!({ "name": name })).await;
        }
        let rows = [
            (
                1,
                Some(5),
                0.5,
                true,
                Some(true),
                "Alpha",
                Some("apple"),
                "2024-01-01",
                Some("2024-02-01"),
                "2024-01-01T10:00:00Z",
                Some("2024-03-01T00:00:00Z"),
                "1.50",
                "small",
                Some("large"),
                Some(1),
            ),
            (
                2,
                None,
                1.5,
                false,
                None,
                "beta",
                None,
                "2024-01-02",
                None,
                "2024-01-02T10:00:00Z",
                None,
                "2.00",
                "large",
                None,
                None,
            ),
            (
                3,
                Some(-2),
                2.25,
                true,
                Some(false),
                "Gamma ray",
                Some("Banana split"),
                "2024-05-03",
                Some("2023-12-31"),
                "2024-05-03T00:00:00Z",
                Some("2024-05-03T12:30:00Z"),
                "10.25",
                "small",
                Some("small"),
                Some(2),
            ),
            (
                4,
                Some(5),
                -1.0,
                false,
                Some(true),
                "delta",
                Some(""),
                "2023-11-30",
                None,
                "2023-11-30T23:59:59Z",
                None,
                "0.00",
                "large",
                Some("large"),
                Some(3),
            ),
            (
                5,
                None,
                0.5,
                true,
                None,
                "ALPHA beta",
                Some("apple pie"),
                "2024-01-01",
                Some("2024-02-01"),
                "2024-01-01T10:00:00Z",
                Some("2024-03-01T00:00:00Z"),
                "1.50",
                "small",
                None,
                Some(1),
            ),
            (
                6,
                Some(100),
                3.75,
                false,
                Some(false),
                "epsilon",
                None,
                "2025-06-15",
                None,
                "2025-06-15T08:00:00Z",
                None,
                "99.99",
                "large",
                Some("small"),
                None,
            ),
        ];
        for (
            n,
            count,
            ratio,
            flag,
            maybe_flag,
            name,
            maybe_name,
            day,
            maybe_day,
            at,
            maybe_at,
            price,
            size,
            maybe_size,
            maker,
        ) in rows
        {
            let body = json!({
                "count": n * 10,
                "maybe_count": count,
                "ratio": ratio,
                "flag": flag,
                "maybe_flag": maybe_flag,
                "name": name,
                "maybe_name": maybe_name,
                "notes": format!("Note {n}: {name} and more"),
                "day": day,
                "maybe_day": maybe_day,
                "at": at,
                "maybe_at": maybe_at,
                "price": price,
                "token": format!("00000000-0000-4000-8000-00000000000{n}"),
                "size": size,
                "maybe_size": maybe_size,
                "maker_id": maker,
            });
            self.post("/api/gadgets", body).await;
        }
        for (path, label, maker) in [
            ("/api/parts", "p1", json!(3)),
            ("/api/parts", "p2", json!(null)),
            ("/api/parts", "p3", json!(1)),
            ("/api/parts", "p4", json!(2)),
            ("/api/parts", "p5", json!(1)),
            ("/api/spares", "s1", json!(2)),
            ("/api/spares", "s2", json!(null)),
            ("/api/spares", "s3", json!(3)),
            ("/api/spares", "s4", json!(1)),
            ("/api/spares", "s5", json!(null)),
        ] {
            self.post(path, json!({ "label": label, "maker_id": maker }))
                .await;
        }
    }

    /// The primary keys `GET /api/{plural}?{query}` lists, in order.
    async fn api_pks(&self, plural: &str, query: &str) -> Vec<String> {
        let path = format!("/api/{plural}?page_size=100&{query}");
        let reply = call(&self.router, Method::GET, &path, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.json);
        reply.json["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| match &item["id"] {
                Value::Number(n) => n.to_string(),
                other => panic!("{path}: id {other}"),
            })
            .collect()
    }

    /// The primary keys the change list of `model` shows for `query`, in order.
    async fn admin_pks(&mut self, model: &str, query: &str) -> Vec<String> {
        let path = format!("/admin/onepath/{model}/?{query}");
        let page = self.admin.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        const MARK: &str = "name=\"_selected_action\" value=\"";
        page.body
            .match_indices(MARK)
            .map(|(at, _)| {
                let rest = &page.body[at + MARK.len()..];
                rest[..rest.find('"').expect("closing quote")].to_string()
            })
            .collect()
    }
}

/// `pairs` as a query string.
fn query(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A JSON value of a `Read` object as query-string text.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The values to try a lookup with on `field`, taken from the stored rows
/// (`column`: the field's value in each row, NULLs left out).
fn operands(field: &FieldMeta, lookup: Lookup, column: &[String]) -> Vec<String> {
    let mut distinct: Vec<String> = column.to_vec();
    distinct.sort();
    distinct.dedup();
    let some = |i: usize| {
        distinct
            .get(i.min(distinct.len().saturating_sub(1)))
            .cloned()
    };
    let mut out: Vec<String> = match lookup {
        Lookup::IsNull => vec!["true".into(), "false".into()],
        Lookup::In => vec![
            distinct
                .iter()
                .take(2)
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
            distinct
                .iter()
                .rev()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
        ],
        Lookup::Contains | Lookup::IContains | Lookup::StartsWith | Lookup::IStartsWith => {
            let mut pieces = Vec::new();
            for value in distinct.iter().filter(|v| v.chars().count() >= 3) {
                let head: String = value.chars().take(2).collect();
                let middle: String = value.chars().skip(1).take(2).collect();
                pieces.push(head.clone());
                pieces.push(head.to_uppercase());
                pieces.push(middle.to_lowercase());
            }
            pieces.sort();
            pieces.dedup();
            pieces
        }
        _ => [some(0), some(distinct.len() / 2), some(usize::MAX)]
            .into_iter()
            .flatten()
            .collect(),
    };
    if field.kind == FieldKind::Boolean && lookup != Lookup::IsNull {
        out = vec!["true".into(), "0".into()];
    }
    out.retain(|v| !v.is_empty() || lookup == Lookup::Exact);
    out.dedup();
    out
}

async fn every_lookup_gives_the_same_rows_through_api_and_admin(db: &TestDb) {
    let mut site = Site::new(db).await;
    let meta = Gadget::meta();
    let all = call(
        &site.router,
        Method::GET,
        "/api/gadgets?page_size=100",
        None,
    )
    .await;
    let rows = all.json["items"].as_array().expect("items").clone();
    assert_eq!(rows.len(), 6);
    let (mut cases, mut narrowing) = (0, 0);
    for name in meta.api.filter {
        assert!(
            meta.admin.list_filter.contains(name),
            "{name} in list_filter"
        );
        let field = meta.field(name).expect("field");
        let key = field.read_as.unwrap_or(field.name);
        let column: Vec<String> = rows.iter().filter_map(|r| text(&r[key])).collect();
        for lookup in Lookup::for_kind(field.kind) {
            for operand in operands(field, lookup, &column) {
                let param = format!("{name}__{}", lookup.name());
                let q = query(&[(param.as_str(), operand.as_str())]);
                let mut api = site.api_pks("gadgets", &q).await;
                let mut admin = site.admin_pks("gadget", &q).await;
                api.sort();
                admin.sort();
                assert_eq!(api, admin, "{q}: API and admin disagree");
                cases += 1;
                if !api.is_empty() && api.len() < rows.len() {
                    narrowing += 1;
                }
            }
        }
    }
    // Every kind's every lookup was tried, and most cases really filter.
    assert!(cases > 150, "only {cases} cases");
    assert!(
        narrowing * 2 > cases,
        "{narrowing} of {cases} cases narrow the list"
    );
}

async fn every_isnull_spelling_of_the_api_works_in_the_admin(db: &TestDb) {
    let mut site = Site::new(db).await;
    let spellings = [
        ("true", true),
        ("True", true),
        ("1", true),
        ("yes", true),
        ("on", true),
        (" YES ", true),
        ("false", false),
        ("False", false),
        ("0", false),
        ("no", false),
        ("off", false),
        ("OFF", false),
    ];
    for field in [
        "maybe_count",
        "maybe_flag",
        "maybe_day",
        "maybe_at",
        "maker_id",
    ] {
        let null = site
            .api_pks("gadgets", &query(&[(&format!("{field}__isnull"), "true")]))
            .await;
        let set = site
            .api_pks("gadgets", &query(&[(&format!("{field}__isnull"), "false")]))
            .await;
        assert!(
            !null.is_empty() && !set.is_empty(),
            "{field}: both kinds of rows"
        );
        for (spelling, is_null) in spellings {
            let q = query(&[(&format!("{field}__isnull"), spelling)]);
            let expected = if is_null { &null } else { &set };
            assert_eq!(&site.api_pks("gadgets", &q).await, expected, "API {q}");
            assert_eq!(&site.admin_pks("gadget", &q).await, expected, "admin {q}");
        }
    }
}

async fn null_ordering_is_the_same_through_api_and_admin(db: &TestDb) {
    let mut site = Site::new(db).await;
    let meta = Gadget::meta();
    for (i, name) in meta.admin.list_display.iter().enumerate() {
        if !meta.api.ordering.contains(name) {
            continue;
        }
        for descending in [false, true] {
            let sign = if descending { "-" } else { "" };
            let api = site
                .api_pks("gadgets", &query(&[("ordering", &format!("{sign}{name}"))]))
                .await;
            let admin = site
                .admin_pks("gadget", &query(&[("o", &format!("{sign}{}", i + 1))]))
                .await;
            assert_eq!(api, admin, "ordering by {sign}{name}");
        }
    }
    // NULLs sort as the smallest value: first ascending, last descending.
    let ascending = site.admin_pks("gadget", "o=2").await;
    assert_eq!(&ascending[..2], ["2", "5"], "NULL counts first");
    let descending = site.admin_pks("gadget", "o=-2").await;
    assert_eq!(&descending[4..], ["2", "5"], "NULL counts last");
}

async fn related_ordering_through_the_admin_matches_the_api(db: &TestDb) {
    let mut site = Site::new(db).await;
    // Makers: 1 Acme, 2 Bolt, 3 Zeta; parts by `maker__name`
    // ascending (no maker first), spares descending (no maker last).
    let parts = site.api_pks("parts", "").await;
    assert_eq!(parts, ["2", "3", "5", "4", "1"]);
    assert_eq!(site.admin_pks("part", "").await, parts);
    let spares = site.api_pks("spares", "").await;
    assert_eq!(spares, ["3", "1", "4", "2", "5"]);
    assert_eq!(site.admin_pks("spare", "").await, spares);
    // A column sort comes first; the related default ordering breaks ties.
    let by_label_desc = site.admin_pks("spare", "o=-1").await;
    assert_eq!(by_label_desc, ["5", "4", "3", "2", "1"]);
}
