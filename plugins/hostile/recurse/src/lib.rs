//! Hostile test plugin: recurses without end.

use cove_sdk::Ctx;
use cove_sdk::fatigue::{Decision, Error, FatiguePolicy, MessageRequest};

/// The hostile policy.
pub struct Hostile;

impl FatiguePolicy for Hostile {
    fn decide(request: MessageRequest, ctx: &Ctx) -> Result<Decision, Error> {
        #[allow(unconditional_recursion)]
        fn deeper(n: u64, pad: [u64; 16]) -> u64 {
            std::hint::black_box(pad);
            deeper(n + 1, pad).wrapping_add(pad[(n % 16) as usize])
        }
        let _ = request;
        let n = deeper(ctx.now() as u64, [1; 16]);
        Ok(if n == 7 {
            Decision::Allow
        } else {
            Decision::Drop(cove_sdk::fatigue::DropReason::NoSignal)
        })
    }
}

cove_sdk::export_fatigue_policy!(Hostile);
