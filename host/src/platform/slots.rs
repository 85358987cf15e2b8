//! The five policy slots: their WIT names, their safe fallback answers and
//! the rules a plugin's answer must follow before the host uses it.

use serde_json::{Value, json};

/// How a feature completes a slot's input before the plugin sees it, from
/// what Cove stores (the fatigue policy's short form: a customer id and a
/// message, filled from the customer data). `None`: the body as sent.
pub type InputHook = for<'a> fn(&'a crate::AppState, &'a str, &'a [u8]) -> Completion<'a>;

/// What an [`InputHook`] gives back, when it is done.
pub type Completion<'a> = Pending<'a, Result<Option<Vec<u8>>, super::http::ApiError>>;

/// How a feature keeps a slot's good answers and finds them again for
/// the fallback (the RFM scorer's last good scores per customer).
#[derive(Clone, Copy)]
pub struct Memory {
    /// Keep a good answer to `input`.
    pub remember: for<'a> fn(&'a crate::AppState, &'a str, &'a Value, &'a Value) -> Pending<'a, ()>,
    /// The kept answers that bear on `input`, one per item of its batch.
    pub recall: Recall,
}

/// [`Memory::recall`].
pub type Recall =
    for<'a> fn(&'a crate::AppState, &'a str, &'a Value) -> Pending<'a, Vec<Option<Value>>>;

/// A boxed future of a feature's hook.
pub type Pending<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A policy slot; each is one WIT world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Slot {
    /// `rfm-scorer`
    Rfm,
    /// `allocator`
    Allocator,
    /// `fatigue-policy`
    Fatigue,
    /// `return-flow`
    Returns,
    /// `channel-chooser`
    Channels,
}

/// A version of the WIT contract (`cove:policy@X.Y.Z`) the host serves.
/// Plugins built against any of them run side by side, in the same slots;
/// the SDK builds against [`Contract::NEWEST`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Contract {
    /// `cove:policy@0.1.0`, frozen in `wit/v0.1.0`.
    V0_1,
    /// `cove:policy@0.2.0`, the newest (`wit/`).
    V0_2,
}

impl Contract {
    /// Every contract version served, oldest first.
    pub const ALL: [Contract; 2] = [Contract::V0_1, Contract::V0_2];
    /// The version new plugins are built against.
    pub const NEWEST: Contract = Contract::V0_2;

    /// The package version, `0.2.0`.
    pub fn version(self) -> &'static str {
        match self {
            Contract::V0_1 => "0.1.0",
            Contract::V0_2 => "0.2.0",
        }
    }

    /// The contract of package version `version`, if served.
    pub fn parse(version: &str) -> Option<Contract> {
        Contract::ALL.into_iter().find(|c| c.version() == version)
    }

    /// The versions served, for messages: `0.1.0, 0.2.0`.
    pub fn served() -> String {
        Contract::ALL.map(Contract::version).join(", ")
    }
}

impl std::fmt::Display for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.version())
    }
}

const HOUR_MS: i64 = 3_600_000;

impl Slot {
    /// Every slot.
    pub const ALL: [Slot; 5] = [
        Slot::Rfm,
        Slot::Allocator,
        Slot::Fatigue,
        Slot::Returns,
        Slot::Channels,
    ];

