//! The return flow slot's rules: the fallback sends the request to a
//! person (the priority queue when the customer is upset); a step asks
//! something new in a form the host can check, and an approval refunds a
//! line of the order, at most what was paid, in the order's currency.

use serde_json::{Value, json};

use crate::platform::feature::SlotPolicy;
use crate::platform::slots::{Contract, Slot};

/// The return flow.
pub const RETURNS: SlotPolicy = SlotPolicy {
    slot: Slot::Returns,
    fallback: |contract, input, _, _| human_review(contract, input),
    check,
    reads_input: true,
    input: None,
    memory: None,
    customer: None,
    units: Some("customers"),
    words: None,
};

/// A person handles the request: the priority queue for an upset
/// customer, the standard one otherwise.
pub fn human_review(contract: Contract, input: &Value) -> Value {
    let angry = input.pointer("/request/sentiment") == Some(&json!("negative"));
    let outcome = json!({"human-review": {
        "queue": if angry { "priority" } else { "standard" },
        "reason": "the automatic return flow is unavailable; a person will handle this request",
    }});
    match contract {
        Contract::V0_1 => outcome,
        Contract::V0_2 | Contract::V0_3 => json!({ "outcome": outcome }),
    }
}

fn check(contract: Contract, input: &Value, output: &Value, _: i64) -> Result<(), String> {
    if contract != Contract::V0_1 {
        return check_step(&input["session"], output);
    }
    if let Some(approval) = output.get("approved") {
        let req = &input["request"];
        let paid = req["quantity"].as_i64().unwrap_or(0)
            * req
                .pointer("/unit-price/amount-minor")
                .and_then(Value::as_i64)
                .unwrap_or(0);
        refund_within(approval, paid)?;
        if approval.pointer("/refund/currency") != req.pointer("/unit-price/currency") {
            return Err("refund currency differs from the price currency".into());
        }
    }
    Ok(())
}

/// An approval's refund, if it is between 0 and `paid` (both contracts).
fn refund_within(approval: &Value, paid: i64) -> Result<i64, String> {
    let refund = approval
        .pointer("/refund/amount-minor")
        .and_then(Value::as_i64)
        .unwrap_or(-1);
    if (0..=paid).contains(&refund) {
        Ok(refund)
    } else {
        Err(format!(
            "refund {refund} is not between 0 and the price paid ({paid})"
        ))
    }
}

/// The rules of a return flow's step (`cove:policy@0.2.0`): a form asks
/// something new in a form the host can check; an approval refunds a line
/// of the order, at most what was paid for what can still be returned,
/// in the order's currency, and its lines add up.
fn check_step(session: &Value, step: &Value) -> Result<(), String> {
    if let Some(form) = step.get("form") {
        let fields = form["fields"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        if fields.is_empty() {
            return Err("a form without fields".into());
        }
        let answered = |name: &Value| {
            session["answers"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| &x["field"] == name))
        };
        for (i, f) in fields.iter().enumerate() {
            let name = &f["name"];
            if !name.as_str().is_some_and(crate::platform::http::valid_id) {
                return Err(format!("field {i} has no usable name: {name}"));
            }
            if fields[..i].iter().any(|g| &g["name"] == name) || answered(name) {
                return Err(format!("field {name} is asked twice"));
            }
            let kind = &f["kind"];
            if kind
                .get("choice")
                .is_some_and(|c| c.as_array().is_none_or(Vec::is_empty))
            {
                return Err(format!("choice {name} offers nothing"));
            }
            if let Some(b) = kind.get("number")
                && b["min"].as_i64() > b["max"].as_i64()
            {
                return Err(format!("number {name} has min above max"));
            }
        }
        return Ok(());
    }
    let Some(a) = step.pointer("/outcome/approved") else {
        return Ok(());
    };
    let lines = session
        .pointer("/order/lines")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let line = lines
        .iter()
        .find(|l| l["sku"] == a["sku"])
        .ok_or_else(|| format!("approved sku {} is not in the order", a["sku"]))?;
    let int = |v: &Value| v.as_i64().unwrap_or(0);
    let quantity = int(&a["quantity"]);
    let left = int(&line["quantity"]) - int(&line["returned"]);
    if !(1..=left).contains(&quantity) {
        return Err(format!(
            "approves {quantity} units; 1 to {left} can be returned"
        ));
    }
    let paid = quantity * int(&line["unit-price"]["amount-minor"]);
    let refund = refund_within(a, paid)?;
    let currency = &line["unit-price"]["currency"];
    let parts = a["lines"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if a.pointer("/refund/currency") != Some(currency)
        || parts.iter().any(|l| &l["amount"]["currency"] != currency)
    {
        return Err("the refund is not in the order's currency".into());
    }
    let sum: i64 = parts
        .iter()
        .map(|l| int(&l["amount"]["amount-minor"]))
        .sum();
    if sum.max(0) != refund {
        return Err(format!("the refund lines add up to {sum}, not {refund}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Value {
        json!({
            "order": {"lines": [{"sku": "S", "quantity": 3, "returned": 1,
                                 "unit-price": {"amount-minor": 1000, "currency": "EUR"}}]},
            "answers": [{"field": "country", "value": "DE"}],
        })
    }

    fn approval(sku: &str, quantity: i64, lines: &[i64], refund: i64, currency: &str) -> Value {
        let lines: Vec<Value> = lines
            .iter()
            .map(|a| json!({"label": "x", "amount": {"amount-minor": a, "currency": "EUR"}}))
            .collect();
        json!({"outcome": {"approved": {"sku": sku, "quantity": quantity, "lines": lines,
            "refund": {"amount-minor": refund, "currency": currency}, "method": "pickup", "note": ""}}})
    }

    #[test]
    fn a_return_step_is_held_to_the_order() {
        let s = session();
        assert_eq!(
            check_step(&s, &approval("S", 2, &[2000, -500], 1500, "EUR")),
            Ok(())
        );
        // Fees above the items: nothing is refunded, never a negative refund.
        assert_eq!(
            check_step(&s, &approval("S", 1, &[1000, -1500], 0, "EUR")),
            Ok(())
        );
        for (bad, why) in [
            (approval("X", 1, &[1000], 1000, "EUR"), "not in the order"),
            (approval("S", 3, &[3000], 3000, "EUR"), "1 to 2"),
            (approval("S", 1, &[2000], 2000, "EUR"), "price paid"),
            (approval("S", 1, &[1000], 1000, "USD"), "currency"),
            (approval("S", 1, &[1000, -100], 1000, "EUR"), "add up"),
        ] {
            let e = check_step(&s, &bad).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
        let form = |fields: Value| json!({"form": {"step": "x", "title": [], "fields": fields}});
        let field = |name: &str, kind: Value| json!({"name": name, "label": [], "kind": kind, "required": true});
        assert_eq!(
            check_step(
                &s,
                &form(json!([field(
                    "sku",
                    json!({"choice": [{"value": "S", "label": []}]})
                )]))
            ),
            Ok(())
        );
        for (bad, why) in [
            (form(json!([])), "without fields"),
            (
                form(json!([field("country", json!("photo"))])),
                "asked twice",
            ),
            (
                form(json!([
                    field("a", json!("photo")),
                    field("a", json!("photo"))
                ])),
                "asked twice",
            ),
            (
                form(json!([field("a", json!({"choice": []}))])),
                "offers nothing",
            ),
            (
                form(json!([field("n", json!({"number": {"min": 5, "max": 1}}))])),
                "min above max",
            ),
            (
                form(json!([field("bad name", json!("photo"))])),
                "usable name",
            ),
        ] {
            let e = check_step(&s, &bad).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }
}
