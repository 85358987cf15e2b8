//! A Cove RFM scorer. Build: cargo build --release --target wasm32-wasip2
use cove_sdk::rfm::{CustomerActivity, Error, RfmScore, RfmScorer};
use cove_sdk::{Ctx, DAY_MS, TimestampMs};

/// Scores recency by days since the last order; frequency and monetary by order count and spend.
pub struct Scorer;

fn band(value: f64, cuts: [f64; 4]) -> u8 {
    1 + cuts.iter().filter(|c| value >= **c).count() as u8
}

impl RfmScorer for Scorer {
    fn score(as_of: TimestampMs, customers: Vec<CustomerActivity>, _ctx: &Ctx) -> Result<Vec<RfmScore>, Error> {
        Ok(customers
            .into_iter()
            .map(|c| {
                let last = c.orders.iter().map(|o| o.placed_at).max();
                let days = last.map_or(f64::MAX, |t| ((as_of - t) / DAY_MS) as f64);
                let recency = 6 - band(days, [30.0, 90.0, 180.0, 365.0]);
                let frequency = band(c.orders.len() as f64, [2.0, 3.0, 5.0, 10.0]);
                let spend: i64 = c.orders.iter().map(|o| o.total.amount_minor).sum();
                let monetary = band(spend as f64 / 100.0, [50.0, 150.0, 500.0, 1000.0]);
                let segment = if recency >= 4 { "active" } else if recency >= 2 { "at-risk" } else { "churned" };
                RfmScore { customer_id: c.customer.id, recency, frequency, monetary, segment: segment.into(), segments: vec![segment.into()] }
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
        assert!(Scorer::score(0, vec![], &Ctx::for_test(0)).unwrap().is_empty());
    }
}
