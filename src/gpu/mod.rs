//! The WebGPU compute path, described in plain Rust: the WGSL sources, their entry points and
//! workgroup sizes, how many workgroups a dispatch needs, and the byte layout of every
//! uniform block. Nothing here touches the browser; `src/web/gpu/` is the driver that
//! creates the device, buffers and pipelines from these descriptions and records the
//! dispatches. Keeping the arithmetic here means it builds and is tested natively.
//!
//! | file              | entry points                                   | what                         |
//! |-------------------|------------------------------------------------|------------------------------|
//! | `matmul.wgsl`     | `matmul`, `reduce_split`                       | tiled GEMM + bias + act, split-K |
//! | `pointwise.wgsl`  | `dropout_forward`, `act_backward`, `col_sum`   | element-wise, bias gradient  |
//! | `loss.wgsl`       | `softmax_xent`, `reduce_loss`                  | cross-entropy, loss records  |
//! | `batchnorm.wgsl`  | `bn_forward_train`, `bn_forward_eval`, `bn_backward` | BatchNorm1d + act      |
//! | `optim.wgsl`      | `sgd_step`, `rprop_step`, `rmsprop_step`, `adam_step` | every optimizer's update |
//! | `penalty.wgsl`    | `penalty`, `prox`                              | L1/L2 on weights, its loss; L1's soft-threshold |
//!
//! `activation.wgsl` and `rng.wgsl` hold functions several modules share; [`Module::source`]
//! prepends them (WGSL has no `#include`).
//!
//! Every kernel is tested against the scalar oracle in the browser (`tests/web_gpu.rs`):
//! `reference::gemm`, the layers of `crate::nn`, the optimizers of `crate::optim`, and
//! [`nn::dropout::mask`](crate::nn::dropout::mask) for the dropout masks.

pub const ACTIVATION_WGSL: &str = include_str!("activation.wgsl");
pub const RNG_WGSL: &str = include_str!("rng.wgsl");
pub const MATMUL_WGSL: &str = include_str!("matmul.wgsl");
pub const POINTWISE_WGSL: &str = include_str!("pointwise.wgsl");
pub const LOSS_WGSL: &str = include_str!("loss.wgsl");
pub const BATCHNORM_WGSL: &str = include_str!("batchnorm.wgsl");
pub const OPTIM_WGSL: &str = include_str!("optim.wgsl");
pub const PENALTY_WGSL: &str = include_str!("penalty.wgsl");

/// Activation codes understood by `activation.wgsl`.
pub const ACT_IDENTITY: u32 = 0;
pub const ACT_RELU: u32 = 1;
pub const ACT_LEAKY_RELU: u32 = 2;
pub const ACT_TANH: u32 = 3;
pub const ACT_SIGMOID: u32 = 4;

/// Invocations per workgroup of the one-dimensional kernels.
pub const WG_1D: u32 = 256;
/// Invocations per workgroup of the batch-norm kernels (one per feature).
pub const WG_BN: u32 = 64;
/// WebGPU's default limit on workgroups along one dimension of a dispatch.
pub const MAX_GROUPS_PER_DIM: u32 = 65_535;

/// A tile shape of the matmul kernel (see the comments in `matmul.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tile {
    /// Rows of C per workgroup.
    pub bm: u32,
    /// Columns of C per workgroup.
    pub bn: u32,
    /// Depth of the k slice held in workgroup memory.
    pub bk: u32,
    /// Rows of C per invocation (register block).
    pub tm: u32,
    /// Columns of C per invocation.
    pub tn: u32,
}

impl Tile {
    /// 64 × 64 blocks, 4 × 4 per invocation: the work-horse for wide layers.
    pub const LARGE: Tile = Tile { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 };
    /// 32 × 32 blocks, 2 × 2 per invocation: four times the workgroups on small or skinny
    /// outputs (the 10-class layer, small batches), where 64 × 64 tiles would mostly idle.
    pub const SMALL: Tile = Tile { bm: 32, bn: 32, bk: 16, tm: 2, tn: 2 };

