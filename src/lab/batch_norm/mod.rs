//! The "Batch normalization" cell: one deep sigmoid (or tanh) network trained from one seed on
//! the same batches twice — plain, and with `BatchNorm1d` after every hidden Linear — and,
//! with the noisy switch, a third time with a random shift and scale added after each
//! batch-norm layer at every step (Santurkar et al. 2018).
//!
//! Every `traceEvery` steps each run is synced at exactly that step and looked inside on a
//! fixed batch of validation digits, with each batch-norm normalizing by the batch's own
//! statistics (what the next layer sees while training; nothing in the network changes):
//!
//! - the 15th / 50th / 85th percentiles of one unit's input to its non-linearity in the
//!   chosen layer (Ioffe and Szegedy 2015, Figure 1): internal covariate shift is these
//!   lines drifting while the layers above try to learn from them;
//! - every hidden layer's activations (violins) at the last traced step;
//! - for the batch-norm run, the running mean and variance of a few units of the chosen layer,
//!   and, every fourth trace, the same units' mean and variance over the whole training set at
//!   the weights of that step, every batch-norm below normalizing by the whole set's own
//!   statistics (`measure::Population`, a chunk at a time on a copy of the network while
//!   training goes on) — what the running statistics estimate;
//! - every fourth trace, the loss along the gradient direction (`measure::profile`).
//!
//! When training ends, the batch-norm run's network classifies the same validation digits in
//! training mode (cut into batches of 2, 4, 8, 32, 128, each normalized by itself) and in
//! evaluation mode (running statistics), one batch size per call.
//!
//! Momentum is PyTorch's (the new batch's weight, default 0.1; Keras's `momentum` is 1 − it).
//! The plain and batch-norm runs train on the page's device; the noisy run stays on the CPU
//! (no GPU kernel adds the noise). Files: `measure.rs` (the measurements, as functions of a
//! network), `report.rs` (the read-out's types), `charts.rs` (the charts).

mod charts;
pub mod measure;
mod report;

pub use report::{BatchNormReport, IdentityReport, RunLine, Stats, Trace, UnitAffine};

use super::run::{Data, Device, RunSpec};
use super::schedule::{Clock, Runs};
use super::{Progress, STOPPED_BY_STUDENT};
use crate::data::Dataset;
use crate::nn::{Inside, Mlp};
use crate::train::{smoothed, Status};
use crate::{ensure, Result, Rng};
use measure::{ModeAccuracy, Moments, Profile};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The runs, in this order.
pub const PLAIN: usize = 0;
pub const BN: usize = 1;
pub const NOISY: usize = 2;
pub const NAMES: [&str; 3] = ["plain", "batch-norm", "noisy batch-norm"];
/// The batch sizes of the train-vs-eval comparison.
pub const BATCHES: [usize; 5] = [2, 4, 8, 32, 128];
/// Step sizes of the loss-along-the-gradient profile, as multiples of the learning rate.
pub const ETA_FACTORS: [f64; 6] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0];
/// Units whose running statistics are followed (from the chosen one on).
pub const FOLLOWED: usize = 3;
/// Rows of the training set per chunk of the whole-set statistics.
pub const CHUNK: usize = 250;
/// Limits of the cell's own settings.
pub const MAX_LAYERS: usize = 8;
pub const MAX_EPOCHS: usize = 20;
pub const MAX_TRACE_EVERY: usize = 100;
pub const MAX_PROBE: usize = 1024;
/// Smoothing of the loss curves (about the last 10 steps).
pub const LOSS_BETA: f64 = 0.9;

