//! What the plans did over a period: contacts per customer per week, the
//! deferrals and drops by reason, suppressions by cause, and the channel
//! mix by region.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};

use super::profile::region;
use super::store::{Contact, ContactStatus, MessagingDb};
use crate::AppState;
use crate::customers::store::CustomersDb;
use crate::platform::http::{ApiError, ForMerchant, days_back, query};

/// The period.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Days back from now (default 28, at most 366).
    days: Option<i64>,
}

/// `GET /v1/merchants/{m}/sends/report`: the plans of the last `days`.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/sends/report", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id"), ReportQuery), responses((status = 400, description = "`days` is not from 1 to 366"), (status = 200, description = "The plans of the period", body = SendReport)))]
pub async fn report(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (days, since) = days_back(query(q)?.days, 28, 366)?;
    let rows = MessagingDb(&state.store)
        .planned_since(&merchant, since)
        .await?;
    let (mut planned, mut dropped) = (0u64, 0u64);
    let mut weeks: BTreeMap<(String, i64), u64> = BTreeMap::new();
    let mut deferred_by: BTreeMap<String, u64> = BTreeMap::new();
    let mut dropped_by: BTreeMap<String, u64> = BTreeMap::new();
    let mut mix: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
    for r in rows {
        let reason = r.reason;
        if r.status == ContactStatus::Planned {
            planned += 1;
            let channel = r.channel.unwrap_or_default();
            let at = r.send_at.unwrap_or_default();
            *weeks
                .entry((r.customer_id, at.div_euclid(7 * crate::DAY_MS)))
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
            *mix.entry(region(r.country.as_deref().unwrap_or("")))
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
    let suppressions = CustomersDb(&state.store)
        .suppressions_since(&merchant, since)
        .await?;
    let outcomes = MessagingDb(&state.store)
        .outcomes_since(&merchant, since)
        .await?;
    Ok(axum::Json(SendReport {
        days,
        outcomes,
        planned,
        dropped,
        per_customer_week: per_week,
        deferred_by_reason: deferred_by,
        dropped_by_reason: dropped_by,
        suppressions_by_cause: suppressions,
        channels_by_region: mix,
    })
    .into_response())
}

/// What the plans of a period did.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SendReport {
    /// Days covered, back from now.
    pub days: i64,
    /// Outcomes reported (sent, delivered, failed, bounced) by outcome.
    pub outcomes: BTreeMap<String, u64>,
    /// Contacts planned.
    pub planned: u64,
    /// Contacts dropped.
    pub dropped: u64,
    /// Contacts in a customer's week → how many customer-weeks had that many.
    #[schema(value_type = std::collections::HashMap<String, u64>)]
    pub per_customer_week: BTreeMap<u64, u64>,
    /// Planned later than asked, by the rule that moved them.
    pub deferred_by_reason: BTreeMap<String, u64>,
    /// Dropped, by cause (a contact counts once per channel's cause).
    pub dropped_by_reason: BTreeMap<String, u64>,
    /// Suppressions in the period by cause.
    pub suppressions_by_cause: BTreeMap<String, u64>,
    /// Region → channel → contacts planned.
    pub channels_by_region: BTreeMap<&'static str, BTreeMap<String, u64>>,
}

/// A customer's contacts.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Contacts {
    /// Newest first, at most 200.
    pub contacts: Vec<Contact>,
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
#[utoipa::path(get, path = "/v1/merchants/{merchant}/sends/contacts", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id"), ContactsQuery), responses((status = 200, description = "The customer's contacts, newest first", body = Contacts)))]
pub async fn contacts(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    q: Result<Query<ContactsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let customer = query(q)?.customer_id;
    let contacts = MessagingDb(&state.store)
        .contacts_of(&merchant, &customer)
        .await?;
    Ok(axum::Json(Contacts { contacts }).into_response())
}
