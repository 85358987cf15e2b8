//! Storage of experiments, bandits' sticky units, exposures and
//! conversions, and the counts the results and the bandit read.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::model::Status;
use crate::platform::store::{StoreError, is_unique_violation};

crate::feature_store! {
    /// Experiments' tables: definitions, exposures and events.
    ExperimentsDb
}

/// An experiment as stored.
#[derive(Debug, Clone)]
pub struct ExperimentRow {
    /// Its key.
    pub key: String,
    /// The definition (JSON of [`super::model::Definition`]).
    pub definition: String,
    /// Where it is in its life.
    pub status: Status,
    /// A bandit's current weights (JSON list), if set.
    pub weights: Option<String>,
    /// When they were set.
    pub weights_at: Option<i64>,
    /// What a stopped experiment serves.
    pub served: Option<i64>,
    /// Created.
    pub created_at: i64,
    /// Last changed.
    pub updated_at: i64,
    /// First set running.
    pub started_at: Option<i64>,
    /// Stopped.
    pub stopped_at: Option<i64>,
}

const COLUMNS: &str = "key, definition, status, weights, weights_at, served, created_at, updated_at, started_at, stopped_at";

fn row(r: &AnyRow) -> Result<ExperimentRow, StoreError> {
    Ok(ExperimentRow {
        key: r.try_get("key")?,
        definition: r.try_get("definition")?,
        status: Status::try_from(r.try_get::<String, _>("status")?)
            .map_err(|e| StoreError::Db(sqlx::Error::Decode(e.into())))?,
        weights: r.try_get("weights")?,
        weights_at: r.try_get("weights_at")?,
        served: r.try_get("served")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        started_at: r.try_get("started_at")?,
        stopped_at: r.try_get("stopped_at")?,
    })
}

/// A running experiment: merchant, key, definition, when its weights were
/// last set.
pub type Running = (String, String, String, Option<i64>);

/// Exposures and conversions of one variation on one day (of exposure).
#[derive(Debug, Clone, Copy)]
pub struct DayCount {
    /// The variation.
    pub variation: usize,
    /// Days since the epoch (UTC) of the exposures.
    pub day: i64,
    /// Units exposed that day.
    pub exposures: u64,
    /// Of those, units that converted within the window.
    pub conversions: u64,
}

