//! Acquisition functions: how much a trial at x is worth, given the model's belief about the
//! objective there, a normal with mean μ and std σ. Bayesian optimization runs next the trial
//! that maximizes one. We *minimize* the objective (a validation error), y* is the best value
//! observed so far, and Φ, φ are the standard normal's distribution function and density.
//!
//! - Expected improvement (Močkus 1975; Jones, Schonlau and Welch 1998):
//!   EI = E[max(y* − ξ − f(x), 0)] = (y* − μ − ξ)·Φ(z) + σ·φ(z), z = (y* − μ − ξ)/σ;
//!   when σ = 0 the model is certain and EI = max(y* − μ − ξ, 0). The first term rewards a low
//!   mean (exploitation), the second a large σ (exploration).
//! - Probability of improvement (Kushner 1964): PI = P(f(x) < y* − ξ) = Φ(z); with σ = 0 it is
//!   1 if μ < y* − ξ and 0 otherwise. It ignores *how much* better a point might be, so it
//!   explores less.
//! - Lower confidence bound: LCB = μ − κσ, to be minimized: optimism in the face of
//!   uncertainty, κ setting how much. κ = 1.96 trusts the lower end of a 95 % interval.
//!
//! ξ (default 0.01, in the objective's units) asks for an improvement of at least ξ before a
//! point counts as better: larger ξ explores more. These are scikit-optimize's
//! `gaussian_ei`, `gaussian_pi` and `gaussian_lcb`. [`Acquisition::score`] turns each into a
//! number to *maximize* (−LCB for the bound), so a search treats them alike.

use super::normal;
use crate::optim::Num;
use crate::{ensure, Result};
use serde::{Deserialize, Serialize};

/// ξ's default: the improvement a point must promise to count.
pub const DEFAULT_XI: f64 = 0.01;
/// κ's default for the lower confidence bound.
pub const DEFAULT_KAPPA: f64 = 1.96;

/// EI at a point with posterior mean `mean` and std `std`, incumbent `best`.
pub fn expected_improvement(mean: f64, std: f64, best: f64, xi: f64) -> f64 {
    let improvement = best - mean - xi;
    if std <= 0.0 {
        return improvement.max(0.0);
    }
    let z = improvement / std;
    // Far in the lower tail the two terms cancel; EI is never below 0.
    (improvement * normal::cdf(z) + std * normal::pdf(z)).max(0.0)
}

/// PI at a point with posterior mean `mean` and std `std`, incumbent `best`.
pub fn probability_of_improvement(mean: f64, std: f64, best: f64, xi: f64) -> f64 {
    let improvement = best - mean - xi;
    if std <= 0.0 {
        return if improvement > 0.0 { 1.0 } else { 0.0 };
    }
    normal::cdf(improvement / std)
}

/// μ − κσ.
pub fn lower_confidence_bound(mean: f64, std: f64, kappa: f64) -> f64 {
    mean - kappa * std
}

/// Which acquisition function a search maximizes: `"ei"`, `"pi"` or `"lcb"` in JSON.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Acquisition {
    #[default]
    #[serde(rename = "ei")]
    ExpectedImprovement,
    #[serde(rename = "pi")]
    ProbabilityOfImprovement,
    #[serde(rename = "lcb")]
    LowerConfidenceBound,
}

impl Acquisition {
    /// The value to maximize: EI, PI, or −LCB.
    pub fn score(self, mean: f64, std: f64, best: f64, xi: f64, kappa: f64) -> f64 {
        match self {
            Acquisition::ExpectedImprovement => expected_improvement(mean, std, best, xi),
            Acquisition::ProbabilityOfImprovement => probability_of_improvement(mean, std, best, xi),
            Acquisition::LowerConfidenceBound => -lower_confidence_bound(mean, std, kappa),
        }
    }

    /// [`score`](Self::score) at many points, the input checked: equal lengths, finite
    /// numbers, std >= 0, κ >= 0.
    pub fn scores(self, mean: &[f64], std: &[f64], best: f64, xi: f64, kappa: f64) -> Result<Vec<f64>> {
        check(mean, std, best, xi, kappa)?;
        Ok(mean.iter().zip(std).map(|(&m, &s)| self.score(m, s, best, xi, kappa)).collect())
    }
}

/// The checks of [`Acquisition::scores`].
pub fn check(mean: &[f64], std: &[f64], best: f64, xi: f64, kappa: f64) -> Result<()> {
    ensure!(mean.len() == std.len(), "Invalid acquisition input: {} means but {} stds", mean.len(), std.len());
    ensure!(best.is_finite(), "Invalid best value: {} (need a finite number)", Num(best));
    ensure!(xi.is_finite(), "Invalid xi: {} (need a finite number)", Num(xi));
    ensure!(kappa.is_finite() && kappa >= 0.0, "Invalid kappa: {} (need a finite number >= 0)", Num(kappa));
    if let Some(i) = mean.iter().position(|m| !m.is_finite()) {
        crate::bail!("Invalid mean at index {i}: {} (need finite numbers)", Num(mean[i]));
    }
    if let Some(i) = std.iter().position(|s| !(s.is_finite() && *s >= 0.0)) {
        crate::bail!("Invalid std at index {i}: {} (need finite numbers >= 0)", Num(std[i]));
    }
    Ok(())
}
