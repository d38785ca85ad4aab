//! The first seconds (#18): a short CPU training run at load, so that the training step's
//! kernels are already optimized when the student presses the first Run.
//!
//! V8 compiles a wasm module with its baseline compiler and re-compiles a function with its
//! optimizing compiler only once that function has run for a while; until then a step runs
//! several times slower. `WarmUp` trains the notebook's usual network (784-256-128-10, ReLU,
//! Adam, batch 64) on 640 of the page's training digits, checked on 500 validation digits at
//! each epoch's end, so every kernel of a step and of an evaluation pass — the packed products,
//! Adam's update, the activations, softmax cross-entropy, the batch gather — gets there.
//! `www/warmup.js` calls it a unit at a time while the page is idle, and always on the CPU
//! (the WebGPU path needs no warming, and the CPU still evaluates every GPU run).

use super::js_err;
use super::notebook::MnistData;
use crate::lab::{Cpu, Data, RunSpec};
use crate::train::{Status, Trainer};
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// The warm-up run.
#[wasm_bindgen]
pub struct WarmUp {
    trainer: Trainer,
    flop_per_step: f64,
}

/// Tell the core how fast this page's CPU trains, in GFLOP/s (measured by `www/warmup.js` on
/// the warm-up's optimized steps): from then on a run whose single step would hold the page
/// longer than 0.2 s at that speed is refused with its cost (`RunSpec::check_page_step`).
/// Values that are not finite or outside 0.1–10,000 are ignored.
#[wasm_bindgen(js_name = setPageSpeed)]
pub fn set_page_speed(gflops: f64) {
    crate::limits::set_page_gflops(gflops);
}

#[wasm_bindgen]
impl WarmUp {
    /// A warm-up run on `data` (three epochs of 10 steps, each with a 500-digit check).
    #[wasm_bindgen(constructor)]
    pub fn new(data: &MnistData) -> Result<WarmUp, JsError> {
        let data = Data { train: data.train.clone(), validation: Arc::new(data.validation.take(500)) };
        let spec = RunSpec {
            hidden: vec![256, 128],
            optimizer: "adam".into(),
            options: serde_json::json!({ "lr": 1e-3 }),
            batch_size: 64,
            epochs: 3,
            train_subset: Some(640),
            ..RunSpec::default()
        };
        let flop_per_step = spec.step_flop(data.train.features, 10, 640);
        Ok(WarmUp { trainer: spec.build_on(&data, None, &Cpu).map_err(js_err)?, flop_per_step })
    }

    /// Take up to `n` units of work (a training step, or a slice of a check); false once the
    /// run has ended.
    pub fn steps(&mut self, n: f64) -> Result<bool, JsError> {
        let n = super::count_from(n, "warm-up units")?.min(100);
        for _ in 0..n {
            if *self.trainer.step().map_err(js_err)? != Status::Running {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The floating-point operations of one of its training steps (as the page-step limit
    /// counts them).
    #[wasm_bindgen(getter, js_name = flopPerStep)]
    pub fn flop_per_step(&self) -> f64 {
        self.flop_per_step
    }

    /// Training steps taken so far.
    #[wasm_bindgen(getter, js_name = stepsTaken)]
    pub fn steps_taken(&self) -> usize {
        self.trainer.steps()
    }
}
