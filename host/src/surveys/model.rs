//! A survey as the merchant defines it: questions, targeting, trigger and
//! frequency, with the checks a definition must pass, and what the widget
//! is sent of it.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::platform::http::Code;
use crate::platform::http::{ApiError, valid_id};

/// The most `*` in a survey's page pattern.
pub const MAX_STARS: usize = 3;

/// Text in one language or in several (by locale).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Localized {
    /// The same text for every locale.
    One(String),
    /// Text per locale (`en`, `de-AT`, …).
    Many(BTreeMap<String, String>),
}

impl Localized {
    /// The text for `locale`: exact, then same language, then English,
    /// then any.
    pub fn get(&self, locale: &str) -> &str {
        match self {
            Localized::One(s) => s,
            Localized::Many(m) => {
                let lang = locale.split('-').next().unwrap_or(locale);
                m.get(locale)
                    .or_else(|| {
                        m.iter()
                            .find(|(k, _)| k.split('-').next() == Some(lang))
                            .map(|(_, v)| v)
                    })
                    .or_else(|| m.get("en"))
                    .or_else(|| m.values().next())
                    .map_or("", String::as_str)
            }
        }
    }

    fn texts(&self) -> Vec<&str> {
        match self {
            Localized::One(s) => vec![s],
            Localized::Many(m) => m.values().map(String::as_str).collect(),
        }
    }
}

/// Kinds of question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// "How likely are you to recommend us?" 0–10.
    Nps,
    /// One of the listed options.
    Choice,
    /// Free text.
    Text,
}

/// One option of a choice question.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Stable id (what answers carry).
    pub id: String,
    /// What the visitor reads.
    pub label: Localized,
}

/// One question.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Stable id (what answers are keyed by).
    pub id: String,
    /// Kind of answer.
    pub kind: Kind,
    /// What the visitor reads.
    pub prompt: Localized,
    /// Options of a choice question.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// Must be answered.
    #[serde(default)]
    pub required: bool,
}

/// Who sees the survey.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Targeting {
    /// Page paths it shows on; `*` matches anything (`/checkout*`), at
    /// most [`MAX_STARS`] of them.
    pub paths: Vec<String>,
    /// Locales it shows in (language or full tag); empty: all.
    pub locales: Vec<String>,
    /// Share of visitors (0–1) who are ever asked.
    pub sample_rate: f64,
}

impl Default for Targeting {
    fn default() -> Targeting {
        Targeting {
            paths: vec!["*".into()],
            locales: Vec::new(),
            sample_rate: 1.0,
        }
    }
}

/// When the survey appears.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Trigger {
    /// When the visitor is about to leave: pointer out through the top on
    /// desktop; a fast scroll up, or coming back after the page was hidden
    /// a while, on mobile.
    pub exit_intent: bool,
    /// After this many seconds on the page.
    pub seconds_on_page: Option<u32>,
    /// After scrolling this far down the page (percent).
    pub scroll_depth: Option<u8>,
}

impl Default for Trigger {
    fn default() -> Trigger {
        Trigger {
            exit_intent: true,
            seconds_on_page: None,
            scroll_depth: None,
        }
    }
}

fn yes() -> bool {
    true
}

fn thirty() -> u32 {
    30
}

/// A survey as the merchant defines it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    /// Name the merchant knows it by (also the dialog's heading).
    pub title: Localized,
    /// Shown to visitors at all.
    #[serde(default = "yes")]
    pub active: bool,
    /// Questions, in order.
    pub questions: Vec<Question>,
    /// Who sees it.
    #[serde(default)]
    pub targeting: Targeting,
    /// When it appears.
    #[serde(default)]
    pub trigger: Trigger,
    /// After seeing any survey, a visitor sees none for this many days.
    #[serde(default = "thirty")]
    pub cooldown_days: u32,
}

fn invalid(code: Code, message: impl Into<String>) -> ApiError {
    ApiError::unprocessable(code, message)
}

