//! One behaviour, one result, on SQLite, PostgreSQL and MySQL / MariaDB:
//! case folding of lookups and search (non-ASCII letters included), `__in`
//! over integers, strings and UUIDs, NULL placement in orderings and
//! cursors, decimals at their scale, JSON, UUID keys, datetimes with
//! microseconds, booleans, constraint violations mapped to 409 / 422
//! naming the field, `on_delete`, long strings, and names that are
//! reserved words in MySQL.

use axum::http::{Method, StatusCode};
use ferrobridge::__private::rust_decimal::Decimal;
use ferrobridge::__private::serde_json::Value as Json;
use ferrobridge::__private::uuid::Uuid;
use ferrobridge::prelude::*;
use ferrobridge_tests::{AdminClient, Backend, PASSWORD, TestDb, call, create, db_tests};
use serde_json::json;

/// Text, numbers, a UUID and a nullable rank: the lookups' subject.
#[derive(Model, Clone, Debug)]
#[model(app = "dial")]
#[api(
    filter(name, city, score, token, flag, rank, price),
    search(city),
    ordering(rank, name, price)
)]
#[admin(list_display(id, name, city), search(city))]
pub struct Person {
    #[field(primary_key)]
    pub id: i64,
    #[field(unique, max_length = 40)]
    pub name: String,
    #[field(max_length = 40)]
    pub city: String,
    pub score: i32,
    pub token: Uuid,
    pub flag: bool,
    pub rank: Option<i32>,
    #[field(max_digits = 10, decimal_places = 2)]
    pub price: Decimal,
    /// Named so that a duplicate `name` of "nickname" could be misread.
    pub nickname: Option<String>,
}

/// Keyed by a UUID; long strings, JSON and a datetime.
#[derive(Model, Clone, Debug)]
#[model(app = "dial")]
#[api(filter(id, tag, at))]
pub struct Doc {
    #[field(primary_key)]
    pub id: Uuid,
    pub body: String,
    #[field(max_length = 10)]
    pub short: String,
    #[field(text)]
    pub text: String,
    pub data: Json,
    pub extra: Option<Json>,
    pub at: DateTimeUtc,
    pub tag: Option<Uuid>,
}

/// The target of every `on_delete`.
#[derive(Model, Clone, Debug)]
#[model(app = "dial")]
pub struct Team {
    #[field(primary_key)]
    pub id: i64,
    #[field(max_length = 40)]
    pub label: String,
}

/// Cascades with its team; a shirt number is unique within a team.
#[derive(Model, Clone, Debug)]
#[model(app = "dial", unique_together(team_id, number))]
pub struct Player {
    #[field(primary_key)]
    pub id: i64,
    #[field(references = Team, on_delete = "cascade")]
    pub team_id: i64,
    pub number: i32,
    #[field(references = Team, on_delete = "set_null")]
    pub coach_team_id: Option<i64>,
}

/// Protects its team.
#[derive(Model, Clone, Debug)]
#[model(app = "dial")]
pub struct Badge {
    #[field(primary_key)]
    pub id: i64,
    #[field(references = Team, on_delete = "restrict")]
    pub team_id: i64,
}

/// Loses its team, keeps the row.
#[derive(Model, Clone, Debug)]
#[model(app = "dial")]
pub struct Fan {
    #[field(primary_key)]
    pub id: i64,
    #[field(references = Team, on_delete = "set_null")]
    pub team_id: Option<i64>,
}

/// A table and columns named by MySQL's reserved words.
#[derive(Model, Clone, Debug)]
#[model(app = "dial", table = "order", plural = "orders")]
#[api(
    filter(group, key, r#match, order),
    search(key),
    ordering(group, key, r#match, order)
)]
#[admin(
    list_display(id, group, key, r#match),
    list_filter(r#match),
    search(key)
)]
pub struct Order {
    #[field(primary_key)]
    pub id: i64,
    #[field(max_length = 20)]
    pub group: String,
    #[field(unique, max_length = 20)]
    pub key: String,
    #[field(default = false)]
    pub r#match: bool,
    pub order: i32,
}

