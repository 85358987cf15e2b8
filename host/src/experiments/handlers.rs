//! The merchant's endpoints: definitions (list, create, read, update,
//! stop), assignment, events, reweighting and results.

use super::assign::{Assignment, attributes_of, place};
use super::bandit::{reweigh, totals};
use super::cache::{ExperimentView, find, load, loaded, view};
use super::means;
use super::model::{Mode, Status};
use super::stats::Z95;
use super::*;
use crate::experiments::store::ExperimentsDb;
use crate::platform::http::Code;
use crate::platform::http::MaybeJson;

/// Check a definition with the merchant's allocator (its condition, which
/// the plugin evaluates): a refusal names the field.
pub(super) async fn check_with_plugin(
    state: &AppState,
    merchant: &str,
    def: &Definition,
) -> Result<(), ApiError> {
    let Some(active) = state.bindings.get(merchant, Slot::Allocator) else {
        if def.status == Status::Running {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                Code::NoAllocator,
                "bind an allocator plugin (slot `allocator`) before running an experiment",
            ));
        }
        return Ok(());
    };
    if active.prepared.contract == Contract::V0_1 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::AllocatorTooOld,
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

pub(super) fn parse_definition(value: Value) -> Result<Definition, ApiError> {
    serde_json::from_value::<Definition>(value).map_err(|e| {
        let text = e.to_string();
        // `status: use draft, running or stopped`: a value refused by name.
        if let Some((field, why)) = text.split_once(": ")
            && !field.is_empty()
            && field.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return invalid(field, why);
        }
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
#[utoipa::path(get, path = "/v1/merchants/{merchant}/experiments", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "The experiments with their status and current weights", body = Experiments)))]
pub async fn list(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
) -> Result<Response, ApiError> {
    let all = loaded(&state, &merchant).await?;
    Ok(axum::Json(Experiments {
        experiments: all.iter().map(|e| view(e)).collect(),
    })
    .into_response())
}

/// A merchant's experiments.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Experiments {
    /// Newest first.
    pub experiments: Vec<ExperimentView>,
}

/// Events stored.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct EventsRecorded {
    /// New events.
    pub recorded: u64,
    /// Events seen before (by id).
    pub duplicates: u64,
}

/// `POST /v1/merchants/{m}/experiments`: define an experiment (a
/// GrowthBook experiment imports as is).
#[utoipa::path(post, path = "/v1/merchants/{merchant}/experiments", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id")), request_body = Definition, responses((status = 201, description = "The experiment", body = ExperimentView), (status = 409, description = "The key is taken, or no allocator is bound to run it"), (status = 422, description = "The definition is refused: `field` and why")))]
pub async fn create(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    JsonBody(definition): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let mut def = parse_definition(definition)?;
    def.check()?;
    check_with_plugin(&state, &merchant, &def).await?;
    let now = crate::now_ms();
    let row = ExperimentRow {
        key: def.key.clone(),
        definition: serde_json::to_string(&def).map_err(ApiError::internal)?,
        status: def.status,
        weights: None,
        weights_at: None,
        served: (def.status == Status::Stopped).then_some(0),
        created_at: now,
        updated_at: now,
        started_at: (def.status == Status::Running).then_some(now),
        stopped_at: (def.status == Status::Stopped).then_some(now),
    };
    if !ExperimentsDb(&state.store)
        .insert_experiment(&merchant, &row)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::ExperimentExists,
            format!("an experiment `{}` exists; change it with PUT", def.key),
        ));
    }
    state.get::<Cache>().forget(&merchant);
    let e = load(row)?;
    Ok((StatusCode::CREATED, axum::Json(view(&e))).into_response())
}

