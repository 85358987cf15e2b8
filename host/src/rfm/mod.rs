//! Customer value: RFM runs. The host computes every customer's purchase
//! summary as of a date from the store ([`summary`]), asks the merchant's
//! `rfm-scorer` plugin to `fit` a model on a seeded sample, then scores the
//! whole base against it in batches, in parallel on every core, off the
//! request threads; it stores the model with the run, each customer's
//! scores and predictions, segment sizes and the movement since the
//! previous run.

pub mod batch;
pub mod live;
pub mod simulate;
pub mod slots;
pub mod store;
pub mod summary;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::platform::feature::{ConsolePage, Feature, Migration};
use crate::platform::http::Code;
use crate::platform::http::{ApiError, ForMerchant, MaybeJson, query};
use crate::platform::invoke::call_other_with;
use crate::platform::slots::{Contract, Slot};
use crate::rfm::store::{RfmDb, Run, RunStatus, Score};

/// Customer value, as registered with the platform: it serves the RFM
/// scorer slot, rescores customers as they buy, and keeps scores (erased
/// with the customer).
pub const FEATURE: Feature = Feature {
    name: "rfm",
    routes,
    migrations: &[
        Migration::new(11, "rfm", include_str!("migrations/0011_rfm.sql")),
        Migration::new(12, "rfm live", include_str!("migrations/0012_rfm_live.sql")),
        Migration::new(
            15,
            "rfm last scores",
            include_str!("migrations/0015_rfm_last_scores.sql"),
        ),
    ],
    slots: &[slots::RFM],
    privacy: Some(store::PRIVACY),
    tasks: Some(|state| live::spawn(state, std::time::Duration::from_secs(1))),
    seed_demo: Some(|state, merchant| Box::pin(seed_demo(state, merchant))),
    console: &[ConsolePage::new("rfm.js", include_str!("console.js"))],
    ..Feature::EMPTY
};

/// Customers in the sample `fit` learns from, at most.
pub const SAMPLE: usize = 100_000;
/// Customers per `score` call.
pub const BATCH: usize = 5_000;

/// The RFM scorer's memory: every good score an invoke call answers is
/// kept per customer, and the fallback answers each customer's latest
/// good score (that, or the latest run's, whichever is newer).
pub const MEMORY: crate::platform::feature::Memory = crate::platform::feature::Memory {
    remember: |state, merchant, _input, scores| {
        Box::pin(async move {
            let rows: Vec<(String, String)> = scores
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .filter_map(|s| Some((s["customer-id"].as_str()?.to_string(), s.to_string())))
                .collect();
            if let Err(e) = RfmDb(&state.store).save_rfm_scores(merchant, &rows).await {
                tracing::error!(%merchant, error = %e, "could not store RFM scores for the fallback");
            }
        })
    },
    recall: |state, merchant, input| {
        Box::pin(async move {
            // `customer-id` in 0.2.0, `customer.id` before.
            let ids: Vec<&str> = input["customers"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .map(|c| {
                    c["customer-id"]
                        .as_str()
                        .or_else(|| c.pointer("/customer/id").and_then(Value::as_str))
                        .unwrap_or_default()
                })
                .collect();
            let kept = RfmDb(&state.store)
                .rfm_scores_of(merchant, &ids)
                .await
                .unwrap_or_default();
            ids.iter()
                .map(|id| kept.get(*id).and_then(|s| serde_json::from_str(s).ok()))
                .collect()
        })
    },
};

/// The feature's routes.
fn routes(_state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(runs, start))
        .routes(routes!(run))
        .routes(routes!(members))
        .routes(routes!(members_csv))
        .routes(routes!(customer))
        .routes(routes!(live::schedule, live::set_schedule))
}

/// A run to start.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct RunIn {
    /// The date scores are as of (`YYYY-MM-DD`, UTC; orders after that day
    /// are ignored); default today.
    #[serde(default)]
    as_of: Option<String>,
    /// `days` (default) or `weeks`: the unit of the predictions' model.
    #[serde(default)]
    time_unit: Option<String>,
}

