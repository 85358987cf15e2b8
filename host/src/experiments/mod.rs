//! A/B and multivariate experiments: definitions in GrowthBook's shape,
//! assignment by the merchant's `allocator` plugin (identical to
//! GrowthBook's SDKs with the reference plugin), bandits reweighted on a
//! cadence with sticky units, exposures and conversions idempotent by
//! event id, results with `gbstats`' Bayesian numbers and a
//! sample-ratio-mismatch check, and the storefront's `Cove.variant()`
//! through a public, origin-guarded endpoint.

pub mod model;
pub mod slots;
pub mod stats;
pub mod store;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::platform::feature::{Claim, ConsolePage, Erase, Feature, Migration, Privacy};
use crate::platform::http::{
    ApiError, ForMerchant, JsonBody, MAX_JSON_BYTES, parse_json, read_body,
};
use crate::platform::invoke::{InvokeError, call_other, invoke};
use crate::platform::slots::{Contract, Slot};
use model::{Definition, invalid};
use store::ExperimentRow;

/// How long a replica serves an experiment from memory before reading it
/// again (another replica's edit, a bandit's new weights).
const FRESH: Duration = Duration::from_secs(2);

/// The feature's routes.
fn routes(_: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(events))
        .routes(routes!(one, update))
        .routes(routes!(assign))
        .routes(routes!(stop))
        .routes(routes!(reweight))
        .routes(routes!(results))
}

/// Experiments, as registered with the platform: they serve the
/// allocator slot, reweight bandits in the background, and keep units
/// (a customer's id when an experiment hashes on it; erased with them).
pub const FEATURE: Feature = Feature {
    name: "experiments",
    routes,
    public: |_| {
        OpenApiRouter::new()
            .routes(routes!(public_assign))
            .routes(routes!(public_exposures))
    },
    migrations: &[Migration {
        version: 10,
        description: "experiments",
        sql: include_str!("migrations/0010_experiments.sql"),
    }],
    slots: &[slots::ALLOCATOR],
    privacy: Some(Privacy {
        tables: &[
            Claim {
                table: "experiment_units",
                column: "unit",
                erase: Erase::Delete,
            },
            Claim {
                table: "experiment_exposures",
                column: "unit",
                erase: Erase::Delete,
            },
            Claim {
                table: "experiment_conversions",
                column: "unit",
                erase: Erase::Delete,
            },
        ],
        export: None,
    }),
    tasks: Some(|state| {
        spawn_bandits(state, Duration::from_secs(30));
    }),
    seed_demo: Some(|state, merchant| Box::pin(seed_demo(state, merchant))),
    console: &[ConsolePage {
        file: "experiments.js",
        js: include_str!("console.js"),
    }],
    ..Feature::EMPTY
};

/// An experiment ready to assign from.
pub struct Loaded {
    row: ExperimentRow,
    def: Definition,
    weights: Option<Vec<f64>>,
    wit: Value,
}

/// A merchant's experiments, as read at some instant.
type Snapshot = (Instant, Arc<Vec<Arc<Loaded>>>);

/// Each merchant's experiments, read at most every [`FRESH`].
#[derive(Default)]
pub struct Cache(RwLock<HashMap<String, Snapshot>>);

impl Cache {
    fn forget(&self, merchant: &str) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(merchant);
    }
}

fn load(row: ExperimentRow) -> Result<Loaded, ApiError> {
    let def: Definition = serde_json::from_str(&row.definition).map_err(ApiError::internal)?;
    let weights: Option<Vec<f64>> = row
        .weights
        .as_deref()
        .and_then(|w| serde_json::from_str(w).ok());
    let wit = def.to_wit(weights.as_deref());
    Ok(Loaded {
        row,
        def,
        weights,
        wit,
    })
}

async fn loaded(state: &AppState, merchant: &str) -> Result<Arc<Vec<Arc<Loaded>>>, ApiError> {
    if let Some((at, list)) = state
        .experiments
        .0
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(merchant)
        && at.elapsed() < FRESH
    {
        return Ok(list.clone());
    }
    let list: Vec<Arc<Loaded>> = state
        .store
        .experiments(merchant)
        .await?
        .into_iter()
        .map(|r| load(r).map(Arc::new))
        .collect::<Result<_, _>>()?;
    let list = Arc::new(list);
    state
        .experiments
        .0
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(merchant.to_string(), (Instant::now(), list.clone()));
    Ok(list)
}

