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

/// Customers a likelihood is computed over, at most: four (or three)
/// parameters are pinned down long before, and the optimiser's hundreds of
/// evaluations stay within a batch call's fuel.
pub const FIT_AT_MOST: usize = 20_000;

/// The optimisers search parameters between e^-12 and e^12: beyond, the
/// data says nothing more (no drop-out seen, every purchase the same
/// value), and the search would only wander.
const BOUND: f64 = 12.0;

/// At most `n` of `items`, evenly spread (the caller's sample is already
/// random).
pub fn spread<T: Copy>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n {
        return items.to_vec();
    }
    (0..n).map(|i| items[i * items.len() / n]).collect()
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
    for k in 0..2_000 {
        let k = k as f64;
        term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        sum += term;
        if term.abs() < 1e-15 * sum.abs() {
            break;
        }
    }
    sum
}

/// Minimise `f` from `start` by Nelder and Mead, restarting from the best
/// point (at most three times) until a restart no longer improves.
fn minimise(f: impl Fn(&[f64]) -> f64, start: Vec<f64>) -> Vec<f64> {
    let (mut p, mut best) = (start, f64::INFINITY);
    for _ in 0..3 {
        p = nelder_mead(&f, &p, 1_500);
        let v = f(&p);
        if best - v < 1e-10 {
            break;
        }
        best = v;
    }
    p
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
        if (values[n] - values[0]).abs() <= 1e-10 * (1.0 + values[0].abs()) {
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
    /// Identical histories are counted once with a weight, and the terms
    /// that depend only on the number of repeat purchases are computed once
    /// per number: a likelihood over 100,000 customers costs a few
    /// logarithms each.
    ///
    /// `penalizer` adds `penalizer × (r² + α'² + a² + b²)` to the mean
    /// negative log-likelihood, α' being α in time scaled so the longest
    /// age is 1, as `lifetimes`' `penalizer_coef` does.
    pub fn fit(histories: &[History], penalizer: f64) -> Option<BgNbd> {
        if histories.is_empty() {
            return None;
        }
        let histories = spread(histories, FIT_AT_MOST);
        let mut distinct: Vec<(u64, u64, u64)> = histories
            .iter()
            .map(|h| (h.x.to_bits(), h.t_x.to_bits(), h.t.to_bits()))
            .collect();
        distinct.sort_unstable();
        let mut groups: Vec<(f64, f64, f64, f64)> = Vec::new();
        for k in distinct {
            let (x, t_x, t) = (
                f64::from_bits(k.0),
                f64::from_bits(k.1),
                f64::from_bits(k.2),
            );
            match groups.last_mut() {
                Some(g) if (g.0, g.1, g.2) == (x, t_x, t) => g.3 += 1.0,
                _ => groups.push((x, t_x, t, 1.0)),
            }
        }
        let mut xs: Vec<f64> = groups.iter().map(|g| g.0).collect();
        xs.dedup();
        let x_index: Vec<usize> = groups
            .iter()
            .map(|g| xs.iter().position(|x| *x == g.0).unwrap_or(0))
            .collect();
        let total = histories.len() as f64;
        let scale = 1.0
            / histories
                .iter()
                .map(|h| h.t)
                .fold(f64::MIN_POSITIVE, f64::max);
        let of = |p: &[f64]| BgNbd {
            r: p[0].exp(),
            alpha: p[1].exp(),
            a: p[2].exp(),
            b: p[3].exp(),
        };
        let nll = |p: &[f64]| {
            if p.iter().any(|x| x.abs() > BOUND) {
                return f64::INFINITY;
            }
            let BgNbd { r, alpha, a, b } = of(p);
            let base = r * alpha.ln() + ln_gamma(a + b) - ln_gamma(r) - ln_gamma(b);
            let per_x: Vec<(f64, f64)> = xs
                .iter()
                .map(|&x| {
                    let c1 = base + ln_gamma(r + x) + ln_gamma(b + x) - ln_gamma(a + b + x);
                    let c4 = if x > 0.0 {
                        a.ln() - (b + x - 1.0).ln()
                    } else {
                        0.0
                    };
                    (c1, c4)
                })
                .collect();
            let mut ll = 0.0;
            for (g, &i) in groups.iter().zip(&x_index) {
                let (x, t_x, t, w) = *g;
                let (c1, c4) = per_x[i];
                let a3 = -(r + x) * (alpha + t).ln();
                let v = if x > 0.0 {
                    let a4 = c4 - (r + x) * (alpha + t_x).ln();
                    let m = a3.max(a4);
                    m + ((a3 - m).exp() + (a4 - m).exp()).ln()
                } else {
                    a3
                };
                ll += w * (c1 + v);
            }
            // lifetimes penalises α in time scaled to a longest age of 1.
            let scaled = [r, alpha * scale, a, b];
            -ll / total + penalizer * scaled.iter().map(|x| x * x).sum::<f64>()
        };
        let p = minimise(nll, vec![0.0; 4]);
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

    /// Fit on the customers with repeat purchases of positive value;
    /// `penalizer` as in [`BgNbd::fit`].
    pub fn fit(histories: &[History], penalizer: f64) -> Option<GammaGamma> {
        let repeat: Vec<History> = histories
            .iter()
            .filter(|h| h.x > 0.0 && h.m > 0.0)
            .copied()
            .collect();
        if repeat.len() < 2 {
            return None;
        }
        let repeat = spread(&repeat, FIT_AT_MOST);
        // Identical (purchases, mean value) pairs count once, weighted.
        let mut keys: Vec<(u64, u64)> = repeat
            .iter()
            .map(|h| (h.x.to_bits(), h.m.to_bits()))
            .collect();
        keys.sort_unstable();
        let mut groups: Vec<(History, f64)> = Vec::new();
        for (x, m) in keys {
            let h = History {
                x: f64::from_bits(x),
                t_x: 0.0,
                t: 0.0,
                m: f64::from_bits(m),
            };
            match groups.last_mut() {
                Some((g, w)) if (g.x, g.m) == (h.x, h.m) => *w += 1.0,
                _ => groups.push((h, 1.0)),
            }
        }
        let of = |p: &[f64]| GammaGamma {
            p: p[0].exp(),
            q: p[1].exp(),
            v: p[2].exp(),
        };
        let nll = |p: &[f64]| {
            if p.iter().any(|x| x.abs() > BOUND) {
                return f64::INFINITY;
            }
            let m = of(p);
            -groups.iter().map(|(h, w)| w * m.ll(h)).sum::<f64>() / repeat.len() as f64
                + penalizer * p.iter().map(|x| (2.0 * x).exp()).sum::<f64>()
        };
        let mean = repeat.iter().map(|h| h.m).sum::<f64>() / repeat.len() as f64;
        let p = minimise(
            nll,
            vec![0.0, 0.0, mean.max(1e-9).ln().clamp(-BOUND, BOUND)],
        );
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
