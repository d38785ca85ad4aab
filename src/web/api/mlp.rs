//! `Mlp`: a multi-layer perceptron from JS.

use super::{init_from, sizes_from};
use crate::nn::{self, Activation, MlpSpec, Penalty, Reduction};
use crate::web::{count_from, js_err, seed_from};
use wasm_bindgen::prelude::*;

/// A multi-layer perceptron (Linear → activation → … → Linear), PyTorch's parameter order.
#[wasm_bindgen(js_name = Mlp)]
pub struct JsMlp {
    pub(crate) inner: nn::Mlp,
}

#[wasm_bindgen(js_class = Mlp)]
impl JsMlp {
    /// `sizes` from input to classes (e.g. [784, 128, 10]); `activation` "relu" | "tanh" |
    /// "sigmoid" | "leaky_relu"; `init` e.g. `{ scheme: "xavier_uniform", gain: 1 }`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        sizes: &[u32],
        #[wasm_bindgen(unchecked_param_type = "string")] activation: JsValue,
        seed: f64,
        init: JsValue,
    ) -> Result<JsMlp, JsError> {
        let activation = Activation::parse(&crate::web::string_arg(&activation, "activation")?).map_err(js_err)?;
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
        crate::finite(x, "x").map_err(js_err)?;
        self.inner.forward(x, count_from(batch, "batch size")?, false).map_err(js_err)
    }

    /// Mean cross-entropy of the batch; fills the gradients.
    #[wasm_bindgen(js_name = lossAndGradients)]
    pub fn loss_and_gradients(&mut self, x: &[f32], labels: &[u32]) -> Result<f32, JsError> {
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
