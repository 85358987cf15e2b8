//! The platform: everything the features stand on. The sandbox
//! ([`runtime`]), the plugin [`registry`], merchants' [`bindings`] with
//! their [`breaker`]s, one decision ([`invoke`]) with the [`slots`]'
//! fallbacks and answer rules, the [`store`] pool and migrations, the
//! shared HTTP parts ([`http`]: auth, errors), the public [`guard`], and
//! the operator's and merchant's platform endpoints.

pub mod bindings;
pub mod breaker;
pub mod fair;
pub mod guard;
pub mod http;
pub mod invoke;
pub mod metrics;
mod operator;
mod policy;
pub mod registry;
pub mod runtime;
pub mod scaffold;
pub mod serve;
pub mod slots;
pub mod store;

pub use operator::{REFERENCE_PUBLISHER, bind_reference_plugins};

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::json;

use crate::AppState;

/// The platform's endpoints: health, metrics, plugins, merchants,
/// bindings, the audit log, and running a policy.
pub fn routes(_state: &AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(json!({"status": "ok"})) }),
        )
        .route("/metrics", get(metrics))
        .route("/v1/plugins", post(operator::publish).get(operator::list))
        .route("/v1/plugins/{name}/{version}", get(operator::show))
        .route("/v1/plugins/{name}/{version}/yank", post(operator::yank))
        .route("/v1/merchants", post(operator::create_merchant))
        .route("/v1/merchants/{merchant}/audit", get(operator::audit))
        .route(
            "/v1/merchants/{merchant}/limits",
            get(operator::limits).put(operator::limits),
        )
        .route("/v1/merchants/{merchant}/slots", get(policy::slots))
        .route("/v1/merchants/{merchant}/slots/{slot}", put(operator::bind))
        .route(
            "/v1/merchants/{merchant}/slots/{slot}/rollback",
            post(operator::rollback),
        )
        .route(
            "/v1/merchants/{merchant}/slots/{slot}/invoke",
            post(policy::invoke),
        )
}

async fn metrics(state: axum::extract::State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
