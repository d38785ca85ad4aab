//! Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight
//! decay, as `torch.optim.SGD` (PyTorch 2.x) defines it.
//!
//! Momentum: Polyak, "Some methods of speeding up the convergence of iteration methods"
//! (1964); the Nesterov form as written by Sutskever et al., "On the importance of
//! initialization and momentum in deep learning" (ICML 2013).
//!
//! # Update rule
//!
//! With learning rate γ, momentum μ, dampening τ and weight decay λ, for every weight θ
//! and its gradient g at step t = 1, 2, …:
//!
//! 1. if `maximize`: g ← −g
//! 2. if λ ≠ 0: g ← g + λ·θ                       (L2 decay folded into the gradient)
//! 3. if μ ≠ 0:
//!    - t = 1: b ← g                             (the buffer starts as the gradient, undamped)
//!    - t > 1: b ← μ·b + (1 − τ)·g
//!    - if `nesterov`: g ← g + μ·b, else g ← b
//! 4. θ ← θ − γ·g
//!
//! # Defaults
//!
//! `lr` 1e-3 (PyTorch 2.x; older versions had no default), `momentum` 0, `dampening` 0,
//! `weight_decay` 0, `nesterov` false, `maximize` false.
//!
//! # Differences from PyTorch
//!
//! None in the arithmetic. Validation is a little stricter: every value must be finite and
//! `dampening` must lie in [0, 1] (PyTorch accepts any dampening).

use super::{check_lengths, check_lr, check_non_negative, check_unit, Num, Optimizer, Options};
use crate::{ensure, Result};
use serde::Serialize;
use serde_json::Value;

/// Hyperparameters of [`Sgd`], named and defaulted as in `torch.optim.SGD`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SgdConfig {
    /// Learning rate γ. Default 1e-3.
    pub lr: f64,
    /// Momentum factor μ; 0 turns momentum off. Default 0.
    pub momentum: f64,
    /// Dampening τ: the share of each new gradient left out of the momentum buffer. Default 0.
    pub dampening: f64,
    /// L2 penalty λ added to the gradient as λ·θ. Default 0.
    pub weight_decay: f64,
    /// Use Nesterov momentum (needs momentum > 0 and dampening 0). Default false.
    pub nesterov: bool,
    /// Climb the objective instead of descending. Default false.
    pub maximize: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig { lr: 1e-3, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false, maximize: false }
    }
}

impl SgdConfig {
    /// The option names [`SgdConfig::from_json`] understands, in PyTorch's order.
    pub const OPTIONS: &'static [&'static str] = &["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"];

    /// Read PyTorch-named options (`{"lr": 0.1, "momentum": 0.9}`); absent keys keep their
    /// defaults, unknown keys are errors. Values are checked later, by [`Sgd::new`].
    pub fn from_json(options: &Value) -> Result<SgdConfig> {
        let o = Options::new("sgd", options, Self::OPTIONS)?;
        let d = SgdConfig::default();
        Ok(SgdConfig {
            lr: o.f64("lr", d.lr)?,
            momentum: o.f64("momentum", d.momentum)?,
            dampening: o.f64("dampening", d.dampening)?,
            weight_decay: o.f64("weight_decay", d.weight_decay)?,
            nesterov: o.bool("nesterov", d.nesterov)?,
            maximize: o.bool("maximize", d.maximize)?,
        })
    }

    /// Check every value, with PyTorch's messages where PyTorch has one.
    pub fn validate(&self) -> Result<()> {
        check_lr(self.lr)?;
        check_non_negative("momentum", self.momentum)?;
        check_unit("dampening", self.dampening)?;
        check_non_negative("weight_decay", self.weight_decay)?;
        ensure!(
            !self.nesterov || (self.momentum > 0.0 && self.dampening == 0.0),
            "Nesterov momentum requires a momentum and zero dampening \
             (got momentum {}, dampening {})",
            Num(self.momentum),
            Num(self.dampening)
        );
        Ok(())
    }
}

/// SGD, with the momentum buffer as its only state.
#[derive(Clone, Debug)]
pub struct Sgd {
    cfg: SgdConfig,
    /// Parameter count seen at the first step (or sized by `set_state`); `None` before it.
    len: Option<usize>,
    /// Steps taken; the momentum buffer starts as the gradient when it is 0.
    step: u64,
    /// b, one per weight; empty until the first step, and always when momentum is 0.
    momentum_buffer: Vec<f32>,
}

impl Sgd {
    /// An SGD optimizer; errors name the first invalid value.
    pub fn new(cfg: SgdConfig) -> Result<Sgd> {
        cfg.validate()?;
        Ok(Sgd { cfg, len: None, step: 0, momentum_buffer: Vec::new() })
    }

    /// The hyperparameters in use (the learning rate reflects [`Optimizer::set_lr`]).
    pub fn config(&self) -> &SgdConfig {
        &self.cfg
    }
}

