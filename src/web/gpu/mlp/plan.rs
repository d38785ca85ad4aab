//! Recording one training step of a [`GpuMlp`] for a batch size: every dispatch of the
//! forward pass, the loss, the backward pass, in order, with their uniforms and bind groups
//! created once and reused for every later step of that size.

use super::{BnLayer, GpuMlp, Layer};
use crate::gpu::{BatchNormUniform, Kernel, LossUniform, MatmulPlan, PenaltyUniform, PointwiseUniform, ProxUniform, ACT_IDENTITY};
use crate::nn::Reduction;
use crate::web::gpu::context::Dispatch;
use crate::web::gpu::kernels::{self, at, At, BnBuffers, LossBuffers, MatmulCall};
use web_sys::GpuBuffer;

/// The recorded work of one step for one batch size.
pub(super) struct StepPlan {
    pub(super) dispatches: Vec<Dispatch>,
    /// Uniforms holding the dropout step counter.
    pub(super) per_step: Vec<(GpuBuffer, PointwiseUniform)>,
    /// The loss reduction's uniform (its ring slot changes every step).
    pub(super) loss: (GpuBuffer, LossUniform),
    /// The penalty's uniform per layer, when a penalty is set (the ring slot changes too).
    pub(super) penalty: Vec<(GpuBuffer, PenaltyUniform)>,
    /// L1's proximal step per layer, recorded after the optimizer's update (empty unless L1
    /// is proximal), with the uniforms whose threshold lr·λ₁ is rewritten every step.
    pub(super) prox: Vec<Dispatch>,
    pub(super) prox_uniforms: Vec<(GpuBuffer, ProxUniform)>,
    _scratch: Option<GpuBuffer>,
}

