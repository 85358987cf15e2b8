//! The platform: everything the features stand on. The sandbox
//! ([`runtime`]), the plugin [`registry`], merchants' [`bindings`] with
//! their [`breaker`]s, one decision ([`invoke`]) with the [`slots`]'
//! fallbacks and answer rules, the [`store`] pool and migrations, the
//! shared HTTP parts ([`http`]: auth, errors), the public [`guard`], and
//! the operator's and merchant's platform endpoints. Features plug in
//! through [`feature::Feature`]; nothing here names one.

pub mod audit;
pub mod bindings;
pub mod breaker;
pub mod calls;
pub mod canary;
pub mod codes;
pub mod fair;
pub mod feature;
pub mod guard;
pub mod http;
pub mod invoke;
pub mod keys;
pub mod links;
pub mod metrics;
pub mod openapi;
mod operator;
mod policy;
pub use policy::slot as slot_named;
pub mod registry;
pub mod runtime;
pub mod scaffold;
pub mod serve;
pub mod session;
pub mod shadow;
pub mod signing;
pub mod slots;
pub mod stats;
pub mod store;
pub mod team;
pub mod zone;

pub use operator::{REFERENCE_PUBLISHER, create_bound};

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
    // What each route needs: by class (running policies, managing keys,
    // streaming uploads), then as features declare, else by method.
    let mut needs = keys::Permissions::default();
    let (policies, credentials, team) = (policy_routes(), key_routes(), team_routes());
    needs.class(policies.get_openapi(), keys::Scope::Policies);
    needs.class(credentials.get_openapi(), keys::Scope::Keys);
    needs.class(team.get_openapi(), keys::Scope::Members);
    api = api.merge(policies).merge(credentials).merge(team);
    // The features' API: their changes are audited here (the platform's
    // own routes record theirs, and a decision passes untouched).
    let mut audited = OpenApiRouter::new();
    for f in features {
        audited = audited.merge((f.routes)(state));
        public = public.merge((f.public)(state));
        let s = (f.streaming)(state);
        needs.class(s.get_openapi(), keys::Scope::Import);
        streaming = streaming.merge(s);
        for (method, path, scope) in f.permissions {
            needs.set(method, path, *scope);
        }
    }
    // The same routes give the same table: a second app on this state
    // (tests build several) keeps the first.
    let _ = state.permissions.set(needs);
    let limit = state.request_timeout;
    let api = api.merge(audited.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        audit::record_changes,
    )));
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
        .routes(routes!(policy::stats))
}

/// Binding, configuring, rolling back and running policies: the
/// `policies` scope.
fn policy_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(operator::bind))
        .routes(routes!(operator::rollback))
        .routes(routes!(policy::invoke))
        .routes(routes!(policy::configure))
        .routes(routes!(policy::settings))
        .routes(routes!(operator::register_publisher, operator::publishers))
        .routes(routes!(operator::revoke_publisher))
        .routes(routes!(
            policy::shadow,
            policy::set_shadow,
            policy::end_shadow
        ))
        .routes(routes!(canary::api::get, canary::api::start))
        .routes(routes!(canary::api::advance))
        .routes(routes!(canary::api::rollback))
}

/// A merchant's credentials: its API keys and its link key (the `keys`
/// scope).
fn key_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(keys::list, keys::create))
        .routes(routes!(keys::roll))
        .routes(routes!(keys::revoke))
        .routes(routes!(links::revoke))
}

/// A merchant's team: members and invitations (the `members` scope).
fn team_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(team::list))
        .routes(routes!(team::invite))
        .routes(routes!(team::withdraw))
        .routes(routes!(team::set_role, team::remove))
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

/// This process's name among the replicas of one database (where it
/// writes its shadow findings and canary counts): random, made once.
pub fn replica() -> &'static str {
    static REPLICA: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    REPLICA.get_or_init(|| format!("{:016x}", rand::random::<u64>()))
}
