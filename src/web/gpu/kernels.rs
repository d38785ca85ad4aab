//! Building dispatches: each function takes the buffers (with element offsets) and the
//! scalars of one kernel call, writes its uniform block and returns the [`Dispatch`] (plus the
//! uniform buffer, for the calls whose scalars change every step). Both the one-shot
//! operations of `ops.rs` and the training step of `mlp.rs` are made of these.

use super::context::{Dispatch, GpuContext};
use crate::gpu::{
    grid_1d, grid_bn, AdamUniform, BatchNormUniform, Kernel, LossUniform, MatmulPlan, MatmulUniform, PenaltyUniform, PointwiseUniform, ProxUniform,
    RmsPropUniform, RpropUniform, SgdUniform, MM_PARTIAL,
};
use web_sys::GpuBuffer;

/// A tensor inside a storage buffer: the buffer and the element offset where it starts.
#[derive(Clone, Copy)]
pub struct At<'a> {
    pub buf: &'a GpuBuffer,
    pub off: usize,
}

/// A tensor at the start of its own buffer.
pub fn at(buf: &GpuBuffer) -> At<'_> {
    At { buf, off: 0 }
}

/// Everything a product `c = act(op(a)·op(b) + bias + beta·c)` needs.
pub struct MatmulCall<'a> {
    pub plan: MatmulPlan,
    pub a: At<'a>,
    pub trans_a: bool,
    pub b: At<'a>,
    pub trans_b: bool,
    pub bias: Option<At<'a>>,
    pub c: At<'a>,
    pub beta: f32,
    pub act: u32,
    /// Split-K partial products (at least `plan.scratch_len()` floats) when the plan splits.
    pub scratch: Option<&'a GpuBuffer>,
    /// Bound in place of an absent bias.
    pub dummy: &'a GpuBuffer,
}

/// One dispatch, or two with split-K (partial products, then the reduction and epilogue).
pub fn matmul(ctx: &GpuContext, call: &MatmulCall) -> Result<Vec<Dispatch>, String> {
    let plan = &call.plan;
    let mut u = MatmulUniform::new(plan, call.trans_a, call.trans_b, call.bias.map(|b| b.off as u32), call.beta, call.act);
    u.a_off = call.a.off as u32;
    u.b_off = call.b.off as u32;
    u.c_off = call.c.off as u32;
    let bias = call.bias.map(|b| b.buf).unwrap_or(call.dummy);
    let kernel = Kernel::Matmul(plan.tile);
    if plan.splits == 1 {
        let uniform = ctx.uniform("matmul", &u.bytes())?;
        let bind_group = ctx.bind(kernel, &[(0, call.a.buf), (1, call.b.buf), (2, bias), (3, call.c.buf), (4, &uniform)]);
        return Ok(vec![Dispatch { kernel, bind_group, groups: plan.groups }]);
    }
    let scratch = call.scratch.ok_or("this product is split along k and needs a scratch buffer")?;
    let partial = MatmulUniform { flags: u.flags | MM_PARTIAL, ..u };
    let u_partial = ctx.uniform("matmul partial", &partial.bytes())?;
    let first = ctx.bind(kernel, &[(0, call.a.buf), (1, call.b.buf), (2, bias), (3, scratch), (4, &u_partial)]);
    let u_reduce = ctx.uniform("matmul reduce", &u.bytes())?;
    let second = ctx.bind(Kernel::ReduceSplit, &[(0, scratch), (2, bias), (3, call.c.buf), (4, &u_reduce)]);
    Ok(vec![
        Dispatch { kernel, bind_group: first, groups: plan.groups },
        Dispatch { kernel: Kernel::ReduceSplit, bind_group: second, groups: grid_1d(plan.m * plan.n) },
    ])
}

/// `dst = src · mask` (inverted dropout) over `u.n` elements.
pub fn dropout_forward(ctx: &GpuContext, src: &GpuBuffer, dst: &GpuBuffer, u: &PointwiseUniform) -> Result<(Dispatch, GpuBuffer), String> {
    let uniform = ctx.uniform("dropout", &u.bytes())?;
    let bind_group = ctx.bind(Kernel::DropoutForward, &[(0, src), (1, dst), (2, &uniform)]);
    Ok((Dispatch { kernel: Kernel::DropoutForward, bind_group, groups: grid_1d(u.n as usize) }, uniform))
}

