//! Fair sharing between merchants: each merchant has a request rate (a
//! token bucket: `burst` at once, then `requests_per_sec`) and a ceiling
//! on plugin calls running at once, so one merchant's flood or slow plugin
//! cannot take every core from the others. Defaults come from `cove
//! serve`; the operator overrides them per merchant
//! (`PUT /v1/merchants/{m}/limits`), and every replica picks the change up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::guard::RateLimiter;

/// One merchant's limits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantLimits {
    /// API requests per second after the burst; 0 means no limit.
    pub requests_per_sec: f64,
    /// API requests at once above the rate.
    pub burst: f64,
    /// Plugin calls running at once.
    pub plugin_calls: u32,
}

impl Default for MerchantLimits {
    /// 2,000 requests/s with bursts of 4,000, and plugin calls on at most
    /// half the cores (at least one), so a neighbour always has the rest.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        MerchantLimits {
            requests_per_sec: 2_000.0,
            burst: 4_000.0,
            plugin_calls: (cores / 2).max(1) as u32,
        }
    }
}

impl MerchantLimits {
    /// Why these limits cannot be used, in plain words.
    pub fn problem(&self) -> Option<String> {
        let finite = |x: f64| x.is_finite() && x >= 0.0;
        if !finite(self.requests_per_sec) || !finite(self.burst) {
            return Some("requests_per_sec and burst must be numbers of at least 0".into());
        }
        if self.requests_per_sec > 0.0 && self.burst < 1.0 {
            return Some("burst must be at least 1 when requests_per_sec is set".into());
        }
        if !(1..=4096).contains(&self.plugin_calls) {
            return Some("plugin_calls must be between 1 and 4096".into());
        }
        None
    }
}

/// The limits in force and their state.
pub struct Fair {
    defaults: MerchantLimits,
    overrides: RwLock<HashMap<String, MerchantLimits>>,
    rate: RateLimiter<String>,
    running: Mutex<HashMap<String, (u32, Arc<Semaphore>)>>,
}

/// How long a plugin call waits for one of its merchant's slots before
/// the request is refused.
const QUEUE_WAIT: Duration = Duration::from_secs(2);

impl Fair {
    /// Limits with these defaults and no overrides yet.
    pub fn new(defaults: MerchantLimits) -> Fair {
        Fair {
            defaults,
            overrides: RwLock::default(),
            rate: RateLimiter::default(),
            running: Mutex::default(),
        }
    }

    /// The limits of `merchant`.
    pub fn limits(&self, merchant: &str) -> MerchantLimits {
        self.overrides
            .read()
            .expect("limits")
            .get(merchant)
            .copied()
            .unwrap_or(self.defaults)
    }

    /// Whether `merchant` is the default, or the operator set its limits.
    pub fn is_default(&self, merchant: &str) -> bool {
        !self
            .overrides
            .read()
            .expect("limits")
            .contains_key(merchant)
    }

    /// Replace every override (from the store).
    pub fn set_overrides(&self, overrides: HashMap<String, MerchantLimits>) {
        *self.overrides.write().expect("limits") = overrides;
    }

    /// Take one request token for `merchant`; the wait if there is none.
    pub fn admit(&self, merchant: &str) -> Result<(), Duration> {
        let l = self.limits(merchant);
        if l.requests_per_sec <= 0.0 {
            return Ok(());
        }
        self.rate
            .take(merchant.to_string(), l.burst, l.requests_per_sec)
    }

    /// A slot to run one of `merchant`'s plugin calls; `None` if none
    /// freed up in time.
    pub async fn plugin_slot(&self, merchant: &str) -> Option<OwnedSemaphorePermit> {
        let want = self.limits(merchant).plugin_calls;
        let semaphore = {
            let mut running = self.running.lock().expect("running");
            let entry = running
                .entry(merchant.to_string())
                .or_insert_with(|| (want, Arc::new(Semaphore::new(want as usize))));
            if entry.0 != want {
                // New limit: calls in flight finish on the old semaphore.
                *entry = (want, Arc::new(Semaphore::new(want as usize)));
            }
            entry.1.clone()
        };
        if let Ok(permit) = semaphore.clone().try_acquire_owned() {
            return Some(permit);
        }
        tokio::time::timeout(QUEUE_WAIT, semaphore.acquire_owned())
            .await
            .ok()?
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_limits_are_explained() {
        let ok = MerchantLimits::default();
        assert_eq!(ok.problem(), None);
        for bad in [
            MerchantLimits {
                requests_per_sec: f64::NAN,
                ..ok
            },
            MerchantLimits { burst: 0.5, ..ok },
            MerchantLimits {
                plugin_calls: 0,
                ..ok
            },
        ] {
            assert!(bad.problem().is_some(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_merchant_gets_at_most_its_plugin_slots() {
        let fair = Fair::new(MerchantLimits {
            plugin_calls: 2,
            ..MerchantLimits::default()
        });
        let a = fair.plugin_slot("a").await.unwrap();
        let _b = fair.plugin_slot("a").await.unwrap();
        // Another merchant is not held up by the first one's calls.
        assert!(fair.plugin_slot("other").await.is_some());
        assert!(fair.plugin_slot("a").await.is_none());
        drop(a);
        assert!(fair.plugin_slot("a").await.is_some());
    }

    #[test]
    fn overrides_replace_the_defaults_and_zero_rate_is_unlimited() {
        let fair = Fair::new(MerchantLimits {
            requests_per_sec: 1.0,
            burst: 2.0,
            plugin_calls: 1,
        });
        assert!(fair.admit("m").is_ok() && fair.admit("m").is_ok());
        assert!(fair.admit("m").is_err());
        fair.set_overrides(HashMap::from([(
            "m".to_string(),
            MerchantLimits {
                requests_per_sec: 0.0,
                burst: 0.0,
                plugin_calls: 3,
            },
        )]));
        assert!((0..100).all(|_| fair.admit("m").is_ok()));
        assert_eq!(fair.limits("m").plugin_calls, 3);
        assert!(!fair.is_default("m") && fair.is_default("n"));
    }
}
