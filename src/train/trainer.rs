//! The mini-batch training loop.
//!
//! Each epoch draws a fresh permutation of the training set from the seed's `"shuffle"`
//! stream and walks it in batches of `batch_size` (the last, smaller batch is kept unless
//! `drop_last`). Each step:
//!
//! 1. gather the batch and hand it to the [`Engine`], which runs forward and backward
//!    (gradients averaged or summed per `reduction`, plus the L1/L2 penalty) and lets the
//!    optimizer update the parameters,
//! 2. book the step's loss when the engine reports it (at once on the CPU, after a readback
//!    on the GPU), and stop with a clear message if the loss is not a finite number, or has
//!    blown up to more than [`EXPLODE_FACTOR`] times its value at the first step (with ReLU
//!    and a stable cross-entropy a far too large learning rate often never reaches NaN: the
//!    loss leaps to hundreds, the units die, and training silently stalls at chance).
//!
//! Validation is checked `checks_per_epoch` times per epoch, the last check at the epoch's
//! end: at each check step the run is held (no later step is submitted) until the engine's
//! model is synced at that step, and the validation set is evaluated on it, [`EVAL_CHUNK`]
//! examples per call of `step()`. Every check is recorded ([`Check`]); at an epoch's end the
//! epoch's record is written too. After each check an optional stopping rule
//! ([`Trainer::set_stopper`]) may end the run ([`Status::Stopped`]), and with `keep_best` the
//! parameters of the check with the lowest validation loss are kept ([`Trainer::best`]). The trainer advances one mini-batch (or one evaluation chunk) per call,
//! so the page can interleave training with drawing and no single call takes long. A call
//! that could do nothing because the engine is busy (a GPU readback) sets [`Trainer::waiting`].
//!
//! Nothing here knows which device computes: see `train::engine` for the contract.

use super::early_stopping::EarlyStopping;
use super::engine::{CpuEngine, Engine};
use super::history::{Check, EpochRecord, History};
use crate::data::Dataset;
use crate::nn::{Mlp, Penalty, Reduction};
use crate::optim::Optimizer;
use crate::{bail, ensure, Result, Rng};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;

/// Validation examples evaluated per `step()` call at the end of an epoch.
pub const EVAL_CHUNK: usize = 250;

/// A mini-batch loss this many times the first step's loss counts as divergence.
pub const EXPLODE_FACTOR: f32 = 10.0;

/// The most validation checks an epoch may have.
pub const MAX_CHECKS_PER_EPOCH: usize = 20;

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
    /// Validation checks per epoch, the last at the epoch's end (default 1; at most
    /// [`MAX_CHECKS_PER_EPOCH`], and at most one per step).
    #[serde(default = "default_checks")]
    pub checks_per_epoch: usize,
    /// Validate at the end of every n-th epoch only (and always at the last; default 1). With
    /// n > 1 an epoch is checked once, at its end; the other epochs' records have no
    /// validation numbers (NaN).
    #[serde(default = "default_checks")]
    pub validate_every: usize,
    /// Keep a copy of the parameters at the check with the lowest validation loss (default
    /// false; implied by `early_stopping`).
    #[serde(default)]
    pub keep_best: bool,
    /// At each epoch's end, also evaluate the whole training set in evaluation mode (default
    /// false): the training error of the epoch's final weights, beside the cheap one counted
    /// on the fly from the mini-batches while the weights moved.
    #[serde(default)]
    pub full_train_error: bool,
    /// A rule asked after every check whether to stop (default none).
    #[serde(default)]
    pub early_stopping: Option<EarlyStopping>,
    /// When a run that keeps its best ends (finished, or stopped by its rule), put the best
    /// checkpoint's weights and batch-norm statistics back into the model (default true; the
    /// student's Stop leaves the model as it is).
    #[serde(default = "yes")]
    pub restore_best: bool,
}

fn yes() -> bool {
    true
}

fn default_batch() -> usize {
    64
}
fn default_checks() -> usize {
    1
}
fn default_epochs() -> usize {
    3
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            batch_size: 64,
            epochs: 3,
            reduction: Reduction::Mean,
            drop_last: false,
            penalty: Penalty::default(),
            seed: 0,
            checks_per_epoch: 1,
            validate_every: 1,
            keep_best: false,
            full_train_error: false,
            early_stopping: None,
            restore_best: true,
        }
    }
}

