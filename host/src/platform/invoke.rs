//! The flow of one decision: find the merchant's binding, turn the JSON
//! input into component values, run the plugin in a fresh sandbox, check
//! its answer, and fall back to the slot's safe answer on any failure.

use std::time::Instant;

use serde_json::{Value, json};

use crate::AppState;
use crate::platform::http::ApiError;
use crate::platform::http::Code;
use crate::platform::metrics::{CallLabels, FailureLabels};
use crate::platform::runtime::{FailureKind, LogLine, json as wjson};
use crate::platform::slots::{Contract, Slot};

/// The answer to one invocation.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Answer {
    /// The decision (the `ok` payload of the slot's result type): its
    /// shape is the slot's WIT contract's, as JSON.
    #[schema(value_type = Object)]
    pub result: Value,
    /// `name@version` that decided, or null when the fallback answered.
    pub plugin: Option<String>,
    /// Why the safe fallback answered, if it did.
    pub fallback: Option<FailureKind>,
    /// Seed of the call's randomness, to replay the decision.
    pub seed: u64,
    /// Lines the plugin logged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<LogLine>,
}

/// An invocation the caller must fix, or try again.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The body is not JSON.
    #[error("{0}")]
    BadJson(String),
    /// The input does not match the slot's WIT types.
    #[error("{0}")]
    BadInput(String),
    /// The merchant's plugin calls are all busy and none freed up in time
    /// (the merchant's ceiling of calls at once).
    #[error("all {0} of the merchant's plugin calls are busy and none finished in time")]
    Busy(u32),
    /// The plugin refused the input on purpose (its `error` variant).
    #[error("{}", plugin_error_body(plugin, error)["message"].as_str().unwrap_or_default())]
    PluginError {
        /// `name@version`.
        plugin: String,
        /// The error value, as JSON.
        error: Value,
    },
}

/// Make a host-built `input` (written for the newest contract) fit the
/// contract of the plugin bound to `slot` (and of a canary's candidate):
/// fields an earlier contract does not have are left out.
pub fn fit_to_binding(state: &AppState, merchant: &str, slot: Slot, input: &mut Value) {
    // A canary's candidate answers some of the calls: the input fits both.
    let candidate = state
        .canaries
        .get(merchant, slot)
        .map(|c| c.candidate.clone());
    for active in state
        .bindings
        .get(merchant, slot)
        .into_iter()
        .chain(candidate)
    {
        if active.prepared.contract == Contract::NEWEST {
            continue;
        }
        if let Value::Object(object) = input {
            for (name, shape) in &active.prepared.params {
                if let Some(v) = object.get_mut(name) {
                    shape.prune(v);
                }
            }
        }
    }
}

/// Inputs larger than this whose call runs out of fuel, memory, time or
/// answer room do not count against the plugin's breaker (see [`invoke`]).
pub const BREAKER_INPUT_BYTES: usize = 16 * 1024;

/// Run `slot` for `merchant` on the JSON `body` (an object keyed by the
/// WIT parameter names).
pub async fn invoke(
    state: &AppState,
    merchant: &str,
    slot: Slot,
    body: &[u8],
) -> Result<Answer, InvokeError> {
    invoke_about(state, merchant, slot, body, None).await
}

/// [`invoke`] for a decision about customer `subject`, when the input does
/// not name them (the decision log finds it by them, for erasure).
pub async fn invoke_about(
    state: &AppState,
    merchant: &str,
    slot: Slot,
    body: &[u8],
    subject: Option<&str>,
) -> Result<Answer, InvokeError> {
    run(state, merchant, slot, Input::text(body), subject).await
}

/// [`invoke_about`] on an input the host built as a JSON tree: it goes
/// into component values as it is, and is written as text only if the
/// decision log or a shadow needs it.
pub async fn invoke_tree(
    state: &AppState,
    merchant: &str,
    slot: Slot,
    tree: Value,
    subject: Option<&str>,
) -> Result<Answer, InvokeError> {
    run(state, merchant, slot, Input::tree(tree), subject).await
}

