//! `Mlp`: a multi-layer perceptron from JS.

use super::{init_from, sizes_from};
use crate::nn::{self, Activation, MlpSpec, Penalty, Reduction};
use crate::web::{count_from, js_err, options_json, seed_from, to_js};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// A per-hidden-layer setting as JS gives it: one value for every hidden layer, or a list.
#[derive(Deserialize)]
#[serde(untagged)]
enum PerLayer<T> {
    One(T),
    Each(Vec<T>),
}

impl<T> PerLayer<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            PerLayer::One(v) => vec![v],
            PerLayer::Each(v) => v,
        }
    }
}

/// `new Mlp(…, options)`: the layers besides Linear and the activation.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MlpOptions {
    /// Batch-norm after each hidden Linear: `true`, or one boolean per hidden layer.
    #[serde(default)]
    batch_norm: Option<PerLayer<bool>>,
    /// Dropout after each hidden activation: one probability, or one per hidden layer.
    #[serde(default)]
    dropout: Option<PerLayer<f32>>,
    /// Dropout on the input, before the first Linear (default 0).
    #[serde(default)]
    input_dropout: Option<f32>,
    /// Batch-norm momentum (PyTorch's convention, default 0.1) and eps (default 1e-5).
    #[serde(default)]
    bn_momentum: Option<f32>,
    #[serde(default)]
    bn_eps: Option<f32>,
}

/// `mlp.forward(x, batch, options)`.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ForwardOptions {
    /// Training mode: batch statistics (and their running update) and dropout on.
    #[serde(default)]
    training: bool,
    /// Which dropout masks a training pass draws: those of training pass number `seed` (the
    /// same seed, the same masks); default the next pass's.
    #[serde(default)]
    seed: Option<f64>,
}

/// `mlp.batchNormStats(layer)`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchNormStats {
    running_mean: Vec<f32>,
    running_var: Vec<f32>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

/// A multi-layer perceptron (Linear → activation → … → Linear), PyTorch's parameter order.
#[wasm_bindgen(js_name = Mlp)]
pub struct JsMlp {
    pub(crate) inner: nn::Mlp,
}

#[wasm_bindgen(js_class = Mlp)]
impl JsMlp {
    /// `sizes` from input to classes (e.g. [784, 128, 10]); `activation` "relu" | "tanh" |
    /// "sigmoid" | "leaky_relu"; `init` e.g. `{ scheme: "xavier_uniform", gain: 1 }`;
    /// `options` `{ batchNorm?: boolean | boolean[], dropout?: number | number[],
    /// inputDropout?: number, bnMomentum?: number, bnEps?: number }` (per hidden layer: one value for all, or a list).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Uint32Array | number[]")] sizes: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] activation: JsValue,
        seed: f64,
        init: JsValue,
        options: JsValue,
    ) -> Result<JsMlp, JsError> {
        let activation = Activation::parse(&crate::web::string_arg(&activation, "activation")?).map_err(js_err)?;
        let mut spec = MlpSpec::new(&sizes_from(&crate::web::convert::u32s(&sizes, "sizes")?), activation);
        spec.init = init_from(&init)?;
        let options: MlpOptions =
            serde_json::from_value(options_json(&options)?).map_err(|e| js_err(crate::Error::new(format!("Mlp options: {e}"))))?;
        spec.batch_norm = options.batch_norm.map(PerLayer::into_vec).unwrap_or_default();
        spec.dropout = options.dropout.map(PerLayer::into_vec).unwrap_or_default();
        spec.input_dropout = options.input_dropout.unwrap_or(0.0);
        if let Some(m) = options.bn_momentum {
            spec.bn_momentum = m;
        }
        if let Some(e) = options.bn_eps {
            spec.bn_eps = e;
        }
        Ok(JsMlp { inner: nn::Mlp::new(spec, seed_from(seed)?).map_err(js_err)? })
    }

    /// All parameters, flat: W1 (out×in, row-major), b1, W2, b2, …
    pub fn parameters(&self) -> Vec<f32> {
        self.inner.parameters().to_vec()
    }

    /// Replace all parameters; throws on a wrong length.
    #[wasm_bindgen(js_name = setParameters)]
    pub fn set_parameters(&mut self, #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] p: JsValue) -> Result<(), JsError> {
        self.inner.set_parameters(&crate::web::convert::f32s(&p, "parameters")?).map_err(js_err)
    }

    /// Logits (batch × classes), row-major. Evaluation mode (running statistics, no dropout)
    /// unless `options.training`: then batch statistics, which update the running ones, and
    /// dropout, with the masks of training pass `options.seed` (default: the next pass).
    pub fn forward(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] x: JsValue,
        batch: f64,
        options: JsValue,
    ) -> Result<Vec<f32>, JsError> {
        let x = &crate::web::convert::f32s(&x, "x")?[..];
        crate::finite(x, "x").map_err(js_err)?;
        let options: ForwardOptions =
            serde_json::from_value(options_json(&options)?).map_err(|e| js_err(crate::Error::new(format!("forward options: {e}"))))?;
        if let Some(seed) = options.seed {
            let step = crate::seed(seed).map_err(js_err)?;
            if step > u32::MAX as u64 {
                return Err(js_err(crate::Error::new(format!("forward options: seed {step} is too large (use 0 to {})", u32::MAX))));
            }
            self.inner.set_dropout_step(step as u32);
        }
        self.inner.forward(x, count_from(batch, "batch size")?, options.training).map_err(js_err)
    }

    /// Layer `layer`'s batch-norm: `{ runningMean, runningVar, gamma, beta }` (hidden layers
    /// count from 0); throws when that layer has none.
    #[wasm_bindgen(js_name = batchNormStats)]
    pub fn batch_norm_stats(&self, layer: f64) -> Result<JsValue, JsError> {
        let l = count_from(layer, "layer")?;
        let hidden = self.inner.num_layers() - 1;
        let stats = (l < hidden).then(|| (self.inner.running_stats(l), self.inner.bn_affine(l)));
        let Some((Some((mean, var)), Some((gamma, beta)))) = stats else {
            return Err(js_err(crate::Error::new(format!(
                "layer {l} has no batch-norm (the network has {hidden} hidden layers; batch-norm is set by new Mlp(…, {{ batchNorm }}))"
            ))));
        };
        to_js(&BatchNormStats { running_mean: mean.to_vec(), running_var: var.to_vec(), gamma: gamma.to_vec(), beta: beta.to_vec() })
    }

    /// Mean cross-entropy of the batch; fills the gradients.
    #[wasm_bindgen(js_name = lossAndGradients)]
    pub fn loss_and_gradients(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] x: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint32Array | number[]")] labels: JsValue,
    ) -> Result<f32, JsError> {
        let (x, labels) = (&crate::web::convert::f32s(&x, "x")?[..], &crate::web::convert::u32s(&labels, "labels")?[..]);
        crate::finite(x, "x").map_err(js_err)?;
        self.inner.loss_and_gradients(x, labels, Reduction::Mean, Penalty::default()).map_err(js_err)
    }

    /// Gradients from the last `lossAndGradients`, same order as `parameters()`.
    pub fn gradients(&self) -> Vec<f32> {
        self.inner.gradients().to_vec()
    }

    /// Number of parameters.
    #[wasm_bindgen(getter, js_name = parameterCount)]
    pub fn parameter_count(&self) -> usize {
        self.inner.parameters().len()
    }
}
