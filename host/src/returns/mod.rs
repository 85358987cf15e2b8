//! Self-service returns: a customer proves an order (its number and their
//! e-mail), then the merchant's `return-flow` plugin asks one form at a
//! time until it reaches an outcome. The host keeps the session (resumable
//! with its token, expiring), checks every answer against the fields the
//! plugin declared, builds the plugin's input from the stored order (never
//! from the browser), and puts what needs a person in the merchant's queue.

pub mod answers;
pub mod photos;
pub mod report;
pub mod slots;
pub mod store;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::platform::feature::{ConsolePage, Feature, Migration};
use crate::platform::http::Code;
use crate::platform::http::{ApiError, ForMerchant, JsonBody, key_hash, query, valid_locale};
use crate::platform::invoke::{InvokeError, invoke_about};
use crate::platform::keys::Scope;
use crate::platform::slots::{Contract, Slot};
use crate::returns::store::ReturnsDb;
use store::{ReturnRow, ReturnStatus};

/// How long an unfinished session can be resumed.
pub const SESSION_DAYS: i64 = 7;
/// Returns one order may start in a day.
pub const MAX_STARTS_PER_DAY: i64 = 5;

/// Self-service returns, as registered with the platform.
pub const FEATURE: Feature = Feature {
    name: "returns",
    routes,
    public,
    // Customer service reads returns and decides them.
    permissions: &[
        ("GET", "/v1/merchants/{merchant}/returns", Scope::Support),
        (
            "GET",
            "/v1/merchants/{merchant}/returns/{id}",
            Scope::Support,
        ),
        (
            "GET",
            "/v1/merchants/{merchant}/returns/report",
            Scope::Support,
        ),
        (
            "GET",
            "/v1/merchants/{merchant}/returns/{id}/photos/{photo}",
            Scope::Support,
        ),
        (
            "POST",
            "/v1/merchants/{merchant}/returns/{id}/decision",
            Scope::Support,
        ),
    ],
    migrations: &[
        Migration::new(8, "returns", include_str!("migrations/0008_returns.sql")),
        Migration::new(
            9,
            "return photos",
            include_str!("migrations/0009_return_photos.sql"),
        ),
        Migration::new(
            18,
            "photo bytes",
            include_str!("migrations/0018_photo_bytes.sql"),
        ),
    ],
    slots: &[slots::RETURNS],
    privacy: Some(store::PRIVACY),
    console: &[ConsolePage::new("returns.js", include_str!("console.js"))],
    ..Feature::EMPTY
};

/// The merchant's queue and report.
fn routes(_: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(report::report))
        .routes(routes!(one))
        .routes(routes!(decide))
        .routes(routes!(photos::view))
}

/// The customer's flow, from the widget.
fn public(_: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(status))
        .routes(routes!(step))
        .routes(routes!(submit))
        .routes(routes!(photos::upload))
}

/// The customer's proof of the order.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct StartIn {
    /// The order number.
    order: String,
    /// The e-mail the order was placed with.
    email: String,
    /// The customer's locale (BCP 47); default `en`.
    locale: Option<String>,
}

/// Answers to the form being shown, and the session's token.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct StepIn {
    /// The token `start` gave.
    token: String,
    /// Field name → value (text or number).
    #[serde(default)]
    answers: serde_json::Map<String, Value>,
}

/// The session's token.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct TokenIn {
    /// The token `start` gave.
    token: String,
}

/// What the customer sees of a session.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PublicReturn {
    /// The session's id.
    pub id: String,
    /// Where it stands.
    pub status: ReturnStatus,
    /// The step shown: `{"form": …}` or `{"outcome": …}`.
    #[schema(value_type = Object)]
    pub step: Value,
    /// The answers so far: `[{field, value}]`.
    #[schema(value_type = Vec<Object>)]
    pub answers: Value,
    /// When an unfinished session lapses (ms since the epoch).
    pub expires_at: i64,
    /// Whether a carrier pickup was requested.
    pub pickup_requested: bool,
    /// The session's token, once, when it starts: keep it to resume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// What the customer sees of `r`.
fn public_view(r: &ReturnRow) -> axum::Json<PublicReturn> {
    axum::Json(PublicReturn {
        id: r.id.clone(),
        status: r.status,
        step: r.step.clone(),
        answers: r.answers.clone(),
        expires_at: r.expires_at,
        pickup_requested: r.pickup_at.is_some(),
        token: None,
    })
}

/// The refused-answer error: 422 with the field.
pub(crate) fn refused(code: Code, field: &str, message: String) -> ApiError {
    ApiError::unprocessable(code, message).with_field(field)
}

