//! Adam and AdamW, as `torch.optim.Adam` and `torch.optim.AdamW` (PyTorch 2.x) define them.
//!
//! Kingma & Ba, "Adam: A method for stochastic optimization" (ICLR 2015); AMSGrad from
//! Reddi, Kale & Kumar, "On the convergence of Adam and beyond" (ICLR 2018); AdamW from
//! Loshchilov & Hutter, "Decoupled weight decay regularization" (ICLR 2019).
//!
//! Adam is three ideas stacked: momentum (m, a running mean of gradients), RMSprop-style
//! scaling (v, a running mean of squared gradients) and bias correction (both means start
//! at 0, so early on they are too small by a factor 1 − βᵗ, which is divided back out).
//! AdamW is the same, except that weight decay shrinks the weights directly instead of
//! being added to the gradient, where Adam's scaling would water it down.
//!
//! # Update rule
//!
//! With learning rate γ, betas (β₁, β₂), ε and weight decay λ, every weight θ keeps m and v
//! (and v̂_max with `amsgrad`), all starting at 0. At step t = 1, 2, …, with gradient g:
//!
//! 1. if `maximize`: g ← −g
//! 2. if λ ≠ 0: AdamW (decoupled): θ ← θ·(1 − γλ);  Adam: g ← g + λ·θ
//! 3. m ← lerp(m, g, 1 − β₁)                     (= β₁·m + (1 − β₁)·g)
//! 4. v ← β₂·v + (1 − β₂)·g²
//! 5. c₁ ← 1 − β₁ᵗ,  c₂ ← 1 − β₂ᵗ                 (in f64, as Python does; both 1 when
//!    `bias_correction` is off)
//! 6. if `amsgrad`: v_max ← max(v_max, v), and v_max replaces v below
//! 7. d ← √v / √c₂ + ε
//! 8. θ ← θ − (γ / c₁)·m / d
//!
//! # Defaults
//!
//! Adam: `lr` 1e-3, `betas` (0.9, 0.999), `eps` 1e-8, `weight_decay` 0, `amsgrad` false,
//! `maximize` false, `decoupled_weight_decay` false. AdamW: the same except `weight_decay`
//! 1e-2 (and decay always decoupled).
//!
//! # Differences from PyTorch
//!
//! `bias_correction` is our addition (default true, which is PyTorch's behaviour): turning
//! it off lets a notebook cell show why Adam needs it. Otherwise none in the arithmetic.
//! Validation is a little stricter: every value must be finite.

use super::{check_lengths, check_lr, check_non_negative, lerp, powf_step, Num, Optimizer, Options, PartialStep};
use crate::{ensure, Result};
use serde::Serialize;
use serde_json::Value;

/// Hyperparameters of [`Adam`], named and defaulted as in `torch.optim.Adam`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct AdamConfig {
    /// Learning rate γ. Default 1e-3.
    pub lr: f64,
    /// (β₁, β₂): smoothing of the first and second moments. Default (0.9, 0.999).
    pub betas: (f64, f64),
    /// ε added to the denominator (outside the square root). Default 1e-8.
    pub eps: f64,
    /// Weight decay λ: an L2 term λ·θ added to the gradient, or with
    /// `decoupled_weight_decay` a shrink θ·(1 − γλ). Default 0.
    pub weight_decay: f64,
    /// Use AMSGrad: divide by the largest second moment seen so far. Default false.
    pub amsgrad: bool,
    /// Climb the objective instead of descending. Default false.
    pub maximize: bool,
    /// Decay the weights directly (this is AdamW). Default false.
    pub decoupled_weight_decay: bool,
    /// Divide out the zero-initialisation bias of m and v. Default true. Not in PyTorch
    /// (which always corrects); ours, for showing what happens without it.
    pub bias_correction: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
            decoupled_weight_decay: false,
            bias_correction: true,
        }
    }
}