/// The input of one call: the caller's text, its tree, or both; each made
/// from the other when first needed.
struct Input<'a> {
    text: std::sync::OnceLock<std::borrow::Cow<'a, [u8]>>,
    tree: Option<Value>,
}

impl<'a> Input<'a> {
    fn text(body: &'a [u8]) -> Input<'a> {
        Input {
            text: std::sync::OnceLock::from(std::borrow::Cow::Borrowed(body)),
            tree: None,
        }
    }

    fn tree(tree: Value) -> Input<'a> {
        Input {
            text: std::sync::OnceLock::new(),
            tree: Some(tree),
        }
    }

    /// The input as JSON text.
    fn bytes(&self) -> &[u8] {
        self.text.get_or_init(|| {
            std::borrow::Cow::Owned(
                serde_json::to_vec(self.tree.as_ref().unwrap_or(&Value::Null)).unwrap_or_default(),
            )
        })
    }

    /// The tree, read from the text now if not yet.
    fn read(&mut self) -> Result<&Value, InvokeError> {
        if self.tree.is_none() {
            self.tree = Some(parse(self.bytes())?);
        }
        Ok(self.tree.as_ref().unwrap_or(&Value::Null))
    }
}

async fn run(
    state: &AppState,
    merchant: &str,
    slot: Slot,
    mut input: Input<'_>,
    subject: Option<&str>,
) -> Result<Answer, InvokeError> {
    let mut active = state.bindings.get(merchant, slot);
    // A canary: its candidate answers for the units its hash takes.
    let mut canary = None;
    if let Some(c) = active
        .as_ref()
        .and_then(|_| state.canaries.get(merchant, slot))
    {
        let t = input.read()?;
        let unit = subject.map(str::to_string).or_else(|| {
            let of = state.slot_policy(slot).customer?;
            of(t)
        });
        let chosen = unit.is_some_and(|u| c.takes(&u));
        if chosen {
            active = Some(c.candidate.clone());
        }
        canary = Some((c, chosen));
    }
    let out = decide(state, merchant, slot, input, subject, active).await;
    if let Some((c, chosen)) = canary
        && let Some(reason) = c.record(chosen, &out)
    {
        let (state, merchant) = (state.clone(), merchant.to_string());
        tokio::spawn(async move {
            if let Err(e) =
                crate::platform::canary::roll_back(&state, &merchant, slot, c.id, &reason, "cove")
                    .await
            {
                tracing::error!(%merchant, %slot, error = %e, "could not record the canary's rollback");
            }
        });
    }
    out
}

/// The body as a JSON tree.
fn parse(body: &[u8]) -> Result<Value, InvokeError> {
    serde_json::from_slice(body).map_err(|e| {
        InvokeError::BadJson(format!(
            "the body is not valid JSON of the expected shape: {e}"
        ))
    })
}

