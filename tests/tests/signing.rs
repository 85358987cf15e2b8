//! Signed plugins: publishers register Ed25519 keys; an upload naming a
//! registered publisher must carry its signature; a host that requires
//! signatures refuses unsigned and unknown-key uploads with the reason; a
//! revoked publisher's versions cannot be bound, while those bound keep
//! running; `cove plugin keygen`/`sign`/`publish` do it from the shell.

use std::process::Command;

use axum::http::StatusCode;
use cove_e2e::{
    HostProcess, OPERATOR_TOKEN, call, call_url, cove_binary, create_merchant, expect_error,
    fatigue_input, guests, host_with, request_bytes, test_limits,
};
use cove_host::platform::signing;
use serde_json::{Value, json};

/// Upload `wasm` as `name@version` by `publisher`, with `signature`.
async fn upload(
    app: &axum::Router,
    name: &str,
    version: &str,
    publisher: &str,
    wasm: &[u8],
    signature: Option<&str>,
) -> (StatusCode, Value) {
    let mut uri = format!("/v1/plugins?name={name}&version={version}&publisher={publisher}");
    if let Some(sig) = signature {
        uri.push_str(&format!("&signature={sig}"));
    }
    let auth = format!("Bearer {OPERATOR_TOKEN}");
    let (s, _, body) = request_bytes(
        app,
        "POST",
        &uri,
        &[("authorization", &auth)],
        Some(wasm.to_vec()),
    )
    .await;
    (s, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn only_signed_plugins_run_where_the_operator_requires_it() {
    let (_state, _dir) = host_with(None, test_limits(), |s| s.require_signatures = true).await;
    let app = cove_host::app(_state);
    let key = create_merchant(&app, "shop").await;
    let wasm = std::fs::read(guests::FATIGUE).unwrap();
    let other = std::fs::read(guests::BUSY).unwrap();
    let (secret, public) = signing::keygen();
    let (forger, _) = signing::keygen();

    // Unsigned, or signed by a publisher nobody registered: refused, with
    // what to do.
    let (s, v) = upload(&app, "fatigue", "1.0.0", "acme", &wasm, None).await;
    expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "unsigned_plugin");
    assert!(
        v["message"].as_str().unwrap().contains("cove plugin sign"),
        "{v}"
    );
    let sig = signing::sign(&secret, &wasm).unwrap();
    let (s, v) = upload(&app, "fatigue", "1.0.0", "acme", &wasm, Some(&sig)).await;
    expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "unknown_publisher");

    // Registering the publisher: a bad key is refused with the field.
    let (s, v) = call(
        &app,
        "POST",
        "/v1/publishers",
        OPERATOR_TOKEN,
        json!({"name": "acme", "public_key": "00ff"}),
    )
    .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("public_key")),
        "{v}"
    );
    let (s, v) = call(
        &app,
        "POST",
        "/v1/publishers",
        OPERATOR_TOKEN,
        json!({"name": "acme", "public_key": public}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = call(
        &app,
        "POST",
        "/v1/publishers",
        OPERATOR_TOKEN,
        json!({"name": "acme", "public_key": public}),
    )
    .await;
    expect_error(s, &v, StatusCode::CONFLICT, "publisher_exists");
    let (s, v) = call(
        &app,
        "POST",
        "/v1/publishers",
        &key,
        json!({"name": "mallory", "public_key": public}),
    )
    .await;
    assert!(
        s == StatusCode::UNAUTHORIZED || s == StatusCode::FORBIDDEN,
        "a merchant cannot register publishers: {s} {v}"
    );

    // Forged: another key's signature, or this key's over other bytes.
    for forged in [
        signing::sign(&forger, &wasm).unwrap(),
        signing::sign(&secret, &other).unwrap(),
    ] {
        let (s, v) = upload(&app, "fatigue", "1.0.0", "acme", &wasm, Some(&forged)).await;
        expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "bad_signature");
    }
    // Signed by the registered key: taken, and says so.
    let (s, v) = upload(&app, "fatigue", "1.0.0", "acme", &wasm, Some(&sig)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["signed"], true, "{v}");
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/fatigue-policy",
        OPERATOR_TOKEN,
        json!({"plugin": "fatigue@1.0.0"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, slots) = call(&app, "GET", "/v1/merchants/shop/slots", &key, Value::Null).await;
    let fatigue = slots["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["slot"] == "fatigue-policy")
        .unwrap()
        .clone();
    assert_eq!(
        (fatigue["publisher"].as_str(), fatigue["signed"].as_bool()),
        (Some("acme"), Some(true)),
        "{fatigue}"
    );
    assert!(fatigue.get("publisher_revoked").is_none(), "{fatigue}");

    // Revoked: new versions are refused, no version of it can be bound
    // anew, and the bound one keeps answering, flagged.
    let sig2 = signing::sign(&secret, &other).unwrap();
    let (s, v) = upload(&app, "busy", "1.0.0", "acme", &other, Some(&sig2)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = call(
        &app,
        "POST",
        "/v1/publishers/acme/revoke",
        OPERATOR_TOKEN,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["revoked_at"].is_i64(), "{v}");
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/fatigue-policy",
        OPERATOR_TOKEN,
        json!({"plugin": "busy@1.0.0"}),
    )
    .await;
    expect_error(s, &v, StatusCode::CONFLICT, "publisher_revoked");
    let (s, v) = upload(&app, "fatigue", "1.0.1", "acme", &wasm, Some(&sig)).await;
    expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "publisher_revoked");
    let (s, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/slots/fatigue-policy/invoke",
        &key,
        fatigue_input("email", json!([])),
    )
    .await;
    assert_eq!(
        (s, v["plugin"].as_str(), v["fallback"].clone()),
        (StatusCode::OK, Some("fatigue@1.0.0"), Value::Null),
        "{v}"
    );
    let (_, slots) = call(&app, "GET", "/v1/merchants/shop/slots", &key, Value::Null).await;
    assert!(
        slots.to_string().contains("\"publisher_revoked\":true"),
        "{slots}"
    );
}

#[tokio::test]
async fn a_registered_publisher_cannot_be_impersonated() {
    // Signatures not required: unsigned uploads of unregistered publishers
    // still go in, marked unsigned…
    let (state, _dir) = host_with(None, test_limits(), |_| {}).await;
    let app = cove_host::app(state);
    let wasm = std::fs::read(guests::FATIGUE).unwrap();
    let (s, v) = upload(&app, "mine", "1.0.0", "someone", &wasm, None).await;
    assert_eq!(
        (s, v["signed"].as_bool()),
        (StatusCode::CREATED, Some(false)),
        "{v}"
    );
    // … but nobody uploads unsigned under a registered publisher's name.
    let (_, public) = signing::keygen();
    call(
        &app,
        "POST",
        "/v1/publishers",
        OPERATOR_TOKEN,
        json!({"name": "acme", "public_key": public}),
    )
    .await;
    let (s, v) = upload(&app, "theirs", "1.0.0", "acme", &wasm, None).await;
    expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "unsigned_plugin");
}

