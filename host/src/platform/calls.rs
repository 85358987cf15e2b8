//! The sample of plugin calls a decision log keeps: every failure and
//! every fallback, and a share of the rest (per merchant, 1% unless set),
//! each with what it takes to replay it bit for bit — the input as the
//! plugin saw it, the call's time and seed, the plugin version, contract
//! and config — and the answer, what the call used and what it logged.
//!
//! Calls only push records onto a bounded queue (the request never waits
//! for a write); whoever keeps the log drains it. When the queue is full a
//! record is dropped and counted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use serde_json::Value;

use crate::platform::runtime::{LogLine, Usage};
use crate::platform::slots::{Contract, Slot};

/// One logged call.
#[derive(Clone, Debug)]
pub struct CallRecord {
    /// The merchant.
    pub merchant: String,
    /// The slot.
    pub slot: Slot,
    /// The call's time (what the plugin's `now` returned), ms.
    pub at: i64,
    /// The seed of its randomness.
    pub seed: u64,
    /// `name@version`.
    pub plugin: String,
    /// Its contract.
    pub contract: Contract,
    /// The binding's config (JSON object).
    pub config: Value,
    /// The input, as JSON text; `None` when larger than [`INPUT_BYTES`].
    pub input: Option<String>,
    /// The input's size in bytes.
    pub input_bytes: usize,
    /// The answer given (the fallback's, when it answered).
    pub result: Value,
    /// `ok`, `plugin_error`, or the failure kind the fallback answered for.
    pub outcome: String,
    /// What the call used.
    pub usage: Usage,
    /// How long it took, in microseconds.
    pub micros: u64,
    /// What the plugin logged.
    pub logs: Vec<LogLine>,
    /// The customer (or unit) the decision was about, if known: what
    /// erasure finds it by.
    pub customer: Option<String>,
}

/// Records waiting for the writer at most; more are dropped.
pub const QUEUE: usize = 10_000;
/// Inputs (and answers) larger than this are not kept, only their size.
pub const INPUT_BYTES: usize = 64 * 1024;
/// The share of successful calls sampled unless a merchant sets one.
pub const DEFAULT_RATE: f64 = 0.01;

/// The queue and each merchant's sample rate.
#[derive(Default)]
pub struct CallLog {
    queue: Mutex<Vec<CallRecord>>,
    rates: RwLock<HashMap<String, f64>>,
    dropped: AtomicU64,
}

impl CallLog {
    /// Whether to keep a call of `merchant`: always when `always` (a
    /// failure, a fallback, a plugin's refusal), else with its rate.
    pub fn wants(&self, merchant: &str, always: bool) -> bool {
        if always {
            return true;
        }
        let rate = self
            .rates
            .read()
            .expect("rates lock")
            .get(merchant)
            .copied()
            .unwrap_or(DEFAULT_RATE);
        rate > 0.0 && rand::random::<f64>() < rate
    }

    /// Queue a record (dropped, and counted, when the queue is full).
    pub fn push(&self, record: CallRecord) {
        let mut q = self.queue.lock().expect("queue lock");
        if q.len() >= QUEUE {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            q.push(record);
        }
    }

    /// Take every queued record.
    pub fn drain(&self) -> Vec<CallRecord> {
        std::mem::take(&mut *self.queue.lock().expect("queue lock"))
    }

    /// Records dropped because the queue was full, since the start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Set every merchant's sample rate (those not listed: the default).
    pub fn set_rates(&self, rates: HashMap<String, f64>) {
        *self.rates.write().expect("rates lock") = rates;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> CallRecord {
        CallRecord {
            merchant: "shop".into(),
            slot: Slot::Fatigue,
            at: 0,
            seed: 0,
            plugin: "p@1.0.0".into(),
            contract: Contract::NEWEST,
            config: Value::Null,
            input: None,
            input_bytes: 0,
            result: Value::Null,
            outcome: "ok".into(),
            usage: Usage::default(),
            micros: 0,
            logs: Vec::new(),
            customer: None,
        }
    }

    #[test]
    fn a_flood_of_records_is_bounded_and_counted() {
        let log = CallLog::default();
        for _ in 0..QUEUE + 5 {
            log.push(record());
        }
        assert_eq!(log.dropped(), 5);
        assert_eq!(log.drain().len(), QUEUE);
        assert!(log.drain().is_empty());
    }

    #[test]
    fn failures_are_always_kept_and_a_zero_rate_keeps_no_success() {
        let log = CallLog::default();
        log.set_rates(HashMap::from([("shop".to_string(), 0.0)]));
        assert!((0..1000).all(|_| log.wants("shop", true)));
        assert!((0..1000).all(|_| !log.wants("shop", false)));
        log.set_rates(HashMap::from([("shop".to_string(), 1.0)]));
        assert!((0..1000).all(|_| log.wants("shop", false)));
    }
}
