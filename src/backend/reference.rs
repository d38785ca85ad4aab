//! Scalar reference kernels: the slow, obvious oracle that every fast kernel is tested against.

use super::Op;

/// `C ← op(A)·op(B) + beta·C`, three plain loops, accumulated in f64.
#[allow(clippy::too_many_arguments)]
pub fn gemm(m: usize, k: usize, n: usize, a: &[f32], ta: Op, b: &[f32], tb: Op, beta: f32, c: &mut [f32]) {
    let at = |i: usize, p: usize| match ta {
        Op::N => a[i * k + p],
        Op::T => a[p * m + i],
    };
    let bt = |p: usize, j: usize| match tb {
        Op::N => b[p * n + j],
        Op::T => b[j * k + p],
    };
    for i in 0..m {
        for j in 0..n {
            let mut s = 0f64;
            for p in 0..k {
                s += at(i, p) as f64 * bt(p, j) as f64;
            }
            let prev = if beta == 0.0 { 0.0 } else { beta * c[i * n + j] };
            c[i * n + j] = s as f32 + prev;
        }
    }
}

/// Column sums of a (rows × cols) matrix, added row by row in f32 (the bias gradient).
pub fn col_sum(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut s = vec![0f32; cols];
    for row in x.chunks_exact(cols).take(rows) {
        s.iter_mut().zip(row).for_each(|(a, &v)| *a += v);
    }
    s
}
