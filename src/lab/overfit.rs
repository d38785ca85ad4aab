//! The "Overfitting curves" cell: three sweeps through the worker pool, each point
//! cross-validated over k folds of the same `n` digits, and a lesson in reusing the test set.
//!
//! 1. **Error by epoch** for the large network of `run` on the `n` digits: each fold's
//!    validation loss, their mean and ±1 std band — the real picture — beside the idealized
//!    one, the mean smoothed by a centred moving average (5 epochs). The onset of overfitting
//!    is estimated as the smoothed curve's minimum; the epochs whose (unsmoothed) mean lies
//!    within one standard error (std / √k) of the lowest mean are marked as the range the data
//!    cannot tell apart — usually several epochs wide, which is why the point is rarely clear.
//! 2. **A validation curve**: one hidden layer of each of `widths` units, trained
//!    `sweep_epochs`, final training and validation error against the width (log₂ axis).
//! 3. **A learning curve**: the same network on `fractions` of each fold's training part
//!    (the validation fold unchanged), error against the training-set size.
//! 4. **Test-set reuse**: one network per width trained on all `n` digits, scored on two
//!    halves of the test set, A and B (split by the seed). Picking the width with the lowest
//!    A error and quoting that error is what reusing a test set for choices does: the quoted
//!    number is optimistic, and B — data the choice never saw — says by how much. Picking by
//!    the cross-validated error instead leaves both halves unseen.

use super::job::{Examples, Job, SetName, Update};
use super::pooled::{self, Ending, Record, Spread};
use super::run::RunSpec;
use super::Progress;
use crate::data::{folds::Folds, Dataset};
use crate::plot::{Band, Chart, Series};
use crate::{ensure, Result};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// (x, y) points of a curve.
type Points = Vec<(f64, f64)>;

/// The most points a sweep may have.
pub const MAX_POINTS: usize = 10;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OverfitSpec {
    /// The large network of the error-by-epoch curve, and the training of every sweep.
    pub run: RunSpec,
    /// The digits (the first n of the training set), dealt into `k` stratified folds.
    pub n: usize,
    pub k: usize,
    /// Hidden widths of the validation curve (one hidden layer each).
    pub widths: Vec<usize>,
    /// Fractions of each fold's training part for the learning curve, in (0, 1].
    pub fractions: Vec<f64>,
    /// Epochs of the sweeps' runs.
    pub sweep_epochs: usize,
    /// Train one network per width on all n digits and score it on the test set's halves.
    #[serde(default)]
    pub reuse: bool,
}

/// What a job is for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Curve { fold: usize },
    Width { point: usize, fold: usize },
    Size { point: usize, fold: usize },
    Reuse { point: usize },
}

/// One point of a sweep: the folds' final errors.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepPoint {
    /// The width, or the training-set size (of one fold's training part).
    pub x: f64,
    pub val_error: Option<Spread>,
    pub train_error: Option<Spread>,
    pub ended: usize,
}

/// The test-set reuse verdict.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reuse {
    /// Each width's error on test halves A and B.
    pub a: Vec<Option<f32>>,
    pub b: Vec<Option<f32>>,
    /// Chosen by test half A: the width, its A error (what one would quote), its B error.
    pub by_test: Option<(usize, f32, f32)>,
    /// Chosen by the cross-validated error: the width and its B error.
    pub by_validation: Option<(usize, f32)>,
    /// Quoted minus unseen error of the width chosen by A (negative: the quote flatters).
    pub optimism: Option<f32>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OverfitReport {
    pub status: &'static str,
    pub progress: Progress,
    pub jobs: usize,
    pub ended: usize,
    /// The smoothed curve's minimum, and the epochs the data cannot tell from it.
    pub onset: Option<usize>,
    pub onset_range: Option<(usize, usize)>,
    pub widths: Vec<SweepPoint>,
    pub sizes: Vec<SweepPoint>,
    /// The width with the lowest cross-validated error.
    pub best_width: Option<usize>,
    pub reuse: Option<Reuse>,
    pub message: Option<String>,
    pub compute_ms: f64,
}

