//! Reading customers back: one profile, a filtered list with a cursor,
//! everything held about one customer (for an access request), and
//! erasure.

use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::platform::feature::{Claim, Erase, Feature, Privacy, Tx};
use crate::platform::store::StoreError;

crate::feature_store! {
    /// Customer data: customers, orders, events, consents and the privacy log.
    CustomersDb
}

/// What customer data keeps about a customer: consents and events go at
/// erasure; orders stay as anonymous figures (the link and the row's
/// hash replaced by `erased`); the privacy log is kept, as the record
/// that each request was carried out. Every feature claims its own
/// tables the same way ([`Feature::privacy`](crate::platform::feature::Feature::privacy)).
pub const PRIVACY: Privacy = Privacy {
    tables: &[
        Claim {
            table: "consents",
            column: "customer_id",
            erase: Erase::Delete,
        },
        Claim {
            table: "customer_events",
            column: "customer_id",
            erase: Erase::Delete,
        },
        Claim {
            table: "orders",
            column: "customer_id",
            erase: Erase::Anonymise("row_hash = 'erased'"),
        },
        Claim {
            table: "privacy_log",
            column: "customer_id",
            erase: Erase::Keep("the record that each access and erasure request was carried out"),
        },
    ],
    export: Some(|tx, merchant, id| {
        Box::pin(async move {
            let orders = sqlx::query(
                "SELECT id, placed_at, currency, total_minor, platform, status, items, deliveries FROM orders \
                 WHERE merchant_id = $1 AND customer_id = $2 ORDER BY placed_at",
            )
            .bind(merchant)
            .bind(id)
            .fetch_all(&mut **tx)
            .await?;
            let events = sqlx::query(
                "SELECT id, kind, channel, campaign_id, at, sku FROM customer_events WHERE merchant_id = $1 AND customer_id = $2 ORDER BY at",
            )
            .bind(merchant)
            .bind(id)
            .fetch_all(&mut **tx)
            .await?;
            Ok(vec![
                (
                    "orders",
                    json!(
                        orders
                            .iter()
                            .map(order_row)
                            .collect::<Result<Vec<_>, _>>()?
                    ),
                ),
                (
                    "events",
                    json!(
                        events
                            .iter()
                            .map(event_row)
                            .collect::<Result<Vec<_>, _>>()?
                    ),
                ),
            ])
        })
    }),
    erase: None,
};

/// A customer record.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CustomerRow {
    /// The merchant's id for them.
    pub id: String,
    /// E-mail (normalised).
    pub email: Option<String>,
    /// Phone (E.164).
    pub phone: Option<String>,
    /// ISO country code.
    pub country: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// BCP 47 locale.
    pub locale: Option<String>,
    /// `MM-DD` or `YYYY-MM-DD`.
    pub birthday: Option<String>,
    /// The merchant's tier.
    pub tier: Option<String>,
    /// Tags.
    #[schema(value_type = Vec<String>)]
    pub tags: Value,
    /// When they became a customer.
    pub created_at: Option<i64>,
    /// The merchant's own fields.
    #[schema(value_type = Object)]
    pub attributes: Value,
    /// Last change.
    pub updated_at: i64,
}

