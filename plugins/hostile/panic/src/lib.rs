//! Hostile test plugin: prints, then panics with a message.

use cove_sdk::Ctx;
use cove_sdk::fatigue::{Decision, Error, FatiguePolicy, MessageRequest};

/// The hostile policy.
pub struct Hostile;

impl FatiguePolicy for Hostile {
    fn decide(request: MessageRequest, ctx: &Ctx) -> Result<Decision, Error> {
        let _ = ctx;
        println!("about to refuse campaign {}", request.campaign_id);
        eprint!("no newline at the end");
        panic!("hostile plugin refuses campaign {}", request.campaign_id)
    }
}

cove_sdk::export_fatigue_policy!(Hostile);