/// Ask the merchant's flow for the next step of `r`. A plugin that
/// refuses the answers on purpose (`invalid-input`) is a 422; a plugin
/// that fails, or none bound, answers with the human queue.
async fn ask(
    state: &AppState,
    merchant: &str,
    r: &ReturnRow,
    facts: &store::OrderFacts,
) -> Result<Value, ApiError> {
    let contract = state
        .bindings
        .get(merchant, Slot::Returns)
        .map(|a| a.prepared.contract);
    let mut customer = facts.customer.clone();
    if contract.is_some_and(|c| c >= Contract::V0_3) {
        // Since 0.3.0 days count in the customer's own time: their zone
        // and its offsets from before the order to after now.
        let placed = facts.order["placed-at"].as_i64().unwrap_or(0);
        let zone = facts.time_zone.as_deref();
        customer["time-zone"] = json!(zone);
        customer["offsets"] = crate::platform::zone::offset_spans(
            zone,
            placed - 60 * crate::DAY_MS,
            crate::now_ms() + 60 * crate::DAY_MS,
        );
    }
    let input = json!({"session": {
        "locale": r.locale,
        "order": facts.order,
        "customer": customer,
        "answers": r.answers,
    }});
    // A flow built against 0.1.0 has no steps: a person settles it.
    if contract == Some(Contract::V0_1) {
        return Ok(slots::human_review(Contract::V0_2, &input));
    }
    match invoke_about(
        state,
        merchant,
        Slot::Returns,
        input.to_string().as_bytes(),
        Some(&facts.customer_id),
    )
    .await
    {
        Ok(answer) => Ok(answer.result),
        Err(InvokeError::PluginError { error, .. }) => {
            let why = error
                .get("invalid-input")
                .or_else(|| error.get("invalid-config"))
                .and_then(Value::as_str)
                .unwrap_or("the return flow refused the answers")
                .to_string();
            let field = why
                .split('`')
                .nth(1)
                .filter(|_| why.starts_with("answer `"))
                .unwrap_or("")
                .to_string();
            Err(refused(Code::AnswerRefused, &field, why))
        }
        Err(e @ InvokeError::Busy(_)) => Err(e.into()),
        Err(InvokeError::BadJson(e) | InvokeError::BadInput(e)) => Err(ApiError::internal(e)),
    }
}

/// Record the plugin's step in `r`: the form to show, or the outcome and
/// what it settles (reason, item, refund, queue) for the queue and report.
fn apply(r: &mut ReturnRow, step: Value, facts: &store::OrderFacts) {
    let answer = |name: &str| {
        r.answers
            .as_array()
            .and_then(|a| a.iter().rev().find(|x| x["field"] == name))
            .and_then(|x| x["value"].as_str())
            .map(str::to_string)
    };
    r.reason = answer("reason");
    r.sku = answer("sku");
    r.quantity = answer("quantity")
        .and_then(|q| q.parse().ok())
        .or(r.sku.as_ref().map(|_| 1));
    r.category = r.sku.as_ref().and_then(|sku| {
        facts.order["lines"]
            .as_array()?
            .iter()
            .find(|l| l["sku"] == sku.as_str())
            .and_then(|l| l["category"].as_str())
            .map(str::to_string)
    });
    r.currency = facts.customer["spent"]["currency"]
        .as_str()
        .map(str::to_string);
    r.status = ReturnStatus::Open;
    (r.queue, r.refund_minor, r.fees_minor, r.method) = (None, None, None, None);
    if let Some(outcome) = step.get("outcome") {
        // A refusal or a hand-off to a marketplace has nothing for the
        // customer to confirm: it is settled as it is shown. A refund or
        // a person's review waits for the customer's submit.
        r.status = if outcome.get("rejected").is_some() {
            ReturnStatus::Rejected
        } else if outcome.get("marketplace").is_some() {
            ReturnStatus::Marketplace
        } else {
            ReturnStatus::Ready
        };
        if r.status != ReturnStatus::Ready {
            r.submitted_at = Some(crate::now_ms());
        }
        if let Some(h) = outcome.get("human-review") {
            r.queue = h["queue"].as_str().map(str::to_string);
        }
        if let Some(a) = outcome.get("approved") {
            r.sku = a["sku"].as_str().map(str::to_string);
            r.quantity = a["quantity"].as_i64();
            r.refund_minor = a.pointer("/refund/amount-minor").and_then(Value::as_i64);
            let fees: i64 = a["lines"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .filter_map(|l| l.pointer("/amount/amount-minor").and_then(Value::as_i64))
                .filter(|v| *v < 0)
                .map(|v| -v)
                .sum();
            r.fees_minor = Some(fees);
            r.method = a["method"].as_str().map(str::to_string);
        }
    }
    r.step = step;
}

/// The session `id`, if `token` opens it and it has not lapsed.
pub(crate) async fn open_session(
    state: &AppState,
    merchant: &str,
    id: &str,
    token: &str,
) -> Result<ReturnRow, ApiError> {
    let none = || ApiError::not_found(format!("no return `{id}` for this token"));
    let r = ReturnsDb(&state.store)
        .return_row(merchant, id)
        .await?
        .ok_or_else(none)?;
    if !crate::platform::http::constant_time_eq(key_hash(token).as_bytes(), r.token_hash.as_bytes())
    {
        return Err(none());
    }
    if r.status.unfinished() && r.expires_at < crate::now_ms() {
        return Err(ApiError::new(
            StatusCode::GONE,
            Code::SessionExpired,
            "this return was not finished in time; start again with the order number and e-mail",
        ));
    }
    Ok(r)
}

/// The visitor's proof of a return session, from the `x-return-token`
/// header (empty when there is none: no session matches it).
pub struct ReturnToken(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ReturnToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ReturnToken(
            parts
                .headers
                .get("x-return-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
        ))
    }
}

