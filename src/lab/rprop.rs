//! The Rprop cell's MNIST comparison: one network (one hidden layer) from one seed, trained
//! three ways on the same first training digits — Rprop on all of them at once (one step an
//! epoch), Rprop on mini-batches, and RMSprop on the same mini-batches in the same order. A
//! [`Compare`] of three runs, with the cell's own read-out (the median of each Rprop run's
//! per-weight step sizes) and charts (training loss on a log scale, validation error).
//!
//! Mini-batch Rprop may blow up; that is one of the ways the lesson shows, so its line is
//! marked and the cell still finishes (only the student's Stop ends it otherwise).

use super::compare::{Compare, CompareSpec, Entry, RunReport};
use super::rprop_thought::MAX_RPROP_LR;
use super::run::{Data, Device, RunSpec};
use super::schedule::Clock;
use super::{Progress, STOPPED_BY_STUDENT};
use crate::optim::Num;
use crate::plot::{Body, Chart, Series};
use crate::train::{EpochRecord, Trainer};
use crate::{bail, ensure, Result};
use serde::{Deserialize, Serialize};

/// The fewest training digits (fewer make the validation error noise).
pub const MIN_DIGITS: usize = 100;
/// The widest hidden layer.
pub const MAX_HIDDEN: usize = 512;
/// The most epochs.
pub const MAX_EPOCHS: usize = 200;
/// The largest RMSprop learning rate.
pub const MAX_RMSPROP_LR: f64 = 10.0;

/// The cell's settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RpropSpec {
    /// Seeds the initial weights and the batch order, shared by the three runs.
    pub seed: u64,
    /// Train on the first this many training digits.
    pub digits: usize,
    /// Units of the one hidden layer.
    pub hidden: usize,
    /// The mini-batch runs' batch size.
    pub batch_size: usize,
    pub epochs: usize,
    /// Rprop's initial step size (its other settings are PyTorch's defaults).
    pub lr: f64,
    /// RMSprop's learning rate.
    pub rmsprop_lr: f64,
}

/// The three runs, in order: what the page keys each line by.
pub const KEYS: [&str; 3] = ["full", "mini", "rmsprop"];

/// One run's line of the read-out.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RpropRunReport {
    pub key: &'static str,
    /// Epoch records so far.
    pub records: usize,
    /// The median of the per-weight step sizes as of the last finished epoch (Rprop runs).
    pub median_step_size: Option<f32>,
    #[serde(flatten)]
    pub run: RunReport,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RpropReport {
    pub status: &'static str,
    pub progress: Progress,
    pub epochs: usize,
    pub runs: Vec<RpropRunReport>,
}

/// Full-batch Rprop, mini-batch Rprop and mini-batch RMSprop side by side.
pub struct RpropCompare {
    spec: RpropSpec,
    compare: Compare,
    /// Per run: the median step size and the epoch it was taken at (Rprop runs only).
    medians: Vec<(Option<f32>, usize)>,
}

/// The median of an Rprop run's per-weight step sizes, if its optimizer has them yet.
pub fn median_step_size(t: &Trainer) -> Option<f32> {
    let mut s = t.engine().optimizer_state("step_size")?.to_vec();
    if s.is_empty() {
        return None;
    }
    s.sort_by(f32::total_cmp);
    Some(s[s.len() / 2])
}

