//! `cove plugin new`: writes a plugin crate for one world that builds to a
//! component and passes its own native unit test out of the box.

use std::path::{Path, PathBuf};

use crate::slots::Slot;

/// Where this host's guest SDK lives (for the path dependency).
pub fn default_sdk_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-sdk")
}

/// Write a new plugin crate `name` for `slot` into `dir`.
pub fn new_plugin(dir: &Path, name: &str, slot: Slot, sdk: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        "plugin name `{name}` must be lower-case letters, digits or dashes"
    );
    anyhow::ensure!(!dir.exists(), "{} already exists", dir.display());
    std::fs::create_dir_all(dir.join("src"))?;
    let sdk = sdk.canonicalize().unwrap_or_else(|_| sdk.to_path_buf());
    let cargo = format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
cove-sdk = {{ path = "{sdk}" }}

[profile.release]
opt-level = "s"
strip = true

# Stand-alone crate, not part of an enclosing workspace.
[workspace]
"#,
        sdk = sdk.display()
    );
    std::fs::write(dir.join("Cargo.toml"), cargo)?;
    std::fs::write(dir.join("src/lib.rs"), template(slot))?;
    Ok(())
}

fn template(slot: Slot) -> &'static str {
    match slot {
        Slot::Fatigue => FATIGUE,
        Slot::Rfm => RFM,
        Slot::Allocator => ALLOCATOR,
        Slot::Returns => RETURNS,
        Slot::Channels => CHANNELS,
    }
}

const FATIGUE: &str = r#"//! A Cove fatigue policy. Build: cargo build --release --target wasm32-wasip2
use cove_sdk::fatigue::{Decision, DropReason, Error, FatiguePolicy, MessageRequest};
use cove_sdk::Ctx;

/// Drops messages on suppressed channels, allows the rest.
pub struct Policy;

impl FatiguePolicy for Policy {
    fn decide(request: MessageRequest, _ctx: &Ctx) -> Result<Decision, Error> {
        if request.suppressed.contains(&request.channel) {
            return Ok(Decision::Drop(DropReason::Suppressed));
        }
        Ok(Decision::Allow)
    }
}

cove_sdk::export_fatigue_policy!(Policy);

#[cfg(test)]
mod tests {
    use super::*;
    use cove_sdk::{Channel, Customer, MessageKind, Region};

    #[test]
    fn suppressed_channel_is_dropped() {
        let request = MessageRequest {
            customer: Customer { id: "c1".into(), region: Region::Europe, country: "FR".into(), utc_offset_minutes: 60, created_at: 0 },
            channel: Channel::Email,
            kind: MessageKind::Promotional,
            campaign_id: String::new(),
            history: vec![],
            active_campaigns: vec![],
            suppressed: vec![Channel::Email],
            last_engaged_at: None,
            has_trigger_signal: false,
        };
        let decision = Policy::decide(request, &Ctx::for_test(0)).unwrap();
        assert_eq!(decision, Decision::Drop(DropReason::Suppressed));
    }
}
"#;

const RFM: &str = r#"//! A Cove RFM scorer. Build: cargo build --release --target wasm32-wasip2
use cove_sdk::rfm::{CustomerActivity, Error, RfmScore, RfmScorer};
use cove_sdk::{Ctx, DAY_MS, TimestampMs};

/// Scores recency by days since the last order; frequency and monetary by order count and spend.
pub struct Scorer;

fn band(value: f64, cuts: [f64; 4]) -> u8 {
    1 + cuts.iter().filter(|c| value >= **c).count() as u8
}

impl RfmScorer for Scorer {
    fn score(as_of: TimestampMs, customers: Vec<CustomerActivity>, _ctx: &Ctx) -> Result<Vec<RfmScore>, Error> {
        Ok(customers
            .into_iter()
            .map(|c| {
                let last = c.orders.iter().map(|o| o.placed_at).max();
                let days = last.map_or(f64::MAX, |t| ((as_of - t) / DAY_MS) as f64);
                let recency = 6 - band(days, [30.0, 90.0, 180.0, 365.0]);
                let frequency = band(c.orders.len() as f64, [2.0, 3.0, 5.0, 10.0]);
                let spend: i64 = c.orders.iter().map(|o| o.total.amount_minor).sum();
                let monetary = band(spend as f64 / 100.0, [50.0, 150.0, 500.0, 1000.0]);
                let segment = if recency >= 4 { "active" } else if recency >= 2 { "at-risk" } else { "churned" };
                RfmScore { customer_id: c.customer.id, recency, frequency, monetary, segment: segment.into(), segments: vec![segment.into()] }
            })
            .collect())
    }
}

cove_sdk::export_rfm_scorer!(Scorer);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_batch_gives_no_scores() {
        assert!(Scorer::score(0, vec![], &Ctx::for_test(0)).unwrap().is_empty());
    }
}
"#;

const ALLOCATOR: &str = r#"//! A Cove A/B allocator. Build: cargo build --release --target wasm32-wasip2
use cove_sdk::allocator::{Allocator, Assignment, Error, Experiment};
use cove_sdk::Ctx;

