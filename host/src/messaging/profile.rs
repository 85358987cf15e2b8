//! A customer as the messaging policies see them, built from the customer
//! data: region, the UTC offsets of their IANA zone (DST included), recent
//! sends and engagement, suppressed channels (consent withdrawn,
//! unsubscribed, complained, bounced) with their cause, and RFM segments.
//! The planner builds the fatigue and chooser inputs from it, and so does
//! the fatigue slot's short form: a caller names a customer and the
//! message, and the host fills in the rest.

use crate::platform::http::Code;
use serde_json::{Map, Value, json};

use crate::customers::store::CustomersDb;
use crate::platform::http::ApiError;
use crate::platform::store::Store;
use crate::rfm::store::RfmDb;

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

pub use crate::platform::zone::utc_offset_minutes;

/// The fatigue slot's [`InputHook`](crate::platform::feature::InputHook):
/// the short form, filled from the store.
pub fn input<'a>(
    state: &'a crate::AppState,
    merchant: &'a str,
    body: &'a [u8],
) -> crate::platform::feature::Completion<'a> {
    Box::pin(async move {
        // The full form needs no parsing here.
        if !body.windows(13).any(|w| w == b"\"customer_id\"") {
            return Ok(None);
        }
        let Some(filled) = fill(&state.store, merchant, body, crate::now_ms()).await? else {
            return Ok(None);
        };
        let mut input: Value = serde_json::from_slice(&filled).unwrap_or_default();
        crate::platform::invoke::fit_to_binding(
            state,
            merchant,
            crate::platform::slots::Slot::Fatigue,
            &mut input,
        );
        Ok(Some(input.to_string().into_bytes()))
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
            Code::InvalidInput,
            "`customer_id` must be a string",
        ));
    };
    let Some(Value::Object(message)) = short.remove("message") else {
        return Err(ApiError::unprocessable(
            Code::InvalidInput,
            "with `customer_id`, give the `message`: {channel, kind, campaign-id, tags, has-trigger-signal}",
        ));
    };
    if let Some(extra) = short.keys().next() {
        return Err(ApiError::unprocessable(
            Code::InvalidInput,
            format!(
                "`{extra}` is not an input of the short form; give `customer_id` and `message`"
            ),
        ));
    }
    let profile = Profile::load(store, merchant, &id, now).await?;
    let request = profile.fatigue_request(Value::Object(message), &[]);
    Ok(Some(json!({ "request": request }).to_string().into_bytes()))
}

/// Engagement this long after a contact on its channel means the customer
/// engaged with it.
const ENGAGED_WITHIN_MS: i64 = 7 * 86_400_000;
/// Engagement this far back informs the channel chooser.
const ENGAGEMENT_DAYS: i64 = 180;
/// At most this many engagement events go to the channel chooser.
const MAX_ENGAGEMENT: usize = 1000;

