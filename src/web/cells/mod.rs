//! The cells' wasm classes: each wraps one `lab` experiment and adds nothing but the JS
//! binding. [`experiment!`] writes the verbs every experiment shares — built from
//! `(data, spec)`, `runFor(ms) → bool`, `report()`, `chart(name)`, `draw(name, canvas, dpr)`,
//! `stop()` — so a cell's file is its type and its extra getters, if any.

/// A wasm class `$js` over the lab type `$lab`, built from `$spec` (JSON settings named
/// `$what` in messages).
macro_rules! experiment {
    ($(#[$doc:meta])* $js:ident, $lab:ty, $spec:ty, $what:literal) => {
        $(#[$doc])*
        #[wasm_bindgen::prelude::wasm_bindgen]
        pub struct $js {
            inner: $lab,
            _live: $crate::web::page::Live,
        }

        #[wasm_bindgen::prelude::wasm_bindgen]
        impl $js {
            /// Build the experiment on the page's MNIST split from its settings (see the lab type).
            #[wasm_bindgen::prelude::wasm_bindgen(constructor)]
            pub fn new(data: &$crate::web::notebook::MnistData, spec: wasm_bindgen::JsValue) -> Result<$js, wasm_bindgen::JsError> {
                let spec: $spec = $crate::web::spec_from(&spec, $what)?;
                let inner = <$lab>::new(&data.data(), spec, &$crate::web::page::PageDevice).map_err($crate::web::js_err)?;
                Ok($js { inner, _live: $crate::web::page::Live::new() })
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

            /// The chart `name` as data (`{ kind, title, series, … }`).
            pub fn chart(&self, #[wasm_bindgen::prelude::wasm_bindgen(unchecked_param_type = "string")] name: wasm_bindgen::JsValue) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsError> {
        let name = $crate::web::string_arg(&name, "the chart's name")?;
                $crate::web::to_js(&self.inner.chart(&name).map_err($crate::web::js_err)?)
            }

            /// Draw the chart `name` on `canvas` (sized by the page for `dpr`).
            pub fn draw(&self, #[wasm_bindgen::prelude::wasm_bindgen(unchecked_param_type = "string")] name: wasm_bindgen::JsValue, canvas: web_sys::HtmlCanvasElement, dpr: f64) -> Result<(), wasm_bindgen::JsError> {
        let name = $crate::web::string_arg(&name, "the chart's name")?;
                let chart = self.inner.chart(&name).map_err($crate::web::js_err)?;
                $crate::plot::draw(&$crate::web::canvas::area(canvas)?, &chart, dpr).map_err($crate::web::js_err)
            }

            /// End every run now (the student's Stop).
            pub fn stop(&mut self) {
                self.inner.stop();
            }
        }
    };
}

mod init;
mod pretrain;
mod probe;

experiment!(
    /// The "Optimizer race" cell (`lab::race`).
    Race,
    crate::lab::Race,
    crate::lab::RaceSpec,
    "race settings"
);

experiment!(
    /// Labelled runs side by side (`lab::compare`): the "simple optimizer" cell.
    Compare,
    crate::lab::Compare,
    crate::lab::CompareSpec,
    "settings"
);

mod adaptive;
mod batch;
mod batch_norm;
mod early_stop;
mod frames;
mod history;
mod landscape;
mod pooled;
mod regularization;
mod rprop;
