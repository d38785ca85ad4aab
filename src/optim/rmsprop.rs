//! RMSprop, as `torch.optim.RMSprop` (PyTorch 2.x) defines it.
//!
//! Hinton, Srivastava & Swersky, "Neural Networks for Machine Learning", lecture 6e
//! (Coursera, 2012), never published as a paper; the centred variant is from Graves,
//! "Generating sequences with recurrent neural networks" (2013). Each weight's step is
//! divided by a running root-mean-square of its gradients, so weights with large, noisy
//! gradients take smaller steps.
//!
//! # Update rule
//!
//! With learning rate γ, smoothing α, ε, weight decay λ and momentum μ, every weight θ keeps
//! a mean square v (starting at 0), and when used a mean gradient ḡ and a buffer b (both
//! starting at 0). At each step, with gradient g:
//!
//! 1. if `maximize`: g ← −g
//! 2. if λ ≠ 0: g ← g + λ·θ
//! 3. v ← α·v + (1 − α)·g²
//! 4. if `centered`: ḡ ← lerp(ḡ, g, 1 − α);  a ← √(v − ḡ²) + ε
//!    else: a ← √v + ε                         (ε is added *outside* the square root)
//! 5. if μ > 0: b ← μ·b + g / a;  θ ← θ − γ·b
//!    else: θ ← θ − γ·g / a
//!
//! # Defaults
//!
//! `lr` 0.01, `alpha` 0.99, `eps` 1e-8, `weight_decay` 0, `momentum` 0, `centered` false,
//! `maximize` false.
//!
//! # Differences from PyTorch
//!
//! None in the arithmetic. Validation is a little stricter: values must be finite and
//! `alpha` must lie in [0, 1] (PyTorch accepts any alpha >= 0, and alpha > 1 drives the
//! mean square negative).

use super::{check_lengths, check_lr, check_non_negative, check_unit, lerp, Optimizer, Options};
use crate::Result;
use serde::Serialize;
use serde_json::Value;

/// Hyperparameters of [`RmsProp`], named and defaulted as in `torch.optim.RMSprop`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RmsPropConfig {
    /// Learning rate γ. Default 0.01.
    pub lr: f64,
    /// Smoothing constant α of the running averages. Default 0.99.
    pub alpha: f64,
    /// ε added to the root-mean-square (outside the square root). Default 1e-8.
    pub eps: f64,
    /// L2 penalty λ added to the gradient as λ·θ. Default 0.
    pub weight_decay: f64,
    /// Momentum factor μ; 0 turns the buffer off. Default 0.
    pub momentum: f64,
    /// Divide by an estimate of the gradient's standard deviation instead of its RMS.
    /// Default false.
    pub centered: bool,
    /// Climb the objective instead of descending. Default false.
    pub maximize: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig { lr: 0.01, alpha: 0.99, eps: 1e-8, weight_decay: 0.0, momentum: 0.0, centered: false, maximize: false }
    }
}

impl RmsPropConfig {
    /// The option names [`RmsPropConfig::from_json`] understands, in PyTorch's order.
    pub const OPTIONS: &'static [&'static str] = &["lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"];

    /// Read PyTorch-named options (`{"lr": 0.01, "centered": true}`); absent keys keep
    /// their defaults, unknown keys are errors.
    pub fn from_json(options: &Value) -> Result<RmsPropConfig> {
        let o = Options::new("rmsprop", options, Self::OPTIONS)?;
        let d = RmsPropConfig::default();
        Ok(RmsPropConfig {
            lr: o.f64("lr", d.lr)?,
            alpha: o.f64("alpha", d.alpha)?,
            eps: o.f64("eps", d.eps)?,
            weight_decay: o.f64("weight_decay", d.weight_decay)?,
            momentum: o.f64("momentum", d.momentum)?,
            centered: o.bool("centered", d.centered)?,
            maximize: o.bool("maximize", d.maximize)?,
        })
    }

    /// Check every value, with PyTorch's messages where PyTorch has one.
    pub fn validate(&self) -> Result<()> {
        check_lr(self.lr)?;
        check_non_negative("epsilon", self.eps)?;
        check_non_negative("momentum", self.momentum)?;
        check_non_negative("weight_decay", self.weight_decay)?;
        check_unit("alpha", self.alpha)?;
        Ok(())
    }
}

