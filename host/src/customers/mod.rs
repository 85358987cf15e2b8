//! Customer data: customers, consents, orders and events per merchant —
//! streamed imports (NDJSON, CSV, Shopify's exports), live events,
//! profiles, a filtered list, and the privacy requests (export, erasure).
//! Plugins never read these tables; the host builds their inputs from them.

pub mod cli;
pub mod import;
pub mod model;
pub mod money;
pub mod store;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::customers::store::CustomersDb;
use crate::platform::feature::{ConsolePage, Feature, Migration};
use crate::platform::http::Code;
use crate::platform::http::{ApiError, ForMerchant, query};
use crate::platform::keys::Scope;
use crate::rfm::store::RfmDb;
use import::{Format, Importer};
use model::Entity;

/// Customer data, as registered with the platform: an import streams
/// for as long as the file takes.
pub const FEATURE: Feature = Feature {
    name: "customers",
    routes,
    streaming: |_| OpenApiRouter::new().routes(routes!(import_file)),
    // Live events are an import too: an `import` key sends them.
    // Customer service reads customers and answers access requests.
    permissions: &[
        ("POST", "/v1/merchants/{merchant}/events", Scope::Import),
        ("GET", "/v1/merchants/{merchant}/customers", Scope::Support),
        (
            "GET",
            "/v1/merchants/{merchant}/customers/{id}",
            Scope::Support,
        ),
        (
            "GET",
            "/v1/merchants/{merchant}/customers/{id}/export",
            Scope::Support,
        ),
    ],
    migrations: &[Migration::new(
        7,
        "customers",
        include_str!("migrations/0007_customers.sql"),
    )],
    privacy: Some(store::PRIVACY),
    state: Some(|_| {
        Ok(std::sync::Arc::new(Activities(
            tokio::sync::broadcast::channel(256).0,
        )))
    }),
    console: &[ConsolePage::new("customers.js", include_str!("console.js"))],
    overview: Some(|state, merchant, _| {
        Box::pin(async move {
            let count = CustomersDb(&state.store).customer_count(merchant).await?;
            Ok(json!({"count": count, "page": "customers"}))
        })
    }),
    ..Feature::EMPTY
};

/// The merchant's API.
fn routes(_state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(live_events))
        .routes(routes!(list))
        .routes(routes!(profile, erase))
        .routes(routes!(export))
        .routes(routes!(privacy_log))
}

/// Where [`Activity`] is announced, for features that follow customers
/// (RFM rescores them at once): `subscribe` to it.
pub struct Activities(pub tokio::sync::broadcast::Sender<Activity>);

/// Customers with new or changed orders or events, announced on
/// [`Activities`] after an import (a bulk load of more than
/// [`import::MAX_TOUCHED`] customers is not announced: it waits for the
/// next full run of whatever follows it).
#[derive(Debug, Clone)]
pub struct Activity {
    /// The merchant.
    pub merchant: String,
    /// The customers.
    pub customers: Vec<String>,
}

fn announce(state: &AppState, merchant: &str, summary: &import::Summary) {
    if !summary.bulk && !summary.touched.is_empty() {
        // Nobody listening is fine.
        let _ = state.get::<Activities>().0.send(Activity {
            merchant: merchant.to_string(),
            customers: summary.touched.iter().cloned().collect(),
        });
    }
}

/// Query of an import.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `csv` or `ndjson` (default: from the content type; `text/csv` is CSV).
    format: Option<String>,
}

async fn run_import(
    state: &AppState,
    merchant: &str,
    entity: Entity,
    format: Format,
    mut body: Body,
) -> Result<import::Summary, ApiError> {
    let mut importer = Importer::new(&state.store, merchant, entity, format);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::bad_request(Code::BodyInterrupted, format!("the upload broke off: {e}"))
        })?;
        if let Ok(chunk) = frame.into_data() {
            importer.push(&chunk).await?;
        }
    }
    Ok(importer.finish().await?)
}

