//! A merchant's team: invitations (one-time links that expire), passwords
//! (long enough, not common, Argon2id), one-time codes (RFC 6238, each
//! used once; required for owners when the operator says so), roles
//! walked against every route of the spec, the last owner, throttled
//! sign-ins and keys, and an audit log that names who changed what.

use std::time::Duration;

use axum::http::StatusCode;
use cove_e2e::{call, create_merchant, host, host_with, request, test_limits};
use cove_host::platform::team::{Role, totp_at};
use serde_json::{Value, json};

/// A console session: its cookie and CSRF token.
#[derive(Clone)]
struct Session {
    cookie: String,
    csrf: String,
}

async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let (s, h, bytes) = request(app, method, uri, headers, body.map(|b| b.to_string())).await;
    (s, h, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

impl Session {
    /// From a 201 that set the cookie.
    fn from(h: &axum::http::HeaderMap, body: &Value) -> Session {
        let set = h["set-cookie"].to_str().unwrap();
        Session {
            cookie: set.split(';').next().unwrap().to_string(),
            csrf: body["csrf"].as_str().unwrap().to_string(),
        }
    }

    async fn call(
        &self,
        app: &axum::Router,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let headers = [
            ("cookie", self.cookie.as_str()),
            ("x-cove-csrf", self.csrf.as_str()),
        ];
        let (s, _, v) = send(app, method, uri, &headers, body).await;
        (s, v)
    }
}

async fn shop() -> (axum::Router, String, tempfile::TempDir) {
    let (state, dir) = host(None, test_limits()).await;
    let app = cove_host::app(state);
    let key = create_merchant(&app, "shop").await;
    (app, key, dir)
}

/// Invite `email` as `role` with `key`; the link's token.
async fn invite(app: &axum::Router, key: &str, email: &str, role: &str) -> String {
    let (s, v) = call(
        app,
        "POST",
        "/v1/merchants/shop/invitations",
        key,
        json!({"email": email, "role": role}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let link = v["link"].as_str().unwrap();
    link.split_once("#invite=").unwrap().1.to_string()
}

async fn accept(
    app: &axum::Router,
    token: &str,
    body: Value,
) -> (StatusCode, Value, Option<Session>) {
    let (s, h, v) = send(
        app,
        "POST",
        &format!("/console/invitations/{token}"),
        &[("x-forwarded-for", "10.0.0.1")],
        Some(body),
    )
    .await;
    let session = (s == StatusCode::CREATED).then(|| Session::from(&h, &v));
    (s, v, session)
}

/// A member of `role` who joined with a good password; their session.
async fn member(app: &axum::Router, key: &str, email: &str, role: &str) -> Session {
    let token = invite(app, key, email, role).await;
    let (s, v, session) = accept(
        app,
        &token,
        json!({"password": "a long and unusual phrase"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    session.unwrap()
}

async fn sign_in(
    app: &axum::Router,
    ip: &str,
    body: Value,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    send(
        app,
        "POST",
        "/console/session",
        &[("x-forwarded-for", ip)],
        Some(body),
    )
    .await
}

fn code_now(secret: &str) -> String {
    totp_at(secret, cove_host::now_ms() / 1000 / 30).unwrap()
}

#[tokio::test]
async fn an_invitation_is_a_one_time_link_that_expires() {
    let (app, key, _dir) = shop().await;
    let token = invite(&app, &key, " Ana@Example.COM ", "analyst").await;
    let (s, _, shown) = send(
        &app,
        "GET",
        &format!("/console/invitations/{token}"),
        &[],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{shown}");
    assert_eq!(shown["email"], "ana@example.com");
    assert_eq!(shown["role"], "analyst");
    assert_eq!(shown["merchant"], "shop");
    assert_eq!(shown["account"], false);
    // The team lists it, without its link.
    let (_, team) = call(&app, "GET", "/v1/merchants/shop/members", &key, Value::Null).await;
    assert_eq!(team["invitations"][0]["email"], "ana@example.com");
    assert!(team["invitations"][0].get("link").is_none());
    assert!(!team.to_string().contains(&token));
    // Weak passwords are refused, saying why; the link still works.
    for (password, why) in [
        ("short1", "at least 10"),
        ("password123", "common"),
        ("qwertyuiop", "common"),
        ("ana-example-shop", "e-mail"),
    ] {
        let (s, v, _) = accept(&app, &token, json!({"password": password})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{password}: {v}");
        assert_eq!(v["code"], "weak_password");
        assert!(v["message"].as_str().unwrap().contains(why), "{v}");
    }
    let (s, v, session) = accept(&app, &token, json!({"password": "tea at the lighthouse"})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["actor"], "member:ana@example.com");
    assert_eq!(v["scopes"], json!(["read"]));
    let session = session.unwrap();
    let (s, _) = session
        .call(&app, "GET", "/v1/merchants/shop/articles", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    // Used once: the second time the link is dead.
    let (s, v, _) = accept(&app, &token, json!({"password": "tea at the lighthouse"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["code"], "invalid_invitation");
    // An expired link is dead too.
    let (s, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/invitations",
        &key,
        json!({"email": "late@example.com", "role": "editor", "expires_hours": 0.0003}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let late = v["link"]
        .as_str()
        .unwrap()
        .split_once("#invite=")
        .unwrap()
        .1
        .to_string();
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let (s, v, _) = accept(&app, &late, json!({"password": "tea at the lighthouse"})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("invalid_invitation"))
    );
    // A member cannot be invited twice; bad input says which field.
    let (s, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/invitations",
        &key,
        json!({"email": "ana@example.com", "role": "editor"}),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_member"))
    );
    let (s, v) = call(
        &app,
        "POST",
        "/v1/merchants/shop/invitations",
        &key,
        json!({"email": "not-an-address", "role": "editor"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["code"], "invalid_member_request");
}

#[tokio::test]
async fn members_sign_in_with_a_password_and_a_one_time_code_used_once() {
    let (app, key, _dir) = shop().await;
    member(&app, &key, "eve@example.com", "editor").await;
    let good = json!({"email": "eve@example.com", "password": "a long and unusual phrase"});
    let (s, h, v) = sign_in(&app, "10.1.0.1", good.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["member"], "eve@example.com");
    let session = Session::from(&h, &v);
    // A wrong password and an unknown address get the same answer.
    let (s1, _, wrong) = sign_in(
        &app,
        "10.1.0.2",
        json!({"email": "eve@example.com", "password": "not the password at all"}),
    )
    .await;
    let (s2, _, unknown) = sign_in(
        &app,
        "10.1.0.3",
        json!({"email": "nobody@example.com", "password": "not the password at all"}),
    )
    .await;
    assert_eq!(
        (s1, s2),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(wrong, unknown, "the answer does not tell who is a member");
    assert_eq!(wrong["code"], "sign_in_failed");

    // Turn on one-time codes.
    let (s, offer) = session.call(&app, "GET", "/console/totp", None).await;
    assert_eq!(s, StatusCode::OK, "{offer}");
    let secret = offer["secret"].as_str().unwrap().to_string();
    assert!(
        offer["uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let (s, v) = session
        .call(
            &app,
            "PUT",
            "/console/totp",
            Some(json!({"secret": secret, "code": "000000"})),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a wrong code turns nothing on: {v}"
    );
    let (s, v) = session
        .call(
            &app,
            "PUT",
            "/console/totp",
            Some(json!({"secret": secret, "code": code_now(&secret)})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    // Now the password alone asks for the code; the code lets them in once.
    let (s, _, v) = sign_in(&app, "10.1.0.4", good.clone()).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("totp_needed"))
    );
    let mut with_code = good.clone();
    with_code["code"] = json!(code_now(&secret));
    let (s, _, v) = sign_in(&app, "10.1.0.4", with_code.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, _, v) = sign_in(&app, "10.1.0.5", with_code).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "a code works once: {v}");
    let (_, team) = call(&app, "GET", "/v1/merchants/shop/members", &key, Value::Null).await;
    assert_eq!(team["members"][0]["totp"], true, "{team}");
}

#[tokio::test]
async fn owners_set_up_a_code_when_the_operator_requires_it() {
    let (state, _dir) = host_with(None, test_limits(), |s| s.owner_totp = true).await;
    let app = cove_host::app(state);
    let key = create_merchant(&app, "shop").await;
    let token = invite(&app, &key, "olga@example.com", "owner").await;
    let (_, _, shown) = send(
        &app,
        "GET",
        &format!("/console/invitations/{token}"),
        &[],
        None,
    )
    .await;
    assert_eq!(shown["totp_required"], true, "{shown}");
    let secret = shown["totp"]["secret"].as_str().unwrap().to_string();
    let (s, v, _) = accept(
        &app,
        &token,
        json!({"password": "a long and unusual phrase"}),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("totp_required"))
    );
    let (s, v, _) = accept(
        &app,
        &token,
        json!({"password": "a long and unusual phrase", "totp_secret": secret, "totp_code": code_now(&secret)}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // Analysts need none.
    member(&app, &key, "ann@example.com", "analyst").await;
}

/// Every merchant route in the spec, with a session of each role: refused
/// with `missing_permission` exactly when none of the scopes the spec
/// declares for the route is the role's.
#[tokio::test]
async fn every_route_checks_the_role_against_the_spec() {
    let (app, key, _dir) = shop().await;
    let (_, _, spec) = send(&app, "GET", "/openapi.json", &[], None).await;
    let mut sessions = Vec::new();
    for role in [Role::Owner, Role::Editor, Role::Analyst, Role::Support] {
        let email = format!("{}@example.com", role.name());
        let s = member(&app, &key, &email, role.name()).await;
        sessions.push((role, s));
    }
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/merchants/{merchant}") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let declared: Vec<&str> = op["security"][0]["bearer"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            let uri = path
                .replace("{merchant}", "shop")
                .split('/')
                .map(|seg| if seg.starts_with('{') { "x" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            for (role, session) in &sessions {
                let (s, v) = session
                    .call(&app, &method.to_uppercase(), &uri, Some(json!({})))
                    .await;
                if v["code"] == "forbidden" {
                    continue; // operator-only
                }
                let refused = s == StatusCode::FORBIDDEN && v["code"] == "missing_permission";
                let allowed = role
                    .scopes()
                    .list()
                    .iter()
                    .any(|sc| declared.contains(&sc.name()));
                assert_eq!(
                    refused,
                    !allowed,
                    "{method} {path} needs {declared:?}; {} got {s} {v}",
                    role.name()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 200, "{checked} route × role pairs");
}

#[tokio::test]
async fn the_last_owner_stays_and_a_removed_member_is_signed_out() {
    let (app, key, _dir) = shop().await;
    let owner = member(&app, &key, "own@example.com", "owner").await;
    let uri = "/v1/merchants/shop/members/own@example.com";
    let (s, v) = owner.call(&app, "DELETE", uri, None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("last_owner"))
    );
    let (s, v) = owner
        .call(&app, "PUT", uri, Some(json!({"role": "editor"})))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("last_owner"))
    );
    let helper = member(&app, &key, "help@example.com", "support").await;
    let (s, _) = helper
        .call(&app, "GET", "/v1/merchants/shop/returns", None)
        .await;
    assert_eq!(s, StatusCode::OK, "support reads returns");
    let (s, v) = helper
        .call(&app, "GET", "/v1/merchants/shop/experiments", None)
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("missing_permission"))
    );
    // Promoted, the member's session may do more at once.
    let (s, _) = owner
        .call(
            &app,
            "PUT",
            "/v1/merchants/shop/members/help@example.com",
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = helper
        .call(&app, "GET", "/v1/merchants/shop/experiments", None)
        .await;
    assert_eq!(s, StatusCode::OK, "the new role holds in the live session");
    // Now the first owner may step down; removed, they are signed out.
    let (s, _) = helper.call(&app, "DELETE", uri, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = owner
        .call(&app, "GET", "/v1/merchants/shop/articles", None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (_, team) = helper
        .call(&app, "GET", "/v1/merchants/shop/members", None)
        .await;
    let emails: Vec<&str> = team["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["help@example.com"]);
}

#[tokio::test]
async fn failed_sign_ins_and_wrong_keys_back_off_per_account() {
    let (app, key, _dir) = shop().await;
    member(&app, &key, "sam@example.com", "editor").await;
    let wrong = json!({"email": "sam@example.com", "password": "wrong wrong wrong"});
    // Each try from another address: the account itself is throttled.
    let mut codes = Vec::new();
    let mut retry = None;
    for i in 0..8 {
        let (s, h, _) = sign_in(&app, &format!("10.2.0.{i}"), wrong.clone()).await;
        codes.push(s.as_u16());
        if s == StatusCode::TOO_MANY_REQUESTS {
            retry = h
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
        }
    }
    assert_eq!(&codes[..6], [401; 6], "{codes:?}");
    assert!(codes[6..].contains(&429), "{codes:?}");
    assert!(retry.is_some_and(|r| r.parse::<u64>().unwrap() >= 1));
    // Even the right password waits; another account does not.
    let (s, _, _) = sign_in(
        &app,
        "10.2.1.1",
        json!({"email": "sam@example.com", "password": "a long and unusual phrase"}),
    )
    .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    member(&app, &key, "kim@example.com", "editor").await;
    let (s, _, _) = sign_in(
        &app,
        "10.2.1.2",
        json!({"email": "kim@example.com", "password": "a long and unusual phrase"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    // One address trying many accounts: after the address's burst (20)
    // it waits, and its guesses cost no password check.
    let mut codes = Vec::new();
    for i in 0..24 {
        let body =
            json!({"email": format!("guess{i}@example.com"), "password": "wrong wrong wrong"});
        let (s, _, _) = sign_in(&app, "10.5.0.1", body).await;
        codes.push(s.as_u16());
    }
    // (Each check takes ~0.1 s, so the bucket may refill one token.)
    assert_eq!(&codes[..20], [401; 20], "{codes:?}");
    assert!(
        codes.contains(&429) && codes.iter().filter(|c| **c == 401).count() <= 22,
        "{codes:?}"
    );
    // Wrong keys that start like a real one, from many addresses, back off
    // too; the real key still works (it is known, so never looked up).
    let prefix = &key[..9];
    let mut codes = Vec::new();
    for i in 0..8 {
        let guess = format!("{prefix}{:0>48}", i);
        let auth = format!("Bearer {guess}");
        let ip = format!("10.3.0.{i}");
        let (s, _, _) = send(
            &app,
            "GET",
            "/v1/merchants/shop/articles",
            &[("authorization", &auth), ("x-forwarded-for", &ip)],
            None,
        )
        .await;
        codes.push(s.as_u16());
    }
    assert_eq!(&codes[..6], [401; 6], "{codes:?}");
    assert!(codes[6..].contains(&429), "{codes:?}");
    let (s, _) = call(
        &app,
        "GET",
        "/v1/merchants/shop/articles",
        &key,
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn the_audit_names_the_member_or_the_key_behind_each_change() {
    let (app, key, _dir) = shop().await;
    let editor = member(&app, &key, "ed@example.com", "editor").await;
    let article = json!({"locale": "en", "title": "Shipping", "body": "Two days."});
    let (s, v) = editor
        .call(
            &app,
            "PUT",
            "/v1/merchants/shop/articles/shipping",
            Some(article),
        )
        .await;
    assert!(s.is_success(), "{v}");
    let (s, v) = call(
        &app,
        "PUT",
        "/v1/merchants/shop/widget",
        &key,
        json!({"accent": "#0b6e4f"}),
    )
    .await;
    assert!(s.is_success(), "{v}");
    let (_, audit) = call(&app, "GET", "/v1/merchants/shop/audit", &key, Value::Null).await;
    let events = audit["events"].as_array().unwrap();
    let find = |subject: &str| {
        events
            .iter()
            .find(|e| e["slot"] == subject)
            .unwrap_or_else(|| panic!("no {subject} event in {audit}"))
    };
    assert_eq!(find("articles")["actor"], "member:ed@example.com");
    assert_eq!(find("articles")["action"], "change");
    assert_eq!(
        find("widget")["actor"],
        format!("key:first key ({}…)", &key[..9])
    );
    assert_eq!(find("members")["action"], "join");
    // Every line names someone.
    for e in events {
        let actor = e["actor"].as_str().unwrap();
        assert!(
            actor.starts_with("member:")
                || actor.starts_with("key:")
                || actor.starts_with("operator"),
            "{e}"
        );
    }
}

/// One person, two shops: the second invitation asks for the password
/// they have; signing in then names the shops to choose from, and the
/// chosen one opens.
#[tokio::test]
async fn a_member_of_two_shops_chooses_one() {
    let (app, key, _dir) = shop().await;
    let other = create_merchant(&app, "other").await;
    member(&app, &key, "max@example.com", "editor").await;
    let (s, v) = call(
        &app,
        "POST",
        "/v1/merchants/other/invitations",
        &other,
        json!({"email": "max@example.com", "role": "analyst"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let token = v["link"]
        .as_str()
        .unwrap()
        .split_once("#invite=")
        .unwrap()
        .1
        .to_string();
    let (_, _, shown) = send(
        &app,
        "GET",
        &format!("/console/invitations/{token}"),
        &[],
        None,
    )
    .await;
    assert_eq!(shown["account"], true, "{shown}");
    let (s, v, _) = accept(
        &app,
        &token,
        json!({"password": "not their password at all"}),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("sign_in_failed"))
    );
    let (s, v, _) = accept(
        &app,
        &token,
        json!({"password": "a long and unusual phrase"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["merchant"], "other");
    let password = json!({"email": "max@example.com", "password": "a long and unusual phrase"});
    let (s, _, v) = sign_in(&app, "10.4.0.1", password.clone()).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("choose_merchant"))
    );
    assert_eq!(v["merchants"], json!(["shop", "other"]));
    let mut chosen = password;
    chosen["merchant"] = json!("other");
    let (s, _, v) = sign_in(&app, "10.4.0.1", chosen).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["merchant"].as_str(), v["scopes"].clone()),
        (Some("other"), json!(["read"]))
    );
}
