//! Hostile test plugin: spins forever.

use cove_sdk::Ctx;
use cove_sdk::fatigue::{Decision, Error, FatiguePolicy, MessageRequest};

/// The hostile policy.
pub struct Hostile;

impl FatiguePolicy for Hostile {
    fn decide(request: MessageRequest, ctx: &Ctx) -> Result<Decision, Error> {
        let mut n = ctx.now() as u64;
        loop {
            n = std::hint::black_box(n.wrapping_mul(6364136223846793005).wrapping_add(1));
            if n == 42 && request.campaign_id.is_empty() {
                return Ok(Decision::Allow);
            }
        }
    }
}

cove_sdk::export_fatigue_policy!(Hostile);