/// `POST /v1/merchants/{m}/import/{entity}`: a file of customers, orders,
/// events or consents, streamed. Ids are the keys: importing the same file
/// again changes nothing; bad records are named and the good ones kept.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/import/{entity}", tag = "customers", params(("merchant" = String, Path, description = "Merchant id"), ("entity" = String, Path, description = "customers, orders, events or consents"), ImportQuery), request_body(content = String, content_type = "text/csv", description = "CSV with a header row (Cove's column names or Shopify's export), or NDJSON"), responses((status = 200, description = "inserted, updated, unchanged, rejected, and the first 100 refused records with line, field and reason", body = import::Summary)))]
pub async fn import_file(
    State(state): State<AppState>,
    Path((merchant, entity)): Path<(String, String)>,
    _: ForMerchant,
    headers: HeaderMap,
    q: Result<Query<ImportQuery>, QueryRejection>,
    body: Body,
) -> Result<Response, ApiError> {
    let entity = Entity::parse(&entity).ok_or_else(|| {
        ApiError::not_found(format!(
            "nothing called `{entity}` can be imported; use customers, orders, events or consents"
        ))
    })?;
    let csv_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/csv"));
    let format = match query(q)?.format.as_deref() {
        Some("csv") => Format::Csv,
        Some("ndjson") => Format::Ndjson,
        None if csv_type => Format::Csv,
        None => Format::Ndjson,
        Some(other) => {
            return Err(ApiError::bad_request(
                Code::InvalidFormat,
                format!("`{other}` is not a format; use csv or ndjson"),
            ));
        }
    };
    // One import of each kind at a time per merchant: a second would
    // only fight the first for the same rows.
    let _job = state.fair.job(&merchant, entity.name()).ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            Code::AlreadyRunning,
            format!(
                "{} are being imported already; send this file when that import is done",
                entity.name()
            ),
        )
    })?;
    let summary = run_import(&state, &merchant, entity, format, body).await?;
    announce(&state, &merchant, &summary);
    Ok(axum::Json(summary).into_response())
}

/// `POST /v1/merchants/{m}/events`: events as they happen — a JSON array,
/// `{"events": [...]}`, or NDJSON. Idempotent by event id; late and
/// out-of-order events are fine (each has its own time).
#[utoipa::path(post, path = "/v1/merchants/{merchant}/events", tag = "customers", params(("merchant" = String, Path, description = "Merchant id")), request_body(content = serde_json::Value, description = "[{id, customer_id, kind, channel, campaign_id, at, sku}] or NDJSON"), responses((status = 200, description = "The import summary", body = import::Summary)))]
pub async fn live_events(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = crate::platform::http::read_body(body, 4 << 20, "the events").await?;
    let trimmed = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let lines: Vec<u8> = match trimmed.map(|i| bytes[i]) {
        Some(b'[') | Some(b'{') if serde_json::from_slice::<serde_json::Value>(&bytes).is_ok() => {
            let v: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::bad_request(Code::InvalidJson, e.to_string()))?;
            let list = match v {
                serde_json::Value::Array(a) => a,
                serde_json::Value::Object(mut o) if o.contains_key("events") => {
                    match o.remove("events") {
                        Some(serde_json::Value::Array(a)) => a,
                        _ => {
                            return Err(ApiError::bad_request(
                                Code::InvalidJson,
                                "`events` must be a list",
                            ));
                        }
                    }
                }
                one @ serde_json::Value::Object(_) => vec![one],
                _ => {
                    return Err(ApiError::bad_request(
                        Code::InvalidJson,
                        "send a list of events",
                    ));
                }
            };
            list.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
                .into_bytes()
        }
        _ => bytes.to_vec(),
    };
    let mut importer = Importer::new(&state.store, &merchant, Entity::Events, Format::Ndjson);
    importer.push(&lines).await?;
    let summary = importer.finish().await?;
    announce(&state, &merchant, &summary);
    Ok(axum::Json(summary).into_response())
}

