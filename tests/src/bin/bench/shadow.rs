//! `cove-bench shadow`: a live decision's p99 with a shadow bound over
//! without, in the same run: a shadow as costly as the live version, and
//! one that burns all its fuel on every call (it runs after the answer,
//! one at a time per host; calls that find it busy are skipped).

use std::time::Instant;

use cove_e2e::{OPERATOR_TOKEN, call, fatigue_input, guests, host_with, publish, test_limits};
use serde_json::{Value, json};

use super::{percentile, round};

async fn p99(app: &axum::Router, key: &str, n: usize) -> anyhow::Result<f64> {
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let mut input = fatigue_input("email", json!([]));
        input["request"]["customer"]["id"] = json!(format!("c{i}"));
        let t = Instant::now();
        let (s, v) = call(
            app,
            "POST",
            "/v1/merchants/shop/slots/fatigue-policy/invoke",
            key,
            input,
        )
        .await;
        samples.push(t.elapsed().as_secs_f64() * 1e6);
        anyhow::ensure!(s.is_success() && v["fallback"].is_null(), "{v}");
    }
    samples.sort_by(f64::total_cmp);
    Ok(percentile(&samples, 0.99))
}

/// Run it; prints the figures as one JSON line.
pub fn run() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async {
        // One merchant's throughput, not its rate limit, is measured.
        let (state, _dir) =
            host_with(None, test_limits(), |s| s.merchant_limits.requests_per_sec = 0.0).await;
        let app = cove_host::app(state);
        let (_, made) = call(&app, "POST", "/v1/merchants", OPERATOR_TOKEN, json!({"id": "shop"})).await;
        let key = made["api_key"].as_str().expect("a key").to_string();
        for (name, path) in [("fatigue-policy", guests::FATIGUE), ("candidate", guests::FATIGUE), ("loop", guests::LOOP_FOREVER)] {
            let (s, v) = publish(&app, &format!("name={name}&version=1.0.0&publisher=bench"), std::path::Path::new(path)).await;
            anyhow::ensure!(s.is_success(), "{v}");
        }
        call(&app, "PUT", "/v1/merchants/shop/slots/fatigue-policy", OPERATOR_TOKEN, json!({"plugin": "fatigue-policy@1.0.0"})).await;
        let n = super::scaled(40_000).max(200);
        p99(&app, &key, n / 4).await?; // warm up
        let alone = p99(&app, &key, n).await?;
        let mut with = Vec::new();
        for candidate in ["candidate@1.0.0", "loop@1.0.0"] {
            let (s, v) = call(&app, "PUT", "/v1/merchants/shop/slots/fatigue-policy/shadow", &key, json!({"plugin": candidate})).await;
            anyhow::ensure!(s.is_success(), "{v}");
            let p = p99(&app, &key, n).await?;
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let (_, r): (_, Value) = call(&app, "GET", "/v1/merchants/shop/slots/fatigue-policy/shadow", &key, Value::Null).await;
            with.push((p, r["stats"]["compared"].as_u64().unwrap_or(0), r["stats"]["skipped"].as_u64().unwrap_or(0)));
        }
        // The same measure again without a shadow: how much the figure
        // moves on its own on this machine.
        call(&app, "DELETE", "/v1/merchants/shop/slots/fatigue-policy/shadow", &key, Value::Null).await;
        let again = p99(&app, &key, n).await?;
        let (same_p99, same_compared, same_skipped) = with[0];
        let (loop_p99, loop_compared, loop_skipped) = with[1];
        println!(
            "live decision p99 in process: {alone:.1} µs alone; {same_p99:.1} µs with a shadow as costly ({same_compared} shadowed, {same_skipped} skipped); \
             {loop_p99:.1} µs with one burning all its fuel ({loop_compared} shadowed, {loop_skipped} skipped); {again:.1} µs alone again"
        );
        println!(
            "{}",
            json!({
                "live_p99_us": round(alone, 1),
                "shadow_p99_ratio": round(loop_p99 / alone, 2),
                "shadow_same_cost_p99_ratio": round(same_p99 / alone, 2),
                "shadow_skipped_share": round(loop_skipped as f64 / (loop_compared + loop_skipped).max(1) as f64, 3),
                "alone_again_ratio": round(again / alone, 2),
            })
        );
        Ok(())
    })
}