/// `GET /v1/merchants/{m}/experiments/{key}`.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/experiments/{key}", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id"), ("key" = String, Path, description = "Experiment key")), responses((status = 200, description = "The experiment", body = ExperimentView), (status = 404, description = "No such experiment")))]
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
#[utoipa::path(put, path = "/v1/merchants/{merchant}/experiments/{key}", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id"), ("key" = String, Path, description = "Experiment key")), request_body = Definition, responses((status = 200, description = "The experiment", body = ExperimentView), (status = 404, description = "No such experiment"), (status = 409, description = "Changed meanwhile, or the variations of a running experiment changed"), (status = 422, description = "The definition is refused: `field` and why")))]
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
    let old = ExperimentsDb(&state.store)
        .experiment(&merchant, &key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no experiment `{key}`")))?;
    let was = load(old.clone())?;
    if was.row.status != Status::Draft && was.def.variations.len() != def.variations.len() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::VariationsLocked,
            "an experiment that ran keeps its number of variations; create a new experiment instead",
        ));
    }
    check_with_plugin(&state, &merchant, &def).await?;
    let now = crate::now_ms().max(old.updated_at + 1);
    let row = ExperimentRow {
        definition: serde_json::to_string(&def).map_err(ApiError::internal)?,
        status: def.status,
        updated_at: now,
        started_at: old
            .started_at
            .or((def.status == Status::Running).then_some(now)),
        stopped_at: if def.status == Status::Stopped {
            old.stopped_at.or(Some(now))
        } else {
            None
        },
        served: if def.status == Status::Stopped {
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
pub(super) async fn save(
    state: &AppState,
    merchant: &str,
    row: ExperimentRow,
    was_updated_at: i64,
) -> Result<Response, ApiError> {
    if !ExperimentsDb(&state.store)
        .update_experiment(merchant, &row, was_updated_at)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::ChangedMeanwhile,
            "the experiment changed meanwhile; reload and try again",
        ));
    }
    state.get::<Cache>().forget(merchant);
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
#[utoipa::path(post, path = "/v1/merchants/{merchant}/experiments/{key}/stop", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id"), ("key" = String, Path, description = "Experiment key")), request_body = StopIn, responses((status = 200, description = "The stopped experiment, with the variation it serves", body = ExperimentView), (status = 404, description = "No such experiment"), (status = 422, description = "`serve` is not control, winner or a variation")))]
pub async fn stop(
    State(state): State<AppState>,
    Path((merchant, key)): Path<(String, String)>,
    _: ForMerchant,
    MaybeJson(input): MaybeJson<StopIn>,
) -> Result<Response, ApiError> {
    let input = input.unwrap_or(StopIn { serve: None });
    let old = ExperimentsDb(&state.store)
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
    def.status = Status::Stopped;
    let now = crate::now_ms().max(old.updated_at + 1);
    let row = ExperimentRow {
        definition: serde_json::to_string(&def).map_err(ApiError::internal)?,
        status: Status::Stopped,
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
    pub(super) attributes: serde_json::Map<String, Value>,
    /// A stored customer: their country, locale, tier, tags, order count
    /// and own attributes fill what `attributes` does not give, and their
    /// id is the `id` unless given.
    #[serde(default)]
    pub(super) customer_id: Option<String>,
}

/// `POST /v1/merchants/{m}/experiments/{key}/assign`: where one unit goes.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/experiments/{key}/assign", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id"), ("key" = String, Path, description = "Experiment key")), request_body = AssignIn, responses((status = 200, description = "variation, value, in_experiment, hash_used (and the bucket, the reason)", body = Assignment), (status = 404, description = "No such experiment (or customer)")))]
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
#[utoipa::path(post, path = "/v1/merchants/{merchant}/experiments/events", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id")), request_body = EventsIn, responses((status = 200, description = "How many were new and how many seen before", body = EventsRecorded), (status = 422, description = "An event is refused: its index and why")))]
pub async fn events(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
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
                ExperimentsDb(&state.store)
                    .record_exposure(&merchant, &key, &unit, variation, &id, at)
                    .await?
            }
            Err(event) => {
                ExperimentsDb(&state.store)
                    .record_conversion(&merchant, &id, &unit, &event, at)
                    .await?
            }
        };
        if fresh { new += 1 } else { seen += 1 }
    }
    Ok(axum::Json(EventsRecorded {
        recorded: new,
        duplicates: seen,
    })
    .into_response())
}

/// `POST /v1/merchants/{m}/experiments/{key}/reweight`: set a bandit's
/// weights now instead of at its next cadence.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/experiments/{key}/reweight", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id"), ("key" = String, Path, description = "Experiment key")), responses((status = 200, description = "The experiment with its new weights", body = ExperimentView), (status = 409, description = "Not a running bandit"), (status = 502, description = "The allocator could not set weights; the old ones stay")))]
pub async fn reweight(
    State(state): State<AppState>,
    Path((merchant, key)): Path<(String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    let e = find(&state, &merchant, &key).await?;
    if e.def.mode != Mode::Bandit || e.row.status != Status::Running {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::NotARunningBandit,
            "only a running bandit has weights to move",
        ));
    }
    reweigh(&state, &merchant, &e)
        .await
        .map_err(|why| ApiError::new(StatusCode::BAD_GATEWAY, Code::ReweightFailed, why))?;
    state.get::<Cache>().forget(&merchant);
    Ok(axum::Json(view(&*find(&state, &merchant, &key).await?)).into_response())
}

