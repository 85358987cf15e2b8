//! `cove-bench returns`: the return flow's figures.
//!
//! - `step_p50_us`, `step_p99_us`: one step of the reference `return-flow`
//!   plugin (the real component, a fresh sandbox per call) settling a
//!   session of five answers, in process; `native_step_p50_us` the same
//!   step compiled natively, and `step_native_ratio`.
//! - `flow_http_p50_ms`: a complete return through HTTP on loopback
//!   (start with the order and e-mail, five forms, submit: 7 requests,
//!   each answer checked and the session stored), `cove serve` in its own
//!   process; `healthz_p50_ms` is one `/healthz` round trip in the same
//!   run, and `flow_vs_7_healthz` the flow over seven of them: what the
//!   flow costs beyond the network.
//!
//! The complete flow in Chromium from a storefront is the widget's
//! end-to-end test (`tests/browser/widget.mjs`, section 11).

use std::sync::Arc;
use std::time::Instant;

use cove_e2e::{HostProcess, OPERATOR_TOKEN, guests, wasm};
use cove_host::platform::runtime::{Limits, Runtime, json};
use cove_sdk::Money;
use cove_sdk::returns::{Answer, CustomerFacts, OrderFacts, OrderLine, Session};
use serde_json::{Value, json};

use super::{native_p50, percentile, prepared_call};

const DAY: i64 = 86_400_000;
/// 2026-06-10, noon UTC: five days after the last parcel.
const NOW: i64 = 1_781_092_800_000;

const ANSWERS: [(&str, &str); 5] = [
    ("country", "DE"),
    ("sku", "SHIRT"),
    ("quantity", "1"),
    ("weight-grams", "800"),
    ("reason", "too-small"),
];

fn session_json() -> Value {
    json!({"session": {
        "locale": "en",
        "order": {"id": "1001", "platform": "own-site", "placed-at": NOW - 9 * DAY, "deliveries": [NOW - 8 * DAY, NOW - 5 * DAY],
                  "lines": [{"sku": "SHIRT", "category": "apparel", "quantity": 2, "returned": 0, "unit-price": {"amount-minor": 4999, "currency": "EUR"}},
                            {"sku": "TOTE", "category": "bags", "quantity": 1, "returned": 0, "unit-price": {"amount-minor": 2500, "currency": "EUR"}}]},
        "customer": {"tier": "gold", "country": "DE", "orders": 4, "spent": {"amount-minor": 31_000, "currency": "EUR"}},
        "answers": ANSWERS.iter().map(|(f, v)| json!({"field": f, "value": v})).collect::<Vec<_>>(),
    }})
}

fn session() -> Session {
    let eur = |amount_minor| Money {
        amount_minor,
        currency: "EUR".into(),
    };
    let line = |sku: &str, category: &str, quantity, price| OrderLine {
        sku: sku.into(),
        category: category.into(),
        quantity,
        returned: 0,
        unit_price: eur(price),
    };
    Session {
        locale: "en".into(),
        order: OrderFacts {
            id: "1001".into(),
            platform: "own-site".into(),
            placed_at: NOW - 9 * DAY,
            lines: vec![
                line("SHIRT", "apparel", 2, 4999),
                line("TOTE", "bags", 1, 2500),
            ],
            deliveries: vec![NOW - 8 * DAY, NOW - 5 * DAY],
        },
        customer: CustomerFacts {
            tier: Some("gold".into()),
            country: Some("DE".into()),
            orders: 4,
            spent: eur(31_000),
            time_zone: None,
            offsets: vec![],
        },
        answers: ANSWERS
            .iter()
            .map(|(f, v)| Answer {
                field: f.to_string(),
                value: v.to_string(),
            })
            .collect(),
    }
}

