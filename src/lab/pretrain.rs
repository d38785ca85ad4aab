//! The "Pretraining" cell: its two tasks, its hand-over, and [`Pretrain`], the experiment that
//! runs them one after the other.
//!
//! Pretraining: digits 0–4 as classes 0–4. Fine-tuning: a few labelled digits 5–9, relabelled
//! 0–4, validated on every 5–9 of the validation split. The fine-tuned network starts from
//! the pretrained hidden layers with a *fresh* output layer — the very output layer the
//! random-start run begins with, so the two fine-tuning runs differ only in their hidden
//! layers (and share the seed, hence the batch order).
//!
//! Why it helps: the hidden layers of a network trained on 0–4 respond to strokes, loops and
//! corners, which 5–9 are made of too, so with few labels the pretrained start is ahead; with
//! enough labels and epochs a random start catches up (and may pass it: features tuned to
//! 0–4 are a bias as well as a help).

use super::init_runs::runs_status;
use super::run::{Data, Device, RunSpec};
use super::schedule::{Clock, Runs};
use super::start::check_hidden;
use super::{Progress, STOPPED_BY_STUDENT};
use crate::data::Dataset;
use crate::plot::{Body, Chart, Series};
use crate::train::{smoothed, Status, Trainer};
use crate::{bail, ensure, Result};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Both phases use SGD with this momentum.
pub const MOMENTUM: f64 = 0.9;
/// Mini-batches of pretraining, and (at most) of fine-tuning.
pub const PRETRAIN_BATCH: usize = 32;
pub const FINETUNE_BATCH: usize = 10;
/// The fewest labelled digits 5–9 to fine-tune on.
pub const MIN_LABELLED: usize = 10;
/// The most pretraining and fine-tuning epochs.
pub const MAX_PRETRAIN_EPOCHS: usize = 10;
pub const MAX_FINETUNE_EPOCHS: usize = 200;
/// The largest learning rate the cell takes.
pub const MAX_LR: f64 = 10.0;
/// The read-out compares the two starts after at most this many fine-tuning epochs.
pub const EARLY_EPOCHS: usize = 5;
/// Smoothing (β of `train::smoothed`) of the pretraining and of the fine-tuning loss.
pub const PRETRAIN_BETA: f64 = 0.9;
pub const FINETUNE_BETA: f64 = 0.8;

/// The first `limit` examples whose label passes `keep`, relabelled by `relabel` into
/// `classes` classes. One copy of just the rows kept.
fn relabelled(d: &Dataset, keep: impl Fn(u8) -> bool, limit: usize, relabel: impl Fn(u8) -> u8, classes: usize) -> Dataset {
    let rows: Vec<usize> = (0..d.len()).filter(|&i| keep(d.labels[i])).take(limit).collect();
    let mut out = d.select(&rows);
    out.labels.iter_mut().for_each(|l| *l = relabel(*l));
    out.classes = classes;
    out
}

/// Digits 0–4 as classes 0–4 (the pretraining task).
pub fn low_digits(d: &Dataset) -> Dataset {
    relabelled(d, |l| l < 5, usize::MAX, |l| l, 5)
}

/// The first `limit` digits 5–9 as classes 0–4 (the task we fine-tune on).
pub fn high_digits(d: &Dataset, limit: usize) -> Dataset {
    relabelled(d, |l| l >= 5, limit, |l| l - 5, 5)
}

/// How many examples each part of the experiment has.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sizes {
    pub pretrain_train: usize,
    pub pretrain_validation: usize,
    pub finetune_available: usize,
    pub finetune_validation: usize,
}

/// Digits 0–4 and 5–9 in each split.
pub fn sizes(data: &Data) -> Sizes {
    let count = |d: &Dataset, low: bool| d.labels.iter().filter(|&&l| (l < 5) == low).count();
    Sizes {
        pretrain_train: count(&data.train, true),
        pretrain_validation: count(&data.validation, true),
        finetune_available: count(&data.train, false),
        finetune_validation: count(&data.validation, false),
    }
}

