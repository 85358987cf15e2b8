//! Shadow runs: a binding may carry a candidate version that sees every
//! call too — after the live answer is made, on the host's one shadow
//! thread (at background priority, within a CPU budget) — and whose
//! answers are only compared, never used. A call that finds the thread
//! busy or the budget spent is not shadowed but counted (`skipped`): the
//! live answer only ever pays for handing the call over. The report says
//! what the candidate would have decided differently, in the merchant's
//! words.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use serde_json::{Value, json};
use wasmtime::component::Val;

use crate::AppState;
use crate::platform::feature::answer_kind;
use crate::platform::runtime::{Prepared, Usage, json as wjson};
use crate::platform::slots::Slot;

/// A candidate version shadowing a merchant's slot.
pub struct Shadow {
    /// `name@version`.
    pub label: String,
    /// Its row id.
    pub plugin_id: i64,
    /// Ready to call.
    pub prepared: Arc<Prepared>,
    /// When it started shadowing.
    pub since: i64,
    /// What it has found on this replica.
    pub stats: Mutex<Stats>,
    /// What the other replicas have found (read at each sync).
    pub elsewhere: Mutex<Stats>,
    /// This replica's calls (compared and skipped) when last written.
    written: std::sync::atomic::AtomicU64,
    /// Its merchant's CPU budget, shared by the merchant's shadows.
    pub budget: Arc<Budget>,
}

/// One merchant's shadow CPU budget: [`CPU_BUDGET`] of a core per second.
#[derive(Default)]
pub struct Budget {
    /// Until when (ms since the epoch) it is spent: the merchant's calls
    /// skip their shadow before handing anything over, so a spent budget
    /// costs a live call one atomic read.
    spent_until: std::sync::atomic::AtomicI64,
    /// The current second (ms) and the time used in it (only the shadow
    /// thread takes it).
    used: Mutex<(i64, std::time::Duration)>,
}

/// A shadow's findings.
#[derive(Default, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Stats {
    /// Calls the shadow ran.
    pub compared: u64,
    /// Of them, the same answer as the live version.
    pub same: u64,
    /// Calls not shadowed: the shadow thread was busy, or had spent its
    /// CPU budget for the second.
    pub skipped: u64,
    /// The shadow's failures, by kind (it would have fallen back).
    pub failures: BTreeMap<String, u64>,
    /// Differences by kind of answer, `live → shadow` (`allow → defer`).
    pub changes: BTreeMap<String, u64>,
    /// Differences by where the customer is (the slot's words say how to
    /// tell; empty for slots that do not).
    pub by_country: BTreeMap<String, u64>,
    /// Fuel and microseconds, summed: the live version's and the shadow's.
    pub live_fuel: u64,
    /// See `live_fuel`.
    pub shadow_fuel: u64,
    /// See `live_fuel`.
    pub live_micros: u64,
    /// See `live_fuel`.
    pub shadow_micros: u64,
    /// The first differences, with their input.
    #[schema(value_type = Vec<Object>)]
    pub examples: Vec<Value>,
}

impl Stats {
    /// Add another replica's findings (the examples up to ten).
    pub fn add(&mut self, other: &Stats) {
        self.compared += other.compared;
        self.same += other.same;
        self.skipped += other.skipped;
        for (mine, theirs) in [
            (&mut self.failures, &other.failures),
            (&mut self.changes, &other.changes),
            (&mut self.by_country, &other.by_country),
        ] {
            for (k, n) in theirs {
                *mine.entry(k.clone()).or_default() += n;
            }
        }
        self.live_fuel += other.live_fuel;
        self.shadow_fuel += other.shadow_fuel;
        self.live_micros += other.live_micros;
        self.shadow_micros += other.shadow_micros;
        let room = 10usize.saturating_sub(self.examples.len());
        self.examples
            .extend(other.examples.iter().take(room).cloned());
    }
}

impl Shadow {
    /// A shadow of `label` (row `plugin_id`) since `since`.
    pub fn new(
        label: String,
        plugin_id: i64,
        prepared: Arc<Prepared>,
        since: i64,
        budget: Arc<Budget>,
    ) -> Shadow {
        Shadow {
            label,
            plugin_id,
            prepared,
            since,
            stats: Default::default(),
            elsewhere: Default::default(),
            written: Default::default(),
            budget,
        }
    }

    /// What every replica has found (this one's as of now).
    pub fn findings(&self) -> Stats {
        let mut all = self.stats.lock().expect("stats lock").clone();
        all.add(&self.elsewhere.lock().expect("stats lock"));
        all
    }
}

/// One shadow call, handed to the shadow thread.
type Job = Box<dyn FnOnce() + Send>;

