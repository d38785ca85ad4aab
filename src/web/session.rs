//! `TrainSession`: one training run (a `lab::RunSpec`) that the page advances a few
//! milliseconds at a time, on the device the page has chosen. This file builds and drives it;
//! `session_record.rs` reads what it recorded.

use super::notebook::MnistData;
use super::page::{Live, PageDevice};
use super::{js_err, options_json};
use crate::data::Dataset;
use crate::lab::{self, RunSpec};
use crate::train::{Status, Trainer};
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// The longest time slice `runFor` takes, in milliseconds.
pub const MAX_SLICE_MS: f64 = 1000.0;
/// The most units of work `runSteps` takes in one call.
pub const MAX_UNITS: usize = 100_000;

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
    /// batchSize: 64, epochs: 3, reduction: "mean" | "sum", l1, l2, batchNorm: true | boolean[],
    /// dropout, init }` (`lab::RunSpec`).
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
        // a call is a time slice of the page's frame: NaN, Infinity or minutes would freeze it
        if !(budget_ms > 0.0 && budget_ms <= MAX_SLICE_MS) {
            return Err(js_err(crate::Error::new(format!(
                "runFor: {budget_ms} ms is not a time slice: use more than 0 and at most {MAX_SLICE_MS} ms"
            ))));
        }
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
    pub fn run_steps(&mut self, n: f64) -> Result<String, JsError> {
        let n = super::count_from(n, "runSteps count")?;
        if n > MAX_UNITS {
            return Err(js_err(crate::Error::new(format!("runSteps: {n} units at once is too many: use at most {MAX_UNITS} a call"))));
        }
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
    pub fn hold_after(&mut self, step: Option<f64>) -> Result<(), JsError> {
        let step = step.map(|s| super::count_from(s, "holdAfter's step")).transpose()?;
        self.trainer.hold_after(step);
        Ok(())
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

    /// The check (1-based) at which the `earlyStopping` rule ended the run; null until then.
    #[wasm_bindgen(getter, js_name = stoppedAt)]
    pub fn stopped_at(&self) -> JsValue {
        self.trainer.stopped_at().map_or(JsValue::NULL, |c| JsValue::from(c as f64))
    }

    /// The best checkpoint's check number (1-based; with `keepBest` or `earlyStopping`); null
    /// until there is one.
    #[wasm_bindgen(getter, js_name = bestCheck)]
    pub fn best_check(&self) -> JsValue {
        self.trainer.best_check().map_or(JsValue::NULL, |c| JsValue::from(c as f64))
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
}
