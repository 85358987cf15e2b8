//! Hostile test plugin: a new version that starts failing. It allows
//! every message, as the live policy does for customers it never
//! contacted, until it meets a customer whose id starts with `late`: then
//! it traps. A canary test sends such customers after a while, so the
//! candidate starts failing after some calls.

use cove_sdk::Ctx;
use cove_sdk::fatigue::{Decision, Error, FatiguePolicy, MessageRequest};

/// The flaky policy.
pub struct Flaky;

impl FatiguePolicy for Flaky {
    fn decide(request: MessageRequest, _ctx: &Ctx) -> Result<Decision, Error> {
        if request.customer.id.starts_with("late") {
            panic!("a bug that only shows for some customers");
        }
        Ok(Decision::Allow)
    }
}

cove_sdk::export_fatigue_policy!(Flaky);
