//! The "Optimizer race" cell: several optimizers train the same network from the same
//! initial weights on the same batch order (one seed), side by side.
//!
//! The runs are one [`Runs`], so the entrant furthest behind always goes next and the curves
//! grow together. Each run checks its validation error `checks_per_epoch` times per epoch (in
//! the trainer, held at each check so the model checked is that step's on any device), so
//! "who reached 90% first" has an answer finer than an epoch. The loss curves are smoothed
//! ([`smoothed`], β = [`LOSS_BETA`]): seven raw per-batch curves on one plot are noise.

use super::run::{Data, Device, RunSpec};
use super::schedule::{Clock, Runs};
use super::{argmin, Progress, STOPPED_BY_STUDENT};
use crate::plot::{Chart, Series};
use crate::train::{Check, Status, Trainer, MAX_CHECKS_PER_EPOCH};
use crate::{ensure, Result};
use serde::{Deserialize, Serialize};

/// Smoothing of the loss curves: β of the moving average (about the last 1/(1−β) = 20 steps).
pub const LOSS_BETA: f64 = 0.95;
/// The accuracy the "fastest to" column races to.
pub const TARGET_ACCURACY: f32 = 0.9;

/// The race as the page describes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RaceSpec {
    pub seed: u64,
    pub hidden: Vec<usize>,
    pub batch_size: usize,
    pub epochs: usize,
    #[serde(default = "five")]
    pub checks_per_epoch: usize,
    pub runs: Vec<EntrantSpec>,
}
fn five() -> usize {
    5
}

/// One optimizer in the race.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EntrantSpec {
    pub name: String,
    pub optimizer: String,
    pub options: serde_json::Value,
    #[serde(default)]
    pub color: usize,
}

/// Several training runs racing on one seed.
pub struct Race {
    spec: RaceSpec,
    runs: Runs,
}

/// One row of the results table.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntrantReport {
    pub name: String,
    pub color: usize,
    pub lr: f64,
    pub status: &'static str,
    pub message: Option<String>,
    pub steps: usize,
    /// The latest check's validation error and loss.
    pub val_error: Option<f32>,
    pub val_loss: Option<f32>,
    /// The last value of the smoothed loss curve.
    pub loss: Option<f64>,
    /// Epochs (fractional) until a check first showed the target accuracy, and the accuracy
    /// that check showed.
    pub reach: Option<f64>,
    pub reach_accuracy: Option<f32>,
    pub compute_ms: f64,
}

/// The winner of each column, by entrant index.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Winners {
    pub val_error: Option<usize>,
    pub loss: Option<usize>,
    pub reach: Option<usize>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RaceReport {
    pub status: &'static str,
    pub progress: Progress,
    pub done: bool,
    pub total_steps: usize,
    pub steps_per_epoch: usize,
    pub checks_per_epoch: usize,
    pub target_accuracy: f32,
    pub entrants: Vec<EntrantReport>,
    pub best: Winners,
}

fn reached(c: &Check) -> bool {
    1.0 - c.val_error >= TARGET_ACCURACY
}

impl Race {
    /// Every run gets the same seed, so the same initial weights and the same batch order.
    pub fn new(data: &Data, spec: RaceSpec, device: &dyn Device) -> Result<Race> {
        ensure!(!spec.runs.is_empty(), "tick at least one optimizer to race");
        ensure!(
            (1..=MAX_CHECKS_PER_EPOCH).contains(&spec.checks_per_epoch),
            "checksPerEpoch {} is out of range: pick 1 to {MAX_CHECKS_PER_EPOCH}",
            spec.checks_per_epoch
        );
        let mut trainers = Vec::new();
        for r in &spec.runs {
            // the optimizer's own checks first, so a bad value names its entrant
            crate::optim::build(&r.optimizer, &r.options).map_err(|e| crate::Error::new(format!("{}: {}", r.name, e.message())))?;
            let run = RunSpec {
                hidden: spec.hidden.clone(),
                seed: spec.seed,
                optimizer: r.optimizer.clone(),
                options: r.options.clone(),
                batch_size: spec.batch_size,
                epochs: spec.epochs,
                checks_per_epoch: spec.checks_per_epoch,
                ..RunSpec::default()
            };
            trainers.push(run.build_on(data, None, device)?);
        }
        Ok(Race { spec, runs: Runs::new(trainers) })
    }

    pub fn spec(&self) -> &RaceSpec {
        &self.spec
    }
    pub fn runs(&self) -> &Runs {
        &self.runs
    }

    /// Advance the race for about `budget_ms`; true while any entrant has work left.
    pub fn run_for(&mut self, budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        self.runs.run_for(budget_ms, clock)
    }

    /// The student's Stop.
    pub fn stop(&mut self) {
        self.runs.stop(STOPPED_BY_STUDENT);
    }

    fn first(&self) -> &Trainer {
        self.runs.get(0)
    }

