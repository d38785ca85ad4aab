//! Single kernel calls on CPU data: upload, one submit, read back. Slow by design (a mapAsync
//! per call); they exist so every WGSL kernel can be compared with its scalar reference
//! (`tests/web_gpu.rs`), and they go through the same dispatch builders as the training step.
//! Every call collects WebGPU validation errors (a shader that fails to compile, a bad
//! binding) and returns them as the error.

use super::context::GpuContext;
use super::kernels::{self, at, BnBuffers, LossBuffers, MatmulCall};
use crate::gpu::{BatchNormUniform, Kernel, LossUniform, MatmulPlan, PointwiseUniform};

/// `act(op(A)·op(B) + bias + beta·C)` for row-major A (m × k, or k × m with `trans_a`) and B
/// (k × n, or n × k with `trans_b`); `c` is C's initial value (read only when beta ≠ 0).
#[allow(clippy::too_many_arguments)]
pub async fn matmul(
    ctx: &GpuContext,
    (m, k, n): (usize, usize, usize),
    a: &[f32],
    trans_a: bool,
    b: &[f32],
    trans_b: bool,
    bias: Option<&[f32]>,
    c: &[f32],
    beta: f32,
    act: u32,
) -> Result<Vec<f32>, String> {
    ctx.push_errors();
    let plan = MatmulPlan::new(m, k, n);
    let (ab, bb, cb) = (ctx.storage_from("a", a)?, ctx.storage_from("b", b)?, ctx.storage_from("c", c)?);
    let biasb = bias.map(|v| ctx.storage_from("bias", v)).transpose()?;
    let dummy = ctx.storage("dummy", 4)?;
    let scratch = if plan.splits > 1 { Some(ctx.storage("scratch", plan.scratch_len())?) } else { None };
    let call = MatmulCall {
        plan,
        a: at(&ab),
        trans_a,
        b: at(&bb),
        trans_b,
        bias: biasb.as_ref().map(at),
        c: at(&cb),
        beta,
        act,
        scratch: scratch.as_ref(),
        dummy: &dummy,
    };
    ctx.run(&kernels::matmul(ctx, &call)?);
    let out = ctx.read(&cb, 0, m * n).await;
    ctx.pop_errors("matmul").await?;
    out
}

/// `grad · [dropout mask] · f'(y)` as the backward pass computes it.
pub async fn act_backward(ctx: &GpuContext, y: &[f32], grad: &[f32], u: PointwiseUniform) -> Result<Vec<f32>, String> {
    ctx.push_errors();
    let (yb, gb) = (ctx.storage_from("y", y)?, ctx.storage_from("grad", grad)?);
    let (d, _u) = kernels::act_backward(ctx, &yb, &gb, &PointwiseUniform { n: y.len() as u32, ..u })?;
    ctx.run(&[d]);
    let out = ctx.read(&gb, 0, y.len()).await;
    ctx.pop_errors("act_backward").await?;
    out
}

/// Inverted dropout of `x` with the counter-based mask of (key, step).
pub async fn dropout_forward(ctx: &GpuContext, x: &[f32], p: f32, key: u32, step: u32) -> Result<Vec<f32>, String> {
    ctx.push_errors();
    let (xb, yb) = (ctx.storage_from("x", x)?, ctx.storage("y", x.len())?);
    let u = PointwiseUniform { n: x.len() as u32, dropout: 1, p, scale: 1.0 / (1.0 - p), key, step, ..Default::default() };
    let (d, _u) = kernels::dropout_forward(ctx, &xb, &yb, &u)?;
    ctx.run(&[d]);
    let out = ctx.read(&yb, 0, x.len()).await;
    ctx.pop_errors("dropout_forward").await?;
    out
}

/// Column sums of a (rows × cols) matrix.
pub async fn col_sum(ctx: &GpuContext, x: &[f32], rows: usize, cols: usize) -> Result<Vec<f32>, String> {
    ctx.push_errors();
    let (xb, yb) = (ctx.storage_from("x", x)?, ctx.storage("sums", cols)?);
    ctx.run(&[kernels::col_sum(ctx, &xb, rows, cols, at(&yb))?]);
    let out = ctx.read(&yb, 0, cols).await;
    ctx.pop_errors("col_sum").await?;
    out
}

/// Softmax cross-entropy: (reduced loss, misclassified rows, ∂loss/∂logits).
pub async fn softmax_xent(ctx: &GpuContext, logits: &[f32], labels: &[u32], classes: usize, scale: f32) -> Result<(f32, usize, Vec<f32>), String> {
    ctx.push_errors();
    let rows = labels.len();
    let lb = ctx.storage_from("logits", logits)?;
    let yb = ctx.storage_from_u32("labels", labels)?;
    let (gb, rb, ring) = (ctx.storage("grad", rows * classes)?, ctx.storage("row loss", 2 * rows)?, ctx.storage("ring", 8)?);
    let bufs = LossBuffers { logits: at(&lb), labels: &yb, grad: &gb, row_loss: &rb, ring: &ring };
    let u = LossUniform { rows: rows as u32, classes: classes as u32, scale, slot: 1, logits_off: 0 };
    let (d, _u) = kernels::softmax_xent(ctx, &bufs, &u)?;
    ctx.run(&d);
    let rec = ctx.read(&ring, 2, 2).await;
    let grad = ctx.read(&gb, 0, rows * classes).await;
    ctx.pop_errors("softmax_xent").await?;
    let rec = rec?;
    Ok((rec[0], rec[1] as usize, grad?))
}

