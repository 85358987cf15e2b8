//! `cove-bench signin`: what a console sign-in costs (Argon2id at the
//! host's cost, [`cove_host::platform::team::ARGON2`]), for a member and
//! for an address nobody has (which must take as long, so the answer does
//! not tell who is a member); and, as the baseline, a key sign-in, which
//! hashes nothing. In process, one sign-in at a time.

use std::time::Instant;

use cove_e2e::{OPERATOR_TOKEN, call, host, request, test_limits};

use super::{percentile, round};
use serde_json::{Value, json};

/// Run it; prints the figures as one JSON line.
pub fn run() -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let (state, _dir) = host(None, test_limits()).await;
        let app = cove_host::app(state);
        let (_, made) = call(&app, "POST", "/v1/merchants", OPERATOR_TOKEN, json!({"id": "shop"})).await;
        let key = made["api_key"].as_str().expect("a key").to_string();
        let (_, inv) = call(
            &app,
            "POST",
            "/v1/merchants/shop/invitations",
            &key,
            json!({"email": "pat@example.com", "role": "editor"}),
        )
        .await;
        let token = inv["link"].as_str().expect("a link").split_once("#invite=").expect("a token").1.to_string();
        let password = "a long and unusual phrase";
        let (s, _, _) = request(
            &app,
            "POST",
            &format!("/console/invitations/{token}"),
            &[],
            Some(json!({"password": password}).to_string()),
        )
        .await;
        anyhow::ensure!(s.is_success(), "joining: {s}");
        let n = super::scaled(60).max(5);
        let time = |body: Value, ok: u16| {
            let app = app.clone();
            async move {
                let mut samples = Vec::with_capacity(n);
                for i in 0..n {
                    // Each from its own address: the per-address limit is
                    // not what is measured.
                    let ip = format!("10.9.{}.{}", i / 250, i % 250 + 1);
                    let t = Instant::now();
                    let (s, _, _) = request(&app, "POST", "/console/session", &[("x-forwarded-for", &ip)], Some(body.to_string())).await;
                    samples.push(t.elapsed().as_secs_f64() * 1e3);
                    assert_eq!(s.as_u16(), ok, "{body}");
                }
                samples.sort_by(f64::total_cmp);
                percentile(&samples, 0.5)
            }
        };
        let member = time(json!({"email": "pat@example.com", "password": password}), 201).await;
        // Unknown addresses, each once (a repeated one would back off).
        let mut unknown = Vec::with_capacity(n);
        for i in 0..n {
            let t = Instant::now();
            let body = json!({"email": format!("nobody{i}@example.com"), "password": password});
            let ip = format!("10.8.{}.{}", i / 250, i % 250 + 1);
            let (s, _, _) = request(&app, "POST", "/console/session", &[("x-forwarded-for", &ip)], Some(body.to_string())).await;
            unknown.push(t.elapsed().as_secs_f64() * 1e3);
            assert_eq!(s.as_u16(), 401);
        }
        unknown.sort_by(f64::total_cmp);
        let unknown = percentile(&unknown, 0.5);
        let with_key = time(json!({"key": key}), 201).await;
        let (m, t, p) = cove_host::platform::team::ARGON2;
        println!(
            "sign-in p50: member {member:.1} ms, unknown address {unknown:.1} ms, key (no hashing) {with_key:.2} ms; Argon2id m={m} KiB t={t} p={p}"
        );
        println!(
            "{}",
            json!({
                "signin_p50_ms": round(member, 1),
                "signin_unknown_p50_ms": round(unknown, 1),
                "signin_unknown_ratio": round(unknown / member, 3),
                "signin_key_p50_ms": round(with_key, 3),
                "argon2_m_kib": m,
                "argon2_t": t,
            })
        );
        Ok(())
    })
}
