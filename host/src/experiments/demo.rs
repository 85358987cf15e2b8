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
    let mut next = move || {
        draw ^= draw << 13;
        draw ^= draw >> 7;
        draw ^= draw << 17;
        (draw >> 11) as f64 / (1u64 << 53) as f64
    };
    // The offer banner's buyers place orders: a tenth of its visitors
    // bought in the two weeks before (and buy again more often), "10% off"
    // makes smaller baskets. So its page shows revenue per visitor,
    // average order value and what CUPED takes out.
    let mut orders = String::new();
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
            let with_orders = e.row.key == "offer-banner";
            let taste = 20.0 + 60.0 * next();
            let bought_before = with_orders && next() < 0.1;
            if bought_before {
                let when = at - (1.0 + 12.0 * next()) as i64 * 86_400_000;
                orders.push_str(&order_line(
                    &unit,
                    "pre",
                    when,
                    taste * (0.7 + 0.6 * next()),
                ));
            }
            let chance = match (with_orders, bought_before) {
                (false, _) => rates[v],
                (true, true) => 4.0 * rates[v],
                (true, false) => 0.7 * rates[v],
            };
            if next() < chance {
                if with_orders {
                    let basket = taste * (0.7 + 0.6 * next()) * if v == 1 { 0.9 } else { 1.0 };
                    orders.push_str(&order_line(&unit, "post", at + 3_600_000, basket));
                }
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
    use crate::customers::{import::Format, import::Importer, model::Entity};
    let mut importer = Importer::new(&state.store, merchant, Entity::Orders, Format::Ndjson);
    importer.push(orders.as_bytes()).await?;
    let summary = importer.finish().await?;
    anyhow::ensure!(summary.rejected == 0, "demo orders: {:?}", summary.errors);
    state.get::<Cache>().forget(merchant);
    Ok(())
}

/// One demo order as an import line.
fn order_line(unit: &str, what: &str, at: i64, euros: f64) -> String {
    format!(
        "{}\n",
        json!({"id": format!("{unit}-{what}"), "customer_id": unit, "placed_at": at, "currency": "EUR", "total": format!("{euros:.2}")})
    )
}
