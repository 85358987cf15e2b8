//! `cove plugin replay --native`: logged decisions through the author's
//! own crate, natively, as a test (`cove_replay`, written by the export
//! macro). The CLI writes the cases — each with the function, its
//! arguments as JSON, the call's time, seed and settings — to the file
//! named by `COVE_REPLAY`, runs the test, and reads one answer per case
//! from `COVE_REPLAY_OUT`. The test is ignored by a plain `cargo test`.

use serde_json::Value;

use crate::{Config, Ctx};

/// One argument of a case, by its Rust name.
#[doc(hidden)]
pub fn arg<T: serde::de::DeserializeOwned>(args: &Value, name: &str) -> Result<T, String> {
    serde_json::from_value(args.get(name).cloned().unwrap_or(Value::Null))
        .map_err(|e| format!("argument `{name}`: {e}"))
}

/// An answer as JSON.
#[doc(hidden)]
pub fn answer<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The function of a case that names none of the slot's.
#[doc(hidden)]
pub fn unknown(function: &str) -> Result<Value, String> {
    Err(format!("this slot has no function `{function}`"))
}

/// Run every case of `COVE_REPLAY` through `call` (function, arguments,
/// context), writing the answers to `COVE_REPLAY_OUT`.
#[doc(hidden)]
pub fn run(call: impl Fn(&str, &Value, &Ctx) -> Result<Value, String>) {
    let cases = std::env::var("COVE_REPLAY")
        .expect("COVE_REPLAY names the logged decisions: run `cove plugin replay --native`");
    let text = std::fs::read_to_string(&cases).expect("the cases file `COVE_REPLAY` names");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("cases as a JSON array");
    let mut out = Vec::new();
    for case in &cases {
        let config: Vec<(String, String)> =
            serde_json::from_value(case["config"].clone()).unwrap_or_default();
        let ctx = Ctx::replaying(
            case["now"].as_i64().unwrap_or(0),
            case["seed"].as_u64().unwrap_or(0),
            Config::from_pairs(config),
        );
        let function = case["function"].as_str().unwrap_or_default();
        let called = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            call(function, &case["args"], &ctx)
        }));
        let answer = match called {
            Ok(Ok(v)) => serde_json::json!({"id": case["id"], "answer": v}),
            Ok(Err(why)) => serde_json::json!({"id": case["id"], "error": why}),
            // The sandbox reports a panic as a trap.
            Err(_) => serde_json::json!({"id": case["id"], "answer": {"failed": "trap"}}),
        };
        out.push(answer);
    }
    let to = std::env::var("COVE_REPLAY_OUT").expect("COVE_REPLAY_OUT names the answers' file");
    std::fs::write(&to, Value::Array(out).to_string()).expect("the answers' file is writable");
}
