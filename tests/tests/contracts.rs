//! Contract versions side by side: a plugin compiled from source against
//! the frozen `cove:policy@0.1.0` keeps answering, in the same slot of the
//! same host, next to one built against the newest contract.

use cove_e2e::{
    OPERATOR_TOKEN, call, expect_error, fatigue_input, guests, host, publish, test_limits,
};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_built_against_0_1_0_runs_beside_one_built_against_0_2_0() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = tokio::task::spawn_blocking({
        let parent = dir.path().to_path_buf();
        move || {
            cove_e2e::scaffold_and_build(&parent, "legacy-fatigue", "fatigue-policy", Some("0.1.0"))
        }
    })
    .await
    .unwrap();
    let sdk = std::fs::read_to_string(dir.path().join("legacy-fatigue/cove-sdk/wit/fatigue.wit"))
        .unwrap();
    assert!(sdk.starts_with("package cove:policy@0.1.0;"));

    let (state, _data) = host(None, test_limits()).await;
    let app = cove_host::app(state);
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
    assert_eq!(old["contract"], "0.1.0", "{old}");
    assert_eq!(new["contract"], "0.2.0", "{new}");

    for (merchant, plugin) in [
        ("old-shop", "legacy-fatigue"),
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
    // The new plugin takes the new field, and a request without it too.
    for input in [tagged, fatigue_input("email", json!([]))] {
        let (status, body) = invoke("new-shop", input).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["plugin"], "current-fatigue@1.0.0", "{body}");
        assert_eq!(body["fallback"], Value::Null, "{body}");
    }
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
