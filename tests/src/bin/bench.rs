//! `cove-bench`: the host's figures, each beside a baseline measured in the
//! same run. Prints a readable report, then one JSON line (last).
//!
//! - `call_p50_us`, `call_p99_us`: fresh sandbox + call + drop, in process,
//!   for one fatigue decision (the reference plugin, real component).
//! - `native_p50_us`, `native_ratio`: the same policy compiled natively, same
//!   inputs; ratio = wasm p50 / native p50.
//! - `http_rps`: decisions through HTTP on loopback, `cove serve` in its own
//!   process, load from `wrk` in another; `http_baseline_rps` is `/healthz`
//!   under the same load, so `http_ratio` shows what the policy call costs.
//! - `swap_p99_ms`: bind returns → the next call answers from the new version.
//! - `swap_failed_requests`: non-2xx and socket errors under load during 100 swaps.
//! - `neighbour_p99_ratio`: merchant B's p99 while merchant A floods with a
//!   plugin that burns most of its fuel on every call, over B's p99 alone.
//! - `hostile_peak_rss_mib`: this process's peak RSS after running every
//!   hostile plugin 200 times (beside the peak before them).
//!
//! Run: `make bench` (or `cargo run --release -p cove-e2e --bin cove-bench`).
//! The widget's figures: `make bench-widget` (`cove-bench widget`, see
//! `bench/widget.rs`); the merchant console's: `make bench-console`
//! (`cove-bench console`, see `bench/console.rs`); customer data's: `make
//! bench-import` (`cove-bench import`, see `bench/import.rs`); abuse from
//! visitors and one merchant: `make bench-abuse` (`cove-bench abuse`, see
//! `bench/abuse.rs`).

#[path = "bench/abuse.rs"]
mod abuse;
#[path = "bench/canary.rs"]
mod canary;
#[path = "bench/console.rs"]
mod console;
#[path = "bench/experiments.rs"]
mod experiments;
#[path = "bench/floor.rs"]
mod floor;
#[path = "bench/import.rs"]
mod import;
#[path = "bench/messaging.rs"]
mod messaging;
#[path = "bench/replay.rs"]
mod replay;
#[path = "bench/returns.rs"]
mod returns;
#[path = "bench/rfm.rs"]
mod rfm;
#[path = "bench/scale.rs"]
mod scale;
#[path = "bench/shadow.rs"]
mod shadow;
#[path = "bench/signin.rs"]
mod signin;
#[path = "bench/widget.rs"]
mod widget;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cove_e2e::{HostProcess, NOON, OPERATOR_TOKEN, fatigue_input, guests, wasm};
use cove_host::platform::registry::inspect;
use cove_host::platform::runtime::{Limits, Runtime, json};
use cove_sdk::fatigue::FatiguePolicy;
use serde_json::{Value, json};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn small_input() -> Value {
    let day = 86_400_000i64;
    fatigue_input(
        "email",
        json!([{"channel": "sms", "sent-at": NOON - day, "campaign-id": "spring", "engaged": true},
            {"channel": "email", "sent-at": NOON - 3 * day, "campaign-id": "", "engaged": true}]),
    )
}

/// The component at `path`, prepared in `rt`, and `input` (keyed by the
/// main function's parameter names) as its arguments.
fn prepared_call(
    rt: &Runtime,
    path: &str,
    input: &Value,
) -> (
    cove_host::platform::runtime::Prepared,
    Vec<wasmtime::component::Val>,
) {
    let (slot, contract, component) = inspect(rt, &wasm(path)).expect("component");
    let prepared = rt.prepare(&component, slot, contract).expect("prepare");
    let params = prepared
        .params
        .iter()
        .map(|(n, t)| json::to_val(t, &input[n]).expect("input"))
        .collect();
    (prepared, params)
}

/// p50 in µs of `call` run natively, timed in batches of 100 so the
/// clock's own cost does not swamp a sub-microsecond call.
fn native_p50(mut call: impl FnMut()) -> f64 {
    let mut native = Vec::with_capacity(2_000);
    for i in 0..2_200 {
        let t = Instant::now();
        for _ in 0..100 {
            call();
        }
        if i >= 200 {
            native.push(t.elapsed().as_secs_f64() * 1e6 / 100.0);
        }
    }
    native.sort_by(f64::total_cmp);
    percentile(&native, 0.5)
}

