//! Bandits: reweighted by the allocator from each arm's totals, on the
//! experiment's cadence, by a background task.

use super::cache::{Loaded, find};
use super::model::Mode;
use super::*;
use crate::experiments::store::ExperimentsDb;

/// Exposures and conversions per variation.
pub(super) async fn totals(
    state: &AppState,
    merchant: &str,
    e: &Loaded,
) -> Result<Vec<(u64, u64)>, ApiError> {
    let mut t = vec![(0, 0); e.def.variations.len()];
    let db = ExperimentsDb(&state.store);
    db.refresh_rollup(
        merchant,
        &e.row.key,
        &super::rollup::Basis::of(&e.def),
        None,
    )
    .await?;
    for c in db.experiment_counts(merchant, &e.row.key).await? {
        if let Some(slot) = t.get_mut(c.variation) {
            slot.0 += c.exposures;
            slot.1 += c.conversions;
        }
    }
    Ok(t)
}

/// Ask the allocator for a bandit's next weights and store them.
pub(super) async fn reweigh(
    state: &AppState,
    merchant: &str,
    e: &Loaded,
) -> Result<Vec<f64>, String> {
    let counts = totals(state, merchant, e)
        .await
        .map_err(|e| e.message().to_string())?;
    let b = e.def.bandit.clone().unwrap_or(model::Bandit {
        top_two: false,
        min_share: 0.05,
        burn_in: 1000,
        cadence_minutes: 60,
    });
    let input = json!({
        "arms": counts.iter().map(|(n, c)| json!({"exposures": n, "conversions": c})).collect::<Vec<_>>(),
        "settings": {"top-two": b.top_two, "min-share": b.min_share, "burn-in": b.burn_in},
    });
    let out = call_other(state, merchant, Slot::Allocator, "reweight", &input).await?;
    let weights: Vec<f64> = serde_json::from_value(out).map_err(|e| e.to_string())?;
    if weights.len() != counts.len()
        || weights.iter().any(|w| !w.is_finite() || *w < 0.0)
        || (weights.iter().sum::<f64>() - 1.0).abs() > 0.01
    {
        return Err(format!(
            "the allocator's weights {weights:?} are not one share per arm adding up to 1"
        ));
    }
    let text = serde_json::to_string(&weights).map_err(|e| e.to_string())?;
    ExperimentsDb(&state.store)
        .set_experiment_weights(
            merchant,
            &e.row.key,
            &text,
            crate::now_ms(),
            e.row.weights_at,
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(weights)
}

/// Every `every`, count what arrived into every running experiment's
/// results (its rollup), and reweight every running bandit whose cadence
/// is due (on PostgreSQL with several replicas, one of them wins each
/// cadence).
pub fn spawn_bandits(state: &AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Ok(running) = ExperimentsDb(&state.store).running_experiments().await else {
                continue;
            };
            let now = crate::now_ms();
            for (merchant, key, definition, at) in running {
                let Ok(def) = serde_json::from_str::<Definition>(&definition) else {
                    continue;
                };
                // Results are counted here, off the page, as data arrives.
                let basis = super::rollup::Basis::of(&def);
                if let Err(why) = ExperimentsDb(&state.store)
                    .refresh_rollup(&merchant, &key, &basis, None)
                    .await
                {
                    tracing::warn!(%merchant, experiment = %key, %why, "could not count an experiment's results");
                }
                let cadence = def.bandit.as_ref().map_or(60, |b| b.cadence_minutes) as i64 * 60_000;
                if def.mode != Mode::Bandit || at.is_some_and(|at| now - at < cadence) {
                    continue;
                }
                if let Ok(e) = find(&state, &merchant, &key).await
                    && let Err(why) = reweigh(&state, &merchant, &e).await
                {
                    tracing::warn!(%merchant, experiment = %key, %why, "could not reweight a bandit; its weights stay");
                }
                state.get::<Cache>().forget(&merchant);
            }
        }
    })
}
