//! Mean metrics (revenue per visitor) and ratio metrics (average order
//! value) of an experiment, as GrowthBook's engine `gbstats` 0.8.0 computes
//! them: per arm, the sufficient statistics of each unit's value; against
//! the control, the relative uplift with a Bayesian credible interval,
//! chance to win and risk (flat prior), and a Welch t-test's confidence
//! interval and p-value. CUPED (regression adjustment) uses each unit's
//! value before its exposure as a covariate, with one `theta` fitted on
//! both arms together. Ratios use the delta method, without CUPED (as
//! `gbstats` 0.8.0). The arithmetic follows `gbstats`' order of operations
//! (`powf` as Python's `pow`), so an arm whose variance is zero in exact
//! arithmetic is treated alike.

use serde::Serialize;

use super::stats::{Z95, cdf, ln_gamma, pdf};

/// Count, sum and sum of squares of one arm's per-unit values.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    /// Units.
    pub n: u64,
    /// Sum of their values.
    pub sum: f64,
    /// Sum of their squares.
    pub sum_sq: f64,
}

impl Moments {
    fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum / self.n as f64
        }
    }

    /// The sample variance (0 with fewer than two units).
    fn variance(&self) -> f64 {
        if self.n <= 1 {
            return 0.0;
        }
        (self.sum_sq - self.sum.powf(2.0) / self.n as f64) / (self.n as f64 - 1.0)
    }
}

/// Two values per unit (after and before exposure, or revenue and
/// orders) and the sum of their products.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Paired {
    /// The first value (revenue after exposure).
    pub x: Moments,
    /// The second (revenue before exposure, or orders).
    pub y: Moments,
    /// Sum over units of x·y.
    pub xy: f64,
}

impl Paired {
    fn covariance(&self) -> f64 {
        if self.x.n <= 1 {
            return 0.0;
        }
        (self.xy - self.x.sum * self.y.sum / self.x.n as f64) / (self.x.n as f64 - 1.0)
    }

    fn plus(&self, o: &Paired) -> Paired {
        let n = self.x.n + o.x.n;
        let add = |a: &Moments, b: &Moments| Moments {
            n,
            sum: a.sum + b.sum,
            sum_sq: a.sum_sq + b.sum_sq,
        };
        Paired {
            x: add(&self.x, &o.x),
            y: add(&self.y, &o.y),
            xy: self.xy + o.xy,
        }
    }
}

/// What a test reads of one arm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    /// Units.
    pub n: u64,
    /// The (adjusted) mean.
    pub mean: f64,
    /// The mean without adjustment.
    pub unadjusted: f64,
    /// The per-unit variance.
    pub variance: f64,
}

/// A plain mean.
pub fn mean(m: &Moments) -> Stat {
    Stat {
        n: m.n,
        mean: m.mean(),
        unadjusted: m.mean(),
        variance: m.variance(),
    }
}

/// A ratio of sums (x over y per unit: revenue over orders), by the delta
/// method.
pub fn ratio(p: &Paired) -> Stat {
    let (mx, my) = (p.x.mean(), p.y.mean());
    let mean = if p.y.sum == 0.0 {
        0.0
    } else {
        p.x.sum / p.y.sum
    };
    let variance = if my == 0.0 || p.x.n <= 1 {
        0.0
    } else {
        p.x.variance() / my.powf(2.0) - 2.0 * p.covariance() * mx / my.powf(3.0)
            + mx.powf(2.0) * p.y.variance() / my.powf(4.0)
    };
    Stat {
        n: p.x.n,
        mean,
        unadjusted: mean,
        variance,
    }
}

/// CUPED's `theta` for two arms of (after, before) pairs, fitted on both
/// together; 0 when either value does not vary (no adjustment).
pub fn theta(a: &Paired, b: &Paired) -> f64 {
    let joint = a.plus(b);
    let (vx, vy) = (joint.x.variance(), joint.y.variance());
    if vx == 0.0 || vy == 0.0 {
        return 0.0;
    }
    joint.covariance() / vy
}

/// An arm's after-exposure mean adjusted by `theta` times its
/// before-exposure mean.
pub fn adjusted(p: &Paired, theta: f64) -> Stat {
    Stat {
        n: p.x.n,
        mean: p.x.mean() - theta * p.y.mean(),
        unadjusted: p.x.mean(),
        variance: p.x.variance() + theta * theta * p.y.variance() - 2.0 * theta * p.covariance(),
    }
}

/// One arm against the control on a mean or ratio metric.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, utoipa::ToSchema)]
pub struct MeanVersus {
    /// Relative uplift over the control (0.1 = +10%).
    pub uplift: f64,
    /// 95% credible interval of the uplift (Bayesian, flat prior).
    pub uplift_ci: [f64; 2],
    /// Chance the arm beats the control.
    pub chance_to_win: f64,
    /// Expected relative loss of choosing the control, then the arm.
    pub risk: [f64; 2],
    /// 95% confidence interval of the uplift (Welch's t-test).
    pub confidence_ci: [f64; 2],
    /// The t-test's two-sided p-value.
    pub p_value: f64,
}

impl MeanVersus {
    /// What `gbstats` answers without enough data (a zero control, no
    /// variance, an empty arm).
    pub const NONE: MeanVersus = MeanVersus {
        uplift: 0.0,
        uplift_ci: [0.0, 0.0],
        chance_to_win: 0.5,
        risk: [0.0, 0.0],
        confidence_ci: [0.0, 0.0],
        p_value: 1.0,
    };
}

