//! # Cove's reference RFM scorer
//!
//! Two phases. `fit`, on a sample of the merchant's base: the R, F and M
//! cut points at the base's own quantiles, a BG/NBD model of purchasing and
//! drop-out and a Gamma-Gamma model of spend, both fitted by maximum
//! likelihood ([`predict`]), and the percentiles of the predictions. Then
//! `score`, on every batch: the scores, a named segment, the five-tier
//! view, the micro-segments whose rules hold ([`rules`]), P(active),
//! expected purchases, expected value and lifetime value.
//!
//! Configuration (all optional):
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `bins` | 5 | 3, 4 or 5 score bins |
//! | `horizon-days` | 365 | how far the predictions look |
//! | `discount` | 0.01 | discount rate per month for the lifetime value |
//! | `penalizer` | 0 | L2 penalty on the fitted parameters (as `lifetimes`' `penalizer_coef`): a small shop's fit stays near modest values |
//! | `segment.NAME` | the four of [`DEFAULT_SEGMENTS`] | a micro-segment: customers for whom the rule holds (see [`rules`]) |
//! | `default-segments` | true | `false`: no micro-segments unless written |
//!
//! Named segments (from R and the mean of F and M, on a 1–5 scale):
//! champions, loyal, potential-loyalist, new, promising, needs-attention,
//! about-to-sleep, at-risk, cannot-lose-them, hibernating, lost. The
//! five-tier view: active (recent and valuable), engaged (interacts with
//! messages), potential (recent), at-risk, silent.

pub mod predict;
pub mod rules;

use cove_sdk::rfm::{Bgnbd, CustomerScore, CustomerSummary, Error, GammaGamma, Model, RfmScorer};
use cove_sdk::{Config, Ctx, Setting, SettingKind};
use predict::History;

/// The reference scorer.
pub struct Rfm;

/// The binding's settings, checked.
pub struct Settings {
    bins: u8,
    horizon_days: f64,
    discount: f64,
    penalizer: f64,
    rules: Vec<(String, rules::Expr)>,
}

/// Read and check the configuration.
pub fn settings(config: &Config) -> Result<Settings, Error> {
    let bins: u8 = config.parse_or("bins", 5).map_err(Error::InvalidConfig)?;
    if !(3..=5).contains(&bins) {
        return Err(Error::InvalidConfig(format!(
            "bins: {bins} is not 3, 4 or 5"
        )));
    }
    let horizon_days: f64 = config
        .parse_or("horizon-days", 365.0)
        .map_err(Error::InvalidConfig)?;
    if !(1.0..=3650.0).contains(&horizon_days) {
        return Err(Error::InvalidConfig(
            "horizon-days: between 1 and 3650".into(),
        ));
    }
    let discount: f64 = config
        .parse_or("discount", 0.01)
        .map_err(Error::InvalidConfig)?;
    let penalizer: f64 = config
        .parse_or("penalizer", 0.0)
        .map_err(Error::InvalidConfig)?;
    if !(0.0..=10.0).contains(&penalizer) {
        return Err(Error::InvalidConfig(
            "penalizer: from 0 (none) to 10".into(),
        ));
    }
    if !(0.0..1.0).contains(&discount) {
        return Err(Error::InvalidConfig(
            "discount: a monthly rate from 0 to 1".into(),
        ));
    }
    let mut rules = Vec::new();
    for (key, rule) in config.pairs() {
        if let Some(name) = key.strip_prefix("segment.") {
            if name.is_empty() || name == "everyone-else" {
                return Err(Error::InvalidConfig(format!(
                    "{key}: name the segment (not everyone-else)"
                )));
            }
            let expr =
                rules::parse(rule).map_err(|why| Error::InvalidConfig(format!("{key}: {why}")))?;
            rules.push((name.to_string(), expr));
        }
    }
    let defaults: bool = config
        .parse_or("default-segments", true)
        .map_err(Error::InvalidConfig)?;
    if rules.is_empty() && defaults {
        for (name, rule) in DEFAULT_SEGMENTS {
            rules.push((
                name.to_string(),
                rules::parse(rule).expect("a default rule"),
            ));
        }
    }
    Ok(Settings {
        bins,
        horizon_days,
        discount,
        penalizer,
        rules,
    })
}

