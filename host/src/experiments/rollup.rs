//! Results from rollups. Each exposure's part in its arm's figures (did it
//! convert; its orders in the windows, per currency) is kept beside it,
//! and the arm's sums per day of exposure are kept in
//! `experiment_rollups`. When a unit's orders, events or conversions
//! change, its exposures become stale; a refresh figures only those again
//! and moves the sums by the difference. A results page then reads a few
//! rows per arm and day, however many exposures and orders there are.
//!
//! A refresh claims stale exposures in batches (an `UPDATE … RETURNING`,
//! so two replicas never figure one twice), each batch in one transaction
//! with the sums it moves.

use std::collections::{BTreeMap, HashMap};

use sqlx::Row;

use super::means::{Moments, Paired};
use super::store::{DayCount, Revenue};
use crate::DAY_MS;
use crate::platform::feature::{Pending, Tx};
use crate::platform::store::{Store, StoreError};

/// What a rollup counts by, from the experiment's definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Basis {
    /// The conversion event.
    pub event: String,
    /// How long after its exposure a unit's conversion and orders count.
    pub window_ms: i64,
    /// How long before its exposure its orders count (for CUPED).
    pub before_ms: i64,
}

impl Basis {
    /// The basis of an experiment's definition.
    pub fn of(def: &super::model::Definition) -> Basis {
        Basis {
            event: def.conversion_event.clone(),
            window_ms: def.attribution_hours as i64 * 3_600_000,
            before_ms: def.regression_adjustment_days as i64 * DAY_MS,
        }
    }
}

/// Exposures figured per transaction.
const BATCH: usize = 5_000;

/// One exposure's orders in one currency.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Part {
    orders: i64,
    rev: f64,
    pre: f64,
    cnt: f64,
}

/// The sums of one rollup row, or a change to them.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Sums {
    exposures: i64,
    conversions: i64,
    orders: i64,
    rev: f64,
    rev2: f64,
    pre: f64,
    pre2: f64,
    rev_pre: f64,
    cnt: f64,
    cnt2: f64,
    rev_cnt: f64,
}

impl Sums {
    /// Add (`sign` 1) or take away (-1) one exposure's part.
    fn add(&mut self, p: &Part, sign: i64) {
        let s = sign as f64;
        self.orders += sign * p.orders;
        self.rev += s * p.rev;
        self.rev2 += s * p.rev * p.rev;
        self.pre += s * p.pre;
        self.pre2 += s * p.pre * p.pre;
        self.rev_pre += s * p.rev * p.pre;
        self.cnt += s * p.cnt;
        self.cnt2 += s * p.cnt * p.cnt;
        self.rev_cnt += s * p.rev * p.cnt;
    }
}

/// The sums of a rollup row.
const SUMS: [&str; 11] = [
    "exposures",
    "conversions",
    "orders",
    "rev",
    "rev2",
    "pre",
    "pre2",
    "rev_pre",
    "cnt",
    "cnt2",
    "rev_cnt",
];

/// Changes to rollup rows, by (variation, day, currency).
type Changes = BTreeMap<(i64, i64, String), Sums>;

