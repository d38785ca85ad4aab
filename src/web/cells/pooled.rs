//! `pooled_experiment!`: the wasm class of a lab experiment whose runs train in the worker
//! pool (`lab::pooled`). The page hands out its jobs and feeds back what the pool reports
//! (`www/pool.js`, `pooled()`); the class has defineCell's verbs besides.

/// `pooled_experiment!(JsName, lab::Type, lab::Spec, |data, spec| build)`: `build` makes the
/// lab type from the page's `MnistData` and the parsed spec.
macro_rules! pooled_experiment {
    ($name:ident, $lab:ty, $spec:ty, |$data:ident, $s:ident| $build:expr) => {
        #[wasm_bindgen::prelude::wasm_bindgen]
        pub struct $name {
            inner: $lab,
            _live: $crate::web::page::Live,
        }

        #[wasm_bindgen::prelude::wasm_bindgen]
        impl $name {
            #[wasm_bindgen::prelude::wasm_bindgen(constructor)]
            pub fn new($data: &$crate::web::notebook::MnistData, spec: wasm_bindgen::JsValue) -> Result<$name, wasm_bindgen::JsError> {
                let $s: $spec = $crate::web::spec_from(&spec, "settings")?;
                let inner: $crate::Result<$lab> = $build;
                Ok($name { inner: inner.map_err($crate::web::js_err)?, _live: $crate::web::page::Live::new() })
            }

            /// The jobs ready for the pool that were not handed out yet: ask again after each
            /// ending (some experiments hand out later jobs once earlier ones have ended).
            pub fn jobs(&mut self) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsError> {
                $crate::web::to_js(&self.inner.jobs())
            }

            /// Job `i` reported `update` (`{ steps, totalSteps, stepLoss, epochs, checks }`).
            pub fn absorb(&mut self, i: f64, update: wasm_bindgen::JsValue) -> Result<(), wasm_bindgen::JsError> {
                let i = $crate::web::count_from(i, "job index")?;
                let update: $crate::lab::job::Update = $crate::web::report_from(&update, "job update")?;
                self.inner.absorb(i, update).map_err($crate::web::js_err)
            }

            /// Job `i` ended: `result` is the pool's (`{ status, message, computeMs, bestCheck,
            /// stoppedAt, test, … }`; its history came in updates), `parameters` when it kept them.
            pub fn finish(&mut self, i: f64, result: wasm_bindgen::JsValue, parameters: Option<Vec<f32>>) -> Result<(), wasm_bindgen::JsError> {
                let i = $crate::web::count_from(i, "job index")?;
                let ending: $crate::lab::pooled::Ending = $crate::web::report_from(&result, "job result")?;
                self.inner.finish(i, ending, parameters).map_err($crate::web::js_err)
            }

            /// Work for about `budget_ms` on this thread (most experiments have none: the pool
            /// does the training); true while any job is out or work is left.
            #[wasm_bindgen::prelude::wasm_bindgen(js_name = runFor)]
            pub fn run_for(&mut self, budget_ms: f64) -> Result<bool, wasm_bindgen::JsError> {
                self.inner.run_for(budget_ms, &$crate::web::page::PageClock).map_err($crate::web::js_err)
            }

            pub fn report(&self) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsError> {
                $crate::web::to_js(&self.inner.report())
            }

            pub fn chart(&self, #[wasm_bindgen::prelude::wasm_bindgen(unchecked_param_type = "string")] name: wasm_bindgen::JsValue) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsError> {
        let name = $crate::web::string_arg(&name, "the chart's name")?;
                $crate::web::to_js(&self.inner.chart(&name).map_err($crate::web::js_err)?)
            }

            pub fn draw(&self, #[wasm_bindgen::prelude::wasm_bindgen(unchecked_param_type = "string")] name: wasm_bindgen::JsValue, canvas: web_sys::HtmlCanvasElement, dpr: f64) -> Result<(), wasm_bindgen::JsError> {
        let name = $crate::web::string_arg(&name, "the chart's name")?;
                let chart = self.inner.chart(&name).map_err($crate::web::js_err)?;
                $crate::plot::draw(&$crate::web::canvas::area(canvas)?, &chart, dpr).map_err($crate::web::js_err)
            }

            /// Every job still out counts as stopped (the page cancels them in the pool).
            pub fn stop(&mut self) {
                self.inner.stop();
            }

            /// Every job's full record, named (for the Export menu).
            pub fn history(&self) -> Result<wasm_bindgen::JsValue, wasm_bindgen::JsError> {
                let all: Vec<_> =
                    self.inner.histories().into_iter().map(|(label, history)| serde_json::json!({ "label": label, "history": history })).collect();
                $crate::web::to_js(&all)
            }
        }
    };
}

pooled_experiment!(CrossValidation, crate::lab::cross_val::CrossVal, crate::lab::cross_val::CrossValSpec, |data, spec| {
    crate::lab::cross_val::CrossVal::new(&data.train, data.test.clone(), spec)
});

pooled_experiment!(OverfitCurves, crate::lab::overfit::Overfit, crate::lab::overfit::OverfitSpec, |data, spec| {
    crate::lab::overfit::Overfit::new(&data.train, &data.test, spec)
});

pooled_experiment!(HyperSearch, crate::lab::tuning::Tuning, crate::lab::tuning::TuningSpec, |data, spec| {
    crate::lab::tuning::Tuning::new(spec, data.train.len(), data.validation.len(), data.train.features, data.train.classes)
});

#[wasm_bindgen::prelude::wasm_bindgen]
impl HyperSearch {
    /// Show the model that chose Bayesian optimization's trial `trial` (from 1; 0: the latest),
    /// sliced along `axis` (0 or 1).
    pub fn inspect(&mut self, trial: f64, axis: f64) -> Result<(), wasm_bindgen::JsError> {
        let trial = crate::web::count_from(trial, "trial")?;
        let shown = (trial > 0).then_some(trial);
        self.inner.inspect(shown, crate::web::count_from(axis, "axis")?).map_err(crate::web::js_err)
    }

    /// A count that changes whenever a trial is handed out or ends (the page redraws then).
    pub fn revision(&self) -> usize {
        self.inner.revision()
    }

    /// "Next trial" (a run with `step: true`): while Bayesian optimization waits, let it run
    /// exactly one more trial; false when it is not waiting (a trial still out, the budget
    /// spent, not step by step).
    #[wasm_bindgen::prelude::wasm_bindgen(js_name = stepBayes)]
    pub fn step_bayes(&mut self) -> bool {
        self.inner.step_bayes()
    }

    /// Stop going step by step: Bayesian optimization runs on to its budget.
    #[wasm_bindgen::prelude::wasm_bindgen(js_name = runOn)]
    pub fn run_on(&mut self) {
        self.inner.run_on()
    }

    /// Every trial of every seed, one CSV row each.
    #[wasm_bindgen::prelude::wasm_bindgen(js_name = trialsCsv)]
    pub fn trials_csv(&self) -> String {
        self.inner.trials_csv()
    }
}

// The "L1 and L2" cell's validation curve over log λ (`lab::lambda_sweep`).
pooled_experiment!(LambdaSweep, crate::lab::lambda_sweep::LambdaSweep, crate::lab::lambda_sweep::LambdaSweepSpec, |data, spec| {
    let _ = data; // the jobs name the page's sets; the pool holds them
    crate::lab::lambda_sweep::LambdaSweep::new(spec)
});
