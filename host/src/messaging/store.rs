//! Messaging's tables: contacts (planned and dropped) and send batches.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::platform::store::StoreError;

crate::feature_store! {
    /// Messaging's tables: contacts and send batches.
    MessagingDb
}

/// A transaction of the planner.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// What became of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContactStatus {
    /// A channel and a time were reserved.
    Planned,
    /// No channel could take it.
    Dropped,
}

impl ContactStatus {
    /// Its stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ContactStatus::Planned => "planned",
            ContactStatus::Dropped => "dropped",
        }
    }

    fn read(r: &AnyRow, column: &str) -> Result<ContactStatus, StoreError> {
        match r.try_get::<String, _>(column)?.as_str() {
            "planned" => Ok(ContactStatus::Planned),
            "dropped" => Ok(ContactStatus::Dropped),
            other => Err(sqlx::Error::Decode(
                format!("contact status `{other}` is not known").into(),
            )
            .into()),
        }
    }
}

/// A reserved contact, as the fatigue policy's history sees it.
#[derive(Debug, Clone)]
pub struct Reserved {
    /// The channel.
    pub channel: String,
    /// When it goes.
    pub send_at: i64,
    /// Its campaign (empty for none).
    pub campaign_id: String,
    /// `marketing` or `transactional`.
    pub category: String,
    /// The message's tags.
    pub tags: Vec<String>,
}

/// A contact to store.
#[derive(Debug, Clone)]
pub struct NewContact<'a> {
    /// Its id (`ct-…`).
    pub id: &'a str,
    /// The customer.
    pub customer_id: &'a str,
    /// The channel, when planned.
    pub channel: Option<&'a str>,
    /// `marketing` or `transactional`.
    pub category: &'a str,
    /// The message's tags.
    pub tags: &'a [String],
    /// Its campaign.
    pub campaign_id: &'a str,
    /// When it goes, when planned.
    pub send_at: Option<i64>,
    /// Planned or dropped.
    pub status: ContactStatus,
    /// Why it was deferred or dropped.
    pub reason: Option<&'a str>,
    /// What each step decided (a JSON array).
    pub trail: &'a serde_json::Value,
    /// The batch it belongs to.
    pub batch: Option<&'a str>,
    /// When it was planned.
    pub created_at: i64,
}

/// A contact, as the merchant's API shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Contact {
    /// Its id.
    pub id: String,
    /// The customer.
    #[serde(skip)]
    pub customer_id: String,
    /// The channel (planned contacts).
    pub channel: Option<String>,
    /// `marketing` or `transactional`.
    pub category: String,
    /// Its campaign.
    pub campaign_id: String,
    /// When it goes (planned contacts), ms since the epoch.
    pub send_at: Option<i64>,
    /// Planned or dropped.
    pub status: ContactStatus,
    /// Why it was deferred or dropped.
    pub reason: Option<String>,
    /// What each step decided.
    #[schema(value_type = Vec<Object>)]
    pub trail: serde_json::Value,
    /// When it was planned.
    pub created_at: i64,
    /// `sent`, `delivered`, `failed` or `bounced`, once reported.
    pub outcome: Option<String>,
    /// When the outcome happened.
    pub outcome_at: Option<i64>,
}

const CONTACT: &str = "id, customer_id, channel, category, campaign_id, send_at, status, reason, trail, created_at, outcome, outcome_at";

fn contact(r: &AnyRow) -> Result<Contact, StoreError> {
    Ok(Contact {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        channel: r.try_get("channel")?,
        category: r.try_get("category")?,
        campaign_id: r.try_get("campaign_id")?,
        send_at: r.try_get("send_at")?,
        status: ContactStatus::read(r, "status")?,
        reason: r.try_get("reason")?,
        trail: serde_json::from_str(&r.try_get::<String, _>("trail")?).unwrap_or_default(),
        created_at: r.try_get("created_at")?,
        outcome: r.try_get("outcome")?,
        outcome_at: r.try_get("outcome_at")?,
    })
}

/// A contact of the period, for the report.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The customer.
    pub customer_id: String,
    /// The channel (planned contacts).
    pub channel: Option<String>,
    /// When it goes (planned contacts).
    pub send_at: Option<i64>,
    /// Planned or dropped.
    pub status: ContactStatus,
    /// Why it was deferred or dropped.
    pub reason: Option<String>,
    /// The customer's country, if known.
    pub country: Option<String>,
}

/// How a send batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BatchStatus {
    /// Planning.
    Running,
    /// Every customer planned.
    Done,
    /// Stopped by an error (`error` says which).
    Failed,
    /// Its host stopped; start it again (customers already planned are
    /// counted by the caps).
    Interrupted,
}