/// `$from, $from+1, …` for `n` values.
fn marks(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Bring the rollup of experiment `key` up to date: from the start when
/// its basis changed, else the stale exposures only; batches stop once
/// `budget` is spent (whether it is up to date is returned).
pub(super) async fn refresh(
    store: &Store,
    merchant: &str,
    key: &str,
    basis: &Basis,
    budget: Option<std::time::Duration>,
) -> Result<bool, StoreError> {
    let started = std::time::Instant::now();
    let stored = sqlx::query(
        "SELECT event, window_ms, before_ms FROM experiment_rollup_basis \
         WHERE merchant_id = $1 AND experiment = $2",
    )
    .bind(merchant)
    .bind(key)
    .fetch_optional(&store.pool)
    .await?
    .map(|r| -> Result<Basis, sqlx::Error> {
        Ok(Basis {
            event: r.try_get(0)?,
            window_ms: r.try_get(1)?,
            before_ms: r.try_get(2)?,
        })
    })
    .transpose()?;
    if stored.as_ref() != Some(basis) {
        let mut tx = store.write_tx().await?;
        for sql in [
            "DELETE FROM experiment_rollups WHERE merchant_id = $1 AND experiment = $2",
            "DELETE FROM experiment_unit_orders WHERE merchant_id = $1 AND experiment = $2",
            "UPDATE experiment_exposures SET stale = 1, converted = NULL WHERE merchant_id = $1 AND experiment = $2",
        ] {
            sqlx::query(sql)
                .bind(merchant)
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO experiment_rollup_basis (merchant_id, experiment, event, window_ms, before_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (merchant_id, experiment) DO UPDATE SET \
             event = excluded.event, window_ms = excluded.window_ms, before_ms = excluded.before_ms",
        )
        .bind(merchant)
        .bind(key)
        .bind(&basis.event)
        .bind(basis.window_ms)
        .bind(basis.before_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    let (mut conflicts, mut from) = (0, String::new());
    loop {
        // A read first: a page with nothing to count takes no write lock.
        let stale: Option<String> = sqlx::query_scalar(
            "SELECT unit FROM experiment_exposures WHERE merchant_id = $1 AND experiment = $2 \
             AND stale = 1 AND unit > $3 LIMIT 1",
        )
        .bind(merchant)
        .bind(key)
        .bind(from.as_str())
        .fetch_optional(&store.pool)
        .await?;
        if stale.is_none() {
            return Ok(true);
        }
        match batch(store, merchant, key, basis, &mut from).await {
            Ok(false) => return Ok(true),
            Ok(true) if budget.is_some_and(|b| started.elapsed() > b) => return Ok(false),
            Ok(true) => {}
            // Two replicas' batches waited on each other: one goes again.
            Err(e) if is_deadlock(&e) && conflicts < 5 => conflicts += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

fn is_deadlock(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40P01" | "40001")))
}

/// Figure one batch of stale exposures again, in one transaction of
/// set-wise statements; whether there are more. A batch is the next
/// [`BATCH`] stale units after `from` in the units' order (a range every
/// statement can walk in an index, whatever the planner knows); it is
/// marked `stale = 2` while it is figured (no other transaction ever sees
/// that: it is back to 0 before the commit). `from` moves past it.
async fn batch(
    store: &Store,
    merchant: &str,
    key: &str,
    basis: &Basis,
    from: &mut String,
) -> Result<bool, sqlx::Error> {
    let pg = !store.sqlite;
    let mut tx = store.write_tx().await?;
    let to: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT unit FROM experiment_exposures WHERE merchant_id = $1 AND experiment = $2 AND stale = 1 \
         AND unit > $3 ORDER BY unit LIMIT 1 OFFSET {}",
        BATCH - 1
    )))
    .bind(merchant)
    .bind(key)
    .bind(from.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    // The batch's units: after `from` ($3), up to `to` ($4) if there are
    // more.
    let range = |e: &str| match to {
        Some(_) => format!("{e}unit > $3 AND {e}unit <= $4"),
        None => format!("{e}unit > $3"),
    };
    let bounds = |q: sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>| {
        let q = q
            .bind(merchant.to_string())
            .bind(key.to_string())
            .bind(from.clone());
        match &to {
            Some(t) => q.bind(t.clone()),
            None => q,
        }
    };
    bounds(sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE experiment_exposures SET stale = 2 \
         WHERE merchant_id = $1 AND experiment = $2 AND stale = 1 AND {}",
        range("")
    ))))
    .execute(&mut *tx)
    .await?;
    // Take the batch's old parts out of the sums …
    move_sums(&mut tx, pg, merchant, key, "-").await?;
    // The batch's units, found once and looked up by key.
    let batch = "SELECT unit FROM experiment_exposures WHERE merchant_id = $1 AND experiment = $2 AND stale = 2";
    let of_batch = if pg {
        format!("unit = ANY(ARRAY({batch}))")
    } else {
        format!("unit IN ({batch})")
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM experiment_unit_orders WHERE merchant_id = $1 AND experiment = $2 AND {of_batch}"
    )))
    .bind(merchant)
    .bind(key)
    .execute(&mut *tx)
    .await?;
    // … figure them again …
    let n = if to.is_some() { 5 } else { 4 };
    bounds(sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO experiment_unit_orders (merchant_id, experiment, unit, currency, orders, rev, pre, cnt) \
         SELECT e.merchant_id, e.experiment, e.unit, o.currency, COUNT(*), \
           SUM(CASE WHEN o.placed_at >= e.at THEN o.total_minor ELSE 0 END), \
           SUM(CASE WHEN o.placed_at < e.at THEN o.total_minor ELSE 0 END), \
           COUNT(CASE WHEN o.placed_at >= e.at THEN 1 END) \
         FROM experiment_exposures e JOIN orders o ON o.merchant_id = e.merchant_id AND o.customer_id = e.unit \
           AND o.placed_at >= e.at - ${n} AND o.placed_at <= e.at + ${} AND o.status NOT IN ('cancelled', 'refunded') \
         WHERE e.merchant_id = $1 AND e.experiment = $2 AND e.stale = 2 AND {} \
         GROUP BY e.merchant_id, e.experiment, e.unit, o.currency",
        n + 1,
        range("e.")
    ))))
    .bind(basis.before_ms)
    .bind(basis.window_ms)
    .execute(&mut *tx)
    .await?;
    let (event, window) = (format!("${n}"), format!("${}", n + 1));
    let e = "experiment_exposures";
    bounds(sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {e} SET converted = CASE WHEN \
           EXISTS (SELECT 1 FROM experiment_conversions c WHERE c.merchant_id = {e}.merchant_id \
                   AND c.unit = {e}.unit AND c.event = {event} \
                   AND c.at >= {e}.at AND c.at <= {e}.at + {window}) \
           OR EXISTS (SELECT 1 FROM customer_events ce WHERE ce.merchant_id = {e}.merchant_id \
                   AND ce.customer_id = {e}.unit AND ce.kind = {event} \
                   AND ce.at >= {e}.at AND ce.at <= {e}.at + {window}) \
           OR ({event} = 'purchase' AND EXISTS (SELECT 1 FROM orders o WHERE o.merchant_id = {e}.merchant_id \
                   AND o.customer_id = {e}.unit \
                   AND o.placed_at >= {e}.at AND o.placed_at <= {e}.at + {window})) \
         THEN 1 ELSE 0 END \
         WHERE merchant_id = $1 AND experiment = $2 AND stale = 2 AND {}",
        range("")
    ))))
    .bind(basis.event.clone())
    .bind(basis.window_ms)
    .execute(&mut *tx)
    .await?;
    // … and put them in.
    move_sums(&mut tx, pg, merchant, key, "").await?;
    bounds(sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE experiment_exposures SET stale = 0 \
         WHERE merchant_id = $1 AND experiment = $2 AND stale = 2 AND {}",
        range("")
    ))))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(match to {
        Some(t) => {
            *from = t;
            true
        }
        None => false,
    })
}