async fn find(state: &AppState, merchant: &str, key: &str) -> Result<Arc<Loaded>, ApiError> {
    loaded(state, merchant)
        .await?
        .iter()
        .find(|e| e.row.key == key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no experiment `{key}`")))
}

/// The experiment as the API shows it.
fn view(e: &Loaded) -> Value {
    let mut def = serde_json::to_value(&e.def).unwrap_or_default();
    def["status"] = json!(e.row.status);
    json!({
        "key": e.row.key,
        "status": e.row.status,
        "definition": def,
        "variation_names": (0..e.def.variations.len()).map(|i| e.def.variation_name(i)).collect::<Vec<_>>(),
        "weights": e.weights.clone().or(e.def.weights.clone()).unwrap_or_else(|| vec![1.0 / e.def.variations.len() as f64; e.def.variations.len()]),
        "weights_at": e.row.weights_at,
        "served": e.row.served,
        "created_at": e.row.created_at,
        "updated_at": e.row.updated_at,
        "started_at": e.row.started_at,
        "stopped_at": e.row.stopped_at,
    })
}

/// The unit an assignment is for: the hash attribute's value (or the
/// fallback's), as GrowthBook reads it.
fn unit_of(def: &Definition, attributes: &Value) -> Option<String> {
    let read = |name: &str| match attributes.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) if n.as_f64().is_some_and(|x| x != 0.0) => Some(n.to_string()),
        _ => None,
    };
    read(&def.hash_attribute).or_else(|| def.fallback_attribute.as_deref().and_then(read))
}

/// One unit's assignment to `e`.
async fn place(
    state: &AppState,
    merchant: &str,
    e: &Loaded,
    attributes: &Value,
) -> Result<Value, ApiError> {
    let n = e.def.variations.len();
    let answer = |variation: usize, inside: bool, reason: &str| {
        json!({
            "key": e.row.key,
            "variation": variation,
            "value": e.def.variations.get(variation).cloned().unwrap_or(Value::Null),
            "in_experiment": inside,
            "hash_used": false,
            "reason": reason,
        })
    };
    match e.row.status.as_str() {
        "draft" => return Ok(answer(0, false, "draft")),
        "stopped" => {
            let served = e.row.served.unwrap_or(0).clamp(0, n as i64 - 1) as usize;
            return Ok(answer(served, false, "stopped"));
        }
        _ => {}
    }
    let bandit = e.def.mode == "bandit";
    let unit = unit_of(&e.def, attributes);
    let sticky = match (&unit, bandit) {
        (Some(u), true) => {
            state
                .store
                .sticky_variation(merchant, &e.row.key, u)
                .await?
        }
        _ => None,
    };
    let input = json!({
        "experiment": e.wit,
        "attributes": attributes.to_string(),
        "sticky": sticky,
    });
    let decided = match invoke(
        state,
        merchant,
        Slot::Allocator,
        input.to_string().as_bytes(),
    )
    .await
    {
        Ok(a) => a,
        Err(InvokeError::PluginError { plugin, error }) => {
            let message = crate::platform::invoke::plugin_error_body(&plugin, &error)["message"]
                .as_str()
                .unwrap_or("the allocator refused")
                .to_string();
            return Err(ApiError::unprocessable("allocator_refused", message));
        }
        Err(e @ InvokeError::Busy(_)) => return Err(e.into()),
        Err(InvokeError::BadJson(m) | InvokeError::BadInput(m)) => {
            return Err(ApiError::internal(m));
        }
    };
    let r = &decided.result;
    let variation = r["variation"].as_u64().unwrap_or(0) as usize;
    let inside = r["in-experiment"] == true;
    if bandit
        && inside
        && sticky.is_none()
        && let Some(u) = &unit
    {
        state
            .store
            .keep_variation(merchant, &e.row.key, u, variation as i64, crate::now_ms())
            .await?;
    }
    Ok(json!({
        "key": e.row.key,
        "variation": variation,
        "value": e.def.variations.get(variation).cloned().unwrap_or(Value::Null),
        "in_experiment": inside,
        "hash_used": r["hash-used"],
        "hash_attribute": r["hash-attribute"],
        "hash_value": r["hash-value"],
        "bucket": r["bucket"],
        "reason": r["reason"],
        "fallback": decided.fallback,
    }))
}

/// Check a definition with the merchant's allocator (its condition, which
/// the plugin evaluates): a refusal names the field.
async fn check_with_plugin(
    state: &AppState,
    merchant: &str,
    def: &Definition,
) -> Result<(), ApiError> {
    let Some(active) = state.bindings.get(merchant, Slot::Allocator) else {
        if def.status == "running" {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "no_allocator",
                "bind an allocator plugin (slot `allocator`) before running an experiment",
            ));
        }
        return Ok(());
    };
    if active.prepared.contract == Contract::V0_1 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "allocator_too_old",
            format!(
                "the bound allocator {} is built against cove:policy@0.1.0, which has no GrowthBook experiments; bind one built against {}",
                active.label,
                Contract::NEWEST
            ),
        ));
    }
    let input = json!({"experiment": def.to_wit(None), "attributes": "{}", "sticky": null});
    match invoke(
        state,
        merchant,
        Slot::Allocator,
        input.to_string().as_bytes(),
    )
    .await
    {
        Err(InvokeError::PluginError { error, .. }) => {
            let why = error
                .get("invalid-input")
                .and_then(Value::as_str)
                .unwrap_or("the allocator refused the experiment");
            let field = why
                .split(':')
                .next()
                .filter(|f| !f.contains(' '))
                .unwrap_or("");
            Err(invalid(
                field,
                why.strip_prefix(&format!("{field}: ")).unwrap_or(why),
            ))
        }
        _ => Ok(()),
    }
}

