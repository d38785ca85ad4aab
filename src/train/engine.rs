//! Where a run's steps are computed: the trainer's one door to a compute device.
//!
//! The [`Trainer`](super::Trainer) decides *what* to train on — the batch order, the epochs,
//! the divergence checks, the records — and hands each mini-batch to an [`Engine`], which
//! does the forward pass, the backward pass, the penalty and the optimizer update wherever
//! its parameters live. [`CpuEngine`] computes each step at once (natively with ndarray, in
//! the browser with the packed SIMD kernels of `backend`); the WebGPU engine in
//! `web::gpu::engine` queues steps on the GPU and learns their losses later.
//!
//! The contract that lets one trainer drive both:
//!
//! 1. `submit` one step at a time while `ready()` says so; a step's outcome (its loss as the
//!    reduction gives it, and how many examples it got wrong) comes back, in order, from
//!    `finished()` — at once on the CPU, after a readback on the GPU.
//! 2. A step whose loss is not finite, or whose per-example loss is above the `max_loss`
//!    given with it, must not update the parameters where the engine can tell in time (the
//!    CPU can; the GPU learns the loss too late, and the trainer stops the run either way).
//! 3. `synced_model()` brings the engine's [`Mlp`] up to date with every finished step
//!    (parameters and batch-norm running statistics) and returns it, or `None` while that is
//!    still under way. The trainer evaluates the validation set only on a synced model.
//! 4. An engine that loses its device reports [`Finished::lost`]: the steps submitted and
//!    not finished are gone, and the trainer submits them again. The engine itself carries
//!    on from the last synced parameters and optimizer state (the WebGPU engine on the CPU).

use crate::backend::Rows;
use crate::nn::{Mlp, Penalty, Reduction};
use crate::optim::Optimizer;
use crate::Result;

/// What came back from the engine since the last call.
#[derive(Debug, Default)]
pub struct Finished {
    /// (loss as the reduction gives it, misclassified examples) of each finished step, in the
    /// order they were submitted.
    pub steps: Vec<(f32, usize)>,
    /// The device was lost: every step submitted and not in `steps` is gone.
    pub lost: bool,
}

/// A compute device that trains one model with one optimizer.
pub trait Engine {
    /// Where the steps run now, as the page shows it ("WebGPU", "CPU (SIMD)", …).
    fn label(&self) -> &'static str;
    /// Whether another step may be submitted now (the GPU says no while it reads back).
    fn ready(&mut self) -> bool;
    /// One training step on `x` (rows × inputs; the trainer passes the mini-batch's rows of
    /// the training set, [`Rows::gathered`]) and `labels`: forward, backward with the
    /// `reduction` and `penalty`, and the optimizer update (skipped where the engine can see
    /// in time that the loss is not finite or its per-example value exceeds `max_loss`).
    fn submit(&mut self, x: Rows, labels: &[u32], reduction: Reduction, penalty: Penalty, max_loss: f32) -> Result<()>;
    /// The outcomes of the steps finished since the last call.
    fn finished(&mut self) -> Result<Finished>;
    /// The model as of every finished step, once it is; `None` while bringing it up to date.
    fn synced_model(&mut self) -> Result<Option<&mut Mlp>>;
    /// The model as of the last sync (the initial one before any).
    fn model(&self) -> &Mlp;
    /// Change the learning rate for the steps not yet submitted; the optimizer state is kept.
    fn set_lr(&mut self, lr: f32) -> Result<()>;
    /// Change the optimizer's `weight_decay` for the steps submitted from now on (AdamW's
    /// decoupled decay, or the coupled term of SGD, RMSprop and Adam).
    fn set_weight_decay(&mut self, weight_decay: f32) -> Result<()>;
    /// Change the dropout probabilities for the steps submitted from now on: `hidden` as
    /// `MlpSpec::dropout` (0, 1 or one per hidden layer), `input` as `MlpSpec::input_dropout`.
    fn set_dropout(&mut self, hidden: &[f32], input: f32) -> Result<()>;
    /// A named optimizer state buffer ("exp_avg_sq", "step_size", …) as of the last sync;
    /// `None` if the optimizer keeps no such state (or, on the GPU, before the first sync).
    fn optimizer_state(&self, key: &str) -> Option<&[f32]>;
    /// The optimizer's step count as of the last sync (what Adam's bias correction uses; it
    /// lags the booked steps where an update was skipped).
    fn optimizer_steps(&self) -> u64;
    /// Have every later sync bring the last step's gradients too (the GPU reads them back
    /// only when asked; the CPU always has them).
    fn want_gradients(&mut self) {}
    /// The gradients of the last finished step, as of the last sync (flat, in the model's
    /// parameter order); on the GPU `None` until a sync after `want_gradients`. A cell that
    /// wants every step's gradients syncs each step (`Trainer::step_to`).
    fn gradients(&self) -> Option<&[f32]>;
    /// A note for the student, e.g. that the device was lost and the run moved to the CPU.
    fn notice(&self) -> Option<&str> {
        None
    }
}

