//! What a feature registers with the platform. A feature is one folder
//! with one [`Feature`] value; `lib.rs` lists them once ([`crate::FEATURES`]),
//! and the platform only ever calls these hooks: it never names a feature.
//!
//! A feature provides, each part optional:
//! - routes: the merchant API ([`Feature::routes`]), the visitor-facing
//!   endpoints the platform puts behind the public guard
//!   ([`Feature::public`]), and long-running uploads that get an idle
//!   timeout instead of the request timeout ([`Feature::streaming`]);
//! - its [`Migration`]s, kept in its folder (versions unique across
//!   features, checked at start);
//! - its [`SlotPolicy`]s: for each policy slot it serves, the safe
//!   fallback, the rules a plugin's answer must follow, the completion of
//!   a short input and the memory of good answers;
//! - its [`Privacy`] hook: the tables it keeps about a customer, what an
//!   access request exports from them and what erasure does to them;
//! - background tasks, demo content, console pages and the overview card;
//! - for the widget, the origins allowed to call a merchant's public
//!   endpoints ([`Feature::allowed_origins`]).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;

use super::http::ApiError;
use super::slots::{Contract, Slot};
use super::store::StoreError;
use crate::AppState;

/// A boxed future of a feature's hook.
pub type Pending<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A transaction on the store, as hooks receive it.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Routes of a feature (handlers annotated for the OpenAPI description).
pub type RoutesFn = fn(&AppState) -> OpenApiRouter<AppState>;

/// One feature, as the platform sees it.
pub struct Feature {
    /// Short name, for logs and checks (`kb`, `returns`).
    pub name: &'static str,
    /// The merchant's and operator's API.
    pub routes: RoutesFn,
    /// Endpoints a visitor's browser calls, all under
    /// `/public/v1/{merchant}/`: the platform puts them behind the public
    /// guard (origins, the visitor's rate, CORS preflights).
    pub public: RoutesFn,
    /// Uploads that stream for as long as they take: they have no request
    /// timeout but an idle one (no bytes for a while ends them).
    pub streaming: RoutesFn,
    /// Schema changes, in this feature's folder.
    pub migrations: &'static [Migration],
    /// The policy slots this feature serves.
    pub slots: &'static [SlotPolicy],
    /// What the feature keeps about a customer.
    pub privacy: Option<Privacy>,
    /// Start the feature's background tasks (a served host calls it once).
    pub tasks: Option<fn(&AppState)>,
    /// Add the feature's demo content for a merchant.
    pub seed_demo: Option<Seed>,
    /// The feature's console pages.
    pub console: &'static [ConsolePage],
    /// The feature's card on the console's overview.
    pub overview: Option<Overview>,
    /// The origins whose pages may call a merchant's public endpoints;
    /// `None` when there is no such merchant. One feature provides it.
    pub allowed_origins: Option<Origins>,
    /// The feature's own state in the host (caches, loaded files), made
    /// once at start and found again with [`AppState::get`].
    pub state: Option<MakeState>,
    /// Told which customers' orders or events were written (after the
    /// write commits), for what the feature keeps figured from them.
    pub customers_changed: Option<CustomersChanged>,
    /// The API-key scope of the feature's routes that need another than
    /// their method's (`read` for `GET`, `write` otherwise; streaming
    /// routes need `import`): `(method, path template, scope)`.
    pub permissions: &'static [(&'static str, &'static str, super::keys::Scope)],
}

/// [`Feature::customers_changed`]: `(store, merchant, customer ids)`.
pub type CustomersChanged = for<'a> fn(
    &'a super::store::Store,
    &'a str,
    &'a [String],
) -> Pending<'a, Result<(), StoreError>>;

/// Tell every feature that these customers' orders or events of
/// `merchant` were written.
pub async fn customers_changed(
    store: &super::store::Store,
    merchant: &str,
    ids: &[String],
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    for hook in crate::FEATURES.iter().filter_map(|f| f.customers_changed) {
        hook(store, merchant, ids).await?;
    }
    Ok(())
}

