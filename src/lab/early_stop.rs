//! The "Tracking metrics and early stopping" cell: one run that overfits, every metric with
//! its measured cost, and every stopping rule of `train::early_stopping` applied to the same
//! recorded curve.
//!
//! The run trains to its last epoch (no rule stops it), checking validation once an epoch and,
//! for the read-out only, the test set too; with `fullTrainError` it also re-measures the
//! training error in evaluation mode at each epoch's end. The rules are then functions of the
//! recorded checks, so moving a rule's parameter ([`EarlyStop::set_rules`]) moves its stop at
//! once, without training again. For each rule the report says where it stops, how many epochs
//! that saves, the validation error there, the test error of its restored best against the
//! model it stopped with, and its regret: how much worse its best is than the best check the
//! whole run found.

use super::run::{Data, Device, RunSpec};
use super::schedule::{Clock, Cost, Runs};
use super::{Progress, STOPPED_BY_STUDENT};
use crate::data::Dataset;
use crate::plot::{Band, Chart, Series};
use crate::train::early_stopping::{evaluate, Criterion, Monitor, Rule};
use crate::train::{Check, Trainer};
use crate::{ensure, Result};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The run and the rules.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EarlyStopSpec {
    /// The run; it keeps its best and (by default) re-measures the training error each epoch.
    pub run: RunSpec,
    /// What the rules watch (default the validation loss).
    #[serde(default)]
    pub monitor: Monitor,
    pub rules: Vec<Rule>,
    /// Read the record as if validation ran every n-th epoch only (and at the last): the rules
    /// see those checks alone, so patience counts in units of n epochs (default 1).
    #[serde(default = "one")]
    pub validate_every: usize,
}

fn one() -> usize {
    1
}

/// One rule's verdict on the recorded run.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleOutcome {
    pub name: &'static str,
    /// The check (1-based) and epoch at which it stops, if it fires.
    pub stop: Option<usize>,
    pub stop_epoch: Option<f64>,
    /// Epochs of the run it would not have trained.
    pub epochs_saved: Option<f64>,
    pub val_error_at_stop: Option<f32>,
    /// Its best checkpoint and that checkpoint's epoch.
    pub best: Option<usize>,
    pub best_epoch: Option<f64>,
    /// Test error of the restored best, and of the model it stopped with.
    pub test_error_best: Option<f32>,
    pub test_error_at_stop: Option<f32>,
    /// Validation error of its best minus that of the run's best check.
    pub regret: Option<f32>,
    pub reason: String,
}

/// A check as the read-out shows it.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    pub check: usize,
    pub epoch: f64,
    pub val_loss: f32,
    pub val_error: f32,
    pub test_error: Option<f32>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EarlyStopReport {
    pub status: &'static str,
    pub message: Option<String>,
    pub progress: Progress,
    pub epoch: usize,
    pub epochs: usize,
    pub cost: Cost,
    /// Milliseconds per epoch of the full training pass, and per validation check.
    pub train_pass_ms_per_epoch: Option<f64>,
    pub validation_ms_per_check: Option<f64>,
    /// The run's best check by the monitored value (the first minimum), and its last.
    pub best: Option<Point>,
    pub last: Option<Point>,
    /// The binomial standard error √(p(1−p)/n) of the last validation error: differences
    /// smaller than this are noise, which is what a `minDelta` below it chases.
    pub noise: Option<f64>,
    pub validation_size: usize,
    pub rules: Vec<RuleOutcome>,
}

/// The cell's experiment.
pub struct EarlyStop {
    spec: EarlyStopSpec,
    runs: Runs,
    validation_size: usize,
}

/// A rule's short name for tables and markers.
fn name(c: Criterion) -> &'static str {
    match c {
        Criterion::Patience => "patience",
        Criterion::Gl => "GL",
        Criterion::Pq => "PQ",
        Criterion::Up => "UP",
        Criterion::Cumulative => "cumulative",
    }
}

impl EarlyStop {
    /// `test`, when given, is evaluated at every check for the table (the rules never see it).
    pub fn new(data: &Data, test: Option<Arc<Dataset>>, mut spec: EarlyStopSpec, device: &dyn Device) -> Result<EarlyStop> {
        check_rules(&spec.rules)?;
        ensure!((1..=50).contains(&spec.validate_every), "validate every {} epochs is out of range: pick 1 to 50", spec.validate_every);
        ensure!(
            spec.run.checks_per_epoch == 1 && spec.run.validate_every == 1,
            "this cell checks once an epoch (the PQ rule pairs each check with an epoch's training error)"
        );
        spec.run.keep_best = true;
        spec.run.early_stopping = None; // the rules are applied to the whole recorded curve
        let mut trainer = spec.run.build_on(data, None, device)?;
        if let Some(test) = test {
            trainer.set_test(test)?;
        }
        Ok(EarlyStop { spec, runs: Runs::new(vec![trainer]), validation_size: data.validation.len() })
    }

