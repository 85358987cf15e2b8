//! RFM between runs: the daily schedule (started once, whichever replica
//! claims it) and real-time rescoring — a customer with a new order or
//! event is scored again at once against the latest run's model, without
//! a refit, so micro-segments such as "added to cart in the last 24 h and
//! no order since" follow the customer.

use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::TimeZone;
use serde_json::{Value, json};

use super::store::Schedule;
use super::summary;
use crate::AppState;
use crate::platform::http::Code;
use crate::platform::http::{ApiError, ForMerchant, JsonBody};
use crate::platform::invoke::invoke;
use crate::platform::slots::Slot;
use crate::rfm::store::RfmDb;

/// The first instant after `now` (ms) at `hour`:00 in `tz`.
pub fn next_at(now: i64, hour: u32, tz: chrono_tz::Tz) -> i64 {
    let today = tz
        .timestamp_millis_opt(now)
        .single()
        .map(|t| t.date_naive())
        .unwrap_or_default();
    (0..=2)
        .filter_map(|d| {
            let day = today + chrono::Days::new(d);
            // A start inside a daylight-saving gap moves on an hour.
            (hour..hour + 2).find_map(|h| {
                let local = day.and_hms_opt(h % 24, 0, 0)?;
                tz.from_local_datetime(&local).earliest()
            })
        })
        .map(|t| t.timestamp_millis())
        .find(|t| *t > now)
        .unwrap_or(now + 86_400_000)
}

/// A daily run to set: `{"hour", "time_zone", "time_unit", "start_now"}`,
/// or `{"enabled": false}` to stop it.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct ScheduleIn {
    /// `false` removes the schedule; default true.
    #[serde(default)]
    enabled: Option<bool>,
    /// Hour of the day, 0–23, in `time_zone` (default 3).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 23)]
    hour: Option<u32>,
    /// IANA time zone (default `UTC`).
    #[serde(default)]
    time_zone: Option<String>,
    /// `days` (default) or `weeks`.
    #[serde(default)]
    time_unit: Option<String>,
    /// Also run now (then daily at the hour).
    #[serde(default)]
    start_now: bool,
}

/// `GET /v1/merchants/{m}/rfm/schedule`: the daily run, or `null`.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/rfm/schedule", tag = "rfm", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "`{schedule: {hour, time_zone, time_unit, next_at} | null}`", body = ScheduleNow)))]
pub async fn schedule(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
) -> Result<Response, ApiError> {
    let schedule = RfmDb(&state.store).rfm_schedule(&merchant).await?;
    Ok(axum::Json(ScheduleNow { schedule }).into_response())
}

/// `PUT /v1/merchants/{m}/rfm/schedule`: run RFM every day at an hour of
/// the merchant's time zone; several replicas start it once.
#[utoipa::path(put, path = "/v1/merchants/{merchant}/rfm/schedule", tag = "rfm", params(("merchant" = String, Path, description = "Merchant id")), request_body = ScheduleIn, responses((status = 200, description = "The schedule in force, or `null`", body = ScheduleNow), (status = 409, description = "No RFM scorer built against 0.2.0 is bound"), (status = 422, description = "A field is refused; `field` names it")))]
pub async fn set_schedule(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    JsonBody(input): JsonBody<ScheduleIn>,
) -> Result<Response, ApiError> {
    // Every field is checked, even when the schedule is removed: a body
    // with a wrong field is refused whole.
    let refuse = |field: &str, why: &str| {
        ApiError::unprocessable(Code::InvalidSchedule, format!("{field}: {why}")).with_field(field)
    };
    let hour = input.hour.unwrap_or(3);
    if hour > 23 {
        return Err(refuse("hour", "use an hour from 0 to 23"));
    }
    let zone = input.time_zone.unwrap_or_else(|| "UTC".into());
    let tz: chrono_tz::Tz = zone
        .parse()
        .map_err(|_| refuse("time_zone", "use a time zone like Europe/Paris or UTC"))?;
    let unit = input.time_unit.unwrap_or_else(|| "days".into());
    if !matches!(unit.as_str(), "days" | "weeks") {
        return Err(refuse("time_unit", "use days or weeks"));
    }
    if input.enabled == Some(false) {
        RfmDb(&state.store)
            .set_rfm_schedule(&merchant, None)
            .await?;
        return Ok(axum::Json(ScheduleNow { schedule: None }).into_response());
    }
    super::scorer_bound(&state, &merchant)?;
    let now = crate::now_ms();
    let s = Schedule {
        hour,
        time_zone: zone,
        time_unit: unit,
        next_at: if input.start_now {
            now
        } else {
            next_at(now, hour, tz)
        },
    };
    RfmDb(&state.store)
        .set_rfm_schedule(&merchant, Some(&s))
        .await?;
    Ok(axum::Json(ScheduleNow { schedule: Some(s) }).into_response())
}