/// Add (`sign` "") or take away ("-") the parts of the batch being
/// figured (`stale = 2`) that are in the rollup.
async fn move_sums(
    tx: &mut Tx,
    pg: bool,
    merchant: &str,
    key: &str,
    sign: &str,
) -> Result<(), sqlx::Error> {
    let set: Vec<String> = SUMS
        .iter()
        .map(|c| format!("{c} = experiment_rollups.{c} + excluded.{c}"))
        .collect();
    let upsert = format!(
        "ON CONFLICT (merchant_id, experiment, variation, day, currency) DO UPDATE SET {}",
        set.join(", ")
    );
    let day = format!("e.at / {DAY_MS}");
    // PostgreSQL may plan a join to a table it has no figures on yet as a
    // scan of that table per exposure; a lateral subquery it cannot
    // flatten (`OFFSET 0`) looks each exposure's parts up by key.
    let join = if pg {
        "CROSS JOIN LATERAL (SELECT * FROM experiment_unit_orders x WHERE x.merchant_id = e.merchant_id \
         AND x.experiment = e.experiment AND x.unit = e.unit OFFSET 0) u"
    } else {
        "JOIN experiment_unit_orders u ON u.merchant_id = e.merchant_id AND u.experiment = e.experiment \
         AND u.unit = e.unit"
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO experiment_rollups (merchant_id, experiment, variation, day, currency, {}) \
         SELECT $1, $2, e.variation, {day}, '', {sign}COUNT(*), {sign}SUM(e.converted), 0, 0, 0, 0, 0, 0, 0, 0, 0 \
         FROM experiment_exposures e \
         WHERE e.merchant_id = $1 AND e.experiment = $2 AND e.stale = 2 AND e.converted IS NOT NULL \
         GROUP BY e.variation, {day} {upsert}",
        SUMS.join(", ")
    )))
    .bind(merchant)
    .bind(key)
    .execute(&mut **tx)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO experiment_rollups (merchant_id, experiment, variation, day, currency, {}) \
         SELECT $1, $2, e.variation, {day}, u.currency, 0, 0, {sign}SUM(u.orders), \
           {sign}SUM(u.rev), {sign}SUM(u.rev * u.rev), {sign}SUM(u.pre), {sign}SUM(u.pre * u.pre), \
           {sign}SUM(u.rev * u.pre), {sign}SUM(u.cnt), {sign}SUM(u.cnt * u.cnt), {sign}SUM(u.rev * u.cnt) \
         FROM experiment_exposures e {join} \
         WHERE e.merchant_id = $1 AND e.experiment = $2 AND e.stale = 2 AND e.converted IS NOT NULL \
         GROUP BY e.variation, {day}, u.currency {upsert}",
        SUMS.join(", ")
    )))
    .bind(merchant)
    .bind(key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The stored parts of `units`' exposures to `key`, by unit.
async fn parts(
    tx: &mut Tx,
    merchant: &str,
    key: &str,
    units: &[&String],
) -> Result<HashMap<String, Vec<(String, Part)>>, sqlx::Error> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT unit, currency, orders, rev, pre, cnt FROM experiment_unit_orders \
         WHERE merchant_id = $1 AND experiment = $2 AND unit IN ({})",
        marks(3, units.len())
    )))
    .bind(merchant)
    .bind(key);
    for u in units {
        q = q.bind(u.as_str());
    }
    let mut out: HashMap<String, Vec<(String, Part)>> = HashMap::new();
    for r in q.fetch_all(&mut **tx).await? {
        out.entry(r.try_get(0)?).or_default().push((
            r.try_get(1)?,
            Part {
                orders: r.try_get(2)?,
                rev: r.try_get(3)?,
                pre: r.try_get(4)?,
                cnt: r.try_get(5)?,
            },
        ));
    }
    Ok(out)
}

