//! The storefront's endpoints (`Cove.variant()`): assignment and
//! exposures by key, behind the public guard.

use super::assign::{Assignment, place};
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
) -> Result<Vec<(Arc<Loaded>, Assignment)>, ApiError> {
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
#[utoipa::path(post, path = "/public/v1/{merchant}/experiments/assign", tag = "experiments (public)", params(("merchant" = String, Path, description = "Merchant id")), request_body = PublicAssignIn, responses((status = 200, description = "`assignments`: key → variation, value, in_experiment", body = PublicAssignments)))]
pub async fn public_assign(
    State(state): State<AppState>,
    Path(merchant): Path<String>,
    JsonBody(input): JsonBody<PublicAssignIn>,
) -> Result<Response, ApiError> {
    let placed = public_place(&state, &merchant, input).await?;
    let assignments = placed
        .into_iter()
        .map(|(e, a)| {
            (
                e.row.key.clone(),
                PublicAssignment {
                    variation: a.variation,
                    value: a.value,
                    in_experiment: a.in_experiment,
                },
            )
        })
        .collect();
    Ok(axum::Json(PublicAssignments { assignments }).into_response())
}

/// A visitor's variation of one experiment.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PublicAssignment {
    /// The variation's index (0 is the control).
    pub variation: usize,
    /// The variation's value.
    pub value: Value,
    /// Whether the visitor is in the experiment.
    pub in_experiment: bool,
}

/// A visitor's variations.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PublicAssignments {
    /// Experiment key → the visitor's variation.
    pub assignments: std::collections::BTreeMap<String, PublicAssignment>,
}

/// Exposures recorded.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Recorded {
    /// How many were new (a unit's first exposure counts).
    pub recorded: u64,
}

/// `POST /public/v1/{m}/experiments/exposures`: the visitor saw these
/// experiments. The host assigns again from the attributes, so a visitor
/// cannot claim another variation; a unit's first exposure counts.
#[utoipa::path(post, path = "/public/v1/{merchant}/experiments/exposures", tag = "experiments (public)", params(("merchant" = String, Path, description = "Merchant id")), request_body = PublicAssignIn, responses((status = 200, description = "How many exposures were new", body = Recorded)))]
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
        let unit = a.hash_value.as_deref().unwrap_or_default();
        if a.in_experiment && !unit.is_empty() {
            let id = format!("x:{}:{unit}", e.row.key);
            let variation = a.variation as i64;
            if ExperimentsDb(&state.store)
                .record_exposure(&merchant, &e.row.key, unit, variation, &id, now)
                .await?
            {
                recorded += 1;
            }
        }
    }
    Ok(axum::Json(Recorded { recorded }).into_response())
}