/// A merchant's daily run, if it has one.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ScheduleNow {
    /// The schedule; null when there is none.
    pub schedule: Option<Schedule>,
}

/// Start the background work: due schedules are checked every `every`,
/// and announced customer activity is rescored as it comes.
pub fn spawn(state: &AppState, every: Duration) {
    let st = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = start_due(&st).await {
                tracing::warn!(error = ?e, "could not check the RFM schedules");
            }
        }
    });
    let st = state.clone();
    let mut activity = state.get::<crate::customers::Activities>().0.subscribe();
    tokio::spawn(async move {
        loop {
            match activity.recv().await {
                Ok(a) => match rescore(&st, &a.merchant, &a.customers).await {
                    Ok(_) => {}
                    Err(why) => {
                        tracing::warn!(merchant = %a.merchant, %why, "could not rescore customers; the next run will")
                    }
                },
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "RFM rescoring fell behind; those customers wait for the next run"
                    )
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

/// Start every due daily run this replica claims.
async fn start_due(state: &AppState) -> Result<(), ApiError> {
    let now = crate::now_ms();
    for (merchant, s) in RfmDb(&state.store).due_rfm_schedules(now).await? {
        let tz: chrono_tz::Tz = s.time_zone.parse().unwrap_or(chrono_tz::UTC);
        let next = next_at(now, s.hour, tz);
        if !RfmDb(&state.store)
            .claim_rfm_schedule(&merchant, s.next_at, next)
            .await?
        {
            continue; // Another replica has it.
        }
        if super::scorer_bound(state, &merchant).is_err() {
            tracing::warn!(%merchant, "the daily RFM run is skipped: no RFM scorer is bound");
            continue;
        }
        match super::begin(state, &merchant, now, &s.time_unit).await {
            Ok(id) => tracing::info!(%merchant, run = %id, "started the daily RFM run"),
            Err(e) => {
                tracing::warn!(%merchant, error = %e.message(), "the daily RFM run did not start")
            }
        }
    }
    Ok(())
}

/// Score `customers` again, as of now, against the latest finished run's
/// model, and store the scores in that run (`rescored_at`). Nothing to do
/// before a first run. How many were rescored.
pub async fn rescore(
    state: &AppState,
    merchant: &str,
    customers: &[String],
) -> Result<usize, String> {
    if super::scorer_bound(state, merchant).is_err() {
        return Ok(0);
    }
    let Some((run, model, unit)) = RfmDb(&state.store)
        .latest_rfm_model(merchant)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(0);
    };
    let now = crate::now_ms();
    let unit_days = if unit == "weeks" { 7.0 } else { 1.0 };
    let found = summary::summaries(&state.store, merchant, now, Some(customers))
        .await
        .map_err(|e| e.to_string())?;
    if found.is_empty() {
        return Ok(0);
    }
    let body = json!({
        "model": model,
        "customers": found.iter().map(|s| s.to_wit(now, unit_days)).collect::<Vec<Value>>(),
    })
    .to_string();
    let answer = invoke(state, merchant, Slot::Rfm, body.as_bytes())
        .await
        .map_err(|e| format!("{e:?}"))?;
    if answer.fallback.is_some() {
        // The last good scores stay.
        return Ok(0);
    }
    let mut scores: Vec<super::batch::ScoreRow> = answer
        .result
        .as_array()
        .map(|a| a.iter().map(super::batch::ScoreRow::from_json).collect())
        .unwrap_or_default();
    super::batch::ScoreRow::unpredicted(&mut scores, &model);
    RfmDb(&state.store)
        .insert_rfm_scores(merchant, &run, &scores, Some(now))
        .await
        .map_err(|e| e.to_string())?;
    Ok(scores.len())
}

#[cfg(test)]
mod tests {
    use super::next_at;

    #[test]
    fn the_next_start_is_the_coming_hour_in_the_zone() {
        // 2026-03-28 12:00 UTC; Paris is UTC+1 until the 29th's change.
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-28T12:00:00Z")
            .unwrap()
            .timestamp_millis();
        let paris: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_millis()
        };
        // 03:00 tomorrow in Paris is after the change: UTC+2.
        assert_eq!(next_at(now, 3, paris), at("2026-03-29T01:00:00Z"));
        // 02:00 does not exist that night: it starts at 03:00 local.
        assert_eq!(next_at(now, 2, paris), at("2026-03-29T01:00:00Z"));
        // Later today.
        assert_eq!(next_at(now, 18, paris), at("2026-03-28T17:00:00Z"));
        assert_eq!(next_at(now, 12, chrono_tz::UTC), at("2026-03-29T12:00:00Z"));
    }
}
