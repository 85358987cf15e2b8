//! The platform: everything the features stand on. The sandbox
//! ([`runtime`]), the plugin [`registry`], merchants' [`bindings`] with
//! their [`breaker`]s, one decision ([`invoke`]) with the [`slots`]'
//! fallbacks and answer rules, the [`store`] pool and migrations, the
//! shared HTTP parts ([`http`]: auth, errors), the public [`guard`], and
//! the operator's and merchant's platform endpoints. Features plug in
//! through [`feature::Feature`]; nothing here names one.

pub mod bindings;
pub mod breaker;
pub mod codes;
pub mod fair;
pub mod feature;
pub mod guard;
pub mod http;
pub mod invoke;
pub mod links;
pub mod metrics;
pub mod openapi;
mod operator;
mod policy;
pub mod registry;
pub mod runtime;
pub mod scaffold;
pub mod serve;
pub mod session;
pub mod slots;
pub mod stats;
pub mod store;

pub use operator::{REFERENCE_PUBLISHER, bind_reference_plugins};

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// Every endpoint: the platform's own and each feature's, with their
/// timeouts (streaming uploads: an idle one), and the public endpoints
/// behind the public guard.
pub fn routes(state: &AppState, features: &[&feature::Feature]) -> OpenApiRouter<AppState> {
    let mut api = own_routes();
    let mut public = OpenApiRouter::new();
    let mut streaming = OpenApiRouter::new();
    for f in features {
        api = api.merge((f.routes)(state));
        public = public.merge((f.public)(state));
        streaming = streaming.merge((f.streaming)(state));
    }
    let limit = state.request_timeout;
    // A visitor's JSON body is small: the public routes' limit.
    let public = public.route_layer(axum::Extension(http::BodyLimit(guard::MAX_PUBLIC_BODY)));
    serve::request_timeout(api, limit)
        .merge(serve::request_timeout(guard::public(state, public), limit))
        .merge(serve::idle_timeout(streaming, limit))
}

/// The platform's endpoints: health, metrics, plugins, merchants,
/// bindings, the audit log, and running a policy.
fn own_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(metrics))
        .routes(routes!(operator::publish, operator::list))
        .routes(routes!(operator::show))
        .routes(routes!(operator::yank))
        .routes(routes!(operator::create_merchant))
        .routes(routes!(operator::audit))
        .routes(routes!(operator::limits, operator::set_limits))
        .routes(routes!(policy::slots))
        .routes(routes!(operator::bind))
        .routes(routes!(operator::rollback))
        .routes(routes!(policy::invoke))
        .routes(routes!(policy::configure))
        .routes(routes!(policy::stats))
        .routes(routes!(links::revoke))
}

/// The answer of `/healthz`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

/// `GET /healthz`: the host is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Up", body = Health)))]
pub async fn healthz() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}

/// `GET /metrics`: Prometheus metrics (OpenMetrics text).
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Metrics", body = String, content_type = "application/openmetrics-text")))]
pub async fn metrics(state: axum::extract::State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
