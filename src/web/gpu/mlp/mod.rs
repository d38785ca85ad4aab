//! Training an [`Mlp`] on the GPU: the same network, loss and optimizer as the CPU path, with
//! parameters, gradients, optimizer state and every activation in GPU buffers.
//!
//! One training step is one `queue.submit`: the batch and a few per-step scalars are written
//! with `writeBuffer`, then one compute pass runs the forward pass (Linear with fused bias and
//! activation, or Linear → batch-norm + activation; dropout), softmax cross-entropy, the
//! backward pass, the L1/L2 penalty on the weights (when set: its gradient added to theirs,
//! its value to the step's loss, as `Mlp::train_batch` does), the optimizer update, and with
//! proximal L1 the soft-thresholding of the weights by lr·λ₁ (as `Mlp::proximal_step`). Each step's loss and misclassification count go to
//! a ring of records on the GPU; the CPU maps that ring only once every `readback_every`
//! steps (mapAsync costs milliseconds), or when asked.
//!
//! Pipelines are compiled once per context; buffers, uniforms and bind groups once per
//! session and batch size (the full batch and the last, smaller batch of an epoch).
//!
//! Dropout masks come from a counter-based hash of (seed, layer, step, element), the same
//! function the CPU's layers use (`nn::dropout`), so both paths compute the same numbers up to
//! f32 rounding, dropout included.

mod plan;

use super::context::GpuContext;

/// What one readback brings (see [`GpuMlp::snapshot`]).
pub struct Snapshot {
    /// (loss, misclassified rows) of each step since the last readback, oldest first.
    pub losses: Vec<(f32, usize)>,
    pub params: Vec<f32>,
    /// (layer, running mean, running var) of every batch-norm layer.
    pub stats: Vec<(usize, Vec<f32>, Vec<f32>)>,
    pub optimizer_steps: u64,
    /// Every state tensor the optimizer keeps, by PyTorch's name.
    pub state: Vec<(String, Vec<f32>)>,
    /// The last step's gradients, when asked for.
    pub grads: Option<Vec<f32>>,
    /// Steps taken: where the dropout masks are (`Mlp::dropout_step`).
    pub steps: u32,
}
use super::optim::GpuOptimizer;
use crate::gpu::{dropout_key, ACT_IDENTITY, ACT_LEAKY_RELU, ACT_RELU, ACT_SIGMOID, ACT_TANH};
use crate::nn::{Activation, Mlp, Penalty, Reduction, INPUT_LAYER};
use crate::optim::Optimizer;
use serde_json::Value;
use std::collections::HashMap;
use std::rc::Rc;
use web_sys::GpuBuffer;

/// The activation code of `activation.wgsl`.
pub fn act_code(a: Activation) -> u32 {
    match a {
        Activation::Identity => ACT_IDENTITY,
        Activation::Relu => ACT_RELU,
        Activation::LeakyRelu => ACT_LEAKY_RELU,
        Activation::Tanh => ACT_TANH,
        Activation::Sigmoid => ACT_SIGMOID,
    }
}

/// How a GPU session trains.
#[derive(Clone, Debug)]
pub struct GpuTrainConfig {
    /// One of `crate::optim::NAMES`.
    pub optimizer: String,
    /// PyTorch-named options, as for `optim::build`.
    pub options: Value,
    pub reduction: Reduction,
    /// L1/L2 penalty on the weights (`Penalty::default()`: none).
    pub penalty: Penalty,
    /// The largest batch a step will get.
    pub max_batch: usize,
    /// Steps between loss readbacks (the size of the ring of loss records).
    pub readback_every: usize,
}

struct BnLayer {
    gamma_off: usize,
    beta_off: usize,
    /// Linear output before normalization.
    z: GpuBuffer,
    x_hat: GpuBuffer,
    /// running_mean | running_var | inv_std.
    stats: GpuBuffer,
    /// Gradient w.r.t. the Linear output.
    dz: GpuBuffer,
}

struct Layer {
    fan_in: usize,
    fan_out: usize,
    w_off: usize,
    b_off: usize,
    bn: Option<BnLayer>,
    act: u32,
    dropout: f32,
    key: u32,
    /// Activation output (the logits for the last layer).
    out: GpuBuffer,
    /// Output after dropout, when the layer has dropout.
    dropped: Option<GpuBuffer>,
    /// Gradient w.r.t. this layer's output (after dropout).
    grad: GpuBuffer,
}

