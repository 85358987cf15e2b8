//! `cove-bench import`: customer data in and out of the store.
//!
//! A seeded synthetic merchant (`COVE_BENCH_CUSTOMERS`, default 1,000,000
//! customers, and `COVE_BENCH_ORDERS_PER_CUSTOMER`, default 10, orders each)
//! is written to CSV files, then on SQLite and on PostgreSQL (`COVE_BENCH_DBS`,
//! default `sqlite,postgres`):
//!
//! - `import_rows_per_s`: both files through `cove import` into a running
//!   host (validation, money parsing, row hashes, idempotency included);
//! - `import_vs_bulk`: that rate over the database's own bulk path loading
//!   the same rows into the same tables in the same run (SQLite: one
//!   prepared insert in one transaction; PostgreSQL: `COPY`);
//! - `reimport_rows_per_s`: the same files again (nothing changes);
//! - `import_peak_rss_mb`: the host's peak resident memory (VmHWM);
//! - `event_ingest_per_s`: live events through `POST …/events`, batches of 100.

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use cove_e2e::{HostProcess, Postgres, cove_binary};
use serde_json::{Value, json};

const COUNTRIES: [(&str, &str); 6] = [
    ("DE", "Europe/Berlin"),
    ("US", "America/New_York"),
    ("CN", "Asia/Shanghai"),
    ("AE", "Asia/Dubai"),
    ("BR", "America/Sao_Paulo"),
    ("JP", "Asia/Tokyo"),
];

