//! axum's extractor rejections (`Path`, `Query`, `Json`, `Form`, body
//! limits...) answer plain text with 400, 413, 415 or 422. Generated routes
//! answer FastAPI-shaped JSON instead; this layer gives hand-written routes
//! the same shape, whatever extractor they use:
//!
//! - a path, query, form or JSON that cannot be read: 422
//!   `{"detail": [{"loc": ["path", "pk"], "msg": ..., "type": ...}]}`;
//! - a body of the wrong content type: 415 with the same shape;
//! - a body over the limit: 413 `{"detail": "Request body is too large"}`.
//!
//! Only `text/plain` answers with those statuses are rewritten: every
//! ferrobridge error is JSON already, and HTML pages are left alone.

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::{ApiError, ErrorDetail, ErrorKind, ValidationError};

/// Text answers longer than this are not extractor rejections.
const MAX_REJECTION_TEXT: usize = 4096;

/// The middleware: runs the request, then rewrites a plain-text rejection.
pub async fn json_rejections(request: Request, next: Next) -> Response {
    // Only the route is kept (an `Arc` clone): its parameter names are read
    // when a rejection is rewritten, not on every request.
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    if !is_rejection(&response) {
        return response;
    }
    rewrite(response, matched).await
}

/// The JSON answer for the plain-text rejection `response`.
async fn rewrite(response: Response, matched: Option<MatchedPath>) -> Response {
    let status = response.status();
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_REJECTION_TEXT).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let text = String::from_utf8_lossy(&bytes);
    let path_params = matched
        .map(|matched| path_param_names(matched.as_str()))
        .unwrap_or_default();
    let mut response = rejection_error(status, &text, &path_params).into_response();
    // Headers the handler set on purpose (such as `Allow`) are kept.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}

/// [`json_rejections`] as a tower layer, the way the app's router applies
/// it: the response passes through unboxed, and only a plain-text rejection
/// (the rare case) takes the rewriting path.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonRejectionsLayer;

impl<S> tower::Layer<S> for JsonRejectionsLayer {
    type Service = JsonRejections<S>;

    fn layer(&self, inner: S) -> JsonRejections<S> {
        JsonRejections { inner }
    }
}

/// The service of [`JsonRejectionsLayer`].
#[derive(Clone, Debug)]
pub struct JsonRejections<S> {
    inner: S,
}

impl<S> tower::Service<Request> for JsonRejections<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = JsonRejectionsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let matched = request.extensions().get::<MatchedPath>().cloned();
        JsonRejectionsFuture::Running {
            inner: self.inner.call(request),
            matched,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`JsonRejections`].
    #[project = Projected]
    pub enum JsonRejectionsFuture<F> {
        /// The route answering.
        Running {
            #[pin]
            inner: F,
            matched: Option<MatchedPath>,
        },
        /// A plain-text rejection being rewritten.
        Rewriting {
            rewrite: Pin<Box<dyn Future<Output = Response> + Send>>,
        },
    }
}

impl<F> Future for JsonRejectionsFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project() {
                Projected::Running { inner, matched } => {
                    let Ok(response) = std::task::ready!(inner.poll(cx));
                    if !is_rejection(&response) {
                        return Poll::Ready(Ok(response));
                    }
                    let matched = matched.take();
                    self.set(JsonRejectionsFuture::Rewriting {
                        rewrite: Box::pin(rewrite(response, matched)),
                    });
                }
                Projected::Rewriting { rewrite } => return rewrite.as_mut().poll(cx).map(Ok),
            }
        }
    }
}

/// Whether `response` is an extractor's plain-text rejection.
fn is_rejection(response: &Response) -> bool {
    matches!(
        response.status(),
        StatusCode::BAD_REQUEST
            | StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::UNSUPPORTED_MEDIA_TYPE
            | StatusCode::UNPROCESSABLE_ENTITY
    ) && is_plain_text(response)
}

fn is_plain_text(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"))
}

fn path_param_names(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| name.trim_start_matches('*').to_string())
        .collect()
}

/// The error an axum rejection's `text` stands for.
fn rejection_error(status: StatusCode, text: &str, path_params: &[String]) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge;
    }
    if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        return ApiError::UnsupportedMediaType(ValidationError::single(ErrorDetail::new(
            vec!["header".into(), "content-type".into()],
            ErrorKind::ContentType,
            text.trim(),
        )));
    }
    let (loc, kind) = if let Some(rest) = text.strip_prefix("Invalid URL: ") {
        path_location(rest, path_params)
    } else if text.starts_with("Failed to deserialize query string") {
        (vec!["query".into()], ErrorKind::QueryInvalid)
    } else if text.starts_with("Failed to deserialize form body") {
        (vec!["body".into()], ErrorKind::FormInvalid)
    } else if text.starts_with("Failed to deserialize form") {
        (vec!["query".into()], ErrorKind::QueryInvalid)
    } else if text.starts_with("Failed to parse the request body as JSON") {
        (vec!["body".into()], ErrorKind::JsonInvalid)
    } else if text.starts_with("Failed to deserialize the JSON body") {
        (vec!["body".into()], ErrorKind::JsonType)
    } else {
        (vec!["body".into()], ErrorKind::ValueError)
    };
    ApiError::Validation(ValidationError::single(ErrorDetail::new(
        loc,
        kind,
        text.trim(),
    )))
}

/// Where a path parameter error is: the named parameter, or the only one.
fn path_location(text: &str, path_params: &[String]) -> (Vec<Value>, ErrorKind) {
    let named = text
        .strip_prefix("Cannot parse `")
        .and_then(|rest| rest.split_once("` with value"))
        .map(|(key, _)| key.to_string())
        .or_else(|| {
            // A tuple `Path<(A, B)>` names the index of the parameter.
            let index = text
                .strip_prefix("Cannot parse value at index ")?
                .split_once(' ')?
                .0
                .parse::<usize>()
                .ok()?;
            path_params.get(index).cloned()
        });
    let name = named.or_else(|| match path_params {
        [only] => Some(only.clone()),
        _ => None,
    });
    let kind = match text
        .rsplit_once("to a `")
        .map(|(_, ty)| ty.trim_end_matches('`'))
    {
        Some(
            "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
            | "usize",
        ) => ErrorKind::IntParsing,
        Some("f32" | "f64") => ErrorKind::FloatParsing,
        Some("bool") => ErrorKind::BoolParsing,
        _ => ErrorKind::ValueError,
    };
    let mut loc = vec![Value::from("path")];
    loc.extend(name.map(Value::from));
    (loc, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_errors_name_the_parameter_and_the_type() {
        let (loc, kind) = path_location(
            "Cannot parse `pk` with value `abc` to a `i64`",
            &["pk".into()],
        );
        assert_eq!(
            (loc, kind),
            (vec!["path".into(), "pk".into()], ErrorKind::IntParsing)
        );
        let (loc, kind) = path_location("Cannot parse `abc` to a `u32`", &["id".into()]);
        assert_eq!(
            (loc, kind),
            (vec!["path".into(), "id".into()], ErrorKind::IntParsing)
        );
        let (loc, kind) = path_location(
            "Cannot parse value at index 1 with value `x` to a `f64`",
            &["a".into(), "b".into()],
        );
        assert_eq!(
            (loc, kind),
            (vec!["path".into(), "b".into()], ErrorKind::FloatParsing)
        );
        let (loc, kind) = path_location("Cannot parse `x` to a `bool`", &[]);
        assert_eq!(
            (loc, kind),
            (vec![Value::from("path")], ErrorKind::BoolParsing)
        );
    }
}