/// What the store knows about one customer that bears on contacting them:
/// the inputs of the fatigue policy and of the channel chooser.
pub struct Profile {
    /// The WIT `customer` record.
    pub customer: Value,
    /// The customer's IANA zone, if known.
    pub zone: Option<String>,
    /// The zone's offsets from 35 days back to 95 ahead (WIT `offset-span`s).
    pub offsets: Value,
    /// Sends recorded as events in the last 35 days: (channel, at, campaign).
    pub sent: Vec<(String, i64, String)>,
    /// Engagement events of the last 180 days, newest first (WIT
    /// `engagement-event`s; sends count as `delivered`).
    pub engagement: Vec<Value>,
    /// Opens, clicks and replies by channel: (channel, at).
    engaged_at: Vec<(String, i64)>,
    /// Channels that may not be used, each with its cause.
    pub suppressed: Vec<(String, &'static str)>,
    /// The last open, click or reply on any channel.
    pub last_engaged: Option<i64>,
    /// RFM segment, tier and micro-segments of the latest run.
    pub segments: Vec<String>,
}

impl Profile {
    /// The customer's profile as of `now`; 404 for an unknown customer.
    pub async fn load(
        store: &Store,
        merchant: &str,
        id: &str,
        now: i64,
    ) -> Result<Profile, ApiError> {
        // The four reads at once (SQLite's readers do not wait for each other).
        let since = now - ENGAGEMENT_DAYS * 86_400_000;
        let customers = CustomersDb(store);
        let (row, events, consents, segments) = tokio::join!(
            customers.whereabouts(merchant, id),
            customers.channel_events(merchant, id, since),
            customers.consent_trail(merchant, id),
            RfmDb(store).rfm_segments(merchant, id),
        );
        let row = row?.ok_or_else(|| {
            ApiError::not_found(format!(
                "no customer `{id}`; import the customers first, or send the full request"
            ))
        })?;
        let (events, consents) = (events?, consents?);
        let (country, zone, created) = (row.country, row.time_zone, row.created_at);
        let history_since = now - HISTORY_DAYS * 86_400_000;
        let mut sent = Vec::new();
        let mut engagement = Vec::new();
        let mut engaged_at = Vec::new();
        let mut last_engaged: Option<i64> = None;
        let mut opted_out: Map<String, Value> = Map::new();
        for e in events {
            let (kind, channel, campaign, at) = (e.kind, e.channel, e.campaign_id, e.at);
            let wit_kind = match kind.as_str() {
                "sent" | "delivered" => "delivered",
                "opened" | "clicked" | "replied" => {
                    last_engaged = last_engaged.max(Some(at));
                    engaged_at.push((channel.clone(), at));
                    kind.as_str()
                }
                "unsubscribed" | "complained" | "bounced" => {
                    opted_out
                        .entry(channel.clone())
                        .or_insert(json!([at, kind]));
                    if kind == "bounced" {
                        continue;
                    }
                    kind.as_str()
                }
                _ => continue,
            };
            if kind == "sent" && at >= history_since {
                sent.push((channel.clone(), at, campaign.unwrap_or_default()));
            }
            // A send reported as both `sent` and `delivered` counts once.
            if kind != "delivered" && engagement.len() < MAX_ENGAGEMENT {
                engagement.push(json!({"channel": channel, "kind": wit_kind, "at": at}));
            }
        }
        // The latest consent per channel decides; an unsubscribe,
        // complaint or hard bounce after the latest grant suppresses too.
        let mut latest: Map<String, Value> = Map::new();
        for (channel, status, at) in consents {
            latest.insert(channel, json!([status, at]));
        }
        let mut suppressed = Vec::new();
        for channel in crate::customers::model::CHANNELS {
            let consent = latest.get(channel);
            if consent.is_some_and(|c| c[0] == "withdrawn") {
                suppressed.push((channel.to_string(), "consent withdrawn"));
                continue;
            }
            let granted_at = consent
                .filter(|c| c[0] == "granted")
                .and_then(|c| c[1].as_i64());
            if let Some(out) = opted_out.get(channel)
                && granted_at.is_none_or(|g| out[0].as_i64().is_some_and(|o| o > g))
            {
                suppressed.push((
                    channel.to_string(),
                    match out[1].as_str() {
                        Some("bounced") => "hard bounce",
                        Some("complained") => "complained",
                        _ => "unsubscribed",
                    },
                ));
            }
        }
        let segments = match segments {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(%merchant, customer = %id, "segments unavailable: {e}");
                Vec::new()
            }
        };
        let country = country.unwrap_or_default();
        Ok(Profile {
            customer: json!({
                "id": id,
                "region": region(&country),
                "country": country,
                "utc-offset-minutes": utc_offset_minutes(zone.as_deref(), now),
                "created-at": created.unwrap_or(now),
            }),
            offsets: offsets(zone.as_deref(), now),
            zone,
            sent,
            engagement,
            engaged_at,
            suppressed,
            last_engaged,
            segments,
        })
    }

