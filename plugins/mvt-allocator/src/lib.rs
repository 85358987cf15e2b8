//! # Cove's reference A/B and multivariate allocator
//!
//! Assignment is GrowthBook's, bit for bit: the same experiment definition
//! and attributes put a unit in the same variation as GrowthBook's SDKs
//! (FNV-1a 32-bit over UTF-16 code units, hash versions 1 and 2, bucket
//! ranges from weights and coverage, namespaces, targeting conditions,
//! forced variations; see [`gb`] and [`condition`]). A multivariate test is
//! an experiment whose variations are the combinations of its factors; the
//! host builds them.
//!
//! Bandits ([`bandit`]): the host asks for new weights on a cadence, and
//! the plugin answers with Thompson sampling over each arm's conversions.
//! A unit keeps its arm when weights move (the host stores it and passes it
//! back as `sticky`).
//!
//! Configuration (all optional):
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `bandit.draws` | 2000 | posterior draws per reweight (100–5,000; a reweight runs within the sandbox's fuel) |

pub mod bandit;
pub mod condition;
pub mod gb;
pub mod json;

use cove_sdk::allocator::{Allocator, ArmStats, Assignment, BanditSettings, Error, Experiment};
use cove_sdk::{Config, Ctx, Setting, SettingKind};

/// The reference allocator.
pub struct MvtAllocator;

fn draws(config: &Config) -> Result<u32, Error> {
    let draws = config
        .parse_or("bandit.draws", 2000u32)
        .map_err(Error::InvalidConfig)?;
    if !(100..=5_000).contains(&draws) {
        return Err(Error::InvalidConfig(format!(
            "bandit.draws: {draws} is not between 100 and 5000"
        )));
    }
    Ok(draws)
}

impl Allocator for MvtAllocator {
    fn validate_config(config: &Config) -> Result<(), Error> {
        draws(config).map(drop)
    }

    fn settings() -> Vec<Setting> {
        vec![Setting::new(
            "bandit.draws",
            SettingKind::integer(100, 5_000),
            Some("2000"),
            "How many random draws a bandit uses each time it moves traffic: more is steadier, fewer is faster.",
            "多臂老虎机每次调整流量时使用的随机抽样次数：越多越稳定，越少越快。",
            "bandit.draws = 2000",
        )]
    }

    fn allocate(
        experiment: Experiment,
        attributes: String,
        sticky: Option<u32>,
        _ctx: &Ctx,
    ) -> Result<Assignment, Error> {
        let attributes = json::parse(&attributes)
            .map_err(|e| Error::InvalidInput(format!("attributes: not valid JSON ({e})")))?;
        if attributes.as_object().is_none() {
            return Err(Error::InvalidInput(
                "attributes: must be a JSON object".into(),
            ));
        }
        gb::run(&experiment, &attributes, sticky)
    }

    fn reweight(
        arms: Vec<ArmStats>,
        settings: BanditSettings,
        ctx: &Ctx,
    ) -> Result<Vec<f64>, Error> {
        let mut rng = bandit::Rng::new(ctx.random_u64());
        bandit::weights(&arms, &settings, draws(ctx.config())?, &mut rng)
    }
}

cove_sdk::export_allocator!(MvtAllocator);

#[cfg(test)]
mod tests;
