//! An experiment's definition, in the shape GrowthBook users already have
//! (so an SDK payload's experiment imports as is), plus Cove's own parts:
//! factors for multivariate tests, fixed split or bandit, the conversion
//! event and its attribution window, and what a stopped test serves.

use crate::platform::http::Code;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::platform::http::ApiError;

/// A multivariate test's factor: `headline` with levels `["A", "B"]`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Factor {
    /// The factor's name.
    pub name: String,
    /// Its levels (any JSON values); the first is the baseline.
    pub levels: Vec<Value>,
}

/// How a bandit adapts.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Bandit {
    /// Top-two Thompson sampling (keeps the runner-up measured).
    #[serde(default)]
    pub top_two: bool,
    /// The least share of traffic any arm keeps (default 0.05).
    #[serde(default = "default_min_share")]
    pub min_share: f64,
    /// Exposures before the weights move from an equal split (default 1000).
    #[serde(default = "default_burn_in")]
    pub burn_in: u64,
    /// Minutes between weight updates (default 60).
    #[serde(default = "default_cadence")]
    pub cadence_minutes: u64,
}

fn default_min_share() -> f64 {
    0.05
}
fn default_burn_in() -> u64 {
    1000
}
fn default_cadence() -> u64 {
    60
}
fn default_coverage() -> f64 {
    1.0
}
fn default_hash_version() -> u32 {
    1
}
fn default_hash_attribute() -> String {
    "id".into()
}
/// Where an experiment is in its life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum Status {
    /// Defined, assigning nobody (everyone gets the control).
    #[default]
    Draft,
    /// Assigning.
    Running,
    /// Serving the control or the winner to everyone.
    Stopped,
}

impl Status {
    /// The stored and sent name (`running`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Running => "running",
            Status::Stopped => "stopped",
        }
    }
}

impl TryFrom<String> for Status {
    type Error = String;
    fn try_from(s: String) -> Result<Status, String> {
        match s.as_str() {
            "draft" => Ok(Status::Draft),
            "running" => Ok(Status::Running),
            "stopped" => Ok(Status::Stopped),
            _ => Err("status: use draft, running or stopped".into()),
        }
    }
}

/// How an experiment shares its units among the variations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum Mode {
    /// By the weights given.
    #[default]
    Fixed,
    /// By weights the allocator sets from the results, on a cadence.
    Bandit,
}

impl TryFrom<String> for Mode {
    type Error = String;
    fn try_from(s: String) -> Result<Mode, String> {
        match s.as_str() {
            "fixed" => Ok(Mode::Fixed),
            "bandit" => Ok(Mode::Bandit),
            _ => Err("mode: use fixed or bandit".into()),
        }
    }
}
fn default_event() -> String {
    "purchase".into()
}
fn default_window() -> u64 {
    72
}
fn default_adjustment_days() -> u64 {
    14
}
fn default_on_stop() -> String {
    "control".into()
}

/// An experiment definition. Field names are GrowthBook's; unknown fields
/// of a GrowthBook export are ignored.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Definition {
    /// The experiment's key (letters, digits, `-`, `_`, `.`; at most 64).
    pub key: String,
    /// A name for people.
    #[serde(default)]
    pub name: Option<String>,
    /// The variations' values (variation 0 is the control). Built from
    /// `factors` for a multivariate test.
    #[serde(default)]
    pub variations: Vec<Value>,
    /// Share of traffic per variation, adding up to 1 (default: equal).
    #[serde(default)]
    pub weights: Option<Vec<f64>>,
    /// Share of eligible units included (default 1).
    #[serde(default = "default_coverage")]
    pub coverage: f64,
    /// Hash seed (default: the key).
    #[serde(default)]
    pub seed: Option<String>,
    /// GrowthBook hash version, 1 or 2 (default 1, as GrowthBook's SDKs).
    #[serde(default = "default_hash_version")]
    pub hash_version: u32,
    /// The attribute identifying a unit (default `id`).
    #[serde(default = "default_hash_attribute")]
    pub hash_attribute: String,
    /// Used when the hash attribute is empty.
    #[serde(default)]
    pub fallback_attribute: Option<String>,
    /// `[id, start, end]`: a namespace and this experiment's range in it.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Value>>)]
    pub namespace: Option<(String, f64, f64)>,
    /// Targeting, in GrowthBook's condition syntax.
    #[serde(default)]
    pub condition: Option<Value>,
    /// A variation every included unit gets (QA).
    #[serde(default)]
    pub force: Option<i32>,
    /// `draft`, `running` or `stopped` (default `draft`).
    #[serde(default)]
    pub status: Status,
    /// Multivariate: the factors whose combinations are the arms.
    #[serde(default)]
    pub factors: Option<Vec<Factor>>,
    /// Multivariate design: `full` (every combination, the default),
    /// `half` (a half fraction of two-level factors), or a list of
    /// combinations as level indexes (`[[0,0],[1,1]]`).
    #[serde(default)]
    pub design: Option<Value>,
    /// `fixed` (the default) or `bandit`.
    #[serde(default)]
    pub mode: Mode,
    /// How a bandit adapts.
    #[serde(default)]
    pub bandit: Option<Bandit>,
    /// The event that counts as a conversion (default `purchase`: an
    /// order, or an event of that name).
    #[serde(default = "default_event")]
    pub conversion_event: String,
    /// Hours after exposure a conversion counts (default 72).
    #[serde(default = "default_window")]
    pub attribution_hours: u64,
    /// Days before exposure whose spend CUPED uses to narrow revenue's
    /// intervals (default 14, as GrowthBook; 0 turns it off).
    #[serde(default = "default_adjustment_days")]
    pub regression_adjustment_days: u64,
    /// What a stopped experiment serves: `control` (the default) or
    /// `winner` (the arm most likely best when it stopped).
    #[serde(default = "default_on_stop")]
    pub on_stop: String,
}

