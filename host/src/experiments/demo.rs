//! The demo merchant's experiments.

use super::assign::place;
use super::bandit::reweigh;
use super::cache::load;
use super::model::Mode;
use super::*;
use crate::experiments::store::ExperimentsDb;

/// Give the demo merchant three experiments with two weeks of history
/// (visitors placed by the bound allocator, conversions drawn from a fixed
/// sequence): the storefront's offer banner (a fixed split), a product
/// page test of two factors, and a three-arm bandit. Only if it has none.
pub async fn seed_demo(state: &AppState, merchant: &str) -> anyhow::Result<()> {
    if !ExperimentsDb(&state.store)
        .experiments(merchant)
        .await?
        .is_empty()
        || state.bindings.get(merchant, Slot::Allocator).is_none()
    {
        return Ok(());
    }
    let demos = [
        (
            json!({"key": "offer-banner", "name": "Offer banner on the home page", "variations": ["Free shipping on orders over €50", "10% off your first order"],
                   "hashVersion": 2, "status": "running", "conversionEvent": "purchase", "attributionHours": 72}),
            vec![0.030, 0.041],
            3000,
        ),
        (
            json!({"key": "product-page", "name": "Product page: headline × photo", "hashVersion": 2, "status": "running",
                   "factors": [{"name": "headline", "levels": ["plain", "bold"]}, {"name": "photo", "levels": ["flat lay", "on a model"]}]}),
            vec![0.030, 0.031, 0.040, 0.042],
            4000,
        ),
        (
            json!({"key": "hero-bandit", "name": "Hero image (bandit)", "variations": ["beach", "city", "forest"], "hashVersion": 2,
                   "status": "running", "mode": "bandit", "bandit": {"burnIn": 500, "minShare": 0.05, "cadenceMinutes": 60}}),
            vec![0.025, 0.045, 0.030],
            2500,
        ),
    ];
    let now = crate::now_ms();
    let mut draw = 0x2545_f491_4f6c_dd1d_u64;
    for (definition, rates, visitors) in demos {
        let mut def: Definition = serde_json::from_value(definition)?;
        def.check()
            .map_err(|e| anyhow::anyhow!("demo experiment: {}", e.message()))?;
        let row = ExperimentRow {
            key: def.key.clone(),
            definition: serde_json::to_string(&def)?,
            status: def.status,
            weights: None,
            weights_at: None,
            served: None,
            created_at: now - 15 * 86_400_000,
            updated_at: now,
            started_at: Some(now - 14 * 86_400_000),
            stopped_at: None,
        };
        ExperimentsDb(&state.store)
            .insert_experiment(merchant, &row)
            .await?;
        let e = load(row).map_err(|e| anyhow::anyhow!("demo experiment: {}", e.message()))?;
        for i in 0..visitors {
            let unit = format!("demo-{}-{i}", e.row.key);
            let placed = place(state, merchant, &e, &json!({"id": unit})).await;
            let Ok(a) = placed else { continue };
            let v = a.variation;
            let at = now - 14 * 86_400_000 + (i as i64 * 14 * 86_400_000) / visitors as i64;
            ExperimentsDb(&state.store)
                .record_exposure(
                    merchant,
                    &e.row.key,
                    &unit,
                    v as i64,
                    &format!("demo-x-{unit}"),
                    at,
                )
                .await?;
            draw ^= draw << 13;
            draw ^= draw >> 7;
            draw ^= draw << 17;
            if ((draw >> 11) as f64 / (1u64 << 53) as f64) < rates[v] {
                ExperimentsDb(&state.store)
                    .record_conversion(
                        merchant,
                        &format!("demo-c-{unit}"),
                        &unit,
                        "purchase",
                        at + 3_600_000,
                    )
                    .await?;
            }
        }
        if e.def.mode == Mode::Bandit {
            let _ = reweigh(state, merchant, &e).await;
        }
    }
    state.get::<Cache>().forget(merchant);
    Ok(())
}
