//! A Cove return flow. Build: cargo build --release --target wasm32-wasip2
use cove_sdk::returns::{Error, Handover, Outcome, Queue, ReturnFlow, ReturnRequest, Sentiment};
use cove_sdk::Ctx;

/// Sends every return to a person; angry customers first.
pub struct Flow;

impl ReturnFlow for Flow {
    fn evaluate(request: ReturnRequest, _ctx: &Ctx) -> Result<Outcome, Error> {
        let queue = if request.sentiment == Sentiment::Negative { Queue::Priority } else { Queue::Standard };
        Ok(Outcome::HumanReview(Handover { queue, reason: "every return is checked by a person".into() }))
    }
}

cove_sdk::export_return_flow!(Flow);

#[cfg(test)]
mod tests {
    use super::*;
    use cove_sdk::Money;
    use cove_sdk::returns::{MembershipTier, SalesPlatform};

    #[test]
    fn angry_customers_go_first() {
        let request = ReturnRequest {
            country: "DE".into(), platform: SalesPlatform::OwnSite, sku: "S1".into(), category: "apparel".into(),
            quantity: 1, unit_price: Money { amount_minor: 4999, currency: "EUR".into() }, purchased_at: 0,
            weight_grams: 500, tier: MembershipTier::None, sentiment: Sentiment::Negative, reason: "late".into(),
        };
        let outcome = Flow::evaluate(request, &Ctx::for_test(0)).unwrap();
        assert!(matches!(outcome, Outcome::HumanReview(Handover { queue: Queue::Priority, .. })));
    }
}