pub struct Overfit {
    spec: OverfitSpec,
    folds: Folds,
    roles: Vec<Role>,
    records: Vec<Record>,
    /// The test set's two halves.
    halves: (Arc<Dataset>, Arc<Dataset>),
    /// Each reuse model's errors on the halves.
    scores: Vec<Option<(f32, f32)>>,
    handed: bool,
    stopped: bool,
    compute_ms: f64,
}

impl Overfit {
    pub fn new(train: &Dataset, test: &Dataset, spec: OverfitSpec) -> Result<Overfit> {
        ensure!((2..=super::cross_val::MAX_FOLDS).contains(&spec.k), "k = {} folds: use 2 to {}", spec.k, super::cross_val::MAX_FOLDS);
        ensure!(spec.n <= train.len(), "{} digits: the training set has {}", spec.n, train.len());
        ensure!(spec.n >= 10 * spec.k, "{} digits are too few for {} folds: use at least {}", spec.n, spec.k, 10 * spec.k);
        ensure!((1..=MAX_POINTS).contains(&spec.widths.len()), "the validation curve needs 1 to {MAX_POINTS} widths, got {}", spec.widths.len());
        ensure!((1..=MAX_POINTS).contains(&spec.fractions.len()), "the learning curve needs 1 to {MAX_POINTS} sizes, got {}", spec.fractions.len());
        if let Some(f) = spec.fractions.iter().find(|f| !(**f > 0.0 && **f <= 1.0)) {
            crate::bail!("a learning-curve fraction of {f} is not in (0, 1]");
        }
        ensure!(test.len() >= 2, "the test set needs two halves");
        spec.run.check_shape(train.features, train.classes)?;
        spec.run.train_config()?;
        for &w in &spec.widths {
            RunSpec { hidden: vec![w], ..spec.run.clone() }.check_shape(train.features, train.classes)?;
        }
        RunSpec { epochs: spec.sweep_epochs, ..spec.run.clone() }.train_config()?;
        let folds = Folds::stratified(&train.labels[..spec.n], spec.k, spec.run.seed)?;
        let (k, w, f) = (spec.k, spec.widths.len(), spec.fractions.len());
        let mut roles: Vec<Role> = (0..k).map(|fold| Role::Curve { fold }).collect();
        roles.extend((0..w).flat_map(|point| (0..k).map(move |fold| Role::Width { point, fold })));
        roles.extend((0..f).flat_map(|point| (0..k).map(move |fold| Role::Size { point, fold })));
        if spec.reuse {
            roles.extend((0..w).map(|point| Role::Reuse { point }));
        }
        let perm = crate::Rng::stream(spec.run.seed, "test reuse").permutation(test.len());
        let half = test.len() / 2;
        let halves = (Arc::new(test.select(&perm[..half])), Arc::new(test.select(&perm[half..])));
        let records = vec![Record::default(); roles.len()];
        Ok(Overfit { scores: vec![None; w], spec, folds, roles, records, halves, handed: false, stopped: false, compute_ms: 0.0 })
    }

    /// Every job, at once (none waits for another), in the order of the sweeps.
    pub fn jobs(&mut self) -> Vec<Job> {
        if self.handed || self.stopped {
            return Vec::new();
        }
        self.handed = true;
        let pick = |idx: &[usize]| Examples { from: Some(SetName::Train), indices: Some(idx.iter().map(|&i| i as u32).collect()) };
        let sweep = RunSpec { epochs: self.spec.sweep_epochs, train_subset: None, ..self.spec.run.clone() };
        let job = |spec: RunSpec, train: &[usize], val: Option<&[usize]>, keep: bool| Job {
            spec,
            train: pick(train),
            validation: val.map(pick).unwrap_or_default(),
            label_map: None,
            test: false,
            keep_parameters: keep,
        };
        self.roles
            .iter()
            .map(|role| match *role {
                Role::Curve { fold } => {
                    let (t, v) = self.folds.fold(fold);
                    job(RunSpec { train_subset: None, ..self.spec.run.clone() }, &t, Some(&v), false)
                }
                Role::Width { point, fold } => {
                    let (t, v) = self.folds.fold(fold);
                    job(RunSpec { hidden: vec![self.spec.widths[point]], ..sweep.clone() }, &t, Some(&v), false)
                }
                Role::Size { point, fold } => {
                    let (t, v) = self.folds.fold(fold);
                    let m = ((self.spec.fractions[point] * t.len() as f64).ceil() as usize).clamp(1, t.len());
                    job(sweep.clone(), &t[..m], Some(&v), false)
                }
                Role::Reuse { point } => {
                    let all: Vec<usize> = (0..self.spec.n).collect();
                    job(RunSpec { hidden: vec![self.spec.widths[point]], ..sweep.clone() }, &all, None, true)
                }
            })
            .collect()
    }

