//! Storage of RFM runs and their per-customer scores.

use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::platform::feature::{Claim, Erase, Privacy};
use crate::platform::store::StoreError;

crate::feature_store! {
    /// RFM's tables: runs, scores, schedules and models.
    RfmDb
}

/// What RFM keeps about a customer: their scores in every run and the
/// last good score an invoke call answered, both erased with them; the
/// export shows the latest good score.
pub const PRIVACY: Privacy = Privacy {
    tables: &[
        Claim {
            table: "rfm_scores",
            column: "customer_id",
            erase: Erase::Delete,
        },
        Claim {
            table: "rfm_last_scores",
            column: "customer_id",
            erase: Erase::Delete,
        },
    ],
    export: Some(|tx, merchant, id| {
        Box::pin(async move {
            let score = last_score(tx, merchant, id).await?;
            Ok(vec![(
                "scores",
                score
                    .and_then(|s| serde_json::from_str::<Value>(&s).ok())
                    .unwrap_or(Value::Null),
            )])
        })
    }),
    erase: None,
};

/// The latest good RFM score of a customer, as JSON text: the newer of
/// the last one an invoke call answered and the one in the latest
/// finished run that scored them.
pub async fn last_score(
    conn: &mut sqlx::AnyConnection,
    merchant: &str,
    customer: &str,
) -> Result<Option<String>, StoreError> {
    Ok(last_scores(conn, merchant, &[customer])
        .await?
        .remove(customer))
}

/// [`last_score`] of many customers at once: two queries per 500 of
/// them, whatever their number. Customers never scored are absent.
pub async fn last_scores(
    conn: &mut sqlx::AnyConnection,
    merchant: &str,
    customers: &[&str],
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let mut ids: Vec<&str> = customers
        .iter()
        .copied()
        .filter(|c| !c.is_empty())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let list = (0..chunk.len())
            .map(|i| format!("${}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT customer_id, score, updated_at FROM rfm_last_scores WHERE merchant_id = $1 AND customer_id IN ({list})"
        );
        // Only placeholders are formatted in.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(merchant);
        for id in chunk {
            q = q.bind(*id);
        }
        let mut called = std::collections::HashMap::new();
        for r in q.fetch_all(&mut *conn).await? {
            called.insert(
                r.try_get::<String, _>(0)?,
                (r.try_get::<String, _>(1)?, r.try_get::<i64, _>(2)?),
            );
        }
        // Each customer's row of the latest finished run that scored them.
        let sql = format!(
            "SELECT r.finished_at AS finished_at, s.customer_id, s.recency, s.frequency, s.monetary, s.segment, \
             s.tier, s.micro, s.p_active, s.expected_purchases, s.expected_value, s.clv, s.rescored_at \
             FROM rfm_runs r JOIN rfm_scores s ON s.merchant_id = r.merchant_id AND s.run_id = r.id \
             WHERE r.merchant_id = $1 AND r.status = 'done' AND s.customer_id IN ({list}) \
             ORDER BY s.customer_id, r.finished_at DESC, r.id DESC"
        );
        // Only placeholders are formatted in.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(merchant);
        for id in chunk {
            q = q.bind(*id);
        }
        let mut runs = std::collections::HashMap::new();
        for r in q.fetch_all(&mut *conn).await? {
            let id: String = r.try_get("customer_id")?;
            runs.entry(id).or_insert(r);
        }
        for id in chunk {
            let called = called.remove(*id);
            let run = runs.remove(*id);
            let run_at = match &run {
                Some(r) => Some(
                    r.try_get::<Option<i64>, _>("rescored_at")?
                        .unwrap_or(r.try_get::<Option<i64>, _>("finished_at")?.unwrap_or(0)),
                ),
                None => None,
            };
            let score = match (called, run, run_at) {
                (Some((score, at)), _, Some(run_at)) if at >= run_at => score,
                (Some((score, _)), None, _) => score,
                (_, Some(r), _) => {
                    let v = score_row(&r)?;
                    json!({
                        "customer-id": v.customer_id, "recency": v.recency, "frequency": v.frequency,
                        "monetary": v.monetary, "segment": v.segment, "tier": v.tier,
                        "micro-segments": v.micro_segments, "p-active": v.p_active,
                        "expected-purchases": v.expected_purchases, "expected-value": v.expected_value,
                        "clv": v.clv,
                    })
                    .to_string()
                }
                (None, None, _) => continue,
            };
            out.insert((*id).to_string(), score);
        }
    }
    Ok(out)
}

