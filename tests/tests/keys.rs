//! A merchant's API keys: several, named, scoped, shown once, rolled with
//! a grace period, revoked on every replica within a second; and every
//! merchant route checks the scope the spec says it needs.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use cove_e2e::{OPERATOR_TOKEN, Postgres, Replicas, call, call_url, create_merchant, host};
use serde_json::{Value, json};

async fn app() -> (axum::Router, String, tempfile::TempDir) {
    let (state, dir) = host(None, cove_e2e::test_limits()).await;
    let app = cove_host::app(state);
    let key = create_merchant(&app, "shop").await;
    (app, key, dir)
}

/// Create a key named `name` with `scopes` (and an expiry), with `by`.
async fn new_key(app: &axum::Router, by: &str, name: &str, scopes: &[&str]) -> Value {
    let (s, v) = call(
        app,
        "POST",
        "/v1/merchants/shop/keys",
        by,
        json!({"name": name, "scopes": scopes}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

#[tokio::test]
async fn keys_are_named_scoped_and_shown_once() {
    let (app, first, _dir) = app().await;
    let (s, list) = call(&app, "GET", "/v1/merchants/shop/keys", &first, Value::Null).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let keys = list["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["name"], "first key");
    assert_eq!(keys[0]["scopes"].as_array().unwrap().len(), 7);
    assert!(keys[0].get("key").is_none(), "a listed key has no secret");
    assert_eq!(keys[0]["prefix"], &first[..9]);

    let reader = new_key(&app, &first, "dashboard", &["read"]).await;
    let secret = reader["key"].as_str().unwrap().to_string();
    assert_eq!(reader["prefix"], &secret[..9]);
    // Reads work; a change names the scope it needs.
    let (s, _) = call(
        &app,
        "GET",
        "/v1/merchants/shop/articles",
        &secret,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let article = json!({"locale": "en", "title": "T", "body": "B"});
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/articles/a",
        &secret,
        article.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["code"], "missing_permission");
    assert!(v["message"].as_str().unwrap().contains("`write`"), "{v}");
    let (s, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/keys",
        &secret,
        json!({"name": "x", "scopes": ["read"]}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a read key cannot make keys: {v}");
    // Its last use is recorded; the list never shows a secret.
    let (_, list) = call(&app, "GET", "/v1/merchants/shop/keys", &first, Value::Null).await;
    let listed = list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "dashboard")
        .unwrap()
        .clone();
    assert!(listed["last_used_at"].as_i64().is_some(), "{listed}");
    assert!(!list.to_string().contains(&secret));
    // Bad requests say why.
    for (body, why) in [
        (json!({"name": "", "scopes": ["read"]}), "name"),
        (json!({"name": "x", "scopes": []}), "scope"),
        (
            json!({"name": "x", "scopes": ["read"], "expires_at": 1}),
            "past",
        ),
    ] {
        let (s, v) = call(&app, "POST", "/v1/merchants/shop/keys", &first, body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["code"], "invalid_key_request");
        assert!(v["message"].as_str().unwrap().contains(why), "{v}");
    }
    let (s, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/keys",
        &first,
        json!({"name": "x", "scopes": ["admin"]}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "an unknown scope: {v}");
    // The audit names who made the key (by name and prefix) and which key
    // it made, never its secret.
    let (_, audit) = call(&app, "GET", "/v1/merchants/shop/audit", &first, Value::Null).await;
    let made = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["slot"] == "keys" && e["action"] == "create")
        .unwrap_or_else(|| panic!("no key event: {audit}"))
        .clone();
    assert_eq!(made["actor"], format!("key:first key ({}…)", &first[..9]));
    assert_eq!(made["to_config"]["name"], "dashboard");
    assert!(!audit.to_string().contains(&secret));
}

#[tokio::test]
async fn a_rolled_key_lives_through_its_grace_an_expired_one_stops() {
    let (app, first, _dir) = app().await;
    let ci = new_key(&app, &first, "ci", &["read", "import"]).await;
    let old = ci["key"].as_str().unwrap().to_string();
    let (s, rolled) = call(
        &app,
        "POST",
        &format!(
            "/v1/merchants/shop/keys/{}/roll",
            ci["id"].as_str().unwrap()
        ),
        &first,
        json!({"grace_hours": 0.0005}), // 1.8 s
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{rolled}");
    let new = rolled["key"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(rolled["name"], "ci");
    assert_eq!(rolled["scopes"], json!(["read", "import"]));
    let get = |k: String| {
        let app = app.clone();
        async move {
            call(&app, "GET", "/v1/merchants/shop/articles", &k, Value::Null)
                .await
                .0
        }
    };
    assert_eq!(
        get(old.clone()).await,
        StatusCode::OK,
        "the old key in its grace"
    );
    assert_eq!(get(new.clone()).await, StatusCode::OK);
    // A key with an expiry of its own.
    let expires = cove_host::now_ms() + 1_500;
    let (s, short) = call(
        &app,
        "POST",
        "/v1/merchants/shop/keys",
        &first,
        json!({"name": "short", "scopes": ["read"], "expires_at": expires}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{short}");
    let short = short["key"].as_str().unwrap().to_string();
    assert_eq!(get(short.clone()).await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2_600)).await;
    assert_eq!(
        get(old).await,
        StatusCode::UNAUTHORIZED,
        "the grace is over"
    );
    assert_eq!(get(short).await, StatusCode::UNAUTHORIZED, "expired");
    assert_eq!(get(new).await, StatusCode::OK, "the new key stays");
}

#[tokio::test]
async fn the_last_key_that_manages_keys_cannot_be_revoked() {
    let (app, first, _dir) = app().await;
    let (_, list) = call(&app, "GET", "/v1/merchants/shop/keys", &first, Value::Null).await;
    let first_id = list["keys"][0]["id"].as_str().unwrap().to_string();
    let uri = format!("/v1/merchants/shop/keys/{first_id}");
    let (s, v) = call(&app, "DELETE", &uri, &first, Value::Null).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "last_key");
    let owner = new_key(
        &app,
        &first,
        "owner",
        &["read", "write", "import", "policies", "keys"],
    )
    .await;
    let owner = owner["key"].as_str().unwrap().to_string();
    let (s, v) = call(&app, "DELETE", &uri, &owner, Value::Null).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["revoked_at"].as_i64().is_some());
    tokio::time::sleep(cove_host::platform::keys::KEY_FRESH + Duration::from_millis(100)).await;
    let (s, _) = call(
        &app,
        "GET",
        "/v1/merchants/shop/articles",
        &first,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "a revoked key stops");
    // A revoked key cannot be rolled back to life.
    let (s, v) = call(&app, "POST", &format!("{uri}/roll"), &owner, Value::Null).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "key_revoked");
}

/// The table of every merchant route in the spec against a key of each
/// single scope: a key is refused with `missing_permission` exactly when
/// its scope is not one the spec declares for the route (its own, and
/// `support` where customer service may use it).
#[tokio::test]
async fn every_merchant_route_checks_the_scope_the_spec_declares() {
    let (app, first, _dir) = app().await;
    let (_, _, spec) = cove_e2e::request(&app, "GET", "/openapi.json", &[], None).await;
    let spec: Value = serde_json::from_slice(&spec).unwrap();
    let scopes = [
        "read", "write", "import", "policies", "keys", "members", "support",
    ];
    let mut keys = Vec::new();
    for s in scopes {
        let k = new_key(&app, &first, s, &[s]).await;
        keys.push((s, k["key"].as_str().unwrap().to_string()));
    }
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/merchants/{merchant}") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let declared: Vec<&str> = op["security"][0]["bearer"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} declares no scope"))
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            assert!(
                !declared.is_empty() && declared.iter().all(|d| scopes.contains(d)),
                "{method} {path}: {declared:?}"
            );
            // Path parameters get made-up values: the scope is checked
            // before anything is looked up.
            let uri = path
                .replace("{merchant}", "shop")
                .split('/')
                .map(|seg| if seg.starts_with('{') { "x" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            for (scope, key) in &keys {
                let (s, v) = call(&app, &method.to_uppercase(), &uri, key, json!({})).await;
                let refused = s == StatusCode::FORBIDDEN && v["code"] == "missing_permission";
                if v["code"] == "forbidden" {
                    continue; // operator-only: no merchant key gets in
                }
                assert_eq!(
                    refused,
                    !declared.contains(scope),
                    "{method} {path} needs {declared:?}; a `{scope}` key got {s} {v}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "{checked} route × scope pairs checked");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_key_stops_on_every_replica_within_a_second() {
    let pg = Postgres::start();
    let Replicas { a, b, key, .. } = &Replicas::start(&pg, "keys", &[]).await;
    let (s, made) = call_url(
        &a.url,
        key,
        reqwest::Method::POST,
        "/v1/merchants/shop/keys",
        json!({"name": "leaked", "scopes": ["read"]}),
    )
    .await;
    assert_eq!(s, 201, "{made}");
    let leaked = made["key"].as_str().unwrap();
    let get = |url: &str| {
        let url = url.to_string();
        let leaked = leaked.to_string();
        async move {
            call_url(
                &url,
                &leaked,
                reqwest::Method::GET,
                "/v1/merchants/shop/articles",
                Value::Null,
            )
            .await
            .0
        }
    };
    // Both replicas know (and cache) the key.
    assert_eq!(get(&a.url).await, 200);
    assert_eq!(get(&b.url).await, 200);
    let (s, v) = call_url(
        &a.url,
        key,
        reqwest::Method::DELETE,
        &format!("/v1/merchants/shop/keys/{}", made["id"].as_str().unwrap()),
        Value::Null,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let revoked = Instant::now();
    // Within KEY_FRESH (1 s), B refuses it too; asked past that, it must.
    tokio::time::sleep(cove_host::platform::keys::KEY_FRESH + Duration::from_millis(50)).await;
    assert_eq!(
        get(&b.url).await,
        401,
        "replica B still takes the revoked key"
    );
    assert_eq!(get(&a.url).await, 401);
    eprintln!("revoked on A, refused on B {:?} later", revoked.elapsed());
    // The operator still gets in, and the merchant's own key works.
    let (s, _) = call_url(
        &b.url,
        OPERATOR_TOKEN,
        reqwest::Method::GET,
        "/v1/merchants/shop/keys",
        Value::Null,
    )
    .await;
    assert_eq!(s, 200);
}