/// The micro-segments a merchant gets without writing a rule (any
/// `segment.NAME` replaces them all; `default-segments = false` drops them).
pub const DEFAULT_SEGMENTS: [(&str, &str); 4] = [
    (
        "top-value-lapsing",
        "top(clv, 10) and days_since_order > 60",
    ),
    (
        "cart-no-order",
        "days_since_cart <= 1 and days_since_cart < days_since_order",
    ),
    ("birthday-this-week", "days_to_birthday <= 7"),
    ("big-spender-no-campaign", "spent > 1000 and campaigns == 0"),
];

fn history(c: &CustomerSummary) -> History {
    History {
        x: f64::from(c.repeat_purchases),
        t_x: c.recency,
        t: c.age,
        m: c.mean_repeat_value,
    }
}

/// `bins - 1` ascending cut points at the quantiles of `values` (repeated
/// values give repeated cuts: ties stay in one bin).
pub fn cuts(mut values: Vec<f64>, bins: u8) -> Vec<f64> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return vec![0.0; usize::from(bins) - 1];
    }
    values.sort_by(f64::total_cmp);
    (1..bins)
        .map(|i| values[(values.len() - 1) * usize::from(i) / usize::from(bins)])
        .collect()
}

/// The bin of `value`: 1 + the cut points it is above.
fn band(value: f64, cuts: &[f64]) -> u8 {
    1 + cuts.iter().filter(|c| value > **c).count() as u8
}

/// 101 percentiles of `values`.
fn percentiles(mut values: Vec<f64>) -> Vec<f64> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return Vec::new();
    }
    values.sort_by(f64::total_cmp);
    (0..=100)
        .map(|p| values[(values.len() - 1) * p / 100])
        .collect()
}

/// The predictions for one customer: P(active), purchases over the
/// horizon, value of a purchase, lifetime value.
fn predictions(model: &Model, s: &Settings, c: &CustomerSummary) -> (f64, f64, f64, f64) {
    let h = history(c);
    let fallback_value = if c.orders > 0 {
        c.spent / f64::from(c.orders)
    } else {
        0.0
    };
    // Gamma-Gamma's expected value: for a customer without repeat
    // purchases, the population's mean (as lifetimes answers).
    let value = match &model.gamma_gamma {
        Some(g) if g.q > 1.0 && c.orders > 0 => predict::GammaGamma {
            p: g.p,
            q: g.q,
            v: g.v,
        }
        .expected_value(&h),
        _ => fallback_value,
    };
    let Some(b) = &model.bgnbd else {
        return (1.0, 0.0, value, 0.0);
    };
    let bg = predict::BgNbd {
        r: b.r,
        alpha: b.alpha,
        a: b.a,
        b: b.b,
    };
    let unit = model.unit_days.max(1.0);
    let p = bg.p_alive(&h).clamp(0.0, 1.0);
    let expected = bg.expected(&h, s.horizon_days / unit);
    let months = (s.horizon_days / 30.4).round().max(1.0) as u32;
    let clv = predict::clv(&bg, value, &h, months, 30.4 / unit, s.discount);
    (p, expected, value, clv)
}

/// The named segment of scores on a 1–5 scale.
fn segment(r: u8, fm: u8) -> &'static str {
    match (r, fm) {
        (4..=5, 4..=5) => "champions",
        (3, 4..=5) => "loyal",
        (4..=5, 2..=3) => "potential-loyalist",
        (5, 1) => "new",
        (4, 1) => "promising",
        (3, 3) => "needs-attention",
        (3, 1..=2) => "about-to-sleep",
        (1..=2, 5) => "cannot-lose-them",
        (1..=2, 3..=4) => "at-risk",
        (2, 1..=2) => "hibernating",
        _ => "lost",
    }
}

struct Facts<'a> {
    c: &'a CustomerSummary,
    model: &'a Model,
    scores: (u8, u8, u8),
    predictions: (f64, f64, f64, f64),
    segment: &'a str,
    tier: &'a str,
}

