//! Optimizers whose state lives on the GPU: every optimizer of `crate::optim` (SGD with
//! momentum, Nesterov and weight decay; Rprop; RMSprop, centred and with momentum; Adam and
//! AdamW), configured by the same PyTorch-named options as `crate::optim::build`, and stepping
//! the whole flat parameter buffer with one dispatch. The update rules are the CPU
//! optimizers', element for element, in `optim.wgsl`.
//!
//! State tensors carry the names of [`Optimizer::state`](crate::optim::Optimizer::state), in
//! the same order, so a run can move between the CPU and the GPU: [`GpuOptimizer::set_state`]
//! and [`GpuOptimizer::set_steps`] take what a CPU optimizer holds (see
//! `GpuMlp::load_optimizer_state`), and `GpuMlp::export_optimizer_state` reads it back.

use super::context::{f32_bytes, Dispatch, GpuContext};
use super::kernels::{self, OptimBuffers};
use crate::gpu::{AdamUniform, RmsPropUniform, RpropUniform, SgdUniform};
use crate::optim::{Adam, AdamConfig, AdamWConfig, RmsProp, RmsPropConfig, Rprop, RpropConfig, Sgd, SgdConfig};
use serde_json::Value;
use web_sys::GpuBuffer;

/// The optimizers the GPU path implements: all of them.
pub const GPU_OPTIMIZERS: &[&str] = crate::optim::NAMES;

#[derive(Clone, Debug)]
enum Rule {
    Sgd(SgdConfig),
    Rprop(RpropConfig),
    RmsProp(RmsPropConfig),
    /// Adam, or AdamW as Adam with decoupled decay (exactly how `optim::AdamW` is built).
    Adam(AdamConfig),
}

fn message(e: crate::Error) -> String {
    e.message().to_string()
}

