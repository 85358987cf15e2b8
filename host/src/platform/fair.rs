//! Fair sharing between merchants: each merchant has a request rate (a
//! token bucket: `burst` at once, then `requests_per_sec`) and a ceiling
//! on plugin calls running at once, so one merchant's flood or slow plugin
//! cannot take every core from the others.
//!
//! The ceiling applies to merchants whose calls are slow (a moving
//! average above [`SLOW_CALL`]): a call of a few microseconds cannot hold
//! a core long enough to starve anyone, and queueing it would only cost
//! throughput, while a plugin that spends its whole budget on every call
//! gets at most its slots and the other cores stay free. Defaults come from `cove
//! serve`; the operator overrides them per merchant
//! (`PUT /v1/merchants/{m}/limits`), and every replica picks the change up.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::guard::RateLimiter;

/// One merchant's limits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MerchantLimits {
    /// API requests per second after the burst; 0 means no limit.
    pub requests_per_sec: f64,
    /// API requests at once above the rate.
    pub burst: f64,
    /// Plugin calls running at once.
    pub plugin_calls: u32,
    /// MiB that files the merchant's visitors upload (photos) may take in
    /// all; default 1,024.
    #[serde(default = "default_upload_mb")]
    pub upload_mb: u32,
}

fn default_upload_mb() -> u32 {
    1024
}

impl Default for MerchantLimits {
    /// 2,000 requests/s with bursts of 4,000, plugin calls on at most
    /// half the cores (at least one), so a neighbour always has the rest,
    /// and 1 GiB of uploads.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        MerchantLimits {
            requests_per_sec: 2_000.0,
            burst: 4_000.0,
            plugin_calls: (cores / 2).max(1) as u32,
            upload_mb: default_upload_mb(),
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
    running: Mutex<HashMap<String, Arc<Running>>>,
    jobs: Arc<Mutex<std::collections::HashSet<(String, &'static str)>>>,
    background: Arc<Semaphore>,
}

/// A merchant's background work of one kind (an RFM run, a send batch,
/// an import) on this host: while it lives, the merchant cannot start
/// another of that kind here.
pub struct Job {
    jobs: Arc<Mutex<std::collections::HashSet<(String, &'static str)>>>,
    key: (String, &'static str),
    background: Arc<Semaphore>,
    share: Option<OwnedSemaphorePermit>,
}

impl Job {
    /// Wait for this job's turn among the host's background work: at
    /// most half the cores' worth (at least one) runs at once, so
    /// requests always have the rest. Held until the job ends.
    pub async fn turn(&mut self) {
        if self.share.is_none() {
            self.share = self.background.clone().acquire_owned().await.ok();
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        self.jobs.lock().expect("jobs").remove(&self.key);
    }
}

/// One merchant's plugin calls: the slots, and how long calls take.
struct Running {
    slots: u32,
    semaphore: Arc<Semaphore>,
    /// Moving average of the CPU time a call uses, in nanoseconds (the
    /// call's thread's clock: a call the machine's other work preempts
    /// does not look slow, and a merchant's fast calls are never queued
    /// because the machine is busy).
    average_ns: AtomicU64,
}

/// Calls using more CPU time than this on average take one of the
/// merchant's slots.
pub const SLOW_CALL: Duration = Duration::from_micros(250);

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
            jobs: Arc::default(),
            background: Arc::new(Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
            )),
        }
    }

    /// Start `merchant`'s background work of `kind` on this host, or
    /// `None` if it has one running here already.
    pub fn job(&self, merchant: &str, kind: &'static str) -> Option<Job> {
        let key = (merchant.to_string(), kind);
        self.jobs
            .lock()
            .expect("jobs")
            .insert(key.clone())
            .then(|| Job {
                jobs: self.jobs.clone(),
                key,
                background: self.background.clone(),
                share: None,
            })
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
        self.rate.take(merchant, l.burst, l.requests_per_sec)
    }

    fn running(&self, merchant: &str) -> Arc<Running> {
        let want = self.limits(merchant).plugin_calls;
        let mut running = self.running.lock().expect("running");
        if let Some(r) = running.get(merchant)
            && r.slots == want
        {
            return r.clone();
        }
        let entry = running
            .entry(merchant.to_string())
            .or_insert_with(|| Arc::new(Running::new(want, 0)));
        if entry.slots != want {
            // New limit: calls in flight finish on the old semaphore.
            let average = entry.average_ns.load(Ordering::Relaxed);
            *entry = Arc::new(Running::new(want, average));
        }
        entry.clone()
    }