/// How long a results page counts exposures not yet in the rollup (after
/// a large import, or a change of the conversion event); the rest is
/// counted in the background and the page says so.
const COUNTING: std::time::Duration = std::time::Duration::from_secs(10);

/// `GET /v1/merchants/{m}/experiments/{key}/results`.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/experiments/{key}/results", tag = "experiments", params(("merchant" = String, Path, description = "Merchant id"), ("key" = String, Path, description = "Experiment key")), responses((status = 200, description = "Per arm: exposures, conversions, rate with a 95% interval, uplift, chance to win and risk against the control, chance to be best; the sample-ratio check; per day; per factor", body = Results), (status = 404, description = "No such experiment")))]
pub async fn results(
    State(state): State<AppState>,
    Path((merchant, key)): Path<(String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    let e = find(&state, &merchant, &key).await?;
    let n = e.def.variations.len();
    let db = ExperimentsDb(&state.store);
    let counted = db
        .refresh_rollup(
            &merchant,
            &key,
            &super::rollup::Basis::of(&e.def),
            Some(COUNTING),
        )
        .await?;
    let days = db.experiment_counts(&merchant, &key).await?;
    let mut t = vec![(0u64, 0u64); n];
    let mut daily: Vec<DayPoint> = Vec::new();
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
    let arms: Vec<Arm> = (0..n)
        .map(|i| {
            let (rate, ci) = stats::rate(t[i].0, t[i].1);
            let versus = (i > 0).then(|| stats::versus(t[0], t[i]));
            Arm {
                variation: i,
                name: e.def.variation_name(i),
                value: e.def.variations[i].clone(),
                weight: e
                    .weights
                    .as_ref()
                    .map_or(planned[i], |w| w.get(i).copied().unwrap_or(0.0)),
                exposures: t[i].0,
                conversions: t[i].1,
                rate,
                rate_ci: ci,
                chance_to_be_best: best[i],
                uplift: versus.as_ref().map(|v| v.uplift),
                uplift_ci: versus.as_ref().map(|v| v.uplift_ci),
                chance_to_win: versus.as_ref().map(|v| v.chance_to_win),
                risk: versus.as_ref().map(|v| v.risk),
            }
        })
        .collect();
    let observed: Vec<u64> = t.iter().map(|x| x.0).collect();
    let srm = if e.def.mode == Mode::Bandit {
        Srm {
            checked: false,
            reason: Some("a bandit moves its split on purpose"),
            p: None,
            warning: None,
            planned: None,
            observed: None,
        }
    } else {
        let p = stats::srm_p(&observed, &planned);
        Srm {
            checked: true,
            reason: None,
            p: Some(p),
            warning: Some(p < 0.001),
            planned: Some(planned),
            observed: Some(observed),
        }
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
                FactorResults {
                    name: f.name.clone(),
                    levels: f
                        .levels
                        .iter()
                        .zip(&pooled)
                        .map(|(level, c)| {
                            let (rate, ci) = stats::rate(c.0, c.1);
                            let v = stats::versus(pooled[0], *c);
                            Level {
                                level: level.clone(),
                                exposures: c.0,
                                conversions: c.1,
                                rate,
                                rate_ci: ci,
                                effect: v.uplift,
                                effect_ci: v.uplift_ci,
                                chance_to_win: v.chance_to_win,
                            }
                        })
                        .collect(),
                }
            })
            .collect::<Vec<_>>()
    });
    let revenue = revenue_results(&state, &merchant, &key, &e.def).await?;
    Ok(axum::Json(Results {
        key,
        counting: !counted,
        status: e.row.status,
        mode: e.def.mode,
        conversion_event: e.def.conversion_event.clone(),
        attribution_hours: e.def.attribution_hours,
        served: e.row.served,
        arms,
        srm,
        daily,
        factors,
        revenue,
    })
    .into_response())
}

