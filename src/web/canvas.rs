//! `<canvas>` → plotters drawing area.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsError;
use web_sys::HtmlCanvasElement;

/// A drawing area over the whole canvas (its backing size, already scaled by the page for
/// the device-pixel ratio).
pub fn area(canvas: HtmlCanvasElement) -> Result<DrawingArea<CanvasBackend, Shift>, JsError> {
    CanvasBackend::with_canvas_object(canvas).map(|b| b.into_drawing_area()).ok_or_else(|| JsError::new("this canvas has no 2-D context"))
}
