//! `cove plugin new` gives a plugin author a crate that passes its own
//! unit test natively, builds to a component, and is accepted at publish.

use std::process::{Command, Stdio};

use cove_host::registry::inspect;
use cove_host::runtime::{Limits, Runtime};
use cove_host::slots::Slot;

#[test]
fn every_world_scaffolds_a_crate_that_tests_builds_and_publishes() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // Share compiled dependencies with the repository's plugin builds.
    let target = root.join("target/scaffold");
    let runtime = Runtime::new(Limits::default()).unwrap();
    for slot in Slot::ALL {
        let name = format!("my-{}", slot.world());
        let crate_dir = dir.path().join(&name);
        let status = Command::new(cove_e2e::cove_binary())
            .args(["plugin", "new", &name, "--world", slot.world(), "--dir"])
            .arg(&crate_dir)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "cove plugin new failed for {slot}");

        let cargo = |args: &[&str]| {
            let status = Command::new(env!("CARGO"))
                .args(args)
                .current_dir(&crate_dir)
                .env("CARGO_TARGET_DIR", &target)
                .env_remove("RUSTFLAGS")
                .env_remove("CARGO_ENCODED_RUSTFLAGS")
                // The inner test run's report is not this suite's.
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(
                status.success(),
                "cargo {args:?} failed for the {slot} template"
            );
        };
        cargo(&["test", "--quiet"]);
        cargo(&["build", "--quiet", "--release", "--target", "wasm32-wasip2"]);

        let wasm = target.join(format!(
            "wasm32-wasip2/release/{}.wasm",
            name.replace('-', "_")
        ));
        let (world, _) = inspect(&runtime, &std::fs::read(&wasm).unwrap())
            .unwrap_or_else(|e| panic!("{slot} template refused at publish: {e}"));
        assert_eq!(world, slot);
    }
}
