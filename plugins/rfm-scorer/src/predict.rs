//! The predictions: BG/NBD (Fader, Hardie & Lee 2005, "Counting Your
//! Customers the Easy Way") for whether a customer is still active and how
//! many purchases to expect, and Gamma-Gamma (Fader, Hardie & Lee 2005,
//! "RFM and CLV") for the value of those purchases, both fitted by maximum
//! likelihood; with a discount rate, a customer lifetime value.

/// One customer's purchase summary, in the run's time unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct History {
    /// Repeat purchases (purchase days after the first).
    pub x: f64,
    /// Age at the last purchase.
    pub t_x: f64,
    /// Age now (since the first purchase).
    pub t: f64,
    /// Mean value of the repeat purchases (0 without any).
    pub m: f64,
}

/// BG/NBD parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbd {
    /// Shape of the purchase-rate gamma.
    pub r: f64,
    /// Scale of the purchase-rate gamma.
    pub alpha: f64,
    /// Beta shape of the drop-out probability.
    pub a: f64,
    /// Beta shape of the drop-out probability.
    pub b: f64,
}

/// Gamma-Gamma parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGamma {
    /// Shape of a purchase's value.
    pub p: f64,
    /// Shape of the scale's gamma.
    pub q: f64,
    /// Scale of the scale's gamma.
    pub v: f64,
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms: about 15 digits).
pub fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut s = G[0];
    for (i, g) in G.iter().enumerate().skip(1) {
        s += g / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + s.ln()
}

/// Gauss's hypergeometric function ₂F₁(a, b; c; z) for |z| < 1, by its series.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let (mut term, mut sum) = (1.0, 1.0);
    for k in 0..10_000 {
        let k = k as f64;
        term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        sum += term;
        if term.abs() < 1e-15 * sum.abs() {
            break;
        }
    }
    sum
}

/// Minimise `f` from `start` by Nelder and Mead's simplex method.
pub fn nelder_mead(f: impl Fn(&[f64]) -> f64, start: &[f64], steps: usize) -> Vec<f64> {
    let n = start.len();
    let mut simplex: Vec<Vec<f64>> = vec![start.to_vec()];
    for i in 0..n {
        let mut p = start.to_vec();
        p[i] += if p[i] == 0.0 {
            0.25
        } else {
            0.25 * p[i].abs().max(0.1)
        };
        simplex.push(p);
    }
    let mut values: Vec<f64> = simplex.iter().map(|p| f(p)).collect();
    for _ in 0..steps {
        let mut order: Vec<usize> = (0..=n).collect();
        order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
        simplex = order.iter().map(|&i| simplex[i].clone()).collect();
        values = order.iter().map(|&i| values[i]).collect();
        if (values[n] - values[0]).abs() <= 1e-12 * (1.0 + values[0].abs()) {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|d| simplex[..n].iter().map(|p| p[d]).sum::<f64>() / n as f64)
            .collect();
        let towards = |k: f64| -> Vec<f64> {
            (0..n)
                .map(|d| centroid[d] + k * (simplex[n][d] - centroid[d]))
                .collect()
        };
        let reflected = towards(-1.0);
        let fr = f(&reflected);
        if fr < values[0] {
            let expanded = towards(-2.0);
            let fe = f(&expanded);
            if fe < fr {
                simplex[n] = expanded;
                values[n] = fe;
            } else {
                simplex[n] = reflected;
                values[n] = fr;
            }
        } else if fr < values[n - 1] {
            simplex[n] = reflected;
            values[n] = fr;
        } else {
            let contracted = if fr < values[n] {
                towards(-0.5)
            } else {
                towards(0.5)
            };
            let fc = f(&contracted);
            if fc < values[n].min(fr) {
                simplex[n] = contracted;
                values[n] = fc;
            } else {
                // Shrink towards the best point.
                let best = simplex[0].clone();
                for (point, value) in simplex.iter_mut().zip(values.iter_mut()).skip(1) {
                    for (x, b) in point.iter_mut().zip(&best) {
                        *x = b + 0.5 * (*x - b);
                    }
                    *value = f(point);
                }
            }
        }
    }
    let best = (0..=n)
        .min_by(|&i, &j| values[i].total_cmp(&values[j]))
        .unwrap_or(0);
    simplex[best].clone()
}

