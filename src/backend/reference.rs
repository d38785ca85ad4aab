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

/// The "lowbias32" integer hash (C. Wellons): the mixing function of the GPU's counter-based
/// dropout generator (`webgpu/rng.wgsl`), here so the GPU masks can be checked bit for bit.
pub fn mix32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

/// A uniform number in [0, 1) with 24 random bits for (key, step, index), as `uniform01` in
/// `rng.wgsl` (24 bits make the value exact in f32, so both sides compare it to p alike).
pub fn uniform01(key: u32, step: u32, index: u32) -> f32 {
    let h = mix32(mix32(key ^ step) ^ index);
    (h >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// Inverted dropout's factor for one element: 0 with probability p, else `scale` = 1/(1 − p).
pub fn dropout_factor(key: u32, step: u32, index: u32, p: f32, scale: f32) -> f32 {
    if uniform01(key, step, index) < p {
        0.0
    } else {
        scale
    }
}

/// The GPU's dropout mask for `n` elements at `step`: what the CPU's ChaCha masks are not
/// (they come from another generator), but what `dropout_forward` must reproduce exactly.
pub fn dropout_mask(key: u32, step: u32, n: usize, p: f32) -> Vec<f32> {
    let scale = 1.0 / (1.0 - p);
    (0..n).map(|i| dropout_factor(key, step, i as u32, p, scale)).collect()
}

/// Column sums of a (rows × cols) matrix, added row by row in f32 (the bias gradient).
pub fn col_sum(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut s = vec![0f32; cols];
    for row in x.chunks_exact(cols).take(rows) {
        s.iter_mut().zip(row).for_each(|(a, &v)| *a += v);
    }
    s
}