    pub fn absorb(&mut self, i: usize, update: Update) -> Result<()> {
        pooled::record(&mut self.records, i)?.absorb(update);
        Ok(())
    }

    pub fn finish(&mut self, i: usize, ending: Ending, parameters: Option<Vec<f32>>) -> Result<()> {
        self.compute_ms += ending.compute_ms;
        pooled::record(&mut self.records, i)?.finish(ending, parameters);
        if let Role::Reuse { point } = self.roles[i] {
            if let Some(p) = self.records[i].parameters.take() {
                let mut model = RunSpec { hidden: vec![self.spec.widths[point]], ..self.spec.run.clone() }
                    .model(self.halves.0.features, self.halves.0.classes)?;
                model.set_parameters(&p)?;
                let (a, b) = (&self.halves.0, &self.halves.1);
                self.scores[point] = Some((model.evaluate(&a.x, &a.labels)?.1, model.evaluate(&b.x, &b.labels)?.1));
            }
        }
        Ok(())
    }

    pub fn stop(&mut self) {
        self.stopped = true;
        self.records.iter_mut().for_each(Record::stop);
    }

    /// The pool does the work: true while some job has not ended.
    pub fn run_for(&mut self, _budget_ms: f64, _clock: &dyn super::Clock) -> Result<bool> {
        Ok(self.active())
    }

    pub fn active(&self) -> bool {
        self.records.iter().any(|r| r.status.is_none())
    }

    fn curve_folds(&self) -> &[Record] {
        &self.records[..self.spec.k]
    }

    /// The folds' mean validation loss per epoch, its centred 5-epoch moving average, and the
    /// standard error of each mean.
    fn curve(&self) -> (Points, Points, Vec<f64>) {
        let (mean, band) = pooled::fold_band(self.curve_folds(), self.spec.run.epochs, |e| e.val_loss);
        let sqrt_k = (self.spec.k as f64).sqrt();
        let se: Vec<f64> = band.hi.iter().zip(&band.lo).map(|(h, l)| (h - l) / 2.0 / sqrt_k).collect();
        let smooth = (0..mean.len())
            .map(|i| {
                let (lo, hi) = (i.saturating_sub(2), (i + 3).min(mean.len()));
                (mean[i].0, mean[lo..hi].iter().map(|p| p.1).sum::<f64>() / (hi - lo) as f64)
            })
            .collect();
        (mean, smooth, se)
    }

    /// The onset estimate and the epochs within one standard error of the lowest mean, once
    /// every epoch of every fold is in.
    fn onset(&self) -> Option<(usize, (usize, usize))> {
        let (mean, smooth, se) = self.curve();
        if mean.len() < self.spec.run.epochs || mean.len() < 3 {
            return None;
        }
        let at = super::argmin(smooth.iter().map(|p| Some(p.1)))?;
        let low = super::argmin(mean.iter().map(|p| Some(p.1)))?;
        let limit = mean[low].1 + se[low];
        let within: Vec<usize> = (0..mean.len()).filter(|&i| mean[i].1 <= limit).collect();
        Some((at + 1, (within[0] + 1, within[within.len() - 1] + 1)))
    }

