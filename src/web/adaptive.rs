//! The "RMSprop and Adam" cell: four short runs from one seed — SGD, RMSprop, Adam, and Adam
//! with its bias correction switched off — and what their state says about each weight.
//!
//! The *effective learning rate* of a weight is the number its optimizer multiplies the
//! gradient signal by this step:
//!
//! - SGD: `lr`, the same for every weight;
//! - RMSprop: `lr / (√v + eps)`, with v the weight's running mean of squared gradients
//!   (`square_avg`);
//! - Adam: `lr / (√v̂ + eps)`, with v̂ = v / (1 − β₂ᵗ) the bias-corrected `exp_avg_sq`; it
//!   multiplies the bias-corrected gradient average m̂ = m / (1 − β₁ᵗ) (`exp_avg`).
//!
//! The Adam runs also record, at every step, the layer's mean |g|, |m| and √v, and the mean
//! size of the update, so the cell can show the raw moments beside the corrected ones.

use super::notebook::{MnistData, TrainSession};
use super::{canvas, js_err, seed_from};
use crate::optim::{AdamConfig, RmsPropConfig};
use crate::plot::{self, Group, RefLine, Series};
use crate::train::smoothed;
use crate::train::Status;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use wasm_bindgen::prelude::*;
use web_sys::HtmlCanvasElement;

// Runs, in this order: SGD (0), RMSprop, Adam, Adam without bias correction.
const RMSPROP: usize = 1;
const ADAM: usize = 2;
const ADAM_RAW: usize = 3;
/// The most steps a run of this cell may take.
const MAX_STEPS: usize = 3000;
/// Smoothing of the loss curves (about the last 10 steps).
const LOSS_BETA: f64 = 0.9;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LabConfig {
    seed: f64,
    hidden: Vec<usize>,
    batch_size: usize,
    steps: usize,
    /// 1-based layer whose weights are shown.
    layer: usize,
    sgd_lr: f64,
    rmsprop_lr: f64,
    adam_lr: f64,
}

/// Means over the shown layer's weights after one step.
#[derive(Clone, Copy, Default)]
struct Trace {
    grad: f64,
    m: f64,
    sqrt_v: f64,
    update: f64,
}

struct Run {
    session: TrainSession,
    /// One entry per step (Adam runs only).
    trace: Vec<Trace>,
    /// The shown layer's weights as of the last traced step (Adam runs only).
    before: Vec<f32>,
}

