//! The WebGPU [`Engine`]: steps queued on the GPU, their losses learnt later.
//!
//! `submit` records one step (forward, loss, backward, penalty, update) in one command buffer
//! and submits it without waiting; the GPU writes each step's loss and misclassification count
//! into a ring. When the ring is full, or the trainer asks for a synced model (an epoch's end),
//! the engine hands its `GpuMlp` to a future that reads back the ring, the parameters, the
//! batch-norm running statistics and the optimizer state (and the gradients, once asked for)
//! in one copy and one mapAsync (`GpuMlp::snapshot`); until that lands `ready()` is false,
//! which also keeps the GPU queue short. So the trainer books steps in jumps of up to
//! `READBACK_EVERY`, and learns of a divergence up to that many steps late.
//!
//! The CPU copy of the model (`model()`) holds the parameters of the last readback; the
//! trainer evaluates the validation set on it. If the device is lost, the engine carries on as
//! a [`CpuEngine`] from that readback — its parameters, running statistics, dropout step, and
//! the optimizer state and step count read back with them — and reports the steps submitted since as lost,
//! so the trainer takes them again. The student sees a notice; nothing is lost.

use super::mlp::{GpuMlp, GpuTrainConfig, Snapshot};
use super::GpuContext;
use crate::backend::Rows;
use crate::nn::{Mlp, Penalty, Reduction};
use crate::train::{CpuEngine, Engine, Finished, TrainConfig};
use crate::{Error, Result};
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;

/// Steps between loss readbacks.
pub const READBACK_EVERY: usize = 32;

type Inbox = Rc<RefCell<Option<(GpuMlp, std::result::Result<Snapshot, String>)>>>;

fn err(e: String) -> Error {
    Error::new(e)
}

pub struct GpuEngine {
    /// The parameters as of the last readback.
    model: Mlp,
    ctx: Rc<GpuContext>,
    /// `None` while a readback holds it, or after a fallback.
    gpu: Option<GpuMlp>,
    inbox: Inbox,
    in_flight: bool,
    /// After a fallback: the CPU engine that carries on.
    cpu: Option<CpuEngine>,
    optimizer: String,
    options: Value,
    out: Vec<(f32, usize)>,
    lost: bool,
    notice: Option<String>,
    /// A learning rate or weight decay set while a readback held the GPU model.
    pending_lr: Option<f32>,
    pending_weight_decay: Option<f32>,
    /// The dropout probabilities changed (in `model`) while a readback held the GPU model.
    pending_dropout: bool,
    lr: f32,
    /// Optimizer state as of the last readback.
    optimizer_steps: u64,
    state: Vec<(String, Vec<f32>)>,
    /// Gradients as of the last readback, once someone asked for them (`want_gradients`).
    grads: Option<Vec<f32>>,
    want_gradients: bool,
    /// The batch copied out of the training set: it goes up to the GPU as one matrix.
    x_buf: Vec<f32>,
}

impl GpuEngine {
    /// `model` and the optimizer `optimizer`/`options` (PyTorch names) on the GPU of `ctx`,
    /// for batches of at most `cfg.batch_size` rows with `cfg`'s reduction and penalty.
    pub fn new(ctx: Rc<GpuContext>, model: Mlp, optimizer: &str, options: &Value, cfg: &TrainConfig) -> Result<GpuEngine> {
        if model.spec().bn_noise > 0.0 {
            return Err(Error::new("noisy batch-norm has no GPU kernel yet, so this run stays on the CPU"));
        }
        let gcfg = GpuTrainConfig {
            optimizer: optimizer.into(),
            options: options.clone(),
            reduction: cfg.reduction,
            max_batch: cfg.batch_size,
            readback_every: READBACK_EVERY,
            penalty: cfg.penalty,
        };
        let gpu = GpuMlp::new(ctx.clone(), &model, &gcfg).map_err(err)?;
        let lr = gpu.optimizer().lr();
        Ok(GpuEngine {
            model,
            ctx,
            gpu: Some(gpu),
            inbox: Rc::new(RefCell::new(None)),
            in_flight: false,
            cpu: None,
            optimizer: optimizer.into(),
            options: options.clone(),
            out: Vec::new(),
            lost: false,
            notice: None,
            pending_lr: None,
            pending_weight_decay: None,
            pending_dropout: false,
            lr,
            optimizer_steps: 0,
            state: Vec::new(),
            grads: None,
            want_gradients: false,
            x_buf: Vec::new(),
        })
    }

