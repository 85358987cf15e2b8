//! Shadow runs: a candidate version sees every call after the live answer
//! is made, its answers only compared; the report says what it would have
//! decided differently, at the share it differs; a candidate that fails
//! is reported failing while every live answer stays the live version's;
//! under load shadow calls are skipped, and counted.

use axum::http::StatusCode;
use cove_e2e::{
    OPERATOR_TOKEN, call, create_merchant, expect_error, fatigue_input_for, guests, host, publish,
    test_limits,
};
use serde_json::{Value, json};

/// [`fatigue_input_for`] with the customer in Germany or France.
fn input(i: usize) -> Value {
    let mut v = fatigue_input_for(i);
    v["request"]["customer"]["country"] = json!(if i.is_multiple_of(4) { "DE" } else { "FR" });
    v
}

/// Wait until the shadow has compared `n` calls (it runs in the
/// background); the report then.
async fn report_after(app: &axum::Router, key: &str, n: u64) -> Value {
    report_of(app, "shop", key, n).await
}

/// [`report_after`] for `merchant`.
async fn report_of(app: &axum::Router, merchant: &str, key: &str, n: u64) -> Value {
    for _ in 0..500 {
        let (s, r) = call(
            app,
            "GET",
            &format!("/v1/merchants/{merchant}/slots/fatigue-policy/shadow"),
            key,
            Value::Null,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        if r["stats"]["compared"].as_u64().unwrap() + r["stats"]["skipped"].as_u64().unwrap() >= n {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the shadow did not catch up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shadow_reports_what_it_would_decide_without_touching_live_answers() {
    // Fuel for a runaway call to take some tens of milliseconds: more
    // than a merchant's shadow budget for a second.
    let limits = cove_host::platform::runtime::Limits {
        fuel: 70_000_000,
        ..test_limits()
    };
    let (state, _dir) = host(None, limits).await;
    let app = cove_host::app(state);
    let key = create_merchant(&app, "shop").await;
    for (name, path) in [
        ("fatigue-policy", guests::FATIGUE),
        ("busy", guests::BUSY),
        ("loop", guests::LOOP_FOREVER),
    ] {
        let (s, v) = publish(
            &app,
            &format!("name={name}&version=1.0.0&publisher=test"),
            std::path::Path::new(path),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/fatigue-policy",
        OPERATOR_TOKEN,
        json!({"plugin": "fatigue-policy@1.0.0"}),
    )
    .await;

    // Refusals name what is wrong.
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/fatigue-policy/shadow",
        &key,
        json!({"plugin": "nope@1.0.0"}),
    )
    .await;
    expect_error(s, &v, StatusCode::NOT_FOUND, "not_found");
    let (s, v) = call(
        &app,
        "GET",
        "/v1/merchants/shop/slots/fatigue-policy/shadow",
        &key,
        Value::Null,
    )
    .await;
    expect_error(s, &v, StatusCode::NOT_FOUND, "not_found");

    // A candidate that always allows, shadowing the reference policy.
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/fatigue-policy/shadow",
        &key,
        json!({"plugin": "busy@1.0.0"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // One call at a time, so none is skipped: the share it differs on is
    // exactly the deferred half.
    for i in 0..20 {
        let (s, v) = call(
            &app,
            "POST",
            "/v1/merchants/shop/slots/fatigue-policy/invoke",
            &key,
            input(i),
        )
        .await;
        assert_eq!(
            (s, v["plugin"].as_str()),
            (StatusCode::OK, Some("fatigue-policy@1.0.0")),
            "{v}"
        );
        report_after(&app, &key, i as u64 + 1).await;
    }
    let r = report_after(&app, &key, 20).await;
    let stats = &r["stats"];
    assert_eq!(
        (
            stats["compared"].as_u64(),
            stats["same"].as_u64(),
            stats["skipped"].as_u64()
        ),
        (Some(20), Some(10), Some(0)),
        "{r}"
    );
    assert_eq!(stats["changes"], json!({"defer → allow": 10}), "{r}");
    assert_eq!(stats["by_country"], json!({"DE": 5, "FR": 5}), "{r}");
    let summary = r["summary"].as_str().unwrap();
    assert!(
        summary.contains("agrees with fatigue-policy@1.0.0 on 50.0% of 20 decisions"),
        "{summary}"
    );
    assert!(
        summary.contains("would have sent 10 messages (50.0%) that today's policy defers"),
        "{summary}"
    );
    assert!(
        stats["shadow_fuel"].as_u64().unwrap() > stats["live_fuel"].as_u64().unwrap(),
        "the busy candidate burns more fuel: {r}"
    );
    let example = &stats["examples"][0];
    assert!(
        example["live"].get("defer").is_some() && example["shadow"] == "allow",
        "{example}"
    );

    // A candidate that burns all its fuel: reported failing; the live
    // answers are the live version's. Calls while one shadow call runs are
    // skipped and counted, never waited for.
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/fatigue-policy/shadow",
        &key,
        json!({"plugin": "loop@1.0.0"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["stats"]["compared"], 0,
        "a new candidate starts a new report: {v}"
    );
    for i in 0..30 {
        let (s, v) = call(
            &app,
            "POST",
            "/v1/merchants/shop/slots/fatigue-policy/invoke",
            &key,
            input(i),
        )
        .await;
        assert_eq!(
            (s, v["plugin"].as_str(), v["fallback"].clone()),
            (StatusCode::OK, Some("fatigue-policy@1.0.0"), Value::Null),
            "{v}"
        );
    }
    let r = report_after(&app, &key, 30).await;
    let stats = &r["stats"];
    let failed: u64 = stats["failures"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert!(
        failed >= 1 && failed == stats["compared"].as_u64().unwrap(),
        "{r}"
    );
    assert_eq!(stats["same"], 0, "{r}");
    assert!(
        r["summary"]
            .as_str()
            .unwrap()
            .contains("where the safe fallback would have answered"),
        "{r}"
    );

    // The budget is each merchant's: while shop's fuel-burning shadow
    // spends its own, another merchant's shadow is never skipped.
    let other = create_merchant(&app, "other").await;
    call(
        &app,
        "PUT",
        "/v1/merchants/other/slots/fatigue-policy",
        OPERATOR_TOKEN,
        json!({"plugin": "fatigue-policy@1.0.0"}),
    )
    .await;
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/other/slots/fatigue-policy/shadow",
        &other,
        json!({"plugin": "fatigue-policy@1.0.0"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for i in 0..10 {
        for (merchant, key, done) in [("shop", &key, 31 + i), ("other", &other, 1 + i)] {
            let (s, v) = call(
                &app,
                "POST",
                &format!("/v1/merchants/{merchant}/slots/fatigue-policy/invoke"),
                key,
                input(i as usize),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{v}");
            report_of(&app, merchant, key, done).await;
        }
    }
    let r = report_of(&app, "other", &other, 10).await;
    assert_eq!(
        (
            r["stats"]["compared"].as_u64(),
            r["stats"]["skipped"].as_u64()
        ),
        (Some(10), Some(0)),
        "{r}"
    );
    let r = report_after(&app, &key, 40).await;
    assert!(r["stats"]["skipped"].as_u64().unwrap() > 0, "{r}");

    // Stopping it: no report, and the live version goes on.
    let (s, _) = call(
        &app,
        "DELETE",
        "/v1/merchants/shop/slots/fatigue-policy/shadow",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(
        &app,
        "GET",
        "/v1/merchants/shop/slots/fatigue-policy/shadow",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// On two replicas of one PostgreSQL database, the report adds up what
/// both found: the calls each replica shadowed.
#[tokio::test(flavor = "multi_thread")]
async fn a_shadow_report_counts_the_calls_of_every_replica() {
    let pg = cove_e2e::Postgres::start();
    let replicas = &cove_e2e::Replicas::start(&pg, "shadows", &[]).await;
    replicas.bind_fatigue("fatigue-policy@1.0.0").await;
    let cove_e2e::Replicas { a, b, key, .. } = replicas;
    let (s, v) = cove_e2e::call_url(
        &a.url,
        key,
        reqwest::Method::PUT,
        "/v1/merchants/shop/slots/fatigue-policy/shadow",
        json!({"plugin": "fatigue-policy@2.0.0"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    // B picks the shadow up at its next sync.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    for i in 0..12 {
        let url = if i % 2 == 0 { &a.url } else { &b.url };
        let (s, v) = cove_e2e::call_url(
            url,
            key,
            reqwest::Method::POST,
            "/v1/merchants/shop/slots/fatigue-policy/invoke",
            input(i),
        )
        .await;
        assert_eq!(s, 200, "{v}");
    }
    let guard = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, r) = cove_e2e::call_url(
            &a.url,
            key,
            reqwest::Method::GET,
            "/v1/merchants/shop/slots/fatigue-policy/shadow",
            Value::Null,
        )
        .await;
        let seen = r["stats"]["compared"].as_u64().unwrap_or(0)
            + r["stats"]["skipped"].as_u64().unwrap_or(0);
        if seen == 12 {
            assert_eq!(r["stats"]["compared"], r["stats"]["same"], "{r}");
            break;
        }
        assert!(
            seen < 12 && std::time::Instant::now() < guard,
            "A reports {seen} of the 12 calls: {r}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