/// The cell's settings (camelCase JSON). SGD with PyTorch's defaults besides `lr`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchNormSpec {
    #[serde(default)]
    pub seed: u64,
    /// Hidden widths (default five layers of 100).
    #[serde(default = "hidden")]
    pub hidden: Vec<usize>,
    /// "sigmoid" (default) or "tanh", "relu", "leaky_relu".
    #[serde(default = "sigmoid")]
    pub activation: String,
    /// SGD's learning rate (default 0.5).
    #[serde(default = "lr")]
    pub lr: f64,
    #[serde(default = "batch")]
    pub batch_size: usize,
    #[serde(default = "epochs")]
    pub epochs: usize,
    /// Validation checks per epoch (default 4).
    #[serde(default = "four")]
    pub checks_per_epoch: usize,
    /// The hidden layer looked into, 1-based (default 3).
    #[serde(default = "three")]
    pub layer: usize,
    /// The unit whose input is traced, 1-based (default 1); its running statistics and those of
    /// the next [`FOLLOWED`] − 1 units are followed.
    #[serde(default = "one")]
    pub unit: usize,
    /// Running-statistics momentum, PyTorch's convention (default 0.1, which is Keras's
    /// `momentum = 0.9`: Keras weighs the old value, 1 − this; its own default 0.99 is 0.01 here).
    #[serde(default = "momentum")]
    pub bn_momentum: f32,
    /// Strength of the noisy batch-norm run (0: no such run; see `nn::batch_norm::noise`).
    #[serde(default)]
    pub noise: f32,
    /// Steps between looks inside (default 5).
    #[serde(default = "five")]
    pub trace_every: usize,
    /// Validation digits looked at (default 256).
    #[serde(default = "probe")]
    pub probe: usize,
}

fn hidden() -> Vec<usize> {
    vec![100; 5]
}
fn sigmoid() -> String {
    "sigmoid".into()
}
fn lr() -> f64 {
    0.5
}
fn batch() -> usize {
    64
}
fn epochs() -> usize {
    2
}
fn four() -> usize {
    4
}
fn three() -> usize {
    3
}
fn one() -> usize {
    1
}
fn momentum() -> f32 {
    0.1
}
fn five() -> usize {
    5
}
fn probe() -> usize {
    256
}

impl Default for BatchNormSpec {
    fn default() -> Self {
        serde_json::from_value(serde_json::json!({})).expect("every field has a default")
    }
}

/// The whole-training-set statistics being gathered on a copy of the network.
struct PopJob {
    step: usize,
    population: measure::Population,
}

/// The cell's experiment.
pub struct BatchNormLab {
    spec: BatchNormSpec,
    runs: Runs,
    train: Arc<Dataset>,
    /// The probe digits (validation, drawn by the seed) and their labels.
    probe_x: Vec<f32>,
    probe_y: Vec<u8>,
    /// A fixed training batch for the profiles.
    batch_x: Vec<f32>,
    batch_y: Vec<u32>,
    /// 0-based followed units of the chosen layer.
    units: Vec<usize>,
    traces: Vec<Vec<Trace>>,
    /// Each run's last look at every hidden layer's activations.
    last_inside: Vec<Vec<Inside>>,
    profiles: Vec<Vec<Profile>>,
    running: Vec<Stats>,
    population: Vec<Stats>,
    pop_job: Option<PopJob>,
    modes: Vec<ModeAccuracy>,
    /// Whether the closing measurements are over (or will not be made).
    closed: bool,
}