    /// Replace the rules and the validation frequency they read the record at; the next
    /// report and charts apply them to the same recorded run.
    pub fn set_rules(&mut self, rules: Vec<Rule>, validate_every: usize) -> Result<()> {
        check_rules(&rules)?;
        ensure!((1..=50).contains(&validate_every), "validate every {validate_every} epochs is out of range: pick 1 to 50");
        self.spec.rules = rules;
        self.spec.validate_every = validate_every;
        Ok(())
    }

    pub fn spec(&self) -> &EarlyStopSpec {
        &self.spec
    }
    pub fn trainer(&self) -> &Trainer {
        self.runs.get(0)
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

    fn checks(&self) -> &[Check] {
        &self.trainer().history().checks
    }

    /// The monitored value of every check.
    fn values(&self) -> Vec<f64> {
        self.checks()
            .iter()
            .map(|c| match self.spec.monitor {
                Monitor::ValLoss => c.val_loss as f64,
                Monitor::ValError => c.val_error as f64,
            })
            .collect()
    }

    /// The training error paired with each check (one check an epoch): the full pass's where
    /// it was measured, else the one counted on the fly.
    fn train_errors(&self) -> Vec<f64> {
        self.trainer().history().epochs.iter().map(|e| e.full_train_error.unwrap_or(e.train_error) as f64).collect()
    }

    fn point(&self, check: usize) -> Option<Point> {
        let c = self.checks().get(check.checked_sub(1)?)?;
        Some(Point { check, epoch: c.epoch, val_loss: c.val_loss, val_error: c.val_error, test_error: c.test_error })
    }

    /// The checks the rules read (0-based indices into the record): every `validate_every`-th
    /// epoch's, and the last epoch's once the run has reached it.
    fn read(&self) -> Vec<usize> {
        let (n, last) = (self.spec.validate_every, self.spec.run.epochs as f64);
        (0..self.checks().len())
            .filter(|&i| {
                let e = self.checks()[i].epoch;
                (e.round() as usize).is_multiple_of(n) || e >= last
            })
            .collect()
    }

    /// Every rule's verdict on the checks recorded so far.
    pub fn outcomes(&self) -> Vec<RuleOutcome> {
        let read = self.read();
        let (all_values, all_train) = (self.values(), self.train_errors());
        let values: Vec<f64> = read.iter().map(|&i| all_values[i]).collect();
        let train: Vec<f64> = read.iter().filter_map(|&i| all_train.get(i).copied()).collect();
        // the best check of the whole run, which only hindsight knows
        let best_error = self.checks().iter().map(|c| c.val_error).fold(f32::INFINITY, f32::min);
        let epochs = self.spec.run.epochs as f64;
        self.spec
            .rules
            .iter()
            .map(|rule| {
                let paired = (train.len() == values.len()).then_some(&train[..]);
                let out = evaluate(&values, rule, paired);
                let (stop, best, reason) = match out {
                    Ok(o) => (o.stop, o.best, o.reason),
                    Err(e) => (None, None, e.message().to_string()),
                };
                // back to the record's check numbers
                let (stop, best) = (stop.map(|k| read[k - 1] + 1), best.map(|k| read[k - 1] + 1));
                let at = |i: Option<usize>| i.and_then(|i| self.checks().get(i - 1));
                RuleOutcome {
                    name: name(rule.criterion),
                    stop,
                    stop_epoch: at(stop).map(|c| c.epoch),
                    epochs_saved: at(stop).map(|c| epochs - c.epoch),
                    val_error_at_stop: at(stop).map(|c| c.val_error),
                    best,
                    best_epoch: at(best).map(|c| c.epoch),
                    test_error_best: at(best).and_then(|c| c.test_error),
                    test_error_at_stop: at(stop).and_then(|c| c.test_error),
                    regret: at(best).map(|c| c.val_error - best_error),
                    reason,
                }
            })
            .collect()
    }

    /// The run's best check by the monitored value: the first minimum.
    fn best(&self) -> Option<Point> {
        let first_min = self.values().into_iter().enumerate().fold(None, |b: Option<(usize, f64)>, (i, v)| match b {
            Some((_, bv)) if bv <= v || !v.is_finite() => b,
            _ => Some((i, v)),
        });
        first_min.and_then(|(i, _)| self.point(i + 1))
    }

    pub fn report(&self) -> EarlyStopReport {
        let t = self.trainer();
        let cost = self.runs.cost(0);
        let (epochs_done, checks) = (t.history().epochs.len(), self.checks().len());
        let noise = self.checks().last().map(|c| {
            let p = c.val_error as f64;
            (p * (1.0 - p) / self.validation_size as f64).sqrt()
        });
        EarlyStopReport {
            status: if self.runs.active() { "running" } else { t.status().word() },
            message: t.status().message().filter(|m| *m != STOPPED_BY_STUDENT).map(String::from),
            progress: Progress::of(&self.runs),
            epoch: t.epoch(),
            epochs: self.spec.run.epochs,
            cost,
            train_pass_ms_per_epoch: (self.spec.run.full_train_error && epochs_done > 0).then(|| cost.train_pass_ms / epochs_done as f64),
            validation_ms_per_check: (checks > 0).then(|| cost.validation_ms / checks as f64),
            best: self.best(),
            last: self.point(checks),
            noise,
            validation_size: self.validation_size,
            rules: self.outcomes(),
        }
    }

    /// "loss": training loss per epoch and validation loss per check; "error": the training
    /// error both ways and the validation error, with the noise floor shaded around it, the
    /// warm-up shaded, the run's best check and every rule's stop marked.
    pub fn chart(&self, name: &str) -> Result<Chart> {
        let h = self.trainer().history();
        let epochs = self.spec.run.epochs as f64;
        let ep =
            |f: fn(&crate::train::EpochRecord) -> Option<f32>| h.epochs.iter().filter_map(|e| f(e).map(|v| (e.epoch as f64, v as f64))).collect();
        let chk = |f: fn(&Check) -> f32| h.checks.iter().map(|c| (c.epoch, f(c) as f64)).collect::<Vec<_>>();
        let mut chart = match name {
            "loss" => {
                let series = vec![
                    Series::new("training loss (mean of the mini-batches)", ep(|e| Some(e.train_loss)), 1).dashed(),
                    Series::new("validation loss", chk(|c| c.val_loss), 0).markers(),
                ];
                let top = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| v.is_finite()).fold(0.5, f64::max);
                Chart::lines("loss per epoch", "epoch", "cross-entropy", series).x_max(epochs).y_range(0.0, (top * 1.1).min(5.0))
            }
            "error" => {
                let val = chk(|c| c.val_error);
                let mut series = vec![Series::new("training error (on the fly)", ep(|e| Some(e.train_error)), 1).dashed()];
                if self.spec.run.full_train_error {
                    series.push(Series::new("training error (full pass)", ep(|e| e.full_train_error), 2).dashed());
                }
                series.push(Series::new("validation error", val.clone(), 0).markers());
                let top = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| v.is_finite()).fold(0.1, f64::max);
                let n = self.validation_size as f64;
                let se = |p: f64| (p * (1.0 - p) / n).sqrt();
                let mut chart = Chart::lines("error per epoch", "epoch", "error rate", series).x_max(epochs).y_range(0.0, (top * 1.15).min(1.0));
                chart = chart.band(Band {
                    name: "±1 standard error".into(),
                    x: val.iter().map(|p| p.0).collect(),
                    lo: val.iter().map(|p| p.1 - se(p.1)).collect(),
                    hi: val.iter().map(|p| p.1 + se(p.1)).collect(),
                    color: 0,
                });
                let warmup = self.spec.rules.iter().map(|r| r.warmup).fold(0.0, f64::max);
                if warmup > 0.0 {
                    chart = chart.band(Band { name: "warm-up".into(), x: vec![0.0, warmup], lo: vec![0.0; 2], hi: vec![1.0; 2], color: 6 });
                }
                chart
            }
            _ => crate::bail!("this cell has no chart {name:?} (it has \"loss\" and \"error\")"),
        };
        if let Some(b) = self.best() {
            chart = chart.mark(b.epoch, "best");
        }
        for o in self.outcomes() {
            if let Some(e) = o.stop_epoch {
                chart = chart.mark(e, o.name);
            }
        }
        Ok(chart)
    }
}

fn check_rules(rules: &[Rule]) -> Result<()> {
    ensure!(!rules.is_empty() && rules.len() <= 10, "give 1 to 10 stopping rules (got {})", rules.len());
    for r in rules {
        r.validate().map_err(|e| crate::Error::new(format!("{}: {}", name(r.criterion), e.message())))?;
    }
    Ok(())
}
