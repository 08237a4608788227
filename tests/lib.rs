//! Support for ferrobridge's integration tests: a fresh database per test
//! on each backend, and small HTTP helpers.
//!
//! Every database test runs on SQLite, on PostgreSQL when
//! `DATABASE_URL_POSTGRES` is set (an admin URL such as
//! `postgres://postgres@127.0.0.1:5432/test`) and on MySQL / MariaDB when
//! `DATABASE_URL_MYSQL` is set (such as `mysql://root@127.0.0.1:3306/test`);
//! each test creates its own database there. When `CI` is set, both
//! variables are required: those tests fail rather than skip.

use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use ferrobridge::__private::sea_orm::ConnectionTrait;
use ferrobridge::db::Connection;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// The backends every database test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file in the temp directory.
    Sqlite,
    /// A fresh database on the server named by `DATABASE_URL_POSTGRES`.
    Postgres,
    /// A fresh database on the MySQL / MariaDB server named by `DATABASE_URL_MYSQL`.
    Mysql,
}

/// A database created for one test; [`TestDb::finish`] removes it.
pub struct TestDb {
    /// Which backend it is on.
    pub backend: Backend,
    /// The URL that reaches it.
    pub url: String,
    /// An open pool.
    pub db: Connection,
    admin: Option<(String, String)>,
    file: Option<std::path::PathBuf>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "fbt_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDb {
    /// A fresh database on `backend`; `None` only for PostgreSQL or MySQL
    /// outside CI when their `DATABASE_URL_...` is unset.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::server(Backend::Postgres).await,
            Backend::Mysql => Self::server(Backend::Mysql).await,
        }
    }

    async fn sqlite() -> TestDb {
        let path = std::env::temp_dir().join(format!("{}.sqlite3", unique_name()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = ferrobridge::db::connect(&url).await.expect("open sqlite");
        TestDb {
            backend: Backend::Sqlite,
            url,
            db,
            admin: None,
            file: Some(path),
        }
    }

    /// The admin URL of a server backend, from its environment variable;
    /// `None` (with a note) outside CI when it is unset.
    pub fn admin_url(backend: Backend) -> Option<String> {
        let var = match backend {
            Backend::Sqlite => return None,
            Backend::Postgres => "DATABASE_URL_POSTGRES",
            Backend::Mysql => "DATABASE_URL_MYSQL",
        };
        match std::env::var(var) {
            Ok(url) if !url.is_empty() => Some(url),
            _ if std::env::var_os("CI").is_some() => {
                panic!("CI runs the {backend:?} tests: set {var} (see .ci/run)")
            }
            _ => {
                eprintln!("{var} is unset: {backend:?} variant not run");
                None
            }
        }
    }

    /// A fresh database on the PostgreSQL or MySQL server of `backend`.
    async fn server(backend: Backend) -> Option<TestDb> {
        let admin_url = Self::admin_url(backend)?;
        let admin = ferrobridge::db::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("{backend:?} at {admin_url} is unreachable: {e}"));
        let name = unique_name();
        let create = match backend {
            Backend::Mysql => {
                format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            }
            _ => format!("CREATE DATABASE \"{name}\""),
        };
        admin
            .execute_unprepared(&create)
            .await
            .expect("create test database");
        admin.close().await.ok();
        let url = with_database(&admin_url, &name);
        let db = ferrobridge::db::connect(&url)
            .await
            .expect("open test database");
        Some(TestDb {
            backend,
            url,
            db,
            admin: Some((admin_url, name)),
            file: None,
        })
    }

    /// Closes the pool and removes the database.
    pub async fn finish(self) {
        self.db.close().await.ok();
        if let Some((admin_url, name)) = self.admin
            && let Ok(admin) = ferrobridge::db::connect(&admin_url).await
        {
            let drop = match self.backend {
                Backend::Mysql => format!("DROP DATABASE IF EXISTS `{name}`"),
                _ => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            };
            let _ = admin.execute_unprepared(&drop).await;
            admin.close().await.ok();
        }
        if let Some(path) = self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// `url` (a server URL with a database path) naming database `name` instead.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let (server, _) = base.rsplit_once('/').expect("database URL has a path");
    format!("{server}/{name}{query}")
}

/// Declares `mod name { sqlite, postgres, mysql }` tests that run
/// `async fn name(db: &TestDb)` on a fresh database of each backend.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    $crate::run_on($crate::Backend::Sqlite, |db| Box::pin(super::$name(db))).await;
                }
                #[tokio::test]
                async fn postgres() {
                    $crate::run_on($crate::Backend::Postgres, |db| Box::pin(super::$name(db))).await;
                }
                #[tokio::test]
                async fn mysql() {
                    $crate::run_on($crate::Backend::Mysql, |db| Box::pin(super::$name(db))).await;
                }
            }
        )*
    };
}

