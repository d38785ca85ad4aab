//! What the lab's experiments need from the page: a clock, the device new runs train on, and
//! counts the tests read (runs per device, wasm objects alive).

use crate::lab::{self, RunSpec};
use crate::train::Trainer;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use wasm_bindgen::prelude::*;

/// The page's clock: milliseconds since the epoch (Date.now, which workers have too).
pub struct PageClock;

impl lab::Clock for PageClock {
    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }
}

/// New runs train on WebGPU when it is active and can take the run, else on the CPU.
pub struct PageDevice;

impl lab::Device for PageDevice {
    fn place(&self, spec: &RunSpec, trainer: &mut Trainer) -> crate::Result<()> {
        if let Some(ctx) = super::gpu::active() {
            let options = if spec.options.is_null() { serde_json::json!({}) } else { spec.options.clone() };
            match super::gpu::GpuEngine::new(ctx, trainer.model().clone(), &spec.optimizer, &options, trainer.config()) {
                Ok(engine) => trainer.set_engine(Box::new(engine))?,
                // The CPU can always run it: say why in the console and carry on there.
                Err(e) => web_sys::console::warn_1(&format!("training on the CPU: {}", e.message()).into()),
            }
        }
        if trainer.engine().label() != "WebGPU" {
            // on the page's own thread: a step too large for a frame is refused, with its cost
            let m = trainer.model();
            spec.check_page_step(m.inputs(), m.classes(), trainer.train_size())?;
        }
        count_run(trainer.engine().label());
        Ok(())
    }
}

thread_local! {
    /// Training runs started on each device since the page loaded.
    static RUNS: RefCell<BTreeMap<&'static str, usize>> = const { RefCell::new(BTreeMap::new()) };
    /// Experiments and sessions alive in wasm memory (not yet freed).
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

fn count_run(device: &'static str) {
    RUNS.with(|r| *r.borrow_mut().entry(device).or_default() += 1);
}

/// How many training runs each device has started since the page loaded, e.g.
/// `{ "WebGPU": 5, "CPU (SIMD)": 4 }` (a run that falls back mid-way counts where it started).
#[wasm_bindgen(js_name = backendUsage)]
pub fn backend_usage() -> Result<JsValue, JsError> {
    let runs = RUNS.with(|r| r.borrow().clone());
    super::to_js(&runs)
}

/// How many experiments and training sessions are alive (built and not yet freed): a cell
/// that forgot to `free()` what it replaced shows here.
#[wasm_bindgen(js_name = liveExperiments)]
pub fn live_experiments() -> usize {
    LIVE.with(Cell::get)
}

/// Held by every experiment and session: counts it in [`live_experiments`] until dropped.
pub struct Live(());

impl Live {
    pub fn new() -> Live {
        LIVE.with(|l| l.set(l.get() + 1));
        Live(())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.with(|l| l.set(l.get().saturating_sub(1)));
    }
}
