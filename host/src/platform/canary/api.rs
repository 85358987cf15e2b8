//! The canary's routes: start one, read its state and analysis, raise it
//! a step (past the last: promote), roll it back.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{Bounds, CanaryEvent, CanaryRow, Check, Counts, DEFAULT_STEPS};
use crate::AppState;
use crate::platform::http::{ApiError, Code, ForMerchant, JsonBody};
use crate::platform::slots::Slot;

/// A candidate to give a share of a slot's units.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CanaryIn {
    /// `name@version` of a published plugin of the slot.
    pub plugin: String,
    /// The shares of the steps, in percent, rising, each below 100
    /// (default `[1, 5, 25]`); past the last, the candidate is bound.
    pub steps: Option<Vec<f64>>,
    /// Minutes between automatic steps (1–10080); none: raised by hand.
    pub every_minutes: Option<i64>,
    /// How much higher the candidate's failure rate may be (0–1, default
    /// 0.01: one point).
    pub max_failure_rise: Option<f64>,
    /// How far the share of any kind of answer may move (0–1, default
    /// 0.1; 1 turns the check off).
    pub max_answer_shift: Option<f64>,
}

/// A canary's state and analysis.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CanaryReport {
    /// Its id.
    pub id: i64,
    /// The slot.
    pub slot: &'static str,
    /// What the canary splits by (`customers`, `visitors`).
    pub units: &'static str,
    /// The live version.
    pub live: String,
    /// The candidate.
    pub candidate: String,
    /// `running`, `rolled_back` or `promoted`.
    pub state: String,
    /// The candidate's share now, in percent (0 once ended).
    pub share: f64,
    /// The steps' shares, in percent.
    pub steps: Vec<f64>,
    /// The step in force (0-based).
    pub step: usize,
    /// Minutes between automatic steps.
    pub every_minutes: Option<i64>,
    /// When the next automatic step comes (ms).
    pub next_step_at: Option<i64>,
    /// Its bounds.
    pub bounds: Bounds,
    /// Both versions' calls, on every replica.
    pub counts: Counts,
    /// The analysis.
    pub checks: Vec<Check>,
    /// Where it stands, in a sentence.
    pub summary: String,
    /// Why it ended.
    pub reason: Option<String>,
    /// Started (ms).
    pub started_at: i64,
    /// Ended (ms).
    pub ended_at: Option<i64>,
    /// Its history: start, steps, rollback or promotion.
    pub events: Vec<CanaryEvent>,
}

fn slot_of(name: &str) -> Result<Slot, ApiError> {
    Slot::from_world(name).ok_or_else(|| ApiError::not_found(format!("no slot `{name}`")))
}

fn invalid(message: impl Into<String>, field: &str) -> ApiError {
    ApiError::unprocessable(Code::InvalidCanary, message).with_field(field)
}