/// The refusal of a definition: 422 naming the field.
pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::unprocessable(
        Code::InvalidExperiment,
        format!("{field}: {}", message.into()),
    )
    .with_field(field)
}

/// The combinations of a multivariate design, as level indexes.
fn design(factors: &[Factor], design: Option<&Value>) -> Result<Vec<Vec<usize>>, ApiError> {
    let mut full = vec![vec![]];
    for f in factors {
        full = full
            .into_iter()
            .flat_map(|c: Vec<usize>| {
                (0..f.levels.len()).map(move |l| {
                    let mut c = c.clone();
                    c.push(l);
                    c
                })
            })
            .collect();
    }
    match design {
        None => Ok(full),
        Some(Value::String(s)) if s == "full" => Ok(full),
        Some(Value::String(s)) if s == "half" => {
            if factors.iter().any(|f| f.levels.len() != 2) || factors.len() < 3 {
                return Err(invalid(
                    "design",
                    "a half fraction needs three or more factors of two levels each",
                ));
            }
            // The defining relation I = ABC…: keep combinations with an
            // even number of factors at their second level.
            Ok(full
                .into_iter()
                .filter(|c| c.iter().sum::<usize>() % 2 == 0)
                .collect())
        }
        Some(Value::Array(list)) => {
            let mut out = Vec::new();
            for (i, c) in list.iter().enumerate() {
                let combo: Option<Vec<usize>> = c
                    .as_array()
                    .and_then(|l| l.iter().map(|x| x.as_u64().map(|x| x as usize)).collect());
                match combo {
                    Some(c)
                        if c.len() == factors.len()
                            && c.iter().zip(factors).all(|(l, f)| *l < f.levels.len()) =>
                    {
                        if out.contains(&c) {
                            return Err(invalid(&format!("design[{i}]"), "is listed twice"));
                        }
                        out.push(c)
                    }
                    _ => {
                        return Err(invalid(
                            &format!("design[{i}]"),
                            format!(
                                "must list one level index per factor ({} numbers)",
                                factors.len()
                            ),
                        ));
                    }
                }
            }
            Ok(out)
        }
        Some(_) => Err(invalid(
            "design",
            "must be \"full\", \"half\" or a list of combinations",
        )),
    }
}

