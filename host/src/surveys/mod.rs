//! Exit-intent surveys: the merchant's definitions (create, replace, list,
//! delete), the answers visitors send (validated, each stored once), and
//! the results (counts, NPS, choice shares, text answers, CSV).

pub mod store;

use std::collections::{BTreeMap, HashSet};

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::AppState;
use crate::platform::guard::{MAX_PUBLIC_BODY, preflight};
use crate::platform::http::{ApiError, merchant_or_operator, parse_json, read_body, valid_id};
use crate::surveys::store::AnswerRow;

/// The surveys' routes: definitions, results, the report for the
/// merchant, and the public endpoint the widget sends answers to.
pub fn routes(state: &AppState) -> Router<AppState> {
    let public = Router::new().route("/answers", post(answers).options(preflight));
    Router::new()
        .route("/v1/merchants/{merchant}/surveys", get(list))
        .route(
            "/v1/merchants/{merchant}/surveys/{id}",
            put(put_survey).delete(delete),
        )
        .route(
            "/v1/merchants/{merchant}/surveys/{id}/results",
            get(results),
        )
        .route(
            "/v1/merchants/{merchant}/surveys/{id}/results.csv",
            get(csv),
        )
        .route("/v1/merchants/{merchant}/surveys/{id}/report", get(report))
        .route(
            "/v1/merchants/{merchant}/surveys/{id}/report-link",
            post(report_link),
        )
        .merge(crate::platform::guard::public(state, public))
}

/// `POST /public/v1/{m}/answers`: survey answers, each stored once.
pub async fn answers(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_body(body, MAX_PUBLIC_BODY, "the answers").await?;
    receive(&state, &merchant, &body).await
}

/// Text in one language or in several (by locale).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Localized {
    /// The same text for every locale.
    One(String),
    /// Text per locale (`en`, `de-AT`, …).
    Many(BTreeMap<String, String>),
}

impl Localized {
    /// The text for `locale`: exact, then same language, then English,
    /// then any.
    pub fn get(&self, locale: &str) -> &str {
        match self {
            Localized::One(s) => s,
            Localized::Many(m) => {
                let lang = locale.split('-').next().unwrap_or(locale);
                m.get(locale)
                    .or_else(|| {
                        m.iter()
                            .find(|(k, _)| k.split('-').next() == Some(lang))
                            .map(|(_, v)| v)
                    })
                    .or_else(|| m.get("en"))
                    .or_else(|| m.values().next())
                    .map_or("", String::as_str)
            }
        }
    }

    fn texts(&self) -> Vec<&str> {
        match self {
            Localized::One(s) => vec![s],
            Localized::Many(m) => m.values().map(String::as_str).collect(),
        }
    }
}

/// Kinds of question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// "How likely are you to recommend us?" 0–10.
    Nps,
    /// One of the listed options.
    Choice,
    /// Free text.
    Text,
}

/// One option of a choice question.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Stable id (what answers carry).
    pub id: String,
    /// What the visitor reads.
    pub label: Localized,
}

/// One question.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Stable id (what answers are keyed by).
    pub id: String,
    /// Kind of answer.
    pub kind: Kind,
    /// What the visitor reads.
    pub prompt: Localized,
    /// Options of a choice question.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// Must be answered.
    #[serde(default)]
    pub required: bool,
}

/// Who sees the survey.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Targeting {
    /// Page paths it shows on; `*` matches anything (`/checkout*`).
    pub paths: Vec<String>,
    /// Locales it shows in (language or full tag); empty: all.
    pub locales: Vec<String>,
    /// Share of visitors (0–1) who are ever asked.
    pub sample_rate: f64,
}

impl Default for Targeting {
    fn default() -> Targeting {
        Targeting {
            paths: vec!["*".into()],
            locales: Vec::new(),
            sample_rate: 1.0,
        }
    }
}

/// When the survey appears.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Trigger {
    /// When the visitor is about to leave: pointer out through the top on
    /// desktop; a fast scroll up, or coming back after the page was hidden
    /// a while, on mobile.
    pub exit_intent: bool,
    /// After this many seconds on the page.
    pub seconds_on_page: Option<u32>,
    /// After scrolling this far down the page (percent).
    pub scroll_depth: Option<u8>,
}

impl Default for Trigger {
    fn default() -> Trigger {
        Trigger {
            exit_intent: true,
            seconds_on_page: None,
            scroll_depth: None,
        }
    }
}

fn yes() -> bool {
    true
}

fn thirty() -> u32 {
    30
}

