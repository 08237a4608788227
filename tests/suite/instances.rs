//! Instances deployed together on one database behave as one: each test
//! builds two routers from two `App`s with pools of their own (as two
//! processes would have) and checks that what one instance starts the other
//! honours: admin sessions and their CSRF token, API tokens and their
//! revocation, the failed-login counts, and `migrate` run by both at once.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use ferrobridge::__private::sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
use ferrobridge::db::Connection;
use ferrobridge_tests::{
    AdminClient, PASSWORD, Reply, TestDb, UserKind, call_as, create_user, db_tests, send,
    token_login,
};

db_tests!(
    an_admin_session_from_one_instance_works_on_another,
    a_token_from_one_instance_works_and_is_revoked_on_another,
    failed_logins_are_counted_across_instances,
    a_login_the_throttle_cannot_count_is_refused,
    concurrent_migrations_both_succeed,
    a_failed_run_keeps_the_migrations_before_it_and_frees_the_lock,
);

/// Instance A (which created the tables) and instance B of the blog app
/// on `db`, each with its own `App` and pool; B's pool is returned to be
/// closed at the end.
async fn two_instances(db: &TestDb) -> (axum::Router, axum::Router, Connection) {
    let a = blog::app();
    a.create_tables(&db.db).await.expect("create tables");
    let router_a = a.router(db.db.clone());
    let pool_b = ferrobridge::db::connect(&db.url)
        .await
        .expect("a second pool");
    let router_b = blog::app().router(pool_b.clone());
    (router_a, router_b, pool_b)
}

async fn an_admin_session_from_one_instance_works_on_another(db: &TestDb) {
    let (a, b, pool_b) = two_instances(db).await;
    create_user(&db.db, "admin", UserKind::Superuser).await;
    let mut on_a = AdminClient::new(a.clone());
    on_a.login("admin", PASSWORD).await;

    // The browser's next requests land on B, with A's cookies.
    let mut on_b = AdminClient::new(b);
    on_b.cookies = on_a.cookies.clone();
    let page = on_b.get("/admin/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let page = on_b
        .post(
            "/admin/blog/author/add/",
            &[
                ("name", "Ann"),
                ("email", "ann@example.com"),
                ("post-TOTAL_FORMS", "0"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FOUND, "{}", page.body);
    let authors = blog::author::Entity::find()
        .count(&db.db)
        .await
        .expect("count");
    assert_eq!(authors, 1, "B saved the form posted with A's session");

    // Logging out on B ends the session on A too.
    let page = on_b.post("/admin/logout/", &[]).await;
    assert!(page.status.is_redirection() || page.status.is_success());
    let mut back_on_a = AdminClient::new(a);
    back_on_a.cookies = on_a.cookies.clone();
    let page = back_on_a.get("/admin/").await;
    assert_eq!(
        page.status,
        StatusCode::FOUND,
        "the session ended everywhere"
    );
    pool_b.close().await.ok();
}

async fn me(router: &axum::Router, token: &str) -> Reply {
    let request = Request::get("/api/auth/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    send(router, request).await
}

async fn a_token_from_one_instance_works_and_is_revoked_on_another(db: &TestDb) {
    let (a, b, pool_b) = two_instances(db).await;
    create_user(&db.db, "ann", UserKind::Regular).await;
    let reply = token_login(&a, "ann", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    let token = reply.json["access_token"]
        .as_str()
        .expect("a token")
        .to_string();

    let reply = me(&b, &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    assert_eq!(reply.json["username"], "ann");

    let reply = call_as(&a, Some(&token), Method::POST, "/api/auth/logout", None).await;
    assert!(reply.status.is_success(), "{:?}", reply.json);
    assert_eq!(me(&b, &token).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&a, &token).await.status, StatusCode::UNAUTHORIZED);
    pool_b.close().await.ok();
}

/// `POST /api/auth/token` from a client at `addr`, as the TCP server's
/// `ConnectInfo` would tell it.
async fn api_login_from(
    router: &axum::Router,
    addr: &str,
    username: &str,
    password: &str,
) -> Reply {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("username", username), ("password", password)])
        .finish();
    let mut request = Request::post("/api/auth/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request");
    request
        .extensions_mut()
        .insert(ConnectInfo(addr.parse::<SocketAddr>().expect("address")));
    send(router, request).await
}

async fn failed_logins_are_counted_across_instances(db: &TestDb) {
    let (a, b, pool_b) = two_instances(db).await;
    create_user(&db.db, "ann", UserKind::Regular).await;
    create_user(&db.db, "boss", UserKind::Superuser).await;

    // Per username: five failures, spread over both, lock ann out of both.
    for (i, router) in [&a, &b, &a, &b, &a].into_iter().enumerate() {
        let reply = token_login(router, "ann", "wrong").await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "attempt {i}");
    }
    for router in [&a, &b] {
        let reply = token_login(router, "ann", PASSWORD).await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(reply.headers.contains_key(header::RETRY_AFTER));
    }

    // Per address: eight sprayed names, spread over both, lock the address
    // out of both, the admin's login form included.
    let office = "127.0.0.7:40000";
    for i in 0..8 {
        let router = if i % 2 == 0 { &a } else { &b };
        let reply = api_login_from(router, office, &format!("sprayed{i}"), "Summer2024!").await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "attempt {i}");
    }
    for router in [&a, &b] {
        let reply = api_login_from(router, office, "boss", PASSWORD).await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    }
    let mut admin = AdminClient::new(b.clone());
    admin.get("/admin/login/").await;
    let csrf = admin.csrf();
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrfmiddlewaretoken", csrf.as_str()),
            ("username", "boss"),
            ("password", PASSWORD),
            ("next", "/admin/"),
        ])
        .finish();
    let mut request = Request::post("/admin/login/")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request");
    request
        .extensions_mut()
        .insert(ConnectInfo(office.parse::<SocketAddr>().expect("address")));
    let page = admin.request(request).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);

    // Another address is not affected, on either instance.
    let reply = api_login_from(&b, "127.0.0.8:40000", "boss", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json);
    pool_b.close().await.ok();
}

