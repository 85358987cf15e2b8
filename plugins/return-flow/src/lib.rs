//! Reference return flow.
//!
//! Asks one form at a time, and only what the merchant's data does not
//! already say: country → item → quantity (and the delivery date when no
//! delivery is on file) → parcel weight → reason. Then it settles:
//!
//! 1. An order sold on a marketplace goes back through that marketplace's
//!    own process, with instructions (before any question).
//! 2. A customer who sounds upset, or who is high-value, goes to a person
//!    first (priority queue); a reason the rules cannot settle (`other`, a
//!    fault without a photo, a refund above the automatic limit, a parcel
//!    too heavy for the shipping bands) to the standard queue.
//! 3. A change of mind is refused, in plain words, for the statutory
//!    exceptions: personalised or made-to-order goods, perishables, sealed
//!    hygiene or audio/video/software goods once unsealed; and after the
//!    return window, counted from the last parcel of the delivery.
//!    In the EU (and the EEA and UK) the window is never shorter than the
//!    statutory 14 days; in the EU and EEA it runs as Regulation 1182/71
//!    says ([`period`]): from the day after delivery, in the consumer's
//!    time, to the end of a working day, and a refusal names that day.
//!    Faulty goods are never refused here.
//! 4. Otherwise the refund is itemised in minor units: the items, less the
//!    return shipping fee by weight band and any restocking fee (both
//!    waived for faults and by tier; no restocking fee on a statutory
//!    withdrawal). Heavy parcels are picked up; light ones dropped off.
//!
//! Every number is configurable per merchant; see [`Settings`].

use cove_sdk::returns::{
    Approval, Choice, DateBounds, Error, Field, FieldKind, Form, Handoff, Handover, Localized,
    NumberBounds, OrderLine, Outcome, Queue, RefundLine, ReturnFlow, ReturnMethod, Session, Step,
};
use cove_sdk::{Config, Ctx, DAY_MS, Money, TimestampMs};

/// The reference return flow.
pub struct Returns;

impl ReturnFlow for Returns {
    fn validate_config(config: &Config) -> Result<(), Error> {
        Settings::from_config(config).map(|_| ())
    }

    fn settings() -> Vec<cove_sdk::Setting> {
        described::settings()
    }

    fn next(session: Session, ctx: &Ctx) -> Result<Step, Error> {
        let settings = Settings::from_config(ctx.config())?;
        next(&settings, &session, ctx.now())
    }
}

cove_sdk::export_return_flow!(Returns);

mod described;
pub mod period;
pub mod texts;

/// EU member states, the rest of the EEA, and the UK: a 14-day statutory
/// right of withdrawal from delivery.
pub const STATUTORY_14_DAYS: [&str; 31] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO", "GB",
];

/// Goods the statutory right of withdrawal does not cover (a change of
/// mind is refused; faults are not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exception {
    /// Made to the customer's specification or personalised.
    Personalised,
    /// Made to order.
    MadeToOrder,
    /// Goods that deteriorate or expire quickly.
    Perishable,
    /// Sealed goods not suitable for return for hygiene reasons, once unsealed.
    SealedHygiene,
    /// Sealed audio, video or software, once unsealed.
    SealedMedia,
}

impl Exception {
    fn parse(key: &str, text: &str) -> Result<Option<Exception>, Error> {
        Ok(Some(match text.trim() {
            "personalised" => Exception::Personalised,
            "made-to-order" => Exception::MadeToOrder,
            "perishable" => Exception::Perishable,
            "sealed-hygiene" => Exception::SealedHygiene,
            "sealed-media" => Exception::SealedMedia,
            "none" => return Ok(None),
            other => {
                return Err(bad(
                    key,
                    &format!(
                        "`{other}` is not one of personalised, made-to-order, perishable, sealed-hygiene, sealed-media, none"
                    ),
                ));
            }
        }))
    }

