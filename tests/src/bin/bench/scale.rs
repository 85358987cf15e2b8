//! `cove-bench scale`: the cost curves of a large merchant.
//!
//! For each size in `COVE_BENCH_SCALES` (customers; default
//! `100000,1000000`, ten orders each, the last of them up to now) and each
//! database in `COVE_BENCH_DBS` (default `sqlite,postgres`), a host with
//! the demo merchant imports the synthetic files through `cove import`,
//! and as many exposures of the demo's `offer-banner` experiment as there
//! are customers are written straight into the store. Then:
//!
//! - `rfm_run_s_{size}_{db}`: an RFM run of every customer, as the console
//!   starts it;
//! - `results_build_s_{size}_{db}`: right after the exposures are
//!   written, until the experiment's results are counted, its rollup made
//!   from nothing (loads of the page, each counting for at most 10 s; the
//!   host's background task may count beside them);
//! - `results_change_ms_{size}_{db}`: its results after 1,000 customers
//!   each placed an order (imported over HTTP), whose exposures the
//!   load figures again;
//! - `overview_ms_{size}_{db}`, `returns_report_ms_{size}_{db}`,
//!   `results_ms_{size}_{db}`: the console's overview, the returns report
//!   (90 days) and the experiment's results, each the median of three
//!   loads;
//! - `growth_{figure}_{db}`: each figure at the largest size over the
//!   smallest, with `data_growth` the ratio of the sizes (linear growth:
//!   the two are equal).

use std::time::{Duration, Instant};

use cove_e2e::{HostProcess, Postgres, guests};
use serde_json::{Value, json};

use super::import::{env_usize, import, write_files_until};

/// The figures timed at each size.
const FIGURES: [&str; 6] = [
    "rfm_run_s",
    "overview_ms",
    "returns_report_ms",
    "results_build_s",
    "results_change_ms",
    "results_ms",
];

/// Customers who place an order between two loads of the results.
const CHANGED: usize = 1_000;