/// The variance of the relative uplift (delta method, as `gbstats`).
fn uplift_variance(a: &Stat, b: &Stat) -> f64 {
    let (na, nb) = (a.n as f64, b.n as f64);
    b.variance / (a.unadjusted.powf(2.0) * nb)
        + a.variance * b.unadjusted.powf(2.0) / (a.unadjusted.powf(4.0) * na)
}

/// How much the adjustment narrowed the uplift's variance: 1 − adjusted
/// over unadjusted (0.3 = 30% narrower); `None` without data.
pub fn variance_reduction(a: &Paired, b: &Paired, theta: f64) -> Option<f64> {
    let plain = uplift_variance(&mean(&a.x), &mean(&b.x));
    let cuped = uplift_variance(&adjusted(a, theta), &adjusted(b, theta));
    (plain.is_finite() && cuped.is_finite() && plain > 0.0).then(|| 1.0 - cuped / plain)
}

/// Arm `b` against control `a`.
pub fn versus(a: &Stat, b: &Stat) -> MeanVersus {
    if a.mean == 0.0
        || a.unadjusted == 0.0
        || a.n == 0
        || b.n == 0
        || a.variance <= 0.0
        || b.variance <= 0.0
    {
        return MeanVersus::NONE;
    }
    let mean = (b.mean - a.mean) / a.unadjusted;
    let var = uplift_variance(a, b);
    let sd = var.sqrt();
    let p_control = cdf(-mean / sd);
    let density = pdf(-mean / sd);
    let (na, nb) = (a.n as f64, b.n as f64);
    // Welch–Satterthwaite degrees of freedom.
    let dof = (b.variance / nb + a.variance / na).powf(2.0)
        / (b.variance.powf(2.0) / (nb * nb * (nb - 1.0))
            + a.variance.powf(2.0) / (na * na * (na - 1.0)));
    let width = t_quantile(0.975, dof) * sd;
    MeanVersus {
        uplift: mean,
        uplift_ci: [mean - Z95 * sd, mean + Z95 * sd],
        chance_to_win: 1.0 - p_control,
        risk: [
            (1.0 - p_control) * mean + sd * density,
            sd * density - p_control * mean,
        ],
        confidence_ci: [mean - width, mean + width],
        p_value: 2.0 * t_upper(mean.abs() / sd, dof),
    }
}

/// P(T > t) for Student's t with `dof` degrees of freedom, t ≥ 0.
fn t_upper(t: f64, dof: f64) -> f64 {
    let (x, y) = (dof / (dof + t * t), t * t / (dof + t * t));
    0.5 * beta_regularized(dof / 2.0, 0.5, x, y)
}

/// The `p` quantile of Student's t (p > 0.5), by bisection.
fn t_quantile(p: f64, dof: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 2.0);
    while 1.0 - t_upper(hi, dof) < p && hi < 1e12 {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if 1.0 - t_upper(mid, dof) < p {
            lo = mid
        } else {
            hi = mid
        }
        if hi - lo <= 1e-13 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// The regularised incomplete beta function I_x(a, b); `y` is 1 − x,
/// passed in for precision when x is near 1.
fn beta_regularized(a: f64, b: f64, x: f64, y: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if y <= 0.0 {
        return 1.0;
    }
    let front = (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * (-y).ln_1p() + b * y.ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, y) / b
    }
}

/// The continued fraction of the incomplete beta function (modified
/// Lentz).
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    let tiny = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..100_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        for aa in [
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ] {
            d = 1.0 + aa * d;
            if d.abs() < tiny {
                d = tiny;
            }
            c = 1.0 + aa / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_matches_its_tables() {
        // t(0.975) for 1, 10 and 1000 degrees of freedom.
        for (dof, want) in [
            (1.0, 12.706_204_736),
            (10.0, 2.228_138_852),
            (1000.0, 1.962_339_081),
        ] {
            let got = t_quantile(0.975, dof);
            assert!((got - want).abs() < 1e-8, "dof {dof}: {got}");
        }
        assert!((t_upper(0.0, 7.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn cuped_narrows_a_correlated_metric() {
        // After = before + noise: theta near 1, variance mostly removed.
        let arm = |shift: f64| {
            let mut p = Paired::default();
            for i in 0..1000 {
                let before = (i % 37) as f64;
                let after = before + shift + ((i * 7) % 5) as f64;
                p.x.n += 1;
                p.y.n += 1;
                p.x.sum += after;
                p.x.sum_sq += after * after;
                p.y.sum += before;
                p.y.sum_sq += before * before;
                p.xy += after * before;
            }
            p
        };
        let (a, b) = (arm(0.0), arm(1.0));
        let th = theta(&a, &b);
        assert!((th - 1.0).abs() < 0.05, "{th}");
        assert!(variance_reduction(&a, &b, th).unwrap() > 0.9);
        let v = versus(&adjusted(&a, th), &adjusted(&b, th));
        assert!(v.chance_to_win > 0.999 && v.p_value < 1e-6, "{v:?}");
        assert_eq!(
            versus(&mean(&Moments::default()), &mean(&b.x)),
            MeanVersus::NONE
        );
    }
}