/// A survey as the merchant defines it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    /// Name the merchant knows it by (also the dialog's heading).
    pub title: Localized,
    /// Shown to visitors at all.
    #[serde(default = "yes")]
    pub active: bool,
    /// Questions, in order.
    pub questions: Vec<Question>,
    /// Who sees it.
    #[serde(default)]
    pub targeting: Targeting,
    /// When it appears.
    #[serde(default)]
    pub trigger: Trigger,
    /// After seeing any survey, a visitor sees none for this many days.
    #[serde(default = "thirty")]
    pub cooldown_days: u32,
}

fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::unprocessable(code, message)
}

impl Survey {
    /// Refuse a definition a visitor could not answer.
    pub fn check(&self) -> Result<(), ApiError> {
        let text_ok = |l: &Localized, max: usize| {
            let texts = l.texts();
            !texts.is_empty()
                && texts
                    .iter()
                    .all(|t| !t.trim().is_empty() && t.chars().count() <= max)
        };
        if !text_ok(&self.title, 120) {
            return Err(invalid(
                "invalid_title",
                "the title must have 1 to 120 characters in every locale",
            ));
        }
        if !(1..=10).contains(&self.questions.len()) {
            return Err(invalid(
                "invalid_questions",
                "a survey has 1 to 10 questions",
            ));
        }
        let mut ids = HashSet::new();
        for q in &self.questions {
            if !valid_id(&q.id) || !ids.insert(q.id.as_str()) {
                return Err(invalid(
                    "invalid_question_id",
                    format!(
                        "question id `{}` must be unique and use 1-64 letters, digits, `-` or `_`",
                        q.id
                    ),
                ));
            }
            if !text_ok(&q.prompt, 300) {
                return Err(invalid(
                    "invalid_prompt",
                    format!(
                        "question `{}`: the prompt must have 1 to 300 characters in every locale",
                        q.id
                    ),
                ));
            }
            let mut options = HashSet::new();
            let options_ok = q
                .options
                .iter()
                .all(|o| valid_id(&o.id) && options.insert(&o.id) && text_ok(&o.label, 80));
            match q.kind {
                Kind::Choice if !(2..=10).contains(&q.options.len()) || !options_ok => {
                    return Err(invalid(
                        "invalid_options",
                        format!(
                            "choice question `{}` needs 2 to 10 options with unique ids and labels of 1 to 80 characters",
                            q.id
                        ),
                    ));
                }
                Kind::Nps | Kind::Text if !q.options.is_empty() => {
                    return Err(invalid(
                        "invalid_options",
                        format!("question `{}`: only choice questions have options", q.id),
                    ));
                }
                _ => {}
            }
        }
        let t = &self.targeting;
        if !(0.0..=1.0).contains(&t.sample_rate) {
            return Err(invalid(
                "invalid_sample_rate",
                "sample_rate is a share between 0 and 1",
            ));
        }
        if t.paths.is_empty()
            || t.paths.len() > 20
            || t.paths
                .iter()
                .any(|p| p.len() > 200 || !(p.starts_with('/') || p == "*"))
        {
            return Err(invalid(
                "invalid_paths",
                "targeting.paths needs 1 to 20 page paths starting with `/` (or `*` for every page)",
            ));
        }
        if t.locales
            .iter()
            .any(|l| !crate::platform::http::valid_locale(l))
        {
            return Err(invalid(
                "invalid_locale",
                "targeting.locales must look like `en` or `de-AT`",
            ));
        }
        let tr = &self.trigger;
        if !tr.exit_intent && tr.seconds_on_page.is_none() && tr.scroll_depth.is_none() {
            return Err(invalid(
                "invalid_trigger",
                "choose at least one trigger: exit_intent, seconds_on_page or scroll_depth",
            ));
        }
        if tr.scroll_depth.is_some_and(|d| !(1..=100).contains(&d))
            || tr.seconds_on_page.is_some_and(|s| s > 3600)
        {
            return Err(invalid(
                "invalid_trigger",
                "scroll_depth is a percentage (1-100) and seconds_on_page at most 3600",
            ));
        }
        if self.cooldown_days > 365 {
            return Err(invalid("invalid_cooldown", "cooldown_days is at most 365"));
        }
        Ok(())
    }

    /// Shown in `locale` at all (active and targeted there).
    pub fn shows_in(&self, locale: &str) -> bool {
        let lang = locale.split('-').next().unwrap_or(locale);
        self.active
            && (self.targeting.locales.is_empty()
                || self
                    .targeting
                    .locales
                    .iter()
                    .any(|l| l == locale || l == lang))
    }

