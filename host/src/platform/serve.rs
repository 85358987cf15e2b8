//! The HTTP server loop: HTTP/1.1 connections with a ceiling on how many
//! are open at once and timeouts that cut off slow or idle clients, so no
//! client can hold every connection (and with it every storefront).
//!
//! - **Connection ceiling**: at most `max_connections` are served at
//!   once; further clients wait in the kernel's accept queue until one
//!   closes.
//! - **Header timeout**: a client has this long to send a request's
//!   headers, counted from when the connection is ready for the next
//!   request, so it is also the keep-alive idle timeout.
//! - **Request timeout** (on the router, [`request_timeout`]): a request
//!   (reading its body and answering it) that takes longer gets `408` and
//!   its connection is closed. Routes a feature declares as streaming get
//!   an idle timeout instead ([`idle_timeout`]): they may take as long as
//!   they need, but not go that long without a byte.

use crate::platform::http::Code;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use utoipa_axum::router::OpenApiRouter;

use super::http::ApiError;

/// Connection limits of the server.
#[derive(Clone, Copy, Debug)]
pub struct ConnLimits {
    /// Most connections served at once.
    pub max_connections: usize,
    /// Time to send a request's headers (and keep-alive idle time).
    pub header_timeout: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_connections: 4096,
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// Serve `app` on `listener` until `shutdown` resolves, then let the
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    open_connections: prometheus_client::metrics::gauge::Gauge,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        // Take a slot before accepting: at the ceiling, new clients wait
        // in the accept queue instead of costing memory here.
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("never closed"),
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers are small and latency matters: no Nagle delay.
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let app = app.clone();
            async move {
                let res = app.oneshot(req).await;
                Ok::<_, std::convert::Infallible>(res.unwrap_or_else(|e| match e {}))
            }
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(tcp), service));
        let open = open_connections.clone();
        open.inc();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            open.dec();
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The default request timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// `routes` with a request timeout of `limit` (none: no limit).
pub fn request_timeout<S: Clone + Send + Sync + 'static>(
    routes: OpenApiRouter<S>,
    limit: Option<Duration>,
) -> OpenApiRouter<S> {
    match limit {
        None => routes,
        Some(limit) => routes.route_layer(axum::middleware::from_fn_with_state(limit, deadline)),
    }
}

async fn deadline(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => timed_out(limit),
    }
}

/// `routes` (uploads that stream for as long as they take) with an idle
/// timeout: a body that sends no byte for `limit` ends with `408`.
pub fn idle_timeout<S: Clone + Send + Sync + 'static>(
    routes: OpenApiRouter<S>,
    limit: Option<Duration>,
) -> OpenApiRouter<S> {
    match limit {
        None => routes,
        Some(limit) => routes.route_layer(axum::middleware::from_fn_with_state(limit, idle)),
    }
}

async fn idle(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    use futures_util::StreamExt;
    let stalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let flag = stalled.clone();
    let chunks = futures_util::stream::unfold(Some(body.into_data_stream()), move |chunks| {
        let flag = flag.clone();
        async move {
            let mut chunks = chunks?;
            match tokio::time::timeout(limit, chunks.next()).await {
                Ok(Some(chunk)) => Some((chunk, Some(chunks))),
                Ok(None) => None,
                Err(_) => {
                    flag.store(true, std::sync::atomic::Ordering::Relaxed);
                    Some((Err(axum::Error::new("no bytes for too long")), None))
                }
            }
        }
    });
    let res = next
        .run(Request::from_parts(
            parts,
            axum::body::Body::from_stream(chunks),
        ))
        .await;
    if stalled.load(std::sync::atomic::Ordering::Relaxed) {
        let mut res = ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            Code::RequestTimeout,
            format!("the upload sent nothing for {} s", limit.as_secs()),
        )
        .into_response();
        close(&mut res);
        return res;
    }
    res
}

fn close(res: &mut Response) {
    res.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
}

/// The answer to a request that ran past the request timeout; the
/// connection is closed after it.
fn timed_out(limit: Duration) -> axum::response::Response {
    let mut res = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        Code::RequestTimeout,
        format!(
            "the request took longer than {} s to send and answer",
            limit.as_secs()
        ),
    )
    .into_response();
    close(&mut res);
    res
}