/// Percentiles of a set of effective learning rates.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RateSummary {
    median: f64,
    p10: f64,
    p90: f64,
    /// Weights whose v is exactly 0: no gradient has reached them yet.
    no_gradient: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunReport {
    name: &'static str,
    steps: usize,
    loss: Option<f64>,
    status: &'static str,
    message: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LabReport {
    steps: usize,
    target: usize,
    done: bool,
    layer: usize,
    fan_in: usize,
    fan_out: usize,
    sgd_lr: f64,
    rmsprop: Option<RateSummary>,
    adam: Option<RateSummary>,
    /// Mean |Δw| of the first few steps, with and without bias correction.
    first_updates: [Vec<f64>; 2],
    runs: Vec<RunReport>,
}

const NAMES: [&str; 4] = ["SGD", "RMSprop", "Adam", "Adam, no bias correction"];

/// Four short runs from one seed, and their per-weight view.
#[wasm_bindgen]
pub struct AdaptiveLab {
    runs: Vec<Run>,
    target: usize,
    layer: usize,
    range: Range<usize>,
    fan: (usize, usize),
    sgd_lr: f64,
    rms: RmsPropConfig,
    adam: AdamConfig,
}

/// The `q`-quantile of `values` (reordering them), in linear time: this runs every frame.
fn percentile(values: &mut [f64], q: f64) -> f64 {
    let i = ((values.len() - 1) as f64 * q).round() as usize;
    *values.select_nth_unstable_by(i, f64::total_cmp).1
}

#[wasm_bindgen]
impl AdaptiveLab {
    /// `config`: `{ seed, hidden: [128], batchSize, steps, layer (1-based), sgdLr, rmspropLr,
    /// adamLr }`. RMSprop and Adam keep PyTorch's other defaults (alpha 0.99, betas (0.9,
    /// 0.999), eps 1e-8).
    #[wasm_bindgen(constructor)]
    pub fn new(data: &MnistData, config: JsValue) -> Result<AdaptiveLab, JsError> {
        let c: LabConfig = serde_wasm_bindgen::from_value(config).map_err(|e| JsError::new(&format!("settings: {e}")))?;
        let seed = seed_from(c.seed)?;
        if c.steps == 0 || c.steps > MAX_STEPS {
            return Err(JsError::new(&format!("steps: {} is out of range: pick 1 to {MAX_STEPS}", c.steps)));
        }
        let layers = c.hidden.len() + 1;
        if c.layer == 0 || c.layer > layers {
            return Err(JsError::new(&format!("layer {} does not exist: this network has layers 1 to {layers}", c.layer)));
        }
        if c.batch_size == 0 || c.batch_size > data.train.len() {
            return Err(JsError::new(&format!("batch size {} is out of range: pick 1 to {}", c.batch_size, data.train.len())));
        }
        let rms = RmsPropConfig { lr: c.rmsprop_lr, ..Default::default() };
        let adam = AdamConfig { lr: c.adam_lr, ..Default::default() };
        let options = [
            ("sgd", serde_json::json!({ "lr": c.sgd_lr })),
            ("rmsprop", serde_json::json!({ "lr": rms.lr, "alpha": rms.alpha, "eps": rms.eps })),
            ("adam", serde_json::json!({ "lr": adam.lr, "betas": [adam.betas.0, adam.betas.1], "eps": adam.eps })),
            ("adam", serde_json::json!({ "lr": adam.lr, "betas": [adam.betas.0, adam.betas.1], "eps": adam.eps, "bias_correction": false })),
        ];
        let steps_per_epoch = data.train.len().div_ceil(c.batch_size);
        let mut runs = Vec::new();
        for (i, (optimizer, opts)) in options.into_iter().enumerate() {
            crate::optim::build(optimizer, &opts).map_err(|e| JsError::new(&format!("{}: {}", NAMES[i], e.message())))?;
            let cfg = serde_json::json!({
                "hidden": c.hidden,
                "seed": seed,
                "optimizer": optimizer,
                "options": opts,
                "batchSize": c.batch_size,
                "epochs": c.steps.div_ceil(steps_per_epoch),
            });
            let js = cfg.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))?;
            let mut session = TrainSession::build(data.train.clone(), data.validation.clone(), js, JsValue::UNDEFINED, None)?;
            let t = &mut session.trainer;
            t.hold_after(Some(c.steps)); // every run stops at exactly the step count
            if i == ADAM || i == ADAM_RAW {
                t.engine_mut().want_gradients(); // on the GPU, every later sync brings them
            }
            runs.push(Run { session, trace: Vec::new(), before: Vec::new() });
        }
        let model = runs[0].session.trainer.model();
        let l = c.layer - 1;
        let range = model.weight_ranges()[l].clone();
        let fan = model.layer_shape(l);
        Ok(AdaptiveLab { runs, target: c.steps, layer: c.layer, range, fan, sgd_lr: c.sgd_lr, rms, adam })
    }

    /// Advance all four runs, a step at a time, the one furthest behind first, for about
    /// `budget_ms`. Returns true while any run has steps left.
    #[wasm_bindgen(js_name = runFor)]
    pub fn run_for(&mut self, budget_ms: f64) -> Result<bool, JsError> {
        let start = js_sys::Date::now();
        let mut first = true;
        // Runs waiting on their device (a GPU readback) sit out the rest of this frame: the
        // readback lands only once the page's event loop runs again.
        let mut waiting = vec![false; self.runs.len()];
        while let Some(i) = self.next(&waiting) {
            // a step that closes an epoch also evaluates the validation set: one per frame
            let t = &self.runs[i].session.trainer;
            if !first && (t.steps() + 1).is_multiple_of(t.steps_per_epoch()) {
                break;
            }
            self.step(i)?;
            waiting[i] = self.runs[i].session.trainer.waiting();
            first = false;
            if js_sys::Date::now() - start >= budget_ms {
                break;
            }
        }
        Ok(self.next(&[]).is_some())
    }

    /// Steps, smoothed losses and the spread of the effective learning rates.
    pub fn report(&self) -> Result<JsValue, JsError> {
        let runs = self
            .runs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let t = &r.session.trainer;
                RunReport {
                    name: NAMES[i],
                    steps: t.steps(),
                    loss: smoothed(&t.history().step_loss, LOSS_BETA).last().copied().filter(|v| v.is_finite()),
                    status: match t.status() {
                        Status::Running if t.steps() >= self.target => "finished",
                        s => s.word(),
                    },
                    message: t.status().message().map(String::from),
                }
            })
            .collect();
        let summary = |which: usize| {
            let (mut rates, no_gradient) = self.rates(which)?;
            if rates.is_empty() {
                return None;
            }
            Some(RateSummary { median: percentile(&mut rates, 0.5), p10: percentile(&mut rates, 0.1), p90: percentile(&mut rates, 0.9), no_gradient })
        };
        let (rmsprop, adam) = (summary(RMSPROP), summary(ADAM));
        let first = |i: usize| self.runs[i].trace.iter().take(3).map(|t| t.update).collect();
        let report = LabReport {
            steps: self.runs.iter().map(|r| r.session.trainer.steps()).min().unwrap_or(0),
            target: self.target,
            done: self.next(&[]).is_none(),
            layer: self.layer,
            fan_in: self.fan.0,
            fan_out: self.fan.1,
            sgd_lr: self.sgd_lr,
            rmsprop,
            adam,
            first_updates: [first(ADAM), first(ADAM_RAW)],
            runs,
        };
        report.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Histogram of the effective learning rates of the layer's weights under RMSprop and Adam,
    /// with SGD's single rate as a vertical line.
    #[wasm_bindgen(js_name = drawRates)]
    pub fn draw_rates(&self, canvas_el: HtmlCanvasElement, dpr: f64) -> Result<(), JsError> {
        let groups: Vec<Group> = [(RMSPROP, "RMSprop: lr / (√v + eps)", 4), (ADAM, "Adam: lr / (√v̂ + eps)", 5)]
            .into_iter()
            .filter_map(|(i, name, color)| self.rates(i).map(|(values, _)| Group { name: name.into(), values, color }))
            .collect();
        let lines = [RefLine { name: format!("SGD: lr = {} for every weight", self.sgd_lr), x: self.sgd_lr, color: 0 }];
        let title = format!("per-weight learning rate, layer {} ({} → {})", self.layer, self.fan.0, self.fan.1);
        plot::draw_log_histogram(&canvas::area(canvas_el)?, &groups, &lines, &title, "learning rate the weight gets (log scale)", dpr).map_err(js_err)
    }

    /// Adam's raw moments m, √v beside the bias-corrected m̂, √v̂ (layer means), with |g|.
    #[wasm_bindgen(js_name = drawMoments)]
    pub fn draw_moments(&self, canvas_el: HtmlCanvasElement, dpr: f64) -> Result<(), JsError> {
        let (b1, b2) = self.adam.betas;
        let trace = &self.runs[ADAM].trace;
        let line = |name: &str, color: usize, dashed: bool, f: &dyn Fn(usize, &Trace) -> f64| Series {
            name: name.into(),
            points: trace.iter().enumerate().map(|(i, t)| ((i + 1) as f64, f(i + 1, t))).collect(),
            color,
            dashed,
            markers: false,
        };
        let series = [
            line("|g|, this step's gradient", 6, false, &|_, t| t.grad),
            line("|m|, raw", 5, true, &|_, t| t.m),
            line("|m̂| = |m| / (1 − β₁ᵗ)", 5, false, &|s, t| t.m / (1.0 - b1.powi(s as i32))),
            line("√v, raw", 1, true, &|_, t| t.sqrt_v),
            line("√v̂ = √v / √(1 − β₂ᵗ)", 1, false, &|s, t| t.sqrt_v / (1.0 - b2.powi(s as i32)).sqrt()),
        ];
        let title = format!("Adam's moments, layer {}: raw vs bias-corrected", self.layer);
        plot::draw_log_curves(&canvas::area(canvas_el)?, &series, &title, "step t", "mean over the layer's weights", self.target as f64, 1e-7, dpr)
            .map_err(js_err)
    }

    /// The smoothed training loss of all four runs.
    #[wasm_bindgen(js_name = drawLoss)]
    pub fn draw_loss(&self, canvas_el: HtmlCanvasElement, dpr: f64) -> Result<(), JsError> {
        let style = [(0, false), (4, false), (5, false), (3, true)];
        let series: Vec<Series> = self
            .runs
            .iter()
            .enumerate()
            .map(|(i, r)| Series {
                name: NAMES[i].into(),
                points: smoothed(&r.session.trainer.history().step_loss, LOSS_BETA)
                    .into_iter()
                    .enumerate()
                    .map(|(s, y)| ((s + 1) as f64, y))
                    .collect(),
                color: style[i].0,
                dashed: style[i].1,
                markers: false,
            })
            .collect();
        // room for the untrained loss (ln 10 ≈ 2.3), and for a run that climbs above it
        let top = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| v.is_finite()).fold(0.0, f64::max);
        let y_hi = (top * 1.05).clamp(2.6, 10.0);
        let title = format!("training loss, moving average (β = {LOSS_BETA})");
        plot::draw_curves(&canvas::area(canvas_el)?, &series, &title, "step", "cross-entropy", Some(self.target as f64), Some((0.0, y_hi)), &[], dpr)
            .map_err(js_err)
    }

    /// The mean size of Adam's updates on the layer, with and without bias correction.
    #[wasm_bindgen(js_name = drawUpdates)]
    pub fn draw_updates(&self, canvas_el: HtmlCanvasElement, dpr: f64) -> Result<(), JsError> {
        let line = |i: usize, color: usize, dashed: bool| Series {
            name: NAMES[i].into(),
            points: self.runs[i].trace.iter().enumerate().map(|(s, t)| ((s + 1) as f64, t.update)).collect(),
            color,
            dashed,
            markers: false,
        };
        let lr = Series {
            name: format!("lr = {}", self.adam.lr),
            points: vec![(0.0, self.adam.lr), (self.target as f64, self.adam.lr)],
            color: 6,
            dashed: true,
            markers: false,
        };
        let series = [line(ADAM, 5, false), line(ADAM_RAW, 3, true), lr];
        let title = format!("mean update size |Δw| per step, layer {}", self.layer);
        plot::draw_log_curves(&canvas::area(canvas_el)?, &series, &title, "step t", "mean |Δw|", self.target as f64, 1e-7, dpr).map_err(js_err)
    }
}

