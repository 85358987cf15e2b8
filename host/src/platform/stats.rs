//! Decisions per merchant, slot, hour and outcome, for the console's
//! charts. A call only bumps a counter in memory; [`CallStats::flush`]
//! (run by the host's sync task) adds the counts to `call_stats`, so the
//! series survive restarts and sum over replicas.

use std::collections::HashMap;
use std::sync::Mutex;

use sqlx::Row;

use super::slots::Slot;
use super::store::{Store, StoreError};

const HOUR_MS: i64 = 3_600_000;

type Counts = HashMap<String, HashMap<(Slot, &'static str, i64), i64>>;

/// Counts not yet written to the store.
#[derive(Default)]
pub struct CallStats {
    pending: Mutex<Counts>,
}

/// One bucket of a series.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Bucket {
    /// The slot's world name.
    pub slot: String,
    /// Start of the hour, ms since epoch.
    pub hour: i64,
    /// `ok`, `plugin_error`, or the failure kind the fallback answered for.
    pub outcome: String,
    /// Decisions.
    pub calls: i64,
}

impl CallStats {
    /// Count one decision of `merchant`'s `slot` at `now` (ms).
    pub fn record(&self, merchant: &str, slot: Slot, outcome: &'static str, now: i64) {
        let key = (slot, outcome, now - now.rem_euclid(HOUR_MS));
        let mut pending = self.pending.lock().expect("call stats");
        match pending.get_mut(merchant) {
            Some(m) => *m.entry(key).or_default() += 1,
            None => {
                pending.insert(merchant.to_string(), HashMap::from([(key, 1)]));
            }
        }
    }

    /// Add the pending counts to the store; on failure they stay pending.
    pub async fn flush(&self, store: &Store) -> Result<(), StoreError> {
        let taken = std::mem::take(&mut *self.pending.lock().expect("call stats"));
        if taken.is_empty() {
            return Ok(());
        }
        let write = async {
            let mut tx = store.write_tx().await?;
            for (merchant, counts) in &taken {
                for ((slot, outcome, hour), calls) in counts {
                    sqlx::query(
                        "INSERT INTO call_stats (merchant_id, slot, hour, outcome, calls) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (merchant_id, slot, hour, outcome) DO UPDATE SET calls = call_stats.calls + excluded.calls",
                    )
                    .bind(merchant)
                    .bind(slot.world())
                    .bind(hour)
                    .bind(*outcome)
                    .bind(calls)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        };
        let result = write.await;
        if result.is_err() {
            let mut pending = self.pending.lock().expect("call stats");
            for (merchant, counts) in taken {
                let m = pending.entry(merchant).or_default();
                for (key, calls) in counts {
                    *m.entry(key).or_default() += calls;
                }
            }
        }
        result
    }
}

impl Store {
    /// `merchant`'s decisions per slot, hour and outcome since `from` (ms).
    pub async fn call_stats(&self, merchant: &str, from: i64) -> Result<Vec<Bucket>, StoreError> {
        let rows = sqlx::query(
            "SELECT slot, hour, outcome, calls FROM call_stats WHERE merchant_id = $1 AND hour >= $2 ORDER BY hour, slot, outcome",
        )
        .bind(merchant)
        .bind(from - from.rem_euclid(HOUR_MS))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Bucket {
                    slot: r.try_get(0)?,
                    hour: r.try_get(1)?,
                    outcome: r.try_get(2)?,
                    calls: r.try_get(3)?,
                })
            })
            .collect()
    }
}