impl BgNbd {
    /// The log-likelihood of one customer's history.
    pub fn ll(&self, h: &History) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let x = h.x;
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_gamma(a + b) + ln_gamma(b + x) - ln_gamma(b) - ln_gamma(a + b + x);
        let a3 = -(r + x) * (alpha + h.t).ln();
        if x > 0.0 {
            let a4 = a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + h.t_x).ln();
            let m = a3.max(a4);
            a1 + a2 + m + ((a3 - m).exp() + (a4 - m).exp()).ln()
        } else {
            a1 + a2 + a3
        }
    }

    /// Fit by maximum likelihood (over the logarithms of the parameters).
    pub fn fit(histories: &[History]) -> Option<BgNbd> {
        if histories.is_empty() {
            return None;
        }
        let of = |p: &[f64]| BgNbd {
            r: p[0].exp(),
            alpha: p[1].exp(),
            a: p[2].exp(),
            b: p[3].exp(),
        };
        let nll = |p: &[f64]| {
            if p.iter().any(|x| x.abs() > 20.0) {
                return f64::INFINITY;
            }
            let m = of(p);
            -histories.iter().map(|h| m.ll(h)).sum::<f64>() / histories.len() as f64
        };
        let mut p = vec![0.0; 4];
        // Restarts polish what a simplex can stall on.
        for _ in 0..4 {
            p = nelder_mead(nll, &p, 4_000);
        }
        let m = of(&p);
        nll(&p).is_finite().then_some(m)
    }

    /// The probability the customer is still active.
    pub fn p_alive(&self, h: &History) -> f64 {
        if h.x == 0.0 {
            return 1.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        let odds = a / (b + h.x - 1.0) * ((alpha + h.t) / (alpha + h.t_x)).powf(r + h.x);
        1.0 / (1.0 + odds)
    }

    /// Purchases expected in the next `t` units.
    pub fn expected(&self, h: &History, t: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let x = h.x;
        let z = t / (alpha + h.t + t);
        let head = (a + b + x - 1.0) / (a - 1.0);
        let tail = 1.0
            - ((alpha + h.t) / (alpha + h.t + t)).powf(r + x)
                * hyp2f1(r + x, b + x, a + b + x - 1.0, z);
        let alive = if x > 0.0 {
            1.0 + a / (b + x - 1.0) * ((alpha + h.t) / (alpha + h.t_x)).powf(r + x)
        } else {
            1.0
        };
        (head * tail / alive).max(0.0)
    }
}

impl GammaGamma {
    fn ll(&self, h: &History) -> f64 {
        let GammaGamma { p, q, v } = *self;
        let (x, m) = (h.x, h.m);
        ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q)
            + q * v.ln()
            + (p * x - 1.0) * m.ln()
            + (p * x) * x.ln()
            - (p * x + q) * (x * m + v).ln()
    }

    /// Fit on the customers with repeat purchases of positive value.
    pub fn fit(histories: &[History]) -> Option<GammaGamma> {
        let repeat: Vec<&History> = histories
            .iter()
            .filter(|h| h.x > 0.0 && h.m > 0.0)
            .collect();
        if repeat.len() < 2 {
            return None;
        }
        let of = |p: &[f64]| GammaGamma {
            p: p[0].exp(),
            q: p[1].exp(),
            v: p[2].exp(),
        };
        let nll = |p: &[f64]| {
            if p.iter().any(|x| x.abs() > 25.0) {
                return f64::INFINITY;
            }
            let m = of(p);
            -repeat.iter().map(|h| m.ll(h)).sum::<f64>() / repeat.len() as f64
        };
        let mean = repeat.iter().map(|h| h.m).sum::<f64>() / repeat.len() as f64;
        let mut p = vec![0.0, 0.0, mean.max(1e-9).ln()];
        for _ in 0..4 {
            p = nelder_mead(nll, &p, 4_000);
        }
        nll(&p).is_finite().then_some(of(&p))
    }

    /// The expected value of the customer's future purchases.
    pub fn expected_value(&self, h: &History) -> f64 {
        let GammaGamma { p, q, v } = *self;
        if q <= 1.0 {
            return h.m;
        }
        p * (v + h.x * h.m) / (p * h.x + q - 1.0)
    }
}

/// Lifetime value over `periods` of `period` units each (months of 4.35
/// weeks, say), each period's expected purchases times the expected value,
/// discounted by `discount` per period.
pub fn clv(bg: &BgNbd, value: f64, h: &History, periods: u32, period: f64, discount: f64) -> f64 {
    let mut total = 0.0;
    let mut before = 0.0;
    for i in 1..=periods {
        let upto = bg.expected(h, period * f64::from(i));
        total += (upto - before) * value / (1.0 + discount).powi(i as i32);
        before = upto;
    }
    total
}