/// [`run`] with the version that answers chosen.
async fn decide(
    state: &AppState,
    merchant: &str,
    slot: Slot,
    mut body: Input<'_>,
    subject: Option<&str>,
    active: Option<std::sync::Arc<crate::platform::bindings::Active>>,
) -> Result<Answer, InvokeError> {
    let now = crate::now_ms();
    let seed = rand::random::<u64>();
    let policy = state.slot_policy(slot);
    // The hot path: the text straight into component values, for slots
    // whose answer rules and fallback never read the input. The JSON tree
    // is built otherwise, and for input the fast path refuses, so the
    // caller gets the tree path's precise message.
    let fast = match (&active, &body.tree) {
        (Some(a), None) if !policy.reads_input => {
            wjson::params_from_slice(&a.prepared.params, body.bytes())
        }
        _ => None,
    };
    if fast.is_none() {
        body.read()?;
    }
    let input = body.tree.as_ref().unwrap_or(&Value::Null);
    let call = Call {
        state,
        merchant,
        slot,
        contract: active
            .as_ref()
            .map_or(Contract::NEWEST, |a| a.prepared.contract),
        input,
        now,
        seed,
    };
    let Some(active) = active else {
        if !input.is_object() {
            return Err(InvokeError::BadInput(
                "the body must be a JSON object".into(),
            ));
        }
        return Ok(call.fallback(None, FailureKind::Unbound, Vec::new()).await);
    };
    let vals = match fast {
        Some(vals) => vals,
        None => tree_params(slot, &active.prepared.params, input)?,
    };

    let label = &active.label;
    let logged = Logged {
        active: &active,
        body: &body,
        subject,
        now,
        seed,
    };
    if !active.breaker.allows(now) {
        let answer = call
            .fallback(Some(label), FailureKind::Breaker, Vec::new())
            .await;
        logged.keep(
            state,
            merchant,
            slot,
            &answer.result,
            "breaker",
            Default::default(),
            0,
            &[],
        );
        return Ok(answer);
    }
    // A merchant whose calls are slow waits for one of its own slots,
    // never for another merchant's (see `fair`).
    let Some(ticket) = state.fair.plugin_slot(merchant).await else {
        state
            .metrics
            .throttled
            .get_or_create(&crate::platform::metrics::ThrottleLabels {
                merchant: merchant.to_string(),
                limit: "concurrency",
            })
            .inc();
        return Err(InvokeError::Busy(state.fair.limits(merchant).plugin_calls));
    };
    let started = Instant::now();
    // What the call cost the thread that ran it, not the time it took: a
    // call that the machine's other work interrupts is not a slow one.
    let timed = {
        let (runtime, active) = (state.runtime.clone(), active.clone());
        move || {
            let cpu = crate::platform::fair::thread_cpu();
            let out = runtime.call(&active.prepared, &active.config, now, seed, &vals);
            (out, crate::platform::fair::thread_cpu().saturating_sub(cpu))
        }
    };
    let (outcome, cpu) = if slot == Slot::Rfm || ticket.slotted() {
        // Slow calls (this merchant's run long; RFM batches always do) run
        // off the request threads, on the blocking pool: the request
        // threads stay free for every other merchant's traffic.
        tokio::task::spawn_blocking(move || {
            crate::platform::fair::background_priority();
            timed()
        })
        .await
        .unwrap_or_else(|e| {
            let failed = crate::platform::runtime::Failure {
                kind: FailureKind::Trap,
                detail: format!("the call's thread failed: {e}"),
                logs: Vec::new(),
                usage: Default::default(),
            };
            (Err(failed), std::time::Duration::ZERO)
        })
    } else {
        timed()
    };
    let took = started.elapsed();
    ticket.done(cpu);
    drop(ticket);
    active.series.latency.observe(took.as_secs_f64());
    let micros = took.as_micros() as u64;
    let usage = match &outcome {
        Ok(out) => out.usage,
        Err(f) => f.usage,
    };

    let failure = match outcome {
        Ok(out) => {
            emit_logs(merchant, label, &out.logs);
            match out.value {
                wasmtime::component::Val::Result(Ok(v)) => {
                    let result = v.as_deref().map_or(Value::Null, wjson::from_val);
                    match (policy.check)(call.contract, input, &result, now) {
                        Ok(()) => {
                            active.breaker.success();
                            active.series.ok.inc();
                            state.stats.record(merchant, slot, "ok", now);
                            if let Some(memory) = policy.memory {
                                (memory.remember)(state, merchant, input, &result).await;
                            }
                            logged.keep(
                                state, merchant, slot, &result, "ok", usage, micros, &out.logs,
                            );
                            if let Some(shadow) = state.shadows.get(merchant, slot) {
                                state.shadows.after(
                                    state,
                                    slot,
                                    shadow,
                                    active.config.clone(),
                                    body.bytes(),
                                    now,
                                    seed,
                                    &result,
                                    usage,
                                    micros,
                                );
                            }
                            return Ok(Answer {
                                result,
                                plugin: Some(label.clone()),
                                fallback: None,
                                seed,
                                logs: out.logs,
                            });
                        }
                        Err(why) => (FailureKind::InvalidOutput, why, out.logs),
                    }
                }
                wasmtime::component::Val::Result(Err(e)) => {
                    active.breaker.success();
                    active.series.plugin_error.inc();
                    state.stats.record(merchant, slot, "plugin_error", now);
                    let error = e.as_deref().map_or(Value::Null, wjson::from_val);
                    logged.keep(
                        state,
                        merchant,
                        slot,
                        &json!({"error": error}),
                        "plugin_error",
                        usage,
                        micros,
                        &out.logs,
                    );
                    return Err(InvokeError::PluginError {
                        plugin: label.clone(),
                        error,
                    });
                }
                other => (
                    FailureKind::InvalidOutput,
                    format!("not a result: {other:?}"),
                    out.logs,
                ),
            }
        }
        Err(f) => {
            emit_logs(merchant, label, &f.logs);
            (f.kind, f.detail, f.logs)
        }
    };
    let (kind, detail, logs) = failure;
    // Running out of fuel, memory, time or answer room on an input the
    // caller made large is the input's doing: the caller gets the
    // fallback, and the breaker does not count it. (RFM batches are the
    // host's own large inputs.)
    let callers_doing = slot != Slot::Rfm
        && body.bytes().len() > BREAKER_INPUT_BYTES
        && matches!(
            kind,
            FailureKind::Fuel
                | FailureKind::Memory
                | FailureKind::Deadline
                | FailureKind::OversizedOutput
        );
    if !callers_doing && active.breaker.failure(now) {
        tracing::error!(%merchant, plugin = %label, %slot, "circuit breaker tripped: the plugin keeps failing; answering with the safe fallback");
    }
    tracing::warn!(%merchant, plugin = %label, %slot, kind = kind.as_str(), %detail, "plugin call failed; answered with the safe fallback");
    let kept = logs.clone();
    let answer = call.fallback(Some(label), kind, logs).await;
    logged.keep(
        state,
        merchant,
        slot,
        &answer.result,
        kind.as_str(),
        usage,
        micros,
        &kept,
    );
    Ok(answer)
}

