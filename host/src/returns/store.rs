//! Storage of return sessions, and the order facts a flow starts from.

use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::platform::feature::{Claim, Erase, Privacy};
use crate::platform::store::StoreError;

crate::feature_store! {
    /// Returns' tables: sessions and photos.
    ReturnsDb
}

/// What returns keep about a customer: a return stays for the merchant's
/// figures (item, reason, money) with the customer's answers, token and
/// the person's note gone; photos go. The export has both as stored.
pub const PRIVACY: Privacy = Privacy {
    tables: &[
        Claim {
            table: "returns",
            column: "customer_id",
            erase: Erase::Anonymise(
                "answers = '[]', step = '{}', token_hash = 'erased', note = NULL",
            ),
        },
        Claim {
            table: "return_photos",
            column: "customer_id",
            erase: Erase::Delete,
        },
    ],
    export: Some(|tx, merchant, id| {
        Box::pin(async move {
            let returns = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM returns WHERE merchant_id = $1 AND customer_id = $2 ORDER BY created_at"
            )))
            .bind(merchant)
            .bind(id)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(row)
            .collect::<Result<Vec<_>, _>>()?;
            let photos = sqlx::query(
                "SELECT id, return_id, content_type, data FROM return_photos WHERE merchant_id = $1 AND customer_id = $2 ORDER BY created_at",
            )
            .bind(merchant)
            .bind(id)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(photo)
            .collect::<Result<Vec<_>, _>>()?;
            Ok(vec![
                ("returns", json!(returns)),
                ("return_photos", json!(photos)),
            ])
        })
    }),
    erase: None,
};

/// An order as a return flow sees it, with its customer.
#[derive(Debug, Clone)]
pub struct OrderFacts {
    /// The customer's id.
    pub customer_id: String,
    /// The customer's e-mail (normalised), if known.
    pub email: Option<String>,
    /// `order-facts` and `customer-facts` of the WIT session, as JSON.
    pub order: Value,
    /// See `order`.
    pub customer: Value,
    /// The customer's IANA time zone, if on file.
    pub time_zone: Option<String>,
}

/// Where a return stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ReturnStatus {
    /// A form is shown.
    Open,
    /// A refund or a review is shown, not yet submitted.
    Ready,
    /// Refunded (submitted).
    Approved,
    /// Waiting for a person.
    Review,
    /// Refused (settled as shown).
    Rejected,
    /// Handed to a marketplace (settled as shown).
    Marketplace,
    /// A person accepted it.
    Accepted,
    /// A person declined it.
    Declined,
}

impl ReturnStatus {
    /// Every status, as stored.
    pub const ALL: [ReturnStatus; 8] = [
        ReturnStatus::Review,
        ReturnStatus::Accepted,
        ReturnStatus::Declined,
        ReturnStatus::Approved,
        ReturnStatus::Rejected,
        ReturnStatus::Marketplace,
        ReturnStatus::Open,
        ReturnStatus::Ready,
    ];

    /// Its stored (and API) name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnStatus::Open => "open",
            ReturnStatus::Ready => "ready",
            ReturnStatus::Approved => "approved",
            ReturnStatus::Review => "review",
            ReturnStatus::Rejected => "rejected",
            ReturnStatus::Marketplace => "marketplace",
            ReturnStatus::Accepted => "accepted",
            ReturnStatus::Declined => "declined",
        }
    }

    /// The status named `s`.
    pub fn parse(s: &str) -> Option<ReturnStatus> {
        ReturnStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Not settled yet: the customer can still change it, and it lapses.
    pub fn unfinished(self) -> bool {
        matches!(self, ReturnStatus::Open | ReturnStatus::Ready)
    }

    /// Money goes back (the plugin approved it, or a person accepted it).
    pub fn refunded(self) -> bool {
        matches!(self, ReturnStatus::Approved | ReturnStatus::Accepted)
    }
}

impl std::fmt::Display for ReturnStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored status, or a decode error naming it.
fn status(r: &AnyRow, column: &str) -> Result<ReturnStatus, StoreError> {
    let s: String = r.try_get(column)?;
    ReturnStatus::parse(&s).ok_or_else(|| {
        sqlx::Error::Decode(format!("return status `{s}` is not known").into()).into()
    })
}