fn parse_definition(value: Value) -> Result<Definition, ApiError> {
    serde_json::from_value::<Definition>(value).map_err(|e| {
        let text = e.to_string();
        let field = text
            .split('`')
            .nth(1)
            .filter(|_| text.starts_with("missing field") || text.starts_with("unknown"))
            .unwrap_or("")
            .to_string();
        invalid(
            if field.is_empty() {
                "definition"
            } else {
                &field
            },
            text,
        )
    })
}

/// `GET /v1/merchants/{m}/experiments`: every experiment, newest first.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/experiments", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "The experiments with their status and current weights", body = serde_json::Value)))]
pub async fn list(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    let all = loaded(&state, &merchant).await?;
    Ok(
        axum::Json(json!({"experiments": all.iter().map(|e| view(e)).collect::<Vec<_>>()}))
            .into_response(),
    )
}

/// `POST /v1/merchants/{m}/experiments`: define an experiment (a
/// GrowthBook experiment imports as is).
#[utoipa::path(post, path = "/v1/merchants/{merchant}/experiments", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id")), request_body = Definition, responses((status = 201, description = "The experiment", body = serde_json::Value), (status = 409, description = "The key is taken, or no allocator is bound to run it"), (status = 422, description = "The definition is refused: `field` and why")))]
pub async fn create(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    _: ForMerchant,
    JsonBody(definition): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let mut def = parse_definition(definition)?;
    def.check()?;
    check_with_plugin(&state, &merchant, &def).await?;
    let now = crate::now_ms();
    let row = ExperimentRow {
        key: def.key.clone(),
        definition: serde_json::to_string(&def).map_err(ApiError::internal)?,
        status: def.status.clone(),
        weights: None,
        weights_at: None,
        served: (def.status == "stopped").then_some(0),
        created_at: now,
        updated_at: now,
        started_at: (def.status == "running").then_some(now),
        stopped_at: (def.status == "stopped").then_some(now),
    };
    if !state.store.insert_experiment(&merchant, &row).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "experiment_exists",
            format!("an experiment `{}` exists; change it with PUT", def.key),
        ));
    }
    state.experiments.forget(&merchant);
    let e = load(row)?;
    Ok((StatusCode::CREATED, axum::Json(view(&e))).into_response())
}

/// `GET /v1/merchants/{m}/experiments/{key}`.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/experiments/{key}", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id"), ("key" = String, Path, description = "Experiment key")), responses((status = 200, description = "The experiment", body = serde_json::Value), (status = 404, description = "No such experiment")))]
pub async fn one(
    State(state): State<AppState>,
    Path((merchant, key)): Path<(String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    let e = find(&state, &merchant, &key).await?;
    Ok(axum::Json(view(&e)).into_response())
}

/// `PUT /v1/merchants/{m}/experiments/{key}`: change the definition or
/// the status (`draft` → `running`). A running experiment keeps its
/// number of variations.
#[utoipa::path(put, path = "/v1/merchants/{merchant}/experiments/{key}", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id"), ("key" = String, Path, description = "Experiment key")), request_body = Definition, responses((status = 200, description = "The experiment", body = serde_json::Value), (status = 404, description = "No such experiment"), (status = 409, description = "Changed meanwhile, or the variations of a running experiment changed"), (status = 422, description = "The definition is refused: `field` and why")))]
pub async fn update(
    State(state): State<AppState>,
    Path((merchant, key)): Path<(String, String)>,
    _: ForMerchant,
    JsonBody(mut value): JsonBody<Value>,
) -> Result<Response, ApiError> {
    if value.is_object() && value.get("key").is_none() {
        value["key"] = json!(key);
    }
    let mut def = parse_definition(value)?;
    if def.key != key {
        return Err(invalid("key", "the key of an experiment cannot change"));
    }
    def.check()?;
    let old = state
        .store
        .experiment(&merchant, &key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no experiment `{key}`")))?;
    let was = load(old.clone())?;
    if was.row.status != "draft" && was.def.variations.len() != def.variations.len() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "variations_locked",
            "an experiment that ran keeps its number of variations; create a new experiment instead",
        ));
    }
    check_with_plugin(&state, &merchant, &def).await?;
    let now = crate::now_ms().max(old.updated_at + 1);
    let row = ExperimentRow {
        definition: serde_json::to_string(&def).map_err(ApiError::internal)?,
        status: def.status.clone(),
        updated_at: now,
        started_at: old.started_at.or((def.status == "running").then_some(now)),
        stopped_at: if def.status == "stopped" {
            old.stopped_at.or(Some(now))
        } else {
            None
        },
        served: if def.status == "stopped" {
            old.served.or(Some(0))
        } else {
            None
        },
        ..old.clone()
    };
    save(&state, &merchant, row, old.updated_at).await
}