impl BatchNormLab {
    pub fn new(data: &Data, spec: BatchNormSpec, device: &dyn Device) -> Result<BatchNormLab> {
        let h = spec.hidden.len();
        ensure!((1..=MAX_LAYERS).contains(&h), "{h} hidden layers: this cell takes 1 to {MAX_LAYERS}");
        ensure!((1..=h).contains(&spec.layer), "layer {} does not exist: this network has hidden layers 1 to {h}", spec.layer);
        let width = spec.hidden[spec.layer - 1];
        ensure!((1..=width).contains(&spec.unit), "unit {} does not exist: layer {} has units 1 to {width}", spec.unit, spec.layer);
        ensure!((1..=MAX_EPOCHS).contains(&spec.epochs), "{} epochs is out of range: pick 1 to {MAX_EPOCHS}", spec.epochs);
        ensure!(spec.lr > 0.0 && spec.lr <= 100.0, "learning rate {} is out of range: pick a number above 0, at most 100", spec.lr);
        ensure!(
            spec.bn_momentum > 0.0 && spec.bn_momentum <= 1.0,
            "momentum {} is out of range: pick above 0, at most 1 (PyTorch's convention: the new batch's weight)",
            spec.bn_momentum
        );
        crate::nn::batch_norm::check_noise(spec.noise)?;
        ensure!(
            (1..=MAX_TRACE_EVERY).contains(&spec.trace_every),
            "trace every {} steps is out of range: pick 1 to {MAX_TRACE_EVERY}",
            spec.trace_every
        );
        let n = data.train.len();
        ensure!(
            spec.batch_size >= 2 && spec.batch_size <= n,
            "batch size {} is out of range: batch-norm needs at least 2 digits a batch (and at most {n})",
            spec.batch_size
        );
        ensure!(
            n % spec.batch_size != 1,
            "batch size {}: the last batch of an epoch would hold 1 digit, which batch-norm cannot normalize",
            spec.batch_size
        );
        let v = data.validation.len();
        let most = MAX_PROBE.min(v);
        ensure!((128..=most).contains(&spec.probe), "{} probe digits is out of range: pick 128 to {most}", spec.probe);
        ensure!(BATCHES.iter().all(|b| spec.probe % b != 1), "{} probe digits would leave 1 digit alone in a batch", spec.probe);

        let base = RunSpec {
            hidden: spec.hidden.clone(),
            activation: spec.activation.clone(),
            seed: spec.seed,
            optimizer: "sgd".into(),
            options: serde_json::json!({ "lr": spec.lr }),
            batch_size: spec.batch_size,
            epochs: spec.epochs,
            checks_per_epoch: spec.checks_per_epoch,
            bn_momentum: spec.bn_momentum,
            ..RunSpec::default()
        };
        let mut specs = vec![base.clone(), RunSpec { batch_norm: vec![true], ..base.clone() }];
        if spec.noise > 0.0 {
            specs.push(RunSpec { batch_norm: vec![true], bn_noise: spec.noise, ..base });
        }
        let trainers = specs.iter().map(|s| s.build_on(data, None, device)).collect::<Result<Vec<_>>>()?;
        let runs = Runs::new(trainers);

        let (f, vd) = (data.validation.features, &data.validation);
        let pick = Rng::stream(spec.seed, "probe").permutation(v);
        let probe_x = pick[..spec.probe].iter().flat_map(|&i| vd.x[i * f..(i + 1) * f].iter().copied()).collect();
        let probe_y = pick[..spec.probe].iter().map(|&i| vd.labels[i]).collect();
        let pick = Rng::stream(spec.seed, "profile batch").permutation(n);
        let rows = &pick[..spec.batch_size];
        let batch_x = rows.iter().flat_map(|&i| data.train.x[i * f..(i + 1) * f].iter().copied()).collect();
        let batch_y = rows.iter().map(|&i| data.train.labels[i] as u32).collect();
        let units = (0..FOLLOWED.min(width)).map(|k| (spec.unit - 1 + k) % width).collect();
        let k = runs.len();
        let mut lab = BatchNormLab {
            spec,
            runs,
            train: data.train.clone(),
            probe_x,
            probe_y,
            batch_x,
            batch_y,
            units,
            traces: vec![Vec::new(); k],
            last_inside: vec![Vec::new(); k],
            profiles: vec![Vec::new(); k],
            running: Vec::new(),
            population: Vec::new(),
            pop_job: None,
            modes: Vec::new(),
            closed: false,
        };
        for i in 0..k {
            let model = lab.runs.get(i).model().clone();
            lab.look(i, &model, 0)?;
        }
        lab.set_holds();
        Ok(lab)
    }

    pub fn spec(&self) -> &BatchNormSpec {
        &self.spec
    }
    pub fn runs(&self) -> &Runs {
        &self.runs
    }
    pub fn traces(&self, run: usize) -> &[Trace] {
        &self.traces[run]
    }
    pub fn running(&self) -> &[Stats] {
        &self.running
    }
    pub fn population(&self) -> &[Stats] {
        &self.population
    }
    pub fn profiles(&self, run: usize) -> &[Profile] {
        &self.profiles[run]
    }
    pub fn modes(&self) -> &[ModeAccuracy] {
        &self.modes
    }

