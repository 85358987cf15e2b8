//! `cove plugin new` gives a plugin author — who has only the `cove`
//! binary — a crate that passes its own unit test natively, builds to a
//! component, and is accepted at publish, for every world.

use cove_host::platform::registry::inspect;
use cove_host::platform::runtime::{Limits, Runtime};
use cove_host::platform::slots::{Contract, Slot};

#[test]
fn every_world_scaffolds_a_crate_that_tests_builds_and_publishes() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(Limits::default()).unwrap();
    for slot in Slot::ALL {
        let name = format!("my-{}", slot.world());
        let wasm = cove_e2e::scaffold_and_build(dir.path(), &name, slot.world(), None);
        let (world, contract, _) = inspect(&runtime, &std::fs::read(&wasm).unwrap())
            .unwrap_or_else(|e| panic!("{slot} template refused at publish: {e}"));
        assert_eq!(world, slot);
        assert_eq!(contract, Contract::NEWEST);
        // The SDK and the contract came with the binary, not from a checkout.
        let sdk = std::fs::read_to_string(dir.path().join(&name).join("Cargo.toml")).unwrap();
        assert!(sdk.contains("path = \"cove-sdk\""), "{sdk}");
    }
}
