//! The "Hyperparameter search" cell: grid search, random search and Bayesian optimization
//! given the same budget of trials on the same two hyperparameters, side by side.
//!
//! The objective is either
//!
//! - `mnist`: the validation error of a short training run (the spec's network on its first
//!   `n` training digits, scored on the first `validation` validation digits after its last
//!   epoch) over two of learning rate, L2 strength, hidden width and dropout ([`axes`]). The
//!   trials are [`Job`]s for the worker pool, handed out as workers free up; a run that
//!   diverges counts as an error of 1 (worse than guessing), so the search learns to avoid
//!   its region;
//! - `synthetic`: [`crate::tune::synthetic`], a smooth function of the same shape (one axis
//!   matters, one hardly does), cheap enough to repeat every method over `seeds` seeds in a
//!   second or two of this thread's time, so the comparison is a distribution, not one draw.
//!
//! Each method is a [`Search`]. What the cell shows of Bayesian optimization is its model
//! *as it was when it chose a trial*: `inspect` picks a model proposal (default the latest),
//! and the slice, acquisition and maps are drawn from the Gaussian process rebuilt for that
//! proposal (`BayesOpt::proposal_model`: the observations it had, lies at the trials then
//! pending). Stepping the proposal forward replays the search one decision at a time.
//!
//! # Step by step
//!
//! With `step` set, Bayesian optimization runs its initial design and then waits: each
//! [`step_bayes`](Tuning::step_bayes) (the page's "next trial") lets it hand out exactly one
//! more trial — ask the model for one proposal, run it (at once on the synthetic objective, as
//! a job for the pool on MNIST) and tell the result — after which it waits again, so the
//! inspector's latest model changes one trial at a time. [`run_on`](Tuning::run_on) lets it go
//! on to its budget. Grid and random search do not wait (their points do not depend on
//! results); with several seeds every seed's Bayesian optimization takes the step.
//!
//! # Batches in the worker pool
//!
//! The pool is asynchronous: whenever a worker frees, the method with the fewest trials so far
//! that may hand out another gets it. Grid and random search take any free worker; Bayesian
//! optimization keeps at most `q` trials out (`batch`, else `parallel / methods` rounded up),
//! and each new proposal is made with the ones still out lied about (the constant liar of
//! [`crate::tune::bayes`]), so it is a rolling batch rather than rounds that wait for their
//! slowest trial.
//!
//! Everything is seeded from `run.seed`: the random points and the model's streams of seed s
//! come from `Rng::stream(seed, "tuning-s")`, so a link replays the whole comparison.

pub mod axes;
pub mod search;
mod view;

pub use axes::Axis;
pub use search::{Method, Search, Trial};

use super::job::{Examples, Job, SetName, Update};
use super::pooled::{self, Ending, Record};
use super::run::RunSpec;
use super::{Clock, Progress};
use crate::tune::{synthetic, Acquisition, BayesOptions, Space};
use crate::{ensure, Result, Rng};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

/// The most trials per method.
pub const MAX_BUDGET: usize = 64;
/// The most seeds of the synthetic comparison.
pub const MAX_SEEDS: usize = 50;
/// The most trials out at once.
pub const MAX_PARALLEL: usize = 16;

/// What the trials score.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    #[default]
    Mnist,
    Synthetic,
}