/// Store a changed experiment if nobody changed it since `was_updated_at`
/// (a 409 otherwise), and answer with it.
async fn save(
    state: &AppState,
    merchant: &str,
    row: ExperimentRow,
    was_updated_at: i64,
) -> Result<Response, ApiError> {
    if !state
        .store
        .update_experiment(merchant, &row, was_updated_at)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "changed_meanwhile",
            "the experiment changed meanwhile; reload and try again",
        ));
    }
    state.experiments.forget(merchant);
    Ok(axum::Json(view(&load(row)?)).into_response())
}

/// What a stopped experiment serves.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct StopIn {
    /// `control`, `winner` (the arm most likely best now), or a variation
    /// number; default: the definition's `onStop`.
    #[serde(default)]
    #[schema(value_type = Option<Value>)]
    serve: Option<Value>,
}

/// `POST /v1/merchants/{m}/experiments/{key}/stop`: stop and serve the
/// control or the winner to everyone.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/experiments/{key}/stop", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id"), ("key" = String, Path, description = "Experiment key")), request_body = StopIn, responses((status = 200, description = "The stopped experiment, with the variation it serves", body = serde_json::Value), (status = 404, description = "No such experiment"), (status = 422, description = "`serve` is not control, winner or a variation")))]
pub async fn stop(
    State(state): State<AppState>,
    Path((merchant, key)): Path<(String, String)>,
    _: ForMerchant,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body, MAX_JSON_BYTES, "the request").await?;
    let input: StopIn = if bytes.is_empty() {
        StopIn { serve: None }
    } else {
        parse_json(&bytes)?
    };
    let old = state
        .store
        .experiment(&merchant, &key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no experiment `{key}`")))?;
    let e = load(old.clone())?;
    let n = e.def.variations.len();
    let serve = input.serve.unwrap_or_else(|| json!(e.def.on_stop));
    let served = match &serve {
        Value::String(s) if s == "control" => 0,
        Value::String(s) if s == "winner" => {
            let counts = totals(&state, &merchant, &e).await?;
            let best = stats::chance_to_be_best(&counts);
            (0..n)
                .max_by(|a, b| best[*a].total_cmp(&best[*b]))
                .unwrap_or(0)
        }
        Value::Number(v) if v.as_u64().is_some_and(|v| (v as usize) < n) => {
            v.as_u64().unwrap_or(0) as usize
        }
        _ => {
            return Err(invalid(
                "serve",
                format!("use control, winner or a variation from 0 to {}", n - 1),
            ));
        }
    };
    let mut def = e.def.clone();
    def.status = "stopped".into();
    let now = crate::now_ms().max(old.updated_at + 1);
    let row = ExperimentRow {
        definition: serde_json::to_string(&def).map_err(ApiError::internal)?,
        status: "stopped".into(),
        served: Some(served as i64),
        stopped_at: Some(now),
        updated_at: now,
        ..old.clone()
    };
    save(&state, &merchant, row, old.updated_at).await
}

/// A unit to assign.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct AssignIn {
    /// The unit's attributes (`{"id": "visitor-1", "country": "DE"}`).
    #[serde(default)]
    #[schema(value_type = Object)]
    attributes: serde_json::Map<String, Value>,
    /// A stored customer: their country, locale, tier, tags, order count
    /// and own attributes fill what `attributes` does not give, and their
    /// id is the `id` unless given.
    #[serde(default)]
    customer_id: Option<String>,
}

async fn attributes_of(
    state: &AppState,
    merchant: &str,
    input: AssignIn,
) -> Result<Value, ApiError> {
    let mut attrs = input.attributes;
    if let Some(id) = input.customer_id {
        let stored = state
            .store
            .targeting_attributes(merchant, &id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no customer `{id}`")))?;
        attrs.entry("id").or_insert_with(|| json!(id));
        for (k, v) in stored {
            attrs.entry(k).or_insert(v);
        }
    }
    Ok(Value::Object(attrs))
}

/// `POST /v1/merchants/{m}/experiments/{key}/assign`: where one unit goes.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/experiments/{key}/assign", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id"), ("key" = String, Path, description = "Experiment key")), request_body = AssignIn, responses((status = 200, description = "variation, value, in_experiment, hash_used (and the bucket, the reason)", body = serde_json::Value), (status = 404, description = "No such experiment (or customer)")))]
pub async fn assign(
    State(state): State<AppState>,
    Path((merchant, key)): Path<(String, String)>,
    _: ForMerchant,
    JsonBody(input): JsonBody<AssignIn>,
) -> Result<Response, ApiError> {
    let e = find(&state, &merchant, &key).await?;
    let attrs = attributes_of(&state, &merchant, input).await?;
    Ok(axum::Json(place(&state, &merchant, &e, &attrs).await?).into_response())
}

/// Exposure and conversion events.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct EventsIn {
    /// `{"id", "type": "exposure", "experiment", "unit", "variation", "at"?}`
    /// or `{"id", "type": "conversion", "event", "unit", "at"?}`; `at` in
    /// ms since the epoch, default now.
    #[schema(value_type = Vec<Object>)]
    events: Vec<Value>,
}

