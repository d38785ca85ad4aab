//! The "Batch normalization" cell (`lab::batch_norm`), `BatchNormCell` in JS (`BatchNorm` is the
//! stand-alone layer of the API): the shared verbs, plus the identity
//! exercise.

use crate::web::{js_err, string_arg, to_js};
use wasm_bindgen::prelude::*;

experiment!(
    /// A deep network plain, with batch-norm and (optionally) with noisy batch-norm, looked
    /// inside as it trains (`lab::batch_norm`).
    BatchNormCell,
    crate::lab::batch_norm::BatchNormLab,
    crate::lab::batch_norm::BatchNormSpec,
    "batch-norm settings"
);

#[wasm_bindgen]
impl BatchNormCell {
    /// The identity exercise: γ ∈ "one" | "var" | "std" | "std_eps" | "inv_std_eps" and β ∈
    /// "zero" | "mean" | "neg_mean", computed from the probe batch's statistics at the chosen
    /// layer; `{ layer, step, gamma, beta, maxDifference, maxInput, unit, row, rows }`.
    pub fn identity(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] gamma: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] beta: JsValue,
    ) -> Result<JsValue, JsError> {
        let gamma = string_arg(&gamma, "the γ choice")?;
        let beta = string_arg(&beta, "the β choice")?;
        to_js(&self.inner.identity(&gamma, &beta).map_err(js_err)?)
    }
}
