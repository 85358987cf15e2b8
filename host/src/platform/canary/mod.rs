//! Canaries: a candidate version answers for a share of a slot's units
//! (customers, or the allocator's hash attribute), sticky by a hash of
//! the unit that is the canary's own (an experiment's assignment, which
//! hashes the unit with the experiment's seed, is not disturbed). The
//! share rises in steps, by hand or on a schedule; past the last step the
//! candidate is bound for everyone.
//!
//! Each replica counts both versions' calls — failures (the safe fallback
//! answered) and kinds of answers — and adds what the other replicas have
//! written. After every candidate failure, and every few candidate calls,
//! a sequential test (a mixture SPRT on the difference of two rates,
//! valid however often it looks) asks whether the candidate fails more,
//! or answers differently, beyond the merchant's bounds. When it does,
//! the replica stops routing to the candidate at once and records the
//! rollback; the others see it at their next sync (200 ms by default).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use crate::AppState;
use crate::platform::bindings::Active;
use crate::platform::feature::answer_kind;
use crate::platform::invoke::{Answer, InvokeError};
use crate::platform::slots::Slot;
use crate::platform::store::{Store, StoreError};

pub mod api;
mod store;
use store::json;
pub use store::{CanaryEvent, CanaryRow};

/// The chance of rolling back a candidate that is within its bounds, over
/// the whole canary however often it is looked at (per check).
pub const ALPHA: f64 = 0.05;

/// The mixture's variance: the size of difference the test is tuned to
/// find quickly (a tenth, squared).
const TAU2: f64 = 0.01;

/// Candidate calls between two analyses when nothing failed.
const EVERY: u64 = 8;

/// The default steps, in percent.
pub const DEFAULT_STEPS: [f64; 3] = [1.0, 5.0, 25.0];

/// How far the candidate may depart from the live version before it is
/// taken back.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = CanaryBounds)]
pub struct Bounds {
    /// How much higher its failure rate may be (0.01: one point).
    pub max_failure_rise: f64,
    /// How far the share of any kind of answer may move (0.1: ten points;
    /// 1 turns the check off).
    pub max_answer_shift: f64,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_failure_rise: 0.01,
            max_answer_shift: 0.10,
        }
    }
}

/// One version's calls under a canary.
#[derive(Default, Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = CanaryArm)]
pub struct Arm {
    /// Calls answered.
    pub calls: u64,
    /// Of them, answered by the safe fallback (the version failed).
    pub failed: u64,
    /// Answers by kind (`allow`, `defer`, `email first`, `error`…).
    pub answers: BTreeMap<String, u64>,
}

impl Arm {
    fn add(&mut self, other: &Arm) {
        self.calls += other.calls;
        self.failed += other.failed;
        for (k, n) in &other.answers {
            *self.answers.entry(k.clone()).or_default() += n;
        }
    }
}

/// Both versions' calls.
#[derive(Default, Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[schema(as = CanaryCounts)]
pub struct Counts {
    /// The live version's.
    pub live: Arm,
    /// The candidate's.
    pub candidate: Arm,
}

impl Counts {
    pub(crate) fn add(&mut self, other: &Counts) {
        self.live.add(&other.live);
        self.candidate.add(&other.candidate);
    }
}

/// One comparison of the analysis.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = CanaryCheck)]
pub struct Check {
    /// `failures`, or `answer KIND` (its share of calls).
    pub what: String,
    /// The live version's rate.
    pub live: f64,
    /// The candidate's rate.
    pub candidate: f64,
    /// How far the candidate may depart.
    pub bound: f64,
    /// The evidence that it departs further (a likelihood ratio; ≥
    /// `threshold` rolls back).
    pub evidence: f64,
    /// The evidence that rolls back (1/α, shared among the answer kinds).
    pub threshold: f64,
    /// The evidence reached the threshold.
    pub breached: bool,
}

