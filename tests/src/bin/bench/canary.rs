//! `cove-bench canary`: how fast a canary that starts failing is taken
//! back, on two `cove serve` replicas of one PostgreSQL database under
//! load on both. Each round starts a canary of a version that fails for
//! every customer it gets (at 5%), sends new customers to both replicas,
//! and measures, from the first failure a client saw: the candidate's
//! calls until the rollback (`canary_rollback_calls`) and the time until
//! neither replica sends anyone to it (`canary_rollback_ms`), next to the
//! replicas' sync interval (the floor for the replica that did not see
//! it).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cove_e2e::{OPERATOR_TOKEN, Replicas, call_url, fatigue_input_for, guests, wait_for_version};
use serde_json::{Value, json};

use super::round;

/// The replicas' sync interval (`cove serve --sync-ms`, its default).
const SYNC_MS: f64 = 200.0;

/// What one client saw: when the candidate answered or failed, per replica.
#[derive(Default)]
struct Seen {
    first_failure: Option<Instant>,
    last_candidate: [Option<Instant>; 2],
    candidate_calls: u64,
}

/// One canary, failing for the customers of both replicas, or (`one`)
/// only for those sent to the first: the second then learns of the
/// rollback from the database.
async fn round_once(r: &Replicas, n: usize, one: bool) -> anyhow::Result<(f64, f64)> {
    let (s, v) = call_url(
        &r.a.url,
        &r.key,
        ::reqwest::Method::PUT,
        "/v1/merchants/shop/slots/fatigue-policy/canary",
        json!({"plugin": "flaky@1.0.0", "steps": [5]}),
    )
    .await;
    anyhow::ensure!(s == 200, "{v}");
    // Both replicas route by it.
    tokio::time::sleep(Duration::from_millis(2 * SYNC_MS as u64)).await;
    let seen = Arc::new(std::sync::Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..4 {
        let (seen, stop) = (seen.clone(), stop.clone());
        let urls = [r.a.url.clone(), r.b.url.clone()];
        let key = r.key.clone();
        clients.spawn(async move {
            let client = ::reqwest::Client::new();
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) && i < n {
                let which = (c + i) % 2;
                let mut input = fatigue_input_for(1);
                let prefix = if one && which == 1 { "healthy" } else { "late" };
                input["request"]["customer"]["id"] =
                    json!(format!("{prefix}-{c}-{i}-{}", rand_tag()));
                i += 1;
                let Ok(resp) = client
                    .post(format!(
                        "{}/v1/merchants/shop/slots/fatigue-policy/invoke",
                        urls[which]
                    ))
                    .bearer_auth(&key)
                    .json(&input)
                    .send()
                    .await
                else {
                    continue;
                };
                let v: Value = resp.json().await.unwrap_or(Value::Null);
                let now = Instant::now();
                let candidate = !v["fallback"].is_null() || v["plugin"] == "flaky@1.0.0";
                if candidate {
                    let mut s = seen.lock().expect("seen lock");
                    s.first_failure.get_or_insert(now);
                    s.last_candidate[which] = Some(now);
                    s.candidate_calls += 1;
                }
            }
        });
    }
    // Until the canary is rolled back, then a second more to see that
    // nobody reaches the candidate any more.
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (_, v) = call_url(
            &r.a.url,
            &r.key,
            ::reqwest::Method::GET,
            "/v1/merchants/shop/slots/fatigue-policy/canary",
            Value::Null,
        )
        .await;
        if v["state"] == "rolled_back" || started.elapsed() > Duration::from_secs(60) {
            anyhow::ensure!(v["state"] == "rolled_back", "never rolled back: {v}");
            break;
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    while clients.join_next().await.is_some() {}
    let s = seen.lock().expect("seen lock");
    let first = s
        .first_failure
        .ok_or_else(|| anyhow::anyhow!("the candidate never answered"))?;
    let last = s
        .last_candidate
        .iter()
        .flatten()
        .max()
        .copied()
        .unwrap_or(first);
    Ok((
        s.candidate_calls as f64,
        last.duration_since(first).as_secs_f64() * 1e3,
    ))
}

/// A tag that makes each round's customers new.
fn rand_tag() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Run it; prints the figures as one JSON line.
pub fn run() -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let pg = cove_e2e::Postgres::start();
    rt.block_on(async {
        let r = Replicas::start(&pg, "canary_bench", &["--merchant-rps", "0"]).await;
        let up = ::reqwest::Client::new()
            .post(format!("{}/v1/plugins?name=flaky&version=1.0.0", r.a.url))
            .bearer_auth(OPERATOR_TOKEN)
            .body(std::fs::read(guests::FLAKY)?)
            .send()
            .await?;
        anyhow::ensure!(up.status().is_success(), "publishing flaky: {}", up.text().await?);
        let (s, v) = call_url(
            &r.a.url,
            OPERATOR_TOKEN,
            ::reqwest::Method::PUT,
            "/v1/merchants/shop/slots/fatigue-policy",
            json!({"plugin": "fatigue-policy@1.0.0"}),
        )
        .await;
        anyhow::ensure!(s == 200, "{v}");
        wait_for_version(&r.b.url, &r.key, "fatigue-policy@1.0.0").await;
        let rounds = super::scaled(20).max(1);
        let (mut calls, mut ms, mut one_ms) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let (c, t) = round_once(&r, 100_000, false).await?;
            println!("failing on both: {c} candidate calls, {t:.0} ms from its first failure to none on either replica");
            calls.push(c);
            ms.push(t);
            let (c, t) = round_once(&r, 100_000, true).await?;
            println!("failing on one: {c} candidate calls, {t:.0} ms from its first failure to none on either replica");
            one_ms.push(t);
        }
        for v in [&mut calls, &mut ms, &mut one_ms] {
            v.sort_by(f64::total_cmp);
        }
        let median = |v: &[f64]| v[v.len() / 2];
        println!(
            "{}",
            json!({
                "canary_rounds": rounds,
                "canary_rollback_calls": median(&calls),
                "canary_rollback_calls_max": calls[calls.len() - 1],
                "canary_rollback_ms": round(median(&ms), 0),
                "canary_rollback_ms_max": round(ms[ms.len() - 1], 0),
                "canary_rollback_ms_one_replica": round(median(&one_ms), 0),
                "canary_rollback_ms_one_replica_max": round(one_ms[one_ms.len() - 1], 0),
                "sync_ms": SYNC_MS,
                "one_replica_vs_sync": round(median(&one_ms) / SYNC_MS, 2),
            })
        );
        Ok(())
    })
}