impl Optimizer for Sgd {
    fn name(&self) -> &'static str {
        "sgd"
    }

    fn step(&mut self, params: &mut [f32], grads: &[f32]) -> Result<()> {
        check_lengths(self.len, params, grads)?;
        let first = self.step == 0;
        self.len = Some(params.len());
        self.step += 1;

        // Scalars meet the float32 tensors as f32, after PyTorch has done any arithmetic
        // on them in double precision (`1 - dampening`).
        let lr = self.cfg.lr as f32;
        let weight_decay = self.cfg.weight_decay as f32;
        let momentum = self.cfg.momentum as f32;
        let keep = (1.0 - self.cfg.dampening) as f32;
        let use_momentum = self.cfg.momentum != 0.0;
        if use_momentum && self.momentum_buffer.is_empty() {
            self.momentum_buffer = vec![0.0; params.len()];
        }

        // Loop-invariant branches only, over zipped slices: the compiler vectorizes each loop.
        let (maximize, decay, nesterov) = (self.cfg.maximize, self.cfg.weight_decay != 0.0, self.cfg.nesterov);
        let gradient = |theta: f32, grad: f32| {
            let g = if maximize { -grad } else { grad };
            if decay {
                g + weight_decay * theta // g ← g + λ·θ
            } else {
                g
            }
        };
        if use_momentum {
            for ((theta, &grad), b) in params.iter_mut().zip(grads).zip(&mut self.momentum_buffer) {
                let g = gradient(*theta, grad);
                *b = if first { g } else { *b * momentum + keep * g }; // b ← μ·b + (1−τ)·g
                let g = if nesterov { g + momentum * *b } else { *b };
                *theta -= lr * g; // θ ← θ − γ·g
            }
        } else {
            for (theta, &grad) in params.iter_mut().zip(grads) {
                *theta -= lr * gradient(*theta, grad); // θ ← θ − γ·g
            }
        }
        Ok(())
    }

    fn reset(&mut self) {
        self.len = None;
        self.step = 0;
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
        super::in_use([("momentum_buffer", &self.momentum_buffer)])
    }

    fn step_count(&self) -> Option<u64> {
        None // PyTorch's SGD keeps no step counter
    }

    fn steps(&self) -> u64 {
        self.step
    }

    /// With the count at 0 the next step starts the momentum buffer afresh from the
    /// gradient, whatever [`set_state`](Optimizer::set_state) put there (as step 1 does).
    fn set_steps(&mut self, t: u64) {
        self.step = t;
    }

    fn set_state(&mut self, key: &str, values: &[f32]) -> Result<()> {
        let slots = if self.cfg.momentum != 0.0 { vec![("momentum_buffer", &mut self.momentum_buffer, 0.0)] } else { Vec::new() };
        super::set_named("sgd", slots, key, values)?;
        self.len = Some(values.len());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sgd(cfg: SgdConfig) -> Sgd {
        Sgd::new(cfg).unwrap()
    }

    #[test]
    fn plain_step_is_lr_times_gradient() {
        let mut opt = sgd(SgdConfig { lr: 0.5, ..Default::default() });
        let mut p = [1.0, -2.0];
        opt.step(&mut p, &[2.0, -4.0]).unwrap();
        assert_eq!(p, [0.0, 0.0]);
        assert!(opt.state().is_empty(), "no buffer without momentum");
    }

    #[test]
    fn first_momentum_step_is_undamped() {
        // b_1 = g even with dampening 0.5; b_2 = 0.9·b_1 + 0.5·g.
        let cfg = SgdConfig { lr: 1.0, momentum: 0.9, dampening: 0.5, ..Default::default() };
        let mut opt = sgd(cfg);
        let mut p = [0.0];
        opt.step(&mut p, &[1.0]).unwrap();
        assert_eq!(p, [-1.0]);
        opt.step(&mut p, &[1.0]).unwrap();
        assert_eq!(opt.state()[0].1, &[0.9f32 * 1.0 + 0.5]);
        assert_eq!(p, [-1.0 - (0.9f32 + 0.5)]);
    }

    #[test]
    fn nesterov_looks_ahead() {
        // t = 1: b = g = 1, update g + μ·b = 1.5.
        let cfg = SgdConfig { lr: 1.0, momentum: 0.5, nesterov: true, ..Default::default() };
        let mut opt = sgd(cfg);
        let mut p = [0.0];
        opt.step(&mut p, &[1.0]).unwrap();
        assert_eq!(p, [-1.5]);
    }

    #[test]
    fn nesterov_needs_momentum_and_no_dampening() {
        let cfg = SgdConfig { nesterov: true, ..Default::default() };
        let err = Sgd::new(cfg).unwrap_err();
        assert!(err.message().starts_with("Nesterov momentum requires"), "{err}");
    }
}