/// Where a run stands.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Status {
    Running,
    Finished,
    /// The loss stopped being a finite number; the message says when and what to do.
    Diverged(String),
    /// Ended before its last epoch, by the student or a stopping rule; the text says why.
    Stopped(String),
}

impl Status {
    /// The word the page shows: "running", "finished", "diverged" or "stopped".
    pub fn word(&self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Finished => "finished",
            Status::Diverged(_) => "diverged",
            Status::Stopped(_) => "stopped",
        }
    }
    /// Why a run diverged or was stopped.
    pub fn message(&self) -> Option<&str> {
        match self {
            Status::Diverged(m) | Status::Stopped(m) => Some(m),
            _ => None,
        }
    }
}

/// A kept checkpoint: the check, the parameters, and each batch-norm layer's running (mean,
/// var).
struct Best {
    check: Check,
    params: Vec<f32>,
    stats: Vec<(usize, Vec<f32>, Vec<f32>)>,
}

/// A stopping rule, asked after every check with the record so far: `Some(reason)` ends the
/// run.
pub type Stopper = Box<dyn FnMut(&History) -> Option<String>>;

/// A validation pass in progress: the check's step, the next example, the summed loss and the
/// misclassified count, and whether it closes an epoch.
#[derive(Clone, Copy, Debug)]
struct Eval {
    at: usize,
    loss: f64,
    wrong: usize,
    epoch_end: bool,
    set: Set,
}

/// Which set a pass evaluates. A check is its validation pass, then (with a test set) its
/// test pass, then (at an epoch's end, with `full_train_error`) the training set's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Set {
    Validation,
    Test,
    Train,
}

/// What the last call of [`Trainer::step`] did, so a scheduler can put a price on each metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Unit {
    /// A mini-batch step (its loss and on-the-fly error come free with it).
    Step,
    /// A chunk of a validation check.
    Validation,
    /// A chunk of the full evaluation-mode pass over the training set.
    TrainPass,
    /// A chunk of a check's pass over the test set (`Trainer::set_test`).
    TestPass,
    /// Nothing: the run was waiting, held, or over.
    Idle,
}

/// A submitted step not yet booked: its slice of the epoch's order, and whether it closes the
/// epoch.
#[derive(Clone, Copy, Debug)]
struct Submitted {
    start: usize,
    end: usize,
    closes_epoch: bool,
}

/// A run in progress: the engine (model and optimizer, on some device), the data and the
/// record.
pub struct Trainer {
    engine: Box<dyn Engine>,
    train: Arc<Dataset>,
    validation: Arc<Dataset>,
    config: TrainConfig,
    shuffle: Rng,
    order: Vec<usize>,
    /// Next position in `order` to submit.
    pos: usize,
    /// Submitted and not yet booked, oldest first.
    submitted: VecDeque<Submitted>,
    /// Steps booked.
    step: usize,
    epoch: usize,
    epoch_loss: f64,
    epoch_batches: usize,
    epoch_wrong: usize,
    epoch_seen: usize,
    first_loss: Option<f32>,
    /// A validation check in progress.
    evaluating: Option<Eval>,
    /// The steps of the checks inside epochs (the epoch ends are checked anyway), ascending,
    /// and the index of the next one not yet taken.
    mid_checks: Vec<usize>,
    next_mid: usize,
    stopper: Option<Stopper>,
    /// A check's validation and test results while its later passes run.
    pending_val: Option<(f32, f32)>,
    pending_test: Option<(f32, f32)>,
    /// Evaluated at every check beside the validation set, for read-outs only: nothing the
    /// trainer decides (stopping rules, the best checkpoint) looks at it.
    test: Option<Arc<Dataset>>,
    last_unit: Unit,
    /// The check (1-based) at which the stopping rule ended the run.
    stopped_at: Option<usize>,
    /// The best check so far with the parameters and batch-norm running statistics then.
    best: Option<Best>,
    waiting: bool,
    /// Submit no step past this many (see `hold_after`).
    hold: Option<usize>,
    status: Status,
    history: History,
    y_buf: Vec<u32>,
    /// This run's share of the page's memory budget, released with the run.
    booking: Option<crate::memory::Booking>,
}

