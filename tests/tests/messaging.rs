//! Messaging over HTTP: inbound SMS keywords change the customers' SMS
//! consent (opt-out and back in), anything else is a reply, and bad
//! numbers are refused. Plans: consent first, the fatigue policy per
//! channel, and 200 concurrent plans for one customer never break a cap
//! (PostgreSQL with two replicas: tests/tests/store_suite.rs).

use axum::http::StatusCode;
use cove_e2e::{
    OPERATOR_TOKEN, call, cap_violations, capped_fatigue_config, create_merchant, guests, host,
    import_lines, publish, test_limits,
};
use serde_json::{Value, json};

async fn sms_consent(app: &axum::Router, key: &str, id: &str) -> Value {
    let (_, p) = call(
        app,
        "GET",
        &format!("/v1/merchants/shop/customers/{id}"),
        key,
        Value::Null,
    )
    .await;
    p["consent"]["sms"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn sms_keywords_opt_customers_out_and_back_in() {
    let (state, _dir) = host(None, test_limits()).await;
    let app = cove_host::app(state);
    let key = create_merchant(&app, "shop").await;
    // Two customers share a number (a household); a third has another.
    import_lines(
        &app,
        &key,
        "customers",
        &[
            json!({"id": "c1", "phone": "+49 151 1234 5678"}),
            json!({"id": "c2", "phone": "+4915112345678"}),
            json!({"id": "c3", "phone": "+33 6 12 34 56 78"}),
        ],
    )
    .await;
    let t0 = cove_host::now_ms() - 60_000;
    import_lines(
        &app,
        &key,
        "consents",
        &[
            json!({"customer_id": "c1", "channel": "sms", "status": "granted", "at": t0}),
            json!({"customer_id": "c2", "channel": "sms", "status": "granted", "at": t0}),
            json!({"customer_id": "c3", "channel": "sms", "status": "granted", "at": t0}),
        ],
    )
    .await;
    let sms = |from: &str, text: &str, at: i64| json!({"from": from, "text": text, "at": at});

    // Not a keyword: a reply, consent unchanged.
    let (s, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/inbound/sms",
        &key,
        sms(
            "+49 151 12345678",
            "please stop sending me these",
            t0 + 1_000,
        ),
    )
    .await;
    assert_eq!(
        (s, v["keyword"].clone(), v["customers"].clone()),
        (StatusCode::OK, Value::Null, json!(["c1", "c2"])),
        "{v}"
    );
    assert_eq!(sms_consent(&app, &key, "c1").await, "granted");
    // The keyword alone, any case, spaces around: both customers out.
    let (_, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/inbound/sms",
        &key,
        sms("+4915112345678", "  Stop \n", t0 + 2_000),
    )
    .await;
    assert_eq!(
        (v["keyword"].clone(), v["customers"].clone()),
        (json!("opt-out"), json!(["c1", "c2"])),
        "{v}"
    );
    assert_eq!(sms_consent(&app, &key, "c1").await, "withdrawn");
    assert_eq!(sms_consent(&app, &key, "c2").await, "withdrawn");
    assert_eq!(sms_consent(&app, &key, "c3").await, "granted");
    // Back in.
    let (_, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/inbound/sms",
        &key,
        sms("+49 151 1234 5678", "unstop", t0 + 3_000),
    )
    .await;
    assert_eq!(v["keyword"], "opt-in", "{v}");
    assert_eq!(sms_consent(&app, &key, "c1").await, "granted");
    // Every other opt-out word.
    for (i, word) in ["STOPALL", "unsubscribe", "Cancel", "END", "quit"]
        .iter()
        .enumerate()
    {
        let (_, v) = call(
            &app,
            "POST",
            "/v1/merchants/shop/inbound/sms",
            &key,
            sms("+33612345678", word, t0 + 10_000 + i as i64 * 2_000),
        )
        .await;
        assert_eq!(
            (v["keyword"].clone(), v["customers"].clone()),
            (json!("opt-out"), json!(["c3"])),
            "{word}: {v}"
        );
        assert_eq!(sms_consent(&app, &key, "c3").await, "withdrawn", "{word}");
        let (_, v) = call(
            &app,
            "POST",
            "/v1/merchants/shop/inbound/sms",
            &key,
            sms("+33612345678", "YES", t0 + 11_000 + i as i64 * 2_000),
        )
        .await;
        assert_eq!(v["keyword"], "opt-in");
        assert_eq!(sms_consent(&app, &key, "c3").await, "granted", "{word}");
    }
    // A number nobody has: nothing to change. A number that is not one: refused.
    let (s, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/inbound/sms",
        &key,
        sms("+1 202 555 0100", "STOP", t0),
    )
    .await;
    assert_eq!(
        (s, v["customers"].clone()),
        (StatusCode::OK, json!([])),
        "{v}"
    );
    let (s, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/inbound/sms",
        &key,
        sms("call me", "STOP", t0),
    )
    .await;
    assert_eq!(
        (s, v["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_phone")),
        "{v}"
    );
    let (s, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/inbound/sms",
        &key,
        json!({"from": "+4915112345678"}),
    )
    .await;
    assert!(
        s.is_client_error() && v["message"].as_str().unwrap().contains("text"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_plans_for_one_customer_never_break_a_cap() {
    let (state, _dir) = host(None, test_limits()).await;
    let app = cove_host::app(state);
    let key = create_merchant(&app, "shop").await;
    let (s, v) = publish(
        &app,
        "name=fatigue-policy&version=2.0.0&publisher=cove",
        std::path::Path::new(guests::FATIGUE),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/fatigue-policy",
        OPERATOR_TOKEN,
        json!({"plugin": "fatigue-policy@2.0.0", "config": capped_fatigue_config()}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    import_lines(
        &app,
        &key,
        "customers",
        &[json!({"id": "c1", "country": "DE", "time_zone": "UTC", "phone": "+4915112345678"})],
    )
    .await;
    let t0 = cove_host::now_ms() - 60_000;
    import_lines(
        &app,
        &key,
        "consents",
        &[json!({"customer_id": "c1", "channel": "sms", "status": "withdrawn", "at": t0})],
    )
    .await;

    // Bad plans name their field; an unknown customer is 404.
    for (body, field) in [
        (
            json!({"customer_id": "c1", "message": {"category": "spam"}}),
            "message.category",
        ),
        (
            json!({"customer_id": "c1", "message": {"channels": ["pigeon"]}}),
            "message.channels",
        ),
        (
            json!({"customer_id": "c1", "message": {"channels": []}}),
            "message.channels",
        ),
    ] {
        let (s, v) = call(&app, "POST", "/v1/merchants/shop/sends/plan", &key, body).await;
        assert_eq!(
            (s, v["field"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!(field)),
            "{v}"
        );
    }
    let (s, _) = call(
        &app,
        "POST",
        "/v1/merchants/shop/sends/plan",
        &key,
        json!({"customer_id": "nobody", "message": {}}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let plan = json!({"customer_id": "c1", "message": {"channels": ["email"], "campaign_id": "spring", "has_trigger_signal": true}});
    let mut all = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let (app, key, plan) = (app.clone(), key.clone(), plan.clone());
        all.spawn(
            async move { call(&app, "POST", "/v1/merchants/shop/sends/plan", &key, plan).await },
        );
    }
    let mut planned = Vec::new();
    let mut dropped = 0;
    while let Some(r) = all.join_next().await {
        let (s, v) = r.unwrap();
        assert_eq!(s, StatusCode::OK, "{v}");
        match v["status"].as_str().unwrap() {
            "planned" => planned.push(v["send_at"].as_i64().unwrap()),
            "dropped" => {
                dropped += 1;
                assert!(v["reason"].as_str().unwrap().starts_with("email:"), "{v}");
                assert_eq!(step(&v, "fatigue")["decision"], "drop", "{v}");
            }
            other => panic!("{other}: {v}"),
        }
    }
    assert_eq!(cap_violations(&planned, 3), 0, "{planned:?}");
    assert_eq!(
        (planned.len(), dropped),
        (3, 197),
        "the cap is reached, not undershot"
    );

    // Consent first: SMS is withdrawn, so it is never asked; e-mail is capped.
    let (_, v) = call(&app, "POST", "/v1/merchants/shop/sends/plan", &key,
        json!({"customer_id": "c1", "message": {"channels": ["sms", "email"], "has_trigger_signal": true}})).await;
    assert_eq!(v["status"], "dropped", "{v}");
    assert_eq!(
        (
            v["trail"][0]["step"].clone(),
            v["trail"][0]["channel"].clone()
        ),
        (json!("consent"), json!("sms")),
        "{v}"
    );
    assert_eq!(step(&v, "fatigue")["decision"], "drop", "{v}");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("sms: no consent (consent withdrawn)"),
        "{v}"
    );
    // An order confirmation is not held back by marketing caps.
    let (_, v) = call(&app, "POST", "/v1/merchants/shop/sends/plan", &key,
        json!({"customer_id": "c1", "message": {"category": "transactional", "channels": ["email"]}})).await;
    assert_eq!(
        (v["status"].clone(), v["channel"].clone()),
        (json!("planned"), json!("email")),
        "{v}"
    );
    assert_eq!(step(&v, "fatigue")["by"], "fatigue-policy@2.0.0", "{v}");

    // The report: four contacts for one customer this week, the drops by
    // cause, the withdrawn consent, e-mail in Europe.
    let (s, r) = call(
        &app,
        "GET",
        "/v1/merchants/shop/sends/report?days=7",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["planned"].clone(), r["dropped"].clone()),
        (json!(4), json!(198)),
        "{r}"
    );
    assert_eq!(r["per_customer_week"], json!({"4": 1}), "{r}");
    assert_eq!(
        r["dropped_by_reason"]["no consent (consent withdrawn)"], 1,
        "{r}"
    );
    let causes: u64 = r["dropped_by_reason"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(causes, 199, "198 drops, one with two causes: {r}");
    assert_eq!(
        r["suppressions_by_cause"]["consent withdrawn (import)"], 1,
        "{r}"
    );
    assert_eq!(r["channels_by_region"]["europe"]["email"], 4, "{r}");
}

/// The first step of a plan's trail named `name`.
fn step<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["trail"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no {name} step: {plan}"))
}
