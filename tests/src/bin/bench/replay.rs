//! `cove-bench replay`: how fast logged decisions replay through a build
//! (what `cove plugin replay` does per decision: the logged input, time,
//! seed and config into a fresh sandbox, the answer compared), against
//! the same decisions made live through the host in the same run.

use std::time::Instant;

use cove_e2e::{OPERATOR_TOKEN, call, guests, host_with, publish, test_limits};
use cove_host::decisions::store::{DecisionsDb, Filter};
use cove_host::platform::slots::Slot;
use serde_json::json;

use super::round;

/// Run it; prints the figures as one JSON line.
pub fn run() -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        // One merchant's throughput, not its rate limit, is measured.
        let (state, _dir) =
            host_with(None, test_limits(), |s| s.merchant_limits.requests_per_sec = 0.0).await;
        let app = cove_host::app(state.clone());
        let (_, made) = call(&app, "POST", "/v1/merchants", OPERATOR_TOKEN, json!({"id": "shop"})).await;
        let key = made["api_key"].as_str().expect("a key").to_string();
        let (s, v) = publish(&app, "name=fatigue-policy&version=1.0.0&publisher=cove", std::path::Path::new(guests::FATIGUE)).await;
        anyhow::ensure!(s.is_success(), "publishing: {v}");
        call(&app, "PUT", "/v1/merchants/shop/slots/fatigue-policy", OPERATOR_TOKEN, json!({"plugin": "fatigue-policy@1.0.0"})).await;
        call(&app, "PUT", "/v1/merchants/shop/decisions/settings", &key,
            json!({"sample_rate": 1, "retention_days": 14, "max_rows": 100_000})).await;
        let n = super::scaled(2000).max(20);
        let inputs: Vec<_> = (0..n).map(cove_e2e::fatigue_input_for).collect();
        // Live: through the host's invoke path, each one logged.
        let t = Instant::now();
        for input in &inputs {
            let (s, v) = call(&app, "POST", "/v1/merchants/shop/slots/fatigue-policy/invoke", &key, input.clone()).await;
            anyhow::ensure!(s.is_success(), "{v}");
        }
        let live_per_s = n as f64 / t.elapsed().as_secs_f64();
        cove_host::decisions::flush(&state).await?;
        let logged = DecisionsDb(&state.store)
            .list("shop", &Filter { full: Some(true), limit: Some(1000), ..Filter::default() })
            .await?;
        // Replay: the CLI's engine, with the CLI's runtime and limits.
        let runtime = cove_host::platform::runtime::Runtime::new(Default::default())?;
        let wasm = std::fs::read(guests::FATIGUE)?;
        let (slot, contract, component) = cove_host::platform::registry::inspect(&runtime, &wasm)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        anyhow::ensure!(slot == Slot::Fatigue);
        let prepared = runtime.prepare(&component, slot, contract).map_err(anyhow::Error::msg)?;
        let policy = cove_host::platform::feature::slot_policy(cove_host::FEATURES, slot);
        let t = Instant::now();
        let mut summary = cove_host::decisions::replay::ReplaySummary::default();
        for d in &logged {
            summary.add(cove_host::decisions::replay::replay(&runtime, &prepared, policy, slot, d));
        }
        let replay_per_s = logged.len() as f64 / t.elapsed().as_secs_f64();
        anyhow::ensure!(
            summary.replayed == logged.len() && summary.same == summary.replayed,
            "replay disagreed: {summary:?}"
        );
        println!(
            "replay: {} logged decisions replayed at {replay_per_s:.0}/s, all the same; live through the host {live_per_s:.0}/s (ratio {:.2})",
            logged.len(),
            replay_per_s / live_per_s
        );
        println!(
            "{}",
            json!({
                "replayed": logged.len(),
                "replay_per_s": round(replay_per_s, 0),
                "live_per_s": round(live_per_s, 0),
                "replay_vs_live": round(replay_per_s / live_per_s, 2),
            })
        );
        Ok(())
    })
}
