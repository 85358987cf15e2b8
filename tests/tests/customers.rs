//! Customer data over HTTP: the import endpoint (CSV and NDJSON), live
//! events, profiles, the privacy requests, merchant isolation; and
//! `cove import` against a running host, as a merchant would run it.

use std::process::Command;

use axum::http::StatusCode;
use cove_e2e::{
    HostProcess, call, cove_binary, create_merchant, create_merchant_on, expect_error, guests,
    host, publish, request, test_limits,
};
use serde_json::{Value, json};

async fn shops() -> (axum::Router, String, String, tempfile::TempDir) {
    let (state, dir) = host(None, test_limits()).await;
    let app = cove_host::app(state);
    let key = create_merchant(&app, "shop").await;
    let rival = create_merchant(&app, "rival").await;
    (app, key, rival, dir)
}

async fn upload(
    app: &axum::Router,
    key: &str,
    uri: &str,
    content_type: &str,
    body: &str,
) -> (StatusCode, Value) {
    let auth = format!("Bearer {key}");
    let (status, _, bytes) = request(
        app,
        "POST",
        uri,
        &[("authorization", &auth), ("content-type", content_type)],
        Some(body.to_string()),
    )
    .await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn imports_profiles_and_privacy_requests_over_http() {
    let (app, key, rival, _dir) = shops().await;
    let csv = "id,email,country,time_zone,tags\nc1,ana@shop.example,DE,Europe/Berlin,vip\nc2,not-an-address,FR,Europe/Paris,\n";
    let (status, summary) = upload(
        &app,
        &key,
        "/v1/merchants/shop/import/customers",
        "text/csv",
        csv,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(
        (summary["inserted"].as_u64(), summary["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(summary["errors"][0]["line"], 3);
    assert_eq!(summary["errors"][0]["field"], "email");
    let (_, again) = upload(
        &app,
        &key,
        "/v1/merchants/shop/import/customers",
        "text/csv",
        csv,
    )
    .await;
    assert_eq!(again["unchanged"], 1, "{again}");

    let (status, body) = upload(
        &app,
        &key,
        "/v1/merchants/shop/import/wishes",
        "text/csv",
        csv,
    )
    .await;
    expect_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = upload(
        &app,
        &key,
        "/v1/merchants/shop/import/customers?format=xml",
        "text/csv",
        csv,
    )
    .await;
    expect_error(status, &body, StatusCode::BAD_REQUEST, "invalid_format");

    // Live events: a JSON batch, idempotent by id, late ones welcome.
    let events = json!({"events": [
        {"id": "e1", "customer_id": "c1", "kind": "opened", "channel": "email", "at": "2026-01-02T10:00:00Z"},
        {"id": "e0", "customer_id": "c1", "kind": "sent", "channel": "email", "at": "2026-01-01T10:00:00Z"},
    ]});
    let (status, s) = call(
        &app,
        "POST",
        "/v1/merchants/shop/events",
        &key,
        events.clone(),
    )
    .await;
    assert_eq!(
        (status, s["inserted"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{s}"
    );
    let (_, s) = call(&app, "POST", "/v1/merchants/shop/events", &key, events).await;
    assert_eq!(s["unchanged"], 2);

    let (status, profile) = call(
        &app,
        "GET",
        "/v1/merchants/shop/customers/c1",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        profile["events"][0]["id"], "e1",
        "newest first, whatever the order they came in"
    );
    let (status, body) = call(
        &app,
        "GET",
        "/v1/merchants/shop/customers?min_spent=10",
        &key,
        Value::Null,
    )
    .await;
    expect_error(status, &body, StatusCode::BAD_REQUEST, "invalid_query");

    // Another merchant sees none of it.
    let (status, _) = call(
        &app,
        "GET",
        "/v1/merchants/shop/customers/c1",
        &rival,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, theirs) = call(
        &app,
        "GET",
        "/v1/merchants/rival/customers",
        &rival,
        Value::Null,
    )
    .await;
    assert_eq!(theirs["customers"], json!([]));

    // Access, then erasure; both recorded.
    let auth = format!("Bearer {key}");
    let (status, h, body) = request(
        &app,
        "GET",
        "/v1/merchants/shop/customers/c1/export",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .contains("customer-c1.json")
    );
    let export: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(export["customer"]["email"], "ana@shop.example");
    let (status, _) = call(
        &app,
        "DELETE",
        "/v1/merchants/shop/customers/c1",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &app,
        "GET",
        "/v1/merchants/shop/customers/c1",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, log) = call(
        &app,
        "GET",
        "/v1/merchants/shop/privacy-log",
        &key,
        Value::Null,
    )
    .await;
    let mut actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    actions.sort_unstable(); // both may fall in the same millisecond
    assert_eq!(actions, ["erase", "export"]);
    let erase = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "erase")
        .unwrap();
    assert_eq!(erase["detail"]["customer_events"], 2);
}

/// `cove import` streams a file to a running host and prints the summary.
#[test]
fn cove_import_reads_a_file_into_a_running_host() {
    let data = tempfile::tempdir().unwrap();
    let host = HostProcess::start(data.path(), &[]);
    let key = &create_merchant_on(&host.url, "shop");
    let file = data.path().join("orders.csv");
    let mut csv = String::from(
        "id,customer_id,placed_at,currency,total,item_sku,item_quantity,item_unit_price\n",
    );
    for i in 0..2_000 {
        // Two rows per order: two line items.
        csv += &format!("o{i},c{},2026-01-01T00:00:00Z,JPY,3000,A,1,1000\n", i % 300);
        csv += &format!("o{i},c{},2026-01-01T00:00:00Z,JPY,3000,B,2,1000\n", i % 300);
    }
    csv += "bad,c1,yesterday,JPY,1,A,1,1\n";
    std::fs::write(&file, csv).unwrap();
    let run = || {
        Command::new(cove_binary())
            .args(["import", "orders"])
            .arg(&file)
            .env("COVE_URL", &host.url)
            .env("COVE_API_KEY", key)
            .output()
            .unwrap()
    };
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let summary: Value = serde_json::from_slice(
        out.stdout
            .split(|b| *b == b'\n')
            .rfind(|l| !l.is_empty())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (summary["inserted"].as_u64(), summary["rejected"].as_u64()),
        (Some(2_000), Some(1)),
        "{summary}"
    );
    assert!(stderr.contains("line 4002: placed_at"), "{stderr}");
    let again = run();
    let summary: Value = serde_json::from_slice(
        again
            .stdout
            .split(|b| *b == b'\n')
            .rfind(|l| !l.is_empty())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        summary["unchanged"], 2_000,
        "a second import is a no-op: {summary}"
    );
    let wrong = Command::new(cove_binary())
        .args(["import", "orders"])
        .arg(&file)
        .env("COVE_URL", &host.url)
        .env("COVE_API_KEY", "ck_wrong")
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("did not accept this API key"));
}

/// The fatigue policy given only a customer id and the message: the host
/// fills in consent, history and engagement from the customer data.
#[tokio::test]
async fn the_fatigue_policy_reads_the_customer_data() {
    let (state, _dir) = host(None, test_limits()).await;
    let app = cove_host::app(state);
    let (status, _) = publish(
        &app,
        "name=fatigue-policy&version=1.0.0&publisher=cove",
        guests::FATIGUE.as_ref(),
    )
    .await;
    assert!(status.is_success());
    let key = create_merchant(&app, "shop").await;
    let csv = "id,country,time_zone,created_at\nc1,DE,Europe/Berlin,2025-01-01\n";
    let (status, _) = upload(
        &app,
        &key,
        "/v1/merchants/shop/import/customers",
        "text/csv",
        csv,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let consents = "customer_id,channel,status,at\nc1,email,granted,2025-01-01\nc1,email,withdrawn,2025-02-01\n";
    let (_, s) = upload(
        &app,
        &key,
        "/v1/merchants/shop/import/consents",
        "text/csv",
        consents,
    )
    .await;
    assert_eq!(s["inserted"], 2, "{s}");

    let invoke = "/v1/merchants/shop/slots/fatigue-policy/invoke";
    let message = |channel: &str| json!({"customer_id": "c1", "message": {"channel": channel, "kind": "promotional", "campaign-id": "spring", "has-trigger-signal": true}});
    let (status, answer) = call(&app, "POST", invoke, &key, message("email")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["result"],
        json!({"drop": "suppressed"}),
        "consent withdrawn: {answer}"
    );
    assert!(
        answer["fallback"].is_null(),
        "the plugin answered: {answer}"
    );
    let (status, answer) = call(&app, "POST", invoke, &key, message("sms")).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(
        answer["result"],
        json!({"drop": "suppressed"}),
        "sms was never withdrawn: {answer}"
    );

    let (status, body) = call(
        &app,
        "POST",
        invoke,
        &key,
        json!({"customer_id": "nobody", "message": {"channel": "sms"}}),
    )
    .await;
    expect_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = call(&app, "POST", invoke, &key, json!({"customer_id": "c1"})).await;
    expect_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
}

/// One huge record cannot take the host's memory: a CSV quote left open,
/// an NDJSON line of megabytes, a field of megabytes, an order of
/// endless rows. Each is refused in a few hundred bytes and the records
/// around it are read.
#[tokio::test]
async fn a_huge_record_is_refused_and_the_rest_is_read() {
    let (app, key, _rival, _dir) = shops().await;
    let mb = 1 << 20;
    let line = "{\"id\":\"big\",\"email\":\"big@shop.example\",\"note\":\"".to_string()
        + &"y".repeat(2 * mb)
        + "\"}";
    let field = format!(
        "{{\"id\":\"wide\",\"email\":\"wide@shop.example\",\"first_name\":\"{}\"}}",
        "z".repeat(100 << 10)
    );
    let ndjson = format!(
        "{{\"id\":\"a\",\"email\":\"a@shop.example\"}}\n{line}\n{field}\n{{\"id\":\"b\",\"email\":\"b@shop.example\"}}\n"
    );
    let (status, summary) = upload(
        &app,
        &key,
        "/v1/merchants/shop/import/customers?format=ndjson",
        "application/x-ndjson",
        &ndjson,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["inserted"], 2, "{summary}");
    assert_eq!(summary["rejected"], 2, "{summary}");
    let errors = summary["errors"].as_array().unwrap();
    assert_eq!(
        (errors[0]["line"].as_u64(), errors[1]["line"].as_u64()),
        (Some(2), Some(3))
    );
    assert!(
        errors[0]["reason"]
            .as_str()
            .unwrap()
            .contains("longer than 1 MiB"),
        "{summary}"
    );
    assert_eq!(errors[1]["field"], "first_name", "{summary}");
    assert!(summary.to_string().len() < 2_000, "the refusals are cut");

    // One record kept, one refused for `why`.
    let one_of_two = |entity: &'static str, body: String, why: &'static str| {
        let (app, key) = (app.clone(), key.clone());
        async move {
            let uri = format!("/v1/merchants/shop/import/{entity}");
            let (status, summary) = upload(&app, &key, &uri, "text/csv", &body).await;
            assert_eq!(status, StatusCode::OK, "{summary}");
            let counts = (summary["inserted"].as_u64(), summary["rejected"].as_u64());
            assert_eq!(counts, (Some(1), Some(1)), "{summary}");
            let reason = summary["errors"][0]["reason"].as_str().unwrap();
            assert!(reason.contains(why), "{summary}");
        }
    };
    let csv = "id,email\nc1,c1@shop.example\nc2,\"open".to_string()
        + &"x".repeat(3 * mb)
        + "\nc3,c3@shop.example\n";
    one_of_two("customers", csv, "quote left open").await;

    // An order whose rows never end (one name, row after row).
    let mut orders =
        "id,customer_id,placed_at,currency,total,sku,quantity,unit_price\n".to_string();
    for _ in 0..(2 * mb / 40) {
        orders.push_str("o1,c1,2026-01-01,EUR,1.00,SKU-AAAAAAAAAA,1,1.00\n");
    }
    orders.push_str("o2,c1,2026-01-01,EUR,1.00,SKU-B,1,1.00\n");
    one_of_two("orders", orders, "rows add up").await;
}