/// Revenue per visitor (with CUPED) and average order value per arm and
/// against the control.
async fn revenue_results(
    state: &AppState,
    merchant: &str,
    key: &str,
    def: &Definition,
) -> Result<RevenueResults, ApiError> {
    let n = def.variations.len();
    let r = ExperimentsDb(&state.store)
        .experiment_revenue(merchant, key, n)
        .await?;
    // Minor units to the currency's units.
    let unit = 10f64.powi(
        r.currency
            .as_deref()
            .and_then(crate::customers::money::exponent)
            .unwrap_or(2) as i32,
    );
    let scale = |m: &means::Moments, by: f64| means::Moments {
        n: m.n,
        sum: m.sum / by,
        sum_sq: m.sum_sq / (by * by),
    };
    let spend: Vec<means::Paired> = r
        .spend
        .iter()
        .map(|p| means::Paired {
            x: scale(&p.x, unit),
            y: scale(&p.y, unit),
            xy: p.xy / (unit * unit),
        })
        .collect();
    let orders: Vec<means::Paired> = r
        .orders
        .iter()
        .map(|p| means::Paired {
            x: scale(&p.x, unit),
            y: p.y,
            xy: p.xy / unit,
        })
        .collect();
    let theta = |i: usize| means::theta(&spend[0], &spend[i]);
    let arms = (0..n)
        .map(|i| {
            let plain = means::mean(&spend[i].x);
            let half = Z95 * (plain.variance / plain.n.max(1) as f64).sqrt();
            let aov = means::ratio(&orders[i]);
            ArmRevenue {
                variation: i,
                revenue: spend[i].x.sum,
                orders: orders[i].y.sum.round() as u64,
                per_visitor: plain.mean,
                per_visitor_ci: [plain.mean - half, plain.mean + half],
                average_order: (orders[i].y.sum > 0.0).then_some(aov.mean),
                per_visitor_vs: (i > 0).then(|| {
                    let th = theta(i);
                    means::versus(
                        &means::adjusted(&spend[0], th),
                        &means::adjusted(&spend[i], th),
                    )
                }),
                cuped_variance_reduction: (i > 0)
                    .then(|| means::variance_reduction(&spend[0], &spend[i], theta(i)))
                    .flatten(),
                average_order_vs: (i > 0).then(|| means::versus(&means::ratio(&orders[0]), &aov)),
            }
        })
        .collect();
    Ok(RevenueResults {
        currency: r.currency,
        other_currency_orders: r.other_currency_orders,
        regression_adjustment_days: def.regression_adjustment_days,
        arms,
    })
}

/// Revenue in an experiment: each unit's orders within the attribution
/// window after its exposure.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RevenueResults {
    /// The currency counted (of most orders); `null` without orders.
    pub currency: Option<String>,
    /// Orders in other currencies, left out.
    pub other_currency_orders: u64,
    /// Days of spend before exposure CUPED uses (0: off).
    pub regression_adjustment_days: u64,
    /// Per variation (the control first).
    pub arms: Vec<ArmRevenue>,
}

/// One variation's revenue.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ArmRevenue {
    /// Its index.
    pub variation: usize,
    /// Revenue of its units' orders.
    pub revenue: f64,
    /// Those orders.
    pub orders: u64,
    /// Revenue per exposed unit (visitor).
    pub per_visitor: f64,
    /// Its 95% interval.
    pub per_visitor_ci: [f64; 2],
    /// Revenue per order; `null` without orders.
    pub average_order: Option<f64>,
    /// Revenue per visitor against the control, CUPED-adjusted (not on the
    /// control).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_visitor_vs: Option<means::MeanVersus>,
    /// How much CUPED narrowed that comparison's variance (0.3 = 30%).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuped_variance_reduction: Option<f64>,
    /// Average order value against the control (delta method).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average_order_vs: Option<means::MeanVersus>,
}

