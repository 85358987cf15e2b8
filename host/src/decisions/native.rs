//! `cove plugin replay --native DIR`: the logged decisions also run
//! through the author's crate compiled natively, as its `cove_replay` test
//! (written by the SDK's export macro), so a decision that went wrong can
//! be stepped through with a native debugger or `eprintln!`. Each case
//! goes as the JSON the SDK's types read (their Rust names); each native
//! answer is compared with the component's answer to the same case.

use std::path::Path;

use anyhow::Context;
use serde_json::{Value, json};
use wasmtime::component::Val;

use crate::platform::bindings::config_pairs;
use crate::platform::runtime::{Prepared, Runtime};
use crate::platform::slots::Slot;

/// `kebab-case` as wit-bindgen spells a Rust type or case name.
fn camel(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
        })
        .collect()
}

/// A component value as the JSON serde reads into the SDK's generated
/// types: fields in snake case, cases in upper camel case, results as
/// `{"Ok": …}` / `{"Err": …}`.
pub fn serde_form(v: &Val) -> Value {
    match v {
        Val::Bool(b) => json!(b),
        Val::S8(n) => json!(n),
        Val::U8(n) => json!(n),
        Val::S16(n) => json!(n),
        Val::U16(n) => json!(n),
        Val::S32(n) => json!(n),
        Val::U32(n) => json!(n),
        Val::S64(n) => json!(n),
        Val::U64(n) => json!(n),
        Val::Float32(n) => json!(n),
        Val::Float64(n) => json!(n),
        Val::Char(c) => json!(c.to_string()),
        Val::String(s) => json!(s),
        Val::List(items) | Val::Tuple(items) => {
            Value::Array(items.iter().map(serde_form).collect())
        }
        Val::Record(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.replace('-', "_"), serde_form(v)))
                .collect(),
        ),
        Val::Variant(case, payload) => match payload {
            None => json!(camel(case)),
            Some(p) => json!({ camel(case): serde_form(p) }),
        },
        Val::Enum(case) => json!(camel(case)),
        Val::Option(o) => o.as_deref().map_or(Value::Null, serde_form),
        Val::Result(Ok(v)) => json!({"Ok": v.as_deref().map_or(Value::Null, serde_form)}),
        Val::Result(Err(e)) => json!({"Err": e.as_deref().map_or(Value::Null, serde_form)}),
        Val::Flags(names) => json!(names),
        _ => Value::Null,
    }
}

/// What the native run found.
#[derive(Debug, Default)]
pub struct NativeSummary {
    /// Cases run natively.
    pub run: usize,
    /// Of them, the same answer as the component's.
    pub same: usize,
    /// Of them, another answer (or a panic where the component answered).
    pub different: usize,
}

/// Run the logged `decisions` through the crate in `dir` natively and
/// through `prepared`; print each case where they disagree.
pub fn replay_native(
    runtime: &Runtime,
    prepared: &Prepared,
    slot: Slot,
    decisions: &[Value],
    dir: &Path,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<NativeSummary> {
    let function = slot.function(prepared.contract).replace('-', "_");
    let (mut cases, mut component) = (Vec::new(), Vec::new());
    for d in decisions {
        let (Some(input), Some(seed)) = (
            d.get("input").filter(|i| !i.is_null()),
            d["seed"].as_str().and_then(|s| s.parse::<u64>().ok()),
        ) else {
            continue;
        };
        let Ok(vals) = crate::platform::invoke::tree_params(slot, &prepared.params, input) else {
            continue;
        };
        let config = config_pairs(&d["config"]).unwrap_or_default();
        let at = d["at"].as_i64().unwrap_or(0);
        let answer = match runtime.call(prepared, &config.clone().into(), at, seed, &vals) {
            Ok(o) => serde_form(&o.value),
            Err(f) => json!({"failed": f.kind.as_str()}),
        };
        let args: serde_json::Map<String, Value> = prepared
            .params
            .iter()
            .zip(&vals)
            .map(|((name, _), v)| (name.replace('-', "_"), serde_form(v)))
            .collect();
        cases.push(json!({"id": d["id"], "function": function, "args": args,
            "now": at, "seed": seed, "config": config}));
        component.push(answer);
    }
    let work = std::env::temp_dir().join(format!(
        "cove-replay-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&work)?;
    let (cases_file, answers_file) = (work.join("cases.json"), work.join("answers.json"));
    std::fs::write(&cases_file, Value::Array(cases.clone()).to_string())?;
    let manifest = dir.join("Cargo.toml");
    let status =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["test", "--release", "--lib", "--manifest-path"])
            .arg(&manifest)
            .args(["--", "cove_replay", "--exact", "--ignored", "--nocapture"])
            .env("COVE_REPLAY", &cases_file)
            .env("COVE_REPLAY_OUT", &answers_file)
            .status()
            .with_context(|| format!("running cargo test for {}", manifest.display()))?;
    anyhow::ensure!(
        status.success(),
        "the native run of {} failed ({status})",
        manifest.display()
    );
    let answers = std::fs::read_to_string(&answers_file);
    let _ = std::fs::remove_dir_all(&work);
    let answers: Vec<Value> =
        serde_json::from_str(&answers.context("the native run wrote no answers")?)?;
    let mut summary = NativeSummary::default();
    for ((case, wasm), native) in cases.iter().zip(&component).zip(&answers) {
        summary.run += 1;
        let native = native.get("answer").unwrap_or(&native["error"]);
        if native == wasm {
            summary.same += 1;
        } else {
            summary.different += 1;
            writeln!(
                out,
                "{}: natively {native} — in the sandbox {wasm}",
                case["id"].as_str().unwrap_or_default()
            )?;
        }
    }
    writeln!(
        out,
        "natively: {} run, {} as in the sandbox, {} different",
        summary.run, summary.same, summary.different
    )?;
    Ok(summary)
}
