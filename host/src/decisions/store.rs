//! Storage of the decision log and each merchant's choices for it.

use std::collections::HashMap;

use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::platform::calls::CallRecord;
use crate::platform::store::StoreError;

crate::feature_store! {
    /// The decision log's tables.
    DecisionsDb
}

/// A merchant's choices for its decision log.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct LogSettings {
    /// Share of successful calls kept, 0 to 1 (failures, fallbacks and
    /// refusals are always kept). Default 0.01.
    pub sample_rate: f64,
    /// Days a decision is kept, 1 to 90. Default 14.
    pub retention_days: i64,
    /// Decisions kept at most (the oldest go first), 100 to 100,000.
    /// Default 10,000.
    pub max_rows: i64,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            sample_rate: crate::platform::calls::DEFAULT_RATE,
            retention_days: 14,
            max_rows: 10_000,
        }
    }
}

/// What a list of decisions is filtered by.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Filter {
    /// Only this slot.
    pub slot: Option<String>,
    /// Only this outcome (`ok`, `plugin_error`, `fuel`, `trap`, …), or
    /// `failed` for every outcome but `ok` and `plugin_error`.
    pub outcome: Option<String>,
    /// Only this plugin version (`name@version`).
    pub plugin: Option<String>,
    /// Only decisions about this customer.
    pub customer: Option<String>,
    /// Only decisions at or after this time (ms).
    pub since: Option<i64>,
    /// Only these ids (comma-separated).
    pub ids: Option<String>,
    /// At most this many, newest first (default 100, at most 1,000).
    pub limit: Option<i64>,
    /// Include each decision's input, config and logs (for replay).
    pub full: Option<bool>,
}

const COLUMNS: &str = "id, slot, at, seed, plugin, contract, outcome, fuel, memory_bytes, micros, customer, input_bytes, result, config, input, logs";

fn decision(r: &AnyRow, full: bool) -> Result<Value, StoreError> {
    let text = |i: usize| -> Result<Value, StoreError> {
        let s: String = r.try_get(i)?;
        Ok(serde_json::from_str(&s).unwrap_or(Value::Null))
    };
    let mut d = json!({
        "id": r.try_get::<String, _>(0)?,
        "slot": r.try_get::<String, _>(1)?,
        "at": r.try_get::<i64, _>(2)?,
        "seed": r.try_get::<String, _>(3)?,
        "plugin": r.try_get::<String, _>(4)?,
        "contract": r.try_get::<String, _>(5)?,
        "outcome": r.try_get::<String, _>(6)?,
        "usage": {"fuel": r.try_get::<i64, _>(7)?, "memory_bytes": r.try_get::<i64, _>(8)?},
        "micros": r.try_get::<i64, _>(9)?,
        "customer": r.try_get::<Option<String>, _>(10)?,
        "input_bytes": r.try_get::<i64, _>(11)?,
        "result": text(12)?,
    });
    if full {
        d["config"] = text(13)?;
        d["input"] = match r.try_get::<Option<String>, _>(14)? {
            Some(s) => serde_json::from_str(&s).unwrap_or(Value::Null),
            None => Value::Null,
        };
        d["logs"] = text(15)?;
    }
    Ok(d)
}

