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

/// A row-major matrix operand of the products: stored as it is, or the rows `pick` of a
/// larger table, in that order — a mini-batch read straight from the training set, which the
/// packed product gathers as it copies the rows into its panels (so the batch is never copied
/// into a matrix of its own first). Either way stored row `i` is [`Rows::row`].
#[derive(Clone, Copy, Debug)]
pub struct Rows<'a> {
    table: &'a [f32],
    pick: Option<&'a [usize]>,
}

impl<'a> Rows<'a> {
    /// The matrix `values`, as stored.
    pub fn dense(values: &'a [f32]) -> Rows<'a> {
        Rows { table: values, pick: None }
    }

    /// Rows `pick` of `table` (each row as long as the product says its rows are).
    pub fn gathered(table: &'a [f32], pick: &'a [usize]) -> Rows<'a> {
        Rows { table, pick: Some(pick) }
    }

    /// Stored row `i`, `len` values long.
    #[inline]
    pub fn row(&self, i: usize, len: usize) -> &'a [f32] {
        let r = self.pick.map_or(i, |p| p[i]);
        &self.table[r * len..][..len]
    }

    /// The values as one stored matrix, when they are one.
    pub fn as_dense(&self) -> Option<&'a [f32]> {
        self.pick.is_none().then_some(self.table)
    }

    /// Whether the rows fit: `rows` rows of `len` values, every picked row inside the table.
    pub fn fits(&self, rows: usize, len: usize) -> bool {
        match self.pick {
            None => self.table.len() == rows * len,
            Some(p) => p.len() == rows && (len == 0 || (self.table.len().is_multiple_of(len) && p.iter().all(|&r| r < self.table.len() / len))),
        }
    }

    /// Append the values, rows `len` long, to `out` as one stored matrix.
    pub fn copy_into(&self, len: usize, out: &mut Vec<f32>) {
        match self.pick {
            None => out.extend_from_slice(self.table),
            Some(p) => (0..p.len()).for_each(|i| out.extend_from_slice(self.row(i, len))),
        }
    }

    /// The values as one stored matrix of rows `len` long: borrowed when they are one, else
    /// gathered into `buf`.
    pub fn dense_in<'s>(&self, len: usize, buf: &'s mut Vec<f32>) -> &'s [f32]
    where
        'a: 's,
    {
        match self.pick {
            None => self.table,
            Some(_) => {
                buf.clear();
                self.copy_into(len, buf);
                buf
            }
        }
    }
}

impl<'a> From<&'a [f32]> for Rows<'a> {
    fn from(values: &'a [f32]) -> Rows<'a> {
        Rows::dense(values)
    }
}

impl<'a> From<&'a Vec<f32>> for Rows<'a> {
    fn from(values: &'a Vec<f32>) -> Rows<'a> {
        Rows::dense(values)
    }
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
pub fn gemm_bias_act<'a>(m: usize, k: usize, n: usize, a: impl Into<Rows<'a>>, ta: Op, b: &[f32], tb: Op, bias: &[f32], relu: bool, c: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    packed::gemm_bias_relu(m, k, n, a, ta, b, tb, bias, relu, c);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let (a, mut buf) = (a.into(), Vec::new());
        let a = a.dense_in(if ta == Op::N { k } else { m }, &mut buf);
        assert!(bias.len() == n && c.len() == m * n, "bias has {} values and C {} for {m} × {n}", bias.len(), c.len());
        for row in c.chunks_exact_mut(n.max(1)) {
            row.copy_from_slice(bias);
        }
        cpu::gemm(m, k, n, a, ta, b, tb, 1.0, c);
        if relu {
            self::relu(c);
        }
    }
}

