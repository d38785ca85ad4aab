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
//! The Adam runs also record, at every step, the shown layer's mean |g|, |m| and √v, and the
//! mean size of the update, so the cell can show the raw moments beside the corrected ones.
//!
//! How the runs advance: every run stops at exactly `steps`, and an Adam run must be synced at
//! every step before its next one is submitted (its gradients and moments are read each step —
//! on the GPU a readback per step). So the runs go in rounds through one [`Runs`]: each round
//! holds the Adam runs at their next step ([`Trainer::hold_after`]) and SGD and RMSprop a few
//! steps ahead ([`LEAD`]), `Runs::run_for` advances them up to those holds (the furthest
//! behind first, sitting out a run that waits on its device), and once an Adam run is synced
//! at its step ([`Trainer::step_to`]) its trace is recorded and the next round's holds set. The
//! four curves grow together, as the race's do.

use super::run::{Data, Device, RunSpec};
use super::schedule::{Clock, Runs};
use super::{Progress, STOPPED_BY_STUDENT};
use crate::optim::{AdamConfig, RmsPropConfig};
use crate::train::{smoothed, Status, Trainer};
use crate::{bail, ensure, Result};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// The runs, in this order.
pub const SGD: usize = 0;
pub const RMSPROP: usize = 1;
pub const ADAM: usize = 2;
pub const ADAM_RAW: usize = 3;
pub const NAMES: [&str; 4] = ["SGD", "RMSprop", "Adam", "Adam, no bias correction"];
/// The most steps a run of this cell may take.
pub const MAX_STEPS: usize = 3000;
/// Smoothing of the loss curves (about the last 10 steps).
pub const LOSS_BETA: f64 = 0.9;
/// How many steps SGD and RMSprop may run ahead of the Adam runs. They are not traced, so they
/// need no sync at every step: on a GPU a lead lets them book several steps per readback.
pub const LEAD: usize = 8;

/// The cell's settings. RMSprop and Adam keep PyTorch's other defaults (alpha 0.99, betas
/// (0.9, 0.999), eps 1e-8).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdaptiveSpec {
    pub seed: u64,
    pub hidden: Vec<usize>,
    pub batch_size: usize,
    /// Steps every run takes (1 to [`MAX_STEPS`]).
    pub steps: usize,
    /// The weight layer shown, 1-based.
    pub layer: usize,
    pub sgd_lr: f64,
    pub rmsprop_lr: f64,
    pub adam_lr: f64,
}

/// Means over the shown layer's weights after one step.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Trace {
    pub grad: f64,
    pub m: f64,
    pub sqrt_v: f64,
    pub update: f64,
}

/// An Adam run's record: one trace per step, and the layer's weights as of the last one.
struct Traced {
    trace: Vec<Trace>,
    before: Vec<f32>,
}

/// Percentiles of a set of effective learning rates.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateSummary {
    pub median: f64,
    pub p10: f64,
    pub p90: f64,
    /// Weights whose v is exactly 0: no gradient has reached them yet.
    pub no_gradient: usize,
}

/// One run's part of the read-out.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    pub name: &'static str,
    pub steps: usize,
    /// The last value of the smoothed loss curve.
    pub loss: Option<f64>,
    pub status: &'static str,
    pub message: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdaptiveReport {
    pub status: &'static str,
    pub progress: Progress,
    /// The fewest steps any run has booked.
    pub steps: usize,
    pub target: usize,
    pub done: bool,
    pub layer: usize,
    pub fan_in: usize,
    pub fan_out: usize,
    pub sgd_lr: f64,
    pub rmsprop: Option<RateSummary>,
    pub adam: Option<RateSummary>,
    /// Mean |Δw| of the first few steps, with and without bias correction.
    pub first_updates: [Vec<f64>; 2],
    pub runs: Vec<RunReport>,
}

/// Four short runs from one seed, and their per-weight view.
pub struct Adaptive {
    spec: AdaptiveSpec,
    runs: Runs,
    /// The Adam runs' records: [`ADAM`], then [`ADAM_RAW`].
    traced: [Traced; 2],
    /// Whether each run has booked its last step on a synced engine.
    at_end: [bool; 4],
    /// The shown layer's weights in the flat parameters, and its (fan_in, fan_out).
    range: Range<usize>,
    fan: (usize, usize),
    rms: RmsPropConfig,
    adam: AdamConfig,
}