/// What to search.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TuningSpec {
    #[serde(default)]
    pub objective: Objective,
    /// The two hyperparameters searched (MNIST; distinct). Default learning rate and L2.
    #[serde(default = "default_axes")]
    pub axes: [Axis; 2],
    /// The network and its training; each trial sets the searched hyperparameters on it (its
    /// `trainSubset` is not used: `n` says which digits). Its seed seeds the searches.
    pub run: RunSpec,
    /// Train each trial on the first `n` training digits (default 2000).
    #[serde(default = "default_n")]
    pub n: usize,
    /// Score it on the first `validation` validation digits (default 2000).
    #[serde(default = "default_n")]
    pub validation: usize,
    /// Trials per method (2 to 64; default 16).
    #[serde(default = "default_budget")]
    pub budget: usize,
    /// The methods compared (default all three).
    #[serde(default = "default_methods")]
    pub methods: Vec<Method>,
    /// How many trials may be out at once (the pool's workers; default 1).
    #[serde(default = "one")]
    pub parallel: usize,
    /// Trials Bayesian optimization keeps out at once (default: its share of `parallel`).
    #[serde(default)]
    pub batch: Option<usize>,
    /// Seeds of the synthetic comparison (1 to 50; default 20). MNIST runs one.
    #[serde(default = "default_seeds")]
    pub seeds: usize,
    /// Bayesian optimization's initial design (default 5), acquisition (default EI), ξ
    /// (default 0.01) and κ (default 1.96).
    #[serde(default = "default_initial")]
    pub initial: usize,
    #[serde(default)]
    pub acquisition: Acquisition,
    #[serde(default = "default_xi")]
    pub xi: f64,
    #[serde(default = "default_kappa")]
    pub kappa: f64,
    /// Step by step: Bayesian optimization waits after its initial design and after each trial
    /// for [`Tuning::step_bayes`] (default false: it runs on to its budget).
    #[serde(default)]
    pub step: bool,
}

fn default_axes() -> [Axis; 2] {
    [Axis::LearningRate, Axis::L2]
}
fn default_n() -> usize {
    2000
}
fn default_budget() -> usize {
    16
}
fn default_methods() -> Vec<Method> {
    Method::ALL.to_vec()
}
fn one() -> usize {
    1
}
fn default_seeds() -> usize {
    20
}
fn default_initial() -> usize {
    5
}
fn default_xi() -> f64 {
    crate::tune::acquisition::DEFAULT_XI
}
fn default_kappa() -> f64 {
    crate::tune::acquisition::DEFAULT_KAPPA
}

/// What the inspector shows: the model behind Bayesian optimization's trial `trial` (from 1;
/// None: the latest), and the axis of the slice.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct View {
    trial: Option<usize>,
    axis: usize,
}

pub struct Tuning {
    spec: TuningSpec,
    space: Space,
    /// `runs[s][m]`: seed s's search by `spec.methods[m]`.
    runs: Vec<Vec<Search>>,
    /// Job i ran trial `jobs[i].1` of method `jobs[i].0` (seed 0).
    jobs: Vec<(usize, usize)>,
    records: Vec<Record>,
    train: Vec<u32>,
    validation: Vec<u32>,
    stopped: bool,
    view: View,
    compute_ms: f64,
    /// The first trial that failed with a message (MNIST), or a search that could not go on.
    failure: Option<String>,
    /// How long each method's last synthetic trial took (ms).
    trial_ms: Vec<f64>,
    /// The map model of the MNIST panels, by the number of results it was fitted on.
    background: RefCell<Option<(usize, view::Background)>>,
    /// Step by step: Bayesian optimization hands out no more than this many trials (per seed)
    /// until a step raises it; None: it runs on to its budget.
    bayes_limit: Option<usize>,
}

/// One method's line in the read-out.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodRow {
    pub method: Method,
    pub label: &'static str,
    /// Trials ended (with or without a result) and handed out, of its budget (seed 0).
    pub ended: usize,
    pub handed: usize,
    pub budget: usize,
    /// Its best objective so far (seed 0), the trial (from 1) and the values it had.
    pub best: Option<f64>,
    pub best_trial: Option<usize>,
    pub best_values: Vec<String>,
    /// Distinct values it tried of each axis (seed 0).
    pub distinct: Vec<usize>,
    /// Over the seeds (synthetic): the median of each seed's best and the middle half.
    pub median_best: Option<f64>,
    pub quartiles: Option<(f64, f64)>,
    /// Trials that ended without a result (an error, or stopped).
    pub failed: usize,
}

/// One trial's line (seed 0).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrialRow {
    pub method: Method,
    /// From 1, in the order handed out.
    pub trial: usize,
    pub values: Vec<String>,
    pub y: Option<f64>,
    /// queued | running | finished | diverged | stopped | cancelled | error.
    pub status: String,
    /// The model proposal it came from (Bayesian optimization after its initial design).
    pub proposal: Option<usize>,
}