    /// Take in a readback that has landed, and notice a lost device.
    fn poll(&mut self) -> Result<()> {
        if self.cpu.is_some() {
            return Ok(());
        }
        let landed = self.inbox.borrow_mut().take();
        if let Some((gpu, result)) = landed {
            self.in_flight = false;
            self.gpu = Some(gpu);
            match result {
                Ok(snapshot) => self.take_in(snapshot)?,
                Err(e) => return self.fall_back(&e),
            }
            if let Some(gpu) = &mut self.gpu {
                if let Some(lr) = self.pending_lr.take() {
                    gpu.optimizer_mut().set_lr(lr).map_err(err)?;
                }
                if let Some(wd) = self.pending_weight_decay.take() {
                    gpu.optimizer_mut().set_weight_decay(wd).map_err(err)?;
                }
                if std::mem::take(&mut self.pending_dropout) {
                    gpu.set_dropout(&self.model).map_err(err)?;
                }
            }
        }
        if !self.in_flight && self.ctx.is_lost() {
            let msg = self.ctx.lost_message();
            return self.fall_back(&msg);
        }
        Ok(())
    }

    fn take_in(&mut self, s: Snapshot) -> Result<()> {
        // A diverged run may read back non-finite weights: keep the last finite ones to show.
        // The rest is taken as it is, so a reader of every step (Trainer::step_to) sees this
        // step's gradients and state even then, and the run goes on to the step that fails.
        if s.params.iter().all(|v| v.is_finite()) {
            self.model.set_parameters(&s.params)?;
            for (l, mean, var) in &s.stats {
                self.model.set_running_stats(*l, mean, var)?;
            }
        }
        self.model.set_dropout_step(s.steps);
        self.optimizer_steps = s.optimizer_steps;
        self.state = s.state;
        if s.grads.is_some() {
            self.grads = s.grads;
        }
        self.out.extend(s.losses);
        Ok(())
    }

    /// Hand the GPU model to a future that reads the ring, parameters and state back.
    fn start_readback(&mut self) {
        if self.in_flight {
            return;
        }
        let Some(mut gpu) = self.gpu.take() else { return };
        let inbox = self.inbox.clone();
        let want_gradients = self.want_gradients;
        self.in_flight = true;
        wasm_bindgen_futures::spawn_local(async move {
            let result = gpu.snapshot(want_gradients).await;
            *inbox.borrow_mut() = Some((gpu, result));
        });
    }

    /// The device is gone: carry on on the CPU from the last readback.
    fn fall_back(&mut self, why: &str) -> Result<()> {
        self.gpu = None;
        self.in_flight = false;
        let mut opt = crate::optim::build(&self.optimizer, &self.options)?;
        opt.set_lr(self.pending_lr.take().unwrap_or(self.lr))?;
        let kept = restore_state(opt.as_mut(), self.optimizer_steps, &self.state);
        self.cpu = Some(CpuEngine::new(self.model.clone(), opt));
        self.lost = true;
        let why = why.trim().trim_end_matches('.');
        let why = if why.is_empty() { "no reason given" } else { why };
        self.notice = Some(format!(
            "The GPU stopped working ({why}); training goes on on the CPU from the last saved step{}.",
            if kept { ", with the optimizer's state" } else { ", with the optimizer's state started afresh" }
        ));
        Ok(())
    }
}

/// Give a fresh CPU optimizer the state read back from the GPU (step count and buffers).
/// Returns whether it took all of it.
fn restore_state(opt: &mut dyn crate::optim::Optimizer, steps: u64, state: &[(String, Vec<f32>)]) -> bool {
    opt.set_steps(steps);
    state.iter().all(|(k, v)| opt.set_state(k, v).is_ok())
}

