//! The overview page's numbers: this week's decisions, survey answers and
//! NPS, searches that found nothing, articles' helpfulness, open breakers,
//! whether the widget may run anywhere yet, and how many customers there are.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;
use crate::platform::http::{ApiError, merchant_or_operator};
use crate::surveys::{Kind, Survey};

use crate::DAY_MS;

/// `GET /v1/merchants/{m}/overview`: the last seven days at a glance.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/overview", tag = "console", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "This week's numbers, each with the page that explains it", body = serde_json::Value)))]
pub async fn overview(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    merchant_or_operator(&state, &headers, &merchant).await?;
    crate::platform::http::require_merchant(&state, &merchant).await?;
    let now = crate::now_ms();
    let today = now - now.rem_euclid(DAY_MS);
    let week_ago = today - 6 * DAY_MS;

    // The parts are independent: read them at once.
    let stats = async {
        state.stats.flush(&state.store).await?;
        Ok::<_, ApiError>(state.store.call_stats(&merchant, week_ago).await?)
    };
    let survey_part = async {
        let (mut answers, mut ratings) = (0usize, Vec::new());
        let surveys = state.store.surveys(&merchant).await?;
        for row in &surveys {
            let Ok(survey) = serde_json::from_str::<Survey>(&row.definition) else {
                continue;
            };
            let nps: Vec<&str> = survey
                .questions
                .iter()
                .filter(|q| q.kind == Kind::Nps)
                .map(|q| q.id.as_str())
                .collect();
            for a in state.store.answers(&merchant, &row.id).await? {
                if a.received_at < week_ago {
                    continue;
                }
                answers += 1;
                ratings.extend(nps.iter().filter_map(|q| a.answers.get(*q)?.as_u64()));
            }
        }
        Ok::<_, ApiError>((surveys.len(), answers, ratings))
    };
    let articles = async { Ok::<_, ApiError>(state.store.articles(&merchant, None).await?) };
    let missed =
        async { Ok::<_, ApiError>(state.store.missed_searches(&merchant, week_ago).await?) };
    let customers = async { Ok::<_, ApiError>(state.store.customer_count(&merchant).await?) };
    let origins = crate::widget::allowed_origins(&state, &merchant);
    let (buckets, (survey_count, answers, ratings), articles, missed, customers, origins) =
        tokio::try_join!(stats, survey_part, articles, missed, customers, origins)?;
    let origins = origins.unwrap_or_default();

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
    let nps = crate::surveys::nps(&ratings)["score"].clone();
    let (yes, no) = articles
        .iter()
        .fold((0, 0), |(y, n), a| (y + a.helpful, n + a.unhelpful));
    let missed_total: i64 = missed.iter().filter_map(|m| m["searches"].as_i64()).sum();

    Ok(axum::Json(json!({
        "merchant": merchant,
        "since": week_ago,
        "decisions": {"days": days, "breakers_open": breakers_open, "page": "policies"},
        "surveys": {"count": survey_count, "answers": answers, "nps": nps, "ratings": ratings.len(), "page": "surveys"},
        "kb": {
            "articles": articles.len(),
            "helpful": yes,
            "unhelpful": no,
            "missed_searches": missed_total,
            "top_missed": missed.iter().take(5).collect::<Vec<_>>(),
            "page": "kb",
        },
        "widget": {"allowed_origins": origins.len(), "page": "widget"},
        "customers": {"count": customers, "page": "customers"},
    }))
    .into_response())
}