/// `POST /v1/merchants/{m}/experiments/events`: exposures and conversions,
/// idempotent by event id (a unit's first exposure counts).
#[utoipa::path(post, path = "/v1/merchants/{merchant}/experiments/events", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id")), request_body = EventsIn, responses((status = 200, description = "How many were new and how many seen before", body = serde_json::Value), (status = 422, description = "An event is refused: its index and why")))]
pub async fn events(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    _: ForMerchant,
    JsonBody(input): JsonBody<EventsIn>,
) -> Result<Response, ApiError> {
    if input.events.len() > 10_000 {
        return Err(invalid("events", "at most 10,000 events per request"));
    }
    let all = loaded(&state, &merchant).await?;
    let now = crate::now_ms();
    // Check every event before storing any.
    let mut checked = Vec::with_capacity(input.events.len());
    for (i, ev) in input.events.iter().enumerate() {
        let field = |f: &str| format!("events[{i}].{f}");
        let text = |f: &str| -> Result<String, ApiError> {
            match ev.get(f).and_then(Value::as_str) {
                Some(s) if !s.is_empty() && s.len() <= 200 => Ok(s.to_string()),
                _ => Err(invalid(
                    &field(f),
                    "is required (text, at most 200 characters)",
                )),
            }
        };
        let id = text("id")?;
        let unit = text("unit")?;
        let at = match ev.get("at") {
            None | Some(Value::Null) => now,
            Some(v) => v
                .as_i64()
                .filter(|t| *t > 0 && *t <= now + 86_400_000)
                .ok_or_else(|| {
                    invalid(
                        &field("at"),
                        "must be ms since the epoch, not in the future",
                    )
                })?,
        };
        match ev.get("type").and_then(Value::as_str) {
            Some("exposure") => {
                let key = text("experiment")?;
                let e = all.iter().find(|e| e.row.key == key).ok_or_else(|| {
                    invalid(&field("experiment"), format!("no experiment `{key}`"))
                })?;
                let variation = ev
                    .get("variation")
                    .and_then(Value::as_u64)
                    .filter(|v| (*v as usize) < e.def.variations.len())
                    .ok_or_else(|| {
                        invalid(
                            &field("variation"),
                            format!(
                                "must be a variation from 0 to {}",
                                e.def.variations.len() - 1
                            ),
                        )
                    })?;
                checked.push((id, unit, at, Ok((key, variation as i64))));
            }
            Some("conversion") => {
                let event = text("event")?;
                checked.push((id, unit, at, Err(event)));
            }
            _ => return Err(invalid(&field("type"), "must be exposure or conversion")),
        }
    }
    let (mut new, mut seen) = (0, 0);
    for (id, unit, at, what) in checked {
        let fresh = match what {
            Ok((key, variation)) => {
                state
                    .store
                    .record_exposure(&merchant, &key, &unit, variation, &id, at)
                    .await?
            }
            Err(event) => {
                state
                    .store
                    .record_conversion(&merchant, &id, &unit, &event, at)
                    .await?
            }
        };
        if fresh { new += 1 } else { seen += 1 }
    }
    Ok(axum::Json(json!({"recorded": new, "duplicates": seen})).into_response())
}

/// `POST /v1/merchants/{m}/experiments/{key}/reweight`: set a bandit's
/// weights now instead of at its next cadence.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/experiments/{key}/reweight", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id"), ("key" = String, Path, description = "Experiment key")), responses((status = 200, description = "The experiment with its new weights", body = serde_json::Value), (status = 409, description = "Not a running bandit"), (status = 502, description = "The allocator could not set weights; the old ones stay")))]
pub async fn reweight(
    State(state): State<AppState>,
    Path((merchant, key)): Path<(String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    let e = find(&state, &merchant, &key).await?;
    if e.def.mode != "bandit" || e.row.status != "running" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_a_running_bandit",
            "only a running bandit has weights to move",
        ));
    }
    reweigh(&state, &merchant, &e)
        .await
        .map_err(|why| ApiError::new(StatusCode::BAD_GATEWAY, "reweight_failed", why))?;
    state.experiments.forget(&merchant);
    Ok(axum::Json(view(&*find(&state, &merchant, &key).await?)).into_response())
}

