//! Service-time distributions: lognormal, given by its median and the spread `sigma` of
//! its logarithm (so `p90 = median · e^(1.2816·sigma)`), sampled with the simulator's one
//! seeded RNG. The normal (Box–Muller) and exponential (inversion) draws are written here
//! rather than taken from `rand_distr`: a seed's run, and every figure published from one,
//! must not move when another crate changes its sampling algorithm.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::SimError;

/// A lognormal distribution of durations, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogNormal {
    /// The median, seconds.
    pub median_s: f64,
    /// Standard deviation of the natural logarithm (0: always the median).
    pub sigma: f64,
}

impl LogNormal {
    /// A distribution with this median (s) and log-spread.
    pub const fn new(median_s: f64, sigma: f64) -> LogNormal {
        LogNormal { median_s, sigma }
    }

    /// Checks the parameters; `name` is the setting named in the error.
    pub fn validate(&self, name: &'static str) -> Result<(), SimError> {
        if !(self.median_s.is_finite() && self.median_s >= 0.0) {
            return Err(SimError::setting(
                name,
                format!(
                    "median must be a non-negative number of seconds, not {}",
                    self.median_s
                ),
            ));
        }
        if !(self.sigma.is_finite() && self.sigma >= 0.0) {
            return Err(SimError::setting(
                name,
                format!("sigma must be a non-negative number, not {}", self.sigma),
            ));
        }
        Ok(())
    }

    /// The mean, seconds: `median · e^(sigma²/2)`.
    pub fn mean_s(&self) -> f64 {
        self.median_s * (self.sigma * self.sigma / 2.0).exp()
    }

    /// One draw, whole milliseconds (capped at 24 h).
    pub fn sample_ms(&self, rng: &mut impl Rng) -> i64 {
        let z = standard_normal(rng);
        let s = self.median_s * (self.sigma * z).exp();
        (s * 1000.0).round().clamp(0.0, 86_400_000.0) as i64
    }
}

/// One standard normal draw (Box–Muller, one of the pair).
pub fn standard_normal(rng: &mut impl Rng) -> f64 {
    // u1 in (0, 1], so the logarithm is finite.
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// One exponential draw with this mean.
pub fn exponential(rng: &mut impl Rng, mean: f64) -> f64 {
    let u: f64 = 1.0 - rng.gen::<f64>();
    -mean * u.ln()
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn lognormal_median_and_mean_match_their_formulas() {
        let seed = 7;
        println!("seed {seed}");
        let mut rng = StdRng::seed_from_u64(seed);
        let d = LogNormal::new(600.0, 0.5);
        let mut v: Vec<i64> = (0..40_000).map(|_| d.sample_ms(&mut rng)).collect();
        v.sort_unstable();
        let median = v[v.len() / 2] as f64 / 1000.0;
        let mean = v.iter().sum::<i64>() as f64 / v.len() as f64 / 1000.0;
        assert!((median - 600.0).abs() < 15.0, "median {median}");
        assert!(
            (mean - d.mean_s()).abs() < 15.0,
            "mean {mean} vs {}",
            d.mean_s()
        );
        let fixed = LogNormal::new(90.0, 0.0);
        assert_eq!(fixed.sample_ms(&mut rng), 90_000);
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(LogNormal::new(-1.0, 0.5).validate("x").is_err());
        assert!(LogNormal::new(1.0, f64::NAN).validate("x").is_err());
        assert!(LogNormal::new(1.0, 0.5).validate("x").is_ok());
    }
}
