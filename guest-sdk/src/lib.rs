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
    Channel, Customer, EngagementEvent, EngagementKind, MessageKind, Money, OffsetSpan, Region,
    TimestampMs,
};

/// A plugin's description of one setting it reads, for the merchant's
/// form: key (or pattern), kind and bounds, default, descriptions in
/// English and Chinese, an example.
pub use generated::host::cove::policy::types::{IntegerBounds, NumberBounds, Setting, SettingKind};

/// One day in milliseconds, for time arithmetic on [`TimestampMs`].
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// One hour in milliseconds.
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
/// One minute in milliseconds.
pub const MINUTE_MS: i64 = 60_000;

/// Calendar dates as day counts since 1970-01-01 (proleptic Gregorian,
/// Howard Hinnant's algorithms), for policies that count calendar days,
/// weeks and months.
pub mod civil {
    /// Year, month (1..=12) and day of the month of day `z`.
    pub fn from_days(z: i64) -> (i64, i64, i64) {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        (yoe + era * 400 + i64::from(m <= 2), m, d)
    }

    /// The day count of a date (`m` in 1..=12; `d` is not checked).
    pub fn to_days(y: i64, m: i64, d: i64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn dates_round_trip() {
            for day in [-800_000, -1, 0, 59, 10_957, 20_000, 2_932_896] {
                let (y, m, d) = super::from_days(day);
                assert_eq!(super::to_days(y, m, d), day);
            }
            assert_eq!(super::from_days(0), (1970, 1, 1));
            assert_eq!(super::from_days(20_513), (2026, 3, 1));
            assert_eq!(super::to_days(2000, 2, 29), 11_016);
        }
    }
}

impl Setting {
    /// A setting's description: its key (or a pattern with `*`), what it
    /// takes, its default as the merchant would write it (`None` when off
    /// by default), what it does in English and in Chinese, and an example
    /// line (`key = value`).
    pub fn new(
        key: &str,
        kind: SettingKind,
        default: Option<&str>,
        en: &str,
        zh: &str,
        example: &str,
    ) -> Setting {
        Setting {
            key: key.into(),
            part: String::new(),
            kind,
            default_value: default.map(Into::into),
            description_en: en.into(),
            description_zh: zh.into(),
            example: example.into(),
        }
    }

    /// What the `*` of a pattern key stands for, in words (`a country
    /// code`).
    pub fn part(mut self, part: &str) -> Setting {
        self.part = part.into();
        self
    }
}

impl SettingKind {
    /// A whole number from `min` to `max`.
    pub fn integer(min: i64, max: i64) -> SettingKind {
        SettingKind::Integer(IntegerBounds { min, max })
    }

    /// A decimal number from `min` to `max`.
    pub fn number(min: f64, max: f64) -> SettingKind {
        SettingKind::Number(NumberBounds { min, max })
    }

    /// One of `values`.
    pub fn choice(values: &[&str]) -> SettingKind {
        SettingKind::Choice(values.iter().map(|v| v.to_string()).collect())
    }

    /// Text matching `pattern` (a regular expression for the whole value;
    /// empty for any text).
    pub fn text(pattern: &str) -> SettingKind {
        SettingKind::Text(pattern.into())
    }
}

#[doc(hidden)]
pub mod generated;

#[cfg(not(target_arch = "wasm32"))]
#[doc(hidden)]
pub mod replay;

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
