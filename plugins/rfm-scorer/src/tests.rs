//! Native tests.

use crate::predict::{BgNbd, GammaGamma, History, clv, hyp2f1, ln_gamma};

/// The CDNOW sample's summary as `lifetimes` ships it (calibration to
/// 1997-09-30, in weeks), fetched by `make deps-test` into
/// `target/oracles/` (the data is not ours to commit).
fn cdnow() -> Vec<History> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join("target/oracles/cdnow_customers_summary_with_transactions.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `make deps-test` (it fetches lifetimes' CDNOW data from PyPI)",
            path.display()
        )
    });
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<f64> = l.split(',').map(|x| x.trim().parse().unwrap()).collect();
            History {
                x: f[1],
                t_x: f[2],
                t: f[3],
                m: f[4],
            }
        })
        .collect()
}

#[test]
fn special_functions() {
    assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
    assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
    // 2F1(1, 1; 2; z) = -ln(1 - z) / z.
    let z = 0.6;
    assert!((hyp2f1(1.0, 1.0, 2.0, z) + (1.0f64 - z).ln() / z).abs() < 1e-12);
}

#[test]
fn bgnbd_fits_cdnow_as_published() {
    let data = cdnow();
    assert_eq!(data.len(), 2357);
    let m = BgNbd::fit(&data, 0.0).expect("fit");
    for (got, want, name) in [
        (m.r, 0.243, "r"),
        (m.alpha, 4.414, "alpha"),
        (m.a, 0.793, "a"),
        (m.b, 2.426, "b"),
    ] {
        assert!(
            (got / want - 1.0).abs() < 0.01,
            "{name} = {got}, published {want}"
        );
    }
    // Customer 1 of the sample (x = 2, t_x = 30.43, T = 38.86): lifetimes
    // gives P(alive) 0.723 and 1.23 purchases expected in 39 weeks.
    let h = data[0];
    assert!((m.p_alive(&h) - 0.723).abs() < 0.01, "{}", m.p_alive(&h));
    assert!(
        (m.expected(&h, 39.0) - 1.226).abs() < 0.02,
        "{}",
        m.expected(&h, 39.0)
    );
    // Gamma-Gamma on the same customers' mean repeat values: lifetimes
    // gives p = 6.25, q = 3.74, v = 15.44.
    let gg = GammaGamma::fit(&data, 0.0).expect("gamma-gamma");
    for (got, want, name) in [(gg.p, 6.25, "p"), (gg.q, 3.74, "q"), (gg.v, 15.44, "v")] {
        assert!(
            (got / want - 1.0).abs() < 0.01,
            "{name} = {got}, lifetimes {want}"
        );
    }
    let value = gg.expected_value(&h);
    assert!(value > 0.0 && clv(&m, value, &h, 12, 4.35, 0.01) > 0.0);
}

use crate::rules::{self, Expr};
use crate::{Rfm, cuts};
use cove_sdk::rfm::{CustomerSummary, Error, RfmScorer};
use cove_sdk::{Config, Ctx};

fn summary(id: &str, orders: u32, days_since_order: f64, spent: f64) -> CustomerSummary {
    CustomerSummary {
        customer_id: id.into(),
        orders,
        repeat_purchases: orders.saturating_sub(1),
        recency: 200.0 - days_since_order,
        age: 200.0,
        days_since_order,
        spent,
        mean_repeat_value: if orders > 1 {
            spent / f64::from(orders)
        } else {
            0.0
        },
        engaged_30: 0,
        engaged_60: 0,
        days_since_cart: None,
        days_to_birthday: None,
        campaigns: 0,
        tags: vec![],
    }
}

