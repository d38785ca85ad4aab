//! The uniform blocks of `penalty.wgsl`: one layer's L1/L2 penalty (`crate::nn::Penalty`)
//! on its weight matrix, with the ring slot the value is added to; and L1's proximal step.

use super::bytes;
use crate::nn::Penalty;

/// `Params` of `penalty.wgsl` (32 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PenaltyUniform {
    /// Weights in the layer (fan_in · fan_out).
    pub n: u32,
    /// Where they start in the flat parameter vector.
    pub w_off: u32,
    /// The loss record of this step (rewritten every step).
    pub slot: u32,
    pub l1: f32,
    pub l2: f32,
    /// λ₁ as it enters the gradient (0 when L1 is proximal: `Penalty::l1_gradient`).
    pub l1_grad: f32,
}

impl PenaltyUniform {
    /// The block for a layer of `n` weights starting at `w_off`.
    pub fn new(penalty: &Penalty, n: usize, w_off: usize) -> PenaltyUniform {
        PenaltyUniform { n: n as u32, w_off: w_off as u32, slot: 0, l1: penalty.l1, l2: penalty.l2, l1_grad: penalty.l1_gradient() }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let s = self;
        // λ₂/2 is exact in f32 (halving only changes the exponent), as the CPU's 0.5·λ₂ is.
        bytes(&[s.n, s.w_off, s.slot, 0, s.l1.to_bits(), s.l2.to_bits(), (0.5 * s.l2).to_bits(), s.l1_grad.to_bits()])
    }
}

/// `Prox` of `penalty.wgsl` (16 bytes): soft-thresholding of one layer's weights by `threshold`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProxUniform {
    pub n: u32,
    pub w_off: u32,
    /// t = lr·λ₁ (`Penalty::prox_threshold`), rewritten when the learning rate changes.
    pub threshold: f32,
}

impl ProxUniform {
    pub fn new(n: usize, w_off: usize, threshold: f32) -> ProxUniform {
        ProxUniform { n: n as u32, w_off: w_off as u32, threshold }
    }

    pub fn bytes(&self) -> Vec<u8> {
        bytes(&[self.n, self.w_off, self.threshold.to_bits(), 0])
    }
}
