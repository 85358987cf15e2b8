//! `cove plugin new`: writes a plugin crate for one world and one contract
//! version that passes its own native unit test and builds to a component.
//!
//! The guest SDK and the contract's WIT travel inside the `cove` binary,
//! one copy per contract version the host serves, so an author who has
//! only the binary can scaffold, test and build: the crate gets the SDK
//! in `cove-sdk/` (with the WIT, whose docs are the contract's docs) and
//! depends on it by path.

use std::path::Path;

use crate::platform::slots::{Contract, Slot};

/// The SDK sources, WIT files and plugin templates of one contract version.
struct Bundle {
    sdk: Vec<(&'static str, &'static str)>,
    /// Lines added to the SDK's `Cargo.toml`.
    sdk_deps: &'static str,
    wit: [(&'static str, &'static str); 7],
    templates: [(&'static str, &'static str); 5],
}

/// The bundle of files for a contract: `$sdk` is the SDK folder (with
/// `src/` and `templates/`), `$wit` the contract's WIT folder, both
/// relative to the repository root.
macro_rules! bundle {
    ($sdk:literal, $wit:literal $(, $extra:literal)* ; $deps:expr) => {
        Bundle {
            sdk_deps: $deps,
            sdk: vec![
                $((
                    concat!($extra, ".rs"),
                    include_str!(concat!("../../../", $sdk, "/src/", $extra, ".rs")),
                ),)*
                (
                    "lib.rs",
                    include_str!(concat!("../../../", $sdk, "/src/lib.rs")),
                ),
                (
                    "ctx.rs",
                    include_str!(concat!("../../../", $sdk, "/src/ctx.rs")),
                ),
                (
                    "generated.rs",
                    include_str!(concat!("../../../", $sdk, "/src/generated.rs")),
                ),
                (
                    "slots.rs",
                    include_str!(concat!("../../../", $sdk, "/src/slots.rs")),
                ),
            ],
            wit: [
                (
                    "types.wit",
                    include_str!(concat!("../../../", $wit, "/types.wit")),
                ),
                (
                    "host.wit",
                    include_str!(concat!("../../../", $wit, "/host.wit")),
                ),
                (
                    "rfm.wit",
                    include_str!(concat!("../../../", $wit, "/rfm.wit")),
                ),
                (
                    "allocator.wit",
                    include_str!(concat!("../../../", $wit, "/allocator.wit")),
                ),
                (
                    "fatigue.wit",
                    include_str!(concat!("../../../", $wit, "/fatigue.wit")),
                ),
                (
                    "returns.wit",
                    include_str!(concat!("../../../", $wit, "/returns.wit")),
                ),
                (
                    "channels.wit",
                    include_str!(concat!("../../../", $wit, "/channels.wit")),
                ),
            ],
            templates: [
                (
                    "rfm-scorer",
                    include_str!(concat!("../../../", $sdk, "/templates/rfm-scorer.rs")),
                ),
                (
                    "allocator",
                    include_str!(concat!("../../../", $sdk, "/templates/allocator.rs")),
                ),
                (
                    "fatigue-policy",
                    include_str!(concat!("../../../", $sdk, "/templates/fatigue-policy.rs")),
                ),
                (
                    "return-flow",
                    include_str!(concat!("../../../", $sdk, "/templates/return-flow.rs")),
                ),
                (
                    "channel-chooser",
                    include_str!(concat!("../../../", $sdk, "/templates/channel-chooser.rs")),
                ),
            ],
        }
    };
}

/// What `cove plugin replay --native` needs of the SDK, in native builds
/// only (0.3.0 on).
const REPLAY_DEPS: &str = r#"
# Native builds only (unit tests, `cove plugin replay --native`).
[target.'cfg(not(target_arch = "wasm32"))'.dependencies]
serde = { version = "1", features = ["derive"] }
serde_json = "1"
"#;

