//! Exit-intent surveys: the merchant's definitions (create, replace, list,
//! delete), the answers visitors send (validated, each stored once), and
//! the results (`results`: counts, NPS, choice shares, text answers, CSV)
//! and the report page (`report`).

mod model;
mod report;
mod results;
pub mod store;

pub use model::{Choice, Kind, Localized, Question, Survey, Targeting, Trigger};
pub use results::nps;

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::platform::feature::{ConsolePage, Feature};
use crate::platform::http::Code;
use crate::platform::http::{ApiError, ForMerchant, JsonBody, valid_id};
use crate::platform::keys::Scope;
use crate::surveys::store::AnswerRow;
use crate::surveys::store::SurveysDb;

/// The surveys' routes: definitions, results, the report for the
/// merchant, and the public endpoint the widget sends answers to.
fn routes(_: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(put_survey, delete))
        .routes(routes!(results::results))
        .routes(routes!(results::csv))
        .routes(routes!(report::report))
        .routes(routes!(report::report_link))
}

/// Exit surveys, as registered with the platform (their tables came with
/// the widget's migration).
pub const FEATURE: Feature = Feature {
    name: "surveys",
    routes,
    // Customer service reads surveys and their results.
    permissions: &[
        ("GET", "/v1/merchants/{merchant}/surveys", Scope::Support),
        (
            "GET",
            "/v1/merchants/{merchant}/surveys/{id}/results",
            Scope::Support,
        ),
        (
            "GET",
            "/v1/merchants/{merchant}/surveys/{id}/results.csv",
            Scope::Support,
        ),
        (
            "GET",
            "/v1/merchants/{merchant}/surveys/{id}/report",
            Scope::Support,
        ),
    ],
    public: |_| OpenApiRouter::new().routes(routes!(answers)),
    console: &[ConsolePage::new("surveys.js", include_str!("console.js"))],
    overview: Some(overview),
    ..Feature::EMPTY
};

/// `POST /public/v1/{m}/answers`: survey answers, each stored once.
#[utoipa::path(post, path = "/public/v1/{merchant}/answers", tag = "widget (public)", params(("merchant" = String, Path, description = "Merchant id")), request_body = AnswersIn, responses((status = 200, description = "accepted, duplicates and rejected answers", body = Received)))]
pub async fn answers(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    JsonBody(batch): JsonBody<AnswersIn>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(receive(&state, &merchant, batch).await?).into_response())
}

/// The merchant's surveys, parsed (definitions are checked when stored).
pub async fn load(state: &AppState, merchant: &str) -> Result<Vec<(String, Survey)>, ApiError> {
    Ok(SurveysDb(&state.store)
        .surveys(merchant)
        .await?
        .into_iter()
        .filter_map(|r| serde_json::from_str(&r.definition).ok().map(|s| (r.id, s)))
        .collect())
}

/// A survey and its answers.
async fn with_answers(
    state: &AppState,
    merchant: &str,
    id: &str,
) -> Result<(Survey, Vec<AnswerRow>), ApiError> {
    let survey = load(state, merchant)
        .await?
        .into_iter()
        .find(|(i, _)| i == id)
        .map(|(_, s)| s)
        .ok_or_else(|| ApiError::not_found(format!("no survey `{id}`")))?;
    Ok((survey, SurveysDb(&state.store).answers(merchant, id).await?))
}

/// `PUT /v1/merchants/{m}/surveys/{id}`: create or replace a survey.
#[utoipa::path(put, path = "/v1/merchants/{merchant}/surveys/{id}", tag = "surveys", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Survey id")), request_body = Survey, responses((status = 200, description = "Replaced", body = SurveyNow), (status = 201, description = "Created", body = SurveyNow)))]
pub async fn put_survey(
    State(state): State<AppState>,
    _: ForMerchant,
    Path((merchant, id)): Path<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    let survey: Survey = crate::platform::http::replace_input(
        ("survey", &id, Code::InvalidSurveyId),
        body,
        Survey::check,
    )
    .await?;
    let definition = serde_json::to_string(&survey).map_err(ApiError::internal)?;
    let created = SurveysDb(&state.store)
        .put_survey(&merchant, &id, &definition)
        .await?;
    Ok((
        crate::platform::http::created_or_ok(created),
        axum::Json(SurveyNow { id, survey }),
    )
        .into_response())
}

/// `GET /v1/merchants/{m}/surveys`.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/surveys", tag = "surveys", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "The surveys", body = Surveys)))]
pub async fn list(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
) -> Result<Response, ApiError> {
    let surveys = load(&state, &merchant)
        .await?
        .into_iter()
        .map(|(id, survey)| SurveyNow { id, survey })
        .collect();
    Ok(axum::Json(Surveys { surveys }).into_response())
}

/// One survey with its id.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SurveyNow {
    /// Its id.
    pub id: String,
    /// Its definition.
    pub survey: Survey,
}

/// A merchant's surveys.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Surveys {
    /// Every survey.
    pub surveys: Vec<SurveyNow>,
}

/// `DELETE /v1/merchants/{m}/surveys/{id}` (its answers go with it).
#[utoipa::path(delete, path = "/v1/merchants/{merchant}/surveys/{id}", tag = "surveys", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Survey id")), responses((status = 204, description = "Deleted with its answers")))]
pub async fn delete(
    State(state): State<AppState>,
    _: ForMerchant,
    Path((merchant, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    if SurveysDb(&state.store)
        .delete_survey(&merchant, &id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("no survey `{id}`")))
    }
}