/// The evidence (mixture likelihood ratio) that the candidate's rate of
/// something (`x` of `n`) departs from the live version's by more than
/// `bound`: upwards, or either way when `either_way`. Half a success and
/// half a failure are added to each arm, so that no count is ever certain.
pub fn evidence(candidate: (u64, u64), live: (u64, u64), bound: f64, either_way: bool) -> f64 {
    let rate = |(x, n): (u64, u64)| (x as f64 + 0.5) / (n as f64 + 1.0);
    let (pc, pl) = (rate(candidate), rate(live));
    let v = pc * (1.0 - pc) / (candidate.1 as f64 + 1.0) + pl * (1.0 - pl) / (live.1 as f64 + 1.0);
    let d = pc - pl;
    let excess = if either_way { d.abs() } else { d } - bound;
    if excess <= 0.0 {
        return 0.0;
    }
    (v / (v + TAU2)).sqrt() * (TAU2 * excess * excess / (2.0 * v * (v + TAU2))).exp()
}

/// The analysis of `counts` against `bounds`: failures first, then each
/// kind of answer either version gave.
pub fn analyse(counts: &Counts, bounds: &Bounds) -> Vec<Check> {
    let (c, l) = (&counts.candidate, &counts.live);
    let rate = |x: u64, n: u64| if n == 0 { 0.0 } else { x as f64 / n as f64 };
    let mut checks = vec![{
        let e = evidence(
            (c.failed, c.calls),
            (l.failed, l.calls),
            bounds.max_failure_rise,
            false,
        );
        Check {
            what: "failures".into(),
            live: rate(l.failed, l.calls),
            candidate: rate(c.failed, c.calls),
            bound: bounds.max_failure_rise,
            evidence: e,
            threshold: 1.0 / ALPHA,
            breached: e >= 1.0 / ALPHA,
        }
    }];
    let kinds: std::collections::BTreeSet<&String> =
        c.answers.keys().chain(l.answers.keys()).collect();
    if bounds.max_answer_shift < 1.0 {
        let threshold = kinds.len() as f64 / ALPHA;
        for kind in kinds {
            let (xc, xl) = (
                c.answers.get(kind).copied().unwrap_or(0),
                l.answers.get(kind).copied().unwrap_or(0),
            );
            let e = evidence((xc, c.calls), (xl, l.calls), bounds.max_answer_shift, true);
            checks.push(Check {
                what: format!("answer {kind}"),
                live: rate(xl, l.calls),
                candidate: rate(xc, c.calls),
                bound: bounds.max_answer_shift,
                evidence: e,
                threshold,
                breached: e >= threshold,
            });
        }
    }
    checks
}

/// Why a breached check rolls back, in words.
pub fn reason(check: &Check, candidate: &str, live: &str) -> String {
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    match check.what.strip_prefix("answer ") {
        None => format!(
            "{candidate} failed on {} of its calls against {} for {live}; at most {:.1} points more were allowed",
            pct(check.candidate),
            pct(check.live),
            100.0 * check.bound
        ),
        Some(kind) => format!(
            "{candidate} answered `{kind}` on {} of its calls against {} for {live}; a move of at most {:.1} points was allowed",
            pct(check.candidate),
            pct(check.live),
            100.0 * check.bound
        ),
    }
}

/// Whether canary `id` at `share` (hundredths of a percent) takes `unit`.
fn takes(id: i64, share: u32, unit: &str) -> bool {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(id.to_le_bytes());
    h.update(unit.as_bytes());
    let d = h.finalize();
    let n = u64::from_le_bytes(d[..8].try_into().expect("8 bytes"));
    n % 10_000 < u64::from(share)
}

/// What a canary's calls have found, shared by its rebuilds.
#[derive(Default)]
pub struct Tally {
    /// Counted on this replica.
    pub here: Mutex<Counts>,
    /// Written by the other replicas.
    pub elsewhere: Mutex<Counts>,
    /// This replica's calls when last written.
    written: AtomicU64,
    /// Rolled back: no unit goes to the candidate any more.
    pub stopped: AtomicBool,
}

/// A running canary.
pub struct Canary {
    /// Its id.
    pub id: i64,
    /// The merchant.
    pub merchant: String,
    /// The slot.
    pub slot: Slot,
    /// The candidate, with the live binding's settings.
    pub candidate: Arc<Active>,
    /// The live binding's audit event it was built against.
    pub live_event: i64,
    /// The live version's `name@version`.
    pub live: String,
    /// The share of units it answers for, in hundredths of a percent.
    pub share: u32,
    /// Its bounds.
    pub bounds: Bounds,
    /// Its findings.
    pub tally: Arc<Tally>,
    /// How the slot's answers read (what kind an answer is).
    pub words: Option<&'static crate::platform::feature::AnswerWords>,
}

