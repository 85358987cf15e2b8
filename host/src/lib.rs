//! # cove-host
//!
//! Runs merchants' customer-experience policies as sandboxed WebAssembly
//! components behind an HTTP API. See the repository README for the tour.
//!
//! - [`platform`]: what every feature stands on: the sandbox, the plugin
//!   registry, bindings and hot swap, one decision with its fallback, the
//!   store, auth and errors, the public guard.
//! - One folder per feature, each registering what it provides with one
//!   [`Feature`] value (listed once, in [`FEATURES`]):
//!   [`kb`] (FAQ articles and search), [`surveys`] (exit surveys and
//!   results), [`widget`] (the storefront widget's settings, files and
//!   config), [`console`] (the merchant console's pages and sign-in),
//!   [`customers`] (customers, consents, orders, events: imports,
//!   profiles, privacy requests), [`returns`] (self-service returns),
//!   [`experiments`] (A/B, multivariate and bandit tests), [`rfm`]
//!   (customer value: RFM runs with predictions), [`messaging`] (inbound
//!   SMS keywords, so far).

pub mod console;
pub mod customers;
pub mod decisions;
pub mod experiments;
pub mod kb;
pub mod messaging;
pub mod platform;
pub mod returns;
pub mod rfm;
pub mod surveys;
pub mod widget;

use crate::platform::http::Code;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;

use platform::feature::Feature;
use platform::http::ApiError;
use platform::{bindings, metrics, registry, runtime, store};

/// Every feature, the one place that names them all: their routes,
/// migrations, slot policies, privacy hooks, tasks, demo content and
/// console pages reach the platform from here. The console's navigation
/// follows this order.
pub const FEATURES: &[&Feature] = &[
    &kb::FEATURE,
    &surveys::FEATURE,
    &widget::FEATURE,
    &customers::FEATURE,
    &rfm::FEATURE,
    &messaging::FEATURE,
    &returns::FEATURE,
    &experiments::FEATURE,
    &decisions::FEATURE,
    &console::FEATURE,
];

/// The Cove HTTP API: the platform's routes and every feature's; the
/// OpenAPI description is collected from the same routes.
pub fn app(state: AppState) -> Router {
    let (router, api) = platform::routes(&state, state.features).split_for_parts();
    router
        .merge(platform::openapi::routes(&platform::openapi::finish(
            api,
            state.permissions.get(),
        )))
        .fallback(|| async { ApiError::not_found("no such endpoint; see the README for the API") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                Code::MethodNotAllowed,
                "this endpoint does not accept that method",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            platform::session::csrf_guard,
        ))
        .with_state(state)
}

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
    /// Rate limits of the public endpoints.
    pub public: platform::guard::Public,
    /// Per-merchant request rates and plugin-call ceilings.
    pub fair: platform::fair::Fair,
    /// Demo mode: the demo storefront is served at `/`.
    pub demo: bool,
    /// API keys recently checked, by hash.
    pub keys: platform::keys::KeyCache,
    /// The scope each route needs (set when the routes are assembled).
    pub permissions: std::sync::OnceLock<platform::keys::Permissions>,
    /// Console sessions.
    pub sessions: platform::session::Sessions,
    /// Decisions per hour and outcome, not yet written.
    pub stats: platform::stats::CallStats,
    /// Calls sampled for the decision log, not yet written.
    pub calls: platform::calls::CallLog,
    /// Candidate versions shadowing slots.
    pub shadows: platform::shadow::Shadows,
    /// Candidate versions answering for a share of a slot's units.
    pub canaries: platform::canary::Canaries,
    /// The features registered ([`FEATURES`]).
    pub features: &'static [&'static Feature],
    /// How long a request may take (its body read and answered), and how
    /// long a streaming upload may go without a byte; `None`: no limit.
    pub request_timeout: Option<std::time::Duration>,
    /// Owners must sign in with a one-time code.
    pub owner_totp: bool,
    /// Each feature's own state ([`Feature::state`]).
    pub states: platform::feature::States,
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
    /// Wrong credentials one address may send at once before it waits
    /// ([`platform::guard::BAD_AUTH_BURST`] by default).
    pub bad_auth_burst: f64,
    /// Header naming the visitor's address (set by a proxy in front).
    pub client_ip_header: Option<String>,
    /// Limits of merchants the operator set none for.
    pub merchant_limits: platform::fair::MerchantLimits,
    /// How long a request may take to send and answer (streaming uploads:
    /// how long they may go without a byte); `None`: no limit.
    pub request_timeout: Option<std::time::Duration>,
    /// Owners must sign in with a one-time code (`--owner-totp`).
    pub owner_totp: bool,
    /// Refuse unsigned plugins (`--require-signatures`).
    pub require_signatures: bool,
}

