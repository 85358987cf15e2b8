//! Each customer's purchase summary as of a date, from the store: orders
//! (streamed in customer order), then the customers' tags and birthdays
//! and their engagement and cart events.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use serde_json::Value;
use sqlx::Row;
use wasmtime::component::Val;

use crate::platform::store::{Store, StoreError};

const DAY: f64 = 86_400_000.0;

/// One customer's summary, as the `customer-summary` WIT record.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The customer's id.
    pub id: String,
    orders: u32,
    /// Distinct days with an order.
    days: u32,
    first: i64,
    last: i64,
    spent: f64,
    /// What the orders of the first day came to (not a repeat purchase).
    first_day: f64,
    engaged_30: u32,
    engaged_60: u32,
    last_cart: Option<i64>,
    birthday: Option<(u32, u32)>,
    campaigns: Vec<String>,
    tags: Vec<String>,
}

impl Summary {
    /// Whether the customer bought on two days or more.
    pub fn repeats(&self) -> bool {
        self.days > 1
    }

    /// The WIT record as JSON, times in units of `unit_days`, as of
    /// `as_of`.
    pub fn to_wit(&self, as_of: i64, unit_days: f64) -> Value {
        crate::platform::runtime::json::from_val(&self.to_val(as_of, unit_days))
    }