impl Canary {
    /// Whether `unit` goes to the candidate: a hash of the canary's id and
    /// the unit, below the share. The same unit keeps its version while
    /// the share rises.
    pub fn takes(&self, unit: &str) -> bool {
        takes(self.id, self.share, unit)
    }

    /// Both replicas' counts.
    pub fn counts(&self) -> Counts {
        let mut all = self.tally.here.lock().expect("tally lock").clone();
        all.add(&self.tally.elsewhere.lock().expect("tally lock"));
        all
    }

    /// Count one call's outcome; the rollback's reason when this call
    /// shows the candidate departs beyond its bounds (once per canary).
    pub fn record(&self, candidate: bool, out: &Result<Answer, InvokeError>) -> Option<String> {
        let (kind, failed) = match out {
            Ok(a) if a.fallback.is_some() => (None, true),
            Ok(a) => (Some(answer_kind(self.words, &a.result)), false),
            Err(InvokeError::PluginError { .. }) => (Some("error".to_string()), false),
            Err(_) => return None,
        };
        let calls = {
            let mut here = self.tally.here.lock().expect("tally lock");
            let arm = if candidate {
                &mut here.candidate
            } else {
                &mut here.live
            };
            arm.calls += 1;
            arm.failed += u64::from(failed);
            if let Some(k) = kind {
                *arm.answers.entry(k).or_default() += 1;
            }
            arm.calls
        };
        if !candidate || !(failed || calls.is_multiple_of(EVERY)) {
            return None;
        }
        self.verdict()
    }

    /// The rollback's reason if the analysis of both replicas' counts is
    /// breached and nobody stopped the canary yet (then it is stopped).
    pub fn verdict(&self) -> Option<String> {
        let breached = analyse(&self.counts(), &self.bounds)
            .into_iter()
            .find(|c| c.breached)?;
        if self.tally.stopped.swap(true, Ordering::SeqCst) {
            return None;
        }
        Some(reason(&breached, &self.candidate.label, &self.live))
    }
}

/// The canaries running, by merchant then slot.
#[derive(Default)]
pub struct Canaries {
    table: ArcSwap<HashMap<String, HashMap<Slot, Arc<Canary>>>>,
}

impl Canaries {
    /// The canary of `merchant`'s `slot`, unless none runs or it was
    /// stopped here.
    pub fn get(&self, merchant: &str, slot: Slot) -> Option<Arc<Canary>> {
        let table = self.table.load();
        let c = table.get(merchant)?.get(&slot)?;
        (!c.tally.stopped.load(Ordering::Relaxed)).then(|| c.clone())
    }

    /// Every canary in the table.
    pub fn all(&self) -> Vec<Arc<Canary>> {
        self.table
            .load()
            .values()
            .flat_map(|s| s.values().cloned())
            .collect()
    }

    /// Canary `id`, if it is in the table (stopped or not).
    pub fn find(&self, id: i64) -> Option<Arc<Canary>> {
        self.table
            .load()
            .values()
            .flat_map(|s| s.values())
            .find(|c| c.id == id)
            .cloned()
    }

    /// Replace the table.
    pub fn set(&self, canaries: Vec<(String, Slot, Arc<Canary>)>) {
        let mut table: HashMap<String, HashMap<Slot, Arc<Canary>>> = HashMap::new();
        for (m, s, c) in canaries {
            table.entry(m).or_default().insert(s, c);
        }
        self.table.store(Arc::new(table));
    }

    /// Write this replica's counts of each canary that moved, and read the
    /// other replicas'.
    pub async fn sync_counts(&self, store: &Store) -> Result<(), StoreError> {
        for c in self.all() {
            let here = c.tally.here.lock().expect("tally lock").clone();
            let calls = here.live.calls + here.candidate.calls;
            if c.tally.written.swap(calls, Ordering::Relaxed) != calls {
                store
                    .put_canary_counts(c.id, crate::platform::replica(), &json(&here))
                    .await?;
            }
            let mut elsewhere = Counts::default();
            for (replica, counts) in store.canary_counts(c.id).await? {
                if replica != crate::platform::replica()
                    && let Ok(counts) = serde_json::from_str::<Counts>(&counts)
                {
                    elsewhere.add(&counts);
                }
            }
            *c.tally.elsewhere.lock().expect("tally lock") = elsewhere;
        }
        Ok(())
    }
}