    /// (x, y) invocations per workgroup.
    pub fn workgroup(self) -> (u32, u32) {
        (self.bn / self.tn, self.bm / self.tm)
    }
    /// Bytes of workgroup memory the two tiles take.
    pub fn shared_bytes(self) -> u32 {
        4 * self.bk * (self.bm + self.bn)
    }
    fn header(self) -> String {
        format!(
            "const BM: u32 = {}u;\nconst BN: u32 = {}u;\nconst BK: u32 = {}u;\nconst TM: u32 = {}u;\nconst TN: u32 = {}u;\n",
            self.bm, self.bn, self.bk, self.tm, self.tn
        )
    }
}

/// A WGSL module as compiled by the driver (one shader module, one pipeline per entry point).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Module {
    Matmul(Tile),
    Pointwise,
    Loss,
    BatchNorm,
    Optim,
    Penalty,
}

impl Module {
    /// The complete WGSL text: shared functions first, then the module's own file.
    pub fn source(self) -> String {
        match self {
            Module::Matmul(tile) => format!("{}\n{ACTIVATION_WGSL}\n{MATMUL_WGSL}", tile.header()),
            Module::Pointwise => format!("{ACTIVATION_WGSL}\n{RNG_WGSL}\n{POINTWISE_WGSL}"),
            Module::Loss => LOSS_WGSL.to_string(),
            Module::BatchNorm => format!("{ACTIVATION_WGSL}\n{BATCHNORM_WGSL}"),
            Module::Optim => OPTIM_WGSL.to_string(),
            Module::Penalty => PENALTY_WGSL.to_string(),
        }
    }

    /// A label for the browser's error messages.
    pub fn label(self) -> String {
        match self {
            Module::Matmul(t) => format!("matmul {}x{}", t.bm, t.bn),
            Module::Pointwise => "pointwise".into(),
            Module::Loss => "loss".into(),
            Module::BatchNorm => "batchnorm".into(),
            Module::Optim => "optim".into(),
            Module::Penalty => "penalty".into(),
        }
    }
}

/// One compute entry point: a pipeline in the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    Matmul(Tile),
    ReduceSplit,
    DropoutForward,
    ActBackward,
    ColSum,
    SoftmaxXent,
    ReduceLoss,
    BnForwardTrain,
    BnForwardEval,
    BnBackward,
    SgdStep,
    RpropStep,
    RmsPropStep,
    AdamStep,
    Penalty,
    Prox,
}

impl Kernel {
    pub fn module(self) -> Module {
        match self {
            Kernel::Matmul(t) => Module::Matmul(t),
            // the split-K reduction lives beside the matmul; its tile constants are unused
            Kernel::ReduceSplit => Module::Matmul(Tile::SMALL),
            Kernel::DropoutForward | Kernel::ActBackward | Kernel::ColSum => Module::Pointwise,
            Kernel::SoftmaxXent | Kernel::ReduceLoss => Module::Loss,
            Kernel::BnForwardTrain | Kernel::BnForwardEval | Kernel::BnBackward => Module::BatchNorm,
            Kernel::SgdStep | Kernel::RpropStep | Kernel::RmsPropStep | Kernel::AdamStep => Module::Optim,
            Kernel::Penalty | Kernel::Prox => Module::Penalty,
        }
    }

