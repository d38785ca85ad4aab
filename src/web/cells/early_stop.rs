//! `EarlyStop` (`lab::early_stop`): written out rather than by `experiment!`, since it also
//! takes the page's test set and can change its rules without training again.

use crate::lab::early_stop::{EarlyStop as Lab, EarlyStopSpec};
use crate::train::early_stopping::Rule;
use crate::web::notebook::MnistData;
use crate::web::page::{Live, PageClock, PageDevice};
use crate::web::{canvas, js_err, spec_from, to_js};
use wasm_bindgen::prelude::*;
use web_sys::HtmlCanvasElement;

/// The "Tracking metrics and early stopping" cell.
#[wasm_bindgen]
pub struct EarlyStop {
    inner: Lab,
    _live: Live,
}

#[wasm_bindgen]
impl EarlyStop {
    /// `{ run: RunSpec, monitor?: "val_loss" | "val_error", rules: [{ criterion, … }] }`.
    #[wasm_bindgen(constructor)]
    pub fn new(data: &MnistData, spec: JsValue) -> Result<EarlyStop, JsError> {
        let spec: EarlyStopSpec = spec_from(&spec, "settings")?;
        let inner = Lab::new(&data.data(), Some(data.test.clone()), spec, &PageDevice).map_err(js_err)?;
        Ok(EarlyStop { inner, _live: Live::new() })
    }

    /// Apply other rules to the recorded run, read as if validated every `validateEvery`
    /// epochs (no training).
    #[wasm_bindgen(js_name = setRules)]
    pub fn set_rules(&mut self, rules: JsValue, validate_every: f64) -> Result<(), JsError> {
        let rules: Vec<Rule> = spec_from(&rules, "stopping rules")?;
        let every = crate::count(validate_every, "validateEvery").map_err(js_err)?;
        self.inner.set_rules(rules, every).map_err(js_err)
    }

    #[wasm_bindgen(js_name = runFor)]
    pub fn run_for(&mut self, budget_ms: f64) -> Result<bool, JsError> {
        self.inner.run_for(budget_ms, &PageClock).map_err(js_err)
    }

    pub fn report(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.report())
    }

    pub fn chart(&self, #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue) -> Result<JsValue, JsError> {
        let name = crate::web::string_arg(&name, "the chart's name")?;
        to_js(&self.inner.chart(&name).map_err(js_err)?)
    }

    pub fn draw(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        canvas_el: HtmlCanvasElement,
        dpr: f64,
    ) -> Result<(), JsError> {
        let name = crate::web::string_arg(&name, "the chart's name")?;
        let chart = self.inner.chart(&name).map_err(js_err)?;
        crate::plot::draw(&canvas::area(canvas_el)?, &chart, dpr).map_err(js_err)
    }

    pub fn stop(&mut self) {
        self.inner.stop();
    }

    /// The run's record as CSV: a header row, then one row per step with the epoch and check
    /// columns filled in where they were taken (`History::to_csv`).
    #[wasm_bindgen(js_name = historyCsv)]
    pub fn history_csv(&self) -> String {
        self.inner.trainer().history().to_csv()
    }

    /// The run's full record (for the Export menu).
    pub fn history(&self) -> Result<JsValue, JsError> {
        to_js(&[serde_json::json!({ "label": "run", "history": self.inner.trainer().history() })])
    }
}
