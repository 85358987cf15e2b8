//! A survey's results: counts, NPS (overall and per day), choice shares
//! and text answers, as
//! JSON and as a CSV a spreadsheet opens safely.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::report::{LinkQuery, report_access};
use super::{Kind, Survey, with_answers};
use crate::AppState;
use crate::platform::http::{ApiError, ForMerchant, csv_field};
use crate::surveys::store::AnswerRow;

/// Net Promoter Score of some 0–10 ratings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Nps {
    /// % promoters (9–10) − % detractors (0–6), rounded; none without ratings.
    pub score: Option<f64>,
    /// Ratings of 9 or 10.
    pub promoters: usize,
    /// Ratings of 7 or 8.
    pub passives: usize,
    /// Ratings of 0 to 6.
    pub detractors: usize,
}

/// Net Promoter Score of 0–10 ratings: % promoters (9–10) − % detractors (0–6).
pub fn nps(ratings: &[u64]) -> Nps {
    let promoters = ratings.iter().filter(|&&r| r >= 9).count();
    let detractors = ratings.iter().filter(|&&r| r <= 6).count();
    let n = ratings.len();
    let score =
        (n > 0).then(|| ((promoters as f64 - detractors as f64) * 100.0 / n as f64).round());
    Nps {
        score,
        promoters,
        passives: n - promoters - detractors,
        detractors,
    }
}

/// A survey's results.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SurveyResults {
    /// The survey.
    pub survey: String,
    /// Its title (English).
    pub title: String,
    /// Answers received.
    pub responses: usize,
    /// Per question.
    pub questions: Vec<QuestionResults>,
}

/// One question's results; what is there depends on its kind.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct QuestionResults {
    /// The question.
    pub id: String,
    /// `nps`, `choice` or `text`.
    pub kind: Kind,
    /// Its prompt (English).
    pub prompt: String,
    /// How many answered it.
    pub answered: usize,
    /// NPS questions: the score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nps: Option<Nps>,
    /// NPS questions: how many gave each rating, 0 to 10.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<[usize; 11]>,
    /// NPS questions: the score per day (UTC), oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub over_time: Option<Vec<DayNps>>,
    /// Choice questions: each option's count and share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<ChoiceShare>>,
    /// Text questions: the latest 200 answers, newest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub texts: Option<Vec<TextAnswer>>,
}

/// A day's NPS.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DayNps {
    /// The day (ms since the epoch, UTC midnight).
    pub day: i64,
    /// Ratings that day.
    pub responses: usize,
    /// Its score.
    pub score: Option<f64>,
}

/// An option's share of a choice question's answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ChoiceShare {
    /// The option.
    pub id: String,
    /// Its label (English).
    pub label: String,
    /// How many chose it.
    pub count: usize,
    /// Of those who answered.
    pub share: f64,
}

/// A text answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TextAnswer {
    /// What the visitor wrote.
    #[schema(value_type = String)]
    pub text: Value,
    /// Their locale.
    pub locale: String,
    /// The page they were on.
    pub page: String,
    /// When it arrived.
    pub at: i64,
}

/// Counts, NPS, choice shares and texts of a survey's answers.
pub(super) fn summary(id: &str, survey: &Survey, answers: &[AnswerRow]) -> SurveyResults {
    let questions = survey
        .questions
        .iter()
        .map(|q| {
            let given: Vec<(&Value, &AnswerRow)> = answers
                .iter()
                .filter_map(|a| a.answers.get(&q.id).map(|v| (v, a)))
                .collect();
            let mut out = QuestionResults {
                id: q.id.clone(),
                kind: q.kind,
                prompt: q.prompt.get("en").to_string(),
                answered: given.len(),
                nps: None,
                distribution: None,
                over_time: None,
                choices: None,
                texts: None,
            };
            match q.kind {
                Kind::Nps => {
                    let ratings: Vec<u64> = given.iter().filter_map(|(v, _)| v.as_u64()).collect();
                    let mut counts = [0usize; 11];
                    for &r in &ratings {
                        counts[r.min(10) as usize] += 1;
                    }
                    out.nps = Some(nps(&ratings));
                    out.distribution = Some(counts);
                    // NPS per day (UTC), oldest first, for the trend chart.
                    let mut days = std::collections::BTreeMap::<i64, Vec<u64>>::new();
                    for (v, a) in &given {
                        if let Some(r) = v.as_u64() {
                            days.entry(a.received_at.div_euclid(86_400_000) * 86_400_000)
                                .or_default()
                                .push(r);
                        }
                    }
                    out.over_time = Some(
                        days.iter()
                            .map(|(day, r)| DayNps {
                                day: *day,
                                responses: r.len(),
                                score: nps(r).score,
                            })
                            .collect(),
                    );
                }
                Kind::Choice => {
                    let total = given.len().max(1) as f64;
                    out.choices = Some(
                        q.options
                            .iter()
                            .map(|o| {
                                let count = given
                                    .iter()
                                    .filter(|(v, _)| v.as_str() == Some(&o.id))
                                    .count();
                                ChoiceShare {
                                    id: o.id.clone(),
                                    label: o.label.get("en").to_string(),
                                    count,
                                    share: count as f64 / total,
                                }
                            })
                            .collect(),
                    );
                }
                Kind::Text => {
                    out.texts = Some(
                        given
                            .iter()
                            .rev()
                            .take(200)
                            .map(|(v, a)| TextAnswer {
                                text: (*v).clone(),
                                locale: a.locale.clone(),
                                page: a.page.clone(),
                                at: a.received_at,
                            })
                            .collect(),
                    );
                }
            }
            out
        })
        .collect();
    SurveyResults {
        survey: id.to_string(),
        title: survey.title.get("en").to_string(),
        responses: answers.len(),
        questions,
    }
}

/// `GET /v1/merchants/{m}/surveys/{id}/results`.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/surveys/{id}/results", tag = "surveys", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Survey id")), responses((status = 200, description = "Counts, NPS, choice shares, texts", body = SurveyResults)))]
pub async fn results(
    State(state): State<AppState>,
    _: ForMerchant,
    Path((merchant, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (survey, answers) = with_answers(&state, &merchant, &id).await?;
    Ok(axum::Json(summary(&id, &survey, &answers)).into_response())
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
    report_access(&state, caller, &link, &merchant, &id).await?;
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
        assert_eq!(nps(&[10, 9, 8, 0]).score, Some(25.0));
        assert_eq!(nps(&[]).score, None);
        assert_eq!(nps(&[6, 7, 9]).passives, 1);
    }
}
