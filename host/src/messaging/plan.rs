//! One send planned: consent first, then the channel chooser's ranking,
//! each channel in turn asked of the merchant's fatigue policy, and the
//! contact reserved in the same transaction that holds the customer's
//! lock — so concurrent plans for one customer see each other's
//! reservations and never break a cap.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::profile::Profile;
use super::store::{ContactStatus, MessagingDb, NewContact};
use crate::AppState;
use crate::customers::model::CHANNELS;
use crate::platform::http::Code;
use crate::platform::http::{ApiError, ForMerchant, JsonBody};
use crate::platform::invoke::{fit_to_binding, invoke};
use crate::platform::slots::Slot;

/// One of 256 locks, by merchant and customer.
fn stripe(merchant: &str, customer: &str) -> &'static tokio::sync::Mutex<()> {
    static LOCKS: std::sync::OnceLock<Vec<tokio::sync::Mutex<()>>> = std::sync::OnceLock::new();
    let locks = LOCKS.get_or_init(|| (0..256).map(|_| tokio::sync::Mutex::new(())).collect());
    let mut h = 0xcbf2_9ce4_8422_2325_u64;
    for b in merchant.bytes().chain([0]).chain(customer.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    &locks[(h % 256) as usize]
}

/// Reserved contacts this far back are the history (as the fatigue input's).
const HISTORY_MS: i64 = 35 * 86_400_000;
/// Engagement this far back makes the chooser's `stats`.
const STATS_MS: i64 = 90 * 86_400_000;

/// The message to plan.
#[derive(serde::Deserialize, serde::Serialize, utoipa::ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct MessageIn {
    /// `marketing` (default) or `transactional` (exempt from caps).
    #[serde(default)]
    category: Option<String>,
    /// The channels it may go on (default: all seven); the channel
    /// chooser ranks them.
    #[serde(default)]
    channels: Option<Vec<String>>,
    /// Tags of the message (caps per tag count them).
    #[serde(default)]
    tags: Vec<String>,
    /// The campaign or journey it belongs to.
    #[serde(default)]
    campaign_id: String,
    /// A fresh signal (a cart left, a question asked) justifies contact.
    #[serde(default)]
    has_trigger_signal: bool,
    /// `normal` (default), or `low`: dropped rather than delayed.
    #[serde(default)]
    priority: Option<String>,
}

/// A message, checked.
#[derive(Clone, Debug)]
pub struct Message {
    category: String,
    kind: &'static str,
    channels: Vec<String>,
    tags: Vec<String>,
    campaign_id: String,
    has_trigger_signal: bool,
    low_priority: bool,
}

impl MessageIn {
    /// The demo's spring campaign: marketing, on e-mail, SMS, app push or
    /// WhatsApp, with a trigger signal.
    pub fn spring_demo() -> MessageIn {
        MessageIn {
            category: None,
            channels: Some(
                ["email", "sms", "app-push", "whatsapp"]
                    .map(String::from)
                    .to_vec(),
            ),
            tags: vec!["spring-sale".into()],
            campaign_id: "spring".into(),
            has_trigger_signal: true,
            priority: None,
        }
    }

    /// Check the message; a refusal names the field (under `prefix`).
    pub fn check(self, prefix: &str) -> Result<Message, ApiError> {
        let refuse = |field: &str, why: String| {
            let field = format!("{prefix}{field}");
            ApiError::unprocessable(Code::InvalidPlan, format!("{field}: {why}")).with_field(&field)
        };
        let category = self.category.unwrap_or_else(|| "marketing".into());
        let kind = match category.as_str() {
            "marketing" => "promotional",
            "transactional" => "transactional",
            _ => return Err(refuse("category", "use marketing or transactional".into())),
        };
        let channels = self
            .channels
            .unwrap_or_else(|| CHANNELS.iter().map(|c| c.to_string()).collect());
        if let Some(bad) = channels.iter().find(|c| !CHANNELS.contains(&c.as_str())) {
            return Err(refuse(
                "channels",
                format!("`{bad}` is not a channel; use {}", CHANNELS.join(", ")),
            ));
        }
        if channels.is_empty() {
            return Err(refuse("channels", "name at least one channel".into()));
        }
        let low_priority = match self.priority.as_deref() {
            None | Some("normal") => false,
            Some("low") => true,
            Some(other) => {
                return Err(refuse(
                    "priority",
                    format!("`{other}` is not a priority; use normal or low"),
                ));
            }
        };
        Ok(Message {
            category,
            kind,
            channels,
            tags: self.tags,
            campaign_id: self.campaign_id,
            has_trigger_signal: self.has_trigger_signal,
            low_priority,
        })
    }
}