impl Trainer {
    /// A run on the CPU.
    pub fn new(model: Mlp, optimizer: Box<dyn Optimizer>, train: Arc<Dataset>, validation: Arc<Dataset>, config: TrainConfig) -> Result<Trainer> {
        Trainer::with_engine(Box::new(CpuEngine::new(model, optimizer)), train, validation, config)
    }

    /// A run on any engine (which holds the model and optimizer).
    pub fn with_engine(engine: Box<dyn Engine>, train: Arc<Dataset>, validation: Arc<Dataset>, config: TrainConfig) -> Result<Trainer> {
        let model = engine.model();
        ensure!(config.batch_size > 0, "invalid batch size: 0 (must be at least 1)");
        ensure!(config.epochs > 0, "invalid number of epochs: 0 (must be at least 1)");
        ensure!(!train.is_empty(), "the training set is empty");
        ensure!(!validation.is_empty(), "the validation set is empty");
        ensure!(config.batch_size <= train.len(), "batch size {} is larger than the training set ({} examples)", config.batch_size, train.len());
        ensure!(
            train.features == model.inputs() && validation.features == model.inputs(),
            "the network takes {} inputs but the data has {} features",
            model.inputs(),
            train.features
        );
        ensure!(train.classes <= model.classes(), "the data has {} classes but the network outputs only {}", train.classes, model.classes());
        ensure!(
            (1..=MAX_CHECKS_PER_EPOCH).contains(&config.checks_per_epoch),
            "checks per epoch {} is out of range: pick 1 to {MAX_CHECKS_PER_EPOCH}",
            config.checks_per_epoch
        );
        ensure!(config.validate_every >= 1, "validateEvery must be at least 1 (epochs), got 0");
        ensure!(
            config.validate_every == 1 || config.checks_per_epoch == 1,
            "validate every {} epochs or {} times an epoch, not both",
            config.validate_every,
            config.checks_per_epoch
        );
        config.penalty.validate()?;
        let (n, m) = (train.len(), config.batch_size);
        let spe = if config.drop_last { n / m } else { n.div_ceil(m) };
        let mid_checks = mid_epoch_checks(spe, config.epochs, config.checks_per_epoch);
        let stopper = config.early_stopping.as_ref().map(|r| r.stopper(config.checks_per_epoch)).transpose()?;
        let mut shuffle = Rng::stream(config.seed, "shuffle");
        let order = shuffle.permutation(train.len());
        Ok(Trainer {
            engine,
            train,
            validation,
            config,
            shuffle,
            order,
            pos: 0,
            submitted: VecDeque::new(),
            step: 0,
            epoch: 0,
            epoch_loss: 0.0,
            epoch_batches: 0,
            epoch_wrong: 0,
            epoch_seen: 0,
            first_loss: None,
            evaluating: None,
            mid_checks,
            next_mid: 0,
            stopper,
            stopped_at: None,
            pending_val: None,
            pending_test: None,
            test: None,
            last_unit: Unit::Idle,
            best: None,
            waiting: false,
            hold: None,
            status: Status::Running,
            history: History::default(),
            y_buf: Vec::new(),
            booking: None,
        })
    }

    /// Move a run that has not started onto another engine (e.g. the same model and optimizer
    /// settings on the GPU).
    pub fn set_engine(&mut self, engine: Box<dyn Engine>) -> Result<()> {
        ensure!(self.step == 0 && self.submitted.is_empty(), "a run can change engines only before its first step");
        self.engine = engine;
        Ok(())
    }