impl Layer {
    /// What the next layer reads.
    fn output(&self) -> &GpuBuffer {
        self.dropped.as_ref().unwrap_or(&self.out)
    }
}

/// An MLP training on the GPU.
pub struct GpuMlp {
    ctx: Rc<GpuContext>,
    sizes: Vec<usize>,
    layers: Vec<Layer>,
    n_params: usize,
    params: GpuBuffer,
    grads: GpuBuffer,
    optimizer: GpuOptimizer,
    x: GpuBuffer,
    /// The batch after input dropout, once the model has input dropout (what the first
    /// layer reads, and its weight gradient sees).
    x_dropped: Option<GpuBuffer>,
    input_dropout: f32,
    input_key: u32,
    labels: GpuBuffer,
    row_loss: GpuBuffer,
    ring: GpuBuffer,
    ring_staging: GpuBuffer,
    dummy: GpuBuffer,
    reduction: Reduction,
    penalty: Penalty,
    max_batch: usize,
    ring_len: usize,
    /// Steps recorded in the ring since the last readback.
    pending: usize,
    /// Steps taken (the dropout counter).
    steps: u32,
    bn_eps: f32,
    bn_momentum: f32,
    plans: HashMap<usize, plan::StepPlan>,
}

impl GpuMlp {
    /// Put `mlp` (its parameters and running statistics) on the GPU with a fresh optimizer.
    pub fn new(ctx: Rc<GpuContext>, mlp: &Mlp, cfg: &GpuTrainConfig) -> Result<GpuMlp, String> {
        if cfg.max_batch == 0 || cfg.readback_every == 0 {
            return Err("the batch size and the readback interval must be at least 1".into());
        }
        cfg.penalty.validate().map_err(|e| e.message().to_string())?;
        let (m, n_layers) = (cfg.max_batch, mlp.num_layers());
        let mut layers = Vec::new();
        for (l, slices) in mlp.layout().into_iter().enumerate() {
            let (fan_in, fan_out) = (slices.fan_in, slices.fan_out);
            let last = l + 1 == n_layers;
            let (w_off, b_off) = (slices.w.start, slices.b.start);
            let bn = if let Some((gamma, beta)) = &slices.bn {
                let (gamma_off, beta_off) = (gamma.start, beta.start);
                let (mean, var) = mlp.running_stats(l).ok_or("batch-norm layer without running statistics")?;
                let mut stats = mean.to_vec();
                stats.extend_from_slice(var);
                stats.extend(std::iter::repeat_n(0.0, fan_out));
                Some(BnLayer {
                    gamma_off,
                    beta_off,
                    z: ctx.storage("bn input", m * fan_out)?,
                    x_hat: ctx.storage("bn x_hat", m * fan_out)?,
                    stats: ctx.storage_from("bn stats", &stats)?,
                    dz: ctx.storage("bn grad", m * fan_out)?,
                })
            } else {
                None
            };
            let dropout = slices.dropout;
            layers.push(Layer {
                fan_in,
                fan_out,
                w_off,
                b_off,
                bn,
                act: if last { ACT_IDENTITY } else { act_code(mlp.spec().activation) },
                dropout,
                key: dropout_key(mlp.seed(), l as u32),
                out: ctx.storage("layer output", m * fan_out)?,
                dropped: if dropout > 0.0 { Some(ctx.storage("dropout output", m * fan_out)?) } else { None },
                grad: ctx.storage("layer grad", m * fan_out)?,
            });
        }
        let n_params = mlp.parameters().len();
        let params = ctx.storage_from("parameters", mlp.parameters())?;
        let grads = ctx.storage("gradients", n_params)?;
        let dummy = ctx.storage("unused", 4)?;
        let optimizer = GpuOptimizer::new(&ctx, &cfg.optimizer, &cfg.options, &params, &grads, n_params, &dummy)?;
        let classes = mlp.classes();
        let input_dropout = mlp.spec().input_dropout;
        Ok(GpuMlp {
            x: ctx.storage("batch", m * mlp.inputs())?,
            x_dropped: if input_dropout > 0.0 { Some(ctx.storage("dropped batch", m * mlp.inputs())?) } else { None },
            input_dropout,
            input_key: dropout_key(mlp.seed(), INPUT_LAYER),
            labels: ctx.storage("labels", m)?,
            row_loss: ctx.storage("row losses", 2 * m)?,
            ring: ctx.storage("loss ring", 2 * cfg.readback_every)?,
            ring_staging: ctx.staging("loss ring readback", 2 * cfg.readback_every)?,
            sizes: (0..n_layers).map(|l| mlp.layer_shape(l).0).chain([classes]).collect(),
            ctx,
            layers,
            n_params,
            params,
            grads,
            optimizer,
            dummy,
            reduction: cfg.reduction,
            penalty: cfg.penalty,
            max_batch: m,
            ring_len: cfg.readback_every,
            pending: 0,
            steps: mlp.dropout_step(), // the dropout masks go on from where the CPU model is
            bn_eps: mlp.spec().bn_eps,
            bn_momentum: mlp.spec().bn_momentum,
            plans: HashMap::new(),
        })
    }