impl AdamConfig {
    /// The option names [`AdamConfig::from_json`] understands: PyTorch's, in its order,
    /// then ours.
    pub const OPTIONS: &'static [&'static str] =
        &["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "decoupled_weight_decay", "bias_correction"];

    /// Read PyTorch-named options (`{"lr": 0.01, "betas": [0.9, 0.99]}`); absent keys keep
    /// their defaults, unknown keys are errors.
    pub fn from_json(options: &Value) -> Result<AdamConfig> {
        let o = Options::new("adam", options, Self::OPTIONS)?;
        let d = AdamConfig::default();
        Ok(AdamConfig {
            lr: o.f64("lr", d.lr)?,
            betas: o.pair("betas", d.betas)?,
            eps: o.f64("eps", d.eps)?,
            weight_decay: o.f64("weight_decay", d.weight_decay)?,
            amsgrad: o.bool("amsgrad", d.amsgrad)?,
            maximize: o.bool("maximize", d.maximize)?,
            decoupled_weight_decay: o.bool("decoupled_weight_decay", d.decoupled_weight_decay)?,
            bias_correction: o.bool("bias_correction", d.bias_correction)?,
        })
    }

    /// Check every value, with PyTorch's messages.
    pub fn validate(&self) -> Result<()> {
        check_lr(self.lr)?;
        check_non_negative("epsilon", self.eps)?;
        for (index, beta) in [self.betas.0, self.betas.1].into_iter().enumerate() {
            ensure!(beta.is_finite() && (0.0..1.0).contains(&beta), "Invalid beta parameter at index {index}: {} (need 0 <= beta < 1)", Num(beta));
        }
        check_non_negative("weight_decay", self.weight_decay)?;
        Ok(())
    }
}

/// Hyperparameters of [`AdamW`], named and defaulted as in `torch.optim.AdamW`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct AdamWConfig {
    /// Learning rate γ. Default 1e-3.
    pub lr: f64,
    /// (β₁, β₂): smoothing of the first and second moments. Default (0.9, 0.999).
    pub betas: (f64, f64),
    /// ε added to the denominator (outside the square root). Default 1e-8.
    pub eps: f64,
    /// Decoupled weight decay λ: each step first shrinks θ by the factor 1 − γλ.
    /// Default 1e-2.
    pub weight_decay: f64,
    /// Use AMSGrad. Default false.
    pub amsgrad: bool,
    /// Climb the objective instead of descending. Default false.
    pub maximize: bool,
    /// Divide out the zero-initialisation bias of m and v. Default true. Ours, not PyTorch's.
    pub bias_correction: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        let adam = AdamConfig::default();
        AdamWConfig {
            lr: adam.lr,
            betas: adam.betas,
            eps: adam.eps,
            weight_decay: 1e-2,
            amsgrad: adam.amsgrad,
            maximize: adam.maximize,
            bias_correction: adam.bias_correction,
        }
    }
}

impl AdamWConfig {
    /// The option names [`AdamWConfig::from_json`] understands: PyTorch's, in its order,
    /// then ours.
    pub const OPTIONS: &'static [&'static str] = &["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "bias_correction"];

    /// Read PyTorch-named options; absent keys keep their defaults, unknown keys are errors.
    pub fn from_json(options: &Value) -> Result<AdamWConfig> {
        let o = Options::new("adamw", options, Self::OPTIONS)?;
        let d = AdamWConfig::default();
        Ok(AdamWConfig {
            lr: o.f64("lr", d.lr)?,
            betas: o.pair("betas", d.betas)?,
            eps: o.f64("eps", d.eps)?,
            weight_decay: o.f64("weight_decay", d.weight_decay)?,
            amsgrad: o.bool("amsgrad", d.amsgrad)?,
            maximize: o.bool("maximize", d.maximize)?,
            bias_correction: o.bool("bias_correction", d.bias_correction)?,
        })
    }
}

