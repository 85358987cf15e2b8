//! A Cove A/B allocator. Build: cargo build --release --target wasm32-wasip2
use cove_sdk::allocator::{Allocator, Assignment, Error, Experiment, Reason};
use cove_sdk::Ctx;

/// Equal split by a stable hash of the experiment key and the unit's attributes.
pub struct Split;

fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

impl Allocator for Split {
    fn allocate(experiment: Experiment, attributes: String, sticky: Option<u32>, _ctx: &Ctx) -> Result<Assignment, Error> {
        if experiment.variations == 0 {
            return Err(Error::InvalidInput("variations: the experiment has none".into()));
        }
        let variation = sticky.unwrap_or(fnv1a(&format!("{}{attributes}", experiment.key)) % experiment.variations);
        Ok(Assignment {
            in_experiment: true,
            variation,
            hash_used: sticky.is_none(),
            hash_attribute: experiment.hash_attribute,
            hash_value: attributes,
            bucket: None,
            reason: if sticky.is_some() { Reason::Sticky } else { Reason::Assigned },
        })
    }
}

cove_sdk::export_allocator!(Split);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_unit_same_variation() {
        let exp = Experiment {
            key: "hero".into(), variations: 2, weights: vec![], coverage: 1.0, seed: String::new(), hash_version: 2,
            hash_attribute: "id".into(), fallback_attribute: None, namespace: None, condition: None, force: None,
        };
        let first = Split::allocate(exp.clone(), r#"{"id":"u1"}"#.into(), None, &Ctx::for_test(0)).unwrap();
        let again = Split::allocate(exp, r#"{"id":"u1"}"#.into(), None, &Ctx::for_test(0)).unwrap();
        assert_eq!(first, again);
    }
}
