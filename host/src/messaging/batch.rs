//! A whole segment planned in one go: every customer of an RFM segment or
//! micro-segment (of the latest run, or a named one) gets the same message
//! planned as [`plan_one`] plans it, in the background; the batch's row
//! counts the customers planned, dropped and failed as it goes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sqlx::Row;

use super::plan::{MessageIn, plan_one};
use crate::AppState;
use crate::platform::http::Code;
use crate::platform::http::{ApiError, ForMerchant, JsonBody};
use crate::rfm::store::RfmDb;

/// Customers planned between two progress updates.
const PAGE: i64 = 200;

/// A segment to plan a message for.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchIn {
    /// An RFM segment (`champions`, `at-risk`, …) …
    #[serde(default)]
    segment: Option<String>,
    /// … or a micro-segment (`cart-no-order`, …).
    #[serde(default)]
    micro_segment: Option<String>,
    /// The RFM run whose segments are meant (default: the latest finished).
    #[serde(default)]
    run_id: Option<String>,
    /// The message, as for one plan.
    message: MessageIn,
}

fn refuse(field: &str, why: String) -> ApiError {
    ApiError::unprocessable(Code::InvalidBatch, format!("{field}: {why}")).with_field(field)
}

/// The `micro` column's pattern for one micro-segment (a JSON list).
fn micro_pattern(micro: &str) -> String {
    format!("%{}%", serde_json::to_string(micro).unwrap_or_default())
}

/// `POST /v1/merchants/{m}/sends/batches`: plan a message for every
/// customer of a segment; answers at once with the batch (202), whose
/// progress `GET …/sends/batches/{id}` shows.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/sends/batches", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id")), request_body = BatchIn, responses((status = 202, description = "The batch, running: `{id, run_id, segment, status, total, planned, dropped, failed}`", body = serde_json::Value), (status = 409, description = "No finished RFM run to take segments from"), (status = 422, description = "A field is refused; `field` names it")))]
pub async fn start(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
    JsonBody(input): JsonBody<BatchIn>,
) -> Result<Response, ApiError> {
    let message = input.message.clone().check("message.")?;
    let (segment, micro) = match (input.segment, input.micro_segment) {
        (Some(s), None) if !s.is_empty() => (s, String::new()),
        (None, Some(m)) if !m.is_empty() => (String::new(), m),
        _ => {
            return Err(refuse(
                "segment",
                "name one `segment` or one `micro_segment`".into(),
            ));
        }
    };
    let run = match input.run_id {
        Some(run) => run,
        None => RfmDb(&state.store).previous_rfm_run(&merchant, "")
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::CONFLICT,
                    Code::NoRfmRun,
                    "there are no customer segments yet: score the customers first (Customer value)",
                )
            })?,
    };
    let pool = &state.store.pool;
    let total: i64 = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM rfm_scores WHERE merchant_id = $1 AND run_id = $2 \
         AND ($3 = '' OR segment = $3) AND ($4 = '' OR micro LIKE $4)",
    )
    .bind(&merchant)
    .bind(&run)
    .bind(&segment)
    .bind(if micro.is_empty() {
        String::new()
    } else {
        micro_pattern(&micro)
    })
    .fetch_one(pool)
    .await?
    .try_get(0)?;
    if total == 0 {
        let (field, name) = if micro.is_empty() {
            ("segment", &segment)
        } else {
            ("micro_segment", &micro)
        };
        return Err(refuse(
            field,
            format!("no customer is in `{name}` in run `{run}`"),
        ));
    }
    let id = format!("sb-{}", hex::encode(rand::random::<[u8; 8]>()));
    let label = if micro.is_empty() { &segment } else { &micro };
    let now = crate::now_ms();
    sqlx::query(
        "INSERT INTO send_batches (merchant_id, id, run_id, segment, message, status, total, planned, dropped, failed, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'running', $6, 0, 0, 0, $7, $7)",
    )
    .bind(&merchant)
    .bind(&id)
    .bind(&run)
    .bind(label)
    .bind(serde_json::to_string(&input.message).unwrap_or_default())
    .bind(total)
    .bind(now)
    .execute(pool)
    .await?;
    tokio::spawn({
        let (state, merchant, id) = (state.clone(), merchant.clone(), id.clone());
        async move {
            if let Err(e) =
                run_batch(&state, &merchant, &id, &run, &segment, &micro, &message).await
            {
                tracing::error!(%merchant, batch = %id, "send batch failed: {e:?}");
                let _ = sqlx::query(
                    "UPDATE send_batches SET status = 'failed', error = $3, finished_at = $4 WHERE merchant_id = $1 AND id = $2",
                )
                .bind(&merchant)
                .bind(&id)
                .bind(format!("{e:?}"))
                .bind(crate::now_ms())
                .execute(&state.store.pool)
                .await;
            }
        }
    });
    let batch = load(&state, &merchant, &id).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(batch)).into_response())
}

