//! The overview page's numbers: this week's decisions and open breakers,
//! and each feature's card (survey answers and NPS, searches that found
//! nothing, articles' helpfulness, whether the widget may run anywhere
//! yet, how many customers there are).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;
use crate::platform::http::{ApiError, ForMerchant};

use crate::DAY_MS;

/// `GET /v1/merchants/{m}/overview`: the last seven days at a glance.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/overview", tag = "console", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "This week's numbers, each with the page that explains it", body = Overview)))]
pub async fn overview(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
) -> Result<Response, ApiError> {
    let now = crate::now_ms();
    let today = now - now.rem_euclid(DAY_MS);
    let week_ago = today - 6 * DAY_MS;

    // The parts are independent: read them at once.
    let stats = async {
        state.stats.flush(&state.store).await?;
        Ok::<_, ApiError>(state.store.call_stats(&merchant, week_ago).await?)
    };
    let (st, m) = (&state, &merchant);
    let cards = futures_util::future::try_join_all(state.features.iter().filter_map(|f| {
        let card = f.overview?;
        Some(async move { Ok::<_, ApiError>((f.name, card(st, m, week_ago).await?)) })
    }));
    let (buckets, cards) = tokio::try_join!(stats, cards)?;

    // Decisions per day: answered by the plugin, or by the safe fallback.
    let mut days: Vec<Value> = (0..7)
        .map(|i| json!({"day": week_ago + i * DAY_MS, "ok": 0, "fallback": 0, "refused": 0}))
        .collect();
    for b in buckets {
        let i = ((b.hour - week_ago) / DAY_MS).clamp(0, 6) as usize;
        let key = match b.outcome.as_str() {
            "ok" => "ok",
            "plugin_error" => "refused",
            _ => "fallback",
        };
        days[i][key] = json!(days[i][key].as_i64().unwrap_or(0) + b.calls);
    }
    let breakers_open = state
        .bindings
        .of(&merchant)
        .iter()
        .filter(|(_, a)| a.breaker.is_open(now))
        .count();
    Ok(axum::Json(Overview {
        merchant,
        since: week_ago,
        decisions: Decisions {
            days,
            breakers_open,
            page: "policies",
        },
        cards: cards.into_iter().collect(),
    })
    .into_response())
}

/// The last seven days at a glance.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Overview {
    /// The merchant.
    pub merchant: String,
    /// The first day counted (ms since the epoch, UTC midnight).
    pub since: i64,
    /// Decisions per day and open breakers.
    pub decisions: Decisions,
    /// Each feature's card, under the feature's name; each names the
    /// console `page` that explains it.
    #[serde(flatten)]
    #[schema(value_type = std::collections::HashMap<String, Object>)]
    pub cards: std::collections::BTreeMap<&'static str, Value>,
}

/// The policies' decisions of the week.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Decisions {
    /// Per day: `{day, ok, fallback, refused}`.
    #[schema(value_type = Vec<Object>)]
    pub days: Vec<Value>,
    /// Slots whose breaker is open now.
    pub breakers_open: usize,
    /// The console page that explains them.
    pub page: &'static str,
}
