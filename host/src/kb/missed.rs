//! Searches that found nothing: the widget reports them (after the visitor
//! stopped typing), the host counts them per query and day with nothing
//! about who searched, and the merchant reads the list to know which
//! article to write next. Also the editor's Markdown preview.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sqlx::Row;

use crate::AppState;
use crate::platform::http::Code;
use crate::platform::http::{ApiError, ForMerchant, JsonBody, query, valid_locale};
use crate::platform::store::StoreError;

use crate::DAY_MS;
use crate::kb::store::KbDb;

/// The words of a search as counted: trimmed, lower-case, single spaces,
/// at most 80 characters; anything that looks like a person's data (an
/// address with `@`, a run of 5 or more digits such as a phone or order
/// number) is left out. `None` when nothing is left.
pub fn normalise(query: &str) -> Option<String> {
    let words: Vec<String> = query
        .split_whitespace()
        .filter(|w| !w.contains('@'))
        .map(|w| {
            let mut out = String::new();
            let mut digits = 0;
            for c in w.chars().flat_map(char::to_lowercase) {
                digits = if c.is_ascii_digit() { digits + 1 } else { 0 };
                out.push(c);
                if digits == 5 {
                    out.truncate(out.len() - 5);
                    out.push('#');
                } else if digits > 5 {
                    out.pop();
                }
            }
            out
        })
        .collect();
    let text: String = words.join(" ").chars().take(80).collect();
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MissedIn {
    /// The index's locale.
    locale: String,
    /// What the visitor typed.
    query: String,
}

/// `POST /public/v1/{m}/missed-searches`: a search that found nothing.
#[utoipa::path(post, path = "/public/v1/{merchant}/missed-searches", tag = "widget (public)", params(("merchant" = String, Path, description = "Merchant id")), request_body = MissedIn, responses((status = 202, description = "Counted (or left out when it looked like personal data)", body = Counted)))]
pub async fn report(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    JsonBody(m): JsonBody<MissedIn>,
) -> Result<Response, ApiError> {
    if !valid_locale(&m.locale) || m.query.chars().count() > 200 {
        return Err(ApiError::unprocessable(
            Code::InvalidSearch,
            "give the index's `locale` and a `query` of at most 200 characters",
        ));
    }
    let counted = match normalise(&m.query) {
        Some(q) => {
            KbDb(&state.store)
                .count_missed_search(&merchant, &m.locale, &q, crate::now_ms())
                .await?
        }
        None => false,
    };
    Ok((StatusCode::ACCEPTED, axum::Json(Counted { counted })).into_response())
}

/// Whether a missed search was counted (a visitor's repeats are not).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Counted {
    /// Whether it counted.
    pub counted: bool,
}

/// An article as the widget shows it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Preview {
    /// The sanitised HTML.
    pub html: String,
}

/// Query of [`list`].
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MissedQuery {
    /// Days back from today (1–365, default 30).
    #[param(minimum = 1, maximum = 365)]
    days: Option<u32>,
}

/// `GET /v1/merchants/{m}/missed-searches`: the searches that found
/// nothing, most frequent first.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/missed-searches", tag = "knowledge base", params(("merchant" = String, Path, description = "Merchant id"), MissedQuery), responses((status = 200, description = "Queries with their counts, most frequent first (at most 100)", body = MissedReport)))]
pub async fn list(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    q: Result<Query<MissedQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let days = query(q)?.days.unwrap_or(30);
    if !(1..=365).contains(&days) {
        return Err(ApiError::bad_request(
            Code::InvalidQuery,
            "`days` must be between 1 and 365",
        ));
    }
    let since = crate::now_ms() - i64::from(days) * DAY_MS;
    let searches = KbDb(&state.store).missed_searches(&merchant, since).await?;
    Ok(axum::Json(MissedReport {
        merchant,
        days,
        searches,
    })
    .into_response())
}

/// A search that found nothing, counted.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Missed {
    /// The index's locale.
    pub locale: String,
    /// The query, normalised.
    pub query: String,
    /// How often it was searched.
    pub searches: i64,
    /// The last day it was (ms since the epoch, UTC midnight).
    pub last_day: i64,
}

/// The searches that found nothing.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MissedReport {
    /// The merchant.
    pub merchant: String,
    /// Days covered.
    pub days: u32,
    /// Most frequent first, at most 100.
    pub searches: Vec<Missed>,
}

/// An article's Markdown to preview.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewIn {
    /// Markdown.
    body: String,
}

/// `POST /v1/merchants/{m}/articles/preview`: Markdown as the widget will
/// show it (the same sanitised HTML).
#[utoipa::path(post, path = "/v1/merchants/{merchant}/articles/preview", tag = "knowledge base", params(("merchant" = String, Path, description = "Merchant id")), request_body = PreviewIn, responses((status = 200, description = "The safe HTML", body = Preview)))]
pub async fn preview(
    _: ForMerchant,
    JsonBody(p): JsonBody<PreviewIn>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(Preview {
        html: super::markdown::to_html(&p.body),
    })
    .into_response())
}

impl KbDb<'_> {
    /// Count one missed search; false if the merchant does not exist.
    pub async fn count_missed_search(
        self,
        merchant: &str,
        locale: &str,
        query: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        if !self.merchant_exists(merchant).await? {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO kb_missed_searches (merchant_id, locale, query, day, searches) VALUES ($1, $2, $3, $4, 1) \
             ON CONFLICT (merchant_id, locale, query, day) DO UPDATE SET searches = kb_missed_searches.searches + 1",
        )
        .bind(merchant)
        .bind(locale)
        .bind(query)
        .bind(now - now.rem_euclid(DAY_MS))
        .execute(&self.pool)
        .await?;
        Ok(true)
    }

    /// Missed searches since `since` (ms), most frequent first.
    pub async fn missed_searches(
        self,
        merchant: &str,
        since: i64,
    ) -> Result<Vec<Missed>, StoreError> {
        let rows = sqlx::query(
            "SELECT locale, query, CAST(SUM(searches) AS BIGINT) AS n, MAX(day) AS last FROM kb_missed_searches \
             WHERE merchant_id = $1 AND day >= $2 GROUP BY locale, query ORDER BY n DESC, query LIMIT 100",
        )
        .bind(merchant)
        .bind(since - since.rem_euclid(DAY_MS))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Missed {
                    locale: r.try_get(0)?,
                    query: r.try_get(1)?,
                    searches: r.try_get(2)?,
                    last_day: r.try_get(3)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn keeps_words_and_drops_personal_data() {
        assert_eq!(
            normalise("  Return   POLICY ").as_deref(),
            Some("return policy")
        );
        assert_eq!(
            normalise("order 1234567 late").as_deref(),
            Some("order # late")
        );
        assert_eq!(normalise("size 42").as_deref(), Some("size 42"));
        assert_eq!(
            normalise("me@shop.example refund").as_deref(),
            Some("refund")
        );
        assert_eq!(normalise("a@b"), None);
        assert_eq!(normalise("退货 运费").as_deref(), Some("退货 运费"));
    }
}
