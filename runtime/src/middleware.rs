//! The two layers every route of an app goes through, each one tower
//! service with one future:
//!
//! - [`RequestLayer`], outermost: the request's trace span and log lines
//!   (tower-http's [`TraceLayer`](tower_http::trace::TraceLayer) defaults),
//!   the security headers every response gets unless its handler set them,
//!   and the secret key in the request's extensions;
//! - [`RouteLayer`], around the routes: the allowed hosts, the request
//!   timeout, the JSON body bounds ([`JsonDepth`] and axum's
//!   [`DefaultBodyLimit`]) and the rewriting of axum's plain-text
//!   rejections ([`JsonRejections`]).
//!
//! The app's router applies both (and CORS between them, when configured)
//! in one `Router::layer` call. Why two services and not a stack of small
//! layers: axum boxes every route once per `Router::layer` call and clones
//! the box on every request, each layer's future moves the response once
//! more, and each header layer hashed its name twice. Replacing the ten
//! layers (trace, three response headers, the key, the timeout, the depth,
//! the body limit, the rejections, the host check) with these two took the
//! 24-row list from 109.0k to 105.8k instructions per request.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::Entry;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::Layer;
use tower_http::classify::{ClassifiedResponse, ClassifyResponse, ServerErrorsAsFailures};
use tower_http::trace::{
    DefaultMakeSpan, DefaultOnFailure, DefaultOnRequest, DefaultOnResponse, MakeSpan, OnFailure,
    OnRequest, OnResponse,
};
use tracing::{Level, Span};

use crate::rejection::{JsonRejections, JsonRejectionsFuture, JsonRejectionsLayer};
use crate::schema::JsonDepth;
use crate::security::SecretKey;

/// The outer layer: trace, security headers, secret key.
#[derive(Clone)]
pub(crate) struct RequestLayer {
    settings: Arc<RequestSettings>,
}

struct RequestSettings {
    key: SecretKey,
    /// Set on every response that does not carry them already.
    headers: Vec<(HeaderName, HeaderValue)>,
    make_span: DefaultMakeSpan,
    on_request: DefaultOnRequest,
    on_response: DefaultOnResponse,
    on_failure: DefaultOnFailure,
}

impl RequestLayer {
    /// A span per request at INFO (method, URI, version), "started
    /// processing request" at DEBUG, "finished processing request" at INFO
    /// and a server error at ERROR, as the app's router has always logged
    /// them; `headers` on every response that lacks them; `key` in every
    /// request's extensions.
    pub(crate) fn new(key: SecretKey, headers: Vec<(HeaderName, HeaderValue)>) -> Self {
        RequestLayer {
            settings: Arc::new(RequestSettings {
                key,
                headers,
                make_span: DefaultMakeSpan::new().level(Level::INFO),
                on_request: DefaultOnRequest::new().level(Level::DEBUG),
                on_response: DefaultOnResponse::new().level(Level::INFO),
                on_failure: DefaultOnFailure::new(),
            }),
        }
    }
}

impl<S> Layer<S> for RequestLayer {
    type Service = RequestService<S>;

    fn layer(&self, inner: S) -> RequestService<S> {
        RequestService {
            inner,
            settings: self.settings.clone(),
        }
    }
}

/// The service of [`RequestLayer`].
#[derive(Clone)]
pub(crate) struct RequestService<S> {
    inner: S,
    settings: Arc<RequestSettings>,
}

impl<S> tower::Service<Request> for RequestService<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = RequestFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let start = Instant::now();
        let settings = &self.settings;
        let span = settings.make_span.clone().make_span(&request);
        request.extensions_mut().insert(settings.key.clone());
        let inner = {
            let _entered = span.enter();
            settings.on_request.clone().on_request(&request, &span);
            self.inner.call(request)
        };
        RequestFuture {
            inner,
            span,
            start,
            settings: settings.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`RequestService`].
    pub(crate) struct RequestFuture<F> {
        #[pin]
        inner: F,
        span: Span,
        start: Instant,
        settings: Arc<RequestSettings>,
    }
}