    /// What the widget needs, in the visitor's locale.
    pub fn public(&self, id: &str, locale: &str) -> Value {
        let questions: Vec<Value> = self
            .questions
            .iter()
            .map(|q| {
                json!({
                    "id": q.id, "kind": q.kind, "prompt": q.prompt.get(locale), "required": q.required,
                    "options": q.options.iter().map(|o| json!({"id": o.id, "label": o.label.get(locale)})).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "id": id, "title": self.title.get(locale), "questions": questions,
            "paths": self.targeting.paths, "sample_rate": self.targeting.sample_rate,
            "trigger": {"exit": self.trigger.exit_intent, "seconds": self.trigger.seconds_on_page, "scroll": self.trigger.scroll_depth},
            "cooldown_days": self.cooldown_days,
        })
    }

    /// Why `value` is not a valid answer to question `q`, if it is not.
    fn answer_error(&self, q: &str, value: &Value) -> Option<String> {
        let Some(question) = self.questions.iter().find(|x| x.id == q) else {
            return Some(format!("the survey has no question `{q}`"));
        };
        let ok = match question.kind {
            Kind::Nps => value.as_u64().is_some_and(|n| n <= 10),
            Kind::Choice => value
                .as_str()
                .is_some_and(|s| question.options.iter().any(|o| o.id == s)),
            Kind::Text => value.as_str().is_some_and(|s| s.chars().count() <= 2000),
        };
        (!ok).then(|| match question.kind {
            Kind::Nps => format!("`{q}` takes a whole number from 0 to 10"),
            Kind::Choice => format!("`{q}` takes one of its option ids"),
            Kind::Text => format!("`{q}` takes text of at most 2000 characters"),
        })
    }
}

/// The merchant's surveys, parsed (definitions are checked when stored).
pub async fn load(state: &AppState, merchant: &str) -> Result<Vec<(String, Survey)>, ApiError> {
    Ok(state
        .store
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
    Ok((survey, state.store.answers(merchant, id).await?))
}

/// `PUT /v1/merchants/{m}/surveys/{id}`: create or replace a survey.
pub async fn put_survey(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((merchant, id)): Path<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    let survey: Survey = crate::platform::http::replace_input(
        &state,
        &headers,
        &merchant,
        ("survey", &id, "invalid_survey_id"),
        body,
        Survey::check,
    )
    .await?;
    let definition = serde_json::to_string(&survey).map_err(ApiError::internal)?;
    let created = state.store.put_survey(&merchant, &id, &definition).await?;
    Ok((
        crate::platform::http::created_or_ok(created),
        axum::Json(json!({"id": id, "survey": survey})),
    )
        .into_response())
}

/// `GET /v1/merchants/{m}/surveys`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(merchant): Path<String>,
) -> Result<Response, ApiError> {
    merchant_or_operator(&state, &headers, &merchant).await?;
    let surveys: Vec<Value> = load(&state, &merchant)
        .await?
        .into_iter()
        .map(|(id, s)| json!({"id": id, "survey": s}))
        .collect();
    Ok(axum::Json(json!({ "surveys": surveys })).into_response())
}

/// `DELETE /v1/merchants/{m}/surveys/{id}` (its answers go with it).
pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((merchant, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    merchant_or_operator(&state, &headers, &merchant).await?;
    if state.store.delete_survey(&merchant, &id).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("no survey `{id}`")))
    }
}

/// One answer as the widget sends it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerIn {
    id: String,
    survey: String,
    visitor: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    page: String,
    answers: BTreeMap<String, Value>,
}

/// A batch of answers.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswersIn {
    answers: Vec<AnswerIn>,
}

/// Most answers in one request.
const MAX_BATCH: usize = 50;

