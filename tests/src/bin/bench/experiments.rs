//! `cove-bench experiments`: the experiments' figures.
//!
//! - `assign_p50_us`, `assign_p99_us`: one assignment through the reference
//!   `mvt-allocator` plugin (the real component, a fresh sandbox per call)
//!   for an experiment with a targeting condition, in process;
//!   `native_assign_p50_us` the same code compiled natively, and
//!   `assign_native_ratio`.
//! - `assign_http_rps`: assignments per second through
//!   `POST /v1/merchants/demo/experiments/offer-banner/assign` on loopback
//!   (`cove serve` in its own process, load from `wrk`), and `http_ratio`
//!   against `/healthz` in the same run.
//! - `public_assign_http_rps`: the storefront's path, `POST
//!   /public/v1/demo/experiments/assign` for one experiment from the shop's
//!   origin (no key, the per-visitor limit lifted), and `assign_http_ratio`
//!   against the same `/healthz`.
//! - `bandit_best_arm_share`: a seeded simulation of 100,000 visitors over
//!   four arms converting at 2.0 / 2.2 / 2.5 / 3.0%, placed by the plugin
//!   and reweighted by it every 1,000 visitors (burn-in 1,000 exposures,
//!   minimum share 5%): the best arm's share of the last 20% of visitors.
//!   `bandit_regret_vs_split`: the simulation's cumulative regret (the
//!   conversions expected from always showing the best arm, minus those
//!   expected from the arms shown) over an equal split's.

use std::sync::Arc;
use std::time::Instant;

use cove_e2e::{HostProcess, guests};
use cove_host::platform::runtime::{Limits, Runtime, json};
use cove_sdk::Ctx;
use cove_sdk::allocator::{Allocator, Experiment};
use mvt_allocator::MvtAllocator;
use serde_json::{Value, json};

use super::{native_p50, percentile, post_script, prepared_call, wrk};

const NOW: i64 = 1_781_092_800_000;

fn experiment(weights: &[f64]) -> Value {
    json!({
        "key": "checkout-banner", "variations": weights.len(), "weights": weights, "coverage": 1.0,
        "seed": "", "hash-version": 2, "hash-attribute": "id", "fallback-attribute": null, "namespace": null,
        "condition": "{\"country\": {\"$in\": [\"DE\", \"AT\", \"FR\"]}, \"age\": {\"$gte\": 18}}", "force": null,
    })
}

const ATTRIBUTES: &str =
    r#"{"id": "visitor-4711", "country": "DE", "age": 34, "tags": ["sale"], "device": "mobile"}"#;

fn in_process() -> (f64, f64, f64) {
    let rt = Runtime::new(Limits::default()).expect("runtime");
    let input =
        json!({"experiment": experiment(&[0.5, 0.5]), "attributes": ATTRIBUTES, "sticky": null});
    let (prepared, params) = prepared_call(&rt, guests::MVT_ALLOCATOR, &input);
    let config: Arc<[(String, String)]> = Arc::from(Vec::new());
    let mut samples = Vec::with_capacity(20_000);
    for i in 0..22_000 {
        let t = Instant::now();
        let out = rt.call(&prepared, &config, NOW, i, &params);
        let dt = t.elapsed().as_secs_f64() * 1e6;
        std::hint::black_box(out.ok());
        if i >= 2_000 {
            samples.push(dt);
        }
    }
    samples.sort_by(f64::total_cmp);
    let exp: Experiment = wit_experiment(&[0.5, 0.5]);
    let ctx = Ctx::for_test(NOW);
    let native = native_p50(|| {
        std::hint::black_box(
            MvtAllocator::allocate(exp.clone(), ATTRIBUTES.to_string(), None, &ctx)
                .expect("native"),
        );
    });
    (
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        native,
    )
}

