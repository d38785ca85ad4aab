//! What the notebook's cells call: MNIST loading and splitting, training sessions that advance
//! in time slices, and chart drawing.

use super::page::{Live, PageDevice};
use super::{canvas, js_err, options_json, seed_from};
use crate::data::{Dataset, Mnist, Split};
use crate::lab::{self, RunSpec};
use crate::plot::{self, Chart};
use crate::train::{Status, Trainer};
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use web_sys::HtmlCanvasElement;

/// MNIST parsed from IDX files and split by a seed into train / validation / test.
#[wasm_bindgen]
pub struct MnistData {
    pub(crate) train: Arc<Dataset>,
    pub(crate) validation: Arc<Dataset>,
    pub(crate) test: Arc<Dataset>,
    seed: u64,
}

impl MnistData {
    /// The training and validation sets, for building runs.
    pub(crate) fn data(&self) -> lab::Data {
        lab::Data { train: self.train.clone(), validation: self.validation.clone() }
    }
}

#[wasm_bindgen]
impl MnistData {
    /// Parse the two IDX files (gzipped or raw) and split them 7,000 / 1,500 / 1,500 by `seed`.
    #[wasm_bindgen(constructor)]
    pub fn new(images: &[u8], labels: &[u8], seed: f64) -> Result<MnistData, JsError> {
        let m = Mnist::parse(images, labels).map_err(js_err)?;
        let seed = seed_from(seed)?;
        let split = if m.len() >= 10_000 {
            Split::mnist_default(&m, seed)
        } else {
            // Smaller files (a student's own subset): keep the same 70 / 15 / 15 proportions.
            let n = m.len();
            Split::holdout(&Dataset::from(&m), n * 70 / 100, n * 15 / 100, n - n * 70 / 100 - n * 15 / 100, seed)
        }
        .map_err(js_err)?;
        Ok(MnistData { train: Arc::new(split.train), validation: Arc::new(split.validation), test: Arc::new(split.test), seed })
    }

    #[wasm_bindgen(getter, js_name = trainSize)]
    pub fn train_size(&self) -> usize {
        self.train.len()
    }
    #[wasm_bindgen(getter, js_name = validationSize)]
    pub fn validation_size(&self) -> usize {
        self.validation.len()
    }
    #[wasm_bindgen(getter, js_name = testSize)]
    pub fn test_size(&self) -> usize {
        self.test.len()
    }
    #[wasm_bindgen(getter)]
    pub fn seed(&self) -> f64 {
        self.seed as f64
    }
}

/// A training run on MNIST that the page advances a few milliseconds at a time, on the
/// device the page has chosen (`train::engine`: the trainer does not know which).
#[wasm_bindgen]
pub struct TrainSession {
    pub(crate) trainer: Trainer,
    _live: Live,
}

impl TrainSession {
    /// Build a session on any train/validation sets (cells that relabel or subset the data use
    /// this), optionally starting from given parameters instead of the init, on the page's
    /// device (WebGPU when chosen and it can start the run, else the CPU).
    pub(crate) fn build(
        train: Arc<Dataset>,
        validation: Arc<Dataset>,
        config: JsValue,
        init: JsValue,
        start_from: Option<&[f32]>,
    ) -> Result<TrainSession, JsError> {
        let spec = run_spec(&config, &init)?;
        let trainer = spec.build_on(&lab::Data { train, validation }, start_from, &PageDevice).map_err(js_err)?;
        Ok(TrainSession { trainer, _live: Live::new() })
    }
}

/// A run's settings from the page (`init` may also be given apart, as the JS API allows).
pub(crate) fn run_spec(config: &JsValue, init: &JsValue) -> Result<RunSpec, JsError> {
    let mut spec = RunSpec::from_json(&options_json(config)?).map_err(js_err)?;
    if !(init.is_undefined() || init.is_null()) {
        spec.init = Some(options_json(init)?);
    }
    Ok(spec)
}

#[wasm_bindgen]
impl TrainSession {
    /// `config`: `{ hidden: [128], activation, seed, optimizer: "sgd", options: { lr: 0.1 },
    /// batchSize: 64, epochs: 3, reduction: "mean" | "sum", l1, l2, batchNorm, dropout, init }`.
    #[wasm_bindgen(constructor)]
    pub fn new(data: &MnistData, config: JsValue, init: JsValue) -> Result<TrainSession, JsError> {
        TrainSession::build(data.train.clone(), data.validation.clone(), config, init, None)
    }