fn customer_row(r: &AnyRow) -> Result<CustomerRow, StoreError> {
    let json = |c: &str| -> Result<Value, StoreError> {
        Ok(serde_json::from_str(&r.try_get::<String, _>(c)?).unwrap_or(Value::Null))
    };
    Ok(CustomerRow {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        phone: r.try_get("phone")?,
        country: r.try_get("country")?,
        time_zone: r.try_get("time_zone")?,
        locale: r.try_get("locale")?,
        birthday: r.try_get("birthday")?,
        tier: r.try_get("tier")?,
        tags: json("tags")?,
        created_at: r.try_get("created_at")?,
        attributes: json("attributes")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// An order as a customer's profile shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OrderRow {
    /// The order number.
    pub id: String,
    /// When it was placed.
    pub placed_at: i64,
    /// Its currency.
    pub currency: String,
    /// Its total, minor units.
    pub total_minor: i64,
    /// Where it was placed (`shopify`, `amazon`, …).
    pub platform: String,
    /// `paid`, `cancelled`, `refunded`, …
    pub status: String,
    /// Its lines.
    #[schema(value_type = Vec<Object>)]
    pub items: Value,
    /// When its parcels were delivered, ms since the epoch, in order.
    #[schema(value_type = Vec<i64>)]
    pub deliveries: Value,
}

fn order_row(r: &AnyRow) -> Result<OrderRow, StoreError> {
    let json = |c: &str| -> Result<Value, StoreError> {
        Ok(serde_json::from_str(&r.try_get::<String, _>(c)?).unwrap_or(Value::Null))
    };
    Ok(OrderRow {
        id: r.try_get("id")?,
        placed_at: r.try_get("placed_at")?,
        currency: r.try_get("currency")?,
        total_minor: r.try_get("total_minor")?,
        platform: r.try_get("platform")?,
        status: r.try_get("status")?,
        items: json("items")?,
        deliveries: json("deliveries")?,
    })
}

/// An event of a customer's timeline.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CustomerEvent {
    /// The event's id.
    pub id: String,
    /// `sent`, `opened`, `viewed`, `cart`, …
    pub kind: String,
    /// The channel, if any.
    pub channel: Option<String>,
    /// The campaign, if any.
    pub campaign_id: Option<String>,
    /// When.
    pub at: i64,
    /// The product, if any.
    pub sku: Option<String>,
}

fn event_row(r: &AnyRow) -> Result<CustomerEvent, StoreError> {
    Ok(CustomerEvent {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        channel: r.try_get("channel")?,
        campaign_id: r.try_get("campaign_id")?,
        at: r.try_get("at")?,
        sku: r.try_get("sku")?,
    })
}

/// A consent change.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ConsentRow {
    /// The channel.
    pub channel: String,
    /// `granted` or `withdrawn`.
    pub status: String,
    /// Where it came from (`import`, `sms-keyword`, …).
    pub source: Option<String>,
    /// When.
    pub at: i64,
}

fn consent_row(r: &AnyRow) -> Result<ConsentRow, StoreError> {
    Ok(ConsentRow {
        channel: r.try_get("channel")?,
        status: r.try_get("status")?,
        source: r.try_get("source")?,
        at: r.try_get("at")?,
    })
}

/// What a customer spent in one currency.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Spend {
    /// The currency.
    pub currency: String,
    /// Orders (not cancelled or refunded).
    pub orders: i64,
    /// Spent, minor units.
    pub spent_minor: i64,
    /// The first order.
    pub first_order_at: i64,
    /// The latest order.
    pub last_order_at: i64,
}

/// A customer's orders: totals per currency and the latest ten.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Orders {
    /// Totals per currency.
    pub by_currency: Vec<Spend>,
    /// The latest ten, newest first.
    pub latest: Vec<OrderRow>,
}

/// A customer's profile.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Profile {
    /// The record.
    pub customer: CustomerRow,
    /// Channel → `granted` or `withdrawn`, now.
    pub consent: std::collections::BTreeMap<String, String>,
    /// Every consent change, newest first.
    pub consent_history: Vec<ConsentRow>,
    /// Their orders.
    pub orders: Orders,
    /// The latest twenty events, newest first.
    pub events: Vec<CustomerEvent>,
    /// Scores and predictions in the latest RFM run, if scored.
    pub value: Option<crate::rfm::store::Score>,
}

/// An export or erasure.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PrivacyEntry {
    /// The customer.
    pub customer_id: String,
    /// `export` or `erase`.
    pub action: String,
    /// Who asked.
    pub actor: String,
    /// When.
    pub at: i64,
    /// What was done (rows per table for an erasure).
    #[schema(value_type = Object)]
    pub detail: Value,
}