/// The shadow thread's end of the queue.
type Sender = std::sync::mpsc::SyncSender<(Arc<Shadow>, Job)>;

/// The share of one core one merchant's shadow calls may use, per second.
pub const CPU_BUDGET: f64 = 0.02;

/// The shadows in force, by merchant and slot.
#[derive(Default)]
pub struct Shadows {
    /// By merchant, then slot: a decision looks its merchant up by `&str`
    /// (no allocation on the live path).
    table: ArcSwap<HashMap<String, HashMap<Slot, Arc<Shadow>>>>,
    /// The shadow thread's queue (room for one call), started on first use.
    queue: Mutex<Option<Sender>>,
}

/// The shadow thread: runs the calls handed over, one at a time, while
/// their merchant's have used less than [`CPU_BUDGET`] of the current
/// second; the others are counted skipped.
fn shadow_thread(rx: std::sync::mpsc::Receiver<(Arc<Shadow>, Job)>) {
    crate::platform::fair::background_priority();
    let budget = std::time::Duration::from_secs_f64(CPU_BUDGET);
    for (shadow, job) in rx {
        let now = crate::now_ms();
        let mut used = shadow.budget.used.lock().expect("budget lock");
        if now - used.0 >= 1000 {
            *used = (now, std::time::Duration::ZERO);
        }
        if used.1 >= budget {
            shadow.stats.lock().expect("stats lock").skipped += 1;
            continue;
        }
        let started = std::time::Instant::now();
        job();
        used.1 += started.elapsed();
        if used.1 >= budget {
            shadow
                .budget
                .spent_until
                .store(used.0 + 1000, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

impl Shadows {
    /// Write this replica's findings of each shadow that moved, and read
    /// the other replicas'.
    pub async fn sync(&self, store: &crate::platform::store::Store) -> anyhow::Result<()> {
        let table = self.table.load_full();
        for (merchant, slots) in table.iter() {
            for (slot, shadow) in slots {
                let here = shadow.stats.lock().expect("stats lock").clone();
                let calls = here.compared + here.skipped;
                if shadow
                    .written
                    .swap(calls, std::sync::atomic::Ordering::Relaxed)
                    != calls
                {
                    store
                        .put_shadow_stats(
                            merchant,
                            slot.world(),
                            crate::platform::replica(),
                            shadow.since,
                            &serde_json::to_string(&here)?,
                        )
                        .await?;
                }
                let mut elsewhere = Stats::default();
                for (replica, stats) in store
                    .shadow_stats(merchant, slot.world(), shadow.since)
                    .await?
                {
                    if replica != crate::platform::replica()
                        && let Ok(stats) = serde_json::from_str::<Stats>(&stats)
                    {
                        elsewhere.add(&stats);
                    }
                }
                *shadow.elsewhere.lock().expect("stats lock") = elsewhere;
            }
        }
        Ok(())
    }

    /// The shadow of `merchant`'s `slot`, if any.
    pub fn get(&self, merchant: &str, slot: Slot) -> Option<Arc<Shadow>> {
        self.table.load().get(merchant)?.get(&slot).cloned()
    }

    /// The CPU budget of `merchant`'s shadows (the one in force, if any).
    pub fn budget(&self, merchant: &str) -> Arc<Budget> {
        self.table
            .load()
            .get(merchant)
            .and_then(|slots| slots.values().next())
            .map_or_else(Default::default, |s| s.budget.clone())
    }

    /// Replace the table (keeping the findings of shadows that stay).
    pub fn set(&self, shadows: Vec<(String, Slot, Arc<Shadow>)>) {
        let old = self.table.load();
        let mut table: HashMap<String, HashMap<Slot, Arc<Shadow>>> = HashMap::new();
        for (m, s, new) in shadows {
            let kept = old
                .get(&m)
                .and_then(|slots| slots.get(&s))
                .filter(|o| o.plugin_id == new.plugin_id && o.since == new.since)
                .cloned()
                .unwrap_or(new);
            table.entry(m).or_default().insert(s, kept);
        }
        self.table.store(Arc::new(table));
    }

    /// After a live call answered `live` to `input`: run the shadow on the
    /// same input, time, seed and config in the background, if the host
    /// has room for it now; otherwise count it skipped.
    #[allow(clippy::too_many_arguments)]
    pub fn after(
        &self,
        state: &AppState,
        slot: Slot,
        shadow: Arc<Shadow>,
        config: Arc<[(String, String)]>,
        input: &[u8],
        now: i64,
        seed: u64,
        live: &Value,
        live_usage: Usage,
        live_micros: u64,
    ) {
        if now
            < shadow
                .budget
                .spent_until
                .load(std::sync::atomic::Ordering::Relaxed)
        {
            shadow.stats.lock().expect("stats lock").skipped += 1;
            return;
        }
        let (runtime, input, live) = (state.runtime.clone(), input.to_vec(), live.clone());
        let words = state.slot_policy(slot).words;
        let kept = shadow.clone();
        let job: Job = Box::new(move || {
            let Ok(tree) = serde_json::from_slice::<Value>(&input) else {
                return;
            };
            let Ok(vals) =
                crate::platform::invoke::tree_params(slot, &shadow.prepared.params, &tree)
            else {
                return;
            };
            let started = std::time::Instant::now();
            let out = runtime.call(&shadow.prepared, &config, now, seed, &vals);
            let micros = started.elapsed().as_micros() as u64;
            let mut s = shadow.stats.lock().expect("stats lock");
            s.compared += 1;
            s.live_fuel += live_usage.fuel;
            s.live_micros += live_micros;
            s.shadow_micros += micros;
            let answer = match out {
                Ok(o) => {
                    s.shadow_fuel += o.usage.fuel;
                    match o.value {
                        Val::Result(Ok(v)) => v.as_deref().map_or(Value::Null, wjson::from_val),
                        Val::Result(Err(e)) => {
                            json!({"error": e.as_deref().map_or(Value::Null, wjson::from_val)})
                        }
                        _ => Value::Null,
                    }
                }
                Err(f) => {
                    s.shadow_fuel += f.usage.fuel;
                    *s.failures.entry(f.kind.as_str().to_string()).or_default() += 1;
                    json!({"failed": f.kind.as_str()})
                }
            };
            if answer == live {
                s.same += 1;
                return;
            }
            *s.changes
                .entry(format!(
                    "{} → {}",
                    answer_kind(words, &live),
                    answer_kind(words, &answer)
                ))
                .or_default() += 1;
            if let Some(words) = words
                && let Some(place) = (words.place)(&tree)
            {
                *s.by_country.entry(place).or_default() += 1;
            }
            if s.examples.len() < 10 {
                s.examples
                    .push(json!({"input": tree, "live": live, "shadow": answer}));
            }
        });
        let mut queue = self.queue.lock().expect("queue lock");
        let tx = queue.get_or_insert_with(|| {
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            let _ = std::thread::Builder::new()
                .name("cove-shadow".into())
                .spawn(move || shadow_thread(rx));
            tx
        });
        if tx.try_send((kept.clone(), job)).is_err() {
            kept.stats.lock().expect("stats lock").skipped += 1;
        }
    }
}

/// A shadow's findings in a sentence a merchant reads.
pub fn in_words(
    label: &str,
    live: &str,
    s: &Stats,
    words: Option<&crate::platform::feature::AnswerWords>,
) -> String {
    if s.compared == 0 {
        return format!(
            "{label} has not seen a decision yet ({} skipped while the host was busy).",
            s.skipped
        );
    }
    let pct = |n: u64| format!("{:.1}%", 100.0 * n as f64 / s.compared as f64);
    let mut out = format!(
        "{label} agrees with {live} on {} of {} decisions.",
        pct(s.same),
        s.compared
    );
    let mut changes: Vec<(&String, &u64)> = s.changes.iter().collect();
    changes.sort_by(|a, b| b.1.cmp(a.1));
    for (change, n) in changes.iter().take(3) {
        let (from, to) = change.split_once(" → ").unwrap_or((change, ""));
        if to.starts_with("failed") {
            continue;
        }
        let share = pct(**n);
        let what = words
            .and_then(|w| (w.change)(from, to, **n, &share))
            .unwrap_or_else(|| {
                format!("would have answered {to} instead of {from} {n} times ({share})")
            });
        out.push_str(&format!(" It {what}."));
    }
    if let Some((country, n)) = s.by_country.iter().max_by_key(|(_, n)| **n)
        && s.compared > s.same
    {
        out.push_str(&format!(
            " Most differences concern customers in {country} ({n})."
        ));
    }
    let failed: u64 = s.failures.values().sum();
    if failed > 0 {
        out.push_str(&format!(
            " It failed {failed} times, where the safe fallback would have answered."
        ));
    }
    if s.live_fuel > 0 && s.live_micros > 0 {
        out.push_str(&format!(
            " It used {:.1}× the fuel and {:.1}× the time of {live}.",
            s.shadow_fuel as f64 / s.live_fuel as f64,
            s.shadow_micros as f64 / s.live_micros as f64
        ));
    }
    if s.skipped > 0 {
        out.push_str(&format!(
            " {} decisions were not shadowed: the host was busy.",
            s.skipped
        ));
    }
    out
}
