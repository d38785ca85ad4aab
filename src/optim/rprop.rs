//! Resilient backpropagation (Rprop), as `torch.optim.Rprop` (PyTorch 2.x) defines it.
//!
//! Riedmiller & Braun, "A direct adaptive method for faster backpropagation learning: the
//! RPROP algorithm" (ICNN 1993). Each weight has its own step size; only the *sign* of the
//! gradient is used. A step size grows while the gradient keeps its sign and shrinks when
//! the sign flips (the last step overshot). Because magnitudes are thrown away, Rprop is a
//! full-batch method: on mini-batches, a weight whose gradients are small and positive on
//! most batches but large and negative on one moves steadily, even when the gradients sum
//! to zero (see the thought-experiment test in `tests/optim.rs`).
//!
//! # Update rule
//!
//! With step-size factors η⁻ < 1 < η⁺ and bounds [Δ_min, Δ_max], every weight θ keeps a
//! step size Δ (starting at `lr`) and the previous gradient g_prev (starting at 0). At each
//! step, with gradient g:
//!
//! 1. if `maximize`: g ← −g
//! 2. s ← sign(g · g_prev)                     (the product is taken in f32, as PyTorch does)
//! 3. factor ← η⁺ if s > 0, η⁻ if s < 0, 1 if s = 0
//! 4. Δ ← clamp(Δ · factor, Δ_min, Δ_max)      (also clamps the very first Δ = lr)
//! 5. if s < 0: g ← 0                          (after a sign flip: no move this step, and
//!    the next step sees g_prev = 0, so its step size is left alone)
//! 6. θ ← θ − sign(g) · Δ
//! 7. g_prev ← g
//!
//! # Defaults
//!
//! `lr` 0.01, `etas` (0.5, 1.2), `step_sizes` (1e-6, 50), `maximize` false.
//!
//! # Differences from PyTorch
//!
//! None in the arithmetic. As in PyTorch, `lr` only seeds the step sizes: changing it with
//! [`set_lr`](Optimizer::set_lr) mid-run has no effect until [`reset`](Optimizer::reset).
//! Validation is a little stricter: values must be finite, and `step_sizes` must satisfy
//! 0 ≤ Δ_min ≤ Δ_max (PyTorch does not check them).

use super::{check_lengths, check_lr, Num, Optimizer, Options};
use crate::{ensure, Result};
use serde::Serialize;
use serde_json::Value;

/// Hyperparameters of [`Rprop`], named and defaulted as in `torch.optim.Rprop`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RpropConfig {
    /// Initial step size of every weight. Default 0.01.
    pub lr: f64,
    /// (η⁻, η⁺): the step-size factors after a sign flip and after a repeated sign.
    /// Default (0.5, 1.2).
    pub etas: (f64, f64),
    /// (Δ_min, Δ_max): the bounds on every step size. Default (1e-6, 50).
    pub step_sizes: (f64, f64),
    /// Climb the objective instead of descending. Default false.
    pub maximize: bool,
}

impl Default for RpropConfig {
    fn default() -> Self {
        RpropConfig { lr: 0.01, etas: (0.5, 1.2), step_sizes: (1e-6, 50.0), maximize: false }
    }
}

impl RpropConfig {
    /// The option names [`RpropConfig::from_json`] understands, in PyTorch's order.
    pub const OPTIONS: &'static [&'static str] = &["lr", "etas", "step_sizes", "maximize"];

    /// Read PyTorch-named options (`{"etas": [0.5, 1.2], "step_sizes": [1e-6, 50]}`);
    /// absent keys keep their defaults, unknown keys are errors.
    pub fn from_json(options: &Value) -> Result<RpropConfig> {
        let o = Options::new("rprop", options, Self::OPTIONS)?;
        let d = RpropConfig::default();
        Ok(RpropConfig {
            lr: o.f64("lr", d.lr)?,
            etas: o.pair("etas", d.etas)?,
            step_sizes: o.pair("step_sizes", d.step_sizes)?,
            maximize: o.bool("maximize", d.maximize)?,
        })
    }

    /// Check every value, with PyTorch's messages where PyTorch has one.
    pub fn validate(&self) -> Result<()> {
        check_lr(self.lr)?;
        let (minus, plus) = self.etas;
        ensure!(
            minus.is_finite() && plus.is_finite() && 0.0 < minus && minus < 1.0 && 1.0 < plus,
            "Invalid eta values: {}, {} (need 0 < eta_minus < 1 < eta_plus)",
            Num(minus),
            Num(plus)
        );
        let (lo, hi) = self.step_sizes;
        ensure!(
            lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi,
            "Invalid step_sizes: {}, {} (need 0 <= step_size_min <= step_size_max)",
            Num(lo),
            Num(hi)
        );
        Ok(())
    }
}

/// Rprop, with a step size and the previous gradient per weight.
#[derive(Clone, Debug)]
pub struct Rprop {
    cfg: RpropConfig,
    step: u64,
    /// Δ, one per weight; empty before the first step.
    step_size: Vec<f32>,
    /// g_prev, one per weight (0 where the last step saw a sign flip); empty before the
    /// first step.
    prev: Vec<f32>,
}

