//! The "Cross-validation" cell: one network trained k times, once per fold, through the worker
//! pool, and the same network on repeated 80/20 holdouts, so the student sees what an estimate
//! of the error on unseen data is made of and how much it moves.
//!
//! On the first `n` training digits, [`Folds`] (plain or stratified, from the seed) deal the
//! examples into k folds; round i trains on the other folds and validates on fold i. The
//! cross-validated estimate is the mean of the k final validation errors, given with their
//! standard deviation (the spread a single holdout could land anywhere in). Beside it, `holdouts`
//! runs of the plain 80/20 holdout, each on its own seeded split ([`repeated_holdout`]): each one
//! is an estimate on its own, one training apiece, and their scatter is the noise a single
//! holdout carries.
//!
//! With an early-stopping rule in the run (`run.earlyStopping`), each fold stops at its own
//! best epoch and is restored to it. When every fold has ended, the folds' best epochs give the
//! two usual ways to a final model, both scored once on the test set: retrain one network on
//! all `n` digits for the mean best epoch (a last job), or keep the k fold models and average
//! their predicted probabilities (an ensemble, computed here from their parameters).
//!
//! The experiment does not train: it hands out [`Job`]s ([`CrossVal::jobs`]) and reads back
//! what the pool reports ([`CrossVal::absorb`], [`CrossVal::finish`]), so the same code serves
//! workers and the page thread. Every fold trains from the same seed (the same initial weights
//! and the same batch-order stream); only its data differs.

use super::job::{Examples, Job, SetName, Update};
use super::pooled::{self, Record};
pub use super::pooled::{Ending, Spread};
use super::run::RunSpec;
use super::Progress;
use crate::data::{folds::Folds, split::repeated_holdout, Dataset};
use crate::plot::{Band, Chart, Series, Strip};
use crate::train::history::History;
use crate::{ensure, Result};
use serde::{Deserialize, Serialize};

/// The most folds the cell offers.
pub const MAX_FOLDS: usize = 10;
/// The most holdout repeats.
pub const MAX_HOLDOUTS: usize = 20;

/// What to cross-validate.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CrossValSpec {
    /// The network and its training (its `trainSubset` is not used: `n` says which digits).
    pub run: RunSpec,
    /// Cross-validate on the first `n` training digits.
    pub n: usize,
    /// Folds (2 to 10).
    pub k: usize,
    /// Keep every class's share equal across folds.
    #[serde(default)]
    pub stratified: bool,
    /// 80/20 holdouts to run beside the folds, each on its own split (0 to 20).
    #[serde(default)]
    pub holdouts: usize,
    /// When the folds have ended: retrain on all `n` digits for their mean best epoch, and
    /// average the fold models' predictions, both scored on the test set (default true).
    #[serde(default = "yes")]
    pub finals: bool,
}

fn yes() -> bool {
    true
}

/// The two final models, scored on the test set.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finals {
    /// The epochs the retrained network trains for: the folds' mean best epoch, rounded.
    pub retrain_epochs: usize,
    /// Its test error, once it has trained.
    pub retrain_test_error: Option<f32>,
    pub retrain_status: String,
    /// The test error of the k fold models' averaged probabilities.
    pub ensemble_test_error: Option<f32>,
    /// Each fold model's own test error.
    pub fold_test_errors: Vec<f32>,
}

/// One fold's or holdout's line in the read-out.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRow {
    pub name: String,
    pub status: String,
    pub message: Option<String>,
    pub train_size: usize,
    pub validation_size: usize,
    pub epochs_done: usize,
    /// The validation error of the model it kept (its restored best, with early stopping;
    /// else its last epoch's) and its last epoch's training error.
    pub val_error: Option<f32>,
    pub train_error: Option<f32>,
    /// The epoch of the lowest validation error, and that error.
    pub best_epoch: Option<usize>,
    pub best_val_error: Option<f32>,
    /// The epoch at which its early-stopping rule ended it.
    pub stopped_epoch: Option<usize>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossValReport {
    pub status: &'static str,
    pub progress: Progress,
    pub k: usize,
    pub n: usize,
    pub epochs: usize,
    pub folds: Vec<RunRow>,
    pub holdouts: Vec<RunRow>,
    /// The k-fold estimate: the folds' final validation errors (finished folds only).
    pub estimate: Option<Spread>,
    /// The holdout estimates' spread (each holdout is one estimate).
    pub holdout_spread: Option<Spread>,
    /// Jobs ended (any ending) and finished (trained to their last epoch or their rule's
    /// stop), of jobs in all.
    pub ended: usize,
    pub finished: usize,
    pub jobs: usize,
    /// Per class, the largest difference of its count between two folds.
    pub class_imbalance: usize,
    pub fold_sizes: Vec<usize>,
    /// Milliseconds of training summed over the jobs that reported it.
    pub compute_ms: f64,
    /// The folds' best epochs' spread (with early stopping, where each fold stopped best).
    pub best_epochs: Option<Spread>,
    pub finals: Option<Finals>,
    /// The retrained network's row, with the final models.
    pub retrain: Option<RunRow>,
}