/// The model the inspector shows.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelRow {
    /// Which proposal (from 0), of how many so far.
    pub proposal: usize,
    pub proposals: usize,
    /// The trials (from 1) the first and the latest proposals chose.
    pub first_trial: usize,
    pub last_trial: usize,
    /// The trial it chose (from 1) and its values; what the model knew then.
    pub trial: usize,
    pub values: Vec<String>,
    pub observed: usize,
    pub pending: usize,
    /// y* the acquisition was scored against.
    pub best: f64,
    /// The fitted kernel: ℓ per axis (in units of the axis's range: 1 = the whole range),
    /// σ² and noise (of the standardized errors).
    pub length_scales: Vec<f64>,
    pub variance: f64,
    pub noise: f64,
    /// The slice's axis.
    pub axis: usize,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TuningReport {
    pub status: &'static str,
    /// Trials ended, of trials in all (every method, every seed).
    pub progress: Progress,
    pub objective: Objective,
    pub axes: Vec<&'static str>,
    pub budget: usize,
    pub seeds: usize,
    pub methods: Vec<MethodRow>,
    pub trials: Vec<TrialRow>,
    pub model: Option<ModelRow>,
    /// The length-scales of the MNIST maps' model (fitted on every result so far).
    pub map_length_scales: Option<Vec<f64>>,
    pub parallel: usize,
    pub bayes_batch: usize,
    /// Bayesian optimization goes step by step (see [`Tuning::step_bayes`]).
    pub stepping: bool,
    /// It is waiting for the next step: its last trial has ended and budget is left.
    pub waiting: bool,
    pub compute_ms: f64,
    pub failure: Option<String>,
}