impl From<AdamWConfig> for AdamConfig {
    /// AdamW is Adam with decoupled weight decay (exactly how PyTorch 2.x defines it).
    fn from(c: AdamWConfig) -> AdamConfig {
        AdamConfig {
            lr: c.lr,
            betas: c.betas,
            eps: c.eps,
            weight_decay: c.weight_decay,
            amsgrad: c.amsgrad,
            maximize: c.maximize,
            decoupled_weight_decay: true,
            bias_correction: c.bias_correction,
        }
    }
}

/// Adam, with both moments (and AMSGrad's running maximum) per weight.
#[derive(Clone, Debug)]
pub struct Adam {
    cfg: AdamConfig,
    step: u64,
    /// m, one per weight; empty before the first step.
    exp_avg: Vec<f32>,
    /// v, one per weight; empty before the first step.
    exp_avg_sq: Vec<f32>,
    /// v_max, one per weight with `amsgrad`; otherwise always empty.
    max_exp_avg_sq: Vec<f32>,
    /// The step begun by `begin_step`, for its parts.
    scalars: Option<StepScalars>,
}

impl Adam {
    /// An Adam optimizer; errors name the first invalid value.
    pub fn new(cfg: AdamConfig) -> Result<Adam> {
        cfg.validate()?;
        Ok(Adam { cfg, step: 0, exp_avg: Vec::new(), exp_avg_sq: Vec::new(), max_exp_avg_sq: Vec::new(), scalars: None })
    }

    /// The hyperparameters in use (the learning rate reflects [`Optimizer::set_lr`]).
    pub fn config(&self) -> &AdamConfig {
        &self.cfg
    }

    /// [`Optimizer::set_state`], with errors naming the optimizer as `name` ("adam", "adamw").
    fn set_state_as(&mut self, name: &str, key: &str, values: &[f32]) -> Result<()> {
        let mut slots = vec![("exp_avg", &mut self.exp_avg, 0.0), ("exp_avg_sq", &mut self.exp_avg_sq, 0.0)];
        if self.cfg.amsgrad {
            slots.push(("max_exp_avg_sq", &mut self.max_exp_avg_sq, 0.0));
        }
        super::set_named(name, slots, key, values)
    }
}

/// One step's scalars (steps 5–8's constants), worked out once by [`PartialStep::begin_step`].
#[derive(Clone, Copy, Debug)]
struct StepScalars {
    step_size: f32,
    bias_correction2_sqrt: f32,
    decay_factor: f32,
    weight_decay: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    eps: f32,
    maximize: bool,
    decay: bool,
    couple: bool,
    amsgrad: bool,
}

impl Adam {
    fn state_len(&self) -> Option<usize> {
        (!self.exp_avg.is_empty()).then_some(self.exp_avg.len())
    }
}

/// Adam's update is element by element, so a step may be applied a slice at a time — each
/// layer's slice as soon as its gradient is in (`Mlp::train_step`), while it is still in the
/// cache — with the same numbers as one whole step.
impl PartialStep for Adam {
    fn begin_step(&mut self, n: usize) -> Result<()> {
        if let Some(len) = self.state_len() {
            ensure!(len == n, "optimizer state holds {len} values but {n} parameters were given (call reset() after changing the model)");
        } else {
            self.exp_avg = vec![0.0; n];
            self.exp_avg_sq = vec![0.0; n];
            self.max_exp_avg_sq = if self.cfg.amsgrad { vec![0.0; n] } else { Vec::new() };
        }
        self.step += 1;
        let c = self.cfg;
        // Scalar work in f64, as PyTorch does it in Python floats.
        let (beta1, beta2) = c.betas;
        let (bias_correction1, bias_correction2) =
            if c.bias_correction { (1.0 - powf_step(beta1, self.step), 1.0 - powf_step(beta2, self.step)) } else { (1.0, 1.0) };
        self.scalars = Some(StepScalars {
            step_size: (c.lr / bias_correction1) as f32,              // γ / c₁
            bias_correction2_sqrt: bias_correction2.powf(0.5) as f32, // √c₂ (Python: c₂**0.5)
            decay_factor: (1.0 - c.lr * c.weight_decay) as f32,       // 1 − γλ
            weight_decay: c.weight_decay as f32,
            one_minus_beta1: (1.0 - beta1) as f32,
            beta2: beta2 as f32,
            one_minus_beta2: (1.0 - beta2) as f32,
            eps: c.eps as f32,
            maximize: c.maximize,
            decay: c.weight_decay != 0.0,
            couple: !c.decoupled_weight_decay,
            amsgrad: c.amsgrad,
        });
        Ok(())
    }

