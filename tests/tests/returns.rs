//! Self-service returns over HTTP with the reference `return-flow` plugin
//! (the real component): proving the order, one form at a time, answers
//! refused with their field, idempotent submit, the human queue and a
//! person's decision, the report, and erasure.

use axum::http::StatusCode;
use cove_e2e::{
    OPERATOR_TOKEN, call, create_merchant, guests, host, publish, request, request_bytes,
    test_limits,
};
use cove_host::returns::store::ReturnsDb;
use serde_json::{Value, json};

const DAY: i64 = 86_400_000;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A storefront request (no key), as the widget sends it.
async fn public(
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let mut headers = vec![("content-type", "application/json")];
    if !token.is_empty() {
        headers.push(("x-return-token", token));
    }
    let body = (!body.is_null()).then(|| body.to_string());
    let (status, _, bytes) = request(app, method, uri, &headers, body).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

struct Flow<'a> {
    app: &'a axum::Router,
    id: String,
    token: String,
}

impl Flow<'_> {
    async fn start<'a>(app: &'a axum::Router, order: &str, email: &str) -> (Flow<'a>, Value) {
        let (s, v) = public(
            app,
            "POST",
            "/public/v1/shop/returns",
            "",
            json!({"order": order, "email": email, "locale": "en"}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let flow = Flow {
            app,
            id: v["id"].as_str().unwrap().into(),
            token: v["token"].as_str().unwrap().into(),
        };
        (flow, v)
    }

    async fn answer(&self, answers: Value) -> (StatusCode, Value) {
        public(
            self.app,
            "POST",
            &format!("/public/v1/shop/returns/{}/step", self.id),
            "",
            json!({"token": self.token, "answers": answers}),
        )
        .await
    }

    /// Answer, expecting the next form `step` (or the outcome for "").
    async fn next(&self, answers: Value, step: &str) -> Value {
        let (s, v) = self.answer(answers).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if step.is_empty() {
            assert_eq!(v["status"], "ready", "{v}");
        } else {
            assert_eq!(v["step"]["form"]["step"], step, "{v}");
        }
        v
    }

    async fn submit(&self) -> Value {
        let (s, v) = public(
            self.app,
            "POST",
            &format!("/public/v1/shop/returns/{}/submit", self.id),
            "",
            json!({"token": self.token}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }
}

async fn shop() -> (axum::Router, String, tempfile::TempDir) {
    let (app, key, _state, dir) = shop_and_state().await;
    (app, key, dir)
}

async fn shop_and_state() -> (axum::Router, String, cove_host::AppState, tempfile::TempDir) {
    let (state, dir) = host(None, test_limits()).await;
    let app = cove_host::app(state.clone());
    let key = create_merchant(&app, "shop").await;
    let (s, v) = publish(
        &app,
        "name=return-flow&version=1.0.0&publisher=cove",
        std::path::Path::new(guests::RETURN_FLOW),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/return-flow",
        OPERATOR_TOKEN,
        json!({"plugin": "return-flow@1.0.0", "config": {"high-value-spent": "0"}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let t = now();
    let customers = [
        json!({"id": "c1", "email": "ana@shop.example", "country": "DE", "tier": "gold"}),
        json!({"id": "c2", "email": "bo@shop.example", "country": "US"}),
    ];
    let item = |sku: &str, category: &str, quantity: i64, price: &str| json!({"sku": sku, "category": category, "quantity": quantity, "unit_price": price});
    let orders = [
        // A split delivery: the last parcel came 3 days ago.
        json!({"id": "1001", "customer_id": "c1", "placed_at": t - 25 * DAY, "currency": "EUR", "total": "99.98",
               "items": [item("SHIRT", "apparel", 2, "49.99")], "deliveries": [t - 20 * DAY, t - 3 * DAY]}),
        json!({"id": "1002", "customer_id": "c1", "placed_at": t - 5 * DAY, "currency": "EUR", "total": "19.99",
               "platform": "amazon", "items": [item("MUG", "home", 1, "19.99")], "deliveries": [t - 2 * DAY]}),
        json!({"id": "1003", "customer_id": "c2", "placed_at": t - 9 * DAY, "currency": "USD", "total": "30.00",
               "items": [item("CAP", "apparel", 1, "30.00")], "deliveries": [t - 7 * DAY]}),
    ];
    for (entity, rows) in [("customers", &customers[..]), ("orders", &orders[..])] {
        let body: String = rows.iter().map(|r| format!("{r}\n")).collect();
        let auth = format!("Bearer {key}");
        let (s, _, bytes) = request(
            &app,
            "POST",
            &format!("/v1/merchants/shop/import/{entity}?format=ndjson"),
            &[("authorization", &auth)],
            Some(body),
        )
        .await;
        let summary: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(s, StatusCode::OK, "{summary}");
        assert_eq!(summary["rejected"], 0, "{summary}");
    }
    (app, key, state, dir)
}

#[tokio::test]
async fn a_customer_returns_an_item_step_by_step() {
    let (app, key, _dir) = shop().await;

    // The order is proved with its number and e-mail; either wrong is the
    // same answer.
    for (order, email) in [("1001", "eve@shop.example"), ("9999", "ana@shop.example")] {
        let (s, v) = public(
            &app,
            "POST",
            "/public/v1/shop/returns",
            "",
            json!({"order": order, "email": email}),
        )
        .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("order_not_found"))
        );
    }
    let (flow, first) = Flow::start(&app, "#1001", " Ana@Shop.example ").await;
    assert_eq!(first["step"]["form"]["step"], "country", "{first}");

    // Answers are checked against the form the plugin declared.
    for (answers, code, field) in [
        (
            json!({"country": "DE", "tier": "platinum"}),
            "unknown_field",
            "tier",
        ),
        (json!({"country": "ZZ"}), "invalid_answer", "country"),
        (json!({}), "missing_answer", "country"),
    ] {
        let (s, v) = flow.answer(answers).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(
            (v["code"].as_str(), v["field"].as_str()),
            (Some(code), Some(field)),
            "{v}"
        );
    }
    flow.next(json!({"country": "DE"}), "item").await;
    flow.next(json!({"sku": "SHIRT"}), "quantity").await;
    let (s, v) = flow.answer(json!({"quantity": 3})).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("quantity")),
        "{v}"
    );
    flow.next(json!({"quantity": 1}), "parcel").await;
    flow.next(json!({"weight-grams": 800}), "reason").await;
    let ready = flow.next(json!({"reason": "too-small"}), "").await;
    let approved = &ready["step"]["outcome"]["approved"];
    // Within the EU's 14 days of the last parcel: no restocking fee; gold
    // does not waive the 4.95 shipping.
    assert_eq!(
        approved["refund"],
        json!({"amount-minor": 4999 - 495, "currency": "EUR"}),
        "{ready}"
    );
    assert_eq!(approved["method"], "drop-off");

    // Resumable with the token, and only with it.
    let uri = format!("/public/v1/shop/returns/{}", flow.id);
    let (s, v) = public(&app, "GET", &uri, &flow.token, Value::Null).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("ready")));
    let (s, _) = public(&app, "GET", &uri, "not-the-token", Value::Null).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let done = flow.submit().await;
    assert_eq!(done["status"], "approved");
    assert_eq!(flow.submit().await, done, "submit is idempotent");
    let (s, v) = flow.answer(json!({"reason": "other"})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("no_form"))
    );

    // One shirt is back: a second return of the order has one left, so
    // the quantity is not asked.
    let (again, _) = Flow::start(&app, "1001", "ana@shop.example").await;
    again.next(json!({"country": "DE"}), "item").await;
    again.next(json!({"sku": "SHIRT"}), "parcel").await;

    // A damaged item with a photo: uploaded to the session, answered by
    // its id, refunded in full; without one, or with one never uploaded,
    // a person checks / the answer is refused.
    let png =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let auth = format!("Bearer {key}");
    let to_reason = || async {
        let (f, _) = Flow::start(&app, "1001", "ana@shop.example").await;
        f.next(json!({"country": "DE"}), "item").await;
        f.next(json!({"sku": "SHIRT"}), "parcel").await;
        f.next(json!({"weight-grams": 800}), "reason").await;
        f
    };
    let photo_up = |id: String, token: String, body: Vec<u8>| {
        let app = app.clone();
        async move {
            let uri = format!("/public/v1/shop/returns/{id}/photos");
            let (s, _, b) = request_bytes(
                &app,
                "POST",
                &uri,
                &[("x-return-token", &token)],
                Some(body),
            )
            .await;
            (
                s,
                serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null),
            )
        }
    };
    let without = to_reason().await;
    let (s, v) = photo_up(
        without.id.clone(),
        without.token.clone(),
        b"<svg onload=alert(1)>".to_vec(),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("not_an_image")),
        "{v}"
    );
    let (s, _) = photo_up(without.id.clone(), "not-the-token".into(), png.clone()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = without
        .answer(json!({"reason": "damaged", "photo": "p-0000000000000000"}))
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("photo")),
        "{v}"
    );
    let ready = without.next(json!({"reason": "damaged"}), "").await;
    assert_eq!(
        ready["step"]["outcome"]["human-review"]["queue"], "standard",
        "no photo, a person checks: {ready}"
    );
    let with = to_reason().await;
    let (s, uploaded) = photo_up(with.id.clone(), with.token.clone(), png.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{uploaded}");
    let photo = uploaded["id"].as_str().unwrap().to_string();
    let ready = with
        .next(json!({"reason": "damaged", "photo": photo}), "")
        .await;
    assert_eq!(
        ready["step"]["outcome"]["approved"]["refund"]["amount-minor"], 4999,
        "a fault with a photo, in full: {ready}"
    );
    let photo_uri = format!("/v1/merchants/shop/returns/{}/photos/{photo}", with.id);
    let (s, h, bytes) = request(&app, "GET", &photo_uri, &[("authorization", &auth)], None).await;
    assert_eq!(
        (s, h["content-type"].to_str().unwrap()),
        (StatusCode::OK, "image/png")
    );
    assert_eq!(bytes, png);

    // Uploads at once cannot pass a session's photo limit.
    let racing = to_reason().await;
    let mut all = tokio::task::JoinSet::new();
    for _ in 0..12 {
        all.spawn(photo_up(
            racing.id.clone(),
            racing.token.clone(),
            png.clone(),
        ));
    }
    let mut stored = 0;
    while let Some(r) = all.join_next().await {
        let (s, v) = r.unwrap();
        match s {
            StatusCode::CREATED => stored += 1,
            _ => assert_eq!(v["code"], "too_many_photos", "{v}"),
        }
    }
    assert_eq!(stored, cove_host::returns::photos::MAX_PHOTOS);

    // A marketplace order is handed off before any question.
    let (market, first) = Flow::start(&app, "1002", "ana@shop.example").await;
    // Nothing to confirm: it is settled as it is shown.
    assert_eq!(first["status"], "marketplace", "{first}");
    assert_eq!(
        first["step"]["outcome"]["marketplace"]["marketplace"], "amazon",
        "{first}"
    );
    assert_eq!(market.submit().await["status"], "marketplace");

    // An upset customer goes to a person, first in the queue.
    let (upset, _) = Flow::start(&app, "1003", "bo@shop.example").await;
    upset.next(json!({"country": "US"}), "item").await;
    upset.next(json!({"sku": "CAP"}), "parcel").await;
    upset.next(json!({"weight-grams": 300}), "reason").await;
    let ready = upset
        .next(
            json!({"reason": "not-as-described", "comment": "Worst shop ever!!!"}),
            "",
        )
        .await;
    assert_eq!(
        ready["step"]["outcome"]["human-review"]["queue"], "priority",
        "{ready}"
    );
    assert_eq!(upset.submit().await["status"], "review");
    let (s, queue) = call(&app, "GET", "/v1/merchants/shop/returns", &key, Value::Null).await;
    assert_eq!(s, StatusCode::OK, "{queue}");
    let waiting: Vec<&str> = queue["returns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(waiting, [upset.id.as_str()]);
    let decision = format!("/v1/merchants/shop/returns/{}/decision", upset.id);
    let (s, v) = call(&app, "POST", &decision, &key, json!({"decision": "maybe"})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_decision"))
    );
    let (s, v) = call(
        &app,
        "POST",
        &decision,
        &key,
        json!({"decision": "approve", "note": "refund in full"}),
    )
    .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("accepted")),
        "{v}"
    );
    assert_eq!(v["decided_by"], format!("key:first key ({}…)", &key[..9]));
    let (s, v) = call(
        &app,
        "POST",
        &decision,
        &key,
        json!({"decision": "decline"}),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_in_queue"))
    );

    // The report counts what was settled.
    let (s, report) = call(
        &app,
        "GET",
        "/v1/merchants/shop/returns/report",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["by_status"]["approved"], 1, "{report}");
    assert_eq!(report["by_reason"]["too-small"], 1, "{report}");
    let apparel = report["by_category"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "apparel")
        .unwrap();
    // The shirt (1 of 2) and the cap a person accepted (1 of 1).
    assert_eq!(
        (
            apparel["returned_units"].as_i64(),
            apparel["sold_units"].as_i64()
        ),
        (Some(2), Some(3)),
        "{report}"
    );
    let eur: i64 = report["money"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["currency"] == "EUR")
        .map(|w| w["refunds_minor"].as_i64().unwrap())
        .sum();
    assert_eq!(eur, 4999 - 495);

    // Erasure keeps the figures and drops the customer's words.
    let (s, _) = call(
        &app,
        "DELETE",
        "/v1/merchants/shop/customers/c2",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, erased) = call(
        &app,
        "GET",
        &format!("/v1/merchants/shop/returns/{}", upset.id),
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(
        (erased["customer_id"].as_str(), erased["answers"].clone()),
        (Some("erased"), json!([])),
        "{erased}"
    );
    assert_eq!(erased["reason"], "not-as-described");
    let (s, _) = public(
        &app,
        "GET",
        &format!("/public/v1/shop/returns/{}", upset.id),
        &upset.token,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "the old token opens nothing");
    // Ana's photo goes with her.
    let (s, _) = call(
        &app,
        "DELETE",
        "/v1/merchants/shop/customers/c1",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, _) = request(&app, "GET", &photo_uri, &[("authorization", &auth)], None).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "an erased customer's photo is gone"
    );
}