/// RMSprop, with the mean square (and, when used, mean gradient and momentum buffer) per
/// weight.
#[derive(Clone, Debug)]
pub struct RmsProp {
    cfg: RmsPropConfig,
    step: u64,
    /// v, one per weight; empty before the first step.
    square_avg: Vec<f32>,
    /// ḡ, one per weight when `centered`; otherwise always empty.
    grad_avg: Vec<f32>,
    /// b, one per weight when momentum > 0; otherwise always empty.
    momentum_buffer: Vec<f32>,
}

impl RmsProp {
    /// An RMSprop optimizer; errors name the first invalid value.
    pub fn new(cfg: RmsPropConfig) -> Result<RmsProp> {
        cfg.validate()?;
        Ok(RmsProp { cfg, step: 0, square_avg: Vec::new(), grad_avg: Vec::new(), momentum_buffer: Vec::new() })
    }

    /// The hyperparameters in use (the learning rate reflects [`Optimizer::set_lr`]).
    pub fn config(&self) -> &RmsPropConfig {
        &self.cfg
    }
}

impl Optimizer for RmsProp {
    fn name(&self) -> &'static str {
        "rmsprop"
    }

    fn step(&mut self, params: &mut [f32], grads: &[f32]) -> Result<()> {
        let len = (!self.square_avg.is_empty()).then_some(self.square_avg.len());
        check_lengths(len, params, grads)?;
        let c = self.cfg;
        if self.square_avg.is_empty() {
            let n = params.len();
            self.square_avg = vec![0.0; n];
            self.grad_avg = if c.centered { vec![0.0; n] } else { Vec::new() };
            self.momentum_buffer = if c.momentum > 0.0 { vec![0.0; n] } else { Vec::new() };
        }
        self.step += 1;

        let lr = c.lr as f32;
        let alpha = c.alpha as f32;
        let one_minus_alpha = (1.0 - c.alpha) as f32; // computed in f64, as in Python
        let eps = c.eps as f32;
        let weight_decay = c.weight_decay as f32;
        let momentum = c.momentum as f32;

        // Loop-invariant branches only, over zipped slices: the compiler vectorizes each loop
        // (sqrt and division are exactly rounded in SIMD too).
        let (maximize, decay) = (c.maximize, c.weight_decay != 0.0);
        let gradient = |theta: f32, grad: f32| {
            let g = if maximize { -grad } else { grad };
            if decay {
                g + weight_decay * theta // g ← g + λ·θ
            } else {
                g
            }
        };
        let square = |v: &mut f32, g: f32| *v = *v * alpha + one_minus_alpha * g * g; // v ← α·v + (1−α)·g²
        let centred = |v: f32, m: &mut f32, g: f32| {
            *m = lerp(*m, g, one_minus_alpha); // ḡ ← lerp(ḡ, g, 1−α)
            (v - *m * *m).sqrt() + eps // a ← √(v − ḡ²) + ε
        };
        let pairs = params.iter_mut().zip(grads).zip(self.square_avg.iter_mut());
        match (c.centered, c.momentum > 0.0) {
            (false, false) => {
                for ((theta, &grad), v) in pairs {
                    let g = gradient(*theta, grad);
                    square(v, g);
                    *theta -= (lr * g) / (v.sqrt() + eps); // θ ← θ − γ·g/a, a ← √v + ε
                }
            }
            (true, false) => {
                for (((theta, &grad), v), m) in pairs.zip(&mut self.grad_avg) {
                    let g = gradient(*theta, grad);
                    square(v, g);
                    *theta -= (lr * g) / centred(*v, m, g); // θ ← θ − γ·g/a
                }
            }
            (false, true) => {
                for (((theta, &grad), v), b) in pairs.zip(&mut self.momentum_buffer) {
                    let g = gradient(*theta, grad);
                    square(v, g);
                    *b = *b * momentum + g / (v.sqrt() + eps); // b ← μ·b + g/a
                    *theta -= lr * *b; // θ ← θ − γ·b
                }
            }
            (true, true) => {
                for ((((theta, &grad), v), m), b) in pairs.zip(&mut self.grad_avg).zip(&mut self.momentum_buffer) {
                    let g = gradient(*theta, grad);
                    square(v, g);
                    *b = *b * momentum + g / centred(*v, m, g); // b ← μ·b + g/a
                    *theta -= lr * *b; // θ ← θ − γ·b
                }
            }
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.step = 0;
        self.square_avg.clear();
        self.grad_avg.clear();
        self.momentum_buffer.clear();
    }

    fn lr(&self) -> f32 {
        self.cfg.lr as f32
    }

    fn set_lr(&mut self, lr: f32) -> Result<()> {
        check_lr(lr as f64)?;
        self.cfg.lr = lr as f64;
        Ok(())
    }

    fn set_weight_decay(&mut self, weight_decay: f32) -> Result<()> {
        check_non_negative("weight_decay", weight_decay as f64)?;
        self.cfg.weight_decay = weight_decay as f64;
        Ok(())
    }

    fn state(&self) -> Vec<(&'static str, &[f32])> {
        super::in_use([("square_avg", &self.square_avg), ("grad_avg", &self.grad_avg), ("momentum_buffer", &self.momentum_buffer)])
    }

    fn steps(&self) -> u64 {
        self.step
    }

    fn set_steps(&mut self, t: u64) {
        self.step = t;
    }

    fn set_state(&mut self, key: &str, values: &[f32]) -> Result<()> {
        let c = self.cfg;
        let mut slots = vec![("square_avg", &mut self.square_avg, 0.0)];
        if c.centered {
            slots.push(("grad_avg", &mut self.grad_avg, 0.0));
        }
        if c.momentum > 0.0 {
            slots.push(("momentum_buffer", &mut self.momentum_buffer, 0.0));
        }
        super::set_named("rmsprop", slots, key, values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eps_is_added_outside_the_square_root() {
        // v = (1−α)·g² = 0.5·4 = 2 → a = √2 + 1, θ = −γ·g/a.
        let cfg = RmsPropConfig { lr: 1.0, alpha: 0.5, eps: 1.0, ..Default::default() };
        let mut opt = RmsProp::new(cfg).unwrap();
        let mut p = [0.0];
        opt.step(&mut p, &[2.0]).unwrap();
        let want = -2.0 / (2.0f32.sqrt() + 1.0);
        assert!((p[0] - want).abs() < 1e-6, "{} vs {want}", p[0]);
    }

    #[test]
    fn state_lists_only_buffers_in_use() {
        // (centered, momentum, expected state names, reason)
        let rows: &[(bool, f64, &[&str], &str)] = &[
            (false, 0.0, &["square_avg"], "plain RMSprop keeps only v"),
            (true, 0.0, &["square_avg", "grad_avg"], "centred adds the mean gradient"),
            (false, 0.9, &["square_avg", "momentum_buffer"], "momentum adds a buffer"),
        ];
        for &(centered, momentum, names, reason) in rows {
            let cfg = RmsPropConfig { centered, momentum, ..Default::default() };
            let mut opt = RmsProp::new(cfg).unwrap();
            assert!(opt.state().is_empty(), "{reason}: empty before the first step");
            opt.step(&mut [1.0, 2.0], &[0.5, -0.5]).unwrap();
            let got: Vec<_> = opt.state().iter().map(|(k, _)| *k).collect();
            assert_eq!(got, names, "{reason}");
        }
    }
}
