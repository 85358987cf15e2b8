//! Bandit weights by Thompson sampling: each arm's conversion rate has a
//! Beta posterior (a uniform prior updated by its conversions and
//! non-conversions); an arm's next share of traffic is the probability,
//! estimated by drawing from the posteriors, that it is the best arm (or,
//! top-two, that it is the best or the runner-up, half each). Every arm
//! keeps a minimum share, and the weights stay equal during the burn-in.

use cove_sdk::allocator::{ArmStats, BanditSettings, Error};

/// A small, fast generator (SplitMix64), seeded once per call from the
/// host's replayable randomness.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Gamma(shape, 1) for shape ≥ 1 (Marsaglia and Tsang, 2000).
    fn gamma(&mut self, shape: f64) -> f64 {
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = self.uniform();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }

    /// Beta(a, b) for a, b ≥ 1; past 30 of each, its normal
    /// approximation (one draw instead of two gamma draws, so a reweight
    /// stays within the sandbox's fuel).
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        if a > 30.0 && b > 30.0 {
            let n = a + b;
            let mean = a / n;
            let sd = (a * b / (n * n * (n + 1.0))).sqrt();
            return (mean + sd * self.normal()).clamp(0.0, 1.0);
        }
        let x = self.gamma(a);
        x / (x + self.gamma(b))
    }
}

/// The arms' next weights, adding up to 1.
pub fn weights(
    arms: &[ArmStats],
    settings: &BanditSettings,
    draws: u32,
    rng: &mut Rng,
) -> Result<Vec<f64>, Error> {
    let k = arms.len();
    if k == 0 {
        return Err(Error::InvalidInput(
            "arms: a bandit needs at least one arm".into(),
        ));
    }
    if let Some(i) = arms.iter().position(|a| a.conversions > a.exposures) {
        return Err(Error::InvalidInput(format!(
            "arms[{i}]: {} conversions from {} exposures",
            arms[i].conversions, arms[i].exposures
        )));
    }
    if !(0.0..=1.0).contains(&settings.min_share) {
        return Err(Error::InvalidInput(
            "min-share: must be between 0 and 1".into(),
        ));
    }
    let equal = vec![1.0 / k as f64; k];
    let exposed: u64 = arms.iter().map(|a| a.exposures).sum();
    if k == 1 || exposed < settings.burn_in {
        return Ok(equal);
    }
    let mut wins = vec![0.0; k];
    let mut sample = vec![0.0; k];
    for _ in 0..draws.max(1) {
        for (s, a) in sample.iter_mut().zip(arms) {
            *s = rng.beta(
                1.0 + a.conversions as f64,
                1.0 + (a.exposures - a.conversions) as f64,
            );
        }
        let mut best = 0;
        let mut second = usize::MAX;
        for i in 1..k {
            if sample[i] > sample[best] {
                second = best;
                best = i;
            } else if second == usize::MAX || sample[i] > sample[second] {
                second = i;
            }
        }
        if settings.top_two {
            wins[best] += 0.5;
            wins[second] += 0.5;
        } else {
            wins[best] += 1.0;
        }
    }
    let total: f64 = wins.iter().sum();
    let mut w: Vec<f64> = wins.iter().map(|x| x / total).collect();
    floor(&mut w, settings.min_share.min(1.0 / k as f64));
    Ok(w)
}

/// Raise every weight to at least `min`, taking the difference from the
/// others in proportion to their weight above the floor.
fn floor(w: &mut [f64], min: f64) {
    let k = w.len() as f64;
    let free = 1.0 - min * k;
    let above: f64 = w.iter().map(|x| (x - min).max(0.0)).sum();
    for x in w.iter_mut() {
        *x = if above > 0.0 {
            min + free * (*x - min).max(0.0) / above
        } else {
            1.0 / k
        };
    }
}
