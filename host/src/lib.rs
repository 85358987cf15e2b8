//! # cove-host
//!
//! Runs merchants' customer-experience policies as sandboxed WebAssembly
//! components behind an HTTP API. See the repository README for the tour;
//! the modules, in the order a decision flows through them:
//!
//! - [`http`]: axum routers (operator, merchant), auth and errors.
//! - [`invoke`]: one decision, from JSON input to checked answer or fallback.
//! - [`bindings`]: merchant × slot → plugin version, swapped atomically.
//! - [`runtime`]: wasmtime engine, limits, per-call sandbox.
//! - [`registry`]: publish-time validation, content addressing, compile cache.
//! - [`store`]: SQLite / PostgreSQL persistence.

pub mod bindings;
pub mod breaker;
pub mod http;
pub mod invoke;
pub mod markdown;
pub mod metrics;
pub mod registry;
pub mod runtime;
pub mod scaffold;
pub mod slots;
pub mod store;

use std::sync::Arc;

pub use http::app;

/// Everything a request handler needs.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The shared parts of [`AppState`].
pub struct Inner {
    /// The sandbox.
    pub runtime: Arc<runtime::Runtime>,
    /// Database.
    pub store: store::Store,
    /// Plugin registry.
    pub registry: registry::Registry,
    /// Bindings in force.
    pub bindings: bindings::Bindings,
    /// Metrics.
    pub metrics: metrics::Metrics,
    /// The operator's bearer token.
    pub operator_token: String,
    /// Built knowledge-search indexes.
    pub kb: http::KbIndexes,
    /// The storefront widget's files, if built.
    pub widget: Option<http::WidgetAssets>,
    /// Caches and rate limits of the widget's public endpoints.
    pub public: http::PublicState,
    /// Demo mode: the demo storefront is served at `/`.
    pub demo: bool,
    /// Cache of API-key hash → merchant id.
    pub keys: std::sync::RwLock<std::collections::HashMap<String, String>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// How to start a host.
pub struct Settings {
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// Bearer token for operator endpoints.
    pub operator_token: String,
    /// Where compiled plugins are cached (none: memory only).
    pub cache_dir: Option<std::path::PathBuf>,
    /// Sandbox limits.
    pub limits: runtime::Limits,
    /// The built widget (`scripts/build-widget` output), if any.
    pub widget_dir: Option<std::path::PathBuf>,
    /// Serve the demo storefront.
    pub demo: bool,
    /// Public endpoints: requests a visitor may make at once, and per second.
    pub public_rate: (f64, f64),
    /// Header naming the visitor's address (set by a proxy in front).
    pub client_ip_header: Option<String>,
}

impl AppState {
    /// Open the store, build the runtime and load the bindings in force.
    pub async fn new(settings: Settings) -> anyhow::Result<AppState> {
        let runtime = runtime::Runtime::new(settings.limits)?;
        let store = store::Store::connect(&settings.database_url).await?;
        let registry = registry::Registry::new(runtime.clone(), store.clone(), settings.cache_dir);
        let widget = match &settings.widget_dir {
            Some(dir) => Some(http::WidgetAssets::load(dir)?),
            None => None,
        };
        let state = AppState(Arc::new(Inner {
            runtime,
            store,
            registry,
            bindings: bindings::Bindings::default(),
            metrics: metrics::Metrics::default(),
            operator_token: settings.operator_token,
            kb: Default::default(),
            widget,
            public: http::PublicState::new(
                settings.public_rate.0,
                settings.public_rate.1,
                settings
                    .client_ip_header
                    .as_deref()
                    .map(axum::http::HeaderName::try_from)
                    .transpose()?,
            ),
            demo: settings.demo,
            keys: Default::default(),
        }));
        state.refresh_bindings().await?;
        Ok(state)
    }

    /// Pick up binding changes made by this or another replica.
    pub async fn refresh_bindings(&self) -> anyhow::Result<()> {
        self.bindings
            .refresh(&self.store, &self.registry, &self.metrics)
            .await
    }

    /// Poll the database for binding changes made by other replicas.
    pub fn spawn_sync(&self, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = state.refresh_bindings().await {
                    tracing::warn!(error = %format!("{e:#}"), "could not refresh bindings");
                }
            }
        })
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
