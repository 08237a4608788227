//! What every test of the project shares: the application on a fresh SQLite
//! file, called in process as an HTTP client logged in as a superuser.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// The application's router on its own database, with a superuser's token.
pub struct Client {
    router: axum::Router,
    token: String,
    file: std::path::PathBuf,
}

impl Client {
    /// A fresh database with every migration applied and a superuser logged in
    /// through `POST /api/auth/token`, as a real client would.
    pub async fn new() -> Client {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos();
        let file = std::env::temp_dir().join(format!(
            "{{name}}-test-{}-{stamp}.sqlite3",
            std::process::id()
        ));
        let db = ferrobridge::db::connect(&format!("sqlite://{}?mode=rwc", file.display()))
            .await
            .expect("open the test database");
        let app = {{crate}}::app();
        // The tables come from the migration files, applied as `cargo run --
        // migrate` applies them, so the tests exercise those files too.
        let unmigrated = app.unmigrated_apps().expect("read the migrations");
        assert!(
            unmigrated.is_empty(),
            "the models of {unmigrated:?} have changes no migration records: run `cargo run -- makemigrations`"
        );
        app.migrate(&db, None, |_, _| {})
            .await
            .expect("apply the migrations");
        ferrobridge::auth::create_superuser(&db, "admin", "admin@example.com", "test-password")
            .await
            .expect("create a superuser");
        let router = app.router(db);
        let request = Request::post("/api/auth/token")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("username=admin&password=test-password"))
            .expect("token request");
        let (status, reply) = send(&router, request).await;
        assert_eq!(status, StatusCode::OK, "log in: {reply}");
        let token = reply["access_token"].as_str().expect("a token").to_owned();
        Client {
            router,
            token,
            file,
        }
    }

    /// Sends a request as the superuser; answers the status and the JSON
    /// body (`Null` when empty).
    pub async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .expect("request");
        send(&self.router, request).await
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.file.display()));
        }
    }
}

async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("read the body")
        .to_bytes();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("a JSON body")
    };
    (status, json)
}
