//! Native tests.

use crate::predict::{BgNbd, GammaGamma, History, clv, hyp2f1, ln_gamma};

/// The CDNOW sample's summary as `lifetimes` ships it (calibration to
/// 1997-09-30, in weeks), fetched by `make deps-test` into
/// `target/oracles/` (the data is not ours to commit).
fn cdnow() -> Vec<History> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join("target/oracles/cdnow_customers_summary_with_transactions.csv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `make deps-test` (it fetches lifetimes' CDNOW data from PyPI)", path.display()));
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<f64> = l.split(',').map(|x| x.trim().parse().unwrap()).collect();
            History { x: f[1], t_x: f[2], t: f[3], m: f[4] }
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
    let m = BgNbd::fit(&data).expect("fit");
    for (got, want, name) in [(m.r, 0.243, "r"), (m.alpha, 4.414, "alpha"), (m.a, 0.793, "a"), (m.b, 2.426, "b")] {
        assert!((got / want - 1.0).abs() < 0.01, "{name} = {got}, published {want}");
    }
    // Customer 1 of the sample (x = 2, t_x = 30.43, T = 38.86): lifetimes
    // gives P(alive) 0.723 and 1.23 purchases expected in 39 weeks.
    let h = data[0];
    assert!((m.p_alive(&h) - 0.723).abs() < 0.01, "{}", m.p_alive(&h));
    assert!((m.expected(&h, 39.0) - 1.226).abs() < 0.02, "{}", m.expected(&h, 39.0));
    // Gamma-Gamma on the same customers' mean repeat values: lifetimes
    // gives p = 6.25, q = 3.74, v = 15.44.
    let gg = GammaGamma::fit(&data).expect("gamma-gamma");
    for (got, want, name) in [(gg.p, 6.25, "p"), (gg.q, 3.74, "q"), (gg.v, 15.44, "v")] {
        assert!((got / want - 1.0).abs() < 0.01, "{name} = {got}, lifetimes {want}");
    }
    let value = gg.expected_value(&h);
    assert!(value > 0.0 && clv(&m, value, &h, 12, 4.35, 0.01) > 0.0);
}