/// Take a rolled-up exposure (`converted`, its `parts`) out of the sums.
fn take_away(
    changes: &mut Changes,
    variation: i64,
    day: i64,
    converted: i64,
    parts: Option<&Vec<(String, Part)>>,
) {
    let counts = changes.entry((variation, day, String::new())).or_default();
    counts.exposures -= 1;
    counts.conversions -= converted;
    for (currency, p) in parts.map(Vec::as_slice).unwrap_or(&[]) {
        changes
            .entry((variation, day, currency.clone()))
            .or_default()
            .add(p, -1);
    }
}

/// Move the rollup's sums by `changes` (in key order, so two
/// transactions lock rows in one order).
async fn apply(
    tx: &mut Tx,
    merchant: &str,
    key: &str,
    changes: Changes,
) -> Result<(), sqlx::Error> {
    let rows: Vec<_> = changes
        .into_iter()
        .filter(|(_, s)| *s != Sums::default())
        .collect();
    let set: Vec<String> = SUMS
        .iter()
        .map(|c| format!("{c} = experiment_rollups.{c} + excluded.{c}"))
        .collect();
    for chunk in rows.chunks(200) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", marks(i * 16 + 1, 16)))
            .collect();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO experiment_rollups (merchant_id, experiment, variation, day, currency, {}) VALUES {} \
             ON CONFLICT (merchant_id, experiment, variation, day, currency) DO UPDATE SET {}",
            SUMS.join(", "),
            values.join(", "),
            set.join(", ")
        )));
        for ((variation, day, currency), s) in chunk {
            q = q
                .bind(merchant)
                .bind(key)
                .bind(*variation)
                .bind(*day)
                .bind(currency.as_str())
                .bind(s.exposures)
                .bind(s.conversions)
                .bind(s.orders)
                .bind(s.rev)
                .bind(s.rev2)
                .bind(s.pre)
                .bind(s.pre2)
                .bind(s.rev_pre)
                .bind(s.cnt)
                .bind(s.cnt2)
                .bind(s.rev_cnt);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Exposures and conversions per variation and day, from the rollup.
pub(super) async fn day_counts(
    store: &Store,
    merchant: &str,
    key: &str,
) -> Result<Vec<DayCount>, StoreError> {
    let rows = sqlx::query(
        "SELECT variation, day, exposures, conversions FROM experiment_rollups \
         WHERE merchant_id = $1 AND experiment = $2 AND currency = '' AND exposures > 0 \
         ORDER BY day, variation",
    )
    .bind(merchant)
    .bind(key)
    .fetch_all(&store.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DayCount {
                variation: r.try_get::<i64, _>(0)?.max(0) as usize,
                day: r.try_get(1)?,
                exposures: r.try_get::<i64, _>(2)?.max(0) as u64,
                conversions: r.try_get::<i64, _>(3)?.max(0) as u64,
            })
        })
        .collect()
}

