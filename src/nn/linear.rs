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

use crate::backend::{gemm, gemm_bias_act, gemm_relu_grad, gemm_row_sums, Op, Rows};

/// `y = x·wᵀ + b`; `x` (batch × fan_in), `w` (fan_out × fan_in), returns (batch × fan_out).
pub fn forward(x: &[f32], batch: usize, w: &[f32], b: &[f32], fan_in: usize, fan_out: usize) -> Vec<f32> {
    forward_act(x, batch, w, b, fan_in, fan_out, false)
}

/// [`forward`], then ReLU when `relu`: bias and ReLU are applied as the product writes its
/// output (`backend::gemm_bias_act`), so y is written once; the numbers are those of
/// `forward` followed by `Activation::Relu.forward`.
pub fn forward_act(x: &[f32], batch: usize, w: &[f32], b: &[f32], fan_in: usize, fan_out: usize, relu: bool) -> Vec<f32> {
    let mut y = Vec::new();
    forward_into(x, batch, w, b, fan_in, fan_out, relu, &mut y);
    y
}

/// [`forward_act`] into `y` (resized, its allocation kept; every value is overwritten). `x`
/// may be rows gathered from a larger table ([`Rows::gathered`]: a mini-batch of the training
/// set), which the product reads in place.
#[allow(clippy::too_many_arguments)]
pub fn forward_into<'x>(x: impl Into<Rows<'x>>, batch: usize, w: &[f32], b: &[f32], fan_in: usize, fan_out: usize, relu: bool, y: &mut Vec<f32>) {
    gemm_bias_act(batch, fan_in, fan_out, x, Op::N, w, Op::T, b, relu, sized(y, batch * fan_out));
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
    let mut dx = Vec::new();
    let input = if need_dx { InputGrad::Dx(&mut dx) } else { InputGrad::None };
    backward_into(x, dy, batch, w, dw, db, fan_in, fan_out, input, true);
    need_dx.then_some(dx)
}

/// Which input gradient [`backward_into`] writes, into the buffer given (resized to
/// batch × fan_in; its old values are overwritten, so it needs no zeroing).
pub enum InputGrad<'a> {
    /// None (the first layer's input gradient is never used).
    None,
    /// `dX = dY·W`.
    Dx(&'a mut Vec<f32>),
    /// x was a ReLU's output: the gradient of that ReLU's *input*, dX zeroed where x ≤ 0
    /// (`Activation::Relu`'s backward), applied as the product writes dX, so the layer below
    /// neither reads nor rewrites it for its activation.
    ThroughRelu(&'a mut Vec<f32>),
}

/// [`backward`], adding into `dw` and `db` when `accumulate`, else overwriting them (a
/// training step that starts its gradients afresh need not zero them first: the product
/// writes dW straight from its registers), and writing the input gradient `input` asks for.
///
/// One product makes both parameter gradients: db's sums over the rows of dY are taken as
/// the product packs dYᵀ (`backend::gemm_row_sums`), the same additions in the same order as
/// a loop over the rows. As in [`forward_into`], `x` may be gathered rows.
#[allow(clippy::too_many_arguments)]
pub fn backward_into<'x>(
    x: impl Into<Rows<'x>>,
    dy: &[f32],
    batch: usize,
    w: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    fan_in: usize,
    fan_out: usize,
    input: InputGrad,
    accumulate: bool,
) {
    let x = x.into();
    if !accumulate {
        db.fill(0.0);
    }
    // dW (out × in) = dYᵀ (out × batch) · X (batch × in), db += the rows of dYᵀ summed
    gemm_row_sums(fan_out, batch, fan_in, dy, Op::T, x, Op::N, if accumulate { 1.0 } else { 0.0 }, dw, db);
    // dX (batch × in) = dY (batch × out) · W (out × in)
    match input {
        InputGrad::None => {}
        InputGrad::Dx(dx) => gemm(batch, fan_out, fan_in, dy, Op::N, w, Op::N, 0.0, sized(dx, batch * fan_in)),
        InputGrad::ThroughRelu(dx) => {
            let y = x.as_dense().expect("a ReLU's output is a matrix of its own, not gathered rows");
            gemm_relu_grad(batch, fan_out, fan_in, dy, Op::N, w, Op::N, y, sized(dx, batch * fan_in))
        }
    }
}

/// `v` made `len` long, keeping its allocation; the values are whatever was there (or 0), for
/// a caller that overwrites them all.
pub fn sized(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if v.len() < len {
        v.resize(len, 0.0);
    } else {
        v.truncate(len);
    }
    v
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
