//! `CrossValidation` (`lab::cross_val`): written out, since its runs train in the worker pool —
//! the page hands out its jobs and feeds back what the pool reports.

use crate::lab::cross_val::{CrossVal, CrossValSpec, Ending};
use crate::lab::job::Update;
use crate::web::notebook::MnistData;
use crate::web::page::Live;
use crate::web::{canvas, js_err, spec_from, to_js};
use wasm_bindgen::prelude::*;
use web_sys::HtmlCanvasElement;

/// The "Cross-validation" cell.
#[wasm_bindgen]
pub struct CrossValidation {
    inner: CrossVal,
    _live: Live,
}

#[wasm_bindgen]
impl CrossValidation {
    /// `{ run: RunSpec, n, k, stratified?, holdouts? }`.
    #[wasm_bindgen(constructor)]
    pub fn new(data: &MnistData, spec: JsValue) -> Result<CrossValidation, JsError> {
        let spec: CrossValSpec = spec_from(&spec, "settings")?;
        Ok(CrossValidation { inner: CrossVal::new(&data.train, data.test.clone(), spec).map_err(js_err)?, _live: Live::new() })
    }

    /// The jobs ready for the pool that were not handed out yet (the folds and holdouts at
    /// first; the retrain once the folds have ended): ask again after each ending.
    pub fn jobs(&mut self) -> Result<JsValue, JsError> {
        to_js(&self.inner.jobs())
    }

    /// Job `i` reported `update` (`{ steps, totalSteps, stepLoss, epochs, checks }`).
    pub fn absorb(&mut self, i: usize, update: JsValue) -> Result<(), JsError> {
        let update: Update = spec_from(&update, "job update")?;
        self.inner.absorb(i, update).map_err(js_err)
    }

    /// Job `i` ended: `result` is the pool's (`{ status, message, computeMs, bestCheck,
    /// stoppedAt, test, … }`; its history came in updates), `parameters` when it kept them.
    pub fn finish(&mut self, i: usize, result: JsValue, parameters: Option<Vec<f32>>) -> Result<(), JsError> {
        let ending: Ending = spec_from(&result, "job result")?;
        self.inner.finish(i, ending, parameters).map_err(js_err)
    }

    /// Whether work is left: the pool does it, so this only says whether any job is out.
    #[wasm_bindgen(js_name = runFor)]
    pub fn run_for(&mut self, _budget_ms: f64) -> bool {
        self.inner.active()
    }

    pub fn report(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.report())
    }

    pub fn chart(&self, name: &str) -> Result<JsValue, JsError> {
        to_js(&self.inner.chart(name).map_err(js_err)?)
    }

    pub fn draw(&self, name: &str, canvas_el: HtmlCanvasElement, dpr: f64) -> Result<(), JsError> {
        let chart = self.inner.chart(name).map_err(js_err)?;
        crate::plot::draw(&canvas::area(canvas_el)?, &chart, dpr).map_err(js_err)
    }

    /// Every job still out counts as stopped (the page cancels them in the pool).
    pub fn stop(&mut self) {
        self.inner.stop();
    }

    /// Every fold's and holdout's full record (for the Export menu).
    pub fn history(&self) -> Result<JsValue, JsError> {
        let report = self.inner.report();
        let names = report.folds.iter().chain(&report.holdouts).map(|r| r.name.clone());
        let all: Vec<_> =
            names.zip(self.inner.histories()).map(|(label, history)| serde_json::json!({ "label": label, "history": history })).collect();
        to_js(&all)
    }
}