/// `POST /public/v1/{m}/answers`: store each answer once. Answers that can
/// never be valid are named in `rejected` (so the widget stops resending
/// them); the rest are `accepted` or were `duplicates` of ones stored
/// before.
pub async fn receive(state: &AppState, merchant: &str, body: &[u8]) -> Result<Response, ApiError> {
    let batch: AnswersIn = parse_json(body)?;
    if batch.answers.len() > MAX_BATCH {
        return Err(ApiError::unprocessable(
            "batch_too_large",
            format!("send at most {MAX_BATCH} answers at a time"),
        ));
    }
    let surveys: BTreeMap<String, Survey> = load(state, merchant).await?.into_iter().collect();
    let now = crate::now_ms();
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for a in batch.answers {
        let reject =
            |code: &str, message: String| json!({"id": a.id, "code": code, "message": message});
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
    let fresh = state.store.insert_answers(merchant, &rows).await?;
    let (accepted, duplicates): (Vec<_>, Vec<_>) = rows.iter().zip(fresh).partition(|(_, f)| *f);
    let ids =
        |v: Vec<(&AnswerRow, bool)>| v.into_iter().map(|(r, _)| r.id.clone()).collect::<Vec<_>>();
    Ok(axum::Json(json!({
        "accepted": ids(accepted), "duplicates": ids(duplicates), "rejected": rejected,
    }))
    .into_response())
}

/// Net Promoter Score of 0–10 ratings: % promoters (9–10) − % detractors (0–6).
fn nps(ratings: &[u64]) -> Value {
    let promoters = ratings.iter().filter(|&&r| r >= 9).count();
    let detractors = ratings.iter().filter(|&&r| r <= 6).count();
    let n = ratings.len();
    let score =
        (n > 0).then(|| ((promoters as f64 - detractors as f64) * 100.0 / n as f64).round());
    json!({"score": score, "promoters": promoters, "passives": n - promoters - detractors, "detractors": detractors})
}

/// Counts, NPS, choice shares and texts of a survey's answers.
fn summary(id: &str, survey: &Survey, answers: &[AnswerRow]) -> Value {
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
pub async fn results(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((merchant, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    merchant_or_operator(&state, &headers, &merchant).await?;
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
pub async fn csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((merchant, id)): Path<(String, String)>,
    link: Result<Query<LinkQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let link = crate::platform::http::query(link)?;
    report_access(&state, &headers, &link, &merchant, &id).await?;
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

/// How long a report link works.
const LINK_MS: i64 = 24 * 3_600_000;

/// A signed report link's query: valid until `expires` (ms), for one
/// merchant's survey.
#[derive(Deserialize, Default)]
pub struct LinkQuery {
    expires: Option<i64>,
    sig: Option<String>,
}

fn link_signature(state: &AppState, merchant: &str, id: &str, expires: i64) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(state.operator_token.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(format!("report\n{merchant}\n{id}\n{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The merchant's key, the operator token, or a signed link that has not
/// expired.
async fn report_access(
    state: &AppState,
    headers: &HeaderMap,
    link: &LinkQuery,
    merchant: &str,
    id: &str,
) -> Result<(), ApiError> {
    let (Some(expires), Some(sig)) = (link.expires, &link.sig) else {
        return merchant_or_operator(state, headers, merchant).await;
    };
    let forbidden = |code, message: &str| {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            code,
            message.to_string(),
        ))
    };
    let expected = link_signature(state, merchant, id, expires);
    if !crate::platform::http::constant_time_eq(sig.as_bytes(), expected.as_bytes()) {
        return forbidden(
            "invalid_link",
            "this report link is not valid; ask for a new one",
        );
    }
    if expires < crate::now_ms() {
        return forbidden(
            "link_expired",
            "this report link has expired; ask for a new one",
        );
    }
    Ok(())
}

/// `POST /v1/merchants/{m}/surveys/{id}/report-link`: a link to the
/// survey's report (and CSV) that opens in a browser for 24 hours.
pub async fn report_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((merchant, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    merchant_or_operator(&state, &headers, &merchant).await?;
    with_answers(&state, &merchant, &id).await?;
    let expires = crate::now_ms() + LINK_MS;
    let q = format!(
        "expires={expires}&sig={}",
        link_signature(&state, &merchant, &id, expires)
    );
    let base = format!("/v1/merchants/{merchant}/surveys/{id}");
    Ok(axum::Json(json!({
        "report": format!("{base}/report?{q}"), "csv": format!("{base}/results.csv?{q}"), "expires_at": expires,
    }))
    .into_response())
}

/// Text made safe for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A labelled horizontal bar: `share` of the full width.
fn bar(label: &str, count: u64, share: f64) -> String {
    format!(
        "<div class=bar><span class=l>{}</span><span class=t><span class=f style=\"width:{:.1}%\"></span></span><span class=n>{count} · {:.0}%</span></div>",
        esc(label),
        share * 100.0,
        share * 100.0
    )
}

/// `GET /v1/merchants/{m}/surveys/{id}/report`: the results as a page a
/// merchant reads: NPS with promoters/passives/detractors, the 0–10
/// spread, choice shares as bars, the latest text answers.
pub async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((merchant, id)): Path<(String, String)>,
    link: Result<Query<LinkQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let link = crate::platform::http::query(link)?;
    report_access(&state, &headers, &link, &merchant, &id).await?;
    let (survey, answers) = with_answers(&state, &merchant, &id).await?;
    let sum = summary(&id, &survey, &answers);
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let mut html = format!(
        "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>{t}</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:760px;margin:2rem auto;padding:0 1rem;color:#1b1b1b}}\
         h2{{font-size:1.1rem;margin-top:2rem}}.big{{font-size:2.6rem;font-weight:700;margin:0}}.muted{{color:#555}}\
         .bar{{display:flex;align-items:center;gap:.6rem;margin:.3rem 0}}.l{{width:12rem}}.t{{flex:1;background:#eee;border-radius:4px;height:1.1rem;overflow:hidden}}\
         .f{{display:block;height:100%;background:#0b6e4f}}.n{{width:6.5rem;text-align:right;font-variant-numeric:tabular-nums}}\
         .stack{{display:flex;height:1.4rem;border-radius:6px;overflow:hidden;margin:.5rem 0}}.p{{background:#1a9850}}.m{{background:#bdbdbd}}.d{{background:#d73027}}\
         .cols{{display:flex;align-items:flex-end;gap:4px;height:110px;border-bottom:1px solid #999}}.cols span{{flex:1;background:#0b6e4f}}\
         .axis{{display:flex;gap:4px}}.axis span{{flex:1;text-align:center;font-size:.8rem;color:#555}}blockquote{{margin:.5rem 0;padding:.4rem .8rem;border-left:4px solid #ccc;background:#fafafa}}</style>\
         <h1>{t}</h1><p class=muted>{r} responses",
        t = esc(sum["title"].as_str().unwrap_or("")),
        r = n(&sum["responses"]),
    );
    if let (Some(e), Some(sig)) = (link.expires, &link.sig) {
        html.push_str(&format!(
            " · <a href=\"results.csv?expires={e}&amp;sig={}\">download CSV</a>",
            esc(sig)
        ));
    }
    html.push_str("</p>");
    for q in sum["questions"].as_array().into_iter().flatten() {
        html.push_str(&format!(
            "<h2>{}</h2><p class=muted>{} answered</p>",
            esc(q["prompt"].as_str().unwrap_or("")),
            n(&q["answered"])
        ));
        if let Some(nps) = q.get("nps") {
            let (p, m, d) = (
                n(&nps["promoters"]),
                n(&nps["passives"]),
                n(&nps["detractors"]),
            );
            let total = (p + m + d).max(1) as f64;
            let score = nps["score"]
                .as_f64()
                .map_or("–".to_string(), |s| format!("{s:+.0}"));
            html.push_str(&format!(
                "<p class=big>NPS {score}</p><div class=stack title=\"promoters, passives, detractors\">\
                 <span class=p style=\"width:{:.1}%\"></span><span class=m style=\"width:{:.1}%\"></span><span class=d style=\"width:{:.1}%\"></span></div>\
                 <p class=muted>{p} promoters (9–10) · {m} passives (7–8) · {d} detractors (0–6)</p>",
                p as f64 * 100.0 / total,
                m as f64 * 100.0 / total,
                d as f64 * 100.0 / total
            ));
            let spread: Vec<u64> = q["distribution"]
                .as_array()
                .into_iter()
                .flatten()
                .map(n)
                .collect();
            let most = spread.iter().copied().max().unwrap_or(0).max(1) as f64;
            html.push_str("<div class=cols>");
            for c in &spread {
                html.push_str(&format!(
                    "<span title=\"{c}\" style=\"height:{:.1}%\"></span>",
                    *c as f64 * 100.0 / most
                ));
            }
            html.push_str("</div><div class=axis>");
            for i in 0..spread.len() {
                html.push_str(&format!("<span>{i}</span>"));
            }
            html.push_str("</div>");
        }
        for c in q["choices"].as_array().into_iter().flatten() {
            html.push_str(&bar(
                c["label"].as_str().unwrap_or(""),
                n(&c["count"]),
                c["share"].as_f64().unwrap_or(0.0),
            ));
        }
        for t in q["texts"].as_array().into_iter().flatten().take(30) {
            html.push_str(&format!(
                "<blockquote>{}</blockquote>",
                esc(t["text"].as_str().unwrap_or(""))
            ));
        }
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        html,
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

    #[test]
    fn localized_text_falls_back_by_language_then_english() {
        let l: Localized = serde_json::from_value(json!({"en": "Hi", "de": "Hallo"})).unwrap();
        assert_eq!(l.get("de-AT"), "Hallo");
        assert_eq!(l.get("fr"), "Hi");
        assert_eq!(Localized::One("x".into()).get("zh"), "x");
    }
}
