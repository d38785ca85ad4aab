//! Charts from the page: `drawChart`, `drawCurves`, `chartCsv` (see `plot::chart`).

use super::{canvas, js_err};
use crate::plot::{self, Chart};
use wasm_bindgen::prelude::*;
use web_sys::HtmlCanvasElement;

/// A chart from the page: `{ kind?, title, xLabel, yLabel, … }` (see `plot::chart` for the
/// kinds); `kind` defaults to "lines".
pub(crate) fn chart_from(v: &JsValue) -> Result<Chart, JsError> {
    let mut json = super::plain_json(v)?;
    if let Some(o) = json.as_object_mut() {
        o.entry("kind").or_insert_with(|| "lines".into());
    }
    Chart::from_json(json).map_err(js_err)
}

/// Draw any chart (see [`chart_from`]) on a canvas sized for `dpr`.
#[wasm_bindgen(js_name = drawChart)]
pub fn draw_chart(canvas_el: HtmlCanvasElement, chart: JsValue, dpr: f64) -> Result<(), JsError> {
    plot::draw(&canvas::area(canvas_el)?, &chart_from(&chart)?, dpr).map_err(js_err)
}

/// Line charts: `{ title, xLabel, yLabel, xMax?, yRange?, series: [{ name, x?, y, color,
/// dashed, markers }], marks: [[x, "text"]] }` (`drawChart` with kind "lines").
#[wasm_bindgen(js_name = drawCurves)]
pub fn draw_curves(canvas_el: HtmlCanvasElement, chart: JsValue, dpr: f64) -> Result<(), JsError> {
    draw_chart(canvas_el, chart, dpr)
}

/// A chart's data as CSV with a header row (see `plot::Chart::to_csv`).
#[wasm_bindgen(js_name = chartCsv)]
pub fn chart_csv(chart: JsValue) -> Result<String, JsError> {
    Ok(chart_from(&chart)?.to_csv())
}
