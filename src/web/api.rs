//! The documented JS API: what a student can call from the browser console or Node.
//!
//! ```text
//! new Mlp(sizes: Uint32Array, activation, seed, init?)   .parameters() .setParameters(p)
//!     .forward(x, batch) .lossAndGradients(x, labels) .gradients()
//! new BatchNorm(features, { eps?, momentum? })   .forward(x, batch, training) .backward(dy)
//!     gamma, beta (get/set); gradGamma, gradBeta, runningMean, runningVar (get)
//! dropout(x, p, training, seed)
//! new Optimizer(name, options?)   .step(params, grads) .reset()
//! initialize(scheme, fanIn, fanOut, seed, options?)
//! ```

use super::{count_from, js_err, options_json, seed_from};
use crate::init::Init;
use crate::nn::{self, Activation, MlpSpec, Penalty, Reduction};
use wasm_bindgen::prelude::*;

/// A multi-layer perceptron (Linear → activation → … → Linear), PyTorch's parameter order.
#[wasm_bindgen(js_name = Mlp)]
pub struct JsMlp {
    pub(crate) inner: nn::Mlp,
}

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

#[wasm_bindgen(js_class = Mlp)]
impl JsMlp {
    /// `sizes` from input to classes (e.g. [784, 128, 10]); `activation` "relu" | "tanh" |
    /// "sigmoid" | "leaky_relu"; `init` e.g. `{ scheme: "xavier_uniform", gain: 1 }`.
    #[wasm_bindgen(constructor)]
    pub fn new(sizes: &[u32], activation: &str, seed: f64, init: JsValue) -> Result<JsMlp, JsError> {
        let activation = Activation::parse(activation).map_err(js_err)?;
        let mut spec = MlpSpec::new(&sizes_from(sizes), activation);
        spec.init = init_from(&init)?;
        Ok(JsMlp { inner: nn::Mlp::new(spec, seed_from(seed)?).map_err(js_err)? })
    }

    /// All parameters, flat: W1 (out×in, row-major), b1, W2, b2, …
    pub fn parameters(&self) -> Vec<f32> {
        self.inner.parameters().to_vec()
    }

    /// Replace all parameters; throws on a wrong length.
    #[wasm_bindgen(js_name = setParameters)]
    pub fn set_parameters(&mut self, p: &[f32]) -> Result<(), JsError> {
        self.inner.set_parameters(p).map_err(js_err)
    }

    /// Logits (batch × classes), row-major, in evaluation mode.
    pub fn forward(&mut self, x: &[f32], batch: f64) -> Result<Vec<f32>, JsError> {
        self.inner.forward(x, count_from(batch, "batch size")?, false).map_err(js_err)
    }

    /// Mean cross-entropy of the batch; fills the gradients.
    #[wasm_bindgen(js_name = lossAndGradients)]
    pub fn loss_and_gradients(&mut self, x: &[f32], labels: &[u32]) -> Result<f32, JsError> {
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
        let o = options_json(&options)?;
        let obj = o.as_object().ok_or_else(|| JsError::new("BatchNorm options must be an object"))?;
        if let Some(k) = obj.keys().find(|k| *k != "eps" && *k != "momentum") {
            return Err(JsError::new(&format!("unknown BatchNorm option '{k}'; expected eps or momentum")));
        }
        let num = |key: &str, default: f64| -> Result<Option<f64>, JsError> {
            match obj.get(key) {
                None => Ok(Some(default)),
                Some(serde_json::Value::Null) => Ok(None),
                Some(v) => v.as_f64().map(Some).ok_or_else(|| JsError::new(&format!("BatchNorm option {key} must be a number"))),
            }
        };
        let eps = num("eps", 1e-5)?.unwrap_or(1e-5) as f32;
        let momentum = num("momentum", 0.1)?.map(|m| m as f32);
        Ok(JsBatchNorm { inner: nn::BatchNorm1d::new(features, eps, momentum).map_err(js_err)? })
    }

    /// y for x (batch × features); `training` uses batch statistics and updates running ones.
    pub fn forward(&mut self, x: &[f32], batch: f64, training: bool) -> Result<Vec<f32>, JsError> {
        self.inner.forward(x, count_from(batch, "batch size")?, training).map_err(js_err)
    }