/// Exposures and conversions per variation.
async fn totals(state: &AppState, merchant: &str, e: &Loaded) -> Result<Vec<(u64, u64)>, ApiError> {
    let mut t = vec![(0, 0); e.def.variations.len()];
    for c in state
        .store
        .experiment_counts(
            merchant,
            &e.row.key,
            &e.def.conversion_event,
            e.def.attribution_hours as i64 * 3_600_000,
        )
        .await?
    {
        if let Some(slot) = t.get_mut(c.variation) {
            slot.0 += c.exposures;
            slot.1 += c.conversions;
        }
    }
    Ok(t)
}

/// Ask the allocator for a bandit's next weights and store them.
async fn reweigh(state: &AppState, merchant: &str, e: &Loaded) -> Result<Vec<f64>, String> {
    let counts = totals(state, merchant, e)
        .await
        .map_err(|e| e.message().to_string())?;
    let b = e.def.bandit.clone().unwrap_or(model::Bandit {
        top_two: false,
        min_share: 0.05,
        burn_in: 1000,
        cadence_minutes: 60,
    });
    let input = json!({
        "arms": counts.iter().map(|(n, c)| json!({"exposures": n, "conversions": c})).collect::<Vec<_>>(),
        "settings": {"top-two": b.top_two, "min-share": b.min_share, "burn-in": b.burn_in},
    });
    let out = call_other(state, merchant, Slot::Allocator, "reweight", &input).await?;
    let weights: Vec<f64> = serde_json::from_value(out).map_err(|e| e.to_string())?;
    if weights.len() != counts.len()
        || weights.iter().any(|w| !w.is_finite() || *w < 0.0)
        || (weights.iter().sum::<f64>() - 1.0).abs() > 0.01
    {
        return Err(format!(
            "the allocator's weights {weights:?} are not one share per arm adding up to 1"
        ));
    }
    let text = serde_json::to_string(&weights).map_err(|e| e.to_string())?;
    state
        .store
        .set_experiment_weights(
            merchant,
            &e.row.key,
            &text,
            crate::now_ms(),
            e.row.weights_at,
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(weights)
}

/// Reweight every running bandit whose cadence is due, every `every`
/// (on PostgreSQL with several replicas, one of them wins each cadence).
pub fn spawn_bandits(state: &AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Ok(running) = state.store.running_experiments().await else {
                continue;
            };
            let now = crate::now_ms();
            for (merchant, key, definition, at) in running {
                let Ok(def) = serde_json::from_str::<Definition>(&definition) else {
                    continue;
                };
                let cadence = def.bandit.as_ref().map_or(60, |b| b.cadence_minutes) as i64 * 60_000;
                if def.mode != "bandit" || at.is_some_and(|at| now - at < cadence) {
                    continue;
                }
                if let Ok(e) = find(&state, &merchant, &key).await
                    && let Err(why) = reweigh(&state, &merchant, &e).await
                {
                    tracing::warn!(%merchant, experiment = %key, %why, "could not reweight a bandit; its weights stay");
                }
                state.experiments.forget(&merchant);
            }
        }
    })
}

