//! Canaries: a candidate answers for a share of customers, sticky by
//! customer while the share rises, then is promoted; a candidate that
//! answers differently beyond the bounds, or starts failing, is taken
//! back by Cove itself — on both replicas of one PostgreSQL database
//! within a second — and every step is in the audit log.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use cove_e2e::{
    OPERATOR_TOKEN, Postgres, Replicas, call, call_url, create_merchant, expect_error,
    fatigue_input_for, guests, host, publish, test_limits,
};
use serde_json::{Value, json};

const CANARY: &str = "/v1/merchants/shop/slots/fatigue-policy/canary";
const INVOKE: &str = "/v1/merchants/shop/slots/fatigue-policy/invoke";

/// A customer the live policy allows (never contacted), by id.
fn allowed(id: &str) -> Value {
    let mut v = fatigue_input_for(1);
    v["request"]["customer"]["id"] = json!(id);
    v
}

/// A host with `shop`, the reference fatigue policy as 1.0.0 (bound) and
/// 2.0.0, and the flaky one; `shop`'s key.
async fn shop() -> (axum::Router, String, tempfile::TempDir) {
    let (state, dir) = host(None, test_limits()).await;
    let app = cove_host::app(state);
    let key = create_merchant(&app, "shop").await;
    for (name, version, path) in [
        ("fatigue-policy", "1.0.0", guests::FATIGUE),
        ("fatigue-policy", "2.0.0", guests::FATIGUE),
        ("flaky", "1.0.0", guests::FLAKY),
    ] {
        let (s, v) = publish(
            &app,
            &format!("name={name}&version={version}&publisher=test"),
            std::path::Path::new(path),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/fatigue-policy",
        OPERATOR_TOKEN,
        json!({"plugin": "fatigue-policy@1.0.0"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    (app, key, dir)
}

/// The version that answered for each of `customers`.
async fn versions(app: &axum::Router, key: &str, customers: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for c in customers {
        let (s, v) = call(app, "POST", INVOKE, key, allowed(c)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(v["fallback"].is_null(), "{v}");
        out.push(v["plugin"].as_str().unwrap().to_string());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_keeps_each_customer_on_one_version_as_its_share_rises_then_is_promoted() {
    let (app, key, _dir) = shop().await;
    // Refusals name what is wrong.
    for (body, status, code) in [
        (
            json!({"plugin": "fatigue-policy@2.0.0", "steps": [5, 5]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_canary",
        ),
        (
            json!({"plugin": "fatigue-policy@2.0.0", "steps": [150]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_canary",
        ),
        (
            json!({"plugin": "fatigue-policy@2.0.0", "max_failure_rise": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_canary",
        ),
        (
            json!({"plugin": "fatigue-policy@1.0.0"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_plugin_ref",
        ),
        (
            json!({"plugin": "fatigue-policy@9.0.0"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ] {
        let (s, v) = call(&app, "PUT", CANARY, &key, body).await;
        expect_error(s, &v, status, code);
    }
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/rfm-scorer/canary",
        &key,
        json!({"plugin": "fatigue-policy@2.0.0"}),
    )
    .await;
    expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "invalid_canary");
    let (s, v) = call(
        &app,
        "POST",
        &format!("{CANARY}/advance"),
        &key,
        Value::Null,
    )
    .await;
    expect_error(s, &v, StatusCode::CONFLICT, "conflict");
    let (s, v) = call(&app, "GET", CANARY, &key, Value::Null).await;
    expect_error(s, &v, StatusCode::NOT_FOUND, "not_found");

    let (s, r) = call(
        &app,
        "PUT",
        CANARY,
        &key,
        json!({"plugin": "fatigue-policy@2.0.0", "steps": [10, 50]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["state"].as_str(), r["share"].as_f64()),
        (Some("running"), Some(10.0))
    );
    let (s, v) = call(
        &app,
        "PUT",
        CANARY,
        &key,
        json!({"plugin": "fatigue-policy@2.0.0"}),
    )
    .await;
    expect_error(s, &v, StatusCode::CONFLICT, "already_running");

    let customers: Vec<String> = (0..300).map(|i| format!("c{i}")).collect();
    let first = versions(&app, &key, &customers).await;
    assert_eq!(first, versions(&app, &key, &customers).await, "sticky");
    let at10 = first
        .iter()
        .filter(|v| *v == "fatigue-policy@2.0.0")
        .count();
    assert!((12..=50).contains(&at10), "{at10} of 300 at 10%");

    let (s, r) = call(
        &app,
        "POST",
        &format!("{CANARY}/advance"),
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(
        (s, r["share"].as_f64()),
        (StatusCode::OK, Some(50.0)),
        "{r}"
    );
    let second = versions(&app, &key, &customers).await;
    let at50 = second
        .iter()
        .filter(|v| *v == "fatigue-policy@2.0.0")
        .count();
    assert!((110..=190).contains(&at50), "{at50} of 300 at 50%");
    for (a, b) in first.iter().zip(&second) {
        assert!(
            a == "fatigue-policy@1.0.0" || b == a,
            "a customer left the candidate"
        );
    }
    let (_, r) = call(&app, "GET", CANARY, &key, Value::Null).await;
    assert_eq!(
        r["counts"]["candidate"]["calls"].as_u64(),
        Some((2 * at10 + at50) as u64),
        "{r}"
    );
    assert_eq!(r["counts"]["candidate"]["failed"], 0, "{r}");
    assert!(
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["breached"] == false),
        "{r}"
    );
    let summary = r["summary"].as_str().unwrap();
    assert!(
        summary.contains("fatigue-policy@2.0.0 answers for 50% of customers (step 2 of 2)"),
        "{summary}"
    );

    let (s, r) = call(
        &app,
        "POST",
        &format!("{CANARY}/advance"),
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(
        (s, r["state"].as_str()),
        (StatusCode::OK, Some("promoted")),
        "{r}"
    );
    let actions: Vec<&str> = r["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["canary", "canary step", "canary promote"], "{r}");
    let all = versions(&app, &key, &customers[..20]).await;
    assert!(all.iter().all(|v| v == "fatigue-policy@2.0.0"), "{all:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_that_answers_differently_beyond_the_bound_is_rolled_back_by_itself() {
    let (app, key, _dir) = shop().await;
    // The flaky version allows everyone; the live policy defers the half
    // contacted an hour ago.
    let (s, r) = call(
        &app,
        "PUT",
        CANARY,
        &key,
        json!({"plugin": "flaky@1.0.0", "steps": [50], "max_answer_shift": 0.2}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let mut candidate_calls = 0;
    for i in 0..2000 {
        let (s, v) = call(&app, "POST", INVOKE, &key, fatigue_input_for(i)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if v["plugin"] == "flaky@1.0.0" {
            candidate_calls += 1;
            continue;
        }
        let (_, r) = call(&app, "GET", CANARY, &key, Value::Null).await;
        if r["state"] == "rolled_back" {
            break;
        }
    }
    // The rollback and its audit event are written together; wait for
    // the task that writes them.
    let mut r = Value::Null;
    for _ in 0..250 {
        r = call(&app, "GET", CANARY, &key, Value::Null).await.1;
        if r["events"].as_array().is_some_and(|e| e.len() == 2) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(r["state"], "rolled_back", "{r}");
    assert!(candidate_calls < 200, "{candidate_calls} calls to tell");
    let reason = r["reason"].as_str().unwrap();
    assert!(
        reason.contains("flaky@1.0.0 answered `allow`") && reason.contains("at most 20.0 points"),
        "{reason}"
    );
    let rollback = &r["events"][1];
    assert_eq!(
        (rollback["action"].as_str(), rollback["actor"].as_str()),
        (Some("canary rollback"), Some("cove")),
        "{r}"
    );
    // Every customer is back on the live version.
    let customers: Vec<String> = (0..40).map(|i| format!("c{i}")).collect();
    let all = versions(&app, &key, &customers).await;
    assert!(all.iter().all(|v| v == "fatigue-policy@1.0.0"), "{all:?}");
}

/// Invoke on `url` for `customer`: the version that answered and whether
/// the fallback did.
async fn on(url: &str, key: &str, customer: &str) -> (String, bool) {
    let (s, v) = call_url(url, key, reqwest::Method::POST, INVOKE, allowed(customer)).await;
    assert_eq!(s, 200, "{v}");
    (
        v["plugin"].as_str().unwrap_or_default().to_string(),
        !v["fallback"].is_null(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_canary_that_starts_failing_is_rolled_back_on_both_replicas_within_a_second() {
    let pg = Postgres::start();
    let replicas = &Replicas::start(&pg, "canary", &[]).await;
    let Replicas { a, b, key, .. } = replicas;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/plugins?name=flaky&version=1.0.0", a.url))
        .bearer_auth(OPERATOR_TOKEN)
        .body(std::fs::read(guests::FLAKY).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    replicas.bind_fatigue("fatigue-policy@1.0.0").await;
    let (s, v) = call_url(
        &a.url,
        key,
        reqwest::Method::PUT,
        CANARY,
        json!({"plugin": "flaky@1.0.0", "steps": [30]}),
    )
    .await;
    assert_eq!(s, 200, "{v}");

    // Healthy at first, and each customer gets one version on both
    // replicas (B picks the canary up at its next sync).
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut seen: HashMap<String, String> = HashMap::new();
    for i in 0..60 {
        let c = format!("c{i}");
        let (va, fa) = on(&a.url, key, &c).await;
        let (vb, fb) = on(&b.url, key, &c).await;
        assert!(!fa && !fb);
        assert_eq!(va, vb, "{c} gets one version on both replicas");
        seen.insert(c, va);
    }
    let to_candidate = seen.values().filter(|v| *v == "flaky@1.0.0").count();
    assert!(
        (5..=35).contains(&to_candidate),
        "{to_candidate} of 60 at 30%"
    );
    let (_, r) = call_url(&a.url, key, reqwest::Method::GET, CANARY, Value::Null).await;
    assert_eq!(r["state"], "running", "{r}");

    // Then it starts failing, for customers on both replicas.
    let mut failed = 0;
    let mut rolled_back_at = None;
    for i in 0..2000 {
        let url = if i % 2 == 0 { &a.url } else { &b.url };
        let (_, fell_back) = on(url, key, &format!("late{i}")).await;
        failed += usize::from(fell_back);
        if i % 10 == 9 {
            let (_, r) = call_url(url, key, reqwest::Method::GET, CANARY, Value::Null).await;
            if r["state"] == "rolled_back" {
                rolled_back_at = Some(Instant::now());
                break;
            }
        }
    }
    let rolled_back_at = rolled_back_at.expect("the canary was rolled back");
    assert!(failed < 100, "{failed} failures before the rollback");
    // Within a second, neither replica sends anyone to the candidate.
    tokio::time::sleep(Duration::from_secs(1).saturating_sub(rolled_back_at.elapsed())).await;
    for url in [&a.url, &b.url] {
        for i in 0..60 {
            let (v, fell_back) = on(url, key, &format!("late-after{i}")).await;
            assert_eq!(
                (v.as_str(), fell_back),
                ("fatigue-policy@1.0.0", false),
                "{url}"
            );
        }
    }
    let (_, r) = call_url(&b.url, key, reqwest::Method::GET, CANARY, Value::Null).await;
    let reason = r["reason"].as_str().unwrap();
    assert!(reason.starts_with("flaky@1.0.0 failed on"), "{reason}");
    assert!(
        r["counts"]["candidate"]["failed"].as_u64().unwrap() > 0,
        "{r}"
    );
    let events = r["events"].as_array().unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e["action"] == "canary rollback" && e["actor"] == "cove")
            .count(),
        1,
        "one rollback recorded: {r}"
    );
}
