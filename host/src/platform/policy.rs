//! Merchant endpoints: see the slots in force and invoke a policy.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::http::{ApiError, ForMerchant, MAX_JSON_BYTES, read_body};
use crate::AppState;
use crate::platform::http::Code;
use crate::platform::invoke::invoke as run;
use crate::platform::slots::Slot;

/// Parse a slot name from the path.
pub fn slot(name: &str) -> Result<Slot, ApiError> {
    Slot::from_world(name).ok_or_else(|| {
        let names: Vec<_> = Slot::ALL.iter().map(|s| s.world()).collect();
        ApiError::not_found(format!("no slot `{name}`; slots are {}", names.join(", ")))
    })
}

/// `GET /v1/merchants/{merchant}/slots`: the binding of every slot.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/slots", tag = "policies", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "Bindings in force, contract versions and breaker states", body = SlotsNow)))]
pub async fn slots(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
) -> Result<Response, ApiError> {
    let now = crate::now_ms();
    let bound = state.bindings.of(&merchant);
    let revoked: Vec<String> = state
        .store
        .publishers()
        .await?
        .into_iter()
        .filter(|p| p.revoked_at.is_some())
        .map(|p| p.name)
        .collect();
    let slots = Slot::ALL
        .iter()
        .map(|slot| match bound.iter().find(|(s, _)| s == slot) {
            Some((_, a)) => SlotNow {
                slot: slot.world(),
                plugin: Some(a.plugin.name.clone()),
                version: Some(a.plugin.version.clone()),
                sha256: Some(a.plugin.sha256.clone()),
                contract: Some(a.plugin.contract.clone()),
                publisher: Some(a.plugin.publisher.clone()),
                signed: Some(a.plugin.signed),
                publisher_revoked: revoked.contains(&a.plugin.publisher).then_some(true),
                config: Some(a.config_json.clone()),
                breaker: Some(if a.breaker.is_open(now) {
                    "open"
                } else {
                    "closed"
                }),
                note: None,
                canary_units: state.slot_policy(*slot).units,
                canary: state.canaries.get(&merchant, *slot).map(|c| {
                    format!(
                        "{} for {}% of {}",
                        c.candidate.label,
                        f64::from(c.share) / 100.0,
                        state.slot_policy(*slot).units.unwrap_or("calls")
                    )
                }),
            },
            None => SlotNow {
                slot: slot.world(),
                plugin: None,
                version: None,
                sha256: None,
                contract: None,
                publisher: None,
                signed: None,
                publisher_revoked: None,
                config: None,
                breaker: None,
                note: Some("unbound: the safe fallback answers"),
                canary_units: state.slot_policy(*slot).units,
                canary: None,
            },
        })
        .collect();
    Ok(axum::Json(SlotsNow { merchant, slots }).into_response())
}

/// A merchant's slots.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SlotsNow {
    /// The merchant.
    pub merchant: String,
    /// Every slot, bound or not.
    pub slots: Vec<SlotNow>,
}

/// One slot: its binding, or a note that the fallback answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SlotNow {
    /// The slot (its world).
    pub slot: &'static str,
    /// The plugin bound; null when none is.
    pub plugin: Option<String>,
    /// Its version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Its component's hex SHA-256.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The contract version it was built against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    /// Who published it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Whether its publisher's registered key signed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed: Option<bool>,
    /// True when its publisher's key was revoked: it keeps running, but
    /// cannot be bound anew.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher_revoked: Option<bool>,
    /// Its config.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
    /// `open` (the fallback answers for now) or `closed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker: Option<&'static str>,
    /// Why there is no binding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
    /// What a canary of the slot splits by (`customers`, `visitors`);
    /// absent: the slot runs in batches and takes no canary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canary_units: Option<&'static str>,
    /// The canary running: its candidate and share, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canary: Option<String>,
}

