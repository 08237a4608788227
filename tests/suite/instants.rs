//! Datetimes compare as instants on every database, whatever wrote them:
//! ferrobridge, sqlx's RFC 3339, Django (with and without a fraction, with
//! an offset). Every datetime and date lookup, the cursor walk in both
//! orders with ties and mixed precisions, the admin's date filter, the
//! spelling stored on SQLite, and decimals compared as numbers.

use axum::http::{Method, StatusCode};
use ferrobridge::__private::chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Timelike, Utc};
use ferrobridge::__private::rust_decimal::Decimal;
use ferrobridge::__private::sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SimpleExpr};
use ferrobridge::__private::sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, QueryResult,
};
use ferrobridge::prelude::*;
use ferrobridge_tests::{AdminClient, Backend, PASSWORD, TestDb, UserKind, call, db_tests};
use serde_json::{Value as Json, json};

/// One row per write, with every type SQLite keeps as text or a number.
#[derive(Model, Clone, Debug)]
#[model(app = "instants", ordering = "-created_at")]
#[api(
    filter(created_at, maybe_at, day, price),
    ordering(created_at, day, price)
)]
#[admin(list_display(id, created_at), list_filter(created_at, maybe_at))]
pub struct Event {
    #[field(primary_key)]
    pub id: i64,
    pub created_at: DateTimeUtc,
    pub maybe_at: Option<DateTimeUtc>,
    pub day: NaiveDate,
    #[field(max_digits = 10, decimal_places = 2)]
    pub price: Decimal,
}

const TABLE: &str = "instants_event";
/// Distinct timestamps, and rows at each (ties).
const STAMPS: u32 = 30;
const PER_STAMP: u32 = 20;

/// The `k`th timestamp: whole seconds, milliseconds, microseconds or
/// nanoseconds, in turn; the 8th is exactly midnight of 2021-01-02.
fn stamp(k: u32) -> DateTime<Utc> {
    let base = DateTime::parse_from_rfc3339("2021-01-01T23:59:52Z")
        .unwrap()
        .with_timezone(&Utc);
    let nanos = [0, 250_000_000, 123_456_000, 987_654_321][k as usize % 4];
    base + Duration::seconds(k.into()) + Duration::nanoseconds(nanos)
}

/// What any database keeps of `at`: microseconds.
fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_nanosecond(at.nanosecond() / 1_000 * 1_000).unwrap()
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// How a writer other than ferrobridge's spells `at` (microseconds).
#[derive(Clone, Copy, Debug)]
enum Spelling {
    /// sqlx's `DateTime<Utc>` encoder, which ferrobridge used to bind.
    Sqlx,
    /// Django on SQLite: `2021-01-01 00:00:29[.ffffff]`.
    Django,
    /// Django's spelling with an offset.
    DjangoOffset,
    /// RFC 3339 with a `Z`.
    Zulu,
}

impl Spelling {
    fn text(self, at: DateTime<Utc>) -> String {
        match self {
            Spelling::Sqlx => at.to_rfc3339_opts(SecondsFormat::AutoSi, false),
            Spelling::Django => ferrobridge::db::sqlite_datetime(&at),
            Spelling::DjangoOffset => format!("{}+00:00", ferrobridge::db::sqlite_datetime(&at)),
            Spelling::Zulu => rfc3339(at),
        }
    }
}

/// Which rows a lookup keeps, by their value.
type Keep<'a, T> = &'a dyn Fn(&T) -> bool;

/// What the test expects of each row.
#[derive(Clone, Debug)]
struct Row {
    at: DateTime<Utc>,
    maybe_at: Option<DateTime<Utc>>,
    day: NaiveDate,
    price: Decimal,
}

fn expected_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for k in 0..STAMPS {
        for j in 0..PER_STAMP {
            let at = micros(stamp(k));
            rows.push(Row {
                at,
                maybe_at: (j % 2 == 0).then_some(at),
                day: NaiveDate::from_ymd_opt(2021, 1, 1 + k % 5).unwrap(),
                price: Decimal::new(i64::from(k) * 50, 2),
            });
        }
    }
    rows
}

