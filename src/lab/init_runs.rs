//! Starts trained side by side: the same network, seed, batches and plain SGD, only the first
//! weights differ. Two cells run it:
//!
//! - "Random, Xavier, He" ([`SchemeRuns`]): every built-in scheme of [`SCHEMES`], validated on
//!   the first 300 validation digits (a deep network's evaluation is slow);
//! - "Your turn" ([`CustomRuns`]): the student's own start (an init, or a weights file) beside
//!   one built-in scheme, validated on the first 500; its trained weights can be saved in the
//!   format [`WeightsFile`] reads back.
//!
//! The runs are one [`Runs`], so the curves grow together; the loss curves are smoothed with
//! `train::smoothed` (β = [`LOSS_BETA`]).

use super::run::{Data, Device, RunSpec};
use super::schedule::{Clock, Runs};
use super::start::{check_hidden, Start, SCHEMES};
use super::{Progress, STOPPED_BY_STUDENT};
use crate::init::WeightsFile;
use crate::plot::{Chart, Series};
use crate::train::{smoothed, Status};
use crate::{ensure, Result};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Mini-batch size of every run.
pub const BATCH: usize = 64;
/// The most epochs (a deep network on the page's CPU is slow).
pub const MAX_EPOCHS: usize = 5;
/// Smoothing of the loss curves and read-out (β of `train::smoothed`).
pub const LOSS_BETA: f64 = 0.9;

/// "running" while any run is; then "stopped" (the student's Stop), "diverged" (every run
/// diverged: nothing is left to compare) or "finished". One start blowing up among others is
/// what these cells show (uniform ±1 in a deep ReLU network), not a failed experiment: that
/// run's own line says it diverged.
pub(crate) fn runs_status(runs: &[&Runs]) -> &'static str {
    let all = || runs.iter().flat_map(|r| r.iter());
    if runs.iter().any(|r| r.active()) {
        "running"
    } else if all().any(|t| t.status().message() == Some(STOPPED_BY_STUDENT)) {
        "stopped"
    } else if all().all(|t| matches!(t.status(), Status::Diverged(_))) {
        "diverged"
    } else {
        "finished"
    }
}

/// The "Random, Xavier, He" cell's training: every scheme on one network.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SchemesSpec {
    pub hidden: Vec<usize>,
    #[serde(default = "relu")]
    pub activation: String,
    #[serde(default)]
    pub seed: u64,
    pub lr: f64,
    pub epochs: usize,
    /// Train on the first this many training digits (all of them when absent).
    #[serde(default)]
    pub train_digits: Option<usize>,
    /// The bound of "uniform ±a" and the σ of "normal σ".
    pub a: f64,
    pub std: f64,
}

/// The "Your turn" cell's training: the student's start beside a built-in scheme.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomSpec {
    pub hidden: Vec<usize>,
    #[serde(default = "relu")]
    pub activation: String,
    #[serde(default)]
    pub seed: u64,
    pub lr: f64,
    pub epochs: usize,
    /// Train on the first this many training digits (all of them when absent).
    #[serde(default)]
    pub train_digits: Option<usize>,
    pub mine: Start,
    /// The built-in scheme to compare with (a key of [`SCHEMES`]).
    pub compare: String,
}

fn relu() -> String {
    "relu".into()
}

/// One run's line of the read-out.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartRun {
    pub label: String,
    pub color: usize,
    pub status: &'static str,
    pub message: Option<String>,
    pub steps: usize,
    pub total_steps: usize,
    /// The last value of the smoothed loss curve (absent before the first step).
    pub loss: Option<f64>,
    /// The last epoch's validation error.
    pub val_error: Option<f32>,
    /// Layer sizes, inputs first (what a weights file of this run says).
    pub sizes: Vec<usize>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartRunsReport {
    pub status: &'static str,
    pub progress: Progress,
    pub runs: Vec<StartRun>,
    /// How many runs have a loss curve yet.
    pub curves: usize,
}

/// Labelled starts of one network, trained together.
pub struct StartRuns {
    labels: Vec<String>,
    colors: Vec<usize>,
    runs: Runs,
}

impl StartRuns {
    /// `base` with each start's init or parameters, validated on the first `validation` digits.
    fn new(data: &Data, base: RunSpec, starts: &[(Start, usize)], validation: usize, device: &dyn Device) -> Result<StartRuns> {
        check_hidden(&base.hidden, "128, 128, 128")?;
        ensure!((1..=MAX_EPOCHS).contains(&base.epochs), "epochs: {} is out of range: pick 1 to {MAX_EPOCHS}", base.epochs);
        if let Some(n) = base.train_subset {
            ensure!(n >= BATCH, "training digits: {n} is fewer than one batch: pick at least {BATCH}");
        }
        let data = first_validation(data, validation)?;
        let mut trainers = Vec::new();
        for (start, _) in starts {
            start.check()?;
            trainers.push(RunSpec { init: start.init(), ..base.clone() }.build_on(&data, start.parameters(), device)?);
        }
        Ok(StartRuns {
            labels: starts.iter().map(|s| s.0.label()).collect(),
            colors: starts.iter().map(|s| s.1).collect(),
            runs: Runs::new(trainers),
        })
    }

    pub fn runs(&self) -> &Runs {
        &self.runs
    }

    pub fn run_for(&mut self, budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        self.runs.run_for(budget_ms, clock)
    }

    pub fn stop(&mut self) {
        self.runs.stop(STOPPED_BY_STUDENT);
    }

