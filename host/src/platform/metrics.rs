//! Prometheus metrics: calls, failures by kind and latency per plugin version.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of a call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// Slot (world name).
    pub slot: &'static str,
    /// `name@version`, or `none` when unbound.
    pub plugin: String,
    /// `ok`, `plugin-error` or `fallback`.
    pub outcome: &'static str,
}

/// Labels of a failure.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    /// Slot (world name).
    pub slot: &'static str,
    /// `name@version`, or `none`.
    pub plugin: String,
    /// trap, deadline, fuel, memory, oversized-output, invalid-output, breaker, unbound.
    pub kind: &'static str,
}

/// Labels of a latency sample.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginLabels {
    /// Slot (world name).
    pub slot: &'static str,
    /// `name@version`.
    pub plugin: String,
}

/// All metrics.
pub struct Metrics {
    registry: Registry,
    /// Calls by outcome.
    pub calls: Family<CallLabels, Counter>,
    /// Failures by kind.
    pub failures: Family<FailureLabels, Counter>,
    /// Sandbox time per call.
    pub latency: Family<PluginLabels, Histogram>,
    /// HTTP connections open now.
    pub connections: Gauge,
    /// Requests refused by a merchant's limits, by merchant and limit.
    pub throttled: Family<ThrottleLabels, Counter>,
}

/// Labels of a request refused by a merchant's limits.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ThrottleLabels {
    /// Merchant id.
    pub merchant: String,
    /// `rate` (requests per second) or `concurrency` (plugin calls at once).
    pub limit: &'static str,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("cove");
        let calls = Family::default();
        let failures = Family::default();
        let latency = Family::<PluginLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005,
                0.01, 0.05,
            ])
        });
        registry.register(
            "plugin_calls",
            "Policy calls by slot, plugin version and outcome",
            calls.clone(),
        );
        registry.register(
            "plugin_failures",
            "Plugin failures answered with the safe fallback, by kind",
            failures.clone(),
        );
        registry.register(
            "plugin_call_seconds",
            "Time in the sandbox per call",
            latency.clone(),
        );
        let connections = Gauge::default();
        registry.register(
            "http_connections",
            "HTTP connections open now",
            connections.clone(),
        );
        let throttled = Family::default();
        registry.register(
            "merchant_throttled",
            "Requests refused by a merchant's rate or plugin-call limit",
            throttled.clone(),
        );
        Metrics {
            registry,
            calls,
            failures,
            connections,
            throttled,
            latency,
        }
    }
}

impl Metrics {
    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String");
        out
    }
}

/// The metric series of one bound plugin version, looked up once when the
/// binding is loaded so the per-call path only increments.
#[derive(Clone)]
pub struct PluginSeries {
    /// Calls answered by the plugin.
    pub ok: Counter,
    /// Calls the plugin refused on purpose.
    pub plugin_error: Counter,
    /// Sandbox time per call.
    pub latency: Histogram,
}

impl Metrics {
    /// The series of `plugin` (`name@version`) in `slot`.
    pub fn series(&self, slot: &'static str, plugin: &str) -> PluginSeries {
        let calls = |outcome| {
            self.calls
                .get_or_create(&CallLabels {
                    slot,
                    plugin: plugin.to_string(),
                    outcome,
                })
                .clone()
        };
        PluginSeries {
            ok: calls("ok"),
            plugin_error: calls("plugin-error"),
            latency: self
                .latency
                .get_or_create(&PluginLabels {
                    slot,
                    plugin: plugin.to_string(),
                })
                .clone(),
        }
    }
}