/// Names may carry their publisher's namespace (`acme/fatigue`): only
/// that registered publisher, signing with its key, publishes there; the
/// namespaced version is bound, answers and is read like any other.
#[tokio::test]
async fn only_a_namespace_s_publisher_publishes_in_it() {
    let (state, _dir) = host_with(None, test_limits(), |_| {}).await;
    let app = cove_host::app(state);
    let key = create_merchant(&app, "shop").await;
    let wasm = std::fs::read(guests::FATIGUE).unwrap();
    let (acme, acme_public) = signing::keygen();
    let (bob, bob_public) = signing::keygen();
    // Nobody can claim a namespace before its publisher registers.
    let (s, v) = upload(&app, "acme/fatigue", "1.0.0", "acme", &wasm, None).await;
    expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "wrong_namespace");
    assert!(
        v["message"].as_str().unwrap().contains("no registered key"),
        "{v}"
    );
    for (name, public) in [("acme", &acme_public), ("bob", &bob_public)] {
        let (s, v) = call(
            &app,
            "POST",
            "/v1/publishers",
            OPERATOR_TOKEN,
            json!({"name": name, "public_key": public}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    // Bob, with a good signature of his own, cannot publish in acme's.
    let by_bob = signing::sign(&bob, &wasm).unwrap();
    let (s, v) = upload(&app, "acme/fatigue", "1.0.0", "bob", &wasm, Some(&by_bob)).await;
    expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "wrong_namespace");
    // Acme's upload needs acme's signature; the namespace names the
    // publisher when none is given.
    let (s, v) = upload(&app, "acme/fatigue", "1.0.0", "acme", &wasm, Some(&by_bob)).await;
    expect_error(s, &v, StatusCode::UNPROCESSABLE_ENTITY, "bad_signature");
    let by_acme = signing::sign(&acme, &wasm).unwrap();
    let auth = format!("Bearer {OPERATOR_TOKEN}");
    let (s, _, body) = request_bytes(
        &app,
        "POST",
        &format!("/v1/plugins?name=acme/fatigue&version=1.0.0&signature={by_acme}"),
        &[("authorization", &auth)],
        Some(wasm.clone()),
    )
    .await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (s, v["publisher"].as_str(), v["signed"].as_bool()),
        (StatusCode::CREATED, Some("acme"), Some(true)),
        "{v}"
    );
    let (s, v) = upload(&app, "a/b/c", "1.0.0", "a", &wasm, None).await;
    expect_error(s, &v, StatusCode::BAD_REQUEST, "invalid_name");
    // Bound, answering and read under its full name.
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/fatigue-policy",
        OPERATOR_TOKEN,
        json!({"plugin": "acme/fatigue@1.0.0"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/slots/fatigue-policy/invoke",
        &key,
        fatigue_input("email", json!([])),
    )
    .await;
    assert_eq!(
        (s, v["plugin"].as_str()),
        (StatusCode::OK, Some("acme/fatigue@1.0.0")),
        "{v}"
    );
    let (s, v) = call(
        &app,
        "GET",
        "/v1/plugins/acme%2Ffatigue/1.0.0",
        OPERATOR_TOKEN,
        Value::Null,
    )
    .await;
    assert_eq!(
        (s, v["name"].as_str()),
        (StatusCode::OK, Some("acme/fatigue")),
        "{v}"
    );
}

/// From the shell: a first start registers the reference publisher `cove`
/// with a key kept in the data directory; `cove plugin keygen`, `sign`
/// and `publish` (which sends the `.sig` beside the file) get a plugin
/// onto a host that requires signatures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keygen_sign_and_publish_from_the_shell() {
    let data = tempfile::tempdir().unwrap();
    let host = tokio::task::spawn_blocking({
        let dir = data.path().to_path_buf();
        move || HostProcess::start(&dir, &["--require-signatures"])
    })
    .await
    .unwrap();
    let url = host.url.clone();
    let key_file = data.path().join("publisher-cove.key");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&key_file).unwrap().permissions(),
    );
    assert_eq!(
        mode & 0o077,
        0,
        "the reference key is readable by its owner only"
    );
    let (s, listed) = call_url(
        &url,
        OPERATOR_TOKEN,
        reqwest::Method::GET,
        "/v1/publishers",
        Value::Null,
    )
    .await;
    assert_eq!(s, 200, "{listed}");
    let secret = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(listed[0]["name"], "cove");
    assert_eq!(
        listed[0]["public_key"].as_str(),
        Some(signing::public_of(&secret).unwrap().as_str())
    );

    let work = tempfile::tempdir().unwrap();
    let wasm = work.path().join("my_policy.wasm");
    std::fs::copy(guests::FATIGUE, &wasm).unwrap();
    let cli = |args: &[&str]| {
        Command::new(cove_binary())
            .args(args)
            .output()
            .expect("running cove")
    };
    let with_host = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--url", &url, "--token", OPERATOR_TOKEN]);
        cli(&all)
    };
    let unsigned = with_host(&[
        "plugin",
        "publish",
        "--version",
        "1.0.0",
        "--publisher",
        "me",
        wasm.to_str().unwrap(),
    ]);
    assert!(!unsigned.status.success());
    assert!(
        String::from_utf8_lossy(&unsigned.stdout).contains("unsigned_plugin"),
        "{}",
        String::from_utf8_lossy(&unsigned.stdout)
    );
    let keygen = cli(&[
        "plugin",
        "keygen",
        "--out",
        work.path().join("me.key").to_str().unwrap(),
    ]);
    assert!(
        keygen.status.success(),
        "{}",
        String::from_utf8_lossy(&keygen.stderr)
    );
    let public = String::from_utf8_lossy(&keygen.stdout).trim().to_string();
    let (s, v) = call_url(
        &url,
        OPERATOR_TOKEN,
        reqwest::Method::POST,
        "/v1/publishers",
        json!({"name": "me", "public_key": public}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let signed = cli(&[
        "plugin",
        "sign",
        "--key",
        work.path().join("me.key").to_str().unwrap(),
        wasm.to_str().unwrap(),
    ]);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    assert!(work.path().join("my_policy.wasm.sig").exists());
    let published = with_host(&[
        "plugin",
        "publish",
        "--version",
        "1.0.0",
        "--publisher",
        "me",
        wasm.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&published.stdout);
    assert!(published.status.success(), "{out}");
    assert!(out.contains("\"signed\": true"), "{out}");
}