    /// dx for the last forward; sets gradGamma and gradBeta.
    pub fn backward(&mut self, dy: &[f32]) -> Result<Vec<f32>, JsError> {
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
pub fn dropout(x: &[f32], p: f32, training: bool, seed: f64) -> Result<Vec<f32>, JsError> {
    let key = nn::dropout::key(seed_from(seed)?, 0);
    nn::dropout::forward(x, p, training, key, 0).map(|(y, _)| y).map_err(js_err)
}

/// An optimizer from `torch.optim`: "sgd" | "rprop" | "rmsprop" | "adam" | "adamw", with
/// PyTorch's option names (`lr`, `momentum`, `betas`, `etas`, …).
#[wasm_bindgen(js_name = Optimizer)]
pub struct JsOptimizer {
    inner: Box<dyn crate::optim::Optimizer>,
}

#[wasm_bindgen(js_class = Optimizer)]
impl JsOptimizer {
    #[wasm_bindgen(constructor)]
    pub fn new(name: &str, options: JsValue) -> Result<JsOptimizer, JsError> {
        Ok(JsOptimizer { inner: crate::optim::build(name, &options_json(&options)?).map_err(js_err)? })
    }

    /// Update `params` in place from `grads`.
    pub fn step(&mut self, params: &mut [f32], grads: &[f32]) -> Result<(), JsError> {
        self.inner.step(params, grads).map_err(js_err)
    }

    /// Forget all state.
    pub fn reset(&mut self) {
        self.inner.reset()
    }

    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.name().to_string()
    }

    /// The learning rate, as the shortest decimal that names the f32 (0.001, not 0.0010000000475).
    #[wasm_bindgen(getter)]
    pub fn lr(&self) -> f64 {
        let lr = self.inner.lr();
        lr.to_string().parse().unwrap_or(lr as f64)
    }

    /// A named state buffer (e.g. "step_size", "exp_avg"), or undefined.
    pub fn state(&self, key: &str) -> Option<Vec<f32>> {
        self.inner.state().into_iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_vec())
    }
}

/// Weights for a (fanOut × fanIn) matrix, row-major, drawn by `scheme` ("zeros", "constant",
/// "uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform",
/// "kaiming_normal", "default") with `options` such as `{ gain: 1 }` or `{ a: -1, b: 1 }`.
#[wasm_bindgen]
pub fn initialize(scheme: &str, fan_in: f64, fan_out: f64, seed: f64, options: JsValue) -> Result<Vec<f32>, JsError> {
    let (fan_in, fan_out) = (count_from(fan_in, "fanIn")?, count_from(fan_out, "fanOut")?);
    let mut o = options_json(&options)?;
    let obj = o.as_object_mut().ok_or_else(|| JsError::new("initialize: options must be an object"))?;
    obj.insert("scheme".into(), serde_json::Value::String(scheme.into()));
    let init = Init::from_json(&o).map_err(js_err)?;
    crate::init::initialize(&init, fan_in, fan_out, seed_from(seed)?).map_err(js_err)
}

/// The largest error of the build's own matrix product (`backend::gemm`: the packed kernel,
/// relaxed or plain SIMD, whichever module the page loaded) against the scalar oracle, each
/// difference divided by √k·(1 + |exact|): a self-check of the loaded module (the page's
/// end-to-end test calls it).
#[wasm_bindgen(js_name = gemmMaxError)]
pub fn gemm_max_error(m: usize, k: usize, n: usize, ta: bool, tb: bool) -> f64 {
    let mut rng = crate::Rng::new(7);
    let a: Vec<f32> = (0..m * k).map(|_| rng.normal(0.0, 1.0)).collect();
    let b: Vec<f32> = (0..k * n).map(|_| rng.normal(0.0, 1.0)).collect();
    let c0: Vec<f32> = (0..m * n).map(|_| rng.normal(0.0, 1.0)).collect();
    let (mut c, mut r) = (c0.clone(), c0);
    let op = |t: bool| if t { crate::backend::Op::T } else { crate::backend::Op::N };
    crate::backend::gemm(m, k, n, &a, op(ta), &b, op(tb), 0.5, &mut c);
    crate::backend::reference::gemm(m, k, n, &a, op(ta), &b, op(tb), 0.5, &mut r);
    c.iter().zip(&r).map(|(x, y)| ((x - y).abs() / ((k as f32).sqrt() * (1.0 + y.abs()))) as f64).fold(0.0, f64::max)
}

/// Where a stopping rule would stop a recorded curve (`train::early_stopping`):
/// `earlyStopping(values, { criterion: "patience" | "gl" | "pq" | "up" | "cumulative", mode?,
/// minDelta?, patience?, warmup?, alpha?, strip?, strips?, window?, stoppingThreshold?,
/// divergenceThreshold? }, trainErrors?)` → `{ stop, best, reason }`, 1-based check numbers
/// (null when the rule never fires / no check counted).
#[wasm_bindgen(js_name = earlyStopping)]
pub fn early_stopping(values: &[f64], rule: JsValue, train_errors: Option<Vec<f64>>) -> Result<JsValue, JsError> {
    let rule: crate::train::early_stopping::Rule = super::spec_from(&rule, "stopping rule")?;
    let out = crate::train::early_stopping::evaluate(values, &rule, train_errors.as_deref()).map_err(js_err)?;
    super::to_js(&out)
}