/// What the decision log needs of a call, kept if sampled.
struct Logged<'a, 'i> {
    active: &'a crate::platform::bindings::Active,
    /// The input (on the fast path, text only: read if kept).
    body: &'a Input<'i>,
    subject: Option<&'a str>,
    now: i64,
    seed: u64,
}

impl Logged<'_, '_> {
    /// Queue the call for the decision log if the merchant's sample takes
    /// it (failures, fallbacks and refusals always).
    #[allow(clippy::too_many_arguments)]
    fn keep(
        &self,
        state: &AppState,
        merchant: &str,
        slot: Slot,
        result: &Value,
        outcome: &str,
        usage: crate::platform::runtime::Usage,
        micros: u64,
        logs: &[LogLine],
    ) {
        use crate::platform::calls::{CallRecord, INPUT_BYTES};
        if !state.calls.wants(merchant, outcome != "ok") {
            return;
        }
        let customer = self.subject.map(str::to_string).or_else(|| {
            let of = state.slot_policy(slot).customer?;
            match &self.body.tree {
                Some(tree) => of(tree),
                None => of(&serde_json::from_slice(self.body.bytes()).ok()?),
            }
        });
        let answer = result.to_string();
        state.calls.push(CallRecord {
            merchant: merchant.to_string(),
            slot,
            at: self.now,
            seed: self.seed,
            plugin: self.active.label.clone(),
            contract: self.active.prepared.contract,
            config: self.active.config_json.clone(),
            input: (self.body.bytes().len() <= INPUT_BYTES)
                .then(|| String::from_utf8_lossy(self.body.bytes()).into_owned()),
            input_bytes: self.body.bytes().len(),
            result: if answer.len() <= INPUT_BYTES {
                result.clone()
            } else {
                json!({"elided-bytes": answer.len()})
            },
            outcome: outcome.to_string(),
            usage,
            micros,
            logs: logs.to_vec(),
            customer,
        });
    }
}

