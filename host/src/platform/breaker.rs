//! Circuit breaker per binding: after `THRESHOLD` failures in a row the
//! plugin is skipped (its slot answers with the safe fallback) for
//! `COOLDOWN_MS`; then one trial call decides whether it stays open.

use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

/// Consecutive failures that trip the breaker.
pub const THRESHOLD: u32 = 5;
/// How long a tripped breaker stays open.
pub const COOLDOWN_MS: i64 = 30_000;

/// One binding's breaker. Rebinding makes a fresh one.
#[derive(Debug, Default)]
pub struct Breaker {
    failures: AtomicU32,
    open_until: AtomicI64,
}

impl Breaker {
    /// Whether a call may go to the plugin at `now`.
    pub fn allows(&self, now: i64) -> bool {
        now >= self.open_until.load(Ordering::Relaxed)
    }

    /// Whether the breaker is open at `now`.
    pub fn is_open(&self, now: i64) -> bool {
        !self.allows(now)
    }

    /// A call succeeded.
    pub fn success(&self) {
        if self.failures.load(Ordering::Relaxed) != 0 {
            self.failures.store(0, Ordering::Relaxed);
        }
    }

    /// A call failed; returns true when this failure tripped the breaker.
    pub fn failure(&self, now: i64) -> bool {
        let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if n >= THRESHOLD {
            self.open_until.store(now + COOLDOWN_MS, Ordering::Relaxed);
            // Half-open after the cooldown: one more failure re-trips.
            self.failures.store(THRESHOLD - 1, Ordering::Relaxed);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trips_after_threshold_and_half_opens_after_cooldown() {
        let b = Breaker::default();
        for _ in 0..THRESHOLD - 1 {
            assert!(!b.failure(0));
        }
        assert!(b.allows(0));
        assert!(b.failure(0));
        assert!(b.is_open(1));
        assert!(b.allows(COOLDOWN_MS));
        assert!(
            b.failure(COOLDOWN_MS),
            "one failure when half-open re-trips"
        );
        b.success();
        assert!(!b.failure(3 * COOLDOWN_MS), "success resets the count");
    }
}
