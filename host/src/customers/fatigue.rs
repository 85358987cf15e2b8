//! The fatigue slot's short form: the caller names a customer and the
//! message; the host fills in the rest from the store — region and the UTC
//! offset of the customer's IANA zone at the call's time (DST included),
//! recent contacts, suppressed channels (consent withdrawn, unsubscribed,
//! complained), and the last engagement.

use chrono::{Offset, TimeZone};
use serde_json::{Map, Value, json};
use sqlx::Row;

use crate::platform::http::ApiError;
use crate::platform::store::Store;

/// Contacts this far back are the history (a month's caps and then some).
const HISTORY_DAYS: i64 = 35;

const EUROPE: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO", "GB", "CH",
];
const MIDDLE_EAST: &[&str] = &[
    "AE", "SA", "QA", "KW", "BH", "OM", "YE", "IL", "PS", "JO", "LB", "SY", "IQ", "IR", "EG", "TR",
];
const LATIN_AMERICA: &[&str] = &[
    "MX", "GT", "BZ", "SV", "HN", "NI", "CR", "PA", "CU", "DO", "PR", "CO", "VE", "EC", "PE", "BO",
    "BR", "PY", "UY", "AR", "CL",
];
const ASIA_PACIFIC: &[&str] = &[
    "CN", "HK", "MO", "TW", "JP", "KR", "MN", "SG", "MY", "TH", "VN", "PH", "ID", "KH", "LA", "MM",
    "BN", "IN", "PK", "BD", "LK", "NP", "AU", "NZ", "FJ", "PG",
];
const AFRICA: &[&str] = &[
    "MA", "DZ", "TN", "LY", "NG", "GH", "KE", "ET", "TZ", "UG", "ZA", "SN", "CI", "CM", "AO", "ZW",
    "ZM", "RW", "MZ", "NA", "BW",
];

/// The WIT `region` of a country code.
pub fn region(country: &str) -> &'static str {
    let c = country.to_uppercase();
    let c = c.as_str();
    if EUROPE.contains(&c) {
        "europe"
    } else if c == "US" || c == "CA" {
        "north-america"
    } else if MIDDLE_EAST.contains(&c) {
        "middle-east"
    } else if LATIN_AMERICA.contains(&c) {
        "latin-america"
    } else if ASIA_PACIFIC.contains(&c) {
        "asia-pacific"
    } else if AFRICA.contains(&c) {
        "africa"
    } else {
        "other"
    }
}

/// Minutes `zone` is ahead of UTC at `at_ms` (DST included); 0 if unknown.
pub fn utc_offset_minutes(zone: Option<&str>, at_ms: i64) -> i32 {
    let Some(tz) = zone.and_then(|z| z.parse::<chrono_tz::Tz>().ok()) else {
        return 0;
    };
    match tz.timestamp_millis_opt(at_ms) {
        chrono::LocalResult::Single(t) => t.offset().fix().local_minus_utc() / 60,
        _ => 0,
    }
}

/// The fatigue slot's [`InputHook`](crate::platform::slots::InputHook):
/// the short form, filled from the store.
pub fn input<'a>(
    state: &'a crate::AppState,
    merchant: &'a str,
    body: &'a [u8],
) -> crate::platform::slots::Completion<'a> {
    Box::pin(async move {
        // The full form needs no parsing here.
        if !body.windows(13).any(|w| w == b"\"customer_id\"") {
            return Ok(None);
        }
        fill(&state.store, merchant, body, crate::now_ms()).await
    })
}