    fn update_part(&mut self, params: &mut [f32], grads: &[f32], offset: usize) {
        let s = self.scalars.expect("begin_step before update_part");
        let range = offset..offset + params.len();
        assert!(grads.len() == params.len() && range.end <= self.exp_avg.len(), "update_part outside the step begun");
        // Steps 1–2: the gradient actually used, and the (decoupled) decay of θ. The
        // configuration's branches are loop-invariant selects, so the loops below stay
        // straight-line code the compiler turns into 4-lane SIMD (sqrt and division are
        // exactly rounded there too, so the result is the same bit for bit).
        let prepare = |theta: f32, grad: f32| -> (f32, f32) {
            let g = if s.maximize { -grad } else { grad };
            if !s.decay {
                (theta, g)
            } else if s.couple {
                (theta, g + s.weight_decay * theta) // g ← g + λ·θ
            } else {
                (theta * s.decay_factor, g) // θ ← θ·(1 − γλ)
            }
        };
        let moments = |m: &mut f32, v: &mut f32, g: f32| {
            *m = lerp(*m, g, s.one_minus_beta1); // m ← lerp(m, g, 1−β₁)
            *v = *v * s.beta2 + s.one_minus_beta2 * g * g; // v ← β₂·v + (1−β₂)·g²
        };
        let update = |theta: f32, m: f32, second: f32| {
            let denom = second.sqrt() / s.bias_correction2_sqrt + s.eps; // d ← √v/√c₂ + ε
            theta - (s.step_size * m) / denom // θ ← θ − (γ/c₁)·m/d
        };
        let moments_of = self.exp_avg[range.clone()].iter_mut().zip(self.exp_avg_sq[range.clone()].iter_mut());
        if s.amsgrad {
            for (((theta, &grad), (m, v)), v_max) in params.iter_mut().zip(grads).zip(moments_of).zip(&mut self.max_exp_avg_sq[range]) {
                let (t, g) = prepare(*theta, grad);
                moments(m, v, g);
                *v_max = maximum(*v_max, *v); // v_max ← max(v_max, v)
                *theta = update(t, *m, *v_max);
            }
        } else {
            for ((theta, &grad), (m, v)) in params.iter_mut().zip(grads).zip(moments_of) {
                let (t, g) = prepare(*theta, grad);
                moments(m, v, g);
                *theta = update(t, *m, *v);
            }
        }
    }
}

/// `torch.maximum` for one element: NaN wins (Rust's `f32::max` would drop it).
fn maximum(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.max(b)
    }
}

impl Optimizer for Adam {
    fn name(&self) -> &'static str {
        "adam"
    }

    fn step(&mut self, params: &mut [f32], grads: &[f32]) -> Result<()> {
        check_lengths(self.state_len(), params, grads)?;
        self.begin_step(params.len())?;
        self.update_part(params, grads, 0);
        Ok(())
    }

    fn parts(&mut self) -> Option<&mut dyn PartialStep> {
        Some(self)
    }

    fn reset(&mut self) {
        self.step = 0;
        self.exp_avg.clear();
        self.exp_avg_sq.clear();
        self.max_exp_avg_sq.clear();
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
        super::in_use([("exp_avg", &self.exp_avg), ("exp_avg_sq", &self.exp_avg_sq), ("max_exp_avg_sq", &self.max_exp_avg_sq)])
    }

    fn steps(&self) -> u64 {
        self.step
    }

    fn set_steps(&mut self, t: u64) {
        self.step = t;
    }

    fn set_state(&mut self, key: &str, values: &[f32]) -> Result<()> {
        self.set_state_as("adam", key, values)
    }
}