impl rules::Facts for Facts<'_> {
    fn get(&self, name: &str) -> Option<rules::Val> {
        use rules::Val::{Num, Text};
        let c = self.c;
        Some(match name {
            "days_since_order" => Num(c.days_since_order),
            "orders" => Num(f64::from(c.orders)),
            "spent" => Num(c.spent),
            "repeat_purchases" => Num(f64::from(c.repeat_purchases)),
            "mean_repeat_value" => Num(c.mean_repeat_value),
            "engaged_30" => Num(f64::from(c.engaged_30)),
            "engaged_60" => Num(f64::from(c.engaged_60)),
            "days_since_cart" => c.days_since_cart.map_or(rules::Val::None, Num),
            "days_to_birthday" => c
                .days_to_birthday
                .map_or(rules::Val::None, |d| Num(f64::from(d))),
            "campaigns" => Num(f64::from(c.campaigns)),
            "recency" => Num(f64::from(self.scores.0)),
            "frequency" => Num(f64::from(self.scores.1)),
            "monetary" => Num(f64::from(self.scores.2)),
            "p_alive" => Num(self.predictions.0),
            "expected_purchases" => Num(self.predictions.1),
            "expected_value" => Num(self.predictions.2),
            "clv" => Num(self.predictions.3),
            "segment" => Text(self.segment.into()),
            "tier" => Text(self.tier.into()),
            _ => return None,
        })
    }

    fn has_tag(&self, tag: &str) -> bool {
        self.c.tags.iter().any(|t| t == tag)
    }

    fn top(&self, name: &str, percent: f64) -> bool {
        let (value, table) = match name {
            "clv" => (self.predictions.3, &self.model.clv_percentiles),
            "spent" => (self.c.spent, &self.model.spent_percentiles),
            _ => (self.predictions.1, &self.model.purchases_percentiles),
        };
        let at = (100.0 - percent).round().clamp(0.0, 100.0) as usize;
        table
            .get(at)
            .is_some_and(|threshold| value >= *threshold && value > 0.0)
    }
}

impl RfmScorer for Rfm {
    fn validate_config(config: &Config) -> Result<(), Error> {
        settings(config).map(drop)
    }

    fn settings() -> Vec<Setting> {
        vec![
            Setting::new(
                "bins",
                SettingKind::choice(&["3", "4", "5"]),
                Some("5"),
                "How many levels each score has: recency, frequency and spending are each scored 1 to this.",
                "每项评分的等级数：最近购买、购买频率和消费金额各自评为 1 到该值。",
                "bins = 5",
            ),
            Setting::new(
                "horizon-days",
                SettingKind::integer(1, 3650),
                Some("365"),
                "How many days ahead the predictions (purchases, lifetime value) look.",
                "预测（购买次数、客户终身价值）向前看的天数。",
                "horizon-days = 365",
            ),
            Setting::new(
                "discount",
                SettingKind::number(0.0, 0.99),
                Some("0.01"),
                "Monthly discount rate for lifetime value: future money counts a little less than money today.",
                "客户终身价值的月折现率：未来的钱比今天的钱稍微不值钱。",
                "discount = 0.01",
            ),
            Setting::new(
                "penalizer",
                SettingKind::number(0.0, 10.0),
                Some("0"),
                "Keeps a small shop's predictions modest (as the lifetimes library's penalizer); 0 turns it off.",
                "让小店铺的预测保持稳健（与 lifetimes 库的 penalizer 相同）；0 表示关闭。",
                "penalizer = 0.001",
            ),
            Setting::new(
                "segment.*",
                SettingKind::text(""),
                None,
                "A group of customers for whom a rule holds, such as spent > 1000 and orders >= 3.",
                "满足规则的一组客户，例如 spent > 1000 and orders >= 3。",
                "segment.big-spender = spent > 1000 and orders >= 3",
            )
            .part("the group's name"),
            Setting::new(
                "default-segments",
                SettingKind::Flag,
                Some("true"),
                "Use Cove's suggested groups when you write none of your own.",
                "未自定义分组时，使用 Cove 建议的分组。",
                "default-segments = false",
            ),
        ]
    }

