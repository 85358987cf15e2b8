//! Messaging: planning sends and what customers say back. A plan asks
//! the channel chooser for a ranking and the fatigue policy channel by
//! channel, and reserves the contact under the customer's lock ([`plan`]),
//! for one customer or a whole segment ([`batch`]); inbound SMS honours the opt-out and
//! opt-in keywords carriers require, as consent changes on the `sms`
//! channel, and counts the reply as an engagement event.

pub mod batch;
pub mod plan;
pub mod profile;
pub mod report;
pub mod slots;
pub mod store;
pub mod twilio;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::customers::import::{Format, Importer};
use crate::customers::model::{Entity, normalise_phone};
use crate::customers::store::CustomersDb;
use crate::platform::feature::{Claim, ConsolePage, Erase, Feature, Migration, Privacy};
use crate::platform::http::Code;
use crate::platform::http::{ApiError, ForMerchant, JsonBody};
use store::MessagingDb;

/// Messaging, as registered with the platform: it serves the fatigue
/// policy and channel chooser slots and keeps contacts (erased with the
/// customer).
pub const FEATURE: Feature = Feature {
    name: "messaging",
    routes,
    migrations: &[
        Migration::new(13, "contacts", include_str!("migrations/0013_contacts.sql")),
        Migration::new(
            14,
            "send batches and outcomes",
            include_str!("migrations/0014_send_batches.sql"),
        ),
        Migration::new(
            22,
            "sms providers",
            include_str!("migrations/0022_sms_providers.sql"),
        ),
    ],
    slots: &[slots::FATIGUE, slots::CHANNELS],
    // The provider's auth token is a credential. A plan runs the policies
    // and keeps its own record (the contact, with its trail), as a
    // decision does; outcomes and inbound messages are live events. None
    // of these is a change for the audit log: a sender makes millions.
    permissions: &[
        (
            "PUT",
            "/v1/merchants/{merchant}/sms-provider",
            crate::platform::keys::Scope::Keys,
        ),
        (
            "POST",
            "/v1/merchants/{merchant}/sends/plan",
            crate::platform::keys::Scope::Policies,
        ),
        (
            "POST",
            "/v1/merchants/{merchant}/sends/contacts/{id}/outcome",
            crate::platform::keys::Scope::Import,
        ),
        (
            "POST",
            "/v1/merchants/{merchant}/inbound/sms",
            crate::platform::keys::Scope::Import,
        ),
    ],
    privacy: Some(Privacy {
        tables: &[Claim {
            table: "contacts",
            column: "customer_id",
            erase: Erase::Delete,
        }],
        export: None,
        erase: None,
    }),
    seed_demo: Some(|state, merchant| Box::pin(seed_demo(state, merchant))),
    console: &[ConsolePage::new("messaging.js", include_str!("console.js"))],
    ..Feature::EMPTY
};

/// The merchant's API.
fn routes(_state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(inbound_sms))
        .routes(routes!(twilio::show, twilio::set))
        .routes(routes!(twilio::webhook))
        .routes(routes!(plan::plan))
        .routes(routes!(batch::start, batch::list))
        .routes(routes!(batch::get))
        .routes(routes!(report::report))
        .routes(routes!(report::contacts))
        .routes(routes!(plan::outcome))
}

/// What an inbound SMS asks for, when the whole message is a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Keyword {
    /// STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT.
    OptOut,
    /// START, YES, UNSTOP.
    OptIn,
}

/// The keyword `text` is, if it is one: the whole message, in any case,
/// surrounding spaces ignored ("stop" is one, "please stop" is not).
pub fn keyword(text: &str) -> Option<Keyword> {
    match text.trim().to_ascii_uppercase().as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" => Some(Keyword::OptOut),
        "START" | "YES" | "UNSTOP" => Some(Keyword::OptIn),
        _ => None,
    }
}

/// An inbound SMS, as the merchant's SMS provider forwards it.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundSms {
    /// The sender's number, with its country code.
    from: String,
    /// The message.
    text: String,
    /// The provider's message id (makes a repeated delivery harmless).
    #[serde(default)]
    id: Option<String>,
    /// Ignored: the host records the time it receives the message (a time
    /// the sender names could reorder keywords). Accepted so older
    /// clients keep working.
    #[serde(default)]
    #[allow(dead_code)]
    at: Option<i64>,
}

/// `POST /v1/merchants/{m}/inbound/sms`: a customer's SMS. An opt-out
/// keyword withdraws the customers with that number from SMS (consent
/// `withdrawn`, source `sms-keyword`); an opt-in keyword grants it again.
/// Any message counts as a reply on SMS.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/inbound/sms", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id")), request_body = InboundSms, responses((status = 200, description = "The keyword, if the message was one, and the customers with that number", body = Inbound), (status = 422, description = "`from` is not a phone number")))]
pub async fn inbound_sms(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    JsonBody(sms): JsonBody<InboundSms>,
) -> Result<Response, ApiError> {
    let (keyword, customers) =
        record_inbound(&state, &merchant, &sms.from, &sms.text, sms.id).await?;
    Ok(axum::Json(Inbound { keyword, customers }).into_response())
}