impl Tuning {
    /// The searches of `spec`, for a training set of `train_size` digits and a validation set
    /// of `validation_size` (MNIST), each network shaped for `features` inputs and `classes`.
    pub fn new(spec: TuningSpec, train_size: usize, validation_size: usize, features: usize, classes: usize) -> Result<Tuning> {
        ensure!((2..=MAX_BUDGET).contains(&spec.budget), "a budget of {} trials: use 2 to {MAX_BUDGET} per method", spec.budget);
        ensure!(!spec.methods.is_empty(), "no search method chosen: pick at least one of grid, random, bayes");
        for (i, m) in spec.methods.iter().enumerate() {
            ensure!(!spec.methods[..i].contains(m), "{} is listed twice", m.label());
        }
        ensure!((1..=MAX_PARALLEL).contains(&spec.parallel), "{} trials at once: use 1 to {MAX_PARALLEL}", spec.parallel);
        ensure!(spec.batch.is_none_or(|q| (1..=MAX_PARALLEL).contains(&q)), "a batch of {:?} trials: use 1 to {MAX_PARALLEL}", spec.batch);
        ensure!(
            spec.initial >= 1 && spec.initial < spec.budget,
            "{} initial trials: use 1 to {} (fewer than the budget)",
            spec.initial,
            spec.budget - 1
        );
        ensure!(spec.xi.is_finite() && (0.0..=1.0).contains(&spec.xi), "ξ = {}: use 0 to 1 (in units of error)", spec.xi);
        ensure!(spec.kappa.is_finite() && (0.0..=10.0).contains(&spec.kappa), "κ = {}: use 0 to 10", spec.kappa);
        let synthetic = spec.objective == Objective::Synthetic;
        let space = if synthetic {
            ensure!((1..=MAX_SEEDS).contains(&spec.seeds), "{} seeds: use 1 to {MAX_SEEDS}", spec.seeds);
            synthetic::space()
        } else {
            ensure!(spec.axes[0] != spec.axes[1], "search two different hyperparameters (both are {})", spec.axes[0].label());
            ensure!(spec.n >= 10 && spec.n <= train_size, "{} training digits: use 10 to {train_size}", spec.n);
            ensure!(
                spec.validation >= 10 && spec.validation <= validation_size,
                "{} validation digits: use 10 to {validation_size}",
                spec.validation
            );
            spec.run.check_shape(features, classes)?;
            spec.run.train_config()?;
            axes::space(spec.axes, &spec.run.optimizer)?
        };
        let seeds = if synthetic { spec.seeds } else { 1 };
        let options =
            BayesOptions { initial: spec.initial, acquisition: spec.acquisition, xi: spec.xi, kappa: spec.kappa, ..BayesOptions::default() };
        let q = bayes_batch(&spec);
        let runs = (0..seeds)
            .map(|s| {
                let seed = Rng::stream(spec.run.seed, &format!("tuning-{s}")).next_u64();
                spec.methods.iter().map(|&m| Search::new(m, &space, spec.budget, seed, &options, q)).collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        let train = (0..spec.n as u32).collect();
        let validation = (0..spec.validation as u32).collect();
        Ok(Tuning {
            space,
            runs,
            jobs: Vec::new(),
            records: Vec::new(),
            train,
            validation,
            stopped: false,
            view: View::default(),
            compute_ms: 0.0,
            failure: None,
            trial_ms: vec![0.0; Method::ALL.len()],
            background: RefCell::new(None),
            bayes_limit: spec.step.then_some(spec.initial),
            spec,
        })
    }

    pub fn spec(&self) -> &TuningSpec {
        &self.spec
    }

    fn synthetic(&self) -> bool {
        self.spec.objective == Objective::Synthetic
    }

    fn bayes_batch(&self) -> usize {
        bayes_batch(&self.spec)
    }

    /// The method that hands out the next trial in seed `s`: of those ready (and, step by
    /// step, allowed), the one with the fewest trials so far (ties: the order of `methods`).
    fn pick(&self, s: usize) -> Option<usize> {
        (0..self.runs[s].len()).filter(|&m| self.runs[s][m].ready() && self.allowed(&self.runs[s][m])).min_by_key(|&m| self.runs[s][m].trials.len())
    }

    /// Whether `search` may hand out another trial: always, except Bayesian optimization step
    /// by step at its limit.
    fn allowed(&self, search: &Search) -> bool {
        search.method != Method::Bayes || self.bayes_limit.is_none_or(|n| search.trials.len() < n)
    }

    /// Step by step, Bayesian optimization is waiting: in every seed it has handed out all it
    /// may and every one has ended, and seed 0's has budget left.
    pub fn waiting_for_step(&self) -> bool {
        let Some(n) = self.bayes_limit else { return false };
        let bayes: Vec<&Search> = self.runs.iter().flatten().filter(|s| s.method == Method::Bayes).collect();
        !self.stopped
            && bayes.iter().all(|b| b.trials.len() >= n.min(b.budget()) && b.out() == 0)
            && self.bayes().is_some_and(|b| b.trials.len() < b.budget())
    }

    /// The page's "next trial": while [`waiting_for_step`](Self::waiting_for_step), let Bayesian optimization
    /// hand out exactly one more trial (per seed); the next `run_for` (synthetic) or `jobs`
    /// (MNIST) runs it. False (and nothing changes) when it is not waiting: not step by step,
    /// a trial still out, the budget spent, or stopped.
    pub fn step_bayes(&mut self) -> bool {
        if !self.waiting_for_step() {
            return false;
        }
        self.bayes_limit = self.bayes_limit.map(|n| n + 1);
        true
    }

    /// Stop going step by step: Bayesian optimization runs on to its budget.
    pub fn run_on(&mut self) {
        self.bayes_limit = None;
    }

    /// Hand out method `m`'s next trial in seed `s`: its index, or None when its model could not
    /// propose one (that search ends there; the others go on).
    fn hand(&mut self, s: usize, m: usize) -> Option<usize> {
        match self.runs[s][m].hand_out() {
            Ok(t) => Some(t),
            Err(e) => {
                self.failure.get_or_insert_with(|| format!("{} could not go on: {e}", self.runs[s][m].method.label()));
                self.runs[s][m].close();
                None
            }
        }
    }

    /// The next trial to hand out in seed `s`, as (method, trial).
    fn hand_next(&mut self, s: usize) -> Option<(usize, usize)> {
        while let Some(m) = self.pick(s) {
            if let Some(t) = self.hand(s, m) {
                return Some((m, t));
            }
        }
        None
    }

    /// The trials to start now (MNIST): as many as `parallel` allows beside those out.
    pub fn jobs(&mut self) -> Vec<Job> {
        let mut out = Vec::new();
        if self.stopped || self.synthetic() {
            return out;
        }
        while self.runs[0].iter().map(Search::out).sum::<usize>() < self.spec.parallel {
            let Some((m, t)) = self.hand_next(0) else { break };
            let mut run = RunSpec { train_subset: None, ..self.spec.run.clone() };
            let trial = &self.runs[0][m].trials[t];
            for (axis, value) in self.spec.axes.iter().zip(&trial.values) {
                if let Err(e) = axis.apply(&mut run, value) {
                    self.failure.get_or_insert(e.to_string());
                }
            }
            self.jobs.push((m, t));
            self.records.push(Record::default());
            out.push(Job {
                spec: run,
                train: Examples { from: Some(SetName::Train), indices: Some(self.train.clone()) },
                validation: Examples { from: Some(SetName::Validation), indices: Some(self.validation.clone()) },
                label_map: None,
                test: false,
                keep_parameters: false,
            });
        }
        out
    }

    /// Job `i` recorded `update`.
    pub fn absorb(&mut self, i: usize, update: Update) -> Result<()> {
        pooled::record(&mut self.records, i)?.absorb(update);
        Ok(())
    }

    /// Job `i` ended: its trial's objective is the last epoch's validation error (1 when it
    /// diverged); stopped, cancelled or failed trials have none.
    pub fn finish(&mut self, i: usize, ending: Ending, _parameters: Option<Vec<f32>>) -> Result<()> {
        self.compute_ms += ending.compute_ms;
        let record = pooled::record(&mut self.records, i)?;
        record.finish(ending, None);
        let y = match record.status.as_deref() {
            Some("finished") => Some(record.history.epochs.last().map_or(1.0, |e| e.val_error as f64)).map(|y| if y.is_finite() { y } else { 1.0 }),
            Some("diverged") => Some(1.0),
            _ => None,
        };
        if record.status.as_deref() == Some("error") {
            let message = record.message.clone().unwrap_or_default();
            self.failure.get_or_insert(format!("a trial failed: {message}"));
        }
        let (m, t) = self.jobs[i];
        if !self.stopped {
            self.runs[0][m].tell(t, y)?;
        }
        Ok(())
    }

    /// Work for about `budget_ms` (the synthetic comparison runs here; MNIST trials run in the
    /// pool): true while trials are left.
    pub fn run_for(&mut self, budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        if self.synthetic() && !self.stopped {
            let start = clock.now_ms();
            let end = start + budget_ms;
            let mut first = true;
            'seeds: for s in 0..self.runs.len() {
                while let Some(m) = self.pick(s) {
                    // a trial of Bayesian optimization (a model fit) takes milliseconds: start one
                    // only when it fits in what is left, so a frame stays near its budget
                    let t0 = clock.now_ms();
                    if !first && t0 + self.trial_ms[m] > end {
                        break 'seeds;
                    }
                    first = false;
                    let Some(t) = self.hand(s, m) else { continue };
                    let u = &self.runs[s][m].trials[t].unit;
                    let y = synthetic::value(u[0], u[1]);
                    self.runs[s][m].tell(t, Some(y))?;
                    self.trial_ms[m] = clock.now_ms() - t0;
                }
            }
        }
        Ok(self.active())
    }

    /// Whether a trial is out or left to hand out.
    pub fn active(&self) -> bool {
        !self.stopped && self.runs.iter().flatten().any(|s| !s.done())
    }

    /// The student pressed Stop: no more trials; those out end without a result.
    pub fn stop(&mut self) {
        self.stopped = true;
        self.records.iter_mut().for_each(Record::stop);
        self.runs.iter_mut().flatten().for_each(Search::close);
    }

    /// Trials handed out plus trials ended, over every seed: it changes whenever a chart would.
    pub fn revision(&self) -> usize {
        self.runs.iter().flatten().map(|s| s.trials.len() + s.trials.iter().filter(|t| t.ended).count()).sum()
    }

    /// Show the model that chose Bayesian optimization's trial `trial` (from 1; None: the
    /// latest; a trial of the initial design shows the first model, one past the last the
    /// latest), sliced along `axis` (0 or 1).
    pub fn inspect(&mut self, trial: Option<usize>, axis: usize) -> Result<()> {
        ensure!(axis < 2, "axis {axis}: the search has two (0 and 1)");
        self.view = View { trial, axis };
        Ok(())
    }

    fn status(&self) -> &'static str {
        let ended = self.runs.iter().flatten().flat_map(|s| &s.trials).filter(|t| t.y.is_some()).count();
        if self.active() {
            "running"
        } else if ended == 0 && self.failure.is_some() {
            "error"
        } else if self.stopped {
            "stopped"
        } else {
            "finished"
        }
    }