    fn sealed(self) -> bool {
        matches!(self, Exception::SealedHygiene | Exception::SealedMedia)
    }
}

/// What a membership tier adds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TierBenefit {
    /// Days added to the return window.
    pub extra_days: u32,
    /// Return shipping and restocking fees waived.
    pub waive_fees: bool,
}

/// The merchant's settings, read from the plugin configuration.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `countries` | a list of 20 | countries offered in the first step (ISO codes, comma-separated) |
/// | `window-days` | 30 | return window from delivery |
/// | `window.CC` | — | the window in country `CC` (at least 14 in the EU/EEA/UK) |
/// | `window.platform.NAME` | — | the window for orders sold on platform `NAME` |
/// | `marketplaces` | amazon, ebay, … | platforms with their own return process |
/// | `marketplace.NAME.instructions` | a generic text | what the customer does there |
/// | `exception.CATEGORY` | see [`DEFAULT_EXCEPTIONS`] | a statutory exception, or `none` |
/// | `tier.TIER.extra-days` | gold 15, platinum 30 | longer window |
/// | `tier.TIER.waive-fees` | platinum | no shipping or restocking fee |
/// | `restocking-percent` | 0 | restocking fee on a change of mind |
/// | `restocking.CATEGORY` | — | the same, per category |
/// | `shipping-bands` | `2000:495,5000:795,10000:1295,30000:1995` | up to grams: fee in minor units |
/// | `pickup-from-grams` | 5000 | heavier parcels are picked up |
/// | `high-value-spent` | 100000 | customers who spent this much (minor units) get a person; 0: off |
/// | `review-above` | 50000 | refunds above this (minor units) get a person; 0: off |
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    countries: Vec<String>,
    window_days: u32,
    country_windows: Vec<(String, u32)>,
    platform_windows: Vec<(String, u32)>,
    marketplaces: Vec<String>,
    instructions: Vec<(String, String)>,
    exceptions: Vec<(String, Option<Exception>)>,
    tiers: Vec<(String, TierBenefit)>,
    restocking_percent: u32,
    restocking: Vec<(String, u32)>,
    bands: Vec<(u32, i64)>,
    pickup_from_grams: u32,
    high_value_spent: i64,
    review_above: i64,
}

/// Countries offered when the merchant lists none.
pub const DEFAULT_COUNTRIES: &str = "DE,FR,IT,ES,NL,BE,AT,IE,PL,SE,DK,FI,PT,GB,US,CA,AU,AE,SA,SG";
/// Marketplaces when the merchant lists none.
pub const DEFAULT_MARKETPLACES: &str =
    "amazon,ebay,walmart,etsy,aliexpress,temu,shein,tiktok-shop,zalando,tmall,mercado-libre";
/// Categories under a statutory exception unless configured otherwise.
pub const DEFAULT_EXCEPTIONS: [(&str, Exception); 8] = [
    ("custom", Exception::Personalised),
    ("personalised", Exception::Personalised),
    ("made-to-order", Exception::MadeToOrder),
    ("food", Exception::Perishable),
    ("flowers", Exception::Perishable),
    ("cosmetics", Exception::SealedHygiene),
    ("personal-care", Exception::SealedHygiene),
    ("software", Exception::SealedMedia),
];

fn bad(key: &str, why: &str) -> Error {
    Error::InvalidConfig(format!("config `{key}`: {why}"))
}

fn number<T: std::str::FromStr>(key: &str, text: &str) -> Result<T, Error> {
    text.trim()
        .parse()
        .map_err(|_| bad(key, &format!("`{text}` is not a whole number")))
}

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            countries: list(DEFAULT_COUNTRIES),
            window_days: 30,
            country_windows: Vec::new(),
            platform_windows: Vec::new(),
            marketplaces: list(DEFAULT_MARKETPLACES),
            instructions: Vec::new(),
            exceptions: DEFAULT_EXCEPTIONS
                .iter()
                .map(|(c, e)| (c.to_string(), Some(*e)))
                .collect(),
            tiers: vec![
                (
                    "gold".into(),
                    TierBenefit {
                        extra_days: 15,
                        waive_fees: false,
                    },
                ),
                (
                    "platinum".into(),
                    TierBenefit {
                        extra_days: 30,
                        waive_fees: true,
                    },
                ),
            ],
            restocking_percent: 0,
            restocking: Vec::new(),
            bands: vec![(2000, 495), (5000, 795), (10000, 1295), (30000, 1995)],
            pickup_from_grams: 5000,
            high_value_spent: 100_000,
            review_above: 50_000,
        }
    }
}

