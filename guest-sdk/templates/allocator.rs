//! A Cove A/B allocator. Build: cargo build --release --target wasm32-wasip2
use cove_sdk::allocator::{Allocator, Assignment, Error, Experiment};
use cove_sdk::Ctx;

/// Weighted split by a stable hash of experiment and unit.
pub struct Split;

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

impl Allocator for Split {
    fn allocate(experiment: Experiment, unit_id: String, _ctx: &Ctx) -> Result<Assignment, Error> {
        let total: u64 = experiment.arms.iter().map(|a| u64::from(a.weight)).sum();
        if total == 0 {
            return Err(Error::InvalidInput("the arms' weights add up to zero".into()));
        }
        let mut point = fnv1a(&format!("{}:{unit_id}", experiment.id)) % total;
        for arm in &experiment.arms {
            if point < u64::from(arm.weight) {
                return Ok(Assignment { arm_id: arm.id.clone(), deterministic: true });
            }
            point -= u64::from(arm.weight);
        }
        unreachable!("point is below the total weight")
    }
}

cove_sdk::export_allocator!(Split);

#[cfg(test)]
mod tests {
    use super::*;
    use cove_sdk::allocator::{AllocationMode, Arm};

    #[test]
    fn same_unit_same_arm() {
        let arm = |id: &str| Arm { id: id.into(), weight: 1, exposures: 0, conversions: 0 };
        let exp = Experiment { id: "hero".into(), arms: vec![arm("a"), arm("b")], mode: AllocationMode::FixedSplit };
        let first = Split::allocate(exp.clone(), "u1".into(), &Ctx::for_test(0)).unwrap();
        let again = Split::allocate(exp, "u1".into(), &Ctx::for_test(0)).unwrap();
        assert_eq!(first, again);
    }
}
