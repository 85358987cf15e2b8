//! The storefront's endpoints (`Cove.variant()`): assignment and
//! exposures by key, behind the public guard.

use super::assign::place;
use super::cache::{Loaded, loaded};
use super::model::Status;
use super::*;
use crate::experiments::store::ExperimentsDb;

/// The storefront's visitor.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct PublicAssignIn {
    /// The visitor's attributes; `id` is the widget's visitor id.
    #[serde(default)]
    #[schema(value_type = Object)]
    attributes: serde_json::Map<String, Value>,
    /// Only these experiments (default: every running or stopped one).
    #[serde(default)]
    keys: Option<Vec<String>>,
}

pub(super) const PUBLIC_KEYS: usize = 50;

pub(super) async fn public_place(
    state: &AppState,
    merchant: &str,
    input: PublicAssignIn,
) -> Result<Vec<(Arc<Loaded>, Value)>, ApiError> {
    if input.keys.as_ref().is_some_and(|k| k.len() > PUBLIC_KEYS) {
        return Err(invalid(
            "keys",
            format!("at most {PUBLIC_KEYS} experiments at once"),
        ));
    }
    let attrs = Value::Object(input.attributes);
    let mut out = Vec::new();
    for e in loaded(state, merchant).await?.iter() {
        let wanted = match &input.keys {
            Some(keys) => keys.contains(&e.row.key),
            None => e.row.status != Status::Draft,
        };
        if wanted {
            out.push((e.clone(), place(state, merchant, e, &attrs).await?));
        }
    }
    Ok(out)
}

/// `POST /public/v1/{m}/experiments/assign`: the visitor's variations of
/// the merchant's experiments, for `Cove.variant()` on the storefront.
#[utoipa::path(post, path = "/public/v1/{merchant}/experiments/assign", tag = "experiments (public)", params(("merchant" = String, Path, description = "Merchant id")), request_body = PublicAssignIn, responses((status = 200, description = "`assignments`: key → variation, value, in_experiment", body = serde_json::Value)))]
pub async fn public_assign(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    JsonBody(input): JsonBody<PublicAssignIn>,
) -> Result<Response, ApiError> {
    let placed = public_place(&state, &merchant, input).await?;
    let assignments: serde_json::Map<String, Value> = placed
        .into_iter()
        .map(|(e, a)| {
            (
                e.row.key.clone(),
                json!({"variation": a["variation"], "value": a["value"], "in_experiment": a["in_experiment"]}),
            )
        })
        .collect();
    Ok(axum::Json(json!({"assignments": assignments})).into_response())
}

/// `POST /public/v1/{m}/experiments/exposures`: the visitor saw these
/// experiments. The host assigns again from the attributes, so a visitor
/// cannot claim another variation; a unit's first exposure counts.
#[utoipa::path(post, path = "/public/v1/{merchant}/experiments/exposures", tag = "experiments (public)", params(("merchant" = String, Path, description = "Merchant id")), request_body = PublicAssignIn, responses((status = 200, description = "How many exposures were new", body = serde_json::Value)))]
pub async fn public_exposures(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    JsonBody(input): JsonBody<PublicAssignIn>,
) -> Result<Response, ApiError> {
    if input.keys.as_ref().is_none_or(Vec::is_empty) {
        return Err(invalid("keys", "name the experiments the visitor saw"));
    }
    let placed = public_place(&state, &merchant, input).await?;
    let now = crate::now_ms();
    let mut recorded = 0;
    for (e, a) in placed {
        let unit = a["hash_value"].as_str().unwrap_or_default();
        if a["in_experiment"] == true && !unit.is_empty() {
            let id = format!("x:{}:{unit}", e.row.key);
            let variation = a["variation"].as_i64().unwrap_or(0);
            if ExperimentsDb(&state.store)
                .record_exposure(&merchant, &e.row.key, unit, variation, &id, now)
                .await?
            {
                recorded += 1;
            }
        }
    }
    Ok(axum::Json(json!({"recorded": recorded})).into_response())
}