/// Runs `test` on a fresh database of `backend`, then removes it.
pub async fn run_on<F>(backend: Backend, test: F)
where
    F: for<'a> FnOnce(&'a TestDb) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>,
{
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    test(&db).await;
    db.finish().await;
}

/// The blog example's router on `db`, tables created, every request made
/// as a superuser unless it carries its own `Authorization` header.
pub async fn blog_router(db: &TestDb) -> axum::Router {
    authed_router(&blog::app(), &db.db).await
}

/// `app` on `db` (tables created), with requests made as a superuser
/// unless they carry their own `Authorization` header.
pub async fn authed_router(app: &ferrobridge::App, db: &Connection) -> axum::Router {
    app.create_tables(db).await.expect("create tables");
    let (_, token) = create_user(db, "root", UserKind::Superuser).await;
    with_token(app.router(db.clone()), token)
}

/// Adds `Authorization: Bearer <token>` to requests that have none.
pub fn with_token(router: axum::Router, token: String) -> axum::Router {
    router.layer(axum::middleware::map_request(
        move |mut request: Request<Body>| {
            let token = token.clone();
            async move {
                if !request.headers().contains_key(header::AUTHORIZATION) {
                    let value = format!("Bearer {token}").parse().expect("header value");
                    request.headers_mut().insert(header::AUTHORIZATION, value);
                }
                request
            }
        },
    ))
}

/// What kind of account [`create_user`] makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserKind {
    /// `is_superuser`.
    Superuser,
    /// An ordinary active user.
    Regular,
    /// `is_active = false`.
    Inactive,
}

/// The password of every user [`create_user`] makes.
pub const PASSWORD: &str = "correct horse battery staple";

/// Creates user `username` with [`PASSWORD`] and a valid token; returns its id and the token.
pub async fn create_user(db: &Connection, username: &str, kind: UserKind) -> (i32, String) {
    use ferrobridge::__private::sea_orm::{ActiveModelTrait, ActiveValue::Set};
    use ferrobridge::auth::models::{token, user};
    let row = user::ActiveModel {
        username: Set(username.into()),
        password: Set(ferrobridge::auth::hash_password(PASSWORD)),
        is_superuser: Set(kind == UserKind::Superuser),
        is_staff: Set(kind == UserKind::Superuser),
        is_active: Set(kind != UserKind::Inactive),
        first_name: Set(String::new()),
        last_name: Set(String::new()),
        email: Set(format!("{username}@example.com")),
        date_joined: Set(chrono_now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("create user");
    let (plain, digest) = ferrobridge::auth::new_token().expect("random token");
    token::ActiveModel {
        digest: Set(digest),
        user_id: Set(row.id),
        created_at: Set(chrono_now()),
        expires_at: Set(chrono_now() + ferrobridge::__private::chrono::Duration::hours(1)),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("create token");
    (row.id, plain)
}

fn chrono_now() -> ferrobridge::__private::chrono::DateTime<ferrobridge::__private::chrono::Utc> {
    ferrobridge::__private::chrono::Utc::now()
}

/// Sends a request with `Authorization: Bearer <token>` (or no header with `None`... see [`call`]).
pub async fn call_as(
    router: &axum::Router,
    token: Option<&str>,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    // An explicit empty header stops the test layer from adding the superuser's token.
    request = match token {
        Some(token) => request.header(header::AUTHORIZATION, format!("Bearer {token}")),
        None => request.header(header::AUTHORIZATION, ""),
    };
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .expect("request");
    send(router, request).await
}

/// A response as tests look at it.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// The body parsed as JSON (`Null` when empty).
    pub json: Value,
}

/// `POST /api/{plural}` with `body` as the router's user, asserting 201;
/// the created object's `Read` JSON.
pub async fn create(router: &axum::Router, plural: &str, body: Value) -> Value {
    let reply = call(router, Method::POST, &format!("/api/{plural}"), Some(body)).await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{plural}: {:?}",
        reply.json
    );
    reply.json
}

/// Sends one request through `router` in process.
pub async fn call(router: &axum::Router, method: Method, uri: &str, body: Option<Value>) -> Reply {
    let request = Request::builder().method(method).uri(uri);
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .expect("request");
    send(router, request).await
}

/// Sends a prepared request through `router` in process.
pub async fn send(router: &axum::Router, request: Request<Body>) -> Reply {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("response is not JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    Reply {
        status,
        headers,
        json,
    }
}

/// A page as a browser would get it: status, headers and HTML.
#[derive(Debug)]
pub struct Page {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub body: String,
}

impl Page {
    /// The `Location` header of a redirect.
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }
}

