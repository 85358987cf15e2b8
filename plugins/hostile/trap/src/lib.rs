//! Hostile test plugin: executes an unreachable instruction.

use cove_sdk::Ctx;
use cove_sdk::fatigue::{Decision, Error, FatiguePolicy, MessageRequest};

/// The hostile policy.
pub struct Hostile;

impl FatiguePolicy for Hostile {
    fn decide(request: MessageRequest, ctx: &Ctx) -> Result<Decision, Error> {
        let _ = (request, ctx);
        std::process::abort()
    }
}

cove_sdk::export_fatigue_policy!(Hostile);