/// How an RFM run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Scoring.
    Running,
    /// Finished: its scores are the customers' latest.
    Done,
    /// Stopped by an error (`error` says which).
    Failed,
}

/// A run's progress.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Progress {
    /// Customers scored.
    pub done: i64,
    /// Customers to score.
    pub total: i64,
}

/// An RFM run as the API shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Run {
    /// Its id.
    pub id: String,
    /// The day it scores as of (ms since the epoch).
    pub as_of: i64,
    /// `days` or `weeks`: the models' unit of time.
    pub time_unit: String,
    /// How it stands.
    pub status: RunStatus,
    /// Customers scored so far.
    pub progress: Progress,
    /// The scoring plugin (`name@version`), or none for the safe fallback.
    pub plugin: Option<String>,
    /// The fitted models (BG/NBD and Gamma-Gamma parameters), when done.
    #[schema(value_type = Option<Object>)]
    pub model: Value,
    /// Segment sizes, fallbacks and timings, when done.
    #[schema(value_type = Option<Object>)]
    pub segments: Value,
    /// Moves between segments since the previous run, when there was one.
    #[schema(value_type = Option<Object>)]
    pub movement: Value,
    /// What stopped a failed run.
    pub error: Option<String>,
    /// When it started.
    pub started_at: i64,
    /// When it ended.
    pub finished_at: Option<i64>,
}