/// (p50, p99) of the component, and the native p50, in µs.
fn in_process() -> (f64, f64, f64) {
    let rt = Runtime::new(Limits::default()).expect("runtime");
    let (prepared, params) = prepared_call(&rt, guests::RETURN_FLOW, &session_json());
    let config: Arc<[(String, String)]> = Arc::from(Vec::new());
    let out = rt
        .call(&prepared, &config, NOW, 0, &params)
        .expect("a step");
    let step = json::from_val(&out.value);
    assert!(
        step.pointer("/ok/outcome/approved").is_some(),
        "the bench session settles: {step}"
    );
    let mut samples = Vec::with_capacity(10_000);
    for i in 0..11_000 {
        let t = Instant::now();
        std::hint::black_box(rt.call(&prepared, &config, NOW, i, &params).ok());
        if i >= 1_000 {
            samples.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    samples.sort_by(f64::total_cmp);
    let settings = return_flow::Settings::default();
    let s = session();
    let native = native_p50(|| {
        std::hint::black_box(return_flow::next(&settings, std::hint::black_box(&s), NOW).ok());
    });
    (
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        native,
    )
}

/// A complete return through HTTP, `flows` times: p50 ms of a flow, and
/// of one `/healthz` round trip.
fn through_http(flows: usize) -> anyhow::Result<(f64, f64)> {
    let data = tempfile::tempdir()?;
    let host = HostProcess::start(
        data.path(),
        &[
            "--merchant-rps",
            "0",
            "--public-burst",
            "100000",
            "--public-per-sec",
            "100000",
            // A busy machine (the tests run this bench beside others)
            // must not turn a healthy step into the fallback.
            "--deadline-ms",
            "5000",
        ],
    );
    let key = cove_e2e::create_merchant_on(&host.url, "shop");
    let http = reqwest::blocking::Client::new();
    let published = http
        .post(format!(
            "{}/v1/plugins?name=return-flow&version=1.0.0&publisher=cove&signature={}",
            host.url,
            cove_e2e::signed_as_cove(data.path(), &wasm(guests::RETURN_FLOW))
        ))
        .bearer_auth(OPERATOR_TOKEN)
        .body(wasm(guests::RETURN_FLOW))
        .send()?;
    anyhow::ensure!(
        published.status().is_success(),
        "publish: {}",
        published.text()?
    );
    let bound = http
        .put(format!("{}/v1/merchants/shop/slots/return-flow", host.url))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&json!({"plugin": "return-flow@1.0.0"}))
        .send()?;
    anyhow::ensure!(bound.status().is_success(), "bind: {}", bound.text()?);
    let now = cove_host::now_ms();
    let mut customers = String::new();
    let mut orders = String::new();
    for i in 0..flows {
        customers += &format!(
            "{}\n",
            json!({"id": format!("c{i}"), "email": format!("c{i}@shop.example"), "country": "DE"})
        );
        orders += &format!(
            "{}\n",
            json!({"id": format!("o{i}"), "customer_id": format!("c{i}"), "placed_at": now - 9 * DAY, "currency": "EUR", "total": "74.99",
                   "items": [{"sku": "SHIRT", "category": "apparel", "quantity": 2, "unit_price": "49.99"}], "deliveries": [now - 5 * DAY]})
        );
    }
    for (entity, body) in [("customers", customers), ("orders", orders)] {
        let r = http
            .post(format!(
                "{}/v1/merchants/shop/import/{entity}?format=ndjson",
                host.url
            ))
            .bearer_auth(&key)
            .body(body)
            .send()?;
        anyhow::ensure!(r.status().is_success(), "import {entity}: {}", r.text()?);
    }
    let public = format!("{}/public/v1/shop/returns", host.url);
    let post = |url: &str, body: Value| -> anyhow::Result<Value> {
        let r = http
            .post(url)
            .header("origin", &host.url)
            .json(&body)
            .send()?;
        anyhow::ensure!(r.status().is_success(), "{url}: {}", r.text()?);
        Ok(r.json()?)
    };
    let mut samples = Vec::with_capacity(flows);
    for i in 0..flows {
        let t = Instant::now();
        let started = post(
            &public,
            json!({"order": format!("o{i}"), "email": format!("c{i}@shop.example")}),
        )?;
        let (id, token) = (started["id"].as_str().unwrap_or(""), &started["token"]);
        let step = format!("{public}/{id}/step");
        for (field, value) in ANSWERS {
            post(&step, json!({"token": token, "answers": {field: value}}))?;
        }
        let done = post(&format!("{public}/{id}/submit"), json!({"token": token}))?;
        anyhow::ensure!(done["status"] == "approved", "flow {i}: {done}");
        samples.push(t.elapsed().as_secs_f64() * 1e3);
    }
    samples.sort_by(f64::total_cmp);
    let mut health = Vec::with_capacity(2_000);
    for _ in 0..2_000 {
        let t = Instant::now();
        http.get(format!("{}/healthz", host.url)).send()?.bytes()?;
        health.push(t.elapsed().as_secs_f64() * 1e3);
    }
    health.sort_by(f64::total_cmp);
    Ok((percentile(&samples, 0.5), percentile(&health, 0.5)))
}

pub fn run() -> anyhow::Result<()> {
    let (p50, p99, native) = in_process();
    println!(
        "in process: one step (fresh sandbox, session of 5 answers settled) p50 {p50:.1} µs, p99 {p99:.1} µs; native {native:.2} µs"
    );
    let (flow, health) = through_http(super::scaled(300))?;
    println!(
        "through HTTP: a complete return (start, 5 forms, submit) p50 {flow:.2} ms; /healthz p50 {health:.3} ms"
    );
    let round = |x: f64, d: i32| (x * 10f64.powi(d)).round() / 10f64.powi(d);
    println!(
        "{}",
        json!({
            "step_p50_us": round(p50, 1),
            "step_p99_us": round(p99, 1),
            "native_step_p50_us": round(native, 2),
            "step_native_ratio": round(p50 / native, 1),
            "flow_http_p50_ms": round(flow, 2),
            "healthz_p50_ms": round(health, 3),
            "flow_vs_7_healthz": round(flow / (7.0 * health), 1),
        })
    );
    Ok(())
}