async fn run_batch(
    state: &AppState,
    merchant: &str,
    id: &str,
    run: &str,
    segment: &str,
    micro: &str,
    message: &super::plan::Message,
) -> Result<(), ApiError> {
    let micro = (!micro.is_empty()).then_some(micro);
    let segment = (!segment.is_empty()).then_some(segment);
    let (mut planned, mut dropped, mut failed) = (0i64, 0i64, 0i64);
    let mut cursor = String::new();
    loop {
        let page = RfmDb(&state.store)
            .rfm_members(merchant, run, segment, micro, &cursor, PAGE)
            .await
            .map_err(ApiError::internal)?;
        let Some(last) = page.last() else { break };
        cursor = last["customer_id"].as_str().unwrap_or_default().to_string();
        for member in &page {
            let customer = member["customer_id"].as_str().unwrap_or_default();
            match plan_one(state, merchant, customer, message, Some(id)).await {
                Ok(v) if v["status"] == "planned" => planned += 1,
                Ok(_) => dropped += 1,
                Err(e) => {
                    failed += 1;
                    tracing::warn!(%merchant, batch = %id, %customer, "plan failed: {e:?}");
                }
            }
        }
        sqlx::query(
            "UPDATE send_batches SET planned = $3, dropped = $4, failed = $5, updated_at = $6 WHERE merchant_id = $1 AND id = $2",
        )
        .bind(merchant)
        .bind(id)
        .bind(planned)
        .bind(dropped)
        .bind(failed)
        .bind(crate::now_ms())
        .execute(&state.store.pool)
        .await?;
    }
    sqlx::query(
        "UPDATE send_batches SET status = 'done', finished_at = $3 WHERE merchant_id = $1 AND id = $2",
    )
    .bind(merchant)
    .bind(id)
    .bind(crate::now_ms())
    .execute(&state.store.pool)
    .await?;
    Ok(())
}

const COLUMNS: &str = "id, run_id, segment, status, total, planned, dropped, failed, error, created_at, finished_at, updated_at";

/// A running batch without progress for this long stopped with its host.
const STALE_MS: i64 = 10 * 60_000;

fn batch_json(r: &sqlx::any::AnyRow) -> Result<Value, sqlx::Error> {
    let total: i64 = r.try_get(4)?;
    let (planned, dropped, failed): (i64, i64, i64) = (r.try_get(5)?, r.try_get(6)?, r.try_get(7)?);
    let mut status: String = r.try_get(3)?;
    if status == "running" && r.try_get::<i64, _>(11)? < crate::now_ms() - STALE_MS {
        status = "interrupted".into();
    }
    Ok(json!({
        "id": r.try_get::<String, _>(0)?, "run_id": r.try_get::<String, _>(1)?,
        "segment": r.try_get::<String, _>(2)?, "status": status,
        "total": total, "planned": planned, "dropped": dropped, "failed": failed,
        "done": planned + dropped + failed,
        "progress": if total > 0 { (planned + dropped + failed) as f64 / total as f64 } else { 1.0 },
        "error": r.try_get::<Option<String>, _>(8)?,
        "created_at": r.try_get::<i64, _>(9)?, "finished_at": r.try_get::<Option<i64>, _>(10)?,
    }))
}

async fn load(state: &AppState, merchant: &str, id: &str) -> Result<Value, ApiError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM send_batches WHERE merchant_id = $1 AND id = $2"
    )))
    .bind(merchant)
    .bind(id)
    .fetch_optional(&state.store.pool)
    .await?
    .ok_or_else(|| ApiError::not_found(format!("no send batch `{id}`")))?;
    Ok(batch_json(&row)?)
}

/// `GET /v1/merchants/{m}/sends/batches/{id}`: how far a batch has got.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/sends/batches/{id}", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Batch id")), responses((status = 200, description = "`{id, run_id, segment, status: running|done|failed|interrupted (its host stopped; start it again: customers already planned are counted by the caps), total, planned, dropped, failed, done, progress}`", body = serde_json::Value), (status = 404, description = "No such batch")))]
pub async fn get(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    Ok(axum::Json(load(&state, &merchant, &id).await?).into_response())
}

/// `GET /v1/merchants/{m}/sends/batches`: the 20 latest batches.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/sends/batches", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "`{batches: [...]}`, newest first", body = serde_json::Value)))]
pub async fn list(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
) -> Result<Response, ApiError> {
    let batches = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM send_batches WHERE merchant_id = $1 ORDER BY created_at DESC, id DESC LIMIT 20"
    )))
    .bind(&merchant)
    .fetch_all(&state.store.pool)
    .await?
    .iter()
    .map(batch_json)
    .collect::<Result<Vec<_>, _>>()?;
    Ok(axum::Json(json!({ "batches": batches })).into_response())
}