    pub fn context(&self) -> &Rc<GpuContext> {
        &self.ctx
    }
    pub fn optimizer(&self) -> &GpuOptimizer {
        &self.optimizer
    }
    pub fn optimizer_mut(&mut self) -> &mut GpuOptimizer {
        &mut self.optimizer
    }
    /// Steps taken by this model, on either path (it starts from `Mlp::dropout_step`, so the
    /// dropout masks go on where the CPU model left off).
    pub fn steps(&self) -> usize {
        self.steps as usize
    }
    /// The L1/L2 penalty the steps use.
    pub fn penalty(&self) -> Penalty {
        self.penalty
    }
    /// Change the penalty for the next steps (a student moving λ while the run trains): the
    /// recorded step plans are rebuilt on the next step.
    pub fn set_penalty(&mut self, penalty: Penalty) -> Result<(), String> {
        penalty.validate().map_err(|e| e.message().to_string())?;
        if penalty != self.penalty {
            self.penalty = penalty;
            self.plans.clear();
        }
        Ok(())
    }
    /// Take `mlp`'s dropout probabilities (hidden layers and input) for the next steps, as
    /// `Mlp::set_dropout` set them there: a layer that had none gets its output buffer now; one
    /// set back to 0 keeps its buffer, and its dropout pass, whose mask at p = 0 keeps every
    /// unit with the factor 1, copies exactly (the numbers of no dropout). The step plans are
    /// rebuilt on the next step.
    pub fn set_dropout(&mut self, mlp: &Mlp) -> Result<(), String> {
        let layout = mlp.layout();
        if layout.len() != self.layers.len() {
            return Err(format!("a model of {} layers cannot set the dropout of one of {}", layout.len(), self.layers.len()));
        }
        for (l, s) in self.layers.iter_mut().zip(&layout) {
            if s.dropout > 0.0 && l.dropped.is_none() {
                l.dropped = Some(self.ctx.storage("dropout output", self.max_batch * l.fan_out)?);
            }
            l.dropout = s.dropout;
        }
        let input = mlp.spec().input_dropout;
        if input > 0.0 && self.x_dropped.is_none() {
            self.x_dropped = Some(self.ctx.storage("dropped batch", self.max_batch * self.sizes[0])?);
        }
        self.input_dropout = input;
        self.plans.clear();
        Ok(())
    }
    /// What the first layer reads: the batch, after input dropout when the model has it.
    fn input(&self) -> &GpuBuffer {
        self.x_dropped.as_ref().unwrap_or(&self.x)
    }
    /// Steps whose loss has not been read back yet.
    pub fn pending(&self) -> usize {
        self.pending
    }
    /// True when the loss ring is full: [`GpuMlp::take_losses`] must run before the next step.
    pub fn needs_readback(&self) -> bool {
        self.pending == self.ring_len
    }