pub(super) fn env_usize(name: &str, default: usize) -> usize {
    // A smoke run's corpus: a few thousand rows.
    let default = if super::smoke() {
        default.min(2_000)
    } else {
        default
    };
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The synthetic files: customers.csv and orders.csv (one line item each),
/// orders spread over two years (a quarter of the customers within the
/// first half year, a quarter within the first eight months, …).
pub(super) fn write_files(
    dir: &std::path::Path,
    customers: usize,
    per: usize,
) -> anyhow::Result<()> {
    write_files_until(dir, customers, per, LAST_ORDER)
}

/// The latest an order of [`write_files`] may be placed (2024-04-14).
const LAST_ORDER: i64 = 1_650_000_000_000 + 730 * 86_400_000;

/// [`write_files`], every date moved so that the latest an order may be
/// placed is `until` (ms).
pub(super) fn write_files_until(
    dir: &std::path::Path,
    customers: usize,
    per: usize,
    until: i64,
) -> anyhow::Result<()> {
    let shift = until - LAST_ORDER;
    let mut c = std::io::BufWriter::new(std::fs::File::create(dir.join("customers.csv"))?);
    writeln!(
        c,
        "id,email,phone,country,time_zone,locale,tier,tags,created_at"
    )?;
    for i in 0..customers {
        let (country, zone) = COUNTRIES[i % COUNTRIES.len()];
        writeln!(
            c,
            "c{i:08},customer{i}@shop.example,+4915{i:09},{country},{zone},en,{},\"{}\",{}",
            ["", "silver", "gold"][i % 3],
            if i % 7 == 0 { "vip" } else { "" },
            1_600_000_000_000i64 + i as i64 * 1_000 + shift
        )?;
    }
    c.flush()?;
    let mut o = std::io::BufWriter::new(std::fs::File::create(dir.join("orders.csv"))?);
    writeln!(
        o,
        "id,customer_id,placed_at,currency,total,platform,status,item_sku,item_category,item_quantity,item_unit_price"
    )?;
    let mut n = 0u64;
    for i in 0..customers {
        for j in 0..per {
            n = n
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let cents = 500 + (n >> 40) % 20_000;
            writeln!(
                o,
                "o{i:08}-{j:02},c{i:08},{},EUR,{}.{:02},{},paid,SKU-{},cat-{},1,{}.{:02}",
                // Two years of orders, each customer at their own pace.
                1_650_000_000_000i64
                    + ((n >> 24) % (730 * 86_400)) as i64 * 1_000 / (1 + (i % 4) as i64)
                    + shift,
                cents / 100,
                cents % 100,
                if j % 5 == 0 { "amazon" } else { "own-site" },
                (n >> 20) % 500,
                (n >> 30) % 12,
                cents / 100,
                cents % 100,
            )?;
        }
    }
    o.flush()?;
    Ok(())
}

/// The process `pid`'s peak resident memory so far, in MiB.
pub(super) fn peak_rss_mb(pid: u32) -> f64 {
    super::status_mib(pid, "VmHWM:")
}

/// `cove import` of both files; returns (rows, seconds, summaries).
pub(super) fn import(url: &str, key: &str, dir: &std::path::Path) -> anyhow::Result<(u64, f64)> {
    let started = Instant::now();
    let mut rows = 0;
    for entity in ["customers", "orders"] {
        let out = Command::new(cove_binary())
            .args(["import", entity])
            .arg(dir.join(format!("{entity}.csv")))
            .env("COVE_URL", url)
            .env("COVE_API_KEY", key)
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "cove import {entity}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let last = String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .to_string();
        let summary: Value = serde_json::from_str(&last)?;
        anyhow::ensure!(summary["rejected"] == 0, "rows refused: {summary}");
        rows += summary["records"].as_u64().unwrap_or(0);
        eprintln!("  {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok((rows, started.elapsed().as_secs_f64()))
}

/// The same rows through the database's own bulk path into the same
/// tables (created by the host's migrations in a fresh database).
async fn bulk(url: &str, dir: &std::path::Path, postgres: bool) -> anyhow::Result<(u64, f64)> {
    cove_host::platform::store::Store::connect(url).await?;
    let customers = std::fs::read_to_string(dir.join("customers.csv"))?;
    let orders = std::fs::read_to_string(dir.join("orders.csv"))?;
    let now = 1i64;
    let started = Instant::now();
    let mut rows = 0u64;
    if postgres {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query("INSERT INTO merchants (id, name, created_at) VALUES ('bulk', 'bulk', 0)")
            .execute(&mut conn)
            .await?;
        let mut copy = conn
            .copy_in_raw("COPY customers (merchant_id, id, email, phone, country, time_zone, locale, tier, tags, created_at, attributes, row_hash, updated_at) FROM STDIN WITH (FORMAT csv)")
            .await?;
        let mut buf = String::new();
        for line in customers.lines().skip(1) {
            let f = split(line);
            buf += &format!(
                "bulk,{},{},{},{},{},{},{},\"[\"\"{}\"\"]\",{},{{}},{:024x},{now}\n",
                f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], rows
            );
            rows += 1;
            if buf.len() > 1 << 20 {
                copy.send(std::mem::take(&mut buf).into_bytes()).await?;
            }
        }
        copy.send(buf.into_bytes()).await?;
        copy.finish().await?;
        let mut copy = conn
            .copy_in_raw("COPY orders (merchant_id, id, customer_id, placed_at, currency, total_minor, platform, status, items, deliveries, row_hash, updated_at) FROM STDIN WITH (FORMAT csv)")
            .await?;
        let mut buf = String::new();
        for line in orders.lines().skip(1) {
            let f = split(line);
            let total: i64 = f[4].replace('.', "").parse()?;
            buf += &format!(
                "bulk,{},{},{},{},{total},{},{},\"{}\",[],{:024x},{now}\n",
                f[0],
                f[1],
                f[2],
                f[3],
                f[5],
                f[6],
                stored_items(&f).replace('"', "\"\""),
                rows
            );
            rows += 1;
            if buf.len() > 1 << 20 {
                copy.send(std::mem::take(&mut buf).into_bytes()).await?;
            }
        }
        copy.send(buf.into_bytes()).await?;
        copy.finish().await?;
    } else {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        sqlx::query("INSERT INTO merchants (id, name, created_at) VALUES ('bulk', 'bulk', 0)")
            .execute(&mut conn)
            .await?;
        let mut tx = conn.begin().await?;
        for line in customers.lines().skip(1) {
            let f = split(line);
            sqlx::query("INSERT INTO customers (merchant_id, id, email, phone, country, time_zone, locale, tier, tags, created_at, attributes, row_hash, updated_at) VALUES ('bulk', ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?)")
                .bind(f[0]).bind(f[1]).bind(f[2]).bind(f[3]).bind(f[4]).bind(f[5]).bind(f[6]).bind(f[7]).bind(f[8].parse::<i64>()?).bind(format!("{rows:024x}")).bind(now)
                .execute(&mut *tx).await?;
            rows += 1;
        }
        for line in orders.lines().skip(1) {
            let f = split(line);
            let total: i64 = f[4].replace('.', "").parse()?;
            sqlx::query("INSERT INTO orders (merchant_id, id, customer_id, placed_at, currency, total_minor, platform, status, items, deliveries, row_hash, updated_at) VALUES ('bulk', ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?)")
                .bind(f[0]).bind(f[1]).bind(f[2].parse::<i64>()?).bind(f[3]).bind(total).bind(f[5]).bind(f[6]).bind(stored_items(&f)).bind(format!("{rows:024x}")).bind(now)
                .execute(&mut *tx).await?;
            rows += 1;
        }
        tx.commit().await?;
    }
    Ok((rows, started.elapsed().as_secs_f64()))
}

/// An order's line items as the import stores them (the same bytes in
/// the same tables).
fn stored_items(f: &[&str]) -> String {
    let price: i64 = f[10].replace('.', "").parse().unwrap_or(0);
    json!([{"sku": f[7], "category": f[8], "quantity": 1, "unit_price_minor": price}]).to_string()
}

/// Fields of a line of the synthetic files (quotes only around tags).
fn split(line: &str) -> Vec<&str> {
    line.split(',').map(|f| f.trim_matches('"')).collect()
}

fn events_per_s(url: &str, key: &str) -> anyhow::Result<f64> {
    let client = reqwest::blocking::Client::new();
    let batches: u32 = 200;
    let started = Instant::now();
    for b in 0..batches {
        let events: Vec<Value> = (0..100)
            .map(|i| json!({"id": format!("ev{b:05}-{i:03}"), "customer_id": format!("c{:08}", (b * 100 + i) % 1000), "kind": "opened", "channel": "email", "campaign_id": "bench", "at": 1_700_000_000_000i64 + i64::from(i)}))
            .collect();
        let r = client
            .post(format!("{url}/v1/merchants/big/events"))
            .bearer_auth(key)
            .json(&events)
            .send()?;
        anyhow::ensure!(r.status().is_success(), "events: {}", r.status());
    }
    Ok(f64::from(batches * 100) / started.elapsed().as_secs_f64())
}

/// Run it: prints the steps, then one JSON line.
pub fn run() -> anyhow::Result<()> {
    let customers = env_usize("COVE_BENCH_CUSTOMERS", 1_000_000);
    let per = env_usize("COVE_BENCH_ORDERS_PER_CUSTOMER", 10);
    let files = tempfile::tempdir()?;
    let t = Instant::now();
    write_files(files.path(), customers, per)?;
    println!(
        "{customers} customers and {} orders written as CSV in {:.1} s",
        customers * per,
        t.elapsed().as_secs_f64()
    );
    let runtime = tokio::runtime::Runtime::new()?;
    let mut out = serde_json::Map::new();
    out.insert("customers".into(), json!(customers));
    out.insert("orders".into(), json!(customers * per));

    let pg = Postgres::start();
    let dbs = std::env::var("COVE_BENCH_DBS").unwrap_or_else(|_| "sqlite,postgres".into());
    for db in dbs
        .split(',')
        .filter(|d| ["sqlite", "postgres"].contains(d))
    {
        let data = tempfile::tempdir()?;
        let url = match db {
            "sqlite" => format!("sqlite://{}", data.path().join("cove.db").display()),
            _ => pg.database("importbench"),
        };
        let host = HostProcess::start(
            data.path(),
            &["--database-url", &url, "--merchant-rps", "0"],
        );
        let key = cove_e2e::create_merchant_on(&host.url, "big");
        if db == "postgres" {
            pg.settle();
        }
        println!("{db}: first import");
        let (rows, secs) = import(&host.url, &key, files.path())?;
        let rate = rows as f64 / secs;
        println!("{db}: again (nothing changes)");
        let (rows2, secs2) = import(&host.url, &key, files.path())?;
        let rate2 = rows2 as f64 / secs2;
        let events = events_per_s(&host.url, &key)?;
        let rss = peak_rss_mb(host.pid());
        drop(host);
        let bulk_url = match db {
            "sqlite" => format!(
                "sqlite://{}?mode=rwc",
                data.path().join("bulk.db").display()
            ),
            _ => pg.database("bulkbench"),
        };
        if db == "postgres" {
            pg.settle();
        }
        let (brows, bsecs) = runtime.block_on(bulk(&bulk_url, files.path(), db == "postgres"))?;
        let brate = brows as f64 / bsecs;
        println!(
            "{db}: import {rate:.0} rows/s ({rows} rows in {secs:.1} s), again {rate2:.0} rows/s; bulk path {brate:.0} rows/s; host peak RSS {rss:.0} MB; events {events:.0}/s"
        );
        let round = |x: f64, d: i32| (x * 10f64.powi(d)).round() / 10f64.powi(d);
        out.insert(format!("import_rows_per_s_{db}"), json!(rate.round()));
        out.insert(
            format!("import_vs_bulk_{db}"),
            json!(round(rate / brate, 3)),
        );
        out.insert(format!("reimport_rows_per_s_{db}"), json!(rate2.round()));
        out.insert(
            format!("reimport_ratio_{db}"),
            json!(round(rate2 / rate, 2)),
        );
        out.insert(format!("bulk_rows_per_s_{db}"), json!(brate.round()));
        out.insert(format!("import_peak_rss_mb_{db}"), json!(round(rss, 1)));
        out.insert(format!("event_ingest_per_s_{db}"), json!(events.round()));
    }
    println!("{}", Value::Object(out));
    Ok(())
}
