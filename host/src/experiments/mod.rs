//! A/B and multivariate experiments: definitions in GrowthBook's shape,
//! assignment by the merchant's `allocator` plugin (identical to
//! GrowthBook's SDKs with the reference plugin), bandits reweighted on a
//! cadence with sticky units, exposures and conversions idempotent by
//! event id, results with `gbstats`' Bayesian numbers and a
//! sample-ratio-mismatch check, and the storefront's `Cove.variant()`
//! through a public, origin-guarded endpoint.

mod assign;
mod bandit;
mod cache;
mod demo;
mod handlers;
pub mod means;
pub mod model;
mod public;
mod rollup;
pub mod slots;
pub mod stats;
pub mod store;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::platform::feature::{Claim, ConsolePage, Erase, Feature, Migration, Privacy};
use crate::platform::http::{ApiError, ForMerchant, JsonBody};
use crate::platform::invoke::{InvokeError, call_other, invoke};
use crate::platform::slots::{Contract, Slot};
use model::{Definition, invalid};
use store::ExperimentRow;

pub use cache::Cache;

/// How long a replica serves an experiment from memory before reading it
/// again (another replica's edit, a bandit's new weights).
const FRESH: Duration = Duration::from_secs(2);

/// The feature's routes.
fn routes(_: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::list, handlers::create))
        .routes(routes!(handlers::events))
        .routes(routes!(handlers::one, handlers::update))
        .routes(routes!(handlers::assign))
        .routes(routes!(handlers::stop))
        .routes(routes!(handlers::reweight))
        .routes(routes!(handlers::results))
}

/// Experiments, as registered with the platform: they serve the
/// allocator slot, reweight bandits in the background, and keep units
/// (a customer's id when an experiment hashes on it; erased with them).
pub const FEATURE: Feature = Feature {
    name: "experiments",
    routes,
    public: |_| {
        OpenApiRouter::new()
            .routes(routes!(public::public_assign))
            .routes(routes!(public::public_exposures))
    },
    migrations: &[
        Migration::new(
            10,
            "experiments",
            include_str!("migrations/0010_experiments.sql"),
        ),
        Migration::new(
            29,
            "experiment results from rollups",
            include_str!("migrations/0029_experiment_rollups.sql"),
        ),
    ],
    customers_changed: Some(rollup::units_changed),
    slots: &[slots::ALLOCATOR],
    // An assignment runs the allocator, as a decision does: it changes
    // nothing a merchant audits, and a storefront makes thousands. The
    // conversions are live events, sent as imports are.
    permissions: &[
        (
            "POST",
            "/v1/merchants/{merchant}/experiments/{key}/assign",
            crate::platform::keys::Scope::Policies,
        ),
        (
            "POST",
            "/v1/merchants/{merchant}/experiments/events",
            crate::platform::keys::Scope::Import,
        ),
    ],
    privacy: Some(Privacy {
        tables: &[
            Claim {
                table: "experiment_units",
                column: "unit",
                erase: Erase::Delete,
            },
            Claim {
                table: "experiment_exposures",
                column: "unit",
                erase: Erase::Delete,
            },
            Claim {
                table: "experiment_conversions",
                column: "unit",
                erase: Erase::Delete,
            },
            Claim {
                table: "experiment_unit_orders",
                column: "unit",
                erase: Erase::Delete,
            },
        ],
        export: None,
        erase: Some(rollup::erase),
    }),
    tasks: Some(|state| {
        bandit::spawn_bandits(state, Duration::from_secs(30));
    }),
    seed_demo: Some(|state, merchant| Box::pin(demo::seed_demo(state, merchant))),
    console: &[ConsolePage::new(
        "experiments.js",
        include_str!("console.js"),
    )],
    state: Some(|_| Ok(std::sync::Arc::new(Cache::default()))),
    ..Feature::EMPTY
};
