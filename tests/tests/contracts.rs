//! Contract versions side by side: plugins compiled from source against
//! the frozen `cove:policy@0.1.0` and `0.2.0` keep answering, in the same
//! slot of the same host, next to one built against the newest contract.

use cove_e2e::{
    OPERATOR_TOKEN, call, expect_error, fatigue_input, guests, host, publish, test_limits,
};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_built_against_0_1_0_and_0_2_0_run_beside_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let build = |name: &'static str, contract: &'static str| {
        let parent = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            cove_e2e::scaffold_and_build(&parent, name, "fatigue-policy", Some(contract))
        })
    };
    let (legacy, frozen) = (
        build("legacy-fatigue", "0.1.0"),
        build("frozen-fatigue", "0.2.0"),
    );
    let (legacy, frozen) = (legacy.await.unwrap(), frozen.await.unwrap());
    for (name, version) in [("legacy-fatigue", "0.1.0"), ("frozen-fatigue", "0.2.0")] {
        let sdk = std::fs::read_to_string(dir.path().join(name).join("cove-sdk/wit/fatigue.wit"))
            .unwrap();
        assert!(sdk.starts_with(&format!("package cove:policy@{version};")));
    }

    let (state, _data) = host(None, test_limits()).await;
    let app = cove_host::app(state.clone());
    let op = OPERATOR_TOKEN;
    let (status, old) = publish(
        &app,
        "name=legacy-fatigue&version=1.0.0&publisher=test",
        &legacy,
    )
    .await;
    assert_eq!(status, 201, "{old}");
    let (status, new) = publish(
        &app,
        "name=current-fatigue&version=1.0.0&publisher=test",
        guests::FATIGUE.as_ref(),
    )
    .await;
    assert_eq!(status, 201, "{new}");
    let (status, mid) = publish(
        &app,
        "name=frozen-fatigue&version=1.0.0&publisher=test",
        &frozen,
    )
    .await;
    assert_eq!(status, 201, "{mid}");
    assert_eq!(old["contract"], "0.1.0", "{old}");
    assert_eq!(mid["contract"], "0.2.0", "{mid}");
    assert_eq!(new["contract"], "0.3.0", "{new}");

    for (merchant, plugin) in [
        ("old-shop", "legacy-fatigue"),
        ("mid-shop", "frozen-fatigue"),
        ("new-shop", "current-fatigue"),
    ] {
        let (status, body) = call(&app, "POST", "/v1/merchants", op, json!({"id": merchant})).await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = call(
            &app,
            "PUT",
            &format!("/v1/merchants/{merchant}/slots/fatigue-policy"),
            op,
            json!({"plugin": format!("{plugin}@1.0.0")}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }

    let invoke = |merchant: &'static str, input: Value| {
        let app = app.clone();
        async move {
            call(
                &app,
                "POST",
                &format!("/v1/merchants/{merchant}/slots/fatigue-policy/invoke"),
                op,
                input,
            )
            .await
        }
    };
    // The old plugin answers requests written for its contract …
    let (status, body) = invoke("old-shop", fatigue_input("email", json!([]))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["plugin"], "legacy-fatigue@1.0.0", "{body}");
    assert_eq!(body["fallback"], Value::Null, "{body}");
    assert_eq!(body["result"], "allow", "{body}");
    // … and refuses, by name, a field its contract does not have.
    let mut tagged = fatigue_input("email", json!([]));
    tagged["request"]["tags"] = json!(["flash-sale"]);
    let (status, body) = invoke("old-shop", tagged.clone()).await;
    expect_error(
        status,
        &body,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    assert!(body["message"].as_str().unwrap().contains("tags"), "{body}");
    // The 0.2.0 plugin and the new one take the field, and a request
    // without it too.
    for (merchant, plugin) in [
        ("mid-shop", "frozen-fatigue@1.0.0"),
        ("new-shop", "current-fatigue@1.0.0"),
    ] {
        for input in [tagged.clone(), fatigue_input("email", json!([]))] {
            let (status, body) = invoke(merchant, input).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["plugin"], plugin, "{body}");
            assert_eq!(body["fallback"], Value::Null, "{body}");
        }
    }
    // Since 0.3.0 a plugin describes its settings; an older one does not,
    // and the merchant writes lines as before.
    let (status, described) = call(
        &app,
        "GET",
        "/v1/merchants/new-shop/slots/fatigue-policy/settings",
        op,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{described}");
    assert_eq!(described["described"], true, "{described}");
    let keys: Vec<&str> = described["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    for key in [
        "cap.*",
        "quiet-hours",
        "min-gap-hours",
        "max-defer-hours",
        "transactional-exempt",
    ] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    let gap = described["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["key"] == "min-gap-hours")
        .unwrap();
    assert_eq!(
        gap["kind"],
        json!({"integer": {"min": 0, "max": 720}}),
        "{gap}"
    );
    assert_eq!(gap["default-value"], "12", "{gap}");
    assert!(
        gap["description-zh"].as_str().unwrap().contains("小时"),
        "{gap}"
    );
    for merchant in ["old-shop", "mid-shop"] {
        let (status, body) = call(
            &app,
            "GET",
            &format!("/v1/merchants/{merchant}/slots/fatigue-policy/settings"),
            op,
            Value::Null,
        )
        .await;
        assert_eq!(
            (status, body["described"].clone(), body["settings"].clone()),
            (axum::http::StatusCode::OK, json!(false), json!([])),
            "{body}"
        );
    }
    // The batch function (0.3.0) answers each request as one call would.
    let requests: Vec<Value> = ["email", "sms", "email"]
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let history = if i == 2 {
                json!([{"channel": "email", "sent-at": cove_host::now_ms() - 3_600_000}])
            } else {
                json!([])
            };
            fatigue_input(c, history)["request"].clone()
        })
        .collect();
    let batch = cove_host::platform::invoke::call_other(
        &state,
        "new-shop",
        cove_host::platform::slots::Slot::Fatigue,
        "decide-batch",
        &json!({"requests": requests}),
    )
    .await
    .unwrap();
    assert_eq!(batch.as_array().unwrap().len(), 3, "{batch}");
    for (request, answer) in requests.iter().zip(batch.as_array().unwrap()) {
        let (_, one) = invoke("new-shop", json!({"request": request})).await;
        assert_eq!(answer, &json!({"ok": one["result"]}), "{request}");
    }
    let refused = cove_host::platform::invoke::call_other(
        &state,
        "mid-shop",
        cove_host::platform::slots::Slot::Fatigue,
        "decide-batch",
        &json!({"requests": []}),
    )
    .await;
    assert!(refused.unwrap_err().contains("has no `decide-batch`"));
    // The send planner builds its input for the newest contract; the old
    // plugin gets only the fields it knows and decides.
    let auth = format!("Bearer {op}");
    let (status, _, body) = cove_e2e::request(
        &app,
        "POST",
        "/v1/merchants/old-shop/import/customers?format=ndjson",
        &[("authorization", &auth)],
        Some(json!({"id": "c1", "country": "DE", "time_zone": "Europe/Berlin"}).to_string()),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let (status, plan) = call(
        &app,
        "POST",
        "/v1/merchants/old-shop/sends/plan",
        op,
        json!({"customer_id": "c1", "message": {"channels": ["email"], "tags": ["flash-sale"], "has_trigger_signal": true}}),
    )
    .await;
    assert_eq!(status, 200, "{plan}");
    let fatigue = plan["trail"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "fatigue")
        .unwrap_or_else(|| panic!("{plan}"));
    assert_eq!(fatigue["by"], "legacy-fatigue@1.0.0", "{plan}");
    assert_eq!(plan["status"], "planned", "{plan}");

    // The slot listing says which contract serves each merchant.
    let (_, slots) = call(&app, "GET", "/v1/merchants/old-shop/slots", op, Value::Null).await;
    assert!(
        slots.to_string().contains("\"contract\":\"0.1.0\""),
        "{slots}"
    );
}