/// `POST /v1/merchants/{m}/rfm/runs`: start a run; it continues in the
/// background (`GET …/runs/{id}` shows its progress).
#[utoipa::path(post, path = "/v1/merchants/{merchant}/rfm/runs", tag = "rfm", params(("merchant" = String, Path, description = "Merchant id")), request_body = RunIn, responses((status = 202, description = "The run's id and status", body = Started), (status = 409, description = "No RFM scorer built against 0.2.0 is bound, or a run is going already"), (status = 422, description = "`as_of` or `time_unit` is refused")))]
pub async fn start(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    MaybeJson(input): MaybeJson<RunIn>,
) -> Result<Response, ApiError> {
    let input = input.unwrap_or(RunIn {
        as_of: None,
        time_unit: None,
    });
    let refuse = |field: &str, why: &str| {
        ApiError::unprocessable(Code::InvalidRun, format!("{field}: {why}")).with_field(field)
    };
    let unit = input.time_unit.unwrap_or_else(|| "days".into());
    if !matches!(unit.as_str(), "days" | "weeks") {
        return Err(refuse("time_unit", "use days or weeks"));
    }
    let now = crate::now_ms();
    let as_of = match input.as_of {
        None => now,
        Some(d) => chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 999))
            .map(|t| t.and_utc().timestamp_millis())
            .filter(|t| *t <= now + 86_400_000)
            .ok_or_else(|| refuse("as_of", "use a date like 2026-09-30, not in the future"))?,
    };
    scorer_bound(&state, &merchant)?;
    let id = begin(&state, &merchant, as_of, &unit).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Started {
            id,
            status: RunStatus::Running,
        }),
    )
        .into_response())
}

/// A run started.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Started {
    /// Its id.
    pub id: String,
    /// `running`.
    pub status: RunStatus,
}

/// The latest runs.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Runs {
    /// At most 100, newest first.
    pub runs: Vec<Run>,
}

/// A page of a run's customers.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Members {
    /// The customers, by id.
    pub customers: Vec<Score>,
    /// The cursor of the next page, if there may be one.
    pub next: Option<String>,
}

/// Record a run and start it in the background; its id. One run at a
/// time per merchant (409 `already_running`), and runs take their turn
/// among the host's background work.
pub async fn begin(
    state: &AppState,
    merchant: &str,
    as_of: i64,
    unit: &str,
) -> Result<String, ApiError> {
    let mut job = state.fair.job(merchant, "rfm run").ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            Code::AlreadyRunning,
            "the customers are being scored already; this run's results come in a moment, then start another if you need one",
        )
    })?;
    let unit_days = if unit == "weeks" { 7.0 } else { 1.0 };
    let id = format!("run-{}", hex::encode(rand::random::<[u8; 6]>()));
    RfmDb(&state.store)
        .insert_rfm_run(merchant, &id, as_of, unit, crate::now_ms())
        .await?;
    let (st, m, run_id) = (state.clone(), merchant.to_string(), id.clone());
    tokio::spawn(async move {
        job.turn().await;
        let outcome = execute(&st, &m, &run_id, as_of, unit_days).await;
        drop(job);
        let at = crate::now_ms();
        let stored = match &outcome {
            Ok((plugin, model, sizes, movement)) => {
                RfmDb(&st.store)
                    .finish_rfm_run(&m, &run_id, Ok((plugin, model, sizes, movement)), at)
                    .await
            }
            Err(why) => {
                tracing::warn!(merchant = %m, run = %run_id, %why, "an RFM run failed");
                RfmDb(&st.store)
                    .finish_rfm_run(&m, &run_id, Err(why), at)
                    .await
            }
        };
        if let Err(e) = stored {
            tracing::error!(merchant = %m, run = %run_id, error = %e, "could not record the end of an RFM run");
        }
    });
    Ok(id)
}

/// The demo merchant's first run (as of now) and a daily schedule at
/// 03:00 UTC, unless it has runs already or no scorer is bound.
pub async fn seed_demo(state: &AppState, merchant: &str) -> anyhow::Result<()> {
    if scorer_bound(state, merchant).is_err()
        || !RfmDb(&state.store).rfm_runs(merchant).await?.is_empty()
    {
        return Ok(());
    }
    let now = crate::now_ms();
    // 300 customers over the last two years, buying as real customers do
    // (drawn from BG/NBD and Gamma-Gamma models), so the first run has a
    // pattern to learn and predictions that make sense.
    let (customers, orders) = simulate::demo_lines(now);
    use crate::customers::{import::Format, import::Importer, model::Entity};
    for (entity, lines) in [(Entity::Customers, customers), (Entity::Orders, orders)] {
        let mut importer = Importer::new(&state.store, merchant, entity, Format::Ndjson);
        importer.push(lines.as_bytes()).await?;
        let summary = importer.finish().await?;
        anyhow::ensure!(
            summary.rejected == 0,
            "demo {}: {:?}",
            entity.table(),
            summary.errors
        );
    }
    begin(state, merchant, now, "weeks")
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let schedule = store::Schedule {
        hour: 3,
        time_zone: "UTC".into(),
        time_unit: "weeks".into(),
        next_at: live::next_at(now, 3, chrono_tz::UTC),
    };
    RfmDb(&state.store)
        .set_rfm_schedule(merchant, Some(&schedule))
        .await?;
    Ok(())
}