impl<F> Future for RequestFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let Ok(mut response) = ready!(this.inner.poll(cx));
        let headers = response.headers_mut();
        for (name, value) in &this.settings.headers {
            if let Entry::Vacant(slot) = headers.entry(name) {
                slot.insert(value.clone());
            }
        }
        // As tower-http's `Trace` reports a response: its line first, then
        // a failure for a server error. A body that fails while it streams
        // (an event stream cut off) is not reported here.
        let latency = this.start.elapsed();
        let settings = &**this.settings;
        settings
            .on_response
            .clone()
            .on_response(&response, latency, this.span);
        if let ClassifiedResponse::Ready(Err(failure)) =
            ServerErrorsAsFailures::new().classify_response(&response)
        {
            settings
                .on_failure
                .clone()
                .on_failure(failure, latency, this.span);
        }
        Poll::Ready(Ok(response))
    }
}

/// The layer around the routes: host check, timeout, JSON body bounds,
/// rejections.
#[derive(Clone, Debug)]
pub(crate) struct RouteLayer {
    /// The host names answered, lowercase; `None`: any.
    pub hosts: Option<Arc<[String]>>,
    /// How long a request may take before it is answered `503`; `None`:
    /// as long as it likes (the change feed's routes).
    pub timeout: Option<Duration>,
    /// How deeply a JSON body may nest.
    pub depth: JsonDepth,
    /// The largest body axum's extractors read.
    pub body_limit: usize,
}

impl<S> Layer<S> for RouteLayer {
    type Service = RouteService<<DefaultBodyLimit as Layer<S>>::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        RouteService {
            inner: JsonRejectionsLayer.layer(DefaultBodyLimit::max(self.body_limit).layer(inner)),
            hosts: self.hosts.clone(),
            timeout: self.timeout,
            // The body reader takes the default depth when none is set:
            // a request's extensions stay within the three slots their map
            // holds before it grows (the matched path, the key, the body
            // limit), on every list.
            depth: (self.depth != JsonDepth::default()).then_some(self.depth),
        }
    }
}

/// The service of [`RouteLayer`].
#[derive(Clone, Debug)]
pub(crate) struct RouteService<S> {
    inner: JsonRejections<S>,
    hosts: Option<Arc<[String]>>,
    timeout: Option<Duration>,
    /// `None`: the default, which the body reader takes without it.
    depth: Option<JsonDepth>,
}

impl<S> tower::Service<Request> for RouteService<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = RouteFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        if let Some(hosts) = &self.hosts
            && let Some(refusal) = crate::security::host_refusal(hosts, &request)
        {
            return RouteFuture::Answered {
                response: Some(refusal),
            };
        }
        let timer = self.timeout.map(|timeout| Timer {
            deadline: Instant::now().checked_add(timeout),
            timeout,
            sleep: None,
        });
        if let Some(depth) = self.depth {
            request.extensions_mut().insert(depth);
        }
        RouteFuture::Running {
            inner: self.inner.call(request),
            timer,
        }
    }
}

/// A request's timeout. The clock is read when the request comes in, but
/// a timer is only set if the route's future waits: most answers (every
/// read of an in-thread SQLite database) are ready on the first poll and
/// never touch tokio's timer.
struct Timer {
    /// `None`: later than the clock can say, so never.
    deadline: Option<Instant>,
    timeout: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

pin_project_lite::pin_project! {
    /// The future of [`RouteService`].
    #[project = Projected]
    pub(crate) enum RouteFuture<F> {
        /// The route answering, under the timeout.
        Running {
            #[pin]
            inner: JsonRejectionsFuture<F>,
            timer: Option<Timer>,
        },
        /// Answered before the route ran (a refused host).
        Answered { response: Option<Response> },
    }
}

impl<F> Future for RouteFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (inner, timer) = match self.project() {
            Projected::Running { inner, timer } => (inner, timer),
            Projected::Answered { response } => {
                return Poll::Ready(Ok(response.take().expect("polled after it answered")));
            }
        };
        if let Poll::Ready(answer) = inner.poll(cx) {
            return Poll::Ready(answer);
        }
        let Some(timer) = timer else {
            return Poll::Pending;
        };
        let Some(deadline) = timer.deadline else {
            return Poll::Pending;
        };
        let sleep = timer.sleep.get_or_insert_with(|| {
            Box::pin(tokio::time::sleep_until(tokio::time::Instant::from_std(
                deadline,
            )))
        });
        ready!(sleep.as_mut().poll(cx));
        Poll::Ready(Ok(timed_out(timer.timeout)))
    }
}