/// `grad = grad · [mask] · f'(y)` in place, `y` the activation output.
pub fn act_backward(ctx: &GpuContext, y: &GpuBuffer, grad: &GpuBuffer, u: &PointwiseUniform) -> Result<(Dispatch, GpuBuffer), String> {
    let uniform = ctx.uniform("act backward", &u.bytes())?;
    let bind_group = ctx.bind(Kernel::ActBackward, &[(0, y), (1, grad), (2, &uniform)]);
    Ok((Dispatch { kernel: Kernel::ActBackward, bind_group, groups: grid_1d(u.n as usize) }, uniform))
}

/// `dst[off + j] = Σ_i src[i, j]` for a (rows × cols) `src`.
pub fn col_sum(ctx: &GpuContext, src: &GpuBuffer, rows: usize, cols: usize, dst: At) -> Result<Dispatch, String> {
    let u = PointwiseUniform { n: cols as u32, rows: rows as u32, out_off: dst.off as u32, ..Default::default() };
    let uniform = ctx.uniform("col sum", &u.bytes())?;
    let bind_group = ctx.bind(Kernel::ColSum, &[(0, src), (1, dst.buf), (2, &uniform)]);
    Ok(Dispatch { kernel: Kernel::ColSum, bind_group, groups: grid_1d(cols) })
}

/// Buffers of the loss kernels.
pub struct LossBuffers<'a> {
    pub logits: At<'a>,
    pub labels: &'a GpuBuffer,
    pub grad: &'a GpuBuffer,
    /// 2 floats per row: loss, missed.
    pub row_loss: &'a GpuBuffer,
    /// 2 floats per recorded step.
    pub ring: &'a GpuBuffer,
}

/// Cross-entropy rows (gradient, per-row loss and miss) and their reduction into ring slot
/// `u.slot`; returns the two dispatches and the reduction's uniform (its slot changes).
pub fn softmax_xent(ctx: &GpuContext, b: &LossBuffers, u: &LossUniform) -> Result<(Vec<Dispatch>, GpuBuffer), String> {
    let u_rows = ctx.uniform("softmax xent", &LossUniform { logits_off: b.logits.off as u32, ..*u }.bytes())?;
    let rows = ctx.bind(Kernel::SoftmaxXent, &[(0, b.logits.buf), (1, b.labels), (2, b.grad), (3, b.row_loss), (4, &u_rows)]);
    let u_reduce = ctx.uniform("reduce loss", &u.bytes())?;
    let reduce = ctx.bind(Kernel::ReduceLoss, &[(3, b.row_loss), (4, &u_reduce), (5, b.ring)]);
    Ok((
        vec![
            Dispatch { kernel: Kernel::SoftmaxXent, bind_group: rows, groups: grid_1d(u.rows as usize) },
            Dispatch { kernel: Kernel::ReduceLoss, bind_group: reduce, groups: [1, 1, 1] },
        ],
        u_reduce,
    ))
}

/// Buffers of a batch-norm layer.
pub struct BnBuffers<'a> {
    /// Forward: the input (Linear output); backward: the incoming gradient.
    pub x: &'a GpuBuffer,
    pub params: &'a GpuBuffer,
    /// Forward: the (activated) output; backward: dx.
    pub y: &'a GpuBuffer,
    pub x_hat: &'a GpuBuffer,
    /// running_mean | running_var | inv_std.
    pub stats: &'a GpuBuffer,
    /// Backward only.
    pub grads: Option<&'a GpuBuffer>,
}

/// A batch-norm dispatch: `Kernel::BnForwardTrain`, `BnForwardEval` or `BnBackward`.
pub fn batch_norm(ctx: &GpuContext, kernel: Kernel, b: &BnBuffers, u: &BatchNormUniform) -> Result<Dispatch, String> {
    let uniform = ctx.uniform("batch norm", &u.bytes())?;
    let bind_group = match kernel {
        Kernel::BnForwardTrain => ctx.bind(kernel, &[(0, b.x), (1, b.params), (2, b.y), (3, b.x_hat), (4, b.stats), (5, &uniform)]),
        Kernel::BnForwardEval => ctx.bind(kernel, &[(0, b.x), (1, b.params), (2, b.y), (4, b.stats), (5, &uniform)]),
        Kernel::BnBackward => {
            let grads = b.grads.ok_or("batch-norm backward needs the gradient buffer")?;
            ctx.bind(kernel, &[(0, b.x), (1, b.params), (2, b.y), (3, b.x_hat), (4, b.stats), (5, &uniform), (6, grads)])
        }
        other => return Err(format!("{other:?} is not a batch-norm kernel")),
    };
    Ok(Dispatch { kernel, bind_group, groups: grid_bn(u.features as usize) })
}

