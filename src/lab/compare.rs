//! Runs side by side: one or more labelled training runs, each its own [`RunSpec`], advanced
//! together by one [`Runs`] and drawn on shared plots. The "simple optimizer" cell compares
//! mean and sum reductions with it; any cell that shows "this setting against that one" on
//! loss and error curves can.

use super::run::{Data, Device, RunSpec};
use super::schedule::{Clock, Cost, Runs};
use super::{Progress, STOPPED_BY_STUDENT};
use crate::plot::{Chart, Series};
use crate::train::{EpochRecord, Status};
use crate::{ensure, Result};
use serde::{Deserialize, Serialize};

/// The most runs one comparison may hold.
pub const MAX_RUNS: usize = 12;

/// What to compare.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompareSpec {
    pub runs: Vec<Entry>,
    /// Smooth the loss curves with this β (see `train::smoothed`); raw per-batch losses when
    /// absent.
    #[serde(default)]
    pub smooth: Option<f64>,
}

/// One labelled run.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Entry {
    pub label: String,
    #[serde(default)]
    pub color: usize,
    pub run: RunSpec,
}

/// One run's line of the read-out.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    pub label: String,
    pub color: usize,
    pub status: &'static str,
    pub message: Option<String>,
    pub steps: usize,
    pub total_steps: usize,
    pub epoch: usize,
    pub epochs: usize,
    /// The last epoch's record.
    pub last: Option<EpochRecord>,
    pub backend: &'static str,
    /// What its steps, checks and training passes have cost (measured).
    pub cost: Cost,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompareReport {
    pub status: &'static str,
    pub progress: Progress,
    pub runs: Vec<RunReport>,
}

/// Labelled runs trained side by side.
pub struct Compare {
    spec: CompareSpec,
    runs: Runs,
}

impl Compare {
    pub fn new(data: &Data, spec: CompareSpec, device: &dyn Device) -> Result<Compare> {
        ensure!(!spec.runs.is_empty(), "nothing to run: add at least one run");
        ensure!(spec.runs.len() <= MAX_RUNS, "{} runs is too many to compare: use at most {MAX_RUNS}", spec.runs.len());
        if let Some(b) = spec.smooth {
            ensure!((0.0..1.0).contains(&b), "smoothing β {b} is out of range: pick 0 ≤ β < 1");
        }
        let trainers = spec.runs.iter().map(|e| e.run.build_on(data, None, device)).collect::<Result<Vec<_>>>()?;
        Ok(Compare { spec, runs: Runs::new(trainers) })
    }

    pub fn spec(&self) -> &CompareSpec {
        &self.spec
    }
    pub fn runs(&self) -> &Runs {
        &self.runs
    }
    pub fn runs_mut(&mut self) -> &mut Runs {
        &mut self.runs
    }

    pub fn run_for(&mut self, budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        self.runs.run_for(budget_ms, clock)
    }

    pub fn stop(&mut self) {
        self.runs.stop(STOPPED_BY_STUDENT);
    }

    pub fn report(&self) -> CompareReport {
        let runs = self
            .spec
            .runs
            .iter()
            .zip(self.runs.iter())
            .enumerate()
            .map(|(i, (e, t))| RunReport {
                label: e.label.clone(),
                color: e.color,
                status: t.status().word(),
                message: t.status().message().map(String::from),
                steps: t.steps(),
                total_steps: t.total_steps(),
                epoch: t.epoch(),
                epochs: t.config().epochs,
                last: t.history().epochs.last().cloned(),
                backend: t.engine().label(),
                cost: self.runs.cost(i),
            })
            .collect();
        CompareReport { status: self.status(), progress: Progress::of(&self.runs), runs }
    }

    /// running while any run is; then stopped (the student's Stop), diverged (any run
    /// diverged) or finished.
    fn status(&self) -> &'static str {
        let any = |f: &dyn Fn(&Status) -> bool| self.runs.iter().any(|t| f(t.status()));
        if self.runs.active() {
            "running"
        } else if any(&|s| s.message() == Some(STOPPED_BY_STUDENT)) {
            "stopped"
        } else if any(&|s| matches!(s, Status::Diverged(_))) {
            "diverged"
        } else {
            "finished"
        }
    }

    /// "loss": each run's loss per mini-batch (smoothed if asked); "error": each run's
    /// validation (solid) and training (dashed) error per epoch.
    pub fn chart(&self, name: &str) -> Result<Chart> {
        let pairs = || self.spec.runs.iter().zip(self.runs.iter());
        match name {
            "loss" => {
                let total = self.runs.iter().map(|t| t.total_steps()).max().unwrap_or(1);
                let series: Vec<Series> = pairs()
                    .map(|(e, t)| {
                        let h = t.history();
                        let ys: Vec<f64> = match self.spec.smooth {
                            Some(b) => h.smoothed_loss(b),
                            None => h.step_loss.iter().map(|&v| v as f64).collect(),
                        };
                        Series::new(e.label.clone(), ys.into_iter().enumerate().map(|(i, y)| ((i + 1) as f64, y)).collect(), e.color)
                    })
                    .collect();
                // the y axis starts from the first loss, so a diverging run does not flatten the rest
                let first = self.runs.iter().flat_map(|t| t.history().step_loss.first()).find(|v| v.is_finite()).copied().unwrap_or(2.3);
                let top = (1.2 * first as f64).clamp(2.5, 12.0);
                let title = if self.spec.smooth.is_some() { "training loss (smoothed)" } else { "training loss per mini-batch" };
                Ok(Chart::lines(title, "step", "cross-entropy", series).x_max(total as f64).y_range(0.0, top))
            }
            "error" => {
                let mut series = Vec::new();
                for (e, t) in pairs() {
                    let ep = &t.history().epochs;
                    let pts = |f: fn(&EpochRecord) -> f32| ep.iter().map(|r| (r.epoch as f64, f(r) as f64)).collect();
                    series.push(Series::new(format!("{}: validation", e.label), pts(|r| r.val_error), e.color).markers());
                    series.push(Series::new(format!("{}: training", e.label), pts(|r| r.train_error), e.color).dashed().markers());
                }
                let epochs = self.spec.runs.iter().map(|e| e.run.epochs).max().unwrap_or(1).max(1);
                Ok(Chart::lines("error per epoch", "epoch", "error rate", series).x_max(epochs as f64).y_range(0.0, 1.0))
            }
            _ => crate::bail!("this cell has no chart {name:?} (it has \"loss\" and \"error\")"),
        }
    }
}