/// Record an inbound SMS at the host's receive time (never a time the
/// sender names: a START dated 2999 would keep every later STOP from
/// working, and keywords must act in the order they arrive): the keyword,
/// if the message was one, and the customers with that number.
pub(crate) async fn record_inbound(
    state: &AppState,
    merchant: &str,
    from: &str,
    text: &str,
    id: Option<String>,
) -> Result<(Option<Keyword>, Vec<String>), ApiError> {
    let phone = normalise_phone(from).ok_or_else(|| {
        ApiError::unprocessable(
            Code::InvalidPhone,
            format!("`{from}` is not a phone number with its country code (+49 151 …)"),
        )
    })?;
    // Strictly increasing on this host: two messages in one millisecond
    // still act in the order they arrived.
    static LAST: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    let now = crate::now_ms();
    let at = match LAST.fetch_update(
        std::sync::atomic::Ordering::SeqCst,
        std::sync::atomic::Ordering::SeqCst,
        |last| Some(now.max(last + 1)),
    ) {
        Ok(last) | Err(last) => now.max(last + 1),
    };
    let customers = CustomersDb(&state.store)
        .customers_with_phone(merchant, &phone)
        .await?;
    let found = keyword(text);
    let mut consents = Vec::new();
    let mut events = Vec::new();
    for c in &customers {
        if let Some(k) = found {
            let status = if k == Keyword::OptOut {
                "withdrawn"
            } else {
                "granted"
            };
            consents.push(json!({"customer_id": c, "channel": "sms", "status": status, "source": "sms-keyword", "at": at}));
        }
        let id = match &id {
            Some(id) => format!("sms-in-{id}-{c}"),
            None => format!("sms-in-{at}-{c}"),
        };
        events.push(
            json!({"id": id, "customer_id": c, "kind": "replied", "channel": "sms", "at": at}),
        );
    }
    for (entity, lines) in [(Entity::Consents, consents), (Entity::Events, events)] {
        if lines.is_empty() {
            continue;
        }
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let mut importer = Importer::new(&state.store, merchant, entity, Format::Ndjson);
        importer.push(text.as_bytes()).await?;
        let summary = importer.finish().await?;
        if summary.rejected > 0 {
            tracing::warn!(%merchant, errors = ?summary.errors, "an inbound SMS was not fully recorded");
        }
    }
    Ok((found, customers))
}

/// What an inbound SMS did.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Inbound {
    /// The keyword the message was, if it was one.
    pub keyword: Option<Keyword>,
    /// The customers with the sender's number.
    pub customers: Vec<String>,
}

/// Give the demo merchant a first month of messaging, so the console's
/// page has something to read: a few weeks of sends and opens (e-mail
/// readers, SMS readers, silent customers), one hard bounce, and a spring
/// campaign planned through the bound policies for every customer.
pub async fn seed_demo(state: &AppState, merchant: &str) -> anyhow::Result<()> {
    if MessagingDb(&state.store).contact_count(merchant).await? > 0 {
        return Ok(());
    }
    let customers = CustomersDb(&state.store).customer_ids(merchant).await?;
    let now = crate::now_ms();
    const DAY: i64 = crate::DAY_MS;
    let mut events = String::new();
    for (i, customer) in customers.iter().enumerate() {
        // Every third reads SMS, every third e-mail, the rest neither.
        let reads = ["sms", "email", ""][i % 3];
        for week in 1..=4i64 {
            for channel in ["email", "sms"] {
                let at = now - week * 7 * DAY + (i as i64) * 3_600_000;
                events.push_str(&format!("{}\n", json!({"id": format!("demo-{customer}-{channel}-{week}"), "customer_id": customer, "kind": "sent", "channel": channel, "at": at})));
                if channel == reads {
                    events.push_str(&format!("{}\n", json!({"id": format!("demo-{customer}-{channel}-{week}-open"), "customer_id": customer, "kind": "opened", "channel": channel, "at": at + 3_600_000})));
                }
            }
        }
    }
    if let Some(first) = customers.get(1) {
        events.push_str(&format!("{}\n", json!({"id": "demo-bounce", "customer_id": first, "kind": "bounced", "channel": "email", "at": now - 2 * DAY})));
    }
    let mut importer = Importer::new(&state.store, merchant, Entity::Events, Format::Ndjson);
    importer.push(events.as_bytes()).await?;
    importer.finish().await?;
    let message = plan::MessageIn::spring_demo()
        .check("message.")
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    for customer in &customers {
        plan::plan_one(state, merchant, customer, &message, None)
            .await
            .map_err(|e| anyhow::anyhow!("planning for {customer}: {}", e.message()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Keyword, keyword};

    #[test]
    fn only_a_whole_keyword_counts_in_any_case() {
        for t in [
            "STOP",
            "stop",
            "  Stop \n",
            "StopAll",
            "unsubscribe",
            "CANCEL",
            "end",
            "quit",
        ] {
            assert_eq!(keyword(t), Some(Keyword::OptOut), "{t:?}");
        }
        for t in ["START", " yes ", "Unstop"] {
            assert_eq!(keyword(t), Some(Keyword::OptIn), "{t:?}");
        }
        for t in [
            "please stop",
            "STOP!",
            "stop it",
            "",
            "yes please",
            "S TOP",
            "ENDS",
        ] {
            assert_eq!(keyword(t), None, "{t:?}");
        }
    }
}