/// The pretraining task's data: digits 0–4 of both splits.
pub fn pretrain_data(data: &Data) -> Data {
    Data { train: Arc::new(low_digits(&data.train)), validation: Arc::new(low_digits(&data.validation)) }
}

/// How many digits 5–9 the training split has (the most that can be labelled).
pub fn finetune_available(data: &Data) -> usize {
    data.train.labels.iter().filter(|&&l| l >= 5).count()
}

/// The fine-tuning task's data: the first `labelled` digits 5–9 of the (already shuffled)
/// training split, and every 5–9 of the validation split.
pub fn finetune_data(data: &Data, labelled: usize) -> Result<Data> {
    let available = finetune_available(data);
    ensure!(
        (1..=available).contains(&labelled),
        "labelled examples: {labelled} is out of range: pick 1 to {available} (digits 5–9 in the training split)"
    );
    Ok(Data { train: Arc::new(high_digits(&data.train, labelled)), validation: Arc::new(high_digits(&data.validation, usize::MAX)) })
}

/// Where the pretrained fine-tuning run starts: every hidden layer from `pretrained` (the
/// parameters of a pretraining run with the same hidden sizes), the output layer as `spec`
/// initializes it on `data`.
pub fn finetune_start(spec: &RunSpec, data: &Data, pretrained: &[f32]) -> Result<Vec<f32>> {
    let fresh = spec.model(data.train.features, data.train.classes.max(data.validation.classes))?;
    let start = fresh.parameters();
    ensure!(
        pretrained.len() == start.len(),
        "the pretrained network has {} parameters but this one has {}: pretrain and fine-tune need the same hidden sizes",
        pretrained.len(),
        start.len()
    );
    let (fan_in, fan_out) = fresh.layer_shape(fresh.num_layers() - 1);
    let body = start.len() - (fan_in * fan_out + fan_out);
    let mut spliced = pretrained.to_vec();
    spliced[body..].copy_from_slice(&start[body..]); // W_out, b_out from the fresh init
    Ok(spliced)
}

/// The cell's settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PretrainSpec {
    pub hidden: Vec<usize>,
    #[serde(default)]
    pub seed: u64,
    /// SGD's learning rate, in both phases.
    pub lr: f64,
    /// Pretraining epochs.
    pub epochs: usize,
    pub finetune_epochs: usize,
    /// Labelled digits 5–9 to fine-tune on.
    pub labelled: usize,
}

impl PretrainSpec {
    fn base(&self) -> RunSpec {
        RunSpec {
            hidden: self.hidden.clone(),
            seed: self.seed,
            optimizer: "sgd".into(),
            options: serde_json::json!({ "lr": self.lr, "momentum": MOMENTUM }),
            ..RunSpec::default()
        }
    }
    /// The pretraining run.
    pub fn pretrain_run(&self) -> RunSpec {
        RunSpec { batch_size: PRETRAIN_BATCH, epochs: self.epochs, ..self.base() }
    }
    /// Both fine-tuning runs (they differ only in where they start).
    pub fn finetune_run(&self) -> RunSpec {
        RunSpec { batch_size: FINETUNE_BATCH.min(self.labelled), epochs: self.finetune_epochs, ..self.base() }
    }
}

/// One run's line of the read-out.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhaseRun {
    pub label: &'static str,
    pub color: usize,
    pub status: &'static str,
    pub message: Option<String>,
    pub epoch: usize,
    pub epochs: usize,
    /// The last epoch's validation error.
    pub val_error: Option<f32>,
}

/// Both fine-tuning runs' validation errors after the same early epoch.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Early {
    pub epochs: usize,
    pub pretrained: f32,
    pub random: f32,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PretrainReport {
    pub status: &'static str,
    pub progress: Progress,
    /// "pretraining" until the fine-tuning runs are built, then "fine-tuning".
    pub phase: &'static str,
    /// Digits 0–4 pretrained on.
    pub pretrain_examples: usize,
    pub pretrain: PhaseRun,
    /// From pretrained, from random (empty until the hand-over).
    pub finetune: Vec<PhaseRun>,
    /// After min(epochs both have done, [`EARLY_EPOCHS`]) epochs.
    pub early: Option<Early>,
}