/// `PUT /v1/merchants/{m}/slots/{slot}/canary`: a candidate answers for a
/// share of the slot's units, raised in steps, taken back by itself when
/// it fails more or answers differently beyond the bounds.
#[utoipa::path(put, path = "/v1/merchants/{merchant}/slots/{slot}/canary", tag = "policies", params(("merchant" = String, Path, description = "Merchant id"), ("slot" = String, Path, description = "Slot")), request_body = CanaryIn, responses((status = 200, description = "Started", body = CanaryReport), (status = 404, description = "No such version"), (status = 409, description = "No live version, a canary running already, or a publisher's revoked key"), (status = 422, description = "Steps, schedule or bounds out of range; another slot's plugin, the live one, or one that refuses the settings in force")))]
pub async fn start(
    State(state): State<AppState>,
    Path((merchant, slot_name)): Path<(String, String)>,
    caller: ForMerchant,
    JsonBody(req): JsonBody<CanaryIn>,
) -> Result<Response, ApiError> {
    let slot = slot_of(&slot_name)?;
    if state.slot_policy(slot).units.is_none() {
        return Err(invalid(
            format!(
                "{slot} runs in batches, with no one customer to split by: bind the new version, or shadow it"
            ),
            "plugin",
        ));
    }
    let steps = req.steps.unwrap_or_else(|| DEFAULT_STEPS.to_vec());
    if steps.is_empty() || steps.len() > 10 {
        return Err(invalid("steps: give from 1 to 10 shares", "steps"));
    }
    if steps.iter().any(|p| !(*p >= 0.01 && *p < 100.0)) {
        return Err(invalid(
            "steps: each share is a percentage from 0.01 to below 100 (past the last step, the version is bound for everyone)",
            "steps",
        ));
    }
    if steps.windows(2).any(|w| w[1] <= w[0]) {
        return Err(invalid(
            "steps: each share must be larger than the one before",
            "steps",
        ));
    }
    if let Some(m) = req.every_minutes
        && !(1..=10_080).contains(&m)
    {
        return Err(invalid(
            "every_minutes: from 1 to 10080 (a week); leave it out to raise the share by hand",
            "every_minutes",
        ));
    }
    let defaults = Bounds::default();
    let bounds = Bounds {
        max_failure_rise: req.max_failure_rise.unwrap_or(defaults.max_failure_rise),
        max_answer_shift: req.max_answer_shift.unwrap_or(defaults.max_answer_shift),
    };
    for (field, v) in [
        ("max_failure_rise", bounds.max_failure_rise),
        ("max_answer_shift", bounds.max_answer_shift),
    ] {
        if !(v > 0.0 && v <= 1.0) {
            return Err(invalid(
                format!("{field}: a share above 0 and at most 1 (0.05: five points)"),
                field,
            ));
        }
    }
    let (live, row) =
        crate::platform::policy::candidate(&state, &merchant, slot, &req.plugin, "canarying")
            .await?;
    if live.plugin.id == row.id {
        return Err(ApiError::unprocessable(
            Code::InvalidPluginRef,
            format!("plugin: `{}` is the live version already", req.plugin),
        )
        .with_field("plugin"));
    }
    if let Some(running) = state.store.latest_canary(&merchant, slot.world()).await?
        && running.state == "running"
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::AlreadyRunning,
            format!("a canary runs on {slot} already: roll it back or promote it first"),
        ));
    }
    let now = crate::now_ms();
    let id = (rand::random::<u64>() >> 11) as i64;
    state
        .store
        .insert_canary(&CanaryRow {
            id,
            merchant: merchant.clone(),
            slot: slot.world().to_string(),
            plugin_id: row.id,
            steps: steps.clone(),
            step: 0,
            every_minutes: req.every_minutes,
            bounds,
            state: "running".into(),
            reason: None,
            started_at: now,
            stepped_at: now,
            ended_at: None,
        })
        .await?;
    state
        .store
        .record_event(
            &merchant,
            slot.world(),
            "canary",
            &caller.actor,
            &serde_json::json!({"canary": id, "plugin": req.plugin, "share": steps[0]}),
        )
        .await?;
    state.refresh_bindings().await.map_err(ApiError::internal)?;
    report(&state, &merchant, slot).await
}

/// `GET /v1/merchants/{m}/slots/{slot}/canary`: the slot's newest canary,
/// running or ended, with its analysis and history.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/slots/{slot}/canary", tag = "policies", params(("merchant" = String, Path, description = "Merchant id"), ("slot" = String, Path, description = "Slot")), responses((status = 200, description = "The canary", body = CanaryReport), (status = 404, description = "No canary ever ran on the slot")))]
pub async fn get(
    State(state): State<AppState>,
    Path((merchant, slot_name)): Path<(String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    report(&state, &merchant, slot_of(&slot_name)?).await
}

/// `POST /v1/merchants/{m}/slots/{slot}/canary/advance`: raise the share
/// to the next step; past the last, bind the candidate for everyone.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/slots/{slot}/canary/advance", tag = "policies", params(("merchant" = String, Path, description = "Merchant id"), ("slot" = String, Path, description = "Slot")), responses((status = 200, description = "Raised, or promoted", body = CanaryReport), (status = 409, description = "No canary running")))]
pub async fn advance(
    State(state): State<AppState>,
    Path((merchant, slot_name)): Path<(String, String)>,
    caller: ForMerchant,
) -> Result<Response, ApiError> {
    let slot = slot_of(&slot_name)?;
    let row = running(&state, &merchant, slot).await?;
    super::advance(&state, &row, &caller.actor).await?;
    state.refresh_bindings().await.map_err(ApiError::internal)?;
    report(&state, &merchant, slot).await
}

/// `POST /v1/merchants/{m}/slots/{slot}/canary/rollback`: take the
/// candidate back now; every unit gets the live version.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/slots/{slot}/canary/rollback", tag = "policies", params(("merchant" = String, Path, description = "Merchant id"), ("slot" = String, Path, description = "Slot")), responses((status = 200, description = "Rolled back", body = CanaryReport), (status = 409, description = "No canary running")))]
pub async fn rollback(
    State(state): State<AppState>,
    Path((merchant, slot_name)): Path<(String, String)>,
    caller: ForMerchant,
) -> Result<Response, ApiError> {
    let slot = slot_of(&slot_name)?;
    let row = running(&state, &merchant, slot).await?;
    super::roll_back(
        &state,
        &merchant,
        slot,
        row.id,
        &format!("rolled back by {}", caller.actor),
        &caller.actor,
    )
    .await?;
    state.refresh_bindings().await.map_err(ApiError::internal)?;
    report(&state, &merchant, slot).await
}

async fn running(state: &AppState, merchant: &str, slot: Slot) -> Result<CanaryRow, ApiError> {
    state
        .store
        .latest_canary(merchant, slot.world())
        .await?
        .filter(|r| r.state == "running")
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                Code::Conflict,
                format!("no canary runs on {slot}: start one first"),
            )
        })
}