/// The parameters from the JSON tree, with messages that name the field.
pub fn tree_params(
    slot: Slot,
    params: &[(String, wjson::Shape)],
    input: &Value,
) -> Result<Vec<wasmtime::component::Val>, InvokeError> {
    let object = input
        .as_object()
        .ok_or_else(|| InvokeError::BadInput("the body must be a JSON object".into()))?;
    if let Some(unknown) = object.keys().find(|k| !params.iter().any(|(n, _)| n == *k)) {
        let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
        return Err(InvokeError::BadInput(format!(
            "`{unknown}` is not an input of {slot}; expected {}",
            names.join(", ")
        )));
    }
    params
        .iter()
        .map(|(name, ty)| {
            let v = object
                .get(name)
                .ok_or_else(|| InvokeError::BadInput(format!("`{name}` is missing")))?;
            wjson::to_val(ty, v).map_err(|e| InvokeError::BadInput(e.at(name.clone()).to_string()))
        })
        .collect()
}

fn count(state: &AppState, slot: Slot, plugin: &str, outcome: &'static str) {
    state
        .metrics
        .calls
        .get_or_create(&CallLabels {
            slot: slot.world(),
            plugin: plugin.to_string(),
            outcome,
        })
        .inc();
}

fn emit_logs(merchant: &str, plugin: &str, logs: &[LogLine]) {
    for line in logs {
        let message = one_line(&line.message);
        tracing::info!(target: "cove::plugin", %merchant, %plugin, level = line.level, "{message}");
    }
}

/// A plugin's log text on one line: control characters (CR, LF, ESC, …)
/// are written as escapes, so a plugin cannot forge the host's log lines.
pub fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// One invocation's context, for answering with the fallback.
struct Call<'a> {
    state: &'a AppState,
    merchant: &'a str,
    slot: Slot,
    /// The bound plugin's contract (the newest when none is bound).
    contract: Contract,
    input: &'a Value,
    now: i64,
    seed: u64,
}

impl Call<'_> {
    /// Count the failure and answer with the slot's safe fallback.
    async fn fallback(
        &self,
        plugin: Option<&String>,
        kind: FailureKind,
        logs: Vec<LogLine>,
    ) -> Answer {
        let Call {
            state,
            merchant,
            slot,
            contract,
            input,
            now,
            seed,
        } = *self;
        let plugin_label = plugin.cloned().unwrap_or_else(|| "none".into());
        count(state, slot, &plugin_label, "fallback");
        state.stats.record(merchant, slot, kind.as_str(), now);
        state
            .metrics
            .failures
            .get_or_create(&FailureLabels {
                slot: slot.world(),
                plugin: plugin_label,
                kind: kind.as_str(),
            })
            .inc();
        let policy = state.slot_policy(slot);
        let last = match policy.memory {
            Some(memory) => (memory.recall)(state, merchant, input).await,
            None => Vec::new(),
        };
        Answer {
            result: (policy.fallback)(contract, input, now, &last),
            plugin: None,
            fallback: Some(kind),
            seed,
            logs,
        }
    }
}

impl From<InvokeError> for ApiError {
    /// Bad JSON 400 `invalid_json`, input that does not fit the contract
    /// 422 `invalid_input`, busy 503 `busy` with `Retry-After`, a refusal
    /// 422 `plugin_refused` with the plugin's error.
    fn from(e: InvokeError) -> ApiError {
        let words = e.to_string();
        match e {
            InvokeError::BadJson(_) => ApiError::bad_request(Code::InvalidJson, words),
            InvokeError::BadInput(_) => ApiError::unprocessable(Code::InvalidInput, words),
            InvokeError::Busy(_) => ApiError::unavailable(std::time::Duration::from_secs(1), words),
            InvokeError::PluginError { plugin, error } => {
                ApiError::unprocessable(Code::PluginRefused, words)
                    .with_body(plugin_error_body(&plugin, &error))
            }
        }
    }
}

