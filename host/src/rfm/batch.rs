//! A run's batches scored straight from summaries into component values
//! and back into rows, without a JSON text in between (the invoke
//! endpoint's path, with its fallback, takes over a batch that fails).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};
use wasmtime::component::Val;

use super::summary::Summary;
use crate::AppState;
use crate::platform::bindings::Active;
use crate::platform::invoke::invoke;
use crate::platform::slots::Slot;

/// One customer's scores and predictions, as stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoreRow {
    /// The customer.
    pub customer_id: String,
    /// R, F and M, 1–5.
    pub rfm: [u8; 3],
    /// The named segment.
    pub segment: String,
    /// The five-tier view's tier.
    pub tier: String,
    /// Every micro-segment whose rule holds (or `everyone-else`).
    pub micro: Vec<String>,
    /// P(active).
    pub p_active: f64,
    /// Expected purchases over the horizon.
    pub expected_purchases: f64,
    /// Expected order value.
    pub expected_value: f64,
    /// Lifetime value.
    pub clv: f64,
}

impl ScoreRow {
    /// Without a BG/NBD fit in the run's model, a score predicts nothing:
    /// no P(active), purchases, value or lifetime value (stored as null).
    pub fn unpredicted(rows: &mut [ScoreRow], model: &Value) {
        if model.get("bgnbd").is_none_or(Value::is_null) {
            for r in rows {
                r.p_active = f64::NAN;
                r.expected_purchases = f64::NAN;
                r.expected_value = f64::NAN;
                r.clv = f64::NAN;
            }
        }
    }

