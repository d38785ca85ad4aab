//! L1 and L2 penalties on weights (not biases, not batch-norm's γ/β).
//!
//!   L1:  λ₁ · Σ |w|        gradient λ₁ · sign(w)   (sign(0) = 0, as `torch.sign`)
//!   L2:  (λ₂/2) · Σ w²     gradient λ₂ · w
//!
//! The ½ in L2 makes its gradient exactly PyTorch's `weight_decay = λ₂` term for SGD. L1 pushes
//! small weights towards zero (sparse weights); L2 shrinks every weight in proportion to its
//! size (small, spread-out weights).
//!
//! # Two ways to follow L1 ([`L1Mode`])
//!
//! |w| has no slope at 0, so there are two common ways to minimise a loss with λ₁·Σ|w| in it:
//!
//! - **subgradient** (the default, and what `loss + λ₁·w.abs().sum()` does under autograd):
//!   add λ₁·sign(w) to the gradient and let the optimizer step as usual. A weight near zero is
//!   kicked by a fixed amount each step and overshoots to the other side, so it jitters around
//!   zero and almost never lands on it exactly.
//! - **proximal** (soft-thresholding, as in ISTA — Beck & Teboulle 2009 — and scikit-learn's
//!   Lasso solvers): the optimizer steps on the data term (and L2) alone, then every weight is
//!   moved η·λ₁ towards zero and clipped there if it would cross it:
//!
//!   ```text
//!   w ← sign(w) · max(|w| − η·λ₁, 0)
//!   ```
//!
//!   Weights whose size is below η·λ₁ become exactly 0 and stay there until the data term
//!   pulls them out by more than η·λ₁ in one step: true sparsity.
//!
//! η is the optimizer's learning rate `lr` for every optimizer. For plain SGD that is exactly
//! the proximal gradient step. Momentum, RMSprop, Adam and Rprop scale their steps per weight,
//! so there η = lr is a choice, not a derivation: the threshold is the same for every weight
//! and each step, which keeps λ₁ comparable across optimizers (for Rprop, whose `lr` is only
//! its first step size, the threshold is that first step size times λ₁). The value of the
//! penalty added to the loss is λ₁·Σ|w| in both modes, computed before the step.

use crate::{bail, ensure, Result};
use serde::{Deserialize, Serialize};

/// How L1 is followed: see the module documentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum L1Mode {
    /// λ₁·sign(w) added to the gradient (default).
    #[default]
    Subgradient,
    /// Soft-thresholding by lr·λ₁ after each optimizer step.
    Proximal,
}

impl L1Mode {
    /// "subgradient" or "proximal", with a message naming anything else.
    pub fn parse(s: &str) -> Result<L1Mode> {
        Ok(match s {
            "subgradient" => L1Mode::Subgradient,
            "proximal" => L1Mode::Proximal,
            other => bail!("unknown l1Mode '{other}': use \"subgradient\" or \"proximal\""),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            L1Mode::Subgradient => "subgradient",
            L1Mode::Proximal => "proximal",
        }
    }
}

/// Strengths of the two penalties; zero means off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Penalty {
    /// λ₁ (default 0).
    #[serde(default)]
    pub l1: f32,
    /// λ₂ (default 0).
    #[serde(default)]
    pub l2: f32,
    /// How L1 is followed (default subgradient).
    #[serde(default)]
    pub l1_mode: L1Mode,
}

impl Penalty {
    /// λ₁ and λ₂, L1 by subgradient.
    pub const fn new(l1: f32, l2: f32) -> Penalty {
        Penalty { l1, l2, l1_mode: L1Mode::Subgradient }
    }

    /// The same strengths, L1 by soft-thresholding after each step.
    pub const fn proximal(self) -> Penalty {
        Penalty { l1_mode: L1Mode::Proximal, ..self }
    }

    pub fn validate(&self) -> Result<()> {
        ensure!(self.l1 >= 0.0 && self.l1.is_finite(), "invalid L1 strength: {} (must be ≥ 0)", self.l1);
        ensure!(self.l2 >= 0.0 && self.l2.is_finite(), "invalid L2 strength: {} (must be ≥ 0)", self.l2);
        Ok(())
    }

    pub fn is_zero(&self) -> bool {
        self.l1 == 0.0 && self.l2 == 0.0
    }

    /// λ₁ as it enters the gradient: λ₁ by subgradient, 0 when L1 is proximal.
    pub fn l1_gradient(&self) -> f32 {
        match self.l1_mode {
            L1Mode::Subgradient => self.l1,
            L1Mode::Proximal => 0.0,
        }
    }

    /// The soft-threshold η·λ₁ to apply after a step with learning rate `eta`; `None` when L1
    /// is off or followed by subgradient. Rounded to f32 once, here, for the CPU and the GPU.
    pub fn prox_threshold(&self, eta: f32) -> Option<f32> {
        (self.l1_mode == L1Mode::Proximal && self.l1 > 0.0).then_some(eta * self.l1)
    }

    /// Add the penalty's gradient for `w` into `grad`; return the penalty's value (λ₁·Σ|w| is
    /// counted in both L1 modes; only its gradient is left out when L1 is proximal).
    pub fn apply(&self, w: &[f32], grad: &mut [f32]) -> f32 {
        if self.is_zero() {
            return 0.0;
        }
        let l1_grad = self.l1_gradient();
        let mut value = 0f64;
        for (g, &v) in grad.iter_mut().zip(w) {
            let sign = if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                0.0
            };
            *g += l1_grad * sign + self.l2 * v;
            value += self.l1 as f64 * v.abs() as f64 + 0.5 * self.l2 as f64 * (v as f64) * (v as f64);
        }
        value as f32
    }
}

/// The proximal step of L1: w ← sign(w) · max(|w| − t, 0), in place. Weights within t of zero
/// land on exactly +0; the others move t towards zero. (`penalty.wgsl`'s `prox` does the same
/// two f32 operations, so both paths give the same bits.)
pub fn soft_threshold(w: &mut [f32], t: f32) {
    for v in w {
        let shrunk = v.abs() - t;
        *v = if shrunk > 0.0 { shrunk.copysign(*v) } else { 0.0 };
    }
}