impl Survey {
    /// Refuse a definition a visitor could not answer.
    pub fn check(&self) -> Result<(), ApiError> {
        let text_ok = |l: &Localized, max: usize| {
            let texts = l.texts();
            !texts.is_empty()
                && texts
                    .iter()
                    .all(|t| !t.trim().is_empty() && t.chars().count() <= max)
        };
        if !text_ok(&self.title, 120) {
            return Err(invalid(
                Code::InvalidTitle,
                "the title must have 1 to 120 characters in every locale",
            ));
        }
        if !(1..=10).contains(&self.questions.len()) {
            return Err(invalid(
                Code::InvalidQuestions,
                "a survey has 1 to 10 questions",
            ));
        }
        let mut ids = HashSet::new();
        for q in &self.questions {
            if !valid_id(&q.id) || !ids.insert(q.id.as_str()) {
                return Err(invalid(
                    Code::InvalidQuestionId,
                    format!(
                        "question id `{}` must be unique and use 1-64 letters, digits, `-` or `_`",
                        q.id
                    ),
                ));
            }
            if !text_ok(&q.prompt, 300) {
                return Err(invalid(
                    Code::InvalidPrompt,
                    format!(
                        "question `{}`: the prompt must have 1 to 300 characters in every locale",
                        q.id
                    ),
                ));
            }
            let mut options = HashSet::new();
            let options_ok = q
                .options
                .iter()
                .all(|o| valid_id(&o.id) && options.insert(&o.id) && text_ok(&o.label, 80));
            match q.kind {
                Kind::Choice if !(2..=10).contains(&q.options.len()) || !options_ok => {
                    return Err(invalid(
                        Code::InvalidOptions,
                        format!(
                            "choice question `{}` needs 2 to 10 options with unique ids and labels of 1 to 80 characters",
                            q.id
                        ),
                    ));
                }
                Kind::Nps | Kind::Text if !q.options.is_empty() => {
                    return Err(invalid(
                        Code::InvalidOptions,
                        format!("question `{}`: only choice questions have options", q.id),
                    ));
                }
                _ => {}
            }
        }
        let t = &self.targeting;
        if !(0.0..=1.0).contains(&t.sample_rate) {
            return Err(invalid(
                Code::InvalidSampleRate,
                "sample_rate is a share between 0 and 1",
            ));
        }
        if t.paths.is_empty()
            || t.paths.len() > 20
            || t.paths
                .iter()
                .any(|p| p.len() > 200 || !(p.starts_with('/') || p == "*"))
        {
            return Err(invalid(
                Code::InvalidPaths,
                "targeting.paths needs 1 to 20 page paths starting with `/` (or `*` for every page)",
            ));
        }
        // A simple glob: a few stars, never two together (a pattern like
        // `/*a*a*a*…b` is the shape that makes a page's matcher crawl).
        if let Some(p) = t
            .paths
            .iter()
            .find(|p| p.matches('*').count() > MAX_STARS || p.contains("**"))
        {
            return Err(invalid(
                Code::InvalidPaths,
                format!(
                    "`{p}` is not a simple page pattern: use at most {MAX_STARS} `*`, never two together (like /products/* or /blog/*/comments)"
                ),
            ));
        }
        if t.locales
            .iter()
            .any(|l| !crate::platform::http::valid_locale(l))
        {
            return Err(invalid(
                Code::InvalidLocale,
                "targeting.locales must look like `en` or `de-AT`",
            ));
        }
        let tr = &self.trigger;
        if !tr.exit_intent && tr.seconds_on_page.is_none() && tr.scroll_depth.is_none() {
            return Err(invalid(
                Code::InvalidTrigger,
                "choose at least one trigger: exit_intent, seconds_on_page or scroll_depth",
            ));
        }
        if tr.scroll_depth.is_some_and(|d| !(1..=100).contains(&d))
            || tr.seconds_on_page.is_some_and(|s| s > 3600)
        {
            return Err(invalid(
                Code::InvalidTrigger,
                "scroll_depth is a percentage (1-100) and seconds_on_page at most 3600",
            ));
        }
        if self.cooldown_days > 365 {
            return Err(invalid(
                Code::InvalidCooldown,
                "cooldown_days is at most 365",
            ));
        }
        Ok(())
    }

    /// Shown in `locale` at all (active and targeted there).
    pub fn shows_in(&self, locale: &str) -> bool {
        let lang = locale.split('-').next().unwrap_or(locale);
        self.active
            && (self.targeting.locales.is_empty()
                || self
                    .targeting
                    .locales
                    .iter()
                    .any(|l| l == locale || l == lang))
    }

    /// What the widget needs, in the visitor's locale.
    pub fn public(&self, id: &str, locale: &str) -> Value {
        let questions: Vec<Value> = self
            .questions
            .iter()
            .map(|q| {
                json!({
                    "id": q.id, "kind": q.kind, "prompt": q.prompt.get(locale), "required": q.required,
                    "options": q.options.iter().map(|o| json!({"id": o.id, "label": o.label.get(locale)})).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "id": id, "title": self.title.get(locale), "questions": questions,
            "paths": self.targeting.paths, "sample_rate": self.targeting.sample_rate,
            "trigger": {"exit": self.trigger.exit_intent, "seconds": self.trigger.seconds_on_page, "scroll": self.trigger.scroll_depth},
            "cooldown_days": self.cooldown_days,
        })
    }

    /// Why `value` is not a valid answer to question `q`, if it is not.
    pub(super) fn answer_error(&self, q: &str, value: &Value) -> Option<String> {
        let Some(question) = self.questions.iter().find(|x| x.id == q) else {
            return Some(format!("the survey has no question `{q}`"));
        };
        let ok = match question.kind {
            Kind::Nps => value.as_u64().is_some_and(|n| n <= 10),
            Kind::Choice => value
                .as_str()
                .is_some_and(|s| question.options.iter().any(|o| o.id == s)),
            Kind::Text => value.as_str().is_some_and(|s| s.chars().count() <= 2000),
        };
        (!ok).then(|| match question.kind {
            Kind::Nps => format!("`{q}` takes a whole number from 0 to 10"),
            Kind::Choice => format!("`{q}` takes one of its option ids"),
            Kind::Text => format!("`{q}` takes text of at most 2000 characters"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localized_text_falls_back_by_language_then_english() {
        let l: Localized = serde_json::from_value(json!({"en": "Hi", "de": "Hallo"})).unwrap();
        assert_eq!(l.get("de-AT"), "Hallo");
        assert_eq!(l.get("fr"), "Hi");
        assert_eq!(Localized::One("x".into()).get("zh"), "x");
    }
}