/// [`Feature::state`]: made from the host's settings.
pub type MakeState = fn(&crate::Settings) -> anyhow::Result<Arc<dyn Any + Send + Sync>>;

/// The features' states by type.
#[derive(Default)]
pub struct States(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl States {
    /// Make every feature's state.
    pub fn new(features: &[&Feature], settings: &crate::Settings) -> anyhow::Result<States> {
        let mut states = HashMap::new();
        for f in features {
            if let Some(make) = f.state {
                let state = make(settings)?;
                states.insert((*state).type_id(), state);
            }
        }
        Ok(States(states))
    }

    /// The state of type `T`; a feature registered it.
    pub fn get<T: Any + Send + Sync>(&self) -> &T {
        self.0
            .get(&TypeId::of::<T>())
            .and_then(|s| s.downcast_ref())
            .unwrap_or_else(|| panic!("no feature registers a {}", std::any::type_name::<T>()))
    }
}

/// [`Feature::seed_demo`].
pub type Seed = for<'a> fn(&'a AppState, &'a str) -> Pending<'a, anyhow::Result<()>>;

/// [`Feature::allowed_origins`].
pub type Origins =
    for<'a> fn(&'a AppState, &'a str) -> Pending<'a, Result<Option<Vec<String>>, ApiError>>;

/// [`Feature::overview`]: the card's numbers for a merchant over the last
/// `days` (since `since`, ms), a JSON object under the feature's name.
pub type Overview = for<'a> fn(&'a AppState, &'a str, i64) -> Pending<'a, Result<Value, ApiError>>;

/// An empty set of routes.
pub fn no_routes(_: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}

impl Feature {
    /// A feature that provides nothing yet: start from it and fill in
    /// what the feature has (`Feature { name: "x", routes, ..Feature::EMPTY }`).
    pub const EMPTY: Feature = Feature {
        name: "",
        routes: no_routes,
        public: no_routes,
        streaming: no_routes,
        migrations: &[],
        slots: &[],
        privacy: None,
        tasks: None,
        seed_demo: None,
        console: &[],
        overview: None,
        allowed_origins: None,
        state: None,
        customers_changed: None,
        permissions: &[],
    };
}

/// One schema change: its version (unique across the platform and every
/// feature, never reused), what it does, and its SQL, the same on SQLite
/// and PostgreSQL.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    /// The version, the order migrations apply in.
    pub version: i64,
    /// What it does, in a few words.
    pub description: &'static str,
    /// The SQL.
    pub sql: &'static str,
}

impl Migration {
    /// Migration `version`, which does `description` with `sql`.
    pub const fn new(version: i64, description: &'static str, sql: &'static str) -> Migration {
        Migration {
            version,
            description,
            sql,
        }
    }
}

/// One console page: an ES module served beside the console's `app.js`,
/// which exports `{id, title, render}`.
#[derive(Clone, Copy, Debug)]
pub struct ConsolePage {
    /// The file name (`kb.js`).
    pub file: &'static str,
    /// Its text.
    pub js: &'static str,
}

impl ConsolePage {
    /// The page `file`, whose text is `js`.
    pub const fn new(file: &'static str, js: &'static str) -> ConsolePage {
        ConsolePage { file, js }
    }
}

/// How a feature completes a slot's input before the plugin sees it, from
/// what Cove stores (the fatigue policy's short form: a customer id and a
/// message, filled from the customer data). `None`: the body as sent.
pub type InputHook = for<'a> fn(&'a AppState, &'a str, &'a [u8]) -> Completion<'a>;

/// What an [`InputHook`] gives back, when it is done.
pub type Completion<'a> = Pending<'a, Result<Option<Vec<u8>>, ApiError>>;