    /// Everything the results table needs, with the winner of each column.
    pub fn report(&self) -> RaceReport {
        let spe = self.first().steps_per_epoch();
        let entrants: Vec<EntrantReport> = self
            .spec
            .runs
            .iter()
            .zip(self.runs.iter())
            .enumerate()
            .map(|(i, (r, t))| {
                let checks = &t.history().checks;
                let last = checks.last();
                let hit = checks.iter().find(|c| reached(c));
                EntrantReport {
                    name: r.name.clone(),
                    color: r.color,
                    lr: r.options.get("lr").and_then(|v| v.as_f64()).unwrap_or(f64::NAN),
                    status: t.status().word(),
                    message: t.status().message().map(String::from),
                    steps: t.steps(),
                    val_error: last.map(|c| c.val_error),
                    val_loss: last.map(|c| c.val_loss),
                    loss: t.history().smoothed_loss(LOSS_BETA).last().copied().filter(|v| v.is_finite()),
                    reach: hit.map(|c| c.step as f64 / spe as f64),
                    reach_accuracy: hit.map(|c| 1.0 - c.val_error),
                    compute_ms: self.runs.compute_ms(i),
                }
            })
            .collect();
        // A diverged run wins nothing. Ties: equal validation errors (a whole number of
        // examples) go to the lower validation loss; equal times to the target, to the higher
        // accuracy at that check.
        let ok = |i: usize| !matches!(self.runs.get(i).status(), Status::Diverged(_));
        let best = Winners {
            val_error: argmin(entrants.iter().enumerate().map(|(i, r)| r.val_error.filter(|_| ok(i)).map(|v| (v, r.val_loss.unwrap_or(f32::MAX))))),
            loss: argmin(entrants.iter().enumerate().map(|(i, r)| r.loss.filter(|_| ok(i)))),
            reach: argmin(self.runs.iter().enumerate().map(|(i, t)| {
                let c = t.history().checks.iter().find(|c| reached(c)).filter(|_| ok(i))?;
                Some((c.step, c.val_error, c.val_loss))
            })),
        };
        let active = self.runs.active();
        let stopped = self.runs.iter().any(|t| t.status().message() == Some(STOPPED_BY_STUDENT));
        RaceReport {
            status: if active {
                "running"
            } else if stopped {
                "stopped"
            } else {
                "finished"
            },
            progress: Progress::of(&self.runs),
            done: !active,
            total_steps: self.first().total_steps(),
            steps_per_epoch: spe,
            checks_per_epoch: self.spec.checks_per_epoch.min(spe),
            target_accuracy: TARGET_ACCURACY,
            entrants,
            best,
        }
    }

    /// "loss": every entrant's smoothed training loss against epochs; "error": every
    /// entrant's validation error at each check, with the target drawn across.
    pub fn chart(&self, name: &str) -> Result<Chart> {
        let spe = self.first().steps_per_epoch() as f64;
        let epochs = self.spec.epochs as f64;
        let top = |series: &[Series]| series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| v.is_finite()).fold(0.0, f64::max);
        match name {
            "loss" => {
                let series: Vec<Series> = self
                    .spec
                    .runs
                    .iter()
                    .zip(self.runs.iter())
                    .map(|(r, t)| {
                        let points = t.history().smoothed_loss(LOSS_BETA).into_iter().enumerate().map(|(i, y)| ((i + 1) as f64 / spe, y)).collect();
                        Series::new(r.name.clone(), points, r.color)
                    })
                    .collect();
                let y_hi = (top(&series) * 1.05).clamp(0.5, 3.0);
                Ok(Chart::lines(format!("training loss, moving average (β = {LOSS_BETA})"), "epoch", "cross-entropy", series)
                    .x_max(epochs)
                    .y_range(0.0, y_hi))
            }
            "error" => {
                let mut series: Vec<Series> = self
                    .spec
                    .runs
                    .iter()
                    .zip(self.runs.iter())
                    .map(|(r, t)| {
                        let points = t.history().checks.iter().map(|c| (c.step as f64 / spe, c.val_error as f64)).collect();
                        Series::new(r.name.clone(), points, r.color).markers()
                    })
                    .collect();
                let y_hi = (top(&series) * 1.1).clamp(0.25, 1.0);
                let target = 1.0 - TARGET_ACCURACY as f64;
                series.push(Series::new(format!("{:.0}% accuracy", 100.0 * TARGET_ACCURACY), vec![(0.0, target), (epochs, target)], 6).dashed());
                let cpe = self.spec.checks_per_epoch.min(self.first().steps_per_epoch());
                Ok(Chart::lines(format!("validation error, checked {cpe}× per epoch"), "epoch", "error rate", series)
                    .x_max(epochs)
                    .y_range(0.0, y_hi))
            }
            _ => crate::bail!("the race has no chart {name:?} (it has \"loss\" and \"error\")"),
        }
    }
}