/// Revenue per variation in the currency most orders use, from the
/// rollup: every exposed unit counts (with nothing when it bought
/// nothing in that currency).
pub(super) async fn revenue(
    store: &Store,
    merchant: &str,
    key: &str,
    variations: usize,
) -> Result<Revenue, StoreError> {
    let mut out = Revenue {
        spend: vec![Default::default(); variations],
        orders: vec![Default::default(); variations],
        ..Default::default()
    };
    let currencies = sqlx::query(
        "SELECT currency, CAST(SUM(orders) AS BIGINT) FROM experiment_rollups \
         WHERE merchant_id = $1 AND experiment = $2 AND currency <> '' \
         GROUP BY currency HAVING SUM(orders) > 0 ORDER BY 2 DESC, 1",
    )
    .bind(merchant)
    .bind(key)
    .fetch_all(&store.pool)
    .await?;
    for (i, r) in currencies.iter().enumerate() {
        if i == 0 {
            out.currency = Some(r.try_get(0)?);
        } else {
            out.other_currency_orders += r.try_get::<i64, _>(1)?.max(0) as u64;
        }
    }
    let rows = sqlx::query(
        "SELECT variation, CAST(SUM(CASE WHEN currency = '' THEN exposures ELSE 0 END) AS BIGINT), \
           SUM(rev), SUM(rev2), SUM(pre), SUM(pre2), SUM(rev_pre), SUM(cnt), SUM(cnt2), SUM(rev_cnt) \
         FROM experiment_rollups WHERE merchant_id = $1 AND experiment = $2 AND (currency = '' OR currency = $3) \
         GROUP BY variation",
    )
    .bind(merchant)
    .bind(key)
    .bind(out.currency.clone().unwrap_or_default())
    .fetch_all(&store.pool)
    .await?;
    for r in &rows {
        let v = r.try_get::<i64, _>(0)?.max(0) as usize;
        let n = r.try_get::<i64, _>(1)?.max(0) as u64;
        let f = |i: usize| -> Result<f64, StoreError> {
            Ok(r.try_get::<Option<f64>, _>(i)?.unwrap_or(0.0))
        };
        let m = |sum: usize, sum_sq: usize| -> Result<Moments, StoreError> {
            Ok(Moments {
                n,
                sum: f(sum)?,
                sum_sq: f(sum_sq)?,
            })
        };
        if v < variations {
            out.spend[v] = Paired {
                x: m(2, 3)?,
                y: m(4, 5)?,
                xy: f(6)?,
            };
            out.orders[v] = Paired {
                x: m(2, 3)?,
                y: m(7, 8)?,
                xy: f(9)?,
            };
        }
    }
    Ok(out)
}

/// [`crate::platform::feature::Feature::customers_changed`]: these
/// customers' exposures are figured again at the next refresh.
pub(super) fn units_changed<'a>(
    store: &'a Store,
    merchant: &'a str,
    units: &'a [String],
) -> Pending<'a, Result<(), StoreError>> {
    Box::pin(async move {
        if let Some(pg) = &store.pg {
            // One array parameter: PostgreSQL plans a list of thousands
            // of parameters slowly.
            sqlx::query(
                "UPDATE experiment_exposures SET stale = 1 \
                 WHERE merchant_id = $1 AND stale = 0 AND unit = ANY($2)",
            )
            .bind(merchant)
            .bind(units)
            .execute(pg)
            .await?;
            return Ok(());
        }
        for chunk in units.chunks(BATCH) {
            let list: Vec<String> = (2..chunk.len() + 2).map(|i| store.mark(i)).collect();
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE experiment_exposures SET stale = 1 \
                 WHERE merchant_id = {} AND stale = 0 AND unit IN ({})",
                store.mark(1),
                list.join(", ")
            )))
            .bind(merchant);
            for u in chunk {
                q = q.bind(u.as_str());
            }
            q.execute(&store.pool).await?;
        }
        Ok(())
    })
}

/// [`crate::platform::feature::Privacy::erase`]: before a unit's
/// exposures go, take them out of their rollups.
pub(super) fn erase<'a>(
    tx: &'a mut Tx,
    merchant: &'a str,
    unit: &'a str,
) -> Pending<'a, Result<(), StoreError>> {
    Box::pin(async move {
        let rolled = sqlx::query(
            "SELECT experiment, variation, at, converted FROM experiment_exposures \
             WHERE merchant_id = $1 AND unit = $2 AND converted IS NOT NULL",
        )
        .bind(merchant)
        .bind(unit)
        .fetch_all(&mut **tx)
        .await?;
        let id = unit.to_string();
        for r in rolled {
            let key: String = r.try_get(0)?;
            let at: i64 = r.try_get(2)?;
            let old = parts(tx, merchant, &key, &[&id]).await?;
            let mut changes = Changes::new();
            take_away(
                &mut changes,
                r.try_get(1)?,
                at.div_euclid(DAY_MS),
                r.try_get(3)?,
                old.get(&id),
            );
            apply(tx, merchant, &key, changes).await?;
        }
        Ok(())
    })
}
