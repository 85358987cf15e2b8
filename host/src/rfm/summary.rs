//! Each customer's purchase summary as of a date, from the store: orders
//! (streamed in customer order), then the customers' tags and birthdays
//! and their engagement and cart events.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use serde_json::{Value, json};
use sqlx::Row;

use crate::platform::store::{Store, StoreError};

const DAY: f64 = 86_400_000.0;

/// One customer's summary, as the `customer-summary` WIT record.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The customer's id.
    pub id: String,
    orders: u32,
    purchase_days: Vec<i64>,
    first: i64,
    last: i64,
    spent: f64,
    repeat_value: f64,
    repeat_orders: u32,
    engaged_30: u32,
    engaged_60: u32,
    last_cart: Option<i64>,
    birthday: Option<(u32, u32)>,
    campaigns: Vec<String>,
    tags: Vec<String>,
}

impl Summary {
    /// The WIT record, times in units of `unit_days`, as of `as_of`.
    pub fn to_wit(&self, as_of: i64, unit_days: f64) -> Value {
        let unit = unit_days * DAY;
        let (recency, age) = if self.orders > 0 {
            (
                (self.last - self.first) as f64 / unit,
                (as_of - self.first) as f64 / unit,
            )
        } else {
            (0.0, 0.0)
        };
        let today = chrono::DateTime::from_timestamp_millis(as_of).map(|d| d.date_naive());
        let to_birthday = match (self.birthday, today) {
            (Some((m, d)), Some(today)) => next_birthday(today, m, d),
            _ => None,
        };
        json!({
            "customer-id": self.id,
            "orders": self.orders,
            "repeat-purchases": self.purchase_days.len().saturating_sub(1),
            "recency": recency,
            "age": age,
            "days-since-order": if self.orders > 0 { (as_of - self.last) as f64 / DAY } else { 0.0 },
            "spent": self.spent,
            "mean-repeat-value": if self.repeat_orders > 0 { self.repeat_value / f64::from(self.repeat_orders) } else { 0.0 },
            "engaged-30": self.engaged_30,
            "engaged-60": self.engaged_60,
            "days-since-cart": self.last_cart.map(|t| (as_of - t) as f64 / DAY),
            "days-to-birthday": to_birthday,
            "campaigns": self.campaigns.len(),
            "tags": self.tags,
        })
    }

    fn add_order(&mut self, at: i64, value: f64) {
        let day = at.div_euclid(86_400_000);
        if self.orders == 0 {
            self.first = at;
        }
        self.orders += 1;
        self.last = at;
        self.spent += value;
        if self.purchase_days.last() != Some(&day) {
            self.purchase_days.push(day);
        }
        // Repeat purchases are those after the first purchase day.
        if self.purchase_days.len() > 1 {
            self.repeat_value += value;
            self.repeat_orders += 1;
        }
    }
}

fn next_birthday(today: chrono::NaiveDate, month: u32, day: u32) -> Option<u32> {
    use chrono::Datelike;
    (0..=1).find_map(|y| {
        let date = chrono::NaiveDate::from_ymd_opt(today.year() + y, month, day)
            .or_else(|| chrono::NaiveDate::from_ymd_opt(today.year() + y, month, 28))?;
        let days = (date - today).num_days();
        (days >= 0).then_some(days as u32)
    })
}

/// `AND {column} IN ($3, …)` for the customers in `only` (nothing for
/// all of them).
fn among(column: &str, only: Option<&[String]>) -> String {
    match only {
        None => String::new(),
        Some(ids) => {
            let marks: Vec<String> = (0..ids.len().max(1))
                .map(|i| format!("${}", i + 3))
                .collect();
            format!(" AND {column} IN ({})", marks.join(", "))
        }
    }
}

/// A query with `merchant` and `second` bound as `$1` and `$2`, then the
/// ids of `only`.
fn bound<'q>(
    sql: String,
    merchant: &'q str,
    second: i64,
    only: Option<&'q [String]>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(merchant)
        .bind(second);
    match only {
        Some([]) => q = q.bind(""),
        Some(ids) => {
            for id in ids {
                q = q.bind(id.as_str());
            }
        }
        None => {}
    }
    q
}

