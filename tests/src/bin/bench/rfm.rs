//! `cove-bench rfm`: the RFM run's figures.
//!
//! - `run_s`: a full run (summaries from the store, `fit` on the 100,000
//!   sample, every customer scored with predictions and micro-segments,
//!   stored, segment sizes) over the customer-data benchmark's seeded
//!   merchant (`COVE_BENCH_CUSTOMERS`, default 1,000,000 customers with 10
//!   orders each), imported with `cove import` into `cove serve` on SQLite;
//!   `summaries_s`, `fit_s`, `score_s` its parts, as the run records them.
//! - `wasm_vs_native`: one batch of 5,000 customers scored through the
//!   plugin (the real component, batch limits) over the same code compiled
//!   natively, same model and inputs, same run.
//! - `run_peak_rss_mb`: the host's peak RSS over the run (the import
//!   before it is the host's too: read with the import's figure).

use std::sync::Arc;
use std::time::{Duration, Instant};

use cove_e2e::{HostProcess, guests};
use cove_host::platform::runtime::{Limits, Runtime, json};
use cove_sdk::Ctx;
use cove_sdk::rfm::{CustomerSummary, RfmScorer};
use rfm_scorer::Rfm;
use serde_json::{Value, json};

use super::import::{env_usize, import, peak_rss_mb, write_files};
use super::prepared_call;

fn summaries(n: usize) -> Vec<CustomerSummary> {
    (0..n)
        .map(|i| {
            let orders = 1 + (i * 7 % 11) as u32;
            CustomerSummary {
                customer_id: format!("c{i:08}"),
                orders,
                repeat_purchases: orders - 1,
                recency: (i * 13 % 90) as f64,
                age: 100.0,
                days_since_order: (700 - i * 13 % 630) as f64,
                spent: 30.0 * f64::from(orders) + (i % 97) as f64,
                mean_repeat_value: 30.0 + (i % 17) as f64,
                engaged_30: (i % 3) as u32,
                engaged_60: (i % 5) as u32,
                days_since_cart: (i % 4 == 0).then_some((i % 9) as f64),
                days_to_birthday: (i % 6 == 0).then_some((i % 365) as u32),
                campaigns: (i % 2) as u32,
                tags: if i % 7 == 0 {
                    vec!["vip".into()]
                } else {
                    vec![]
                },
            }
        })
        .collect()
}

fn to_json(s: &CustomerSummary) -> Value {
    json!({
        "customer-id": s.customer_id, "orders": s.orders, "repeat-purchases": s.repeat_purchases,
        "recency": s.recency, "age": s.age, "days-since-order": s.days_since_order, "spent": s.spent,
        "mean-repeat-value": s.mean_repeat_value, "engaged-30": s.engaged_30, "engaged-60": s.engaged_60,
        "days-since-cart": s.days_since_cart, "days-to-birthday": s.days_to_birthday,
        "campaigns": s.campaigns, "tags": s.tags,
    })
}

/// One batch of 5,000 scored through the component and natively: (wasm
/// seconds, native seconds), best of five each.
fn wasm_vs_native() -> (f64, f64) {
    let config = cove_sdk::Config::from_pairs([(
        "segment.lapsed",
        "days_since_order > 60 and top(clv, 10)",
    )]);
    let ctx = Ctx::for_test(0).with_config(config.clone());
    let base = summaries(20_000);
    let model = Rfm::fit(base.clone(), 7.0, &ctx).expect("fit");
    let batch: Vec<CustomerSummary> = base[..5_000].to_vec();
    let mut native = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        std::hint::black_box(Rfm::score(model.clone(), batch.clone(), &ctx).expect("native"));
        native = native.min(t.elapsed().as_secs_f64());
    }
    let rt = Runtime::new(Limits::default()).expect("runtime");
    let (prepared, _) = prepared_call(
        &rt,
        guests::RFM_SCORER,
        &json!({"model": model_to_json(&model), "customers": []}),
    );
    let input = json!({"model": model_to_json(&model), "customers": batch.iter().map(to_json).collect::<Vec<_>>()});
    let params: Vec<_> = prepared
        .params
        .iter()
        .map(|(n, t)| json::to_val(t, &input[n]).expect("input"))
        .collect();
    let pairs: Arc<[(String, String)]> = Arc::from(
        config
            .pairs()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>(),
    );
    let mut wasm = f64::INFINITY;
    for i in 0..5 {
        let t = Instant::now();
        let out = rt
            .call(&prepared, &pairs, 0, i, &params)
            .expect("wasm score");
        wasm = wasm.min(t.elapsed().as_secs_f64());
        std::hint::black_box(out);
    }
    (wasm, native)
}