fn bundle(contract: Contract) -> Bundle {
    match contract {
        Contract::V0_1 => bundle!("guest-sdk/v0.1.0", "wit/v0.1.0"; ""),
        Contract::V0_2 => bundle!("guest-sdk/v0.2.0", "wit/v0.2.0"; ""),
        Contract::V0_3 => bundle!("guest-sdk", "wit", "replay"; REPLAY_DEPS),
    }
}

/// Write a new plugin crate `name` for `slot`, built against `contract`,
/// into `dir`.
pub fn new_plugin(dir: &Path, name: &str, slot: Slot, contract: Contract) -> anyhow::Result<()> {
    anyhow::ensure!(
        !name.is_empty()
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        "plugin name `{name}` must be lower-case letters, digits or dashes, starting with a letter"
    );
    anyhow::ensure!(!dir.exists(), "{} already exists", dir.display());
    let bundle = bundle(contract);
    let sdk = dir.join("cove-sdk");
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::create_dir_all(sdk.join("src"))?;
    std::fs::create_dir_all(sdk.join("wit"))?;
    let version = contract.version();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
# The guest SDK for contract cove:policy@{version}, as shipped with `cove`.
cove-sdk = {{ path = "cove-sdk" }}

[profile.release]
opt-level = "s"
strip = true

# Stand-alone crate, not part of an enclosing workspace.
[workspace]
"#
        ),
    )?;
    std::fs::write(
        sdk.join("Cargo.toml"),
        format!(
            r#"[package]
name = "cove-sdk"
version = "{version}"
edition = "2024"
description = "Write Cove policy plugins in Rust (contract cove:policy@{version}); written by `cove plugin new`."
license = "Apache-2.0"

[dependencies]
wit-bindgen = {{ version = "=0.63.0", default-features = false, features = ["macros", "realloc"] }}
{deps}"#,
            deps = bundle.sdk_deps
        ),
    )?;
    for (file, text) in bundle.sdk {
        // In the repository the SDK reads the WIT from the contract's own
        // folder; here it sits beside the SDK.
        let text = if file == "generated.rs" {
            rewrite_wit_path(text)
        } else {
            text.to_string()
        };
        std::fs::write(sdk.join("src").join(file), text)?;
    }
    for (file, text) in bundle.wit {
        std::fs::write(sdk.join("wit").join(file), text)?;
    }
    let template = bundle
        .templates
        .iter()
        .find(|(world, _)| *world == slot.world())
        .map(|(_, text)| *text)
        .expect("a template for every world");
    std::fs::write(dir.join("src/lib.rs"), template)?;
    Ok(())
}

/// `path: "…"` in the SDK's bindings, pointed at `cove-sdk/wit`.
fn rewrite_wit_path(generated: &str) -> String {
    let mut out = String::with_capacity(generated.len());
    for line in generated.split_inclusive('\n') {
        match line.trim_start().strip_prefix("path: \"") {
            Some(_) => {
                let indent = &line[..line.len() - line.trim_start().len()];
                out.push_str(indent);
                out.push_str("path: \"wit\",\n");
            }
            None => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SDK's bindings file of a bundle.
    fn generated(b: &Bundle) -> &'static str {
        b.sdk
            .iter()
            .find(|(file, _)| *file == "generated.rs")
            .map(|(_, text)| *text)
            .expect("the bindings")
    }

    #[test]
    fn bindings_read_the_wit_beside_the_sdk() {
        for contract in Contract::ALL {
            let generated = generated(&bundle(contract));
            let rewritten = rewrite_wit_path(generated);
            assert!(generated.contains("path: \"../"));
            assert!(!rewritten.contains("path: \"../"));
            assert_eq!(
                rewritten.matches("path: \"wit\",").count(),
                generated.matches("path: \"").count()
            );
        }
    }

    #[test]
    fn each_bundle_speaks_its_own_contract() {
        for contract in Contract::ALL {
            let b = bundle(contract);
            let package = format!("package cove:policy@{};", contract.version());
            assert!(b.wit.iter().all(|(_, text)| text.starts_with(&package)));
            assert!(generated(&b).contains(&format!("@{}\"", contract.version())));
        }
    }
}