/// Parameters, gradients and state of an optimizer step.
pub struct OptimBuffers<'a> {
    pub params: &'a GpuBuffer,
    pub grads: &'a GpuBuffer,
    /// SGD: [momentum_buffer]; Rprop: [step_size, prev]; RMSprop: [square_avg, grad_avg,
    /// momentum_buffer]; Adam: [exp_avg, exp_avg_sq, max_exp_avg_sq]; `dummy` where absent.
    pub state: [&'a GpuBuffer; 3],
}

/// An SGD step; the uniform is returned for rewriting every step (the FIRST flag, the lr).
pub fn sgd_step(ctx: &GpuContext, b: &OptimBuffers, u: &SgdUniform) -> Result<(Dispatch, GpuBuffer), String> {
    let uniform = ctx.uniform("sgd", &u.bytes())?;
    let bind_group = ctx.bind(Kernel::SgdStep, &[(0, b.params), (1, b.grads), (2, b.state[0]), (5, &uniform)]);
    Ok((Dispatch { kernel: Kernel::SgdStep, bind_group, groups: grid_1d(u.n as usize) }, uniform))
}

/// An Adam/AdamW step; the uniform changes every step (bias corrections).
pub fn adam_step(ctx: &GpuContext, b: &OptimBuffers, u: &AdamUniform) -> Result<(Dispatch, GpuBuffer), String> {
    let uniform = ctx.uniform("adam", &u.bytes())?;
    let bind_group = ctx.bind(Kernel::AdamStep, &[(0, b.params), (1, b.grads), (2, b.state[0]), (3, b.state[1]), (4, b.state[2]), (6, &uniform)]);
    Ok((Dispatch { kernel: Kernel::AdamStep, bind_group, groups: grid_1d(u.n as usize) }, uniform))
}

/// An Rprop step; the uniform is rewritten while the state is fresh (the INIT flag).
pub fn rprop_step(ctx: &GpuContext, b: &OptimBuffers, u: &RpropUniform) -> Result<(Dispatch, GpuBuffer), String> {
    let uniform = ctx.uniform("rprop", &u.bytes())?;
    let bind_group = ctx.bind(Kernel::RpropStep, &[(0, b.params), (1, b.grads), (2, b.state[0]), (3, b.state[1]), (7, &uniform)]);
    Ok((Dispatch { kernel: Kernel::RpropStep, bind_group, groups: grid_1d(u.n as usize) }, uniform))
}

/// An RMSprop step; the uniform changes only with the learning rate.
pub fn rmsprop_step(ctx: &GpuContext, b: &OptimBuffers, u: &RmsPropUniform) -> Result<(Dispatch, GpuBuffer), String> {
    let uniform = ctx.uniform("rmsprop", &u.bytes())?;
    let bind_group = ctx.bind(Kernel::RmsPropStep, &[(0, b.params), (1, b.grads), (2, b.state[0]), (3, b.state[1]), (4, b.state[2]), (8, &uniform)]);
    Ok((Dispatch { kernel: Kernel::RmsPropStep, bind_group, groups: grid_1d(u.n as usize) }, uniform))
}

/// One layer's L1/L2 penalty: its gradient added to the weights' gradients, its value to the
/// loss record of slot `u.slot`; the uniform is returned for rewriting the slot every step.
pub fn penalty(
    ctx: &GpuContext,
    params: &GpuBuffer,
    grads: &GpuBuffer,
    ring: &GpuBuffer,
    u: &PenaltyUniform,
) -> Result<(Dispatch, GpuBuffer), String> {
    let uniform = ctx.uniform("penalty", &u.bytes())?;
    let bind_group = ctx.bind(Kernel::Penalty, &[(0, params), (1, grads), (2, ring), (3, &uniform)]);
    Ok((Dispatch { kernel: Kernel::Penalty, bind_group, groups: [1, 1, 1] }, uniform))
}

/// One layer's proximal L1 step (soft-thresholding its weights in place), recorded after the
/// optimizer's update; the uniform is returned for rewriting the threshold (lr·λ₁) every step.
pub fn prox(ctx: &GpuContext, params: &GpuBuffer, u: &ProxUniform) -> Result<(Dispatch, GpuBuffer), String> {
    let uniform = ctx.uniform("prox", &u.bytes())?;
    let bind_group = ctx.bind(Kernel::Prox, &[(4, params), (5, &uniform)]);
    Ok((Dispatch { kernel: Kernel::Prox, bind_group, groups: grid_1d(u.n as usize) }, uniform))
}
