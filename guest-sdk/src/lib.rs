//! # cove-sdk: write Cove policy plugins in Rust
//!
//! A plugin is one crate with one dependency (this one), one `impl` of the
//! trait for its policy slot, and one export macro line:
//!
//! ```
//! use cove_sdk::fatigue::{Decision, Error, FatiguePolicy, MessageRequest};
//! use cove_sdk::Ctx;
//!
//! struct AlwaysAllow;
//!
//! impl FatiguePolicy for AlwaysAllow {
//!     fn decide(_request: MessageRequest, _ctx: &Ctx) -> Result<Decision, Error> {
//!         Ok(Decision::Allow)
//!     }
//! }
//!
//! cove_sdk::export_fatigue_policy!(AlwaysAllow);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` and publish
//! the `.wasm` with `cove plugin publish`. Because the policy is a plain
//! Rust `impl`, its unit tests call it natively with a [`Ctx::for_test`].
//!
//! The WIT contract lives in the repository's `wit/` folder; the types below
//! are generated from it, so their docs are the WIT docs.

#![deny(missing_docs)]

mod ctx;
mod slots;

pub use ctx::{Config, Ctx, LogLevel};
pub use slots::*;

/// Records shared by every slot: customer, order, engagement, channel,
/// region, money and time.
pub use generated::host::cove::policy::types::{
    Channel, Customer, EngagementEvent, EngagementKind, MessageKind, Money, Region, TimestampMs,
};

/// One day in milliseconds, for time arithmetic on [`TimestampMs`].
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// One hour in milliseconds.
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
/// One minute in milliseconds.
pub const MINUTE_MS: i64 = 60_000;

#[doc(hidden)]
pub mod generated;

/// Called by the export macros at the start of every exported call.
#[doc(hidden)]
pub fn __enter() {
    #[cfg(target_arch = "wasm32")]
    {
        static HOOK: std::sync::Once = std::sync::Once::new();
        // std's default hook writes to stderr, which a sandboxed plugin does
        // not have; route the panic message to the host log instead.
        HOOK.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                ctx::host_log(LogLevel::Error, &format!("plugin panicked: {info}"));
            }))
        });
    }
}
