//! `cove-bench messaging`: the send planner's figures.
//!
//! - `plan_p50_us`, `plan_p99_us`: one `POST …/sends/plan` through the
//!   router in process (the store on SQLite, the reference channel
//!   chooser's ranking, the reference fatigue policy per channel, the
//!   contact reserved), three channels offered, over 1,000 customers with
//!   ten engagement events each.
//! - `plan_http_rps`: plans per second over loopback (`cove serve` in its
//!   own process with the demo merchant, load from `wrk`), and `http_ratio`
//!   against `/healthz` in the same run.
//! - `cap_violations_sqlite`, `cap_violations_postgres`: 200 plans at once
//!   for one customer capped at three e-mails a week, in process on SQLite
//!   and split over two `cove serve` replicas of one PostgreSQL: contacts
//!   beyond the cap in any week (target 0).

use std::time::Instant;

use cove_e2e::{
    HostProcess, OPERATOR_TOKEN, call, cap_violations, capped_fatigue_config, create_merchant,
    guests, host, import_lines, publish, test_limits,
};
use serde_json::{Value, json};

use super::{percentile, post_script, wrk};

/// (p50 µs, p99 µs, cap violations).
async fn in_process() -> (f64, f64, usize) {
    let (state, _dir) = host(None, test_limits()).await;
    let app = cove_host::app(state);
    let key = create_merchant(&app, "shop").await;
    for (name, path, slot, config) in [
        (
            "fatigue-policy",
            guests::FATIGUE,
            "fatigue-policy",
            capped_fatigue_config(),
        ),
        (
            "channel-chooser",
            guests::CHANNEL_CHOOSER,
            "channel-chooser",
            json!({}),
        ),
    ] {
        publish(
            &app,
            &format!("name={name}&version=2.0.0&publisher=cove"),
            std::path::Path::new(path),
        )
        .await;
        let (s, v) = call(
            &app,
            "PUT",
            &format!("/v1/merchants/shop/slots/{slot}"),
            OPERATOR_TOKEN,
            json!({"plugin": format!("{name}@2.0.0"), "config": config}),
        )
        .await;
        assert!(s.is_success(), "{v}");
    }
    // c1000 is kept for the concurrency check.
    let customers: Vec<Value> = (0..=1_000)
        .map(|i| {
            let country = ["DE", "US", "AE", "BR"][i % 4];
            json!({"id": format!("c{i:04}"), "country": country, "time_zone": "UTC"})
        })
        .collect();
    import_lines(&app, &key, "customers", &customers).await;
    // Each customer has a few weeks of sends and opens for the chooser.
    let now = cove_host::now_ms();
    let events: Vec<Value> = (0..1_000)
        .flat_map(|i| {
            (0..10).map(move |j| {
                let (channel, kind) = [("email", "sent"), ("email", "opened"), ("sms", "sent")][j % 3];
                json!({"id": format!("e{i:04}-{j}"), "customer_id": format!("c{i:04}"), "kind": kind,
                    "channel": channel, "at": now - (j as i64 + 1) * 3 * 86_400_000})
            })
        })
        .collect();
    import_lines(&app, &key, "events", &events).await;
    let mut samples = Vec::new();
    // The first plans warm up and are not counted (fewer in a smoke run).
    let warm = super::scaled(500);
    for i in 0..super::scaled(3_000) {
        let plan = json!({"customer_id": format!("c{:04}", i % 1_000), "message": {
            "channels": ["email", "sms", "app-push"], "campaign_id": "spring", "has_trigger_signal": true}});
        let t = Instant::now();
        let (s, v) = call(&app, "POST", "/v1/merchants/shop/sends/plan", &key, plan).await;
        let dt = t.elapsed().as_secs_f64() * 1e6;
        assert!(s.is_success(), "{v}");
        if i >= warm {
            samples.push(dt);
        }
    }
    samples.sort_by(f64::total_cmp);
    // 200 at once for one customer.
    let plan = json!({"customer_id": "c1000", "message": {"channels": ["email"], "has_trigger_signal": true}});
    let mut all = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let (app, key, plan) = (app.clone(), key.clone(), plan.clone());
        all.spawn(
            async move { call(&app, "POST", "/v1/merchants/shop/sends/plan", &key, plan).await },
        );
    }
    let mut times = Vec::new();
    while let Some(r) = all.join_next().await {
        let (_, v) = r.expect("a plan");
        if v["status"] == "planned" && v["channel"] == "email" {
            times.push(v["send_at"].as_i64().unwrap_or(0));
        }
    }
    let violations = cap_violations(&times, 3);
    (
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        violations,
    )
}

/// Everything above, printed; the last line is one JSON object.
pub fn run() -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let (p50, p99, violations) = rt.block_on(in_process());
    println!(
        "in process: plan p50 {p50:.1} µs, p99 {p99:.1} µs; {violations} cap violations under 200 concurrent plans"
    );
    let pg = cove_e2e::Postgres::start();
    let pg_planned = rt.block_on(cove_e2e::plans_on_two_replicas(&pg, 200));
    let pg_violations = cap_violations(&pg_planned, 3);
    println!(
        "PostgreSQL, two replicas: {} of 200 planned, {pg_violations} cap violations",
        pg_planned.len()
    );
    let data = tempfile::tempdir()?;
    let (host, key) = HostProcess::demo(data.path(), &["--merchant-rps", "0"]);
    let script = post_script(
        data.path(),
        "plan.lua",
        &key,
        &json!({"customer_id": "demo-001", "message": {"channels": ["email", "sms"], "has_trigger_signal": true}}),
    );
    let empty = data.path().join("get.lua");
    std::fs::write(&empty, "wrk.method = \"GET\"\n")?;
    let baseline = wrk(
        &format!("{}/healthz", host.url),
        empty.to_str().unwrap_or_default(),
        10,
    );
    let plans = wrk(
        &format!("{}/v1/merchants/demo/sends/plan", host.url),
        &script,
        10,
    );
    println!(
        "HTTP: {:.0} plans/s ({} failed); /healthz {:.0} req/s",
        plans.rps, plans.failed, baseline.rps
    );
    let round = |x: f64, d: i32| (x * 10f64.powi(d)).round() / 10f64.powi(d);
    println!(
        "{}",
        json!({
            "plan_p50_us": round(p50, 1), "plan_p99_us": round(p99, 1),
            "plan_http_rps": round(plans.rps, 0), "healthz_rps": round(baseline.rps, 0),
            "http_ratio": round(plans.rps / baseline.rps.max(1.0), 3),
            "cap_violations_sqlite": violations,
            "cap_violations_postgres": pg_violations,
        })
    );
    Ok(())
}
