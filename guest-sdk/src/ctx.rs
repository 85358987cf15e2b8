//! The per-call context a policy sees: the merchant's configuration, the
//! call's fixed time, deterministic randomness and the host log.

use std::cell::Cell;
use std::str::FromStr;

use crate::TimestampMs;

/// Severity of a log line.
pub use crate::generated::host::cove::policy::host::LogLevel;

/// The merchant's configuration for a plugin: text key/value pairs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pairs: Vec<(String, String)>,
}

impl Config {
    /// Build a configuration from key/value pairs.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Config {
            pairs: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The raw text of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Parse `key` as `T`, or `default` when it is not set. The error names
    /// the key and the bad value, ready to return as `invalid-config`.
    pub fn parse_or<T: FromStr>(&self, key: &str, default: T) -> Result<T, String> {
        match self.get(key) {
            None => Ok(default),
            Some(raw) => raw.trim().parse().map_err(|_| {
                format!(
                    "config `{key}`: cannot read `{raw}` as {}",
                    std::any::type_name::<T>()
                )
            }),
        }
    }

    /// All pairs, in the order given.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// What one call can see besides its input.
///
/// Inside the sandbox it reads the host; in native unit tests build one with
/// [`Ctx::for_test`] and the builder methods.
#[derive(Debug)]
pub struct Ctx {
    config: Config,
    now: TimestampMs,
    source: Source,
}

#[derive(Debug)]
enum Source {
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    Host,
    Local(Cell<u64>),
}

impl Ctx {
    /// The context of the current sandboxed call.
    #[doc(hidden)]
    #[cfg(target_arch = "wasm32")]
    pub fn from_host() -> Self {
        use crate::generated::host::cove::policy::host;
        Ctx {
            config: Config {
                pairs: host::config(),
            },
            now: host::now(),
            source: Source::Host,
        }
    }

    /// Native stand-in, so the export macros compile for native tests.
    #[doc(hidden)]
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_host() -> Self {
        Ctx::for_test(0)
    }

    /// A context for native tests: the given time, empty configuration,
    /// random numbers from a fixed seed.
    pub fn for_test(now: TimestampMs) -> Self {
        Ctx {
            config: Config::default(),
            now,
            source: Source::Local(Cell::new(0x5EED)),
        }
    }

    /// The context of a logged call replayed natively: its time, seed
    /// (the same random numbers as in the sandbox) and settings.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn replaying(now: TimestampMs, seed: u64, config: Config) -> Self {
        Ctx {
            config,
            now,
            source: Source::Local(Cell::new(seed)),
        }
    }

    /// Replace the configuration (tests).
    pub fn with_config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The merchant's configuration for this plugin.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The time of this call, fixed for its duration.
    pub fn now(&self) -> TimestampMs {
        self.now
    }

    /// The next deterministic pseudo-random number of this call.
    pub fn random_u64(&self) -> u64 {
        match &self.source {
            #[cfg(target_arch = "wasm32")]
            Source::Host => crate::generated::host::cove::policy::host::random_u64(),
            #[cfg(not(target_arch = "wasm32"))]
            Source::Host => unreachable!("host context outside the sandbox"),
            Source::Local(state) => {
                // splitmix64: tiny, and good enough for tests.
                let next = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
                state.set(next);
                let mut z = next;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^ (z >> 31)
            }
        }
    }

    /// Write a line to the host log (stderr in native tests).
    pub fn log(&self, level: LogLevel, message: &str) {
        host_log(level, message);
    }
}

pub(crate) fn host_log(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::generated::host::cove::policy::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {message}");
}