/// `POST /v1/merchants/{merchant}/slots/{slot}/invoke`: run the policy.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/slots/{slot}/invoke", tag = "policies", params(("merchant" = String, Path, description = "Merchant id"), ("slot" = String, Path, description = "Slot: rfm-scorer, allocator, fatigue-policy, return-flow, channel-chooser")), request_body = serde_json::Value, responses((status = 200, description = "The decision (or the slot's safe fallback, flagged)", body = crate::platform::invoke::Answer)))]
pub async fn invoke(
    State(state): State<AppState>,
    Path((merchant, slot_name)): Path<(String, String)>,
    _: ForMerchant,
    body: Body,
) -> Result<Response, ApiError> {
    let slot = slot(&slot_name)?;
    // Only an unbound slot costs a database look-up (to tell "no such merchant").
    if state.bindings.get(&merchant, slot).is_none()
        && !state.store.merchant_exists(&merchant).await?
    {
        return Err(ApiError::not_found(format!("no merchant `{merchant}`")));
    }
    let mut body = read_body(body, MAX_JSON_BYTES, "the request").await?;
    // A feature may complete the slot's input from what Cove stores.
    if let Some(complete) = state.slot_policy(slot).input
        && let Some(full) = complete(&state, &merchant, &body).await?
    {
        body = full.into();
    }
    match run(&state, &merchant, slot, &body).await {
        Ok(answer) => {
            let mut response = axum::Json(&answer).into_response();
            let h = response.headers_mut();
            if let Some(p) = answer
                .plugin
                .as_deref()
                .and_then(|p| HeaderValue::from_str(p).ok())
            {
                h.insert("x-cove-plugin", p);
            }
            if let Some(kind) = answer.fallback {
                h.insert("x-cove-fallback", HeaderValue::from_static(kind.as_str()));
            }
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

/// A new config for the plugin version already bound.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigRequest {
    /// String values by key, checked by the plugin's own `validate-config`.
    config: Value,
}

/// `PUT /v1/merchants/{merchant}/slots/{slot}/config`: change the config of
/// the bound plugin version (the merchant may; the plugin checks it first,
/// and the audit log records who changed what).
#[utoipa::path(put, path = "/v1/merchants/{merchant}/slots/{slot}/config", tag = "policies", params(("merchant" = String, Path, description = "Merchant id"), ("slot" = String, Path, description = "Slot: rfm-scorer, allocator, fatigue-policy, return-flow, channel-chooser")), request_body = ConfigRequest, responses((status = 200, description = "The binding in force", body = super::operator::BindingNow)))]
pub async fn configure(
    State(state): State<AppState>,
    Path((merchant, slot_name)): Path<(String, String)>,
    caller: ForMerchant,
    super::http::JsonBody(req): super::http::JsonBody<ConfigRequest>,
) -> Result<Response, ApiError> {
    let actor = caller.actor;
    let slot = slot(&slot_name)?;
    let Some(active) = state.bindings.get(&merchant, slot) else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::SlotUnbound,
            format!(
                "no plugin serves {slot} for `{merchant}` yet, so there is nothing to configure"
            ),
        ));
    };
    super::operator::bind_version(
        &state,
        &merchant,
        slot,
        &active.plugin,
        &req.config,
        &actor,
        "config",
    )
    .await?;
    super::operator::current(&state, &merchant, slot)
}

/// `GET /v1/merchants/{merchant}/slots/{slot}/settings`: the settings the
/// bound plugin reads, as it describes them (contract 0.3.0 and later),
/// with the config in force.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/slots/{slot}/settings", tag = "policies", params(("merchant" = String, Path, description = "Merchant id"), ("slot" = String, Path, description = "Slot: rfm-scorer, allocator, fatigue-policy, return-flow, channel-chooser")), responses((status = 200, description = "The plugin's settings described (empty with `described: false` for a plugin of an older contract), and the config in force", body = PluginSettings), (status = 409, description = "No plugin is bound"), (status = 502, description = "The plugin could not describe its settings")))]
pub async fn settings(
    State(state): State<AppState>,
    Path((merchant, slot_name)): Path<(String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    let slot = slot(&slot_name)?;
    let Some(active) = state.bindings.get(&merchant, slot) else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::SlotUnbound,
            format!("no plugin serves {slot} for `{merchant}` yet, so it has no settings"),
        ));
    };
    let described = active.prepared.contract.describes_settings();
    let settings = if described {
        crate::platform::invoke::call_other(
            &state,
            &merchant,
            slot,
            "settings",
            &Value::Object(Default::default()),
        )
        .await
        .map_err(|why| ApiError::new(StatusCode::BAD_GATEWAY, Code::PluginFailed, why))?
    } else {
        Value::Array(vec![])
    };
    Ok(axum::Json(PluginSettings {
        slot: slot.world(),
        plugin: active.plugin.name.clone(),
        version: active.plugin.version.clone(),
        contract: active.plugin.contract.clone(),
        described,
        settings,
        config: active.config_json.clone(),
    })
    .into_response())
}