async fn a_login_the_throttle_cannot_count_is_refused(db: &TestDb) {
    let (a, _b, pool_b) = two_instances(db).await;
    create_user(&db.db, "ann", UserKind::Superuser).await;
    // The throttle's table is gone (a broken database, say): no login
    // goes through uncounted, right password or not, API or admin.
    db.db
        .execute_unprepared("DROP TABLE ferrobridge_login_failure")
        .await
        .expect("drop the table");
    for password in ["wrong", PASSWORD] {
        let reply = token_login(&a, "ann", password).await;
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{:?}",
            reply.json
        );
        assert!(reply.headers.contains_key(header::RETRY_AFTER));
    }
    let mut admin = AdminClient::new(a);
    admin.get("/admin/login/").await;
    let page = admin
        .post(
            "/admin/login/",
            &[
                ("username", "ann"),
                ("password", PASSWORD),
                ("next", "/admin/"),
            ],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        page.body
    );
    assert!(
        !admin.cookies.contains_key("sessionid"),
        "no session was started"
    );
    pool_b.close().await.ok();
}

async fn concurrent_migrations_both_succeed(db: &TestDb) {
    // Two processes starting together: two apps, two pools, both running
    // `migrate` at once (interleaved on this task at every database call).
    let run = || async {
        let pool = ferrobridge::db::connect(&db.url).await.expect("a pool");
        let result = blog::app()
            .migrate(&pool, None, |_, _| {})
            .await
            .map_err(|e| e.to_string());
        pool.close().await.ok();
        result
    };
    let (first, second) = tokio::join!(run(), run());
    first.expect("the first run succeeds");
    second.expect("the second run succeeds");

    let app = blog::app();
    let migrator = app.migrator();
    let applied = migrator.applied(&db.db).await.expect("applied");
    let expected: usize = migrator.apps().iter().map(|a| a.migrations.len()).sum();
    assert_eq!(applied.len(), expected, "every migration is applied");
    let rows = db
        .db
        .query_all(
            ferrobridge::__private::sea_orm::sea_query::Query::select()
                .expr(ferrobridge::__private::sea_orm::sea_query::Expr::cust("1"))
                .from(ferrobridge::__private::sea_orm::sea_query::Alias::new(
                    ferrobridge::migrations::RECORD_TABLE,
                )),
        )
        .await
        .expect("the record");
    assert_eq!(rows.len(), expected, "each migration is recorded once");
    let tables = ferrobridge::migrations::table_names(&db.db)
        .await
        .expect("tables");
    for table in ["blog_post", "blog_author", "auth_user", "django_session"] {
        assert!(tables.contains(table), "{table} exists");
    }
    // Permissions are created once, not once per run.
    let types = ferrobridge::auth::models::content_type::Entity::find()
        .count(&db.db)
        .await
        .expect("content types");
    let post_types = ferrobridge::auth::models::content_type::Entity::find()
        .all(&db.db)
        .await
        .expect("content types")
        .into_iter()
        .filter(|t| t.app_label == "blog" && t.model == "post")
        .count();
    assert_eq!(post_types, 1, "one content type per model ({types} in all)");

    // A run after both finds nothing to do.
    let mut steps = 0;
    app.migrate(&db.db, None, |_, _| steps += 1)
        .await
        .expect("a third run");
    assert_eq!(steps, 0);
}

