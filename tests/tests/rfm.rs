//! RFM runs over HTTP with the reference `rfm-scorer` plugin (the real
//! component): a shop's customers and orders imported, a run fitted and
//! scored, the model, segment sizes and the movement between two runs,
//! members page by page and as CSV, and the refusals.

use axum::http::StatusCode;
use cove_e2e::{
    OPERATOR_TOKEN, call, create_merchant, guests, host, import_lines, publish, request,
    test_limits,
};
use serde_json::{Value, json};

const DAY: i64 = 86_400_000;
/// 2026-09-30, end of day UTC.
const AS_OF: i64 = 1_790_812_799_999;

/// Orders of `n` customers (`c000`…) whose first purchases spread over
/// the two years before `now`, drawn from CDNOW-like models with `seed`.
fn drawn_orders(n: usize, now: i64, seed: u64) -> Vec<Value> {
    let truth = cove_host::rfm::simulate::Truth {
        bgnbd: (0.6, 20.0, 0.8, 2.5),
        gamma_gamma: (6.0, 4.0, 15.0),
    };
    drawn_from(truth, n, now, seed)
}

/// Orders of `n` customers (`c000`…) drawn from `truth`.
fn drawn_from(truth: cove_host::rfm::simulate::Truth, n: usize, now: i64, seed: u64) -> Vec<Value> {
    cove_host::rfm::simulate::customers(n, truth, 730.0, now, seed, "c")
        .iter()
        .flat_map(|c| {
            c.purchases.iter().enumerate().map(move |(k, (at, value))| {
                json!({"id": format!("o-{}-{k}", c.id), "customer_id": c.id, "placed_at": at,
                    "currency": "EUR", "total": format!("{value:.2}")})
            })
        })
        .collect()
}