    /// Whether the customer opened, clicked or answered on `channel` within
    /// a week after `at`.
    pub fn engaged_after(&self, channel: &str, at: i64) -> bool {
        self.engaged_at
            .iter()
            .any(|(c, t)| c == channel && *t >= at && *t <= at + ENGAGED_WITHIN_MS)
    }

    /// A WIT fatigue `contact`.
    pub fn contact(
        &self,
        channel: &str,
        at: i64,
        campaign: &str,
        kind: &str,
        tags: &[String],
    ) -> Value {
        json!({"channel": channel, "sent-at": at, "campaign-id": campaign,
            "transactional": kind == "transactional", "tags": tags,
            "engaged": self.engaged_after(channel, at)})
    }

    /// The fatigue policy's `message-request`: the `message` fields (channel,
    /// kind, campaign-id, tags, has-trigger-signal) over this profile,
    /// with `more` contacts (reserved by plans) after the sends recorded
    /// as events. A recorded send within an hour of a reserved contact on
    /// the same channel and campaign is that contact, counted once.
    pub fn fatigue_request(&self, message: Value, more: &[Value]) -> Value {
        let same = |c: &Value, channel: &str, at: i64, campaign: &str| {
            c["channel"] == channel
                && c["campaign-id"] == campaign
                && c["sent-at"]
                    .as_i64()
                    .is_some_and(|t| (t - at).abs() <= 3_600_000)
        };
        let mut history: Vec<Value> = self
            .sent
            .iter()
            .filter(|(ch, at, camp)| !more.iter().any(|c| same(c, ch, *at, camp)))
            .map(|(ch, at, camp)| self.contact(ch, *at, camp, "promotional", &[]))
            .collect();
        history.extend(more.iter().cloned());
        history.sort_by_key(|c| std::cmp::Reverse(c["sent-at"].as_i64().unwrap_or(0)));
        let mut request = Map::new();
        request.insert("customer".into(), self.customer.clone());
        request.insert("history".into(), Value::Array(history));
        request.insert(
            "suppressed".into(),
            json!(self.suppressed.iter().map(|(c, _)| c).collect::<Vec<_>>()),
        );
        request.insert("last-engaged-at".into(), json!(self.last_engaged));
        request.insert("active-campaigns".into(), json!([]));
        request.insert("tags".into(), json!([]));
        request.insert(
            "time-zone".into(),
            json!(self.zone.clone().unwrap_or_default()),
        );
        request.insert("offsets".into(), self.offsets.clone());
        request.insert("segments".into(), json!(self.segments));
        if let Value::Object(message) = message {
            request.extend(message);
        }
        Value::Object(request)
    }
}

/// The zone's offsets from 35 days before `now` to 95 days after, as WIT
/// `offset-span`s: one per offset in force, each from when it starts.
pub fn offsets(zone: Option<&str>, now: i64) -> Value {
    crate::platform::zone::offset_spans(
        zone,
        now - HISTORY_DAYS * crate::DAY_MS,
        now + 95 * crate::DAY_MS,
    )
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

    #[test]
    fn offsets_change_to_the_minute_across_daylight_saving() {
        // 2026-03-20 12:00 UTC: Berlin changes on 29 March at 01:00 UTC and
        // back on 25 October at 01:00 UTC; New York on 8 March at 07:00 UTC.
        let now = 1_774_008_000_000;
        let berlin = offsets(Some("Europe/Berlin"), now);
        assert_eq!(
            berlin,
            json!([
                {"starts-at": now - 35 * 86_400_000, "utc-offset-minutes": 60},
                {"starts-at": 1_774_746_000_000i64, "utc-offset-minutes": 120},
            ])
        );
        let new_york = offsets(Some("America/New_York"), now);
        assert_eq!(new_york[1]["starts-at"], 1_772_953_200_000i64);
        assert_eq!(new_york[1]["utc-offset-minutes"], -240);
        assert_eq!(
            offsets(Some("Asia/Tokyo"), now).as_array().unwrap().len(),
            1
        );
        assert_eq!(offsets(None, now), json!([]));
    }
}