/// Set `key`'s entry in `list` to `value`, keeping one entry per key.
fn set<T>(list: &mut Vec<(String, T)>, key: &str, value: T) {
    list.retain(|(k, _)| k != key);
    list.push((key.to_string(), value));
}

impl Settings {
    /// Read and check the configuration; the error names the key.
    pub fn from_config(config: &Config) -> Result<Settings, Error> {
        let mut s = Settings::default();
        for (key, value) in config.pairs() {
            let k = key.as_str();
            match k {
                "countries" => {
                    s.countries = list(value);
                    if let Some(c) = s.countries.iter().find(|c| !is_country(c)) {
                        return Err(bad(k, &format!("`{c}` is not a two-letter country code")));
                    }
                    if s.countries.is_empty() {
                        return Err(bad(k, "lists no country"));
                    }
                }
                "window-days" => s.window_days = number(k, value)?,
                "marketplaces" => s.marketplaces = list(&value.to_lowercase()),
                "restocking-percent" => s.restocking_percent = percent(k, value)?,
                "shipping-bands" => s.bands = bands(k, value)?,
                "pickup-from-grams" => s.pickup_from_grams = number(k, value)?,
                "high-value-spent" => s.high_value_spent = number(k, value)?,
                "review-above" => s.review_above = number(k, value)?,
                _ => {
                    if let Some(p) = k.strip_prefix("window.platform.") {
                        set(&mut s.platform_windows, p, number(k, value)?);
                    } else if let Some(c) = k.strip_prefix("window.") {
                        if !is_country(c) {
                            return Err(bad(
                                k,
                                "expected `window.CC` with a two-letter country code",
                            ));
                        }
                        let days: u32 = number(k, value)?;
                        if days < 14 && STATUTORY_14_DAYS.contains(&c) {
                            return Err(bad(
                                k,
                                &format!(
                                    "{days} days is shorter than the statutory 14 days in {c}"
                                ),
                            ));
                        }
                        set(&mut s.country_windows, c, days);
                    } else if let Some(m) = k
                        .strip_prefix("marketplace.")
                        .and_then(|m| m.strip_suffix(".instructions"))
                    {
                        set(
                            &mut s.instructions,
                            &m.to_lowercase(),
                            value.trim().to_string(),
                        );
                    } else if let Some(c) = k.strip_prefix("exception.") {
                        set(&mut s.exceptions, c, Exception::parse(k, value)?);
                    } else if let Some(c) = k.strip_prefix("restocking.") {
                        set(&mut s.restocking, c, percent(k, value)?);
                    } else if let Some((tier, what)) =
                        k.strip_prefix("tier.").and_then(|t| t.rsplit_once('.'))
                    {
                        let mut benefit = s.tier(tier);
                        match what {
                            "extra-days" => benefit.extra_days = number(k, value)?,
                            "waive-fees" => {
                                benefit.waive_fees = match value.trim() {
                                    "true" | "yes" => true,
                                    "false" | "no" => false,
                                    other => {
                                        return Err(bad(
                                            k,
                                            &format!("`{other}` is not true or false"),
                                        ));
                                    }
                                }
                            }
                            _ => return Err(bad(k, "unknown setting (extra-days or waive-fees)")),
                        }
                        set(&mut s.tiers, tier, benefit);
                    } else {
                        return Err(bad(k, "unknown setting"));
                    }
                }
            }
        }
        Ok(s)
    }