pub struct CrossVal {
    spec: CrossValSpec,
    test: std::sync::Arc<Dataset>,
    /// Jobs handed out so far (the retrain comes when the folds have ended).
    handed: usize,
    folds: Folds,
    holdouts: Vec<(Vec<usize>, Vec<usize>)>,
    /// The n digits' labels, for the fold strips.
    labels: Vec<u8>,
    classes: usize,
    records: Vec<Record>,
    compute_ms: f64,
    /// The fold models' ensemble's test error, once every fold has ended (None inside: not
    /// every fold kept a model).
    ensemble: Option<Option<f32>>,
    /// Stopped by the student: no more jobs.
    stopped: bool,
}

impl CrossVal {
    /// Deal the first `spec.n` examples of `train` into folds and holdouts; `test` scores the
    /// final models.
    pub fn new(train: &Dataset, test: std::sync::Arc<Dataset>, spec: CrossValSpec) -> Result<CrossVal> {
        ensure!((2..=MAX_FOLDS).contains(&spec.k), "k = {} folds: use 2 to {MAX_FOLDS}", spec.k);
        ensure!(spec.holdouts <= MAX_HOLDOUTS, "{} holdouts is too many: use 0 to {MAX_HOLDOUTS}", spec.holdouts);
        ensure!(spec.n <= train.len(), "{} digits: the training set has {}", spec.n, train.len());
        ensure!(spec.n >= 5 * spec.k, "{} digits are too few for {} folds: use at least {}", spec.n, spec.k, 5 * spec.k);
        spec.run.check_shape(train.features, train.classes)?;
        spec.run.train_config()?;
        let labels = train.labels[..spec.n].to_vec();
        let seed = spec.run.seed;
        let folds = if spec.stratified { Folds::stratified(&labels, spec.k, seed)? } else { Folds::plain(spec.n, spec.k, seed)? };
        let holdouts = if spec.holdouts > 0 { repeated_holdout(spec.n, spec.holdouts, seed)? } else { Vec::new() };
        let jobs = spec.k + holdouts.len() + usize::from(spec.finals);
        Ok(CrossVal {
            classes: train.classes,
            labels,
            folds,
            holdouts,
            records: vec![Record::default(); jobs],
            spec,
            compute_ms: 0.0,
            test,
            handed: 0,
            ensemble: None,
            stopped: false,
        })
    }

    pub fn spec(&self) -> &CrossValSpec {
        &self.spec
    }

