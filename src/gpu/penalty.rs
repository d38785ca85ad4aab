//! The uniform block of `penalty.wgsl`: one layer's L1/L2 penalty (`crate::nn::Penalty`)
//! on its weight matrix, with the ring slot the value is added to.

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
}

impl PenaltyUniform {
    /// The block for a layer of `n` weights starting at `w_off`.
    pub fn new(penalty: &Penalty, n: usize, w_off: usize) -> PenaltyUniform {
        PenaltyUniform { n: n as u32, w_off: w_off as u32, slot: 0, l1: penalty.l1, l2: penalty.l2 }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let s = self;
        // λ₂/2 is exact in f32 (halving only changes the exponent), as the CPU's 0.5·λ₂ is.
        bytes(&[s.n, s.w_off, s.slot, 0, s.l1.to_bits(), s.l2.to_bits(), (0.5 * s.l2).to_bits(), 0])
    }
}
