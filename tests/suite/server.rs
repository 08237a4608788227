//! `ferrobridge::serve` on a real TCP socket: slow and idle clients are
//! disconnected (slowloris), oversized heads refused, slow handlers cut
//! off with a 503, connections past the limit wait to be accepted, and
//! shutdown lets in-flight requests finish.

use std::time::Duration;

use axum::routing::get;
use ferrobridge::ServerSettings;
use ferrobridge_tests::{TestDb, authed_router, blog_router, db_tests};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

db_tests!(
    dribbling_client_is_disconnected,
    idle_keep_alive_connection_is_closed,
    oversized_header_is_refused,
    slow_handler_hits_the_request_timeout,
    shutdown_finishes_in_flight_requests,
    handlers_see_the_peer_address,
    connections_past_the_limit_wait_for_a_free_slot,
);

/// Short timeouts so the tests are quick; the loops below give clients
/// many times longer than that before calling the server wrong.
fn short() -> ServerSettings {
    ServerSettings {
        header_read_timeout: Duration::from_millis(300),
        ..ServerSettings::default()
    }
}

struct Running {
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(router: axum::Router, settings: ServerSettings) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ferrobridge::serve(listener, router, settings, async {
        let _ = stopped.await;
    }));
    Running { addr, stop, server }
}

impl Running {
    async fn finish(self) {
        self.stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(30), self.server)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
    }
}

/// Whether the peer has closed: a read returns end of file (or a reset).
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

async fn dribbling_client_is_disconnected(db: &TestDb) {
    let running = start(blog_router(db).await, short()).await;
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // One header line every 100 ms, for up to 20 s: each write keeps the
    // connection busy, but the head never completes.
    let mut closed = false;
    for n in 0..200 {
        if stream
            .write_all(format!("X-Dribble-{n}: y\r\n").as_bytes())
            .await
            .is_err()
        {
            closed = true;
            break;
        }
        if closed_within(&mut stream, Duration::from_millis(100)).await {
            closed = true;
            break;
        }
    }
    assert!(closed, "a client dribbling its headers kept the connection");
    running.finish().await;
}

async fn idle_keep_alive_connection_is_closed(db: &TestDb) {
    let running = start(blog_router(db).await, short()).await;
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    // Kept alive, then idle: closed after the timeout, well within 20 s.
    assert!(
        closed_within(&mut stream, Duration::from_secs(20)).await,
        "an idle keep-alive connection stayed open"
    );
    // A connection that sends nothing at all is closed too.
    let mut silent = TcpStream::connect(running.addr).await.unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(20)).await);
    running.finish().await;
}

async fn oversized_header_is_refused(db: &TestDb) {
    let settings = ServerSettings {
        max_header_size: 8192,
        ..ServerSettings::default()
    };
    let running = start(blog_router(db).await, settings).await;
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    let big = "a".repeat(20_000);
    let request = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n");
    let _ = stream.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "oversized head answered {answer:?}"
    );
    // A head under the limit is served.
    let client = reqwest::Client::new();
    let ok = client
        .get(format!("http://{}/healthz", running.addr))
        .header("x-small", "a".repeat(4000))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    running.finish().await;
}

async fn slow_handler_hits_the_request_timeout(db: &TestDb) {
    let app = blog::app()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(600)).await;
                "done"
            }),
        )
        .request_timeout(Some(Duration::from_millis(200)));
    let running = start(authed_router(&app, &db.db).await, short()).await;
    let client = reqwest::Client::new();
    let answer = tokio::time::timeout(
        Duration::from_secs(20),
        client.get(format!("http://{}/slow", running.addr)).send(),
    )
    .await
    .expect("the request timeout answers long before 20 s")
    .unwrap();
    assert_eq!(answer.status(), 503);
    assert_eq!(
        answer.headers()["x-content-type-options"],
        "nosniff",
        "the timeout answer passes through the security headers"
    );
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({ "detail": "The request took longer than 0.2 s and was stopped" })
    );
    // Fast requests are untouched.
    let fast = client
        .get(format!("http://{}/api/posts", running.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(fast.status(), 200);
    running.finish().await;
}

async fn shutdown_finishes_in_flight_requests(db: &TestDb) {
    let (entered, mut started) = tokio::sync::mpsc::channel::<()>(1);
    let app = blog::app().route(
        "/work",
        get(move || {
            let entered = entered.clone();
            async move {
                entered.send(()).await.unwrap();
                tokio::time::sleep(Duration::from_millis(300)).await;
                "finished"
            }
        }),
    );
    let running = start(authed_router(&app, &db.db).await, ServerSettings::default()).await;
    let url = format!("http://{}/work", running.addr);
    let request = tokio::spawn(async move { reqwest::get(url).await.unwrap().text().await });
    started.recv().await.unwrap();
    running.finish().await;
    assert_eq!(request.await.unwrap().unwrap(), "finished");
}

async fn handlers_see_the_peer_address(db: &TestDb) {
    // The token endpoint's per-address throttle reads it.
    let app =
        blog::app().route(
            "/peer",
            get(
                |axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<
                    std::net::SocketAddr,
                >| async move { peer.ip().to_string() },
            ),
        );
    let running = start(authed_router(&app, &db.db).await, ServerSettings::default()).await;
    let answer = reqwest::get(format!("http://{}/peer", running.addr))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "127.0.0.1");
    running.finish().await;
}

async fn connections_past_the_limit_wait_for_a_free_slot(db: &TestDb) {
    let settings = ServerSettings {
        max_connections: 1,
        ..ServerSettings::default()
    };
    let running = start(blog_router(db).await, settings).await;
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut buf = [0u8; 4096];
    // The first connection takes the only slot and stays open (keep-alive).
    let mut first = TcpStream::connect(running.addr).await.unwrap();
    first.write_all(request).await.unwrap();
    let n = first.read(&mut buf).await.unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // A second one waits in the backlog: its request is not answered...
    let mut second = TcpStream::connect(running.addr).await.unwrap();
    second.write_all(request).await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), second.read(&mut buf))
            .await
            .is_err(),
        "a connection past the limit was served"
    );
    // ...until the first closes and frees the slot.
    drop(first);
    let n = tokio::time::timeout(Duration::from_secs(20), second.read(&mut buf))
        .await
        .expect("served once a slot is free")
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    drop(second);
    running.finish().await;
}
