//! The "L1 and L2" cell's wasm class (`lab::regularization`), with the live λ control.

use wasm_bindgen::prelude::*;

experiment!(
    /// None, L1, L2 and (under Adam) AdamW from one seed (`lab::regularization`): charts
    /// "error", "magnitudes" and "weights0" … "weights3".
    Regularization,
    crate::lab::regularization::Regularization,
    crate::lab::regularization::RegularizationSpec,
    "settings"
);

#[wasm_bindgen]
impl Regularization {
    /// Move λ₁, λ₂ (given in `convention`: "pytorch" | "keras" | "playground") and the L1 mode
    /// ("subgradient" | "proximal") while the runs train; the L1 and L2 runs take them from
    /// their next step, marked on the curves.
    #[wasm_bindgen(js_name = setPenalty)]
    pub fn set_penalty(&mut self, l1: f32, l2: f32, convention: &str, l1_mode: &str) -> Result<(), JsError> {
        self.inner.set_penalty(l1, l2, convention, l1_mode).map_err(crate::web::js_err)
    }
}

experiment!(
    /// The "Dropout" cell (`lab::dropout`): with and without dropout from one seed, then train vs
    /// eval mode, the scaling lab and the ensemble of dropout passes; charts "error", "modes",
    /// "ensemble" and "disputed".
    Dropout,
    crate::lab::dropout::Dropout,
    crate::lab::dropout::DropoutSpec,
    "settings"
);

#[wasm_bindgen]
impl Dropout {
    /// Move the dropout run's p (every hidden layer) and input p while it trains; it takes them
    /// from its next step, marked on the curves.
    #[wasm_bindgen(js_name = setP)]
    pub fn set_p(&mut self, p: f32, input_p: f32) -> Result<(), JsError> {
        self.inner.set_p(p, input_p).map_err(crate::web::js_err)
    }
}