/// The input gradient of a Linear layer whose input was a ReLU's output `y`, taken on through
/// that ReLU: `C ← op(A)·op(B)`, then zero where `y` ≤ 0 ([`relu_grad`]; `y` laid out as C). In
/// the browser the packed product applies the ReLU's backward as it writes its last k block,
/// so the gradient is written once; natively it is a second pass. The same numbers either way.
#[allow(clippy::too_many_arguments)]
pub fn gemm_relu_grad(m: usize, k: usize, n: usize, a: &[f32], ta: Op, b: &[f32], tb: Op, y: &[f32], c: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    packed::gemm_relu_grad(m, k, n, a, ta, b, tb, y, c);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        assert!(y.len() == m * n, "the ReLU output has {} values for {m} × {n}", y.len());
        cpu::gemm(m, k, n, a, ta, b, tb, 0.0, c);
        relu_grad(y, c);
    }
}

/// A Linear layer's weight and bias gradients together: `C ← op(A)·op(B) + beta·C` and
/// `sums[i] += Σ_p op(A)[i][p]` (with A = dYᵀ, the bias gradient Σ_rows dY). In the browser the
/// sums are taken as the packed product copies op(A) into its panels, so dY is read once;
/// natively they are a loop of their own. Each sum adds its values one by one in k order from
/// the value `sums` held, so both give the numbers of [`add_row_sums`] after [`gemm`].
#[allow(clippy::too_many_arguments)]
pub fn gemm_row_sums<'b>(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    ta: Op,
    b: impl Into<Rows<'b>>,
    tb: Op,
    beta: f32,
    c: &mut [f32],
    sums: &mut [f32],
) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    packed::gemm_row_sums(m, k, n, a, ta, b, tb, beta, c, sums);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let (b, mut buf) = (b.into(), Vec::new());
        let b = b.dense_in(if tb == Op::N { n } else { k }, &mut buf);
        cpu::gemm(m, k, n, a, ta, b, tb, beta, c);
        add_row_sums(m, k, a, ta, sums);
    }
}

/// `sums[i] += Σ_p op(A)[i][p]` for op(A) (m × k), the values added one by one in k order.
pub fn add_row_sums(m: usize, k: usize, a: &[f32], ta: Op, sums: &mut [f32]) {
    assert!(sums.len() == m && a.len() == m * k, "{} sums and {} values for {m} × {k}", sums.len(), a.len());
    match ta {
        Op::N => sums.iter_mut().zip(a.chunks_exact(k.max(1))).for_each(|(s, row)| *s = row.iter().fold(*s, |s, &v| s + v)),
        Op::T => a.chunks_exact(m.max(1)).for_each(|row| sums.iter_mut().zip(row).for_each(|(s, &v)| *s += v)),
    }
}

/// ReLU of one value: `x < 0 → 0`. Not `x.max(0.0)`: Rust's max returns 0 for NaN, PyTorch's
/// relu keeps NaN (so a diverged run shows NaN instead of silently training on zeros), and
/// −0 stays −0. A select of two values, so loops over it compile to SIMD compares and selects.
#[inline(always)]
pub fn relu_value(x: f32) -> f32 {
    if x < 0.0 {
        0.0
    } else {
        x
    }
}

/// ReLU's backward for one value, given its *output* y (y > 0 exactly when x > 0): the
/// gradient `d` passes where y > 0 (and where y is NaN), and is 0 elsewhere.
#[inline(always)]
pub fn relu_grad_value(y: f32, d: f32) -> f32 {
    if y <= 0.0 {
        0.0
    } else {
        d
    }
}

/// [`relu_value`] in place: the one ReLU rule that `nn::Activation::Relu` and the fused
/// products share.
pub fn relu(x: &mut [f32]) {
    x.iter_mut().for_each(|v| *v = relu_value(*v));
}

/// [`relu_grad_value`] in place over `dy`, given the ReLU's output `y`.
pub fn relu_grad(y: &[f32], dy: &mut [f32]) {
    assert_eq!(y.len(), dy.len(), "a ReLU gradient needs one output per value");
    dy.iter_mut().zip(y).for_each(|(d, &y)| *d = relu_grad_value(y, *d));
}
