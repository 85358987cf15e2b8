//! Canaries and their counts in the database.

use sqlx::Row;

use super::Bounds;
use crate::platform::store::{Store, StoreError};

/// Counts and steps as stored (plain data: it always serialises).
pub(super) fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

/// A canary as stored.
#[derive(Clone, Debug)]
pub struct CanaryRow {
    /// Its id.
    pub id: i64,
    /// The merchant.
    pub merchant: String,
    /// The slot's world name.
    pub slot: String,
    /// The candidate's row id.
    pub plugin_id: i64,
    /// The shares of the steps, in percent.
    pub steps: Vec<f64>,
    /// The step in force (0-based).
    pub step: usize,
    /// Minutes between automatic steps.
    pub every_minutes: Option<i64>,
    /// Its bounds.
    pub bounds: Bounds,
    /// running, rolled_back, promoted or stopped.
    pub state: String,
    /// Why it ended.
    pub reason: Option<String>,
    /// When it started, ms since the epoch.
    pub started_at: i64,
    /// When its share last rose.
    pub stepped_at: i64,
    /// When it ended.
    pub ended_at: Option<i64>,
}

macro_rules! cols {
    () => {
        "id, merchant_id, slot, plugin_id, steps, step, every_minutes, max_failure_rise, max_answer_shift, state, reason, started_at, stepped_at, ended_at"
    };
}

fn row(r: &sqlx::any::AnyRow) -> Result<CanaryRow, StoreError> {
    let steps: String = r.try_get(4)?;
    let step: i32 = r.try_get(5)?;
    Ok(CanaryRow {
        id: r.try_get(0)?,
        merchant: r.try_get(1)?,
        slot: r.try_get(2)?,
        plugin_id: r.try_get(3)?,
        steps: serde_json::from_str(&steps).unwrap_or_default(),
        step: step.max(0) as usize,
        every_minutes: r.try_get::<Option<i32>, _>(6)?.map(i64::from),
        bounds: Bounds {
            max_failure_rise: r.try_get(7)?,
            max_answer_shift: r.try_get(8)?,
        },
        state: r.try_get(9)?,
        reason: r.try_get(10)?,
        started_at: r.try_get(11)?,
        stepped_at: r.try_get(12)?,
        ended_at: r.try_get(13)?,
    })
}

impl Store {
    /// Start a canary (the caller checked none runs for the slot).
    pub async fn insert_canary(&self, c: &CanaryRow) -> Result<(), StoreError> {
        sqlx::query(concat!(
            "INSERT INTO canaries (",
            cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(c.id)
        .bind(&c.merchant)
        .bind(&c.slot)
        .bind(c.plugin_id)
        .bind(json(&c.steps))
        .bind(c.step as i32)
        .bind(c.every_minutes.map(|m| m as i32))
        .bind(c.bounds.max_failure_rise)
        .bind(c.bounds.max_answer_shift)
        .bind(&c.state)
        .bind(&c.reason)
        .bind(c.started_at)
        .bind(c.stepped_at)
        .bind(c.ended_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The canaries running.
    pub async fn running_canaries(&self) -> Result<Vec<CanaryRow>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            cols!(),
            " FROM canaries WHERE state = 'running'"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(row)
        .collect()
    }

    /// The newest canary of `merchant`'s `slot`, running or ended.
    pub async fn latest_canary(
        &self,
        merchant: &str,
        slot: &str,
    ) -> Result<Option<CanaryRow>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            cols!(),
            " FROM canaries WHERE merchant_id = $1 AND slot = $2 ORDER BY started_at DESC, id DESC LIMIT 1"
        ))
        .bind(merchant)
        .bind(slot)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(row)
        .transpose()
    }

    /// End a running canary; false if it had already ended (another
    /// replica, or a person, was first). With `rolled_back_by` (the actor),
    /// the rollback goes in the audit log in the same transaction, so no
    /// reader sees the state without its event.
    pub async fn end_canary(
        &self,
        id: i64,
        state: &str,
        reason: &str,
        at: i64,
        rolled_back_by: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE canaries SET state = $1, reason = $2, ended_at = $3 WHERE id = $4 AND state = 'running'",
        )
        .bind(state)
        .bind(reason)
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(actor) = rolled_back_by {
            sqlx::query(
                "INSERT INTO binding_events (merchant_id, slot, action, actor, to_config, at) \
                 SELECT merchant_id, slot, 'canary rollback', $1, $2, $3 FROM canaries WHERE id = $4",
            )
            .bind(actor)
            .bind(serde_json::json!({"canary": id, "reason": reason}).to_string())
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Move a running canary from step `from` to the next; false if it was
    /// not there any more.
    pub async fn step_canary(&self, id: i64, from: usize, at: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE canaries SET step = $1, stepped_at = $2 WHERE id = $3 AND step = $4 AND state = 'running'",
        )
        .bind((from + 1) as i32)
        .bind(at)
        .bind(id)
        .bind(from as i32)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Write `replica`'s counts of canary `id`.
    pub async fn put_canary_counts(
        &self,
        id: i64,
        replica: &str,
        counts: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO canary_counts (canary_id, replica, counts) VALUES ($1, $2, $3) ON CONFLICT (canary_id, replica) DO UPDATE SET counts = excluded.counts",
        )
        .bind(id)
        .bind(replica)
        .bind(counts)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every replica's counts of canary `id`.
    pub async fn canary_counts(&self, id: i64) -> Result<Vec<(String, String)>, StoreError> {
        sqlx::query("SELECT replica, counts FROM canary_counts WHERE canary_id = $1")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }
}

/// One step of a canary's history, from the audit log.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CanaryEvent {
    /// When, ms since the epoch.
    pub at: i64,
    /// `canary` (started), `canary step`, `canary rollback` or `canary
    /// promote`.
    pub action: String,
    /// Who: a member, a key, or `cove` (the analysis or the schedule).
    pub actor: String,
    /// What: the share reached, the rollback's reason…
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl Store {
    /// The audit log's canary events of `merchant`'s `slot` since `since`.
    pub async fn canary_events(
        &self,
        merchant: &str,
        slot: &str,
        since: i64,
    ) -> Result<Vec<CanaryEvent>, StoreError> {
        sqlx::query(
            "SELECT at, action, actor, to_config FROM binding_events WHERE merchant_id = $1 AND slot = $2 AND action LIKE 'canary%' AND at >= $3 ORDER BY id",
        )
        .bind(merchant)
        .bind(slot)
        .bind(since)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let detail: Option<String> = r.try_get(3)?;
            Ok(CanaryEvent {
                at: r.try_get(0)?,
                action: r.try_get(1)?,
                actor: r.try_get(2)?,
                detail: detail
                    .and_then(|d| serde_json::from_str(&d).ok())
                    .unwrap_or(serde_json::Value::Null),
            })
        })
        .collect()
    }
}
