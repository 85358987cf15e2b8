//! `cove-bench abuse [--smoke]`: what visitors and one merchant can take
//! from a host with default limits, as the host process sees it.
//!
//! - `public_flood_rss_growth_mb`: the host's resident memory after 2,000
//!   requests of each public attack (made-up locales for the index cache,
//!   made-up merchants of 60 KB names, 60 KB experiment attributes,
//!   made-up votes, survey answers and missed searches), each from its
//!   own address, over its resident memory before.
//! - `import_huge_record_rss_growth_mb`: the host's peak resident memory
//!   while one merchant streams a 1 GiB CSV record (a quote left open),
//!   over its peak before.
//! - `photo_disk_growth_mb`: the data directory's growth while one address
//!   with one real order number and e-mail starts returns and uploads
//!   4 MiB photos for 60 s.
//! - `neighbour_p99_ratio_under_abuse`: merchant B's p99 (a fatigue
//!   decision) while merchant A starts 20 RFM runs, 6 send batches and a
//!   1 GiB import and visitors flood A's public endpoints, over B's p99
//!   alone in the same run. The attackers are a process of their own at
//!   the lowest CPU priority (`nice -n 19 cove-bench abuse-load`), so on
//!   a small machine the figure measures the host, not the load
//!   generator taking B's client's core.
//!
//! Targets: each growth ≤ 50 MB, the ratio ≤ 2. `--smoke` runs every part
//! small (the tests run it so the bench cannot rot).

use std::io::Read;
use std::time::{Duration, Instant};

use cove_e2e::{HostProcess, OPERATOR_TOKEN, fatigue_input};
use serde_json::{Value, json};

use super::{percentile, status_mib};

/// Sizes of one run.
struct Size {
    flood: usize,
    record: u64,
    photo_secs: u64,
    samples: usize,
}

const FULL: Size = Size {
    flood: 2_000,
    record: 1 << 30,
    photo_secs: 60,
    samples: 1_000,
};
const SMOKE: Size = Size {
    flood: 40,
    record: 8 << 20,
    photo_secs: 2,
    samples: 100,
};

/// Bytes under `dir`.
fn disk_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() => disk_bytes(&e.path()),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    })
}

/// `len` bytes of one CSV record that never ends (a quote left open).
struct OpenQuote {
    left: u64,
    started: bool,
}

impl Read for OpenQuote {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.started {
            self.started = true;
            let head = b"id,email,note\nc1,c1@shop.example,\"";
            buf[..head.len()].copy_from_slice(head);
            return Ok(head.len());
        }
        let n = (self.left.min(buf.len() as u64)) as usize;
        buf[..n].fill(b'x');
        self.left -= n as u64;
        Ok(n)
    }
}

/// Every public attack `n` times, each request from its own address.
fn flood(url: &str, merchant: &str, n: usize, salt: &str) {
    let client = reqwest::blocking::Client::new();
    let public = |path: &str| format!("{url}/public/v1/{merchant}/{path}");
    let big = "x".repeat(60_000);
    for i in 0..n {
        let ip = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        let get = |u: String| {
            let _ = client.get(u).header("x-forwarded-for", &ip).send();
        };
        let post = |u: String, body: Value| {
            let _ = client
                .post(u)
                .header("x-forwarded-for", &ip)
                .header("origin", url)
                .json(&body)
                .send();
        };
        get(public(&format!("index/x-{salt}{i:06}/v1")));
        get(format!("{url}/public/v1/{big}{salt}{i}/config"));
        post(
            public("experiments/assign"),
            json!({"attributes": {"id": format!("{salt}{i}"), "pad": &big}}),
        );
        post(
            public("votes"),
            json!({"article": "returns", "visitor": format!("v{salt}{i}"), "helpful": i % 2 == 0}),
        );
        post(
            public("answers"),
            json!({"answers": [{"id": format!("answer-{salt}{i:08}"), "survey": "exit", "visitor": format!("v{salt}{i}"),
                "locale": "en", "page": "/", "answers": {"nps": i % 11}}]}),
        );
        post(
            public("missed-searches"),
            json!({"locale": "en", "query": format!("made up {salt} {i}")}),
        );
    }
}

/// Stream a CSV record of `len` bytes that never ends into `merchant`'s
/// customers.
fn huge_import(url: &str, merchant: &str, key: &str, len: u64) -> anyhow::Result<Value> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    let body = reqwest::blocking::Body::new(OpenQuote {
        left: len,
        started: false,
    });
    let r = client
        .post(format!(
            "{url}/v1/merchants/{merchant}/import/customers?format=csv"
        ))
        .bearer_auth(key)
        .body(body)
        .send()?;
    let status = r.status();
    let v: Value = r.json().unwrap_or(Value::Null);
    anyhow::ensure!(status.is_success(), "import: {status} {v}");
    Ok(v)
}

/// Merchant B's decision latencies, `n` of them, sorted (ms).
fn decisions(url: &str, key: &str, n: usize) -> Vec<f64> {
    let client = reqwest::blocking::Client::new();
    let input = fatigue_input("email", json!([]));
    let mut out: Vec<f64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            let _ = client
                .post(format!("{url}/v1/merchants/b/slots/fatigue-policy/invoke"))
                .bearer_auth(key)
                .json(&input)
                .send()
                .and_then(|r| r.bytes());
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    out.sort_by(f64::total_cmp);
    out
}