/// The `503` of a request stopped after `timeout` (its handler is
/// dropped). 503, not 408: 408 says the *client* was too slow to send its
/// request, which the header-read timeout handles by closing the
/// connection; here the server could not answer in time.
fn timed_out(timeout: Duration) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(serde_json::json!({
            "detail": format!(
                "The request took longer than {} s and was stopped",
                timeout.as_secs_f64()
            )
        })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::header;
    use tower::{Service, ServiceExt};

    fn request(host: &str) -> Request {
        Request::builder()
            .uri("/x")
            .header(header::HOST, host)
            .body(Body::empty())
            .expect("request")
    }

    fn route(timeout: Option<Duration>, hosts: Option<&[&str]>) -> RouteLayer {
        RouteLayer {
            hosts: hosts.map(|h| h.iter().map(|h| h.to_string()).collect()),
            timeout,
            depth: JsonDepth::default(),
            body_limit: 1024,
        }
    }

    /// The headers go on every response that lacks them, a handler's own
    /// value is kept, and the key is in the request's extensions.
    #[tokio::test]
    async fn responses_get_the_headers_they_lack_and_requests_the_key() {
        let layer = RequestLayer::new(
            SecretKey::new("k"),
            vec![
                (
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
        );
        let mut service = layer.layer(tower::service_fn(|request: Request| async move {
            assert!(request.extensions().get::<SecretKey>().is_some());
            let mut response = Response::new(Body::empty());
            response.headers_mut().insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            Ok::<_, Infallible>(response)
        }));
        let response = service
            .ready()
            .await
            .expect("ready")
            .call(request("a"))
            .await
            .expect("answer");
        assert_eq!(response.headers()[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(
            response.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
    }

    /// A route that waits past the timeout is answered 503; one that
    /// answers at once never sets a timer; a host not allowed is refused
    /// before the route runs.
    #[tokio::test]
    async fn the_timeout_stops_waiting_routes_and_hosts_are_checked_first() {
        let slow = tower::service_fn(|_: Request| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<_, Infallible>(Response::new(Body::empty()))
        });
        let mut service = route(Some(Duration::from_millis(20)), None).layer(slow);
        let response = service.call(request("a")).await.expect("answer");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);

        let quick = tower::service_fn(|_: Request| async {
            Ok::<_, Infallible>(Response::new(Body::empty()))
        });
        let mut service = route(Some(Duration::from_millis(20)), None).layer(quick);
        let mut future = std::pin::pin!(service.call(request("a")));
        let waker = std::task::Waker::noop();
        let answer = future.as_mut().poll(&mut Context::from_waker(waker));
        assert!(matches!(answer, Poll::Ready(Ok(ref r)) if r.status() == StatusCode::OK));
        let RouteFuture::Running { timer, .. } = &*future else {
            panic!("the route ran");
        };
        assert!(
            timer.as_ref().is_some_and(|t| t.sleep.is_none()),
            "no timer was set"
        );

        let mut service = route(None, Some(&["example.com"])).layer(quick);
        let refused = service.call(request("evil.test")).await.expect("answer");
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        let served = service.call(request("example.com")).await.expect("answer");
        assert_eq!(served.status(), StatusCode::OK);
    }
}
