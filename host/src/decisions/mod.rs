//! The decision log: a sample of each merchant's plugin calls (every
//! failure, fallback and refusal, and a share of the rest), each with what
//! it takes to replay it bit for bit; kept for a number of days and up to
//! a number of rows per merchant, and erased with the customer it was
//! about. A published version can replay logged decisions on the host
//! (a diff summary); `cove plugin replay` does it against a local build.
//!
//! The platform only queues sampled calls ([`crate::platform::calls`]);
//! this feature writes them, serves them and prunes them.

pub mod native;
pub mod replay;
pub mod store;

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::platform::feature::{Claim, ConsolePage, Erase, Feature, Migration, Privacy};
use crate::platform::http::{ApiError, Code, ForMerchant, JsonBody};
use crate::platform::slots::Slot;
use store::{DecisionsDb, Filter, LogSettings};

/// Write what the calls queued (the task does it every second; a read of
/// the log does it first, so a replica reads its own latest decisions).
pub async fn flush(state: &AppState) -> Result<(), crate::platform::store::StoreError> {
    let records = state.calls.drain();
    DecisionsDb(&state.store).insert(&records).await
}

/// Write the queue every second, prune and reload the sample rates every
/// minute.
fn spawn(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            if let Err(e) = flush(&state).await {
                tracing::warn!(error = %e, "could not write the decision log; its sample is lost");
            }
            if n.is_multiple_of(60) {
                reload_rates(&state).await;
                if let Err(e) = DecisionsDb(&state.store).prune(crate::now_ms()).await {
                    tracing::warn!(error = %e, "could not prune the decision log");
                }
            }
            n += 1;
        }
    });
}

async fn reload_rates(state: &AppState) {
    if let Ok(all) = DecisionsDb(&state.store).all_settings().await {
        state
            .calls
            .set_rates(all.into_iter().map(|(m, s)| (m, s.sample_rate)).collect());
    }
}

fn routes(_: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(settings, set_settings))
        .routes(routes!(run_replay))
        .routes(routes!(one))
}

/// The decision log, as registered with the platform.
pub const FEATURE: Feature = Feature {
    name: "decisions",
    routes,
    migrations: &[Migration::new(
        24,
        "decision log",
        include_str!("migrations/0024_decisions.sql"),
    )],
    privacy: Some(Privacy {
        tables: &[Claim {
            table: "decision_log",
            column: "customer",
            erase: Erase::Delete,
        }],
        export: None,
        erase: None,
    }),
    tasks: Some(spawn),
    console: &[ConsolePage::new("decisions.js", include_str!("console.js"))],
    permissions: &[
        (
            "PUT",
            "/v1/merchants/{merchant}/decisions/settings",
            crate::platform::keys::Scope::Policies,
        ),
        (
            "POST",
            "/v1/merchants/{merchant}/decisions/replay",
            crate::platform::keys::Scope::Read,
        ),
    ],
    ..Feature::EMPTY
};

/// The decision log and the merchant's choices for it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DecisionLog {
    /// The choices in force.
    pub settings: LogSettings,
    /// Decisions, newest first: id, slot, time, seed, plugin version,
    /// contract, outcome, what the call used, the customer, the answer
    /// (and with `full`, the input, config and logs).
    #[schema(value_type = Vec<Object>)]
    pub decisions: Vec<serde_json::Value>,
}

/// `GET /v1/merchants/{m}/decisions`: logged decisions, filtered.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/decisions", tag = "policies", params(("merchant" = String, Path, description = "Merchant id"), Filter), responses((status = 200, description = "Decisions, newest first", body = DecisionLog)))]
pub async fn list(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    q: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(f) = q.map_err(|e| ApiError::bad_request(Code::InvalidQuery, e.body_text()))?;
    if let Some(s) = &f.slot {
        crate::platform::slot_named(s)?;
    }
    flush(&state).await?;
    let db = DecisionsDb(&state.store);
    Ok(axum::Json(DecisionLog {
        settings: db.settings(&merchant).await?,
        decisions: db.list(&merchant, &f).await?,
    })
    .into_response())
}

/// `GET /v1/merchants/{m}/decisions/{id}`: one decision, in full.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/decisions/{id}", tag = "policies", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Decision id")), responses((status = 200, description = "The decision with its input, config and logs", body = Object), (status = 404, description = "No such decision (or pruned)")))]
pub async fn one(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    flush(&state).await?;
    match DecisionsDb(&state.store).one(&merchant, &id).await? {
        Some(d) => Ok(axum::Json(d).into_response()),
        None => Err(ApiError::not_found(format!(
            "no decision `{id}` (decisions are kept for the log's retention, then deleted)"
        ))),
    }
}

