//! The mini-batch training loop.
//!
//! Each epoch draws a fresh permutation of the training set from the seed's `"shuffle"`
//! stream and walks it in batches of `batch_size` (the last, smaller batch is kept unless
//! `drop_last`). Each step:
//!
//! 1. gather the batch, run forward and backward (gradients averaged or summed per
//!    `reduction`, plus the L1/L2 penalty),
//! 2. stop with a clear message if the loss is not a finite number, or has blown up to more
//!    than [`EXPLODE_FACTOR`] times its value at the first step (with ReLU and a stable
//!    cross-entropy a far too large learning rate often never reaches NaN: the loss leaps to
//!    hundreds, the units die, and training silently stalls at chance),
//! 3. let the optimizer update the parameters.
//!
//! At the end of an epoch the validation set is evaluated, [`EVAL_CHUNK`] examples per call
//! of `step()`, and the epoch's record is written when the last chunk is done. The trainer
//! advances one mini-batch (or one evaluation chunk) per call, so the page can interleave
//! training with drawing and no single call takes long.

use super::metrics::{EpochRecord, History};
use crate::data::Dataset;
use crate::nn::{Mlp, Penalty, Reduction};
use crate::optim::Optimizer;
use crate::{bail, ensure, Result, Rng};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Validation examples evaluated per `step()` call at the end of an epoch.
pub const EVAL_CHUNK: usize = 250;

/// A mini-batch loss this many times the first step's loss counts as divergence.
pub const EXPLODE_FACTOR: f32 = 10.0;

/// A loss for a message: 4 decimals when moderate, scientific notation when huge or tiny.
fn readable(v: f32) -> String {
    if v != 0.0 && !(1e-3..1e5).contains(&v.abs()) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// How to train.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Mini-batch size m (default 64).
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Number of passes over the training set (default 3).
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// Average (`mean`, default) or add (`sum`) the per-example losses.
    #[serde(default)]
    pub reduction: Reduction,
    /// Drop the last, smaller batch of an epoch (default false).
    #[serde(default)]
    pub drop_last: bool,
    /// L1/L2 penalty on weights (default none).
    #[serde(default)]
    pub penalty: Penalty,
    /// Seed of the batch order (default 0).
    #[serde(default)]
    pub seed: u64,
}

fn default_batch() -> usize {
    64
}
fn default_epochs() -> usize {
    3
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig { batch_size: 64, epochs: 3, reduction: Reduction::Mean, drop_last: false, penalty: Penalty::default(), seed: 0 }
    }
}

/// Where a run stands.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Status {
    Running,
    Finished,
    /// The loss stopped being a finite number; the message says when and what to do.
    Diverged(String),
}

/// A run in progress: the model, its optimizer, the data and the record.
pub struct Trainer {
    pub model: Mlp,
    pub optimizer: Box<dyn Optimizer>,
    train: Arc<Dataset>,
    validation: Arc<Dataset>,
    config: TrainConfig,
    shuffle: Rng,
    order: Vec<usize>,
    pos: usize,
    step: usize,
    epoch: usize,
    epoch_loss: f64,
    epoch_batches: usize,
    epoch_wrong: usize,
    epoch_seen: usize,
    first_loss: Option<f32>,
    /// End-of-epoch evaluation in progress: (next example, summed loss, misclassified).
    evaluating: Option<(usize, f64, usize)>,
    status: Status,
    history: History,
    x_buf: Vec<f32>,
    y_buf: Vec<u32>,
}

impl Trainer {
    pub fn new(model: Mlp, optimizer: Box<dyn Optimizer>, train: Arc<Dataset>, validation: Arc<Dataset>, config: TrainConfig) -> Result<Trainer> {
        ensure!(config.batch_size > 0, "invalid batch size: 0 (must be at least 1)");
        ensure!(config.epochs > 0, "invalid number of epochs: 0 (must be at least 1)");
        ensure!(!train.is_empty(), "the training set is empty");
        ensure!(!validation.is_empty(), "the validation set is empty");
        ensure!(
            config.batch_size <= train.len(),
            "batch size {} is larger than the training set ({} examples)",
            config.batch_size,
            train.len()
        );
        ensure!(
            train.features == model.inputs() && validation.features == model.inputs(),
            "the network takes {} inputs but the data has {} features",
            model.inputs(),
            train.features
        );
        ensure!(
            train.classes <= model.classes(),
            "the data has {} classes but the network outputs only {}",
            train.classes,
            model.classes()
        );
        config.penalty.validate()?;
        let mut shuffle = Rng::stream(config.seed, "shuffle");
        let order = shuffle.permutation(train.len());
        Ok(Trainer {
            model,
            optimizer,
            train,
            validation,
            config,
            shuffle,
            order,
            pos: 0,
            step: 0,
            epoch: 0,
            epoch_loss: 0.0,
            epoch_batches: 0,
            epoch_wrong: 0,
            epoch_seen: 0,
            first_loss: None,
            evaluating: None,
            status: Status::Running,
            history: History::default(),
            x_buf: Vec::new(),
            y_buf: Vec::new(),
        })
    }