/// Fresh-instance call latency (µs) of the real component, and natively.
fn in_process() -> InProcess {
    let rt = Runtime::new(Limits::default()).expect("runtime");
    let (prepared, params) = prepared_call(&rt, guests::FATIGUE, &small_input());
    let config: Arc<[(String, String)]> = Arc::from(Vec::new());
    let mut samples = Vec::with_capacity(20_000);
    let mut failures = 0;
    for i in 0..22_000 {
        let t = Instant::now();
        // A wall-clock deadline can fire when the OS parks the thread for
        // the whole budget; such a call still counts, at its full time.
        let out = rt.call(&prepared, &config, NOON, i, &params);
        let dt = t.elapsed().as_secs_f64() * 1e6;
        failures += u32::from(out.is_err());
        std::hint::black_box(out.ok());
        if i >= 2_000 {
            samples.push(dt);
        }
    }
    if failures > 0 {
        println!("in process: {failures} of 22000 calls hit a limit (machine busy?)");
    }
    samples.sort_by(f64::total_cmp);

    // The fixed part: a fresh sandbox and the smallest call the world has.
    let mut fixed = Vec::with_capacity(20_000);
    for i in 0..22_000 {
        let t = Instant::now();
        std::hint::black_box(rt.validate_config(&prepared, &config, NOON).ok());
        if i >= 2_000 {
            fixed.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    fixed.sort_by(f64::total_cmp);

    // Native: the same decision.
    let request = fatigue_policy_request();
    let ctx = cove_sdk::Ctx::for_test(NOON);
    let native_p50 = native_p50(|| {
        std::hint::black_box(
            fatigue_policy::Fatigue::decide(std::hint::black_box(request.clone()), &ctx)
                .expect("native"),
        );
    });
    InProcess {
        p50: percentile(&samples, 0.5),
        p99: percentile(&samples, 0.99),
        fixed_p50: percentile(&fixed, 0.5),
        native_p50,
    }
}

struct InProcess {
    p50: f64,
    p99: f64,
    fixed_p50: f64,
    native_p50: f64,
}

fn fatigue_policy_request() -> cove_sdk::fatigue::MessageRequest {
    use cove_sdk::fatigue::{Contact, MessageRequest};
    use cove_sdk::{Channel, Customer, MessageKind, Region};
    let day = 86_400_000i64;
    MessageRequest {
        customer: Customer {
            id: "c-1".into(),
            region: Region::Europe,
            country: "DE".into(),
            utc_offset_minutes: 60,
            created_at: NOON - 400 * day,
        },
        channel: Channel::Email,
        kind: MessageKind::Promotional,
        campaign_id: "spring".into(),
        tags: vec!["newsletter".into()],
        history: vec![
            Contact {
                channel: Channel::Sms,
                sent_at: NOON - day,
                campaign_id: "spring".into(),
                transactional: false,
                tags: vec![],
                engaged: true,
            },
            Contact {
                channel: Channel::Email,
                sent_at: NOON - 3 * day,
                campaign_id: String::new(),
                transactional: false,
                tags: vec![],
                engaged: true,
            },
        ],
        active_campaigns: vec![],
        suppressed: vec![],
        last_engaged_at: Some(NOON - 2 * day),
        has_trigger_signal: true,
        time_zone: String::new(),
        offsets: vec![],
        segments: vec![],
    }
}

struct Wrk {
    rps: f64,
    failed: u64,
}

/// Whether this is a smoke run (`--smoke`: the test suite's size, so no
/// bench can rot): loads last a second, corpora are a few thousand rows.
fn smoke() -> bool {
    std::env::args().any(|a| a == "--smoke")
}

/// `full`, or a twentieth of it (at least 1) in a smoke run.
fn scaled(full: usize) -> usize {
    if smoke() { (full / 20).max(1) } else { full }
}

fn wrk(url: &str, script: &str, seconds: u64) -> Wrk {
    wrk_with(url, script, seconds, 2, 32)
}

fn wrk_with(url: &str, script: &str, seconds: u64, threads: u32, connections: u32) -> Wrk {
    let seconds = if smoke() { 1 } else { seconds };
    let out = Command::new("wrk")
        .args([
            &format!("-t{threads}"),
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "-s",
            script,
            url,
        ])
        .output()
        .expect("running wrk (apt-get install wrk; `make bench` does)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let number_after = |label: &str| -> Option<f64> {
        let rest = &text[text.find(label)? + label.len()..];
        rest.split_whitespace()
            .next()?
            .trim_end_matches(',')
            .parse()
            .ok()
    };
    let rps =
        number_after("Requests/sec:").unwrap_or_else(|| panic!("wrk printed no rate:\n{text}"));
    let mut failed = number_after("Non-2xx or 3xx responses:").unwrap_or(0.0) as u64;
    if let Some(at) = text.find("Socket errors:") {
        failed += text[at..]
            .lines()
            .next()
            .unwrap_or("")
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse::<u64>().ok())
            .sum::<u64>();
    }
    Wrk { rps, failed }
}

fn main() -> anyhow::Result<()> {
    match std::env::args().nth(1).as_deref() {
        Some("widget") => return widget::run(),
        Some("abuse") => return abuse::run(),
        Some("abuse-load") => return abuse::load(),
        Some("console") => return console::run(),
        Some("import") => return import::run(),
        Some("returns") => return returns::run(),
        Some("experiments") => return experiments::run(),
        Some("rfm") => return rfm::run(),
        Some("messaging") => return messaging::run(),
        Some("signin") => return signin::run(),
        Some("replay") => return replay::run(),
        Some("shadow") => return shadow::run(),
        Some("canary") => return canary::run(),
        Some("floor") => return floor::run(),
        Some("scale") => return scale::run(),
        _ => {}
    }
    let InProcess {
        p50: call_p50,
        p99: call_p99,
        fixed_p50,
        native_p50,
    } = in_process();
    println!(
        "in process: fresh instance + call + drop p50 {call_p50:.1} µs, p99 {call_p99:.1} µs \
         (of which sandbox setup + smallest call {fixed_p50:.1} µs); native {native_p50:.3} µs"
    );
    let (router_decide, router_health, auth) = through_router();
    println!(
        "through the router in process: decision p50 {router_decide:.1} µs, /healthz p50 {router_health:.1} µs; \
         of a decision, the key and scope check p50 {auth:.3} µs"
    );
    if std::env::args().any(|a| a == "--in-process") {
        return Ok(());
    }
    let (rss_before, rss_hostile) = hostile_rss();
    println!(
        "hostile plugins (7 kinds × 200 calls): peak RSS {rss_before:.0} MiB before, {rss_hostile:.0} MiB after"
    );
    let fair = neighbour()?;

    let data = tempfile::tempdir()?;
    // Throughput of one merchant: without the per-merchant rate limit.
    let host = HostProcess::start(
        data.path(),
        &["--seed-demo", guests::DIR, "--merchant-rps", "0"],
    );
    let key = std::fs::read_to_string(data.path().join("demo-api-key"))?;
    let client = reqwest::blocking_client();
    // A second version (same code) to swap between.
    let r = client
        .post(format!(
            "{}/v1/plugins?name=fatigue-policy&version=0.1.1&publisher=cove&signature={}",
            host.url,
            cove_e2e::signed_as_cove(data.path(), &wasm(guests::FATIGUE))
        ))
        .bearer_auth(OPERATOR_TOKEN)
        .body(wasm(guests::FATIGUE))
        .send()?;
    anyhow::ensure!(r.status().is_success(), "publishing 0.1.1: {}", r.text()?);

    let script = post_script(data.path(), "decide.lua", &key, &small_input());
    let invoke = format!("{}/v1/merchants/demo/slots/fatigue-policy/invoke", host.url);
    let empty = data.path().join("get.lua");
    std::fs::write(&empty, "wrk.method = \"GET\"\n")?;
    let baseline = wrk(
        &format!("{}/healthz", host.url),
        empty.to_str().unwrap_or_default(),
        5,
    );
    let decisions = wrk(&invoke, &script, 10);
    println!(
        "HTTP: {:.0} decisions/s ({} failed); /healthz baseline {:.0} req/s",
        decisions.rps, decisions.failed, baseline.rps
    );

    // Swaps under load.
    let load = {
        let (invoke, script) = (invoke.clone(), script.clone());
        std::thread::spawn(move || wrk(&invoke, &script, 12))
    };
    std::thread::sleep(Duration::from_millis(500));
    let mut swaps = Vec::with_capacity(100);
    for i in 0..100 {
        let version = if i % 2 == 0 { "0.1.1" } else { "0.1.0" };
        let r = client
            .put(format!(
                "{}/v1/merchants/demo/slots/fatigue-policy",
                host.url
            ))
            .bearer_auth(OPERATOR_TOKEN)
            .json(&json!({"plugin": format!("fatigue-policy@{version}")}))
            .send()?;
        anyhow::ensure!(r.status().is_success(), "bind failed: {}", r.text()?);
        let returned = Instant::now();
        loop {
            let r = client
                .post(&invoke)
                .bearer_auth(&key)
                .json(&small_input())
                .send()?;
            let plugin = r
                .headers()
                .get("x-cove-plugin")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            if plugin.ends_with(version) {
                break;
            }
            anyhow::ensure!(
                returned.elapsed() < Duration::from_secs(5),
                "swap {i} never took effect"
            );
        }
        swaps.push(returned.elapsed().as_secs_f64() * 1e3);
        std::thread::sleep(Duration::from_millis(50));
    }
    let under_load = load.join().expect("wrk thread");
    swaps.sort_by(f64::total_cmp);
    println!(
        "swaps: p50 {:.2} ms, p99 {:.2} ms; {} failed requests of {:.0} req/s under load",
        percentile(&swaps, 0.5),
        percentile(&swaps, 0.99),
        under_load.failed,
        under_load.rps
    );
    drop(host);

    println!(
        "{}",
        json!({
            "call_p50_us": round(call_p50, 2),
            "call_p99_us": round(call_p99, 2),
            "router_decision_p50_us": round(router_decide, 2),
            "router_healthz_p50_us": round(router_health, 2),
            "auth_check_p50_us": round(auth, 3),
            "setup_p50_us": round(fixed_p50, 2),
            "native_p50_us": round(native_p50, 4),
            "native_ratio": round(call_p50 / native_p50, 1),
            "http_rps": decisions.rps.round(),
            "http_baseline_rps": baseline.rps.round(),
            "http_ratio": round(decisions.rps / baseline.rps, 3),
            "swap_p50_ms": round(percentile(&swaps, 0.5), 3),
            "swap_p99_ms": round(percentile(&swaps, 0.99), 3),
            "swap_failed_requests": under_load.failed + decisions.failed,
            "neighbour_alone_p99_ms": round(fair.alone_p99_ms, 3),
            "neighbour_flooded_p99_ms": round(fair.flooded_p99_ms, 3),
            "neighbour_p99_ratio": round(fair.flooded_p99_ms / fair.alone_p99_ms, 2),
            "flood_rps": fair.flood_rps.round(),
            "hostile_peak_rss_mib": round(rss_hostile, 1),
            "peak_rss_before_hostile_mib": round(rss_before, 1),
        })
    );
    Ok(())
}

/// The decision endpoint and `/healthz` through the router in process (no
/// sockets): p50 µs of each, so the HTTP benchmark's gap can be split into
/// the handler's own cost and the network's; and the p50 µs of checking a
/// key and the route's scope (what every authenticated request pays, the
/// key read from the store once a second as in service).
fn through_router() -> (f64, f64, f64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (state, _dir) = cove_e2e::host(None, Limits::default()).await;
        let app = cove_host::app(state.clone());
        let op = OPERATOR_TOKEN;
        let (status, _) = cove_e2e::publish(
            &app,
            "name=fatigue-policy&version=1.0.0&publisher=cove",
            guests::FATIGUE.as_ref(),
        )
        .await;
        assert!(status.is_success());
        let (_, created) =
            cove_e2e::call(&app, "POST", "/v1/merchants", op, json!({"id": "m"})).await;
        let key = format!("Bearer {}", created["api_key"].as_str().expect("key"));
        let unlimited = json!({"requests_per_sec": 0.0, "burst": 0.0, "plugin_calls": 1});
        cove_e2e::call(&app, "PUT", "/v1/merchants/m/limits", op, unlimited).await;
        let body = small_input().to_string();
        let time = |uri: &'static str, post: bool| {
            let (app, key, body) = (app.clone(), key.clone(), body.clone());
            async move {
                let mut samples = Vec::with_capacity(20_000);
                for i in 0..22_000 {
                    let t = Instant::now();
                    let (status, _, _) = if post {
                        cove_e2e::request(
                            &app,
                            "POST",
                            uri,
                            &[("authorization", &key)],
                            Some(body.clone()),
                        )
                        .await
                    } else {
                        cove_e2e::request(&app, "GET", uri, &[], None).await
                    };
                    assert!(status.is_success(), "{uri}: {status}");
                    if i >= 2_000 {
                        samples.push(t.elapsed().as_secs_f64() * 1e6);
                    }
                }
                samples.sort_by(f64::total_cmp);
                percentile(&samples, 0.5)
            }
        };
        let decide = time("/v1/merchants/m/slots/fatigue-policy/invoke", true).await;
        let health = time("/healthz", false).await;
        let hash = cove_host::platform::http::key_hash(key.trim_start_matches("Bearer "));
        let ip = std::net::IpAddr::from([127, 0, 0, 1]);
        let needs = state.permissions.get().expect("the routes are built");
        let mut samples = Vec::with_capacity(20_000);
        for i in 0..22_000 {
            let t = Instant::now();
            let found = state
                .keys
                .find(&state.store, &hash, ip)
                .await
                .expect("store");
            let scope = needs.needs(
                &axum::http::Method::POST,
                "/v1/merchants/{merchant}/slots/{slot}/invoke",
            );
            assert!(found.is_some_and(|k| k.scopes.meets(scope)));
            if i >= 2_000 {
                samples.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        samples.sort_by(f64::total_cmp);
        (decide, health, percentile(&samples, 0.5))
    })
}