    /// The WIT record as a component value, fields in the record's order.
    ///
    /// Time is counted in whole days (UTC), as `lifetimes` counts it: the
    /// recency is from the first purchase's day to the last's, the age
    /// from the first purchase's day to the `as_of` day.
    pub fn to_val(&self, as_of: i64, unit_days: f64) -> Val {
        let day = |t: i64| t.div_euclid(DAY as i64) as f64;
        let (recency, age) = if self.orders > 0 {
            (
                (day(self.last) - day(self.first)) / unit_days,
                (day(as_of) - day(self.first)) / unit_days,
            )
        } else {
            (0.0, 0.0)
        };
        let today = chrono::DateTime::from_timestamp_millis(as_of).map(|d| d.date_naive());
        let to_birthday = match (self.birthday, today) {
            (Some((m, d)), Some(today)) => next_birthday(today, m, d),
            _ => None,
        };
        let f = |x: f64| Val::Float64(x);
        let fields = vec![
            ("customer-id", Val::String(self.id.clone())),
            ("orders", Val::U32(self.orders)),
            ("repeat-purchases", Val::U32(self.days.saturating_sub(1))),
            ("recency", f(recency)),
            ("age", f(age)),
            (
                "days-since-order",
                f(if self.orders > 0 {
                    (as_of - self.last) as f64 / DAY
                } else {
                    0.0
                }),
            ),
            ("spent", f(self.spent)),
            // The mean value of the repeat purchases (Fader, Hardie & Lee
            // 2005): each later day's orders are one purchase; the first
            // day's are not a repeat.
            (
                "mean-repeat-value",
                f(if self.days > 1 {
                    (self.spent - self.first_day) / f64::from(self.days - 1)
                } else {
                    0.0
                }),
            ),
            ("engaged-30", Val::U32(self.engaged_30)),
            ("engaged-60", Val::U32(self.engaged_60)),
            (
                "days-since-cart",
                Val::Option(
                    self.last_cart
                        .map(|t| Box::new(f((as_of - t) as f64 / DAY))),
                ),
            ),
            (
                "days-to-birthday",
                Val::Option(to_birthday.map(|d| Box::new(Val::U32(d)))),
            ),
            ("campaigns", Val::U32(self.campaigns.len() as u32)),
            (
                "tags",
                Val::List(self.tags.iter().map(|t| Val::String(t.clone())).collect()),
            ),
        ];
        Val::Record(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    /// The customer's orders, as the store added them up.
    fn add_orders(&mut self, o: Orders) {
        (self.orders, self.first, self.last) = (o.count, o.first, o.last);
        (self.days, self.spent, self.first_day) = (o.days, o.value, o.first_day);
    }
}

/// A customer's orders (in one currency, or valued in the first one's
/// minor units), added up by the store.
struct Orders {
    count: u32,
    first: i64,
    last: i64,
    value: f64,
    days: u32,
    /// The value of the first day's orders.
    first_day: f64,
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

/// Each customer's orders up to `as_of` (not cancelled or refunded), added up in the database in one
/// pass over the customer index (orders, first and last, total, distinct
/// days, the first day's total), in customer order; per currency as well
/// when `per_currency`.
/// The flag says whether the row's orders are all in its currency.
async fn added_up(
    store: &Store,
    merchant: &str,
    as_of: i64,
    only: Option<&[String]>,
    per_currency: bool,
) -> Result<Vec<(String, Orders, bool)>, StoreError> {
    let group = if per_currency { ", currency" } else { "" };
    let sql = format!(
        "SELECT customer_id, MIN(currency), MAX(currency), CAST(COUNT(*) AS BIGINT), MIN(placed_at), MAX(placed_at), \
            CAST(SUM(total_minor) AS BIGINT), CAST(COUNT(DISTINCT placed_at / 86400000) AS BIGINT), \
            CAST(SUM(CASE WHEN placed_at / 86400000 = first_day THEN total_minor ELSE 0 END) AS BIGINT) \
         FROM (SELECT customer_id, currency, placed_at, total_minor, \
                  MIN(placed_at) OVER (PARTITION BY customer_id) / 86400000 AS first_day \
               FROM orders WHERE merchant_id = $1 AND placed_at <= $2 AND status NOT IN ('cancelled', 'refunded'){}) o \
         GROUP BY customer_id{group} ORDER BY customer_id{group}",
        among("customer_id", only)
    );
    let mut rows = bound(sql, merchant, as_of, only).fetch(&store.pool);
    let mut digits: HashMap<String, f64> = HashMap::new();
    let mut out = Vec::new();
    while let Some(r) = rows.try_next().await? {
        let currency: String = r.try_get(1)?;
        let single = currency == r.try_get::<String, _>(2)?;
        let scale = *digits.entry(currency.clone()).or_insert_with(|| {
            10f64.powi(crate::customers::money::exponent(&currency).unwrap_or(2) as i32)
        });
        let int = |i: usize| r.try_get::<i64, _>(i);
        let o = Orders {
            count: int(3)? as u32,
            first: int(4)?,
            last: int(5)?,
            value: int(6)? as f64 / scale,
            days: int(7)? as u32,
            first_day: int(8)? as f64 / scale,
        };
        out.push((r.try_get(0)?, o, single));
    }
    Ok(out)
}

/// Every customer's summary as of `as_of` (orders after it are ignored),
/// in customer-id order; only those of `only` when it is given.
pub async fn summaries(
    store: &Store,
    merchant: &str,
    as_of: i64,
    only: Option<&[String]>,
) -> Result<Vec<Summary>, StoreError> {
    // Three reads at once, each on its own connection.
    let (orders, customers, events) = tokio::try_join!(
        added_up(store, merchant, as_of, only, false),
        customer_facts(store, merchant, only),
        event_facts(store, merchant, as_of, only),
    )?;
    let mut by_id: Vec<Summary> = Vec::with_capacity(customers.len().max(orders.len()));
    let mut mixed = Vec::new();
    for (id, o, single) in orders {
        if !single {
            mixed.push(id.clone());
        }
        let mut s = Summary {
            id,
            ..Summary::default()
        };
        s.add_orders(o);
        by_id.push(s);
    }
    // A customer who paid in several currencies: each currency's total
    // in its own minor units.
    mixed.sort();
    if !mixed.is_empty() {
        let at: HashMap<String, usize> = by_id
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .filter(|(id, _)| mixed.binary_search(id).is_ok())
            .collect();
        for ids in mixed.chunks(500) {
            for i in ids.iter().filter_map(|id| at.get(id)) {
                (by_id[*i].spent, by_id[*i].first_day) = (0.0, 0.0);
            }
            for (id, o, _) in added_up(store, merchant, as_of, Some(ids), true).await? {
                if let Some(&i) = at.get(&id) {
                    by_id[i].spent += o.value;
                    by_id[i].first_day += o.first_day;
                }
            }
        }
    }
    let mut index: HashMap<String, usize> = by_id
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.clone(), i))
        .collect();
    // Every customer is in the base, with or without orders.
    for (id, tags, birthday) in customers {
        let i = *index.entry(id.clone()).or_insert_with(|| {
            by_id.push(Summary {
                id,
                ..Summary::default()
            });
            by_id.len() - 1
        });
        (by_id[i].tags, by_id[i].birthday) = (tags, birthday);
    }
    for (id, e) in events {
        if let Some(&i) = index.get(&id) {
            let s = &mut by_id[i];
            (s.engaged_30, s.engaged_60) = (e.engaged_30, e.engaged_60);
            (s.last_cart, s.campaigns) = (e.last_cart, e.campaigns);
        }
    }
    by_id.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(by_id)
}

/// Each customer's tags and birthday (month, day).
async fn customer_facts(
    store: &Store,
    merchant: &str,
    only: Option<&[String]>,
) -> Result<Vec<(String, Vec<String>, Option<(u32, u32)>)>, StoreError> {
    let sql = format!(
        "SELECT id, tags, birthday FROM customers WHERE merchant_id = $1 AND $2 = $2{}",
        among("id", only)
    );
    let mut rows = bound(sql, merchant, 0, only).fetch(&store.pool);
    let mut out = Vec::new();
    while let Some(r) = rows.try_next().await? {
        let birthday = r
            .try_get::<Option<String>, _>(2)?
            .and_then(|b| chrono::NaiveDate::parse_from_str(&b, "%Y-%m-%d").ok())
            .map(|d| {
                use chrono::Datelike;
                (d.month(), d.day())
            });
        let tags = serde_json::from_str(&r.try_get::<String, _>(1)?).unwrap_or_default();
        out.push((r.try_get(0)?, tags, birthday));
    }
    Ok(out)
}

/// What a customer's events up to `as_of` say.
#[derive(Default)]
struct Events {
    engaged_30: u32,
    engaged_60: u32,
    last_cart: Option<i64>,
    campaigns: Vec<String>,
}

/// Each customer's engagement in the last 30 and 60 days, last cart event
/// and campaigns, as of `as_of`.
async fn event_facts(
    store: &Store,
    merchant: &str,
    as_of: i64,
    only: Option<&[String]>,
) -> Result<HashMap<String, Events>, StoreError> {
    let since = as_of - 60 * 86_400_000;
    let sql = format!(
        "SELECT customer_id, kind, at, campaign_id FROM customer_events \
         WHERE merchant_id = $1 AND at <= $2{}",
        among("customer_id", only)
    );
    let mut rows = bound(sql, merchant, as_of, only).fetch(&store.pool);
    let mut out: HashMap<String, Events> = HashMap::new();
    while let Some(r) = rows.try_next().await? {
        let s = out.entry(r.try_get(0)?).or_default();
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
    Ok(out)
}
