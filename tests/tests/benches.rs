//! Every `cove-bench` subcommand at smoke size (`--smoke`: loads of a
//! second, corpora of a few thousand rows), so none can rot: each must run
//! to the end and print its figures as one JSON line. (`widget` and
//! `abuse` run in their own suites, with their bounds asserted.) The full
//! sizes are `make bench*`.

use cove_e2e::bench_smoke;
use serde_json::Value;

/// A figure that must be there and be a finite number.
fn figure(figures: &Value, name: &str) -> f64 {
    let v = figures[name].as_f64().unwrap_or(f64::NAN);
    assert!(v.is_finite(), "{name} missing or not a number: {figures}");
    v
}

#[test]
fn the_host_bench_runs() {
    let f = bench_smoke(&[]);
    assert!(figure(&f, "http_rps") > 0.0, "{f}");
    figure(&f, "call_p50_us");
    figure(&f, "neighbour_p99_ratio");
}

#[test]
fn the_returns_bench_runs() {
    let f = bench_smoke(&["returns"]);
    figure(&f, "step_p50_us");
    figure(&f, "flow_http_p50_ms");
}

#[test]
fn the_experiments_bench_runs() {
    let f = bench_smoke(&["experiments"]);
    figure(&f, "assign_p50_us");
    let share = figure(&f, "bandit_best_arm_share");
    assert!((0.0..=1.0).contains(&share), "{f}");
}

#[test]
fn the_messaging_bench_runs() {
    let f = bench_smoke(&["messaging"]);
    figure(&f, "plan_p50_us");
    // Caps hold whatever the size.
    assert_eq!(f["cap_violations_sqlite"], 0, "{f}");
    assert_eq!(f["cap_violations_postgres"], 0, "{f}");
}

#[test]
fn the_import_bench_runs() {
    let f = bench_smoke(&["import"]);
    assert!(figure(&f, "orders") > 0.0, "{f}");
}

#[test]
fn the_rfm_bench_runs() {
    let f = bench_smoke(&["rfm"]);
    assert!(figure(&f, "customers") > 0.0, "{f}");
    figure(&f, "wasm_vs_native");
}

#[test]
fn the_console_bench_runs() {
    let f = bench_smoke(&["console"]);
    assert!(figure(&f, "console_first_load_kb") > 0.0, "{f}");
    figure(&f, "console_overview_ratio");
}

#[test]
fn the_signin_bench_runs() {
    let f = bench_smoke(&["signin"]);
    assert!(figure(&f, "signin_p50_ms") > 0.0, "{f}");
    figure(&f, "signin_unknown_ratio");
}

#[test]
fn the_replay_bench_runs() {
    let f = bench_smoke(&["replay"]);
    assert!(figure(&f, "replay_per_s") > 0.0, "{f}");
    figure(&f, "replay_vs_live");
}

#[test]
fn the_scale_bench_runs() {
    let f = bench_smoke(&["scale"]);
    for db in ["sqlite", "postgres"] {
        for name in [
            "rfm_run_s",
            "overview_ms",
            "returns_report_ms",
            "results_build_s",
            "results_change_ms",
            "results_ms",
        ] {
            assert!(figure(&f, &format!("{name}_1000_{db}")) > 0.0, "{f}");
        }
    }
}

#[test]
fn the_floor_bench_runs() {
    let f = bench_smoke(&["floor"]);
    assert!(figure(&f, "call_vs_bare_fatigue") > 0.0, "{f}");
    assert!(figure(&f, "call_vs_bare_allocator") > 0.0, "{f}");
}

#[test]
fn the_canary_bench_runs() {
    let f = bench_smoke(&["canary"]);
    assert!(figure(&f, "canary_rollback_calls") > 0.0, "{f}");
    figure(&f, "canary_rollback_ms");
}

#[test]
fn the_shadow_bench_runs() {
    let f = bench_smoke(&["shadow"]);
    assert!(figure(&f, "live_p99_us") > 0.0, "{f}");
    figure(&f, "shadow_p99_ratio");
}
