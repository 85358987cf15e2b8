//! The sandbox and the registry's publish rules, on the real components.

use std::sync::Arc;

use cove_e2e::{NOON, fatigue_input, guests, wasm};
use cove_host::platform::registry::{PublishError, inspect};
use cove_host::platform::runtime::{FailureKind, Limits, Runtime, json};
use cove_host::platform::slots::Slot;
use cove_sdk::fatigue::FatiguePolicy;
use serde_json::{Value, json};

fn runtime() -> Arc<Runtime> {
    Runtime::new(cove_e2e::test_limits()).expect("runtime")
}

/// Run the fatigue slot of `component` on `input` at `now` with `config`.
fn call(
    rt: &Runtime,
    component: &str,
    input: &Value,
    config: &[(&str, &str)],
) -> Result<Value, FailureKind> {
    let (slot, contract, compiled) = inspect(rt, &wasm(component)).expect("valid component");
    assert_eq!(slot, Slot::Fatigue);
    let prepared = rt.prepare(&compiled, slot, contract).expect("prepare");
    let params: Vec<_> = prepared
        .params
        .iter()
        .map(|(name, ty)| json::to_val(ty, &input[name]).expect("input matches WIT"))
        .collect();
    let config: Arc<[(String, String)]> = config
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    rt.call(&prepared, &config, NOON, 7, &params)
        .map(|out| json::from_val(&out.value))
        .map_err(|f| f.kind)
}

#[test]
fn every_hostile_plugin_is_stopped_by_the_right_limit() {
    let rt = runtime();
    let input = fatigue_input("email", json!([]));
    for (plugin, expected) in [
        (guests::LOOP_FOREVER, FailureKind::Fuel),
        (guests::GROW_MEMORY, FailureKind::Memory),
        (guests::RECURSE, FailureKind::Trap),
        (guests::TRAP, FailureKind::Trap),
        (guests::PANIC, FailureKind::Trap),
        (guests::OVERSIZED_OUTPUT, FailureKind::OversizedOutput),
    ] {
        assert_eq!(call(&rt, plugin, &input, &[]), Err(expected), "{plugin}");
    }
}

#[test]
fn what_a_plugin_prints_and_its_panic_message_become_log_lines() {
    let rt = runtime();
    let (slot, contract, compiled) = inspect(&rt, &wasm(guests::PANIC)).expect("valid component");
    let prepared = rt.prepare(&compiled, slot, contract).expect("prepare");
    let input = fatigue_input("email", json!([]));
    let params: Vec<_> = prepared
        .params
        .iter()
        .map(|(name, ty)| json::to_val(ty, &input[name]).expect("input"))
        .collect();
    let Err(failure) = rt.call(&prepared, &Arc::from(Vec::new()), NOON, 1, &params) else {
        panic!("the panicking plugin answered");
    };
    assert_eq!(failure.kind, FailureKind::Trap, "{}", failure.detail);
    let lines: Vec<(&str, &str)> = failure
        .logs
        .iter()
        .map(|l| (l.level, l.message.as_str()))
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}; {}", failure.detail);
    assert_eq!(lines[0], ("info", "about to refuse campaign spring"));
    assert!(
        lines[1].0 == "error"
            && lines[1]
                .1
                .contains("hostile plugin refuses campaign spring"),
        "{lines:?}"
    );
    assert_eq!(lines[2], ("warn", "no newline at the end"));
}

#[test]
fn log_lines_past_the_budget_are_dropped_and_counted() {
    let rt = Runtime::new(Limits {
        log_bytes: 25,
        ..cove_e2e::test_limits()
    })
    .expect("runtime");
    let (slot, contract, compiled) = inspect(&rt, &wasm(guests::PANIC)).expect("valid component");
    let prepared = rt.prepare(&compiled, slot, contract).expect("prepare");
    let input = fatigue_input("email", json!([]));
    let params: Vec<_> = prepared
        .params
        .iter()
        .map(|(name, ty)| json::to_val(ty, &input[name]).expect("input"))
        .collect();
    let Err(failure) = rt.call(&prepared, &Arc::from(Vec::new()), NOON, 1, &params) else {
        panic!("the panicking plugin answered");
    };
    let lines: Vec<(&str, &str)> = failure
        .logs
        .iter()
        .map(|l| (l.level, l.message.as_str()))
        .collect();
    // The 21-byte stderr tail fits; the 31-byte print and the panic message do not.
    assert_eq!(
        lines,
        [
            ("warn", "no newline at the end"),
            (
                "warn",
                "2 more log lines dropped: the per-call log budget is spent"
            )
        ]
    );
}

#[test]
fn the_deadline_stops_a_loop_when_fuel_would_not() {
    let rt = Runtime::new(Limits {
        fuel: u64::MAX / 2,
        deadline_ms: 20,
        ..Limits::default()
    })
    .expect("runtime");
    let input = fatigue_input("email", json!([]));
    assert_eq!(
        call(&rt, guests::LOOP_FOREVER, &input, &[]),
        Err(FailureKind::Deadline)
    );
}