/// The effective learning rate `lr / (√(v / c₂) + eps)` of every weight whose v is positive
/// (c₂ = 1 − β₂ᵗ undoes Adam's zero start; 1 for RMSprop, which PyTorch does not correct), and
/// how many weights have v = 0 (never a non-zero gradient: their rate multiplies nothing).
pub fn effective_rates(v: &[f32], lr: f64, eps: f64, c2: f64) -> (Vec<f64>, usize) {
    let zero = v.iter().filter(|&&x| x == 0.0).count();
    // the same arithmetic as the optimizers
    let rates = v.iter().filter(|&&x| x > 0.0).map(|&x| lr / ((x as f64).sqrt() / c2.sqrt() + eps)).collect();
    (rates, zero)
}

/// The `q`-quantile of `values` (reordering them), in linear time: the read-out asks every frame.
fn percentile(values: &mut [f64], q: f64) -> f64 {
    let i = ((values.len() - 1) as f64 * q).round() as usize;
    *values.select_nth_unstable_by(i, f64::total_cmp).1
}

impl Adaptive {
    pub fn new(data: &Data, spec: AdaptiveSpec, device: &dyn Device) -> Result<Adaptive> {
        ensure!((1..=MAX_STEPS).contains(&spec.steps), "steps: {} is out of range: pick 1 to {MAX_STEPS}", spec.steps);
        let layers = spec.hidden.len() + 1;
        ensure!((1..=layers).contains(&spec.layer), "layer {} does not exist: this network has layers 1 to {layers}", spec.layer);
        let n = data.train.len();
        ensure!((1..=n).contains(&spec.batch_size), "batch size {} is out of range: pick 1 to {n}", spec.batch_size);
        let rms = RmsPropConfig { lr: spec.rmsprop_lr, ..Default::default() };
        let adam = AdamConfig { lr: spec.adam_lr, ..Default::default() };
        let betas = [adam.betas.0, adam.betas.1];
        let options = [
            ("sgd", serde_json::json!({ "lr": spec.sgd_lr })),
            ("rmsprop", serde_json::json!({ "lr": rms.lr, "alpha": rms.alpha, "eps": rms.eps })),
            ("adam", serde_json::json!({ "lr": adam.lr, "betas": betas, "eps": adam.eps })),
            ("adam", serde_json::json!({ "lr": adam.lr, "betas": betas, "eps": adam.eps, "bias_correction": false })),
        ];
        let epochs = spec.steps.div_ceil(n.div_ceil(spec.batch_size));
        let mut trainers = Vec::new();
        for (i, (optimizer, options)) in options.into_iter().enumerate() {
            // the optimizer's own checks first, so a bad value names its run
            crate::optim::build(optimizer, &options).map_err(|e| crate::Error::new(format!("{}: {}", NAMES[i], e.message())))?;
            let run = RunSpec {
                hidden: spec.hidden.clone(),
                seed: spec.seed,
                optimizer: optimizer.into(),
                options,
                batch_size: spec.batch_size,
                epochs,
                ..RunSpec::default()
            };
            let mut t = run.build_on(data, None, device)?;
            if i == ADAM || i == ADAM_RAW {
                t.engine_mut().want_gradients(); // on the GPU, every later sync brings them
            }
            trainers.push(t);
        }
        let model = trainers[0].model();
        let l = spec.layer - 1;
        let range = model.weight_ranges()[l].clone();
        let fan = model.layer_shape(l);
        let before = model.parameters()[range.clone()].to_vec();
        let traced = [Traced { trace: Vec::new(), before: before.clone() }, Traced { trace: Vec::new(), before }];
        let mut lab = Adaptive { spec, runs: Runs::new(trainers), traced, at_end: [false; 4], range, fan, rms, adam };
        lab.set_holds();
        Ok(lab)
    }

