//! The documented JS API: what a student can call from the browser console or Node.
//!
//! ```text
//! new Mlp(sizes: Uint32Array, activation, seed, init?, { batchNorm?, dropout?, bnMomentum?, bnEps? }?)
//!     .parameters() .setParameters(p) .forward(x, batch, { training?, seed? }?)
//!     .lossAndGradients(x, labels) .gradients() .batchNormStats(layer)
//! new BatchNorm(features, { eps?, momentum? })   .forward(x, batch, training) .backward(dy)
//!     gamma, beta (get/set); gradGamma, gradBeta, runningMean, runningVar (get)
//! dropout(x, p, training, seed)
//! new Optimizer(name, options?)   .step(params, grads) .reset()
//! initialize(scheme, fanIn, fanOut, seed, options?)
//! kFold(labels: Uint8Array | Uint32Array, k, seed, stratified?) → Uint32Array
//! new GaussianProcess({ kernel, variance?, lengthScales?, noise?, normalizeY? })   .fit(x, dims, y, { optimize?, seed? }?)
//!     .predict(x) → { mean, std } .logMarginalLikelihood() .params()
//! expectedImprovement(mean, std, best, xi?) → Float64Array
//! ```

mod checks;
mod init;
mod layers;
mod mlp;
mod optim;
mod split;
mod tune;

use super::{js_err, options_json};
use crate::init::Init;
use wasm_bindgen::prelude::*;

/// Parse an optional `{ scheme, ...options }` init object.
pub(crate) fn init_from(v: &JsValue) -> Result<Init, JsError> {
    if v.is_undefined() || v.is_null() {
        return Ok(Init::default());
    }
    Init::from_json(&options_json(v)?).map_err(js_err)
}

pub(crate) fn sizes_from(sizes: &[u32]) -> Vec<usize> {
    sizes.iter().map(|&s| s as usize).collect()
}
