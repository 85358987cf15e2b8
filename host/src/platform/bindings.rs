//! Which plugin version serves each merchant's slot, in memory.
//!
//! The table is an immutable map behind an [`ArcSwap`]: a call loads the
//! current map without locking and keeps its `Arc<Active>` for the whole
//! call, so rebinding (a pointer swap) never disturbs calls in flight and
//! the next call sees the new version. Every replica rebuilds the map from
//! the database when the audit log grows, so a bind on one replica is in
//! force on all of them within the poll interval.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::platform::breaker::Breaker;
use crate::platform::registry::Registry;
use crate::platform::runtime::Prepared;
use crate::platform::slots::Slot;
use crate::platform::store::{PluginRow, Store};

/// A binding in force: a prepared plugin version plus the merchant's config.
pub struct Active {
    /// The bound plugin version.
    pub plugin: PluginRow,
    /// `name@version`, for labels and answers.
    pub label: String,
    /// Ready to instantiate.
    pub prepared: Arc<Prepared>,
    /// Config pairs as the plugin sees them.
    pub config: Arc<[(String, String)]>,
    /// Config as given (JSON object).
    pub config_json: serde_json::Value,
    /// The audit event that created this binding.
    pub event_id: i64,
    /// Trips the plugin off after repeated failures.
    pub breaker: Breaker,
    /// Its metric series.
    pub series: crate::platform::metrics::PluginSeries,
}

type Table = HashMap<String, [Option<Arc<Active>>; 5]>;

/// The in-memory binding table.
#[derive(Default)]
pub struct Bindings {
    table: ArcSwap<Table>,
    /// The audit log's fingerprint when the table was last built.
    reload: tokio::sync::Mutex<(i64, i64)>,
}

fn index(slot: Slot) -> usize {
    Slot::ALL.iter().position(|s| *s == slot).unwrap_or(0)
}

/// Turn a JSON config object into the sorted text pairs a plugin reads.
pub fn config_pairs(config: &serde_json::Value) -> Result<Vec<(String, String)>, String> {
    let Some(object) = config.as_object() else {
        return Err("config must be a JSON object of settings".into());
    };
    let mut pairs = Vec::with_capacity(object.len());
    for (k, v) in object {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => return Err(format!("config `{k}` must be text, a number or true/false")),
        };
        pairs.push((k.clone(), text));
    }
    pairs.sort();
    Ok(pairs)
}

impl Bindings {
    /// The binding serving `merchant`'s `slot`, if any.
    pub fn get(&self, merchant: &str, slot: Slot) -> Option<Arc<Active>> {
        self.table.load().get(merchant)?[index(slot)].clone()
    }

    /// All of a merchant's bindings.
    pub fn of(&self, merchant: &str) -> Vec<(Slot, Arc<Active>)> {
        match self.table.load().get(merchant) {
            Some(row) => Slot::ALL
                .into_iter()
                .zip(row.iter())
                .filter_map(|(s, a)| a.clone().map(|a| (s, a)))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Rebuild the table from the database if the audit log moved on since
    /// the last rebuild. Unchanged bindings keep their `Active` (and breaker).
    pub async fn refresh(
        &self,
        store: &Store,
        registry: &Registry,
        metrics: &crate::platform::metrics::Metrics,
    ) -> anyhow::Result<()> {
        let mut seen = self.reload.lock().await;
        let latest = store.audit_fingerprint().await?;
        // Bindings only ever change together with an audit event, so an
        // unchanged log means an unchanged table.
        if latest == *seen {
            return Ok(());
        }
        let old = self.table.load_full();
        let mut next: Table = HashMap::new();
        for row in store.bindings(None).await? {
            let Some(slot) = Slot::from_world(&row.slot) else {
                continue;
            };
            let existing = old
                .get(&row.merchant_id)
                .and_then(|r| r[index(slot)].clone())
                .filter(|a| a.event_id == row.event_id);
            let active = match existing {
                Some(a) => a,
                // A binding that cannot be loaded leaves its slot to the safe
                // fallback; it never stops the host or the other bindings.
                None => match load(store, registry, metrics, &row).await {
                    Ok(a) => Arc::new(a),
                    Err(e) => {
                        tracing::error!(merchant = %row.merchant_id, slot = %row.slot, error = %format!("{e:#}"),
                            "cannot load the bound plugin; the slot answers with its safe fallback");
                        continue;
                    }
                },
            };
            next.entry(row.merchant_id).or_default()[index(slot)] = Some(active);
        }
        self.table.store(Arc::new(next));
        *seen = latest;
        Ok(())
    }
}

/// A candidate version `plugin` answering with `live`'s settings (a
/// canary's), with a breaker and metric series of its own.
pub fn candidate(
    live: &Active,
    plugin: PluginRow,
    prepared: Arc<Prepared>,
    metrics: &crate::platform::metrics::Metrics,
) -> Active {
    let label = format!("{}@{}", plugin.name, plugin.version);
    let slot: &'static str = crate::platform::slots::Slot::from_world(&plugin.world)
        .map_or("unknown", crate::platform::slots::Slot::world);
    Active {
        series: metrics.series(slot, &label),
        label,
        plugin,
        prepared,
        config: live.config.clone(),
        config_json: live.config_json.clone(),
        event_id: live.event_id,
        breaker: Breaker::default(),
    }
}

async fn load(
    store: &Store,
    registry: &Registry,
    metrics: &crate::platform::metrics::Metrics,
    row: &crate::platform::store::BindingRow,
) -> anyhow::Result<Active> {
    let plugin = store
        .plugin_by_id(row.plugin_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("plugin {} is missing", row.plugin_id))?;
    let config_json: serde_json::Value = serde_json::from_str(&row.config)?;
    let pairs = config_pairs(&config_json).map_err(anyhow::Error::msg)?;
    let prepared = registry.prepared(&plugin).await?;
    let label = format!("{}@{}", plugin.name, plugin.version);
    let slot: &'static str = crate::platform::slots::Slot::from_world(&row.slot)
        .map_or("unknown", crate::platform::slots::Slot::world);
    Ok(Active {
        series: metrics.series(slot, &label),
        label,
        plugin,
        prepared,
        config: pairs.into(),
        config_json,
        event_id: row.event_id,
        breaker: Breaker::default(),
    })
}
