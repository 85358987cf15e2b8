//! Hostile test plugin: reads a file, which imports wasi:filesystem.

use cove_sdk::Ctx;
use cove_sdk::fatigue::{Decision, Error, FatiguePolicy, MessageRequest};

/// The hostile policy.
pub struct Hostile;

impl FatiguePolicy for Hostile {
    fn decide(request: MessageRequest, ctx: &Ctx) -> Result<Decision, Error> {
        let _ = (request, ctx);
        match std::fs::read_to_string("/etc/passwd") {
            Ok(_) => Ok(Decision::Allow),
            Err(e) => Err(Error::InvalidInput(e.to_string())),
        }
    }
}

cove_sdk::export_fatigue_policy!(Hostile);