/// `cove-bench abuse-load URL KEY FLOOD RECORD`: merchant `demo` (with
/// `KEY`) starts 20 RFM runs, 6 send batches and an import of one
/// `RECORD`-byte record while visitors flood its public endpoints
/// (`FLOOD` rounds), all at once.
pub fn load() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let [url, key, flood_n, record] = &args[..] else {
        anyhow::bail!("usage: cove-bench abuse-load URL KEY FLOOD RECORD");
    };
    let (url, key) = (url.as_str(), key.as_str());
    let (flood_n, record): (usize, u64) = (flood_n.parse()?, record.parse()?);
    std::thread::scope(|s| {
        s.spawn(|| {
            let c = reqwest::blocking::Client::new();
            for _ in 0..20 {
                let _ = c
                    .post(format!("{url}/v1/merchants/demo/rfm/runs"))
                    .bearer_auth(key)
                    .json(&json!({}))
                    .send();
            }
            for _ in 0..6 {
                let _ = c
                    .post(format!("{url}/v1/merchants/demo/sends/batches"))
                    .bearer_auth(key)
                    .json(&json!({"segment": "champions", "message": {"channels": ["email"]}}))
                    .send();
            }
        });
        let import = s.spawn(|| huge_import(url, "demo", key, record));
        flood(url, "demo", flood_n / 2, "b");
        import
            .join()
            .map_err(|_| anyhow::anyhow!("the import thread panicked"))?
    })?;
    Ok(())
}

pub fn run() -> anyhow::Result<()> {
    let size = if std::env::args().any(|a| a == "--smoke") {
        SMOKE
    } else {
        FULL
    };
    let data = tempfile::tempdir()?;
    let (host, key) = HostProcess::demo(data.path(), &["--client-ip-header", "x-forwarded-for"]);
    let key = key.as_str();
    let pid = host.pid();
    let client = reqwest::blocking::Client::new();

    // Visitors.
    flood(&host.url, "demo", 50, "warm");
    let before = status_mib(pid, "VmRSS:");
    flood(&host.url, "demo", size.flood, "a");
    let flooded = status_mib(pid, "VmRSS:");
    println!(
        "public flood ({} × 6 attacks, one address each): host RSS {before:.0} → {flooded:.0} MiB",
        size.flood
    );

    // One merchant's huge record.
    let peak_before = status_mib(pid, "VmHWM:");
    let summary = huge_import(&host.url, "demo", key, size.record)?;
    let peak_after = status_mib(pid, "VmHWM:");
    println!(
        "one {} MiB CSV record: host peak RSS {peak_before:.0} → {peak_after:.0} MiB; refused as: {}",
        size.record >> 20,
        summary["errors"][0]["reason"]
    );

    // One address, one real order, photos for a while.
    let disk_before = disk_bytes(data.path());
    let mut photo = b"\x89PNG\r\n\x1a\n".to_vec();
    photo.resize(4 << 20, 0);
    let until = Instant::now() + Duration::from_secs(size.photo_secs);
    let (mut stored, mut refused) = (0, 0);
    let returns = format!("{}/public/v1/demo/returns", host.url);
    while Instant::now() < until {
        let started: Value = client
            .post(&returns)
            .header("origin", &host.url)
            .json(&json!({"order": "DEMO-1001", "email": "demo01@shop.example"}))
            .send()?
            .json()?;
        let (Some(id), Some(token)) = (started["id"].as_str(), started["token"].as_str()) else {
            refused += 1;
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        for _ in 0..3 {
            let r = client
                .post(format!("{returns}/{id}/photos"))
                .header("origin", &host.url)
                .header("x-return-token", token)
                .body(photo.clone())
                .send()?;
            if r.status().is_success() {
                stored += 1;
            } else {
                refused += 1;
            }
        }
    }
    let disk_after = disk_bytes(data.path());
    println!(
        "photos for {} s from one address: {stored} stored, {refused} refused; data directory {:.0} → {:.0} MB",
        size.photo_secs,
        disk_before as f64 / 1e6,
        disk_after as f64 / 1e6
    );

    // A neighbour while merchant A does all of it at once.
    let created: Value = client
        .post(format!("{}/v1/merchants", host.url))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&json!({"id": "b"}))
        .send()?
        .json()?;
    let b_key = created["api_key"].as_str().unwrap_or_default().to_string();
    decisions(&host.url, &b_key, 50);
    let alone = decisions(&host.url, &b_key, size.samples);
    // The attackers run in their own process at the lowest CPU priority:
    // on a 2-core machine they would otherwise take B's client's core,
    // and the figure would measure the load generator, not the host.
    let mut attackers = std::process::Command::new("nice")
        .args(["-n", "19"])
        .arg(std::env::current_exe()?)
        .args(["abuse-load", &host.url, key])
        .arg(size.flood.to_string())
        .arg(size.record.to_string())
        .spawn()?;
    std::thread::sleep(Duration::from_millis(300));
    let abused = decisions(&host.url, &b_key, size.samples);
    anyhow::ensure!(attackers.wait()?.success(), "the attackers failed");
    let (p99_alone, p99_abused) = (percentile(&alone, 0.99), percentile(&abused, 0.99));
    println!(
        "merchant B's decision p99: {p99_alone:.2} ms alone, {p99_abused:.2} ms while A abuses the host"
    );
    let round = |x: f64| (x * 100.0).round() / 100.0;
    println!(
        "{}",
        json!({
            "public_flood_rss_growth_mb": round((flooded - before).max(0.0) * 1.048_576),
            "import_huge_record_rss_growth_mb": round((peak_after - peak_before).max(0.0) * 1.048_576),
            "photo_disk_growth_mb": round(disk_after.saturating_sub(disk_before) as f64 / 1e6),
            "neighbour_p99_ratio_under_abuse": round(p99_abused / p99_alone),
            "b_p99_alone_ms": round(p99_alone),
            "b_p99_abused_ms": round(p99_abused),
            "photos_stored": stored,
            "record_bytes": size.record,
            "flood_requests": size.flood * 6,
        })
    );
    Ok(())
}