/// A send to plan.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanIn {
    /// The customer.
    customer_id: String,
    /// The message.
    message: MessageIn,
}

/// `POST /v1/merchants/{m}/sends/plan`: the channel and time a message to
/// one customer goes at, or why it is dropped, with what each step decided.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/sends/plan", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id")), request_body = PlanIn, responses((status = 200, description = "Planned (the channel and time) or dropped (why), with what each step decided", body = Plan), (status = 404, description = "No such customer"), (status = 422, description = "A field is refused; `field` names it")))]
pub async fn plan(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    JsonBody(input): JsonBody<PlanIn>,
) -> Result<Response, ApiError> {
    let message = input.message.check("message.")?;
    let planned = plan_one(&state, &merchant, &input.customer_id, &message, None).await?;
    Ok(axum::Json(planned).into_response())
}

/// Plan `m` for one customer: consent, then the channel chooser's
/// ranking, then the fatigue policy channel by channel, and the contact
/// reserved under the customer's lock (part of `batch`, if given).
pub async fn plan_one(
    state: &AppState,
    merchant: &str,
    customer: &str,
    m: &Message,
    batch: Option<&str>,
) -> Result<Plan, ApiError> {
    let now = crate::now_ms();
    let store = &state.store;
    let profile = Profile::load(store, merchant, customer, now).await?;
    let mut trail = Vec::new();
    let mut reasons = Vec::new();

    // Consent first: a withdrawn, opted-out or bounced channel is never asked.
    let mut open: Vec<&String> = Vec::new();
    for channel in &m.channels {
        match profile.suppressed.iter().find(|(c, _)| c == channel) {
            Some((_, cause)) => {
                trail.push(json!({"step": "consent", "channel": channel, "decision": "drop", "reason": format!("no consent: {cause}")}));
                reasons.push(format!("{channel}: no consent ({cause})"));
            }
            None => open.push(channel),
        }
    }
    let (order, templates) = if open.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        rank(state, merchant, &profile, m, &open, now, &mut trail).await
    };

    // The customer's lock: one plan at a time in this process, and across
    // replicas (PostgreSQL) a transaction-scoped advisory lock; SQLite has
    // one writer. Held until the contact is reserved; nothing in it waits
    // for another connection.
    let _local = stripe(merchant, customer).lock().await;
    let db = MessagingDb(store);
    let mut tx = store.write_tx().await?;
    db.lock_customer(&mut tx, merchant, customer).await?;
    let reserved: Vec<Value> = db
        .reserved(&mut tx, merchant, customer, now - HISTORY_MS)
        .await?
        .iter()
        .map(|r| {
            let kind = match r.category.as_str() {
                "transactional" => "transactional",
                _ => "promotional",
            };
            profile.contact(&r.channel, r.send_at, &r.campaign_id, kind, &r.tags)
        })
        .collect();
    let message = json!({"kind": m.kind, "campaign-id": m.campaign_id, "tags": m.tags,
        "has-trigger-signal": m.has_trigger_signal});
    let mut base = json!({"request": profile.fatigue_request(message, &reserved)});
    // Each channel's request differs only in `channel` (which every
    // contract has): fit the rest to the bound plugin once.
    fit_to_binding(state, merchant, Slot::Fatigue, &mut base);

    let mut chosen: Option<(String, i64, Option<String>)> = None;
    let mut deferred: Option<(String, i64, String)> = None;
    for channel in &order {
        let mut request = base.clone();
        request["request"]["channel"] = json!(channel);
        let answer = invoke(
            state,
            merchant,
            Slot::Fatigue,
            request.to_string().as_bytes(),
        )
        .await
        .map_err(|e| ApiError::unprocessable(Code::InvalidPlan, e.to_string()))?;
        let by = answer
            .plugin
            .clone()
            .unwrap_or_else(|| "the safe fallback".into());
        match &answer.result {
            Value::String(s) if s == "allow" => {
                trail.push(
                    json!({"step": "fatigue", "channel": channel, "decision": "allow", "by": by}),
                );
                chosen = Some((channel.clone(), now, None));
                break;
            }
            Value::Object(o) if o.contains_key("defer") => {
                let until = o["defer"]["until"].as_i64().unwrap_or(now);
                let why = o["defer"]["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                trail.push(json!({"step": "fatigue", "channel": channel, "decision": "defer", "until": until, "reason": why, "by": by}));
                if m.low_priority {
                    reasons.push(format!(
                        "{channel}: deferred ({why}), and the message is low priority"
                    ));
                } else if deferred.as_ref().is_none_or(|(_, t, _)| until < *t) {
                    deferred = Some((channel.clone(), until, why));
                }
            }
            other => {
                let why = other["drop"].as_str().unwrap_or("dropped").to_string();
                trail.push(json!({"step": "fatigue", "channel": channel, "decision": "drop", "reason": why, "by": by}));
                reasons.push(format!("{channel}: {why}"));
            }
        }
    }
    if chosen.is_none()
        && let Some((channel, until, why)) = deferred
    {
        chosen = Some((channel, until, Some(why)));
    }
    let id = format!("ct-{}", hex::encode(rand::random::<[u8; 8]>()));
    let (status, channel, send_at, reason) = match &chosen {
        Some((c, at, why)) => (
            ContactStatus::Planned,
            Some(c.clone()),
            Some(*at),
            why.clone(),
        ),
        None => (
            ContactStatus::Dropped,
            None,
            None,
            Some(if reasons.is_empty() {
                "no channel".to_string()
            } else {
                reasons.join("; ")
            }),
        ),
    };
    let trail = Value::Array(trail);
    db.insert_contact(
        &mut tx,
        merchant,
        &NewContact {
            id: &id,
            customer_id: customer,
            channel: channel.as_deref(),
            category: &m.category,
            tags: &m.tags,
            campaign_id: &m.campaign_id,
            send_at,
            status,
            reason: reason.as_deref(),
            trail: &trail,
            batch,
            created_at: now,
        },
    )
    .await?;
    tx.commit().await?;
    let template_only = channel.as_ref().is_some_and(|c| templates.contains(c));
    Ok(Plan {
        status,
        contact_id: id,
        channel,
        send_at,
        template_only,
        reason,
        trail,
    })
}

