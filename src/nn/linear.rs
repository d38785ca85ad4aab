//! Linear (fully connected) layer, as `torch.nn.Linear`.
//!
//! Forward:  `Y = X·Wᵀ + b`  with X (batch × in), W (out × in), b (out), Y (batch × out).
//! Backward, given dY = ∂L/∂Y:
//!   `dW = dYᵀ·X`   (out × in)
//!   `db = Σ_rows dY` (out)
//!   `dX = dY·W`    (batch × in)
//!
//! Every row of X passes through the same W, so the batch dimension survives: m rows in,
//! m rows out. That is the "type check" the first notebook cell shows.

use crate::backend::{gemm, gemm_bias_act, Op};

/// `y = x·wᵀ + b`; `x` (batch × fan_in), `w` (fan_out × fan_in), returns (batch × fan_out).
pub fn forward(x: &[f32], batch: usize, w: &[f32], b: &[f32], fan_in: usize, fan_out: usize) -> Vec<f32> {
    forward_act(x, batch, w, b, fan_in, fan_out, false)
}

/// [`forward`], then ReLU when `relu`: bias and ReLU are applied as the product writes its
/// output (`backend::gemm_bias_act`), so y is written once; the numbers are those of
/// `forward` followed by `Activation::Relu.forward`.
pub fn forward_act(x: &[f32], batch: usize, w: &[f32], b: &[f32], fan_in: usize, fan_out: usize, relu: bool) -> Vec<f32> {
    let mut y = vec![0.0; batch * fan_out];
    gemm_bias_act(batch, fan_in, fan_out, x, Op::N, w, Op::T, b, relu, &mut y);
    y
}

/// Accumulate `dW += dYᵀ·X` and `db += Σ dY` (so several losses may add up), and return
/// `dX = dY·W` when `need_dx` (the first layer's input gradient is not needed).
#[allow(clippy::too_many_arguments)]
pub fn backward(
    x: &[f32],
    dy: &[f32],
    batch: usize,
    w: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    fan_in: usize,
    fan_out: usize,
    need_dx: bool,
) -> Option<Vec<f32>> {
    backward_into(x, dy, batch, w, dw, db, fan_in, fan_out, need_dx, true)
}

/// [`backward`], adding into `dw` and `db` when `accumulate`, else overwriting them (a
/// training step that starts its gradients afresh need not zero them first: the product
/// writes dW straight from its registers).
#[allow(clippy::too_many_arguments)]
pub fn backward_into(
    x: &[f32],
    dy: &[f32],
    batch: usize,
    w: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    fan_in: usize,
    fan_out: usize,
    need_dx: bool,
    accumulate: bool,
) -> Option<Vec<f32>> {
    // dW (out × in) = dYᵀ (out × batch) · X (batch × in)
    gemm(fan_out, batch, fan_in, dy, Op::T, x, Op::N, if accumulate { 1.0 } else { 0.0 }, dw);
    if !accumulate {
        db.fill(0.0);
    }
    for row in dy.chunks_exact(fan_out) {
        for (g, &d) in db.iter_mut().zip(row) {
            *g += d;
        }
    }
    need_dx.then(|| {
        // dX (batch × in) = dY (batch × out) · W (out × in)
        let mut dx = vec![0.0; batch * fan_in];
        gemm(batch, fan_out, fan_in, dy, Op::N, w, Op::N, 0.0, &mut dx);
        dx
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn forward_keeps_the_batch_dimension() {
        let (fan_in, fan_out) = (3, 2);
        let w = [1.0, 0.0, -1.0, 0.5, 0.5, 0.5];
        let b = [0.1, -0.1];
        for batch in [1, 4, 9] {
            let x: Vec<f32> = (0..batch * fan_in).map(|i| i as f32).collect();
            let y = super::forward(&x, batch, &w, &b, fan_in, fan_out);
            assert_eq!(y.len(), batch * fan_out);
            // first row: x = [0, 1, 2] → [0 - 2 + 0.1, 1.5 - 0.1]
            assert!((y[0] - (-1.9)).abs() < 1e-6 && (y[1] - 1.4).abs() < 1e-6);
        }
    }
}