fn sizes() -> Vec<usize> {
    if super::smoke() {
        return vec![env_usize("COVE_BENCH_CUSTOMERS", 1_000)];
    }
    std::env::var("COVE_BENCH_SCALES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

/// One exposure of `offer-banner` per customer, written straight into the
/// store (one insert per row, all in one transaction, on either
/// database), spread over the orders' last two years.
async fn expose(url: &str, customers: usize, now: i64) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    let mut tx = conn.begin().await?;
    for i in 0..customers {
        let at = now - (i as i64 * 7_919 % 730) * 86_400_000;
        sqlx::query(
            "INSERT INTO experiment_exposures (merchant_id, experiment, unit, variation, event_id, at) \
             VALUES ('demo', 'offer-banner', $1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(format!("c{i:08}"))
        .bind((i % 2) as i64)
        .bind(format!("x:offer-banner:c{i:08}"))
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// One order now for each of `CHANGED` customers spread over all
/// `customers`, imported over HTTP.
fn new_orders(
    client: &reqwest::blocking::Client,
    url: &str,
    key: &str,
    customers: usize,
    now: i64,
) -> anyhow::Result<()> {
    let body: String = (0..CHANGED.min(customers))
        .map(|k| {
            let c = k * customers / CHANGED.min(customers);
            format!(
                "{}\n",
                json!({"id": format!("new-{c}"), "customer_id": format!("c{c:08}"),
                "placed_at": now, "currency": "EUR", "total": "42.00"})
            )
        })
        .collect();
    client
        .post(format!(
            "{url}/v1/merchants/demo/import/orders?format=ndjson"
        ))
        .bearer_auth(key)
        .body(body)
        .send()?
        .error_for_status()?;
    Ok(())
}

/// Seconds until the results at `url` are counted (each load counts for
/// a while and says whether it is still counting).
fn counted_s(client: &reqwest::blocking::Client, url: &str, key: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    loop {
        let r: Value = client
            .get(url)
            .bearer_auth(key)
            .send()?
            .error_for_status()?
            .json()?;
        if r["counting"] == false {
            return Ok(started.elapsed().as_secs_f64());
        }
    }
}

/// One load of `url`, in milliseconds.
fn load_ms(client: &reqwest::blocking::Client, url: &str, key: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    let r = client.get(url).bearer_auth(key).send()?;
    anyhow::ensure!(r.status().is_success(), "{url}: {}", r.status());
    let _: Value = r.json()?;
    Ok(started.elapsed().as_secs_f64() * 1e3)
}

/// The median of three loads of `path`, in milliseconds.
fn page_ms(client: &reqwest::blocking::Client, url: &str, key: &str) -> anyhow::Result<f64> {
    let mut times = Vec::new();
    for _ in 0..3 {
        times.push(load_ms(client, url, key)?);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[1])
}

/// An RFM run of every customer, started and waited for as the console
/// does: its seconds, and the run (with its phases' timings).
fn rfm_run(
    client: &reqwest::blocking::Client,
    url: &str,
    key: &str,
) -> anyhow::Result<(f64, Value)> {
    let started = Instant::now();
    let run: Value = client
        .post(format!("{url}/v1/merchants/demo/rfm/runs"))
        .bearer_auth(key)
        .json(&json!({"time_unit": "weeks"}))
        .send()?
        .error_for_status()?
        .json()?;
    let id = run["id"].as_str().unwrap_or_default().to_string();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let r: Value = client
            .get(format!("{url}/v1/merchants/demo/rfm/runs/{id}"))
            .bearer_auth(key)
            .send()?
            .json()?;
        if r["status"] != "running" {
            anyhow::ensure!(r["status"] == "done", "the run failed: {r}");
            return Ok((started.elapsed().as_secs_f64(), r));
        }
    }
}

/// Run it: prints each size's figures, then one JSON line.
pub fn run() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    sqlx::any::install_default_drivers();
    let pg = Postgres::start();
    let dbs = std::env::var("COVE_BENCH_DBS").unwrap_or_else(|_| "sqlite,postgres".into());
    let dbs: Vec<&str> = dbs
        .split(',')
        .filter(|d| ["sqlite", "postgres"].contains(d))
        .collect();
    let sizes = sizes();
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    let round = |x: f64, d: i32| (x * 10f64.powi(d)).round() / 10f64.powi(d);
    let mut out = serde_json::Map::new();
    for &size in &sizes {
        let files = tempfile::tempdir()?;
        let now = cove_host::now_ms();
        write_files_until(files.path(), size, 10, now)?;
        for (n, db) in dbs.iter().enumerate() {
            let data = tempfile::tempdir()?;
            let url = match *db {
                "sqlite" => format!("sqlite://{}", data.path().join("cove.db").display()),
                _ => pg.database(&format!("scale{size}x{n}")),
            };
            let host = HostProcess::start(
                data.path(),
                &[
                    "--database-url",
                    &url,
                    "--seed-demo",
                    guests::DIR,
                    "--merchant-rps",
                    "0",
                ],
            );
            let key = std::fs::read_to_string(data.path().join("demo-api-key"))?;
            let (rows, secs) = import(&host.url, &key, files.path())?;
            runtime.block_on(expose(&url, size, now))?;
            if *db == "postgres" {
                pg.settle();
            }
            // First, before the background task (every 30 s) counts them.
            let m = format!("{}/v1/merchants/demo", host.url);
            let page = format!("{m}/experiments/offer-banner/results");
            let build = counted_s(&client, &page, &key)?;
            let (rfm, done) = rfm_run(&client, &host.url, &key)?;
            let phase = |k: &str| done["segments"]["timings"][k].as_f64().unwrap_or(0.0);
            let overview = page_ms(&client, &format!("{m}/overview"), &key)?;
            let report = page_ms(&client, &format!("{m}/returns/report?days=90"), &key)?;
            new_orders(&client, &host.url, &key, size, cove_host::now_ms())?;
            let change = load_ms(&client, &page, &key)?;
            let results = page_ms(&client, &page, &key)?;
            println!(
                "{size} customers on {db}: imported {rows} rows in {secs:.0} s; RFM run {rfm:.1} s \
                 (summaries {:.1}, fit {:.1}, scores {:.1}); \
                 overview {overview:.0} ms, returns report {report:.0} ms; experiment results ({size} exposures): \
                 rollup made in {build:.1} s, {change:.0} ms after {CHANGED} customers ordered, then {results:.0} ms",
                phase("summaries_s"),
                phase("fit_s"),
                phase("score_s"),
            );
            for (figure, value) in FIGURES
                .iter()
                .zip([rfm, overview, report, build, change, results])
            {
                out.insert(format!("{figure}_{size}_{db}"), json!(round(value, 2)));
            }
        }
    }
    if let (Some(first), Some(last)) = (sizes.first(), sizes.last())
        && last > first
    {
        out.insert(
            "data_growth".into(),
            json!(round(*last as f64 / *first as f64, 1)),
        );
        for db in &dbs {
            for figure in FIGURES {
                let at = |size: usize| out[&format!("{figure}_{size}_{db}")].as_f64();
                if let (Some(a), Some(b)) = (at(*first), at(*last)) {
                    out.insert(
                        format!("growth_{figure}_{db}"),
                        json!(round(b / a.max(1e-3), 1)),
                    );
                }
            }
        }
    }
    println!("{}", Value::Object(out));
    Ok(())
}