    fn tier(&self, tier: &str) -> TierBenefit {
        self.tiers
            .iter()
            .find(|(t, _)| t == tier)
            .map(|(_, b)| b.clone())
            .unwrap_or_default()
    }

    fn exception(&self, category: &str) -> Option<Exception> {
        self.exceptions
            .iter()
            .find(|(c, _)| c == category)
            .and_then(|(_, e)| *e)
    }

    fn is_marketplace(&self, platform: &str) -> bool {
        self.marketplaces
            .iter()
            .any(|m| *m == platform.to_lowercase())
    }

    /// The return window in days for a country and platform (tier not included).
    pub fn window(&self, country: &str, platform: &str) -> u32 {
        let find =
            |list: &[(String, u32)], k: &str| list.iter().find(|(c, _)| c == k).map(|(_, d)| *d);
        let days = find(&self.country_windows, country)
            .or_else(|| find(&self.platform_windows, platform))
            .unwrap_or(self.window_days);
        if STATUTORY_14_DAYS.contains(&country) {
            days.max(14)
        } else {
            days
        }
    }
}

fn is_country(c: &str) -> bool {
    c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())
}

fn percent(key: &str, text: &str) -> Result<u32, Error> {
    let p: u32 = number(key, text)?;
    if p > 100 {
        return Err(bad(key, &format!("{p}% is more than 100%")));
    }
    Ok(p)
}

fn bands(key: &str, text: &str) -> Result<Vec<(u32, i64)>, Error> {
    let mut out: Vec<(u32, i64)> = Vec::new();
    for band in list(text) {
        let (grams, fee) = band
            .split_once(':')
            .ok_or_else(|| bad(key, &format!("`{band}` is not GRAMS:FEE")))?;
        let (grams, fee): (u32, i64) = (number(key, grams)?, number(key, fee)?);
        if out.last().is_some_and(|(g, _)| *g >= grams) || fee < 0 {
            return Err(bad(
                key,
                "bands must go up in weight, with fees of zero or more",
            ));
        }
        out.push((grams, fee));
    }
    if out.is_empty() {
        return Err(bad(key, "lists no band"));
    }
    Ok(out)
}

/// A label in every language the widget ships.
fn t(key: &str) -> Localized {
    texts::all(key, &[])
}

fn form(step: &str, title: Localized, fields: Vec<Field>) -> Result<Step, Error> {
    Ok(Step::Form(Form {
        step: step.into(),
        title,
        fields,
    }))
}

fn field(name: &str, label: Localized, kind: FieldKind, required: bool) -> Field {
    Field {
        name: name.into(),
        label,
        kind,
        required,
    }
}

fn done(outcome: Outcome) -> Result<Step, Error> {
    Ok(Step::Outcome(outcome))
}

fn person(queue: Queue, reason: String) -> Result<Step, Error> {
    done(Outcome::HumanReview(Handover { queue, reason }))
}

fn invalid(field: &str, why: &str) -> Error {
    Error::InvalidInput(format!("answer `{field}`: {why}"))
}

/// The reasons offered (their labels are `reason.VALUE` in [`texts`]).
pub const REASONS: [&str; 7] = [
    "damaged",
    "wrong-item",
    "not-as-described",
    "too-small",
    "too-large",
    "changed-mind",
    "other",
];

/// Words that mark a message as upset, in the languages merchants' customers write.
const UPSET: [&str; 32] = [
    "angry",
    "furious",
    "terrible",
    "awful",
    "worst",
    "disgusting",
    "scam",
    "fraud",
    "ridiculous",
    "unacceptable",
    "never again",
    "waste of money",
    "rubbish",
    "horrible",
    "disappointed",
    "lawyer",
    "!!!",
    "垃圾",
    "太差",
    "骗",
    "愤怒",
    "生气",
    "投诉",
    "失望",
    "恶心",
    "betrug",
    "frechheit",
    "enttäuscht",
    "arnaque",
    "honteux",
    "estafa",
    "decepcionado",
];