    fn trial_status(&self, m: usize, t: usize) -> String {
        let trial = &self.runs[0][m].trials[t];
        if self.synthetic() {
            return if trial.ended { "finished" } else { "running" }.into();
        }
        match self.jobs.iter().position(|&j| j == (m, t)) {
            Some(i) => self.records[i].word(),
            None => "queued".into(),
        }
    }

    pub fn report(&self) -> TuningReport {
        let all: Vec<&Search> = self.runs.iter().flatten().collect();
        let progress =
            Progress { done: all.iter().map(|s| s.trials.iter().filter(|t| t.ended).count()).sum(), total: all.iter().map(|s| s.budget()).sum() };
        let methods = (0..self.spec.methods.len()).map(|m| self.method_row(m)).collect();
        let mut trials = Vec::new();
        for (m, search) in self.runs[0].iter().enumerate() {
            for (t, trial) in search.trials.iter().enumerate() {
                trials.push(TrialRow {
                    method: search.method,
                    trial: t + 1,
                    values: trial.values.iter().map(axes::show).collect(),
                    y: trial.y,
                    status: self.trial_status(m, t),
                    proposal: trial.proposal,
                });
            }
        }
        TuningReport {
            status: self.status(),
            progress,
            objective: self.spec.objective,
            axes: self.axis_labels(),
            budget: self.spec.budget,
            seeds: self.runs.len(),
            methods,
            trials,
            model: self.model_row(),
            map_length_scales: if self.synthetic() { None } else { self.background().map(|b| b.length_scales.clone()) },
            parallel: self.spec.parallel,
            bayes_batch: self.bayes_batch(),
            stepping: self.bayes_limit.is_some(),
            waiting: self.waiting_for_step(),
            compute_ms: self.compute_ms,
            failure: self.failure.clone(),
        }
    }

