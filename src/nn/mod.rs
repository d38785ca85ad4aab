//! Layers, losses and the MLP. Each file holds one concept with its forward and backward pass
//! side by side. Tensors are flat row-major `f32` slices with the batch as the first
//! dimension, as in PyTorch: an input batch is (batch × features).

pub mod activation;
pub mod batch_norm;
pub mod dropout;
pub mod linear;
pub mod loss;
pub mod mlp;
pub mod penalty;

pub use activation::Activation;
pub use batch_norm::BatchNorm1d;
pub use loss::Reduction;
pub use mlp::{Inside, Mlp, MlpSpec, Slices, INPUT_LAYER};
pub use penalty::{L1Mode, Penalty};

use crate::{ensure, Result};

/// Check that `x` holds `batch` rows of `features` values; the message names what was given.
pub(crate) fn check_batch(what: &str, x: &[f32], batch: usize, features: usize) -> Result<()> {
    ensure!(batch > 0, "{what}: the batch size must be at least 1");
    ensure!(x.len() == batch * features, "{what}: expected {batch} × {features} = {} values, got {}", batch * features, x.len());
    Ok(())
}