    fn fit(sample: Vec<CustomerSummary>, unit_days: f64, ctx: &Ctx) -> Result<Model, Error> {
        let s = settings(ctx.config())?;
        if unit_days.is_nan() || unit_days <= 0.0 {
            return Err(Error::InvalidInput("unit-days: must be above 0".into()));
        }
        let buyers: Vec<&CustomerSummary> = sample.iter().filter(|c| c.orders > 0).collect();
        let histories: Vec<History> = buyers.iter().map(|c| history(c)).collect();
        let bgnbd = predict::BgNbd::fit(&histories, s.penalizer).map(|m| Bgnbd {
            r: m.r,
            alpha: m.alpha,
            a: m.a,
            b: m.b,
        });
        let gamma_gamma = predict::GammaGamma::fit(&histories, s.penalizer).map(|g| GammaGamma {
            p: g.p,
            q: g.q,
            v: g.v,
        });
        let mut model = Model {
            recency_cuts: cuts(buyers.iter().map(|c| c.days_since_order).collect(), s.bins),
            frequency_cuts: cuts(buyers.iter().map(|c| f64::from(c.orders)).collect(), s.bins),
            monetary_cuts: cuts(buyers.iter().map(|c| c.spent).collect(), s.bins),
            bgnbd,
            gamma_gamma,
            unit_days,
            clv_percentiles: Vec::new(),
            spent_percentiles: percentiles(buyers.iter().map(|c| c.spent).collect()),
            purchases_percentiles: Vec::new(),
        };
        let predicted: Vec<(f64, f64, f64, f64)> =
            buyers.iter().map(|c| predictions(&model, &s, c)).collect();
        model.clv_percentiles = percentiles(predicted.iter().map(|p| p.3).collect());
        model.purchases_percentiles = percentiles(predicted.iter().map(|p| p.1).collect());
        Ok(model)
    }

    fn score(
        model: Model,
        customers: Vec<CustomerSummary>,
        ctx: &Ctx,
    ) -> Result<Vec<CustomerScore>, Error> {
        let s = settings(ctx.config())?;
        let bins = model.recency_cuts.len() as u8 + 1;
        let to5 = |x: u8| 1 + ((u32::from(x) - 1) * 4 / u32::from(bins.max(2) - 1)) as u8;
        Ok(customers
            .into_iter()
            .map(|c| {
                let r = if c.orders == 0 {
                    1
                } else {
                    bins + 1 - band(c.days_since_order, &model.recency_cuts)
                };
                let f = band(f64::from(c.orders), &model.frequency_cuts);
                let m = band(c.spent, &model.monetary_cuts);
                let (r5, fm5) = (to5(r), (to5(f) + to5(m)).div_ceil(2));
                let named = segment(r5, fm5);
                let tier = if r5 >= 4 && fm5 >= 3 {
                    "active"
                } else if c.engaged_30 > 0 {
                    "engaged"
                } else if r5 >= 3 {
                    "potential"
                } else if r5 == 2 || c.engaged_60 > 0 {
                    "at-risk"
                } else {
                    "silent"
                };
                let predictions = if c.orders == 0 {
                    (0.0, 0.0, 0.0, 0.0)
                } else {
                    predictions(&model, &s, &c)
                };
                let facts = Facts {
                    c: &c,
                    model: &model,
                    scores: (r, f, m),
                    predictions,
                    segment: named,
                    tier,
                };
                let mut micro: Vec<String> = s
                    .rules
                    .iter()
                    .filter(|(_, e)| rules::holds(e, &facts))
                    .map(|(n, _)| n.clone())
                    .collect();
                if micro.is_empty() {
                    micro.push("everyone-else".into());
                }
                CustomerScore {
                    customer_id: c.customer_id.clone(),
                    recency: r,
                    frequency: f,
                    monetary: m,
                    segment: named.into(),
                    tier: tier.into(),
                    micro_segments: micro,
                    p_active: predictions.0,
                    expected_purchases: predictions.1,
                    expected_value: predictions.2,
                    clv: predictions.3,
                }
            })
            .collect())
    }
}

cove_sdk::export_rfm_scorer!(Rfm);

#[cfg(test)]
mod tests;