impl AppState {
    /// Open the store, build the runtime and load the bindings in force.
    pub async fn new(settings: Settings) -> anyhow::Result<AppState> {
        platform::feature::check(FEATURES).map_err(anyhow::Error::msg)?;
        let states = platform::feature::States::new(FEATURES, &settings)?;
        let runtime = runtime::Runtime::new(settings.limits)?;
        let store = store::Store::connect(&settings.database_url).await?;
        let mut registry =
            registry::Registry::new(runtime.clone(), store.clone(), settings.cache_dir);
        registry.require_signatures = settings.require_signatures;
        let state = AppState(Arc::new(Inner {
            runtime,
            store,
            registry,
            bindings: bindings::Bindings::default(),
            metrics: metrics::Metrics::default(),
            operator_token: settings.operator_token,
            public: platform::guard::Public::new(
                settings.public_rate.0,
                settings.public_rate.1,
                settings
                    .client_ip_header
                    .as_deref()
                    .map(axum::http::HeaderName::try_from)
                    .transpose()?,
            )
            .with_bad_auth_burst(settings.bad_auth_burst),
            fair: platform::fair::Fair::new(settings.merchant_limits),
            demo: settings.demo,
            keys: Default::default(),
            permissions: Default::default(),
            sessions: Default::default(),
            stats: Default::default(),
            calls: Default::default(),
            shadows: Default::default(),
            canaries: Default::default(),
            features: FEATURES,
            request_timeout: settings.request_timeout,
            owner_totp: settings.owner_totp,
            states,
        }));
        state.refresh_bindings().await?;
        Ok(state)
    }

    /// The state a feature registered, of type `T` ([`Feature::state`]).
    pub fn get<T: std::any::Any + Send + Sync>(&self) -> &T {
        self.states.get()
    }

    /// The policy of `slot`: its fallback, answer rules, input
    /// completion and memory, from the feature that serves it.
    pub fn slot_policy(
        &self,
        slot: platform::slots::Slot,
    ) -> &'static platform::feature::SlotPolicy {
        platform::feature::slot_policy(self.features, slot)
    }

    /// Start every feature's background tasks, and the sync with other
    /// replicas every `sync`.
    pub fn spawn_tasks(&self, sync: std::time::Duration) {
        self.spawn_sync(sync);
        for task in self.features.iter().filter_map(|f| f.tasks) {
            task(self);
        }
    }

    /// Add every feature's demo content for `merchant`.
    pub async fn seed_demo(&self, merchant: &str) -> anyhow::Result<()> {
        for f in self.features {
            if let Some(seed) = f.seed_demo {
                seed(self, merchant)
                    .await
                    .map_err(|e| e.context(format!("the {} demo", f.name)))?;
            }
        }
        Ok(())
    }

    /// Pick up binding, limit, shadow and canary changes made by this or
    /// another replica, and write the decision and canary counts of the
    /// last interval.
    pub async fn refresh_bindings(&self) -> anyhow::Result<()> {
        self.stats.flush(&self.store).await?;
        self.bindings
            .refresh(&self.store, &self.registry, &self.metrics)
            .await?;
        self.fair.set_overrides(self.store.merchant_limits().await?);
        self.refresh_shadows().await?;
        platform::canary::refresh(self).await
    }

    /// Load the shadows in force (another replica may have set them).
    async fn refresh_shadows(&self) -> anyhow::Result<()> {
        let mut shadows = Vec::new();
        let mut budgets: std::collections::HashMap<String, Arc<platform::shadow::Budget>> =
            Default::default();
        for (merchant, slot, plugin_id, since) in self.store.shadows().await? {
            let (Some(slot), Some(row)) = (
                platform::slots::Slot::from_world(&slot),
                self.store.plugin_by_id(plugin_id).await?,
            ) else {
                continue;
            };
            let prepared = self.registry.prepared(&row).await?;
            let budget = budgets
                .entry(merchant.clone())
                .or_insert_with(|| self.shadows.budget(&merchant))
                .clone();
            shadows.push((
                merchant,
                slot,
                Arc::new(platform::shadow::Shadow::new(
                    format!("{}@{}", row.name, row.version),
                    plugin_id,
                    prepared,
                    since,
                    budget,
                )),
            ));
        }
        self.shadows.set(shadows);
        self.shadows.sync(&self.store).await
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

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The features fit together: one policy per slot, unique migration
    /// versions and names, one source of allowed origins.
    #[test]
    fn the_features_fit_together() {
        platform::feature::check(FEATURES).unwrap();
        for sqlite in [true, false] {
            let all = store::migrations(sqlite, FEATURES).unwrap();
            assert!(all.windows(2).all(|w| w[0].version < w[1].version));
        }
    }

    /// Nothing under `platform/` names a feature: features reach the
    /// platform through their registration only.
    #[test]
    fn the_platform_names_no_feature() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/platform");
        let mut dirs = vec![root];
        let mut files = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                files += 1;
                for f in FEATURES {
                    for named in [
                        format!("crate::{}", f.name),
                        format!("cove_host::{}", f.name),
                    ] {
                        assert!(
                            !text.contains(&format!("{named}::"))
                                && !text.contains(&format!("{named};")),
                            "{} names the feature `{}` ({named})",
                            path.display(),
                            f.name
                        );
                    }
                }
            }
        }
        assert!(files > 10, "read the platform's files");
    }
}
