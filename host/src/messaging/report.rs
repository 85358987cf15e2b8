//! What the plans did over a period: contacts per customer per week, the
//! deferrals and drops by reason, suppressions by cause, and the channel
//! mix by region.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sqlx::Row;

use super::profile::region;
use crate::AppState;
use crate::platform::http::{ApiError, ForMerchant, days_back, query};

/// The period.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Days back from now (default 28, at most 366).
    days: Option<i64>,
}

/// `GET /v1/merchants/{m}/sends/report`: the plans of the last `days`.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/sends/report", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id"), ReportQuery), responses((status = 400, description = "`days` is not from 1 to 366"), (status = 200, description = "`per_customer_week` (contacts → customer-weeks), `planned`, `dropped`, `deferred_by_reason`, `dropped_by_reason`, `suppressions_by_cause`, `channels_by_region`, `outcomes` (sent, delivered, failed, bounced)", body = serde_json::Value)))]
pub async fn report(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (days, since) = days_back(query(q)?.days, 28, 366)?;
    let pool = &state.store.pool;
    let rows = sqlx::query(
        "SELECT k.customer_id, k.channel, k.send_at, k.status, k.reason, c.country FROM contacts k \
         LEFT JOIN customers c ON c.merchant_id = k.merchant_id AND c.id = k.customer_id \
         WHERE k.merchant_id = $1 AND k.created_at >= $2",
    )
    .bind(&merchant)
    .bind(since)
    .fetch_all(pool)
    .await?;
    let (mut planned, mut dropped) = (0u64, 0u64);
    let mut weeks: BTreeMap<(String, i64), u64> = BTreeMap::new();
    let mut deferred_by: BTreeMap<String, u64> = BTreeMap::new();
    let mut dropped_by: BTreeMap<String, u64> = BTreeMap::new();
    let mut mix: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
    for r in &rows {
        let customer: String = r.try_get(0)?;
        let reason: Option<String> = r.try_get(4)?;
        if r.try_get::<String, _>(3)? == "planned" {
            planned += 1;
            let channel: String = r.try_get(1)?;
            let at: i64 = r.try_get(2)?;
            *weeks
                .entry((customer, at.div_euclid(7 * crate::DAY_MS)))
                .or_default() += 1;
            if let Some(why) = reason {
                // "quiet hours 21:00–09:00 local time (Asia/Tokyo)" counts
                // with every other zone's.
                let rule = match why.rsplit_once(" (") {
                    Some((rule, _)) if why.ends_with(')') => rule.to_string(),
                    _ => why,
                };
                *deferred_by.entry(rule).or_default() += 1;
            }
            let country: Option<String> = r.try_get(5)?;
            *mix.entry(region(country.as_deref().unwrap_or("")))
                .or_default()
                .entry(channel)
                .or_default() += 1;
        } else {
            dropped += 1;
            // "email: cap-reached; sms: no consent" counts once per cause.
            for part in reason.unwrap_or_default().split("; ") {
                let why = part.split_once(": ").map_or(part, |(_, w)| w);
                *dropped_by.entry(why.to_string()).or_default() += 1;
            }
        }
    }
    let mut per_week: BTreeMap<u64, u64> = BTreeMap::new();
    for n in weeks.values() {
        *per_week.entry(*n).or_default() += 1;
    }
    // Suppressions: consent withdrawn (by source), unsubscribes and
    // complaints (by channel), in the period.
    let mut suppressions: BTreeMap<String, u64> = BTreeMap::new();
    for r in sqlx::query(
        "SELECT COALESCE(source, 'import'), CAST(COUNT(*) AS BIGINT) FROM consents \
         WHERE merchant_id = $1 AND status = 'withdrawn' AND at >= $2 GROUP BY COALESCE(source, 'import')",
    )
    .bind(&merchant)
    .bind(since)
    .fetch_all(pool)
    .await
    ?
    {
        let source: String = r.try_get(0)?;
        suppressions.insert(
            format!("consent withdrawn ({source})"),
            r.try_get::<i64, _>(1)? as u64,
        );
    }
    for r in sqlx::query(
        "SELECT kind, CAST(COUNT(*) AS BIGINT) FROM customer_events \
         WHERE merchant_id = $1 AND kind IN ('unsubscribed', 'complained', 'bounced') AND at >= $2 GROUP BY kind",
    )
    .bind(&merchant)
    .bind(since)
    .fetch_all(pool)
    .await
    ?
    {
        let kind: String = r.try_get(0)?;
        let cause = if kind == "bounced" { "hard bounce".into() } else { kind };
        suppressions.insert(cause, r.try_get::<i64, _>(1)? as u64);
    }
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    for r in sqlx::query(
        "SELECT outcome, CAST(COUNT(*) AS BIGINT) FROM contacts \
         WHERE merchant_id = $1 AND created_at >= $2 AND outcome IS NOT NULL GROUP BY outcome",
    )
    .bind(&merchant)
    .bind(since)
    .fetch_all(pool)
    .await?
    {
        outcomes.insert(r.try_get(0)?, r.try_get::<i64, _>(1)? as u64);
    }
    Ok(axum::Json(json!({
        "days": days,
        "outcomes": outcomes,
        "planned": planned,
        "dropped": dropped,
        "per_customer_week": per_week,
        "deferred_by_reason": deferred_by,
        "dropped_by_reason": dropped_by,
        "suppressions_by_cause": suppressions,
        "channels_by_region": mix,
    }))
    .into_response())
}

/// Whose contacts.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactsQuery {
    /// The customer.
    customer_id: String,
}

/// `GET /v1/merchants/{m}/sends/contacts?customer_id=`: a customer's
/// planned and dropped contacts, newest first (at most 200), each with the
/// trail of why it was allowed, deferred or dropped.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/sends/contacts", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id"), ContactsQuery), responses((status = 200, description = "`{contacts: [{id, channel, category, campaign_id, send_at, status, reason, trail, created_at, outcome, outcome_at}]}`", body = serde_json::Value)))]
pub async fn contacts(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    q: Result<Query<ContactsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let customer = query(q)?.customer_id;
    let rows = sqlx::query(
        "SELECT id, channel, category, campaign_id, send_at, status, reason, trail, created_at, outcome, outcome_at FROM contacts \
         WHERE merchant_id = $1 AND customer_id = $2 ORDER BY created_at DESC, id DESC LIMIT 200",
    )
    .bind(&merchant)
    .bind(&customer)
    .fetch_all(&state.store.pool)
    .await
    ?;
    let list = rows
        .iter()
        .map(|r| {
            Ok(json!({
                "id": r.try_get::<String, _>(0)?,
                "channel": r.try_get::<Option<String>, _>(1)?,
                "category": r.try_get::<String, _>(2)?,
                "campaign_id": r.try_get::<String, _>(3)?,
                "send_at": r.try_get::<Option<i64>, _>(4)?,
                "status": r.try_get::<String, _>(5)?,
                "reason": r.try_get::<Option<String>, _>(6)?,
                "trail": serde_json::from_str::<serde_json::Value>(&r.try_get::<String, _>(7)?).unwrap_or_default(),
                "created_at": r.try_get::<i64, _>(8)?,
                "outcome": r.try_get::<Option<String>, _>(9)?,
                "outcome_at": r.try_get::<Option<i64>, _>(10)?,
            }))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        ?;
    Ok(axum::Json(json!({"contacts": list})).into_response())
}
