//! `cove-bench floor`: Cove's sandboxed call against wasmtime's floor for
//! the same component. The bare harness uses the same engine (its
//! configuration, pooling allocator, fuel and epochs), the same compiled
//! component and the same arguments as component values, and does only
//! what any host must: a store, an instance, the call, the drop. Its host
//! functions answer constants; nothing of Cove is around it. The two are
//! timed in alternating blocks, so the machine's drift falls on both.

use std::sync::Arc;
use std::time::Instant;

use cove_e2e::{NOON, guests, wasm};
use cove_host::platform::registry::inspect;
use cove_host::platform::runtime::{Limits, Runtime, json};
use serde_json::{Value, json as j};
use wasmtime::component::{Component, Linker, Val};
use wasmtime::{Engine, Store};

use super::{percentile, round, small_input};

/// A component ready to call bare: instance pre-linked, export found.
struct Bare {
    pre: wasmtime::component::InstancePre<()>,
    export: wasmtime::component::ComponentExportIndex,
}

impl Bare {
    fn new(engine: &Engine, component: &Component, interface: &str, function: &str) -> Bare {
        let mut linker: Linker<()> = Linker::new(engine);
        let version = interface.rsplit('@').next().unwrap_or_default();
        let mut host = linker
            .instance(&format!("cove:policy/host@{version}"))
            .expect("the host interface");
        host.func_wrap("now", |_, (): ()| Ok((NOON,))).expect("now");
        host.func_wrap("random-u64", |_, (): ()| Ok((4u64,)))
            .expect("random");
        host.func_wrap("config", |_, (): ()| Ok((Vec::<(String, String)>::new(),)))
            .expect("config");
        host.func_new("log", |_, _, _, _| Ok(())).expect("log");
        linker
            .define_unknown_imports_as_traps(component)
            .expect("stubs");
        let pre = linker.instantiate_pre(component).expect("links");
        let iface = component
            .get_export_index(None, interface)
            .expect("the slot's interface");
        let export = component
            .get_export_index(Some(&iface), function)
            .expect("the slot's function");
        Bare { pre, export }
    }

    /// The call's answer, or none when it hit a limit (a busy machine
    /// can park the thread past the deadline).
    fn call(&self, limits: &Limits, params: &[Val]) -> Option<Val> {
        let mut store = Store::new(self.pre.engine(), ());
        store.set_fuel(limits.fuel).ok()?;
        store.set_epoch_deadline(limits.deadline_ms);
        let instance = self.pre.instantiate(&mut store).ok()?;
        let func = instance.get_func(&mut store, self.export)?;
        let mut results = [Val::Bool(false)];
        func.call(&mut store, params, &mut results).ok()?;
        let [value] = results;
        Some(value)
    }
}

/// p50 µs of Cove's call and of the bare one, alternating blocks of 1,000.
fn compare(path: &str, input: &Value, now: i64) -> (f64, f64) {
    // The tests' limits: a deadline long enough that a busy machine never
    // interrupts a healthy call (both pay for the deadline's checks alike).
    let limits = cove_e2e::test_limits();
    let rt = Runtime::new(limits.clone()).expect("runtime");
    let (slot, contract, component) = inspect(&rt, &wasm(path)).expect("component");
    let prepared = rt.prepare(&component, slot, contract).expect("prepare");
    let params: Vec<Val> = prepared
        .params
        .iter()
        .map(|(n, t)| json::to_val(t, &input[n]).expect("input"))
        .collect();
    let bare = Bare::new(
        rt.engine(),
        &component,
        &slot.export_name(contract),
        slot.function(contract),
    );
    let config: Arc<[(String, String)]> = Arc::from(Vec::new());
    // The same answer both ways, or the comparison means nothing.
    let cove = rt
        .call(&prepared, &config, now, 4, &params)
        .expect("cove's call");
    let floor = bare.call(&limits, &params).expect("the bare call");
    assert_eq!(json::from_val(&cove.value), json::from_val(&floor));
    let blocks = super::scaled(20).max(2);
    let (mut ours, mut floor) = (Vec::new(), Vec::new());
    for b in 0..blocks + 1 {
        for i in 0..1000u64 {
            let t = Instant::now();
            std::hint::black_box(rt.call(&prepared, &config, now, i, &params).ok());
            let cove = t.elapsed().as_secs_f64() * 1e6;
            let t = Instant::now();
            std::hint::black_box(bare.call(&limits, &params));
            let bare = t.elapsed().as_secs_f64() * 1e6;
            // The first block warms both up.
            if b > 0 {
                ours.push(cove);
                floor.push(bare);
            }
        }
    }
    ours.sort_by(f64::total_cmp);
    floor.sort_by(f64::total_cmp);
    (percentile(&ours, 0.5), percentile(&floor, 0.5))
}

/// Run it; prints the figures as one JSON line.
pub fn run() -> anyhow::Result<()> {
    let (fatigue, fatigue_bare) = compare(guests::FATIGUE, &small_input(), NOON);
    println!("fatigue: Cove's call p50 {fatigue:.1} µs, bare wasmtime {fatigue_bare:.1} µs");
    let experiment = j!({
        "key": "checkout-banner", "variations": 2, "weights": [0.5, 0.5], "coverage": 1.0,
        "seed": "", "hash-version": 2, "hash-attribute": "id", "fallback-attribute": null, "namespace": null,
        "condition": "{\"country\": {\"$in\": [\"DE\", \"AT\", \"FR\"]}}", "force": null,
    });
    let input = j!({"experiment": experiment, "attributes": r#"{"id": "visitor-4711", "country": "DE"}"#, "sticky": null});
    let (allocator, allocator_bare) = compare(guests::MVT_ALLOCATOR, &input, NOON);
    println!("allocator: Cove's call p50 {allocator:.1} µs, bare wasmtime {allocator_bare:.1} µs");
    println!(
        "{}",
        j!({
            "call_p50_us_fatigue": round(fatigue, 2),
            "bare_p50_us_fatigue": round(fatigue_bare, 2),
            "call_vs_bare_fatigue": round(fatigue / fatigue_bare, 3),
            "call_p50_us_allocator": round(allocator, 2),
            "bare_p50_us_allocator": round(allocator_bare, 2),
            "call_vs_bare_allocator": round(allocator / allocator_bare, 3),
        })
    );
    Ok(())
}