#[test]
fn rules_parse_and_say_where_they_stop() {
    for rule in [
        "top(clv, 10) and days_since_order > 60",
        "days_since_cart <= 1 and days_since_cart < days_since_order",
        "days_to_birthday <= 7",
        "spent > 1000 and campaigns == 0",
        "has_tag(\"vip\") or (orders >= 5 and not p_alive < 0.5)",
        "segment == \"champions\" and top(spent, 5%)",
    ] {
        rules::parse(rule).unwrap_or_else(|e| panic!("{rule}: {e}"));
    }
    let refused = |rule: &str| rules::parse(rule).unwrap_err();
    assert_eq!(
        refused("spent > 1000 and"),
        "column 17: the rule ends where a value was expected"
    );
    assert!(refused("spnt > 10").starts_with("column 1: unknown name `spnt`"));
    assert!(refused("spent > 10 orders").starts_with("column 12: expected `and`, `or`"));
    assert!(refused("(spent > 10").starts_with("column 12: expected `)`"));
    assert!(refused("top(age, 10)").starts_with("column 5: top ranks by"));
    assert!(refused("spent $ 3").starts_with("column 7: `$`"));
    assert_eq!(
        rules::parse("not (orders == 1)").unwrap(),
        Expr::Not(Box::new(Expr::Op(
            Box::new(Expr::Name("orders".into())),
            "==",
            Box::new(Expr::Num(1.0))
        )))
    );
}

