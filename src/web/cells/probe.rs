//! The layer probe of the initialization cells (`lab::probe`): computed once when built, so
//! it has no `runFor`; its read-out and charts work like an experiment's.

use crate::web::{canvas, js_err, notebook::MnistData, page::Live, spec_from, to_js};
use wasm_bindgen::prelude::*;
use web_sys::HtmlCanvasElement;

/// One forward and backward pass per start, every layer's signals kept.
#[wasm_bindgen]
pub struct LayerProbe {
    inner: crate::lab::probe::Probe,
    _live: Live,
}

#[wasm_bindgen]
impl LayerProbe {
    /// `spec`: `{ hidden, activation, seed, batch?, starts: [{ from: "scheme", key } | …] }`.
    #[wasm_bindgen(constructor)]
    pub fn new(data: &MnistData, spec: JsValue) -> Result<LayerProbe, JsError> {
        let spec = spec_from(&spec, "probe settings")?;
        let inner = crate::lab::probe::Probe::new(&data.data(), spec).map_err(js_err)?;
        Ok(LayerProbe { inner, _live: Live::new() })
    }

    /// `{ batch, hidden, activation, starts: [{ label, loss, activationStd, gradientStd, zeroFraction }] }`.
    pub fn report(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.report())
    }

    /// The chart `name` as data.
    pub fn chart(&self, #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue) -> Result<JsValue, JsError> {
        let name = crate::web::string_arg(&name, "the chart's name")?;
        to_js(&self.inner.chart(&name).map_err(js_err)?)
    }

    /// Draw the chart `name` on `canvas` (sized by the page for `dpr`).
    pub fn draw(&self, #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue, canvas: HtmlCanvasElement, dpr: f64) -> Result<(), JsError> {
        let name = crate::web::string_arg(&name, "the chart's name")?;
        let chart = self.inner.chart(&name).map_err(js_err)?;
        crate::plot::draw(&canvas::area(canvas)?, &chart, dpr).map_err(js_err)
    }
}