/// The share of a canary's step in force, in hundredths of a percent.
fn share_of(row: &CanaryRow) -> u32 {
    row.steps
        .get(row.step)
        .map_or(10_000, |p| (p * 100.0).round() as u32)
}

/// Load the canaries running (another replica may have started, raised
/// or ended one), write this replica's counts and read the others', raise
/// those whose schedule says so, and roll back those the counts of every
/// replica condemn.
pub async fn refresh(state: &AppState) -> anyhow::Result<()> {
    let now = crate::now_ms();
    let mut table = Vec::new();
    for row in state.store.running_canaries().await? {
        let Some(slot) = Slot::from_world(&row.slot) else {
            continue;
        };
        let Some(live) = state.bindings.get(&row.merchant, slot) else {
            continue;
        };
        if let Some(every) = row.every_minutes
            && now - row.stepped_at >= every * 60_000
        {
            if let Err(e) = advance(state, &row, "cove (schedule)").await {
                tracing::warn!(merchant = %row.merchant, %slot, error = e.message(), "could not raise the canary");
            }
            continue;
        }
        let share = share_of(&row);
        let old = state.canaries.find(row.id);
        let canary = match old {
            Some(c) if c.live_event == live.event_id && c.share == share => c,
            old => {
                let candidate =
                    match old.as_ref().filter(|c| c.live_event == live.event_id) {
                        Some(c) => c.candidate.clone(),
                        None => {
                            let plugin =
                                state.store.plugin_by_id(row.plugin_id).await?.ok_or_else(
                                    || anyhow::anyhow!("canary {}: its plugin is missing", row.id),
                                )?;
                            let prepared = state.registry.prepared(&plugin).await?;
                            Arc::new(crate::platform::bindings::candidate(
                                &live,
                                plugin,
                                prepared,
                                &state.metrics,
                            ))
                        }
                    };
                Arc::new(Canary {
                    id: row.id,
                    merchant: row.merchant.clone(),
                    slot,
                    candidate,
                    live_event: live.event_id,
                    live: live.label.clone(),
                    share,
                    bounds: row.bounds,
                    tally: old.map(|c| c.tally.clone()).unwrap_or_default(),
                    words: state.slot_policy(slot).words,
                })
            }
        };
        table.push((row.merchant.clone(), slot, canary));
    }
    state.canaries.set(table);
    state.canaries.sync_counts(&state.store).await?;
    for c in state.canaries.all() {
        if let Some(reason) = c.verdict() {
            roll_back(state, &c.merchant, c.slot, c.id, &reason, "cove").await?;
        }
    }
    Ok(())
}

/// End canary `id` of `merchant`'s `slot`: no unit goes to the candidate
/// any more, here at once and on the other replicas at their next sync.
/// Recorded in the audit log (once, by whoever ended it first).
pub async fn roll_back(
    state: &AppState,
    merchant: &str,
    slot: Slot,
    id: i64,
    reason: &str,
    actor: &str,
) -> Result<bool, StoreError> {
    if let Some(c) = state.canaries.find(id) {
        c.tally.stopped.store(true, Ordering::SeqCst);
        let here = json(&*c.tally.here.lock().expect("tally lock"));
        state
            .store
            .put_canary_counts(id, crate::platform::replica(), &here)
            .await?;
    }
    let ended = state
        .store
        .end_canary(id, "rolled_back", reason, crate::now_ms(), Some(actor))
        .await?;
    if ended {
        tracing::warn!(%merchant, %slot, canary = id, %actor, %reason, "canary rolled back");
    }
    Ok(ended)
}

