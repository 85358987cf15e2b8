//! A survey's results: counts, NPS (overall and per day), choice shares
//! and text answers, as
//! JSON and as a CSV a spreadsheet opens safely.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::report::{LinkQuery, report_access};
use super::{Kind, Survey, with_answers};
use crate::AppState;
use crate::platform::http::{ApiError, ForMerchant};
use crate::surveys::store::AnswerRow;

/// Net Promoter Score of 0–10 ratings: % promoters (9–10) − % detractors (0–6).
pub fn nps(ratings: &[u64]) -> Value {
    let promoters = ratings.iter().filter(|&&r| r >= 9).count();
    let detractors = ratings.iter().filter(|&&r| r <= 6).count();
    let n = ratings.len();
    let score =
        (n > 0).then(|| ((promoters as f64 - detractors as f64) * 100.0 / n as f64).round());
    json!({"score": score, "promoters": promoters, "passives": n - promoters - detractors, "detractors": detractors})
}

/// Counts, NPS, choice shares and texts of a survey's answers.
pub(super) fn summary(id: &str, survey: &Survey, answers: &[AnswerRow]) -> Value {
    let questions: Vec<Value> = survey
        .questions
        .iter()
        .map(|q| {
            let given: Vec<(&Value, &AnswerRow)> =
                answers.iter().filter_map(|a| a.answers.get(&q.id).map(|v| (v, a))).collect();
            let mut out = json!({"id": q.id, "kind": q.kind, "prompt": q.prompt.get("en"), "answered": given.len()});
            match q.kind {
                Kind::Nps => {
                    let ratings: Vec<u64> = given.iter().filter_map(|(v, _)| v.as_u64()).collect();
                    let mut counts = [0usize; 11];
                    for &r in &ratings {
                        counts[r.min(10) as usize] += 1;
                    }
                    out["nps"] = nps(&ratings);
                    out["distribution"] = json!(counts);
                    // NPS per day (UTC), oldest first, for the trend chart.
                    let mut days = std::collections::BTreeMap::<i64, Vec<u64>>::new();
                    for (v, a) in &given {
                        if let Some(r) = v.as_u64() {
                            days.entry(a.received_at.div_euclid(86_400_000) * 86_400_000)
                                .or_default()
                                .push(r);
                        }
                    }
                    out["over_time"] = days
                        .iter()
                        .map(|(day, r)| json!({"day": day, "responses": r.len(), "score": nps(r)["score"]}))
                        .collect();
                }
                Kind::Choice => {
                    let total = given.len().max(1) as f64;
                    out["choices"] = q
                        .options
                        .iter()
                        .map(|o| {
                            let n = given.iter().filter(|(v, _)| v.as_str() == Some(&o.id)).count();
                            json!({"id": o.id, "label": o.label.get("en"), "count": n, "share": n as f64 / total})
                        })
                        .collect();
                }
                Kind::Text => {
                    out["texts"] = given
                        .iter()
                        .rev()
                        .take(200)
                        .map(|(v, a)| json!({"text": v, "locale": a.locale, "page": a.page, "at": a.received_at}))
                        .collect();
                }
            }
            out
        })
        .collect();
    json!({
        "survey": id, "title": survey.title.get("en"), "responses": answers.len(), "questions": questions,
    })
}

/// `GET /v1/merchants/{m}/surveys/{id}/results`.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/surveys/{id}/results", tag = "surveys", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Survey id")), responses((status = 200, description = "Counts, NPS, choice shares, texts", body = serde_json::Value)))]
pub async fn results(
    State(state): State<AppState>,
    _: ForMerchant,
    Path((merchant, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (survey, answers) = with_answers(&state, &merchant, &id).await?;
    Ok(axum::Json(summary(&id, &survey, &answers)).into_response())
}

/// A CSV field: quoted when needed, and never read as a formula by a
/// spreadsheet.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) || s.starts_with('\'') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// `GET /v1/merchants/{m}/surveys/{id}/results.csv`: one row per answer.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/surveys/{id}/results.csv", tag = "surveys", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Survey id"), ("expires" = Option<i64>, Query, description = "A report link's expiry (ms)"), ("sig" = Option<String>, Query, description = "A report link's signature")), responses((status = 200, description = "One row per answer", body = String, content_type = "text/csv")))]
pub async fn csv(
    State(state): State<AppState>,
    caller: Result<ForMerchant, ApiError>,
    Path((merchant, id)): Path<(String, String)>,
    link: Result<Query<LinkQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let link = crate::platform::http::query(link)?;
    report_access(&state, caller, &link, &merchant, &id)?;
    let (survey, answers) = with_answers(&state, &merchant, &id).await?;
    let mut out = String::from("answer_id,received_at,locale,page");
    for q in &survey.questions {
        out.push(',');
        out.push_str(&csv_field(&q.id));
    }
    out.push('\n');
    for a in &answers {
        let at = chrono::DateTime::from_timestamp_millis(a.received_at)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        let mut cells = vec![
            csv_field(&a.id),
            at,
            csv_field(&a.locale),
            csv_field(&a.page),
        ];
        for q in &survey.questions {
            cells.push(match a.answers.get(&q.id) {
                Some(Value::String(s)) => csv_field(s),
                Some(v) => csv_field(&v.to_string()),
                None => String::new(),
            });
        }
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}.csv\""),
            ),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nps_is_promoters_minus_detractors() {
        assert_eq!(nps(&[10, 9, 8, 0])["score"], json!(25.0));
        assert_eq!(nps(&[])["score"], Value::Null);
        assert_eq!(nps(&[6, 7, 9])["passives"], json!(1));
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
    }
}