/// The order facts of a session, or a 409 if the order is gone (erased).
async fn facts_of(
    state: &AppState,
    merchant: &str,
    r: &ReturnRow,
) -> Result<store::OrderFacts, ApiError> {
    ReturnsDb(&state.store)
        .return_facts(merchant, &r.order_id, &r.id)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                Code::OrderGone,
                "the order of this return is no longer on file",
            )
        })
}

/// `POST /public/v1/{m}/returns`: start a return by proving the order.
#[utoipa::path(post, path = "/public/v1/{merchant}/returns", tag = "returns (public)", params(("merchant" = String, Path, description = "Merchant id")), request_body = StartIn, responses((status = 201, description = "The session: id, token (keep it to resume), status and the first step", body = PublicReturn), (status = 404, description = "No order matches that number and e-mail"), (status = 503, description = "The return flow is busy; try again")))]
pub async fn start(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    JsonBody(input): JsonBody<StartIn>,
) -> Result<Response, ApiError> {
    let locale = input.locale.unwrap_or_else(|| "en".into());
    if !valid_locale(&locale) {
        return Err(ApiError::bad_request(
            Code::InvalidLocale,
            format!("`{locale}` is not a locale like en or zh-CN"),
        ));
    }
    let email = crate::customers::model::normalise_email(&input.email);
    let order = input.order.trim().trim_start_matches('#');
    let no_match = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            Code::OrderNotFound,
            "no order matches that order number and e-mail",
        )
    };
    // Guessing is limited per order number and per e-mail, whatever the
    // addresses it comes from.
    let claims = [
        format!("{merchant}\norder\n{order}"),
        format!("{merchant}\nemail\n{}", email.as_deref().unwrap_or("")),
    ];
    let claims = [claims[0].as_str(), claims[1].as_str()];
    if let Some(wait) = state.public.proof_blocked(&claims) {
        return Err(ApiError::too_many(
            wait,
            "too many tries with this order number or e-mail",
        ));
    }
    let facts = match ReturnsDb(&state.store)
        .return_facts(&merchant, order, "")
        .await?
    {
        Some(f) if email.is_some() && f.email == email => f,
        _ => {
            state.public.proof_failed(&claims);
            return Err(no_match());
        }
    };
    let now = crate::now_ms();
    let started = ReturnsDb(&state.store)
        .returns_started(&merchant, order, now - 86_400_000)
        .await?;
    if started >= MAX_STARTS_PER_DAY {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            Code::TooManyReturns,
            format!("returns for this order were started {started} times today; continue one you started (its link still works) or try again tomorrow"),
        )
        .retry_after(3600));
    }
    let token = hex::encode(rand::random::<[u8; 24]>());
    let mut r = ReturnRow {
        id: format!("r-{}", hex::encode(rand::random::<[u8; 8]>())),
        token_hash: key_hash(&token),
        order_id: order.to_string(),
        customer_id: facts.customer_id.clone(),
        locale,
        answers: json!([]),
        step: Value::Null,
        status: ReturnStatus::Open,
        queue: None,
        reason: None,
        sku: None,
        category: None,
        quantity: None,
        currency: None,
        refund_minor: None,
        fees_minor: None,
        method: None,
        pickup_at: None,
        note: None,
        decided_by: None,
        created_at: now,
        updated_at: now,
        expires_at: now + SESSION_DAYS * 86_400_000,
        submitted_at: None,
    };
    // Sessions that lapsed unfinished go as new ones start.
    ReturnsDb(&state.store)
        .purge_lapsed_returns(&merchant, now)
        .await?;
    let first = ask(&state, &merchant, &r, &facts).await?;
    apply(&mut r, first, &facts);
    ReturnsDb(&state.store).insert_return(&merchant, &r).await?;
    let mut view = public_view(&r);
    view.token = Some(token);
    Ok((StatusCode::CREATED, view).into_response())
}

