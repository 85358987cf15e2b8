//! Hostile test plugin: a noisy neighbour. Spins `spin` rounds (config,
//! default 500,000: most of the default fuel) on every call, then allows,
//! so it never fails and the circuit breaker never spares the host.

use cove_sdk::Ctx;
use cove_sdk::fatigue::{Decision, Error, FatiguePolicy, MessageRequest};

/// The busy policy.
pub struct Busy;

impl FatiguePolicy for Busy {
    fn decide(_request: MessageRequest, ctx: &Ctx) -> Result<Decision, Error> {
        let spin: u64 = ctx
            .config()
            .parse_or("spin", 500_000)
            .map_err(Error::InvalidConfig)?;
        let mut n = ctx.now() as u64;
        for _ in 0..spin {
            n = std::hint::black_box(n.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        std::hint::black_box(n);
        Ok(Decision::Allow)
    }
}

cove_sdk::export_fatigue_policy!(Busy);