    /// The jobs ready to hand out that were not handed out yet: at first the folds (fold i
    /// validates on fold i) and the holdouts; once the folds have ended, the retrain. Job
    /// numbers count on across calls.
    pub fn jobs(&mut self) -> Vec<Job> {
        let run = RunSpec { train_subset: None, ..self.spec.run.clone() };
        let pick = |idx: &[usize], from: SetName| Examples { from: Some(from), indices: Some(idx.iter().map(|&i| i as u32).collect()) };
        let k = self.spec.k;
        let job = |(train, val): (Vec<usize>, Vec<usize>), keep: bool| Job {
            spec: run.clone(),
            train: pick(&train, SetName::Train),
            validation: pick(&val, SetName::Train),
            label_map: None,
            test: keep,
            keep_parameters: keep,
        };
        let mut out = Vec::new();
        if self.stopped {
            return out;
        }
        if self.handed == 0 {
            let finals = self.spec.finals;
            out.extend(self.folds.rounds().into_iter().map(|f| job(f, finals)));
            out.extend(self.holdouts.iter().cloned().map(|h| job(h, false)));
            self.handed = out.len();
        }
        let retrain = self.spec.k + self.holdouts.len();
        if self.spec.finals && self.handed == retrain && self.records[..k].iter().all(|r| r.status.is_some()) {
            self.handed += 1;
            if let Some(epochs) = self.retrain_epochs() {
                // all n digits, the run's own validation set to watch it (no rule: it trains the epochs)
                let spec = RunSpec { epochs, early_stopping: None, keep_best: false, ..run.clone() };
                let all: Vec<u32> = (0..self.spec.n as u32).collect();
                out.push(Job {
                    spec,
                    train: Examples { from: Some(SetName::Train), indices: Some(all) },
                    validation: Examples::default(),
                    label_map: None,
                    test: true,
                    keep_parameters: false,
                });
            } else {
                let r = &mut self.records[retrain];
                r.status = Some("cancelled".into());
                r.message = Some("no fold finished, so there is no best epoch to retrain for".into());
            }
        }
        out
    }

    /// The folds' best epochs (where each fold's validation error was lowest, or the rule's
    /// restored best), of the folds that finished or were stopped by their rule.
    fn best_epochs(&self) -> Vec<f64> {
        self.records[..self.spec.k]
            .iter()
            .filter(|r| r.status.as_deref() == Some("finished") || r.ending.stopped_at.is_some())
            .filter_map(|r| r.ending.best_check.map(|c| c as f64).or_else(|| r.history.best_val_error().map(|b| b.0 as f64)))
            .collect()
    }

    fn retrain_epochs(&self) -> Option<usize> {
        Spread::of(&self.best_epochs()).map(|s| (s.mean.round() as usize).max(1))
    }

    /// The k fold models' averaged probabilities on the test set: its error.
    fn ensemble_error(&self) -> Result<Option<f32>> {
        let models: Vec<&Vec<f32>> = self.records[..self.spec.k].iter().filter_map(|r| r.parameters.as_ref()).collect();
        if models.len() < self.spec.k {
            return Ok(None);
        }
        let test = &self.test;
        let mut mean = vec![0f32; test.len() * test.classes];
        for p in &models {
            let mut model = self.spec.run.model(test.features, test.classes)?;
            model.set_parameters(p)?;
            let logits = model.forward(&test.x, test.len(), false)?;
            for (m, q) in mean.iter_mut().zip(crate::nn::loss::softmax(&logits, test.classes)) {
                *m += q / models.len() as f32;
            }
        }
        let predicted = crate::nn::loss::argmax_rows(&mean, test.classes);
        let wrong = predicted.iter().zip(&test.labels).filter(|(&p, &l)| p != l as usize).count();
        Ok(Some(wrong as f32 / test.len() as f32))
    }

    /// Job `i` recorded `update`.
    pub fn absorb(&mut self, i: usize, update: Update) -> Result<()> {
        pooled::record(&mut self.records, i)?.absorb(update);
        Ok(())
    }

    /// Job `i` ended (`ending.status`: "finished", "diverged", "stopped", "cancelled",
    /// "error"), with its trained parameters when it kept them.
    pub fn finish(&mut self, i: usize, ending: Ending, parameters: Option<Vec<f32>>) -> Result<()> {
        self.compute_ms += ending.compute_ms;
        pooled::record(&mut self.records, i)?.finish(ending, parameters);
        if i < self.spec.k && self.records[..self.spec.k].iter().all(|r| r.status.is_some()) {
            self.score_ensemble()?;
        }
        Ok(())
    }

    fn score_ensemble(&mut self) -> Result<()> {
        if self.spec.finals && self.ensemble.is_none() {
            self.ensemble = Some(self.ensemble_error()?);
        }
        Ok(())
    }

    /// The student pressed Stop: every job still out counts as stopped (when it had begun) or
    /// cancelled (when it had not).
    pub fn stop(&mut self) {
        self.stopped = true;
        self.records.iter_mut().for_each(Record::stop);
    }