/// `GET /public/v1/{m}/returns/{id}`: where a session stands (token in
/// the `x-return-token` header).
#[utoipa::path(get, path = "/public/v1/{merchant}/returns/{id}", tag = "returns (public)", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Return id"), ("x-return-token" = String, Header, description = "The session's token")), responses((status = 200, description = "Status, the step shown, the answers so far", body = PublicReturn), (status = 410, description = "The session lapsed before it was finished")))]
pub async fn status(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    ReturnToken(token): ReturnToken,
) -> Result<Response, ApiError> {
    let r = open_session(&state, &merchant, &id, &token).await?;
    Ok(public_view(&r).into_response())
}

/// `POST /public/v1/{m}/returns/{id}/step`: answer the form shown; the
/// answers are checked against its fields, then the flow says what next.
#[utoipa::path(post, path = "/public/v1/{merchant}/returns/{id}/step", tag = "returns (public)", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Return id")), request_body = StepIn, responses((status = 200, description = "The session with its next step", body = PublicReturn), (status = 422, description = "An answer is refused: `field` and the reason"), (status = 410, description = "The session lapsed before it was finished"), (status = 503, description = "The return flow is busy; try again")))]
pub async fn step(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    JsonBody(input): JsonBody<StepIn>,
) -> Result<Response, ApiError> {
    let mut r = open_session(&state, &merchant, &id, &input.token).await?;
    let Some(form) = r.step.get("form").cloned() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::NoForm,
            format!("this return is {}: there is no form to answer", r.status),
        ));
    };
    let checked = answers::check(&form, &input.answers)?;
    photos::check_answers(&state, &merchant, &r, &form, &checked).await?;
    let facts = facts_of(&state, &merchant, &r).await?;
    let was_at = r.updated_at;
    let mut all = r.answers.as_array().cloned().unwrap_or_default();
    all.extend(
        checked
            .into_iter()
            .map(|(field, value)| json!({"field": field, "value": value})),
    );
    r.answers = Value::Array(all);
    let next = ask(&state, &merchant, &r, &facts).await?;
    apply(&mut r, next, &facts);
    r.updated_at = crate::now_ms().max(was_at + 1);
    if !ReturnsDb(&state.store)
        .save_return(&merchant, &r, was_at)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::MovedOn,
            "this return changed in another window; reload it",
        ));
    }
    Ok(public_view(&r).into_response())
}

/// `POST /public/v1/{m}/returns/{id}/submit`: confirm the outcome shown.
/// Idempotent: a second submit answers the same.
#[utoipa::path(post, path = "/public/v1/{merchant}/returns/{id}/submit", tag = "returns (public)", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Return id")), request_body = TokenIn, responses((status = 200, description = "The settled return: approved (pickup recorded if any), rejected, marketplace or review", body = PublicReturn), (status = 410, description = "The session lapsed before it was finished")))]
pub async fn submit(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    JsonBody(input): JsonBody<TokenIn>,
) -> Result<Response, ApiError> {
    let mut r = open_session(&state, &merchant, &id, &input.token).await?;
    if r.submitted_at.is_some() {
        return Ok(public_view(&r).into_response());
    }
    let Some(outcome) = r.step.get("outcome").cloned() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::NotReady,
            "this return still has a form to answer",
        ));
    };
    let was_at = r.updated_at;
    let now = crate::now_ms();
    r.status = match outcome {
        Value::Object(o) if o.contains_key("approved") => ReturnStatus::Approved,
        Value::Object(o) if o.contains_key("marketplace") => ReturnStatus::Marketplace,
        Value::Object(o) if o.contains_key("human-review") => ReturnStatus::Review,
        _ => ReturnStatus::Rejected,
    };
    if r.status == ReturnStatus::Approved {
        // The units may have been returned by another session meanwhile.
        let facts = facts_of(&state, &merchant, &r).await?;
        let left = facts.order["lines"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["sku"].as_str() == r.sku.as_deref()))
            .map_or(0, |l| {
                l["quantity"].as_i64().unwrap_or(0) - l["returned"].as_i64().unwrap_or(0)
            });
        if r.quantity.unwrap_or(0) > left {
            r.status = ReturnStatus::Review;
            r.queue = Some("standard".into());
            r.note = Some("the units were returned by another return meanwhile".into());
        } else if r.method.as_deref() == Some("pickup") {
            r.pickup_at = Some(now);
        }
    }
    r.submitted_at = Some(now);
    r.updated_at = now.max(was_at + 1);
    if !ReturnsDb(&state.store)
        .save_return(&merchant, &r, was_at)
        .await?
    {
        // A concurrent submit won: answer with what it stored.
        let stored = open_session(&state, &merchant, &id, &input.token).await?;
        return Ok(public_view(&stored).into_response());
    }
    Ok(public_view(&r).into_response())
}