/// Lua script for wrk: POST `body` with a bearer `key`.
fn post_script(dir: &std::path::Path, name: &str, key: &str, body: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "wrk.method = \"POST\"\nwrk.body = '{body}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"Bearer {key}\"\n"
        ),
    )
    .expect("writing a wrk script");
    path.to_str().unwrap_or_default().to_string()
}

/// Merchant B's p99 alone, and while merchant A floods with a plugin that
/// spends most of its fuel on every call (the host's default limits).
struct Neighbour {
    alone_p99_ms: f64,
    flooded_p99_ms: f64,
    flood_rps: f64,
}

fn neighbour() -> anyhow::Result<Neighbour> {
    let data = tempfile::tempdir()?;
    let host = HostProcess::start(data.path(), &["--seed-demo", guests::DIR]);
    let client = reqwest::blocking_client();
    let op = |r: reqwest::blocking::RequestBuilder| -> anyhow::Result<Value> {
        let r = r.bearer_auth(OPERATOR_TOKEN).send()?;
        let status = r.status();
        let body: Value = r.json().unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "{status}: {body}");
        Ok(body)
    };
    op(client
        .post(format!(
            "{}/v1/plugins?name=busy&version=1.0.0&publisher=bench",
            host.url
        ))
        .body(wasm(guests::BUSY)))?;
    let mut keys = Vec::new();
    for (merchant, plugin) in [
        ("flooder", "busy@1.0.0"),
        ("neighbour", "fatigue-policy@0.1.0"),
    ] {
        let created = op(client
            .post(format!("{}/v1/merchants", host.url))
            .json(&json!({"id": merchant})))?;
        keys.push(created["api_key"].as_str().unwrap_or_default().to_string());
        op(client
            .put(format!(
                "{}/v1/merchants/{merchant}/slots/fatigue-policy",
                host.url
            ))
            .json(&json!({"plugin": plugin})))?;
    }
    let invoke = |m: &str| format!("{}/v1/merchants/{m}/slots/fatigue-policy/invoke", host.url);
    let a = post_script(data.path(), "a.lua", &keys[0], &small_input());
    // Make sure the flooder's calls answer (no fallback, no breaker).
    let r = client
        .post(invoke("flooder"))
        .bearer_auth(&keys[0])
        .json(&small_input())
        .send()?;
    anyhow::ensure!(
        r.headers().get("x-cove-fallback").is_none(),
        "the busy plugin fell back: {}",
        r.text()?
    );
    let alone = paced(
        &invoke("neighbour"),
        &keys[1],
        400.0,
        Duration::from_secs(6),
    );
    let flood = {
        let (url, a) = (invoke("flooder"), a.clone());
        std::thread::spawn(move || wrk_with(&url, &a, 9, 1, 32))
    };
    std::thread::sleep(Duration::from_millis(1000));
    let flooded = paced(
        &invoke("neighbour"),
        &keys[1],
        400.0,
        Duration::from_secs(6),
    );
    let flood = flood.join().expect("flood thread");
    println!(
        "neighbours: B (400 req/s) alone p99 {alone:.2} ms; while A floods with a fuel-burning plugin ({:.0} req/s, {} refused) B p99 {flooded:.2} ms",
        flood.rps, flood.failed
    );
    Ok(Neighbour {
        alone_p99_ms: alone,
        flooded_p99_ms: flooded,
        flood_rps: flood.rps,
    })
}