async fn report(state: &AppState, merchant: &str, slot: Slot) -> Result<Response, ApiError> {
    let row = state
        .store
        .latest_canary(merchant, slot.world())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no canary ever ran on {slot}")))?;
    let counts = match state.canaries.find(row.id) {
        Some(c) => c.counts(),
        None => {
            let mut all = Counts::default();
            for (_, counts) in state.store.canary_counts(row.id).await? {
                if let Ok(c) = serde_json::from_str::<Counts>(&counts) {
                    all.add(&c);
                }
            }
            all
        }
    };
    let candidate = state
        .store
        .plugin_by_id(row.plugin_id)
        .await?
        .map_or_else(String::new, |p| format!("{}@{}", p.name, p.version));
    let live = state
        .bindings
        .get(merchant, slot)
        .map_or_else(|| "the live version".to_string(), |a| a.label.clone());
    let checks = super::analyse(&counts, &row.bounds);
    let units = state.slot_policy(slot).units.unwrap_or("calls");
    let running = row.state == "running";
    let share = if running {
        row.steps.get(row.step).copied().unwrap_or(100.0)
    } else {
        0.0
    };
    let summary = in_words(&row, &candidate, &live, units, share, &counts, &checks);
    Ok(axum::Json(CanaryReport {
        id: row.id,
        slot: slot.world(),
        units,
        live,
        candidate,
        share,
        next_step_at: row
            .every_minutes
            .filter(|_| running)
            .map(|m| row.stepped_at + m * 60_000),
        events: state
            .store
            .canary_events(merchant, slot.world(), row.started_at)
            .await?,
        state: row.state,
        steps: row.steps,
        step: row.step,
        every_minutes: row.every_minutes,
        bounds: row.bounds,
        counts,
        checks,
        summary,
        reason: row.reason,
        started_at: row.started_at,
        ended_at: row.ended_at,
    })
    .into_response())
}

/// Where a canary stands, in a sentence a merchant reads.
fn in_words(
    row: &CanaryRow,
    candidate: &str,
    live: &str,
    units: &str,
    share: f64,
    counts: &Counts,
    checks: &[Check],
) -> String {
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    let (c, l) = (&counts.candidate, &counts.live);
    let rate = |x: u64, n: u64| if n == 0 { 0.0 } else { x as f64 / n as f64 };
    let so_far = if c.calls + l.calls == 0 {
        "No decisions yet.".to_string()
    } else {
        format!(
            "{candidate} answered {} calls and failed on {} ({}), against {} of {} ({}) for {live}.",
            c.calls,
            c.failed,
            pct(rate(c.failed, c.calls)),
            l.failed,
            l.calls,
            pct(rate(l.failed, l.calls)),
        )
    };
    match row.state.as_str() {
        "running" => {
            let mut out = format!(
                "{candidate} answers for {share}% of {units} (step {} of {}); {live} for the rest. {so_far}",
                row.step + 1,
                row.steps.len()
            );
            if let Some(moved) = checks
                .iter()
                .skip(1)
                .max_by(|a, b| {
                    (a.candidate - a.live)
                        .abs()
                        .total_cmp(&(b.candidate - b.live).abs())
                })
                .filter(|c| (c.candidate - c.live).abs() >= 0.005)
            {
                out.push_str(&format!(
                    " It answers `{}` on {} of its calls against {}.",
                    moved.what.trim_start_matches("answer "),
                    pct(moved.candidate),
                    pct(moved.live)
                ));
            }
            out.push_str(" No sign of trouble so far: Cove takes it back by itself if it fails more, or answers differently, beyond the bounds.");
            out
        }
        "promoted" => {
            format!("{candidate} was promoted: it answers for all {units}. {so_far}")
        }
        _ => format!(
            "Rolled back: {}. All {units} get {live} again. {so_far}",
            row.reason.as_deref().unwrap_or("by hand")
        ),
    }
}
