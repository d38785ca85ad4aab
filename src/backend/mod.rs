//! Compute backends. Everything above this module calls these kernels and never asks which
//! device runs them.
//!
//! The CPU path's matrix product is `packed` (a blocked GEMM with a simd128 micro-kernel) in
//! the browser, and ndarray's (`matrixmultiply`, AVX/FMA where the CPU has them) in native
//! builds, where it is the faster of the two; `reference` holds the scalar oracle every
//! faster kernel is tested against; `peak` measures the multiply-add ceiling of the wasm build,
//! the yardstick `cargo xtask bench` reports the kernels against. The GPU path is not here: a
//! GPU step is a whole training step (layers, loss, penalty, optimizer update) in one submit,
//! so its description (`crate::gpu`) sits above `nn` and `optim`, and `web::gpu` runs it.

pub mod cpu;
pub mod packed;
pub mod peak;
pub mod reference;

/// Which compute path runs the kernels; shown to the student in `#backend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// ndarray / matrixmultiply on the CPU, built with wasm simd128 in the browser.
    Cpu,
    /// WGSL compute shaders through the browser's WebGPU (`crate::gpu`, driven by `web::gpu`).
    WebGpu,
}

impl Device {
    /// The label the page shows.
    pub fn label(self) -> &'static str {
        match self {
            Device::Cpu => {
                if cfg!(all(target_arch = "wasm32", target_feature = "relaxed-simd")) {
                    "CPU (relaxed SIMD)"
                } else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
                    "CPU (SIMD)"
                } else {
                    "CPU"
                }
            }
            Device::WebGpu => "WebGPU",
        }
    }
}

/// Whether an operand of [`gemm`] is read transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Use the matrix as stored.
    N,
    /// Use its transpose.
    T,
}

/// `C ← op(A)·op(B) + beta·C`, with `op(A)` (m × k) and `op(B)` (k × n), all row-major.
///
/// `A` is stored (m × k) when `ta = N` and (k × m) when `ta = T`; likewise `B`.
/// The three products of MLP training are `X·Wᵀ` (forward), `dYᵀ·X` (weight gradient) and
/// `dY·W` (input gradient).
#[allow(clippy::too_many_arguments)]
pub fn gemm(m: usize, k: usize, n: usize, a: &[f32], ta: Op, b: &[f32], tb: Op, beta: f32, c: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    packed::gemm(m, k, n, a, ta, b, tb, beta, c);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    cpu::gemm(m, k, n, a, ta, b, tb, beta, c);
}

/// A Linear layer's forward product: `C ← op(A)·op(B) + bias` (the bias row added to every row),
/// then ReLU when `relu` (`x < 0 → 0`, as `nn::Activation::Relu`). In the browser the packed
/// product adds the bias as it stores its first k block and applies ReLU as it writes its last,
/// so C is written once; natively C starts from the bias and ndarray adds the product to it.
/// Either way the numbers are those of C ← bias, C += op(A)·op(B), ReLU.
#[allow(clippy::too_many_arguments)]
pub fn gemm_bias_act(m: usize, k: usize, n: usize, a: &[f32], ta: Op, b: &[f32], tb: Op, bias: &[f32], relu: bool, c: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    packed::gemm_bias_relu(m, k, n, a, ta, b, tb, bias, relu, c);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        assert!(bias.len() == n && c.len() == m * n, "bias has {} values and C {} for {m} × {n}", bias.len(), c.len());
        for row in c.chunks_exact_mut(n.max(1)) {
            row.copy_from_slice(bias);
        }
        cpu::gemm(m, k, n, a, ta, b, tb, 1.0, c);
        if relu {
            c.iter_mut().for_each(|v| *v = if *v < 0.0 { 0.0 } else { *v });
        }
    }
}