/// p99 latency (ms) of decisions sent at a steady `rate` per second for
/// `span`, from two connections: a storefront's steady traffic.
fn paced(url: &str, key: &str, rate: f64, span: Duration) -> f64 {
    let body = small_input();
    let per_thread = rate / 2.0;
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (url, key, body) = (url.to_string(), key.to_string(), body.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking_client();
                let start = Instant::now();
                let mut samples = Vec::new();
                let mut n = 0u32;
                while start.elapsed() < span {
                    let due = start + Duration::from_secs_f64(f64::from(n) / per_thread);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let t = Instant::now();
                    let ok = client
                        .post(&url)
                        .bearer_auth(&key)
                        .json(&body)
                        .send()
                        .is_ok_and(|r| r.status().is_success());
                    if ok {
                        samples.push(t.elapsed().as_secs_f64() * 1e3);
                    }
                    n += 1;
                }
                samples
            })
        })
        .collect();
    let mut all: Vec<f64> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("client thread"))
        .collect();
    all.sort_by(f64::total_cmp);
    percentile(&all, 0.99)
}

/// A memory field of `/proc/{process}/status` (`VmRSS`, `VmHWM`: the
/// peak so far), in MiB; `process` is a pid or `self`. 0 if unreadable.
fn status_mib(process: impl std::fmt::Display, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with(field))?.to_string();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Peak RSS before and after running every hostile plugin 200 times in
/// process (loops, memory bombs, deep recursion, traps, panics, oversized
/// and aliased answers).
fn hostile_rss() -> (f64, f64) {
    let rt = Runtime::new(Limits::default()).expect("runtime");
    let before = status_mib("self", "VmHWM:");
    let fatigue = small_input();
    let rfm = json!({"model": {"recency-cuts": [], "frequency-cuts": [], "monetary-cuts": [], "bgnbd": null,
        "gamma-gamma": null, "unit-days": 1.0, "clv-percentiles": [], "spent-percentiles": [],
        "purchases-percentiles": []}, "customers": []});
    for plugin in [
        guests::LOOP_FOREVER,
        guests::GROW_MEMORY,
        guests::RECURSE,
        guests::TRAP,
        guests::PANIC,
        guests::OVERSIZED_OUTPUT,
        guests::ALIASED_OUTPUT,
    ] {
        let (slot, contract, component) = inspect(&rt, &wasm(plugin)).expect("component");
        let prepared = rt.prepare(&component, slot, contract).expect("prepare");
        let input = if slot == cove_host::platform::slots::Slot::Rfm {
            &rfm
        } else {
            &fatigue
        };
        let params: Vec<_> = prepared
            .params
            .iter()
            .map(|(n, t)| json::to_val(t, &input[n]).unwrap_or_else(|e| panic!("{plugin}: {e:?}")))
            .collect();
        let config: Arc<[(String, String)]> = Arc::from(Vec::new());
        for i in 0..200 {
            let out = rt.call(&prepared, &config, NOON, i, &params);
            assert!(out.is_err(), "{plugin} answered");
        }
    }
    (before, status_mib("self", "VmHWM:"))
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

mod reqwest {
    //! A blocking HTTP client for the benchmark's control requests.
    pub use ::reqwest::*;
    /// The client.
    pub fn blocking_client() -> blocking::Client {
        blocking::Client::new()
    }
}