fn wit_experiment(weights: &[f64]) -> Experiment {
    Experiment {
        key: "checkout-banner".into(),
        variations: weights.len() as u32,
        weights: weights.to_vec(),
        coverage: 1.0,
        seed: String::new(),
        hash_version: 2,
        hash_attribute: "id".into(),
        fallback_attribute: None,
        namespace: None,
        condition: Some(r#"{"country": {"$in": ["DE", "AT", "FR"]}, "age": {"$gte": 18}}"#.into()),
        force: None,
    }
}

/// The bandit simulation through the real component: (best arm's share of
/// the last 20% of visitors, regret over an equal split's).
fn bandit() -> (f64, f64, usize) {
    const RATES: [f64; 4] = [0.020, 0.022, 0.025, 0.030];
    let visitors = super::scaled(100_000);
    const CADENCE: usize = 1_000;
    let rt = Runtime::new(Limits::default()).expect("runtime");
    let config: Arc<[(String, String)]> = Arc::from(Vec::new());
    let first = json!({"experiment": experiment(&[0.25; 4]), "attributes": "{}", "sticky": null});
    let (prepared, _) = prepared_call(&rt, guests::MVT_ALLOCATOR, &first);
    let reweight = prepared
        .others
        .iter()
        .find(|f| f.name == "reweight")
        .expect("reweight");
    let mut weights = vec![0.25; 4];
    let mut stats = [(0u64, 0u64); 4];
    let mut shown = [0usize; 4];
    let (mut regret, mut rng, mut failures) = (0.0, 0x9e37_79b9_7f4a_7c15_u64, 0);
    let mut params = Vec::new();
    for visitor in 0..visitors {
        if visitor % CADENCE == 0 {
            params = prepared
                .params
                .iter()
                .map(|(n, t)| {
                    let input = json!({"experiment": experiment(&weights).as_object().map(|e| {
                        let mut e = e.clone();
                        e.insert("condition".into(), Value::Null);
                        e
                    }), "attributes": "{}", "sticky": null});
                    json::to_val(t, &input[n]).expect("input")
                })
                .collect();
        }
        // The unit's attributes change per visitor; the experiment does not.
        params[1] = wasmtime::component::Val::String(format!("{{\"id\": \"sim-{visitor}\"}}"));
        let arm = match rt.call(&prepared, &config, NOW, visitor as u64, &params) {
            Ok(out) => match json::from_val(&out.value) {
                Value::Object(r) => r["ok"]["variation"].as_u64().unwrap_or(0) as usize,
                _ => 0,
            },
            Err(_) => {
                failures += 1;
                0
            }
        };
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let converted = ((rng >> 11) as f64 / (1u64 << 53) as f64) < RATES[arm];
        stats[arm].0 += 1;
        stats[arm].1 += u64::from(converted);
        regret += RATES[3] - RATES[arm];
        if visitor >= visitors * 4 / 5 {
            shown[arm] += 1;
        }
        if (visitor + 1) % CADENCE == 0 {
            let input = json!({
                "arms": stats.iter().map(|(n, c)| json!({"exposures": n, "conversions": c})).collect::<Vec<_>>(),
                "settings": {"top-two": false, "min-share": 0.05, "burn-in": 1000},
            });
            let vals: Vec<_> = reweight
                .params
                .iter()
                .map(|(n, t)| json::to_val(t, &input[n]).expect("input"))
                .collect();
            match rt.call_other(&prepared, reweight, &config, NOW, visitor as u64, &vals) {
                Ok(out) => {
                    if let Some(w) = json::from_val(&out.value)["ok"].as_array() {
                        weights = w.iter().filter_map(Value::as_f64).collect();
                    }
                }
                Err(_) => failures += 1,
            }
        }
    }
    let split_regret: f64 = RATES.iter().map(|r| RATES[3] - r).sum::<f64>() / 4.0 * visitors as f64;
    (
        shown[3] as f64 / (visitors / 5) as f64,
        regret / split_regret,
        failures,
    )
}

/// Everything above, printed; the last line is one JSON object.
pub fn run() -> anyhow::Result<()> {
    let (p50, p99, native) = in_process();
    println!(
        "in process: one assignment (fresh sandbox, condition evaluated) p50 {p50:.1} µs, p99 {p99:.1} µs; native {native:.2} µs"
    );
    let (share, regret, failures) = bandit();
    println!(
        "bandit: best arm's share of the last 20,000 visitors {share:.3}; regret {regret:.3} of an equal split's ({failures} calls failed)"
    );
    let data = tempfile::tempdir()?;
    // One wrk address is every visitor here: the per-visitor limit is
    // lifted for the storefront's path.
    let host = HostProcess::start(
        data.path(),
        &[
            "--seed-demo",
            guests::DIR,
            "--merchant-rps",
            "0",
            "--public-burst",
            "1e9",
            "--public-per-sec",
            "1e9",
        ],
    );
    let key = std::fs::read_to_string(data.path().join("demo-api-key"))?;
    let script = post_script(
        data.path(),
        "assign.lua",
        &key,
        &json!({"attributes": {"id": "visitor-4711", "country": "DE"}}),
    );
    let empty = data.path().join("get.lua");
    std::fs::write(&empty, "wrk.method = \"GET\"\n")?;
    let baseline = wrk(
        &format!("{}/healthz", host.url),
        empty.to_str().unwrap_or_default(),
        5,
    );
    let assigns = wrk(
        &format!(
            "{}/v1/merchants/demo/experiments/offer-banner/assign",
            host.url
        ),
        &script,
        10,
    );
    // The storefront's path: the widget's `Cove.variant()` asks for one
    // experiment from the shop's page (its origin, no key).
    let public = data.path().join("public.lua");
    std::fs::write(
        &public,
        format!(
            "wrk.method = \"POST\"\nwrk.body = '{}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Origin\"] = \"{}\"\n",
            json!({"attributes": {"id": "visitor-4711", "country": "DE"}, "keys": ["offer-banner"]}),
            host.url
        ),
    )?;
    let storefront = wrk(
        &format!("{}/public/v1/demo/experiments/assign", host.url),
        public.to_str().unwrap_or_default(),
        10,
    );
    println!(
        "HTTP: {:.0} assignments/s with the API key ({} failed), {:.0}/s on the storefront's path ({} failed); /healthz {:.0} req/s",
        assigns.rps, assigns.failed, storefront.rps, storefront.failed, baseline.rps
    );
    anyhow::ensure!(
        assigns.failed + storefront.failed == 0,
        "assignments failed over HTTP"
    );
    let round = |x: f64, d: i32| (x * 10f64.powi(d)).round() / 10f64.powi(d);
    println!(
        "{}",
        json!({
            "assign_p50_us": round(p50, 1),
            "assign_p99_us": round(p99, 1),
            "native_assign_p50_us": round(native, 2),
            "assign_native_ratio": round(p50 / native, 1),
            "assign_http_rps": round(assigns.rps, 0),
            "healthz_rps": round(baseline.rps, 0),
            "http_ratio": round(assigns.rps / baseline.rps, 3),
            "public_assign_http_rps": round(storefront.rps, 0),
            "assign_http_ratio": round(storefront.rps / baseline.rps, 3),
            "bandit_best_arm_share": round(share, 3),
            "bandit_regret_vs_split": round(regret, 3),
        })
    );
    Ok(())
}