    /// One training step on `labels.len()` examples: forward, loss, backward and update, in
    /// one submit. The loss is recorded on the GPU; see [`GpuMlp::take_losses`].
    pub fn step(&mut self, x: &[f32], labels: &[u32]) -> Result<(), String> {
        let m = labels.len();
        let (inputs, classes) = (self.sizes[0], *self.sizes.last().expect("layers"));
        if m == 0 || m > self.max_batch {
            return Err(format!("batch of {m} rows: this GPU session takes 1 to {} rows", self.max_batch));
        }
        if x.len() != m * inputs {
            return Err(format!("a batch of {m} rows needs {} values, got {}", m * inputs, x.len()));
        }
        if let Some(&y) = labels.iter().find(|&&y| y as usize >= classes) {
            return Err(format!("label {y} is out of range for {classes} classes"));
        }
        if self.layers.iter().any(|l| l.bn.is_some()) && m == 1 {
            return Err("batch-norm needs more than 1 example per batch when training".into());
        }
        if self.ctx.is_lost() {
            return Err(format!("the WebGPU device was lost: {}", self.ctx.lost_message()));
        }
        if self.needs_readback() {
            return Err("read the recorded losses back (take_losses) before the next step".into());
        }
        if !self.plans.contains_key(&m) {
            let plan = self.build_plan(m)?;
            self.plans.insert(m, plan);
        }
        let ctx = self.ctx.clone();
        ctx.write(&self.x, 0, super::context::f32_bytes(x))?;
        ctx.write(&self.labels, 0, super::context::u32_bytes(labels))?;
        let plan = self.plans.get_mut(&m).expect("just built");
        plan.loss.1.slot = self.pending as u32;
        ctx.write(&plan.loss.0, 0, &plan.loss.1.bytes())?;
        for (buf, u) in plan.per_step.iter_mut() {
            u.step = self.steps;
            ctx.write(buf, 0, &u.bytes())?;
        }
        for (buf, u) in plan.penalty.iter_mut() {
            u.slot = self.pending as u32;
            ctx.write(buf, 0, &u.bytes())?;
        }
        // the threshold follows the learning rate of this very step (set_lr may have moved it)
        if let Some(t) = self.penalty.prox_threshold(self.optimizer.lr()) {
            for (buf, u) in plan.prox_uniforms.iter_mut() {
                u.threshold = t;
                ctx.write(buf, 0, &u.bytes())?;
            }
        }
        let update = self.optimizer.next_step(&ctx)?;
        let encoder = ctx.device.create_command_encoder();
        ctx.record(&encoder, plan.dispatches.iter().chain([update]).chain(plan.prox.iter()));
        if self.pending + 1 == self.ring_len {
            let bytes = (2 * self.ring_len * 4) as u32;
            encoder
                .copy_buffer_to_buffer_with_u32_and_u32_and_u32(&self.ring, 0, &self.ring_staging, 0, bytes)
                .map_err(|e| super::context::describe(&e))?;
        }
        ctx.submit(&encoder);
        self.pending += 1;
        self.steps += 1;
        Ok(())
    }

    /// The (loss, misclassified rows) of every step since the last call, oldest first. The
    /// loss is the batch's reduced loss (mean or sum, as configured), plus the penalty's value
    /// when one is set (as `Mlp::train_batch` returns it).
    pub async fn take_losses(&mut self) -> Result<Vec<(f32, usize)>, String> {
        let n = self.pending;
        let raw = if n == 0 {
            Vec::new()
        } else if n == self.ring_len {
            self.ctx.map_read(&self.ring_staging, 2 * n).await?
        } else {
            self.ctx.read(&self.ring, 0, 2 * n).await?
        };
        self.pending = 0;
        Ok(raw.chunks_exact(2).map(|r| (r[0], r[1] as usize)).collect())
    }