/// An experiment's results.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Results {
    /// The experiment.
    pub key: String,
    /// Exposures are still being counted (after a large import, or a
    /// change of the conversion event): the figures leave some out, and
    /// fill in as the counting goes on in the background.
    pub counting: bool,
    /// Draft, running or stopped.
    pub status: Status,
    /// Fixed split or bandit.
    pub mode: Mode,
    /// The event that counts as a conversion.
    pub conversion_event: String,
    /// Hours after exposure a conversion counts.
    pub attribution_hours: u64,
    /// The variation a stopped experiment serves.
    pub served: Option<i64>,
    /// Per variation (the control first).
    pub arms: Vec<Arm>,
    /// The sample-ratio check.
    pub srm: Srm,
    /// Running totals per day.
    pub daily: Vec<DayPoint>,
    /// Per factor of a factorial experiment.
    pub factors: Option<Vec<FactorResults>>,
    /// Revenue per visitor and average order value.
    pub revenue: RevenueResults,
}

/// One variation's results.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Arm {
    /// Its index.
    pub variation: usize,
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: Value,
    /// Its share of the split now.
    pub weight: f64,
    /// Units exposed.
    pub exposures: u64,
    /// Of them, units that converted.
    pub conversions: u64,
    /// Conversions over exposures.
    pub rate: f64,
    /// Its 95% interval.
    pub rate_ci: [f64; 2],
    /// Chance it is the best arm.
    pub chance_to_be_best: f64,
    /// Against the control (not on the control): relative uplift.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uplift: Option<f64>,
    /// The uplift's 95% interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uplift_ci: Option<[f64; 2]>,
    /// Chance it beats the control.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chance_to_win: Option<f64>,
    /// Expected loss choosing the control, and choosing it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<[f64; 2]>,
}

/// The sample-ratio check: is the split what was planned?
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Srm {
    /// Whether it was checked (not for bandits).
    pub checked: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// The chi-squared test's p-value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<f64>,
    /// p < 0.001: the split is broken; do not trust the results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<bool>,
    /// The planned split.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planned: Option<Vec<f64>>,
    /// Exposures per arm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<Vec<u64>>,
}

/// Running totals up to one day.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DayPoint {
    /// The day (`YYYY-MM-DD`).
    pub day: Option<String>,
    /// Per arm.
    pub arms: Vec<DayArm>,
}

/// An arm's running totals.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DayArm {
    /// Units exposed.
    pub exposures: u64,
    /// Units converted.
    pub conversions: u64,
    /// Conversions over exposures.
    pub rate: f64,
    /// Its 95% interval.
    pub rate_ci: [f64; 2],
}

/// A factor's levels, pooled over the other factors.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FactorResults {
    /// The factor.
    pub name: String,
    /// Per level (the first is the baseline).
    pub levels: Vec<Level>,
}

/// A factor level's results against the first level.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Level {
    /// The level.
    pub level: Value,
    /// Units exposed.
    pub exposures: u64,
    /// Units converted.
    pub conversions: u64,
    /// Conversions over exposures.
    pub rate: f64,
    /// Its 95% interval.
    pub rate_ci: [f64; 2],
    /// Relative effect against the first level.
    pub effect: f64,
    /// Its 95% interval.
    pub effect_ci: [f64; 2],
    /// Chance it beats the first level.
    pub chance_to_win: f64,
}

pub(super) fn day_point(day: i64, t: &[(u64, u64)]) -> DayPoint {
    DayPoint {
        day: chrono::DateTime::from_timestamp_millis(day * 86_400_000)
            .map(|d| d.format("%Y-%m-%d").to_string()),
        arms: t
            .iter()
            .map(|(n, c)| {
                let (rate, rate_ci) = stats::rate(*n, *c);
                DayArm {
                    exposures: *n,
                    conversions: *c,
                    rate,
                    rate_ci,
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_mode_are_named_when_refused() {
        let def = |extra: Value| {
            let mut d = json!({"key": "k", "variations": ["a", "b"]});
            d.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            parse_definition(d)
        };
        let ok = def(json!({"status": "running", "mode": "bandit"})).unwrap();
        assert_eq!((ok.status, ok.mode), (Status::Running, Mode::Bandit));
        let plain = def(json!({})).unwrap();
        assert_eq!((plain.status, plain.mode), (Status::Draft, Mode::Fixed));
        for (bad, words) in [
            (
                json!({"status": "paused"}),
                "status: use draft, running or stopped",
            ),
            (json!({"mode": "greedy"}), "mode: use fixed or bandit"),
        ] {
            let e = def(bad).unwrap_err();
            assert_eq!(e.message(), words);
            assert_eq!(e.into_response().status(), StatusCode::UNPROCESSABLE_ENTITY);
        }
    }
}