/// One return session.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReturnRow {
    /// Session id.
    pub id: String,
    /// Hash of the customer's session token.
    #[serde(skip)]
    pub token_hash: String,
    /// The order.
    pub order_id: String,
    /// The order's customer (`erased` after erasure).
    pub customer_id: String,
    /// The customer's locale.
    pub locale: String,
    /// The answers so far: `[{field, value}]`.
    #[schema(value_type = Vec<Object>)]
    pub answers: Value,
    /// The plugin's last step: `{"form": …}` or `{"outcome": …}`.
    #[schema(value_type = Object)]
    pub step: Value,
    /// `open` (a form is shown), `ready` (a refund or a review is shown,
    /// not yet submitted), then `approved` or `review`; `rejected` and
    /// `marketplace` are settled as soon as they are shown; a person turns
    /// `review` into `accepted` or `declined`.
    pub status: ReturnStatus,
    /// For `review`: `priority` or `standard`.
    pub queue: Option<String>,
    /// The customer's reason, once given.
    pub reason: Option<String>,
    /// The item, once chosen.
    pub sku: Option<String>,
    /// Its category.
    pub category: Option<String>,
    /// Units returned.
    pub quantity: Option<i64>,
    /// The order's currency.
    pub currency: Option<String>,
    /// The refund, in minor units, once settled.
    pub refund_minor: Option<i64>,
    /// Fees deducted, in minor units (positive).
    pub fees_minor: Option<i64>,
    /// `pickup` or `drop-off`.
    pub method: Option<String>,
    /// When a carrier pickup was requested.
    pub pickup_at: Option<i64>,
    /// A person's note.
    pub note: Option<String>,
    /// Who decided (for `accepted` / `declined`).
    pub decided_by: Option<String>,
    /// Times, ms since the epoch.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// When an unfinished session lapses.
    pub expires_at: i64,
    /// When the customer submitted it.
    pub submitted_at: Option<i64>,
}

const COLUMNS: &str = "id, token_hash, order_id, customer_id, locale, answers, step, status, queue, reason, sku, category, quantity, currency, refund_minor, fees_minor, method, pickup_at, note, decided_by, created_at, updated_at, expires_at, submitted_at";