#[test]
fn the_host_keeps_serving_after_every_kind_of_failure() {
    let rt = runtime();
    let input = fatigue_input("email", json!([]));
    for plugin in [
        guests::LOOP_FOREVER,
        guests::GROW_MEMORY,
        guests::RECURSE,
        guests::PANIC,
    ] {
        assert!(call(&rt, plugin, &input, &[]).is_err());
        assert_eq!(
            call(&rt, guests::FATIGUE, &input, &[]),
            Ok(json!({"ok": "allow"}))
        );
    }
}

#[test]
fn wasm_and_native_decide_alike() {
    const CONFIG: &[(&str, &str)] = &[("cap.sms", "1"), ("cap.tag.newsletter", "1/week")];
    let rt = runtime();
    let day = 86_400_000i64;
    let history = |n: i64| -> Value {
        Value::Array(
            (1..=n)
                .map(|i| {
                    json!({"channel": "email", "sent-at": NOON - i * day, "campaign-id": "",
                    "tags": ["newsletter"], "engaged": i % 2 == 0})
                })
                .collect(),
        )
    };
    let mut in_berlin = fatigue_input("email", history(2));
    in_berlin["request"]["time-zone"] = json!("Europe/Berlin");
    in_berlin["request"]["tags"] = json!(["newsletter"]);
    in_berlin["request"]["offsets"] = json!([
        {"starts-at": NOON - 30 * day, "utc-offset-minutes": 60},
        {"starts-at": NOON + day / 3, "utc-offset-minutes": 120},
    ]);
    let cases = [
        in_berlin,
        fatigue_input("email", json!([])),
        fatigue_input("email", history(3)),
        fatigue_input("sms", history(1)),
        fatigue_input("phone-call", json!([])),
        fatigue_input("whatsapp", history(6)),
    ];
    for (i, input) in cases.iter().enumerate() {
        let in_wasm = call(&rt, guests::FATIGUE, input, CONFIG).expect("wasm call");
        let request: cove_sdk::fatigue::MessageRequest = native_request(&input["request"]);
        let ctx = cove_sdk::Ctx::for_test(NOON)
            .with_config(cove_sdk::Config::from_pairs(CONFIG.iter().copied()));
        let native = fatigue_policy::Fatigue::decide(request, &ctx).expect("native call");
        assert_eq!(in_wasm["ok"], decision_json(&native), "case {i}");
    }
}

#[test]
fn a_component_that_imports_the_filesystem_is_refused_by_name() {
    let Err(err) = inspect(&runtime(), &wasm(guests::FORBIDDEN_IMPORT)) else {
        panic!("a component importing the filesystem was accepted");
    };
    assert_eq!(err.code().as_str(), "forbidden_import");
    assert!(err.to_string().contains("wasi:"), "{err}");
}

#[test]
fn oversized_core_and_garbage_uploads_are_refused() {
    let rt = Runtime::new(Limits {
        component_bytes: 1024,
        ..cove_e2e::test_limits()
    })
    .expect("runtime");
    match inspect(&rt, &wasm(guests::FATIGUE)) {
        Err(PublishError::TooLarge { size, limit }) => assert!(size > limit),
        other => panic!("{:?}", other.map(|(s, c, _)| (s, c))),
    }
    let rt = runtime();
    let core_module = b"\0asm\x01\0\0\0";
    assert_eq!(
        inspect(&rt, core_module).err().map(|e| e.code().as_str()),
        Some("not_a_component")
    );
    assert_eq!(
        inspect(&rt, b"hello").err().map(|e| e.code().as_str()),
        Some("not_a_component")
    );
}

#[test]
fn bad_input_names_the_field() {
    let rt = runtime();
    let (_, contract, compiled) = inspect(&rt, &wasm(guests::FATIGUE)).expect("valid");
    let prepared = rt
        .prepare(&compiled, Slot::Fatigue, contract)
        .expect("prepare");
    let (name, ty) = &prepared.params[0];
    let mut input = fatigue_input("email", json!([]));
    input["request"]["channel"] = json!("pigeon");
    let err = json::to_val(ty, &input[name])
        .unwrap_err()
        .at(name.clone())
        .to_string();
    assert!(
        err.contains("request.channel") && err.contains("email"),
        "{err}"
    );
    input["request"]["channel"] = json!("email");
    input["request"]["customer"]
        .as_object_mut()
        .unwrap()
        .remove("region");
    let err = json::to_val(ty, &input[name])
        .unwrap_err()
        .at(name.clone())
        .to_string();
    assert_eq!(err, "`request.customer.region` is missing");
}

#[test]
fn the_plugin_is_not_bound_to_another_world() {
    let rt = runtime();
    let (_, contract, compiled) = inspect(&rt, &wasm(guests::FATIGUE)).expect("valid");
    let Err(err) = rt.prepare(&compiled, Slot::Rfm, contract) else {
        panic!("a fatigue plugin linked as an RFM scorer");
    };
    assert!(err.contains("rfm-scorer"), "{err}");
}