/// The JSON body of a plugin-returned error, for the HTTP layer.
pub fn plugin_error_body(plugin: &str, error: &Value) -> Value {
    let message = match error {
        Value::Object(o) => o
            .iter()
            .next()
            .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or(&v.to_string()))),
        other => Some(other.to_string()),
    };
    json!({
        "code": "plugin_refused",
        "message": format!("{plugin} refused the request: {}", message.unwrap_or_default()),
        "plugin": plugin,
        "error": error,
    })
}

/// Call another function of the merchant's bound plugin for `slot`
/// (`function`, one of [`Slot::other_functions`]) with the JSON `input`
/// keyed by parameter name, off the request threads and without a
/// fallback: on any failure the caller keeps what it had, and the error
/// says why.
pub async fn call_other(
    state: &AppState,
    merchant: &str,
    slot: Slot,
    function: &str,
    input: &Value,
) -> Result<Value, String> {
    call_other_with(state, merchant, slot, function, |params| {
        tree_params(slot, params, input).map_err(|e| e.to_string())
    })
    .await
}

/// [`call_other`] with the parameters built by `params` from the
/// function's parameter shapes (a large input straight into component
/// values, without a JSON tree).
pub async fn call_other_with(
    state: &AppState,
    merchant: &str,
    slot: Slot,
    function: &str,
    params: impl FnOnce(&[(String, wjson::Shape)]) -> Result<Vec<wasmtime::component::Val>, String>,
) -> Result<Value, String> {
    let active = state
        .bindings
        .get(merchant, slot)
        .ok_or_else(|| format!("no {slot} plugin is bound"))?;
    let index = active
        .prepared
        .others
        .iter()
        .position(|f| f.name == function)
        .ok_or_else(|| {
            format!(
                "{} (built against {}) has no `{function}`",
                active.label, active.prepared.contract
            )
        })?;
    let vals = params(&active.prepared.others[index].params)?;
    let (runtime, now, seed) = (
        state.runtime.clone(),
        crate::now_ms(),
        rand::random::<u64>(),
    );
    let run = active.clone();
    let out = tokio::task::spawn_blocking(move || {
        crate::platform::fair::background_priority();
        let f = &run.prepared.others[index];
        runtime.call_other(&run.prepared, f, &run.config, now, seed, &vals)
    })
    .await
    .map_err(|e| format!("the call's thread failed: {e}"))?;
    match out {
        Ok(out) => {
            emit_logs(merchant, &active.label, &out.logs);
            match out.value {
                wasmtime::component::Val::Result(Ok(v)) => {
                    Ok(v.as_deref().map_or(Value::Null, wjson::from_val))
                }
                wasmtime::component::Val::Result(Err(e)) => Err(format!(
                    "{} refused: {}",
                    active.label,
                    e.as_deref().map_or(Value::Null, wjson::from_val)
                )),
                // Functions that cannot fail (`settings`, the batches,
                // whose items are results of their own).
                other => Ok(wjson::from_val(&other)),
            }
        }
        Err(f) => {
            emit_logs(merchant, &active.label, &f.logs);
            Err(format!(
                "{}: {} ({})",
                active.label,
                f.kind.as_str(),
                f.detail
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_plugin_log_line_stays_one_line() {
        assert_eq!(super::one_line("fine, 好"), "fine, 好");
        let forged = super::one_line("ok\n2026-12-06T00:00:00Z ERROR cove: token leaked\r\x1b[2J");
        assert!(!forged.chars().any(char::is_control), "{forged}");
        assert!(forged.contains("ok\\n2026"), "{forged}");
    }
}