/// AdamW: [`Adam`] with decoupled weight decay, under its own name and defaults.
#[derive(Clone, Debug)]
pub struct AdamW {
    inner: Adam,
}

impl AdamW {
    /// An AdamW optimizer; errors name the first invalid value.
    pub fn new(cfg: AdamWConfig) -> Result<AdamW> {
        Ok(AdamW { inner: Adam::new(cfg.into())? })
    }

    /// The hyperparameters in use, as the equivalent Adam configuration.
    pub fn config(&self) -> &AdamConfig {
        self.inner.config()
    }
}

impl Optimizer for AdamW {
    fn name(&self) -> &'static str {
        "adamw"
    }
    fn step(&mut self, params: &mut [f32], grads: &[f32]) -> Result<()> {
        self.inner.step(params, grads)
    }
    fn reset(&mut self) {
        self.inner.reset()
    }
    fn lr(&self) -> f32 {
        self.inner.lr()
    }
    fn set_lr(&mut self, lr: f32) -> Result<()> {
        self.inner.set_lr(lr)
    }
    fn set_weight_decay(&mut self, weight_decay: f32) -> Result<()> {
        self.inner.set_weight_decay(weight_decay)
    }
    fn parts(&mut self) -> Option<&mut dyn PartialStep> {
        Some(&mut self.inner)
    }
    fn state(&self) -> Vec<(&'static str, &[f32])> {
        self.inner.state()
    }
    fn steps(&self) -> u64 {
        self.inner.steps()
    }
    fn set_steps(&mut self, t: u64) {
        self.inner.set_steps(t)
    }
    fn set_state(&mut self, key: &str, values: &[f32]) -> Result<()> {
        self.inner.set_state_as("adamw", key, values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_every_weight_by_about_lr() {
        // With bias correction, m̂ = g and v̂ = g², so the first step is γ·sign(g).
        let mut opt = Adam::new(AdamConfig { lr: 0.1, ..Default::default() }).unwrap();
        let mut p = [0.0, 0.0, 0.0];
        opt.step(&mut p, &[1e-3, -5.0, 300.0]).unwrap();
        for (got, want) in p.iter().zip([-0.1, 0.1, -0.1]) {
            assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        }
    }

    #[test]
    fn without_bias_correction_the_raw_moments_are_used() {
        // m = 0.1·g and v = 0.001·g², so the first step is γ·0.1/√0.001 ≈ 3.16·γ: larger
        // than the corrected γ, because v starts further below its target than m does.
        let cfg = AdamConfig { lr: 0.1, bias_correction: false, ..Default::default() };
        let mut opt = Adam::new(cfg).unwrap();
        let mut p = [0.0];
        opt.step(&mut p, &[2.0]).unwrap();
        let m = 0.1f32 * 2.0;
        let v = 0.001f32 * 2.0 * 2.0;
        let want = -0.1 * m / (v.sqrt() + 1e-8);
        assert!((p[0] - want).abs() < 1e-6, "{} vs {want}", p[0]);
    }

    #[test]
    fn adamw_shrinks_weights_before_the_update() {
        // A zero gradient leaves m = v = 0, so only the decay acts: θ·(1 − γλ).
        let cfg = AdamWConfig { lr: 0.1, weight_decay: 0.5, ..Default::default() };
        let mut opt = AdamW::new(cfg).unwrap();
        let mut p = [2.0];
        opt.step(&mut p, &[0.0]).unwrap();
        assert_eq!(p, [2.0 * 0.95]);
        assert_eq!(opt.name(), "adamw");
    }
}
