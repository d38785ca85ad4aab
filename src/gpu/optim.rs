//! Uniform blocks of `optim.wgsl`: the per-step scalars of SGD, Rprop, RMSprop and
//! Adam/AdamW, worked out on the CPU exactly as `crate::optim::{sgd, rprop, rmsprop, adam}`
//! work them out (in f64, rounded to f32 where they meet the f32 tensors), so the GPU update
//! is the same arithmetic on every weight.

use super::bytes;
use crate::optim::{AdamConfig, RmsPropConfig, RpropConfig, SgdConfig};

/// Flag bits shared by the blocks (as in `optim.wgsl`).
pub const OPT_MAXIMIZE: u32 = 1;
pub const OPT_WEIGHT_DECAY: u32 = 2;
pub const OPT_MOMENTUM: u32 = 4;
pub const OPT_NESTEROV: u32 = 8;
pub const OPT_FIRST: u32 = 16;
pub const OPT_DECOUPLED: u32 = 32;
pub const OPT_AMSGRAD: u32 = 64;
/// Rprop: the state buffers were never written; start from Δ = lr, g_prev = 0.
pub const OPT_INIT: u32 = 128;
pub const OPT_CENTERED: u32 = 256;

/// `Sgd` of `optim.wgsl` (32 bytes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdUniform {
    pub n: u32,
    pub flags: u32,
    pub lr: f32,
    pub weight_decay: f32,
    pub momentum: f32,
    /// 1 − dampening.
    pub keep: f32,
}

impl SgdUniform {
    /// The block for `n` weights; `first` on the first step (the momentum buffer starts as g).
    pub fn new(cfg: &SgdConfig, n: usize, first: bool) -> SgdUniform {
        let mut flags = 0;
        if cfg.maximize {
            flags |= OPT_MAXIMIZE;
        }
        if cfg.weight_decay != 0.0 {
            flags |= OPT_WEIGHT_DECAY;
        }
        if cfg.momentum != 0.0 {
            flags |= OPT_MOMENTUM;
        }
        if cfg.nesterov {
            flags |= OPT_NESTEROV;
        }
        if first {
            flags |= OPT_FIRST;
        }
        SgdUniform {
            n: n as u32,
            flags,
            lr: cfg.lr as f32,
            weight_decay: cfg.weight_decay as f32,
            momentum: cfg.momentum as f32,
            keep: (1.0 - cfg.dampening) as f32,
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let s = self;
        bytes(&[s.n, s.flags, s.lr.to_bits(), s.weight_decay.to_bits(), s.momentum.to_bits(), s.keep.to_bits(), 0, 0])
    }
}

/// `Adam` of `optim.wgsl` (48 bytes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamUniform {
    pub n: u32,
    pub flags: u32,
    /// γ / c₁.
    pub step_size: f32,
    /// √c₂.
    pub bc2_sqrt: f32,
    /// 1 − γλ.
    pub decay_factor: f32,
    pub weight_decay: f32,
    pub one_minus_beta1: f32,
    pub beta2: f32,
    pub one_minus_beta2: f32,
    pub eps: f32,
}

