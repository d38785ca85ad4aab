//! Uniform blocks of `optim.wgsl`: the per-step scalars of SGD and Adam/AdamW, worked out on
//! the CPU exactly as `crate::optim::{sgd, adam}` work them out (in f64, rounded to f32
//! where they meet the f32 tensors), so the GPU update is the same arithmetic on every weight.

use super::bytes;
use crate::optim::{AdamConfig, SgdConfig};

/// Flag bits shared by both blocks (as in `optim.wgsl`).
pub const OPT_MAXIMIZE: u32 = 1;
pub const OPT_WEIGHT_DECAY: u32 = 2;
pub const OPT_MOMENTUM: u32 = 4;
pub const OPT_NESTEROV: u32 = 8;
pub const OPT_FIRST: u32 = 16;
pub const OPT_DECOUPLED: u32 = 32;
pub const OPT_AMSGRAD: u32 = 64;

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
        let (c1, c2) = if cfg.bias_correction {
            (1.0 - beta1.powf(t as f64), 1.0 - beta2.powf(t as f64))
        } else {
            (1.0, 1.0)
        };
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