impl RpropCompare {
    pub fn new(data: &Data, spec: RpropSpec, device: &dyn Device) -> Result<RpropCompare> {
        let (n, m, available) = (spec.digits, spec.batch_size, data.train.len());
        ensure!(
            (MIN_DIGITS..=available).contains(&n),
            "training digits: {n} is out of range ({MIN_DIGITS} to the {available} in the training split)"
        );
        ensure!((1..=n).contains(&m), "mini-batch size: {m} is out of range (1 to the {n} training digits)");
        ensure!((1..=MAX_HIDDEN).contains(&spec.hidden), "hidden units: {} is out of range (1 to {MAX_HIDDEN})", spec.hidden);
        ensure!((1..=MAX_EPOCHS).contains(&spec.epochs), "epochs: {} is out of range (1 to {MAX_EPOCHS})", spec.epochs);
        ensure!((0.0..=MAX_RPROP_LR).contains(&spec.lr), "Rprop lr: {} is out of range (0 to {MAX_RPROP_LR})", Num(spec.lr));
        ensure!((0.0..=MAX_RMSPROP_LR).contains(&spec.rmsprop_lr), "RMSprop lr: {} is out of range (0 to {MAX_RMSPROP_LR})", Num(spec.rmsprop_lr));
        let base = RunSpec { hidden: vec![spec.hidden], seed: spec.seed, epochs: spec.epochs, train_subset: Some(n), ..RunSpec::default() };
        let run = |label: String, color: usize, optimizer: &str, lr: f64, batch_size: usize| Entry {
            label,
            color,
            run: RunSpec { optimizer: optimizer.into(), options: serde_json::json!({ "lr": lr }), batch_size, ..base.clone() },
        };
        let runs = vec![
            run(format!("Rprop, full batch of {n}"), 2, "rprop", spec.lr, n),
            run(format!("Rprop, mini-batches of {m}"), 3, "rprop", spec.lr, m),
            run(format!("RMSprop, mini-batches of {m}"), 4, "rmsprop", spec.rmsprop_lr, m),
        ];
        let compare = Compare::new(data, CompareSpec { runs, smooth: None }, device)?;
        Ok(RpropCompare { spec, compare, medians: vec![(None, 0); KEYS.len()] })
    }

    pub fn spec(&self) -> &RpropSpec {
        &self.spec
    }
    pub fn compare(&self) -> &Compare {
        &self.compare
    }

    fn is_rprop(i: usize) -> bool {
        i < 2
    }

    /// Train for about `budget_ms`; true while any run has work left.
    pub fn run_for(&mut self, budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        let more = self.compare.run_for(budget_ms, clock)?;
        // The median sorts every step size: take it once an epoch, not every frame.
        for (i, m) in self.medians.iter_mut().enumerate().filter(|(i, _)| Self::is_rprop(*i)) {
            let t = self.compare.runs().get(i);
            if t.epoch() != m.1 {
                *m = (median_step_size(t), t.epoch());
            }
        }
        Ok(more)
    }

    pub fn stop(&mut self) {
        self.compare.stop();
    }

    /// running while any run is; then stopped (the student's Stop) or finished.
    pub fn report(&self) -> RpropReport {
        let r = self.compare.report();
        let stopped = self.compare.runs().iter().any(|t| t.status().message() == Some(STOPPED_BY_STUDENT));
        let status = if r.status == "running" {
            "running"
        } else if stopped {
            "stopped"
        } else {
            "finished"
        };
        let runs = r
            .runs
            .into_iter()
            .enumerate()
            .map(|(i, run)| RpropRunReport {
                key: KEYS[i],
                records: self.compare.runs().get(i).history().epochs.len(),
                median_step_size: self.medians[i].0,
                run,
            })
            .collect();
        RpropReport { status, progress: r.progress, epochs: self.spec.epochs, runs }
    }