/// An optimizer over `n` GPU-resident parameters.
pub struct GpuOptimizer {
    name: &'static str,
    rule: Rule,
    n: usize,
    /// Steps taken (PyTorch's `state["step"]`).
    t: u64,
    /// (name, buffer) of each state tensor, as `Optimizer::state` names and orders them.
    state: Vec<(&'static str, GpuBuffer)>,
    /// Whether a step or `set_state` has written the state buffers. Until then they hold
    /// zeros, which is every optimizer's starting state except Rprop's Δ = lr: Rprop's kernel
    /// starts from lr while this is false, with the lr of that moment, as the CPU does.
    written: bool,
    dispatch: Dispatch,
    uniform: GpuBuffer,
    /// Small buffers bound in place of unused state slots beyond the first (WebGPU refuses
    /// one buffer bound twice as writable storage in a dispatch).
    _unused: Vec<GpuBuffer>,
}

impl GpuOptimizer {
    /// Build `name` (one of `crate::optim::NAMES`) from PyTorch-named `options`, validated
    /// as the CPU optimizers validate them.
    pub fn new(
        ctx: &GpuContext,
        name: &str,
        options: &Value,
        params: &GpuBuffer,
        grads: &GpuBuffer,
        n: usize,
        dummy: &GpuBuffer,
    ) -> Result<GpuOptimizer, String> {
        let (name, rule) = match name {
            "sgd" => {
                let cfg = SgdConfig::from_json(options).map_err(message)?;
                Sgd::new(cfg).map_err(message)?;
                ("sgd", Rule::Sgd(cfg))
            }
            "rprop" => {
                let cfg = RpropConfig::from_json(options).map_err(message)?;
                Rprop::new(cfg).map_err(message)?;
                ("rprop", Rule::Rprop(cfg))
            }
            "rmsprop" => {
                let cfg = RmsPropConfig::from_json(options).map_err(message)?;
                RmsProp::new(cfg).map_err(message)?;
                ("rmsprop", Rule::RmsProp(cfg))
            }
            "adam" => {
                let cfg = AdamConfig::from_json(options).map_err(message)?;
                Adam::new(cfg).map_err(message)?;
                ("adam", Rule::Adam(cfg))
            }
            "adamw" => {
                let cfg: AdamConfig = AdamWConfig::from_json(options).map_err(message)?.into();
                Adam::new(cfg).map_err(message)?;
                ("adamw", Rule::Adam(cfg))
            }
            other => return Err(format!("unknown optimizer '{other}'; expected one of {}", GPU_OPTIMIZERS.join(", "))),
        };
        // (name, binding slot of optim.wgsl: state0, state1, state2)
        let slots: Vec<(&'static str, usize)> = match &rule {
            Rule::Sgd(c) if c.momentum != 0.0 => vec![("momentum_buffer", 0)],
            Rule::Sgd(_) => vec![],
            Rule::Rprop(_) => vec![("step_size", 0), ("prev", 1)],
            Rule::RmsProp(c) => {
                let mut s = vec![("square_avg", 0)];
                if c.centered {
                    s.push(("grad_avg", 1));
                }
                if c.momentum > 0.0 {
                    s.push(("momentum_buffer", 2));
                }
                s
            }
            Rule::Adam(c) if c.amsgrad => vec![("exp_avg", 0), ("exp_avg_sq", 1), ("max_exp_avg_sq", 2)],
            Rule::Adam(_) => vec![("exp_avg", 0), ("exp_avg_sq", 1)],
        };
        let mut state = Vec::new();
        for &(s, _) in &slots {
            state.push((s, ctx.storage(s, n)?));
        }
        let missing = (0..3).filter(|s| !slots.iter().any(|&(_, b)| b == *s)).count();
        let mut unused = Vec::new();
        for _ in 1..missing {
            unused.push(ctx.storage("unused optimizer state", 4)?);
        }
        let mut spare = std::iter::once(dummy).chain(&unused);
        let mut bound = [dummy; 3];
        for (slot, b) in bound.iter_mut().enumerate() {
            *b = match slots.iter().position(|&(_, s)| s == slot) {
                Some(i) => &state[i].1,
                None => spare.next().expect("one spare per unused slot"),
            };
        }
        let buffers = OptimBuffers { params, grads, state: bound };
        let (dispatch, uniform) = match &rule {
            Rule::Sgd(c) => kernels::sgd_step(ctx, &buffers, &SgdUniform::new(c, n, true))?,
            Rule::Rprop(c) => kernels::rprop_step(ctx, &buffers, &RpropUniform::new(c, n, true))?,
            Rule::RmsProp(c) => kernels::rmsprop_step(ctx, &buffers, &RmsPropUniform::new(c, n))?,
            Rule::Adam(c) => kernels::adam_step(ctx, &buffers, &AdamUniform::new(c, n, 1))?,
        };
        Ok(GpuOptimizer { name, rule, n, t: 0, state, written: false, dispatch, uniform, _unused: unused })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Steps taken so far (PyTorch's `state["step"]`; SGD counts too, as `Optimizer::steps`).
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// Set the step count, to continue a run taken over from elsewhere (Adam's bias
    /// corrections and SGD's first-step buffer read it), as `Optimizer::set_steps`.
    pub fn set_steps(&mut self, t: u64) {
        self.t = t;
    }

    /// Write this step's scalars and return the dispatch to record after the backward pass.
    pub fn next_step(&mut self, ctx: &GpuContext) -> Result<&Dispatch, String> {
        self.t += 1;
        let (n, t) = (self.n, self.t);
        let bytes = match &self.rule {
            Rule::Sgd(c) => SgdUniform::new(c, n, t == 1).bytes(),
            Rule::Rprop(c) => RpropUniform::new(c, n, !self.written).bytes(),
            Rule::RmsProp(c) => RmsPropUniform::new(c, n).bytes(),
            Rule::Adam(c) => AdamUniform::new(c, n, t).bytes(),
        };
        ctx.write(&self.uniform, 0, &bytes)?;
        self.written = true;
        Ok(&self.dispatch)
    }

    pub fn lr(&self) -> f32 {
        match &self.rule {
            Rule::Sgd(c) => c.lr as f32,
            Rule::Rprop(c) => c.lr as f32,
            Rule::RmsProp(c) => c.lr as f32,
            Rule::Adam(c) => c.lr as f32,
        }
    }

    /// Change the learning rate; the state is kept (Rprop, as on the CPU, reads its lr only
    /// to start the step sizes).
    pub fn set_lr(&mut self, lr: f32) -> Result<(), String> {
        self.reconfigure(Some(lr as f64), None)
    }

    /// Change `weight_decay` (coupled, or AdamW's decoupled decay) for the next steps, as
    /// `Optimizer::set_weight_decay` does on the CPU; Rprop has none.
    pub fn set_weight_decay(&mut self, weight_decay: f32) -> Result<(), String> {
        if matches!(self.rule, Rule::Rprop(_)) {
            return Err(format!("{} has no weight_decay to change (weight_decay = {weight_decay})", self.name));
        }
        self.reconfigure(None, Some(weight_decay as f64))
    }

    /// The configuration with `lr` and/or `weight_decay` replaced, checked as the CPU checks
    /// it; nothing changes on an error.
    fn reconfigure(&mut self, lr: Option<f64>, weight_decay: Option<f64>) -> Result<(), String> {
        let check = match &mut self.rule {
            Rule::Sgd(c) => {
                let next = SgdConfig { lr: lr.unwrap_or(c.lr), weight_decay: weight_decay.unwrap_or(c.weight_decay), ..*c };
                next.validate().map(|_| *c = next)
            }
            Rule::Rprop(c) => {
                let next = RpropConfig { lr: lr.unwrap_or(c.lr), ..*c };
                next.validate().map(|_| *c = next)
            }
            Rule::RmsProp(c) => {
                let next = RmsPropConfig { lr: lr.unwrap_or(c.lr), weight_decay: weight_decay.unwrap_or(c.weight_decay), ..*c };
                next.validate().map(|_| *c = next)
            }
            Rule::Adam(c) => {
                let next = AdamConfig { lr: lr.unwrap_or(c.lr), weight_decay: weight_decay.unwrap_or(c.weight_decay), ..*c };
                next.validate().map(|_| *c = next)
            }
        };
        check.map_err(message)
    }

    /// Names of the state tensors, in `Optimizer::state` order (empty for plain SGD).
    pub fn state_names(&self) -> Vec<&'static str> {
        self.state.iter().map(|(k, _)| *k).collect()
    }

    /// The buffer of state tensor `key`, if this optimizer keeps it.
    pub fn state_buffer(&self, key: &str) -> Option<&GpuBuffer> {
        self.state.iter().find(|(k, _)| *k == key).map(|(_, b)| b)
    }

    /// Whether the state buffers hold state (a step was taken or state was loaded); before
    /// that the CPU optimizers report no state at all.
    pub fn has_state(&self) -> bool {
        self.written
    }

    /// Upload `values` into state tensor `key`, as `Optimizer::set_state` does on the CPU:
    /// the key must be one this configuration keeps and `values` one per parameter. The first
    /// upload into fresh state also starts the other tensors where a first step would (Rprop's
    /// Δ at lr; the rest are zeros already).
    pub fn set_state(&mut self, ctx: &GpuContext, key: &str, values: &[f32]) -> Result<(), String> {
        let names = self.state_names();
        let Some(buf) = self.state_buffer(key) else {
            return Err(if names.is_empty() {
                format!("{} keeps no state in this configuration, so it has no '{key}'", self.name)
            } else {
                format!("{} has no state '{key}' in this configuration; it keeps {}", self.name, names.join(", "))
            });
        };
        if values.len() != self.n {
            return Err(format!("{} state holds {} values per tensor but {} were given for '{key}'", self.name, self.n, values.len()));
        }
        ctx.write(buf, 0, f32_bytes(values))?;
        if !self.written {
            if let (Rule::Rprop(c), true) = (&self.rule, key != "step_size") {
                let start = vec![c.lr as f32; self.n];
                ctx.write(self.state_buffer("step_size").expect("rprop keeps step_size"), 0, f32_bytes(&start))?;
            }
            self.written = true;
        }
        Ok(())
    }

    /// Forget all state, as `Optimizer::reset`: zeros in every buffer, the count at 0.
    pub fn reset(&mut self, ctx: &GpuContext) -> Result<(), String> {
        let zeros = vec![0f32; self.n];
        for (_, b) in &self.state {
            ctx.write(b, 0, f32_bytes(&zeros))?;
        }
        self.t = 0;
        self.written = false;
        Ok(())
    }
}