fn run_row(r: &AnyRow) -> Result<Run, StoreError> {
    let parse = |c: &str| -> Result<Value, StoreError> {
        Ok(r.try_get::<Option<String>, _>(c)?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null))
    };
    Ok(Run {
        id: r.try_get("id")?,
        as_of: r.try_get("as_of")?,
        time_unit: r.try_get("time_unit")?,
        status: match r.try_get::<String, _>("status")?.as_str() {
            "running" => RunStatus::Running,
            "done" => RunStatus::Done,
            _ => RunStatus::Failed,
        },
        progress: Progress {
            done: r.try_get("done")?,
            total: r.try_get("total")?,
        },
        plugin: r.try_get("plugin")?,
        model: parse("model")?,
        segments: parse("segments")?,
        movement: parse("movement")?,
        error: r.try_get("error")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

/// A customer's scores and predictions in a run.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Score {
    /// The customer.
    pub customer_id: String,
    /// Recency score, 1–5.
    pub recency: i64,
    /// Frequency score, 1–5.
    pub frequency: i64,
    /// Monetary score, 1–5.
    pub monetary: i64,
    /// The named segment (`champions`, `at-risk`, …).
    pub segment: String,
    /// The value tier.
    pub tier: String,
    /// Micro-segments (`cart-no-order`, …).
    pub micro_segments: Vec<String>,
    /// P(still active), BG/NBD.
    pub p_active: Option<f64>,
    /// Expected purchases in the horizon.
    pub expected_purchases: Option<f64>,
    /// Expected value of an order, Gamma-Gamma.
    pub expected_value: Option<f64>,
    /// Customer lifetime value over the horizon.
    pub clv: Option<f64>,
    /// When live events last re-scored the customer.
    pub rescored_at: Option<i64>,
    /// The run (in a customer's latest scores).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

const RUN: &str = "id, as_of, time_unit, status, done, total, plugin, model, segments, movement, error, started_at, finished_at";
const SCORE: &str = "customer_id, recency, frequency, monetary, segment, tier, micro, p_active, expected_purchases, expected_value, clv, rescored_at";

fn score_row(r: &AnyRow) -> Result<Score, StoreError> {
    Ok(Score {
        customer_id: r.try_get("customer_id")?,
        recency: r.try_get("recency")?,
        frequency: r.try_get("frequency")?,
        monetary: r.try_get("monetary")?,
        segment: r.try_get("segment")?,
        tier: r.try_get("tier")?,
        micro_segments: serde_json::from_str(&r.try_get::<String, _>("micro")?).unwrap_or_default(),
        p_active: r.try_get("p_active")?,
        expected_purchases: r.try_get("expected_purchases")?,
        expected_value: r.try_get("expected_value")?,
        clv: r.try_get("clv")?,
        rescored_at: r.try_get("rescored_at")?,
        run_id: None,
    })
}

/// A merchant's daily run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Schedule {
    /// The hour of the day it starts at (0–23), in `time_zone`.
    pub hour: u32,
    /// An IANA time zone, e.g. `Europe/Paris`.
    pub time_zone: String,
    /// `days` or `weeks`, as for a run.
    pub time_unit: String,
    /// When it is next due (milliseconds since the epoch).
    #[serde(default)]
    pub next_at: i64,
}

impl RfmDb<'_> {
    /// Start a run.
    pub async fn insert_rfm_run(
        self,
        merchant: &str,
        id: &str,
        as_of: i64,
        unit: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO rfm_runs (merchant_id, id, as_of, time_unit, status, done, total, started_at) \
             VALUES ($1, $2, $3, $4, 'running', 0, 0, $5)",
        )
        .bind(merchant)
        .bind(id)
        .bind(as_of)
        .bind(unit)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Record a run's progress.
    pub async fn rfm_progress(
        self,
        merchant: &str,
        id: &str,
        done: i64,
        total: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE rfm_runs SET done = $3, total = $4 WHERE merchant_id = $1 AND id = $2")
            .bind(merchant)
            .bind(id)
            .bind(done)
            .bind(total)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Finish a run: `done` with its model, segments and movement, or
    /// `failed` with the reason.
    pub async fn finish_rfm_run(
        self,
        merchant: &str,
        id: &str,
        outcome: Result<(&str, &Value, &Value, &Value), &str>,
        at: i64,
    ) -> Result<(), StoreError> {
        let q = match outcome {
            Ok((plugin, model, segments, movement)) => sqlx::query(
                "UPDATE rfm_runs SET status = 'done', plugin = $3, model = $4, segments = $5, movement = $6, finished_at = $7 \
                 WHERE merchant_id = $1 AND id = $2",
            )
            .bind(merchant)
            .bind(id)
            .bind(plugin.to_string())
            .bind(model.to_string())
            .bind(segments.to_string())
            .bind(movement.to_string())
            .bind(at),
            Err(why) => sqlx::query(
                "UPDATE rfm_runs SET status = 'failed', error = $3, finished_at = $4 WHERE merchant_id = $1 AND id = $2",
            )
            .bind(merchant)
            .bind(id)
            .bind(why.to_string())
            .bind(at),
        };
        q.execute(&self.pool).await?;
        Ok(())
    }

    /// One run.
    pub async fn rfm_run(self, merchant: &str, id: &str) -> Result<Option<Run>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RUN} FROM rfm_runs WHERE merchant_id = $1 AND id = $2"
        )))
        .bind(merchant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(run_row)
        .transpose()
    }

    /// The merchant's runs, newest first.
    pub async fn rfm_runs(self, merchant: &str) -> Result<Vec<Run>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RUN} FROM rfm_runs WHERE merchant_id = $1 ORDER BY started_at DESC, id DESC LIMIT 100"
        )))
        .bind(merchant)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(run_row)
        .collect()
    }

    /// The latest finished run other than `except`.
    pub async fn previous_rfm_run(
        self,
        merchant: &str,
        except: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query(
            "SELECT id FROM rfm_runs WHERE merchant_id = $1 AND id <> $2 AND status = 'done' \
             ORDER BY finished_at DESC, id DESC LIMIT 1",
        )
        .bind(merchant)
        .bind(except)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?)
    }

    /// Store a batch of scores (the plugin's `customer-score` records);
    /// a customer already in the run is scored again (`rescored_at`).
    pub async fn insert_rfm_scores(
        self,
        merchant: &str,
        run: &str,
        scores: &[super::batch::ScoreRow],
        rescored_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for chunk in scores.chunks(400) {
            let mut sql = String::from(
                "INSERT INTO rfm_scores (merchant_id, run_id, rescored_at, customer_id, recency, frequency, monetary, segment, tier, micro, p_active, expected_purchases, expected_value, clv) VALUES ",
            );
            let mut n = 0;
            for i in 0..chunk.len() {
                sql.push_str(if i > 0 { ",(" } else { "(" });
                for k in 0..14 {
                    n += 1;
                    if k > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&self.mark(n));
                }
                sql.push(')');
            }
            if rescored_at.is_some() {
                sql.push_str(
                    " ON CONFLICT (merchant_id, run_id, customer_id) DO UPDATE SET rescored_at = excluded.rescored_at, \
                     recency = excluded.recency, frequency = excluded.frequency, monetary = excluded.monetary, \
                     segment = excluded.segment, tier = excluded.tier, micro = excluded.micro, p_active = excluded.p_active, \
                     expected_purchases = excluded.expected_purchases, expected_value = excluded.expected_value, clv = excluded.clv",
                );
            }
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for s in chunk {
                let num = |x: f64| x.is_finite().then_some(x);
                q = q
                    .bind(merchant)
                    .bind(run)
                    .bind(rescored_at)
                    .bind(s.customer_id.clone())
                    .bind(i64::from(s.rfm[0]))
                    .bind(i64::from(s.rfm[1]))
                    .bind(i64::from(s.rfm[2]))
                    .bind(s.segment.clone())
                    .bind(s.tier.clone())
                    .bind(serde_json::to_string(&s.micro).unwrap_or_default())
                    .bind(num(s.p_active))
                    .bind(num(s.expected_purchases))
                    .bind(num(s.expected_value))
                    .bind(num(s.clv));
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The latest finished run's id, model and time unit.
    pub async fn latest_rfm_model(
        self,
        merchant: &str,
    ) -> Result<Option<(String, Value, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, model, time_unit FROM rfm_runs WHERE merchant_id = $1 AND status = 'done' \
             ORDER BY finished_at DESC, id DESC LIMIT 1",
        )
        .bind(merchant)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let model: Option<String> = r.try_get(1)?;
        Ok(Some((
            r.try_get(0)?,
            model
                .and_then(|m| serde_json::from_str(&m).ok())
                .unwrap_or(Value::Null),
            r.try_get(2)?,
        )))
    }

    /// The merchant's daily run, if any.
    pub async fn rfm_schedule(self, merchant: &str) -> Result<Option<Schedule>, StoreError> {
        sqlx::query(
            "SELECT hour, time_zone, time_unit, next_at FROM rfm_schedules WHERE merchant_id = $1",
        )
        .bind(merchant)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| {
            Ok(Schedule {
                hour: r.try_get::<i32, _>(0)? as u32,
                time_zone: r.try_get(1)?,
                time_unit: r.try_get(2)?,
                next_at: r.try_get(3)?,
            })
        })
        .transpose()
    }

    /// Set (or, with `None`, remove) the merchant's daily run.
    pub async fn set_rfm_schedule(
        self,
        merchant: &str,
        schedule: Option<&Schedule>,
    ) -> Result<(), StoreError> {
        let q = match schedule {
            None => sqlx::query("DELETE FROM rfm_schedules WHERE merchant_id = $1").bind(merchant),
            Some(s) => sqlx::query(
                "INSERT INTO rfm_schedules (merchant_id, hour, time_zone, time_unit, next_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (merchant_id) DO UPDATE SET hour = excluded.hour, time_zone = excluded.time_zone, \
                 time_unit = excluded.time_unit, next_at = excluded.next_at",
            )
            .bind(merchant)
            .bind(s.hour as i32)
            .bind(s.time_zone.clone())
            .bind(s.time_unit.clone())
            .bind(s.next_at),
        };
        q.execute(&self.pool).await?;
        Ok(())
    }

    /// Every merchant's schedule that is due at `now`.
    pub async fn due_rfm_schedules(self, now: i64) -> Result<Vec<(String, Schedule)>, StoreError> {
        sqlx::query(
            "SELECT merchant_id, hour, time_zone, time_unit, next_at FROM rfm_schedules WHERE next_at <= $1",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get(0)?,
                Schedule {
                    hour: r.try_get::<i32, _>(1)? as u32,
                    time_zone: r.try_get(2)?,
                    time_unit: r.try_get(3)?,
                    next_at: r.try_get(4)?,
                },
            ))
        })
        .collect()
    }

    /// Claim a due run: move its `next_at` from `was` to `next`. True for
    /// the one replica whose update lands.
    pub async fn claim_rfm_schedule(
        self,
        merchant: &str,
        was: i64,
        next: i64,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "UPDATE rfm_schedules SET next_at = $3 WHERE merchant_id = $1 AND next_at = $2",
        )
        .bind(merchant)
        .bind(was)
        .bind(next)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// How many customers moved from each segment of run `before` to each
    /// segment of run `after`: `[[from, to, n], …]`.
    pub async fn rfm_movement(
        self,
        merchant: &str,
        before: &str,
        after: &str,
    ) -> Result<Vec<Value>, StoreError> {
        sqlx::query(
            "SELECT p.segment, c.segment, CAST(COUNT(*) AS BIGINT) FROM rfm_scores c \
             JOIN rfm_scores p ON p.merchant_id = c.merchant_id AND p.customer_id = c.customer_id AND p.run_id = $3 \
             WHERE c.merchant_id = $1 AND c.run_id = $2 GROUP BY p.segment, c.segment",
        )
        .bind(merchant)
        .bind(after)
        .bind(before)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok(json!([r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?, r.try_get::<i64, _>(2)?])))
        .collect()
    }

    /// How many of a run's customers are in `segment` or `micro` (all
    /// when neither is given).
    pub async fn segment_size(
        self,
        merchant: &str,
        run: &str,
        segment: Option<&str>,
        micro: Option<&str>,
    ) -> Result<i64, StoreError> {
        let micro = micro.map(|m| format!("%{}%", serde_json::to_string(m).unwrap_or_default()));
        Ok(sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM rfm_scores WHERE merchant_id = $1 AND run_id = $2 \
             AND ($3 = '' OR segment = $3) AND ($4 = '' OR micro LIKE $4)",
        )
        .bind(merchant)
        .bind(run)
        .bind(segment.unwrap_or(""))
        .bind(micro.unwrap_or_default())
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?)
    }

    /// A page of a run's customers (after `cursor`, by id), optionally of
    /// one segment or micro-segment.
    pub async fn rfm_members(
        self,
        merchant: &str,
        run: &str,
        segment: Option<&str>,
        micro: Option<&str>,
        cursor: &str,
        limit: i64,
    ) -> Result<Vec<Score>, StoreError> {
        let micro = micro.map(|m| format!("%{}%", serde_json::to_string(m).unwrap_or_default()));
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SCORE} FROM rfm_scores WHERE merchant_id = $1 AND run_id = $2 AND customer_id > $3 \
             AND ($4 = '' OR segment = $4) AND ($5 = '' OR micro LIKE $5) ORDER BY customer_id LIMIT $6"
        )))
        .bind(merchant)
        .bind(run)
        .bind(cursor)
        .bind(segment.unwrap_or(""))
        .bind(micro.unwrap_or_default())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(score_row)
        .collect()
    }

    /// The latest good RFM scores of customers, as JSON text by customer
    /// (the slot's fallback): see [`last_scores`].
    pub async fn rfm_scores_of(
        self,
        merchant: &str,
        customers: &[&str],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        last_scores(&mut *self.pool.acquire().await?, merchant, customers).await
    }

    /// Remember the latest good RFM score of each customer.
    pub async fn save_rfm_scores(
        self,
        merchant: &str,
        scores: &[(String, String)],
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let now = crate::now_ms();
        for (customer, score) in scores {
            sqlx::query(
                "INSERT INTO rfm_last_scores (merchant_id, customer_id, score, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (merchant_id, customer_id) DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at",
            )
            .bind(merchant)
            .bind(customer)
            .bind(score)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A customer's segment, tier and micro-segments in the latest
    /// finished run (empty when never scored).
    pub async fn rfm_segments(
        self,
        merchant: &str,
        customer: &str,
    ) -> Result<Vec<String>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT segment, tier, micro FROM rfm_scores WHERE merchant_id = $1 AND customer_id = $2 AND run_id = \
             (SELECT id FROM rfm_runs WHERE merchant_id = $1 AND status = 'done' ORDER BY finished_at DESC, id DESC LIMIT 1)",
        )
        .bind(merchant)
        .bind(customer)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(Vec::new());
        };
        let mut out: Vec<String> = vec![row.try_get(0)?, row.try_get(1)?];
        let micro: String = row.try_get(2)?;
        out.extend(serde_json::from_str::<Vec<String>>(&micro).unwrap_or_default());
        Ok(out)
    }

    /// A customer's scores in the latest finished run.
    pub async fn rfm_customer(
        self,
        merchant: &str,
        customer: &str,
    ) -> Result<Option<Score>, StoreError> {
        let Some(run) = self.previous_rfm_run(merchant, "").await? else {
            return Ok(None);
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SCORE} FROM rfm_scores WHERE merchant_id = $1 AND run_id = $2 AND customer_id = $3"
        )))
        .bind(merchant)
        .bind(&run)
        .bind(customer)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(|r| {
                score_row(r).map(|mut v| {
                    v.run_id = Some(run);
                    v
                })
            })
            .transpose()
    }
}
