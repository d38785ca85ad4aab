//! L1 and L2 penalties on weights (not biases, not batch-norm's γ/β).
//!
//!   L1:  λ₁ · Σ |w|        gradient λ₁ · sign(w)   (sign(0) = 0, as `torch.sign`)
//!   L2:  (λ₂/2) · Σ w²     gradient λ₂ · w
//!
//! The ½ in L2 makes its gradient exactly PyTorch's `weight_decay = λ₂` term for SGD. L1 pushes
//! small weights all the way to zero (sparse weights); L2 shrinks every weight in proportion
//! to its size (small, spread-out weights).

use crate::{ensure, Result};
use serde::{Deserialize, Serialize};

/// Strengths of the two penalties; zero means off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Penalty {
    /// λ₁ (default 0).
    #[serde(default)]
    pub l1: f32,
    /// λ₂ (default 0).
    #[serde(default)]
    pub l2: f32,
}

impl Penalty {
    pub fn validate(&self) -> Result<()> {
        ensure!(self.l1 >= 0.0 && self.l1.is_finite(), "invalid L1 strength: {} (must be ≥ 0)", self.l1);
        ensure!(self.l2 >= 0.0 && self.l2.is_finite(), "invalid L2 strength: {} (must be ≥ 0)", self.l2);
        Ok(())
    }

    pub fn is_zero(&self) -> bool {
        self.l1 == 0.0 && self.l2 == 0.0
    }

    /// Add the penalty's gradient for `w` into `grad`; return the penalty's value.
    pub fn apply(&self, w: &[f32], grad: &mut [f32]) -> f32 {
        if self.is_zero() {
            return 0.0;
        }
        let mut value = 0f64;
        for (g, &v) in grad.iter_mut().zip(w) {
            let sign = if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                0.0
            };
            *g += self.l1 * sign + self.l2 * v;
            value += self.l1 as f64 * v.abs() as f64 + 0.5 * self.l2 as f64 * (v as f64) * (v as f64);
        }
        value as f32
    }
}
