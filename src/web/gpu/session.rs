//! A training run on the GPU that the page advances a few milliseconds at a time, keeping the
//! rules of `train::Trainer`: the same batch order (the seed's "shuffle" stream, a fresh
//! permutation per epoch), the per-example loss curve, the divergence checks (a non-finite
//! loss, or a loss ten times its first value) and one validation record per epoch.
//!
//! What differs is the timing. Steps are submitted without waiting; the GPU records each
//! step's loss, and the session reads those records back (with the parameters) once its ring
//! is full or an epoch ends. Until that readback lands, `run_for` submits nothing more, which
//! also keeps the GPU queue short. So the loss curve and the step counter move in jumps of
//! up to `READBACK_EVERY` steps, and a divergence is noticed up to that many steps late.
//!
//! Validation runs on the CPU copy of the model, from the parameters (and batch-norm running
//! statistics) of the epoch-end readback. If the device is lost, the session carries on on
//! the CPU from the last parameters read back, with a fresh optimizer state and a notice.

use super::mlp::{GpuMlp, GpuTrainConfig};
use super::optim::GPU_OPTIMIZERS;
use super::GpuContext;
use crate::data::Dataset;
use crate::nn::{Mlp, Reduction};
use crate::optim::Optimizer;
use crate::train::trainer::EXPLODE_FACTOR;
use crate::train::{EpochRecord, History, Status, TrainConfig};
use crate::Rng;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

/// Steps between loss readbacks.
pub const READBACK_EVERY: usize = 32;

/// Why a configuration must run on the CPU, or `None` when the GPU path covers it.
/// (Every optimizer and the L1/L2 penalty run on the GPU now; only an unknown name is refused.)
pub fn unsupported(optimizer: &str, _cfg: &TrainConfig) -> Option<String> {
    if !GPU_OPTIMIZERS.contains(&optimizer) {
        return Some(format!("{optimizer} runs on the CPU only"));
    }
    None
}

/// What a readback brings: losses of the submitted steps, the parameters after them, the
/// batch-norm statistics and any optimizer state asked for.
struct Snapshot {
    losses: Vec<(f32, usize)>,
    params: Vec<f32>,
    stats: Vec<(usize, Vec<f32>, Vec<f32>)>,
    state: Vec<(String, Vec<f32>)>,
}

/// A submitted step: its slice of the epoch's order and whether it closes the epoch.
struct Submitted {
    start: usize,
    end: usize,
    closes_epoch: bool,
}

type Inbox = Rc<RefCell<Option<(GpuMlp, Result<Snapshot, String>)>>>;

pub struct GpuSession {
    /// The parameters as of the last readback (what validation, `parameters()` and a CPU
    /// fallback use).
    pub model: Mlp,
    ctx: Rc<GpuContext>,
    gpu: Option<GpuMlp>,
    inbox: Inbox,
    in_flight: bool,
    /// Set after a fallback: the CPU optimizer that carries on.
    cpu_optimizer: Option<Box<dyn Optimizer>>,
    optimizer: String,
    options: Value,
    train: Arc<Dataset>,
    validation: Arc<Dataset>,
    cfg: TrainConfig,
    shuffle: Rng,
    order: Vec<usize>,
    pos: usize,
    submitted: VecDeque<Submitted>,
    step: usize,
    epoch: usize,
    epoch_loss: f64,
    epoch_batches: usize,
    epoch_wrong: usize,
    epoch_seen: usize,
    first_loss: Option<f32>,
    status: Status,
    history: History,
    notice: Option<String>,
    pending_lr: Option<f32>,
    state_keys: Vec<String>,
    state: Vec<(String, Vec<f32>)>,
    x_buf: Vec<f32>,
    y_buf: Vec<u32>,
}

