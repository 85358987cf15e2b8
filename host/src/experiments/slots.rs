//! The allocator slot's rules: the fallback is the control (no
//! experiment), and a variation must be one of the experiment's.

use serde_json::{Value, json};

use crate::platform::feature::SlotPolicy;
use crate::platform::slots::{Contract, Slot};

/// The allocator.
pub const ALLOCATOR: SlotPolicy = SlotPolicy {
    slot: Slot::Allocator,
    fallback: control,
    check,
    reads_input: true,
    input: None,
    memory: None,
    customer: Some(unit),
    units: Some("visitors"),
    words: None,
};

/// The control: the first arm (0.1.0), or no experiment (0.2.0).
fn control(contract: Contract, input: &Value, _: i64, _: &[Option<Value>]) -> Value {
    if contract == Contract::V0_1 {
        return json!({
            "arm-id": input.pointer("/experiment/arms/0/id").cloned().unwrap_or(json!("control")),
            "deterministic": true,
        });
    }
    json!({
        "in-experiment": false,
        "variation": 0,
        "hash-used": false,
        "hash-attribute": input.pointer("/experiment/hash-attribute").cloned().unwrap_or(json!("id")),
        "hash-value": "",
        "bucket": null,
        "reason": "unavailable",
    })
}

fn check(contract: Contract, input: &Value, output: &Value, _: i64) -> Result<(), String> {
    if contract == Contract::V0_1 {
        let arm = &output["arm-id"];
        let arms = input.pointer("/experiment/arms").and_then(Value::as_array);
        return if arms.is_some_and(|a| a.iter().any(|x| &x["id"] == arm)) {
            Ok(())
        } else {
            Err(format!("arm {arm} is not an arm of the experiment"))
        };
    }
    let n = input
        .pointer("/experiment/variations")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    match output["variation"].as_u64() {
        Some(v) if v < n.max(1) => Ok(()),
        v => Err(format!(
            "variation {v:?} is not one of the experiment's {n} variations"
        )),
    }
}

/// The unit an assignment is about: the experiment's hash attribute's
/// value among the attributes (a customer's id, or a visitor's).
fn unit(input: &Value) -> Option<String> {
    let attribute = input
        .pointer("/experiment/hash-attribute")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .unwrap_or("id");
    let attributes: Value = serde_json::from_str(input["attributes"].as_str()?).ok()?;
    match &attributes[attribute] {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
