//! Hostile test plugin: allocates memory without end.

use cove_sdk::Ctx;
use cove_sdk::fatigue::{Decision, Error, FatiguePolicy, MessageRequest};

/// The hostile policy.
pub struct Hostile;

impl FatiguePolicy for Hostile {
    fn decide(request: MessageRequest, ctx: &Ctx) -> Result<Decision, Error> {
        let _ = (request, ctx);
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            // Reserve without touching: growth is cheap, so the memory ceiling
            // (not the deadline) is what stops it.
            let mut block = Vec::<u8>::with_capacity(1 << 20);
            block.push(1);
            hoard.push(std::hint::black_box(block));
        }
    }
}

cove_sdk::export_fatigue_policy!(Hostile);