/// What a batch-norm call returns: the output and the state after it.
pub struct BnResult {
    pub y: Vec<f32>,
    pub running_mean: Vec<f32>,
    pub running_var: Vec<f32>,
    /// Backward only: (dx, dγ, dβ).
    pub grads: Option<(Vec<f32>, Vec<f32>, Vec<f32>)>,
}

/// Batch-norm on (rows × features) `x` with γ, β and running statistics, followed by `act`;
/// `training` uses the batch statistics (and updates the running ones). With `dy`, the
/// gradient of the output, also runs the training-mode backward (use `act` = identity: the
/// activation's own backward is `act_backward`).
#[allow(clippy::too_many_arguments)]
pub async fn batch_norm(
    ctx: &GpuContext,
    x: &[f32],
    rows: usize,
    gamma: &[f32],
    beta: &[f32],
    running: (&[f32], &[f32]),
    (eps, momentum, act): (f32, f32, u32),
    training: bool,
    dy: Option<&[f32]>,
) -> Result<BnResult, String> {
    ctx.push_errors();
    let f = gamma.len();
    let mut p = gamma.to_vec();
    p.extend_from_slice(beta);
    let mut stats = running.0.to_vec();
    stats.extend_from_slice(running.1);
    stats.extend(vec![0.0; f]);
    let (xb, pb, sb) = (ctx.storage_from("x", x)?, ctx.storage_from("gamma beta", &p)?, ctx.storage_from("stats", &stats)?);
    let (yb, hb) = (ctx.storage("y", rows * f)?, ctx.storage("x_hat", rows * f)?);
    let u = BatchNormUniform { rows: rows as u32, features: f as u32, gamma_off: 0, beta_off: f as u32, eps, momentum, act };
    let kernel = if training { Kernel::BnForwardTrain } else { Kernel::BnForwardEval };
    let mut d = vec![kernels::batch_norm(ctx, kernel, &BnBuffers { x: &xb, params: &pb, y: &yb, x_hat: &hb, stats: &sb, grads: None }, &u)?];
    let back = match dy {
        Some(dy) => {
            let (gb, dxb, gradb) = (ctx.storage_from("dy", dy)?, ctx.storage("dx", rows * f)?, ctx.storage("dgamma dbeta", 2 * f)?);
            let b = BnBuffers { x: &gb, params: &pb, y: &dxb, x_hat: &hb, stats: &sb, grads: Some(&gradb) };
            d.push(kernels::batch_norm(ctx, Kernel::BnBackward, &b, &u)?);
            Some((dxb, gradb))
        }
        None => None,
    };
    ctx.run(&d);
    let y = ctx.read(&yb, 0, rows * f).await?;
    let s = ctx.read(&sb, 0, 2 * f).await?;
    let grads = match back {
        Some((dxb, gradb)) => {
            let dx = ctx.read(&dxb, 0, rows * f).await?;
            let g = ctx.read(&gradb, 0, 2 * f).await?;
            Some((dx, g[..f].to_vec(), g[f..].to_vec()))
        }
        None => None,
    };
    ctx.pop_errors("batch_norm").await?;
    Ok(BnResult { y, running_mean: s[..f].to_vec(), running_var: s[f..].to_vec(), grads })
}

/// Several optimizer steps on `params`, one per gradient in `grads`; returns the parameters
/// and the named state tensors after the last step.
pub async fn optimizer_steps(
    ctx: &GpuContext,
    name: &str,
    options: &serde_json::Value,
    params: &[f32],
    grads: &[Vec<f32>],
) -> Result<(Vec<f32>, Vec<(&'static str, Vec<f32>)>), String> {
    ctx.push_errors();
    let n = params.len();
    let (pb, gb, dummy) = (ctx.storage_from("params", params)?, ctx.storage("grads", n)?, ctx.storage("dummy", 4)?);
    let mut opt = super::optim::GpuOptimizer::new(ctx, name, options, &pb, &gb, n, &dummy)?;
    for g in grads {
        ctx.write(&gb, 0, super::context::f32_bytes(g))?;
        let d = opt.next_step(ctx)?;
        ctx.run([d]);
    }
    let out = ctx.read(&pb, 0, n).await?;
    let mut state = Vec::new();
    for key in opt.state_names() {
        let b = opt.state_buffer(key).expect("named");
        state.push((key, ctx.read(b, 0, n).await?));
    }
    ctx.pop_errors("optimizer").await?;
    Ok((out, state))
}