/// Filters of the customer list.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Two-letter country code.
    pub country: Option<String>,
    /// Has this tag.
    pub tag: Option<String>,
    /// Created at or after (ms since epoch).
    pub created_from: Option<i64>,
    /// Created before (ms since epoch).
    pub created_until: Option<i64>,
    /// Spent at least this much (minor units of `currency`).
    pub min_spent: Option<i64>,
    /// The currency of `min_spent`.
    pub currency: Option<String>,
    /// From the previous page's `next`.
    pub cursor: Option<String>,
    /// Customers per page (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

const CUSTOMER_COLUMNS: &str = "id, email, phone, country, time_zone, locale, birthday, tier, tags, created_at, attributes, updated_at";

impl CustomersDb<'_> {
    async fn rows(
        self,
        sql: &'static str,
        merchant: &str,
        customer: &str,
    ) -> Result<Vec<AnyRow>, StoreError> {
        Ok(sqlx::query(sql)
            .bind(merchant)
            .bind(customer)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The customer, their consent now and before, an order summary with
    /// the latest orders, and the latest events; `None` if unknown.
    pub async fn customer_profile(
        self,
        merchant: &str,
        id: &str,
    ) -> Result<Option<Profile>, StoreError> {
        let Some(c) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE merchant_id = $1 AND id = $2"
        )))
        .bind(merchant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let consents = self
            .rows(
                "SELECT channel, status, source, at FROM consents WHERE merchant_id = $1 AND customer_id = $2 ORDER BY at DESC",
                merchant,
                id,
            )
            .await?;
        let history: Vec<ConsentRow> =
            consents.iter().map(consent_row).collect::<Result<_, _>>()?;
        let mut now = std::collections::BTreeMap::new();
        for c in &history {
            now.entry(c.channel.clone())
                .or_insert_with(|| c.status.clone());
        }
        let totals = self
            .rows(
                "SELECT currency, COUNT(*) AS n, CAST(SUM(total_minor) AS BIGINT) AS spent, MIN(placed_at) AS first, MAX(placed_at) AS last \
                 FROM orders WHERE merchant_id = $1 AND customer_id = $2 AND status NOT IN ('cancelled', 'refunded') GROUP BY currency",
                merchant,
                id,
            )
            .await?;
        let spent: Vec<Spend> = totals
            .iter()
            .map(|r| {
                Ok::<_, StoreError>(Spend {
                    currency: r.try_get(0)?,
                    orders: r.try_get(1)?,
                    spent_minor: r.try_get(2)?,
                    first_order_at: r.try_get(3)?,
                    last_order_at: r.try_get(4)?,
                })
            })
            .collect::<Result<_, _>>()?;
        let orders = self
            .rows(
                "SELECT id, placed_at, currency, total_minor, platform, status, items, deliveries FROM orders \
                 WHERE merchant_id = $1 AND customer_id = $2 ORDER BY placed_at DESC LIMIT 10",
                merchant,
                id,
            )
            .await?;
        let events = self
            .rows(
                "SELECT id, kind, channel, campaign_id, at, sku FROM customer_events \
                 WHERE merchant_id = $1 AND customer_id = $2 ORDER BY at DESC LIMIT 20",
                merchant,
                id,
            )
            .await?;
        Ok(Some(Profile {
            customer: customer_row(&c)?,
            consent: now,
            consent_history: history,
            orders: Orders {
                by_currency: spent,
                latest: orders.iter().map(order_row).collect::<Result<_, _>>()?,
            },
            events: events.iter().map(event_row).collect::<Result<_, _>>()?,
            value: None,
        }))
    }

    /// A page of customers by id, filtered; and the cursor of the next page.
    pub async fn list_customers(
        self,
        merchant: &str,
        q: &ListQuery,
    ) -> Result<(Vec<CustomerRow>, Option<String>), StoreError> {
        let limit = i64::from(q.limit.unwrap_or(50).clamp(1, 500));
        let mut sql = format!("SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE merchant_id = $1");
        let mut n = 1;
        let mut mark = || {
            n += 1;
            format!("${n}")
        };
        // Parameters in order: text (Ok) or number (Err).
        let mut binds: Vec<Result<String, i64>> = Vec::new();
        if let Some(c) = &q.country {
            sql += &format!(" AND country = {}", mark());
            binds.push(Ok(c.to_uppercase()));
        }
        if let Some(t) = &q.tag {
            sql += &format!(" AND tags LIKE {}", mark());
            let escaped = serde_json::to_string(t)
                .unwrap_or_default()
                .replace(['%', '_'], "");
            binds.push(Ok(format!("%{escaped}%")));
        }
        if let Some(from) = q.created_from {
            sql += &format!(" AND created_at >= {}", mark());
            binds.push(Err(from));
        }
        if let Some(until) = q.created_until {
            sql += &format!(" AND created_at < {}", mark());
            binds.push(Err(until));
        }
        if let (Some(min), Some(currency)) = (q.min_spent, &q.currency) {
            let (cur, amount) = (mark(), mark());
            sql += &format!(
                " AND (SELECT COALESCE(CAST(SUM(total_minor) AS BIGINT), 0) FROM orders o WHERE o.merchant_id = c.merchant_id \
                 AND o.customer_id = c.id AND o.currency = {cur} AND o.status NOT IN ('cancelled', 'refunded')) >= {amount}"
            );
            binds.push(Ok(currency.to_uppercase()));
            binds.push(Err(min));
        }
        if let Some(after) = &q.cursor {
            sql += &format!(" AND id > {}", mark());
            binds.push(Ok(after.clone()));
        }
        sql += &format!(" ORDER BY id LIMIT {}", limit + 1);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(merchant);
        for b in binds {
            query = match b {
                Ok(t) => query.bind(t),
                Err(i) => query.bind(i),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut page: Vec<CustomerRow> = rows.iter().map(customer_row).collect::<Result<_, _>>()?;
        let next = (page.len() as i64 > limit).then(|| {
            page.truncate(limit as usize);
            page.last().map(|c| c.id.clone()).unwrap_or_default()
        });
        Ok((page, next))
    }

    /// The ids of `merchant`'s customers with this (E.164) number.
    pub async fn customers_with_phone(
        self,
        merchant: &str,
        phone: &str,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query("SELECT id FROM customers WHERE merchant_id = $1 AND phone = $2 ORDER BY id")
            .bind(merchant)
            .bind(phone)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }

    /// How many customers `merchant` has.
    pub async fn customer_count(self, merchant: &str) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE merchant_id = $1")
                .bind(merchant)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Everything held about one customer (GDPR Art. 15 and 20): the
    /// profile, and every feature's part, read in one transaction.
    pub async fn customer_export(
        self,
        merchant: &str,
        id: &str,
        features: &[&Feature],
    ) -> Result<Option<Value>, StoreError> {
        let Some(profile) = self.customer_profile(merchant, id).await? else {
            return Ok(None);
        };
        let mut out = serde_json::Map::new();
        out.insert("customer".into(), json!(profile.customer));
        out.insert("consent_history".into(), json!(profile.consent_history));
        let mut tx = self.pool.begin().await?;
        for privacy in features.iter().filter_map(|f| f.privacy) {
            let parts = match privacy.export {
                Some(export) => export(&mut tx, merchant, id).await?,
                None => claimed_rows(&mut tx, privacy.tables, merchant, id).await?,
            };
            for (name, part) in parts {
                out.insert(name.into(), part);
            }
        }
        tx.commit().await?;
        Ok(Some(Value::Object(out)))
    }

    /// Erase one customer (GDPR Art. 17): their record goes, and every
    /// feature's claimed rows are deleted or anonymised as the feature
    /// says, in one transaction, with the counts in the privacy log.
    /// False if there was no such customer.
    pub async fn erase_customer(
        self,
        merchant: &str,
        id: &str,
        actor: &str,
        features: &[&Feature],
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let gone = sqlx::query("DELETE FROM customers WHERE merchant_id = $1 AND id = $2")
            .bind(merchant)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        for hook in features
            .iter()
            .filter_map(|f| f.privacy.and_then(|p| p.erase))
        {
            hook(&mut tx, merchant, id).await?;
        }
        let mut removed = serde_json::Map::new();
        for claim in features
            .iter()
            .filter_map(|f| f.privacy)
            .flat_map(|p| p.tables)
        {
            let n = claim.erase(&mut tx, merchant, id).await?;
            match claim.erase {
                Erase::Delete => removed.insert(claim.table.into(), json!(n)),
                Erase::Anonymise(_) => {
                    removed.insert(format!("{} (anonymised)", claim.table), json!(n))
                }
                Erase::Keep(_) => None,
            };
        }
        let found = gone > 0 || removed.values().any(|v| v.as_u64() > Some(0));
        if found {
            sqlx::query("INSERT INTO privacy_log (merchant_id, customer_id, action, actor, at, detail) VALUES ($1, $2, 'erase', $3, $4, $5)")
                .bind(merchant)
                .bind(id)
                .bind(actor)
                .bind(crate::now_ms())
                .bind(Value::Object(removed).to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(found)
    }

    /// Record that a customer's data was exported.
    pub async fn log_export(self, merchant: &str, id: &str, actor: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO privacy_log (merchant_id, customer_id, action, actor, at, detail) VALUES ($1, $2, 'export', $3, $4, '{}')")
            .bind(merchant)
            .bind(id)
            .bind(actor)
            .bind(crate::now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every customer id of `merchant`, in order.
    pub async fn customer_ids(self, merchant: &str) -> Result<Vec<String>, StoreError> {
        sqlx::query("SELECT id FROM customers WHERE merchant_id = $1 ORDER BY id")
            .bind(merchant)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }

    /// Where a customer lives and since when they are one; `None` for an
    /// unknown customer.
    pub async fn whereabouts(
        self,
        merchant: &str,
        id: &str,
    ) -> Result<Option<Whereabouts>, StoreError> {
        sqlx::query(
            "SELECT country, time_zone, created_at FROM customers WHERE merchant_id = $1 AND id = $2",
        )
        .bind(merchant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| {
            Ok(Whereabouts {
                country: r.try_get(0)?,
                time_zone: r.try_get(1)?,
                created_at: r.try_get(2)?,
            })
        })
        .transpose()
    }

    /// A customer's events on a channel since `since`, newest first.
    pub async fn channel_events(
        self,
        merchant: &str,
        id: &str,
        since: i64,
    ) -> Result<Vec<ChannelEvent>, StoreError> {
        sqlx::query(
            "SELECT kind, channel, campaign_id, at FROM customer_events \
             WHERE merchant_id = $1 AND customer_id = $2 AND at >= $3 AND channel IS NOT NULL ORDER BY at DESC",
        )
        .bind(merchant)
        .bind(id)
        .bind(since)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(ChannelEvent {
                kind: r.try_get(0)?,
                channel: r.try_get(1)?,
                campaign_id: r.try_get(2)?,
                at: r.try_get(3)?,
            })
        })
        .collect()
    }

    /// A customer's consent changes, oldest first: (channel, status, at).
    pub async fn consent_trail(
        self,
        merchant: &str,
        id: &str,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        sqlx::query(
            "SELECT channel, status, at FROM consents WHERE merchant_id = $1 AND customer_id = $2 ORDER BY at",
        )
        .bind(merchant)
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
    }

    /// Suppressions since `since`, counted by cause: consent withdrawn
    /// (by source), unsubscribes, complaints and hard bounces.
    pub async fn suppressions_since(
        self,
        merchant: &str,
        since: i64,
    ) -> Result<std::collections::BTreeMap<String, u64>, StoreError> {
        let mut out = std::collections::BTreeMap::new();
        for r in sqlx::query(
            "SELECT COALESCE(source, 'import'), CAST(COUNT(*) AS BIGINT) FROM consents \
             WHERE merchant_id = $1 AND status = 'withdrawn' AND at >= $2 GROUP BY COALESCE(source, 'import')",
        )
        .bind(merchant)
        .bind(since)
        .fetch_all(&self.pool)
        .await?
        {
            let source: String = r.try_get(0)?;
            out.insert(
                format!("consent withdrawn ({source})"),
                r.try_get::<i64, _>(1)? as u64,
            );
        }
        for r in sqlx::query(
            "SELECT kind, CAST(COUNT(*) AS BIGINT) FROM customer_events \
             WHERE merchant_id = $1 AND kind IN ('unsubscribed', 'complained', 'bounced') AND at >= $2 GROUP BY kind",
        )
        .bind(merchant)
        .bind(since)
        .fetch_all(&self.pool)
        .await?
        {
            let kind: String = r.try_get(0)?;
            let cause = if kind == "bounced" {
                "hard bounce".into()
            } else {
                kind
            };
            out.insert(cause, r.try_get::<i64, _>(1)? as u64);
        }
        Ok(out)
    }

    /// Every export and erasure of `merchant`, newest first.
    pub async fn privacy_log(self, merchant: &str) -> Result<Vec<PrivacyEntry>, StoreError> {
        let rows = sqlx::query("SELECT customer_id, action, actor, at, detail FROM privacy_log WHERE merchant_id = $1 ORDER BY at DESC")
            .bind(merchant)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let detail: String = r.try_get(4)?;
                Ok(PrivacyEntry {
                    customer_id: r.try_get(0)?,
                    action: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    at: r.try_get(3)?,
                    detail: serde_json::from_str(&detail).unwrap_or(Value::Null),
                })
            })
            .collect()
    }
}

/// The rows of a feature's claimed tables about customer `id`, as stored
/// (without the merchant column), one export part per table: for
/// features whose rows need no shaping.
async fn claimed_rows(
    tx: &mut Tx,
    claims: &[Claim],
    merchant: &str,
    id: &str,
) -> Result<Vec<(&'static str, Value)>, StoreError> {
    let mut parts = Vec::new();
    for c in claims.iter().filter(|c| !matches!(c.erase, Erase::Keep(_))) {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT * FROM {} WHERE merchant_id = $1 AND {} = $2",
            c.table, c.column
        )))
        .bind(merchant)
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
        parts.push((
            c.table,
            Value::Array(rows.iter().map(any_row_json).collect()),
        ));
    }
    Ok(parts)
}