/// A bound plugin's settings.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PluginSettings {
    /// The slot.
    pub slot: &'static str,
    /// The plugin bound.
    pub plugin: String,
    /// Its version.
    pub version: String,
    /// Its contract.
    pub contract: String,
    /// Whether it describes its settings (contract 0.3.0 and later); if
    /// not, the merchant writes `key = value` lines.
    pub described: bool,
    /// Each setting: `key` (or a pattern with `*`, and `part` saying what
    /// it stands for), `kind` (`{"integer": {"min", "max"}}`, `{"number":
    /// …}`, `{"choice": [...]}`, `"flag"` or `{"text": pattern}`),
    /// `default-value`, `description-en`, `description-zh`, `example`.
    #[schema(value_type = Vec<Object>)]
    pub settings: Value,
    /// The config in force.
    #[schema(value_type = Object)]
    pub config: Value,
}

/// A candidate to shadow a slot.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct ShadowIn {
    /// `name@version` of a published plugin of the slot.
    pub plugin: String,
}

/// A shadow's report.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ShadowReport {
    /// The slot.
    pub slot: &'static str,
    /// The live version.
    pub live: String,
    /// The candidate.
    pub shadow: String,
    /// Shadowing since (ms).
    pub since: i64,
    /// What it found, in a sentence.
    pub summary: String,
    /// The figures, of every replica (the others' as of their last sync,
    /// 200 ms by default).
    pub stats: crate::platform::shadow::Stats,
}

/// `GET /v1/merchants/{m}/slots/{slot}/shadow`: what the candidate would
/// have decided differently.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/slots/{slot}/shadow", tag = "policies", params(("merchant" = String, Path, description = "Merchant id"), ("slot" = String, Path, description = "Slot")), responses((status = 200, description = "The shadow's report", body = ShadowReport), (status = 404, description = "No shadow")))]
pub async fn shadow(
    State(state): State<AppState>,
    Path((merchant, slot_name)): Path<(String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    report(&state, &merchant, &slot_name)
}

fn report(state: &AppState, merchant: &str, slot_name: &str) -> Result<Response, ApiError> {
    let slot = slot(slot_name)?;
    let Some(shadow) = state.shadows.get(merchant, slot) else {
        return Err(ApiError::not_found(format!("no version shadows {slot}")));
    };
    let live = state
        .bindings
        .get(merchant, slot)
        .map_or_else(|| "the live version".to_string(), |a| a.label.clone());
    let stats = shadow.findings();
    Ok(axum::Json(ShadowReport {
        slot: slot.world(),
        summary: crate::platform::shadow::in_words(
            &shadow.label,
            &live,
            &stats,
            state.slot_policy(slot).words,
        ),
        live,
        shadow: shadow.label.clone(),
        since: shadow.since,
        stats,
    })
    .into_response())
}

/// `PUT /v1/merchants/{m}/slots/{slot}/shadow`: a candidate sees every
/// call too, with the settings in force; its answers are only compared.
#[utoipa::path(put, path = "/v1/merchants/{merchant}/slots/{slot}/shadow", tag = "policies", params(("merchant" = String, Path, description = "Merchant id"), ("slot" = String, Path, description = "Slot")), request_body = ShadowIn, responses((status = 200, description = "Shadowing", body = ShadowReport), (status = 404, description = "No such version"), (status = 409, description = "No live version, or a publisher's revoked key"), (status = 422, description = "Another slot's plugin, or one that refuses the settings in force")))]
pub async fn set_shadow(
    State(state): State<AppState>,
    Path((merchant, slot_name)): Path<(String, String)>,
    caller: ForMerchant,
    super::http::JsonBody(req): super::http::JsonBody<ShadowIn>,
) -> Result<Response, ApiError> {
    let slot = slot(&slot_name)?;
    let (_, row) = candidate(&state, &merchant, slot, &req.plugin, "shadowing").await?;
    state
        .store
        .set_shadow(&merchant, slot.world(), Some(row.id), crate::now_ms())
        .await?;
    let _ = state
        .store
        .record_event(
            &merchant,
            slot.world(),
            "shadow",
            &caller.actor,
            &serde_json::json!({"plugin": req.plugin}),
        )
        .await;
    state.refresh_bindings().await.map_err(ApiError::internal)?;
    report(&state, &merchant, &slot_name)
}

/// A candidate version `plugin` (`name@version`) for `merchant`'s `slot`,
/// checked the way binding it would be: published for the slot, from a
/// publisher in good standing, accepting the settings in force. With the
/// live binding it would stand beside (`doing`: what needs one, in words).
pub async fn candidate(
    state: &AppState,
    merchant: &str,
    slot: Slot,
    plugin: &str,
    doing: &str,
) -> Result<
    (
        std::sync::Arc<crate::platform::bindings::Active>,
        crate::platform::store::PluginRow,
    ),
    ApiError,
> {
    let Some(active) = state.bindings.get(merchant, slot) else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::SlotUnbound,
            format!("no plugin serves {slot} for `{merchant}`: bind one before {doing} it"),
        ));
    };
    let Some((name, version)) = plugin.split_once('@') else {
        return Err(ApiError::unprocessable(
            Code::InvalidPluginRef,
            "plugin: write it as name@version",
        )
        .with_field("plugin"));
    };
    let row = state
        .store
        .get_plugin(name, version)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no published plugin `{}`", plugin)))?;
    if row.world != slot.world() {
        return Err(ApiError::unprocessable(
            Code::WorldMismatch,
            format!("plugin: `{}` serves {}, not {slot}", plugin, row.world),
        )
        .with_field("plugin"));
    }
    super::operator::trusted(state, &row).await?;
    let prepared = state.registry.prepared(&row).await?;
    if let Ok(out) = state
        .runtime
        .validate_config(&prepared, &active.config, crate::now_ms())
        && let wasmtime::component::Val::Result(Err(e)) = out.value
    {
        return Err(ApiError::unprocessable(
            Code::InvalidConfig,
            format!(
                "plugin: `{}` refuses the settings in force: {}",
                plugin,
                e.as_deref()
                    .map_or(Value::Null, crate::platform::runtime::json::from_val)
            ),
        )
        .with_field("plugin"));
    }
    Ok((active, row))
}