impl Rprop {
    /// An Rprop optimizer; errors name the first invalid value.
    pub fn new(cfg: RpropConfig) -> Result<Rprop> {
        cfg.validate()?;
        Ok(Rprop { cfg, step: 0, step_size: Vec::new(), prev: Vec::new() })
    }

    /// The hyperparameters in use.
    pub fn config(&self) -> &RpropConfig {
        &self.cfg
    }
}

/// PyTorch's `sign`: 0 for ±0 (Rust's `signum` gives ±1 there), NaN for NaN.
pub(crate) fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x * 0.0 // 0 stays 0, NaN stays NaN
    }
}

impl Optimizer for Rprop {
    fn name(&self) -> &'static str {
        "rprop"
    }

    fn step(&mut self, params: &mut [f32], grads: &[f32]) -> Result<()> {
        let len = (!self.step_size.is_empty()).then_some(self.step_size.len());
        check_lengths(len, params, grads)?;
        if self.step_size.is_empty() {
            self.step_size = vec![self.cfg.lr as f32; params.len()];
            self.prev = vec![0.0; params.len()];
        }
        self.step += 1;

        let (eta_minus, eta_plus) = (self.cfg.etas.0 as f32, self.cfg.etas.1 as f32);
        let (lo, hi) = (self.cfg.step_sizes.0 as f32, self.cfg.step_sizes.1 as f32);
        let maximize = self.cfg.maximize;
        let state = self.step_size.iter_mut().zip(self.prev.iter_mut());
        for ((theta, &grad), (delta, prev)) in params.iter_mut().zip(grads).zip(state) {
            let mut g = if maximize { -grad } else { grad };
            let s = sign(g * *prev);
            let factor = if s > 0.0 {
                eta_plus
            } else if s < 0.0 {
                eta_minus
            } else if s == 0.0 {
                1.0
            } else {
                s // NaN gradient: PyTorch lets the NaN into the step size
            };
            let d = *delta * factor;
            // Δ ← clamp(Δ·factor, Δ_min, Δ_max); like torch.clamp, NaN stays NaN.
            *delta = if d.is_nan() { d } else { d.max(lo).min(hi) };
            if s < 0.0 {
                g = 0.0; // sign flip: skip this weight, and forget the gradient
            }
            *theta -= sign(g) * *delta; // θ ← θ − sign(g)·Δ
            *prev = g;
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.step = 0;
        self.step_size.clear();
        self.prev.clear();
    }

    fn lr(&self) -> f32 {
        self.cfg.lr as f32
    }

    fn set_lr(&mut self, lr: f32) -> Result<()> {
        check_lr(lr as f64)?;
        self.cfg.lr = lr as f64;
        Ok(())
    }

    fn state(&self) -> Vec<(&'static str, &[f32])> {
        super::in_use([("step_size", &self.step_size), ("prev", &self.prev)])
    }

    fn steps(&self) -> u64 {
        self.step
    }

    fn set_steps(&mut self, t: u64) {
        self.step = t;
    }

    fn set_state(&mut self, key: &str, values: &[f32]) -> Result<()> {
        let lr = self.cfg.lr as f32;
        let slots = vec![("step_size", &mut self.step_size, lr), ("prev", &mut self.prev, 0.0)];
        super::set_named("rprop", slots, key, values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_matches_torch_sign() {
        // (input, torch.sign(input), reason)
        let rows: &[(f32, f32, &str)] = &[
            (2.5, 1.0, "positive"),
            (-1e-30, -1.0, "tiny negative is still negative"),
            (0.0, 0.0, "zero has no sign"),
            (-0.0, 0.0, "negative zero has no sign either (signum would say -1)"),
        ];
        for &(x, want, reason) in rows {
            assert_eq!(sign(x), want, "{reason}");
        }
        assert!(sign(f32::NAN).is_nan(), "NaN propagates");
    }

    #[test]
    fn step_size_grows_then_shrinks_and_skips() {
        let mut opt = Rprop::new(RpropConfig { lr: 0.1, ..Default::default() }).unwrap();
        let mut p = [0.0];
        opt.step(&mut p, &[1.0]).unwrap(); // first step: Δ = lr
        assert_eq!(p, [-0.1]);
        opt.step(&mut p, &[3.0]).unwrap(); // same sign: Δ = 0.1·1.2
        assert_eq!(opt.state()[0].1, &[0.1f32 * 1.2]);
        let before = p;
        opt.step(&mut p, &[-1.0]).unwrap(); // flip: Δ halves, no move, prev = 0
        assert_eq!(p, before);
        assert_eq!(opt.state()[1].1, &[0.0]);
        assert_eq!(opt.state()[0].1, &[0.1f32 * 1.2 * 0.5]);
        assert_eq!(opt.step_count(), Some(3));
    }

    #[test]
    fn first_step_size_is_clamped() {
        let cfg = RpropConfig { lr: 100.0, ..Default::default() };
        let mut opt = Rprop::new(cfg).unwrap();
        let mut p = [0.0];
        opt.step(&mut p, &[-1.0]).unwrap();
        assert_eq!(p, [50.0], "Δ = clamp(lr, 1e-6, 50)");
    }
}