/// A row of any table as a JSON object, each column as the type it holds.
fn any_row_json(r: &AnyRow) -> Value {
    use sqlx::Column;
    let mut o = serde_json::Map::new();
    for (i, col) in r.columns().iter().enumerate() {
        if col.name() == "merchant_id" {
            continue;
        }
        let v = if let Ok(v) = r.try_get::<Option<i64>, _>(i) {
            json!(v)
        } else if let Ok(v) = r.try_get::<Option<f64>, _>(i) {
            json!(v)
        } else if let Ok(v) = r.try_get::<Option<String>, _>(i) {
            json!(v)
        } else if let Ok(v) = r.try_get::<Option<bool>, _>(i) {
            json!(v)
        } else if let Ok(v) = r.try_get::<Option<Vec<u8>>, _>(i) {
            use base64::Engine;
            json!(v.map(|b| base64::engine::general_purpose::STANDARD.encode(b)))
        } else {
            Value::Null
        };
        o.insert(col.name().to_string(), v);
    }
    Value::Object(o)
}

/// Where a customer lives, for planning sends.
#[derive(Debug, Clone)]
pub struct Whereabouts {
    /// ISO country code, if known.
    pub country: Option<String>,
    /// IANA time zone, if known.
    pub time_zone: Option<String>,
    /// When they became a customer (ms since the epoch).
    pub created_at: Option<i64>,
}

/// An event of a customer on a channel.
#[derive(Debug, Clone)]
pub struct ChannelEvent {
    /// `sent`, `delivered`, `opened`, `clicked`, `replied`, …
    pub kind: String,
    /// The channel.
    pub channel: String,
    /// The campaign, if any.
    pub campaign_id: Option<String>,
    /// When (ms since the epoch).
    pub at: i64,
}