    pub fn entry(self) -> &'static str {
        match self {
            Kernel::Matmul(_) => "matmul",
            Kernel::ReduceSplit => "reduce_split",
            Kernel::DropoutForward => "dropout_forward",
            Kernel::ActBackward => "act_backward",
            Kernel::ColSum => "col_sum",
            Kernel::SoftmaxXent => "softmax_xent",
            Kernel::ReduceLoss => "reduce_loss",
            Kernel::BnForwardTrain => "bn_forward_train",
            Kernel::BnForwardEval => "bn_forward_eval",
            Kernel::BnBackward => "bn_backward",
            Kernel::SgdStep => "sgd_step",
            Kernel::RpropStep => "rprop_step",
            Kernel::RmsPropStep => "rmsprop_step",
            Kernel::AdamStep => "adam_step",
            Kernel::Penalty => "penalty",
            Kernel::Prox => "prox",
        }
    }

    /// The `@workgroup_size` the WGSL declares (checked against the source by a test).
    pub fn workgroup(self) -> (u32, u32, u32) {
        match self {
            Kernel::Matmul(t) => {
                let (x, y) = t.workgroup();
                (x, y, 1)
            }
            Kernel::BnForwardTrain | Kernel::BnForwardEval | Kernel::BnBackward => (WG_BN, 1, 1),
            _ => (WG_1D, 1, 1),
        }
    }
}

/// Workgroups for `n` invocations of a 256-wide one-dimensional kernel, folded into a 2-D
/// grid when one dimension would exceed 65,535 (the kernels compute x + y·groups_x·256).
pub fn grid_1d(n: usize) -> [u32; 3] {
    let groups = n.div_ceil(WG_1D as usize).max(1);
    let max = MAX_GROUPS_PER_DIM as usize;
    if groups <= max {
        [groups as u32, 1, 1]
    } else {
        let y = groups.div_ceil(max);
        [groups.div_ceil(y) as u32, y as u32, 1]
    }
}

/// Workgroups for a per-feature batch-norm kernel.
pub fn grid_bn(features: usize) -> [u32; 3] {
    [features.div_ceil(WG_BN as usize).max(1) as u32, 1, 1]
}

/// How one product `op(A)·op(B)` (m × k times k × n) is dispatched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatmulPlan {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub tile: Tile,
    /// Number of k slices (1: no split-K).
    pub splits: usize,
    /// Length of one k slice, a multiple of the tile's BK.
    pub k_split: usize,
    /// Workgroups of the matmul dispatch (x over columns, y over rows, z over splits).
    pub groups: [u32; 3],
}

/// Below this many output tiles a long k is split, so the GPU has work for more workgroups.
const SPLIT_BELOW_TILES: usize = 32;
/// A k slice is never shorter than this (shorter slices cost more in the reduction).
const MIN_K_SLICE: usize = 256;
/// At most this many slices.
const MAX_SPLITS: usize = 16;

impl MatmulPlan {
    /// Pick the tile and the split for an (m × k)·(k × n) product.
    pub fn new(m: usize, k: usize, n: usize) -> MatmulPlan {
        let tiles = |t: Tile| m.div_ceil(t.bm as usize) * n.div_ceil(t.bn as usize);
        // Large tiles only when they still give the GPU a good number of workgroups.
        let tile = if tiles(Tile::LARGE) >= 16 { Tile::LARGE } else { Tile::SMALL };
        let count = tiles(tile).max(1);
        let bk = tile.bk as usize;
        let mut splits = 1;
        if count < SPLIT_BELOW_TILES && k >= 2 * MIN_K_SLICE {
            splits = (SPLIT_BELOW_TILES * 2 / count).clamp(1, MAX_SPLITS).min(k / MIN_K_SLICE);
        }
        let k_split = k.div_ceil(splits).div_ceil(bk).max(1) * bk;
        let splits = k.div_ceil(k_split).max(1); // rounding k_split up may leave fewer slices
        let groups = [n.div_ceil(tile.bn as usize).max(1) as u32, m.div_ceil(tile.bm as usize).max(1) as u32, splits as u32];
        MatmulPlan { m, k, n, tile, splits, k_split, groups }
    }

    /// Floats of scratch the split-K partial products need (0 without a split).
    pub fn scratch_len(&self) -> usize {
        if self.splits > 1 {
            self.splits * self.m * self.n
        } else {
            0
        }
    }
}

