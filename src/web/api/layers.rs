//! `BatchNorm` and `dropout` from JS.

use crate::nn;
use crate::web::{count_from, js_err, options_json, seed_from};
use wasm_bindgen::prelude::*;

/// Batch normalization over (batch × features), as `torch.nn.BatchNorm1d`.
#[wasm_bindgen(js_name = BatchNorm)]
pub struct JsBatchNorm {
    inner: nn::BatchNorm1d,
}

#[wasm_bindgen(js_class = BatchNorm)]
impl JsBatchNorm {
    /// `options`: `{ eps = 1e-5, momentum = 0.1 }` (`momentum: null` = cumulative average).
    #[wasm_bindgen(constructor)]
    pub fn new(features: f64, options: JsValue) -> Result<JsBatchNorm, JsError> {
        let features = count_from(features, "number of features")?;
        let (eps, momentum) = nn::batch_norm::options_from_json(&options_json(&options)?).map_err(js_err)?;
        Ok(JsBatchNorm { inner: nn::BatchNorm1d::new(features, eps, momentum).map_err(js_err)? })
    }

    /// y for x (batch × features); `training` uses batch statistics and updates running ones.
    pub fn forward(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] x: JsValue,
        batch: f64,
        training: bool,
    ) -> Result<Vec<f32>, JsError> {
        let x = &crate::web::convert::f32s(&x, "x")?[..];
        crate::finite(x, "x").map_err(js_err)?;
        self.inner.forward(x, count_from(batch, "batch size")?, training).map_err(js_err)
    }

    /// dx for the last forward; sets gradGamma and gradBeta.
    pub fn backward(&mut self, #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] dy: JsValue) -> Result<Vec<f32>, JsError> {
        let dy = &crate::web::convert::f32s(&dy, "dy")?[..];
        crate::finite(dy, "dy").map_err(js_err)?;
        self.inner.backward(dy).map_err(js_err)
    }

    #[wasm_bindgen(getter)]
    pub fn gamma(&self) -> Vec<f32> {
        self.inner.gamma.clone()
    }
    #[wasm_bindgen(setter)]
    pub fn set_gamma(&mut self, v: Vec<f32>) -> Result<(), JsError> {
        self.inner.set_gamma(&v).map_err(js_err)
    }
    #[wasm_bindgen(getter)]
    pub fn beta(&self) -> Vec<f32> {
        self.inner.beta.clone()
    }
    #[wasm_bindgen(setter)]
    pub fn set_beta(&mut self, v: Vec<f32>) -> Result<(), JsError> {
        self.inner.set_beta(&v).map_err(js_err)
    }
    #[wasm_bindgen(getter, js_name = gradGamma)]
    pub fn grad_gamma(&self) -> Vec<f32> {
        self.inner.grad_gamma.clone()
    }
    #[wasm_bindgen(getter, js_name = gradBeta)]
    pub fn grad_beta(&self) -> Vec<f32> {
        self.inner.grad_beta.clone()
    }
    #[wasm_bindgen(getter, js_name = runningMean)]
    pub fn running_mean(&self) -> Vec<f32> {
        self.inner.state.running_mean.clone()
    }
    #[wasm_bindgen(getter, js_name = runningVar)]
    pub fn running_var(&self) -> Vec<f32> {
        self.inner.state.running_var.clone()
    }
}

/// Inverted dropout: in training, keep each value with probability 1 − p and scale it by
/// 1/(1 − p); in evaluation, return x unchanged. The mask is the one a model seeded with
/// `seed` draws for its first layer at its first training step (`nn::dropout`).
#[wasm_bindgen]
pub fn dropout(
    #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] x: JsValue,
    p: f32,
    training: bool,
    seed: f64,
) -> Result<Vec<f32>, JsError> {
    let x = &crate::web::convert::f32s(&x, "x")?[..];
    let key = nn::dropout::key(seed_from(seed)?, 0);
    nn::dropout::forward(x, p, training, key, 0).map(|(y, _)| y).map_err(js_err)
}