/// A model for [`a_failed_run_keeps_the_migrations_before_it_and_frees_the_lock`].
mod shelf {
    use ferrobridge::prelude::*;

    /// A book.
    #[derive(Model, Clone, Debug, PartialEq)]
    #[model(app = "shelf", table = "shelf_book")]
    pub struct Book {
        #[field(primary_key)]
        pub id: i64,
        #[field(max_length = 100)]
        pub title: String,
    }
}

/// Two migrations of app `shelf`: the first creates the table, the second
/// adds a column and then fails in its data step.
fn failing_migrations() -> ferrobridge::migrations::AppMigrations {
    use ferrobridge::migrations::prelude::*;
    let create = Migration::new("0001_initial").operation(
        CreateModel::new("book", "shelf_book")
            .field(Field::big_integer("id").primary_key().auto_increment())
            .field(Field::string("title").max_length(100)),
    );
    let fail = Migration::new("0002_pages")
        .operation(AddField::new("book", Field::integer("pages").null()))
        .run_code(RunCode::new("refuse", |_| {
            Box::pin(async {
                Err(ferrobridge::__private::sea_orm::DbErr::Custom(
                    "refused on purpose".into(),
                ))
            })
        }));
    ferrobridge::migrations::AppMigrations::new("shelf", std::env::temp_dir(), "shelf_migrations")
        .migration(create)
        .migration(fail)
}

async fn a_failed_run_keeps_the_migrations_before_it_and_frees_the_lock(db: &TestDb) {
    let app = ferrobridge::App::new("shelf")
        .without_auth()
        .model::<shelf::Book>()
        .migrations(failing_migrations());
    for run in 0..2 {
        // The second run finds the lock free (no wait, no timeout) and the
        // first migration applied.
        let mut done = Vec::new();
        let error = app
            .migrate(&db.db, None, |step, _| {
                if step.app == "shelf" {
                    done.push(step.name.clone())
                }
            })
            .await
            .expect_err("the data step fails");
        assert!(error.to_string().contains("refused on purpose"), "{error}");
        let expected: &[&str] = if run == 0 { &["0001_initial"] } else { &[] };
        assert_eq!(done, expected, "run {run}");
        let applied = app.migrator().applied(&db.db).await.expect("applied");
        let shelf: Vec<&str> = applied
            .iter()
            .filter(|(a, _)| a == "shelf")
            .map(|(_, name)| name.as_str())
            .collect();
        assert_eq!(shelf, ["0001_initial"], "run {run}");
        // The first migration's table exists, without the failed
        // migration's column. PostgreSQL and SQLite roll it back with the
        // migration's transaction. MySQL commits each DDL statement as it
        // runs, so the rollback keeps it there; the runner then runs the
        // reverse of the operations the failed migration completed (here
        // RemoveField), which is what MySQL can guarantee: the schema
        // matches the record again, so the second run starts 0002 over
        // (and fails in the same place, not on an existing column). What a
        // data step committed, or an operation that failed half-way, is not
        // undone on MySQL. A column is looked for in a row: SQLite reads
        // `SELECT "pages"` of no such column as a string.
        use ferrobridge::__private::sea_orm::sea_query::{Alias, Expr, Query};
        db.db
            .execute(
                Query::insert()
                    .into_table(Alias::new("shelf_book"))
                    .columns([Alias::new("title")])
                    .values_panic([format!("run {run}").into()]),
            )
            .await
            .expect("the first migration's table exists");
        let rows = db
            .db
            .query_all(
                Query::select()
                    .expr(Expr::cust("*"))
                    .from(Alias::new("shelf_book")),
            )
            .await
            .expect("rows");
        assert_eq!(
            rows[0].column_names(),
            ["id", "title"],
            "no `pages` column is left behind (run {run})"
        );
    }
}