impl AdaptiveLab {
    /// The run furthest behind that still has steps to take, leaving out those marked in `skip`.
    fn next(&self, skip: &[bool]) -> Option<usize> {
        (0..self.runs.len())
            .filter(|&i| {
                let t = &self.runs[i].session.trainer;
                !skip.get(i).copied().unwrap_or(false) && *t.status() == Status::Running && t.steps() < self.target
            })
            .min_by_key(|&i| self.runs[i].session.trainer.steps())
    }

    /// Advance run `i`. The Adam runs go one synced step at a time (`Trainer::step_to`; on the
    /// GPU, a readback each), and record the step's trace once it is synced.
    fn step(&mut self, i: usize) -> Result<(), JsError> {
        let range = self.range.clone();
        let run = &mut self.runs[i];
        let t = &mut run.session.trainer;
        if i != ADAM && i != ADAM_RAW {
            t.step().map_err(js_err)?;
            return Ok(());
        }
        if run.before.is_empty() {
            run.before = t.model().parameters()[range.clone()].to_vec();
        }
        if !t.step_to(run.trace.len() + 1).map_err(js_err)? {
            return Ok(());
        }
        let engine = t.engine();
        let (Some(grads), Some(m), Some(v)) = (engine.gradients(), engine.optimizer_state("exp_avg"), engine.optimizer_state("exp_avg_sq")) else {
            // asked for at the start, so a synced engine has them: say so rather than stall
            return Err(JsError::new(&format!("{}: step {} was synced without its gradients or Adam state", NAMES[i], run.trace.len() + 1)));
        };
        let after = &engine.model().parameters()[range.clone()];
        let n = range.len() as f64;
        let mean = |xs: &mut dyn Iterator<Item = f64>| xs.sum::<f64>() / n;
        run.trace.push(Trace {
            grad: mean(&mut grads[range.clone()].iter().map(|g| g.abs() as f64)),
            m: mean(&mut m[range.clone()].iter().map(|x| x.abs() as f64)),
            sqrt_v: mean(&mut v[range.clone()].iter().map(|x| (*x as f64).sqrt())),
            update: mean(&mut run.before.iter().zip(after).map(|(a, b)| (a - b).abs() as f64)),
        });
        run.before.copy_from_slice(after);
        Ok(())
    }

    /// The effective learning rate of every weight of the layer that has seen a gradient, and
    /// how many have not (v = 0: blank border pixels, silent units). None before a step.
    fn rates(&self, which: usize) -> Option<(Vec<f64>, usize)> {
        // The state and its step count as of the run's last sync.
        let engine = self.runs[which].session.trainer.engine();
        let steps = engine.optimizer_steps();
        if steps == 0 {
            return None;
        }
        let (key, lr, eps, c2) = if which == RMSPROP {
            ("square_avg", self.rms.lr, self.rms.eps, 1.0)
        } else {
            ("exp_avg_sq", self.adam.lr, self.adam.eps, 1.0 - self.adam.betas.1.powi(steps as i32))
        };
        let v = &engine.optimizer_state(key)?[self.range.clone()];
        let zero = v.iter().filter(|&&x| x == 0.0).count();
        // the same arithmetic as the optimizers: lr / (√v / √c₂ + eps)
        let rates = v.iter().filter(|&&x| x > 0.0).map(|&x| lr / ((x as f64).sqrt() / c2.sqrt() + eps)).collect();
        Some((rates, zero))
    }
}
