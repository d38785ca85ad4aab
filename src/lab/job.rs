//! A [`Job`]: one training run handed to the worker pool — a [`RunSpec`] plus which examples
//! it trains and validates on — and [`Jobs`], a group of them advanced together by the one
//! scheduler ([`Runs`]).
//!
//! The pool (`www/pool.js`) only moves jobs and results: a worker builds a `Jobs` of one and
//! steps it to the end, posting an [`Update`] whenever it recorded something new; the page
//! thread, where there are no workers, builds a `Jobs` of many and gives it a slice of every
//! frame. Both train on the CPU with the same `Trainer`, so a job gives the same numbers,
//! bit for bit, wherever it runs — and the same as a `TrainSession` of the same spec on the
//! CPU.
//!
//! Which examples (JSON, camelCase):
//!
//! ```text
//! { spec: { hidden: [64], … },                  // a RunSpec
//!   train?:      { from?: "train", indices?: [3, 17, …] },      // default: the training set
//!   validation?: { from?: "validation", indices?: […] },        // default: the validation set
//!   labelMap?: [null, null, null, null, null, 0, 1, 2, 3, 4],   // digit → class, null drops it
//!   test?: true,              // score the final model on the test set
//!   keepParameters?: true }   // hand back the trained parameters
//! ```
//!
//! `from` names one of the page's three sets; `indices` picks examples of it (in that order,
//! repeats allowed), so a fold or a subset is a list of indices. A label map relabels (and
//! filters) every set the job touches, test included. A job that cannot be built fails alone,
//! with its message; the others of its group go on.

use super::run::{Cpu, Data, RunSpec};
use super::schedule::{Clock, Runs};
use crate::data::Dataset;
use crate::train::history::{Check, EpochRecord, History};
use crate::train::{Status, Trainer};
use crate::{bail, ensure, Result};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The page's three sets, which jobs pick their examples from.
#[derive(Clone, Debug)]
pub struct Sets {
    pub train: Arc<Dataset>,
    pub validation: Arc<Dataset>,
    pub test: Arc<Dataset>,
}

/// One of [`Sets`]' sets, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SetName {
    Train,
    Validation,
    Test,
}

/// Which examples a job trains (or validates) on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Examples {
    /// The set they come from (default: the one the role names).
    #[serde(default)]
    pub from: Option<SetName>,
    /// The examples of that set, by index (default: all of it, in its order).
    #[serde(default)]
    pub indices: Option<Vec<u32>>,
}

/// A training run for the pool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Job {
    pub spec: RunSpec,
    #[serde(default)]
    pub train: Examples,
    #[serde(default)]
    pub validation: Examples,
    /// Digit → class (`None` drops the digit), applied to every set the job uses.
    #[serde(default)]
    pub label_map: Option<Vec<Option<u8>>>,
    /// Score the final model (the restored best, where the run keeps one) on the test set.
    #[serde(default)]
    pub test: bool,
    /// Hand back the trained parameters with the result.
    #[serde(default)]
    pub keep_parameters: bool,
}

impl Job {
    /// Read a job from JSON, with a message that says which setting is wrong.
    pub fn from_json(v: &serde_json::Value) -> Result<Job> {
        serde_json::from_value(v.clone()).map_err(|e| crate::Error::new(format!("job: {e}")))
    }

    fn pick(&self, sets: &Sets, which: &Examples, default: SetName, role: &str) -> Result<Arc<Dataset>> {
        let from = which.from.unwrap_or(default);
        let set = match from {
            SetName::Train => &sets.train,
            SetName::Validation => &sets.validation,
            SetName::Test => &sets.test,
        };
        let picked = match &which.indices {
            None => set.clone(),
            Some(idx) => {
                ensure!(!idx.is_empty(), "job: the {role} examples are an empty list");
                if let Some(&i) = idx.iter().find(|&&i| i as usize >= set.len()) {
                    bail!("job: {role} index {i} is out of range for the {} examples of the {from:?} set", set.len());
                }
                Arc::new(set.select(&idx.iter().map(|&i| i as usize).collect::<Vec<_>>()))
            }
        };
        self.relabel(picked, role)
    }

    fn relabel(&self, set: Arc<Dataset>, role: &str) -> Result<Arc<Dataset>> {
        let Some(map) = &self.label_map else { return Ok(set) };
        ensure!(map.len() == set.classes, "job: labelMap has {} entries; it needs one per class ({})", map.len(), set.classes);
        let classes = map.iter().flatten().map(|&c| c as usize + 1).max().unwrap_or(0);
        ensure!(classes >= 2, "job: labelMap keeps fewer than two classes");
        let kept = set.filter_labels(|l| map[l as usize].is_some());
        ensure!(!kept.is_empty(), "job: labelMap drops every {role} example");
        Ok(Arc::new(kept.map_labels(classes, |l| map[l as usize].unwrap_or(0))?))
    }

    /// The data this job trains and validates on.
    pub fn data(&self, sets: &Sets) -> Result<Data> {
        Ok(Data {
            train: self.pick(sets, &self.train, SetName::Train, "training")?,
            validation: self.pick(sets, &self.validation, SetName::Validation, "validation")?,
        })
    }

    /// The job's run, on the CPU.
    pub fn build(&self, sets: &Sets) -> Result<Trainer> {
        self.spec.build_on(&self.data(sets)?, None, &Cpu)
    }
}

/// What a job recorded since its last update: the new per-step losses, epochs and checks
/// (append them to what came before to rebuild the history).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Update {
    pub steps: usize,
    pub total_steps: usize,
    #[serde(deserialize_with = "crate::train::history::nans_for_nulls")]
    pub step_loss: Vec<f32>,
    pub epochs: Vec<EpochRecord>,
    pub checks: Vec<Check>,
}