fn row(r: &AnyRow) -> Result<ReturnRow, StoreError> {
    let json = |c: &str| -> Result<Value, StoreError> {
        let text: String = r.try_get(c)?;
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    };
    Ok(ReturnRow {
        id: r.try_get("id")?,
        token_hash: r.try_get("token_hash")?,
        order_id: r.try_get("order_id")?,
        customer_id: r.try_get("customer_id")?,
        locale: r.try_get("locale")?,
        answers: json("answers")?,
        step: json("step")?,
        status: status(r, "status")?,
        queue: r.try_get("queue")?,
        reason: r.try_get("reason")?,
        sku: r.try_get("sku")?,
        category: r.try_get("category")?,
        quantity: r.try_get("quantity")?,
        currency: r.try_get("currency")?,
        refund_minor: r.try_get("refund_minor")?,
        fees_minor: r.try_get("fees_minor")?,
        method: r.try_get("method")?,
        pickup_at: r.try_get("pickup_at")?,
        note: r.try_get("note")?,
        decided_by: r.try_get("decided_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        expires_at: r.try_get("expires_at")?,
        submitted_at: r.try_get("submitted_at")?,
    })
}

impl ReturnsDb<'_> {
    /// The order `order_id` of `merchant` with its customer, and the units
    /// of each line already returned (approved, or accepted by a person)
    /// by sessions other than `except`.
    pub async fn return_facts(
        self,
        merchant: &str,
        order_id: &str,
        except: &str,
    ) -> Result<Option<OrderFacts>, StoreError> {
        let Some(o) = sqlx::query(
            "SELECT o.customer_id, o.placed_at, o.currency, o.platform, o.items, o.deliveries, c.email, c.tier, c.country, c.time_zone \
             FROM orders o LEFT JOIN customers c ON c.merchant_id = o.merchant_id AND c.id = o.customer_id \
             WHERE o.merchant_id = $1 AND o.id = $2",
        )
        .bind(merchant)
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let customer_id: String = o.try_get(0)?;
        let currency: String = o.try_get(2)?;
        let returned = sqlx::query(
            "SELECT sku, CAST(SUM(quantity) AS BIGINT) FROM returns \
             WHERE merchant_id = $1 AND order_id = $2 AND id <> $3 AND status IN ('approved', 'accepted') AND sku IS NOT NULL GROUP BY sku",
        )
        .bind(merchant)
        .bind(order_id)
        .bind(except)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
        let spent = sqlx::query(
            "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN currency = $3 THEN total_minor ELSE 0 END), 0) AS BIGINT) \
             FROM orders WHERE merchant_id = $1 AND customer_id = $2",
        )
        .bind(merchant)
        .bind(&customer_id)
        .bind(&currency)
        .fetch_one(&self.pool)
        .await?;
        let items: Value =
            serde_json::from_str(&o.try_get::<String, _>(4)?).unwrap_or_else(|_| json!([]));
        let lines: Vec<Value> = items
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(|i| {
                let sku = i["sku"].as_str().unwrap_or_default();
                let back = returned
                    .iter()
                    .find(|(s, _)| s == sku)
                    .map_or(0, |(_, n)| *n);
                json!({
                    "sku": sku,
                    "category": i["category"].as_str().unwrap_or("uncategorised"),
                    "quantity": i["quantity"].as_i64().unwrap_or(0).clamp(0, u32::MAX.into()),
                    "returned": back.clamp(0, u32::MAX.into()),
                    "unit-price": {"amount-minor": i["unit_price_minor"].as_i64().unwrap_or(0), "currency": currency},
                })
            })
            .collect();
        let deliveries: Value =
            serde_json::from_str(&o.try_get::<String, _>(5)?).unwrap_or_else(|_| json!([]));
        Ok(Some(OrderFacts {
            email: o.try_get(6)?,
            order: json!({
                "id": order_id,
                "platform": o.try_get::<String, _>(3)?,
                "placed-at": o.try_get::<i64, _>(1)?,
                "lines": lines,
                "deliveries": deliveries,
            }),
            customer: json!({
                "tier": o.try_get::<Option<String>, _>(7)?,
                "country": o.try_get::<Option<String>, _>(8)?,
                "orders": spent.try_get::<i64, _>(0)?.clamp(0, u32::MAX.into()),
                "spent": {"amount-minor": spent.try_get::<i64, _>(1)?, "currency": currency},
            }),
            customer_id,
            time_zone: o.try_get(9)?,
        }))
    }

    /// Delete `merchant`'s sessions that lapsed unfinished before `before`,
    /// with their photos: nobody can resume them, and they hold what a
    /// customer typed. Returns how many went.
    pub async fn purge_lapsed_returns(
        self,
        merchant: &str,
        before: i64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "DELETE FROM return_photos WHERE merchant_id = $1 AND return_id IN \
             (SELECT id FROM returns WHERE merchant_id = $1 AND status IN ('open', 'ready') AND expires_at < $2)",
        )
        .bind(merchant)
        .bind(before)
        .execute(&mut *tx)
        .await?;
        let n = sqlx::query(
            "DELETE FROM returns WHERE merchant_id = $1 AND status IN ('open', 'ready') AND expires_at < $2",
        )
        .bind(merchant)
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// Store a new session.
    pub async fn insert_return(self, merchant: &str, r: &ReturnRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO returns (merchant_id, id, token_hash, order_id, customer_id, locale, answers, step, status, created_at, updated_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(merchant)
        .bind(&r.id)
        .bind(&r.token_hash)
        .bind(&r.order_id)
        .bind(&r.customer_id)
        .bind(&r.locale)
        .bind(r.answers.to_string())
        .bind(r.step.to_string())
        .bind(r.status.as_str())
        .bind(r.created_at)
        .bind(r.updated_at)
        .bind(r.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One session.
    pub async fn return_row(
        self,
        merchant: &str,
        id: &str,
    ) -> Result<Option<ReturnRow>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM returns WHERE merchant_id = $1 AND id = $2"
        )))
        .bind(merchant)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(row)
        .transpose()
    }

    /// Save a session's progress, if it is still at `updated_at` (a
    /// concurrent step by the same customer loses, rather than mixing
    /// answers). False if it moved on meanwhile.
    pub async fn save_return(
        self,
        merchant: &str,
        r: &ReturnRow,
        was_at: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE returns SET answers = $3, step = $4, status = $5, queue = $6, reason = $7, sku = $8, category = $9, quantity = $10, \
             currency = $11, refund_minor = $12, fees_minor = $13, method = $14, pickup_at = $15, note = $16, decided_by = $17, \
             updated_at = $18, submitted_at = $19 WHERE merchant_id = $1 AND id = $2 AND updated_at = $20",
        )
        .bind(merchant)
        .bind(&r.id)
        .bind(r.answers.to_string())
        .bind(r.step.to_string())
        .bind(r.status.as_str())
        .bind(&r.queue)
        .bind(&r.reason)
        .bind(&r.sku)
        .bind(&r.category)
        .bind(r.quantity)
        .bind(&r.currency)
        .bind(r.refund_minor)
        .bind(r.fees_minor)
        .bind(&r.method)
        .bind(r.pickup_at)
        .bind(&r.note)
        .bind(&r.decided_by)
        .bind(r.updated_at)
        .bind(r.submitted_at)
        .bind(was_at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// A merchant's sessions with `status` (all when `None`), the priority
    /// queue first, then oldest first.
    pub async fn returns_list(
        self,
        merchant: &str,
        status: Option<ReturnStatus>,
        limit: i64,
    ) -> Result<Vec<ReturnRow>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM returns WHERE merchant_id = $1 AND ($2 = '' OR status = $2) \
             ORDER BY CASE WHEN queue = 'priority' THEN 0 ELSE 1 END, created_at LIMIT $3"
        )))
        .bind(merchant)
        .bind(status.map_or("", ReturnStatus::as_str))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(row)
        .collect()
    }

    /// Settled sessions (not `open` or `ready`) created since `since`:
    /// (status, reason, category, quantity, currency, refund, fees, created).
    pub async fn returns_since(
        self,
        merchant: &str,
        since: i64,
    ) -> Result<Vec<Settled>, StoreError> {
        sqlx::query(
            "SELECT status, reason, category, quantity, currency, refund_minor, fees_minor, created_at FROM returns \
             WHERE merchant_id = $1 AND created_at >= $2 AND status NOT IN ('open', 'ready')",
        )
        .bind(merchant)
        .bind(since)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(Settled {
                status: status(r, "status")?,
                reason: r.try_get(1)?,
                category: r.try_get(2)?,
                quantity: r.try_get::<Option<i64>, _>(3)?.unwrap_or(0),
                currency: r.try_get(4)?,
                refund_minor: r.try_get::<Option<i64>, _>(5)?.unwrap_or(0),
                fees_minor: r.try_get::<Option<i64>, _>(6)?.unwrap_or(0),
                created_at: r.try_get(7)?,
            })
        })
        .collect()
    }

    /// Units sold per category in orders placed since `since` (from the
    /// orders' lines), for return rates.
    pub async fn units_by_category(
        self,
        merchant: &str,
        since: i64,
    ) -> Result<std::collections::BTreeMap<String, i64>, StoreError> {
        let mut out = std::collections::BTreeMap::new();
        let mut rows =
            sqlx::query("SELECT items FROM orders WHERE merchant_id = $1 AND placed_at >= $2")
                .bind(merchant)
                .bind(since)
                .fetch(&self.pool);
        while let Some(r) =
            std::future::poll_fn(|cx| futures_core::Stream::poll_next(rows.as_mut(), cx)).await
        {
            let r = r?;
            let items: Value =
                serde_json::from_str(&r.try_get::<String, _>(0)?).unwrap_or_default();
            for i in items.as_array().map(Vec::as_slice).unwrap_or(&[]) {
                let category = i["category"].as_str().unwrap_or("uncategorised");
                *out.entry(category.to_string()).or_insert(0) +=
                    i["quantity"].as_i64().unwrap_or(0);
            }
        }
        Ok(out)
    }
}