/// Pretrain, hand over, fine-tune two starts side by side.
pub struct Pretrain {
    spec: PretrainSpec,
    finetune_data: Data,
    pretrain_examples: usize,
    device: &'static dyn Device,
    pre: Runs,
    /// Built from the pretrained weights once pretraining has finished (one call later, so
    /// building them gets a frame of its own).
    finetune: Option<Runs>,
    handover: bool,
}

const LABELS: [(&str, usize); 2] = [("from pretrained", 2), ("from random", 1)];

impl Pretrain {
    pub fn new(data: &Data, spec: PretrainSpec, device: &'static dyn Device) -> Result<Pretrain> {
        check_hidden(&spec.hidden, "256, 256")?;
        ensure!((0.0..=MAX_LR).contains(&spec.lr), "learning rate: {} is out of range: pick 0 to {MAX_LR}", spec.lr);
        ensure!(
            (1..=MAX_PRETRAIN_EPOCHS).contains(&spec.epochs),
            "pretraining epochs: {} is out of range: pick 1 to {MAX_PRETRAIN_EPOCHS}",
            spec.epochs
        );
        let ft = spec.finetune_epochs;
        ensure!((1..=MAX_FINETUNE_EPOCHS).contains(&ft), "fine-tuning epochs: {ft} is out of range: pick 1 to {MAX_FINETUNE_EPOCHS}");
        ensure!(spec.labelled >= MIN_LABELLED, "labelled examples: {} is too few: pick at least {MIN_LABELLED}", spec.labelled);
        let finetune_data = finetune_data(data, spec.labelled)?;
        let pre_data = pretrain_data(data);
        let pre = Runs::new(vec![spec.pretrain_run().build_on(&pre_data, None, device)?]);
        Ok(Pretrain { spec, finetune_data, pretrain_examples: pre_data.train.len(), device, pre, finetune: None, handover: false })
    }

    pub fn pretraining(&self) -> &Trainer {
        self.pre.get(0)
    }
    /// The fine-tuning runs (from pretrained, from random), once built.
    pub fn finetuning(&self) -> Option<&Runs> {
        self.finetune.as_ref()
    }

    pub fn run_for(&mut self, budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        if let Some(ft) = &mut self.finetune {
            return ft.run_for(budget_ms, clock);
        }
        if self.handover {
            let spec = self.spec.finetune_run();
            let start = finetune_start(&spec, &self.finetune_data, self.pre.get(0).model().parameters())?;
            let pretrained = spec.build_on(&self.finetune_data, Some(&start), self.device)?;
            let random = spec.build_on(&self.finetune_data, None, self.device)?;
            self.finetune = Some(Runs::new(vec![pretrained, random]));
            return Ok(true);
        }
        self.pre.run_for(budget_ms, clock)?;
        match self.pre.get(0).status() {
            Status::Diverged(m) => bail!("pretraining stopped: {m}"),
            Status::Finished => self.handover = true, // drawn now, fine-tuning built next call
            _ => {}
        }
        Ok(self.pre.active() || self.handover)
    }

    pub fn stop(&mut self) {
        self.pre.stop(STOPPED_BY_STUDENT);
        self.handover = false;
        if let Some(ft) = &mut self.finetune {
            ft.stop(STOPPED_BY_STUDENT);
        }
    }

