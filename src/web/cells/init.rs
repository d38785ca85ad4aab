//! The initialization cells' experiments (`lab::equal_start`, `lab::init_runs`).

use wasm_bindgen::prelude::*;

experiment!(
    /// "Why not start equal?": the equal start beside a random one (`lab::equal_start`).
    EqualStart,
    crate::lab::equal_start::EqualStart,
    crate::lab::equal_start::EqualSpec,
    "equal-start settings"
);

experiment!(
    /// "Random, Xavier, He": every built-in scheme trained on one network (`lab::init_runs`).
    SchemeRuns,
    crate::lab::init_runs::SchemeRuns,
    crate::lab::init_runs::SchemesSpec,
    "scheme settings"
);

experiment!(
    /// "Your turn": the student's start beside a built-in scheme (`lab::init_runs`).
    CustomRuns,
    crate::lab::init_runs::CustomRuns,
    crate::lab::init_runs::CustomSpec,
    "custom-start settings"
);

#[wasm_bindgen]
impl CustomRuns {
    /// Run `run`'s trained parameters as a weights file (the JSON `parseWeights` reads).
    #[wasm_bindgen(js_name = weightsJson)]
    pub fn weights_json(&self, run: f64) -> Result<String, JsError> {
        self.inner.weights_json(crate::web::count_from(run, "run")?).map_err(super::super::js_err)
    }
}