impl GpuMlp {
    /// Record the dispatches of a step on `m` rows (built once per batch size).
    pub(super) fn build_plan(&self, m: usize) -> Result<StepPlan, String> {
        let ctx = &*self.ctx;
        let last = self.layers.len() - 1;
        // One scratch buffer serves every split product of the step (they run one by one).
        let mut scratch_len = 0;
        for l in &self.layers {
            for p in [MatmulPlan::new(m, l.fan_in, l.fan_out), MatmulPlan::new(l.fan_out, m, l.fan_in), MatmulPlan::new(m, l.fan_out, l.fan_in)] {
                scratch_len = scratch_len.max(p.scratch_len());
            }
        }
        let scratch = if scratch_len > 0 { Some(ctx.storage("split-k scratch", scratch_len)?) } else { None };
        let (params, grads) = (&self.params, &self.grads);
        let mut d = Vec::new();
        let mut per_step = Vec::new();
        let dropout_uniform = |l: &Layer, n: usize, act: u32| PointwiseUniform {
            n: n as u32,
            act,
            dropout: (l.dropout > 0.0) as u32,
            p: l.dropout,
            scale: 1.0 / (1.0 - l.dropout),
            key: l.key,
            ..Default::default()
        };
        let input = |l: usize| if l == 0 { self.input() } else { self.layers[l - 1].output() };

        // input dropout: the first layer reads (and its weight gradient sees) the dropped batch
        if let Some(dropped) = &self.x_dropped {
            let p = self.input_dropout;
            let n = m * self.sizes[0];
            let u =
                PointwiseUniform { n: n as u32, act: ACT_IDENTITY, dropout: 1, p, scale: 1.0 / (1.0 - p), key: self.input_key, ..Default::default() };
            let (disp, buf) = kernels::dropout_forward(ctx, &self.x, dropped, &u)?;
            d.push(disp);
            per_step.push((buf, u));
        }

        for (i, l) in self.layers.iter().enumerate() {
            // Z = X·Wᵀ + b, with the activation fused unless batch-norm comes first
            let (target, act) = match &l.bn {
                Some(bn) => (&bn.z, ACT_IDENTITY),
                None => (&l.out, l.act),
            };
            d.extend(kernels::matmul(
                ctx,
                &MatmulCall {
                    plan: MatmulPlan::new(m, l.fan_in, l.fan_out),
                    a: at(input(i)),
                    trans_a: false,
                    b: At { buf: params, off: l.w_off },
                    trans_b: true,
                    bias: Some(At { buf: params, off: l.b_off }),
                    c: at(target),
                    beta: 0.0,
                    act,
                    scratch: scratch.as_ref(),
                    dummy: &self.dummy,
                },
            )?);
            if let Some(bn) = &l.bn {
                let u = self.bn_uniform(m, l, bn);
                let b = BnBuffers { x: &bn.z, params, y: &l.out, x_hat: &bn.x_hat, stats: &bn.stats, grads: None };
                d.push(kernels::batch_norm(ctx, Kernel::BnForwardTrain, &b, &u)?);
            }
            if let Some(dropped) = &l.dropped {
                let u = dropout_uniform(l, m * l.fan_out, ACT_IDENTITY);
                let (disp, buf) = kernels::dropout_forward(ctx, &l.out, dropped, &u)?;
                d.push(disp);
                per_step.push((buf, u));
            }
        }

        let scale = if self.reduction == Reduction::Mean { 1.0 / m as f32 } else { 1.0 };
        let lu = LossUniform { rows: m as u32, classes: self.layers[last].fan_out as u32, scale, ..Default::default() };
        let lb = LossBuffers {
            logits: at(&self.layers[last].out),
            labels: &self.labels,
            grad: &self.layers[last].grad,
            row_loss: &self.row_loss,
            ring: &self.ring,
        };
        let (loss_dispatches, loss_uniform) = kernels::softmax_xent(ctx, &lb, &lu)?;
        d.extend(loss_dispatches);

        for i in (0..self.layers.len()).rev() {
            let l = &self.layers[i];
            if i != last && (l.act != ACT_IDENTITY || l.dropped.is_some()) {
                let u = dropout_uniform(l, m * l.fan_out, l.act);
                let (disp, buf) = kernels::act_backward(ctx, &l.out, &l.grad, &u)?;
                d.push(disp);
                if l.dropped.is_some() {
                    per_step.push((buf, u));
                }
            }
            let g = match &l.bn {
                Some(bn) => {
                    let u = self.bn_uniform(m, l, bn);
                    let b = BnBuffers { x: &l.grad, params, y: &bn.dz, x_hat: &bn.x_hat, stats: &bn.stats, grads: Some(grads) };
                    d.push(kernels::batch_norm(ctx, Kernel::BnBackward, &b, &BatchNormUniform { act: ACT_IDENTITY, ..u })?);
                    &bn.dz
                }
                None => &l.grad,
            };
            // dW (out × in) = gᵀ (out × m) · X (m × in)
            d.extend(kernels::matmul(
                ctx,
                &MatmulCall {
                    plan: MatmulPlan::new(l.fan_out, m, l.fan_in),
                    a: at(g),
                    trans_a: true,
                    b: at(input(i)),
                    trans_b: false,
                    bias: None,
                    c: At { buf: grads, off: l.w_off },
                    beta: 0.0,
                    act: ACT_IDENTITY,
                    scratch: scratch.as_ref(),
                    dummy: &self.dummy,
                },
            )?);
            // db = Σ_rows g
            d.push(kernels::col_sum(ctx, g, m, l.fan_out, At { buf: grads, off: l.b_off })?);
            if i > 0 {
                // dX (m × in) = g (m × out) · W (out × in), the previous layer's output gradient
                d.extend(kernels::matmul(
                    ctx,
                    &MatmulCall {
                        plan: MatmulPlan::new(m, l.fan_out, l.fan_in),
                        a: at(g),
                        trans_a: false,
                        b: At { buf: params, off: l.w_off },
                        trans_b: false,
                        bias: None,
                        c: at(&self.layers[i - 1].grad),
                        beta: 0.0,
                        act: ACT_IDENTITY,
                        scratch: scratch.as_ref(),
                        dummy: &self.dummy,
                    },
                )?);
            }
        }
        // L1/L2 on each weight matrix, once every gradient is in, before the optimizer: adds
        // its gradient to dW and its value to this step's loss record.
        let mut penalty = Vec::new();
        if !self.penalty.is_zero() {
            for l in &self.layers {
                let u = PenaltyUniform::new(&self.penalty, l.fan_in * l.fan_out, l.w_off);
                let (disp, buf) = kernels::penalty(ctx, params, grads, &self.ring, &u)?;
                d.push(disp);
                penalty.push((buf, u));
            }
        }
        // Proximal L1: soft-threshold each weight matrix after the update (`GpuMlp::step`
        // records these after the optimizer's dispatch).
        let (mut prox, mut prox_uniforms) = (Vec::new(), Vec::new());
        if let Some(t) = self.penalty.prox_threshold(self.optimizer.lr()) {
            for l in &self.layers {
                let u = ProxUniform::new(l.fan_in * l.fan_out, l.w_off, t);
                let (disp, buf) = kernels::prox(ctx, params, &u)?;
                prox.push(disp);
                prox_uniforms.push((buf, u));
            }
        }
        Ok(StepPlan { dispatches: d, per_step, loss: (loss_uniform, lu), penalty, prox, prox_uniforms, _scratch: scratch })
    }

    fn bn_uniform(&self, m: usize, l: &Layer, bn: &BnLayer) -> BatchNormUniform {
        BatchNormUniform {
            rows: m as u32,
            features: l.fan_out as u32,
            gamma_off: bn.gamma_off as u32,
            beta_off: bn.beta_off as u32,
            eps: self.bn_eps,
            momentum: self.bn_momentum,
            act: l.act,
        }
    }
}
