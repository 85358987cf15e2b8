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
//! - **Request timeout**: a request (reading its body and answering it)
//!   that takes longer gets `408` and its connection is closed.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::http::ApiError;

/// Connection limits of the server.
#[derive(Clone, Copy, Debug)]
pub struct ConnLimits {
    /// Most connections served at once.
    pub max_connections: usize,
    /// Time to send a request's headers (and keep-alive idle time).
    pub header_timeout: Duration,
    /// Time to send a request's body and get the answer; `None`: no limit.
    pub request_timeout: Option<Duration>,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_connections: 4096,
            header_timeout: Duration::from_secs(10),
            request_timeout: Some(Duration::from_secs(60)),
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
            // An import streams a file for as long as it takes; it is
            // authenticated, and an idle connection still times out.
            let limit = limits
                .request_timeout
                .filter(|_| !req.uri().path().contains("/import/"));
            async move {
                let answer = app.oneshot(req);
                let res = match limit {
                    None => answer.await,
                    Some(limit) => match tokio::time::timeout(limit, answer).await {
                        Ok(res) => res,
                        Err(_) => Ok(timed_out(limit)),
                    },
                };
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

/// The answer to a request that ran past the request timeout; the
/// connection is closed after it.
fn timed_out(limit: Duration) -> axum::response::Response {
    let mut res = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        format!(
            "the request took longer than {} s to send and answer",
            limit.as_secs()
        ),
    )
    .into_response();
    res.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    res
}