    /// From the plugin's `customer-score` record as JSON (the invoke
    /// path's answer).
    pub fn from_json(s: &Value) -> ScoreRow {
        let small = |k: &str| s[k].as_u64().unwrap_or(0).min(255) as u8;
        let num = |k: &str| s[k].as_f64().unwrap_or(f64::NAN);
        ScoreRow {
            customer_id: s["customer-id"].as_str().unwrap_or_default().to_string(),
            rfm: [small("recency"), small("frequency"), small("monetary")],
            segment: s["segment"].as_str().unwrap_or("unscored").to_string(),
            tier: s["tier"].as_str().unwrap_or("unscored").to_string(),
            micro: s["micro-segments"]
                .as_array()
                .map(|m| {
                    m.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            p_active: num("p-active"),
            expected_purchases: num("expected-purchases"),
            expected_value: num("expected-value"),
            clv: num("clv"),
        }
    }

    /// From the plugin's `customer-score` record.
    fn from_val(v: &Val) -> Option<ScoreRow> {
        let Val::Record(fields) = v else { return None };
        let mut row = ScoreRow::default();
        for (name, value) in fields {
            match (name.as_str(), value) {
                ("customer-id", Val::String(s)) => row.customer_id = s.clone(),
                ("recency", Val::U8(n)) => row.rfm[0] = *n,
                ("frequency", Val::U8(n)) => row.rfm[1] = *n,
                ("monetary", Val::U8(n)) => row.rfm[2] = *n,
                ("segment", Val::String(s)) => row.segment = s.clone(),
                ("tier", Val::String(s)) => row.tier = s.clone(),
                ("micro-segments", Val::List(items)) => {
                    row.micro = items
                        .iter()
                        .filter_map(|i| match i {
                            Val::String(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect()
                }
                ("p-active", Val::Float64(x)) => row.p_active = *x,
                ("expected-purchases", Val::Float64(x)) => row.expected_purchases = *x,
                ("expected-value", Val::Float64(x)) => row.expected_value = *x,
                ("clv", Val::Float64(x)) => row.clv = *x,
                _ => {}
            }
        }
        Some(row)
    }

    /// The slot's output rules for a score of `customer`.
    fn check(&self, customer: &str) -> Result<(), String> {
        if self.customer_id != customer {
            return Err(format!("a score for {customer} names {}", self.customer_id));
        }
        if self.rfm.iter().any(|s| !(1..=5).contains(s)) {
            return Err(format!("a score of {customer} is outside 1..5"));
        }
        if self.micro.is_empty() {
            return Err(format!("{customer} is in no segment"));
        }
        if !(0.0..=1.0).contains(&self.p_active) {
            return Err(format!("P(active) of {customer} is outside 0..1"));
        }
        Ok(())
    }
}

/// The CLV distribution's bucket edges (the last bucket is open).
const CLV_EDGES: [f64; 9] = [
    10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
];

/// A run's counts, added up from its rows as they are scored: customers
/// per segment, tier and micro-segment, per R × F pair, and per CLV
/// bucket.
#[derive(Debug, Default)]
pub struct Sizes {
    segments: BTreeMap<String, u64>,
    tiers: BTreeMap<String, u64>,
    micro: BTreeMap<String, u64>,
    grid: BTreeMap<(u8, u8), u64>,
    clv: [u64; CLV_EDGES.len() + 1],
}

impl Sizes {
    /// Count these rows.
    pub fn add(&mut self, rows: &[ScoreRow]) {
        for r in rows {
            *self.segments.entry(r.segment.clone()).or_default() += 1;
            *self.tiers.entry(r.tier.clone()).or_default() += 1;
            for m in &r.micro {
                *self.micro.entry(m.clone()).or_default() += 1;
            }
            *self.grid.entry((r.rfm[0], r.rfm[1])).or_default() += 1;
            if r.clv.is_finite() {
                self.clv[CLV_EDGES.partition_point(|e| *e <= r.clv)] += 1;
            }
        }
    }

    /// As the run shows them.
    pub fn to_json(&self) -> Value {
        json!({
            "segments": self.segments, "tiers": self.tiers, "micro_segments": self.micro,
            "grid": self.grid.iter().map(|((r, f), n)| json!([r, f, n])).collect::<Vec<_>>(),
            "clv": {"edges": CLV_EDGES, "counts": self.clv},
        })
    }
}

/// Score one batch against `model` (the run's model as a component
/// value) with the run's plugin; a batch the plugin fails goes through
/// the invoke path, whose fallback answers the customers' last good
/// scores. The rows, and whether the fallback answered.
pub async fn score(
    state: &AppState,
    merchant: &str,
    active: &Arc<Active>,
    model: &Val,
    chunk: &[Summary],
    as_of: i64,
    unit_days: f64,
) -> Result<(Vec<ScoreRow>, bool), String> {
    let list = Val::List(chunk.iter().map(|s| s.to_val(as_of, unit_days)).collect());
    let (runtime, a, m) = (state.runtime.clone(), active.clone(), model.clone());
    let now = crate::now_ms();
    let out = tokio::task::spawn_blocking(move || {
        crate::platform::fair::background_priority();
        runtime.call(&a.prepared, &a.config, now, rand::random(), &[m, list])
    })
    .await
    .map_err(|e| e.to_string())?;
    let why = match out {
        Ok(out) => match out.value {
            Val::Result(Ok(Some(list))) => match *list {
                Val::List(items) if items.len() == chunk.len() => {
                    let rows: Vec<ScoreRow> = items.iter().filter_map(ScoreRow::from_val).collect();
                    match rows
                        .iter()
                        .zip(chunk)
                        .try_for_each(|(r, s)| r.check(&s.id))
                        .and_then(|()| {
                            (rows.len() == chunk.len())
                                .then_some(())
                                .ok_or_else(|| "a score is not a record".to_string())
                        }) {
                        Ok(()) => {
                            active.breaker.success();
                            active.series.ok.inc();
                            return Ok((rows, false));
                        }
                        Err(why) => why,
                    }
                }
                other => format!("not one score per customer: {}", json_of(&other)),
            },
            other => format!("an error or no answer: {}", json_of(&other)),
        },
        Err(f) => f.detail,
    };
    tracing::warn!(%merchant, plugin = %active.label, %why, "an RFM batch failed; scoring it again through invoke, with the fallback");
    let body = json!({
        "model": crate::platform::runtime::json::from_val(model),
        "customers": chunk.iter().map(|s| s.to_wit(as_of, unit_days)).collect::<Vec<_>>(),
    })
    .to_string();
    let answer = invoke(state, merchant, Slot::Rfm, body.as_bytes())
        .await
        .map_err(|e| format!("{e:?}"))?;
    let rows = answer
        .result
        .as_array()
        .map(|a| a.iter().map(ScoreRow::from_json).collect())
        .unwrap_or_default();
    Ok((rows, answer.fallback.is_some()))
}

fn json_of(v: &Val) -> String {
    let text = crate::platform::runtime::json::from_val(v).to_string();
    text.chars().take(200).collect()
}
