//! Replay: run logged decisions again through a plugin build, with the
//! logged input, time, seed and config, and compare. The host replays
//! against a published version; `cove plugin replay` against a local
//! `.wasm`, with the same runtime and limits.

use serde_json::{Value, json};
use wasmtime::component::Val;

use crate::platform::bindings::config_pairs;
use crate::platform::feature::SlotPolicy;
use crate::platform::runtime::{Prepared, Runtime, json as wjson};
use crate::platform::slots::Slot;

/// A decision run again.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Replayed {
    /// `ok`, `plugin_error`, or the failure kind (the fallback would
    /// have answered).
    pub outcome: String,
    /// The answer (`{"error": …}` for a refusal; null for a failure).
    pub result: Value,
    /// What the call used.
    pub usage: crate::platform::runtime::Usage,
    /// Why it failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One logged decision against its replay.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Compared {
    /// The decision's id.
    pub id: String,
    /// Who it was about.
    pub customer: Option<String>,
    /// What was logged: outcome and answer.
    pub logged: Value,
    /// What the build answers now.
    pub now: Replayed,
    /// Whether they agree: the same outcome and, when the plugin
    /// answered, the same answer.
    pub same: bool,
}

/// Run logged decision `d` (the decision log's JSON, in full) through
/// `prepared` for `slot`, applying the slot's answer rules as the host
/// does. An error says why it cannot be replayed (its input was too large
/// to keep, or does not fit this build's contract).
pub fn replay(
    runtime: &Runtime,
    prepared: &Prepared,
    policy: &SlotPolicy,
    slot: Slot,
    d: &Value,
) -> Result<Compared, String> {
    let id = d["id"].as_str().unwrap_or_default().to_string();
    let input = &d["input"];
    if input.is_null() {
        return Err(format!(
            "{id}: its input ({} bytes) was too large to keep",
            d["input_bytes"]
        ));
    }
    let vals = crate::platform::invoke::tree_params(slot, &prepared.params, input)
        .map_err(|e| format!("{id}: {e}"))?;
    let config: std::sync::Arc<[(String, String)]> = config_pairs(&d["config"])
        .map_err(|e| format!("{id}: config: {e}"))?
        .into();
    let at = d["at"].as_i64().unwrap_or(0);
    let seed: u64 = d["seed"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{id}: no seed"))?;
    let now = match runtime.call(prepared, &config, at, seed, &vals) {
        Ok(out) => match out.value {
            Val::Result(Ok(v)) => {
                let result = v.as_deref().map_or(Value::Null, wjson::from_val);
                match (policy.check)(prepared.contract, input, &result, at) {
                    Ok(()) => Replayed {
                        outcome: "ok".into(),
                        result,
                        usage: out.usage,
                        detail: None,
                    },
                    Err(why) => Replayed {
                        outcome: "invalid-output".into(),
                        result,
                        usage: out.usage,
                        detail: Some(why),
                    },
                }
            }
            Val::Result(Err(e)) => Replayed {
                outcome: "plugin_error".into(),
                result: json!({"error": e.as_deref().map_or(Value::Null, wjson::from_val)}),
                usage: out.usage,
                detail: None,
            },
            other => Replayed {
                outcome: "invalid-output".into(),
                result: Value::Null,
                usage: out.usage,
                detail: Some(format!("not a result: {other:?}")),
            },
        },
        Err(f) => Replayed {
            outcome: f.kind.as_str().into(),
            result: Value::Null,
            usage: f.usage,
            detail: Some(f.detail),
        },
    };
    let logged_outcome = d["outcome"].as_str().unwrap_or_default();
    let answered = matches!(logged_outcome, "ok" | "plugin_error");
    let same = now.outcome == logged_outcome && (!answered || now.result == d["result"]);
    Ok(Compared {
        id,
        customer: d["customer"].as_str().map(str::to_string),
        logged: json!({"outcome": logged_outcome, "result": d["result"], "usage": d["usage"]}),
        now,
        same,
    })
}

/// What a replay of many decisions found.
#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct ReplaySummary {
    /// Decisions run again.
    pub replayed: usize,
    /// Of them, the same outcome and answer.
    pub same: usize,
    /// Of them, different.
    pub different: usize,
    /// Decisions that could not be run again, and why.
    pub unreplayable: Vec<String>,
    /// The differences (the first 20), each with both answers.
    #[schema(value_type = Vec<Object>)]
    pub differences: Vec<Value>,
}

impl ReplaySummary {
    /// Add one decision's comparison (or why it could not be replayed).
    pub fn add(&mut self, c: Result<Compared, String>) {
        match c {
            Ok(c) => {
                self.replayed += 1;
                if c.same {
                    self.same += 1;
                } else {
                    self.different += 1;
                    if self.differences.len() < 20 {
                        self.differences.push(json!(c));
                    }
                }
            }
            Err(why) => self.unreplayable.push(why),
        }
    }
}

/// The logged decisions `client` asks the host for (`GET
/// …/decisions?full=true…`).
pub async fn fetch(client: &reqwest::RequestBuilder) -> anyhow::Result<Vec<Value>> {
    use anyhow::Context;
    let response = client
        .try_clone()
        .context("the request cannot be sent")?
        .send()
        .await
        .context("could not reach the Cove host")?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    anyhow::ensure!(
        status.is_success(),
        "the host answered {status}: {}",
        body["message"].as_str().unwrap_or("")
    );
    Ok(body["decisions"].as_array().cloned().unwrap_or_default())
}

/// `cove plugin replay`: logged decisions of `slot` fetched from the host
/// (by id, or since a time), run through the component `wasm` in this
/// process, with the same runtime and limits as a host's; each
/// difference printed as it is found.
pub async fn replay_local(
    decisions: &[Value],
    wasm: &[u8],
    slot: Slot,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<ReplaySummary> {
    let runtime = Runtime::new(crate::platform::runtime::Limits::default())?;
    let (built_for, contract, component) = crate::platform::registry::inspect(&runtime, wasm)
        .map_err(|e| anyhow::anyhow!("the component is refused: {e}"))?;
    anyhow::ensure!(
        built_for == slot,
        "the component is a {built_for}, not a {slot}"
    );
    let prepared = runtime
        .prepare(&component, slot, contract)
        .map_err(anyhow::Error::msg)?;
    let policy = crate::platform::feature::slot_policy(crate::FEATURES, slot);
    let mut summary = ReplaySummary::default();
    for d in decisions {
        let c = replay(&runtime, &prepared, policy, slot, d);
        match &c {
            Ok(c) if !c.same => writeln!(
                out,
                "{} ({}): logged {} {} — now {} {}",
                c.id,
                c.customer.as_deref().unwrap_or("no customer"),
                c.logged["outcome"].as_str().unwrap_or_default(),
                c.logged["result"],
                c.now.outcome,
                c.now.result
            )?,
            Err(why) => writeln!(out, "not replayed: {why}")?,
            Ok(_) => {}
        }
        summary.add(c);
    }
    writeln!(
        out,
        "{} replayed: {} the same, {} different; {} could not be replayed",
        summary.replayed,
        summary.same,
        summary.different,
        summary.unreplayable.len()
    )?;
    Ok(summary)
}