#[test]
fn a_rule_that_does_not_parse_is_refused_at_bind_time_with_its_key() {
    let config = Config::from_pairs([("segment.lapsed-vip", "top(clv, 10) and and")]);
    match Rfm::validate_config(&config) {
        Err(Error::InvalidConfig(why)) => assert!(
            why.starts_with("segment.lapsed-vip: column 18: expected a value before `and`"),
            "{why}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(Rfm::validate_config(&Config::from_pairs([("bins", "7")])).is_err());
    assert!(
        Rfm::validate_config(&Config::from_pairs([
            ("bins", "3"),
            ("segment.big", "spent > 1000")
        ]))
        .is_ok()
    );
}

#[test]
fn scores_segments_and_micro_segments() {
    let config = Config::from_pairs([
        (
            "segment.big-spenders-never-in-a-campaign",
            "spent > 1000 and campaigns == 0",
        ),
        ("segment.birthday-this-week", "days_to_birthday <= 7"),
        (
            "segment.cart-no-order",
            "days_since_cart <= 1 and days_since_cart < days_since_order",
        ),
        (
            "segment.top-clv-lapsed",
            "top(clv, 10) and days_since_order > 60",
        ),
    ]);
    let ctx = Ctx::for_test(0).with_config(config);
    // 100 customers: recency and value spread evenly.
    let base: Vec<CustomerSummary> = (0..100)
        .map(|i| {
            summary(
                &format!("c{i}"),
                1 + i % 7,
                f64::from(i) * 1.9,
                20.0 * f64::from(1 + i % 13) * f64::from(1 + i % 7),
            )
        })
        .collect();
    let model = Rfm::fit(base.clone(), 1.0, &ctx).unwrap();
    assert_eq!(model.recency_cuts.len(), 4);
    assert!(model.bgnbd.is_some() && model.clv_percentiles.len() == 101);
    let scores = Rfm::score(model.clone(), base.clone(), &ctx).unwrap();
    assert_eq!(scores.len(), 100);
    // Quantiles of the base: every score from 1 to 5 is used.
    for s in 1..=5 {
        assert!(scores.iter().any(|x| x.recency == s), "no recency {s}");
    }
    assert!(
        scores
            .iter()
            .all(|s| !s.micro_segments.is_empty() && (0.0..=1.0).contains(&s.p_active))
    );
    // The most recent, most valuable customer is a champion; the oldest cheap one is lost.
    let best = scores
        .iter()
        .find(|s| s.recency == 5 && s.frequency >= 4 && s.monetary >= 4)
        .expect("a champion");
    assert_eq!(best.segment, "champions");
    let mut special = summary("x", 1, 180.0, 1500.0);
    special.days_to_birthday = Some(3);
    special.days_since_cart = Some(0.5);
    let s = &Rfm::score(
        model.clone(),
        vec![special, summary("y", 1, 10.0, 10.0)],
        &ctx,
    )
    .unwrap();
    let mut got = s[0].micro_segments.clone();
    got.sort();
    // One order of 1,500 half a year ago: Gamma-Gamma expects a one-time
    // buyer's next purchase at the base's mean (their one order is no
    // repeat purchase, as in lifetimes), so the 10 of 1,500 and of 10 are
    // worth the same per purchase, and the big order alone does not make
    // a top lifetime value.
    assert_eq!(
        got,
        [
            "big-spenders-never-in-a-campaign",
            "birthday-this-week",
            "cart-no-order",
        ]
    );
    assert!((s[0].expected_value - s[1].expected_value).abs() < 1e-9);
    assert_eq!(s[0].segment, "at-risk");
    assert_eq!(s[1].micro_segments, ["everyone-else"]);
    // Three bins: scores 1..3, segments still named on the 1–5 scale.
    let three = Ctx::for_test(0).with_config(Config::from_pairs([("bins", "3")]));
    let m3 = Rfm::fit(base.clone(), 1.0, &three).unwrap();
    assert_eq!(m3.recency_cuts.len(), 2);
    assert!(
        Rfm::score(m3, base, &three)
            .unwrap()
            .iter()
            .all(|s| (1..=3).contains(&s.recency))
    );
}

#[test]
fn ties_and_tiny_bases() {
    // Most customers ordered once: they share the lowest bin, and every
    // repeat buyer is above them.
    let c = cuts(vec![1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0], 5);
    assert_eq!(c, vec![1.0, 1.0, 1.0, 1.0]);
    // An empty or one-customer base still scores.
    let ctx = Ctx::for_test(0);
    let model = Rfm::fit(vec![summary("a", 1, 5.0, 10.0)], 7.0, &ctx).unwrap();
    let s = Rfm::score(
        model,
        vec![summary("a", 1, 5.0, 10.0), summary("never", 0, 0.0, 0.0)],
        &ctx,
    )
    .unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(
        (s[1].recency, s[1].tier.as_str(), s[1].p_active),
        (1, "silent", 0.0)
    );
}

/// A penalised fit agrees with `lifetimes`' `penalizer_coef = 0.1` on the
/// CDNOW summary (lifetimes, from PyPI in `target/oracles`, is run as the
/// oracle), and pulls the parameters in.
#[test]
fn a_penalised_fit_agrees_with_lifetimes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::process::Command::new(root.join("target/oracles/bin/python"))
        .arg("-c")
        .arg(
            "import pandas as pd\n\
             from lifetimes import BetaGeoFitter, GammaGammaFitter\n\
             d = pd.read_csv('target/oracles/cdnow_customers_summary_with_transactions.csv')\n\
             bg = BetaGeoFitter(penalizer_coef=0.1).fit(d['x'], d['t_x'], d['T']).params_\n\
             r = d[d.x > 0]\n\
             gg = GammaGammaFitter(penalizer_coef=0.1).fit(r['x'], r['zbar']).params_\n\
             print(' '.join(repr(x) for x in [bg['r'], bg['alpha'], bg['a'], bg['b'], gg['p'], gg['q'], gg['v']]))",
        )
        .current_dir(&root)
        .output()
        .expect("run `make deps-test`: it installs lifetimes from PyPI");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|x| x.parse().expect("a number"))
        .collect();
    assert_eq!(want.len(), 7);
    let data = cdnow();
    let bg = BgNbd::fit(&data, 0.1).unwrap();
    let gg = GammaGamma::fit(&data, 0.1).unwrap();
    let got = [bg.r, bg.alpha, bg.a, bg.b, gg.p, gg.q, gg.v];
    for (g, w) in got.iter().zip(&want) {
        assert!(
            (g - w).abs() <= 0.001 * w.abs(),
            "Cove {got:?}, lifetimes {want:?}"
        );
    }
    let free = BgNbd::fit(&data, 0.0).unwrap();
    assert!(bg.b < free.b && bg.a < free.a, "{free:?} {bg:?}");
}