/// `GET /v1/merchants/{m}/decisions/settings`.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/decisions/settings", tag = "policies", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "The choices in force", body = LogSettings)))]
pub async fn settings(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
) -> Result<Response, ApiError> {
    Ok(axum::Json(DecisionsDb(&state.store).settings(&merchant).await?).into_response())
}

/// `PUT /v1/merchants/{m}/decisions/settings`: the share of calls kept,
/// for how long, and how many at most.
#[utoipa::path(put, path = "/v1/merchants/{merchant}/decisions/settings", tag = "policies", params(("merchant" = String, Path, description = "Merchant id")), request_body = LogSettings, responses((status = 200, description = "The choices in force", body = LogSettings), (status = 422, description = "A value out of its bounds, named")))]
pub async fn set_settings(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    JsonBody(s): JsonBody<LogSettings>,
) -> Result<Response, ApiError> {
    let bad = |field: &str, why: &str| {
        ApiError::unprocessable(Code::InvalidSettings, format!("{field}: {why}")).with_field(field)
    };
    if !(0.0..=1.0).contains(&s.sample_rate) {
        return Err(bad(
            "sample_rate",
            "a share from 0 to 1 (0.01 keeps 1% of successful calls)",
        ));
    }
    if !(1..=90).contains(&s.retention_days) {
        return Err(bad("retention_days", "from 1 to 90 days"));
    }
    if !(100..=100_000).contains(&s.max_rows) {
        return Err(bad("max_rows", "from 100 to 100,000 decisions"));
    }
    DecisionsDb(&state.store)
        .set_settings(&merchant, &s)
        .await?;
    reload_rates(&state).await;
    Ok(axum::Json(s).into_response())
}

/// What to replay, and against which version.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct ReplayIn {
    /// The slot.
    pub slot: String,
    /// `name@version` of a published plugin of that slot (default: the
    /// one bound now).
    pub plugin: Option<String>,
    /// Only these decisions.
    pub ids: Option<Vec<String>>,
    /// Only decisions at or after this time (ms).
    pub since: Option<i64>,
    /// At most this many, newest first (default 200, at most 1,000).
    pub limit: Option<i64>,
}

/// `POST /v1/merchants/{m}/decisions/replay`: run logged decisions again
/// through a published version, with their logged input, time, seed and
/// config; how many answer the same, and the differences.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/decisions/replay", tag = "policies", params(("merchant" = String, Path, description = "Merchant id")), request_body = ReplayIn, responses((status = 200, description = "How many agree, and the differences", body = replay::ReplaySummary), (status = 404, description = "No such plugin version"), (status = 422, description = "A plugin of another slot")))]
pub async fn run_replay(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    JsonBody(r): JsonBody<ReplayIn>,
) -> Result<Response, ApiError> {
    let slot: Slot = crate::platform::slot_named(&r.slot)?;
    let label = match r.plugin {
        Some(p) => p,
        None => state
            .bindings
            .get(&merchant, slot)
            .map(|a| a.label.clone())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::CONFLICT,
                    Code::SlotUnbound,
                    format!("no plugin serves {slot}: name the version to replay with `plugin`"),
                )
            })?,
    };
    let (name, version) = label.split_once('@').ok_or_else(|| {
        ApiError::unprocessable(Code::InvalidPluginRef, "plugin: write it as name@version")
            .with_field("plugin")
    })?;
    let row = state
        .store
        .get_plugin(name, version)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no published plugin `{label}`")))?;
    if row.world != slot.world() {
        return Err(ApiError::unprocessable(
            Code::InvalidInput,
            format!("plugin: `{label}` serves {}, not {slot}", row.world),
        )
        .with_field("plugin"));
    }
    let prepared =
        state.registry.prepared(&row).await.map_err(|e| {
            ApiError::new(StatusCode::BAD_GATEWAY, Code::PluginFailed, e.to_string())
        })?;
    flush(&state).await?;
    let filter = Filter {
        slot: Some(slot.world().to_string()),
        ids: r.ids.map(|ids| ids.join(",")),
        since: r.since,
        limit: Some(r.limit.unwrap_or(200)),
        full: Some(true),
        ..Filter::default()
    };
    let decisions = DecisionsDb(&state.store).list(&merchant, &filter).await?;
    let (runtime, policy) = (state.runtime.clone(), state.slot_policy(slot));
    let summary = tokio::task::spawn_blocking(move || {
        crate::platform::fair::background_priority();
        let mut summary = replay::ReplaySummary::default();
        for d in &decisions {
            summary.add(replay::replay(&runtime, &prepared, policy, slot, d));
        }
        summary
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(axum::Json(summary).into_response())
}
