//! [`serve`]: the HTTP/1.1 server `serve` runs, with the timeouts and
//! limits `axum::serve` does not expose, so a slow or idle client cannot
//! hold a connection open forever (slowloris), and with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tower::ServiceExt;

/// Default [`ServerSettings::header_read_timeout`]: 10 seconds.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ServerSettings::max_header_size`]: 16 KiB.
pub const DEFAULT_MAX_HEADER_SIZE: usize = 16 * 1024;
/// Default [`ServerSettings::request_timeout`]: 30 seconds.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default [`ServerSettings::max_connections`]: 512 (nginx's default
/// `worker_connections`), well under the usual limit of 1024 open files.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// How long [`serve`] lets in-flight requests finish after its shutdown
/// signal before it returns anyway: long-lived answers (the change feed's
/// event streams) never finish by themselves, and their clients reconnect
/// to another instance with their cursor.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Connection limits of [`serve`].
#[derive(Clone, Copy, Debug)]
pub struct ServerSettings {
    /// How long a client has to send a request's complete head (request
    /// line and headers). The clock starts when the server waits for a
    /// request: on a new connection and again after each response on a
    /// keep-alive one, so it is also the idle keep-alive timeout. The
    /// connection is closed when it runs out.
    pub header_read_timeout: Duration,
    /// The largest request head (request line and headers) in bytes;
    /// larger ones get `431 Request Header Fields Too Large` and the
    /// connection is closed.
    pub max_header_size: usize,
    /// Connections served at once. Past it the server stops accepting
    /// until one closes: new clients wait in the kernel's backlog instead
    /// of taking file descriptors and memory, so a flood of connections
    /// (or of long-held ones, such as idle keep-alives or, later, change
    /// streams) cannot exhaust the process. At least 1.
    pub max_connections: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_header_size: DEFAULT_MAX_HEADER_SIZE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Serves `router` on `listener` over HTTP/1.1 until `shutdown` resolves,
/// then stops accepting, lets in-flight requests finish (for at most
/// [`SHUTDOWN_GRACE`]) and returns.
///
/// Each connection gets [`ServerSettings`]' header-read (and idle
/// keep-alive) timeout and header-size limit, and at most
/// [`ServerSettings::max_connections`] are served at once; handlers can
/// read the peer's address with `ConnectInfo<SocketAddr>`.
///
/// ```no_run
/// # async fn run(router: axum::Router) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
/// ferrobridge::serve(listener, router, ferrobridge::ServerSettings::default(), ferrobridge::cli::shutdown_signal()).await
/// # }
/// ```
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    settings: ServerSettings,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .max_header_size(settings.max_header_size);
    let graceful = GracefulShutdown::new();
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(settings.max_connections.max(1)));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A free slot first: while every slot is taken nothing is accepted.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<_>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "connection closed");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::info!("shutdown: closing the connections still open (event streams)");
    }
    Ok(())
}