    pub fn status(&self) -> &Status {
        &self.status
    }
    pub fn history(&self) -> &History {
        &self.history
    }
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }
    /// Steps taken so far.
    pub fn steps(&self) -> usize {
        self.step
    }
    /// Completed epochs.
    pub fn epoch(&self) -> usize {
        self.epoch
    }
    /// Mini-batches per epoch.
    pub fn steps_per_epoch(&self) -> usize {
        let (n, m) = (self.train.len(), self.config.batch_size);
        if self.config.drop_last { n / m } else { n.div_ceil(m) }
    }
    /// Steps the whole run will take.
    pub fn total_steps(&self) -> usize {
        self.steps_per_epoch() * self.config.epochs
    }

    /// Change the learning rate mid-run; the change is marked on the record.
    pub fn set_lr(&mut self, lr: f32) -> Result<()> {
        self.optimizer.set_lr(lr)?;
        self.history.marks.push((self.step, format!("lr → {lr}")));
        Ok(())
    }

    /// Take one mini-batch step (and close the epoch when it ends). Returns the status after.
    pub fn step(&mut self) -> Result<&Status> {
        if self.status != Status::Running {
            return Ok(&self.status);
        }
        if let Some((at, loss, wrong)) = self.evaluating {
            let (n, f) = (self.validation.len(), self.validation.features);
            let end = (at + EVAL_CHUNK).min(n);
            let (l, w) = self.model.evaluate_sum(&self.validation.x[at * f..end * f], &self.validation.labels[at..end])?;
            let (loss, wrong) = (loss + l, wrong + w);
            if end < n {
                self.evaluating = Some((end, loss, wrong));
            } else {
                self.evaluating = None;
                self.end_epoch((loss / n as f64) as f32, wrong as f32 / n as f32);
            }
            return Ok(&self.status);
        }
        let m = self.config.batch_size;
        let end = (self.pos + m).min(self.order.len());
        let batch = &self.order[self.pos..end];
        self.train.gather(batch, &mut self.x_buf, &mut self.y_buf);
        let (loss, wrong) = self.model.train_batch(&self.x_buf, &self.y_buf, self.config.reduction, self.config.penalty)?;
        self.step += 1;
        if !loss.is_finite() {
            let what = if loss.is_nan() { "NaN" } else { "infinite" };
            let msg = format!("loss became {what} at step {}: lower the learning rate", self.step);
            self.status = Status::Diverged(msg.clone());
            return Ok(&self.status);
        }
        // per-example mean for the curve, whatever the reduction
        let per_example = if self.config.reduction == Reduction::Sum { loss / (end - self.pos) as f32 } else { loss };
        self.history.step_loss.push(per_example);
        let first = *self.first_loss.get_or_insert(per_example);
        if per_example > EXPLODE_FACTOR * first.max(0.01) {
            self.status = Status::Diverged(format!(
                "loss exploded to {} at step {} (it started at {}): lower the learning rate",
                readable(per_example),
                self.step,
                readable(first)
            ));
            return Ok(&self.status);
        }
        {
            let (params, grads) = self.model.params_and_grads();
            self.optimizer.step(params, grads)?;
        }
        self.epoch_loss += per_example as f64;
        self.epoch_batches += 1;
        self.epoch_wrong += wrong;
        self.epoch_seen += end - self.pos;
        self.pos = end;
        let remaining = self.order.len() - self.pos;
        if remaining == 0 || (self.config.drop_last && remaining < m) {
            self.evaluating = Some((0, 0.0, 0));
        }
        Ok(&self.status)
    }

    fn end_epoch(&mut self, val_loss: f32, val_error: f32) {
        self.epoch += 1;
        self.history.epochs.push(EpochRecord {
            epoch: self.epoch,
            step: self.step,
            train_loss: (self.epoch_loss / self.epoch_batches.max(1) as f64) as f32,
            train_error: self.epoch_wrong as f32 / self.epoch_seen.max(1) as f32,
            val_loss,
            val_error,
        });
        self.epoch_loss = 0.0;
        self.epoch_batches = 0;
        self.epoch_wrong = 0;
        self.epoch_seen = 0;
        self.pos = 0;
        if self.epoch >= self.config.epochs {
            self.status = Status::Finished;
        } else {
            self.order = self.shuffle.permutation(self.train.len());
        }
        if !val_loss.is_finite() {
            self.status = Status::Diverged(format!(
                "validation loss became {} after epoch {}: lower the learning rate",
                if val_loss.is_nan() { "NaN" } else { "infinite" },
                self.epoch
            ));
        }
    }

    /// Run to the end (native use and tests). Returns an error if the run diverged.
    pub fn run(&mut self) -> Result<&History> {
        while *self.step()? == Status::Running {}
        if let Status::Diverged(msg) = &self.status {
            bail!("{msg}");
        }
        Ok(&self.history)
    }
}