    /// "loss": each run's training loss per epoch on a log scale; "validation": each run's
    /// validation error per epoch.
    pub fn chart(&self, name: &str) -> Result<Chart> {
        let per_epoch = |f: fn(&EpochRecord) -> f32| -> Vec<Series> {
            self.compare
                .spec()
                .runs
                .iter()
                .zip(self.compare.runs().iter())
                .map(|(e, t)| {
                    Series::new(e.label.clone(), t.history().epochs.iter().map(|r| (r.epoch as f64, f(r) as f64)).collect(), e.color).markers()
                })
                .collect()
        };
        let epochs = self.spec.epochs as f64;
        match name {
            "loss" => Ok(Chart {
                title: "training loss per epoch (log scale)".into(),
                x_label: "epoch".into(),
                y_label: "cross-entropy".into(),
                body: Body::Convergence { series: per_epoch(|r| r.train_loss), x_max: Some(epochs), y_range: None, hline: None },
            }),
            "validation" => {
                Ok(Chart::lines("validation error per epoch", "epoch", "error rate", per_epoch(|r| r.val_error)).x_max(epochs).y_range(0.0, 0.75))
            }
            _ => bail!("the Rprop comparison has no chart {name:?} (it has \"loss\" and \"validation\")"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;
    use crate::lab::Cpu;
    use std::sync::Arc;

    fn data(n: usize) -> Data {
        let x: Vec<f32> = (0..n * 4).map(|i| ((i * 13) % 7) as f32 / 7.0).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 3) as u8).collect();
        let d = Arc::new(Dataset::new(x, labels, 4, 3).unwrap());
        Data { train: d.clone(), validation: d }
    }

    fn spec() -> RpropSpec {
        RpropSpec { seed: 1, digits: 200, hidden: 8, batch_size: 20, epochs: 3, lr: 0.01, rmsprop_lr: 0.001 }
    }

    #[test]
    fn three_runs_from_one_seed_full_batch_one_step_an_epoch() {
        let mut c = RpropCompare::new(&data(300), spec(), &Cpu).unwrap();
        let spe: Vec<usize> = c.compare().runs().iter().map(|t| t.steps_per_epoch()).collect();
        assert_eq!(spe, [1, 10, 10], "full batch, then two runs of 200/20 mini-batches");
        assert_eq!(c.report().runs[0].median_step_size, None, "no median before the first epoch");
        let clock = crate::lab::SystemClock::default();
        while c.run_for(50.0, &clock).unwrap() {}
        let r = c.report();
        assert_eq!(r.status, "finished");
        assert_eq!(r.runs.iter().map(|x| (x.key, x.records)).collect::<Vec<_>>(), [("full", 3), ("mini", 3), ("rmsprop", 3)]);
        assert!(r.runs[0].median_step_size.is_some() && r.runs[1].median_step_size.is_some(), "Rprop runs show a median");
        assert_eq!(r.runs[2].median_step_size, None, "RMSprop has no step sizes");
        assert_eq!(r.runs[0].run.label, "Rprop, full batch of 200");
        assert_eq!(c.chart("loss").unwrap().series()[2].points.len(), 3, "a point an epoch");
        assert!(c.chart("error").is_err());
    }

    #[test]
    fn stop_is_the_students() {
        let mut c = RpropCompare::new(&data(300), spec(), &Cpu).unwrap();
        c.run_for(0.0, &crate::lab::SystemClock::default()).unwrap();
        c.stop();
        assert_eq!(c.report().status, "stopped");
    }

    #[test]
    fn bad_settings_are_named() {
        // (settings, part of the message, reason)
        let rows = [
            (RpropSpec { digits: 50, ..spec() }, "training digits: 50", "too few digits"),
            (RpropSpec { digits: 301, ..spec() }, "the 300 in the training split", "more digits than the split has"),
            (RpropSpec { batch_size: 500, ..spec() }, "mini-batch size: 500", "a batch larger than the digits"),
            (RpropSpec { batch_size: 0, ..spec() }, "mini-batch size: 0", "an empty batch"),
            (RpropSpec { hidden: 513, ..spec() }, "hidden units: 513", "too wide"),
            (RpropSpec { epochs: 201, ..spec() }, "epochs: 201", "too many epochs"),
            (RpropSpec { lr: -1.0, ..spec() }, "Rprop lr: -1", "a negative step"),
            (RpropSpec { rmsprop_lr: 11.0, ..spec() }, "RMSprop lr: 11", "too large a learning rate"),
        ];
        for (s, want, reason) in rows {
            let err = RpropCompare::new(&data(300), s, &Cpu).err().unwrap_or_else(|| panic!("{reason}: accepted"));
            assert!(err.message().contains(want), "{reason}: {}", err.message());
        }
    }
}