    fn axis_labels(&self) -> Vec<&'static str> {
        if self.synthetic() {
            vec!["important", "unimportant"]
        } else {
            self.spec.axes.iter().map(|a| a.label()).collect()
        }
    }

    fn method_row(&self, m: usize) -> MethodRow {
        let search = &self.runs[0][m];
        let best = search.best();
        let bests: Vec<f64> = self.runs.iter().filter_map(|r| r[m].best().and_then(|(_, t)| t.y)).collect();
        let (median_best, quartiles) = if self.synthetic() && !bests.is_empty() {
            (Some(quantile(&bests, 0.5)), Some((quantile(&bests, 0.25), quantile(&bests, 0.75))))
        } else {
            (None, None)
        };
        MethodRow {
            method: search.method,
            label: search.method.label(),
            ended: search.trials.iter().filter(|t| t.ended).count(),
            handed: search.trials.len(),
            budget: search.budget(),
            best: best.and_then(|(_, t)| t.y),
            best_trial: best.map(|(i, _)| i + 1),
            best_values: best.map(|(_, t)| t.values.iter().map(axes::show).collect()).unwrap_or_default(),
            distinct: (0..2).map(|d| search.distinct(d)).collect(),
            median_best,
            quartiles,
            failed: search.trials.iter().filter(|t| t.ended && t.y.is_none()).count(),
        }
    }

    /// Seed 0's Bayesian optimization, if it is among the methods.
    fn bayes(&self) -> Option<&Search> {
        self.runs[0].iter().find(|s| s.method == Method::Bayes)
    }

    /// (trial from 1, proposal) of every model-chosen trial of seed 0's Bayesian optimization.
    fn proposed_trials(&self) -> Vec<(usize, usize)> {
        let Some(search) = self.bayes() else { return Vec::new() };
        search.trials.iter().enumerate().filter_map(|(i, t)| t.proposal.map(|p| (i + 1, p))).collect()
    }

    /// The proposal the inspector shows (see [`inspect`](Self::inspect)); None before the
    /// model's first.
    fn shown_proposal(&self) -> Option<usize> {
        let proposed = self.proposed_trials();
        let (first, last) = (proposed.first()?, proposed.last()?);
        Some(match self.view.trial {
            None => last.1,
            Some(t) => proposed.iter().rev().find(|(i, _)| *i <= t).unwrap_or(first).1,
        })
    }

    fn model_row(&self) -> Option<ModelRow> {
        let search = self.bayes()?;
        let bayes = search.bayes()?;
        let p = self.shown_proposal()?;
        let proposal = &bayes.proposals()[p];
        let trial = search.trials.iter().position(|t| t.proposal == Some(p))?;
        let proposed = self.proposed_trials();
        Some(ModelRow {
            proposal: p,
            proposals: bayes.proposals().len(),
            first_trial: proposed.first()?.0,
            last_trial: proposed.last()?.0,
            trial: trial + 1,
            values: search.trials[trial].values.iter().map(axes::show).collect(),
            observed: proposal.observed,
            pending: proposal.pending.len(),
            best: proposal.best,
            length_scales: proposal.params.length_scales.clone(),
            variance: proposal.params.variance,
            noise: proposal.params.noise,
            axis: self.view.axis,
        })
    }

    /// Every MNIST trial's record, named by method, trial and values (for the Export menu).
    pub fn histories(&self) -> Vec<(String, &crate::train::history::History)> {
        self.jobs
            .iter()
            .zip(&self.records)
            .map(|(&(m, t), r)| {
                let search = &self.runs[0][m];
                let values: Vec<String> = search.trials[t].values.iter().map(axes::show).collect();
                (format!("{} trial {}: {}", search.method.label(), t + 1, values.join(", ")), &r.history)
            })
            .collect()
    }

    /// Every trial of every seed as CSV, one row per trial: seed, method, trial, each axis's
    /// value, the objective, status.
    pub fn trials_csv(&self) -> String {
        let labels = self.axis_labels();
        let quote = |s: &str| if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() };
        let mut out = format!("seed,method,trial,{},{},objective,status\n", quote(labels[0]), quote(labels[1]));
        for (s, run) in self.runs.iter().enumerate() {
            for (m, search) in run.iter().enumerate() {
                for (t, trial) in search.trials.iter().enumerate() {
                    let status = if s == 0 { self.trial_status(m, t) } else { "finished".into() };
                    let vals: Vec<String> = trial.values.iter().map(|v| v.to_string()).collect();
                    let y = trial.y.map_or(String::new(), |y| y.to_string());
                    out.push_str(&format!("{s},{},{},{},{},{y},{status}\n", search.method.key(), t + 1, vals[0], vals[1]));
                }
            }
        }
        out
    }

    pub fn space(&self) -> &Space {
        &self.space
    }

    /// Seed `s`'s searches, in the order of `methods`.
    pub fn searches(&self, s: usize) -> &[Search] {
        &self.runs[s]
    }
}

/// Trials Bayesian optimization keeps out at once (its rolling batch, q): the spec's `batch`,
/// else its share of the workers, `parallel / methods` rounded up — 1 with two workers and
/// three methods, 4 with ten.
fn bayes_batch(spec: &TuningSpec) -> usize {
    spec.batch.unwrap_or(spec.parallel.div_ceil(spec.methods.len()))
}

/// The `q`-quantile of `xs` (linear between order statistics, as numpy's default).
pub fn quantile(xs: &[f64], q: f64) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let at = q * (v.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    v[lo] + (at - lo as f64) * (v[hi] - v[lo])
}