    /// The world name, which is also the slot's name in the API.
    pub fn world(self) -> &'static str {
        match self {
            Slot::Rfm => "rfm-scorer",
            Slot::Allocator => "allocator",
            Slot::Fatigue => "fatigue-policy",
            Slot::Returns => "return-flow",
            Slot::Channels => "channel-chooser",
        }
    }

    /// The slot named `name` (its world name).
    pub fn from_world(name: &str) -> Option<Slot> {
        Slot::ALL.into_iter().find(|s| s.world() == name)
    }

    /// The exported interface's name without its version
    /// (`cove:policy/fatigue`).
    pub fn interface(self) -> &'static str {
        match self {
            Slot::Rfm => "cove:policy/rfm",
            Slot::Allocator => "cove:policy/allocation",
            Slot::Fatigue => "cove:policy/fatigue",
            Slot::Returns => "cove:policy/returns",
            Slot::Channels => "cove:policy/channels",
        }
    }

    /// The exported interface as it appears in a component built against
    /// `contract` (`cove:policy/fatigue@0.2.0`).
    pub fn export_name(self, contract: Contract) -> String {
        format!("{}@{}", self.interface(), contract.version())
    }

    /// Whether the slot's answer rules or its fallback read the input (the
    /// fatigue policy's do not).
    pub fn reads_input(self) -> bool {
        self != Slot::Fatigue
    }

    /// The main function of the interface in `contract`.
    pub fn function(self, contract: Contract) -> &'static str {
        match self {
            Slot::Rfm => "score",
            Slot::Allocator => "allocate",
            Slot::Fatigue => "decide",
            Slot::Returns if contract == Contract::V0_1 => "evaluate",
            Slot::Returns => "next",
            Slot::Channels => "choose",
        }
    }

    /// The interface's functions besides [`Slot::function`] and
    /// `validate-config`, which features call on their own schedule.
    pub fn other_functions(self, contract: Contract) -> &'static [&'static str] {
        match (self, contract) {
            (Slot::Allocator, Contract::V0_2) => &["reweight"],
            (Slot::Rfm, Contract::V0_2) => &["fit"],
            _ => &[],
        }
    }

    /// The safe answer used when the plugin cannot give one: fatigue →
    /// defer an hour; allocator → the control (first) arm; channel chooser
    /// → the region's default channel; returns → a human queue; RFM →
    /// `last` (the last good scores), or `unscored` for customers never
    /// scored.
    pub fn fallback(
        self,
        contract: Contract,
        input: &Value,
        now: i64,
        last: &[Option<Value>],
    ) -> Value {
        match self {
            Slot::Fatigue => json!({"defer": {
                "until": now + HOUR_MS,
                "reason": "the fatigue policy is unavailable; retry later",
            }}),
            Slot::Allocator if contract == Contract::V0_1 => json!({
                "arm-id": input.pointer("/experiment/arms/0/id").cloned().unwrap_or(json!("control")),
                "deterministic": true,
            }),
            Slot::Allocator => json!({
                "in-experiment": false,
                "variation": 0,
                "hash-used": false,
                "hash-attribute": input.pointer("/experiment/hash-attribute").cloned().unwrap_or(json!("id")),
                "hash-value": "",
                "bucket": null,
                "reason": "unavailable",
            }),
            Slot::Channels => {
                let req = &input["request"];
                let region = req
                    .pointer("/customer/region")
                    .and_then(Value::as_str)
                    .unwrap_or("other");
                let default = if region == "middle-east" {
                    "sms"
                } else {
                    "email"
                };
                let consented = |ch: &str| {
                    req["consents"].as_array().is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c["channel"] == ch && c["granted"] == true)
                    })
                };
                if consented(default) {
                    json!([{"channel": default, "score": 1.0, "reason": "region default (fallback)"}])
                } else {
                    json!([])
                }
            }
            Slot::Returns => {
                let angry = input.pointer("/request/sentiment") == Some(&json!("negative"));
                let outcome = json!({"human-review": {
                    "queue": if angry { "priority" } else { "standard" },
                    "reason": "the automatic return flow is unavailable; a person will handle this request",
                }});
                match contract {
                    Contract::V0_1 => outcome,
                    Contract::V0_2 => json!({ "outcome": outcome }),
                }
            }
            Slot::Rfm => {
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
                                Contract::V0_2 => json!({
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
        }
    }

    /// Check a plugin's successful answer against the slot's rules.
    pub fn check_output(
        self,
        contract: Contract,
        input: &Value,
        output: &Value,
        now: i64,
    ) -> Result<(), String> {
        match self {
            Slot::Returns if contract != Contract::V0_1 => check_step(&input["session"], output),
            Slot::Fatigue => {
                if let Some(defer) = output.get("defer") {
                    let until = defer["until"].as_i64().unwrap_or(i64::MIN);
                    if until <= now || until > now + 90 * 24 * HOUR_MS {
                        return Err(format!(
                            "deferral until {until} is not within 90 days after now ({now})"
                        ));
                    }
                }
                Ok(())
            }
            Slot::Allocator if contract != Contract::V0_1 => {
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
            Slot::Allocator => {
                let arm = &output["arm-id"];
                let arms = input.pointer("/experiment/arms").and_then(Value::as_array);
                if arms.is_some_and(|a| a.iter().any(|x| &x["id"] == arm)) {
                    Ok(())
                } else {
                    Err(format!("arm {arm} is not an arm of the experiment"))
                }
            }
            Slot::Channels => {
                let consents = input.pointer("/request/consents").and_then(Value::as_array);
                let mut seen = Vec::new();
                for r in output.as_array().map(Vec::as_slice).unwrap_or(&[]) {
                    let ch = &r["channel"];
                    let score = r["score"].as_f64().unwrap_or(f64::NAN);
                    if !(0.0..=1.0).contains(&score) {
                        return Err(format!("score {score} for {ch} is outside 0..1"));
                    }
                    if seen.contains(&ch) {
                        return Err(format!("channel {ch} is ranked twice"));
                    }
                    if !consents.is_some_and(|cs| {
                        cs.iter()
                            .any(|c| &c["channel"] == ch && c["granted"] == true)
                    }) {
                        return Err(format!("channel {ch} has no consent"));
                    }
                    seen.push(ch);
                }
                Ok(())
            }
            Slot::Returns => {
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
            Slot::Rfm if contract != Contract::V0_1 => {
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
                    if s["customer-id"] != c["customer-id"] {
                        return Err(format!("score {i} is for another customer"));
                    }
                    if ["recency", "frequency", "monetary"]
                        .iter()
                        .any(|k| !(1..=5).contains(&s[*k].as_u64().unwrap_or(0)))
                    {
                        return Err(format!("a score of customer {i} is outside 1..5"));
                    }
                    if s["micro-segments"].as_array().is_none_or(Vec::is_empty) {
                        return Err(format!("customer {i} is in no segment"));
                    }
                    let p = s["p-active"].as_f64().unwrap_or(f64::NAN);
                    if !(0.0..=1.0).contains(&p) {
                        return Err(format!("P(active) {p} of customer {i} is outside 0..1"));
                    }
                }
                Ok(())
            }
            Slot::Rfm => {
                let inputs = input["customers"].as_array().map_or(0, Vec::len);
                let scores = output.as_array().map(Vec::as_slice).unwrap_or(&[]);
                if scores.len() != inputs {
                    return Err(format!("{} scores for {inputs} customers", scores.len()));
                }
                for (i, s) in scores.iter().enumerate() {
                    if s["customer-id"]
                        != input["customers"][i]
                            .pointer("/customer/id")
                            .cloned()
                            .unwrap_or_default()
                    {
                        return Err(format!("score {i} is for another customer"));
                    }
                    for key in ["recency", "frequency", "monetary"] {
                        if !(1..=5).contains(&s[key].as_u64().unwrap_or(0)) {
                            return Err(format!("{key} score of customer {i} is outside 1..5"));
                        }
                    }
                    if s["segments"].as_array().is_none_or(Vec::is_empty) {
                        return Err(format!("customer {i} is in no segment"));
                    }
                }
                Ok(())
            }
        }
    }
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

impl std::fmt::Display for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.world())
    }
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