    pub fn report(&self) -> StartRunsReport {
        let runs: Vec<StartRun> = self
            .runs
            .iter()
            .enumerate()
            .map(|(i, t)| StartRun {
                label: self.labels[i].clone(),
                color: self.colors[i],
                status: t.status().word(),
                message: t.status().message().map(String::from),
                steps: t.steps(),
                total_steps: t.total_steps(),
                loss: smoothed(&t.history().step_loss, LOSS_BETA).last().copied(),
                val_error: t.history().epochs.last().map(|e| e.val_error),
                sizes: t.model().spec().sizes.clone(),
            })
            .collect();
        let curves = self.runs.iter().filter(|t| !t.history().step_loss.is_empty()).count();
        StartRunsReport { status: runs_status(&[&self.runs]), progress: Progress::of(&self.runs), runs, curves }
    }

    /// Each run's smoothed loss against steps; `legend` names the curves (a diverged run says
    /// so) and draws the runs after the first dashed.
    fn loss_chart(&self, title: &str, legend: bool) -> Chart {
        let series = self
            .runs
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let points = smoothed(&t.history().step_loss, LOSS_BETA).into_iter().enumerate().map(|(s, y)| ((s + 1) as f64, y)).collect();
                let diverged = if matches!(t.status(), Status::Diverged(_)) { " (diverged)" } else { "" };
                let name = if legend { format!("{}{diverged}", self.labels[i]) } else { String::new() };
                let s = Series::new(name, points, self.colors[i]);
                if legend && i > 0 {
                    s.dashed()
                } else {
                    s
                }
            })
            .collect();
        let total = self.runs.iter().next().map_or(100, |t| t.total_steps());
        Chart::lines(title, "step", "cross-entropy", series).x_max(total as f64).y_range(0.0, 3.0)
    }
}

/// The same training set with only the first `n` validation digits (a deep network's
/// end-of-epoch check then stays short).
pub fn first_validation(data: &Data, n: usize) -> Result<Data> {
    ensure!(n >= 1, "validation size must be at least 1");
    let validation = if n < data.validation.len() { Arc::new(data.validation.take(n)) } else { data.validation.clone() };
    Ok(Data { train: data.train.clone(), validation })
}

fn base(hidden: &[usize], activation: &str, seed: u64, lr: f64, epochs: usize, train_digits: Option<usize>) -> RunSpec {
    RunSpec {
        train_subset: train_digits,
        hidden: hidden.to_vec(),
        activation: activation.into(),
        seed,
        optimizer: "sgd".into(),
        options: serde_json::json!({ "lr": lr }),
        batch_size: BATCH,
        epochs,
        ..RunSpec::default()
    }
}

/// Every built-in scheme trained on one network.
pub struct SchemeRuns(StartRuns);

impl SchemeRuns {
    /// Validation digits checked after each epoch.
    pub const VALIDATION: usize = 300;

    pub fn new(data: &Data, spec: SchemesSpec, device: &dyn Device) -> Result<SchemeRuns> {
        let starts: Vec<(Start, usize)> = SCHEMES.iter().enumerate().map(|(i, (key, _))| (Start::scheme(key, spec.a, spec.std), i)).collect();
        let base = base(&spec.hidden, &spec.activation, spec.seed, spec.lr, spec.epochs, spec.train_digits);
        Ok(SchemeRuns(StartRuns::new(data, base, &starts, Self::VALIDATION, device)?))
    }
    pub fn runs(&self) -> &Runs {
        self.0.runs()
    }
    pub fn run_for(&mut self, budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        self.0.run_for(budget_ms, clock)
    }
    pub fn stop(&mut self) {
        self.0.stop()
    }
    pub fn report(&self) -> StartRunsReport {
        self.0.report()
    }
    /// "loss": every scheme's smoothed loss, without a legend (it would hide the flat curves:
    /// the read-out lists every scheme in its colour).
    pub fn chart(&self, name: &str) -> Result<Chart> {
        ensure!(name == "loss", "this cell has no chart {name:?} (it has \"loss\")");
        Ok(self.0.loss_chart("training loss per scheme (smoothed)", false))
    }
}

/// The student's start beside a built-in scheme.
pub struct CustomRuns(StartRuns);

impl CustomRuns {
    /// Validation digits checked after each epoch.
    pub const VALIDATION: usize = 500;

    pub fn new(data: &Data, spec: CustomSpec, device: &dyn Device) -> Result<CustomRuns> {
        let theirs = Start::scheme(&spec.compare, 1.0, 0.01);
        let base = base(&spec.hidden, &spec.activation, spec.seed, spec.lr, spec.epochs, spec.train_digits);
        Ok(CustomRuns(StartRuns::new(data, base, &[(spec.mine, 3), (theirs, 0)], Self::VALIDATION, device)?))
    }
    pub fn runs(&self) -> &Runs {
        self.0.runs()
    }
    pub fn run_for(&mut self, budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        self.0.run_for(budget_ms, clock)
    }
    pub fn stop(&mut self) {
        self.0.stop()
    }
    pub fn report(&self) -> StartRunsReport {
        self.0.report()
    }
    /// "loss": both smoothed losses, the built-in scheme dashed.
    pub fn chart(&self, name: &str) -> Result<Chart> {
        ensure!(name == "loss", "this cell has no chart {name:?} (it has \"loss\")");
        Ok(self.0.loss_chart("training loss (smoothed)", true))
    }

    /// Run `i`'s parameters as of its last synced step, as a weights file (JSON).
    pub fn weights_json(&self, i: usize) -> Result<String> {
        ensure!(i < self.0.runs.len(), "run {i} does not exist: this cell has {} runs", self.0.runs.len());
        let model = self.0.runs.get(i).model();
        let file = WeightsFile { sizes: model.spec().sizes.clone(), parameters: model.parameters().to_vec() };
        file.validate()?;
        Ok(file.to_json())
    }
}