/// A text value as a column of the table's type: PostgreSQL does not turn
/// text into a timestamp, date or number by itself; SQLite keeps the text.
fn raw(db: &TestDb, text: Option<String>, sql_type: &str) -> SimpleExpr {
    match db.backend {
        Backend::Sqlite => Expr::val(text),
        Backend::Postgres => Expr::val(text).cast_as(Alias::new(sql_type)),
        // MySQL reads no offset in a datetime's text: the instant is bound
        // as what it is, as any MySQL client writes it.
        Backend::Mysql if sql_type == "timestamptz" => Expr::val(text.map(|t| parse_instant(&t))),
        Backend::Mysql => Expr::val(text),
    }
}

/// The instant any [`Spelling`] spells.
fn parse_instant(text: &str) -> DateTime<Utc> {
    use ferrobridge::__private::chrono::NaiveDateTime;
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z"))
        .map(|at| at.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").map(|at| at.and_utc())
        })
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Writes the rows: one in five through the entity (ferrobridge's own
/// spelling, from nanosecond input), the others as raw text in each
/// [`Spelling`]. On PostgreSQL the text becomes a real timestamp.
async fn seed(db: &TestDb) -> Vec<Row> {
    let rows = expected_rows();
    let spellings = [
        Spelling::Sqlx,
        Spelling::Django,
        Spelling::DjangoOffset,
        Spelling::Zulu,
    ];
    let mut models = Vec::new();
    let mut insert = Query::insert()
        .into_table(Alias::new(TABLE))
        .columns(["created_at", "maybe_at", "day", "price"].map(Alias::new))
        .to_owned();
    for (i, row) in rows.iter().enumerate() {
        let (k, j) = (i as u32 / PER_STAMP, i as u32 % PER_STAMP);
        if j % 5 == 0 {
            let full = stamp(k);
            models.push(event::ActiveModel {
                created_at: Set(full),
                maybe_at: Set(row.maybe_at.map(|_| full)),
                day: Set(row.day),
                price: Set(row.price),
                ..Default::default()
            });
            continue;
        }
        let spelling = spellings[(j % 5 - 1) as usize];
        insert.values_panic([
            raw(db, Some(spelling.text(row.at)), "timestamptz"),
            raw(db, row.maybe_at.map(|at| spelling.text(at)), "timestamptz"),
            raw(db, Some(row.day.format("%F").to_string()), "date"),
            raw(db, Some(row.price.to_string()), "numeric"),
        ]);
    }
    event::Entity::insert_many(models)
        .exec(&db.db)
        .await
        .expect("insert through the entity");
    db.db.execute(&insert).await.expect("insert raw text");
    rows
}

async fn router(db: &TestDb) -> axum::Router {
    let app = App::new("instants").model::<Event>();
    ferrobridge_tests::authed_router(&app, &db.db).await
}

/// The stored text of `column` in every row of `table`, in rowid order
/// (SQLite only: PostgreSQL stores no text).
async fn stored_text(db: &TestDb, table: &str, column: &str) -> Vec<Option<String>> {
    let select = Query::select()
        .column(Alias::new(column))
        .from(Alias::new(table))
        .order_by(
            Alias::new("rowid"),
            ferrobridge::__private::sea_orm::Order::Asc,
        )
        .to_owned();
    let rows: Vec<QueryResult> = db.db.query_all(&select).await.expect("read raw");
    rows.iter()
        .map(|r| r.try_get::<Option<String>>("", column).expect("text"))
        .collect()
}

/// `total` of the list with `query`.
async fn total(router: &axum::Router, query: &str) -> u64 {
    let reply = call(
        router,
        Method::GET,
        &format!("/api/events?page_size=1&{query}"),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{query}: {:?}", reply.json);
    reply.json["total"]
        .as_u64()
        .unwrap_or_else(|| panic!("{query}: {:?}", reply.json))
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

db_tests!(
    datetime_lookups_compare_instants,
    cursor_walks_visit_every_row_once,
    date_and_decimal_lookups_compare_values,
    sqlite_stores_djangos_spelling,
    admin_date_filters_compare_instants,
    migrate_respells_stored_datetimes,
);

/// Makes every raw spelling canonical on SQLite (what `migrate` does);
/// checks that a second pass finds nothing.
async fn normalize(db: &TestDb) {
    let columns = [(TABLE, "created_at"), (TABLE, "maybe_at")];
    let changed = ferrobridge::db::normalize_sqlite_datetimes(&db.db, &columns)
        .await
        .expect("normalize");
    if db.backend == Backend::Sqlite {
        // Sqlx, DjangoOffset and Zulu rows; Django's own spelling is kept.
        let raw_rows = u64::from(STAMPS * PER_STAMP) * 3 / 5;
        let with_maybe = raw_rows / 2;
        assert!(changed >= raw_rows, "{changed}");
        assert!(changed <= raw_rows + with_maybe, "{changed}");
    } else {
        assert_eq!(changed, 0);
    }
    let again = ferrobridge::db::normalize_sqlite_datetimes(&db.db, &columns)
        .await
        .expect("normalize again");
    assert_eq!(again, 0);
}

async fn datetime_lookups_compare_instants(db: &TestDb) {
    let router = router(db).await;
    let rows = seed(db).await;
    normalize(db).await;
    assert_eq!(total(&router, "").await, rows.len() as u64);

    // Every timestamp, a whole second just before the fractional ones,
    // and nanosecond input (compared at the microseconds stored).
    let mut probes: Vec<DateTime<Utc>> = (0..STAMPS).map(stamp).collect();
    probes.extend((0..8).map(|k| stamp(k).with_nanosecond(0).unwrap()));
    probes.push(stamp(3) + Duration::nanoseconds(1));
    for probe in probes {
        let text = encode(&rfc3339(probe));
        let p = micros(probe);
        let count = |keep: &dyn Fn(&DateTime<Utc>) -> bool| {
            rows.iter().filter(|r| keep(&r.at)).count() as u64
        };
        let cases: [(&str, Keep<DateTime<Utc>>); 5] = [
            ("created_at", &|at| *at == p),
            ("created_at__lt", &|at| *at < p),
            ("created_at__lte", &|at| *at <= p),
            ("created_at__gt", &|at| *at > p),
            ("created_at__gte", &|at| *at >= p),
        ];
        for (key, keep) in cases {
            let query = format!("{key}={text}");
            assert_eq!(total(&router, &query).await, count(keep), "{query}");
        }
        let later = micros(stamp(STAMPS - 1));
        let query = format!("created_at__in={text},{}", encode(&rfc3339(later)));
        let expect = count(&|at| *at == p || *at == later);
        assert_eq!(total(&router, &query).await, expect, "{query}");
        let query = format!("maybe_at__gte={text}");
        let expect = rows
            .iter()
            .filter(|r| r.maybe_at.is_some_and(|at| at >= p))
            .count() as u64;
        assert_eq!(total(&router, &query).await, expect, "{query}");
    }
    let nulls = rows.iter().filter(|r| r.maybe_at.is_none()).count() as u64;
    assert_eq!(total(&router, "maybe_at__isnull=true").await, nulls);
    assert_eq!(
        total(&router, "maybe_at__isnull=false").await,
        rows.len() as u64 - nulls
    );

    // What the issue saw: 0, 0 and 200 (of 100s) before.
    let at = |k: u32| encode(&rfc3339(stamp(k)));
    assert_eq!(total(&router, &format!("created_at={}", at(8))).await, 20);
    assert_eq!(
        total(&router, &format!("created_at__lte={}", at(0))).await,
        20
    );
    assert_eq!(
        total(&router, &format!("created_at__gt={}", at(STAMPS - 2))).await,
        20
    );
}

/// Follows `next` from the first page of `ordering`; every row once, in order.
async fn walk(router: &axum::Router, ordering: &str, rows: usize) {
    let mut seen = std::collections::BTreeSet::new();
    let mut last: Option<DateTime<Utc>> = None;
    let mut cursor = String::new();
    for _ in 0..=rows {
        let order = match ordering {
            "" => String::new(),
            _ => format!("ordering={ordering}&"),
        };
        let uri = format!("/api/events?{order}page_size=7&cursor={}", encode(&cursor));
        let reply = call(router, Method::GET, &uri, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
        for item in reply.json["items"].as_array().expect("items") {
            assert!(seen.insert(item["id"].as_i64().unwrap()), "{item} twice");
            let at = DateTime::parse_from_rfc3339(item["created_at"].as_str().unwrap())
                .unwrap()
                .with_timezone(&Utc);
            if let Some(previous) = last {
                let in_order = if ordering.starts_with('-') || ordering.is_empty() {
                    at <= previous
                } else {
                    at >= previous
                };
                assert!(in_order, "{ordering}: {at} after {previous}");
            }
            last = Some(at);
        }
        match &reply.json["next"] {
            Json::String(next) => cursor = next.clone(),
            _ => break,
        }
    }
    assert_eq!(seen.len(), rows, "{ordering}");
}

async fn cursor_walks_visit_every_row_once(db: &TestDb) {
    let router = router(db).await;
    let rows = seed(db).await;
    normalize(db).await;
    walk(&router, "-created_at", rows.len()).await;
    walk(&router, "created_at", rows.len()).await;
    // The model's default ordering (`-created_at`) too.
    walk(&router, "", rows.len()).await;
}

async fn date_and_decimal_lookups_compare_values(db: &TestDb) {
    let router = router(db).await;
    let rows = seed(db).await;
    for d in 1..=5 {
        let day = NaiveDate::from_ymd_opt(2021, 1, d).unwrap();
        let text = day.format("%F");
        let cases: [(&str, Keep<NaiveDate>); 5] = [
            ("day", &|x| *x == day),
            ("day__lt", &|x| *x < day),
            ("day__lte", &|x| *x <= day),
            ("day__gt", &|x| *x > day),
            ("day__gte", &|x| *x >= day),
        ];
        for (key, keep) in cases {
            let query = format!("{key}={text}");
            let expect = rows.iter().filter(|r| keep(&r.day)).count() as u64;
            assert_eq!(total(&router, &query).await, expect, "{query}");
        }
    }
    // 10.00 > 9.5 as numbers, though not as text.
    for (probe, text) in [
        (Decimal::new(95, 1), "9.5"),
        (Decimal::new(10, 0), "10"),
        (Decimal::new(1000, 2), "10.00"),
    ] {
        let cases: [(&str, Keep<Decimal>); 5] = [
            ("price", &|x| *x == probe),
            ("price__lt", &|x| *x < probe),
            ("price__lte", &|x| *x <= probe),
            ("price__gt", &|x| *x > probe),
            ("price__gte", &|x| *x >= probe),
        ];
        for (key, keep) in cases {
            let query = format!("{key}={text}");
            let expect = rows.iter().filter(|r| keep(&r.price)).count() as u64;
            assert_eq!(total(&router, &query).await, expect, "{query}");
        }
    }
    assert_eq!(
        total(&router, "price__in=0.5,14.50").await,
        2 * u64::from(PER_STAMP)
    );
    // Ordered numerically, read at the declared scale.
    let reply = call(
        &router,
        Method::GET,
        "/api/events?ordering=-price&page_size=1",
        None,
    )
    .await;
    assert_eq!(reply.json["items"][0]["price"], json!("14.50"));
    let reply = call(
        &router,
        Method::GET,
        "/api/events?price=10&page_size=1",
        None,
    )
    .await;
    assert_eq!(reply.json["items"][0]["price"], json!("10.00"));
}

async fn sqlite_stores_djangos_spelling(db: &TestDb) {
    let router = router(db).await;
    let created = call(
        &router,
        Method::POST,
        "/api/events",
        Some(json!({
            "created_at": "2026-11-29T20:54:25.504511789Z",
            "maybe_at": "2026-11-29T21:54:25+01:00",
            "day": "2026-11-29",
            "price": "9.50",
        })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json);
    // Django keeps microseconds; so does every backend here.
    let uri = format!("/api/events/{}", created.json["id"]);
    let read = call(&router, Method::GET, &uri, None).await;
    assert_eq!(
        read.json["created_at"],
        json!("2026-11-29T20:54:25.504511Z")
    );
    assert_eq!(read.json["maybe_at"], json!("2026-11-29T20:54:25Z"));
    // A token login writes `last_login` in the same spelling.
    let login = ferrobridge_tests::token_login(&router, "root", PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{:?}", login.json);
    if db.backend != Backend::Sqlite {
        return;
    }
    assert_eq!(
        stored_text(db, TABLE, "created_at").await,
        [Some("2026-11-29 20:54:25.504511".to_string())]
    );
    assert_eq!(
        stored_text(db, TABLE, "maybe_at").await,
        [Some("2026-11-29 20:54:25".to_string())]
    );
    assert_eq!(
        stored_text(db, TABLE, "day").await,
        [Some("2026-11-29".into())]
    );
    for (table, column) in [
        ("auth_user", "date_joined"),
        ("auth_user", "last_login"),
        ("ferrobridge_token", "created_at"),
        ("ferrobridge_token", "expires_at"),
    ] {
        for text in stored_text(db, table, column).await {
            let text = text.unwrap_or_else(|| panic!("{table}.{column} is NULL"));
            assert!(djangos_spelling(&text), "{table}.{column} = {text}");
        }
    }
}

/// Whether `text` is spelled as Django spells a datetime on SQLite:
/// `YYYY-MM-DD HH:MM:SS`, then six fraction digits unless they are all 0.
fn djangos_spelling(text: &str) -> bool {
    // `9` stands for any digit.
    let shape = |s: &str, pattern: &str| {
        s.len() == pattern.len()
            && s.chars()
                .zip(pattern.chars())
                .all(|(c, p)| if p == '9' { c.is_ascii_digit() } else { c == p })
    };
    let (seconds, fraction) = text.split_at(text.len().min(19));
    shape(seconds, "9999-99-99 99:99:99")
        && (fraction.is_empty() || (shape(fraction, ".999999") && fraction != ".000000"))
}

async fn admin_date_filters_compare_instants(db: &TestDb) {
    let router = router(db).await;
    let rows = seed(db).await;
    normalize(db).await;
    let mut admin = AdminClient::new(router.clone());
    admin.login("root", PASSWORD).await;
    let midnight = NaiveDate::from_ymd_opt(2021, 1, 2).unwrap();
    let before = rows.iter().filter(|r| r.at.date_naive() < midnight).count();
    for (query, expect) in [
        ("created_at__lt=2021-01-02", before),
        ("created_at__gte=2021-01-02", rows.len() - before),
        (
            "created_at__gte=2021-01-01&created_at__lt=2021-01-03",
            rows.len(),
        ),
        ("maybe_at__gte=2021-01-02", (rows.len() - before) / 2),
    ] {
        let page = admin.get(&format!("/admin/instants/event/?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let count = page
            .body
            .split("<span class=\"result-count\">")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or_else(|| panic!("no result count: {}", page.body));
        assert_eq!(count, expect, "{query}");
    }
}

async fn migrate_respells_stored_datetimes(db: &TestDb) {
    let app = App::new("instants");
    app.migrate(&db.db, None, |_, _| {}).await.expect("migrate");
    let (id, _) = ferrobridge_tests::create_user(&db.db, "ann", UserKind::Regular).await;
    let joined = DateTime::parse_from_rfc3339("2021-01-01T00:00:29.5Z")
        .unwrap()
        .with_timezone(&Utc);
    let login = micros(stamp(3));
    // Written as sqlx used to, and as RFC 3339 with a Z.
    let update = Query::update()
        .table(Alias::new("auth_user"))
        .value(
            Alias::new("date_joined"),
            raw(db, Some(Spelling::Sqlx.text(joined)), "timestamptz"),
        )
        .value(
            Alias::new("last_login"),
            raw(db, Some(Spelling::Zulu.text(login)), "timestamptz"),
        )
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    db.db.execute(&update).await.expect("raw update");
    app.migrate(&db.db, None, |_, _| {})
        .await
        .expect("migrate again");
    let user = ferrobridge::auth::models::user::Entity::find_by_id(id)
        .one(&db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((user.date_joined, user.last_login), (joined, Some(login)));
    if db.backend == Backend::Sqlite {
        let joined = stored_text(db, "auth_user", "date_joined").await;
        assert_eq!(joined, [Some("2021-01-01 00:00:29.500000".to_string())]);
        let login = stored_text(db, "auth_user", "last_login").await;
        assert_eq!(login, [Some("2021-01-01 23:59:55.987654".to_string())]);
        for applied in stored_text(db, "ferrobridge_migrations", "applied").await {
            let applied = applied.unwrap();
            assert!(djangos_spelling(&applied), "{applied}");
        }
    }
}