/// A plan: the channel and time, or why the message was dropped.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Plan {
    /// Planned or dropped.
    pub status: ContactStatus,
    /// The contact stored (planned or dropped).
    pub contact_id: String,
    /// The channel it goes on (planned).
    pub channel: Option<String>,
    /// When it goes, ms since the epoch (planned).
    pub send_at: Option<i64>,
    /// Whether the channel only takes a pre-approved template now.
    pub template_only: bool,
    /// Why it was deferred (planned later than now) or dropped.
    pub reason: Option<String>,
    /// What each step (consent, chooser, fatigue) decided, and who.
    #[schema(value_type = Vec<Object>)]
    pub trail: Value,
}

/// The open channels in the order to try them, and those that may only
/// carry a template now: the channel chooser's ranking; when it cannot
/// answer, its fallback's channel first and then the message's order.
async fn rank(
    state: &AppState,
    merchant: &str,
    profile: &Profile,
    m: &Message,
    open: &[&String],
    now: i64,
    trail: &mut Vec<Value>,
) -> (Vec<String>, Vec<String>) {
    // Delivered, opened, clicked per channel over the last 90 days.
    let mut counts = [[0u32; 3]; CHANNELS.len()];
    for e in profile
        .engagement
        .iter()
        .filter(|e| e["at"].as_i64().is_some_and(|t| t >= now - STATS_MS))
    {
        let channel = CHANNELS.iter().position(|c| e["channel"] == *c);
        let kind = ["delivered", "opened", "clicked"]
            .iter()
            .position(|k| e["kind"] == *k);
        if let (Some(c), Some(k)) = (channel, kind) {
            counts[c][k] += 1;
        }
    }
    let stats: Vec<Value> = CHANNELS
        .iter()
        .zip(counts)
        .filter(|(_, n)| n.iter().any(|x| *x > 0))
        .map(|(c, [delivered, opened, clicked])| json!({"channel": c, "delivered": delivered, "opened": opened, "clicked": clicked}))
        .collect();
    let consents: Vec<Value> = CHANNELS
        .iter()
        .map(|c| json!({"channel": c, "granted": open.iter().any(|o| o == c)}))
        .collect();
    let mut input = json!({"request": {
        "customer": profile.customer, "kind": m.kind, "consents": consents, "stats": stats,
        "last-engaged-at": profile.last_engaged, "engagement": profile.engagement, "tags": m.tags,
    }});
    fit_to_binding(state, merchant, Slot::Channels, &mut input);
    let in_message_order = |first: Vec<String>| {
        let mut order = first;
        for c in open {
            if !order.contains(c) {
                order.push(c.to_string());
            }
        }
        order
    };
    match invoke(
        state,
        merchant,
        Slot::Channels,
        input.to_string().as_bytes(),
    )
    .await
    {
        Ok(answer) => {
            let ranked: Vec<&Value> = answer
                .result
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter(|r| open.iter().any(|o| r["channel"] == o.as_str()))
                        .collect()
                })
                .unwrap_or_default();
            let names: Vec<String> = ranked
                .iter()
                .filter_map(|r| r["channel"].as_str().map(str::to_string))
                .collect();
            let templates = ranked
                .iter()
                .filter(|r| r["template-only"] == true)
                .filter_map(|r| r["channel"].as_str().map(str::to_string))
                .collect();
            match answer.plugin {
                Some(by) => {
                    trail.push(
                        json!({"step": "chooser", "decision": "rank", "ranking": ranked, "by": by}),
                    );
                    (names, templates)
                }
                None => {
                    let order = in_message_order(names);
                    trail.push(json!({"step": "chooser", "decision": "rank", "ranking": order, "by": "the safe fallback",
                        "reason": "no channel chooser answered: the region's default channel first, then the message's order"}));
                    (order, templates)
                }
            }
        }
        Err(e) => {
            let order = in_message_order(Vec::new());
            trail.push(json!({"step": "chooser", "decision": "rank", "ranking": order, "by": "the message's order",
                "reason": format!("the channel chooser refused: {}", e)}));
            (order, Vec::new())
        }
    }
}

