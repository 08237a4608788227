//! `GET /openapi.json` and the interactive docs page `GET /docs` (Swagger UI).
//!
//! Swagger UI's script and stylesheet are vendored in the repository
//! (`runtime/assets/swagger-ui/`, from the npm package `swagger-ui-dist`),
//! embedded in the binary and served under `/docs/assets/`: the page loads
//! nothing from another origin. Asset URLs carry a fingerprint of their
//! content (`?v=...`), so they are cached for a year and still never stale.

use std::sync::{Arc, LazyLock, OnceLock};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// The vendored Swagger UI version (`swagger-ui-dist` on npm).
pub const SWAGGER_UI_VERSION: &str = "5.35.0";

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// Where the docs page is served.
pub const DOCS_PATH: &str = "/docs";

/// One embedded file served under `/docs/assets/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

static ASSETS: &[Asset] = &[
    Asset {
        name: "swagger-ui-bundle.js",
        content_type: JS,
        bytes: include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js"),
    },
    Asset {
        name: "swagger-ui.css",
        content_type: CSS,
        bytes: include_bytes!("../assets/swagger-ui/swagger-ui.css"),
    },
    Asset {
        name: "swagger-initializer.js",
        content_type: JS,
        bytes: include_bytes!("../assets/swagger-initializer.js"),
    },
    Asset {
        name: "LICENSE",
        content_type: TEXT,
        bytes: include_bytes!("../assets/swagger-ui/LICENSE"),
    },
    Asset {
        name: "NOTICE",
        content_type: TEXT,
        bytes: include_bytes!("../assets/swagger-ui/NOTICE"),
    },
    Asset {
        name: "swagger-ui-bundle.js.LICENSE.txt",
        content_type: TEXT,
        bytes: include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js.LICENSE.txt"),
    },
];

/// FNV-1a, 64 bits: a content fingerprint for cache busting, not security.
fn fingerprint(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The fingerprint of each asset, in [`ASSETS`] order, computed once.
fn fingerprints() -> &'static [String] {
    static FINGERPRINTS: OnceLock<Vec<String>> = OnceLock::new();
    FINGERPRINTS.get_or_init(|| ASSETS.iter().map(|a| fingerprint(a.bytes)).collect())
}

/// The URL of the asset `name`, with its fingerprint.
fn asset_url(name: &str) -> String {
    let index = ASSETS
        .iter()
        .position(|a| a.name == name)
        .expect("a known asset");
    format!("{DOCS_PATH}/assets/{name}?v={}", fingerprints()[index])
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The docs page of an API titled `title`.
fn docs_page(title: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - API docs</title>
<link rel="stylesheet" href="{css}">
</head>
<body>
<noscript>This page needs JavaScript; the API description itself is at <a href="{OPENAPI_PATH}">{OPENAPI_PATH}</a>.</noscript>
<div id="swagger-ui" data-openapi-url="{OPENAPI_PATH}"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"#,
        title = escape_html(title),
        css = asset_url("swagger-ui.css"),
        bundle = asset_url("swagger-ui-bundle.js"),
        init = asset_url("swagger-initializer.js"),
    )
}

/// Only this origin's scripts, styles and data (Swagger UI styles inline
/// and draws icons as `data:` images).
const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                        script-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'self'; base-uri 'self'";

/// The paths and methods [`routes`] routes, for the clash check that runs
/// before any router is built.
pub(crate) const ROUTES: &[(&str, &[&str])] = &[
    (OPENAPI_PATH, &["get"]),
    (DOCS_PATH, &["get"]),
    ("/docs/", &["get"]),
    ("/docs/assets/{file}", &["get"]),
];

/// A value made on its first use, by a closure the router keeps.
type Deferred<T> = Arc<LazyLock<T, Box<dyn FnOnce() -> T + Send>>>;

/// The routes `/openapi.json`, `/docs` and `/docs/assets/{file}`, serving
/// the serialized OpenAPI document `document` makes for an API titled
/// `title`.
///
/// The document and the page are made on their first request, not here:
/// making them runs every model's schema generation and fingerprints the
/// 1.9 MB of Swagger UI, code and data that a server never asked for its
/// docs would otherwise run at startup and keep resident.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(
    document: impl FnOnce() -> Bytes + Send + 'static,
    title: &str,
) -> axum::Router<S> {
    let document: Deferred<Bytes> = Arc::new(LazyLock::new(Box::new(document)));
    let title = title.to_string();
    let page: Deferred<Arc<str>> = Arc::new(LazyLock::new(Box::new(move || {
        Arc::from(docs_page(&title))
    })));
    axum::Router::new()
        .route(
            OPENAPI_PATH,
            get(move || {
                let document = Bytes::clone(&document);
                async move {
                    (
                        [
                            (header::CONTENT_TYPE, "application/json"),
                            (header::CACHE_CONTROL, "no-cache"),
                        ],
                        document,
                    )
                }
            }),
        )
        .route(
            DOCS_PATH,
            get(move || {
                let page = Arc::clone(&page);
                async move {
                    (
                        [
                            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                            (header::CACHE_CONTROL, "no-cache"),
                            (header::CONTENT_SECURITY_POLICY, DOCS_CSP),
                            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                        ],
                        page.to_string(),
                    )
                }
            }),
        )
        .route("/docs/", get(|| async { Redirect::permanent(DOCS_PATH) }))
        .route("/docs/assets/{file}", get(asset))
}

/// `GET /docs/assets/{file}`: an embedded file with its content type, an
/// `ETag`, and a year of caching when asked for by its fingerprinted URL.
async fn asset(
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(index) = ASSETS.iter().position(|a| a.name == file) else {
        return crate::error::ApiError::NotFound.into_response();
    };
    let asset = &ASSETS[index];
    let fingerprint = &fingerprints()[index];
    let etag = format!("\"{fingerprint}\"");
    let versioned = query
        .as_deref()
        .and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "v")
                .map(|(_, v)| v == fingerprint.as_str())
        })
        .unwrap_or(false);
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response_headers = HeaderMap::new();
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, value);
    }
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return (StatusCode::NOT_MODIFIED, response_headers).into_response();
    }
    response_headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    response_headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    (response_headers, Bytes::from_static(asset.bytes)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_its_title_and_links_local_assets() {
        let page = docs_page("<b>&");
        assert!(page.contains("<title>&lt;b&gt;&amp; - API docs</title>"));
        assert!(page.contains("/docs/assets/swagger-ui-bundle.js?v="));
        assert!(!page.contains("http"));
    }

    #[tokio::test]
    async fn the_document_is_made_on_its_first_request_only() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tower::ServiceExt;

        static MADE: AtomicUsize = AtomicUsize::new(0);
        let router: axum::Router = routes(
            || {
                MADE.fetch_add(1, Ordering::SeqCst);
                Bytes::from_static(b"{\"openapi\":\"3.1.0\"}")
            },
            "Shop",
        );
        assert_eq!(MADE.load(Ordering::SeqCst), 0, "made before any request");
        for _ in 0..2 {
            let request = axum::http::Request::get(OPENAPI_PATH)
                .body(axum::body::Body::empty())
                .unwrap();
            let response = router.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let body = axum::body::to_bytes(response.into_body(), 1024)
                .await
                .unwrap();
            assert_eq!(&body[..], b"{\"openapi\":\"3.1.0\"}");
        }
        assert_eq!(MADE.load(Ordering::SeqCst), 1, "made once, then kept");
    }
}