impl AdamUniform {
    /// The block for step `t` (1 for the first step) over `n` weights.
    pub fn new(cfg: &AdamConfig, n: usize, t: u64) -> AdamUniform {
        let (beta1, beta2) = cfg.betas;
        let (c1, c2) = if cfg.bias_correction { (1.0 - beta1.powf(t as f64), 1.0 - beta2.powf(t as f64)) } else { (1.0, 1.0) };
        let mut flags = 0;
        if cfg.maximize {
            flags |= OPT_MAXIMIZE;
        }
        if cfg.weight_decay != 0.0 {
            flags |= OPT_WEIGHT_DECAY;
        }
        if cfg.decoupled_weight_decay {
            flags |= OPT_DECOUPLED;
        }
        if cfg.amsgrad {
            flags |= OPT_AMSGRAD;
        }
        AdamUniform {
            n: n as u32,
            flags,
            step_size: (cfg.lr / c1) as f32,
            bc2_sqrt: c2.powf(0.5) as f32,
            decay_factor: (1.0 - cfg.lr * cfg.weight_decay) as f32,
            weight_decay: cfg.weight_decay as f32,
            one_minus_beta1: (1.0 - beta1) as f32,
            beta2: beta2 as f32,
            one_minus_beta2: (1.0 - beta2) as f32,
            eps: cfg.eps as f32,
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let s = self;
        bytes(&[
            s.n,
            s.flags,
            s.step_size.to_bits(),
            s.bc2_sqrt.to_bits(),
            s.decay_factor.to_bits(),
            s.weight_decay.to_bits(),
            s.one_minus_beta1.to_bits(),
            s.beta2.to_bits(),
            s.one_minus_beta2.to_bits(),
            s.eps.to_bits(),
            0,
            0,
        ])
    }
}

/// `Rprop` of `optim.wgsl` (32 bytes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RpropUniform {
    pub n: u32,
    pub flags: u32,
    /// The initial step size (read only with [`OPT_INIT`]).
    pub lr: f32,
    pub eta_minus: f32,
    pub eta_plus: f32,
    pub step_size_min: f32,
    pub step_size_max: f32,
}

impl RpropUniform {
    /// The block for `n` weights; `init` while the state buffers hold nothing yet (the CPU's
    /// Rprop allocates Δ = lr and g_prev = 0 at that point, with the lr of that moment).
    pub fn new(cfg: &RpropConfig, n: usize, init: bool) -> RpropUniform {
        let mut flags = 0;
        if cfg.maximize {
            flags |= OPT_MAXIMIZE;
        }
        if init {
            flags |= OPT_INIT;
        }
        RpropUniform {
            n: n as u32,
            flags,
            lr: cfg.lr as f32,
            eta_minus: cfg.etas.0 as f32,
            eta_plus: cfg.etas.1 as f32,
            step_size_min: cfg.step_sizes.0 as f32,
            step_size_max: cfg.step_sizes.1 as f32,
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let s = self;
        bytes(&[s.n, s.flags, s.lr.to_bits(), s.eta_minus.to_bits(), s.eta_plus.to_bits(), s.step_size_min.to_bits(), s.step_size_max.to_bits(), 0])
    }
}

/// `RmsProp` of `optim.wgsl` (32 bytes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropUniform {
    pub n: u32,
    pub flags: u32,
    pub lr: f32,
    pub alpha: f32,
    /// 1 − α, worked out in f64.
    pub one_minus_alpha: f32,
    pub eps: f32,
    pub weight_decay: f32,
    pub momentum: f32,
}

impl RmsPropUniform {
    /// The block for `n` weights (the same every step: RMSprop has no bias correction).
    pub fn new(cfg: &RmsPropConfig, n: usize) -> RmsPropUniform {
        let mut flags = 0;
        if cfg.maximize {
            flags |= OPT_MAXIMIZE;
        }
        if cfg.weight_decay != 0.0 {
            flags |= OPT_WEIGHT_DECAY;
        }
        if cfg.momentum > 0.0 {
            flags |= OPT_MOMENTUM;
        }
        if cfg.centered {
            flags |= OPT_CENTERED;
        }
        RmsPropUniform {
            n: n as u32,
            flags,
            lr: cfg.lr as f32,
            alpha: cfg.alpha as f32,
            one_minus_alpha: (1.0 - cfg.alpha) as f32,
            eps: cfg.eps as f32,
            weight_decay: cfg.weight_decay as f32,
            momentum: cfg.momentum as f32,
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let s = self;
        bytes(&[
            s.n,
            s.flags,
            s.lr.to_bits(),
            s.alpha.to_bits(),
            s.one_minus_alpha.to_bits(),
            s.eps.to_bits(),
            s.weight_decay.to_bits(),
            s.momentum.to_bits(),
        ])
    }
}
