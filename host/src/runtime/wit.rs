//! Host-side bindings generated from `wit/`.
//!
//! The host calls plugins through the dynamic [`wasmtime::component::Val`]
//! API (one JSON mapping serves every slot); the typed bindings here provide
//! the host imports and check at publish time that a component's exports
//! have exactly the types its world declares.
#![allow(missing_docs, clippy::all)]

/// The `host-imports` world: the host interface and the shared types.
pub mod imports {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "host-imports",
    });
}

macro_rules! world {
    ($module:ident, $world:literal) => {
        #[doc = concat!("The `", $world, "` world, for export type checks.")]
        pub mod $module {
            wasmtime::component::bindgen!({
                path: "../wit",
                world: $world,
                with: {
                    "cove:policy/types": crate::runtime::wit::imports::cove::policy::types,
                    "cove:policy/host": crate::runtime::wit::imports::cove::policy::host,
                },
            });
        }
    };
}

world!(fatigue, "fatigue-policy");
world!(rfm, "rfm-scorer");
world!(allocator, "allocator");
world!(returns, "return-flow");
world!(channels, "channel-chooser");