/// Query of the merchant's list.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `review` (default: the human queue), `accepted`, `declined`,
    /// `approved`, `rejected`, `marketplace`, `open`, `ready` or `all`.
    status: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<i64>,
}

/// `GET /v1/merchants/{m}/returns`: the human queue (priority first), or
/// returns by status.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/returns", tag = "returns", params(("merchant" = String, Path, description = "Merchant id"), ListQuery), responses((status = 200, description = "Returns, priority queue first, then oldest", body = Returns)))]
pub async fn list(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let status = q.status.unwrap_or_else(|| "review".into());
    let wanted = match ReturnStatus::parse(&status) {
        Some(s) => Some(s),
        None if status == "all" => None,
        None => {
            let names: Vec<&str> = ReturnStatus::ALL.iter().map(|s| s.as_str()).collect();
            return Err(ApiError::bad_request(
                Code::InvalidStatus,
                format!("`{status}` is not one of {}, all", names.join(", ")),
            ));
        }
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let returns = ReturnsDb(&state.store)
        .returns_list(&merchant, wanted, limit)
        .await?;
    Ok(axum::Json(Returns { status, returns }).into_response())
}

/// Returns with one status (or all).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Returns {
    /// The status asked for, or `all`.
    pub status: String,
    /// The returns, priority queue first, then oldest.
    pub returns: Vec<ReturnRow>,
}

/// `GET /v1/merchants/{m}/returns/{id}`: one return in full.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/returns/{id}", tag = "returns", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Return id")), responses((status = 200, description = "The return: answers, step, outcome, decision", body = ReturnRow)))]
pub async fn one(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    let r = ReturnsDb(&state.store)
        .return_row(&merchant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no return `{id}`")))?;
    Ok(axum::Json(r).into_response())
}

/// A person's decision on a return in the queue.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct DecisionIn {
    /// `approve` or `decline`.
    decision: String,
    /// A note for the records (and the customer).
    #[serde(default)]
    note: String,
}

/// `POST /v1/merchants/{m}/returns/{id}/decision`: approve or decline a
/// return in the human queue, with a note.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/returns/{id}/decision", tag = "returns", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Return id")), request_body = DecisionIn, responses((status = 200, description = "The return, accepted or declined", body = ReturnRow), (status = 409, description = "Not in the queue")))]
pub async fn decide(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    caller: ForMerchant,
    JsonBody(input): JsonBody<DecisionIn>,
) -> Result<Response, ApiError> {
    let actor = caller.actor;
    let status = match input.decision.as_str() {
        "approve" => ReturnStatus::Accepted,
        "decline" => ReturnStatus::Declined,
        other => {
            return Err(ApiError::bad_request(
                Code::InvalidDecision,
                format!("`{other}` is not approve or decline"),
            ));
        }
    };
    if input.note.chars().count() > 2000 {
        return Err(ApiError::bad_request(
            Code::NoteTooLong,
            "the note is longer than 2000 characters",
        ));
    }
    let mut r = ReturnsDb(&state.store)
        .return_row(&merchant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no return `{id}`")))?;
    if r.status != ReturnStatus::Review {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::NotInQueue,
            format!("return `{id}` is {}, not waiting for a person", r.status),
        ));
    }
    let was_at = r.updated_at;
    r.status = status;
    r.note = Some(input.note).filter(|n| !n.trim().is_empty());
    r.decided_by = Some(actor);
    r.updated_at = crate::now_ms().max(was_at + 1);
    if !ReturnsDb(&state.store)
        .save_return(&merchant, &r, was_at)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            Code::MovedOn,
            "someone else decided this return meanwhile; reload it",
        ));
    }
    Ok(axum::Json(r).into_response())
}