/// `DELETE /v1/merchants/{m}/slots/{slot}/shadow`: stop shadowing.
#[utoipa::path(delete, path = "/v1/merchants/{merchant}/slots/{slot}/shadow", tag = "policies", params(("merchant" = String, Path, description = "Merchant id"), ("slot" = String, Path, description = "Slot")), responses((status = 204, description = "Stopped")))]
pub async fn end_shadow(
    State(state): State<AppState>,
    Path((merchant, slot_name)): Path<(String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    let slot = slot(&slot_name)?;
    state
        .store
        .set_shadow(&merchant, slot.world(), None, crate::now_ms())
        .await?;
    state.refresh_bindings().await.map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Query of [`stats`].
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Days back from now (1–90, default 7).
    #[param(minimum = 1, maximum = 90)]
    days: Option<u32>,
}

/// `GET /v1/merchants/{merchant}/stats`: decisions per slot, hour and
/// outcome (`ok`, `plugin_error`, or the failure kind the safe fallback
/// answered for).
#[utoipa::path(get, path = "/v1/merchants/{merchant}/stats", tag = "policies", params(("merchant" = String, Path, description = "Merchant id"), StatsQuery), responses((status = 200, description = "Hourly buckets, oldest first", body = Vec<crate::platform::stats::Bucket>)))]
pub async fn stats(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    q: Result<axum::extract::Query<StatsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = super::http::query(q)?;
    let days = q.days.unwrap_or(7);
    if !(1..=90).contains(&days) {
        return Err(ApiError::bad_request(
            Code::InvalidQuery,
            "`days` must be between 1 and 90",
        ));
    }
    // This replica's latest counts first, so the chart is current.
    state.stats.flush(&state.store).await?;
    let from = crate::now_ms() - i64::from(days) * 86_400_000;
    Ok(axum::Json(state.store.call_stats(&merchant, from).await?).into_response())
}
