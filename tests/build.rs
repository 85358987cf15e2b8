//! Builds the plugins under test from this repository's sources for
//! `wasm32-wasip2` and tells the crate where the components are, so every
//! test and benchmark runs the real `.wasm` of the current sources.

use std::path::PathBuf;
use std::process::Command;

const GUESTS: &[&str] = &[
    "fatigue-policy",
    "channel-chooser",
    "return-flow",
    "mvt-allocator",
    "rfm-scorer",
    "hostile-loop-forever",
    "hostile-grow-memory",
    "hostile-recurse",
    "hostile-trap",
    "hostile-oversized-output",
    "hostile-forbidden-import",
    "hostile-panic",
    "hostile-aliased-output",
    "hostile-busy",
    "hostile-flaky",
];

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("..");
    for dir in ["plugins", "guest-sdk", "wit", ".cargo/config.toml"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    let target_dir = root.join("target/guests");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir)
        // Plugins ship small: whole-program optimisation and no symbol
        // names (the reference allocator fits the 256 KiB default only so).
        .args([
            "--config",
            "profile.release.lto=true",
            "--config",
            "profile.release.codegen-units=1",
            "--config",
            "profile.release.strip=true",
        ])
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_MAKEFLAGS")
        // Under `cargo clippy` the outer build lints the plugins natively;
        // this inner build only has to produce the components.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTC_WRAPPER");
    for guest in GUESTS {
        cmd.args(["-p", guest]);
    }
    let status = cmd
        .status()
        .expect("running cargo for the wasm32-wasip2 plugins");
    assert!(
        status.success(),
        "building the plugins for wasm32-wasip2 failed (is the target installed? `rustup target add wasm32-wasip2`)"
    );
    let out = target_dir.join("wasm32-wasip2/release");
    for guest in GUESTS {
        let constant = guest.to_uppercase().replace('-', "_");
        let file = out.join(format!("{}.wasm", guest.replace('-', "_")));
        println!("cargo:rustc-env=COVE_GUEST_{constant}={}", file.display());
    }
    println!("cargo:rustc-env=COVE_GUEST_DIR={}", out.display());
}
