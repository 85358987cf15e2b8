//! Bindings generated from `wit/`; plugin authors use the re-exports in the
//! crate root and the slot modules instead.
#![allow(missing_docs, clippy::all)]

/// The host interface and shared types. Native builds (an author's unit
/// tests, `cove plugin replay --native`) also read and write them as JSON.
pub mod host {
    #[cfg(target_arch = "wasm32")]
    wit_bindgen::generate!({
        world: "host-imports",
        path: "../wit",
        generate_all,
        additional_derives: [PartialEq],
    });
    #[cfg(not(target_arch = "wasm32"))]
    wit_bindgen::generate!({
        world: "host-imports",
        path: "../wit",
        generate_all,
        additional_derives: [PartialEq, serde::Serialize, serde::Deserialize],
    });
}

macro_rules! slot_bindings {
    ($module:ident, $world:literal, $export_macro:literal, $default:literal) => {
        #[doc = concat!("Bindings of the `", $world, "` world.")]
        pub mod $module {
            #[cfg(target_arch = "wasm32")]
            wit_bindgen::generate!({
                world: $world,
                path: "../wit",
                with: {
                    "cove:policy/types@0.3.0": crate::generated::host::cove::policy::types,
                    "cove:policy/host@0.3.0": crate::generated::host::cove::policy::host,
                },
                pub_export_macro: true,
                additional_derives: [PartialEq],
                export_macro_name: $export_macro,
                default_bindings_module: $default,
            });
            #[cfg(not(target_arch = "wasm32"))]
            wit_bindgen::generate!({
                world: $world,
                path: "../wit",
                with: {
                    "cove:policy/types@0.3.0": crate::generated::host::cove::policy::types,
                    "cove:policy/host@0.3.0": crate::generated::host::cove::policy::host,
                },
                pub_export_macro: true,
                additional_derives: [PartialEq, serde::Serialize, serde::Deserialize],
                export_macro_name: $export_macro,
                default_bindings_module: $default,
            });
        }
    };
}

slot_bindings!(
    fatigue,
    "fatigue-policy",
    "__export_fatigue",
    "cove_sdk::generated::fatigue"
);
slot_bindings!(
    rfm,
    "rfm-scorer",
    "__export_rfm",
    "cove_sdk::generated::rfm"
);
slot_bindings!(
    allocator,
    "allocator",
    "__export_allocator",
    "cove_sdk::generated::allocator"
);
slot_bindings!(
    returns,
    "return-flow",
    "__export_returns",
    "cove_sdk::generated::returns"
);
slot_bindings!(
    channels,
    "channel-chooser",
    "__export_channels",
    "cove_sdk::generated::channels"
);