    fn sweep(&self, pick: impl Fn(Role) -> Option<usize>, points: usize, x: impl Fn(usize) -> f64) -> Vec<SweepPoint> {
        (0..points)
            .map(|p| {
                let recs: Vec<Record> = self.roles.iter().zip(&self.records).filter(|(r, _)| pick(**r) == Some(p)).map(|(_, r)| r.clone()).collect();
                SweepPoint {
                    x: x(p),
                    val_error: Spread::over(&recs, Record::kept_error),
                    train_error: Spread::over(&recs, Record::last_train_error),
                    ended: recs.iter().filter(|r| r.status.is_some()).count(),
                }
            })
            .collect()
    }

    fn widths(&self) -> Vec<SweepPoint> {
        self.sweep(|r| if let Role::Width { point, .. } = r { Some(point) } else { None }, self.spec.widths.len(), |p| self.spec.widths[p] as f64)
    }

    fn sizes(&self) -> Vec<SweepPoint> {
        let train_part = self.folds.fold(0).0.len() as f64;
        self.sweep(
            |r| if let Role::Size { point, .. } = r { Some(point) } else { None },
            self.spec.fractions.len(),
            |p| (self.spec.fractions[p] * train_part).ceil(),
        )
    }

    fn reuse(&self, widths: &[SweepPoint]) -> Option<Reuse> {
        if !self.spec.reuse {
            return None;
        }
        let a: Vec<Option<f32>> = self.scores.iter().map(|s| s.map(|s| s.0)).collect();
        let b: Vec<Option<f32>> = self.scores.iter().map(|s| s.map(|s| s.1)).collect();
        let all = self.scores.iter().all(Option::is_some);
        let by_test = all.then(|| super::argmin(a.iter().copied())).flatten().map(|i| (self.spec.widths[i], a[i].unwrap(), b[i].unwrap()));
        let cv = widths.iter().all(|w| w.val_error.is_some()).then(|| super::argmin(widths.iter().map(|w| w.val_error.map(|s| s.mean)))).flatten();
        let by_validation = cv.filter(|_| all).map(|i| (self.spec.widths[i], b[i].unwrap()));
        Some(Reuse { optimism: by_test.map(|t| t.1 - t.2), a, b, by_test, by_validation })
    }

    pub fn report(&self) -> OverfitReport {
        let widths = self.widths();
        let best_width =
            widths.iter().all(|w| w.val_error.is_some()).then(|| super::argmin(widths.iter().map(|w| w.val_error.map(|s| s.mean)))).flatten();
        let onset = self.onset();
        let message = self.records.iter().find(|r| matches!(r.status.as_deref(), Some("error" | "diverged"))).and_then(|r| r.message.clone());
        OverfitReport {
            status: pooled::status(&self.records),
            progress: pooled::progress(&self.records),
            jobs: self.records.len(),
            ended: self.records.iter().filter(|r| r.status.is_some()).count(),
            onset: onset.map(|o| o.0),
            onset_range: onset.map(|o| o.1),
            reuse: self.reuse(&widths),
            best_width: best_width.map(|i| self.spec.widths[i]),
            widths,
            sizes: self.sizes(),
            message,
            compute_ms: self.compute_ms,
        }
    }