    /// The pool does the work: true while some job has not ended.
    pub fn run_for(&mut self, _budget_ms: f64, _clock: &dyn super::Clock) -> Result<bool> {
        Ok(self.active())
    }

    /// Whether some job has not ended.
    pub fn active(&self) -> bool {
        self.records.iter().any(|r| r.status.is_none())
    }

    fn row(&self, i: usize) -> RunRow {
        let r = &self.records[i];
        let k = self.spec.k;
        let h = self.holdouts.len();
        let (name, train, val) = if i < k {
            let (t, v) = self.folds.fold(i);
            (format!("fold {}", i + 1), t.len(), v.len())
        } else if i < k + h {
            (format!("holdout {}", i - k + 1), self.holdouts[i - k].0.len(), self.holdouts[i - k].1.len())
        } else {
            ("retrain on all".to_string(), self.spec.n, r.ending.validation_size)
        };
        let last = r.history.epochs.last();
        let best = match r.ending.best_check {
            Some(c) => r.history.epochs.get(c - 1).map(|e| (c, e.val_error)),
            None => r.history.best_val_error(),
        };
        RunRow {
            name,
            status: r.word(),
            message: r.message.clone(),
            train_size: train,
            validation_size: val,
            epochs_done: r.history.epochs.len(),
            val_error: r.kept_error(),
            train_error: last.map(|e| e.train_error),
            best_epoch: best.map(|b| b.0),
            best_val_error: best.map(|b| b.1),
            stopped_epoch: r.ending.stopped_at,
        }
    }

    /// The kept models' validation errors of the jobs in `range` that trained.
    fn finals(&self, range: std::ops::Range<usize>) -> Vec<f64> {
        self.records[range].iter().filter(|r| r.trained()).filter_map(Record::kept_error).map(f64::from).filter(|v| v.is_finite()).collect()
    }

    /// Each fold's count of each class.
    pub fn class_counts(&self) -> Vec<Vec<usize>> {
        let mut counts = vec![vec![0; self.classes]; self.spec.k];
        for (&fold, &label) in self.folds.assignment().iter().zip(&self.labels) {
            counts[fold as usize][label as usize] += 1;
        }
        counts
    }

    pub fn report(&self) -> CrossValReport {
        let k = self.spec.k;
        let jobs = self.records.len();
        let h = self.holdouts.len();
        let ended = self.records.iter().filter(|r| r.status.is_some()).count();
        let counts = self.class_counts();
        let class_imbalance = (0..self.classes)
            .map(|c| {
                let col = counts.iter().map(|f| f[c]);
                col.clone().max().unwrap_or(0) - col.min().unwrap_or(0)
            })
            .max()
            .unwrap_or(0);
        CrossValReport {
            status: pooled::status(&self.records),
            progress: pooled::progress(&self.records),
            k,
            n: self.spec.n,
            epochs: self.spec.run.epochs,
            folds: (0..k).map(|i| self.row(i)).collect(),
            holdouts: (k..k + h).map(|i| self.row(i)).collect(),
            estimate: Spread::of(&self.finals(0..k)),
            holdout_spread: Spread::of(&self.finals(k..k + h)),
            ended,
            finished: self.records.iter().filter(|r| r.trained()).count(),
            jobs,
            class_imbalance,
            fold_sizes: self.folds.sizes(),
            compute_ms: self.compute_ms,
            best_epochs: Spread::of(&self.best_epochs()),
            finals: self.final_models(),
            retrain: self.retrain_row(),
        }
    }

    fn final_models(&self) -> Option<Finals> {
        if !self.spec.finals {
            return None;
        }
        let retrain = &self.records[self.spec.k + self.holdouts.len()];
        Some(Finals {
            retrain_epochs: self.retrain_epochs().unwrap_or(0),
            retrain_test_error: retrain.ending.test.map(|t| t.error),
            retrain_status: retrain
                .status
                .clone()
                .unwrap_or_else(|| if self.handed > self.spec.k + self.holdouts.len() { "running" } else { "waiting for the folds" }.into()),
            ensemble_test_error: self.ensemble.flatten(),
            fold_test_errors: self.records[..self.spec.k].iter().filter_map(|r| r.ending.test.map(|t| t.error)).collect(),
        })
    }

