//! The HTTP API, driven through the router (`oneshot`) on SQLite, with the
//! real components: publish, bind, invoke, swap, roll back, audit, errors,
//! isolation between merchants, fallbacks, the breaker and metrics.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use cove_e2e::{OPERATOR_TOKEN, expect_error, fatigue_input, guests, host, test_limits, wasm};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Api {
    app: Router,
    _dir: tempfile::TempDir,
}

impl Api {
    async fn new() -> Api {
        Api::with(test_limits()).await
    }

    async fn with(limits: cove_host::platform::runtime::Limits) -> Api {
        let (state, dir) = host(None, limits).await;
        Api {
            app: cove_host::app(state),
            _dir: dir,
        }
    }

    async fn send(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Body,
    ) -> (StatusCode, Value, axum::http::HeaderMap) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let response = self
            .app
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, value, headers)
    }

    async fn json(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        let (s, v, _) = self
            .send(method, uri, token, Body::from(body.to_string()))
            .await;
        (s, v)
    }

    async fn publish(
        &self,
        path: &str,
        name: &str,
        version: &str,
        publisher: &str,
    ) -> (StatusCode, Value) {
        let uri = format!("/v1/plugins?name={name}&version={version}&publisher={publisher}");
        let (s, v, _) = self
            .send("POST", &uri, Some(OPERATOR_TOKEN), Body::from(wasm(path)))
            .await;
        (s, v)
    }

    async fn merchant(&self, id: &str) -> String {
        let (s, v) = self
            .json(
                "POST",
                "/v1/merchants",
                Some(OPERATOR_TOKEN),
                json!({"id": id}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["api_key"].as_str().unwrap().to_string()
    }

    async fn bind(&self, merchant: &str, plugin: &str, config: Value) -> (StatusCode, Value) {
        let uri = format!("/v1/merchants/{merchant}/slots/fatigue-policy");
        self.json(
            "PUT",
            &uri,
            Some(OPERATOR_TOKEN),
            json!({"plugin": plugin, "config": config}),
        )
        .await
    }

    async fn decide(&self, merchant: &str, key: &str, input: Value) -> (StatusCode, Value) {
        let uri = format!("/v1/merchants/{merchant}/slots/fatigue-policy/invoke");
        self.json("POST", &uri, Some(key), input).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reference_plugin_is_bound_by_default_and_decides() {
    let api = Api::new().await;
    let (s, v) = api
        .publish(guests::FATIGUE, "fatigue-policy", "1.0.0", "cove")
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["world"], "fatigue-policy");
    assert_eq!(v["sha256"].as_str().unwrap().len(), 64);
    let key = api.merchant("shop").await;

    let (s, v) = api
        .decide("shop", &key, fatigue_input("email", json!([])))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["plugin"], "fatigue-policy@1.0.0");
    assert!(v["fallback"].is_null());
    let result = &v["result"];
    assert!(
        result == "allow" || result.get("defer").is_some(),
        "{result}"
    );

    // A cap of zero drops every promotional email: proves the config reaches the plugin.
    let (s, v) = api
        .bind(
            "shop",
            "fatigue-policy@1.0.0",
            json!({"cap.email": 0, "quiet-hours": "00:00-00:01"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = api
        .decide("shop", &key, fatigue_input("email", json!([])))
        .await;
    assert_eq!(v["result"], json!({"drop": "cap-reached"}));

    // Both answers are counted under the version, across the rebind.
    let response = api
        .app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let text = String::from_utf8(
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(
        text.contains(r#"cove_plugin_calls_total{slot="fatigue-policy",plugin="fatigue-policy@1.0.0",outcome="ok"} 2"#),
        "{text}"
    );
}

/// An upload whose compilation outlasts the operator's limit is refused in
/// words (here a limit of 0 s, which nothing compiles within), and leaves
/// nothing behind.
#[tokio::test(flavor = "multi_thread")]
async fn a_compile_past_its_time_is_refused() {
    let api = Api::with(cove_host::platform::runtime::Limits {
        compile_ms: 0,
        ..test_limits()
    })
    .await;
    let (s, v) = api.publish(guests::FATIGUE, "slow", "1.0.0", "x").await;
    expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "compile_timeout");
    let (_, v) = api
        .json("GET", "/v1/plugins", Some(OPERATOR_TOKEN), Value::Null)
        .await;
    assert!(
        v["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["name"] != "slow"),
        "{v}"
    );
}

/// A merchant whose reference plugins cannot be bound (here: no plugin
/// can start in 64 KiB of memory) is not created at all: merchant, first
/// key and default bindings commit together or not at all, the answer
/// names the slot and why, and a retry meets the same answer, not 409.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_bind_at_creation_leaves_nothing() {
    let api = Api::with(cove_host::platform::runtime::Limits {
        memory_bytes: 64 << 10,
        keep_resident_bytes: 64 << 10,
        ..test_limits()
    })
    .await;
    let (s, v) = api
        .publish(guests::FATIGUE, "fatigue-policy", "1.0.0", "cove")
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    for attempt in ["first", "retry"] {
        let (s, v) = api
            .json(
                "POST",
                "/v1/merchants",
                Some(OPERATOR_TOKEN),
                json!({"id": "m"}),
            )
            .await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{attempt}: {v}");
        assert_eq!(v["code"], "defaults_failed");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("fatigue-policy: fatigue-policy@1.0.0: "),
            "{v}"
        );
        let (s, v) = api
            .json(
                "GET",
                "/v1/merchants/m/slots",
                Some(OPERATOR_TOKEN),
                Value::Null,
            )
            .await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "{attempt}: nothing was created: {v}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn publish_rules_give_clear_errors() {
    let api = Api::new().await;
    let (s, v) = api
        .publish(guests::FORBIDDEN_IMPORT, "sneaky", "1.0.0", "x")
        .await;
    expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "forbidden_import");
    assert!(v["message"].as_str().unwrap().contains("wasi:"));

    let (s, v) = api.publish(guests::FATIGUE, "Bad_Name", "1.0.0", "x").await;
    expect_error(s, &v, StatusCode::BAD_REQUEST, "invalid_name");
    let (s, v) = api.publish(guests::FATIGUE, "ok", "one", "x").await;
    expect_error(s, &v, StatusCode::BAD_REQUEST, "invalid_version");

    let (s, _) = api.publish(guests::FATIGUE, "fp", "1.0.0", "x").await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = api.publish(guests::FATIGUE, "fp", "1.0.0", "x").await;
    assert_eq!(s, StatusCode::OK, "same bytes again is a no-op");
    let (s, v) = api.publish(guests::TRAP, "fp", "1.0.0", "x").await;
    expect_error(s, &v, StatusCode::CONFLICT, "version_exists");

    let (s, v, _) = api
        .send(
            "POST",
            "/v1/plugins?name=junk&version=1.0.0",
            Some(OPERATOR_TOKEN),
            Body::from("not wasm"),
        )
        .await;
    expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "not_a_component");
    let (s, v, _) = api
        .send(
            "POST",
            "/v1/plugins?name=big&version=1.0.0",
            Some(OPERATOR_TOKEN),
            Body::from(vec![0u8; 300 * 1024]),
        )
        .await;
    expect_error(s, &v, StatusCode::PAYLOAD_TOO_LARGE, "component_too_large");

    let (s, v) = api
        .json("GET", "/v1/plugins", Some(OPERATOR_TOKEN), Value::Null)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["plugins"].as_array().unwrap().len(),
        1,
        "refused uploads leave nothing behind"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_codes_and_messages() {
    let api = Api::new().await;
    api.publish(guests::FATIGUE, "fatigue-policy", "1.0.0", "cove")
        .await;
    let key = api.merchant("shop").await;

    let (s, v) = api
        .decide("shop", &key, json!({"request": {"channel": "email"}}))
        .await;
    expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    assert!(
        v["message"].as_str().unwrap().contains("request.customer"),
        "{v}"
    );

    let (s, v, _) = api
        .send(
            "POST",
            "/v1/merchants/shop/slots/fatigue-policy/invoke",
            Some(&key),
            Body::from("{nope"),
        )
        .await;
    expect_error(s, &v, StatusCode::BAD_REQUEST, "invalid_json");

    let (s, v) = api
        .json(
            "POST",
            "/v1/merchants/shop/slots/coffee-maker/invoke",
            Some(&key),
            json!({}),
        )
        .await;
    expect_error(s, &v, StatusCode::NOT_FOUND, "not_found");
    assert!(v["message"].as_str().unwrap().contains("fatigue-policy"));

    let (s, v) = api
        .json(
            "POST",
            "/v1/merchants/shop/slots/fatigue-policy/invoke",
            None,
            json!({}),
        )
        .await;
    expect_error(s, &v, StatusCode::UNAUTHORIZED, "unauthenticated");

    let (s, v) = api
        .bind("shop", "fatigue-policy@1.0.0", json!({"cap.email": "lots"}))
        .await;
    expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "invalid_config");
    assert!(v["message"].as_str().unwrap().contains("cap.email"), "{v}");
    let (s, v) = api
        .bind("shop", "fatigue-policy@1.0.0", json!({"nested": {"a": 1}}))
        .await;
    expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "invalid_config");
    let (s, v) = api.bind("shop", "fatigue-policy@9.9.9", json!({})).await;
    expect_error(s, &v, StatusCode::NOT_FOUND, "not_found");
    let (s, v) = api
        .json(
            "PUT",
            "/v1/merchants/shop/slots/rfm-scorer",
            Some(OPERATOR_TOKEN),
            json!({"plugin": "fatigue-policy@1.0.0"}),
        )
        .await;
    expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "world_mismatch");

    let (s, v) = api
        .json(
            "POST",
            "/v1/merchants",
            Some(OPERATOR_TOKEN),
            json!({"id": "shop"}),
        )
        .await;
    expect_error(s, &v, StatusCode::CONFLICT, "merchant_exists");
    let (s, v) = api.json("GET", "/v1/nowhere", None, Value::Null).await;
    expect_error(s, &v, StatusCode::NOT_FOUND, "not_found");

    // Nothing above changed the binding.
    let (_, v) = api
        .json("GET", "/v1/merchants/shop/slots", Some(&key), Value::Null)
        .await;
    let fatigue = v["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slot"] == "fatigue-policy")
        .unwrap()
        .clone();
    assert_eq!(fatigue["config"], json!({}));
}