/// How a feature keeps a slot's good answers and finds them again for
/// the fallback (the RFM scorer's last good scores per customer).
#[derive(Clone, Copy)]
pub struct Memory {
    /// Keep a good answer to `input`.
    pub remember: for<'a> fn(&'a AppState, &'a str, &'a Value, &'a Value) -> Pending<'a, ()>,
    /// The kept answers that bear on `input`, one per item of its batch.
    pub recall: Recall,
}

/// [`Memory::recall`].
pub type Recall = for<'a> fn(&'a AppState, &'a str, &'a Value) -> Pending<'a, Vec<Option<Value>>>;

/// What a feature decides about the answers of one policy slot.
#[derive(Clone, Copy)]
pub struct SlotPolicy {
    /// The slot.
    pub slot: Slot,
    /// The safe answer used when the plugin cannot give one, for the
    /// bound plugin's contract, the input, the time, and what the
    /// [`Memory`] recalled for the input.
    pub fallback: fn(Contract, &Value, i64, &[Option<Value>]) -> Value,
    /// Check a plugin's successful answer to the input at a time; the
    /// reason it breaks the slot's rules otherwise.
    pub check: fn(Contract, &Value, &Value, i64) -> Result<(), String>,
    /// Whether `fallback` or `check` read the input (when neither does,
    /// a call goes straight from the body's bytes to component values).
    pub reads_input: bool,
    /// The completion of a short input.
    pub input: Option<InputHook>,
    /// The memory of good answers.
    pub memory: Option<Memory>,
    /// The customer (or unit) a decision is about, read from its input:
    /// the decision log keeps it so erasure finds the decision.
    pub customer: Option<fn(&Value) -> Option<String>>,
    /// What a canary splits the slot's calls by, in words (`customers`,
    /// `visitors`): the unit is the decision's customer. `None`: the
    /// calls have no one unit (batches) and the slot takes no canary.
    pub units: Option<&'static str>,
    /// The slot's answers in a merchant's words (the shadow's report);
    /// `None`: the platform's plain words.
    pub words: Option<&'static AnswerWords>,
}

/// How a slot's answers read to a merchant, for the shadow's report.
pub struct AnswerWords {
    /// What the candidate would have done differently: answer kind `from`
    /// became `to` `n` times (`share` of the decisions), e.g. "would have
    /// deferred 3 messages (1.2%) that today's policy sends"; `None` for
    /// the platform's plain words.
    pub change: fn(from: &str, to: &str, n: u64, share: &str) -> Option<String>,
    /// Where a decision's customer is (a country or region), from its
    /// input: the report counts differences by it.
    pub place: fn(&Value) -> Option<String>,
    /// An answer that is neither a word nor a variant in a word or two
    /// (a ranked list: "email first"); `None` leaves it "answer".
    pub kind: fn(&Value) -> Option<String>,
}

/// The kind of an answer, as the shadow and the canary count answers: a
/// variant's name, the answer itself when it is a word, else what the
/// slot's words call it.
pub fn answer_kind(words: Option<&AnswerWords>, v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) if o.len() == 1 => o.keys().next().cloned().unwrap_or_default(),
        other => words
            .and_then(|w| (w.kind)(other))
            .unwrap_or_else(|| "answer".into()),
    }
}

/// What a feature keeps about a customer, for access requests (GDPR Art.
/// 15 and 20) and erasure (Art. 17). Both hooks run inside the caller's
/// transaction, every feature's in one.
#[derive(Clone, Copy)]
pub struct Privacy {
    /// Every table the feature keeps with a customer (or experiment
    /// unit) column, and what erasure does to its rows.
    pub tables: &'static [Claim],
    /// Everything the feature holds about customer `id` of `merchant`, as
    /// named parts of the export. `None`: the claims' rows as stored.
    pub export: Option<Export>,
    /// What to do before the claims erase customer `id` (in the same
    /// transaction), such as taking them out of figures kept from them.
    pub erase: Option<EraseHook>,
}