/// Raise a running canary to its next step; past the last, bind the
/// candidate for everyone (with the live binding's settings).
pub async fn advance(
    state: &AppState,
    row: &CanaryRow,
    actor: &str,
) -> Result<(), crate::platform::http::ApiError> {
    let now = crate::now_ms();
    if row.step + 1 < row.steps.len() {
        if state.store.step_canary(row.id, row.step, now).await? {
            state
                .store
                .record_event(
                    &row.merchant,
                    &row.slot,
                    "canary step",
                    actor,
                    &serde_json::json!({"canary": row.id, "share": row.steps[row.step + 1]}),
                )
                .await?;
        }
        return Ok(());
    }
    let plugin = state
        .store
        .plugin_by_id(row.plugin_id)
        .await?
        .ok_or_else(|| crate::platform::http::ApiError::not_found("the candidate is gone"))?;
    crate::platform::operator::trusted(state, &plugin).await?;
    let config = Slot::from_world(&row.slot)
        .and_then(|slot| state.bindings.get(&row.merchant, slot))
        .map_or_else(|| "{}".to_string(), |a| a.config_json.to_string());
    let label = format!("{}@{}", plugin.name, plugin.version);
    if state
        .store
        .end_canary(
            row.id,
            "promoted",
            &format!("{label} promoted by {actor}"),
            now,
            None,
        )
        .await?
    {
        state
            .store
            .bind(
                &row.merchant,
                &row.slot,
                plugin.id,
                &config,
                actor,
                "canary promote",
            )
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm(calls: u64, failed: u64, answers: &[(&str, u64)]) -> Arm {
        Arm {
            calls,
            failed,
            answers: answers.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
        }
    }

    #[test]
    fn a_candidate_that_fails_every_call_is_caught_within_a_dozen_failures() {
        let bounds = Bounds::default();
        let caught = (1..100u64).find(|f| {
            let counts = Counts {
                live: arm(19 * (50 + f), 0, &[("allow", 19 * (50 + f))]),
                candidate: arm(50 + f, *f, &[("allow", 50)]),
            };
            analyse(&counts, &bounds)[0].breached
        });
        assert!(matches!(caught, Some(5..=12)), "{caught:?}");
    }

    #[test]
    fn few_calls_are_not_enough_to_tell() {
        let counts = Counts {
            live: arm(1000, 0, &[]),
            candidate: arm(2, 1, &[]),
        };
        assert!(!analyse(&counts, &Bounds::default())[0].breached);
    }

    #[test]
    fn a_shift_within_the_bound_is_never_breached_and_one_beyond_it_is() {
        let bounds = Bounds::default();
        let within = Counts {
            live: arm(10_000, 0, &[("allow", 5000), ("defer", 5000)]),
            candidate: arm(10_000, 0, &[("allow", 5800), ("defer", 4200)]),
        };
        assert!(analyse(&within, &bounds).iter().all(|c| !c.breached));
        let beyond = Counts {
            live: arm(2000, 0, &[("allow", 1000), ("defer", 1000)]),
            candidate: arm(100, 0, &[("allow", 100)]),
        };
        let checks = analyse(&beyond, &bounds);
        assert!(
            checks
                .iter()
                .any(|c| c.breached && c.what == "answer defer")
        );
        assert!(!checks[0].breached, "no failures: {:?}", checks[0]);
    }

    #[test]
    fn equal_versions_are_rarely_rolled_back_however_often_one_looks() {
        // 200 canaries of a version that fails as often as the live one
        // (5%), each looked at after every call for 2,000 calls.
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng >> 11) as f64 / (1u64 << 53) as f64
        };
        let bounds = Bounds::default();
        let mut alarms = 0;
        for _ in 0..200 {
            let mut counts = Counts::default();
            for _ in 0..2000 {
                let arm = if next() < 0.2 {
                    &mut counts.candidate
                } else {
                    &mut counts.live
                };
                arm.calls += 1;
                arm.failed += u64::from(next() < 0.05);
                if analyse(&counts, &bounds)[0].breached {
                    alarms += 1;
                    break;
                }
            }
        }
        assert!(alarms <= 10, "{alarms} of 200 rolled back");
    }

    #[test]
    fn the_same_unit_keeps_its_version_as_the_share_rises() {
        let units: Vec<String> = (0..4000).map(|i| format!("c{i}")).collect();
        let in5 = units.iter().filter(|u| takes(7, 500, u)).count();
        let in50 = units.iter().filter(|u| takes(7, 5000, u)).count();
        assert!((150..250).contains(&in5), "{in5} of 4000 at 5%");
        assert!((1850..2150).contains(&in50), "{in50} of 4000 at 50%");
        assert!(units.iter().all(|u| !takes(7, 500, u) || takes(7, 5000, u)));
        // Another canary picks other units.
        let both = units
            .iter()
            .filter(|u| takes(7, 5000, u) && takes(8, 5000, u))
            .count();
        assert!((850..1150).contains(&both), "{both} in both halves");
    }
}
