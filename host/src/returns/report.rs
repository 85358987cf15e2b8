//! The merchant's returns report: the human queue, return rates by
//! category and reason, and refunds and fees per week.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::AppState;
use crate::platform::http::{ApiError, ForMerchant, days_back, query};

use crate::DAY_MS;

/// Query of the report.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Days back from now (default 90, 1 to 365).
    days: Option<i64>,
}

/// `GET /v1/merchants/{m}/returns/report`: returns started in the last
/// `days` days: by status, the queue, units returned over units sold per
/// category, reasons, and money returned per week and currency.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/returns/report", tag = "returns", params(("merchant" = String, Path, description = "Merchant id"), ReportQuery), responses((status = 200, description = "The report", body = serde_json::Value)))]
pub async fn report(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (days, since) = days_back(query(q)?.days, 90, 365)?;
    let settled = state.store.returns_since(&merchant, since).await?;
    let sold = state.store.units_by_category(&merchant, since).await?;
    let mut by_status: BTreeMap<&str, i64> = BTreeMap::new();
    let mut by_reason: BTreeMap<&str, i64> = BTreeMap::new();
    let mut returned: BTreeMap<&str, i64> = BTreeMap::new();
    let mut weeks: BTreeMap<(i64, &str), (i64, i64)> = BTreeMap::new();
    for s in &settled {
        *by_status.entry(&s.status).or_default() += 1;
        *by_reason
            .entry(s.reason.as_deref().unwrap_or("not given"))
            .or_default() += 1;
        let refunded = matches!(s.status.as_str(), "approved" | "accepted");
        if refunded {
            *returned
                .entry(s.category.as_deref().unwrap_or("uncategorised"))
                .or_default() += s.quantity;
            // Weeks start on Monday (1970-01-01 was a Thursday).
            let week = (s.created_at.div_euclid(DAY_MS) + 3).div_euclid(7) * 7 - 3;
            let w = weeks
                .entry((week, s.currency.as_deref().unwrap_or("")))
                .or_default();
            w.0 += s.refund_minor;
            w.1 += s.fees_minor;
        }
    }
    let categories: Vec<_> = sold
        .keys()
        .map(String::as_str)
        .chain(returned.keys().copied())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|c| {
            let (back, out) = (
                returned.get(c).copied().unwrap_or(0),
                sold.get(c).copied().unwrap_or(0),
            );
            json!({"category": c, "returned_units": back, "sold_units": out,
                   "rate": if out > 0 { Some(back as f64 / out as f64) } else { None }})
        })
        .collect();
    let money: Vec<_> = weeks
        .into_iter()
        .map(|((week, currency), (refunds, fees))| {
            let day = chrono::DateTime::from_timestamp_millis(week * DAY_MS)
                .map(|d| d.format("%Y-%m-%d").to_string());
            json!({"week": day, "currency": currency, "refunds_minor": refunds, "fees_minor": fees})
        })
        .collect();
    let queue = state
        .store
        .returns_list(&merchant, Some("review"), 1000)
        .await?;
    Ok(axum::Json(json!({
        "days": days,
        "queue": {
            "priority": queue.iter().filter(|r| r.queue.as_deref() == Some("priority")).count(),
            "standard": queue.iter().filter(|r| r.queue.as_deref() != Some("priority")).count(),
        },
        "by_status": by_status,
        "by_category": categories,
        "by_reason": by_reason,
        "money": money,
    }))
    .into_response())
}