    /// The retrain row (when the spec asks for the final models).
    pub fn retrain_row(&self) -> Option<RunRow> {
        self.spec.finals.then(|| self.row(self.spec.k + self.holdouts.len()))
    }

    /// "curves": every fold's validation (solid) and training (dashed) error by epoch, faint,
    /// their means bold with a ±1 standard deviation band. "estimates": the k-fold estimate
    /// and each holdout's on one error axis. "folds": what each fold holds, class by class.
    pub fn chart(&self, name: &str) -> Result<Chart> {
        let k = self.spec.k;
        match name {
            "curves" => {
                let mut series = Vec::new();
                for r in &self.records[..k] {
                    let val = r.history.epochs.iter().map(|e| (e.epoch as f64, e.val_error as f64)).collect();
                    let train = r.history.epochs.iter().map(|e| (e.epoch as f64, e.train_error as f64)).collect();
                    series.push(Series::new("", val, 0).faint());
                    series.push(Series::new("", train, 1).faint().dashed());
                }
                let (val_mean, mut val_band) = pooled::fold_band(&self.records[..k], self.spec.run.epochs, |e| e.val_error);
                let (train_mean, mut train_band) = pooled::fold_band(&self.records[..k], self.spec.run.epochs, |e| e.train_error);
                series.push(Series::new(format!("validation, mean of {k} folds"), val_mean, 0).markers());
                series.push(Series::new("training (on the fly), mean", train_mean, 1).dashed());
                val_band.name = "±1 std over folds".into();
                train_band.color = 1;
                let chart = Chart::lines(format!("{k}-fold cross-validation: error per epoch"), "epoch", "error rate", series)
                    .x_max(self.spec.run.epochs as f64)
                    .band(val_band)
                    .band(train_band);
                Ok(chart)
            }
            "estimates" => {
                let report = self.report();
                let mut series = Vec::new();
                let folds = self.finals(0..k);
                series.push(Series::new("each fold", folds.iter().map(|&v| (v, 2.0)).collect(), 6).dots());
                let holdouts = self.finals(k..k + self.holdouts.len());
                series.push(Series::new("each 80/20 holdout (one estimate each)", holdouts.iter().map(|&v| (v, 1.0)).collect(), 1).dots());
                let widest = folds.iter().chain(&holdouts).fold(0.05f64, |m, &v| m.max(v));
                let mut chart = Chart::lines("estimates of the validation error", "validation error", "row: 1 = holdouts, 2 = k-fold", series)
                    .y_range(0.5, 2.6)
                    .x_max((1.4 * widest).min(1.0));
                if let Some(s) = report.estimate {
                    chart = chart.band(Band {
                        name: format!("{k}-fold: {:.1}% ± {:.1}%", 100.0 * s.mean, 100.0 * s.std),
                        x: vec![s.mean - s.std, s.mean + s.std],
                        lo: vec![1.75; 2],
                        hi: vec![2.25; 2],
                        color: 0,
                    });
                }
                if let Some(s) = report.holdout_spread {
                    chart = chart.band(Band {
                        name: "holdouts' mean ± 1 std".into(),
                        x: vec![s.mean - s.std, s.mean + s.std],
                        lo: vec![0.75; 2],
                        hi: vec![1.25; 2],
                        color: 1,
                    });
                }
                Ok(chart)
            }
            "folds" => {
                let assignment = self.folds.assignment();
                let strips = self
                    .class_counts()
                    .into_iter()
                    .enumerate()
                    .map(|(i, counts)| {
                        let members = assignment.iter().zip(&self.labels).map(|(&f, &l)| (f as usize == i).then_some(l)).collect();
                        Strip { label: format!("fold {}", i + 1), counts, members }
                    })
                    .collect();
                Ok(Chart::strips(
                    format!("what each fold holds out, by class ({})", if self.spec.stratified { "stratified" } else { "plain" }),
                    strips,
                ))
            }
            other => crate::bail!("the cross-validation cell has no chart \"{other}\" (curves, estimates, folds)"),
        }
    }

    /// Every job's name and record: folds, holdouts, then the retrain.
    pub fn histories(&self) -> Vec<(String, &History)> {
        (0..self.records.len()).map(|i| (self.row(i).name, &self.records[i].history)).collect()
    }
}
