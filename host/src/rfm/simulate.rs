//! Purchase histories drawn from known BG/NBD and Gamma-Gamma models: the
//! demo shop's customers (a pattern the models can learn, so its
//! predictions make sense) and the tests that check a fit recovers the
//! parameters it was drawn from.
//!
//! Each customer buys at a rate λ ~ Gamma(r, α) while active and, after
//! each repeat purchase, drops out with a probability p ~ Beta(a, b)
//! (Fader, Hardie & Lee 2005); each purchase is worth a draw of Gamma(p, ν) with
//! ν ~ Gamma(q, v).

use rand::{Rng, SeedableRng};

/// One drawn customer: their id and purchases (ms since epoch, value),
/// oldest first.
pub struct Drawn {
    /// `{prefix}{n}`.
    pub id: String,
    /// When and for how much.
    pub purchases: Vec<(i64, f64)>,
}

/// The models' parameters, rates per day.
#[derive(Clone, Copy, Debug)]
pub struct Truth {
    /// BG/NBD r, α (per day), a, b.
    pub bgnbd: (f64, f64, f64, f64),
    /// Gamma-Gamma p, q, v.
    pub gamma_gamma: (f64, f64, f64),
}

/// A draw of Gamma(shape, rate) (Marsaglia & Tsang 2000; shapes below 1
/// boosted).
fn gamma(rng: &mut impl Rng, shape: f64, rate: f64) -> f64 {
    if shape < 1.0 {
        let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
        return gamma(rng, shape + 1.0, rate) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        // A standard normal by Box and Muller.
        let (u1, u2): (f64, f64) = (rng.random::<f64>().max(f64::MIN_POSITIVE), rng.random());
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let v = (1.0 + c * z).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
        if u.ln() < 0.5 * z * z + d - d * v + d * v.ln() {
            return d * v / rate;
        }
    }
}

/// `n` customers whose first purchase falls evenly in the `span_days`
/// before `now`, drawn from `truth` with `seed`.
pub fn customers(
    n: usize,
    truth: Truth,
    span_days: f64,
    now: i64,
    seed: u64,
    prefix: &str,
) -> Vec<Drawn> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (r, alpha, a, b) = truth.bgnbd;
    let (p, q, v) = truth.gamma_gamma;
    let day = 86_400_000.0;
    (0..n)
        .map(|i| {
            let lambda = gamma(&mut rng, r, alpha);
            let (ga, gb) = (gamma(&mut rng, a, 1.0), gamma(&mut rng, b, 1.0));
            let drop = ga / (ga + gb);
            let nu = gamma(&mut rng, q, v);
            let age = span_days * (i as f64 + 0.5) / n as f64;
            let mut t = 0.0;
            let mut purchases = vec![(now - (age * day) as i64, gamma(&mut rng, p, nu))];
            // BG/NBD: a customer may drop out after each repeat purchase
            // (not after the first).
            loop {
                t += -rng.random::<f64>().max(f64::MIN_POSITIVE).ln() / lambda;
                if t >= age {
                    break;
                }
                purchases.push((now - ((age - t) * day) as i64, gamma(&mut rng, p, nu)));
                if rng.random::<f64>() < drop {
                    break;
                }
            }
            Drawn {
                id: format!("{prefix}{i:03}"),
                purchases,
            }
        })
        .collect()
}

/// The demo's drawn customers and their orders, as NDJSON lines.
pub fn demo_lines(now: i64) -> (String, String) {
    let truth = Truth {
        bgnbd: (0.6, 20.0, 0.8, 2.5),
        gamma_gamma: (6.0, 4.0, 15.0),
    };
    let countries = ["DE", "FR", "ES", "US", "GB", "CN", "JP", "NL"];
    let (mut people, mut orders) = (String::new(), String::new());
    for (i, c) in customers(300, truth, 730.0, now, 2026, "demo-g")
        .iter()
        .enumerate()
    {
        people += &format!(
            "{}\n",
            serde_json::json!({"id": c.id, "country": countries[i % countries.len()]})
        );
        for (k, (at, value)) in c.purchases.iter().enumerate() {
            orders += &format!(
                "{}\n",
                serde_json::json!({"id": format!("{}-{k}", c.id), "customer_id": c.id, "placed_at": at,
                    "currency": "EUR", "total": format!("{:.2}", value.max(1.0)), "platform": "own-site", "status": "delivered"})
            );
        }
    }
    (people, orders)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_have_the_models_means() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for (shape, rate) in [(0.25, 2.0), (3.0, 0.5)] {
            let n = 200_000;
            let mean = (0..n).map(|_| gamma(&mut rng, shape, rate)).sum::<f64>() / n as f64;
            assert!(
                (mean - shape / rate).abs() < 0.02 * shape / rate,
                "{shape} {rate}: {mean}"
            );
        }
        let truth = Truth {
            bgnbd: (0.25, 4.0, 0.8, 2.5),
            gamma_gamma: (6.0, 4.0, 15.0),
        };
        let drawn = customers(500, truth, 365.0, 1_000_000_000_000, 1, "c");
        assert_eq!(drawn.len(), 500);
        assert!(
            drawn
                .iter()
                .all(|d| d.purchases.windows(2).all(|w| w[0].0 <= w[1].0))
        );
        assert!(drawn.iter().any(|d| d.purchases.len() > 2));
    }
}
