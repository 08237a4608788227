//! The app over a real TCP socket, as curl would see it.

use ferrobridge_tests::{TestDb, db_tests};
use serde_json::{Value, json};

db_tests!(crud_round_trip_over_tcp);

async fn crud_round_trip_over_tcp(db: &TestDb) {
    let router = ferrobridge_tests::blog_router(db).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    let client = reqwest::Client::new();
    let created = client
        .post(format!("{base}/api/authors"))
        .json(&json!({ "name": "Ann" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let author: Value = created.json().await.unwrap();
    assert_eq!(location, format!("/api/authors/{}", author["id"]));

    let post: Value = client
        .post(format!("{base}/api/posts"))
        .json(&json!({ "title": "Over the wire", "body": "...", "author_id": author["id"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let uri = format!("{base}/api/posts/{}", post["id"]);
    let patched = client
        .patch(&uri)
        .json(&json!({ "published": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let list: Value = client
        .get(format!("{base}/api/posts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["published"], json!(true));
    assert_eq!(client.delete(&uri).send().await.unwrap().status(), 204);
    assert_eq!(client.get(&uri).send().await.unwrap().status(), 404);
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