    /// "real", "idealized", "widths", "sizes".
    pub fn chart(&self, name: &str) -> Result<Chart> {
        let epochs = self.spec.run.epochs as f64;
        match name {
            "real" => {
                let mut series: Vec<Series> = self
                    .curve_folds()
                    .iter()
                    .map(|r| Series::new("", r.history.epochs.iter().map(|e| (e.epoch as f64, e.val_loss as f64)).collect(), 0).faint())
                    .collect();
                let (mean, mut band) = pooled::fold_band(self.curve_folds(), self.spec.run.epochs, |e| e.val_loss);
                let (train, mut train_band) = pooled::fold_band(self.curve_folds(), self.spec.run.epochs, |e| e.train_loss);
                series.push(Series::new(format!("validation loss, mean of {} folds", self.spec.k), mean, 0));
                series.push(Series::new("training loss, mean", train, 1).dashed());
                band.name = "±1 std".into();
                train_band.color = 1;
                Ok(Chart::lines("real: each fold, their mean and spread", "epoch", "cross-entropy", series).x_max(epochs).band(band).band(train_band))
            }
            "idealized" => {
                let (_, smooth, _) = self.curve();
                let (train, _) = pooled::fold_band(self.curve_folds(), self.spec.run.epochs, |e| e.train_loss);
                let top = smooth.iter().chain(&train).map(|p| p.1).filter(|v| v.is_finite()).fold(0.1f64, f64::max) * 1.1;
                let mut chart = Chart::lines(
                    "idealized: the mean, smoothed",
                    "epoch",
                    "cross-entropy",
                    vec![Series::new("validation loss (5-epoch average)", smooth, 0), Series::new("training loss", train, 1).dashed()],
                )
                .x_max(epochs)
                .y_range(0.0, top);
                if let Some((at, (lo, hi))) = self.onset() {
                    chart = chart.mark(at as f64, format!("onset ≈ {at}"));
                    let range = "epochs the data cannot tell apart".to_string();
                    chart = chart.band(Band { name: range, x: vec![lo as f64 - 0.5, hi as f64 + 0.5], lo: vec![0.0; 2], hi: vec![top; 2], color: 6 });
                }
                Ok(chart)
            }
            "widths" => {
                let points = self.widths();
                let x = |p: &SweepPoint| p.x.log2();
                Ok(sweep_chart("validation curve: error vs width", "hidden width (log₂: 3 = 8 units, 10 = 1024)", &points, x))
            }
            "sizes" => Ok(sweep_chart("learning curve: error vs data", "training digits (one fold's share)", &self.sizes(), |p| p.x)),
            other => crate::bail!("the overfitting cell has no chart \"{other}\" (real, idealized, widths, sizes)"),
        }
    }

    /// Every job's record, in job order, named by its role.
    pub fn histories(&self) -> Vec<(String, &crate::train::history::History)> {
        self.roles
            .iter()
            .zip(&self.records)
            .map(|(role, r)| {
                let name = match *role {
                    Role::Curve { fold } => format!("by epoch, fold {}", fold + 1),
                    Role::Width { point, fold } => format!("width {}, fold {}", self.spec.widths[point], fold + 1),
                    Role::Size { point, fold } => format!("{}% of the data, fold {}", (100.0 * self.spec.fractions[point]).round(), fold + 1),
                    Role::Reuse { point } => format!("width {} on all digits", self.spec.widths[point]),
                };
                (name, &r.history)
            })
            .collect()
    }
}

/// Training (dashed) and validation (solid) error with ±1 std bands against a sweep's x.
fn sweep_chart(title: &str, x_label: &str, points: &[SweepPoint], x: impl Fn(&SweepPoint) -> f64) -> Chart {
    let line = |f: &dyn Fn(&SweepPoint) -> Option<Spread>| points.iter().filter_map(|p| f(p).map(|s| (x(p), s))).collect::<Vec<_>>();
    let val = line(&|p| p.val_error);
    let train = line(&|p| p.train_error);
    let band = |v: &[(f64, Spread)], color| Band {
        name: String::new(),
        x: v.iter().map(|p| p.0).collect(),
        lo: v.iter().map(|p| p.1.mean - p.1.std).collect(),
        hi: v.iter().map(|p| p.1.mean + p.1.std).collect(),
        color,
    };
    let series = vec![
        Series::new("validation error (mean of folds)", val.iter().map(|p| (p.0, p.1.mean)).collect(), 0).markers(),
        Series::new("training error (on the fly)", train.iter().map(|p| (p.0, p.1.mean)).collect(), 1).dashed().markers(),
    ];
    // headroom above the highest band for the legend
    let top = val.iter().chain(&train).map(|p| p.1.mean + p.1.std).fold(0.05f64, f64::max) * 1.3;
    Chart::lines(title, x_label, "error rate", series).band(band(&val, 0)).band(band(&train, 1)).y_range(0.0, top.min(1.0))
}
