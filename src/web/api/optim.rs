//! `Optimizer`: the optimizers of `torch.optim` from JS.

use crate::web::{js_err, options_json};
use wasm_bindgen::prelude::*;

/// An optimizer from `torch.optim`: "sgd" | "rprop" | "rmsprop" | "adam" | "adamw", with
/// PyTorch's option names (`lr`, `momentum`, `betas`, `etas`, …).
#[wasm_bindgen(js_name = Optimizer)]
pub struct JsOptimizer {
    inner: Box<dyn crate::optim::Optimizer>,
}

#[wasm_bindgen(js_class = Optimizer)]
impl JsOptimizer {
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "string")] name: JsValue, options: JsValue) -> Result<JsOptimizer, JsError> {
        let name = crate::web::string_arg(&name, "the optimizer's name")?;
        Ok(JsOptimizer { inner: crate::optim::build(&name, &options_json(&options)?).map_err(js_err)? })
    }

    /// Update `params` in place from `grads`.
    pub fn step(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Float32Array")] params: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Float32Array")] grads: JsValue,
    ) -> Result<(), JsError> {
        // Float32Arrays only: any other array would be rounded to f32 and written back as if
        // nothing had happened
        let (params, grads) = (float32_arg(params, "params")?, float32_arg(grads, "grads")?);
        let (mut p, g) = (params.to_vec(), grads.to_vec());
        crate::finite(&p, "params").and_then(|_| crate::finite(&g, "grads")).map_err(js_err)?;
        self.inner.step(&mut p, &g).map_err(js_err)?;
        params.copy_from(&p);
        Ok(())
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
    pub fn state(&self, #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue) -> Result<Option<Vec<f32>>, JsError> {
        let key = crate::web::string_arg(&key, "the state buffer's name")?;
        Ok(self.inner.state().into_iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_vec()))
    }
}

/// A JS value that must be a Float32Array, with a message naming the argument otherwise.
fn float32_arg(v: JsValue, what: &str) -> Result<js_sys::Float32Array, JsError> {
    if v.is_instance_of::<js_sys::Float32Array>() {
        return Ok(v.unchecked_into());
    }
    let got = js_sys::Reflect::get(&v, &"constructor".into())
        .ok()
        .and_then(|c| js_sys::Reflect::get(&c, &"name".into()).ok())
        .and_then(|n| n.as_string())
        .unwrap_or_else(|| if v.is_null() { "null".into() } else { "nothing".into() });
    Err(js_err(crate::Error::new(format!("{what} must be a Float32Array, got {got}"))))
}
