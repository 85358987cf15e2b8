//! One send planned: consent first, then the channels in order, each asked
//! of the merchant's fatigue policy, and the contact reserved in the same
//! transaction that holds the customer's lock — so concurrent plans for
//! one customer see each other's reservations and never break a cap.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sqlx::Row;

use crate::AppState;
use crate::customers::fatigue;
use crate::customers::model::CHANNELS;
use crate::platform::http::{ApiError, json_body, merchant_actor};
use crate::platform::invoke::invoke;
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

/// The message to plan.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageIn {
    /// `marketing` (default) or `transactional` (exempt from caps).
    #[serde(default)]
    category: Option<String>,
    /// The channels it may go on, best first (default: all seven).
    #[serde(default)]
    channels: Option<Vec<String>>,
    /// Tags of the message.
    #[serde(default)]
    tags: Vec<String>,
    /// The campaign or journey it belongs to.
    #[serde(default)]
    campaign_id: String,
    /// A fresh signal (a cart left, a question asked) justifies contact.
    #[serde(default)]
    has_trigger_signal: bool,
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
#[utoipa::path(post, path = "/v1/merchants/{merchant}/sends/plan", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id")), request_body = PlanIn, responses((status = 200, description = "`{status: planned, contact_id, channel, send_at, trail}` or `{status: dropped, reason, trail}`", body = serde_json::Value), (status = 404, description = "No such customer"), (status = 422, description = "A field is refused; `field` names it")))]
pub async fn plan(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    merchant_actor(&state, &headers, &merchant).await?;
    let input: PlanIn = json_body(body).await?;
    let refuse = |field: &str, why: String| {
        ApiError::unprocessable("invalid_plan", format!("{field}: {why}")).with_field(field)
    };
    let m = input.message;
    let category = m.category.unwrap_or_else(|| "marketing".into());
    let kind = match category.as_str() {
        "marketing" => "promotional",
        "transactional" => "transactional",
        _ => {
            return Err(refuse(
                "message.category",
                "use marketing or transactional".into(),
            ));
        }
    };
    let channels = m
        .channels
        .unwrap_or_else(|| CHANNELS.iter().map(|c| c.to_string()).collect());
    if let Some(bad) = channels.iter().find(|c| !CHANNELS.contains(&c.as_str())) {
        return Err(refuse(
            "message.channels",
            format!("`{bad}` is not a channel; use {}", CHANNELS.join(", ")),
        ));
    }
    if channels.is_empty() {
        return Err(refuse(
            "message.channels",
            "name at least one channel".into(),
        ));
    }
    let now = crate::now_ms();
    let customer = input.customer_id;
    let store = &state.store;
    // The fatigue input, from the store once (no lock needed: what a
    // concurrent plan reserves is read under the lock below); each channel
    // differs only in its `channel`.
    let short = json!({"customer_id": customer, "message": {
        "channel": channels[0], "kind": kind, "campaign-id": m.campaign_id,
        "tags": m.tags, "has-trigger-signal": m.has_trigger_signal,
    }});
    let base: Value = serde_json::from_slice(
        &fatigue::fill(store, &merchant, short.to_string().as_bytes(), now)
            .await?
            .unwrap_or_default(),
    )
    .unwrap_or_default();
    let requests: Vec<Value> = channels
        .iter()
        .map(|c| {
            let mut r = base.clone();
            r["request"]["channel"] = json!(c);
            r
        })
        .collect();
    // The customer's lock: one plan at a time in this process, and across
    // replicas (PostgreSQL) a transaction-scoped advisory lock; SQLite has
    // one writer. Held until the contact is reserved; nothing in it waits
    // for another connection.
    let _local = stripe(&merchant, &customer).lock().await;
    let mut tx = store.write_tx().await?;
    if store.pg.is_some() {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(format!("contacts/{merchant}/{customer}"))
            .execute(&mut *tx)
            .await?;
    }
    let reserved: Vec<Value> = sqlx::query(
        "SELECT channel, send_at, campaign_id FROM contacts \
         WHERE merchant_id = $1 AND customer_id = $2 AND status = 'planned' AND send_at >= $3",
    )
    .bind(&merchant)
    .bind(&customer)
    .bind(now - HISTORY_MS)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| {
        Ok::<_, sqlx::Error>(json!({
            "channel": r.try_get::<String, _>(0)?,
            "sent-at": r.try_get::<i64, _>(1)?,
            "campaign-id": r.try_get::<String, _>(2)?,
        }))
    })
    .collect::<Result<_, _>>()?;

    let mut trail = Vec::new();
    let mut chosen: Option<(String, i64, Option<String>)> = None;
    let mut deferred: Option<(String, i64, String)> = None;
    let mut reasons = Vec::new();
    for (channel, mut request) in channels.iter().zip(requests) {
        // Consent first: a withdrawn or opted-out channel is never asked.
        if request
            .pointer("/request/suppressed")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|c| c == channel))
        {
            trail.push(json!({"step": "consent", "channel": channel, "decision": "drop", "reason": "no consent: withdrawn, unsubscribed or complained"}));
            reasons.push(format!("{channel}: no consent"));
            continue;
        }
        if let Some(h) = request
            .pointer_mut("/request/history")
            .and_then(Value::as_array_mut)
        {
            h.extend(reserved.iter().cloned());
        }
        let answer = invoke(
            &state,
            &merchant,
            Slot::Fatigue,
            request.to_string().as_bytes(),
        )
        .await
        .map_err(|e| ApiError::unprocessable("invalid_plan", format!("{e:?}")))?;
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
                if deferred.as_ref().is_none_or(|(_, t, _)| until < *t) {
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
        Some((c, at, why)) => ("planned", Some(c.clone()), Some(*at), why.clone()),
        None => (
            "dropped",
            None,
            None,
            Some(if reasons.is_empty() {
                "no channel".to_string()
            } else {
                reasons.join("; ")
            }),
        ),
    };
    sqlx::query(
        "INSERT INTO contacts (merchant_id, id, customer_id, channel, category, tags, campaign_id, send_at, status, reason, trail, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&merchant)
    .bind(&id)
    .bind(&customer)
    .bind(channel.clone())
    .bind(&category)
    .bind(serde_json::to_string(&m.tags).unwrap_or_default())
    .bind(&m.campaign_id)
    .bind(send_at)
    .bind(status)
    .bind(reason.clone())
    .bind(Value::Array(trail.clone()).to_string())
    .bind(now)
    .execute(&mut *tx)
    .await
    ?;
    tx.commit().await?;
    Ok(axum::Json(json!({
        "status": status, "contact_id": id, "channel": channel, "send_at": send_at,
        "reason": reason, "trail": trail,
    }))
    .into_response())
}