/// Whether the customer's words sound upset.
pub fn upset(text: &str) -> bool {
    let text = text.to_lowercase();
    UPSET.iter().any(|w| text.contains(w))
}

/// The next step of `session` at time `now`.
pub fn next(settings: &Settings, session: &Session, now: TimestampMs) -> Result<Step, Error> {
    let order = &session.order;
    let say = |key: &str, vars: &[(&str, &str)]| texts::say(&session.locale, key, vars);

    if settings.is_marketplace(&order.platform) {
        let marketplace = order.platform.to_lowercase();
        let instructions = settings
            .instructions
            .iter()
            .find(|(m, _)| *m == marketplace)
            .map(|(_, i)| i.clone())
            .unwrap_or_else(|| say("marketplace", &[("m", &marketplace)]));
        return done(Outcome::Marketplace(Handoff {
            marketplace,
            instructions,
        }));
    }

    let Some(country) = session.answer("country") else {
        let mut countries = settings.countries.clone();
        if let Some(home) = &session.customer.country
            && let Some(i) = countries.iter().position(|c| c == home)
        {
            let home = countries.remove(i);
            countries.insert(0, home);
        }
        let choices = countries
            .into_iter()
            .map(|c| Choice {
                label: texts::country(&c),
                value: c,
            })
            .collect();
        return form(
            "country",
            t("country.title"),
            vec![field(
                "country",
                t("country"),
                FieldKind::Choice(choices),
                true,
            )],
        );
    };
    if !settings.countries.iter().any(|c| c == country) {
        return Err(invalid(
            "country",
            "not a country this shop takes returns from",
        ));
    }

    let left = |l: &OrderLine| l.quantity.saturating_sub(l.returned);
    if order.lines.iter().all(|l| left(l) == 0) {
        return done(Outcome::Rejected(say("all-returned", &[])));
    }
    let Some(sku) = session.answer("sku") else {
        let choices = order
            .lines
            .iter()
            .filter(|l| left(l) > 0)
            .map(|l| Choice {
                value: l.sku.clone(),
                label: texts::all(
                    "item.choice",
                    &[
                        ("sku", &l.sku),
                        ("category", &l.category),
                        ("n", &left(l).to_string()),
                    ],
                ),
            })
            .collect();
        return form(
            "item",
            t("item.title"),
            vec![field("sku", t("item"), FieldKind::Choice(choices), true)],
        );
    };
    let line = order
        .lines
        .iter()
        .find(|l| l.sku == sku)
        .ok_or_else(|| invalid("sku", "not an item of this order"))?;
    let most = left(line);
    if most == 0 {
        return done(Outcome::Rejected(say("sku-returned", &[("sku", sku)])));
    }

    let asks_quantity = most > 1 && session.answer("quantity").is_none();
    let asks_delivery = order.deliveries.is_empty() && session.answer("delivered").is_none();
    if asks_quantity || asks_delivery {
        let mut fields = Vec::new();
        if asks_quantity {
            fields.push(field(
                "quantity",
                t("quantity"),
                FieldKind::Number(NumberBounds {
                    min: 1,
                    max: most.into(),
                }),
                true,
            ));
        }
        if asks_delivery {
            fields.push(field(
                "delivered",
                t("delivered"),
                FieldKind::Date(DateBounds {
                    earliest: Some(date(order.placed_at)),
                    latest: Some(date(now)),
                }),
                true,
            ));
        }
        return form("quantity", t("quantity.title"), fields);
    }
    let quantity: u32 = match session.answer("quantity") {
        None => 1,
        Some(q) => q
            .parse()
            .ok()
            .filter(|q| (1..=most).contains(q))
            .ok_or_else(|| invalid("quantity", &format!("must be from 1 to {most}")))?,
    };
    let delivered = match order.deliveries.iter().max() {
        Some(last) => *last,
        None => {
            let d = session.answer("delivered").unwrap_or_default();
            days_from_date(d).ok_or_else(|| invalid("delivered", "not a date YYYY-MM-DD"))? * DAY_MS
        }
    };

    let Some(weight) = session.answer("weight-grams") else {
        return form(
            "parcel",
            t("parcel.title"),
            vec![field(
                "weight-grams",
                t("weight"),
                FieldKind::Number(NumberBounds {
                    min: 1,
                    max: 100_000,
                }),
                true,
            )],
        );
    };
    let weight: u32 = weight
        .parse()
        .ok()
        .filter(|w| (1..=100_000).contains(w))
        .ok_or_else(|| invalid("weight-grams", "must be from 1 to 100000"))?;

    let exception = settings.exception(&line.category);
    let Some(reason) = session.answer("reason") else {
        let mut fields = vec![
            field(
                "reason",
                t("reason.title"),
                FieldKind::Choice(
                    REASONS
                        .iter()
                        .map(|v| Choice {
                            value: v.to_string(),
                            label: t(&format!("reason.{v}")),
                        })
                        .collect(),
                ),
                true,
            ),
            field("comment", t("comment"), FieldKind::Text(500), false),
            field("photo", t("photo"), FieldKind::Photo, false),
        ];
        if exception.is_some_and(Exception::sealed) {
            fields.push(field(
                "sealed",
                t("sealed"),
                FieldKind::Choice(vec![
                    Choice {
                        value: "yes".into(),
                        label: t("sealed.yes"),
                    },
                    Choice {
                        value: "no".into(),
                        label: t("sealed.no"),
                    },
                ]),
                true,
            ));
        }
        return form("reason", t("reason.title"), fields);
    };
    if !REASONS.contains(&reason) {
        return Err(invalid("reason", "not one of the reasons offered"));
    }

    // Settle.
    let comment = session.answer("comment").unwrap_or_default();
    if upset(comment) {
        return person(
            Queue::Priority,
            "the customer sounds upset: a person answers first".into(),
        );
    }
    let spent = session.customer.spent.amount_minor;
    if settings.high_value_spent > 0 && spent >= settings.high_value_spent {
        return person(
            Queue::Priority,
            format!(
                "a high-value customer (spent {}): a person handles the return",
                money(spent, &session.customer.spent.currency)
            ),
        );
    }
    if reason == "other" {
        return person(
            Queue::Standard,
            "the reason is not one the rules settle (`other`)".into(),
        );
    }
    let fault = matches!(reason, "damaged" | "wrong-item" | "not-as-described");
    if fault && session.answer("photo").is_none() {
        return person(
            Queue::Standard,
            format!("reported as {reason} without a photo: a person checks"),
        );
    }
    let days = (now - delivered).div_euclid(DAY_MS);
    let benefit = settings.tier(session.customer.tier.as_deref().unwrap_or(""));
    let window = settings.window(country, &order.platform) + benefit.extra_days;
    if !fault {
        let unsealed = session.answer("sealed") == Some("no");
        let refused = match exception {
            Some(Exception::Personalised) => Some(say("no.personalised", &[])),
            Some(Exception::MadeToOrder) => Some(say("no.made-to-order", &[])),
            Some(Exception::Perishable) => Some(say("no.perishable", &[])),
            Some(Exception::SealedHygiene) if unsealed => Some(say("no.hygiene", &[])),
            Some(Exception::SealedMedia) if unsealed => Some(say("no.media", &[])),
            _ => None,
        };
        if let Some(why) = refused {
            return done(Outcome::Rejected(why));
        }
        if period::EU_EEA.contains(&country) {
            // Regulation 1182/71: from the day after delivery, in the
            // consumer's time, to the end of a working day.
            // Never shorter than the whole days counted before.
            let clock = period::Clock::of(&session.customer.offsets, country);
            let (last, ends) = period::period(&clock, country, delivered, i64::from(window));
            if now >= ends && days > i64::from(window) {
                let local = delivered + clock.offset_ms(delivered);
                let date = |d: i64| texts::long_date(&session.locale, d);
                return done(Outcome::Rejected(say(
                    "no.window.until",
                    &[
                        ("delivered", &date(local.div_euclid(DAY_MS))),
                        ("until", &date(last)),
                    ],
                )));
            }
        } else if days > i64::from(window) {
            return done(Outcome::Rejected(say(
                "no.window",
                &[("days", &days.to_string()), ("window", &window.to_string())],
            )));
        }
    }
    let Some(&(_, shipping)) = settings.bands.iter().find(|(g, _)| weight <= *g) else {
        return person(
            Queue::Standard,
            format!(
                "the parcel ({weight} g) is heavier than the heaviest shipping band ({} g)",
                settings.bands.last().map_or(0, |b| b.0)
            ),
        );
    };

    let currency = line.unit_price.currency.clone();
    let cash = |amount_minor: i64| Money {
        amount_minor,
        currency: currency.clone(),
    };
    let items = line.unit_price.amount_minor * i64::from(quantity);
    let mut lines = vec![RefundLine {
        label: format!("{quantity} × {sku}"),
        amount: cash(items),
    }];
    let waived = fault || benefit.waive_fees;
    if !waived && shipping > 0 {
        lines.push(RefundLine {
            label: say("line.shipping", &[("weight", &weight.to_string())]),
            amount: cash(-shipping),
        });
    }
    let statutory = STATUTORY_14_DAYS.contains(&country) && days <= 14;
    let restocking = settings
        .restocking
        .iter()
        .find(|(c, _)| *c == line.category)
        .map_or(settings.restocking_percent, |(_, p)| *p);
    if !waived && !statutory && restocking > 0 {
        let fee = (items * i64::from(restocking) + 50) / 100;
        lines.push(RefundLine {
            label: say("line.restocking", &[("percent", &restocking.to_string())]),
            amount: cash(-fee),
        });
    }
    let refund = lines
        .iter()
        .map(|l| l.amount.amount_minor)
        .sum::<i64>()
        .max(0);
    if settings.review_above > 0 && refund > settings.review_above {
        return person(
            Queue::Standard,
            format!(
                "a refund of {} is above the automatic limit of {}",
                money(refund, &currency),
                money(settings.review_above, &currency)
            ),
        );
    }
    let method = if weight >= settings.pickup_from_grams {
        ReturnMethod::Pickup
    } else {
        ReturnMethod::DropOff
    };
    let amount = money(refund, &currency);
    let note = say(
        match method {
            ReturnMethod::Pickup => "ok.pickup",
            ReturnMethod::DropOff => "ok.drop-off",
        },
        &[("amount", &amount)],
    );
    done(Outcome::Approved(Approval {
        sku: sku.to_string(),
        quantity,
        refund: cash(refund),
        lines,
        method,
        note,
    }))
}

/// Digits after the decimal point of `currency` (ISO 4217).
fn exponent(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// `1234 EUR` → `12.34 EUR`.
pub fn money(minor: i64, currency: &str) -> String {
    let e = exponent(currency);
    let sign = if minor < 0 { "-" } else { "" };
    let (whole, frac) = (
        minor.unsigned_abs() / 10u64.pow(e),
        minor.unsigned_abs() % 10u64.pow(e),
    );
    if e == 0 {
        format!("{sign}{whole} {currency}")
    } else {
        format!("{sign}{whole}.{frac:0w$} {currency}", w = e as usize)
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn days_from_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    let month_days = [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    Some(cove_sdk::civil::to_days(y, m, d))
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// The UTC date (`YYYY-MM-DD`) of a time.
pub fn date(at: TimestampMs) -> String {
    let (y, m, d) = cove_sdk::civil::from_days(at.div_euclid(DAY_MS));
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests;