    /// Admission for one of `merchant`'s plugin calls: at once for a
    /// merchant whose calls are fast, once one of its slots is free for one
    /// whose calls are slow; `None` if none freed up in time.
    pub async fn plugin_slot(&self, merchant: &str) -> Option<Ticket> {
        let running = self.running(merchant);
        let permit = if running.average_ns.load(Ordering::Relaxed) < SLOW_CALL.as_nanos() as u64 {
            None
        } else if let Ok(permit) = running.semaphore.clone().try_acquire_owned() {
            Some(permit)
        } else {
            let wait = running.semaphore.clone().acquire_owned();
            Some(tokio::time::timeout(QUEUE_WAIT, wait).await.ok()?.ok()?)
        };
        Some(Ticket {
            running,
            _permit: permit,
        })
    }
}

/// A plugin call admitted by [`Fair::plugin_slot`]; holds its slot, if it
/// needed one, until dropped.
pub struct Ticket {
    running: Arc<Running>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Ticket {
    /// Whether the call had to take one of the merchant's slots.
    pub fn slotted(&self) -> bool {
        self._permit.is_some()
    }

    /// Remember that the call took `took` of a core.
    pub fn done(&self, took: Duration) {
        let took = took.as_nanos().min(u128::from(u64::MAX)) as u64;
        // Average over about the last eight calls.
        let _ = self
            .running
            .average_ns
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |avg| {
                Some(avg - avg / 8 + took / 8)
            });
    }
}

impl Running {
    fn new(slots: u32, average_ns: u64) -> Running {
        Running {
            slots,
            semaphore: Arc::new(Semaphore::new(slots as usize)),
            average_ns: AtomicU64::new(average_ns),
        }
    }
}

/// The CPU time the calling thread has used (zero where the clock is
/// missing).
pub fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        t.tv_sec.max(0) as u64,
        t.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// Run the rest of this thread's work at a lower scheduling priority
/// (nice 10), once per thread: slow plugin calls run on the blocking pool,
/// and when the cores are busy the request threads, which serve every
/// merchant, should win them. Best effort: a host that may not lower
/// priorities runs as before.
pub fn background_priority() {
    thread_local! {
        static LOWERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    LOWERED.with(|done| {
        if !done.replace(true) {
            let me = rustix::thread::gettid();
            if let Err(e) = rustix::process::setpriority_process(Some(me), 10) {
                tracing::debug!(error = %e, "could not lower a pool thread's priority");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_that_waits_uses_no_cpu_time_and_one_that_works_does() {
        // A call preempted by the machine's other work waits as this
        // thread sleeps: its clock does not count the wait.
        let start = thread_cpu();
        std::thread::sleep(Duration::from_millis(200));
        let waited = thread_cpu() - start;
        assert!(waited < Duration::from_millis(100), "{waited:?}");
        // A thread that works for 50 ms of wall time has used some.
        let (start, wall) = (thread_cpu(), std::time::Instant::now());
        let mut x = 0u64;
        while wall.elapsed() < Duration::from_millis(50) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(thread_cpu() > start, "{x}");
    }

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
    async fn a_merchant_with_slow_calls_gets_at_most_its_plugin_slots() {
        let fair = Fair::new(MerchantLimits {
            plugin_calls: 2,
            ..MerchantLimits::default()
        });
        // Fast calls are not queued.
        let first = fair.plugin_slot("a").await.unwrap();
        assert!(!first.slotted());
        for _ in 0..4 {
            first.done(Duration::from_millis(5));
        }
        let a = fair.plugin_slot("a").await.unwrap();
        let _b = fair.plugin_slot("a").await.unwrap();
        assert!(a.slotted());
        // Another merchant is not held up by the first one's calls.
        assert!(!fair.plugin_slot("other").await.unwrap().slotted());
        assert!(fair.plugin_slot("a").await.is_none());
        drop(a);
        let again = fair.plugin_slot("a").await.unwrap();
        assert!(again.slotted());
        // Once its calls are fast again, it runs unqueued.
        for _ in 0..64 {
            again.done(Duration::from_micros(10));
        }
        drop(again);
        assert!(!fair.plugin_slot("a").await.unwrap().slotted());
    }

    #[test]
    fn overrides_replace_the_defaults_and_zero_rate_is_unlimited() {
        let fair = Fair::new(MerchantLimits {
            requests_per_sec: 1.0,
            burst: 2.0,
            plugin_calls: 1,
            upload_mb: 1,
        });
        assert!(fair.admit("m").is_ok() && fair.admit("m").is_ok());
        assert!(fair.admit("m").is_err());
        fair.set_overrides(HashMap::from([(
            "m".to_string(),
            MerchantLimits {
                requests_per_sec: 0.0,
                burst: 0.0,
                plugin_calls: 3,
                upload_mb: 0,
            },
        )]));
        assert!((0..100).all(|_| fair.admit("m").is_ok()));
        assert_eq!(fair.limits("m").plugin_calls, 3);
        assert!(!fair.is_default("m") && fair.is_default("n"));
    }
}
