//! The dense linear algebra a Gaussian process needs: Cholesky factors of a symmetric
//! positive-definite matrix (with jitter when rounding makes it look singular) and the
//! triangular solves built on them. Matrices are n × n, row-major, in plain `Vec<f64>`.
//!
//! # Cholesky with jitter
//!
//! K = L·Lᵀ with L lower triangular, column by column (the Cholesky–Banachiewicz order):
//! L_jj = √(K_jj − Σ_{k<j} L_jk²), L_ij = (K_ij − Σ_{k<j} L_ik·L_jk)/L_jj for i > j. It fails
//! when a pivot K_jj − Σ L_jk² is not positive, which for a kernel matrix means two inputs
//! are (nearly) the same and there is (almost) no noise: the matrix is singular up to rounding.
//! Then we add a small "jitter" to the diagonal and try again: 1e-10 of the mean diagonal,
//! then ten times more each try, up to 1e-4 of it (GPy's `jitchol` does the same). The jitter
//! acts as a little extra noise on the training targets; the caller is told how much was used.

use crate::optim::Num;
use crate::{bail, Result};

/// The Cholesky factor L of the symmetric n × n matrix `a`, or `None` when a pivot is not
/// positive (or not finite). Only the lower triangle of `a` is read.
pub(crate) fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            // K_ij − Σ_{k<j} L_ik·L_jk
            let dot: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            let rest = a[i * n + j] - dot;
            if i == j {
                if !(rest > 0.0 && rest.is_finite()) {
                    return None;
                }
                l[i * n + i] = rest.sqrt();
            } else {
                l[i * n + j] = rest / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// The Cholesky factor of `a + jitter·I` for the smallest jitter in 0, 1e-10·s, 1e-9·s, …,
/// 1e-4·s (s the mean diagonal) that works, and that jitter.
pub(crate) fn cholesky_jittered(a: &[f64], n: usize) -> Result<(Vec<f64>, f64)> {
    if let Some(l) = cholesky(a, n) {
        return Ok((l, 0.0));
    }
    let scale = (0..n).map(|i| a[i * n + i]).sum::<f64>() / n as f64;
    if !(scale > 0.0 && scale.is_finite()) {
        bail!("The kernel matrix is not positive definite (its mean diagonal is {})", Num(scale));
    }
    let mut shifted = a.to_vec();
    for power in (4..=10).rev() {
        let jitter = scale * 10f64.powi(-power);
        for i in 0..n {
            shifted[i * n + i] = a[i * n + i] + jitter;
        }
        if let Some(l) = cholesky(&shifted, n) {
            return Ok((l, jitter));
        }
    }
    bail!("The kernel matrix is not positive definite even with a jitter of {} on its diagonal; try a larger noise", Num(scale * 1e-4))
}

/// x with L·x = b (forward substitution).
pub(crate) fn solve_lower(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut x = b.to_vec();
    for i in 0..n {
        let dot: f64 = (0..i).map(|k| l[i * n + k] * x[k]).sum();
        x[i] = (x[i] - dot) / l[i * n + i];
    }
    x
}

/// x with Lᵀ·x = b (back substitution).
pub(crate) fn solve_upper_transposed(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut x = b.to_vec();
    for i in (0..n).rev() {
        let dot: f64 = (i + 1..n).map(|k| l[k * n + i] * x[k]).sum();
        x[i] = (x[i] - dot) / l[i * n + i];
    }
    x
}

/// x with (L·Lᵀ)·x = b: two triangular solves.
pub(crate) fn cho_solve(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    solve_upper_transposed(l, n, &solve_lower(l, n, b))
}

/// (L·Lᵀ)⁻¹, one column of the identity at a time; row-major (it is symmetric).
pub(crate) fn cho_inverse(l: &[f64], n: usize) -> Vec<f64> {
    let mut inv = vec![0.0; n * n];
    let mut e = vec![0.0; n];
    for j in 0..n {
        e[j] = 1.0;
        let column = cho_solve(l, n, &e);
        e[j] = 0.0;
        for i in 0..n {
            inv[i * n + j] = column[i];
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_and_solve_a_small_system() {
        // K = [[4, 2], [2, 3]]: L = [[2, 0], [1, √2]]; K·[1, 2] = [8, 8].
        let k = [4.0, 2.0, 2.0, 3.0];
        let l = cholesky(&k, 2).unwrap();
        let want = [2.0, 0.0, 1.0, 2f64.sqrt()];
        for (a, b) in l.iter().zip(want) {
            assert!((a - b).abs() < 1e-15);
        }
        let x = cho_solve(&l, 2, &[8.0, 8.0]);
        assert!((x[0] - 1.0).abs() < 1e-14 && (x[1] - 2.0).abs() < 1e-14, "{x:?}");
        let inv = cho_inverse(&l, 2);
        // K⁻¹ = [[3, −2], [−2, 4]]/8
        for (a, b) in inv.iter().zip([0.375, -0.25, -0.25, 0.5]) {
            assert!((a - b).abs() < 1e-15);
        }
    }

    #[test]
    fn a_singular_matrix_gets_jitter() {
        // Two identical inputs and no noise: [[1, 1], [1, 1]] has a zero pivot.
        let k = [1.0, 1.0, 1.0, 1.0];
        assert!(cholesky(&k, 2).is_none());
        let (l, jitter) = cholesky_jittered(&k, 2).unwrap();
        assert!(jitter > 0.0 && jitter <= 1e-4, "{jitter}");
        assert!(l.iter().all(|v| v.is_finite()));
        assert!(cholesky_jittered(&[-1.0], 1).unwrap_err().message().contains("not positive definite"));
    }
}
