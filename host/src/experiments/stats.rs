//! The numbers of a results page: each arm's conversion rate with a 95%
//! interval; against the control, the relative uplift, its chance to win
//! and the expected loss (risk) of choosing it, computed as GrowthBook's
//! engine `gbstats` does for a proportion (Bayesian, relative effect,
//! normal approximation, flat prior); each arm's chance to be the best of
//! all; and a sample-ratio-mismatch check (chi-square).

use serde::Serialize;

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The standard normal density.
pub fn pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// The standard normal distribution function (via `erfc`, with a
/// fractional error below 1.2e-7).
pub fn cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// One arm against the control, as `gbstats` reports it.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Versus {
    /// Relative uplift over the control (0.1 = +10%).
    pub uplift: f64,
    /// 95% interval of the uplift.
    pub uplift_ci: [f64; 2],
    /// Chance the arm beats the control.
    pub chance_to_win: f64,
    /// Expected relative loss of choosing the control, then the arm.
    pub risk: [f64; 2],
}

#[cfg(test)]
impl Versus {
    /// What `gbstats` answers when there is not enough data.
    const NONE: Versus = Versus {
        uplift: 0.0,
        uplift_ci: [0.0, 0.0],
        chance_to_win: 0.5,
        risk: [0.0, 0.0],
    };
}

/// Arm `b` (exposures, conversions) against control `a`: a proportion is
/// a mean metric whose variance is p(1 − p) (see [`super::means`]).
pub fn versus(a: (u64, u64), b: (u64, u64)) -> Versus {
    let stat = |(n, c): (u64, u64)| {
        let p = if n == 0 { 0.0 } else { c as f64 / n as f64 };
        super::means::Stat {
            n,
            mean: p,
            unadjusted: p,
            variance: p * (1.0 - p),
        }
    };
    let v = super::means::versus(&stat(a), &stat(b));
    Versus {
        uplift: v.uplift,
        uplift_ci: v.uplift_ci,
        chance_to_win: v.chance_to_win,
        risk: v.risk,
    }
}

/// A conversion rate and its 95% (Wilson) interval.
pub fn rate(exposures: u64, conversions: u64) -> (f64, [f64; 2]) {
    if exposures == 0 {
        return (0.0, [0.0, 0.0]);
    }
    let n = exposures as f64;
    let p = conversions as f64 / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    (p, [(centre - half).max(0.0), (centre + half).min(1.0)])
}

/// Each arm's chance to have the highest conversion rate: the Beta
/// posteriors (flat prior) approximated as normals and integrated
/// numerically; deterministic, so a page reads the same twice.
pub fn chance_to_be_best(arms: &[(u64, u64)]) -> Vec<f64> {
    let post: Vec<(f64, f64)> = arms
        .iter()
        .map(|&(n, c)| {
            let m = (c as f64 + 1.0) / (n as f64 + 2.0);
            (m, (m * (1.0 - m) / (n as f64 + 3.0)).sqrt())
        })
        .collect();
    let lo = post
        .iter()
        .map(|(m, s)| m - 8.0 * s)
        .fold(f64::INFINITY, f64::min);
    let hi = post
        .iter()
        .map(|(m, s)| m + 8.0 * s)
        .fold(f64::NEG_INFINITY, f64::max);
    let steps = 4000;
    let dx = (hi - lo) / steps as f64;
    let mut p = vec![0.0; arms.len()];
    for step in 0..=steps {
        let x = lo + dx * step as f64;
        let cdfs: Vec<f64> = post.iter().map(|(m, s)| cdf((x - m) / s)).collect();
        for (i, (m, s)) in post.iter().enumerate() {
            let others: f64 = cdfs
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, c)| c)
                .product();
            let w = if step == 0 || step == steps { 0.5 } else { 1.0 };
            p[i] += w * pdf((x - m) / s) / s * others * dx;
        }
    }
    let total: f64 = p.iter().sum();
    if total > 0.0 {
        p.iter_mut().for_each(|x| *x /= total);
    }
    p
}

/// The p-value of the chi-square test that `observed` units split as
/// `weights` say (as `gbstats`' `check_srm`); 1 with no units.
pub fn srm_p(observed: &[u64], weights: &[f64]) -> f64 {
    let total: u64 = observed.iter().sum();
    if total == 0 || observed.len() < 2 {
        return 1.0;
    }
    let wsum: f64 = weights.iter().sum();
    let x: f64 = observed
        .iter()
        .zip(weights)
        .filter(|(_, w)| **w > 0.0)
        .map(|(o, w)| {
            let e = w / wsum * total as f64;
            (*o as f64 - e).powi(2) / e
        })
        .sum();
    gamma_q((observed.len() - 1) as f64 / 2.0, x / 2.0)
}

/// ln Γ(x) (Lanczos, relative error below 2e-10).
pub fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 6] = [
        76.180_091_729_471_46,
        -86.505_320_329_416_77,
        24.014_098_240_830_91,
        -1.231_739_572_450_155,
        0.120_865_097_386_617_9e-2,
        -0.539_523_938_495_3e-5,
    ];
    let tmp = x + 5.5 - (x + 0.5) * (x + 5.5).ln();
    let mut ser = 1.000_000_000_190_015;
    for (j, c) in C.iter().enumerate() {
        ser += c / (x + 1.0 + j as f64);
    }
    -tmp + (2.506_628_274_631_000_5 * ser / x).ln()
}

/// The regularised upper incomplete gamma function Q(a, x).
fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let gln = ln_gamma(a);
    if x < a + 1.0 {
        // Series for P(a, x).
        let (mut ap, mut sum) = (a, 1.0 / a);
        let mut del = sum;
        for _ in 0..1000 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        1.0 - sum * (-x + a * x.ln() - gln).exp()
    } else {
        // Continued fraction for Q(a, x) (modified Lentz).
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-15 {
                break;
            }
        }
        (-x + a * x.ln() - gln).exp() * h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_and_chi_square_tails() {
        assert!((cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-7);
        assert!((cdf(0.0) - 0.5).abs() < 2e-7);
        // chi-square sf: 3.841 with 1 df is p = 0.05; 7.815 with 3 df too.
        assert!((gamma_q(0.5, 3.841_458_820_694_124 / 2.0) - 0.05).abs() < 1e-6);
        assert!((gamma_q(1.5, 7.814_727_903_251_178 / 2.0) - 0.05).abs() < 1e-6);
        assert!((srm_p(&[5000, 5000], &[0.5, 0.5]) - 1.0).abs() < 1e-9);
        assert!(srm_p(&[5300, 4700], &[0.5, 0.5]) < 0.001);
    }

    #[test]
    fn best_arm_chances_add_up_and_order() {
        let p = chance_to_be_best(&[(1000, 100), (1000, 100), (1000, 150)]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!((p[0] - p[1]).abs() < 1e-6 && p[2] > 0.99, "{p:?}");
    }

    #[test]
    fn no_data_is_a_coin_flip() {
        assert_eq!(versus((0, 0), (10, 1)), Versus::NONE);
        let v = versus((1000, 100), (1000, 120));
        assert!(v.uplift > 0.19 && v.uplift < 0.21 && v.chance_to_win > 0.9);
        let (p, ci) = rate(100, 10);
        assert!(p == 0.1 && ci[0] < 0.1 && ci[1] > 0.1);
    }
}