    pub fn spec(&self) -> &AdaptiveSpec {
        &self.spec
    }
    pub fn runs(&self) -> &Runs {
        &self.runs
    }
    /// An Adam run's per-step trace ([`ADAM`] or [`ADAM_RAW`]).
    pub fn trace(&self, run: usize) -> &[Trace] {
        &self.traced[run - ADAM].trace
    }

    /// Advance the runs for about `budget_ms`, a round at a time; true while work is left.
    ///
    /// At most one epoch-end evaluation starts per call (as in [`Runs`], whose rule 1 holds
    /// within each of its calls), and the call ends early when no run could move (every one
    /// waits on its device: come back next frame).
    pub fn run_for(&mut self, budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        let start = clock.now_ms();
        let mut first = true;
        loop {
            self.record()?;
            if !self.work_left() {
                return Ok(false);
            }
            let left = budget_ms - (clock.now_ms() - start);
            if !first && (left <= 0.0 || self.epoch_end_next()) {
                return Ok(true);
            }
            let before = self.booked();
            self.runs.run_for(left, clock)?;
            first = false;
            if self.booked() == before {
                return Ok(true);
            }
        }
    }

    /// The student's Stop: the runs that have not reached the step count end now.
    pub fn stop(&mut self) {
        for i in 0..self.runs.len() {
            if !self.at_end[i] {
                self.runs.get_mut(i).stop(STOPPED_BY_STUDENT);
            }
        }
    }

    /// Trace the Adam runs synced at their next step, note the runs that reached the end, and
    /// set the next round's hold.
    fn record(&mut self) -> Result<()> {
        let target = self.spec.steps;
        for (k, traced) in self.traced.iter_mut().enumerate() {
            let t = self.runs.get_mut(ADAM + k);
            let n = traced.trace.len() + 1;
            // `step_to(n)` steps the run when it is behind n: only ask once Runs has booked n.
            // Whatever the status: a run that finished its last epoch at n, or diverged at n,
            // still has that step to show.
            if n <= target && t.steps() == n && t.step_to(n)? {
                traced.trace.push(trace_step(t, &self.range, &mut traced.before, NAMES[ADAM + k])?);
            }
        }
        for i in 0..self.runs.len() {
            let t = self.runs.get_mut(i);
            if !self.at_end[i] && *t.status() == Status::Running && t.steps() == target {
                self.at_end[i] = t.step_to(target)?;
            }
        }
        self.set_holds();
        Ok(())
    }

    /// The round in progress: the Adam runs may take the step after the last one both have
    /// traced, SGD and RMSprop up to [`LEAD`] steps past that (never past the step count).
    fn set_holds(&mut self) {
        let target = self.spec.steps;
        let traced = (ADAM..=ADAM_RAW).filter(|&i| *self.runs.get(i).status() == Status::Running).map(|i| self.traced[i - ADAM].trace.len()).min();
        for i in 0..self.runs.len() {
            let lead = if i == ADAM || i == ADAM_RAW { 1 } else { LEAD };
            let hold = traced.map_or(target, |r| (r + lead).min(target));
            self.runs.get_mut(i).hold_after(Some(hold));
        }
    }

    fn done(&self, i: usize) -> bool {
        self.at_end[i] || *self.runs.get(i).status() != Status::Running
    }

    fn work_left(&self) -> bool {
        (0..self.runs.len()).any(|i| !self.done(i))
    }

    /// Whether a run would close an epoch with its next step this round.
    fn epoch_end_next(&self) -> bool {
        self.runs.iter().any(|t| *t.status() == Status::Running && t.steps() < self.spec.steps && t.next_step_ends_epoch())
    }

    /// What the runs have booked: steps and validation checks (unchanged after a call in
    /// which every run waited).
    fn booked(&self) -> (usize, usize) {
        self.runs.iter().fold((0, 0), |(s, c), t| (s + t.steps(), c + t.history().checks.len()))
    }