impl GpuSession {
    /// A session for `model` (already validated by a CPU `Trainer` on the same settings).
    pub fn new(
        ctx: Rc<GpuContext>,
        model: Mlp,
        optimizer: &str,
        options: &Value,
        train: Arc<Dataset>,
        validation: Arc<Dataset>,
        cfg: TrainConfig,
    ) -> Result<GpuSession, String> {
        if let Some(why) = unsupported(optimizer, &cfg) {
            return Err(why);
        }
        let gcfg = GpuTrainConfig {
            optimizer: optimizer.into(),
            options: options.clone(),
            reduction: cfg.reduction,
            penalty: cfg.penalty,
            max_batch: cfg.batch_size,
            readback_every: READBACK_EVERY,
        };
        let gpu = GpuMlp::new(ctx.clone(), &model, &gcfg)?;
        let mut shuffle = Rng::stream(cfg.seed, "shuffle");
        let order = shuffle.permutation(train.len());
        Ok(GpuSession {
            model,
            ctx,
            gpu: Some(gpu),
            inbox: Rc::new(RefCell::new(None)),
            in_flight: false,
            cpu_optimizer: None,
            optimizer: optimizer.into(),
            options: options.clone(),
            train,
            validation,
            cfg,
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
            status: Status::Running,
            history: History::default(),
            notice: None,
            pending_lr: None,
            state_keys: Vec::new(),
            state: Vec::new(),
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
    /// Steps whose results have been read back.
    pub fn steps(&self) -> usize {
        self.step
    }
    pub fn epoch(&self) -> usize {
        self.epoch
    }
    /// "WebGPU", or "CPU (SIMD)" after a fallback.
    pub fn backend(&self) -> &'static str {
        if self.cpu_optimizer.is_some() {
            crate::backend::Device::Cpu.label()
        } else {
            crate::backend::Device::WebGpu.label()
        }
    }
    /// A message for the student (the device was lost and the run moved to the CPU).
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Change the learning rate (applied before the next submitted step) and mark the curve.
    pub fn set_lr(&mut self, lr: f32) -> Result<(), String> {
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(format!("Invalid learning rate: {lr}"));
        }
        match (&mut self.cpu_optimizer, &mut self.gpu) {
            (Some(opt), _) => opt.set_lr(lr).map_err(|e| e.message().to_string())?,
            (None, Some(gpu)) => gpu.optimizer_mut().set_lr(lr)?,
            (None, None) => self.pending_lr = Some(lr), // a readback holds the GPU model
        }
        self.history.marks.push((self.step, format!("lr → {lr}")));
        Ok(())
    }

    /// A named optimizer state tensor as of the last readback; asking for one makes every
    /// later readback bring it too (the first call answers `None` on the GPU).
    pub fn optimizer_state(&mut self, key: &str) -> Option<Vec<f32>> {
        if let Some(opt) = &self.cpu_optimizer {
            return opt.state().into_iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_vec());
        }
        if !self.state_keys.iter().any(|k| k == key) {
            self.state_keys.push(key.into());
        }
        self.state.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    /// Advance for about `budget_ms` (or at most `max_steps` steps): take in a finished
    /// readback, then submit steps until the ring is full, an epoch ends or time is up.
    pub fn run(&mut self, budget_ms: f64, max_steps: usize) -> Result<(), String> {
        let start = js_sys::Date::now();
        let landed = self.inbox.borrow_mut().take();
        if let Some((gpu, result)) = landed {
            self.in_flight = false;
            self.gpu = Some(gpu);
            match result {
                Ok(snapshot) => self.take_in(snapshot)?,
                Err(e) => self.fall_back(&e)?,
            }
        }
        if self.in_flight || self.status != Status::Running {
            return Ok(());
        }
        if let Some(lr) = self.pending_lr.take() {
            if let Some(gpu) = &mut self.gpu {
                gpu.optimizer_mut().set_lr(lr)?;
            }
        }
        if self.cpu_optimizer.is_none() && self.ctx.is_lost() {
            let msg = self.ctx.lost_message();
            self.fall_back(&msg)?;
        }
        if self.cpu_optimizer.is_some() {
            return self.run_cpu(start, budget_ms, max_steps);
        }
        let gpu = self.gpu.as_mut().expect("on the GPU");
        let m = self.cfg.batch_size;
        for _ in 0..max_steps.max(1) {
            let end = (self.pos + m).min(self.order.len());
            self.train.gather(&self.order[self.pos..end], &mut self.x_buf, &mut self.y_buf);
            gpu.step(&self.x_buf, &self.y_buf)?;
            let remaining = self.order.len() - end;
            let closes_epoch = remaining == 0 || (self.cfg.drop_last && remaining < m);
            self.submitted.push_back(Submitted { start: self.pos, end, closes_epoch });
            self.pos = end;
            if closes_epoch || gpu.needs_readback() || js_sys::Date::now() - start >= budget_ms {
                break;
            }
        }
        if self.submitted.back().is_some_and(|s| s.closes_epoch) || self.gpu.as_ref().is_some_and(|g| g.needs_readback()) {
            self.start_readback();
        }
        Ok(())
    }

    /// Hand the GPU model to a future that reads the records (and parameters) back.
    fn start_readback(&mut self) {
        let Some(mut gpu) = self.gpu.take() else { return };
        let inbox = self.inbox.clone();
        let keys = self.state_keys.clone();
        let layers = self.model.num_layers();
        self.in_flight = true;
        wasm_bindgen_futures::spawn_local(async move {
            let result = async {
                let losses = gpu.take_losses().await?;
                let params = gpu.parameters().await?;
                let mut stats = Vec::new();
                for l in 0..layers {
                    if let Some((mean, var)) = gpu.running_stats(l).await? {
                        stats.push((l, mean, var));
                    }
                }
                let mut state = Vec::new();
                for k in keys {
                    if let Some(v) = gpu.optimizer_state(&k).await? {
                        state.push((k, v));
                    }
                }
                Ok(Snapshot { losses, params, stats, state })
            }
            .await;
            *inbox.borrow_mut() = Some((gpu, result));
        });
    }

    /// Book the read-back steps as `Trainer::step` books each one.
    fn take_in(&mut self, s: Snapshot) -> Result<(), String> {
        if s.params.iter().all(|v| v.is_finite()) {
            self.model.set_parameters(&s.params).map_err(|e| e.message().to_string())?;
            for (l, mean, var) in &s.stats {
                self.model.set_running_stats(*l, mean, var).map_err(|e| e.message().to_string())?;
            }
        }
        self.state = s.state;
        for (loss, wrong) in s.losses {
            let Some(sub) = self.submitted.pop_front() else { break };
            self.book(loss, wrong, sub.end - sub.start)?;
            if self.status != Status::Running {
                self.submitted.clear();
                return Ok(());
            }
            if sub.closes_epoch {
                self.end_epoch()?;
            }
        }
        Ok(())
    }

    /// One step's loss and misclassifications into the record, with the divergence checks.
    fn book(&mut self, loss: f32, wrong: usize, rows: usize) -> Result<(), String> {
        self.step += 1;
        if !loss.is_finite() {
            let what = if loss.is_nan() { "NaN" } else { "infinite" };
            self.status = Status::Diverged(format!("loss became {what} at step {}: lower the learning rate", self.step));
            return Ok(());
        }
        let per_example = if self.cfg.reduction == Reduction::Sum { loss / rows as f32 } else { loss };
        self.history.step_loss.push(per_example);
        let first = *self.first_loss.get_or_insert(per_example);
        if per_example > EXPLODE_FACTOR * first.max(0.01) {
            self.status = Status::Diverged(format!(
                "loss exploded to {per_example:.4} at step {} (it started at {first:.4}): lower the learning rate",
                self.step
            ));
            return Ok(());
        }
        self.epoch_loss += per_example as f64;
        self.epoch_batches += 1;
        self.epoch_wrong += wrong;
        self.epoch_seen += rows;
        Ok(())
    }

    fn end_epoch(&mut self) -> Result<(), String> {
        self.epoch += 1;
        let (val_loss, val_error) = self.model.evaluate(&self.validation.x, &self.validation.labels).map_err(|e| e.message().to_string())?;
        self.history.epochs.push(EpochRecord {
            epoch: self.epoch,
            step: self.step,
            train_loss: (self.epoch_loss / self.epoch_batches.max(1) as f64) as f32,
            train_error: self.epoch_wrong as f32 / self.epoch_seen.max(1) as f32,
            val_loss,
            val_error,
        });
        (self.epoch_loss, self.epoch_batches, self.epoch_wrong, self.epoch_seen) = (0.0, 0, 0, 0);
        self.pos = 0;
        if self.epoch >= self.cfg.epochs {
            self.status = Status::Finished;
        } else {
            self.order = self.shuffle.permutation(self.train.len());
        }
        if !val_loss.is_finite() {
            let what = if val_loss.is_nan() { "NaN" } else { "infinite" };
            self.status = Status::Diverged(format!("validation loss became {what} after epoch {}: lower the learning rate", self.epoch));
        }
        Ok(())
    }

    /// The device is gone: continue on the CPU from the last parameters read back. Steps
    /// submitted after that readback are lost with the device and are taken again.
    fn fall_back(&mut self, why: &str) -> Result<(), String> {
        if let Some(first) = self.submitted.front() {
            self.pos = first.start;
        }
        self.submitted.clear();
        self.gpu = None;
        let mut opt = crate::optim::build(&self.optimizer, &self.options).map_err(|e| e.message().to_string())?;
        if let Some(lr) = self.pending_lr.take() {
            opt.set_lr(lr).map_err(|e| e.message().to_string())?;
        }
        self.cpu_optimizer = Some(opt);
        let why = why.trim().trim_end_matches('.');
        let why = if why.is_empty() { "no reason given" } else { why };
        self.notice = Some(format!(
            "The GPU stopped working ({why}); training goes on on the CPU from step {}, with the optimizer's state started afresh.",
            self.step
        ));
        Ok(())
    }

    /// After a fallback: the CPU steps, booked exactly as on the GPU.
    fn run_cpu(&mut self, start: f64, budget_ms: f64, max_steps: usize) -> Result<(), String> {
        let m = self.cfg.batch_size;
        for _ in 0..max_steps.max(1) {
            let end = (self.pos + m).min(self.order.len());
            self.train.gather(&self.order[self.pos..end], &mut self.x_buf, &mut self.y_buf);
            let (loss, wrong) = self.model.train_batch(&self.x_buf, &self.y_buf, self.cfg.reduction, self.cfg.penalty).map_err(|e| e.message().to_string())?;
            let before = self.step;
            self.book(loss, wrong, end - self.pos)?;
            if self.status != Status::Running {
                return Ok(());
            }
            debug_assert_eq!(before + 1, self.step);
            let (params, grads) = self.model.params_and_grads();
            self.cpu_optimizer.as_mut().expect("after a fallback").step(params, grads).map_err(|e| e.message().to_string())?;
            let remaining = self.order.len() - end;
            self.pos = end;
            if remaining == 0 || (self.cfg.drop_last && remaining < m) {
                self.end_epoch()?;
                if self.status != Status::Running {
                    return Ok(());
                }
            }
            if js_sys::Date::now() - start >= budget_ms {
                break;
            }
        }
        Ok(())
    }

    /// Lose the device on purpose (for the fallback test): the browser then reports it lost.
    pub fn destroy_device(&self) {
        self.ctx.device.destroy();
    }
}
