//! Animating two-pass charts cheaply, and the wrapper of experiments that need no MNIST.
//!
//! [`Stills`] keeps, per chart name, a spare canvas holding the chart's still pass (a
//! contour map, a log chart's frame: slow to draw and unchanged from frame to frame, as
//! `plot::Chart::still_key` says); each draw copies it onto the page's canvas and draws only
//! the moving pass. Kinds drawn in one pass are drawn whole.
//!
//! [`standalone!`] writes the same verbs as `experiment!` for a lab type built from its spec
//! alone (`new Landscape(spec)`), drawing through [`Stills`].

use crate::plot::{self, Chart};
use crate::web::{canvas, js_err};
use std::collections::HashMap;
use wasm_bindgen::{JsCast, JsError};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// Still passes by chart name: (what they show, the spare canvas showing it).
#[derive(Default)]
pub struct Stills(HashMap<String, (String, HtmlCanvasElement)>);

impl Stills {
    /// Draw `chart` on `canvas` (sized by the page for `dpr`), redrawing its still pass only
    /// when it changed or the canvas did.
    pub fn draw(&mut self, name: &str, chart: &Chart, canvas: HtmlCanvasElement, dpr: f64) -> Result<(), JsError> {
        let Some(key) = chart.still_key() else {
            return plot::draw(&canvas::area(canvas)?, chart, dpr).map_err(js_err);
        };
        let (w, h) = (canvas.width(), canvas.height());
        let key = format!("{key} on {w}×{h} at {dpr}");
        if self.0.get(name).is_none_or(|(k, _)| *k != key) {
            let spare = match self.0.remove(name) {
                Some((_, c)) => c,
                None => spare_canvas()?,
            };
            spare.set_width(w);
            spare.set_height(h);
            plot::draw_still(&canvas::area(spare.clone())?, chart, dpr).map_err(js_err)?;
            self.0.insert(name.to_string(), (key, spare));
        }
        let ctx = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
            .ok_or_else(|| JsError::new("this canvas has no 2-D context"))?;
        ctx.draw_image_with_html_canvas_element(&self.0[name].1, 0.0, 0.0).map_err(|_| JsError::new("could not copy the chart's frame"))?;
        plot::draw_moving(&canvas::area(canvas)?, chart, dpr).map_err(js_err)
    }
}

fn spare_canvas() -> Result<HtmlCanvasElement, JsError> {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("canvas").ok())
        .and_then(|e| e.dyn_into::<HtmlCanvasElement>().ok())
        .ok_or_else(|| JsError::new("no document to make a spare canvas in"))
}

/// A wasm class `$js` over the lab type `$lab`, built from `$spec` alone (JSON settings named
/// `$what` in messages), with `runFor`, `report`, `chart`, `draw` and `stop`.
macro_rules! standalone {
    ($(#[$doc:meta])* $js:ident, $lab:ty, $spec:ty, $what:literal) => {
        $(#[$doc])*
        #[wasm_bindgen::prelude::wasm_bindgen]
        pub struct $js {
            inner: $lab,
            stills: $crate::web::cells::frames::Stills,
            _live: $crate::web::page::Live,
        }

        #[wasm_bindgen::prelude::wasm_bindgen]
        impl $js {
            /// Build the experiment from its settings (see the lab type).
            #[wasm_bindgen::prelude::wasm_bindgen(constructor)]
            pub fn new(spec: wasm_bindgen::JsValue) -> Result<$js, wasm_bindgen::JsError> {
                let spec: $spec = $crate::web::spec_from(&spec, $what)?;
                let inner = <$lab>::new(spec).map_err($crate::web::js_err)?;
                Ok($js { inner, stills: Default::default(), _live: $crate::web::page::Live::new() })
            }

            /// Work for about `budget_ms` milliseconds; true while work is left.
            #[wasm_bindgen::prelude::wasm_bindgen(js_name = runFor)]
            pub fn run_for(&mut self, budget_ms: f64) -> Result<bool, wasm_bindgen::JsError> {
                self.inner.run_for(budget_ms, &$crate::web::page::PageClock).map_err($crate::web::js_err)
            }

            /// What the read-out shows: `{ status, progress: { done, total }, … }`.
            pub fn report(&self) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsError> {
                $crate::web::to_js(&self.inner.report())
            }

            /// The chart `name` as data (`{ kind, title, … }`).
            pub fn chart(&self, #[wasm_bindgen::prelude::wasm_bindgen(unchecked_param_type = "string")] name: wasm_bindgen::JsValue) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsError> {
        let name = $crate::web::string_arg(&name, "the chart's name")?;
                $crate::web::to_js(&self.inner.chart(&name).map_err($crate::web::js_err)?)
            }

            /// Draw the chart `name` on `canvas` (sized by the page for `dpr`), keeping a copy
            /// of its still pass between frames.
            pub fn draw(&mut self, #[wasm_bindgen::prelude::wasm_bindgen(unchecked_param_type = "string")] name: wasm_bindgen::JsValue, canvas: web_sys::HtmlCanvasElement, dpr: f64) -> Result<(), wasm_bindgen::JsError> {
        let name = $crate::web::string_arg(&name, "the chart's name")?;
                let chart = self.inner.chart(&name).map_err($crate::web::js_err)?;
                self.stills.draw(&name, &chart, canvas, dpr)
            }

            /// The student's Stop.
            pub fn stop(&mut self) {
                self.inner.stop();
            }
        }
    };
}
pub(crate) use standalone;