/// A cookie-keeping client of the admin site, in process: what a browser
/// sends (cookies, the CSRF form field), without a browser.
pub struct AdminClient {
    router: axum::Router,
    /// Cookies by name.
    pub cookies: std::collections::BTreeMap<String, String>,
}

impl AdminClient {
    /// A client of `router` with no cookies. Requests carry an empty
    /// `Authorization` header so test routers add no bearer token.
    pub fn new(router: axum::Router) -> Self {
        AdminClient {
            router,
            cookies: Default::default(),
        }
    }

    /// The CSRF token a page's forms carry (the `csrftoken` cookie).
    pub fn csrf(&self) -> String {
        self.cookies.get("csrftoken").cloned().unwrap_or_default()
    }

    /// Sends a request with the client's cookies and keeps those it sets.
    pub async fn request(&mut self, request: Request<Body>) -> Page {
        let (mut parts, body) = request.into_parts();
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            parts.headers.insert(
                header::COOKIE,
                jar.join("; ").parse().expect("cookie header"),
            );
        }
        parts
            .headers
            .entry(header::AUTHORIZATION)
            .or_insert_with(|| "".parse().expect("header"));
        let response = self
            .router
            .clone()
            .oneshot(Request::from_parts(parts, body))
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let page = Page {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        };
        for cookie in page.set_cookies() {
            let pair = cookie.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || cookie.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_string(), value.to_string());
                }
            }
        }
        page
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Page {
        let request = Request::get(path).body(Body::empty()).expect("request");
        self.request(request).await
    }

    /// `POST path` with form `fields`, adding the CSRF field.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf();
        let mut all: Vec<(&str, &str)> = vec![("csrfmiddlewaretoken", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// `POST path` with exactly `fields` (no CSRF field added).
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        self.request(request).await
    }

    /// Logs in through the login form; panics unless it redirects.
    pub async fn login(&mut self, username: &str, password: &str) {
        self.get("/admin/login/").await;
        let page = self
            .post(
                "/admin/login/",
                &[
                    ("username", username),
                    ("password", password),
                    ("next", "/admin/"),
                ],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::FOUND,
            "login failed: {}",
            page.body
        );
    }
}

/// Logs in through the OAuth2 password flow (`POST /api/auth/token`).
pub async fn token_login(router: &axum::Router, username: &str, password: &str) -> Reply {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
        .finish();
    let request = Request::post("/api/auth/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request");
    send(router, request).await
}