    /// running while any run has steps left; then stopped (the student's Stop), diverged (a
    /// run diverged) or finished.
    fn status(&self) -> &'static str {
        let any = |f: &dyn Fn(&Status) -> bool| self.runs.iter().any(|t| f(t.status()));
        if self.work_left() {
            "running"
        } else if any(&|s| s.message() == Some(STOPPED_BY_STUDENT)) {
            "stopped"
        } else if any(&|s| matches!(s, Status::Diverged(_))) {
            "diverged"
        } else {
            "finished"
        }
    }

    /// Steps, smoothed losses and the spread of the effective learning rates.
    pub fn report(&self) -> AdaptiveReport {
        let target = self.spec.steps;
        let runs = self
            .runs
            .iter()
            .enumerate()
            .map(|(i, t)| RunReport {
                name: NAMES[i],
                steps: t.steps(),
                loss: smoothed(&t.history().step_loss, LOSS_BETA).last().copied().filter(|v| v.is_finite()),
                status: match t.status() {
                    Status::Running if t.steps() >= target => "finished",
                    s => s.word(),
                },
                message: t.status().message().map(String::from),
            })
            .collect();
        let summary = |which: usize| {
            let (mut rates, no_gradient) = self.rates(which)?;
            if rates.is_empty() {
                return None;
            }
            Some(RateSummary { median: percentile(&mut rates, 0.5), p10: percentile(&mut rates, 0.1), p90: percentile(&mut rates, 0.9), no_gradient })
        };
        let first = |i: usize| self.trace(i).iter().take(3).map(|t| t.update).collect();
        let done = (0..self.runs.len()).map(|i| if self.done(i) { target } else { self.runs.get(i).steps().min(target) }).sum();
        AdaptiveReport {
            status: self.status(),
            progress: Progress { done, total: target * self.runs.len() },
            steps: self.runs.iter().map(Trainer::steps).min().unwrap_or(0),
            target,
            done: !self.work_left(),
            layer: self.spec.layer,
            fan_in: self.fan.0,
            fan_out: self.fan.1,
            sgd_lr: self.spec.sgd_lr,
            rmsprop: summary(RMSPROP),
            adam: summary(ADAM),
            first_updates: [first(ADAM), first(ADAM_RAW)],
            runs,
        }
    }

    /// The effective learning rate of every weight of the layer that has seen a gradient, and
    /// how many have not, for [`RMSPROP`] or [`ADAM`]. None before the run's first step.
    pub fn rates(&self, which: usize) -> Option<(Vec<f64>, usize)> {
        // the state and its step count as of the run's last sync
        let engine = self.runs.get(which).engine();
        let steps = engine.optimizer_steps();
        if steps == 0 {
            return None;
        }
        let (key, lr, eps, c2) = match which {
            RMSPROP => ("square_avg", self.rms.lr, self.rms.eps, 1.0),
            ADAM => ("exp_avg_sq", self.adam.lr, self.adam.eps, 1.0 - self.adam.betas.1.powi(steps as i32)),
            _ => return None,
        };
        Some(effective_rates(&engine.optimizer_state(key)?[self.range.clone()], lr, eps, c2))
    }
}

/// The trace of the step a synced Adam run has just booked: the layer's mean |g|, |m|, √v and
/// |Δw| (against `before`, which then becomes this step's weights).
fn trace_step(t: &Trainer, range: &Range<usize>, before: &mut [f32], name: &str) -> Result<Trace> {
    let engine = t.engine();
    let (Some(grads), Some(m), Some(v)) = (engine.gradients(), engine.optimizer_state("exp_avg"), engine.optimizer_state("exp_avg_sq")) else {
        // asked for at the start, so a synced engine has them: say so rather than stall
        bail!("{name}: step {} was synced without its gradients or Adam state", t.steps());
    };
    let after = &engine.model().parameters()[range.clone()];
    let n = range.len() as f64;
    let mean = |xs: &mut dyn Iterator<Item = f64>| xs.sum::<f64>() / n;
    let trace = Trace {
        grad: mean(&mut grads[range.clone()].iter().map(|g| g.abs() as f64)),
        m: mean(&mut m[range.clone()].iter().map(|x| x.abs() as f64)),
        sqrt_v: mean(&mut v[range.clone()].iter().map(|x| (*x as f64).sqrt())),
        update: mean(&mut before.iter().zip(after).map(|(a, b)| (a - b).abs() as f64)),
    };
    before.copy_from_slice(after);
    Ok(trace)
}

mod charts;
#[cfg(test)]
mod tests;