/// Weighted split by a stable hash of experiment and unit.
pub struct Split;

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

impl Allocator for Split {
    fn allocate(experiment: Experiment, unit_id: String, _ctx: &Ctx) -> Result<Assignment, Error> {
        let total: u64 = experiment.arms.iter().map(|a| u64::from(a.weight)).sum();
        if total == 0 {
            return Err(Error::InvalidInput("the arms' weights add up to zero".into()));
        }
        let mut point = fnv1a(&format!("{}:{unit_id}", experiment.id)) % total;
        for arm in &experiment.arms {
            if point < u64::from(arm.weight) {
                return Ok(Assignment { arm_id: arm.id.clone(), deterministic: true });
            }
            point -= u64::from(arm.weight);
        }
        unreachable!("point is below the total weight")
    }
}

cove_sdk::export_allocator!(Split);

#[cfg(test)]
mod tests {
    use super::*;
    use cove_sdk::allocator::{AllocationMode, Arm};

    #[test]
    fn same_unit_same_arm() {
        let arm = |id: &str| Arm { id: id.into(), weight: 1, exposures: 0, conversions: 0 };
        let exp = Experiment { id: "hero".into(), arms: vec![arm("a"), arm("b")], mode: AllocationMode::FixedSplit };
        let first = Split::allocate(exp.clone(), "u1".into(), &Ctx::for_test(0)).unwrap();
        let again = Split::allocate(exp, "u1".into(), &Ctx::for_test(0)).unwrap();
        assert_eq!(first, again);
    }
}
"#;

const RETURNS: &str = r#"//! A Cove return flow. Build: cargo build --release --target wasm32-wasip2
use cove_sdk::returns::{Error, Handover, Outcome, Queue, ReturnFlow, ReturnRequest, Sentiment};
use cove_sdk::Ctx;

/// Sends every return to a person; angry customers first.
pub struct Flow;

impl ReturnFlow for Flow {
    fn evaluate(request: ReturnRequest, _ctx: &Ctx) -> Result<Outcome, Error> {
        let queue = if request.sentiment == Sentiment::Negative { Queue::Priority } else { Queue::Standard };
        Ok(Outcome::HumanReview(Handover { queue, reason: "every return is checked by a person".into() }))
    }
}

cove_sdk::export_return_flow!(Flow);

#[cfg(test)]
mod tests {
    use super::*;
    use cove_sdk::Money;
    use cove_sdk::returns::{MembershipTier, SalesPlatform};

    #[test]
    fn angry_customers_go_first() {
        let request = ReturnRequest {
            country: "DE".into(), platform: SalesPlatform::OwnSite, sku: "S1".into(), category: "apparel".into(),
            quantity: 1, unit_price: Money { amount_minor: 4999, currency: "EUR".into() }, purchased_at: 0,
            weight_grams: 500, tier: MembershipTier::None, sentiment: Sentiment::Negative, reason: "late".into(),
        };
        let outcome = Flow::evaluate(request, &Ctx::for_test(0)).unwrap();
        assert!(matches!(outcome, Outcome::HumanReview(Handover { queue: Queue::Priority, .. })));
    }
}
"#;

const CHANNELS: &str = r#"//! A Cove channel chooser. Build: cargo build --release --target wasm32-wasip2
use cove_sdk::channels::{ChannelChooser, ChooseRequest, Error, Ranked};
use cove_sdk::Ctx;

/// Ranks consented channels by click rate.
pub struct Chooser;

impl ChannelChooser for Chooser {
    fn choose(request: ChooseRequest, _ctx: &Ctx) -> Result<Vec<Ranked>, Error> {
        let mut ranked: Vec<Ranked> = request
            .consents
            .iter()
            .filter(|c| c.granted)
            .map(|c| {
                let stats = request.stats.iter().find(|s| s.channel == c.channel);
                let rate = stats.map_or(0.0, |s| f64::from(s.clicked) / f64::from(s.delivered.max(1)));
                Ranked { channel: c.channel, score: rate.clamp(0.0, 1.0), reason: "click rate".into() }
            })
            .collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(ranked)
    }
}

cove_sdk::export_channel_chooser!(Chooser);

#[cfg(test)]
mod tests {
    use super::*;
    use cove_sdk::channels::Consent;
    use cove_sdk::{Channel, Customer, MessageKind, Region};

    #[test]
    fn only_consented_channels() {
        let request = ChooseRequest {
            customer: Customer { id: "c1".into(), region: Region::MiddleEast, country: "AE".into(), utc_offset_minutes: 240, created_at: 0 },
            kind: MessageKind::Promotional,
            consents: vec![Consent { channel: Channel::Sms, granted: true }, Consent { channel: Channel::Email, granted: false }],
            stats: vec![],
            last_engaged_at: None,
        };
        let ranked = Chooser::choose(request, &Ctx::for_test(0)).unwrap();
        assert_eq!(ranked.len(), 1);
        assert_eq!(ranked[0].channel, Channel::Sms);
    }
}
"#;
