//! The CPU kernels: ndarray's general matrix product over borrowed slices.

use super::Op;
use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

fn view<'a>(rows: usize, cols: usize, data: &'a [f32], op: Op) -> ArrayView2<'a, f32> {
    match op {
        Op::N => ArrayView2::from_shape((rows, cols), data).expect("operand shape"),
        Op::T => ArrayView2::from_shape((cols, rows), data).expect("operand shape").reversed_axes(),
    }
}

/// See [`super::gemm`]. Shapes are checked by the callers (the layers), which own them.
#[allow(clippy::too_many_arguments)]
pub fn gemm(m: usize, k: usize, n: usize, a: &[f32], ta: Op, b: &[f32], tb: Op, beta: f32, c: &mut [f32]) {
    debug_assert_eq!(a.len(), m * k);
    debug_assert_eq!(b.len(), k * n);
    debug_assert_eq!(c.len(), m * n);
    if m == 0 || n == 0 {
        return;
    }
    let av = view(m, k, a, ta);
    let bv = view(k, n, b, tb);
    let mut cv = ArrayViewMut2::from_shape((m, n), c).expect("output shape");
    general_mat_mul(1.0, &av, &bv, beta, &mut cv);
}

#[cfg(test)]
mod tests {
    use super::super::{reference, Op};
    use crate::Rng;

    /// Every transpose combination against the scalar oracle, at awkward shapes.
    #[test]
    fn matches_reference() {
        let mut rng = Rng::new(5);
        for &(m, k, n) in &[(1, 1, 1), (1, 7, 5), (5, 7, 1), (13, 33, 9), (64, 784, 17)] {
            for &ta in &[Op::N, Op::T] {
                for &tb in &[Op::N, Op::T] {
                    let a: Vec<f32> = (0..m * k).map(|_| rng.normal(0.0, 1.0)).collect();
                    let b: Vec<f32> = (0..k * n).map(|_| rng.normal(0.0, 1.0)).collect();
                    let c0: Vec<f32> = (0..m * n).map(|_| rng.normal(0.0, 1.0)).collect();
                    let mut c = c0.clone();
                    let mut r = c0.clone();
                    super::gemm(m, k, n, &a, ta, &b, tb, 0.5, &mut c);
                    reference::gemm(m, k, n, &a, ta, &b, tb, 0.5, &mut r);
                    for (x, y) in c.iter().zip(&r) {
                        assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{m}x{k}x{n} {ta:?}{tb:?}: {x} vs {y}");
                    }
                }
            }
        }
    }
}