impl Definition {
    /// Check the definition and fill what it implies (a multivariate
    /// test's variations). The targeting condition is checked by the
    /// allocator plugin, which evaluates it.
    pub fn check(&mut self) -> Result<(), ApiError> {
        if self.key.is_empty()
            || self.key.len() > 64
            || !self
                .key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(invalid(
                "key",
                "use 1 to 64 letters, digits, `-`, `_` or `.`",
            ));
        }
        if let Some(factors) = &self.factors {
            if !self.variations.is_empty() {
                return Err(invalid(
                    "variations",
                    "give either variations or factors, not both",
                ));
            }
            if factors.len() < 2 || factors.len() > 6 {
                return Err(invalid("factors", "a multivariate test has 2 to 6 factors"));
            }
            for (i, f) in factors.iter().enumerate() {
                if f.name.trim().is_empty() || f.levels.len() < 2 {
                    return Err(invalid(
                        &format!("factors[{i}]"),
                        "each factor needs a name and at least two levels",
                    ));
                }
                if factors[..i].iter().any(|g| g.name == f.name) {
                    return Err(invalid(
                        &format!("factors[{i}]"),
                        "factor names must differ",
                    ));
                }
            }
            self.variations = design(factors, self.design.as_ref())?
                .into_iter()
                .map(|c| {
                    Value::Object(
                        factors
                            .iter()
                            .zip(c)
                            .map(|(f, l)| (f.name.clone(), f.levels[l].clone()))
                            .collect(),
                    )
                })
                .collect();
        } else if self.design.is_some() {
            return Err(invalid("design", "a design needs factors"));
        }
        let n = self.variations.len();
        if n < 2 {
            return Err(invalid(
                "variations",
                "an experiment needs at least two variations (the control first)",
            ));
        }
        if n > 64 {
            return Err(invalid("variations", "at most 64 variations"));
        }
        if let Some(w) = &self.weights {
            if w.len() != n {
                return Err(invalid(
                    "weights",
                    format!("{} weights for {n} variations", w.len()),
                ));
            }
            if w.iter().any(|x| !x.is_finite() || *x < 0.0) {
                return Err(invalid("weights", "weights must be 0 or more"));
            }
            let sum: f64 = w.iter().sum();
            if !(0.99..=1.01).contains(&sum) {
                return Err(invalid(
                    "weights",
                    format!("the weights must add up to 1; they add up to {sum}"),
                ));
            }
        }
        if !(0.0..=1.0).contains(&self.coverage) {
            return Err(invalid("coverage", "must be between 0 and 1"));
        }
        if !matches!(self.hash_version, 1 | 2) {
            return Err(invalid(
                "hashVersion",
                format!("{} is not a hash version; use 1 or 2", self.hash_version),
            ));
        }
        if self.hash_attribute.trim().is_empty() {
            return Err(invalid(
                "hashAttribute",
                "name the attribute that identifies a unit",
            ));
        }
        if let Some((id, start, end)) = &self.namespace
            && (id.is_empty()
                || !(0.0..=1.0).contains(start)
                || !(0.0..=1.0).contains(end)
                || start >= end)
        {
            return Err(invalid(
                "namespace",
                "use [id, start, end] with 0 <= start < end <= 1",
            ));
        }
        if self.condition.as_ref().is_some_and(|c| !c.is_object()) {
            return Err(invalid(
                "condition",
                "must be a JSON object, like {\"country\": \"DE\"}",
            ));
        }
        if let Some(f) = self.force
            && !(0..n as i32).contains(&f)
        {
            return Err(invalid("force", format!("there is no variation {f}")));
        }
        match self.mode {
            Mode::Fixed => {}
            Mode::Bandit => {
                let b = self.bandit.get_or_insert(Bandit {
                    top_two: false,
                    min_share: default_min_share(),
                    burn_in: default_burn_in(),
                    cadence_minutes: default_cadence(),
                });
                if !(0.0..=1.0 / n as f64).contains(&b.min_share) {
                    return Err(invalid(
                        "bandit.minShare",
                        format!("must be between 0 and 1/{n} (one share per arm)"),
                    ));
                }
                if b.cadence_minutes == 0 || b.cadence_minutes > 7 * 24 * 60 {
                    return Err(invalid(
                        "bandit.cadenceMinutes",
                        "between 1 minute and a week",
                    ));
                }
            }
        }
        if self.conversion_event.trim().is_empty() || self.conversion_event.len() > 100 {
            return Err(invalid(
                "conversionEvent",
                "name the event that counts as a conversion",
            ));
        }
        if self.attribution_hours == 0 || self.attribution_hours > 24 * 90 {
            return Err(invalid("attributionHours", "between 1 hour and 90 days"));
        }
        if self.regression_adjustment_days > 90 {
            return Err(invalid(
                "regressionAdjustmentDays",
                "at most 90 days (0 turns the adjustment off)",
            ));
        }
        if !matches!(self.on_stop.as_str(), "control" | "winner") {
            return Err(invalid("onStop", "use control or winner"));
        }
        Ok(())
    }

    /// A variation's name for people: its value when that is a short text,
    /// a multivariate arm's levels (`headline: B, banner: A`), or else
    /// `Control`, `Variation 1`….
    pub fn variation_name(&self, i: usize) -> String {
        match (&self.factors, self.variations.get(i)) {
            (Some(factors), Some(levels)) => factors
                .iter()
                .map(|f| {
                    let v = &levels[&f.name];
                    format!(
                        "{}: {}",
                        f.name,
                        v.as_str().map_or(v.to_string(), str::to_string)
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            // A short text is its own name ("Free shipping", "Green").
            (None, Some(Value::String(s))) if !s.trim().is_empty() && s.chars().count() <= 60 => {
                s.clone()
            }
            _ if i == 0 => "Control".into(),
            _ => format!("Variation {i}"),
        }
    }

    /// The experiment as the allocator's WIT record, with `weights` (a
    /// bandit's current ones, or the definition's).
    pub fn to_wit(&self, weights: Option<&[f64]>) -> Value {
        json!({
            "key": self.key,
            "variations": self.variations.len(),
            "weights": weights.or(self.weights.as_deref()).unwrap_or(&[]),
            "coverage": self.coverage,
            "seed": self.seed.clone().unwrap_or_default(),
            "hash-version": self.hash_version,
            "hash-attribute": self.hash_attribute,
            "fallback-attribute": self.fallback_attribute,
            "namespace": self.namespace.as_ref().map(|(id, start, end)| json!({"id": id, "start": start, "end": end})),
            "condition": self.condition.as_ref().map(Value::to_string),
            "force": self.force,
        })
    }
}