/// [`Privacy::erase`]: `(transaction, merchant, customer id)`.
pub type EraseHook =
    for<'a> fn(&'a mut Tx, &'a str, &'a str) -> Pending<'a, Result<(), StoreError>>;

/// [`Privacy::export`].
pub type Export = for<'a> fn(
    &'a mut Tx,
    &'a str,
    &'a str,
) -> Pending<'a, Result<Vec<(&'static str, Value)>, StoreError>>;

/// A table a feature answers for at erasure.
#[derive(Clone, Copy, Debug)]
pub struct Claim {
    /// The table.
    pub table: &'static str,
    /// The column naming the customer.
    pub column: &'static str,
    /// What erasure does with a customer's rows.
    pub erase: Erase,
}

/// What erasure does with the rows of a [`Claim`].
#[derive(Clone, Copy, Debug)]
pub enum Erase {
    /// The rows go.
    Delete,
    /// The rows stay as anonymous figures: the customer column becomes
    /// `erased`, and so does whatever this `SET` clause says.
    Anonymise(&'static str),
    /// The rows stay as they are, for the reason given (the privacy log
    /// is the record that the erasure happened).
    Keep(&'static str),
}

impl Claim {
    /// Apply this claim to customer `id` of `merchant`; rows touched.
    pub async fn erase(&self, tx: &mut Tx, merchant: &str, id: &str) -> Result<u64, StoreError> {
        let Claim {
            table,
            column,
            erase,
        } = *self;
        let sql = match erase {
            Erase::Keep(_) => return Ok(0),
            Erase::Delete => {
                format!("DELETE FROM {table} WHERE merchant_id = $1 AND {column} = $2")
            }
            Erase::Anonymise(also) => format!(
                "UPDATE {table} SET {column} = 'erased', {also} WHERE merchant_id = $1 AND {column} = $2"
            ),
        };
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(merchant)
            .bind(id)
            .execute(&mut **tx)
            .await?
            .rows_affected())
    }
}

/// The registered features' slot policy for `slot`. Every slot has
/// exactly one (checked by [`check`]).
pub fn slot_policy(features: &[&'static Feature], slot: Slot) -> &'static SlotPolicy {
    features
        .iter()
        .flat_map(|f| f.slots)
        .find(|p| p.slot == slot)
        .expect("every slot has a policy (checked at start)")
}

/// Every registered migration, in version order.
pub fn migrations(features: &[&'static Feature]) -> Vec<Migration> {
    let mut all: Vec<Migration> = features
        .iter()
        .flat_map(|f| f.migrations.iter().copied())
        .collect();
    all.sort_by_key(|m| m.version);
    all
}

/// Check a list of features fits together (migration versions are checked
/// with the platform's own, in [`super::store::migrations`]): names
/// unique, every slot served by exactly one policy, one source of
/// allowed origins at most, console page files unique.
pub fn check(features: &[&'static Feature]) -> Result<(), String> {
    let mut seen = std::collections::HashMap::new();
    for f in features {
        if seen.insert(f.name, ()).is_some() {
            return Err(format!("two features are named `{}`", f.name));
        }
    }
    for slot in Slot::ALL {
        let serving: Vec<&str> = features
            .iter()
            .filter(|f| f.slots.iter().any(|p| p.slot == slot))
            .map(|f| f.name)
            .collect();
        if serving.len() != 1 {
            return Err(format!(
                "slot {slot} must have one policy, has {} ({})",
                serving.len(),
                serving.join(", ")
            ));
        }
    }
    if features
        .iter()
        .filter(|f| f.allowed_origins.is_some())
        .count()
        > 1
    {
        return Err("more than one feature says which origins are allowed".into());
    }
    let mut files = std::collections::HashMap::new();
    for f in features {
        for p in f.console {
            if files.insert(p.file, f.name).is_some() {
                return Err(format!("console page {} is registered twice", p.file));
            }
        }
    }
    Ok(())
}