/// Makes `username` staff (without other rights) and returns its id.
pub async fn create_staff(db: &Connection, username: &str, permissions: &[&str]) -> i32 {
    use ferrobridge::__private::sea_orm::{
        ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    };
    use ferrobridge::auth::models::{permission, user, user_permission};
    let (id, _) = create_user(db, username, UserKind::Regular).await;
    let row = user::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("user")
        .expect("user exists");
    let mut active = row.into_active_model();
    active.is_staff = Set(true);
    active.update(db).await.expect("make staff");
    for code in permissions {
        let found = permission::Entity::find()
            .filter(permission::Column::Codename.eq(*code))
            .one(db)
            .await
            .expect("permission lookup")
            .unwrap_or_else(|| panic!("no permission {code}"));
        user_permission::ActiveModel {
            user_id: Set(id),
            permission_id: Set(found.id),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("grant");
    }
    id
}

/// A PostgreSQL cluster of one test's own (`initdb` into a temp directory,
/// served on a free loopback port with its unix socket in that directory),
/// for tests that stop or restart the server: the shared server on
/// `DATABASE_URL_POSTGRES` is never touched. Stopped and removed on drop.
///
/// The server binaries are looked up under `/usr/lib/postgresql/*/bin` (or
/// `PG_BIN`, a directory). PostgreSQL refuses to run as root, so when the
/// tests run as root the binaries run as the `postgres` account (through
/// `runuser`) in a directory it owns.
pub struct PrivatePostgres {
    bin: std::path::PathBuf,
    dir: std::path::PathBuf,
    /// The loopback port it listens on.
    pub port: u16,
    as_postgres: bool,
}

impl PrivatePostgres {
    /// Creates and starts a cluster; `None` (with a note) when no server
    /// binaries are installed, except under `CI`, where that fails the test.
    pub fn start() -> Option<PrivatePostgres> {
        let Some(bin) = postgres_bin() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI runs the PostgreSQL restart tests: install the server binaries \
                 (initdb, pg_ctl under /usr/lib/postgresql/*/bin) or set PG_BIN"
            );
            eprintln!("no PostgreSQL server binaries (initdb, pg_ctl): test not run");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("{}_pg", unique_name()));
        std::fs::create_dir_all(&dir).expect("create the cluster directory");
        // The effective user of this process owns its /proc entry.
        let as_postgres = std::os::unix::fs::MetadataExt::uid(
            &std::fs::metadata("/proc/self").expect("read /proc/self"),
        ) == 0;
        if as_postgres {
            let owner = std::process::Command::new("chown")
                .args(["postgres:", &dir.display().to_string()])
                .status()
                .expect("run chown");
            assert!(
                owner.success(),
                "chown {} to postgres failed",
                dir.display()
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = PrivatePostgres {
            bin,
            dir,
            port,
            as_postgres,
        };
        let data = cluster.data().display().to_string();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        cluster.pg_ctl(&["start"]);
        Some(cluster)
    }

    /// The URL of database `name` on this server (as the `postgres` superuser).
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates database `name` and answers its URL.
    pub async fn create_database(&self, name: &str) -> String {
        let admin = ferrobridge::db::connect(&self.url("postgres"))
            .await
            .expect("connect to the private server");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create database");
        admin.close().await.ok();
        self.url(name)
    }

    /// `pg_ctl restart` (fast shutdown: every connection is cut, as in a
    /// real restart); returns once the server accepts connections again.
    pub fn restart(&self) {
        self.pg_ctl(&["restart", "-m", "fast"]);
    }

    /// `pg_ctl stop` (fast shutdown).
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast"]);
    }

    /// `pg_ctl start`.
    pub fn start_again(&self) {
        self.pg_ctl(&["start"]);
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.join("data")
    }

    /// The server's log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    fn pg_ctl(&self, action: &[&str]) {
        let data = self.data().display().to_string();
        let log = self.dir.join("server.log").display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let mut args = vec!["-D", &data, "-l", &log, "-w", "-t", "60", "-o", &options];
        args.extend_from_slice(action);
        self.run("pg_ctl", &args);
    }

    /// Runs server binary `name`, as `postgres` when this process is root;
    /// panics with its output unless it succeeds.
    fn run(&self, name: &str, args: &[&str]) -> String {
        let program = self.bin.join(name).display().to_string();
        let mut command = if self.as_postgres {
            let mut command = std::process::Command::new("runuser");
            command.args(["-u", "postgres", "--", &program]);
            command
        } else {
            std::process::Command::new(&program)
        };
        let output = command
            .args(args)
            .current_dir(&self.dir)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.success(),
            "{name} {args:?} failed ({}):\n{text}\n{}",
            output.status,
            self.log()
        );
        text
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let program = self.bin.join("pg_ctl").display().to_string();
        let mut command = if self.as_postgres {
            let mut command = std::process::Command::new("runuser");
            command.args(["-u", "postgres", "--", &program]);
            command
        } else {
            std::process::Command::new(&program)
        };
        // Immediate: the cluster is thrown away, nothing needs a clean shutdown.
        let _ = command
            .args(["-D", &data, "-w", "stop", "-m", "immediate"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The directory of `initdb` and `pg_ctl`: `PG_BIN`, or the newest
/// `/usr/lib/postgresql/<version>/bin` that has them.
fn postgres_bin() -> Option<std::path::PathBuf> {
    let has_tools =
        |dir: &std::path::Path| dir.join("initdb").exists() && dir.join("pg_ctl").exists();
    if let Some(dir) = std::env::var_os("PG_BIN") {
        let dir = std::path::PathBuf::from(dir);
        return has_tools(&dir).then_some(dir);
    }
    let mut versions: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}