/// Steps computed at once on the CPU.
pub struct CpuEngine {
    pub model: Mlp,
    pub optimizer: Box<dyn Optimizer>,
    done: Vec<(f32, usize)>,
    /// The batch copied out of the training set, for the steps that need it as a matrix.
    x_buf: Vec<f32>,
}

impl CpuEngine {
    pub fn new(model: Mlp, optimizer: Box<dyn Optimizer>) -> CpuEngine {
        CpuEngine { model, optimizer, done: Vec::new(), x_buf: Vec::new() }
    }
}

impl Engine for CpuEngine {
    fn label(&self) -> &'static str {
        crate::backend::Device::Cpu.label()
    }
    fn ready(&mut self) -> bool {
        true
    }
    fn submit(&mut self, x: Rows, labels: &[u32], reduction: Reduction, penalty: Penalty, max_loss: f32) -> Result<()> {
        // Without a penalty, an element-wise rule (Adam, AdamW) updates each layer inside the
        // backward pass, the same numbers with the gradients still in the cache; the batch's
        // rows go from the training set straight into the first layer's packed panels.
        if penalty.is_zero() {
            if let Some(parts) = self.optimizer.parts() {
                let (loss, wrong, _) = self.model.train_step(x, labels, reduction, max_loss, parts)?;
                self.done.push((loss, wrong));
                return Ok(());
            }
        }
        let x = x.dense_in(self.model.inputs(), &mut self.x_buf);
        let (loss, wrong) = self.model.train_batch(x, labels, reduction, penalty)?;
        let per_example = reduction.per_example(loss, labels.len());
        if per_example.is_finite() && per_example <= max_loss {
            let (params, grads) = self.model.params_and_grads();
            self.optimizer.step(params, grads)?;
            // L1 by soft-thresholding, when asked, after the update (η = lr: `nn::penalty`)
            self.model.proximal_step(&penalty, self.optimizer.lr());
        }
        self.done.push((loss, wrong));
        Ok(())
    }
    fn finished(&mut self) -> Result<Finished> {
        Ok(Finished { steps: std::mem::take(&mut self.done), lost: false })
    }
    fn synced_model(&mut self) -> Result<Option<&mut Mlp>> {
        Ok(Some(&mut self.model))
    }
    fn model(&self) -> &Mlp {
        &self.model
    }
    fn set_lr(&mut self, lr: f32) -> Result<()> {
        self.optimizer.set_lr(lr)
    }
    fn set_weight_decay(&mut self, weight_decay: f32) -> Result<()> {
        self.optimizer.set_weight_decay(weight_decay)
    }
    fn set_dropout(&mut self, hidden: &[f32], input: f32) -> Result<()> {
        self.model.set_dropout(hidden, input)
    }
    fn optimizer_state(&self, key: &str) -> Option<&[f32]> {
        self.optimizer.state().into_iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
    fn optimizer_steps(&self) -> u64 {
        self.optimizer.steps()
    }
    fn gradients(&self) -> Option<&[f32]> {
        Some(self.model.gradients())
    }
}
