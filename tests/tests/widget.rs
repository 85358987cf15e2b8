//! The storefront widget: its HTTP side in process (surveys, answers,
//! votes, the public endpoints' origin, rate and size guards, isolation),
//! and the whole widget in Debian's Chromium against a real host
//! (`tests/browser/widget.mjs`).

use std::path::PathBuf;
use std::process::Command;

use axum::http::StatusCode;
use cove_e2e::{HostProcess, call, create_merchant, expect_error, host, request, test_limits};
use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A host with two merchants; returns the app and both API keys.
async fn two_shops() -> (axum::Router, String, String, tempfile::TempDir) {
    let (state, dir) = host(None, test_limits()).await;
    let app = cove_host::app(state);
    let key = create_merchant(&app, "shop").await;
    let rival = create_merchant(&app, "rival").await;
    (app, key, rival, dir)
}

async fn public(
    app: &axum::Router,
    method: &str,
    uri: &str,
    origin: &str,
    body: Option<Value>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut headers = vec![("host", "cove.example")];
    if !origin.is_empty() {
        headers.push(("origin", origin));
    }
    let (status, h, bytes) = request(app, method, uri, &headers, body.map(|b| b.to_string())).await;
    (
        status,
        h,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn survey() -> Value {
    json!({
        "title": {"en": "Quick question", "de": "Kurze Frage"},
        "questions": [
            {"id": "nps", "kind": "nps", "prompt": "How likely are you to recommend us?", "required": true},
            {"id": "why", "kind": "choice", "prompt": {"en": "Why?", "de": "Warum?"},
             "options": [{"id": "price", "label": "Price"}, {"id": "speed", "label": {"en": "Speed", "de": "Tempo"}}]},
            {"id": "text", "kind": "text", "prompt": "Anything else?"}
        ],
        "targeting": {"paths": ["/checkout*"], "locales": ["de"], "sample_rate": 0.5},
        "trigger": {"exit_intent": false, "scroll_depth": 60},
        "cooldown_days": 7
    })
}

/// An answer to the exit survey by a visitor of its own.
fn answer(id: &str, answers: Value) -> Value {
    json!({"id": id, "survey": "exit", "visitor": format!("v-{id}"), "locale": "de", "page": "/checkout", "answers": answers})
}

#[tokio::test(flavor = "multi_thread")]
async fn surveys_are_checked_and_answers_stored_once() {
    let (app, key, rival, _dir) = two_shops().await;
    let (status, _) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/surveys/exit",
        &key,
        survey(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // Definitions a visitor could not answer are refused with the reason.
    for (patch, code) in [
        (json!({"questions": []}), "invalid_questions"),
        (
            json!({"questions": [{"id": "q", "kind": "choice", "prompt": "?", "options": [{"id": "a", "label": "A"}]}]}),
            "invalid_options",
        ),
        (
            json!({"targeting": {"sample_rate": 1.5}}),
            "invalid_sample_rate",
        ),
        (
            json!({"targeting": {"paths": ["checkout"]}}),
            "invalid_paths",
        ),
        // The shape that made a page's matcher backtrack for 40 s.
        (
            json!({"targeting": {"paths": ["/*a*a*a*a*a*a*a*a*a*a*a*a*b"]}}),
            "invalid_paths",
        ),
        (
            json!({"targeting": {"paths": ["/shop/**"]}}),
            "invalid_paths",
        ),
        (
            json!({"trigger": {"exit_intent": false}}),
            "invalid_trigger",
        ),
    ] {
        let mut s = survey();
        for (k, v) in patch.as_object().unwrap() {
            s[k] = v.clone();
        }
        let (status, body) = call(&app, "PUT", "/v1/merchants/shop/surveys/bad", &key, s).await;
        expect_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, code);
    }
    // The public config shows it in its locale only, localized.
    let (_, _, de) = public(&app, "GET", "/public/v1/shop/config?locale=de-AT", "", None).await;
    assert_eq!(de["surveys"][0]["title"], "Kurze Frage");
    assert_eq!(
        de["surveys"][0]["questions"][1]["options"][1]["label"],
        "Tempo"
    );
    assert_eq!(de["surveys"][0]["trigger"]["scroll"], 60);
    let (_, _, en) = public(&app, "GET", "/public/v1/shop/config?locale=en", "", None).await;
    assert_eq!(en["surveys"], json!([]), "targeted at German pages only");

    // One visitor's batch: each answer is checked on its own.
    let mut batch = json!({"answers": [
        answer("answer-0001", json!({"nps": 10, "why": "speed", "text": "=cmd()"})),
        answer("answer-0003", json!({"why": "price"})),
        answer("answer-0004", json!({"nps": 11})),
        answer("answer-0005", json!({"nps": 5, "why": "gold"})),
        answer("x", json!({"nps": 5})),
    ]});
    for a in batch["answers"].as_array_mut().unwrap() {
        a["visitor"] = json!("v-1");
    }
    let (status, _, v) = public(
        &app,
        "POST",
        "/public/v1/shop/answers",
        "",
        Some(batch.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["accepted"], json!(["answer-0001"]));
    let codes: Vec<&str> = v["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "missing_answer",
            "invalid_answer",
            "invalid_answer",
            "invalid_answer_id"
        ]
    );
    let one = |a: Value| Some(json!({ "answers": [a] }));
    let (_, _, v) = public(
        &app,
        "POST",
        "/public/v1/shop/answers",
        "",
        one(answer("answer-0002", json!({"nps": 3}))),
    )
    .await;
    assert_eq!(v["accepted"], json!(["answer-0002"]));
    // The same batch again (a retry, a beacon): nothing new.
    let (_, _, again) = public(&app, "POST", "/public/v1/shop/answers", "", Some(batch)).await;
    assert_eq!(again["accepted"], json!([]));
    assert_eq!(again["duplicates"], json!(["answer-0001"]));
    // The same visitor answering again (another tab): one answer per visitor.
    let mut second = answer("answer-0001-tab2", json!({"nps": 0}));
    second["visitor"] = json!("v-1");
    let (_, _, tab) = public(&app, "POST", "/public/v1/shop/answers", "", one(second)).await;
    assert_eq!(tab["duplicates"], json!(["answer-0001-tab2"]), "{tab}");
    // Fifty made-up visitors in one request: refused as a whole.
    let made_up: Vec<Value> = (0..50)
        .map(|i| answer(&format!("stuffed-{i:04}"), json!({"nps": 0})))
        .collect();
    let (status, _, body) = public(
        &app,
        "POST",
        "/public/v1/shop/answers",
        "",
        Some(json!({ "answers": made_up })),
    )
    .await;
    expect_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "mixed_visitors",
    );

    let (status, results) = call(
        &app,
        "GET",
        "/v1/merchants/shop/surveys/exit/results",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(results["responses"], 2);
    let nps = &results["questions"][0]["nps"];
    assert_eq!(
        (
            nps["promoters"].as_u64(),
            nps["detractors"].as_u64(),
            nps["score"].as_f64()
        ),
        (Some(1), Some(1), Some(0.0))
    );
    assert_eq!(results["questions"][1]["choices"][1]["count"], 1);
    assert_eq!(results["questions"][2]["texts"][0]["text"], "=cmd()");
    let (status, _, csv) = request(
        &app,
        "GET",
        "/v1/merchants/shop/surveys/exit/results.csv",
        &[("authorization", &format!("Bearer {key}"))],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.starts_with("answer_id,received_at,locale,page,nps,why,text\n"),
        "{csv}"
    );
    assert!(csv.contains("\"'=cmd()\""), "formulas are defused: {csv}");
    assert_eq!(csv.lines().count(), 3);

    // The readable report, through a link a browser can open.
    let (_, _, v) = public(
        &app,
        "POST",
        "/public/v1/shop/answers",
        "",
        Some(json!({"answers": [answer("answer-0006", json!({"nps": 9, "text": "<b>bold</b>"}))]})),
    )
    .await;
    assert_eq!(v["accepted"], json!(["answer-0006"]));
    let (status, link) = call(
        &app,
        "POST",
        "/v1/merchants/shop/surveys/exit/report-link",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let report = link["report"].as_str().unwrap();
    let (status, h, html) = request(&app, "GET", report, &[], None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = String::from_utf8(html).unwrap();
    assert!(
        html.contains("Quick question") && html.contains("3 responses"),
        "{html}"
    );
    assert!(
        html.contains("NPS +33"),
        "2 promoters, 1 detractor of 3: {html}"
    );
    assert!(
        html.contains("&lt;b&gt;bold&lt;/b&gt;") && !html.contains("<b>bold"),
        "texts are escaped"
    );
    let (status, _, csv) = request(&app, "GET", link["csv"].as_str().unwrap(), &[], None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 4);
    let forged = report.replace("sig=", "sig=0");
    let (status, _, body) = request(&app, "GET", &forged, &[], None).await;
    expect_error(
        status,
        &serde_json::from_slice(&body).unwrap(),
        StatusCode::UNAUTHORIZED,
        "invalid_link",
    );
    let other = report.replace("/surveys/exit/", "/surveys/other/");
    let (status, _, _) = request(&app, "GET", &other, &[], None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a link opens only its own survey"
    );
    let (status, _, _) = request(
        &app,
        "GET",
        "/v1/merchants/shop/surveys/exit/report",
        &[],
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "no link, no key: no report"
    );
    // Links are signed with the shop's own key, not the operator token
    // (a link signed with it is forged)...
    let expires: i64 = report
        .split("expires=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let forged = {
        use hmac::Mac;
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(cove_e2e::OPERATOR_TOKEN.as_bytes())
                .unwrap();
        mac.update(format!("report\nshop\nexit\n{expires}").as_bytes());
        format!(
            "/v1/merchants/shop/surveys/exit/report?expires={expires}&sig={}",
            hex::encode(mac.finalize().into_bytes())
        )
    };
    let (status, _, _) = request(&app, "GET", &forged, &[], None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "signed with the operator token"
    );
    // ...and revoking them stops every link given out.
    let (status, _) = call(
        &app,
        "POST",
        "/v1/merchants/shop/links/revoke",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = request(&app, "GET", report, &[], None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a revoked link");

    // Another merchant sees none of it.
    let (status, body) = call(
        &app,
        "GET",
        "/v1/merchants/shop/surveys/exit/results",
        &rival,
        Value::Null,
    )
    .await;
    expect_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = call(
        &app,
        "POST",
        "/v1/merchants/shop/surveys/exit/report-link",
        &rival,
        Value::Null,
    )
    .await;
    expect_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (_, _, v) = public(
        &app,
        "POST",
        "/public/v1/rival/answers",
        "",
        Some(json!({"answers": [answer("answer-0009", json!({"nps": 1}))]})),
    )
    .await;
    assert_eq!(v["rejected"][0]["code"], "unknown_survey");
}

#[tokio::test(flavor = "multi_thread")]
async fn public_endpoints_guard_origin_rate_and_size() {
    let (app, key, _rival, _dir) = two_shops().await;
    let (status, _) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/widget",
        &key,
        json!({"allowed_origins": ["https://shop.example"], "accent": "#112233"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/widget",
        &key,
        json!({"allowed_origins": ["https://shop.example/path"]}),
    )
    .await;
    expect_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_origin",
    );
    let (status, body) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/widget",
        &key,
        json!({"accent": "red"}),
    )
    .await;
    expect_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_accent",
    );

    // Allowed origin: CORS headers echo it; preflight answered.
    let (status, h, cfg) = public(
        &app,
        "GET",
        "/public/v1/shop/config",
        "https://shop.example",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["access-control-allow-origin"], "https://shop.example");
    assert_eq!(cfg["accent"], "#112233");
    let (status, h, _) = public(
        &app,
        "OPTIONS",
        "/public/v1/shop/answers",
        "https://shop.example",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    // Same-site pages (the host's own demo) need no entry.
    let (status, _, _) = public(
        &app,
        "GET",
        "/public/v1/shop/config",
        "http://cove.example",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Anyone else: refused, with no CORS grant.
    let (status, h, body) = public(
        &app,
        "GET",
        "/public/v1/shop/config",
        "https://evil.example",
        None,
    )
    .await;
    expect_error(status, &body, StatusCode::FORBIDDEN, "origin_not_allowed");
    assert!(h.get("access-control-allow-origin").is_none());
    // A write that names no origin comes from no page (browsers always name
    // one on a write): refused before it reaches the feature.
    let vote = json!({"article": "a", "visitor": "script1", "helpful": true});
    let (status, _, bytes) = request(
        &app,
        "POST",
        "/public/v1/shop/votes",
        &[("host", "cove.example"), ("origin", "")],
        Some(vote.to_string()),
    )
    .await;
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    expect_error(status, &body, StatusCode::FORBIDDEN, "origin_required");

    // Unknown merchants and articles, bad votes, oversized bodies (refused
    // before parsing): each a clear error.
    let big = json!({"answers": [answer("answer-big1", json!({"text": "x".repeat(70_000)}))]});
    for (method, uri, body, want, code) in [
        (
            "GET",
            "/public/v1/nobody/config",
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "POST",
            "/public/v1/shop/votes",
            Some(json!({"article": "none", "visitor": "v", "helpful": true})),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "POST",
            "/public/v1/shop/votes",
            Some(json!({"article": "a", "visitor": "<script>", "helpful": true})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_vote",
        ),
        (
            "POST",
            "/public/v1/shop/answers",
            Some(big),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
    ] {
        let (status, _, body) = public(&app, method, uri, "", body).await;
        expect_error(status, &body, want, code);
    }

    // One visitor hammering gets 429 with Retry-After; the store is untouched.
    let mut limited = None;
    for _ in 0..200 {
        let (status, h, body) = public(&app, "GET", "/public/v1/shop/config", "", None).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((h, body));
            break;
        }
    }
    let (h, body) = limited.expect("a burst of 200 requests is rate-limited");
    expect_error(
        StatusCode::TOO_MANY_REQUESTS,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    );
    assert!(h.get("retry-after").is_some());
    // Another visitor (behind the same proxy, named by x-forwarded-for) is not.
    let (status, _, _) = request(
        &app,
        "GET",
        "/public/v1/shop/config",
        &[("x-forwarded-for", "203.0.113.9, 10.0.0.1")],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn votes_are_one_per_visitor_and_move_the_index_version() {
    let (app, key, _rival, _dir) = two_shops().await;
    let article =
        json!({"locale": "en", "title": "Gift cards", "body": "Gift cards never expire."});
    let (status, _) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/articles/gift",
        &key,
        article,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, _, cfg) = public(&app, "GET", "/public/v1/shop/config?locale=en-GB", "", None).await;
    let first = cfg["index"].as_str().unwrap().to_string();
    assert!(first.starts_with("/public/v1/shop/index/en/"), "{first}");
    let (status, h, bytes) = request(
        &app,
        "GET",
        &format!("{first}/meta"),
        &[("accept-encoding", "gzip")],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["content-encoding"], "gzip");
    assert!(h["cache-control"].to_str().unwrap().contains("immutable"));
    assert!(bytes.len() > 20);
    let vote = |visitor: &str, helpful: bool| json!({"article": "gift", "visitor": visitor, "helpful": helpful});
    // (visitor, helpful) → the article's (helpful, unhelpful) counts after it.
    for (visitor, helpful, counts, why) in [
        ("a", true, (1, 0), "a first vote counts"),
        ("a", true, (1, 0), "same visitor, same vote: counted once"),
        ("a", false, (0, 1), "a changed vote replaces the old one"),
        ("b", true, (1, 1), "another visitor's vote counts too"),
    ] {
        let (_, _, v) = public(
            &app,
            "POST",
            "/public/v1/shop/votes",
            "",
            Some(vote(visitor, helpful)),
        )
        .await;
        assert_eq!(
            (v["helpful"].as_i64(), v["unhelpful"].as_i64()),
            (Some(counts.0), Some(counts.1)),
            "{why}"
        );
    }
    // Votes change the ranking input, so the index gets a new version.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (_, _, cfg) = public(&app, "GET", "/public/v1/shop/config?locale=en", "", None).await;
    assert_ne!(cfg["index"].as_str().unwrap(), first);
    let (status, _, body) = request(&app, "GET", &format!("{first}/meta"), &[], None).await;
    assert_eq!(status, 404, "an outdated index's shards are gone: {body:?}");
    let current = format!("{}/meta", cfg["index"].as_str().unwrap());
    let (status, h, _) = request(&app, "GET", &current, &[], None).await;
    assert_eq!(status, 200);
    assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
}

/// The widget in Chromium against a real host: see tests/browser/widget.mjs.
#[test]
fn the_widget_works_in_chromium() {
    let modules = root().join("web-widget/node_modules");
    assert!(
        modules.join("playwright-core").exists(),
        "run scripts/deps-widget"
    );
    let data = tempfile::tempdir().unwrap();
    // One browser makes every visitor's requests here (searches keystroke
    // by keystroke, then a whole return): more than one visitor's burst.
    let (host, key) = HostProcess::demo(data.path(), &["--public-burst", "1000"]);
    let out = Command::new("node")
        .arg(root().join("tests/browser/widget.mjs"))
        .env("COVE_URL", &host.url)
        .env("COVE_KEY", key)
        .env("WIDGET_NODE_MODULES", &modules)
        .output()
        .expect("running node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser checks failed:\n{stdout}");
    assert!(stdout.contains("all browser checks passed"));
}

/// `cove-bench widget` at smoke size (200 and 1,000 articles), so the bench
/// cannot rot, with its size budgets asserted (sizes, not timings): the
/// runtime fits 40 KiB gzipped, and the first search answered in the page
/// fetches well under half of the sharded index.
#[test]
fn the_widget_bench_runs_at_smoke_size_within_its_budgets() {
    let figures = cove_e2e::bench_smoke(&["widget"]);
    let kb = |k: &str| figures[k].as_f64().unwrap_or(f64::NAN);
    assert!(kb("runtime_gz_kb") <= 40.0, "{figures}");
    assert!(
        kb("index_first_search_kb_1k") < kb("index_gz_kb_1k") / 2.0,
        "{figures}"
    );
    let top1 = figures["search_top1"].as_object().expect("search_top1");
    assert_eq!(top1.len(), 7, "six locales and all: {figures}");
    assert!(top1.values().all(|v| v.as_f64() >= Some(0.9)), "{figures}");
}
