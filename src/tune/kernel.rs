//! Covariance functions for the Gaussian process: how alike f(x) and f(x′) are expected to be.
//!
//! Both kernels here are stationary and anisotropic: they depend on the scaled distance
//! r² = Σ_d (x_d − x′_d)²/ℓ_d², with one length-scale ℓ_d per input dimension, times a signal
//! variance σ²:
//!
//! - RBF (squared exponential): k(x, x′) = σ² exp(−r²/2). Infinitely smooth sample functions.
//! - Matérn 5/2: k(x, x′) = σ² (1 + √5 r + 5r²/3) exp(−√5 r). Sample functions twice
//!   differentiable: smooth, but less so than RBF's. Snoek, Larochelle and Adams ("Practical
//!   Bayesian optimization of machine learning algorithms", NeurIPS 2012) recommend it for
//!   tuning because a validation error is rarely as smooth as RBF assumes.
//!
//! These are scikit-learn's `ConstantKernel(σ²) * RBF(ℓ)` and `ConstantKernel(σ²) * Matern(ℓ,
//! nu=2.5)`. A length-scale is how far one must move along that axis before the function
//! changes appreciably: a long ℓ_d means dimension d hardly matters (automatic relevance
//! determination, Rasmussen and Williams, "Gaussian Processes for Machine Learning", 2006, §5.1).
//!
//! # Gradients for fitting
//!
//! The hyperparameters are fitted in log space, so we need ∂k/∂log ℓ_d. With s_d =
//! (x_d − x′_d)²/ℓ_d², ∂r²/∂log ℓ_d = −2 s_d, and
//!
//! - RBF: ∂k/∂log ℓ_d = σ² exp(−r²/2) · s_d;
//! - Matérn 5/2: dk/dr = −(5/3) σ² r (1 + √5 r) exp(−√5 r) and ∂r/∂log ℓ_d = −s_d/r, so
//!   ∂k/∂log ℓ_d = (5/3) σ² (1 + √5 r) exp(−√5 r) · s_d, with no trouble at r = 0.
//!
//! And ∂k/∂log σ² = k.

use serde::{Deserialize, Serialize};

/// Which covariance function; `"rbf"` or `"matern52"` in JSON.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kernel {
    /// σ² exp(−r²/2), scikit-learn's default kernel shape.
    #[default]
    Rbf,
    /// σ² (1 + √5 r + 5r²/3) exp(−√5 r).
    Matern52,
}

const SQRT_5: f64 = 2.236_067_977_499_79;

impl Kernel {
    /// k/σ² as a function of the scaled squared distance r²: 1 at r = 0, falling to 0.
    pub fn correlation(self, r2: f64) -> f64 {
        match self {
            Kernel::Rbf => (-0.5 * r2).exp(),
            Kernel::Matern52 => {
                let sr = SQRT_5 * r2.sqrt();
                (1.0 + sr + sr * sr / 3.0) * (-sr).exp()
            }
        }
    }

    /// (∂k/∂log ℓ_d)/(σ² s_d) as a function of r²; see the module documentation.
    pub(crate) fn length_scale_factor(self, r2: f64) -> f64 {
        match self {
            Kernel::Rbf => (-0.5 * r2).exp(),
            Kernel::Matern52 => {
                let sr = SQRT_5 * r2.sqrt();
                5.0 / 3.0 * (1.0 + sr) * (-sr).exp()
            }
        }
    }

    /// k(a, b) = σ²·correlation(r²).
    pub fn value(self, variance: f64, length_scales: &[f64], a: &[f64], b: &[f64]) -> f64 {
        variance * self.correlation(scaled_sq_dist(length_scales, a, b))
    }
}

/// r² = Σ_d (a_d − b_d)²/ℓ_d².
pub fn scaled_sq_dist(length_scales: &[f64], a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).zip(length_scales).map(|((x, y), l)| ((x - y) / l).powi(2)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_scale_gradient_matches_finite_differences() {
        let (a, b) = ([0.2, 0.9], [0.5, 0.1]);
        for kernel in [Kernel::Rbf, Kernel::Matern52] {
            let ls = [0.7, 1.3];
            for d in 0..2 {
                let at = |log_l: f64| {
                    let mut l = ls;
                    l[d] = log_l.exp();
                    kernel.value(2.0, &l, &a, &b)
                };
                let h = 1e-6;
                let numeric = (at(ls[d].ln() + h) - at(ls[d].ln() - h)) / (2.0 * h);
                let s = ((a[d] - b[d]) / ls[d]).powi(2);
                let analytic = 2.0 * kernel.length_scale_factor(scaled_sq_dist(&ls, &a, &b)) * s;
                assert!((numeric - analytic).abs() < 1e-8, "{kernel:?} d={d}: {numeric} vs {analytic}");
            }
            assert_eq!(kernel.correlation(0.0), 1.0);
        }
    }
}