/// Refused unless an RFM scorer of the 0.2.0 contract is bound.
fn scorer_bound(state: &AppState, merchant: &str) -> Result<(), ApiError> {
    match state.bindings.get(merchant, Slot::Rfm) {
        Some(a) if a.prepared.contract != Contract::V0_1 => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::NoRfmScorer,
            format!(
                "bind an RFM scorer built against cove:policy@{} (slot `rfm-scorer`) first",
                Contract::NEWEST
            ),
        )),
    }
}

/// A deterministic pseudo-random rank of a customer within a run, for the
/// seeded sample.
fn rank(run: &str, id: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325_u64;
    for b in run.bytes().chain([0]).chain(id.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// The run itself: summaries, fit, scores, sizes, movement.
async fn execute(
    state: &AppState,
    merchant: &str,
    run: &str,
    as_of: i64,
    unit_days: f64,
) -> Result<(String, Value, Value, Value), String> {
    let fail = |e: crate::platform::store::StoreError| e.to_string();
    let started = std::time::Instant::now();
    let all = summary::summaries(&state.store, merchant, as_of, None)
        .await
        .map_err(fail)?;
    let summaries_s = started.elapsed().as_secs_f64();
    let total = all.len() as i64;
    RfmDb(&state.store)
        .rfm_progress(merchant, run, 0, total)
        .await
        .map_err(fail)?;
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by_cached_key(|i| rank(run, &all[*i].id));
    let fitting = std::time::Instant::now();
    let model = call_other_with(state, merchant, Slot::Rfm, "fit", |_| {
        let sample = order
            .iter()
            .take(SAMPLE)
            .map(|i| all[*i].to_val(as_of, unit_days))
            .collect();
        Ok(vec![
            wasmtime::component::Val::List(sample),
            wasmtime::component::Val::Float64(unit_days),
        ])
    })
    .await?;
    let fit_s = fitting.elapsed().as_secs_f64();
    drop(order);
    // A fit the data cannot pin down predicts nothing: the scores are
    // the quantiles alone, and the run says why.
    let mut model = model;
    let repeaters = all.iter().filter(|s| s.repeats()).count();
    let caution = predictions_caution(&model, repeaters);
    if caution.is_some() {
        model["bgnbd"] = Value::Null;
        model["gamma-gamma"] = Value::Null;
    }
    let scoring = std::time::Instant::now();
    // The run keeps the plugin it started with, even if another is bound
    // meanwhile (that one scores the next run).
    let active = state
        .bindings
        .get(merchant, Slot::Rfm)
        .ok_or("the RFM scorer was unbound")?;
    let plugin = active.label.clone();
    let shape = active
        .prepared
        .params
        .iter()
        .find(|(n, _)| n == "model")
        .map(|(_, s)| s)
        .ok_or("the scorer's `score` takes no model")?;
    let model_val = crate::platform::runtime::json::to_val(shape, &model)
        .map_err(|e| format!("the fitted model does not fit `score`: {e}"))?;
    // Score in batches, as many at once as there are cores.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let all = std::sync::Arc::new(all);
    let mut tasks = tokio::task::JoinSet::new();
    let (mut done, mut fallbacks, mut next) = (0i64, 0u32, 0usize);
    let mut sizes = batch::Sizes::default();
    loop {
        while tasks.len() < cores && next < all.len() {
            let (st, m, r) = (state.clone(), merchant.to_string(), run.to_string());
            let (a, mv, all, from) = (active.clone(), model_val.clone(), all.clone(), next);
            let model = model.clone();
            next = (next + BATCH).min(all.len());
            let to = next;
            tasks.spawn(async move {
                let chunk = &all[from..to];
                let (mut rows, fell_back) =
                    batch::score(&st, &m, &a, &mv, chunk, as_of, unit_days).await?;
                batch::ScoreRow::unpredicted(&mut rows, &model);
                RfmDb(&st.store)
                    .insert_rfm_scores(&m, &r, &rows, None)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>((rows, fell_back))
            });
        }
        let Some(r) = tasks.join_next().await else {
            break;
        };
        let (rows, fell_back) = r.map_err(|e| e.to_string())??;
        sizes.add(&rows);
        done += rows.len() as i64;
        fallbacks += u32::from(fell_back);
        RfmDb(&state.store)
            .rfm_progress(merchant, run, done, total)
            .await
            .map_err(fail)?;
    }
    let score_s = scoring.elapsed().as_secs_f64();
    let mut sizes = sizes.to_json();
    sizes["fallback_batches"] = json!(fallbacks);
    if let Some(why) = caution {
        sizes["predictions_off"] = why;
    }
    sizes["timings"] = json!({
        "summaries_s": summaries_s, "fit_s": fit_s, "score_s": score_s,
        "total_s": started.elapsed().as_secs_f64(),
    });
    let movement = match RfmDb(&state.store)
        .previous_rfm_run(merchant, run)
        .await
        .map_err(fail)?
    {
        Some(before) => json!({
            "from_run": before,
            "moves": RfmDb(&state.store).rfm_movement(merchant, &before, run).await.map_err(fail)?,
        }),
        None => Value::Null,
    };
    Ok((plugin, model, sizes, movement))
}

/// Customers who bought on two days or more that a run needs before it
/// predicts: fewer say too little about how often customers come back
/// and when they stop.
pub const MIN_REPEATERS: usize = 30;

/// A fitted parameter beyond e^±11 (about 60,000 or 1/60,000) means the
/// likelihood kept improving towards the edge of what can be estimated:
/// the data does not pin the model down.
const EDGE: f64 = 11.0;

/// Why the fitted `model`'s predictions cannot be trusted, if they
/// cannot: `{"reason", "message"}` with `repeaters` (too few repeat
/// customers) or `at` (the parameter at the edge, `name = value`).
pub fn predictions_caution(model: &Value, repeaters: usize) -> Option<Value> {
    if model["bgnbd"].is_null() {
        return None;
    }
    const ALONE: &str = "The segments use recency, frequency and spend alone.";
    if repeaters < MIN_REPEATERS {
        return Some(json!({
            "reason": "few_repeaters", "repeaters": repeaters, "needed": MIN_REPEATERS,
            "message": format!("Predictions are off: only {repeaters} customers bought on two days or more, and Cove needs {MIN_REPEATERS} to learn how often customers come back and when they stop. {ALONE}"),
        }));
    }
    let edge = |section: &str, names: &[&str]| {
        names.iter().find_map(|n| {
            let v = model[section][*n].as_f64()?;
            (!v.is_finite() || v <= 0.0 || v.ln().abs() > EDGE).then(|| format!("{n} = {v:.4}"))
        })
    };
    for (section, names, what) in [
        (
            "bgnbd",
            &["r", "alpha", "a", "b"][..],
            "how customers come back",
        ),
        ("gamma-gamma", &["p", "q", "v"][..], "what customers spend"),
    ] {
        if let Some(at) = edge(section, names) {
            return Some(json!({
                "reason": "not_identifiable", "at": at,
                "message": format!("Predictions are off: the history does not pin down the model of {what} (its fit ran to {at}, the edge of what can be estimated). {ALONE}"),
            }));
        }
    }
    None
}

/// `GET /v1/merchants/{m}/rfm/runs`: the latest runs, newest first.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/rfm/runs", tag = "rfm", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "Runs with their status", body = Runs)))]
pub async fn runs(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
) -> Result<Response, ApiError> {
    let runs = RfmDb(&state.store).rfm_runs(&merchant).await?;
    Ok(axum::Json(Runs { runs }).into_response())
}

/// `GET /v1/merchants/{m}/rfm/runs/{id}`: progress, then the model,
/// segment sizes and the movement from the previous run.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/rfm/runs/{id}", tag = "rfm", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Run id")), responses((status = 200, description = "The run", body = Run), (status = 404, description = "No such run")))]
pub async fn run(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    let run = RfmDb(&state.store)
        .rfm_run(&merchant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no run `{id}`")))?;
    Ok(axum::Json(run).into_response())
}

/// Which members.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// Only this named segment.
    segment: Option<String>,
    /// Only this micro-segment.
    micro: Option<String>,
    /// The last customer id of the previous page.
    cursor: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<i64>,
}

/// `GET /v1/merchants/{m}/rfm/runs/{id}/customers`: a run's customers with
/// their scores and predictions, a page at a time.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/rfm/runs/{id}/customers", tag = "rfm", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Run id"), MembersQuery), responses((status = 200, description = "A page of customers and the next cursor", body = Members)))]
pub async fn members(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    _: ForMerchant,
    q: Result<Query<MembersQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let page = RfmDb(&state.store)
        .rfm_members(
            &merchant,
            &id,
            q.segment.as_deref(),
            q.micro.as_deref(),
            q.cursor.as_deref().unwrap_or(""),
            limit,
        )
        .await?;
    let next = (page.len() as i64 == limit)
        .then(|| page.last().map(|p| p.customer_id.clone()))
        .flatten();
    Ok(axum::Json(Members {
        customers: page,
        next,
    })
    .into_response())
}

/// `GET /v1/merchants/{m}/rfm/runs/{id}/customers.csv`: the same, all of
/// them, as CSV.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/rfm/runs/{id}/customers.csv", tag = "rfm", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Run id"), MembersQuery), responses((status = 200, description = "CSV: customer, scores, segment, tier, micro-segments, predictions", body = String, content_type = "text/csv")))]
pub async fn members_csv(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    _: ForMerchant,
    q: Result<Query<MembersQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let mut out = String::from(
        "customer_id,recency,frequency,monetary,segment,tier,micro_segments,p_active,expected_purchases,expected_value,clv\n",
    );
    let mut cursor = String::new();
    loop {
        let page = RfmDb(&state.store)
            .rfm_members(
                &merchant,
                &id,
                q.segment.as_deref(),
                q.micro.as_deref(),
                &cursor,
                1000,
            )
            .await?;
        for p in &page {
            out.push_str(&csv_line(p));
        }
        match page.last() {
            Some(last) if page.len() == 1000 => cursor = last.customer_id.clone(),
            _ => break,
        }
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response())
}

/// One customer's line of the members CSV: text quoted and defused
/// (a customer id like `=HYPERLINK(…)` is not a formula in a
/// spreadsheet), numbers as they are.
fn csv_line(p: &Score) -> String {
    use crate::platform::http::csv_field;
    let number = |v: Option<f64>| {
        v.filter(|x| x.is_finite())
            .map(|x| json!(x).to_string())
            .unwrap_or_default()
    };
    let cells = [
        csv_field(&p.customer_id),
        p.recency.to_string(),
        p.frequency.to_string(),
        p.monetary.to_string(),
        csv_field(&p.segment),
        csv_field(&p.tier),
        csv_field(&p.micro_segments.join(";")),
        number(p.p_active),
        number(p.expected_purchases),
        number(p.expected_value),
        number(p.clv),
    ];
    format!("{}\n", cells.join(","))
}

/// `GET /v1/merchants/{m}/rfm/customers/{id}`: a customer's scores and
/// predictions in the latest finished run.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/rfm/customers/{id}", tag = "rfm", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Customer id")), responses((status = 200, description = "Scores, segment, tier, micro-segments, P(active), expected purchases, CLV", body = Score), (status = 404, description = "Not scored yet")))]
pub async fn customer(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    let scores = RfmDb(&state.store)
        .rfm_customer(&merchant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("customer `{id}` is not in a finished run")))?;
    Ok(axum::Json(scores).into_response())
}

#[cfg(test)]
mod tests {
    use super::{Score, csv_line};

    #[test]
    fn a_members_csv_line_is_never_a_formula() {
        let score = Score {
            customer_id: "=HYPERLINK(\"http://x.example\",\"click\")".into(),
            recency: 5,
            frequency: 4,
            monetary: 3,
            segment: "champions".into(),
            tier: "gold".into(),
            micro_segments: vec!["cart-no-order".into(), "@vip".into()],
            p_active: Some(0.5),
            expected_purchases: None,
            expected_value: Some(12.5),
            clv: Some(f64::NAN),
            rescored_at: None,
            run_id: None,
        };
        assert_eq!(
            csv_line(&score),
            "\"'=HYPERLINK(\"\"http://x.example\"\",\"\"click\"\")\",5,4,3,champions,gold,cart-no-order;@vip,0.5,,12.5,\n"
        );
    }
}