/// A send batch and its progress.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Batch {
    /// Its id (`sb-…`).
    pub id: String,
    /// The RFM run whose segment it plans for.
    pub run_id: String,
    /// The segment or micro-segment.
    pub segment: String,
    /// How it stands.
    pub status: BatchStatus,
    /// Customers in the segment.
    pub total: i64,
    /// Planned so far.
    pub planned: i64,
    /// Dropped so far.
    pub dropped: i64,
    /// Failed so far.
    pub failed: i64,
    /// Planned + dropped + failed.
    pub done: i64,
    /// `done / total` (1 for an empty batch).
    pub progress: f64,
    /// What stopped a failed batch.
    pub error: Option<String>,
    /// When it started.
    pub created_at: i64,
    /// When it ended.
    pub finished_at: Option<i64>,
}

/// A running batch without progress for this long stopped with its host.
const STALE_MS: i64 = 10 * 60_000;

const BATCH: &str = "id, run_id, segment, status, total, planned, dropped, failed, error, created_at, finished_at, updated_at";

fn batch(r: &AnyRow) -> Result<Batch, StoreError> {
    let total: i64 = r.try_get("total")?;
    let (planned, dropped, failed): (i64, i64, i64) = (
        r.try_get("planned")?,
        r.try_get("dropped")?,
        r.try_get("failed")?,
    );
    let status = match r.try_get::<String, _>("status")?.as_str() {
        "running" if r.try_get::<i64, _>("updated_at")? < crate::now_ms() - STALE_MS => {
            BatchStatus::Interrupted
        }
        "running" => BatchStatus::Running,
        "done" => BatchStatus::Done,
        _ => BatchStatus::Failed,
    };
    let done = planned + dropped + failed;
    Ok(Batch {
        id: r.try_get("id")?,
        run_id: r.try_get("run_id")?,
        segment: r.try_get("segment")?,
        status,
        total,
        planned,
        dropped,
        failed,
        done,
        progress: if total > 0 {
            done as f64 / total as f64
        } else {
            1.0
        },
        error: r.try_get("error")?,
        created_at: r.try_get("created_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

impl MessagingDb<'_> {
    /// The merchant's Twilio auth token, if one is stored.
    pub async fn twilio_token(self, merchant: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT twilio_auth_token FROM sms_providers WHERE merchant_id = $1")
            .bind(merchant)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }

    /// Store (or replace) the merchant's Twilio auth token.
    pub async fn set_twilio_token(self, merchant: &str, token: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sms_providers (merchant_id, twilio_auth_token, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (merchant_id) DO UPDATE SET twilio_auth_token = excluded.twilio_auth_token, updated_at = excluded.updated_at",
        )
        .bind(merchant)
        .bind(token)
        .bind(crate::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Hold `customer`'s lock in `tx` across replicas (PostgreSQL's
    /// transaction-scoped advisory lock; SQLite has one writer).
    pub async fn lock_customer(
        self,
        tx: &mut Tx,
        merchant: &str,
        customer: &str,
    ) -> Result<(), StoreError> {
        if self.pg.is_some() {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(format!("contacts/{merchant}/{customer}"))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// A customer's planned contacts going at or after `since` that still
    /// count (not failed or bounced).
    pub async fn reserved(
        self,
        tx: &mut Tx,
        merchant: &str,
        customer: &str,
        since: i64,
    ) -> Result<Vec<Reserved>, StoreError> {
        sqlx::query(
            "SELECT channel, send_at, campaign_id, category, tags FROM contacts \
             WHERE merchant_id = $1 AND customer_id = $2 AND status = 'planned' AND send_at >= $3 \
             AND (outcome IS NULL OR outcome NOT IN ('failed', 'bounced'))",
        )
        .bind(merchant)
        .bind(customer)
        .bind(since)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| {
            Ok(Reserved {
                channel: r.try_get(0)?,
                send_at: r.try_get(1)?,
                campaign_id: r.try_get(2)?,
                category: r.try_get(3)?,
                tags: serde_json::from_str(&r.try_get::<String, _>(4)?).unwrap_or_default(),
            })
        })
        .collect()
    }

    /// Store a contact in `tx`.
    pub async fn insert_contact(
        self,
        tx: &mut Tx,
        merchant: &str,
        c: &NewContact<'_>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO contacts (merchant_id, id, customer_id, channel, category, tags, campaign_id, send_at, status, reason, trail, created_at, batch_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(merchant)
        .bind(c.id)
        .bind(c.customer_id)
        .bind(c.channel)
        .bind(c.category)
        .bind(serde_json::to_string(c.tags).unwrap_or_default())
        .bind(c.campaign_id)
        .bind(c.send_at)
        .bind(c.status.as_str())
        .bind(c.reason)
        .bind(c.trail.to_string())
        .bind(c.created_at)
        .bind(c.batch)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// How many contacts `merchant` has.
    pub async fn contact_count(self, merchant: &str) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM contacts WHERE merchant_id = $1")
                .bind(merchant)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        )
    }

    /// One contact.
    pub async fn contact(self, merchant: &str, id: &str) -> Result<Option<Contact>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CONTACT} FROM contacts WHERE merchant_id = $1 AND id = $2"
        )))
        .bind(merchant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(contact)
        .transpose()
    }

    /// A customer's contacts, newest first (at most 200).
    pub async fn contacts_of(
        self,
        merchant: &str,
        customer: &str,
    ) -> Result<Vec<Contact>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CONTACT} FROM contacts WHERE merchant_id = $1 AND customer_id = $2 \
             ORDER BY created_at DESC, id DESC LIMIT 200"
        )))
        .bind(merchant)
        .bind(customer)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(contact)
        .collect()
    }

    /// Record what became of a contact.
    pub async fn set_outcome(
        self,
        merchant: &str,
        id: &str,
        outcome: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE contacts SET outcome = $3, outcome_at = $4 WHERE merchant_id = $1 AND id = $2",
        )
        .bind(merchant)
        .bind(id)
        .bind(outcome)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The contacts planned since `since`, each with its customer's
    /// country (a read of the customers' table: the report's channel mix
    /// by region needs it for every contact, so it is one join).
    pub async fn planned_since(
        self,
        merchant: &str,
        since: i64,
    ) -> Result<Vec<Planned>, StoreError> {
        sqlx::query(
            "SELECT k.customer_id, k.channel, k.send_at, k.status, k.reason, c.country FROM contacts k \
             LEFT JOIN customers c ON c.merchant_id = k.merchant_id AND c.id = k.customer_id \
             WHERE k.merchant_id = $1 AND k.created_at >= $2",
        )
        .bind(merchant)
        .bind(since)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(Planned {
                customer_id: r.try_get(0)?,
                channel: r.try_get(1)?,
                send_at: r.try_get(2)?,
                status: ContactStatus::read(r, "status")?,
                reason: r.try_get(4)?,
                country: r.try_get(5)?,
            })
        })
        .collect()
    }

    /// Outcomes reported for contacts planned since `since`, by outcome.
    pub async fn outcomes_since(
        self,
        merchant: &str,
        since: i64,
    ) -> Result<std::collections::BTreeMap<String, u64>, StoreError> {
        sqlx::query(
            "SELECT outcome, CAST(COUNT(*) AS BIGINT) FROM contacts \
             WHERE merchant_id = $1 AND created_at >= $2 AND outcome IS NOT NULL GROUP BY outcome",
        )
        .bind(merchant)
        .bind(since)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get::<i64, _>(1)? as u64)))
        .collect()
    }

    /// Store a new running batch.
    pub async fn insert_batch(
        self,
        merchant: &str,
        id: &str,
        run: &str,
        segment: &str,
        message: &str,
        total: i64,
    ) -> Result<(), StoreError> {
        let now = crate::now_ms();
        sqlx::query(
            "INSERT INTO send_batches (merchant_id, id, run_id, segment, message, status, total, planned, dropped, failed, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'running', $6, 0, 0, 0, $7, $7)",
        )
        .bind(merchant)
        .bind(id)
        .bind(run)
        .bind(segment)
        .bind(message)
        .bind(total)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A batch's counts so far.
    pub async fn batch_progress(
        self,
        merchant: &str,
        id: &str,
        (planned, dropped, failed): (i64, i64, i64),
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE send_batches SET planned = $3, dropped = $4, failed = $5, updated_at = $6 WHERE merchant_id = $1 AND id = $2",
        )
        .bind(merchant)
        .bind(id)
        .bind(planned)
        .bind(dropped)
        .bind(failed)
        .bind(crate::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A batch ended: done, or failed with `error`.
    pub async fn end_batch(
        self,
        merchant: &str,
        id: &str,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE send_batches SET status = $3, error = $4, finished_at = $5 WHERE merchant_id = $1 AND id = $2",
        )
        .bind(merchant)
        .bind(id)
        .bind(if error.is_some() { "failed" } else { "done" })
        .bind(error)
        .bind(crate::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One batch.
    pub async fn batch(self, merchant: &str, id: &str) -> Result<Option<Batch>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BATCH} FROM send_batches WHERE merchant_id = $1 AND id = $2"
        )))
        .bind(merchant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(batch)
        .transpose()
    }

    /// The 20 latest batches, newest first.
    pub async fn batches(self, merchant: &str) -> Result<Vec<Batch>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {BATCH} FROM send_batches WHERE merchant_id = $1 ORDER BY created_at DESC, id DESC LIMIT 20"
        )))
        .bind(merchant)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(batch)
        .collect()
    }
}
