//! The RFM scorer slot's rules: one score per customer of the batch, in
//! order, each of R, F and M within 1..5, at least one segment, P(active)
//! a probability; the fallback is each customer's last good score, else
//! `unscored`.

use serde_json::{Value, json};

use crate::AppState;
use crate::platform::feature::{Completion, SlotPolicy};
use crate::platform::http::{ApiError, Code};
use crate::platform::slots::{Contract, Slot};

/// The RFM scorer.
pub const RFM: SlotPolicy = SlotPolicy {
    slot: Slot::Rfm,
    fallback: last_or_unscored,
    check,
    reads_input: true,
    input: Some(at_most_per_call),
    memory: Some(super::MEMORY),
    customer: None,
    units: None,
    words: None,
};

/// Customers one call through the API may score (a run scores them all).
pub const MAX_PER_CALL: usize = 1_000;

/// Refuse a call with more than [`MAX_PER_CALL`] customers, before the
/// plugin or its fallback sees it: a body of a million `{}` would
/// otherwise cost a look-up and an answer each.
fn at_most_per_call<'a>(_: &'a AppState, _: &'a str, body: &'a [u8]) -> Completion<'a> {
    Box::pin(async move {
        #[derive(serde::Deserialize)]
        struct Batch {
            #[serde(default)]
            customers: Vec<serde::de::IgnoredAny>,
        }
        match serde_json::from_slice::<Batch>(body) {
            Ok(b) if b.customers.len() > MAX_PER_CALL => Err(ApiError::unprocessable(
                Code::BatchTooLarge,
                format!(
                    "score at most {MAX_PER_CALL} customers per call ({} sent); an RFM run scores every customer",
                    b.customers.len()
                ),
            )),
            _ => Ok(None),
        }
    })
}

/// `last` (the last good scores), or `unscored` for customers never scored.
fn last_or_unscored(contract: Contract, input: &Value, _: i64, last: &[Option<Value>]) -> Value {
    let customers = input["customers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    Value::Array(
        customers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                last.get(i).cloned().flatten().unwrap_or_else(|| match contract {
                    Contract::V0_1 => json!({
                        "customer-id": c.pointer("/customer/id").cloned().unwrap_or(Value::Null),
                        "recency": 0, "frequency": 0, "monetary": 0,
                        "segment": "unscored", "segments": ["unscored"],
                    }),
                    Contract::V0_2 | Contract::V0_3 => json!({
                        "customer-id": c["customer-id"],
                        "recency": 0, "frequency": 0, "monetary": 0,
                        "segment": "unscored", "tier": "unscored", "micro-segments": ["unscored"],
                        "p-active": null, "expected-purchases": null, "expected-value": null, "clv": null,
                    }),
                })
            })
            .collect(),
    )
}

fn check(contract: Contract, input: &Value, output: &Value, _: i64) -> Result<(), String> {
    let inputs = input["customers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let scores = output.as_array().map(Vec::as_slice).unwrap_or(&[]);
    if scores.len() != inputs.len() {
        return Err(format!(
            "{} scores for {} customers",
            scores.len(),
            inputs.len()
        ));
    }
    for (i, (s, c)) in scores.iter().zip(inputs).enumerate() {
        let id = match contract {
            Contract::V0_1 => c.pointer("/customer/id").cloned().unwrap_or_default(),
            Contract::V0_2 | Contract::V0_3 => c["customer-id"].clone(),
        };
        if s["customer-id"] != id {
            return Err(format!("score {i} is for another customer"));
        }
        for key in ["recency", "frequency", "monetary"] {
            if !(1..=5).contains(&s[key].as_u64().unwrap_or(0)) {
                return Err(format!("{key} score of customer {i} is outside 1..5"));
            }
        }
        let segments = match contract {
            Contract::V0_1 => &s["segments"],
            Contract::V0_2 | Contract::V0_3 => &s["micro-segments"],
        };
        if segments.as_array().is_none_or(Vec::is_empty) {
            return Err(format!("customer {i} is in no segment"));
        }
        if contract != Contract::V0_1 {
            let p = s["p-active"].as_f64().unwrap_or(f64::NAN);
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("P(active) {p} of customer {i} is outside 0..1"));
            }
        }
    }
    Ok(())
}
