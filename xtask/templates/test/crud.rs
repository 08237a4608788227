//! Create, read, list, update and delete `{{model}}` through `{{uri}}`, on a
//! fresh SQLite database. Written by `cargo xtask scaffold model`: extend it.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn {{test}}() {
    let client = common::Client::new().await;
{{parents}}
    let body = json!({{body}});
    let (status, created) = client.call(Method::POST, "{{uri}}", Some(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "create: {created}");
{{compare}}
    let pk = created["{{pk}}"].to_string();
    let detail = format!("{{uri}}/{}", pk.trim_matches('"'));

    let (status, fetched) = client.call(Method::GET, &detail, None).await;
    assert_eq!(status, StatusCode::OK, "retrieve: {fetched}");
    assert_eq!(fetched, created);

    let (status, list) = client.call(Method::GET, "{{uri}}", None).await;
    assert_eq!(status, StatusCode::OK, "list: {list}");
    assert_eq!(list["items"], json!([created]));
{{patch}}
    let (status, reply) = client.call(Method::DELETE, &detail, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "delete: {reply}");
    let (status, _) = client.call(Method::GET, &detail, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