impl Update {
    pub fn is_empty(&self) -> bool {
        self.step_loss.is_empty() && self.epochs.is_empty() && self.checks.is_empty()
    }
}

/// The test set's loss and error.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub loss: f32,
    pub error: f32,
}

/// How a job ended.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobResult {
    /// "finished", "diverged", "stopped" (by its rule or by the student), "running" or "error".
    pub status: &'static str,
    pub message: Option<String>,
    pub history: History,
    pub steps: usize,
    pub total_steps: usize,
    /// The check (1-based) at which its early-stopping rule ended it.
    pub stopped_at: Option<usize>,
    /// The best check (1-based), where the run keeps one.
    pub best_check: Option<usize>,
    /// The test set's score of the final model (with `test`).
    pub test: Option<Score>,
    /// Milliseconds the run computed.
    pub compute_ms: f64,
    pub train_size: usize,
    pub validation_size: usize,
}

/// A job of a group: built, or refused with its message.
enum Slot {
    Run { job: Box<Job>, run: usize, sent: (usize, usize, usize), test: Option<Score> },
    Failed(String),
}

/// Jobs advanced together, a time slice at a time.
pub struct Jobs {
    slots: Vec<Slot>,
    runs: Runs,
    test: Arc<Dataset>,
}

impl Jobs {
    /// Build every job; one that cannot be built is kept as its message.
    pub fn new(sets: &Sets, jobs: Vec<Result<Job>>) -> Jobs {
        let mut trainers = Vec::new();
        let slots = jobs
            .into_iter()
            .map(|job| {
                let built = job.and_then(|j| j.build(sets).map(|t| (j, t)));
                match built {
                    Ok((job, trainer)) => {
                        trainers.push(trainer);
                        Slot::Run { job: Box::new(job), run: trainers.len() - 1, sent: (0, 0, 0), test: None }
                    }
                    Err(e) => Slot::Failed(e.message().to_string()),
                }
            })
            .collect();
        Jobs { slots, runs: Runs::new(trainers), test: sets.test.clone() }
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Advance the jobs for about `budget_ms`; whether any still has work. A job that ends
    /// is scored on the test set (with `test`) in the same call.
    pub fn run_for(&mut self, budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        if let Err(e) = self.runs.run_for(budget_ms, clock) {
            // A step that fails (not a divergence: that is a status) ends the group's runs.
            self.runs.stop(e.message());
        }
        self.score_ended()?;
        Ok(self.runs.active())
    }

    fn score_ended(&mut self) -> Result<()> {
        for slot in &mut self.slots {
            if let Slot::Run { job, run, test, .. } = slot {
                let t = self.runs.get(*run);
                if job.test && test.is_none() && *t.status() != Status::Running && !matches!(t.status(), Status::Diverged(_)) {
                    let set = job.relabel(self.test.clone(), "test")?;
                    let (loss, error) = t.model().clone().evaluate(&set.x, &set.labels)?;
                    *test = Some(Score { loss, error });
                }
            }
        }
        Ok(())
    }

    /// End job `i` now (it keeps what it recorded).
    pub fn stop(&mut self, i: usize, reason: &str) {
        if let Some(Slot::Run { run, .. }) = self.slots.get(i) {
            self.runs.get_mut(*run).stop(reason);
        }
    }

    /// The trainer of job `i`, unless it failed to build.
    pub fn trainer(&self, i: usize) -> Option<&Trainer> {
        match self.slots.get(i)? {
            Slot::Run { run, .. } => Some(self.runs.get(*run)),
            Slot::Failed(_) => None,
        }
    }

    /// What job `i` recorded since the last call (empty for a job that failed to build).
    pub fn update(&mut self, i: usize) -> Update {
        let Some(Slot::Run { run, sent, .. }) = self.slots.get_mut(i) else { return Update::default() };
        let t = self.runs.get(*run);
        let h = t.history();
        let u = Update {
            steps: t.steps(),
            total_steps: t.total_steps(),
            step_loss: h.step_loss[sent.0.min(h.step_loss.len())..].to_vec(),
            epochs: h.epochs[sent.1.min(h.epochs.len())..].to_vec(),
            checks: h.checks[sent.2.min(h.checks.len())..].to_vec(),
        };
        *sent = (h.step_loss.len(), h.epochs.len(), h.checks.len());
        u
    }

    /// How job `i` stands (or ended).
    pub fn result(&self, i: usize) -> JobResult {
        match &self.slots[i] {
            Slot::Failed(message) => JobResult {
                status: "error",
                message: Some(message.clone()),
                history: History::default(),
                steps: 0,
                total_steps: 0,
                stopped_at: None,
                best_check: None,
                test: None,
                compute_ms: 0.0,
                train_size: 0,
                validation_size: 0,
            },
            Slot::Run { run, test, .. } => {
                let t = self.runs.get(*run);
                JobResult {
                    status: t.status().word(),
                    message: t.status().message().map(String::from),
                    history: t.history().clone(),
                    steps: t.steps(),
                    total_steps: t.total_steps(),
                    stopped_at: t.stopped_at(),
                    best_check: t.best_check(),
                    test: *test,
                    compute_ms: self.runs.compute_ms(*run),
                    train_size: t.train_size(),
                    validation_size: t.validation_size(),
                }
            }
        }
    }

    /// Job `i`'s trained parameters (flat, PyTorch order), when it asked for them.
    pub fn parameters(&self, i: usize) -> Option<&[f32]> {
        match self.slots.get(i)? {
            Slot::Run { job, run, .. } if job.keep_parameters => Some(self.runs.get(*run).model().parameters()),
            _ => None,
        }
    }
}