#[tokio::test(flavor = "multi_thread")]
async fn one_merchants_key_cannot_touch_another() {
    let api = Api::new().await;
    api.publish(guests::FATIGUE, "fatigue-policy", "1.0.0", "cove")
        .await;
    let alice = api.merchant("alice").await;
    let _bob = api.merchant("bob").await;
    for (method, uri) in [
        ("GET", "/v1/merchants/bob/slots"),
        ("POST", "/v1/merchants/bob/slots/fatigue-policy/invoke"),
        ("GET", "/v1/merchants/bob/audit"),
        ("PUT", "/v1/merchants/bob/slots/fatigue-policy"),
        ("POST", "/v1/merchants/bob/slots/fatigue-policy/rollback"),
    ] {
        let (s, _) = api
            .json(method, uri, Some(&alice), fatigue_input("email", json!([])))
            .await;
        assert!(
            s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN,
            "{method} {uri}: {s}"
        );
    }
    let (s, _) = api
        .json(
            "POST",
            "/v1/plugins?name=x&version=1.0.0",
            Some(&alice),
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "merchants cannot publish");
    let (s, _) = api
        .json(
            "GET",
            "/v1/merchants/alice/slots",
            Some(&alice),
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn swap_roll_back_and_audit() {
    let api = Api::new().await;
    api.publish(guests::FATIGUE, "fatigue-policy", "1.0.0", "cove")
        .await;
    api.publish(guests::FATIGUE, "fatigue-policy", "1.1.0", "cove")
        .await;
    let key = api.merchant("shop").await;
    let (_, v) = api
        .decide("shop", &key, fatigue_input("email", json!([])))
        .await;
    assert_eq!(
        v["plugin"], "fatigue-policy@1.1.0",
        "newest reference version is the default"
    );

    api.bind("shop", "fatigue-policy@1.0.0", json!({"cap.email": 5}))
        .await;
    let (_, v) = api
        .decide("shop", &key, fatigue_input("email", json!([])))
        .await;
    assert_eq!(v["plugin"], "fatigue-policy@1.0.0");

    let (s, v) = api
        .json(
            "POST",
            "/v1/merchants/shop/slots/fatigue-policy/rollback",
            Some(OPERATOR_TOKEN),
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["version"].as_str(), &v["config"]),
        (Some("1.1.0"), &json!({}))
    );
    let (_, v) = api
        .decide("shop", &key, fatigue_input("email", json!([])))
        .await;
    assert_eq!(v["plugin"], "fatigue-policy@1.1.0");

    // Yanked versions cannot be bound anew, but serve where bound.
    api.json(
        "POST",
        "/v1/plugins/fatigue-policy/1.0.0/yank",
        Some(OPERATOR_TOKEN),
        Value::Null,
    )
    .await;
    let (s, v) = api.bind("shop", "fatigue-policy@1.0.0", json!({})).await;
    expect_error(s, &v, StatusCode::CONFLICT, "plugin_yanked");
    // Nor by a rollback to it.
    let (s, v) = api
        .json(
            "POST",
            "/v1/merchants/shop/slots/fatigue-policy/rollback",
            Some(OPERATOR_TOKEN),
            Value::Null,
        )
        .await;
    expect_error(s, &v, StatusCode::CONFLICT, "plugin_yanked");

    let (_, v) = api
        .json(
            "GET",
            "/v1/merchants/shop/audit",
            Some(OPERATOR_TOKEN),
            Value::Null,
        )
        .await;
    let events: Vec<(String, Option<String>, Option<String>)> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().into(),
                e["from"].as_str().map(Into::into),
                e["to"].as_str().map(Into::into),
            )
        })
        .collect();
    assert_eq!(
        events,
        vec![
            (
                "rollback".into(),
                Some("fatigue-policy@1.0.0".into()),
                Some("fatigue-policy@1.1.0".into())
            ),
            (
                "bind".into(),
                Some("fatigue-policy@1.1.0".into()),
                Some("fatigue-policy@1.0.0".into())
            ),
            ("default".into(), None, Some("fatigue-policy@1.1.0".into())),
        ]
    );
    assert!(
        v["events"][1]["actor"]
            .as_str()
            .unwrap()
            .starts_with("operator")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_plugins_answer_with_fallbacks_and_trip_the_breaker() {
    let api = Api::new().await;
    api.publish(guests::LOOP_FOREVER, "spinner", "1.0.0", "evil")
        .await;
    let key = api.merchant("shop").await;

    // Unbound: the fallback answers, flagged.
    let (s, v) = api
        .decide("shop", &key, fatigue_input("email", json!([])))
        .await;
    assert_eq!(
        (s, v["fallback"].as_str()),
        (StatusCode::OK, Some("unbound"))
    );
    assert!(v["result"]["defer"]["until"].as_i64().is_some());

    let (s, _) = api.bind("shop", "spinner@1.0.0", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let mut kinds = Vec::new();
    for _ in 0..cove_host::platform::breaker::THRESHOLD + 2 {
        let (s, v) = api
            .decide("shop", &key, fatigue_input("email", json!([])))
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(v["result"]["defer"].is_object());
        kinds.push(v["fallback"].as_str().unwrap().to_string());
    }
    let threshold = cove_host::platform::breaker::THRESHOLD as usize;
    assert!(kinds[..threshold].iter().all(|k| k == "fuel"), "{kinds:?}");
    assert!(
        kinds[threshold..].iter().all(|k| k == "breaker"),
        "{kinds:?}"
    );

    let (_, v) = api
        .json("GET", "/v1/merchants/shop/slots", Some(&key), Value::Null)
        .await;
    assert!(
        v["slots"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["breaker"] == "open")
    );

    let response = api
        .app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let text = String::from_utf8(
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    assert!(text.contains(r#"cove_plugin_failures_total{slot="fatigue-policy",plugin="spinner@1.0.0",kind="fuel"} 5"#), "{text}");
    assert!(text.contains(r#"kind="breaker"} 2"#), "{text}");
    assert!(text.contains("cove_plugin_call_seconds_bucket"), "{text}");
}

/// Wrong keys from one address are answered 401 up to a burst, then 429
/// with `Retry-After` (and no look-up); other addresses and right keys
/// from them are not held up.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_keys_are_throttled_per_address() {
    let api = Api::new().await;
    let key = api.merchant("shop").await;
    let get = |token: String, ip: &'static str| {
        let app = api.app.clone();
        async move {
            let auth = format!("Bearer {token}");
            let (s, h, _) = cove_e2e::request(
                &app,
                "GET",
                "/v1/merchants/shop/slots",
                &[("authorization", auth.as_str()), ("x-forwarded-for", ip)],
                None,
            )
            .await;
            (s, h.contains_key("retry-after"))
        }
    };
    let burst = cove_host::platform::guard::BAD_AUTH_BURST as usize;
    for i in 0..burst {
        let (s, _) = get(format!("wrong-{i}"), "10.9.9.9").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "guess {i}");
    }
    assert_eq!(
        get("wrong-again".into(), "10.9.9.9").await,
        (StatusCode::TOO_MANY_REQUESTS, true)
    );
    assert_eq!(
        get("wrong".into(), "10.9.9.10").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(get(key, "10.9.9.10").await.0, StatusCode::OK);
}

/// A plugin that runs out of fuel on inputs a caller made large does not
/// count against its breaker (a visitor cannot switch a merchant's plugin
/// off with big inputs); on ordinary inputs it does.
#[tokio::test(flavor = "multi_thread")]
async fn failures_on_oversized_inputs_do_not_trip_the_breaker() {
    let api = Api::new().await;
    api.publish(guests::LOOP_FOREVER, "spinner", "1.0.0", "evil")
        .await;
    let key = api.merchant("shop").await;
    let (s, _) = api.bind("shop", "spinner@1.0.0", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let threshold = cove_host::platform::breaker::THRESHOLD as usize;
    let mut big = fatigue_input("email", json!([]));
    big["request"]["active-campaigns"] = json!(
        (0..4_000)
            .map(|i| format!("campaign-{i}"))
            .collect::<Vec<_>>()
    );
    assert!(big.to_string().len() > cove_host::platform::invoke::BREAKER_INPUT_BYTES);
    let mut kinds = Vec::new();
    for _ in 0..threshold + 2 {
        let (s, v) = api.decide("shop", &key, big.clone()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        kinds.push(v["fallback"].as_str().unwrap_or("none").to_string());
    }
    assert!(kinds.iter().all(|k| k == "fuel"), "{kinds:?}");
    // Ordinary inputs still trip it.
    let mut kinds = Vec::new();
    for _ in 0..threshold + 1 {
        let (_, v) = api
            .decide("shop", &key, fatigue_input("email", json!([])))
            .await;
        kinds.push(v["fallback"].as_str().unwrap_or("none").to_string());
    }
    assert!(kinds[..threshold].iter().all(|k| k == "fuel"), "{kinds:?}");
    assert_eq!(kinds[threshold], "breaker", "{kinds:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_unbound_slot_answers_with_its_documented_fallback() {
    let api = Api::new().await;
    let key = api.merchant("shop").await;
    let customer = json!({"id": "c-9", "region": "middle-east", "country": "AE", "utc-offset-minutes": 240, "created-at": 0});
    let invoke = |slot: &'static str, body: Value| {
        let api = &api;
        let key = key.clone();
        async move {
            api.json(
                "POST",
                &format!("/v1/merchants/shop/slots/{slot}/invoke"),
                Some(&key),
                body,
            )
            .await
        }
    };

    let (s, v) = invoke(
        "allocator",
        json!({"experiment": {"key": "hero", "variations": 2, "weights": [], "coverage": 1.0, "seed": "",
            "hash-version": 2, "hash-attribute": "id", "fallback-attribute": null, "namespace": null,
            "condition": null, "force": null}, "attributes": "{\"id\": \"u1\"}", "sticky": null}),
    )
    .await;
    // Not in the experiment: the control.
    assert_eq!(
        (
            s,
            &v["result"]["variation"],
            &v["result"]["in-experiment"],
            v["fallback"].as_str()
        ),
        (StatusCode::OK, &json!(0), &json!(false), Some("unbound"))
    );

    let consents =
        json!([{"channel": "sms", "granted": true}, {"channel": "email", "granted": true}]);
    let (_, v) = invoke(
        "channel-chooser",
        json!({"request": {"customer": customer, "kind": "promotional",
        "consents": consents, "stats": [], "last-engaged-at": null}}),
    )
    .await;
    assert_eq!(
        v["result"][0]["channel"], "sms",
        "Middle East defaults to SMS: {v}"
    );
    let (_, v) = invoke(
        "channel-chooser",
        json!({"request": {"customer": customer, "kind": "promotional",
        "consents": [{"channel": "sms", "granted": false}], "stats": [], "last-engaged-at": null}}),
    )
    .await;
    assert_eq!(v["result"], json!([]), "never a channel without consent");

    let request = |sentiment: &str| {
        json!({"request": {"country": "DE", "platform": "own-site", "sku": "S1",
        "category": "apparel", "quantity": 1, "unit-price": {"amount-minor": 4999, "currency": "EUR"},
        "purchased-at": 0, "weight-grams": 400, "tier": "none", "sentiment": sentiment, "reason": "too small"}})
    };
    // Unbound, the newest contract's answer: a step whose outcome is a person.
    let (_, v) = invoke("return-flow", request("negative")).await;
    assert_eq!(v["result"]["outcome"]["human-review"]["queue"], "priority");
    let (_, v) = invoke("return-flow", request("neutral")).await;
    assert_eq!(v["result"]["outcome"]["human-review"]["queue"], "standard");

    let (_, v) = invoke(
        "rfm-scorer",
        json!({"model": {"recency-cuts": [], "frequency-cuts": [], "monetary-cuts": [], "bgnbd": null, "gamma-gamma": null, "unit-days": 1.0, "clv-percentiles": [], "spent-percentiles": [], "purchases-percentiles": []}, "customers": [
        {"customer-id": customer["id"], "orders": 0, "repeat-purchases": 0, "recency": 0.0, "age": 0.0,
         "days-since-order": 0.0, "spent": 0.0, "mean-repeat-value": 0.0, "engaged-30": 0, "engaged-60": 0,
         "days-since-cart": null, "days-to-birthday": null, "campaigns": 0, "tags": []}]}),
    )
    .await;
    assert_eq!(v["result"][0]["customer-id"], "c-9");
    assert_eq!(v["result"][0]["micro-segments"], json!(["unscored"]));

    let (s, v) = invoke("fatigue-policy", json!("not an object")).await;
    expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_during_swaps_all_succeed() {
    let api = std::sync::Arc::new(Api::new().await);
    api.publish(guests::FATIGUE, "fatigue-policy", "1.0.0", "cove")
        .await;
    api.publish(guests::FATIGUE, "fatigue-policy", "1.1.0", "cove")
        .await;
    let key = api.merchant("shop").await;
    let caller = {
        let api = api.clone();
        tokio::spawn(async move {
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..300 {
                let (s, v) = api
                    .decide("shop", &key, fatigue_input("email", json!([])))
                    .await;
                assert_eq!(s, StatusCode::OK, "{v}");
                assert!(v["fallback"].is_null(), "{v}");
                seen.insert(v["plugin"].as_str().unwrap().to_string());
            }
            seen
        })
    };
    for i in 0..30 {
        let version = if i % 2 == 0 { "1.0.0" } else { "1.1.0" };
        let (s, v) = api
            .bind("shop", &format!("fatigue-policy@{version}"), json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let seen = caller.await.unwrap();
    assert!(
        seen.iter()
            .all(|p| p == "fatigue-policy@1.0.0" || p == "fatigue-policy@1.1.0"),
        "{seen:?}"
    );
}