/// Flag bits of [`MatmulUniform::flags`] (as in `matmul.wgsl`).
pub const MM_TRANS_A: u32 = 1;
pub const MM_TRANS_B: u32 = 2;
pub const MM_HAS_BIAS: u32 = 4;
pub const MM_PARTIAL: u32 = 8;

/// Little-endian bytes of a uniform block given as 32-bit words.
fn bytes(words: &[u32]) -> Vec<u8> {
    debug_assert!(words.len().is_multiple_of(4), "uniform blocks are padded to 16 bytes");
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// `Params` of `matmul.wgsl` (48 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MatmulUniform {
    pub m: u32,
    pub k: u32,
    pub n: u32,
    pub flags: u32,
    pub a_off: u32,
    pub b_off: u32,
    pub bias_off: u32,
    pub c_off: u32,
    pub beta: f32,
    pub act: u32,
    pub k_split: u32,
    pub splits: u32,
}

impl MatmulUniform {
    /// The block for `plan`; `partial` is set by the driver on the first pass of a split.
    pub fn new(plan: &MatmulPlan, trans_a: bool, trans_b: bool, bias: Option<u32>, beta: f32, act: u32) -> MatmulUniform {
        let mut flags = 0;
        if trans_a {
            flags |= MM_TRANS_A;
        }
        if trans_b {
            flags |= MM_TRANS_B;
        }
        if bias.is_some() {
            flags |= MM_HAS_BIAS;
        }
        MatmulUniform {
            m: plan.m as u32,
            k: plan.k as u32,
            n: plan.n as u32,
            flags,
            bias_off: bias.unwrap_or(0),
            beta,
            act,
            k_split: plan.k_split as u32,
            splits: plan.splits as u32,
            ..Default::default()
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let s = self;
        bytes(&[s.m, s.k, s.n, s.flags, s.a_off, s.b_off, s.bias_off, s.c_off, s.beta.to_bits(), s.act, s.k_split, s.splits])
    }
}

/// `Params` of `pointwise.wgsl` (48 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PointwiseUniform {
    pub n: u32,
    pub rows: u32,
    pub act: u32,
    pub dropout: u32,
    pub p: f32,
    pub scale: f32,
    pub key: u32,
    pub step: u32,
    pub out_off: u32,
}

impl PointwiseUniform {
    pub fn bytes(&self) -> Vec<u8> {
        let s = self;
        bytes(&[s.n, s.rows, s.act, s.dropout, s.p.to_bits(), s.scale.to_bits(), s.key, s.step, s.out_off, 0, 0, 0])
    }
}

/// `Params` of `loss.wgsl` (32 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossUniform {
    pub rows: u32,
    pub classes: u32,
    pub scale: f32,
    pub slot: u32,
    pub logits_off: u32,
}

impl LossUniform {
    pub fn bytes(&self) -> Vec<u8> {
        let s = self;
        bytes(&[s.rows, s.classes, s.scale.to_bits(), s.slot, s.logits_off, 0, 0, 0])
    }
}

/// `Params` of `batchnorm.wgsl` (32 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BatchNormUniform {
    pub rows: u32,
    pub features: u32,
    pub gamma_off: u32,
    pub beta_off: u32,
    pub eps: f32,
    pub momentum: f32,
    pub act: u32,
}

impl BatchNormUniform {
    pub fn bytes(&self) -> Vec<u8> {
        let s = self;
        bytes(&[s.rows, s.features, s.gamma_off, s.beta_off, s.eps.to_bits(), s.momentum.to_bits(), s.act, 0])
    }
}

mod optim;
pub use optim::*;
mod penalty;
pub use penalty::*;

/// The dropout key of one layer (the CPU's dropout draws the same masks: see `nn::dropout`).
pub use crate::rng::dropout_key;

#[cfg(test)]
mod tests;