    /// Look inside run `i`'s network at `step` (see the module comment).
    fn look(&mut self, i: usize, model: &Mlp, step: usize) -> Result<()> {
        let l = self.spec.layer - 1;
        let inside = model.inside(&self.probe_x, self.spec.probe, true)?;
        let width = self.spec.hidden[l];
        let unit = measure::column(&inside[l].input, width, self.spec.unit - 1);
        let k = self.traces[i].len();
        self.traces[i].push(Trace { step, percentiles: measure::percentiles(&unit) });
        self.last_inside[i] = inside;
        if k.is_multiple_of(4) {
            let p = measure::profile(model, step, &self.batch_x, &self.batch_y, self.spec.lr, &ETA_FACTORS)?;
            self.profiles[i].push(p);
        }
        if i == BN {
            if let Some((mean, var)) = model.running_stats(l) {
                let pick = |v: &[f32]| self.units.iter().map(|&u| v[u] as f64).collect();
                self.running.push(Stats { step, mean: pick(mean), var: pick(var) });
            }
            if k.is_multiple_of(4) && self.pop_job.is_none() {
                let population = measure::Population::new(model.clone(), l, self.units.clone(), self.train.len());
                self.pop_job = Some(PopJob { step, population });
            }
        }
        Ok(())
    }

    /// One chunk of the whole-training-set statistics; true when one was done.
    fn pop_chunk(&mut self) -> Result<bool> {
        let Some(job) = self.pop_job.as_mut() else { return Ok(false) };
        if let Some((mean, var)) = job.population.step(&self.train.x, CHUNK) {
            self.population.push(Stats { step: job.step, mean, var });
            self.pop_job = None;
        }
        Ok(true)
    }

    /// Look at every run synced at its next trace step (or at its end), then set the holds.
    fn record(&mut self) -> Result<()> {
        for i in 0..self.runs.len() {
            let next = self.traces[i].len() * self.spec.trace_every;
            let last = self.traces[i].last().map_or(0, |t| t.step);
            let t = self.runs.get_mut(i);
            let running = *t.status() == Status::Running;
            let at = if running && t.steps() == next && t.step_to(next)? {
                Some(next)
            } else if !running && t.steps() > last && !matches!(t.status(), Status::Diverged(_)) {
                Some(t.steps()) // the run's end, between two traces
            } else {
                None
            };
            if let Some(step) = at {
                let model = t.model().clone();
                self.look(i, &model, step)?;
            }
        }
        self.set_holds();
        Ok(())
    }

    fn set_holds(&mut self) {
        for i in 0..self.runs.len() {
            let next = self.traces[i].len() * self.spec.trace_every;
            self.runs.get_mut(i).hold_after(Some(next));
        }
    }

    /// After training: one batch size of the train-vs-eval comparison per call.
    fn close_chunk(&mut self) -> Result<()> {
        let t = self.runs.get(BN);
        if matches!(t.status(), Status::Diverged(_)) || self.modes.len() == BATCHES.len() {
            self.closed = true;
            return Ok(());
        }
        let b = BATCHES[self.modes.len()];
        self.modes.push(measure::mode_accuracy(t.model(), &self.probe_x, &self.probe_y, b)?);
        self.closed = self.modes.len() == BATCHES.len();
        Ok(())
    }

    fn work_left(&self) -> bool {
        self.runs.active() || self.pop_job.is_some() || !self.closed
    }

    /// Advance for about `budget_ms`; true while work is left.
    pub fn run_for(&mut self, budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        let start = clock.now_ms();
        loop {
            self.record()?;
            // the whole-set statistics take up to half of what is left of the budget (one
            // chunk at least), so their dots keep pace with the training they describe
            let share = clock.now_ms() + (budget_ms - (clock.now_ms() - start)) / 2.0;
            while self.pop_job.is_some() {
                self.pop_chunk()?;
                if clock.now_ms() >= share {
                    break;
                }
            }
            if !self.runs.active() && self.pop_job.is_none() {
                if !self.closed {
                    self.close_chunk()?;
                }
                return Ok(self.work_left());
            }
            let left = budget_ms - (clock.now_ms() - start);
            if left <= 0.0 {
                return Ok(true);
            }
            let before = self.booked();
            self.runs.run_for(left, clock)?;
            if self.booked() == before {
                self.record()?;
                return Ok(self.work_left());
            }
        }
    }

