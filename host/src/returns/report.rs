//! The merchant's returns report: the human queue, return rates by
//! category and reason, and refunds and fees per week.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::platform::http::{ApiError, ForMerchant, days_back, query};

use super::store::{PhotoStorage, ReturnStatus};
use crate::DAY_MS;
use crate::returns::store::ReturnsDb;

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
#[utoipa::path(get, path = "/v1/merchants/{merchant}/returns/report", tag = "returns", params(("merchant" = String, Path, description = "Merchant id"), ReportQuery), responses((status = 200, description = "The report", body = Report)))]
pub async fn report(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (days, since) = days_back(query(q)?.days, 90, 365)?;
    let settled = ReturnsDb(&state.store)
        .returns_since(&merchant, since)
        .await?;
    let sold = ReturnsDb(&state.store)
        .units_by_category(&merchant, since)
        .await?;
    let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_reason: BTreeMap<String, i64> = BTreeMap::new();
    let mut returned: BTreeMap<&str, i64> = BTreeMap::new();
    let mut weeks: BTreeMap<(i64, &str), (i64, i64)> = BTreeMap::new();
    for s in &settled {
        *by_status.entry(s.status.to_string()).or_default() += 1;
        *by_reason
            .entry(s.reason.as_deref().unwrap_or("not given").to_string())
            .or_default() += 1;
        if s.status.refunded() {
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
            CategoryRate {
                category: c.to_string(),
                returned_units: back,
                sold_units: out,
                rate: (out > 0).then(|| back as f64 / out as f64),
            }
        })
        .collect();
    let money: Vec<_> = weeks
        .into_iter()
        .map(|((week, currency), (refunds, fees))| {
            let day = chrono::DateTime::from_timestamp_millis(week * DAY_MS)
                .map(|d| d.format("%Y-%m-%d").to_string());
            WeekMoney {
                week: day.unwrap_or_default(),
                currency: currency.to_string(),
                refunds_minor: refunds,
                fees_minor: fees,
            }
        })
        .collect();
    let queue = ReturnsDb(&state.store)
        .returns_list(&merchant, Some(ReturnStatus::Review), 1000)
        .await?;
    let priority = queue
        .iter()
        .filter(|r| r.queue.as_deref() == Some("priority"))
        .count();
    Ok(axum::Json(Report {
        days,
        queue: Queue {
            priority,
            standard: queue.len() - priority,
        },
        by_status,
        by_category: categories,
        by_reason,
        money,
        photos: PhotoStorage {
            used_bytes: ReturnsDb(&state.store).photo_bytes(&merchant).await?,
            quota_bytes: i64::from(state.fair.limits(&merchant).upload_mb) << 20,
        },
    })
    .into_response())
}

/// The returns report.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Report {
    /// Days covered, back from now.
    pub days: i64,
    /// What customers' photos take of the shop's upload quota (all time).
    pub photos: PhotoStorage,
    /// Returns waiting for a person.
    pub queue: Queue,
    /// Settled returns per status.
    pub by_status: BTreeMap<String, i64>,
    /// Units returned over units sold, per category.
    pub by_category: Vec<CategoryRate>,
    /// Settled returns per reason (`not given` when none).
    pub by_reason: BTreeMap<String, i64>,
    /// Refunds and fees per week (starting Monday) and currency.
    pub money: Vec<WeekMoney>,
}

/// The human queue's length.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Queue {
    /// In the priority queue.
    pub priority: usize,
    /// In the standard queue.
    pub standard: usize,
}

/// A category's return rate.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CategoryRate {
    /// The category.
    pub category: String,
    /// Units refunded.
    pub returned_units: i64,
    /// Units sold.
    pub sold_units: i64,
    /// Returned over sold (none when nothing sold).
    pub rate: Option<f64>,
}

/// Refunds and fees of one week in one currency.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct WeekMoney {
    /// The Monday the week starts (`YYYY-MM-DD`).
    pub week: String,
    /// The currency.
    pub currency: String,
    /// Refunded, minor units.
    pub refunds_minor: i64,
    /// Fees deducted, minor units.
    pub fees_minor: i64,
}