    pub fn engine(&self) -> &dyn Engine {
        self.engine.as_ref()
    }
    pub fn engine_mut(&mut self) -> &mut dyn Engine {
        self.engine.as_mut()
    }
    /// The model as of the last booked step the engine has synced (on the CPU: now).
    pub fn model(&self) -> &Mlp {
        self.engine.model()
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
    /// Steps taken so far (booked: their losses are in the record).
    pub fn steps(&self) -> usize {
        self.step
    }
    /// Completed epochs.
    pub fn epoch(&self) -> usize {
        self.epoch
    }
    /// Whether the last `step()` could do nothing because the engine was busy: call again
    /// later (next frame), not in a tight loop.
    pub fn waiting(&self) -> bool {
        self.waiting
    }
    /// Submit no step past step `step` until told otherwise, so that the engine's model can be
    /// synced at exactly that step (a cell that checks validation mid-epoch holds the run at
    /// each check). `None` lifts the hold.
    pub fn hold_after(&mut self, step: Option<usize>) {
        self.hold = step;
    }

    /// Work towards booking exactly `target` steps with the engine synced at that step (its
    /// model, gradients and optimizer state are then those of step `target`), holding the
    /// run there. Returns true once that holds; until then call again — in the next frame
    /// when `waiting()` (a GPU readback lands only between tasks), at once otherwise (the
    /// call may have submitted the step, or evaluated a chunk at an epoch's end). A cell that inspects every step calls this with 1, 2, 3, … — one
    /// readback per step on the GPU, so only for runs that need it.
    pub fn step_to(&mut self, target: usize) -> Result<bool> {
        self.hold_after(Some(target));
        if self.step < target && self.status == Status::Running {
            self.step()?;
        }
        if self.step != target {
            return Ok(false);
        }
        let synced = self.engine.synced_model()?.is_some();
        self.waiting = !synced;
        Ok(synced)
    }

    /// Hold `booking` (the run's memory in the page's budget) for as long as the run lives.
    pub fn hold_booking(&mut self, booking: crate::memory::Booking) {
        self.booking = Some(booking);
    }

    /// Examples the run trains on.
    pub fn train_size(&self) -> usize {
        self.train.len()
    }
    /// Examples the run validates on.
    pub fn validation_size(&self) -> usize {
        self.validation.len()
    }

    /// Mini-batches per epoch.
    pub fn steps_per_epoch(&self) -> usize {
        let (n, m) = (self.train.len(), self.config.batch_size);
        if self.config.drop_last {
            n / m
        } else {
            n.div_ceil(m)
        }
    }
    /// Steps the whole run will take.
    pub fn total_steps(&self) -> usize {
        self.steps_per_epoch() * self.config.epochs
    }

    /// Change the learning rate mid-run; the change is marked on the record.
    pub fn set_lr(&mut self, lr: f32) -> Result<()> {
        self.engine.set_lr(lr)?;
        self.history.marks.push((self.step, format!("lr → {lr}")));
        Ok(())
    }

    /// Change the optimizer's `weight_decay` mid-run (AdamW's decoupled decay, or the coupled
    /// term of SGD, RMSprop and Adam): from the next step submitted, marked on the record.
    pub fn set_weight_decay(&mut self, weight_decay: f32) -> Result<()> {
        self.engine.set_weight_decay(weight_decay)?;
        self.history.marks.push((self.step + self.submitted.len(), format!("weight_decay → {weight_decay}")));
        Ok(())
    }

    /// Change the dropout probabilities mid-run (`Mlp::set_dropout`'s `hidden` and `input`):
    /// the next step submitted draws its masks with them; marked on the record. No change,
    /// no mark.
    pub fn set_dropout(&mut self, hidden: &[f32], input: f32) -> Result<()> {
        let spec = self.engine.model().spec();
        let (old_hidden, old_input) = (spec.dropout.clone(), spec.input_dropout);
        if old_hidden == hidden && old_input == input {
            return Ok(());
        }
        self.engine.set_dropout(hidden, input)?;
        let mut what = Vec::new();
        if old_hidden != hidden {
            let p = match hidden {
                [] => "0".to_string(),
                [p] => p.to_string(),
                many => format!("{many:?}"),
            };
            what.push(format!("p → {p}"));
        }
        if old_input != input {
            what.push(format!("input p → {input}"));
        }
        self.history.marks.push((self.step + self.submitted.len(), what.join(", ")));
        Ok(())
    }

    /// Change the L1/L2 penalty mid-run (a student moving λ or switching the L1 mode while it
    /// trains): it applies from the next step submitted, and the change is marked on the
    /// record at that step.
    pub fn set_penalty(&mut self, penalty: Penalty) -> Result<()> {
        penalty.validate()?;
        let old = self.config.penalty;
        if penalty == old {
            return Ok(());
        }
        let mut what = Vec::new();
        if penalty.l1 != old.l1 {
            what.push(format!("λ₁ → {}", penalty.l1));
        }
        if penalty.l2 != old.l2 {
            what.push(format!("λ₂ → {}", penalty.l2));
        }
        if penalty.l1_mode != old.l1_mode {
            what.push(format!("L1 {}", penalty.l1_mode.name()));
        }
        self.config.penalty = penalty;
        // steps already handed to the engine (queued on a GPU) keep the old penalty
        self.history.marks.push((self.step + self.submitted.len(), what.join(", ")));
        Ok(())
    }

    /// Take one mini-batch step (and close the epoch when it ends). Returns the status after.
    pub fn step(&mut self) -> Result<&Status> {
        self.waiting = false;
        self.last_unit = Unit::Idle;
        if self.status != Status::Running {
            return Ok(&self.status);
        }
        self.book_finished()?;
        if self.status != Status::Running {
            return Ok(&self.status);
        }
        if let Some(ev) = self.evaluating {
            let Some(model) = self.engine.synced_model()? else {
                self.waiting = true;
                return Ok(&self.status);
            };
            let set = match ev.set {
                Set::Validation => &self.validation,
                Set::Test => self.test.as_ref().expect("a test pass has a test set"),
                Set::Train => &self.train,
            };
            let (n, f) = (set.len(), set.features);
            let end = (ev.at + EVAL_CHUNK).min(n);
            let (l, w) = model.evaluate_sum(&set.x[ev.at * f..end * f], &set.labels[ev.at..end])?;
            self.last_unit = match ev.set {
                Set::Validation => Unit::Validation,
                Set::Test => Unit::TestPass,
                Set::Train => Unit::TrainPass,
            };
            let ev = Eval { at: end, loss: ev.loss + l, wrong: ev.wrong + w, ..ev };
            if end < n {
                self.evaluating = Some(ev);
                return Ok(&self.status);
            }
            self.evaluating = None;
            let result = ((ev.loss / n as f64) as f32, ev.wrong as f32 / n as f32);
            let next = |set| Some(Eval { at: 0, loss: 0.0, wrong: 0, epoch_end: ev.epoch_end, set });
            match ev.set {
                Set::Validation => self.pending_val = Some(result),
                Set::Test => self.pending_test = Some(result),
                Set::Train => {}
            }
            if ev.set == Set::Validation && self.test.is_some() {
                self.evaluating = next(Set::Test);
            } else if ev.set != Set::Train && ev.epoch_end && self.config.full_train_error {
                self.evaluating = next(Set::Train);
            } else {
                let val = self.pending_val.take();
                let full = (ev.set == Set::Train).then_some(result);
                if ev.epoch_end {
                    self.end_epoch(val, full);
                } else {
                    let (val_loss, val_error) = val.expect("a check's validation pass comes first");
                    self.record_check(val_loss, val_error);
                }
            }
            return Ok(&self.status);
        }
        if self.submitted.back().is_some_and(|s| s.closes_epoch) {
            // the epoch is all submitted: have the engine finish it (a GPU reads back)
            self.engine.synced_model()?;
            self.waiting = true;
            return Ok(&self.status);
        }
        // held at the student's hold or at the next check, whichever comes first
        let hold = self.hold.into_iter().chain(self.mid_checks.get(self.next_mid).copied()).min();
        if hold.is_some_and(|h| self.step + self.submitted.len() >= h) {
            self.engine.synced_model()?; // have the engine finish up to the hold
            self.waiting = true;
            return Ok(&self.status);
        }
        if !self.engine.ready() {
            self.waiting = true;
            return Ok(&self.status);
        }
        let m = self.config.batch_size;
        let end = (self.pos + m).min(self.order.len());
        // the batch's rows are read where they lie in the training set (the CPU's packed
        // products gather them into their panels); only the labels are copied
        let x = self.train.rows(&self.order[self.pos..end], &mut self.y_buf);
        let max_loss = self.first_loss.map_or(f32::INFINITY, |f| EXPLODE_FACTOR * f.max(0.01));
        self.engine.submit(x, &self.y_buf, self.config.reduction, self.config.penalty, max_loss)?;
        self.last_unit = Unit::Step;
        let remaining = self.order.len() - end;
        let closes_epoch = remaining == 0 || (self.config.drop_last && remaining < m);
        self.submitted.push_back(Submitted { start: self.pos, end, closes_epoch });
        self.pos = end;
        self.book_finished()?;
        Ok(&self.status)
    }

    /// Book what the engine has finished, in order; rewind over steps a lost device dropped.
    fn book_finished(&mut self) -> Result<()> {
        let finished = self.engine.finished()?;
        for (loss, wrong) in finished.steps {
            let Some(sub) = self.submitted.pop_front() else { break };
            self.book(loss, wrong, sub.end - sub.start);
            if self.status != Status::Running {
                self.submitted.clear();
                return Ok(());
            }
            if sub.closes_epoch {
                let epoch = self.epoch + 1;
                let validate = epoch.is_multiple_of(self.config.validate_every) || epoch >= self.config.epochs;
                self.evaluating = if validate {
                    Some(Eval { at: 0, loss: 0.0, wrong: 0, epoch_end: true, set: Set::Validation })
                } else if self.config.full_train_error {
                    Some(Eval { at: 0, loss: 0.0, wrong: 0, epoch_end: true, set: Set::Train })
                } else {
                    None
                };
                if !validate && !self.config.full_train_error {
                    self.end_epoch(None, None);
                    if self.status != Status::Running {
                        return Ok(());
                    }
                }
            } else if self.mid_checks.get(self.next_mid) == Some(&self.step) {
                self.next_mid += 1;
                self.evaluating = Some(Eval { at: 0, loss: 0.0, wrong: 0, epoch_end: false, set: Set::Validation });
            }
        }
        if finished.lost {
            if let Some(first) = self.submitted.front() {
                self.pos = first.start;
            }
            self.submitted.clear();
        }
        Ok(())
    }

    /// One step's loss and misclassifications into the record, with the divergence checks.
    fn book(&mut self, loss: f32, wrong: usize, rows: usize) {
        self.step += 1;
        if !loss.is_finite() {
            let what = if loss.is_nan() { "NaN" } else { "infinite" };
            self.status = Status::Diverged(format!("loss became {what} at step {}: lower the learning rate", self.step));
            return;
        }
        // per-example mean for the curve, whatever the reduction
        let per_example = self.config.reduction.per_example(loss, rows);
        self.history.step_loss.push(per_example);
        let first = *self.first_loss.get_or_insert(per_example);
        if per_example > EXPLODE_FACTOR * first.max(0.01) {
            self.status = Status::Diverged(format!(
                "loss exploded to {} at step {} (it started at {}): lower the learning rate",
                readable(per_example),
                self.step,
                readable(first)
            ));
            return;
        }
        self.epoch_loss += per_example as f64;
        self.epoch_batches += 1;
        self.epoch_wrong += wrong;
        self.epoch_seen += rows;
    }

    /// Close an epoch; `val` is its validation result, if it was validated.
    fn end_epoch(&mut self, val: Option<(f32, f32)>, full: Option<(f32, f32)>) {
        let (val_loss, val_error) = val.unwrap_or((f32::NAN, f32::NAN));
        self.epoch += 1;
        self.history.epochs.push(EpochRecord {
            epoch: self.epoch,
            step: self.step,
            train_loss: (self.epoch_loss / self.epoch_batches.max(1) as f64) as f32,
            train_error: self.epoch_wrong as f32 / self.epoch_seen.max(1) as f32,
            val_loss,
            val_error,
            full_train_loss: full.map(|f| f.0),
            full_train_error: full.map(|f| f.1),
        });
        self.epoch_loss = 0.0;
        self.epoch_batches = 0;
        self.epoch_wrong = 0;
        self.epoch_seen = 0;
        self.pos = 0;
        if val.is_some() {
            self.record_check(val_loss, val_error);
        }
        if self.status != Status::Running {
            return;
        }
        if self.epoch >= self.config.epochs {
            self.status = Status::Finished;
            self.restore_best();
        } else {
            self.order = self.shuffle.permutation(self.train.len());
        }
    }

    /// A finished validation pass into the record; then the divergence check, the best
    /// checkpoint and the stopping rule.
    fn record_check(&mut self, val_loss: f32, val_error: f32) {
        let test = self.pending_test.take();
        let check = Check {
            step: self.step,
            epoch: self.step as f64 / self.steps_per_epoch() as f64,
            val_loss,
            val_error,
            test_loss: test.map(|t| t.0),
            test_error: test.map(|t| t.1),
        };
        self.history.checks.push(check);
        if !val_loss.is_finite() {
            self.status = Status::Diverged(format!(
                "validation loss became {} at step {}: lower the learning rate",
                if val_loss.is_nan() { "NaN" } else { "infinite" },
                self.step
            ));
            return;
        }
        let keep = self.config.keep_best || self.config.early_stopping.is_some();
        if keep && self.best.as_ref().is_none_or(|b| val_loss < b.check.val_loss) {
            // the check was taken on the synced model, so this is that step's
            let m = self.engine.model();
            let stats = (0..m.num_layers()).filter_map(|l| m.running_stats(l).map(|(mean, var)| (l, mean.to_vec(), var.to_vec()))).collect();
            self.best = Some(Best { check, params: m.parameters().to_vec(), stats });
        }
        if let Some(reason) = self.stopper.as_mut().and_then(|rule| rule(&self.history)) {
            self.status = Status::Stopped(reason);
            self.stopped_at = Some(self.history.checks.len());
            self.submitted.clear(); // steps queued past the check are not booked
        }
        if self.status != Status::Running {
            // record_check runs on the synced model, so it can be replaced now
            self.restore_best();
        }
    }

    /// With `restore_best`, put the best checkpoint back into the model once the run ends.
    fn restore_best(&mut self) {
        let Some(best) = self.best.as_ref().filter(|_| self.config.restore_best) else { return };
        if let Ok(Some(m)) = self.engine.synced_model() {
            // the same shapes as when it was taken, so neither call can fail
            let _ = m.set_parameters(&best.params);
            for (l, mean, var) in &best.stats {
                let _ = m.set_running_stats(*l, mean, var);
            }
        }
    }

    /// End the run now (the student's Stop, or a rule outside the trainer); a run that has
    /// already ended keeps its status. Steps in flight on a device are not booked.
    pub fn stop(&mut self, reason: &str) {
        if self.status == Status::Running {
            self.status = Status::Stopped(reason.to_string());
            self.submitted.clear();
            self.evaluating = None;
        }
    }

    /// Evaluate `test` too at every check (`Check::test_error`), for read-outs such as "the
    /// test error of the restored best"; stopping rules and the best checkpoint never see it.
    pub fn set_test(&mut self, test: Arc<Dataset>) -> Result<()> {
        ensure!(test.features == self.model().inputs(), "the test set has {} features, the network takes {}", test.features, self.model().inputs());
        ensure!(!test.is_empty(), "the test set is empty");
        ensure!(self.step == 0, "a run's test set is set before its first step");
        self.test = Some(test);
        Ok(())
    }

    /// Ask `rule` after every validation check whether to stop (early stopping).
    pub fn set_stopper(&mut self, rule: Stopper) {
        self.stopper = Some(rule);
    }

    /// With `keep_best`: the check with the lowest validation loss so far and the parameters
    /// the model had then.
    pub fn best(&self) -> Option<(&Check, &[f32])> {
        self.best.as_ref().map(|b| (&b.check, b.params.as_slice()))
    }

    /// The check (1-based) at which a stopping rule ended the run.
    pub fn stopped_at(&self) -> Option<usize> {
        self.stopped_at
    }

    /// The best checkpoint's check number (1-based), with `keep_best` or early stopping.
    pub fn best_check(&self) -> Option<usize> {
        let best = self.best.as_ref()?;
        self.history.checks.iter().position(|c| c.step == best.check.step).map(|i| i + 1)
    }

    /// Whether the next step to book closes an epoch, so that booking it starts the epoch's
    /// validation pass (a scheduler takes at most one of those per frame).
    pub fn next_step_ends_epoch(&self) -> bool {
        self.evaluating.is_none() && (self.step + 1).is_multiple_of(self.steps_per_epoch())
    }

    /// What the last `step()` did.
    pub fn last_unit(&self) -> Unit {
        self.last_unit
    }

    /// Whether a validation check is under way.
    pub fn checking(&self) -> bool {
        self.evaluating.is_some()
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

/// The steps after which validation is checked inside epochs: `per_epoch` checks spread
/// evenly over each epoch of `spe` steps, the last of each at its end (which is left out here:
/// the epoch's end is always checked). At most one check per step.
pub fn mid_epoch_checks(spe: usize, epochs: usize, per_epoch: usize) -> Vec<usize> {
    let k = per_epoch.min(spe).max(1);
    let mut out = Vec::new();
    for e in 0..epochs {
        for j in 1..k {
            let s = e * spe + (j * spe + k / 2) / k;
            if out.last() != Some(&s) && !s.is_multiple_of(spe) {
                out.push(s);
            }
        }
    }
    out
}
