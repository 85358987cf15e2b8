//! A whole segment planned in one go: every customer of an RFM segment or
//! micro-segment (of the latest run, or a named one) gets the same message
//! planned as [`plan_one`] plans it, in the background; the batch's row
//! counts the customers planned, dropped and failed as it goes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::plan::{MessageIn, plan_one};
use super::store::{Batch, ContactStatus, MessagingDb};
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

/// `POST /v1/merchants/{m}/sends/batches`: plan a message for every
/// customer of a segment; answers at once with the batch (202), whose
/// progress `GET …/sends/batches/{id}` shows.
#[utoipa::path(post, path = "/v1/merchants/{merchant}/sends/batches", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id")), request_body = BatchIn, responses((status = 202, description = "The batch, running", body = Batch), (status = 409, description = "No finished RFM run to take segments from, or a batch is being planned already"), (status = 422, description = "A field is refused; `field` names it")))]
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
    let db = MessagingDb(&state.store);
    let total = RfmDb(&state.store)
        .segment_size(
            &merchant,
            &run,
            Some(segment.as_str()).filter(|s| !s.is_empty()),
            Some(micro.as_str()).filter(|s| !s.is_empty()),
        )
        .await?;
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
    // One batch at a time per merchant, taking its turn among the host's
    // background work.
    let mut job = state.fair.job(&merchant, "send batch").ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            Code::AlreadyRunning,
            "another segment's messages are being planned; start this one when it is done",
        )
    })?;
    let id = format!("sb-{}", hex::encode(rand::random::<[u8; 8]>()));
    let label = if micro.is_empty() { &segment } else { &micro };
    db.insert_batch(
        &merchant,
        &id,
        &run,
        label,
        &serde_json::to_string(&input.message).unwrap_or_default(),
        total,
    )
    .await?;
    tokio::spawn({
        let (state, merchant, id) = (state.clone(), merchant.clone(), id.clone());
        async move {
            job.turn().await;
            if let Err(e) =
                run_batch(&state, &merchant, &id, &run, &segment, &micro, &message).await
            {
                tracing::error!(%merchant, batch = %id, "send batch failed: {e:?}");
                let _ = MessagingDb(&state.store)
                    .end_batch(&merchant, &id, Some(&format!("{e:?}")))
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
        cursor = last.customer_id.clone();
        for member in &page {
            let customer = member.customer_id.as_str();
            match plan_one(state, merchant, customer, message, Some(id)).await {
                Ok(v) if v.status == ContactStatus::Planned => planned += 1,
                Ok(_) => dropped += 1,
                Err(e) => {
                    failed += 1;
                    tracing::warn!(%merchant, batch = %id, %customer, "plan failed: {e:?}");
                }
            }
        }
        MessagingDb(&state.store)
            .batch_progress(merchant, id, (planned, dropped, failed))
            .await?;
    }
    MessagingDb(&state.store)
        .end_batch(merchant, id, None)
        .await?;
    Ok(())
}

async fn load(state: &AppState, merchant: &str, id: &str) -> Result<Batch, ApiError> {
    MessagingDb(&state.store)
        .batch(merchant, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no send batch `{id}`")))
}

/// `GET /v1/merchants/{m}/sends/batches/{id}`: how far a batch has got.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/sends/batches/{id}", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id"), ("id" = String, Path, description = "Batch id")), responses((status = 200, description = "The batch and how far it has got", body = Batch), (status = 404, description = "No such batch")))]
pub async fn get(
    State(state): State<AppState>,
    Path((merchant, id)): Path<(String, String)>,
    _: ForMerchant,
) -> Result<Response, ApiError> {
    Ok(axum::Json(load(&state, &merchant, &id).await?).into_response())
}

/// The latest batches.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Batches {
    /// The 20 latest, newest first.
    pub batches: Vec<Batch>,
}

/// `GET /v1/merchants/{m}/sends/batches`: the 20 latest batches.
#[utoipa::path(get, path = "/v1/merchants/{merchant}/sends/batches", tag = "messaging", params(("merchant" = String, Path, description = "Merchant id")), responses((status = 200, description = "The latest batches, newest first", body = Batches)))]
pub async fn list(
    State(state): State<AppState>,
    ForMerchant { merchant, .. }: ForMerchant,
) -> Result<Response, ApiError> {
    let batches = MessagingDb(&state.store).batches(&merchant).await?;
    Ok(axum::Json(Batches { batches }).into_response())
}