/// One answer as the widget sends it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerIn {
    /// The widget's id for it (8–64 characters): a resend is stored once.
    id: String,
    /// The survey.
    survey: String,
    /// The visitor's id.
    visitor: String,
    /// The page's locale.
    #[serde(default)]
    locale: String,
    /// The page's path.
    #[serde(default)]
    page: String,
    /// Question id → answer.
    answers: BTreeMap<String, Value>,
}

/// A batch of one visitor's answers.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswersIn {
    /// At most 50.
    answers: Vec<AnswerIn>,
}

/// What became of a batch of answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Received {
    /// Stored now.
    pub accepted: Vec<String>,
    /// Not stored now: stored before, or the visitor had already answered
    /// that survey (one answer per visitor per survey).
    pub duplicates: Vec<String>,
    /// Never valid: the widget stops resending them.
    pub rejected: Vec<RejectedAnswer>,
}

/// An answer that can never be valid.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RejectedAnswer {
    /// The answer's id.
    pub id: String,
    /// Why, for programs.
    pub code: &'static str,
    /// Why, in words.
    pub message: String,
}

/// Most answers in one request.
const MAX_BATCH: usize = 50;

/// `POST /public/v1/{m}/answers`: store each answer once. Answers that can
/// never be valid are named in `rejected` (so the widget stops resending
/// them); the rest are `accepted` or were `duplicates` of ones stored
/// before.
pub async fn receive(
    state: &AppState,
    merchant: &str,
    batch: AnswersIn,
) -> Result<Received, ApiError> {
    if batch.answers.len() > MAX_BATCH {
        return Err(ApiError::unprocessable(
            Code::BatchTooLarge,
            format!("send at most {MAX_BATCH} answers at a time"),
        ));
    }
    if batch
        .answers
        .windows(2)
        .any(|w| w[0].visitor != w[1].visitor)
    {
        return Err(ApiError::unprocessable(
            Code::MixedVisitors,
            "a batch holds one visitor's answers; send each visitor's separately",
        ));
    }
    let surveys: BTreeMap<String, Survey> = load(state, merchant).await?.into_iter().collect();
    let now = crate::now_ms();
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for a in batch.answers {
        let reject = |code: &'static str, message: String| RejectedAnswer {
            id: a.id.clone(),
            code,
            message,
        };
        let error = if !(8..=64).contains(&a.id.len()) || !valid_id(&a.id) {
            Some(reject(
                "invalid_answer_id",
                "an answer id has 8-64 letters, digits, `-` or `_`".into(),
            ))
        } else if !(1..=64).contains(&a.visitor.len()) || !valid_id(&a.visitor) {
            Some(reject(
                "invalid_visitor",
                "a visitor id has 1-64 letters, digits, `-` or `_`".into(),
            ))
        } else if a.page.len() > 500 || a.locale.len() > 35 {
            Some(reject(
                "invalid_answer",
                "page is at most 500 bytes and locale at most 35".into(),
            ))
        } else if let Some(survey) = surveys.get(&a.survey) {
            let missing = survey
                .questions
                .iter()
                .find(|q| q.required && !a.answers.contains_key(&q.id));
            if let Some(q) = missing {
                Some(reject(
                    "missing_answer",
                    format!("question `{}` must be answered", q.id),
                ))
            } else if a.answers.is_empty() {
                Some(reject(
                    "empty_answer",
                    "answer at least one question".into(),
                ))
            } else {
                a.answers
                    .iter()
                    .find_map(|(q, v)| survey.answer_error(q, v))
                    .map(|m| reject("invalid_answer", m))
            }
        } else {
            Some(reject(
                "unknown_survey",
                format!("there is no survey `{}`", a.survey),
            ))
        };
        match error {
            Some(e) => rejected.push(e),
            None => rows.push(AnswerRow {
                id: a.id,
                survey_id: a.survey,
                visitor: a.visitor,
                locale: a.locale,
                page: a.page,
                answers: json!(a.answers),
                received_at: now,
            }),
        }
    }
    let fresh = SurveysDb(&state.store)
        .insert_answers(merchant, &rows)
        .await?;
    let (accepted, duplicates): (Vec<_>, Vec<_>) = rows.iter().zip(fresh).partition(|(_, f)| *f);
    let ids =
        |v: Vec<(&AnswerRow, bool)>| v.into_iter().map(|(r, _)| r.id.clone()).collect::<Vec<_>>();
    Ok(Received {
        accepted: ids(accepted),
        duplicates: ids(duplicates),
        rejected,
    })
}

/// The overview's card: surveys, answers since `since`, and their NPS.
fn overview<'a>(
    state: &'a AppState,
    merchant: &'a str,
    since: i64,
) -> crate::platform::feature::Pending<'a, Result<Value, ApiError>> {
    Box::pin(async move {
        let (mut answers, mut ratings) = (0usize, Vec::new());
        let surveys = SurveysDb(&state.store).surveys(merchant).await?;
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
            for a in SurveysDb(&state.store).answers(merchant, &row.id).await? {
                if a.received_at < since {
                    continue;
                }
                answers += 1;
                ratings.extend(nps.iter().filter_map(|q| a.answers.get(*q)?.as_u64()));
            }
        }
        Ok(json!({
            "count": surveys.len(),
            "answers": answers,
            "nps": nps(&ratings).score,
            "ratings": ratings.len(),
            "page": "surveys",
        }))
    })
}