fn native_request(v: &Value) -> cove_sdk::fatigue::MessageRequest {
    use cove_sdk::{Channel, Customer, MessageKind, Region};
    let channel = |s: &Value| match s.as_str().unwrap() {
        "email" => Channel::Email,
        "sms" => Channel::Sms,
        "app-push" => Channel::AppPush,
        "web-push" => Channel::WebPush,
        "whatsapp" => Channel::Whatsapp,
        "messenger" => Channel::Messenger,
        _ => Channel::PhoneCall,
    };
    let c = &v["customer"];
    cove_sdk::fatigue::MessageRequest {
        customer: Customer {
            id: c["id"].as_str().unwrap().into(),
            region: Region::Europe,
            country: c["country"].as_str().unwrap().into(),
            utc_offset_minutes: c["utc-offset-minutes"].as_i64().unwrap() as i32,
            created_at: c["created-at"].as_i64().unwrap(),
        },
        channel: channel(&v["channel"]),
        kind: MessageKind::Promotional,
        campaign_id: v["campaign-id"].as_str().unwrap().into(),
        tags: strings(&v["tags"]),
        history: v["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| cove_sdk::fatigue::Contact {
                channel: channel(&h["channel"]),
                sent_at: h["sent-at"].as_i64().unwrap(),
                campaign_id: h["campaign-id"].as_str().unwrap().into(),
                transactional: h["transactional"].as_bool().unwrap_or(false),
                tags: strings(&h["tags"]),
                engaged: h["engaged"].as_bool().unwrap(),
            })
            .collect(),
        active_campaigns: vec![],
        suppressed: vec![],
        last_engaged_at: v["last-engaged-at"].as_i64(),
        has_trigger_signal: v["has-trigger-signal"].as_bool().unwrap(),
        time_zone: v["time-zone"].as_str().unwrap_or_default().into(),
        offsets: v["offsets"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|o| cove_sdk::fatigue::OffsetSpan {
                starts_at: o["starts-at"].as_i64().unwrap(),
                utc_offset_minutes: o["utc-offset-minutes"].as_i64().unwrap() as i32,
            })
            .collect(),
        segments: strings(&v["segments"]),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn decision_json(d: &cove_sdk::fatigue::Decision) -> Value {
    use cove_sdk::fatigue::{Decision, DropReason};
    match d {
        Decision::Allow => json!("allow"),
        Decision::Defer(x) => json!({"defer": {"until": x.until, "reason": x.reason}}),
        Decision::Drop(r) => json!({"drop": match r {
            DropReason::Suppressed => "suppressed",
            DropReason::InOtherCampaign => "in-other-campaign",
            DropReason::NoSignal => "no-signal",
            DropReason::CapReached => "cap-reached",
        }}),
    }
}

#[test]
fn an_answer_that_aliases_one_buffer_is_stopped_by_the_copy_budget() {
    // The aliasing scorer is an RFM scorer, whose calls run under the batch
    // limits (an answer of up to 32 MiB). What a batch call may copy out
    // follows its batch: for 24 customers, far less than 4,000 aliases of
    // 64 KiB, so the copy stops before the host allocates them (rather
    // than after, when the answer's size is checked).
    let rt = Runtime::new(cove_e2e::test_limits()).expect("runtime");
    let (slot, contract, compiled) =
        inspect(&rt, &wasm(guests::ALIASED_OUTPUT)).expect("valid component");
    assert_eq!(slot, Slot::Rfm);
    let prepared = rt.prepare(&compiled, slot, contract).expect("prepare");
    let customers: Vec<Value> = (0..24)
        .map(|i| json!({"customer-id": format!("c{i}"), "orders": 2, "repeat-purchases": 1, "recency": 30.0,
            "age": 100.0, "days-since-order": 20.0, "spent": 250.0, "mean-repeat-value": 60.0, "engaged-30": 1,
            "engaged-60": 2, "days-since-cart": null, "days-to-birthday": null, "campaigns": 0, "tags": []}))
        .collect();
    let input = json!({"model": {"recency-cuts": [], "frequency-cuts": [], "monetary-cuts": [], "bgnbd": null, "gamma-gamma": null, "unit-days": 1.0, "clv-percentiles": [], "spent-percentiles": [], "purchases-percentiles": []}, "customers": customers});
    let params: Vec<_> = prepared
        .params
        .iter()
        .map(|(name, ty)| json::to_val(ty, &input[name]).expect("input"))
        .collect();
    let Err(failure) = rt.call(&prepared, &Arc::from(Vec::new()), NOON, 1, &params) else {
        panic!("a 256 MiB answer was copied out of the sandbox");
    };
    assert_eq!(
        failure.kind,
        FailureKind::OversizedOutput,
        "{}",
        failure.detail
    );
    assert!(
        failure.detail.contains("larger than the host copies out"),
        "stopped while copying, not after: {}",
        failure.detail
    );
}