    /// "WebGPU" or "CPU (SIMD)": where this run trains (now).
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.trainer.engine().label().into()
    }

    /// A note for the student, e.g. that the GPU was lost and the run went on on the CPU.
    #[wasm_bindgen(getter)]
    pub fn notice(&self) -> Option<String> {
        self.trainer.engine().notice().map(String::from)
    }

    /// Take steps until `budget_ms` milliseconds have passed (at least one step), or until
    /// the device is busy (see `waiting`). Returns "running", "finished" or "diverged".
    #[wasm_bindgen(js_name = runFor)]
    pub fn run_for(&mut self, budget_ms: f64) -> Result<String, JsError> {
        let start = js_sys::Date::now();
        loop {
            let status = self.trainer.step().map_err(js_err)?;
            if *status != Status::Running || self.trainer.waiting() || js_sys::Date::now() - start >= budget_ms {
                break;
            }
        }
        Ok(self.status())
    }

    /// Take `n` units of work — a training step, or a slice of the end-of-epoch evaluation —
    /// or fewer if the run ends or the device is busy (see `waiting`). On the GPU a step's
    /// loss is booked when it is read back, so `steps` moves in jumps.
    #[wasm_bindgen(js_name = runSteps)]
    pub fn run_steps(&mut self, n: usize) -> Result<String, JsError> {
        for _ in 0..n {
            if *self.trainer.step().map_err(js_err)? != Status::Running || self.trainer.waiting() {
                break;
            }
        }
        Ok(self.status())
    }

    /// Take no step past step `step` (undefined lifts it): a cell that trains for a number of
    /// steps rather than epochs sets it, so that on the GPU, where steps are queued ahead of
    /// their readback, the run still stops exactly there.
    #[wasm_bindgen(js_name = holdAfter)]
    pub fn hold_after(&mut self, step: Option<usize>) {
        self.trainer.hold_after(step);
    }

    /// Whether the last call could not go on because the device was busy (a GPU readback):
    /// come back next frame rather than calling again at once.
    #[wasm_bindgen(getter)]
    pub fn waiting(&self) -> bool {
        self.trainer.waiting()
    }

    /// "running", "finished", "diverged" or "stopped".
    pub fn status(&self) -> String {
        self.trainer.status().word().into()
    }

    /// Why the run ended early ("loss became NaN at step 212: lower the learning rate").
    #[wasm_bindgen(getter)]
    pub fn message(&self) -> Option<String> {
        self.trainer.status().message().map(String::from)
    }

    /// The check (1-based) at which the `earlyStopping` rule ended the run, or undefined.
    #[wasm_bindgen(getter, js_name = stoppedAt)]
    pub fn stopped_at(&self) -> Option<usize> {
        self.trainer.stopped_at()
    }

    /// The best checkpoint's check number (1-based; with `keepBest` or `earlyStopping`).
    #[wasm_bindgen(getter, js_name = bestCheck)]
    pub fn best_check(&self) -> Option<usize> {
        self.trainer.best_check()
    }

    /// End the run now; it keeps what it recorded.
    pub fn stop(&mut self) {
        self.trainer.stop(lab::STOPPED_BY_STUDENT);
    }

    /// Validation checks so far: `[{ step, epoch, valLoss, valError }]`.
    pub fn checks(&self) -> Result<JsValue, JsError> {
        super::to_js(&self.trainer.history().checks)
    }

    #[wasm_bindgen(getter)]
    pub fn steps(&self) -> usize {
        self.trainer.steps()
    }
    #[wasm_bindgen(getter, js_name = totalSteps)]
    pub fn total_steps(&self) -> usize {
        self.trainer.total_steps()
    }
    #[wasm_bindgen(getter, js_name = stepsPerEpoch)]
    pub fn steps_per_epoch(&self) -> usize {
        self.trainer.steps_per_epoch()
    }
    #[wasm_bindgen(getter)]
    pub fn epoch(&self) -> usize {
        self.trainer.epoch()
    }

    /// Mini-batch loss per step (per example, whatever the reduction).
    #[wasm_bindgen(js_name = stepLoss)]
    pub fn step_loss(&self) -> Vec<f32> {
        self.trainer.history().step_loss.clone()
    }

    /// Per-epoch records: `[{ epoch, step, train_loss, train_error, val_loss, val_error }]`.
    pub fn epochs(&self) -> Result<JsValue, JsError> {
        serde_wasm_bindgen::to_value(&self.trainer.history().epochs).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Change the learning rate mid-run (marked on the curves).
    #[wasm_bindgen(js_name = setLr)]
    pub fn set_lr(&mut self, lr: f32) -> Result<(), JsError> {
        self.trainer.set_lr(lr).map_err(js_err)
    }

    /// Test-set error of the weights as of the last booked step.
    #[wasm_bindgen(js_name = testError)]
    pub fn test_error(&mut self, data: &MnistData) -> Result<f32, JsError> {
        let mut model = self.trainer.model().clone();
        model.evaluate(&data.test.x, &data.test.labels).map(|(_, e)| e).map_err(js_err)
    }

    /// A named optimizer state buffer (e.g. "step_size", "exp_avg_sq"), or undefined.
    #[wasm_bindgen(js_name = optimizerState)]
    pub fn optimizer_state(&self, key: &str) -> Option<Vec<f32>> {
        self.trainer.engine().optimizer_state(key).map(<[f32]>::to_vec)
    }

    /// Notes pinned to steps (e.g. a learning-rate change): `[[step, "text"], …]`.
    pub fn marks(&self) -> Result<JsValue, JsError> {
        serde_wasm_bindgen::to_value(&self.trainer.history().marks).map_err(|e| JsError::new(&e.to_string()))
    }

    /// The trained parameters (flat, PyTorch order) as of the last booked step.
    pub fn parameters(&self) -> Vec<f32> {
        self.trainer.model().parameters().to_vec()
    }
}

/// A chart from the page: `{ kind?: "lines" | "logY" | "heatmap" | "logHistogram", title,
/// xLabel, yLabel, … }` (see `plot::chart`); `kind` defaults to "lines".
pub(crate) fn chart_from(v: &JsValue) -> Result<Chart, JsError> {
    let mut json = options_json(v)?;
    if let Some(o) = json.as_object_mut() {
        o.entry("kind").or_insert_with(|| "lines".into());
    }
    serde_json::from_value(json).map_err(|e| JsError::new(&format!("chart: {e}")))
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
