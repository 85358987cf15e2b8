//! `cove-bench console`: the merchant console's figures.
//!
//! - `console_first_load_kb`: every byte Chromium transferred from the host
//!   for a cold load of the overview, signed in (shell, code, Chart.js,
//!   session and overview data), headers included; median of 7 loads.
//! - `console_overview_ms`: from navigation to every chart drawn, median of
//!   7 cold loads; `console_signin_ms` is the sign-in page (same shell and
//!   code, no data, no charts) measured in the same run, the baseline, and
//!   `console_overview_ratio` the quotient.
//!
//! The demo merchant gets a week of traffic first: decisions through the
//! fatigue policy, survey answers, searches that found nothing, and
//! `COVE_BENCH_CUSTOMERS` customers (default 1,000,000) imported as CSV.

use std::process::Command;

use cove_e2e::{HostProcess, fatigue_input};
use serde_json::{Value, json};

const DECISIONS: usize = 5_000;
const ANSWERS: usize = 20_000;
const MISSED: usize = 2_000;

/// Run it: prints what was loaded, then one JSON line.
pub fn run() -> anyhow::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let data = tempfile::tempdir()?;
    let (host, key) = HostProcess::demo(
        data.path(),
        &[
            "--public-burst",
            "1000000",
            "--public-per-sec",
            "1000000",
            "--merchant-rps",
            "0",
        ],
    );
    let key = key.as_str();
    let client = reqwest::blocking::Client::new();
    let api = |path: &str| format!("{}/v1/merchants/demo/{path}", host.url);
    let public = |path: &str| format!("{}/public/v1/demo/{path}", host.url);

    for i in 0..super::scaled(DECISIONS) {
        let channel = ["email", "sms", "app-push"][i % 3];
        let r = client
            .post(api("slots/fatigue-policy/invoke"))
            .bearer_auth(key)
            .json(&fatigue_input(channel, json!([])))
            .send()?;
        anyhow::ensure!(r.status().is_success(), "decision: {}", r.status());
    }
    let reasons = ["price", "shipping", "browsing"];
    // One request per visitor, as each visitor's widget sends its own.
    for n in 0..super::scaled(ANSWERS) {
        let answer = json!({
            "id": format!("bench-answer-{n:08}"),
            "survey": "exit",
            "visitor": format!("bench-visitor-{n:08}"),
            "locale": if n % 3 == 0 { "zh" } else { "en" },
            "page": "/checkout",
            "answers": {"nps": (n * 7) % 11, "reason": reasons[n % 3], "comment": format!("comment {n}")},
        });
        let r = client
            .post(public("answers"))
            .header("origin", &host.url)
            .json(&json!({ "answers": [answer] }))
            .send()?;
        anyhow::ensure!(r.status().is_success(), "answers: {}", r.status());
    }
    for i in 0..super::scaled(MISSED) {
        let r = client
            .post(public("missed-searches"))
            .header("origin", &host.url)
            .json(&json!({"locale": "en", "query": format!("missing topic {}", i % 500)}))
            .send()?;
        anyhow::ensure!(r.status().is_success(), "missed search: {}", r.status());
    }
    let customers = super::import::env_usize("COVE_BENCH_CUSTOMERS", 1_000_000);
    let mut csv = String::from("id,email,country,time_zone,tags,created_at\n");
    for i in 0..customers {
        csv += &format!(
            "c{i:08},customer{i}@shop.example,{},Europe/Berlin,{},{}\n",
            ["DE", "FR", "CN", "US"][i % 4],
            if i % 9 == 0 { "vip" } else { "" },
            1_600_000_000_000i64 + i as i64 * 1_000
        );
    }
    let imported: Value = client
        .post(api("import/customers?format=csv"))
        .bearer_auth(key)
        .header("content-type", "text/csv")
        .body(csv)
        .timeout(std::time::Duration::from_secs(3600))
        .send()?
        .json()?;
    anyhow::ensure!(imported["inserted"] == customers, "customers: {imported}");
    println!(
        "demo merchant: {customers} customers, {DECISIONS} decisions, {ANSWERS} survey answers, {MISSED} searches that found nothing"
    );

    let out = Command::new("node")
        .arg(root.join("tests/browser/console-bench.mjs"))
        .env("COVE_URL", &host.url)
        .env("COVE_KEY", key)
        .env("WIDGET_NODE_MODULES", root.join("web-widget/node_modules"))
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "browser half failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let figures: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())?;
    println!(
        "overview: {} KB transferred cold, charts drawn after {} ms (sign-in page: {} ms, {} KB)",
        figures["console_first_load_kb"],
        figures["console_overview_ms"],
        figures["console_signin_ms"],
        figures["console_signin_kb"]
    );
    println!("{figures}");
    Ok(())
}