/// If `body` is the short form (`{"customer_id", "message": {…}}`), the
/// full fatigue input built from the store; `None` for the full form.
pub async fn fill(
    store: &Store,
    merchant: &str,
    body: &[u8],
    now: i64,
) -> Result<Option<Vec<u8>>, ApiError> {
    let Ok(Value::Object(mut short)) = serde_json::from_slice::<Value>(body) else {
        return Ok(None);
    };
    if short.contains_key("request") || !short.contains_key("customer_id") {
        return Ok(None);
    }
    let Some(Value::String(id)) = short.remove("customer_id") else {
        return Err(ApiError::unprocessable(
            "invalid_input",
            "`customer_id` must be a string",
        ));
    };
    let Some(Value::Object(message)) = short.remove("message") else {
        return Err(ApiError::unprocessable(
            "invalid_input",
            "with `customer_id`, give the `message`: {channel, kind, campaign-id, tags, has-trigger-signal}",
        ));
    };
    if let Some(extra) = short.keys().next() {
        return Err(ApiError::unprocessable(
            "invalid_input",
            format!(
                "`{extra}` is not an input of the short form; give `customer_id` and `message`"
            ),
        ));
    }
    let row = sqlx::query(
        "SELECT country, time_zone, created_at FROM customers WHERE merchant_id = $1 AND id = $2",
    )
    .bind(merchant)
    .bind(&id)
    .fetch_optional(&store.pool)
    .await?
    .ok_or_else(|| {
        ApiError::not_found(format!(
            "no customer `{id}`; import the customers first, or send the full request"
        ))
    })?;
    let country: Option<String> = row.try_get(0)?;
    let zone: Option<String> = row.try_get(1)?;
    let created: Option<i64> = row.try_get(2)?;

    let since = now - HISTORY_DAYS * 86_400_000;
    let events = sqlx::query(
        "SELECT kind, channel, campaign_id, at FROM customer_events WHERE merchant_id = $1 AND customer_id = $2 AND at >= $3 ORDER BY at",
    )
    .bind(merchant)
    .bind(&id)
    .bind(since)
    .fetch_all(&store.pool)
    .await?;
    let mut history = Vec::new();
    let mut last_engaged: Option<i64> = None;
    let mut opted_out: Map<String, Value> = Map::new();
    for e in &events {
        let kind: String = e.try_get(0)?;
        let channel: Option<String> = e.try_get(1)?;
        let campaign: Option<String> = e.try_get(2)?;
        let at: i64 = e.try_get(3)?;
        match (kind.as_str(), channel) {
            ("sent", Some(c)) => history.push(
                json!({"channel": c, "sent-at": at, "campaign-id": campaign.unwrap_or_default()}),
            ),
            ("opened" | "clicked" | "replied", _) => {
                last_engaged = Some(last_engaged.map_or(at, |l| l.max(at)))
            }
            ("unsubscribed" | "complained", Some(c)) => {
                opted_out.insert(c, json!(at));
            }
            _ => {}
        }
    }
    // The latest consent per channel decides; an unsubscribe or complaint
    // after the latest grant suppresses too.
    let consents = sqlx::query("SELECT channel, status, at FROM consents WHERE merchant_id = $1 AND customer_id = $2 ORDER BY at")
        .bind(merchant)
        .bind(&id)
        .fetch_all(&store.pool)
        .await?;
    let mut latest: Map<String, Value> = Map::new();
    for c in &consents {
        let (channel, status, at): (String, String, i64) =
            (c.try_get(0)?, c.try_get(1)?, c.try_get(2)?);
        latest.insert(channel, json!([status, at]));
    }
    let mut suppressed: Vec<String> = Vec::new();
    for channel in super::model::CHANNELS {
        let consent = latest.get(channel);
        let withdrawn = consent.is_some_and(|c| c[0] == "withdrawn");
        let granted_at = consent
            .filter(|c| c[0] == "granted")
            .and_then(|c| c[1].as_i64());
        let out_after_grant = opted_out
            .get(channel)
            .and_then(Value::as_i64)
            .is_some_and(|o| granted_at.is_none_or(|g| o > g));
        if withdrawn || out_after_grant {
            suppressed.push(channel.to_string());
        }
    }

    let country = country.unwrap_or_default();
    let mut request = Map::new();
    request.insert(
        "customer".into(),
        json!({
            "id": id,
            "region": region(&country),
            "country": country,
            "utc-offset-minutes": utc_offset_minutes(zone.as_deref(), now),
            "created-at": created.unwrap_or(now),
        }),
    );
    request.insert("history".into(), Value::Array(history));
    request.insert("suppressed".into(), json!(suppressed));
    request.insert("last-engaged-at".into(), json!(last_engaged));
    request.insert("active-campaigns".into(), json!([]));
    request.insert("tags".into(), json!([]));
    for (k, v) in message {
        request.insert(k, v);
    }
    Ok(Some(json!({ "request": request }).to_string().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_daylight_saving() {
        let winter = chrono::NaiveDate::from_ymd_opt(2026, 1, 15)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let summer = chrono::NaiveDate::from_ymd_opt(2026, 7, 15)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        assert_eq!(utc_offset_minutes(Some("Europe/Berlin"), winter), 60);
        assert_eq!(utc_offset_minutes(Some("Europe/Berlin"), summer), 120);
        assert_eq!(utc_offset_minutes(Some("America/New_York"), summer), -240);
        assert_eq!(utc_offset_minutes(Some("Asia/Kolkata"), summer), 330);
        assert_eq!(utc_offset_minutes(None, summer), 0);
        assert_eq!(region("de"), "europe");
        assert_eq!(region("AE"), "middle-east");
        assert_eq!(region("BR"), "latin-america");
        assert_eq!(region("XX"), "other");
    }
}