/// A settled return, for the report.
#[derive(Debug, Clone)]
pub struct Settled {
    /// Its status.
    pub status: ReturnStatus,
    /// The customer's reason.
    pub reason: Option<String>,
    /// The item's category.
    pub category: Option<String>,
    /// Units.
    pub quantity: i64,
    /// Currency of the money below.
    pub currency: Option<String>,
    /// Refund, minor units.
    pub refund_minor: i64,
    /// Fees, minor units.
    pub fees_minor: i64,
    /// When the session started.
    pub created_at: i64,
}

/// A photo attached to a return.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Photo {
    /// Its id (`p-…`), the answer to a photo field.
    pub id: String,
    /// The return it belongs to.
    pub return_id: String,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    /// The image, base64.
    pub data: String,
}

/// A `return_photos` row (id, return_id, content_type, data).
fn photo(r: &AnyRow) -> Result<Photo, StoreError> {
    Ok(Photo {
        id: r.try_get(0)?,
        return_id: r.try_get(1)?,
        content_type: r.try_get(2)?,
        data: r.try_get(3)?,
    })
}

/// Why a photo was not stored.
#[derive(Debug, PartialEq, Eq)]
pub enum PhotoRefused {
    /// The return has its most photos.
    Return,
    /// The order's returns of the last week have their most photos.
    Order,
    /// The merchant's uploads would pass its quota.
    Quota,
}