async fn finished(app: &axum::Router, key: &str, id: &str) -> Value {
    for _ in 0..600 {
        let (_, v) = call(
            app,
            "GET",
            &format!("/v1/merchants/shop/rfm/runs/{id}"),
            key,
            Value::Null,
        )
        .await;
        if v["status"] != "running" {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("run {id} did not finish");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shop_runs_rfm_and_reads_segments_movement_and_predictions() {
    let (state, _dir) = host(None, test_limits()).await;
    let app = cove_host::app(state.clone());
    let key = create_merchant(&app, "shop").await;
    let (s, v) = publish(
        &app,
        "name=rfm-scorer&version=1.0.0&publisher=cove",
        std::path::Path::new(guests::RFM_SCORER),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // A rule that does not parse is refused at bind time, with where and why.
    let (s, v) = call(&app, "PUT", "/v1/merchants/shop/slots/rfm-scorer", OPERATOR_TOKEN,
        json!({"plugin": "rfm-scorer@1.0.0", "config": {"segment.lapsed": "days_since_order > > 60"}})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("segment.lapsed: column 20: expected a value, found `>`"),
        "{v}"
    );
    // No scorer bound yet: a run cannot start.
    let (s, v) = call(&app, "POST", "/v1/merchants/shop/rfm/runs", &key, json!({})).await;
    assert_eq!(
        (s, v["code"].clone()),
        (StatusCode::CONFLICT, json!("no_rfm_scorer"))
    );
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/rfm-scorer",
        OPERATOR_TOKEN,
        json!({"plugin": "rfm-scorer@1.0.0", "config": {
            "segment.top-value-lapsed": "top(clv, 10) and days_since_order > 60",
            "segment.big-spender-no-campaign": "spent > 1000 and campaigns == 0",
        }}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // 400 customers over two years: buyers every few weeks to once.
    let customers: Vec<Value> = (0..400)
        .map(|i| json!({"id": format!("c{i:03}"), "country": "DE"}))
        .collect();
    // One import of a kind at a time per shop: another waits for it.
    let importing = state.fair.job("shop", "customers").unwrap();
    let (s, _, b) = request(
        &app,
        "POST",
        "/v1/merchants/shop/import/customers?format=ndjson",
        &[("authorization", &format!("Bearer {key}"))],
        Some("{\"id\":\"c999\"}\n".into()),
    )
    .await;
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_running")),
        "{v}"
    );
    drop(importing);
    import_lines(&app, &key, "customers", &customers).await;
    // Their orders over two years, drawn from known BG/NBD and
    // Gamma-Gamma models (so the fit has a pattern to learn).
    let orders = drawn_orders(400, AS_OF, 1);
    let mut orders = orders;
    // An order after the run's date is ignored.
    orders.push(json!({"id": "late", "customer_id": "c000", "placed_at": AS_OF + DAY, "currency": "EUR", "total": "5000.00"}));
    import_lines(&app, &key, "orders", &orders).await;

    // Bad requests name the field.
    let (s, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/rfm/runs",
        &key,
        json!({"time_unit": "months"}),
    )
    .await;
    assert_eq!(
        (s, v["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("time_unit"))
    );
    let (s, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/rfm/runs",
        &key,
        json!({"as_of": "30/09/2026"}),
    )
    .await;
    assert_eq!(
        (s, v["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("as_of"))
    );

    // One run at a time per shop.
    let scoring = state.fair.job("shop", "rfm run").unwrap();
    let (s, v) = call(&app, "POST", "/v1/merchants/shop/rfm/runs", &key, json!({})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_running")),
        "{v}"
    );
    drop(scoring);
    let (s, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/rfm/runs",
        &key,
        json!({"as_of": "2026-09-30", "time_unit": "weeks"}),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let first = finished(&app, &key, v["id"].as_str().unwrap()).await;
    assert_eq!(first["status"], "done", "{first}");
    assert_eq!(first["progress"], json!({"done": 400, "total": 400}));
    let bg = &first["model"]["bgnbd"];
    for k in ["r", "alpha", "a", "b"] {
        assert!(bg[k].as_f64().unwrap() > 0.0, "{first}");
    }
    assert!(first["model"]["gamma-gamma"]["p"].as_f64().unwrap() > 0.0);
    let sizes = &first["segments"]["segments"];
    assert_eq!(
        sizes
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum::<i64>(),
        400,
        "{sizes}"
    );
    assert!(
        sizes.as_object().unwrap().len() >= 5,
        "a spread of named segments: {sizes}"
    );
    assert!(
        first["segments"]["micro_segments"]["top-value-lapsed"]
            .as_i64()
            .unwrap()
            > 0,
        "{first}"
    );
    assert_eq!(
        first["segments"]["grid"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c[2].as_i64().unwrap())
            .sum::<i64>(),
        400
    );
    assert!(first["movement"].is_null());

    // Members, a page at a time; everyone is in some micro-segment.
    let run = first["id"].as_str().unwrap();
    let mut seen = 0;
    let mut cursor = String::new();
    loop {
        let (_, page) = call(
            &app,
            "GET",
            &format!("/v1/merchants/shop/rfm/runs/{run}/customers?limit=150&cursor={cursor}"),
            &key,
            Value::Null,
        )
        .await;
        for c in page["customers"].as_array().unwrap() {
            assert!(!c["micro_segments"].as_array().unwrap().is_empty());
            assert!((0.0..=1.0).contains(&c["p_active"].as_f64().unwrap()));
            seen += 1;
        }
        match page["next"].as_str() {
            Some(n) => cursor = n.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, 400);
    // c000's late order is not counted: 1 + 0 % 9 = 1 order.
    let (_, c0) = call(
        &app,
        "GET",
        "/v1/merchants/shop/rfm/customers/c000",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(c0["run_id"], run);
    let auth = format!("Bearer {key}");
    let (s, _, csv) = request(
        &app,
        "GET",
        &format!("/v1/merchants/shop/rfm/runs/{run}/customers.csv?segment=champions"),
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    assert_eq!(
        csv.lines().count() as i64 - 1,
        sizes["champions"].as_i64().unwrap_or(0),
        "{csv}"
    );

    // A second run a month later: the movement from the first.
    let (_, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/rfm/runs",
        &key,
        json!({"as_of": "2026-10-31", "time_unit": "weeks"}),
    )
    .await;
    let second = finished(&app, &key, v["id"].as_str().unwrap()).await;
    assert_eq!(second["movement"]["from_run"], run);
    let moved: i64 = second["movement"]["moves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m[2].as_i64().unwrap())
        .sum();
    assert_eq!(moved, 400, "{second}");
    // The profile carries the latest scores; erasure takes them.
    let (_, profile) = call(
        &app,
        "GET",
        "/v1/merchants/shop/customers/c001",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(profile["value"]["run_id"], second["id"], "{profile}");
    assert!(profile["value"]["clv"].as_f64().is_some());
    let (s, _) = call(
        &app,
        "DELETE",
        "/v1/merchants/shop/customers/c001",
        &key,
        Value::Null,
    )
    .await;
    assert!(s.is_success());
    let (s, _) = call(
        &app,
        "GET",
        "/v1/merchants/shop/rfm/customers/c001",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Earlier runs stay readable.
    let (_, again) = call(
        &app,
        "GET",
        &format!("/v1/merchants/shop/rfm/runs/{run}"),
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(again["segments"], first["segments"]);
}

/// The latest scores of `id`, once they carry `rescored_at` after `after`.
async fn rescored(app: &axum::Router, key: &str, id: &str, after: i64) -> Value {
    for _ in 0..200 {
        let (_, v) = call(
            app,
            "GET",
            &format!("/v1/merchants/shop/rfm/customers/{id}"),
            key,
            Value::Null,
        )
        .await;
        if v["rescored_at"].as_i64().is_some_and(|t| t >= after) {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{id} was not rescored");
}

#[tokio::test(flavor = "multi_thread")]
async fn new_activity_rescores_at_once_and_the_daily_run_starts_once() {
    let (state, _dir) = host(None, test_limits()).await;
    // Two schedulers on one database, as two replicas would be.
    cove_host::rfm::live::spawn(&state, std::time::Duration::from_millis(50));
    cove_host::rfm::live::spawn(&state, std::time::Duration::from_millis(50));
    let app = cove_host::app(state);
    let key = create_merchant(&app, "shop").await;
    let (s, v) = publish(
        &app,
        "name=rfm-scorer&version=1.0.0&publisher=cove",
        std::path::Path::new(guests::RFM_SCORER),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // No scorer: no schedule either.
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/rfm/schedule",
        &key,
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/rfm-scorer",
        OPERATOR_TOKEN,
        json!({"plugin": "rfm-scorer@1.0.0", "config": {}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let now = cove_host::now_ms();
    let customers: Vec<Value> = (0..60)
        .map(|i| json!({"id": format!("c{i:03}"), "country": "FR"}))
        .collect();
    import_lines(&app, &key, "customers", &customers).await;
    let orders: Vec<Value> = (0..60i64)
        .flat_map(|i| {
            (0..1 + i % 4).map(move |k| json!({"id": format!("o{i}-{k}"), "customer_id": format!("c{i:03}"),
                "placed_at": now - (20 + i * 5 + k * 30) * DAY, "currency": "EUR", "total": "40.00"}))
        })
        .collect();
    import_lines(&app, &key, "orders", &orders).await;
    // Activity before any run is fine: nothing to rescore against yet.
    let (_, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/rfm/runs",
        &key,
        json!({"time_unit": "weeks"}),
    )
    .await;
    let run = finished(&app, &key, v["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "done", "{run}");
    let (_, before) = call(
        &app,
        "GET",
        "/v1/merchants/shop/rfm/customers/c050",
        &key,
        Value::Null,
    )
    .await;
    assert!(before["rescored_at"].is_null(), "{before}");
    assert!(
        !before["micro_segments"]
            .as_array()
            .unwrap()
            .contains(&json!("cart-no-order")),
        "{before}"
    );

    // A cart event now: "added to cart in the last 24 h and no order
    // since" (a default micro-segment) holds at once, without a new run.
    let t0 = cove_host::now_ms();
    import_lines(
        &app,
        &key,
        "events",
        &[json!({"id": "e1", "customer_id": "c050", "kind": "added-to-cart", "at": t0 - 60_000})],
    )
    .await;
    let carted = rescored(&app, &key, "c050", t0).await;
    assert_eq!(carted["run_id"], run["id"]);
    assert!(
        carted["micro_segments"]
            .as_array()
            .unwrap()
            .contains(&json!("cart-no-order")),
        "{carted}"
    );
    // Then the order: no longer a cart without an order, one more order,
    // and recency at its best.
    let t1 = cove_host::now_ms();
    import_lines(&app, &key, "orders", &[json!({"id": "o-new", "customer_id": "c050", "placed_at": t1, "currency": "EUR", "total": "60.00"})]).await;
    let ordered = rescored(&app, &key, "c050", t1).await;
    assert!(
        !ordered["micro_segments"]
            .as_array()
            .unwrap()
            .contains(&json!("cart-no-order")),
        "{ordered}"
    );
    assert_eq!(ordered["recency"], 5, "{ordered}");
    assert!(
        ordered["recency"].as_i64() > before["recency"].as_i64(),
        "{before} → {ordered}"
    );
    // Other customers keep the run's scores.
    let (_, other) = call(
        &app,
        "GET",
        "/v1/merchants/shop/rfm/customers/c051",
        &key,
        Value::Null,
    )
    .await;
    assert!(other["rescored_at"].is_null(), "{other}");

    // The daily schedule: bad fields are named.
    for (body, field) in [
        (json!({"hour": 24}), "hour"),
        (json!({"time_zone": "Mars/Olympus"}), "time_zone"),
        (json!({"time_unit": "months"}), "time_unit"),
        // Removing the schedule with a wrong field is refused whole.
        (json!({"enabled": false, "hour": 2_147_483_648u64}), "hour"),
    ] {
        let (s, v) = call(&app, "PUT", "/v1/merchants/shop/rfm/schedule", &key, body).await;
        assert_eq!(
            (s, v["field"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!(field)),
            "{v}"
        );
    }
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/rfm/schedule",
        &key,
        json!({"hour": 4, "time_zone": "Europe/Paris", "time_unit": "weeks", "start_now": true}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Started once by the two schedulers, then due tomorrow at 04:00 Paris.
    let mut runs = Vec::new();
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let (_, v) = call(
            &app,
            "GET",
            "/v1/merchants/shop/rfm/runs",
            &key,
            Value::Null,
        )
        .await;
        runs = v["runs"].as_array().unwrap().clone();
        if runs.len() > 1 {
            break;
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (_, v) = call(
        &app,
        "GET",
        "/v1/merchants/shop/rfm/runs",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(
        v["runs"].as_array().unwrap().len(),
        2,
        "one scheduled run: {v}"
    );
    assert_eq!(runs.len(), 2);
    let scheduled = finished(&app, &key, runs[0]["id"].as_str().unwrap()).await;
    assert_eq!(scheduled["time_unit"], "weeks");
    assert_eq!(scheduled["movement"]["from_run"], run["id"], "{scheduled}");
    let (_, v) = call(
        &app,
        "GET",
        "/v1/merchants/shop/rfm/schedule",
        &key,
        Value::Null,
    )
    .await;
    let next = v["schedule"]["next_at"].as_i64().unwrap();
    assert!(
        next > cove_host::now_ms() && next <= cove_host::now_ms() + DAY,
        "{v}"
    );
    let local = chrono::DateTime::from_timestamp_millis(next)
        .unwrap()
        .with_timezone(&chrono_tz::Europe::Paris);
    assert_eq!(chrono::Timelike::hour(&local), 4, "{local}");
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/rfm/schedule",
        &key,
        json!({"enabled": false}),
    )
    .await;
    assert_eq!((s, v["schedule"].clone()), (StatusCode::OK, Value::Null));
}

#[tokio::test(flavor = "multi_thread")]
async fn summaries_add_up_orders_days_currencies_and_events() {
    let (state, _dir) = host(None, test_limits()).await;
    let app = cove_host::app(state.clone());
    let key = create_merchant(&app, "shop").await;
    import_lines(
        &app,
        &key,
        "customers",
        &[
            json!({"id": "a", "birthday": "1990-10-03"}),
            json!({"id": "b"}),
            json!({"id": "c"}),
        ],
    )
    .await;
    let at = |days: i64, hours: i64| AS_OF - days * DAY - hours * 3_600_000;
    import_lines(&app, &key, "orders", &[
        // a: two orders on its first day, then two more days; one after as_of.
        json!({"id": "a1", "customer_id": "a", "placed_at": at(100, 20), "currency": "EUR", "total": "10.00"}),
        json!({"id": "a2", "customer_id": "a", "placed_at": at(100, 19), "currency": "EUR", "total": "20.00"}),
        json!({"id": "a3", "customer_id": "a", "placed_at": at(50, 12), "currency": "EUR", "total": "30.00"}),
        json!({"id": "a4", "customer_id": "a", "placed_at": at(30, 12), "currency": "EUR", "total": "40.00"}),
        json!({"id": "a5", "customer_id": "a", "placed_at": AS_OF + DAY, "currency": "EUR", "total": "999.00"}),
        // b: euros and yen, each in its own minor units.
        json!({"id": "b1", "customer_id": "b", "placed_at": at(10, 12), "currency": "EUR", "total": "12.50"}),
        json!({"id": "b2", "customer_id": "b", "placed_at": at(5, 12), "currency": "JPY", "total": "1000"}),
        // Cancelled and refunded orders are no purchases.
        json!({"id": "b3", "customer_id": "b", "placed_at": at(4, 12), "currency": "EUR", "total": "80.00", "status": "cancelled"}),
        json!({"id": "b4", "customer_id": "b", "placed_at": at(3, 12), "currency": "EUR", "total": "90.00", "status": "refunded"}),
    ]).await;
    import_lines(&app, &key, "events", &[
        json!({"id": "e1", "customer_id": "a", "kind": "opened", "channel": "email", "at": at(10, 0)}),
        json!({"id": "e2", "customer_id": "a", "kind": "clicked", "channel": "sms", "at": at(45, 0)}),
        json!({"id": "e3", "customer_id": "a", "kind": "added-to-cart", "at": at(2, 0)}),
        json!({"id": "e4", "customer_id": "c", "kind": "opened", "channel": "email", "at": at(90, 0), "campaign_id": "spring"}),
    ]).await;
    let all = cove_host::rfm::summary::summaries(&state.store, "shop", AS_OF, None)
        .await
        .unwrap();
    let by: std::collections::HashMap<String, Value> = all
        .iter()
        .map(|s| (s.id.clone(), s.to_wit(AS_OF, 7.0)))
        .collect();
    let a = &by["a"];
    assert_eq!(
        (a["orders"].clone(), a["repeat-purchases"].clone()),
        (json!(4), json!(2)),
        "{a}"
    );
    assert_eq!(a["spent"], 100.0, "{a}");
    // Time in whole days, as lifetimes counts it: from the first
    // purchase's day (06-22) to the last's (08-31) and to the run's (09-30).
    assert!(
        (a["recency"].as_f64().unwrap() - 70.0 / 7.0).abs() < 1e-9,
        "{a}"
    );
    assert!(
        (a["age"].as_f64().unwrap() - 100.0 / 7.0).abs() < 1e-9,
        "{a}"
    );
    // The mean value of the repeat purchases: the first day's 30 is no
    // repeat; the two later days' 30 and 40 are.
    assert_eq!(a["mean-repeat-value"], 35.0, "{a}");
    assert!(
        (a["days-since-order"].as_f64().unwrap() - 30.5).abs() < 1e-9,
        "{a}"
    );
    assert_eq!(
        (a["engaged-30"].clone(), a["engaged-60"].clone()),
        (json!(1), json!(2)),
        "{a}"
    );
    assert!(
        (a["days-since-cart"].as_f64().unwrap() - 2.0).abs() < 1e-9,
        "{a}"
    );
    assert_eq!(a["days-to-birthday"], 3, "{a}");
    let b = &by["b"];
    assert_eq!(b["spent"], 1012.5, "{b}");
    assert_eq!(
        (b["orders"].clone(), b["repeat-purchases"].clone()),
        (json!(2), json!(1)),
        "{b}"
    );
    let c = &by["c"];
    assert_eq!(
        (c["orders"].clone(), c["campaigns"].clone()),
        (json!(0), json!(1)),
        "{c}"
    );
    assert!(
        c["days-since-cart"].is_null() && c["days-to-birthday"].is_null(),
        "{c}"
    );
    // One customer alone, as rescoring asks.
    let one =
        cove_host::rfm::summary::summaries(&state.store, "shop", AS_OF, Some(&["b".to_string()]))
            .await
            .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].to_wit(AS_OF, 7.0), *b);
}

/// The scorer's memory: a good answer over `invoke` is kept per customer,
/// and when the bound scorer fails, the fallback answers each customer's
/// last good scores (and `unscored` for one never scored).
#[tokio::test(flavor = "multi_thread")]
async fn a_failing_scorer_answers_each_customers_last_good_scores() {
    let (state, _dir) = host(None, test_limits()).await;
    let app = cove_host::app(state);
    create_merchant(&app, "shop").await;
    for (name, path) in [
        ("rfm-scorer", guests::RFM_SCORER),
        ("broken-scorer", guests::ALIASED_OUTPUT),
    ] {
        let (s, v) = publish(
            &app,
            &format!("name={name}&version=1.0.0&publisher=cove"),
            std::path::Path::new(path),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let bind = |plugin: &'static str| {
        let app = app.clone();
        async move {
            let (s, v) = call(
                &app,
                "PUT",
                "/v1/merchants/shop/slots/rfm-scorer",
                OPERATOR_TOKEN,
                json!({"plugin": plugin}),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "{v}");
        }
    };
    let summary = |id: &str, orders: u32| {
        json!({"customer-id": id, "orders": orders, "repeat-purchases": orders.saturating_sub(1), "recency": 30.0,
            "age": 100.0, "days-since-order": 20.0, "spent": 250.0, "mean-repeat-value": 60.0, "engaged-30": 1,
            "engaged-60": 2, "days-since-cart": null, "days-to-birthday": null, "campaigns": 0, "tags": []})
    };
    let input = |customers: Vec<Value>| {
        json!({"model": {"recency-cuts": [10.0, 40.0], "frequency-cuts": [1.0, 3.0], "monetary-cuts": [100.0, 300.0],
            "bgnbd": null, "gamma-gamma": null, "unit-days": 1.0, "clv-percentiles": [], "spent-percentiles": [],
            "purchases-percentiles": []}, "customers": customers})
    };
    let invoke = |body: Value| {
        let app = app.clone();
        async move {
            call(
                &app,
                "POST",
                "/v1/merchants/shop/slots/rfm-scorer/invoke",
                OPERATOR_TOKEN,
                body,
            )
            .await
        }
    };
    bind("rfm-scorer@1.0.0").await;
    let (s, good) = invoke(input(vec![summary("c1", 4)])).await;
    assert_eq!(s, StatusCode::OK, "{good}");
    assert_eq!(good["fallback"], Value::Null, "{good}");
    assert_ne!(good["result"][0]["segment"], "unscored", "{good}");

    bind("broken-scorer@1.0.0").await;
    let (s, v) = invoke(input(vec![summary("c1", 4), summary("c2", 1)])).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_ne!(v["fallback"], Value::Null, "{v}");
    assert_eq!(v["result"][0], good["result"][0], "{v}");
    assert_eq!(v["result"][1]["segment"], "unscored", "{v}");

    // A call of many customers falls back for all of them at once, each
    // with its own last score; past the most per call it is refused
    // before anything runs.
    let mut many: Vec<Value> = (0..999).map(|i| summary(&format!("n{i}"), 1)).collect();
    many.push(summary("c1", 4));
    let (s, v) = invoke(input(many.clone())).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["result"].as_array().unwrap().len(), 1000);
    assert_eq!(v["result"][999], good["result"][0]);
    assert_eq!(v["result"][0]["segment"], "unscored");
    many.push(json!({}));
    let (s, v) = invoke(input(many)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("batch_too_large")),
        "{v}"
    );
}

/// CDNOW's raw transactions (`lifetimes`' `CDNOW_sample.txt`, fetched from
/// PyPI by `make deps-test`) imported as a merchant would, run as of
/// 1997-09-30 in weeks through the real host and the reference scorer:
/// BG/NBD and Gamma-Gamma within 0.5% of `lifetimes` on the same
/// transactions, and so are the first customers' P(alive), purchases
/// expected in a year and lifetime value.
#[tokio::test(flavor = "multi_thread")]
async fn cdnow_through_the_pipeline_agrees_with_lifetimes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = root.join("target/oracles/CDNOW_sample.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `make deps-test`", path.display()));
    let (state, _dir) = host(None, test_limits()).await;
    let app = cove_host::app(state);
    let key = shop_with_scorer(&app).await;
    let orders: Vec<Value> = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let date = chrono::NaiveDate::parse_from_str(f[2], "%Y%m%d").unwrap();
            let at = date
                .and_hms_opt(12, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp_millis();
            json!({"id": format!("o{i}"), "customer_id": f[0], "placed_at": at,
                "currency": "USD", "total": f[4]})
        })
        .collect();
    run_on(&app, &key, &orders, "1997-09-30", "weeks").await;
    let (_, runs) = call(
        &app,
        "GET",
        "/v1/merchants/shop/rfm/runs",
        &key,
        Value::Null,
    )
    .await;
    let id = runs["runs"][0]["id"].as_str().unwrap().to_string();
    let run = finished(&app, &key, &id).await;

    let asked = ["00004", "00018", "00021", "00050"];
    let want = cove_e2e::oracle(
        "lifetimes_oracle.py",
        &json!({
            "path": path, "as_of": "1997-09-30", "horizon_weeks": 365.0 / 7.0,
            "months": 12, "discount": 0.01, "customers": asked,
        }),
    );
    let close = |got: f64, want: f64, what: &str| {
        let off = (got - want).abs() / want.abs().max(1e-12);
        eprintln!(
            "{what}: Cove {got:.6}, lifetimes {want:.6} ({:.3}% apart)",
            off * 100.0
        );
        assert!(
            off <= 0.005,
            "{what}: Cove {got}, lifetimes {want} ({:.2}% apart)",
            off * 100.0
        );
    };
    let model = &run["model"];
    for k in ["r", "alpha", "a", "b"] {
        close(
            model["bgnbd"][k].as_f64().unwrap(),
            want["bgnbd"][k].as_f64().unwrap(),
            &format!("BG/NBD {k}"),
        );
    }
    for k in ["p", "q", "v"] {
        close(
            model["gamma-gamma"][k].as_f64().unwrap(),
            want["gamma_gamma"][k].as_f64().unwrap(),
            &format!("Gamma-Gamma {k}"),
        );
    }
    for c in asked {
        let (s, got) = call(
            &app,
            "GET",
            &format!("/v1/merchants/shop/rfm/customers/{c}"),
            &key,
            Value::Null,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{got}");
        let w = &want["customers"][c];
        close(
            got["p_active"].as_f64().unwrap(),
            w["p_alive"].as_f64().unwrap(),
            &format!("{c} P(alive)"),
        );
        close(
            got["expected_purchases"].as_f64().unwrap(),
            w["expected"].as_f64().unwrap(),
            &format!("{c} expected purchases"),
        );
        close(
            got["clv"].as_f64().unwrap(),
            w["clv"].as_f64().unwrap(),
            &format!("{c} CLV"),
        );
        if let Some(value) = w["value"].as_f64() {
            close(
                got["expected_value"].as_f64().unwrap(),
                value,
                &format!("{c} value of a purchase"),
            );
        }
    }
}

/// A shop and its scorer, bound; its key.
async fn shop_with_scorer(app: &axum::Router) -> String {
    let key = create_merchant(app, "shop").await;
    let (s, v) = publish(
        app,
        "name=rfm-scorer&version=1.0.0&publisher=cove",
        std::path::Path::new(guests::RFM_SCORER),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = call(
        app,
        "PUT",
        "/v1/merchants/shop/slots/rfm-scorer",
        OPERATOR_TOKEN,
        json!({"plugin": "rfm-scorer@1.0.0"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    key
}

/// Import `orders` (and their customers) and run as of `as_of` in `unit`;
/// the finished run.
async fn run_on(app: &axum::Router, key: &str, orders: &[Value], as_of: &str, unit: &str) -> Value {
    let mut ids: Vec<&str> = orders
        .iter()
        .filter_map(|o| o["customer_id"].as_str())
        .collect();
    ids.dedup();
    let customers: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
    import_lines(app, key, "customers", &customers).await;
    import_lines(app, key, "orders", orders).await;
    let (s, v) = call(
        app,
        "POST",
        "/v1/merchants/shop/rfm/runs",
        key,
        json!({"as_of": as_of, "time_unit": unit}),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let run = finished(app, key, v["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "done", "{run}");
    run
}

/// A few dozen customers cannot pin BG/NBD down: the run says so in words
/// and predicts nothing (the scores are the quantiles alone), instead of
/// showing a champion as 1% likely to be active.
#[tokio::test(flavor = "multi_thread")]
async fn a_small_shop_gets_no_predictions_and_is_told_why() {
    let (state, _dir) = host(None, test_limits()).await;
    let app = cove_host::app(state);
    let key = shop_with_scorer(&app).await;
    let run = run_on(
        &app,
        &key,
        &drawn_orders(36, AS_OF, 3),
        "2026-09-30",
        "weeks",
    )
    .await;
    let off = &run["segments"]["predictions_off"];
    assert_eq!(off["reason"], "few_repeaters", "{run}");
    assert!(
        off["message"]
            .as_str()
            .unwrap()
            .contains("Predictions are off"),
        "{off}"
    );
    assert!(
        run["model"]["bgnbd"].is_null() && run["model"]["gamma-gamma"].is_null(),
        "{run}"
    );
    let (_, page) = call(
        &app,
        "GET",
        &format!(
            "/v1/merchants/shop/rfm/runs/{}/customers",
            run["id"].as_str().unwrap()
        ),
        &key,
        Value::Null,
    )
    .await;
    let scores = page["customers"].as_array().unwrap();
    assert!(!scores.is_empty());
    for c in scores {
        assert!(c["p_active"].is_null() && c["clv"].is_null(), "{c}");
        assert!(c["segment"].as_str().is_some_and(|s| !s.is_empty()), "{c}");
    }
}

/// 5,000 customers drawn from known BG/NBD and Gamma-Gamma models, through
/// the import and a run in days: the fit recovers the parameters.
#[tokio::test(flavor = "multi_thread")]
async fn a_fit_recovers_the_parameters_the_data_was_drawn_from() {
    use cove_host::rfm::simulate::Truth;
    let (state, _dir) = host(None, test_limits()).await;
    let app = cove_host::app(state);
    let key = shop_with_scorer(&app).await;
    let truth = Truth {
        bgnbd: (0.5, 15.0, 0.8, 2.5),
        gamma_gamma: (6.0, 4.0, 15.0),
    };
    let orders = drawn_from(truth, 5_000, AS_OF - DAY / 2, 11);
    let run = run_on(&app, &key, &orders, "2026-09-30", "days").await;
    assert!(run["segments"]["predictions_off"].is_null(), "{run}");
    let m = &run["model"];
    let (r, alpha, a, b) = truth.bgnbd;
    let (p, q, v) = truth.gamma_gamma;
    for (got, want, tolerance, what) in [
        (&m["bgnbd"]["r"], r, 0.15, "r"),
        (&m["bgnbd"]["alpha"], alpha, 0.2, "alpha"),
        (&m["bgnbd"]["a"], a, 0.35, "a"),
        (&m["bgnbd"]["b"], b, 0.4, "b"),
        (&m["gamma-gamma"]["p"], p, 0.15, "p"),
        (&m["gamma-gamma"]["q"], q, 0.25, "q"),
        (&m["gamma-gamma"]["v"], v, 0.3, "v"),
    ] {
        let got = got.as_f64().unwrap();
        eprintln!("{what}: fitted {got:.4}, drawn from {want}");
        assert!(
            (got - want).abs() <= tolerance * want,
            "{what}: fitted {got}, drawn from {want}"
        );
    }
}
