//! The "Optimizer race" cell: several optimizers train the same network from the same
//! initial weights on the same batch order (one seed), side by side, a few milliseconds per
//! animation frame.
//!
//! Fairness and smoothness come from one scheduler ([`Race::run_for`]): it always advances the
//! entrant that is furthest behind, one unit of work at a time — a training step, or a slice of
//! a validation check — so the curves grow together and no frame waits for one runner's long
//! evaluation. Validation error is checked several times per epoch (not only at epoch ends) so
//! "who reached 90% first" has an answer finer than an epoch; those extra checks run in slices
//! of [`EVAL_SLICE`] examples.

use super::notebook::{MnistData, TrainSession};
use super::{canvas, js_err};
use crate::data::Dataset;
use crate::plot::{self, Series};
use crate::train::Status;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use web_sys::HtmlCanvasElement;

/// Validation examples evaluated per unit of work (a few milliseconds).
const EVAL_SLICE: usize = 250;
/// Smoothing of the loss curves: β of the moving average (about the last 1/(1−β) = 20 steps).
pub(crate) const LOSS_BETA: f64 = 0.95;
/// The accuracy the "fastest to" column races to.
const TARGET_ACCURACY: f32 = 0.9;

/// An exponential moving average with the same start-up correction Adam uses:
/// s_t = β·s_{t−1} + (1−β)·x_t from s_0 = 0, reported as s_t / (1 − β^t) so the first values
/// are not dragged toward 0. Non-finite inputs are skipped.
pub(crate) fn smoothed(xs: &[f32], beta: f64) -> Vec<f64> {
    let mut s = 0.0;
    let mut correction = 1.0;
    xs.iter()
        .map(|&x| {
            if x.is_finite() {
                s = beta * s + (1.0 - beta) * x as f64;
                correction *= beta;
            }
            if correction < 1.0 {
                s / (1.0 - correction)
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// The race as the page describes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RaceConfig {
    seed: f64,
    hidden: Vec<usize>,
    batch_size: usize,
    epochs: usize,
    #[serde(default = "checks")]
    checks_per_epoch: usize,
    runs: Vec<EntrantSpec>,
}
fn checks() -> usize {
    5
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EntrantSpec {
    name: String,
    optimizer: String,
    options: serde_json::Value,
    #[serde(default)]
    color: usize,
}

/// One validation check: after `step` steps.
#[derive(Clone, Copy, Serialize)]
struct Check {
    step: usize,
    val_error: f32,
    val_loss: f32,
}

/// A validation pass in progress, a slice at a time.
struct Eval {
    step: usize,
    pos: usize,
    loss_sum: f64,
    wrong_sum: f64,
}

struct Entrant {
    name: String,
    color: usize,
    lr: f64,
    session: TrainSession,
    checks: Vec<Check>,
    pending: Option<Eval>,
    compute_ms: f64,
}

impl Entrant {
    fn trainer_running(&self) -> bool {
        *self.session.trainer.status() == Status::Running
    }
    fn diverged(&self) -> bool {
        matches!(self.session.trainer.status(), Status::Diverged(_))
    }
    fn active(&self) -> bool {
        self.pending.is_some() || self.trainer_running()
    }
    fn smoothed_loss(&self) -> Vec<f64> {
        smoothed(&self.session.trainer.history().step_loss, LOSS_BETA)
    }
}

/// Several training runs racing on one seed.
#[wasm_bindgen]
pub struct Race {
    entrants: Vec<Entrant>,
    validation: Arc<Dataset>,
    /// The steps after which validation is checked (the last of each epoch included).
    check_steps: Vec<usize>,
    steps_per_epoch: usize,
    total_steps: usize,
    epochs: usize,
    checks_per_epoch: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EntrantReport {
    name: String,
    color: usize,
    lr: f64,
    status: &'static str,
    message: Option<String>,
    steps: usize,
    /// The latest check's validation error and loss.
    val_error: Option<f32>,
    val_loss: Option<f32>,
    /// The last value of the smoothed loss curve.
    loss: Option<f64>,
    /// Epochs (fractional) until a check first showed the target accuracy, and the accuracy
    /// that check showed.
    reach: Option<f64>,
    reach_accuracy: Option<f32>,
    compute_ms: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Winners {
    val_error: Option<usize>,
    loss: Option<usize>,
    reach: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RaceReport {
    done: bool,
    total_steps: usize,
    steps_per_epoch: usize,
    target_accuracy: f32,
    entrants: Vec<EntrantReport>,
    best: Winners,
}

/// The index of the smallest key among `Some` keys; ties go to the first.
fn argmin<K: PartialOrd>(keys: impl Iterator<Item = Option<K>>) -> Option<usize> {
    let mut best: Option<(usize, K)> = None;
    for (i, k) in keys.enumerate() {
        if let Some(k) = k {
            if best.as_ref().is_none_or(|(_, b)| k < *b) {
                best = Some((i, k));
            }
        }
    }
    best.map(|(i, _)| i)
}

#[wasm_bindgen]
impl Race {
    /// `config`: `{ seed, hidden: [128], batchSize, epochs, checksPerEpoch?: 5, runs: [{ name,
    /// optimizer, options: { lr, … }, color }] }`. Every run gets the same seed, so the same
    /// initial weights and the same batch order.
    #[wasm_bindgen(constructor)]
    pub fn new(data: &MnistData, config: JsValue) -> Result<Race, JsError> {
        let c: RaceConfig = serde_wasm_bindgen::from_value(config).map_err(|e| JsError::new(&format!("race settings: {e}")))?;
        if c.runs.is_empty() {
            return Err(JsError::new("tick at least one optimizer to race"));
        }
        if c.checks_per_epoch == 0 || c.checks_per_epoch > 20 {
            return Err(JsError::new(&format!("checksPerEpoch {} is out of range: pick 1 to 20", c.checks_per_epoch)));
        }
        let seed = super::seed_from(c.seed)?;
        let mut entrants = Vec::new();
        for r in c.runs {
            let lr = r.options.get("lr").and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
            let session_config = serde_json::json!({
                "hidden": c.hidden,
                "seed": seed,
                "optimizer": r.optimizer,
                "options": r.options,
                "batchSize": c.batch_size,
                "epochs": c.epochs,
            });
            let js = session_config.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))?;
            // the optimizer's own checks first, so a bad value names its entrant
            crate::optim::build(&r.optimizer, &r.options).map_err(|e| JsError::new(&format!("{}: {}", r.name, e.message())))?;
            let session = TrainSession::build(data.train.clone(), data.validation.clone(), js, JsValue::UNDEFINED, None)?;
            entrants.push(Entrant { name: r.name, color: r.color, lr, session, checks: Vec::new(), pending: None, compute_ms: 0.0 });
        }
        let first = &entrants[0].session.trainer;
        let (spe, total) = (first.steps_per_epoch(), first.total_steps());
        let cpe = c.checks_per_epoch.min(spe);
        let mut check_steps = Vec::new();
        for e in 0..c.epochs {
            for j in 1..=cpe {
                let s = e * spe + (j * spe + cpe / 2) / cpe;
                if check_steps.last() != Some(&s) {
                    check_steps.push(s);
                }
            }
        }
        for e in &mut entrants {
            // held at each check, so that the model checked is that step's on any device
            e.session.trainer.hold_after(check_steps.first().copied());
        }
        Ok(Race {
            entrants,
            validation: data.validation.clone(),
            check_steps,
            steps_per_epoch: spe,
            total_steps: total,
            epochs: c.epochs,
            checks_per_epoch: cpe,
        })
    }

    /// Advance the race for about `budget_ms` milliseconds. Returns true while any entrant
    /// still has work to do.
    #[wasm_bindgen(js_name = runFor)]
    pub fn run_for(&mut self, budget_ms: f64) -> Result<bool, JsError> {
        let start = js_sys::Date::now();
        let mut first = true;
        // an entrant whose device is busy (a GPU readback) sits out the rest of this call
        let mut waiting = vec![false; self.entrants.len()];
        // the active entrant furthest behind goes next
        while let Some(i) = argmin(self.entrants.iter().zip(&waiting).map(|(e, &w)| (e.active() && !w).then_some(e.session.trainer.steps()))) {
            // A step that ends an epoch starts the trainer's validation pass: only start one
            // at the top of a frame, so a frame holds at most one.
            if !first && self.entrants[i].pending.is_none() && self.ends_epoch(i) {
                break;
            }
            let t0 = js_sys::Date::now();
            waiting[i] = !self.unit(i)?;
            self.entrants[i].compute_ms += js_sys::Date::now() - t0;
            first = false;
            if js_sys::Date::now() - start >= budget_ms {
                break;
            }
        }
        Ok(self.entrants.iter().any(Entrant::active))
    }

    /// Everything the results table needs, with the winner of each column.
    pub fn report(&self) -> Result<JsValue, JsError> {
        let entrants: Vec<EntrantReport> = self
            .entrants
            .iter()
            .map(|e| {
                let t = &e.session.trainer;
                let last = e.checks.last();
                let hit = e.checks.iter().find(|c| 1.0 - c.val_error >= TARGET_ACCURACY);
                EntrantReport {
                    name: e.name.clone(),
                    color: e.color,
                    lr: e.lr,
                    status: if e.active() {
                        "running"
                    } else if e.diverged() {
                        "diverged"
                    } else if t.steps() >= self.total_steps {
                        "finished"
                    } else {
                        "stopped"
                    },
                    message: match t.status() {
                        Status::Diverged(m) => Some(m.clone()),
                        _ => None,
                    },
                    steps: t.steps(),
                    val_error: last.map(|c| c.val_error),
                    val_loss: last.map(|c| c.val_loss),
                    loss: e.smoothed_loss().last().copied().filter(|v| v.is_finite()),
                    reach: hit.map(|c| c.step as f64 / self.steps_per_epoch as f64),
                    reach_accuracy: hit.map(|c| 1.0 - c.val_error),
                    compute_ms: e.compute_ms,
                }
            })
            .collect();
        // A diverged run wins nothing. Ties: equal validation errors (a whole number of
        // examples) go to the lower validation loss; equal times to the target, to the higher
        // accuracy at that check.
        let ok = |i: usize| !self.entrants[i].diverged();
        let best = Winners {
            val_error: argmin(entrants.iter().enumerate().map(|(i, r)| r.val_error.filter(|_| ok(i)).map(|v| (v, r.val_loss.unwrap_or(f32::MAX))))),
            loss: argmin(entrants.iter().enumerate().map(|(i, r)| r.loss.filter(|_| ok(i)))),
            reach: argmin(self.entrants.iter().enumerate().map(|(i, e)| {
                let c = e.checks.iter().find(|c| 1.0 - c.val_error >= TARGET_ACCURACY).filter(|_| ok(i))?;
                Some((c.step, c.val_error, c.val_loss))
            })),
        };
        let report = RaceReport {
            done: !self.entrants.iter().any(Entrant::active),
            total_steps: self.total_steps,
            steps_per_epoch: self.steps_per_epoch,
            target_accuracy: TARGET_ACCURACY,
            entrants,
            best,
        };
        report.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
    }

    /// The smoothed training loss of every entrant against epochs.
    #[wasm_bindgen(js_name = drawLoss)]
    pub fn draw_loss(&self, canvas_el: HtmlCanvasElement, dpr: f64) -> Result<(), JsError> {
        let spe = self.steps_per_epoch as f64;
        let series: Vec<Series> = self
            .entrants
            .iter()
            .map(|e| Series {
                name: e.name.clone(),
                points: e.smoothed_loss().into_iter().enumerate().map(|(i, y)| ((i + 1) as f64 / spe, y)).collect(),
                color: e.color,
                dashed: false,
                markers: false,
            })
            .collect();
        let top = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| v.is_finite()).fold(0.0, f64::max);
        let y_hi = (top * 1.05).clamp(0.5, 3.0);
        let title = format!("training loss, moving average (β = {LOSS_BETA})");
        plot::draw_curves(&canvas::area(canvas_el)?, &series, &title, "epoch", "cross-entropy", Some(self.epochs as f64), Some((0.0, y_hi)), &[], dpr)
            .map_err(js_err)
    }

    /// Every entrant's validation error at each check, with the target drawn across.
    #[wasm_bindgen(js_name = drawError)]
    pub fn draw_error(&self, canvas_el: HtmlCanvasElement, dpr: f64) -> Result<(), JsError> {
        let spe = self.steps_per_epoch as f64;
        let mut series: Vec<Series> = self
            .entrants
            .iter()
            .map(|e| Series {
                name: e.name.clone(),
                points: e.checks.iter().map(|c| (c.step as f64 / spe, c.val_error as f64)).collect(),
                color: e.color,
                dashed: false,
                markers: true,
            })
            .collect();
        let top = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| v.is_finite()).fold(0.0, f64::max);
        let y_hi = (top * 1.1).clamp(0.25, 1.0);
        let target = 1.0 - TARGET_ACCURACY as f64;
        series.push(Series {
            name: format!("{:.0}% accuracy", 100.0 * TARGET_ACCURACY),
            points: vec![(0.0, target), (self.epochs as f64, target)],
            color: 6,
            dashed: true,
            markers: false,
        });
        let title = format!("validation error, checked {}× per epoch", self.checks_per_epoch);
        plot::draw_curves(&canvas::area(canvas_el)?, &series, &title, "epoch", "error rate", Some(self.epochs as f64), Some((0.0, y_hi)), &[], dpr)
            .map_err(js_err)
    }

    #[wasm_bindgen(getter, js_name = totalSteps)]
    pub fn total_steps(&self) -> usize {
        self.total_steps
    }
}

impl Race {
    /// Whether entrant `i`'s next training step is the last of an epoch.
    fn ends_epoch(&self, i: usize) -> bool {
        (self.entrants[i].session.trainer.steps() + 1).is_multiple_of(self.steps_per_epoch)
    }

    /// One unit of work for entrant `i`: a slice of its pending check, or a training step
    /// (which may make a check due). Returns false when the entrant's device was busy.
    fn unit(&mut self, i: usize) -> Result<bool, JsError> {
        let validation = self.validation.clone();
        let e = &mut self.entrants[i];
        if let Some(ev) = &mut e.pending {
            // the trainer is held at the check's step, so the synced model is that step's
            let Some(model) = e.session.trainer.engine_mut().synced_model().map_err(js_err)? else {
                return Ok(false);
            };
            let n = validation.len();
            let end = (ev.pos + EVAL_SLICE).min(n);
            let f = validation.features;
            let (loss, err) = model.evaluate(&validation.x[ev.pos * f..end * f], &validation.labels[ev.pos..end]).map_err(js_err)?;
            let m = (end - ev.pos) as f64;
            ev.loss_sum += loss as f64 * m;
            ev.wrong_sum += err as f64 * m;
            ev.pos = end;
            if end == n {
                let check = Check { step: ev.step, val_error: (ev.wrong_sum / n as f64) as f32, val_loss: (ev.loss_sum / n as f64) as f32 };
                e.checks.push(check);
                e.pending = None;
                let next = next_check(&self.check_steps, check.step);
                self.entrants[i].session.trainer.hold_after(next);
            }
            return Ok(true);
        }
        let t = &mut e.session.trainer;
        t.step().map_err(js_err)?;
        let waiting = t.waiting();
        // On the GPU steps are booked in jumps, so the same step can be seen on several calls:
        // each check is taken once.
        let step = t.steps();
        let new = e.checks.last().is_none_or(|c| c.step < step);
        let closed = t.history().epochs.last().filter(|r| r.step == step);
        if let Some(r) = closed.filter(|_| new) {
            // the trainer has just checked the whole validation set at the epoch's end
            e.checks.push(Check { step, val_error: r.val_error, val_loss: r.val_loss });
            let next = next_check(&self.check_steps, step);
            e.session.trainer.hold_after(next);
        } else if new
            && e.pending.is_none()
            && e.trainer_running()
            && !step.is_multiple_of(self.steps_per_epoch)
            && self.check_steps.binary_search(&step).is_ok()
        {
            // a mid-epoch check (the trainer itself checks at an epoch's end)
            e.pending = Some(Eval { step, pos: 0, loss_sum: 0.0, wrong_sum: 0.0 });
            return Ok(true);
        }
        Ok(!waiting)
    }
}

/// The first check after `step`, if any.
fn next_check(check_steps: &[usize], step: usize) -> Option<usize> {
    check_steps.iter().copied().find(|&s| s > step)
}
