//! Hostile test plugin: returns a 256 KiB reason string.

use cove_sdk::Ctx;
use cove_sdk::fatigue::{Decision, Error, FatiguePolicy, MessageRequest};

/// The hostile policy.
pub struct Hostile;

impl FatiguePolicy for Hostile {
    fn decide(request: MessageRequest, ctx: &Ctx) -> Result<Decision, Error> {
        let _ = request;
        Ok(Decision::Defer(cove_sdk::fatigue::Deferral {
            until: ctx.now() + 1,
            reason: "x".repeat(256 << 10),
        }))
    }
}

cove_sdk::export_fatigue_policy!(Hostile);
