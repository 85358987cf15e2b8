//! `cove import ENTITY FILE`: streams a file to the host's import endpoint
//! with a progress bar (rows/s and ETA, on a terminal), then prints the
//! summary.

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::Value;
use tokio::io::AsyncReadExt;

/// The file as a stream of chunks, counting bytes and line breaks.
struct Upload {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<bytes::Bytes>>,
}

impl futures_core::Stream for Upload {
    type Item = std::io::Result<bytes::Bytes>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

/// Import `file` as `entity` for the merchant whose key this is.
pub async fn import(url: &str, key: &str, entity: &str, file: &Path) -> anyhow::Result<()> {
    if super::model::Entity::parse(entity).is_none() {
        bail!("`{entity}` cannot be imported; use customers, orders, events or consents");
    }
    let client = reqwest::Client::new();
    let me: Value = client
        .get(format!("{url}/console/session"))
        .bearer_auth(key)
        .send()
        .await
        .context("could not reach the Cove host")?
        .error_for_status()
        .context("the host did not accept this API key")?
        .json()
        .await?;
    let merchant = me["merchant"]
        .as_str()
        .context("the key names no merchant")?
        .to_string();
    let format = match file.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("csv") => "csv",
        _ => "ndjson",
    };
    let mut f = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let total = f.metadata().await?.len();
    let (bytes, lines) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let (sent, counted) = (bytes.clone(), lines.clone());
    tokio::spawn(async move {
        loop {
            let mut buf = vec![0; 256 << 10];
            match f.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    sent.fetch_add(n as u64, Ordering::Relaxed);
                    counted.fetch_add(
                        buf.iter().filter(|b| **b == b'\n').count() as u64,
                        Ordering::Relaxed,
                    );
                    if tx.send(Ok(bytes::Bytes::from(buf))).await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    break;
                }
            }
        }
    });

    let bar = indicatif::ProgressBar::new(total).with_style(
        indicatif::ProgressStyle::with_template("{bar:30} {percent:>3}% {msg} · ETA {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let ticker = {
        let (bar, bytes, lines) = (bar.clone(), bytes.clone(), lines.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let rows = lines.load(Ordering::Relaxed);
                let rate = rows as f64 / started.elapsed().as_secs_f64().max(1e-3);
                bar.set_position(bytes.load(Ordering::Relaxed));
                bar.set_message(format!("{rows} rows · {rate:.0} rows/s"));
            }
        })
    };
    let response = client
        .post(format!(
            "{url}/v1/merchants/{merchant}/import/{entity}?format={format}"
        ))
        .bearer_auth(key)
        .header(
            "content-type",
            if format == "csv" {
                "text/csv"
            } else {
                "application/x-ndjson"
            },
        )
        .body(reqwest::Body::wrap_stream(Upload { rx }))
        .send()
        .await
        .context("the upload failed")?;
    ticker.abort();
    bar.finish_and_clear();
    let status = response.status();
    let summary: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!(
            "the host answered {status}: {}",
            summary["message"].as_str().unwrap_or_default()
        );
    }
    let secs = started.elapsed().as_secs_f64();
    let records = summary["records"].as_u64().unwrap_or(0);
    eprintln!(
        "{entity} of `{merchant}` from {}: {records} records in {secs:.1} s ({:.0}/s): {} inserted, {} updated, {} unchanged, {} rejected",
        file.display(),
        records as f64 / secs.max(1e-3),
        summary["inserted"],
        summary["updated"],
        summary["unchanged"],
        summary["rejected"],
    );
    for e in summary["errors"].as_array().into_iter().flatten() {
        eprintln!(
            "  line {}: {} {}{}",
            e["line"],
            e["field"].as_str().unwrap_or_default(),
            e["reason"].as_str().unwrap_or_default(),
            e["id"]
                .as_str()
                .map(|i| format!(" (id {i})"))
                .unwrap_or_default()
        );
    }
    let shown = summary["errors"].as_array().map_or(0, Vec::len) as u64;
    if summary["rejected"].as_u64().unwrap_or(0) > shown {
        eprintln!(
            "  … and more; refused by field: {}",
            summary["rejected_by_field"]
        );
    }
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}
