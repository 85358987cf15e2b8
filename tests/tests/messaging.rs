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
    // A message dated in the future counts as now: a START "from 2999"
    // cannot outrank the STOP that follows it.
    call(
        &app,
        "POST",
        "/v1/merchants/shop/inbound/sms",
        &key,
        sms("+33612345678", "START", 32_503_680_000_000),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    call(
        &app,
        "POST",
        "/v1/merchants/shop/inbound/sms",
        &key,
        sms("+33612345678", "STOP", cove_host::now_ms()),
    )
    .await;
    assert_eq!(sms_consent(&app, &key, "c3").await, "withdrawn");
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
    bind(
        &app,
        "fatigue-policy",
        guests::FATIGUE,
        capped_fatigue_config(),
    )
    .await;
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
        refused(&app, &key, "sends/plan", body, field).await;
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
    // Plans are the sender's traffic, not changes: none is in the audit
    // log (each used to write an entry).
    let (s, audit) = call(&app, "GET", "/v1/merchants/shop/audit", &key, Value::Null).await;
    assert_eq!(s, StatusCode::OK, "{audit}");
    assert!(!audit["events"].as_array().unwrap().is_empty(), "{audit}");
    assert!(!audit.to_string().contains("sends/plan"), "{audit}");

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
        "/v1/merchants/shop/sends/report?days=0",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(
        (s, r["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_days"))
    );
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

async fn bind(app: &axum::Router, name: &str, path: &str, config: Value) {
    let (s, v) = publish(
        app,
        &format!("name={name}&version=2.0.0&publisher=cove"),
        std::path::Path::new(path),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = call(
        app,
        "PUT",
        &format!("/v1/merchants/shop/slots/{name}"),
        OPERATOR_TOKEN,
        json!({"plugin": format!("{name}@2.0.0"), "config": config}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

/// `body` posted to `path` is refused with 422 naming `field`.
async fn refused(app: &axum::Router, key: &str, path: &str, body: Value, field: &str) {
    let (s, v) = call(
        app,
        "POST",
        &format!("/v1/merchants/shop/{path}"),
        key,
        body,
    )
    .await;
    assert_eq!(
        (s, v["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!(field)),
        "{v}"
    );
}

async fn plan(app: &axum::Router, key: &str, customer: &str, message: Value) -> Value {
    let (s, v) = call(
        app,
        "POST",
        "/v1/merchants/shop/sends/plan",
        key,
        json!({"customer_id": customer, "message": message}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn the_planner_ranks_channels_follows_the_customer_and_plans_segments() {
    const DAY: i64 = 86_400_000;
    let (state, _dir) = host(None, test_limits()).await;
    let app = cove_host::app(state.clone());
    let key = create_merchant(&app, "shop").await;
    let now = cove_host::now_ms();
    // Iceland keeps UTC all year: its quiet hours are the three around now,
    // so an Icelander at home is quiet now and one in Tokyo is not.
    let hour = now / 3_600_000 % 24;
    let mut config = capped_fatigue_config();
    config["quiet-hours.IS"] = json!(format!(
        "{:02}:00-{:02}:00",
        (hour + 23) % 24,
        (hour + 2) % 24
    ));
    config["cap.tag.flash-sale"] = json!("1/week");
    config["max-defer-hours"] = json!("240");
    bind(&app, "fatigue-policy", guests::FATIGUE, config).await;
    bind(&app, "channel-chooser", guests::CHANNEL_CHOOSER, json!({})).await;
    import_lines(
        &app,
        &key,
        "customers",
        &[
            json!({"id": "reader", "country": "DE", "time_zone": "Europe/Berlin"}),
            json!({"id": "latam", "country": "BR", "time_zone": "America/Sao_Paulo"}),
            json!({"id": "bounced", "country": "FR", "time_zone": "Europe/Paris"}),
            json!({"id": "traveller", "country": "IS", "time_zone": "Atlantic/Reykjavik"}),
        ],
    )
    .await;
    // The reader opens every SMS and no e-mail; one address bounced hard.
    let mut events = Vec::new();
    for i in 0..6 {
        let at = now - (i + 2) * 4 * DAY;
        events.push(json!({"id": format!("e-e{i}"), "customer_id": "reader", "kind": "sent", "channel": "email", "at": at}));
        events.push(json!({"id": format!("e-s{i}"), "customer_id": "reader", "kind": "sent", "channel": "sms", "at": at}));
        events.push(json!({"id": format!("e-o{i}"), "customer_id": "reader", "kind": "opened", "channel": "sms", "at": at + 60_000}));
    }
    events.push(json!({"id": "e-b", "customer_id": "bounced", "kind": "bounced", "channel": "email", "at": now - DAY}));
    import_lines(&app, &key, "events", &events).await;

    // Europe starts from e-mail; this customer's own behaviour says SMS.
    let v = plan(
        &app,
        &key,
        "reader",
        json!({"channels": ["email", "sms"], "has_trigger_signal": true}),
    )
    .await;
    assert_eq!(
        (v["status"].clone(), v["channel"].clone()),
        (json!("planned"), json!("sms")),
        "{v}"
    );
    let chooser = step(&v, "chooser");
    assert_eq!(chooser["by"], "channel-chooser@2.0.0", "{v}");
    assert_eq!(chooser["ranking"][0]["channel"], "sms", "{v}");
    assert!(
        chooser["ranking"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("engaged 6 times with 6 messages"),
        "{v}"
    );

    // WhatsApp first in Brazil, as a template: the customer never wrote.
    let v = plan(&app, &key, "latam", json!({"has_trigger_signal": true})).await;
    assert_eq!(
        (v["channel"].clone(), v["template_only"].clone()),
        (json!("whatsapp"), json!(true)),
        "{v}"
    );
    // The WhatsApp number bounces: the sender says so, and WhatsApp is
    // suppressed for the next message.
    let outcome = |id: &str, body: Value| {
        let (app, key, id) = (app.clone(), key.clone(), id.to_string());
        async move {
            call(
                &app,
                "POST",
                &format!("/v1/merchants/shop/sends/contacts/{id}/outcome"),
                &key,
                body,
            )
            .await
        }
    };
    let contact = v["contact_id"].as_str().unwrap().to_string();
    let (s, e) = outcome(&contact, json!({"outcome": "lost"})).await;
    assert_eq!(
        (s, e["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("outcome")),
        "{e}"
    );
    let (s, _) = outcome("ct-nope", json!({"outcome": "sent"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, e) = outcome(&contact, json!({"outcome": "bounced"})).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let v = plan(&app, &key, "latam", json!({"has_trigger_signal": true})).await;
    assert!(
        v["trail"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["channel"] == "whatsapp" && s["reason"] == "no consent: hard bounce"),
        "{v}"
    );
    assert_ne!(v["channel"], "whatsapp", "{v}");

    // A hard bounce suppresses e-mail before anything else is asked.
    let v = plan(
        &app,
        &key,
        "bounced",
        json!({"channels": ["email", "sms"], "has_trigger_signal": true}),
    )
    .await;
    assert_eq!(v["trail"][0]["reason"], "no consent: hard bounce", "{v}");
    assert_eq!(v["channel"], "sms", "{v}");

    // At home in Iceland it is quiet now: a low-priority message is dropped
    // rather than delayed, a normal one waits until the quiet hours end …
    let message = json!({"channels": ["email"], "has_trigger_signal": true});
    let mut low = message.clone();
    low["priority"] = json!("low");
    let v = plan(&app, &key, "traveller", low).await;
    assert_eq!(v["status"], "dropped", "{v}");
    assert!(
        v["reason"].as_str().unwrap().contains("low priority"),
        "{v}"
    );
    let (s, e) = outcome(
        v["contact_id"].as_str().unwrap(),
        json!({"outcome": "sent"}),
    )
    .await;
    assert_eq!(
        (s, e["code"].clone()),
        (StatusCode::CONFLICT, json!("contact_dropped")),
        "{e}"
    );
    let v = plan(&app, &key, "traveller", message.clone()).await;
    let quiet_end = (now / 3_600_000 + 2) * 3_600_000;
    assert_eq!(
        (v["status"].clone(), v["send_at"].clone()),
        (json!("planned"), json!(quiet_end)),
        "{v}"
    );
    assert!(
        step(&v, "fatigue")["reason"]
            .as_str()
            .unwrap()
            .contains("quiet hours"),
        "{v}"
    );
    // … and once the customer's zone says Tokyo, where it is nine hours
    // later and outside those hours, the next message goes now.
    import_lines(
        &app,
        &key,
        "customers",
        &[json!({"id": "traveller", "country": "IS", "time_zone": "Asia/Tokyo"})],
    )
    .await;
    let mut tagged = message.clone();
    tagged["tags"] = json!(["flash-sale"]);
    tagged["channels"] = json!(["sms"]);
    let v = plan(&app, &key, "traveller", tagged.clone()).await;
    assert_eq!(
        (v["status"].clone(), v["channel"].clone()),
        (json!("planned"), json!("sms")),
        "{v}"
    );
    let sent_at = v["send_at"].as_i64().unwrap();
    assert!(sent_at >= now && sent_at < quiet_end, "{v}");
    // One flash sale a calendar week: the second waits for the next week
    // in Tokyo (or is dropped when that is beyond the longest wait).
    tagged["channels"] = json!(["app-push"]);
    let v = plan(&app, &key, "traveller", tagged).await;
    let fatigue = step(&v, "fatigue");
    // Monday 00:00 in Tokyo (UTC+9, no daylight saving) after now.
    let tokyo_day = (now + 9 * 3_600_000) / DAY;
    let next_monday = (((tokyo_day + 3) / 7 + 1) * 7 - 3) * DAY - 9 * 3_600_000;
    assert_eq!(fatigue["decision"], "defer", "{v}");
    let until = fatigue["until"].as_i64().unwrap();
    let reason = fatigue["reason"].as_str().unwrap();
    // Exactly then, unless that hour is quiet for an Icelander and waits more.
    assert!(
        (until == next_monday && reason == "`flash-sale` cap of 1 per calendar week")
            || (until > next_monday && reason.contains("quiet hours")),
        "{v}"
    );

    // A whole segment: score the customers, then plan one message for
    // every customer of one segment, and watch the batch to the end.
    bind(&app, "rfm-scorer", guests::RFM_SCORER, json!({})).await;
    let shoppers: Vec<Value> = (0..40)
        .map(|i| json!({"id": format!("s{i:02}"), "country": "DE", "time_zone": "Europe/Berlin"}))
        .collect();
    import_lines(&app, &key, "customers", &shoppers).await;
    let orders: Vec<Value> = (0..40i64)
        .flat_map(|i| {
            (0..1 + i % 5).map(move |k| {
                json!({"id": format!("o{i}-{k}"), "customer_id": format!("s{i:02}"),
                    "placed_at": now - (5 + i * 7 + k * 30) * DAY, "currency": "EUR", "total": format!("{}.00", 20 + i * 3)})
            })
        })
        .collect();
    import_lines(&app, &key, "orders", &orders).await;
    let (s, run) = call(&app, "POST", "/v1/merchants/shop/rfm/runs", &key, json!({})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{run}");
    let run_id = run["id"].as_str().unwrap().to_string();
    for _ in 0..600 {
        let (_, r) = call(
            &app,
            "GET",
            &format!("/v1/merchants/shop/rfm/runs/{run_id}"),
            &key,
            Value::Null,
        )
        .await;
        if r["status"] != "running" {
            assert_eq!(r["status"], "done", "{r}");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, one) = call(
        &app,
        "GET",
        "/v1/merchants/shop/rfm/customers/s00",
        &key,
        Value::Null,
    )
    .await;
    let segment = one["segment"]
        .as_str()
        .unwrap_or_else(|| panic!("{one}"))
        .to_string();
    let (_, members) = call(
        &app,
        "GET",
        &format!("/v1/merchants/shop/rfm/runs/{run_id}/customers?segment={segment}&limit=1000"),
        &key,
        Value::Null,
    )
    .await;
    let members: Vec<String> = members["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap().to_string())
        .collect();
    assert!(members.contains(&"s00".to_string()), "{members:?}");
    for (body, field) in [
        (
            json!({"segment": "nobody-is-here", "message": {}}),
            "segment",
        ),
        (json!({"message": {}}), "segment"),
        (
            json!({"segment": segment, "message": {"channels": ["fax"]}}),
            "message.channels",
        ),
    ] {
        refused(&app, &key, "sends/batches", body, field).await;
    }
    // While a batch of the shop's is being planned, another waits for it.
    let planning = state.fair.job("shop", "send batch").unwrap();
    let body = json!({"segment": segment, "message": {"channels": ["email"]}});
    let (s, v) = call(&app, "POST", "/v1/merchants/shop/sends/batches", &key, body).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_running")),
        "{v}"
    );
    drop(planning);
    let (s, batch) = call(&app, "POST", "/v1/merchants/shop/sends/batches", &key,
        json!({"segment": segment, "message": {"channels": ["email"], "campaign_id": "winback", "has_trigger_signal": true}})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{batch}");
    assert_eq!(batch["total"], members.len(), "{batch}");
    let batch_id = batch["id"].as_str().unwrap().to_string();
    let mut last = Value::Null;
    for _ in 0..600 {
        let (_, b) = call(
            &app,
            "GET",
            &format!("/v1/merchants/shop/sends/batches/{batch_id}"),
            &key,
            Value::Null,
        )
        .await;
        last = b;
        if last["status"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        (
            last["status"].clone(),
            last["failed"].clone(),
            last["progress"].clone()
        ),
        (json!("done"), json!(0), json!(1.0)),
        "{last}"
    );
    assert_eq!(
        last["planned"].as_u64().unwrap() + last["dropped"].as_u64().unwrap(),
        members.len() as u64,
        "{last}"
    );
    assert!(last["planned"].as_u64().unwrap() > 0, "{last}");
    let (_, contacts) = call(
        &app,
        "GET",
        "/v1/merchants/shop/sends/contacts?customer_id=s00",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(
        contacts["contacts"][0]["campaign_id"], "winback",
        "{contacts}"
    );
    let (_, list) = call(
        &app,
        "GET",
        "/v1/merchants/shop/sends/batches",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(list["batches"][0]["id"], json!(batch_id), "{list}");

    // The report counts the bounce as a suppression.
    let (_, r) = call(
        &app,
        "GET",
        "/v1/merchants/shop/sends/report",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(r["suppressions_by_cause"]["hard bounce"], 2, "{r}");
    assert_eq!(r["outcomes"], json!({"bounced": 1}), "{r}");
    // Delays count by rule, every zone's quiet hours together.
    let delays = r["deferred_by_reason"].as_object().unwrap();
    assert!(
        delays.keys().any(|k| k.starts_with("quiet hours"))
            && delays.keys().all(|k| !k.contains('(')),
        "{r}"
    );
}

/// Twilio's webhook: a message signed with the merchant's auth token is
/// recorded at the host's time (a STOP withdraws SMS consent); a forged or
/// missing signature is refused and records nothing; the token is a
/// credential (a `write` key cannot set it).
#[tokio::test]
async fn twilio_webhooks_are_proved_by_their_signature() {
    let (state, _dir) = cove_e2e::host(None, cove_e2e::test_limits()).await;
    let app = cove_host::app(state);
    let key = cove_e2e::create_merchant(&app, "shop").await;
    cove_e2e::import_lines(
        &app,
        &key,
        "customers",
        &[json!({"id": "c1", "phone": "+49 151 1234567"})],
    )
    .await;
    cove_e2e::import_lines(
        &app,
        &key,
        "consents",
        &[json!({"customer_id": "c1", "channel": "sms", "status": "granted", "at": cove_host::now_ms() - 60_000})],
    )
    .await;
    let token = "0123456789abcdef0123456789abcdef";
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/sms-provider",
        &key,
        json!({"twilio_auth_token": token}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["webhook"], "/hooks/twilio/shop/sms");
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/sms-provider",
        &key,
        json!({"twilio_auth_token": "short"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["code"], "invalid_provider");

    let params = [
        ("From", "+491511234567"),
        ("Body", "STOP"),
        ("MessageSid", "SM1"),
        ("To", "+4930123"),
    ];
    let form: String = params
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace('+', "%2B")))
        .collect::<Vec<_>>()
        .join("&");
    let url = "https://cove.test/hooks/twilio/shop/sms";
    let pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let good = cove_host::messaging::twilio::signature(token, url, &pairs);
    let post = |sig: Option<String>| {
        let app = app.clone();
        let form = form.clone();
        async move {
            let mut headers = vec![
                (
                    "content-type",
                    "application/x-www-form-urlencoded".to_string(),
                ),
                ("host", "cove.test".to_string()),
                ("x-forwarded-proto", "https".to_string()),
                ("origin", String::new()),
            ];
            if let Some(sig) = sig {
                headers.push(("x-twilio-signature", sig));
            }
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            cove_e2e::request_bytes(
                &app,
                "POST",
                "/hooks/twilio/shop/sms",
                &headers,
                Some(form.into_bytes()),
            )
            .await
        }
    };
    let consent = || sms_consent(&app, &key, "c1");
    // Forged (one character off) and missing signatures: refused, nothing recorded.
    let mut forged = good.clone();
    forged.replace_range(0..1, if good.starts_with('A') { "B" } else { "A" });
    for sig in [Some(forged), None] {
        let (s, _, body) = post(sig).await;
        assert_eq!(
            s,
            StatusCode::FORBIDDEN,
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert!(String::from_utf8_lossy(&body).contains("bad_signature"));
    }
    assert_eq!(
        consent().await,
        "granted",
        "a refused webhook changes nothing"
    );
    let (s, h, body) = post(Some(good)).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(h["content-type"], "text/xml");
    assert!(String::from_utf8_lossy(&body).contains("<Response>"));
    assert_eq!(
        consent().await,
        "withdrawn",
        "the signed STOP withdrew SMS consent"
    );
}