/// `GET /v1/merchants/{m}/experiments/{key}/results`.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/experiments/{key}/results", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id"), ("key" = String, Path, description = "Experiment key")), responses((status = 200, description = "Per arm: exposures, conversions, rate with a 95% interval, uplift, chance to win and risk against the control, chance to be best; the sample-ratio check; per day; per factor", body = serde_json::Value), (status = 404, description = "No such experiment")))]
pub async fn results(
    State(state): State<AppState>,
    Path((merchant, key)): Path<(String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    let e = find(&state, &merchant, &key).await?;
    let n = e.def.variations.len();
    let days = state
        .store
        .experiment_counts(
            &merchant,
            &key,
            &e.def.conversion_event,
            e.def.attribution_hours as i64 * 3_600_000,
        )
        .await?;
    let mut t = vec![(0u64, 0u64); n];
    let mut daily: Vec<Value> = Vec::new();
    let mut day_of = None;
    for c in &days {
        if day_of != Some(c.day) {
            if day_of.is_some() {
                daily.push(day_point(day_of.unwrap_or(0), &t));
            }
            day_of = Some(c.day);
        }
        if let Some(slot) = t.get_mut(c.variation) {
            slot.0 += c.exposures;
            slot.1 += c.conversions;
        }
    }
    if let Some(d) = day_of {
        daily.push(day_point(d, &t));
    }
    let best = stats::chance_to_be_best(&t);
    let planned: Vec<f64> = e
        .def
        .weights
        .clone()
        .unwrap_or_else(|| vec![1.0 / n as f64; n]);
    let arms: Vec<Value> = (0..n)
        .map(|i| {
            let (rate, ci) = stats::rate(t[i].0, t[i].1);
            let mut arm = json!({
                "variation": i,
                "name": e.def.variation_name(i),
                "value": e.def.variations[i],
                "weight": e.weights.as_ref().map_or(planned[i], |w| w.get(i).copied().unwrap_or(0.0)),
                "exposures": t[i].0,
                "conversions": t[i].1,
                "rate": rate,
                "rate_ci": ci,
                "chance_to_be_best": best[i],
            });
            if i > 0 {
                let v = stats::versus(t[0], t[i]);
                arm["uplift"] = json!(v.uplift);
                arm["uplift_ci"] = json!(v.uplift_ci);
                arm["chance_to_win"] = json!(v.chance_to_win);
                arm["risk"] = json!(v.risk);
            }
            arm
        })
        .collect();
    let observed: Vec<u64> = t.iter().map(|x| x.0).collect();
    let srm = if e.def.mode == "bandit" {
        json!({"checked": false, "reason": "a bandit moves its split on purpose"})
    } else {
        let p = stats::srm_p(&observed, &planned);
        json!({"checked": true, "p": p, "warning": p < 0.001, "planned": planned, "observed": observed})
    };
    let factors = e.def.factors.as_ref().map(|factors| {
        factors
            .iter()
            .map(|f| {
                let pooled: Vec<(u64, u64)> = f
                    .levels
                    .iter()
                    .map(|level| {
                        (0..n)
                            .filter(|i| e.def.variations[*i].get(&f.name) == Some(level))
                            .fold((0, 0), |a, i| (a.0 + t[i].0, a.1 + t[i].1))
                    })
                    .collect();
                json!({
                    "name": f.name,
                    "levels": f.levels.iter().zip(&pooled).map(|(level, c)| {
                        let (rate, ci) = stats::rate(c.0, c.1);
                        let v = stats::versus(pooled[0], *c);
                        json!({"level": level, "exposures": c.0, "conversions": c.1, "rate": rate, "rate_ci": ci,
                               "effect": v.uplift, "effect_ci": v.uplift_ci, "chance_to_win": v.chance_to_win})
                    }).collect::<Vec<_>>(),
                })
            })
            .collect::<Vec<_>>()
    });
    Ok(axum::Json(json!({
        "key": key,
        "status": e.row.status,
        "mode": e.def.mode,
        "conversion_event": e.def.conversion_event,
        "attribution_hours": e.def.attribution_hours,
        "served": e.row.served,
        "arms": arms,
        "srm": srm,
        "daily": daily,
        "factors": factors,
    }))
    .into_response())
}

fn day_point(day: i64, t: &[(u64, u64)]) -> Value {
    json!({
        "day": chrono::DateTime::from_timestamp_millis(day * 86_400_000).map(|d| d.format("%Y-%m-%d").to_string()),
        "arms": t.iter().map(|(n, c)| {
            let (rate, ci) = stats::rate(*n, *c);
            json!({"exposures": n, "conversions": c, "rate": rate, "rate_ci": ci})
        }).collect::<Vec<_>>(),
    })
}

/// The storefront's visitor.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct PublicAssignIn {
    /// The visitor's attributes; `id` is the widget's visitor id.
    #[serde(default)]
    #[schema(value_type = Object)]
    attributes: serde_json::Map<String, Value>,
    /// Only these experiments (default: every running or stopped one).
    #[serde(default)]
    keys: Option<Vec<String>>,
}

const PUBLIC_KEYS: usize = 50;

async fn public_place(
    state: &AppState,
    merchant: &str,
    input: PublicAssignIn,
) -> Result<Vec<(Arc<Loaded>, Value)>, ApiError> {
    if input.keys.as_ref().is_some_and(|k| k.len() > PUBLIC_KEYS) {
        return Err(invalid(
            "keys",
            format!("at most {PUBLIC_KEYS} experiments at once"),
        ));
    }
    let attrs = Value::Object(input.attributes);
    let mut out = Vec::new();
    for e in loaded(state, merchant).await?.iter() {
        let wanted = match &input.keys {
            Some(keys) => keys.contains(&e.row.key),
            None => e.row.status != "draft",
        };
        if wanted {
            out.push((e.clone(), place(state, merchant, e, &attrs).await?));
        }
    }
    Ok(out)
}

/// `POST /public/v1/{m}/experiments/assign`: the visitor's variations of
/// the merchant's experiments, for `Cove.variant()` on the storefront.
#[utoipa::path(post, path = "/public/v1/{merchant}/experiments/assign", tag = "experiments (public)", params(("merchant" = String, Path, description = "Merchant id")), request_body = PublicAssignIn, responses((status = 200, description = "`assignments`: key → variation, value, in_experiment", body = serde_json::Value)))]
pub async fn public_assign(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    JsonBody(input): JsonBody<PublicAssignIn>,
) -> Result<Response, ApiError> {
    let placed = public_place(&state, &merchant, input).await?;
    let assignments: serde_json::Map<String, Value> = placed
        .into_iter()
        .map(|(e, a)| {
            (
                e.row.key.clone(),
                json!({"variation": a["variation"], "value": a["value"], "in_experiment": a["in_experiment"]}),
            )
        })
        .collect();
    Ok(axum::Json(json!({"assignments": assignments})).into_response())
}

