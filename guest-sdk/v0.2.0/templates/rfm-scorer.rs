//! A Cove RFM scorer. Build: cargo build --release --target wasm32-wasip2
use cove_sdk::rfm::{CustomerScore, CustomerSummary, Error, Model, RfmScorer};
use cove_sdk::Ctx;

/// Fixed bands: recency by days since the last order, frequency by orders, monetary by spend.
pub struct Scorer;

fn band(value: f64, cuts: &[f64]) -> u8 {
    1 + cuts.iter().filter(|c| value >= **c).count() as u8
}

impl RfmScorer for Scorer {
    fn fit(_sample: Vec<CustomerSummary>, unit_days: f64, _ctx: &Ctx) -> Result<Model, Error> {
        Ok(Model {
            recency_cuts: vec![30.0, 90.0, 180.0, 365.0],
            frequency_cuts: vec![2.0, 3.0, 5.0, 10.0],
            monetary_cuts: vec![50.0, 150.0, 500.0, 1000.0],
            bgnbd: None,
            gamma_gamma: None,
            unit_days,
            clv_percentiles: vec![],
            spent_percentiles: vec![],
            purchases_percentiles: vec![],
        })
    }

    fn score(model: Model, customers: Vec<CustomerSummary>, _ctx: &Ctx) -> Result<Vec<CustomerScore>, Error> {
        Ok(customers
            .into_iter()
            .map(|c| {
                let recency = 6 - band(c.days_since_order, &model.recency_cuts);
                let segment = if recency >= 4 { "active" } else if recency >= 2 { "at-risk" } else { "silent" };
                CustomerScore {
                    customer_id: c.customer_id,
                    recency,
                    frequency: band(f64::from(c.orders), &model.frequency_cuts),
                    monetary: band(c.spent, &model.monetary_cuts),
                    segment: segment.into(),
                    tier: segment.into(),
                    micro_segments: vec!["everyone-else".into()],
                    p_active: if recency >= 2 { 1.0 } else { 0.0 },
                    expected_purchases: 0.0,
                    expected_value: 0.0,
                    clv: 0.0,
                }
            })
            .collect())
    }
}

cove_sdk::export_rfm_scorer!(Scorer);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_batch_gives_no_scores() {
        let model = Scorer::fit(vec![], 1.0, &Ctx::for_test(0)).unwrap();
        assert!(Scorer::score(model, vec![], &Ctx::for_test(0)).unwrap().is_empty());
    }
}