/// Every customer's summary as of `as_of` (orders after it are ignored),
/// in customer-id order; only those of `only` when it is given.
pub async fn summaries(
    store: &Store,
    merchant: &str,
    as_of: i64,
    only: Option<&[String]>,
) -> Result<Vec<Summary>, StoreError> {
    let mut by_id: Vec<Summary> = Vec::new();
    {
        let sql = format!(
            "SELECT customer_id, placed_at, total_minor, currency FROM orders \
             WHERE merchant_id = $1 AND placed_at <= $2{} ORDER BY customer_id, placed_at",
            among("customer_id", only)
        );
        let mut rows = bound(sql, merchant, as_of, only).fetch(&store.pool);
        let mut digits: HashMap<String, f64> = HashMap::new();
        while let Some(r) = rows.try_next().await? {
            let id: String = r.try_get(0)?;
            let currency: String = r.try_get(3)?;
            let scale = *digits.entry(currency.clone()).or_insert_with(|| {
                10f64.powi(crate::customers::money::exponent(&currency).unwrap_or(2) as i32)
            });
            let value = r.try_get::<i64, _>(2)? as f64 / scale;
            if by_id.last().is_none_or(|s| s.id != id) {
                by_id.push(Summary {
                    id,
                    ..Summary::default()
                });
            }
            if let Some(s) = by_id.last_mut() {
                s.add_order(r.try_get(1)?, value);
            }
        }
    }
    let mut index: HashMap<String, usize> = by_id
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.clone(), i))
        .collect();
    {
        // Every customer is in the base, with or without orders.
        let sql = format!(
            "SELECT id, tags, birthday FROM customers WHERE merchant_id = $1 AND $2 = $2{}",
            among("id", only)
        );
        let mut rows = bound(sql, merchant, 0, only).fetch(&store.pool);
        while let Some(r) = rows.try_next().await? {
            let id: String = r.try_get(0)?;
            let i = *index.entry(id.clone()).or_insert_with(|| {
                by_id.push(Summary {
                    id,
                    ..Summary::default()
                });
                by_id.len() - 1
            });
            let s = &mut by_id[i];
            s.tags = serde_json::from_str(&r.try_get::<String, _>(1)?).unwrap_or_default();
            s.birthday = r
                .try_get::<Option<String>, _>(2)?
                .and_then(|b| chrono::NaiveDate::parse_from_str(&b, "%Y-%m-%d").ok())
                .map(|d| {
                    use chrono::Datelike;
                    (d.month(), d.day())
                });
        }
    }
    {
        let since = as_of - 60 * 86_400_000;
        let sql = format!(
            "SELECT customer_id, kind, at, campaign_id FROM customer_events \
             WHERE merchant_id = $1 AND at <= $2{}",
            among("customer_id", only)
        );
        let mut rows = bound(sql, merchant, as_of, only).fetch(&store.pool);
        while let Some(r) = rows.try_next().await? {
            let id: String = r.try_get(0)?;
            let Some(&i) = index.get(&id) else { continue };
            let s = &mut by_id[i];
            let kind: String = r.try_get(1)?;
            let at: i64 = r.try_get(2)?;
            if matches!(kind.as_str(), "opened" | "clicked" | "replied") && at >= since {
                s.engaged_60 += 1;
                if at >= as_of - 30 * 86_400_000 {
                    s.engaged_30 += 1;
                }
            }
            if kind == "added-to-cart" && s.last_cart.is_none_or(|t| at > t) {
                s.last_cart = Some(at);
            }
            if let Some(c) = r.try_get::<Option<String>, _>(3)?
                && !c.is_empty()
                && !s.campaigns.contains(&c)
            {
                s.campaigns.push(c);
            }
        }
    }
    by_id.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(by_id)
}
