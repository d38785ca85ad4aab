//! Optimizers whose state lives on the GPU: SGD (momentum, Nesterov, weight decay), Adam and
//! AdamW, configured by the same PyTorch-named options as `crate::optim::build`, and stepping
//! the whole flat parameter buffer with one dispatch.

use super::context::{Dispatch, GpuContext};
use super::kernels::{self, OptimBuffers};
use crate::backend::webgpu::{AdamUniform, SgdUniform};
use crate::optim::{Adam, AdamConfig, AdamWConfig, Sgd, SgdConfig};
use serde_json::Value;
use web_sys::GpuBuffer;

/// The optimizers the GPU path implements; the others (Rprop, RMSprop) run on the CPU.
pub const GPU_OPTIMIZERS: &[&str] = &["sgd", "adam", "adamw"];

#[derive(Clone, Debug)]
enum Rule {
    Sgd(SgdConfig),
    /// Adam, or AdamW as Adam with decoupled decay (exactly how `optim::AdamW` is built).
    Adam(AdamConfig),
}

/// An optimizer over `n` GPU-resident parameters.
pub struct GpuOptimizer {
    name: &'static str,
    rule: Rule,
    n: usize,
    /// Steps taken (PyTorch's `state["step"]`).
    t: u64,
    /// (name, buffer) of each state tensor, as `Optimizer::state` names them.
    state: Vec<(&'static str, GpuBuffer)>,
    dispatch: Dispatch,
    uniform: GpuBuffer,
}

impl GpuOptimizer {
    /// Build `name` ("sgd", "adam", "adamw") from PyTorch-named `options`, validated as the
    /// CPU optimizers validate them.
    pub fn new(ctx: &GpuContext, name: &str, options: &Value, params: &GpuBuffer, grads: &GpuBuffer, n: usize, dummy: &GpuBuffer) -> Result<GpuOptimizer, String> {
        let (name, rule) = match name {
            "sgd" => {
                let cfg = SgdConfig::from_json(options).map_err(|e| e.message().to_string())?;
                Sgd::new(cfg).map_err(|e| e.message().to_string())?;
                ("sgd", Rule::Sgd(cfg))
            }
            "adam" => {
                let cfg = AdamConfig::from_json(options).map_err(|e| e.message().to_string())?;
                Adam::new(cfg).map_err(|e| e.message().to_string())?;
                ("adam", Rule::Adam(cfg))
            }
            "adamw" => {
                let cfg: AdamConfig = AdamWConfig::from_json(options).map_err(|e| e.message().to_string())?.into();
                Adam::new(cfg).map_err(|e| e.message().to_string())?;
                ("adamw", Rule::Adam(cfg))
            }
            other => return Err(format!("the WebGPU path has no \"{other}\" optimizer (it runs {}); use the CPU", GPU_OPTIMIZERS.join(", "))),
        };
        let names: &[&'static str] = match &rule {
            Rule::Sgd(c) if c.momentum != 0.0 => &["momentum_buffer"],
            Rule::Sgd(_) => &[],
            Rule::Adam(c) if c.amsgrad => &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
            Rule::Adam(_) => &["exp_avg", "exp_avg_sq"],
        };
        let mut state = Vec::new();
        for &s in names {
            state.push((s, ctx.storage(s, n)?));
        }
        let buf = |i: usize| state.get(i).map(|(_, b)| b).unwrap_or(dummy);
        let buffers = OptimBuffers { params, grads, state: [buf(0), buf(1), buf(2)] };
        let (dispatch, uniform) = match &rule {
            Rule::Sgd(c) => kernels::sgd_step(ctx, &buffers, &SgdUniform::new(c, n, true))?,
            Rule::Adam(c) => kernels::adam_step(ctx, &buffers, &AdamUniform::new(c, n, 1))?,
        };
        Ok(GpuOptimizer { name, rule, n, t: 0, state, dispatch, uniform })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// Write this step's scalars and return the dispatch to record after the backward pass.
    pub fn next_step(&mut self, ctx: &GpuContext) -> Result<&Dispatch, String> {
        self.t += 1;
        let bytes = match &self.rule {
            Rule::Sgd(c) => SgdUniform::new(c, self.n, self.t == 1).bytes(),
            Rule::Adam(c) => AdamUniform::new(c, self.n, self.t).bytes(),
        };
        ctx.write(&self.uniform, 0, &bytes)?;
        Ok(&self.dispatch)
    }

    pub fn lr(&self) -> f32 {
        match &self.rule {
            Rule::Sgd(c) => c.lr as f32,
            Rule::Adam(c) => c.lr as f32,
        }
    }

    /// Change the learning rate; the state is kept.
    pub fn set_lr(&mut self, lr: f32) -> Result<(), String> {
        let lr64 = lr as f64;
        let check = match &mut self.rule {
            Rule::Sgd(c) => {
                let mut next = *c;
                next.lr = lr64;
                next.validate().map(|_| *c = next)
            }
            Rule::Adam(c) => {
                let mut next = *c;
                next.lr = lr64;
                next.validate().map(|_| *c = next)
            }
        };
        check.map_err(|e| e.message().to_string())
    }

    /// Names of the state tensors (empty for plain SGD).
    pub fn state_names(&self) -> Vec<&'static str> {
        self.state.iter().map(|(k, _)| *k).collect()
    }

    /// The buffer of state tensor `key`, if this optimizer keeps it.
    pub fn state_buffer(&self, key: &str) -> Option<&GpuBuffer> {
        self.state.iter().find(|(k, _)| *k == key).map(|(_, b)| b)
    }
}