/// `POST /public/v1/{m}/experiments/exposures`: the visitor saw these
/// experiments. The host assigns again from the attributes, so a visitor
/// cannot claim another variation; a unit's first exposure counts.
#[utoipa::path(post, path = "/public/v1/{merchant}/experiments/exposures", tag = "experiments (public)", params(("merchant" = String, Path, description = "Merchant id")), request_body = PublicAssignIn, responses((status = 200, description = "How many exposures were new", body = serde_json::Value)))]
pub async fn public_exposures(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    JsonBody(input): JsonBody<PublicAssignIn>,
) -> Result<Response, ApiError> {
    if input.keys.as_ref().is_none_or(Vec::is_empty) {
        return Err(invalid("keys", "name the experiments the visitor saw"));
    }
    let placed = public_place(&state, &merchant, input).await?;
    let now = crate::now_ms();
    let mut recorded = 0;
    for (e, a) in placed {
        let unit = a["hash_value"].as_str().unwrap_or_default();
        if a["in_experiment"] == true && !unit.is_empty() {
            let id = format!("x:{}:{unit}", e.row.key);
            let variation = a["variation"].as_i64().unwrap_or(0);
            if state
                .store
                .record_exposure(&merchant, &e.row.key, unit, variation, &id, now)
                .await?
            {
                recorded += 1;
            }
        }
    }
    Ok(axum::Json(json!({"recorded": recorded})).into_response())
}

/// Give the demo merchant three experiments with two weeks of history
/// (visitors placed by the bound allocator, conversions drawn from a fixed
/// sequence): the storefront's offer banner (a fixed split), a product
/// page test of two factors, and a three-arm bandit. Only if it has none.
pub async fn seed_demo(state: &AppState, merchant: &str) -> anyhow::Result<()> {
    if !state.store.experiments(merchant).await?.is_empty()
        || state.bindings.get(merchant, Slot::Allocator).is_none()
    {
        return Ok(());
    }
    let demos = [
        (
            json!({"key": "offer-banner", "name": "Offer banner on the home page", "variations": ["Free shipping on orders over €50", "10% off your first order"],
                   "hashVersion": 2, "status": "running", "conversionEvent": "purchase", "attributionHours": 72}),
            vec![0.030, 0.041],
            3000,
        ),
        (
            json!({"key": "product-page", "name": "Product page: headline × photo", "hashVersion": 2, "status": "running",
                   "factors": [{"name": "headline", "levels": ["plain", "bold"]}, {"name": "photo", "levels": ["flat lay", "on a model"]}]}),
            vec![0.030, 0.031, 0.040, 0.042],
            4000,
        ),
        (
            json!({"key": "hero-bandit", "name": "Hero image (bandit)", "variations": ["beach", "city", "forest"], "hashVersion": 2,
                   "status": "running", "mode": "bandit", "bandit": {"burnIn": 500, "minShare": 0.05, "cadenceMinutes": 60}}),
            vec![0.025, 0.045, 0.030],
            2500,
        ),
    ];
    let now = crate::now_ms();
    let mut draw = 0x2545_f491_4f6c_dd1d_u64;
    for (definition, rates, visitors) in demos {
        let mut def: Definition = serde_json::from_value(definition)?;
        def.check()
            .map_err(|e| anyhow::anyhow!("demo experiment: {}", e.message()))?;
        let row = ExperimentRow {
            key: def.key.clone(),
            definition: serde_json::to_string(&def)?,
            status: def.status.clone(),
            weights: None,
            weights_at: None,
            served: None,
            created_at: now - 15 * 86_400_000,
            updated_at: now,
            started_at: Some(now - 14 * 86_400_000),
            stopped_at: None,
        };
        state.store.insert_experiment(merchant, &row).await?;
        let e = load(row).map_err(|e| anyhow::anyhow!("demo experiment: {}", e.message()))?;
        for i in 0..visitors {
            let unit = format!("demo-{}-{i}", e.row.key);
            let placed = place(state, merchant, &e, &json!({"id": unit})).await;
            let Ok(a) = placed else { continue };
            let v = a["variation"].as_u64().unwrap_or(0) as usize;
            let at = now - 14 * 86_400_000 + (i as i64 * 14 * 86_400_000) / visitors as i64;
            state
                .store
                .record_exposure(
                    merchant,
                    &e.row.key,
                    &unit,
                    v as i64,
                    &format!("demo-x-{unit}"),
                    at,
                )
                .await?;
            draw ^= draw << 13;
            draw ^= draw >> 7;
            draw ^= draw << 17;
            if ((draw >> 11) as f64 / (1u64 << 53) as f64) < rates[v] {
                state
                    .store
                    .record_conversion(
                        merchant,
                        &format!("demo-c-{unit}"),
                        &unit,
                        "purchase",
                        at + 3_600_000,
                    )
                    .await?;
            }
        }
        if e.def.mode == "bandit" {
            let _ = reweigh(state, merchant, &e).await;
        }
    }
    state.experiments.forget(merchant);
    Ok(())
}
