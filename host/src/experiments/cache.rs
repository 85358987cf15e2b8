//! Each merchant's experiments in memory, read again at most every
//! [`FRESH`](super::FRESH) (another replica's edit, a bandit's new weights).

use super::*;
use crate::experiments::store::ExperimentsDb;

/// An experiment ready to assign from.
pub struct Loaded {
    pub(super) row: ExperimentRow,
    pub(super) def: Definition,
    pub(super) weights: Option<Vec<f64>>,
    pub(super) wit: Value,
}

/// A merchant's experiments, as read at some instant.
pub(super) type Snapshot = (Instant, Arc<Vec<Arc<Loaded>>>);

/// Each merchant's experiments, read at most every [`FRESH`].
#[derive(Default)]
pub struct Cache(RwLock<HashMap<String, Snapshot>>);

impl Cache {
    pub(super) fn forget(&self, merchant: &str) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(merchant);
    }
}

pub(super) fn load(row: ExperimentRow) -> Result<Loaded, ApiError> {
    let def: Definition = serde_json::from_str(&row.definition).map_err(ApiError::internal)?;
    let weights: Option<Vec<f64>> = row
        .weights
        .as_deref()
        .and_then(|w| serde_json::from_str(w).ok());
    let wit = def.to_wit(weights.as_deref());
    Ok(Loaded {
        row,
        def,
        weights,
        wit,
    })
}

pub(super) async fn loaded(
    state: &AppState,
    merchant: &str,
) -> Result<Arc<Vec<Arc<Loaded>>>, ApiError> {
    if let Some((at, list)) = state
        .get::<Cache>()
        .0
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(merchant)
        && at.elapsed() < FRESH
    {
        return Ok(list.clone());
    }
    let list: Vec<Arc<Loaded>> = ExperimentsDb(&state.store)
        .experiments(merchant)
        .await?
        .into_iter()
        .map(|r| load(r).map(Arc::new))
        .collect::<Result<_, _>>()?;
    let list = Arc::new(list);
    state
        .get::<Cache>()
        .0
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(merchant.to_string(), (Instant::now(), list.clone()));
    Ok(list)
}

pub(super) async fn find(
    state: &AppState,
    merchant: &str,
    key: &str,
) -> Result<Arc<Loaded>, ApiError> {
    loaded(state, merchant)
        .await?
        .iter()
        .find(|e| e.row.key == key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no experiment `{key}`")))
}

/// The experiment as the API shows it.
pub(super) fn view(e: &Loaded) -> ExperimentView {
    let n = e.def.variations.len();
    let mut definition = e.def.clone();
    definition.status = e.row.status;
    ExperimentView {
        key: e.row.key.clone(),
        status: e.row.status,
        definition,
        variation_names: (0..n).map(|i| e.def.variation_name(i)).collect(),
        weights: e
            .weights
            .clone()
            .or(e.def.weights.clone())
            .unwrap_or_else(|| vec![1.0 / n as f64; n]),
        weights_at: e.row.weights_at,
        served: e.row.served,
        created_at: e.row.created_at,
        updated_at: e.row.updated_at,
        started_at: e.row.started_at,
        stopped_at: e.row.stopped_at,
    }
}

/// An experiment as the API shows it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ExperimentView {
    /// Its key.
    pub key: String,
    /// Draft, running or stopped.
    pub status: super::model::Status,
    /// The definition (GrowthBook's fields).
    pub definition: super::model::Definition,
    /// Each variation's name.
    pub variation_names: Vec<String>,
    /// The split now (a bandit's moves).
    pub weights: Vec<f64>,
    /// When a bandit last moved it.
    pub weights_at: Option<i64>,
    /// The variation a stopped experiment serves.
    pub served: Option<i64>,
    /// When it was defined.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// When it started running.
    pub started_at: Option<i64>,
    /// When it stopped.
    pub stopped_at: Option<i64>,
}