impl ExperimentsDb<'_> {
    /// All of a merchant's experiments, newest first.
    pub async fn experiments(self, merchant: &str) -> Result<Vec<ExperimentRow>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM experiments WHERE merchant_id = $1 ORDER BY created_at DESC, key"
        )))
        .bind(merchant)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(row)
        .collect()
    }

    /// One experiment.
    pub async fn experiment(
        self,
        merchant: &str,
        key: &str,
    ) -> Result<Option<ExperimentRow>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM experiments WHERE merchant_id = $1 AND key = $2"
        )))
        .bind(merchant)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(row)
        .transpose()
    }

    /// Create an experiment; false if the key is taken.
    pub async fn insert_experiment(
        self,
        merchant: &str,
        e: &ExperimentRow,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO experiments (merchant_id, key, definition, status, weights, weights_at, served, created_at, updated_at, started_at, stopped_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(merchant)
        .bind(&e.key)
        .bind(&e.definition)
        .bind(e.status.as_str())
        .bind(&e.weights)
        .bind(e.weights_at)
        .bind(e.served)
        .bind(e.created_at)
        .bind(e.updated_at)
        .bind(e.started_at)
        .bind(e.stopped_at)
        .execute(&self.pool)
        .await;
        match done {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Replace an experiment if it still has `was_updated_at` (so two
    /// concurrent edits cannot lose one silently); false otherwise.
    pub async fn update_experiment(
        self,
        merchant: &str,
        e: &ExperimentRow,
        was_updated_at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE experiments SET definition = $3, status = $4, weights = $5, weights_at = $6, served = $7, \
             updated_at = $8, started_at = $9, stopped_at = $10 \
             WHERE merchant_id = $1 AND key = $2 AND updated_at = $11",
        )
        .bind(merchant)
        .bind(&e.key)
        .bind(&e.definition)
        .bind(e.status.as_str())
        .bind(&e.weights)
        .bind(e.weights_at)
        .bind(e.served)
        .bind(e.updated_at)
        .bind(e.started_at)
        .bind(e.stopped_at)
        .bind(was_updated_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Store a bandit's new weights if nobody did since `was_at` (one
    /// replica wins a cadence); false otherwise.
    pub async fn set_experiment_weights(
        self,
        merchant: &str,
        key: &str,
        weights: &str,
        at: i64,
        was_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE experiments SET weights = $3, weights_at = $4 \
             WHERE merchant_id = $1 AND key = $2 AND COALESCE(weights_at, -1) = $5",
        )
        .bind(merchant)
        .bind(key)
        .bind(weights)
        .bind(at)
        .bind(was_at.unwrap_or(-1))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every running experiment, as (merchant, key, definition, when its
    /// weights were last set).
    pub async fn running_experiments(self) -> Result<Vec<Running>, StoreError> {
        sqlx::query(
            "SELECT merchant_id, key, definition, weights_at FROM experiments WHERE status = 'running'",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect()
    }

    /// The variation stored for a bandit's unit.
    pub async fn sticky_variation(
        self,
        merchant: &str,
        key: &str,
        unit: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query(
            "SELECT variation FROM experiment_units WHERE merchant_id = $1 AND experiment = $2 AND unit = $3",
        )
        .bind(merchant)
        .bind(key)
        .bind(unit)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?)
    }

    /// Remember a bandit's unit's variation (the first one stays).
    pub async fn keep_variation(
        self,
        merchant: &str,
        key: &str,
        unit: &str,
        variation: i64,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO experiment_units (merchant_id, experiment, unit, variation, at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING",
        )
        .bind(merchant)
        .bind(key)
        .bind(unit)
        .bind(variation)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Record a unit's exposure; false if it was recorded before (this
    /// event id, or an earlier exposure of the unit).
    pub async fn record_exposure(
        self,
        merchant: &str,
        key: &str,
        unit: &str,
        variation: i64,
        event_id: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO experiment_exposures (merchant_id, experiment, unit, variation, event_id, at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(merchant)
        .bind(key)
        .bind(unit)
        .bind(variation)
        .bind(event_id)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Record a conversion event; false if its id was seen before.
    pub async fn record_conversion(
        self,
        merchant: &str,
        event_id: &str,
        unit: &str,
        event: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO experiment_conversions (merchant_id, event_id, unit, event, at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(merchant)
        .bind(event_id)
        .bind(unit)
        .bind(event)
        .bind(at)
        .execute(&self.pool)
        .await?;
        let new = done.rows_affected() == 1;
        if new {
            super::rollup::units_changed(self.0, merchant, &[unit.to_string()]).await?;
        }
        Ok(new)
    }

    /// Exposures and conversions per variation and day of exposure. A
    /// unit converted if, within the window after its exposure, it sent
    /// the basis's event, or (the customer-data feature's records) a
    /// customer of that id had an event of that kind, or placed an order
    /// when the event is `purchase`. From the rollup, as far as it is up
    /// to date ([`Self::refresh_rollup`]).
    pub async fn experiment_counts(
        self,
        merchant: &str,
        key: &str,
    ) -> Result<Vec<DayCount>, StoreError> {
        super::rollup::day_counts(self.0, merchant, key).await
    }

    /// Bring the results' rollup of `key` up to date, for at most
    /// `budget` (none: until it is); whether it is.
    pub async fn refresh_rollup(
        self,
        merchant: &str,
        key: &str,
        basis: &super::rollup::Basis,
        budget: Option<std::time::Duration>,
    ) -> Result<bool, StoreError> {
        super::rollup::refresh(self.0, merchant, key, basis, budget).await
    }

    /// Each exposed unit's orders (a customer of that id, not cancelled or
    /// refunded) within the window after its exposure and the look-back
    /// before it, summed per variation as `means` reads them. Only the
    /// currency most of these orders use counts. From the rollup, as far
    /// as it is up to date ([`Self::refresh_rollup`]).
    pub async fn experiment_revenue(
        self,
        merchant: &str,
        key: &str,
        variations: usize,
    ) -> Result<Revenue, StoreError> {
        super::rollup::revenue(self.0, merchant, key, variations).await
    }
}

/// Orders of an experiment's units in one currency, per variation.
#[derive(Debug, Default)]
pub struct Revenue {
    /// The currency of most orders in the windows (`None`: no orders).
    pub currency: Option<String>,
    /// Orders in other currencies, left out.
    pub other_currency_orders: u64,
    /// Per variation (by index): each unit's revenue after exposure (x)
    /// and before (y), in minor units.
    pub spend: Vec<super::means::Paired>,
    /// Per variation: each unit's revenue after exposure (x) and its
    /// number of orders (y).
    pub orders: Vec<super::means::Paired>,
}

impl ExperimentsDb<'_> {
    /// A stored customer's attributes for targeting: their own
    /// attributes, then `country`, `locale`, `tier`, `tags` and `orders`
    /// (count); `None` if there is no such customer.
    pub async fn targeting_attributes(
        self,
        merchant: &str,
        id: &str,
    ) -> Result<Option<serde_json::Map<String, serde_json::Value>>, StoreError> {
        let Some(r) = sqlx::query(
            "SELECT c.country, c.locale, c.tier, c.tags, c.attributes, \
             (SELECT CAST(COUNT(*) AS BIGINT) FROM orders o WHERE o.merchant_id = c.merchant_id AND o.customer_id = c.id) \
             FROM customers c WHERE c.merchant_id = $1 AND c.id = $2",
        )
        .bind(merchant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let mut attrs: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&r.try_get::<String, _>(4)?).unwrap_or_default();
        let tags: serde_json::Value =
            serde_json::from_str(&r.try_get::<String, _>(3)?).unwrap_or_default();
        for (k, v) in [
            (
                "country",
                r.try_get::<Option<String>, _>(0)?.map(Into::into),
            ),
            ("locale", r.try_get::<Option<String>, _>(1)?.map(Into::into)),
            ("tier", r.try_get::<Option<String>, _>(2)?.map(Into::into)),
            ("tags", Some(tags)),
            ("orders", Some(r.try_get::<i64, _>(5)?.into())),
        ] {
            if let Some(v) = v {
                attrs.insert(k.into(), v);
            }
        }
        Ok(Some(attrs))
    }
}
