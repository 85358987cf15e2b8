//! Every `cove-bench` subcommand at smoke size (`--smoke`: loads of a
//! second, corpora of a few thousand rows), so none can rot: each must run
//! to the end and print its figures as one JSON line. (`widget` and
//! `abuse` run in their own suites, with their bounds asserted.) The full
//! sizes are `make bench*`.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Run `cove-bench <args> --smoke`; its last line, parsed.
fn smoke(args: &[&str]) -> Value {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/cove-bench");
    let out = Command::new(&bench)
        .args(args)
        .arg("--smoke")
        .output()
        .expect("running cove-bench (`cargo build --release --workspace` builds it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cove-bench {args:?} --smoke failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(text.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("cove-bench {args:?}: the last line is not JSON ({e}):\n{text}"))
}

/// A figure that must be there and be a finite number.
fn figure(figures: &Value, name: &str) -> f64 {
    let v = figures[name].as_f64().unwrap_or(f64::NAN);
    assert!(v.is_finite(), "{name} missing or not a number: {figures}");
    v
}

#[test]
fn the_host_bench_runs() {
    let f = smoke(&[]);
    assert!(figure(&f, "http_rps") > 0.0, "{f}");
    figure(&f, "call_p50_us");
    figure(&f, "neighbour_p99_ratio");
}

#[test]
fn the_returns_bench_runs() {
    let f = smoke(&["returns"]);
    figure(&f, "step_p50_us");
    figure(&f, "flow_http_p50_ms");
}

#[test]
fn the_experiments_bench_runs() {
    let f = smoke(&["experiments"]);
    figure(&f, "assign_p50_us");
    let share = figure(&f, "bandit_best_arm_share");
    assert!((0.0..=1.0).contains(&share), "{f}");
}

#[test]
fn the_messaging_bench_runs() {
    let f = smoke(&["messaging"]);
    figure(&f, "plan_p50_us");
    // Caps hold whatever the size.
    assert_eq!(f["cap_violations_sqlite"], 0, "{f}");
    assert_eq!(f["cap_violations_postgres"], 0, "{f}");
}

#[test]
fn the_import_bench_runs() {
    let f = smoke(&["import"]);
    assert!(figure(&f, "orders") > 0.0, "{f}");
}

#[test]
fn the_rfm_bench_runs() {
    let f = smoke(&["rfm"]);
    assert!(figure(&f, "customers") > 0.0, "{f}");
    figure(&f, "wasm_vs_native");
}

#[test]
fn the_console_bench_runs() {
    let f = smoke(&["console"]);
    assert!(figure(&f, "console_first_load_kb") > 0.0, "{f}");
    figure(&f, "console_overview_ratio");
}