async fn router(db: &TestDb) -> axum::Router {
    let app = App::new("dial")
        .model::<Person>()
        .model::<Doc>()
        .model::<Team>()
        .model::<Player>()
        .model::<Badge>()
        .model::<Fan>()
        .model::<Order>()
        // Room for the megabyte of `long_strings` (the default is 1 MiB).
        .body_limit(4 * 1024 * 1024);
    ferrobridge_tests::authed_router(&app, &db.db).await
}

db_tests!(
    text_lookups_fold_case_alike,
    in_lookups_take_several_values,
    nulls_sort_first_ascending_everywhere,
    decimals_keep_their_scale,
    json_round_trips,
    uuid_keys_and_fields,
    datetimes_keep_microseconds_in_utc,
    booleans_filter,
    constraint_violations_name_the_field,
    on_delete_rules,
    long_strings,
    reserved_words_are_quoted
);

/// The `field` of every item of `GET uri` (a list), in order.
async fn column(router: &axum::Router, uri: &str, field: &str) -> Vec<Json> {
    let reply = call(router, Method::GET, uri, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{uri}: {:?}", reply.json);
    reply.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{uri}: {:?}", reply.json))
        .iter()
        .map(|item| item[field].clone())
        .collect()
}

/// The names of the people `GET /api/persons?{query}` lists, sorted.
async fn names(router: &axum::Router, query: &str) -> Vec<String> {
    let mut names: Vec<String> = column(router, &format!("/api/persons?{query}"), "name")
        .await
        .into_iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

fn person(name: &str, city: &str, rank: Option<i32>) -> Json {
    json!({
        "name": name,
        "city": city,
        "score": name.len(),
        "token": Uuid::new_v4(),
        "flag": name.len().is_multiple_of(2),
        "rank": rank,
        "price": "1.00",
    })
}

async fn people(router: &axum::Router) {
    for (name, city, rank) in [
        ("Bob", "ÉCOLE Paris", Some(2)),
        ("bob", "école lyon", None),
        ("Carla", "Ecole Nice", Some(1)),
        ("dora", "Berlin", None),
        ("Eve", "berlin 100%_", Some(3)),
    ] {
        create(router, "persons", person(name, city, rank)).await;
    }
}

async fn text_lookups_fold_case_alike(db: &TestDb) {
    let router = router(db).await;
    // A unique text column tells "Bob" from "bob" on every backend
    // (MySQL tables are created utf8mb4_bin).
    people(&router).await;
    let cases: &[(&str, &[&str])] = &[
        ("name=bob", &["bob"]),
        ("name=BOB", &[]),
        ("name__iexact=BOB", &["Bob", "bob"]),
        ("city__iexact=BERLIN", &["dora"]),
        ("city__iexact=%C3%A9cole%20PARIS", &["Bob"]),
        ("city__contains=cole", &["Carla", "bob"]),
        ("city__contains=COLE", &["Bob"]),
        ("city__icontains=COLE", &["Bob", "Carla", "bob"]),
        // Non-ASCII letters fold too: É and é are one letter, E another.
        ("city__icontains=%C3%A9COLE", &["Bob", "bob"]),
        ("city__icontains=%C3%89cole", &["Bob", "bob"]),
        ("city__startswith=B", &["dora"]),
        ("city__istartswith=b", &["Eve", "dora"]),
        ("city__istartswith=%C3%A9c", &["Bob", "bob"]),
        // `%` and `_` are plain characters.
        ("city__contains=100%25_", &["Eve"]),
        ("city__icontains=%25", &["Eve"]),
        ("city__contains=_", &["Eve"]),
        ("search=%C3%89COLE", &["Bob", "bob"]),
        ("search=BERLIN", &["Eve", "dora"]),
        ("search=ecole", &["Carla"]),
    ];
    for (query, expected) in cases {
        assert_eq!(&names(&router, query).await, expected, "?{query}");
    }
    // The admin's search box folds alike.
    let mut admin = AdminClient::new(router.clone());
    admin.login("root", PASSWORD).await;
    let page = admin.get("/admin/dial/person/?q=%C3%A9COLE").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("ÉCOLE Paris"), "{}", page.body);
    assert!(page.body.contains("école lyon"), "{}", page.body);
    assert!(!page.body.contains("Ecole Nice"), "{}", page.body);
}

async fn in_lookups_take_several_values(db: &TestDb) {
    let router = router(db).await;
    people(&router).await;
    let all = call(&router, Method::GET, "/api/persons?ordering=name", None)
        .await
        .json;
    let token = |i: usize| all["items"][i]["token"].as_str().unwrap().to_string();
    let tokens = format!("token__in={},{}", token(0), token(3));
    let first_and_fourth = vec![
        all["items"][0]["name"].as_str().unwrap().to_string(),
        all["items"][3]["name"].as_str().unwrap().to_string(),
    ];
    let mut expected = first_and_fourth.clone();
    expected.sort();
    assert_eq!(names(&router, &tokens).await, expected);
    assert_eq!(
        names(&router, "score__in=3,5").await,
        ["Bob", "Carla", "Eve", "bob"]
    );
    assert_eq!(
        names(&router, "name__in=bob,dora,Zed").await,
        ["bob", "dora"]
    );
    assert_eq!(names(&router, "city__in=Berlin,berlin").await, ["dora"]);
    let unknown = format!("token__in={}", Uuid::new_v4());
    assert!(names(&router, &unknown).await.is_empty());
}

async fn nulls_sort_first_ascending_everywhere(db: &TestDb) {
    let router = router(db).await;
    people(&router).await;
    // NULL is the smallest value: first ascending, last descending
    // (SQLite's and MySQL's own rule; PostgreSQL is told NULLS FIRST/LAST).
    let ascending = names_in_order(&router, "ordering=rank,name").await;
    assert_eq!(ascending, ["bob", "dora", "Carla", "Bob", "Eve"]);
    let descending = names_in_order(&router, "ordering=-rank,name").await;
    assert_eq!(descending, ["Eve", "Bob", "Carla", "bob", "dora"]);
    // A cursor walk with a NULL at every page boundary sees each row once,
    // in the same order.
    for (ordering, expected) in [("rank", &ascending), ("-rank", &descending)] {
        for size in 1..=3 {
            let mut walked = Vec::new();
            let mut cursor = String::new();
            loop {
                let uri = format!(
                    "/api/persons?ordering={ordering},name&page_size={size}&cursor={cursor}"
                );
                let reply = call(&router, Method::GET, &uri, None).await;
                assert_eq!(reply.status, StatusCode::OK, "{uri}: {:?}", reply.json);
                for item in reply.json["items"].as_array().unwrap() {
                    walked.push(item["name"].as_str().unwrap().to_string());
                }
                match reply.json["next"].as_str() {
                    Some(next) => cursor = next.to_string(),
                    None => break,
                }
            }
            assert_eq!(
                &walked, expected,
                "cursor walk of {ordering}, {size} a page"
            );
        }
    }
}

async fn names_in_order(router: &axum::Router, query: &str) -> Vec<String> {
    column(router, &format!("/api/persons?{query}"), "name")
        .await
        .into_iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

async fn decimals_keep_their_scale(db: &TestDb) {
    let router = router(db).await;
    for (name, price) in [
        ("a", "12.30"),
        ("b", "7"),
        ("c", "99999999.99"),
        ("d", "0.05"),
    ] {
        let mut body = person(name, "x", None);
        body["price"] = json!(price);
        let created = create(&router, "persons", body).await;
        let scaled = format!("{:.2}", price.parse::<f64>().unwrap());
        assert_eq!(created["price"], json!(scaled), "{price}");
        let read = call(
            &router,
            Method::GET,
            &format!("/api/persons/{}", created["id"]),
            None,
        )
        .await;
        assert_eq!(read.json["price"], json!(scaled), "{price}");
    }
    assert_eq!(names(&router, "price__gte=12.3").await, ["a", "c"]);
    assert_eq!(names(&router, "price=12.30").await, ["a"]);
    assert_eq!(names(&router, "price__lt=7.00").await, ["d"]);
    let order = names_in_order(&router, "ordering=-price").await;
    assert_eq!(order, ["c", "a", "b", "d"]);
    // More digits than declared: refused before the database.
    for price in ["1.234", "123456789.00"] {
        let mut body = person("e", "x", None);
        body["price"] = json!(price);
        let reply = call(&router, Method::POST, "/api/persons", Some(body)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{price}: {:?}",
            reply.json
        );
    }
}

fn doc(data: Json, extra: Option<Json>) -> Json {
    let mut body = json!({
        "body": "b",
        "short": "s",
        "text": "t",
        "data": data,
        "at": "2026-11-30T12:34:56.123456Z",
    });
    if let Some(extra) = extra {
        body["extra"] = extra;
    }
    body
}

async fn json_round_trips(db: &TestDb) {
    let router = router(db).await;
    let nested = json!({
        "a": {"b": [1, 2.5, -3, {"c": null}], "d": true},
        "ünï": "日本語 ✓ \"quoted\" \\ back",
        "empty": {},
        "list": [],
        "big": 9007199254740993i64,
    });
    for (data, extra, read_extra) in [
        (nested.clone(), None, Json::Null),
        (json!([1, "two", null, [3]]), Some(json!(null)), Json::Null),
        (
            json!("just text"),
            Some(json!({"k": "v"})),
            json!({"k": "v"}),
        ),
        (json!(42), Some(json!([])), json!([])),
        (json!(null), Some(json!(false)), json!(false)),
    ] {
        let created = create(&router, "docs", doc(data.clone(), extra)).await;
        assert_eq!(created["data"], data);
        let read = call(
            &router,
            Method::GET,
            &format!("/api/docs/{}", created["id"].as_str().unwrap()),
            None,
        )
        .await;
        assert_eq!(read.status, StatusCode::OK, "{:?}", read.json);
        assert_eq!(read.json["data"], data);
        assert_eq!(read.json["extra"], read_extra);
    }
}

async fn uuid_keys_and_fields(db: &TestDb) {
    let router = router(db).await;
    let tag = Uuid::new_v4();
    let mut ids = Vec::new();
    for i in 0..3 {
        let mut body = doc(json!(i), None);
        if i < 2 {
            body["tag"] = json!(tag);
        }
        let created = create(&router, "docs", body).await;
        let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(created["id"], json!(id.hyphenated().to_string()));
        ids.push(id);
    }
    let read = call(&router, Method::GET, &format!("/api/docs/{}", ids[1]), None).await;
    assert_eq!(read.status, StatusCode::OK, "{:?}", read.json);
    assert_eq!(read.json["data"], json!(1));
    assert_eq!(read.json["tag"], json!(tag));
    // Upper case is the same UUID.
    let upper = format!("/api/docs/{}", ids[1].to_string().to_uppercase());
    assert_eq!(
        call(&router, Method::GET, &upper, None).await.status,
        StatusCode::OK
    );
    let missing = format!("/api/docs/{}", Uuid::new_v4());
    assert_eq!(
        call(&router, Method::GET, &missing, None).await.status,
        StatusCode::NOT_FOUND
    );
    let datas = |uri: String| {
        let router = router.clone();
        async move {
            let mut got: Vec<i64> = column(&router, &uri, "data")
                .await
                .iter()
                .map(|d| d.as_i64().unwrap())
                .collect();
            got.sort();
            got
        }
    };
    assert_eq!(datas(format!("/api/docs?tag={tag}")).await, [0, 1]);
    assert_eq!(datas("/api/docs?tag__isnull=true".into()).await, [2]);
    assert_eq!(datas(format!("/api/docs?id={}", ids[2])).await, [2]);
    let some = format!("/api/docs?id__in={},{},{}", ids[0], ids[2], Uuid::new_v4());
    assert_eq!(datas(some).await, [0, 2]);
    let update = call(
        &router,
        Method::PATCH,
        &format!("/api/docs/{}", ids[0]),
        Some(json!({"tag": null})),
    )
    .await;
    assert_eq!(update.status, StatusCode::OK, "{:?}", update.json);
    assert_eq!(datas(format!("/api/docs?tag={tag}")).await, [1]);
    let deleted = call(
        &router,
        Method::DELETE,
        &format!("/api/docs/{}", ids[0]),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(datas("/api/docs".into()).await, [1, 2]);
    if db.backend == Backend::Mysql {
        // SeaORM's UUID column on MySQL: 16 bytes, not CHAR(36).
        use ferrobridge::__private::sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
        let sql = "SELECT COLUMN_TYPE AS t FROM information_schema.COLUMNS \
                   WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'dial_doc' \
                   AND COLUMN_NAME IN ('id', 'tag')";
        let rows = db
            .db
            .query_all_raw(Statement::from_string(DatabaseBackend::MySql, sql))
            .await
            .expect("column types");
        let types: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String>("", "t").expect("t"))
            .collect();
        assert_eq!(types, ["binary(16)", "binary(16)"]);
    }
}

async fn datetimes_keep_microseconds_in_utc(db: &TestDb) {
    let router = router(db).await;
    let mut created = Vec::new();
    for at in [
        "2026-11-30T12:34:56.123456Z",
        "2026-11-30T14:34:56.123457+02:00",
        "2026-11-30T12:34:56Z",
        "2026-11-30T07:04:56.000001-05:30",
    ] {
        let mut body = doc(json!(at), None);
        body["at"] = json!(at);
        created.push(create(&router, "docs", body).await);
    }
    let expected = [
        "2026-11-30T12:34:56.123456Z",
        "2026-11-30T12:34:56.123457Z",
        "2026-11-30T12:34:56Z",
        "2026-11-30T12:34:56.000001Z",
    ];
    for (row, at) in created.iter().zip(expected) {
        assert_eq!(row["at"], json!(at));
        let uri = format!("/api/docs/{}", row["id"].as_str().unwrap());
        assert_eq!(
            call(&router, Method::GET, &uri, None).await.json["at"],
            json!(at)
        );
    }
    let count = |query: &str| {
        let uri = format!("/api/docs?{query}");
        let router = router.clone();
        async move { call(&router, Method::GET, &uri, None).await.json["total"].clone() }
    };
    assert_eq!(count("at=2026-11-30T12:34:56.123456Z").await, json!(1));
    assert_eq!(
        count("at=2026-11-30T13:34:56.123457%2B01:00").await,
        json!(1)
    );
    assert_eq!(count("at__gt=2026-11-30T12:34:56Z").await, json!(3));
    assert_eq!(count("at__gte=2026-11-30T12:34:56.123456Z").await, json!(2));
}

async fn booleans_filter(db: &TestDb) {
    let router = router(db).await;
    people(&router).await;
    // Even-length names are flagged.
    assert_eq!(names(&router, "flag=true").await, ["dora"]);
    assert_eq!(
        names(&router, "flag=false").await,
        ["Bob", "Carla", "Eve", "bob"]
    );
    assert_eq!(names(&router, "flag=1").await, ["dora"]);
    assert_eq!(names(&router, "flag__ne=true").await.len(), 4);
    let bad = call(&router, Method::GET, "/api/persons?flag=maybe", None).await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        bad.json
    );
}

async fn constraint_violations_name_the_field(db: &TestDb) {
    let router = router(db).await;
    create(&router, "persons", person("Ann", "x", None)).await;
    let again = call(
        &router,
        Method::POST,
        "/api/persons",
        Some(person("Ann", "y", None)),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{:?}", again.json);
    assert_eq!(
        again.json["detail"],
        json!("Person with this name already exists.")
    );
    // The duplicate value is another field's name: the key, not the value,
    // names the field (MySQL: "Duplicate entry 'nickname' for key 'name'").
    create(&router, "persons", person("nickname", "x", None)).await;
    let misleading = call(
        &router,
        Method::POST,
        "/api/persons",
        Some(person("nickname", "y", None)),
    )
    .await;
    assert_eq!(
        misleading.status,
        StatusCode::CONFLICT,
        "{:?}",
        misleading.json
    );
    assert_eq!(
        misleading.json["detail"],
        json!("Person with this name already exists.")
    );
    // An update into a duplicate is the same 409.
    let other = create(&router, "persons", person("Zoe", "x", None)).await;
    let renamed = call(
        &router,
        Method::PATCH,
        &format!("/api/persons/{}", other["id"]),
        Some(json!({"name": "Ann"})),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::CONFLICT, "{:?}", renamed.json);
    assert_eq!(
        renamed.json["detail"],
        json!("Person with this name already exists.")
    );

    let team = create(&router, "teams", json!({"label": "red"})).await;
    let player = json!({"team_id": team["id"], "number": 7});
    create(&router, "players", player.clone()).await;
    let twin = call(&router, Method::POST, "/api/players", Some(player)).await;
    assert_eq!(twin.status, StatusCode::CONFLICT, "{:?}", twin.json);
    assert_eq!(
        twin.json["detail"],
        json!("Player with this team_id and number already exists.")
    );
    // A missing referenced row is ferrobridge's 409 (the row's state, not
    // the body's shape), located at the field as a 422 would be.
    for (body, field) in [
        (json!({"team_id": 999, "number": 1}), "team_id"),
        (
            json!({"team_id": team["id"], "number": 2, "coach_team_id": 998}),
            "coach_team_id",
        ),
    ] {
        let orphan = call(&router, Method::POST, "/api/players", Some(body)).await;
        assert_eq!(orphan.status, StatusCode::CONFLICT, "{:?}", orphan.json);
        assert_eq!(orphan.json["detail"][0]["loc"], json!(["body", field]));
        assert_eq!(orphan.json["detail"][0]["type"], json!("foreign_key"));
    }
    let orphan = call(
        &router,
        Method::POST,
        "/api/fans",
        Some(json!({"team_id": 5})),
    )
    .await;
    assert_eq!(orphan.status, StatusCode::CONFLICT, "{:?}", orphan.json);
    assert_eq!(orphan.json["detail"][0]["loc"], json!(["body", "team_id"]));
}

async fn on_delete_rules(db: &TestDb) {
    let router = router(db).await;
    let red = create(&router, "teams", json!({"label": "red"})).await;
    let blue = create(&router, "teams", json!({"label": "blue"})).await;
    let player = create(
        &router,
        "players",
        json!({"team_id": red["id"], "number": 1, "coach_team_id": blue["id"]}),
    )
    .await;
    let fan = create(&router, "fans", json!({"team_id": red["id"]})).await;
    let badge = create(&router, "badges", json!({"team_id": blue["id"]})).await;

    // restrict: 409, nothing deleted.
    let uri = format!("/api/teams/{}", blue["id"]);
    let refused = call(&router, Method::DELETE, &uri, None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.json);
    assert_eq!(
        call(&router, Method::GET, &uri, None).await.status,
        StatusCode::OK
    );

    // cascade and set null.
    let uri = format!("/api/teams/{}", red["id"]);
    let deleted = call(&router, Method::DELETE, &uri, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:?}", deleted.json);
    let player_uri = format!("/api/players/{}", player["id"]);
    assert_eq!(
        call(&router, Method::GET, &player_uri, None).await.status,
        StatusCode::NOT_FOUND
    );
    let fan = call(
        &router,
        Method::GET,
        &format!("/api/fans/{}", fan["id"]),
        None,
    )
    .await;
    assert_eq!(fan.status, StatusCode::OK);
    assert_eq!(fan.json["team_id"], Json::Null);

    // Once the protecting row is gone the team goes, and a player it
    // coached stays, coach unset.
    let green = create(&router, "teams", json!({"label": "green"})).await;
    let coached = create(
        &router,
        "players",
        json!({"team_id": green["id"], "number": 2, "coach_team_id": blue["id"]}),
    )
    .await;
    let badge_uri = format!("/api/badges/{}", badge["id"]);
    assert_eq!(
        call(&router, Method::DELETE, &badge_uri, None).await.status,
        StatusCode::NO_CONTENT
    );
    let uri = format!("/api/teams/{}", blue["id"]);
    assert_eq!(
        call(&router, Method::DELETE, &uri, None).await.status,
        StatusCode::NO_CONTENT
    );
    let coached_uri = format!("/api/players/{}", coached["id"]);
    let coached = call(&router, Method::GET, &coached_uri, None).await;
    assert_eq!(coached.status, StatusCode::OK, "{:?}", coached.json);
    assert_eq!(coached.json["coach_team_id"], Json::Null);
    assert_eq!(coached.json["team_id"], green["id"]);
}

async fn long_strings(db: &TestDb) {
    let router = router(db).await;
    let long: String = "é🦀x".repeat(33_334);
    assert!(long.chars().count() > 100_000);
    let megabyte: String = "abcdefghij".repeat(100_000);
    let mut body = doc(json!(1), None);
    body["body"] = json!(long);
    body["short"] = json!("0123456789");
    body["text"] = json!(megabyte);
    let created = create(&router, "docs", body.clone()).await;
    let uri = format!("/api/docs/{}", created["id"].as_str().unwrap());
    let read = call(&router, Method::GET, &uri, None).await;
    assert_eq!(read.json["body"], json!(long));
    assert_eq!(read.json["short"], json!("0123456789"));
    assert_eq!(read.json["text"], json!(megabyte));
    // Ten characters, not bytes: multi-byte letters fit.
    body["short"] = json!("éééééééééé");
    create(&router, "docs", body.clone()).await;
    body["short"] = json!("01234567890");
    let refused = call(&router, Method::POST, "/api/docs", Some(body)).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        refused.json
    );
    assert_eq!(refused.json["detail"][0]["loc"], json!(["body", "short"]));
    assert_eq!(refused.json["detail"][0]["type"], json!("string_too_long"));
}

async fn reserved_words_are_quoted(db: &TestDb) {
    let router = router(db).await;
    for (group, key, matched, order) in [
        ("select", "from", true, 3),
        ("where", "key", false, 1),
        ("select", "group", true, 2),
    ] {
        let created = create(
            &router,
            "orders",
            json!({"group": group, "key": key, "match": matched, "order": order}),
        )
        .await;
        assert_eq!(created["group"], json!(group));
        assert_eq!(created["match"], json!(matched));
    }
    let keys = |query: &str| {
        let uri = format!("/api/orders?{query}");
        let router = router.clone();
        async move {
            column(&router, &uri, "key")
                .await
                .into_iter()
                .map(|k| k.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(keys("ordering=order").await, ["key", "group", "from"]);
    assert_eq!(keys("ordering=-group,key").await, ["key", "from", "group"]);
    assert_eq!(
        keys("ordering=match,-order").await,
        ["key", "from", "group"]
    );
    assert_eq!(
        keys("group=select&match=true&ordering=key").await,
        ["from", "group"]
    );
    assert_eq!(
        keys("key__in=group,key&ordering=key").await,
        ["group", "key"]
    );
    assert_eq!(keys("search=GROUP").await, ["group"]);
    assert_eq!(
        keys("order__gte=2&ordering=-order").await,
        ["from", "group"]
    );
    let dup = call(
        &router,
        Method::POST,
        "/api/orders",
        Some(json!({"group": "g", "key": "key", "order": 9})),
    )
    .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{:?}", dup.json);
    assert_eq!(
        dup.json["detail"],
        json!("Order with this key already exists.")
    );
    let updated = call(
        &router,
        Method::PATCH,
        "/api/orders/1",
        Some(json!({"group": "grouped", "match": false, "order": 10})),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.json);
    assert_eq!(updated.json["group"], json!("grouped"));
    assert_eq!(keys("ordering=-order").await, ["from", "group", "key"]);

    let mut admin = AdminClient::new(router.clone());
    admin.login("root", PASSWORD).await;
    let page = admin.get("/admin/dial/order/?q=GRO&match__exact=1").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("group"), "{}", page.body);
    let sorted = admin.get("/admin/dial/order/?o=-2").await;
    assert_eq!(sorted.status, StatusCode::OK, "{}", sorted.body);

    let deleted = call(&router, Method::DELETE, "/api/orders/1", None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(keys("ordering=key").await, ["group", "key"]);
    if db.backend == Backend::Mysql {
        // The table really is called `order`.
        use ferrobridge::__private::sea_orm::ConnectionTrait;
        db.db
            .execute_unprepared("SELECT `order`, `group`, `key`, `match` FROM `order`")
            .await
            .expect("the `order` table");
    }
}
