//! Messaging over HTTP: inbound SMS keywords change the customers' SMS
//! consent (opt-out and back in), anything else is a reply, and bad
//! numbers are refused.

use axum::http::StatusCode;
use cove_e2e::{call, create_merchant, host, request, test_limits};
use serde_json::{Value, json};

async fn import(app: &axum::Router, key: &str, entity: &str, lines: &[Value]) {
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let auth = format!("Bearer {key}");
    let (s, _, b) = request(
        app,
        "POST",
        &format!("/v1/merchants/shop/import/{entity}?format=ndjson"),
        &[("authorization", &auth)],
        Some(body),
    )
    .await;
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(
        (s, v["rejected"].clone()),
        (StatusCode::OK, json!(0)),
        "{v}"
    );
}

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
    import(
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
    import(
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
