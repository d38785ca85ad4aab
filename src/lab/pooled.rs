//! What an experiment whose runs train in the worker pool keeps of each job: a [`Record`]
//! rebuilt from the pool's updates and ending, and the summaries such experiments share — a
//! [`Spread`] over folds, the folds' mean curve with its band, one status and one progress for
//! all the jobs.
//!
//! Such an experiment never trains itself. It hands out [`Job`](super::job::Job)s; the page
//! (`www/pool.js`, `pooled()`) runs them in workers or on the page thread and calls back with
//! each job's [`Update`]s and its [`Ending`].

use super::job::{Score, Update};
use super::Progress;
use crate::plot::Band;
use crate::train::history::History;
use crate::train::EpochRecord;
use serde::{Deserialize, Serialize};

/// How a job ended, as the pool's result says (the other fields of the result are ignored).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ending {
    pub status: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub compute_ms: f64,
    #[serde(default)]
    pub best_check: Option<usize>,
    #[serde(default)]
    pub stopped_at: Option<usize>,
    #[serde(default)]
    pub test: Option<Score>,
    #[serde(default)]
    pub validation_size: usize,
}

/// What one job has reported.
#[derive(Clone, Debug, Default)]
pub struct Record {
    pub history: History,
    pub steps: usize,
    pub total_steps: usize,
    /// None while it is out.
    pub status: Option<String>,
    pub message: Option<String>,
    pub ending: Ending,
    pub parameters: Option<Vec<f32>>,
}

impl Record {
    /// Append what the job recorded since its last update.
    pub fn absorb(&mut self, u: Update) {
        self.history.step_loss.extend(u.step_loss);
        self.history.epochs.extend(u.epochs);
        self.history.checks.extend(u.checks);
        self.steps = u.steps;
        self.total_steps = u.total_steps;
    }

    /// The job ended (with its trained parameters when it kept them).
    pub fn finish(&mut self, ending: Ending, parameters: Option<Vec<f32>>) {
        self.status = Some(ending.status.clone());
        self.message = ending.message.clone();
        self.parameters = parameters;
        self.ending = ending;
    }

    /// The student pressed Stop: a job still out counts as stopped when it had begun, else
    /// as cancelled.
    pub fn stop(&mut self) {
        if self.status.is_none() {
            self.status = Some(if self.steps > 0 { "stopped" } else { "cancelled" }.into());
        }
    }

    /// Its status word: "running" or "queued" while it is out, "early-stopped" when its rule
    /// ended it, else the pool's word.
    pub fn word(&self) -> String {
        if self.ending.stopped_at.is_some() {
            return "early-stopped".into();
        }
        self.status.clone().unwrap_or_else(|| if self.steps > 0 { "running".into() } else { "queued".into() })
    }

    /// Whether it trained to its end, or to its early-stopping rule's stop.
    pub fn trained(&self) -> bool {
        self.status.as_deref() == Some("finished") || self.ending.stopped_at.is_some()
    }

    /// The validation error of the model it kept: its restored best check where it kept one
    /// (early stopping), else its last epoch's.
    pub fn kept_error(&self) -> Option<f32> {
        match self.ending.best_check {
            Some(c) => self.history.checks.get(c - 1).map(|k| k.val_error),
            None => self.history.epochs.last().map(|e| e.val_error),
        }
    }

    /// Its last epoch's training error.
    pub fn last_train_error(&self) -> Option<f32> {
        self.history.epochs.last().map(|e| e.train_error)
    }
}

/// A mean and a standard deviation (n − 1 in the denominator) over `n` values.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Spread {
    pub mean: f64,
    pub std: f64,
    pub n: usize,
}

impl Spread {
    pub fn of(xs: &[f64]) -> Option<Spread> {
        let n = xs.len();
        if n == 0 {
            return None;
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        let std = if n > 1 { (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt() } else { 0.0 };
        Some(Spread { mean, std, n })
    }

    /// The spread of `value` over the records that trained.
    pub fn over(records: &[Record], value: impl Fn(&Record) -> Option<f32>) -> Option<Spread> {
        let xs: Vec<f64> = records.iter().filter(|r| r.trained()).filter_map(&value).map(f64::from).filter(|v| v.is_finite()).collect();
        Spread::of(&xs)
    }
}

/// Per epoch (1 to `epochs`), the mean of `value` over `folds` and a ±1 standard deviation band,
/// as far as every fold has reached (a mean over the folds that got there first would jump).
pub fn fold_band(folds: &[Record], epochs: usize, value: impl Fn(&EpochRecord) -> f32) -> (Vec<(f64, f64)>, Band) {
    let mut mean = Vec::new();
    let mut band = Band { name: String::new(), x: Vec::new(), lo: Vec::new(), hi: Vec::new(), color: 0 };
    for e in 0..epochs {
        let xs: Vec<f64> = folds.iter().filter_map(|r| r.history.epochs.get(e)).map(|r| value(r) as f64).filter(|v| v.is_finite()).collect();
        if xs.len() < folds.len() || xs.is_empty() {
            break;
        }
        let s = Spread::of(&xs).expect("at least one value");
        mean.push(((e + 1) as f64, s.mean));
        band.x.push((e + 1) as f64);
        band.lo.push(s.mean - s.std);
        band.hi.push(s.mean + s.std);
    }
    (mean, band)
}

/// Steps done of steps in all over the jobs (one that ended counts as done).
pub fn progress(records: &[Record]) -> Progress {
    let (done, total) = records.iter().fold((0, 0), |(d, t), r| {
        let whole = r.total_steps.max(r.steps);
        (d + if r.status.is_some() { whole } else { r.steps }, t + whole)
    });
    Progress { done, total }
}

/// One word for all the jobs: "running" while any is out, "error" when every one failed,
/// "stopped" when any was stopped or cancelled (by the student: not by its rule), else
/// "finished".
pub fn status(records: &[Record]) -> &'static str {
    if records.iter().any(|r| r.status.is_none()) {
        "running"
    } else if records.iter().all(|r| matches!(r.status.as_deref(), Some("error" | "diverged"))) {
        "error"
    } else if records.iter().any(|r| !r.trained() && matches!(r.status.as_deref(), Some("stopped" | "cancelled"))) {
        "stopped"
    } else {
        "finished"
    }
}

/// Record `i` of `records`, or an error naming it.
pub fn record(records: &mut [Record], i: usize) -> crate::Result<&mut Record> {
    let n = records.len();
    records.get_mut(i).ok_or_else(|| crate::Error::new(format!("job {i} does not exist: there are {n}")))
}