impl DecisionsDb<'_> {
    /// Write queued records in one transaction.
    pub async fn insert(self, records: &[CallRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for r in records {
            let id = format!("{:013}-{:016x}", r.at, rand::random::<u64>());
            sqlx::query(
                "INSERT INTO decision_log (merchant_id, id, slot, at, seed, plugin, contract, config, input, input_bytes, \
                 result, outcome, fuel, memory_bytes, micros, logs, customer) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            )
            .bind(&r.merchant)
            .bind(id)
            .bind(r.slot.world())
            .bind(r.at)
            .bind(r.seed.to_string())
            .bind(&r.plugin)
            .bind(r.contract.version())
            .bind(r.config.to_string())
            .bind(r.input.as_deref())
            .bind(r.input_bytes as i64)
            .bind(r.result.to_string())
            .bind(&r.outcome)
            .bind(r.usage.fuel.min(i64::MAX as u64) as i64)
            .bind(r.usage.memory_bytes as i64)
            .bind(r.micros.min(i64::MAX as u64) as i64)
            .bind(serde_json::to_string(&r.logs).unwrap_or_else(|_| "[]".into()))
            .bind(r.customer.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// `merchant`'s decisions matching `f`, newest first.
    pub async fn list(self, merchant: &str, f: &Filter) -> Result<Vec<Value>, StoreError> {
        let mut sql = format!("SELECT {COLUMNS} FROM decision_log WHERE merchant_id = $1");
        // (clause, value): each value bound in turn after the merchant.
        let mut conditions: Vec<(&str, String)> = Vec::new();
        if let Some(s) = &f.slot {
            conditions.push(("slot =", s.clone()));
        }
        match f.outcome.as_deref() {
            Some("failed") => sql.push_str(" AND outcome NOT IN ('ok', 'plugin_error')"),
            Some(o) => conditions.push(("outcome =", o.to_string())),
            None => {}
        }
        if let Some(p) = &f.plugin {
            conditions.push(("plugin =", p.clone()));
        }
        if let Some(c) = &f.customer {
            conditions.push(("customer =", c.clone()));
        }
        if let Some(since) = f.since {
            // Ids start with the time, zero-padded: text order is time order.
            conditions.push(("id >=", format!("{since:013}")));
        }
        let mut binds: Vec<String> = Vec::new();
        for (clause, value) in conditions {
            binds.push(value);
            sql.push_str(&format!(" AND {clause} ${}", binds.len() + 1));
        }
        let ids: Vec<String> = f
            .ids
            .as_deref()
            .map(|s| {
                s.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .take(1000)
                    .collect()
            })
            .unwrap_or_default();
        if !ids.is_empty() {
            let first = binds.len() + 2;
            let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", first + i)).collect();
            sql.push_str(&format!(" AND id IN ({})", marks.join(", ")));
            binds.extend(ids);
        }
        let limit = f.limit.unwrap_or(100).clamp(1, 1000);
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {limit}"));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(merchant);
        for b in &binds {
            q = q.bind(b);
        }
        let full = f.full.unwrap_or(false);
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| decision(r, full))
            .collect()
    }

    /// One decision, in full.
    pub async fn one(self, merchant: &str, id: &str) -> Result<Option<Value>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM decision_log WHERE merchant_id = $1 AND id = $2"
        )))
        .bind(merchant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| decision(&r, true)).transpose()
    }

    /// `merchant`'s choices (the defaults without a row).
    pub async fn settings(self, merchant: &str) -> Result<LogSettings, StoreError> {
        let row = sqlx::query(
            "SELECT sample_rate, retention_days, max_rows FROM decision_settings WHERE merchant_id = $1",
        )
        .bind(merchant)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => LogSettings {
                sample_rate: r.try_get(0)?,
                retention_days: r.try_get(1)?,
                max_rows: r.try_get(2)?,
            },
            None => LogSettings::default(),
        })
    }

    /// Store `merchant`'s choices.
    pub async fn set_settings(self, merchant: &str, s: &LogSettings) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO decision_settings (merchant_id, sample_rate, retention_days, max_rows) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (merchant_id) DO UPDATE SET sample_rate = excluded.sample_rate, \
             retention_days = excluded.retention_days, max_rows = excluded.max_rows",
        )
        .bind(merchant)
        .bind(s.sample_rate)
        .bind(s.retention_days)
        .bind(s.max_rows)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every merchant's choices that differ from the defaults.
    pub async fn all_settings(self) -> Result<HashMap<String, LogSettings>, StoreError> {
        sqlx::query(
            "SELECT merchant_id, sample_rate, retention_days, max_rows FROM decision_settings",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get(0)?,
                LogSettings {
                    sample_rate: r.try_get(1)?,
                    retention_days: r.try_get(2)?,
                    max_rows: r.try_get(3)?,
                },
            ))
        })
        .collect()
    }

    /// Delete what is past each merchant's retention or beyond its most
    /// rows (the oldest first); rows deleted.
    pub async fn prune(self, now: i64) -> Result<u64, StoreError> {
        let settings = self.all_settings().await?;
        let merchants: Vec<String> = sqlx::query("SELECT DISTINCT merchant_id FROM decision_log")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        let mut gone = 0;
        for m in merchants {
            let s = settings.get(&m).copied().unwrap_or_default();
            let before = format!("{:013}", now - s.retention_days * crate::DAY_MS);
            gone += sqlx::query("DELETE FROM decision_log WHERE merchant_id = $1 AND id < $2")
                .bind(&m)
                .bind(before)
                .execute(&self.pool)
                .await?
                .rows_affected();
            let cut: Option<String> = sqlx::query(
                "SELECT id FROM decision_log WHERE merchant_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2",
            )
            .bind(&m)
            .bind(s.max_rows)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
            if let Some(cut) = cut {
                gone += sqlx::query("DELETE FROM decision_log WHERE merchant_id = $1 AND id <= $2")
                    .bind(&m)
                    .bind(cut)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
            }
        }
        Ok(gone)
    }
}
