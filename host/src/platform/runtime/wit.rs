//! Host-side bindings generated from the WIT of every contract version
//! served: `wit/` (newest) and the frozen `wit/vX.Y.Z/` folders.
//!
//! The host calls plugins through the dynamic [`wasmtime::component::Val`]
//! API (one JSON mapping serves every slot and version); the typed
//! bindings here provide the host imports and check at publish time that
//! a component's exports have exactly the types its world declares.
#![allow(missing_docs, clippy::all)]

/// The bindings of one contract version: `imports` (the `host-imports`
/// world: host interface and shared types) and one module per slot world.
macro_rules! contract {
    ($module:ident, $path:tt) => {
        pub mod $module {
            /// The `host-imports` world: the host interface and the shared types.
            pub mod imports {
                wasmtime::component::bindgen!({
                    path: $path,
                    world: "host-imports",
                });
            }
            contract!(@world $path, fatigue, "fatigue-policy");
            contract!(@world $path, rfm, "rfm-scorer");
            contract!(@world $path, allocator, "allocator");
            contract!(@world $path, returns, "return-flow");
            contract!(@world $path, channels, "channel-chooser");
        }
    };
    (@world $path:tt, $w:ident, $world:tt) => {
        #[doc = concat!("The `", $world, "` world, for export type checks.")]
        pub mod $w {
            wasmtime::component::bindgen!({
                path: $path,
                world: $world,
                with: {
                    "cove:policy/types": super::imports::cove::policy::types,
                    "cove:policy/host": super::imports::cove::policy::host,
                },
            });
        }
    };
}

contract!(v0_1, "../wit/v0.1.0");
contract!(v0_2, "../wit/v0.2.0");
contract!(v0_3, "../wit");