    fn line(t: &Trainer, (label, color): (&'static str, usize)) -> PhaseRun {
        PhaseRun {
            label,
            color,
            status: t.status().word(),
            message: t.status().message().map(String::from),
            epoch: t.epoch(),
            epochs: t.config().epochs,
            val_error: t.history().epochs.last().map(|e| e.val_error),
        }
    }

    pub fn report(&self) -> PretrainReport {
        let ft = self.finetune.as_ref();
        let finetune: Vec<PhaseRun> = ft.map(|r| r.iter().zip(LABELS).map(|(t, l)| Self::line(t, l)).collect()).unwrap_or_default();
        let early = ft.and_then(|r| {
            let (a, b) = (&r.get(0).history().epochs, &r.get(1).history().epochs);
            let k = a.len().min(b.len()).min(EARLY_EPOCHS);
            (k > 0).then(|| Early { epochs: k, pretrained: a[k - 1].val_error, random: b[k - 1].val_error })
        });
        // fine-tuning steps count before the runs exist, so the bar does not jump back
        let ft_total = 2 * self.finetune_data.train.len().div_ceil(self.spec.finetune_run().batch_size) * self.spec.finetune_epochs;
        let (pd, pt) = self.pre.progress();
        let (fd, _) = ft.map_or((0, 0), Runs::progress);
        let status = match ft {
            Some(ft) => runs_status(&[ft]),
            None if self.handover => "running",
            None => runs_status(&[&self.pre]),
        };
        PretrainReport {
            status,
            progress: Progress { done: pd + fd, total: pt + ft_total },
            phase: if ft.is_some() { "fine-tuning" } else { "pretraining" },
            pretrain_examples: self.pretrain_examples,
            pretrain: Self::line(self.pre.get(0), ("pretraining", 2)),
            finetune,
            early,
        }
    }

    /// "pretrain": pretraining's smoothed loss, its epochs' validation errors marked;
    /// "validation": both fine-tuning runs' validation error per epoch; "loss": their smoothed
    /// losses.
    pub fn chart(&self, name: &str) -> Result<Chart> {
        let curve =
            |t: &Trainer, beta: f64| smoothed(&t.history().step_loss, beta).into_iter().enumerate().map(|(i, y)| ((i + 1) as f64, y)).collect();
        let runs = || self.finetune.iter().flat_map(|r| r.iter()).zip(LABELS);
        match name {
            "pretrain" => {
                let t = self.pre.get(0);
                let series = vec![Series::new("training loss", curve(t, PRETRAIN_BETA), 2)];
                let total = t.total_steps();
                let mut chart = Chart::lines("step 1: pretraining on digits 0–4", "step", "cross-entropy (smoothed)", series)
                    .x_max(total as f64)
                    .y_range(0.0, 2.0);
                // a line at each epoch's end but the last (that one is in the read-out)
                if let Body::Lines { marks, .. } = &mut chart.body {
                    let ends = t.history().epochs.iter().filter(|e| e.step < total);
                    *marks = ends.map(|e| (e.step as f64, format!("{:.1}% err", 100.0 * e.val_error as f64))).collect();
                }
                Ok(chart)
            }
            "validation" => {
                let series = runs()
                    .map(|(t, (label, color))| {
                        Series::new(label, t.history().epochs.iter().map(|e| (e.epoch as f64, e.val_error as f64)).collect(), color).markers()
                    })
                    .collect();
                let chart = Chart::lines("step 2: fine-tuning on digits 5–9", "epoch", "validation error", series);
                Ok(chart.x_max(self.spec.finetune_epochs as f64).y_range(0.0, 1.0))
            }
            "loss" => {
                let series = runs().map(|(t, (label, color))| Series::new(label, curve(t, FINETUNE_BETA), color)).collect();
                let total = self.finetune.as_ref().map_or(100, |r| r.get(0).total_steps());
                Ok(Chart::lines("fine-tuning loss", "step", "cross-entropy (smoothed)", series).x_max(total as f64).y_range(0.0, 2.0))
            }
            _ => bail!("this cell has no chart {name:?} (it has \"pretrain\", \"validation\" and \"loss\")"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 50 examples of 3 features (example i holds 3i, 3i + 1, 3i + 2), labels 0, 1, …, 9, 0, ….
    fn data() -> Data {
        let labels: Vec<u8> = (0..50).map(|i| (i % 10) as u8).collect();
        let x = (0..50 * 3).map(|i| i as f32).collect();
        let d = Arc::new(Dataset::new(x, labels, 3, 10).unwrap());
        Data { train: d.clone(), validation: d }
    }

    /// `n` examples of 3 features in [0, 1), labels 0, 1, …, 9, 0, ….
    fn data_of(n: usize) -> Data {
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let x = (0..n * 3).map(|i| (i % 17) as f32 / 17.0).collect();
        let d = Arc::new(Dataset::new(x, labels, 3, 10).unwrap());
        Data { train: d.clone(), validation: d }
    }

    #[test]
    fn the_tasks_split_the_digits() {
        let d = data();
        let pre = pretrain_data(&d);
        assert!(pre.train.labels.iter().all(|&l| l < 5) && pre.train.classes == 5 && pre.train.len() == 25);
        let ft = finetune_data(&d, 7).unwrap();
        assert_eq!(ft.train.len(), 7);
        assert_eq!(&ft.train.labels[..5], &[0, 1, 2, 3, 4], "5–9 become 0–4, in order");
        assert_eq!(ft.train.x[..3], [15.0, 16.0, 17.0], "the first 5 of the split");
        assert!(finetune_data(&d, 26).unwrap_err().message().contains("pick 1 to 25"));
    }

    #[test]
    fn the_phases_follow_each_other_and_stop_ends_them() {
        let (d, clock) = (data_of(100), crate::lab::SystemClock::default());
        let spec = PretrainSpec { hidden: vec![4], seed: 1, lr: 0.1, epochs: 2, finetune_epochs: 3, labelled: 10 };
        let mut p = Pretrain::new(&d, spec.clone(), &crate::lab::Cpu).unwrap();
        let total = p.report().progress.total;
        // 50 digits 0–4 in batches of 32, twice; then 10 labelled 5–9 in one batch, 3 times, twice
        assert_eq!(total, 2 * 2 + 2 * 3, "pretraining steps, then both fine-tuning runs' (counted from the start)");
        let mut phases = vec![p.report().phase];
        while p.run_for(1e9, &clock).unwrap() {
            phases.push(p.report().phase);
        }
        phases.dedup();
        assert_eq!(phases, ["pretraining", "fine-tuning"]);
        let r = p.report();
        assert_eq!((r.status, r.progress.done, r.progress.total), ("finished", total, total));
        assert!(r.finetune.iter().all(|f| f.epoch == 3) && r.early.unwrap().epochs == 3);

        // (calls before Stop, reason)
        for (calls, why) in [(0, "before the first step"), (1, "during pretraining")] {
            let mut p = Pretrain::new(&d, spec.clone(), &crate::lab::Cpu).unwrap();
            for _ in 0..calls {
                p.run_for(0.0, &clock).unwrap();
            }
            p.stop();
            assert!(!p.run_for(1e9, &clock).unwrap(), "{why}: nothing left to do");
            assert_eq!((p.report().status, p.finetuning().is_none()), ("stopped", true), "{why}");
        }
    }

    #[test]
    fn the_start_keeps_hidden_layers_and_takes_a_fresh_head() {
        let d = data();
        let ft = finetune_data(&d, 10).unwrap();
        let spec = RunSpec { hidden: vec![4], seed: 3, ..RunSpec::default() };
        let n = spec.model(3, 5).unwrap().parameters().len();
        let pretrained = vec![9.0; n];
        let start = finetune_start(&spec, &ft, &pretrained).unwrap();
        let fresh = spec.model(3, 5).unwrap().parameters().to_vec();
        let body = 3 * 4 + 4;
        assert!(start[..body].iter().all(|&v| v == 9.0), "hidden layer from pretraining");
        assert_eq!(start[body..], fresh[body..], "output layer as the random run starts");
        assert!(finetune_start(&spec, &ft, &[1.0; 3]).unwrap_err().message().contains("same hidden sizes"));
    }
}