    /// Everything a sync needs, in one readback (one submit, one mapAsync): the losses of the
    /// steps since the last readback (as [`GpuMlp::take_losses`]), the parameters, every
    /// batch-norm layer's running statistics, every optimizer state tensor, the step counts,
    /// and the gradients of the last step when `gradients` is set.
    pub async fn snapshot(&mut self, gradients: bool) -> Result<Snapshot, String> {
        let n = self.pending;
        let n_params = self.n_params;
        let mut parts = vec![(&self.ring, 0, 2 * n), (&self.params, 0, n_params)];
        let bn: Vec<(usize, usize)> = (0..self.layers.len()).filter(|&l| self.layers[l].bn.is_some()).map(|l| (l, self.layers[l].fan_out)).collect();
        for &(l, f) in &bn {
            parts.push((&self.layers[l].bn.as_ref().expect("filtered").stats, 0, 2 * f));
        }
        let names = self.optimizer.state_names();
        for k in &names {
            parts.push((self.optimizer.state_buffer(k).expect("named"), 0, n_params));
        }
        if gradients {
            parts.push((&self.grads, 0, n_params));
        }
        let mut got = self.ctx.read_many(&parts).await?.into_iter();
        self.pending = 0;
        let mut next = || got.next().expect("one result per part");
        let losses = next().chunks_exact(2).map(|r| (r[0], r[1] as usize)).collect();
        let params = next();
        let stats = bn
            .iter()
            .map(|&(l, f)| {
                let v = next();
                (l, v[..f].to_vec(), v[f..].to_vec())
            })
            .collect();
        let state = names.iter().map(|k| (k.to_string(), next())).collect();
        let grads = gradients.then(&mut next);
        Ok(Snapshot { losses, params, stats, optimizer_steps: self.optimizer.steps(), state, grads, steps: self.steps })
    }

    /// The parameters, flat in PyTorch order (the same layout as `Mlp::parameters`).
    pub async fn parameters(&self) -> Result<Vec<f32>, String> {
        self.ctx.read(&self.params, 0, self.n_params).await
    }

    /// The gradients of the last step.
    pub async fn gradients(&self) -> Result<Vec<f32>, String> {
        self.ctx.read(&self.grads, 0, self.n_params).await
    }

    /// Running (mean, var) of layer `l`'s batch-norm, if it has one.
    pub async fn running_stats(&self, l: usize) -> Result<Option<(Vec<f32>, Vec<f32>)>, String> {
        let Some(bn) = self.layers.get(l).and_then(|l| l.bn.as_ref()) else { return Ok(None) };
        let f = self.layers[l].fan_out;
        let v = self.ctx.read(&bn.stats, 0, 2 * f).await?;
        Ok(Some((v[..f].to_vec(), v[f..].to_vec())))
    }

    /// A named optimizer state tensor ("momentum_buffer", "exp_avg", …), if kept.
    pub async fn optimizer_state(&self, key: &str) -> Result<Option<Vec<f32>>, String> {
        match self.optimizer.state_buffer(key) {
            Some(b) => Ok(Some(self.ctx.read(b, 0, self.n_params).await?)),
            None => Ok(None),
        }
    }

    /// Continue `cpu`'s run on the GPU: copy every state tensor and the step count of the CPU
    /// optimizer into this session's optimizer (the same optimizer with the same options),
    /// so the next GPU step computes what `cpu`'s next step would. A CPU optimizer without
    /// state (no step yet, or just reset) leaves the GPU's fresh as well.
    pub fn load_optimizer_state(&mut self, cpu: &dyn Optimizer) -> Result<(), String> {
        let gpu = &mut self.optimizer;
        if cpu.name() != gpu.name() {
            return Err(format!("cannot load {} state into the GPU's {}", cpu.name(), gpu.name()));
        }
        let state = cpu.state();
        if state.is_empty() {
            gpu.reset(&self.ctx)?;
        } else {
            let cpu_names: Vec<&str> = state.iter().map(|(k, _)| *k).collect();
            if let Some(missing) = gpu.state_names().into_iter().find(|k| !cpu_names.contains(k)) {
                return Err(format!("the CPU's {} keeps no '{missing}' (its options differ from the GPU's)", cpu.name()));
            }
            for (key, values) in state {
                gpu.set_state(&self.ctx, key, values)?;
            }
        }
        gpu.set_steps(cpu.steps());
        Ok(())
    }

    /// The optimizer's step count and every state tensor by name, read back from the GPU, for
    /// continuing the run on the CPU (`Optimizer::set_steps` and `set_state`, or
    /// `crate::optim::copy_state`'s loop). Empty state before anything was written, as the CPU
    /// optimizers report it.
    pub async fn export_optimizer_state(&self) -> Result<(u64, Vec<(String, Vec<f32>)>), String> {
        let mut state = Vec::new();
        if self.optimizer.has_state() {
            for key in self.optimizer.state_names() {
                let buf = self.optimizer.state_buffer(key).expect("named");
                state.push((key.to_string(), self.ctx.read(buf, 0, self.n_params).await?));
            }
        }
        Ok((self.optimizer.steps(), state))
    }
}