fn model_to_json(m: &cove_sdk::rfm::Model) -> Value {
    json!({
        "recency-cuts": m.recency_cuts, "frequency-cuts": m.frequency_cuts, "monetary-cuts": m.monetary_cuts,
        "bgnbd": m.bgnbd.as_ref().map(|b| json!({"r": b.r, "alpha": b.alpha, "a": b.a, "b": b.b})),
        "gamma-gamma": m.gamma_gamma.as_ref().map(|g| json!({"p": g.p, "q": g.q, "v": g.v})),
        "unit-days": m.unit_days, "clv-percentiles": m.clv_percentiles,
        "spent-percentiles": m.spent_percentiles, "purchases-percentiles": m.purchases_percentiles,
    })
}

/// Everything above, printed; the last line is one JSON object.
pub fn run() -> anyhow::Result<()> {
    let (wasm, native) = wasm_vs_native();
    println!(
        "one batch of 5,000: through the plugin {:.1} ms, natively {:.1} ms",
        wasm * 1e3,
        native * 1e3
    );
    let customers = env_usize("COVE_BENCH_CUSTOMERS", 1_000_000);
    let per = env_usize("COVE_BENCH_ORDERS_PER_CUSTOMER", 10);
    let files = tempfile::tempdir()?;
    write_files(files.path(), customers, per)?;
    let data = tempfile::tempdir()?;
    let host = HostProcess::start(
        data.path(),
        &["--seed-demo", guests::DIR, "--merchant-rps", "0"],
    );
    let key = std::fs::read_to_string(data.path().join("demo-api-key"))?;
    let (rows, secs) = import(&host.url, &key, files.path())?;
    println!("imported {rows} rows in {secs:.1} s");
    let client = reqwest::blocking::Client::new();
    let started = Instant::now();
    let run: Value = client
        .post(format!("{}/v1/merchants/demo/rfm/runs", host.url))
        .bearer_auth(&key)
        .json(&json!({"as_of": "2024-04-30", "time_unit": "weeks"}))
        .send()?
        .error_for_status()?
        .json()?;
    let id = run["id"].as_str().unwrap_or_default().to_string();
    let done = loop {
        std::thread::sleep(Duration::from_millis(200));
        let r: Value = client
            .get(format!("{}/v1/merchants/demo/rfm/runs/{id}", host.url))
            .bearer_auth(&key)
            .send()?
            .json()?;
        if r["status"] != "running" {
            break r;
        }
    };
    let run_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(done["status"] == "done", "the run failed: {done}");
    let rss = peak_rss_mb(host.pid());
    let t = &done["segments"]["timings"];
    println!(
        "run of {} customers: {run_s:.1} s (summaries {:.1} s, fit {:.1} s, scores {:.1} s); model {}; host peak RSS {rss:.0} MB",
        done["progress"]["total"],
        t["summaries_s"].as_f64().unwrap_or(0.0),
        t["fit_s"].as_f64().unwrap_or(0.0),
        t["score_s"].as_f64().unwrap_or(0.0),
        done["model"]["bgnbd"]
    );
    let round = |x: f64, d: i32| (x * 10f64.powi(d)).round() / 10f64.powi(d);
    println!(
        "{}",
        json!({
            "customers": done["progress"]["total"],
            "run_s": round(run_s, 1),
            "summaries_s": round(t["summaries_s"].as_f64().unwrap_or(0.0), 1),
            "fit_s": round(t["fit_s"].as_f64().unwrap_or(0.0), 1),
            "score_s": round(t["score_s"].as_f64().unwrap_or(0.0), 1),
            "wasm_vs_native": round(wasm / native, 2),
            "run_peak_rss_mb": round(rss, 0),
        })
    );
    Ok(())
}
