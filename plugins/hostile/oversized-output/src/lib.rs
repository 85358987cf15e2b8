//! Hostile test plugin: returns a 4 MB reason string.

use cove_sdk::Ctx;
use cove_sdk::fatigue::{Decision, Error, FatiguePolicy, MessageRequest};

struct Hostile;

impl FatiguePolicy for Hostile {
    fn decide(request: MessageRequest, ctx: &Ctx) -> Result<Decision, Error> {
        let _ = request;
        Ok(Decision::Defer(cove_sdk::fatigue::Deferral {
            until: ctx.now() + 1,
            reason: "x".repeat(4 << 20),
        }))
    }
}

cove_sdk::export_fatigue_policy!(Hostile);