/// What became of a planned contact.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeIn {
    /// `sent`, `delivered`, `failed` (it did not go: it no longer counts
    /// against the caps) or `bounced` (a hard bounce: the address does not
    /// exist, and the channel is suppressed for the customer).
    outcome: String,
    /// When (milliseconds since the epoch); default now.
    #[serde(default)]
    at: Option<i64>,
}

const OUTCOMES: [&str; 4] = ["sent", "delivered", "failed", "bounced"];

/// `POST /v1/merchants/{m}/sends/contacts/{id}/outcome`: the sending
/// system says what became of a planned contact. `sent` and `delivered`
/// are recorded as the customer's `sent` event (the chooser's evidence),
/// `bounced` as a `bounced` event (the channel is suppressed).
#[utoipa::path(post, path = "/v1/merchants/{merchant}/sends/contacts/{id}/outcome", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Contact id")), request_body = OutcomeIn, responses((status = 200, description = "The outcome recorded", body = Outcome), (status = 404, description = "No such contact"), (status = 409, description = "The contact was dropped, so it was never sent"), (status = 422, description = "`outcome` is not one of sent, delivered, failed, bounced")))]
pub async fn outcome(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    _: ForMerchant,
    JsonBody(input): JsonBody<OutcomeIn>,
) -> Result<Response, ApiError> {
    if !OUTCOMES.contains(&input.outcome.as_str()) {
        return Err(ApiError::unprocessable(
            Code::InvalidOutcome,
            format!(
                "outcome: `{}` is not an outcome; use {}",
                input.outcome,
                OUTCOMES.join(", ")
            ),
        )
        .with_field("outcome"));
    }
    let at = input.at.unwrap_or_else(crate::now_ms);
    let db = MessagingDb(&state.store);
    let contact = db
        .contact(&merchant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no contact `{id}`")))?;
    if contact.status != ContactStatus::Planned {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            Code::ContactDropped,
            format!("contact `{id}` was dropped when it was planned, so it was never sent"),
        ));
    }
    db.set_outcome(&merchant, &id, &input.outcome, at).await?;
    let kind = match input.outcome.as_str() {
        "sent" | "delivered" => Some("sent"),
        "bounced" => Some("bounced"),
        _ => None,
    };
    if let (Some(kind), Some(channel)) = (kind, &contact.channel) {
        let event = json!({"id": format!("contact-{id}-{kind}"), "customer_id": contact.customer_id, "kind": kind,
            "channel": channel, "campaign_id": contact.campaign_id, "at": at});
        let mut importer = crate::customers::import::Importer::new(
            &state.store,
            &merchant,
            crate::customers::model::Entity::Events,
            crate::customers::import::Format::Ndjson,
        );
        importer.push(format!("{event}\n").as_bytes()).await?;
        importer.finish().await?;
    }
    Ok(axum::Json(Outcome {
        id,
        outcome: input.outcome,
        at,
    })
    .into_response())
}

/// An outcome recorded.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Outcome {
    /// The contact.
    pub id: String,
    /// `sent`, `delivered`, `failed` or `bounced`.
    pub outcome: String,
    /// When it happened.
    pub at: i64,
}
