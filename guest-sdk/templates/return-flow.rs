//! A Cove return flow. Build: cargo build --release --target wasm32-wasip2
use cove_sdk::returns::{Error, Field, FieldKind, Form, Handover, Outcome, Queue, ReturnFlow, Session, Step};
use cove_sdk::Ctx;

/// Asks why, then sends every return to a person.
pub struct Flow;

impl ReturnFlow for Flow {
    fn next(session: Session, _ctx: &Ctx) -> Result<Step, Error> {
        let Some(reason) = session.answer("reason") else {
            return Ok(Step::Form(Form {
                step: "reason".into(),
                title: vec![("en".into(), "Why are you returning it?".into())],
                fields: vec![Field {
                    name: "reason".into(),
                    label: vec![("en".into(), "Reason".into())],
                    kind: FieldKind::Text(500),
                    required: true,
                }],
            }));
        };
        Ok(Step::Outcome(Outcome::HumanReview(Handover {
            queue: Queue::Standard,
            reason: format!("the customer says: {reason}"),
        })))
    }
}

cove_sdk::export_return_flow!(Flow);

#[cfg(test)]
mod tests {
    use super::*;
    use cove_sdk::returns::{Answer, CustomerFacts, OrderFacts};
    use cove_sdk::Money;

    fn session(answers: Vec<Answer>) -> Session {
        Session {
            locale: "en".into(),
            order: OrderFacts { id: "1001".into(), platform: "own-site".into(), placed_at: 0, lines: vec![], deliveries: vec![] },
            customer: CustomerFacts { tier: None, country: None, orders: 1, spent: Money { amount_minor: 0, currency: "EUR".into() }, time_zone: None, offsets: vec![] },
            answers,
        }
    }

    #[test]
    fn asks_why_then_hands_over() {
        assert!(matches!(Flow::next(session(vec![]), &Ctx::for_test(0)), Ok(Step::Form(_))));
        let answered = session(vec![Answer { field: "reason".into(), value: "too small".into() }]);
        assert!(matches!(Flow::next(answered, &Ctx::for_test(0)), Ok(Step::Outcome(Outcome::HumanReview(_)))));
    }
}