/// `GET /v1/merchants/{m}/customers`: customers by id, filtered, a page at
/// a time (`next` is the cursor of the following page).
#[utoipa::path(get, path = "/v1/merchants/{merchant}/customers", tag = "customers", params(("merchant" = String, Path, description = "Merchant id"), store::ListQuery), responses((status = 200, description = "A page of customers and the next cursor", body = CustomerPage)))]
pub async fn list(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    q: Result<Query<store::ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    if q.limit.is_some_and(|l| !(1..=500).contains(&l)) {
        return Err(ApiError::bad_request(
            Code::InvalidQuery,
            "`limit` is from 1 to 500 customers a page",
        )
        .with_field("limit"));
    }
    if q.min_spent.is_some() != q.currency.is_some() {
        return Err(ApiError::bad_request(
            Code::InvalidQuery,
            "`min_spent` needs its `currency` (and the other way round)",
        ));
    }
    let (customers, next) = CustomersDb(&state.store)
        .list_customers(&merchant, &q)
        .await?;
    Ok(axum::Json(CustomerPage { customers, next }).into_response())
}

/// A page of customers.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CustomerPage {
    /// The customers, by id.
    pub customers: Vec<store::CustomerRow>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

/// The privacy log.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PrivacyLog {
    /// Every export and erasure, newest first.
    pub entries: Vec<store::PrivacyEntry>,
}

/// `GET /v1/merchants/{m}/customers/{id}`: the profile — the customer,
/// consent, order summary, latest events, and (`value`) their scores and
/// predictions in the latest RFM run.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/customers/{id}", tag = "customers", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "The merchant's customer id")), responses((status = 200, description = "The profile", body = store::Profile)))]
pub async fn profile(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    match CustomersDb(&state.store)
        .customer_profile(&merchant, &id)
        .await?
    {
        Some(mut p) => {
            p.value = RfmDb(&state.store).rfm_customer(&merchant, &id).await?;
            Ok(axum::Json(p).into_response())
        }
        None => Err(ApiError::not_found(format!("no customer `{id}`"))),
    }
}

/// `GET /v1/merchants/{m}/customers/{id}/export`: everything held about the
/// customer as JSON (right of access and portability); recorded.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/customers/{id}/export", tag = "customers", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "The merchant's customer id")), responses((status = 200, description = "Everything held about the customer", body = serde_json::Value)))]
pub async fn export(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    caller: ForMerchant,
) -> Result<Response, ApiError> {
    let actor = caller.actor;
    let Some(data) = CustomersDb(&state.store)
        .customer_export(&merchant, &id, state.features)
        .await?
    else {
        return Err(ApiError::not_found(format!("no customer `{id}`")));
    };
    CustomersDb(&state.store)
        .log_export(&merchant, &id, &actor)
        .await?;
    let mut res = axum::Json(data).into_response();
    if let Ok(v) = format!(
        "attachment; filename=\"customer-{}.json\"",
        id.replace(['"', '\\'], "_")
    )
    .parse()
    {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// `DELETE /v1/merchants/{m}/customers/{id}`: erase the customer (right to
/// erasure): their personal data leaves every table; orders stay as
/// anonymous figures. Recorded.
#[utoipa::path(delete, path = "/v1/merchants/{merchant}/customers/{id}", tag = "customers", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "The merchant's customer id")), responses((status = 204, description = "Erased")))]
pub async fn erase(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    caller: ForMerchant,
) -> Result<Response, ApiError> {
    let actor = caller.actor;
    if CustomersDb(&state.store)
        .erase_customer(&merchant, &id, &actor, state.features)
        .await?
    {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("no customer `{id}`")))
    }
}

/// `GET /v1/merchants/{m}/privacy-log`: every export and erasure.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/privacy-log", tag = "customers", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "Exports and erasures, newest first", body = PrivacyLog)))]
pub async fn privacy_log(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
) -> Result<Response, ApiError> {
    Ok(axum::Json(PrivacyLog {
        entries: CustomersDb(&state.store).privacy_log(&merchant).await?,
    })
    .into_response())
}