#[tokio::test]
async fn without_a_flow_bound_a_person_settles_the_return() {
    let (state, _dir) = host(None, test_limits()).await;
    let app = cove_host::app(state);
    let key = create_merchant(&app, "shop").await;
    let auth = format!("Bearer {key}");
    for (entity, body) in [
        ("customers", r#"{"id": "c1", "email": "ana@shop.example"}"#),
        (
            "orders",
            r#"{"id": "1", "customer_id": "c1", "placed_at": 1, "currency": "EUR", "total": "1.00", "items": [{"sku": "A", "quantity": 1, "unit_price": "1.00"}]}"#,
        ),
    ] {
        let (s, _, _) = request(
            &app,
            "POST",
            &format!("/v1/merchants/shop/import/{entity}?format=ndjson"),
            &[("authorization", &auth)],
            Some(body.into()),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    }
    let (flow, first) = Flow::start(&app, "1", "ana@shop.example").await;
    assert_eq!(
        first["step"]["outcome"]["human-review"]["queue"], "standard",
        "{first}"
    );
    assert_eq!(flow.submit().await["status"], "review");
}

#[tokio::test]
async fn unfinished_sessions_that_lapsed_are_deleted_with_their_photos() {
    let (app, _key, state, _dir) = shop_and_state().await;
    let (open, _) = Flow::start(&app, "1001", "ana@shop.example").await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let uri = format!("/public/v1/shop/returns/{}/photos", open.id);
    let (s, _, _) = request_bytes(
        &app,
        "POST",
        &uri,
        &[("x-return-token", &open.token)],
        Some(png),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (settled, _) = Flow::start(&app, "1002", "ana@shop.example").await;
    assert_eq!(settled.submit().await["status"], "marketplace");
    // Past both deadlines: the unfinished one goes with its photo, the
    // settled one stays.
    let deadline = |id: String| {
        let state = state.clone();
        async move {
            ReturnsDb(&state.store)
                .return_row("shop", &id)
                .await
                .unwrap()
                .map(|r| r.expires_at)
        }
    };
    let after = deadline(settled.id.clone())
        .await
        .unwrap()
        .max(deadline(open.id.clone()).await.unwrap())
        + 1;
    let gone = ReturnsDb(&state.store)
        .purge_lapsed_returns("shop", after)
        .await
        .unwrap();
    assert_eq!(gone, 1);
    assert_eq!(deadline(open.id.clone()).await, None);
    assert!(
        ReturnsDb(&state.store)
            .return_photo_ids("shop", &open.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(deadline(settled.id.clone()).await.is_some());
}

/// A visitor with one real order and e-mail cannot fill the disk, and
/// guessing is limited per order number and per e-mail.
#[tokio::test]
async fn one_order_cannot_fill_the_disk_nor_be_guessed() {
    let (app, key, _dir) = shop().await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let up = |flow: &Flow<'_>| {
        let (app, id, token, png) = (
            app.clone(),
            flow.id.clone(),
            flow.token.clone(),
            png.clone(),
        );
        async move {
            let uri = format!("/public/v1/shop/returns/{id}/photos");
            let (s, _, b) =
                request_bytes(&app, "POST", &uri, &[("x-return-token", &token)], Some(png)).await;
            (
                s,
                serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null),
            )
        }
    };
    // Five returns a day per order; the sixth is told when to come back.
    let mut flows = Vec::new();
    for _ in 0..cove_host::returns::MAX_STARTS_PER_DAY {
        flows.push(Flow::start(&app, "1003", "bo@shop.example").await.0);
    }
    // A start refused with 429 and `code`.
    let too_many = |order: &'static str, email: &'static str, code: &'static str| {
        let app = app.clone();
        async move {
            let body = json!({"order": order, "email": email});
            let (s, v) = public(&app, "POST", "/public/v1/shop/returns", "", body).await;
            assert_eq!(
                (s, v["code"].as_str()),
                (StatusCode::TOO_MANY_REQUESTS, Some(code)),
                "{v}"
            );
        }
    };
    too_many("1003", "bo@shop.example", "too_many_returns").await;
    // Six photos a week per order, over all its returns.
    let mut stored = 0;
    for flow in &flows {
        for _ in 0..3 {
            let (s, v) = up(flow).await;
            match s {
                StatusCode::CREATED => stored += 1,
                _ => assert_eq!(v["code"], "too_many_photos", "{v}"),
            }
        }
    }
    assert_eq!(stored, cove_host::returns::photos::MAX_PHOTOS_PER_ORDER);
    // The merchant sees what photos take of its quota; at the quota, a
    // photo is refused in words a customer understands.
    let (s, report) = call(
        &app,
        "GET",
        "/v1/merchants/shop/returns/report",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let used = report["photos"]["used_bytes"].as_i64().unwrap();
    assert!(used >= 6 * png.len() as i64, "{report}");
    assert_eq!(report["photos"]["quota_bytes"], 1024 << 20);
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/limits",
        OPERATOR_TOKEN,
        json!({"requests_per_sec": 0, "burst": 1, "plugin_calls": 2, "upload_mb": 0}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (other, _) = Flow::start(&app, "1001", "ana@shop.example").await;
    let (s, v) = up(&other).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::INSUFFICIENT_STORAGE, Some("upload_quota_full")),
        "{v}"
    );

    // Ten wrong e-mails for one order, from anywhere: then even the right
    // one waits (no telling which guess was right).
    for i in 0..10 {
        let (s, _) = public(
            &app,
            "POST",
            "/public/v1/shop/returns",
            "",
            json!({"order": "1001", "email": format!("guess{i}@example.com")}),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    too_many("1001", "ana@shop.example", "rate_limited").await;
}

/// Since contract 0.3.0 the flow counts days in the customer's own time
/// zone, which the host sends with its offsets: a parcel delivered at
/// 23:30 UTC came the next day in Berlin but the same day in New York,
/// and the refusal names each customer's own date.
#[tokio::test]
async fn the_period_counts_in_the_customers_own_time_zone() {
    let (app, key, _dir) = shop().await;
    // 40 days ago at 23:30 UTC: outside every window.
    let t = now();
    let delivered = (t / DAY - 40) * DAY + 23 * 3_600_000 + 30 * 60_000;
    let customers = [
        json!({"id": "c3", "email": "cy@shop.example", "country": "DE", "time_zone": "America/New_York"}),
        json!({"id": "c4", "email": "di@shop.example", "country": "DE"}),
    ];
    let orders: Vec<Value> = ["c3", "c4"]
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"id": format!("20{i}"), "customer_id": c, "placed_at": delivered - 2 * DAY, "currency": "EUR",
            "total": "49.99", "items": [{"sku": "SHIRT", "category": "apparel", "quantity": 1, "unit_price": "49.99"}], "deliveries": [delivered]}))
        .collect();
    cove_e2e::import_lines(&app, &key, "customers", &customers).await;
    cove_e2e::import_lines(&app, &key, "orders", &orders).await;
    // The dates as the refusal writes them: the UTC date in New York, the
    // next one in Berlin.
    let date = |day: i64| {
        const WEEKDAYS: [&str; 7] = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let (_, m, d) = cove_sdk::civil::from_days(day);
        format!(
            "{} {d} {}",
            WEEKDAYS[(day + 3).rem_euclid(7) as usize],
            MONTHS[m as usize - 1]
        )
    };
    let utc_day = delivered / DAY;
    for (order, email, day) in [
        ("200", "cy@shop.example", utc_day),
        ("201", "di@shop.example", utc_day + 1),
    ] {
        let (flow, _) = Flow::start(&app, order, email).await;
        flow.next(json!({"country": "DE"}), "item").await;
        flow.next(json!({"sku": "SHIRT"}), "parcel").await;
        flow.next(json!({"weight-grams": 800}), "reason").await;
        let (s, v) = flow.answer(json!({"reason": "too-small"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let why = v["step"]["outcome"]["rejected"]
            .as_str()
            .unwrap_or_else(|| panic!("{v}"));
        assert!(
            why.contains(&format!("delivered on {}", date(day))),
            "{email}: {why}"
        );
    }
}