    fn booked(&self) -> (usize, usize) {
        self.runs.iter().fold((0, 0), |(s, c), t| (s + t.steps(), c + t.history().checks.len()))
    }

    /// The student's Stop: every run ends, and so do the measurements.
    pub fn stop(&mut self) {
        self.runs.stop(STOPPED_BY_STUDENT);
        self.pop_job = None;
        self.closed = true;
    }

    /// The identity exercise on the batch-norm run's chosen layer, at its last synced step:
    /// the probe digits' linear outputs z, this batch's mean μ_B and biased variance σ²_B,
    /// γ and β from the student's choice (`measure::affine_choice`), and how far
    /// BN(z) = γ·(z − μ_B)/√(σ²_B + ε) + β is from z.
    pub fn identity(&self, gamma: &str, beta: &str) -> Result<IdentityReport> {
        let l = self.spec.layer - 1;
        let t = self.runs.get(BN);
        let model = t.model();
        let z = model.inside(&self.probe_x, self.spec.probe, true)?.swap_remove(l).linear;
        let width = self.spec.hidden[l];
        let mut m = Moments::new(width);
        m.add(&z, width, &(0..width).collect::<Vec<_>>());
        let (mean, var) = m.mean_var();
        let eps = model.spec().bn_eps;
        let (g, b) = measure::affine_choice(gamma, beta, &mean, &var, eps as f64)?;
        let check = measure::identity(&z, self.spec.probe, width, &g, &b, eps)?;
        Ok(IdentityReport {
            layer: self.spec.layer,
            step: self.traces[BN].last().map_or(0, |t| t.step),
            gamma: gamma.into(),
            beta: beta.into(),
            check,
        })
    }

    pub fn report(&self) -> BatchNormReport {
        let l = self.spec.layer - 1;
        let runs = (0..self.runs.len())
            .map(|i| {
                let t = self.runs.get(i);
                let h = t.history();
                RunLine {
                    name: NAMES[i],
                    status: t.status().word(),
                    message: t.status().message().filter(|m| *m != STOPPED_BY_STUDENT).map(String::from),
                    steps: t.steps(),
                    total_steps: t.total_steps(),
                    loss: smoothed(&h.step_loss, LOSS_BETA).last().copied(),
                    val_error: h.checks.last().map(|c| c.val_error),
                    best_val_error: h.checks.iter().map(|c| c.val_error).filter(|v| v.is_finite()).reduce(f32::min),
                    backend: t.engine().label(),
                    percentiles: self.traces[i].last().map(|t| t.percentiles),
                    profile: self.profiles[i].last().cloned(),
                }
            })
            .collect();
        let model = self.runs.get(BN).model();
        let affine = match (model.bn_affine(l), model.running_stats(l)) {
            (Some((g, b)), Some((m, v))) => {
                self.units.iter().map(|&u| UnitAffine { unit: u + 1, gamma: g[u], beta: b[u], running_mean: m[u], running_var: v[u] }).collect()
            }
            _ => Vec::new(),
        };
        let status = if self.work_left() {
            "running"
        } else if self.runs.iter().any(|t| t.status().message() == Some(STOPPED_BY_STUDENT)) {
            "stopped"
        } else {
            "finished"
        };
        BatchNormReport {
            status,
            progress: Progress::of(&self.runs),
            runs,
            layer: self.spec.layer,
            unit: self.spec.unit,
            units: self.units.iter().map(|u| u + 1).collect(),
            momentum: self.spec.bn_momentum,
            keras_momentum: 1.0 - self.spec.bn_momentum,
            running: self.running.last().cloned(),
            population: self.population.last().cloned(),
            train_size: self.train.len(),
            affine,
            modes: self.modes.clone(),
            probe: self.spec.probe,
        }
    }
}
