//! The decision log: a sample of each merchant's calls (every failure
//! kept), each replayable bit for bit — on the host against a published
//! version, and with `cove plugin replay` against a local build — bounded
//! per merchant and erased with the customer.

use std::process::Command;

use axum::http::StatusCode;
use cove_e2e::{
    HostProcess, OPERATOR_TOKEN, call, call_url, cove_binary, create_merchant, create_merchant_on,
    guests, host, publish, test_limits,
};
use cove_host::decisions::store::DecisionsDb;
use serde_json::{Value, json};

use cove_e2e::fatigue_input_for as input;

#[tokio::test]
async fn decisions_are_logged_filtered_replayed_bounded_and_erased() {
    let (state, _dir) = host(None, test_limits()).await;
    let app = cove_host::app(state.clone());
    let key = create_merchant(&app, "shop").await;
    for (name, path) in [("fatigue-policy", guests::FATIGUE), ("busy", guests::BUSY)] {
        let (s, v) = publish(
            &app,
            &format!("name={name}&version=1.0.0&publisher=test"),
            std::path::Path::new(path),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/fatigue-policy",
        OPERATOR_TOKEN,
        json!({"plugin": "fatigue-policy@1.0.0"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // Bad settings are refused with the field; good ones apply at once.
    for (body, field) in [
        (
            json!({"sample_rate": 1.5, "retention_days": 14, "max_rows": 1000}),
            "sample_rate",
        ),
        (
            json!({"sample_rate": 1, "retention_days": 0, "max_rows": 1000}),
            "retention_days",
        ),
        (
            json!({"sample_rate": 1, "retention_days": 14, "max_rows": 5}),
            "max_rows",
        ),
    ] {
        let (s, v) = call(
            &app,
            "PUT",
            "/v1/merchants/shop/decisions/settings",
            &key,
            body,
        )
        .await;
        assert_eq!(
            (s, v["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{v}"
        );
    }
    // With the default 1%, 40 decisions keep next to none…
    for i in 0..40 {
        let (s, v) = call(
            &app,
            "POST",
            "/v1/merchants/shop/slots/fatigue-policy/invoke",
            &key,
            input(i),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let (_, few) = call(
        &app,
        "GET",
        "/v1/merchants/shop/decisions",
        &key,
        Value::Null,
    )
    .await;
    assert!(few["decisions"].as_array().unwrap().len() < 10, "{few}");
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/decisions/settings",
        &key,
        json!({"sample_rate": 1, "retention_days": 14, "max_rows": 100}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    DecisionsDb(&state.store)
        .prune(cove_host::now_ms())
        .await
        .unwrap();
    let before = few["decisions"].as_array().unwrap().len();
    // … with every decision kept, each one is there, about its customer.
    for i in 0..20 {
        call(
            &app,
            "POST",
            "/v1/merchants/shop/slots/fatigue-policy/invoke",
            &key,
            input(i),
        )
        .await;
    }
    let (s, all) = call(
        &app,
        "GET",
        "/v1/merchants/shop/decisions?limit=1000",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{all}");
    let list = all["decisions"].as_array().unwrap();
    assert_eq!(list.len(), before + 20, "{all}");
    let d = &list[0];
    assert_eq!(
        (
            d["plugin"].as_str(),
            d["contract"].as_str(),
            d["outcome"].as_str()
        ),
        (Some("fatigue-policy@1.0.0"), Some("0.3.0"), Some("ok")),
        "{d}"
    );
    assert!(
        d["usage"]["fuel"].as_u64().unwrap() > 0
            && d["usage"]["memory_bytes"].as_u64().unwrap() > 0,
        "{d}"
    );
    assert!(
        d.get("input").is_none(),
        "the list leaves inputs out unless full: {d}"
    );
    let (_, one) = call(
        &app,
        "GET",
        "/v1/merchants/shop/decisions?customer=c7",
        &key,
        Value::Null,
    )
    .await;
    let one = one["decisions"].as_array().unwrap();
    assert!(
        !one.is_empty() && one.iter().all(|d| d["customer"] == "c7"),
        "{one:?}"
    );
    let (_, full) = call(
        &app,
        "GET",
        &format!(
            "/v1/merchants/shop/decisions/{}",
            one[0]["id"].as_str().unwrap()
        ),
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(full["input"]["request"]["customer"]["id"], "c7", "{full}");
    assert!(
        full["seed"].as_str().unwrap().parse::<u64>().is_ok(),
        "{full}"
    );

    // Replayed on the host: the same version agrees bit for bit; a policy
    // that always allows differs exactly on the deferred half.
    let (s, same) = call(
        &app,
        "POST",
        "/v1/merchants/shop/decisions/replay",
        &key,
        json!({"slot": "fatigue-policy", "limit": 20}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{same}");
    assert_eq!(
        (same["replayed"].as_u64(), same["same"].as_u64()),
        (Some(20), Some(20)),
        "{same}"
    );
    let (_, other) = call(
        &app,
        "POST",
        "/v1/merchants/shop/decisions/replay",
        &key,
        json!({"slot": "fatigue-policy", "plugin": "busy@1.0.0", "limit": 20}),
    )
    .await;
    assert_eq!(
        (other["replayed"].as_u64(), other["different"].as_u64()),
        (Some(20), Some(10)),
        "{other}"
    );
    let diff = &other["differences"][0];
    assert!(
        diff["logged"]["result"].get("defer").is_some() && diff["now"]["result"] == "allow",
        "{diff}"
    );
    let (s, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/decisions/replay",
        &key,
        json!({"slot": "allocator", "plugin": "busy@1.0.0"}),
    )
    .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("plugin")),
        "{v}"
    );

    // A failure is kept even when nothing else is sampled.
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/decisions/settings",
        &key,
        json!({"sample_rate": 0, "retention_days": 14, "max_rows": 100}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = publish(
        &app,
        "name=loop&version=1.0.0&publisher=test",
        std::path::Path::new(guests::LOOP_FOREVER),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/fatigue-policy",
        OPERATOR_TOKEN,
        json!({"plugin": "loop@1.0.0"}),
    )
    .await;
    let (_, answer) = call(
        &app,
        "POST",
        "/v1/merchants/shop/slots/fatigue-policy/invoke",
        &key,
        input(99),
    )
    .await;
    assert!(answer["fallback"].is_string(), "{answer}");
    let (_, failed) = call(
        &app,
        "GET",
        "/v1/merchants/shop/decisions?outcome=failed",
        &key,
        Value::Null,
    )
    .await;
    let failed = failed["decisions"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(
        (failed[0]["plugin"].as_str(), failed[0]["customer"].as_str()),
        (Some("loop@1.0.0"), Some("c99"))
    );
    assert_eq!(failed[0]["outcome"], answer["fallback"]);

    // At most `max_rows` stay; the oldest go first.
    let (_, all) = call(
        &app,
        "GET",
        "/v1/merchants/shop/decisions?limit=1000",
        &key,
        Value::Null,
    )
    .await;
    let kept = all["decisions"].as_array().unwrap().len();
    cove_host::decisions::flush(&state).await.unwrap();
    let newest = all["decisions"][0]["id"].clone();
    assert!(
        DecisionsDb(&state.store)
            .prune(cove_host::now_ms())
            .await
            .unwrap() as usize
            == kept.saturating_sub(100)
    );
    let (_, after) = call(
        &app,
        "GET",
        "/v1/merchants/shop/decisions?limit=1000",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(after["decisions"].as_array().unwrap().len(), kept.min(100));
    assert_eq!(after["decisions"][0]["id"], newest);

    // Erasing a customer takes their decisions.
    cove_e2e::import_lines(&app, &key, "customers", &[json!({"id": "c99"})]).await;
    let (s, v) = call(
        &app,
        "DELETE",
        "/v1/merchants/shop/customers/c99",
        &key,
        Value::Null,
    )
    .await;
    assert!(s.is_success(), "{v}");
    let (_, gone) = call(
        &app,
        "GET",
        "/v1/merchants/shop/decisions?customer=c99",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(gone["decisions"], json!([]), "{gone}");
}

/// `cove plugin replay` against a running host: the same build replays
/// every logged decision the same (exit 0); a changed build prints each
/// difference and fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cove_plugin_replay_runs_logged_decisions_through_a_local_build() {
    let data = tempfile::tempdir().unwrap();
    let host = tokio::task::spawn_blocking({
        let dir = data.path().to_path_buf();
        move || HostProcess::start(&dir, &[])
    })
    .await
    .unwrap();
    let url = host.url.clone();
    let key = tokio::task::spawn_blocking({
        let url = url.clone();
        move || create_merchant_on(&url, "shop")
    })
    .await
    .unwrap();
    let cli = |args: &[&str]| {
        Command::new(cove_binary())
            .args(args)
            .args(["--url", &url, "--token", OPERATOR_TOKEN])
            .output()
            .expect("running cove")
    };
    let published = cli(&[
        "plugin",
        "publish",
        "--name",
        "fatigue-policy",
        "--version",
        "1.0.0",
        guests::FATIGUE,
    ]);
    assert!(
        published.status.success(),
        "{}",
        String::from_utf8_lossy(&published.stderr)
    );
    let bound = cli(&["bind", "shop", "fatigue-policy", "fatigue-policy@1.0.0"]);
    assert!(
        bound.status.success(),
        "{}",
        String::from_utf8_lossy(&bound.stderr)
    );
    let (s, v) = call_url(
        &url,
        &key,
        reqwest::Method::PUT,
        "/v1/merchants/shop/decisions/settings",
        json!({"sample_rate": 1, "retention_days": 14, "max_rows": 1000}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    for i in 0..10 {
        let (s, v) = call_url(
            &url,
            &key,
            reqwest::Method::POST,
            "/v1/merchants/shop/slots/fatigue-policy/invoke",
            input(i),
        )
        .await;
        assert_eq!(s, 200, "{v}");
    }
    let same = cli(&[
        "plugin",
        "replay",
        "--merchant",
        "shop",
        "--slot",
        "fatigue-policy",
        guests::FATIGUE,
    ]);
    let out = String::from_utf8_lossy(&same.stdout);
    assert!(
        same.status.success() && out.contains("10 replayed: 10 the same, 0 different"),
        "{out}{}",
        String::from_utf8_lossy(&same.stderr)
    );
    let changed = cli(&[
        "plugin",
        "replay",
        "--merchant",
        "shop",
        "--slot",
        "fatigue-policy",
        guests::BUSY,
    ]);
    let out = String::from_utf8_lossy(&changed.stdout);
    assert!(!changed.status.success(), "{out}");
    assert!(
        out.contains("10 replayed: 5 the same, 5 different"),
        "{out}"
    );
    assert_eq!(
        out.lines()
            .filter(|l| l.contains("— now ok \"allow\""))
            .count(),
        5,
        "{out}"
    );
    // --native: the same decisions through the crates compiled natively
    // (their `cove_replay` test): the reference crate answers as its
    // component does; the busy crate, natively, differs on the deferred
    // half and says where.
    let crate_dir = |name: &str| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../plugins")
            .join(name)
            .to_string_lossy()
            .into_owned()
    };
    let native = cli(&[
        "plugin",
        "replay",
        "--merchant",
        "shop",
        "--slot",
        "fatigue-policy",
        "--native",
        &crate_dir("fatigue-policy"),
        guests::FATIGUE,
    ]);
    let out = String::from_utf8_lossy(&native.stdout);
    assert!(
        native.status.success()
            && out.contains("natively: 10 run, 10 as in the sandbox, 0 different"),
        "{out}{}",
        String::from_utf8_lossy(&native.stderr)
    );
    let native = cli(&[
        "plugin",
        "replay",
        "--merchant",
        "shop",
        "--slot",
        "fatigue-policy",
        "--native",
        &crate_dir("hostile/busy"),
        guests::FATIGUE,
    ]);
    let out = String::from_utf8_lossy(&native.stdout);
    assert!(
        !native.status.success()
            && out.contains("natively: 10 run, 5 as in the sandbox, 5 different"),
        "{out}{}",
        String::from_utf8_lossy(&native.stderr)
    );
    assert_eq!(
        out.lines()
            .filter(
                |l| l.contains("natively {\"Ok\":\"Allow\"} — in the sandbox {\"Ok\":{\"Defer\"")
            )
            .count(),
        5,
        "{out}"
    );
    // One decision by id.
    let (_, listed) = call_url(
        &url,
        &key,
        reqwest::Method::GET,
        "/v1/merchants/shop/decisions?customer=c4",
        Value::Null,
    )
    .await;
    let id = listed["decisions"][0]["id"].as_str().unwrap().to_string();
    let one = cli(&[
        "plugin",
        "replay",
        "--merchant",
        "shop",
        "--slot",
        "fatigue-policy",
        "--decision",
        &id,
        guests::FATIGUE,
    ]);
    assert!(
        String::from_utf8_lossy(&one.stdout).contains("1 replayed: 1 the same"),
        "{}",
        String::from_utf8_lossy(&one.stdout)
    );
}