impl Engine for GpuEngine {
    fn label(&self) -> &'static str {
        match &self.cpu {
            Some(c) => c.label(),
            None => crate::backend::Device::WebGpu.label(),
        }
    }

    fn ready(&mut self) -> bool {
        if self.poll().is_err() {
            return false;
        }
        match &mut self.cpu {
            Some(c) => c.ready(),
            None => !self.in_flight && self.gpu.is_some(),
        }
    }

    fn submit(&mut self, x: Rows, labels: &[u32], reduction: Reduction, penalty: Penalty, max_loss: f32) -> Result<()> {
        self.poll()?;
        if let Some(c) = &mut self.cpu {
            return c.submit(x, labels, reduction, penalty, max_loss);
        }
        let x = x.dense_in(self.model.inputs(), &mut self.x_buf);
        let Some(gpu) = self.gpu.as_mut() else {
            return Err(Error::new("the GPU is busy reading back: wait until the engine is ready"));
        };
        gpu.set_penalty(penalty).map_err(err)?; // λ may have moved since the last step
        if let Err(e) = gpu.step(x, labels) {
            if self.ctx.is_lost() {
                // the step never ran: the trainer takes it again on the CPU
                let msg = self.ctx.lost_message();
                return self.fall_back(&msg);
            }
            return Err(err(e));
        }
        if gpu.needs_readback() {
            self.start_readback();
        }
        Ok(())
    }

    fn finished(&mut self) -> Result<Finished> {
        self.poll()?;
        let mut steps = std::mem::take(&mut self.out);
        let lost = std::mem::take(&mut self.lost);
        if !lost {
            if let Some(c) = &mut self.cpu {
                steps.extend(c.finished()?.steps);
            }
        }
        Ok(Finished { steps, lost })
    }

    fn synced_model(&mut self) -> Result<Option<&mut Mlp>> {
        self.poll()?;
        let behind = self.in_flight || self.gpu.as_ref().is_some_and(|g| g.pending() > 0);
        if self.cpu.is_none() && behind {
            self.start_readback();
            return Ok(None);
        }
        Ok(Some(match &mut self.cpu {
            Some(c) => &mut c.model, // a CPU engine after a fallback is always in sync
            None => &mut self.model,
        }))
    }

    fn model(&self) -> &Mlp {
        match &self.cpu {
            Some(c) => c.model(),
            None => &self.model,
        }
    }

    fn set_lr(&mut self, lr: f32) -> Result<()> {
        if let Some(c) = &mut self.cpu {
            return c.set_lr(lr);
        }
        match &mut self.gpu {
            Some(gpu) => gpu.optimizer_mut().set_lr(lr).map_err(err)?,
            None => {
                // a readback holds the GPU model: check now, apply when it lands
                crate::optim::check_lr(lr as f64)?;
                self.pending_lr = Some(lr);
            }
        }
        self.lr = lr;
        Ok(())
    }

    fn set_weight_decay(&mut self, weight_decay: f32) -> Result<()> {
        if let Some(c) = &mut self.cpu {
            return c.set_weight_decay(weight_decay);
        }
        // checked on a CPU optimizer of the same configuration (Rprop has none)
        crate::optim::build(&self.optimizer, &self.options)?.set_weight_decay(weight_decay)?;
        match &mut self.gpu {
            Some(gpu) => gpu.optimizer_mut().set_weight_decay(weight_decay).map_err(err)?,
            None => self.pending_weight_decay = Some(weight_decay),
        }
        // a fallback to the CPU builds its optimizer from these options
        match &mut self.options {
            Value::Object(o) => {
                o.insert("weight_decay".into(), Value::from(weight_decay as f64));
            }
            other => *other = serde_json::json!({ "weight_decay": weight_decay as f64 }),
        }
        Ok(())
    }

    fn set_dropout(&mut self, hidden: &[f32], input: f32) -> Result<()> {
        if let Some(c) = &mut self.cpu {
            return c.set_dropout(hidden, input);
        }
        self.model.set_dropout(hidden, input)?; // checks, and keeps them for a fallback
        match &mut self.gpu {
            Some(gpu) => gpu.set_dropout(&self.model).map_err(err)?,
            None => self.pending_dropout = true,
        }
        Ok(())
    }

    fn optimizer_state(&self, key: &str) -> Option<&[f32]> {
        if let Some(c) = &self.cpu {
            return c.optimizer_state(key);
        }
        self.state.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_slice())
    }

    fn optimizer_steps(&self) -> u64 {
        match &self.cpu {
            Some(c) => c.optimizer_steps(),
            None => self.optimizer_steps,
        }
    }

    fn want_gradients(&mut self) {
        self.want_gradients = true;
    }

    fn gradients(&self) -> Option<&[f32]> {
        match &self.cpu {
            Some(c) => c.gradients(),
            None => self.grads.as_deref(),
        }
    }

    fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }
}
