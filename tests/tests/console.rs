//! The merchant console: sessions (cookie flags, CSRF on writes, sign-out,
//! isolation between merchants), the endpoints its pages read (overview,
//! decision stats, missed searches, settings changed by the merchant), in
//! process; then every page in Debian's Chromium against a real host
//! (`tests/browser/console.mjs`).

use std::path::PathBuf;
use std::process::Command;

use axum::http::StatusCode;
use cove_e2e::{
    HostProcess, OPERATOR_TOKEN, call, create_merchant, create_merchant_on, expect_error,
    fatigue_input, guests, host, publish, request, test_limits,
};
use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A host with the fatigue plugin bound to two merchants; their keys.
async fn two_shops() -> (axum::Router, String, String, tempfile::TempDir) {
    let (state, dir) = host(None, test_limits()).await;
    let app = cove_host::app(state);
    let (status, _) = publish(
        &app,
        "name=fatigue-policy&version=1.0.0&publisher=cove",
        guests::FATIGUE.as_ref(),
    )
    .await;
    assert!(status.is_success());
    let key = create_merchant(&app, "shop").await;
    let rival = create_merchant(&app, "rival").await;
    (app, key, rival, dir)
}

/// Sign in; returns the `Cookie` header value and the CSRF token.
async fn sign_in(
    app: &axum::Router,
    key: &str,
    headers: &[(&str, &str)],
) -> (String, String, String) {
    let (status, h, body) = request(
        app,
        "POST",
        "/console/session",
        headers,
        Some(json!({ "key": key }).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let set = h["set-cookie"].to_str().unwrap().to_string();
    let cookie = set.split(';').next().unwrap().to_string();
    let body: Value = serde_json::from_slice(&body).unwrap();
    (cookie, body["csrf"].as_str().unwrap().to_string(), set)
}

async fn with_cookie(
    app: &axum::Router,
    method: &str,
    uri: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut headers = vec![("cookie", cookie)];
    if let Some(t) = csrf {
        headers.push(("x-cove-csrf", t));
    }
    let (status, _, bytes) = request(app, method, uri, &headers, body.map(|b| b.to_string())).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_session_cookie_is_safe_and_stands_in_for_the_key() {
    let (app, key, rival, _dir) = two_shops().await;
    let (cookie, csrf, set) = sign_in(&app, &key, &[]).await;
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(flag), "{set}");
    }
    assert!(
        !set.contains("Secure"),
        "plain HTTP gets no Secure flag: {set}"
    );
    let (_, _, behind_tls) = sign_in(&app, &key, &[("x-forwarded-proto", "https")]).await;
    assert!(behind_tls.contains("; Secure"), "{behind_tls}");

    // Reads work with the cookie alone.
    let (status, me) = with_cookie(&app, "GET", "/console/session", &cookie, None, None).await;
    assert_eq!(
        (status, me["merchant"].as_str()),
        (StatusCode::OK, Some("shop"))
    );
    let (status, _) = with_cookie(
        &app,
        "GET",
        "/v1/merchants/shop/articles",
        &cookie,
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // A write needs the CSRF token; with it, it goes through.
    let article = json!({"locale": "en", "title": "Shipping", "body": "Two days."});
    let (status, body) = with_cookie(
        &app,
        "PUT",
        "/v1/merchants/shop/articles/ship",
        &cookie,
        None,
        Some(article.clone()),
    )
    .await;
    expect_error(status, &body, StatusCode::FORBIDDEN, "csrf_token_missing");
    let (status, body) = with_cookie(
        &app,
        "PUT",
        "/v1/merchants/shop/articles/ship",
        &cookie,
        Some("0".repeat(32).as_str()),
        Some(article.clone()),
    )
    .await;
    expect_error(status, &body, StatusCode::FORBIDDEN, "csrf_token_missing");
    let (status, _) = with_cookie(
        &app,
        "PUT",
        "/v1/merchants/shop/articles/ship",
        &cookie,
        Some(&csrf),
        Some(article),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // The cookie never reaches another merchant, nor the operator's endpoints.
    let (status, _) = with_cookie(
        &app,
        "GET",
        "/v1/merchants/rival/articles",
        &cookie,
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = with_cookie(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/fatigue-policy",
        &cookie,
        Some(&csrf),
        Some(json!({"plugin": "fatigue-policy@1.0.0"})),
    )
    .await;
    expect_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (rival_cookie, _, _) = sign_in(&app, &rival, &[]).await;
    let (_, theirs) = with_cookie(
        &app,
        "GET",
        "/v1/merchants/rival/articles",
        &rival_cookie,
        None,
        None,
    )
    .await;
    assert_eq!(
        theirs["articles"],
        json!([]),
        "the rival sees none of shop's articles"
    );

    // Signing out ends the session; the old cookie is refused.
    let (status, _) = with_cookie(
        &app,
        "DELETE",
        "/console/session",
        &cookie,
        Some(&csrf),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = with_cookie(
        &app,
        "GET",
        "/v1/merchants/shop/articles",
        &cookie,
        None,
        None,
    )
    .await;
    expect_error(status, &body, StatusCode::UNAUTHORIZED, "session_expired");
    let (status, body) = with_cookie(&app, "GET", "/console/session", &cookie, None, None).await;
    expect_error(status, &body, StatusCode::UNAUTHORIZED, "signed_out");

    // The console is for merchants; a wrong key is told so in words.
    for (k, code, want) in [
        (OPERATOR_TOKEN, "operator_token", StatusCode::FORBIDDEN),
        ("ck_nope", "unknown_key", StatusCode::UNAUTHORIZED),
    ] {
        let (status, _, bytes) = request(
            &app,
            "POST",
            "/console/session",
            &[],
            Some(json!({"key": k}).to_string()),
        )
        .await;
        expect_error(status, &serde_json::from_slice(&bytes).unwrap(), want, code);
    }
}

#[tokio::test]
async fn the_shell_and_files_are_served_under_a_strict_csp() {
    let (app, _, _, _dir) = two_shops().await;
    let (status, h, body) = request(&app, "GET", "/console", &[], None).await;
    assert_eq!(status, StatusCode::OK);
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("style-src 'self'")
            && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = String::from_utf8(body).unwrap();
    assert!(
        !html.contains("<style") && !html.contains(" style=") && !html.contains("<script>"),
        "nothing inline: {html}"
    );
    let src = html
        .split("src=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let (status, h, _) = request(&app, "GET", &src, &[], None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(h["cache-control"].to_str().unwrap().contains("immutable"));
    let (status, _, _) = request(&app, "GET", "/console/0/nope.js", &[], None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_pages_read_what_the_merchant_did() {
    let (app, key, _, _dir) = two_shops().await;
    // Three decisions: two answered, one refused as bad input is not counted.
    let invoke = "/v1/merchants/shop/slots/fatigue-policy/invoke";
    for _ in 0..2 {
        let (status, body) = call(
            &app,
            "POST",
            invoke,
            &key,
            fatigue_input("email", json!([])),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, stats) = call(
        &app,
        "GET",
        "/v1/merchants/shop/stats?days=7",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let ok: i64 = stats
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["outcome"] == "ok")
        .map(|b| b["calls"].as_i64().unwrap())
        .sum();
    assert_eq!(ok, 2, "{stats}");
    let (status, body) = call(
        &app,
        "GET",
        "/v1/merchants/shop/stats?days=0",
        &key,
        Value::Null,
    )
    .await;
    expect_error(status, &body, StatusCode::BAD_REQUEST, "invalid_query");

    // Settings changed by the merchant are checked by the plugin itself and audited.
    let (status, body) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/fatigue-policy/config",
        &key,
        json!({"config": {"cap.email": "many"}}),
    )
    .await;
    expect_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_config",
    );
    let (status, body) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/slots/fatigue-policy/config",
        &key,
        json!({"config": {"cap.email": "2"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["config"], json!({"cap.email": "2"}));
    let (status, audit) = call(&app, "GET", "/v1/merchants/shop/audit", &key, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(audit["events"][0]["action"], "config");
    // The audit names the key: by name and visible prefix.
    assert_eq!(
        audit["events"][0]["actor"],
        format!("key:first key ({}…)", &key[..9])
    );

    // A missed search reported by the widget is counted without personal data.
    let (status, h, _) = request(
        &app,
        "PUT",
        "/v1/merchants/shop/widget",
        &[("authorization", &format!("Bearer {key}"))],
        Some(json!({"allowed_origins": ["https://shop.example"]}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{h:?}");
    for q in [
        "Gift  wrap",
        "gift wrap",
        "call me 0123456789 gift wrap",
        "me@x.example",
    ] {
        let (status, _, _) = request(
            &app,
            "POST",
            "/public/v1/shop/missed-searches",
            &[("origin", "https://shop.example"), ("host", "cove.example")],
            Some(json!({"locale": "en", "query": q}).to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let (status, _, _) = request(
        &app,
        "POST",
        "/public/v1/shop/missed-searches",
        &[("origin", "https://evil.example"), ("host", "cove.example")],
        Some(json!({"locale": "en", "query": "x"}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, missed) = call(
        &app,
        "GET",
        "/v1/merchants/shop/missed-searches",
        &key,
        Value::Null,
    )
    .await;
    let searches = missed["searches"].as_array().unwrap();
    assert_eq!(searches[0]["query"], "gift wrap");
    assert_eq!(searches[0]["searches"], 2);
    assert_eq!(searches[1]["query"], "call me # gift wrap");
    assert_eq!(searches.len(), 2, "the address alone is not kept: {missed}");

    // The overview adds it up.
    let (status, o) = call(
        &app,
        "GET",
        "/v1/merchants/shop/overview",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let decisions: i64 = o["decisions"]["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["ok"].as_i64().unwrap())
        .sum();
    assert_eq!(decisions, 2, "{o}");
    assert_eq!(o["kb"]["missed_searches"], 3);
    assert_eq!(o["widget"]["allowed_origins"], 1);

    // The editor's preview is the widget's sanitised HTML.
    let (_, p) = call(
        &app,
        "POST",
        "/v1/merchants/shop/articles/preview",
        &key,
        json!({"body": "**hi** <script>x()</script>"}),
    )
    .await;
    let html = p["html"].as_str().unwrap();
    assert!(
        html.contains("<strong>hi</strong>") && !html.contains("<script"),
        "{html}"
    );
}

/// Every page in Chromium against a real host: see tests/browser/console.mjs.
/// Screenshots are kept in target/console-screenshots.
#[test]
fn the_console_works_in_chromium() {
    let modules = root().join("web-widget/node_modules");
    assert!(modules.join("axe-core").exists(), "run scripts/deps-widget");
    let data = tempfile::tempdir().unwrap();
    let (host, key) = HostProcess::demo(data.path(), &[]);
    let rival = create_merchant_on(&host.url, "rival");
    // A second version of the fatigue policy, for the canary.
    let fatigue = cove_e2e::wasm(guests::FATIGUE);
    let status = reqwest::blocking::Client::new()
        .post(format!(
            "{}/v1/plugins?name=fatigue-policy&version=9.0.0&publisher=cove&signature={}",
            host.url,
            cove_e2e::signed_as_cove(data.path(), &fatigue)
        ))
        .bearer_auth(OPERATOR_TOKEN)
        .body(fatigue)
        .send()
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 201);
    let out = Command::new("node")
        .arg(root().join("tests/browser/console.mjs"))
        .env("COVE_URL", &host.url)
        .env("COVE_KEY", key)
        .env("COVE_RIVAL_KEY", rival)
        .env("COVE_CANDIDATE", "fatigue-policy@9.0.0")
        .env("WIDGET_NODE_MODULES", &modules)
        .env("SHOTS", root().join("target/console-screenshots"))
        .output()
        .expect("running node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser checks failed:\n{stdout}");
    assert!(stdout.contains("all browser checks passed"));
}