/// What a merchant's photos take and may take.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PhotoStorage {
    /// Bytes stored.
    pub used_bytes: i64,
    /// Bytes allowed (the operator's upload quota).
    pub quota_bytes: i64,
}

/// The most photos a return may have, the most an order's returns of the
/// last [`PHOTO_WINDOW_MS`] may have, and the merchant's quota in bytes.
#[derive(Clone, Copy)]
pub struct PhotoLimits {
    /// Photos per return.
    pub per_return: i64,
    /// Photos per order in the window.
    pub per_order: i64,
    /// Bytes per merchant.
    pub quota_bytes: i64,
}

/// The window of [`PhotoLimits::per_order`]: a week.
pub const PHOTO_WINDOW_MS: i64 = 7 * 86_400_000;

impl ReturnsDb<'_> {
    /// Attach a photo to a return within `limits`, or say which one it
    /// would pass. Atomic: the merchant's row is locked (PostgreSQL) or
    /// the one writer held (SQLite) from the counts to the insert, so
    /// uploads at once cannot pass a limit.
    pub async fn insert_return_photo(
        self,
        merchant: &str,
        r: &ReturnRow,
        photo: &Photo,
        limits: PhotoLimits,
    ) -> Result<Result<(), PhotoRefused>, StoreError> {
        let mut tx = self.write_tx().await?;
        if self.pg.is_some() {
            sqlx::query("SELECT id FROM merchants WHERE id = $1 FOR UPDATE")
                .bind(merchant)
                .execute(&mut *tx)
                .await?;
        }
        let now = crate::now_ms();
        let counts = sqlx::query(
            "SELECT CAST(COALESCE(SUM(CASE WHEN p.return_id = $2 THEN 1 ELSE 0 END), 0) AS BIGINT), \
                    CAST(COALESCE(SUM(CASE WHEN r.order_id = $3 AND p.created_at > $4 THEN 1 ELSE 0 END), 0) AS BIGINT), \
                    CAST(COALESCE(SUM(p.bytes), 0) AS BIGINT) \
             FROM return_photos p LEFT JOIN returns r ON r.merchant_id = p.merchant_id AND r.id = p.return_id \
             WHERE p.merchant_id = $1",
        )
        .bind(merchant)
        .bind(&r.id)
        .bind(&r.order_id)
        .bind(now - PHOTO_WINDOW_MS)
        .fetch_one(&mut *tx)
        .await?;
        let (on_return, on_order, bytes): (i64, i64, i64) =
            (counts.try_get(0)?, counts.try_get(1)?, counts.try_get(2)?);
        let size = i64::try_from(photo.data.len()).unwrap_or(i64::MAX);
        let refused = if on_return >= limits.per_return {
            Some(PhotoRefused::Return)
        } else if on_order >= limits.per_order {
            Some(PhotoRefused::Order)
        } else if bytes.saturating_add(size) > limits.quota_bytes {
            Some(PhotoRefused::Quota)
        } else {
            None
        };
        if let Some(refused) = refused {
            return Ok(Err(refused));
        }
        sqlx::query(
            "INSERT INTO return_photos (merchant_id, id, return_id, customer_id, content_type, data, bytes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(merchant)
        .bind(&photo.id)
        .bind(&r.id)
        .bind(&r.customer_id)
        .bind(&photo.content_type)
        .bind(&photo.data)
        .bind(size)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Bytes the merchant's photos take.
    pub async fn photo_bytes(self, merchant: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM return_photos WHERE merchant_id = $1",
        )
        .bind(merchant)
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?)
    }

    /// Returns started for `order` since `since` (ms).
    pub async fn returns_started(
        self,
        merchant: &str,
        order: &str,
        since: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM returns WHERE merchant_id = $1 AND order_id = $2 AND created_at > $3",
        )
        .bind(merchant)
        .bind(order)
        .bind(since)
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?)
    }

    /// The ids of a return's photos.
    pub async fn return_photo_ids(
        self,
        merchant: &str,
        return_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query("SELECT id FROM return_photos WHERE merchant_id = $1 AND return_id = $2 ORDER BY created_at")
            .bind(merchant)
            .bind(return_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }

    /// One photo of a return.
    pub async fn return_photo(
        self,
        merchant: &str,
        return_id: &str,
        id: &str,
    ) -> Result<Option<Photo>, StoreError> {
        sqlx::query(
            "SELECT id, return_id, content_type, data FROM return_photos WHERE merchant_id = $1 AND return_id = $2 AND id = $3",
        )
        .bind(merchant)
        .bind(return_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(photo)
        .transpose()
    }
}
