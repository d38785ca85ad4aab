//! A packed, blocked GEMM with a 4×8 register micro-tile — the CPU path's matrix product.
//!
//! `C ← op(A)·op(B) + beta·C` is computed the way fast BLAS libraries do it (Goto & van de
//! Geijn, "Anatomy of high-performance matrix multiplication", 2008):
//!
//! 1. Cut k into blocks of `KC` and n into blocks of `NC`; pack the block of op(B) into
//!    panels `NR` = 8 columns wide, stored k-major, so the micro-kernel reads B contiguously
//!    whatever the layout or transpose of B was.
//! 2. Cut m into blocks of `MC`; pack op(A) into panels `MR` = 4 rows tall, k-major.
//! 3. For every (A panel, B panel) pair, the micro-kernel keeps a 4×8 tile of C in registers
//!    (eight 4-lane vectors) and, for each p in the k block, adds the outer product of four A
//!    values and eight B values. Panels are zero-padded at the edges, so the kernel never
//!    branches; only the write-back clips to the real size. A whole tile is added to C
//!    straight from the registers — or, for the first k block of a product with beta = 0,
//!    stored there, so C is neither zeroed first nor read.
//!
//! What made the difference at the MLP's small shapes, where packing is a sizeable share of
//! the work: the transposing copies (A as stored, Bᵀ) move four rows at a time through a 4×4
//! register transpose, and full-width copies have a constant length, so they compile to a
//! couple of vector moves rather than a `memcpy` call per four or eight values.
//!
//! Packing is what lets one kernel serve all three products of MLP training (X·Wᵀ, dYᵀ·X,
//! dY·W): the transposes are absorbed there.
//!
//! **Zero steps are skipped.** A k step whose four A values (or eight B values) are all exactly
//! zero adds nothing to the tile, so when a panel has enough of them the micro-kernel walks a
//! list of the panel's other steps instead of all kc. MNIST's pixels are about 80% zero: four
//! digits together leave ~61% of the 784 steps zero in the forward product X·Wᵀ, and an
//! 8-pixel run of one digit is blank ~60% of the time in the weight gradient dYᵀ·X, so the
//! first layer's two products — two thirds of a training step — do ~40% of their dense work.
//! The sums that remain are the same sums in the same order, so the result is bit for bit
//! the dense one (a skipped `c + 0·b` is `c`), except where the other factor is ±∞ or NaN,
//! which the dense product would have turned into NaN. [`gemm_dense`] is the product without
//! skipping, for the tests and the bench. The micro-kernel has a portable version (which
//! the native tests exercise) and a wasm simd128 version (tested against the scalar oracle in
//! headless Chromium).

use super::{Op, Rows};
use std::sync::atomic::{AtomicBool, Ordering};

const MR: usize = 4;
const NR: usize = 8;
const KC: usize = 256;
const MC: usize = 64;
const NC: usize = 2048;

/// `dst[p·stride + r] = rows[r][p]` for the four equally long `rows`: the transposing copy of
/// packing, four values of each row at a time (a 4×4 transpose in registers on wasm simd128).
fn interleave4(rows: [&[f32]; 4], dst: &mut [f32], stride: usize) {
    let kc = rows[0].len();
    assert!(rows.iter().all(|r| r.len() == kc) && stride >= 4 && (kc == 0 || dst.len() >= (kc - 1) * stride + 4));
    #[allow(unused_mut)]
    let mut done = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        while done + 4 <= kc {
            // SAFETY: the assert bounds every read (done + 4 ≤ kc) and every write
            // ((done + 3)·stride + 4 ≤ (kc − 1)·stride + 4 ≤ dst.len()).
            unsafe {
                let [r0, r1, r2, r3] = rows.map(|r| v128_load(r.as_ptr().add(done) as *const v128));
                let t0 = i32x4_shuffle::<0, 4, 1, 5>(r0, r1);
                let t1 = i32x4_shuffle::<2, 6, 3, 7>(r0, r1);
                let t2 = i32x4_shuffle::<0, 4, 1, 5>(r2, r3);
                let t3 = i32x4_shuffle::<2, 6, 3, 7>(r2, r3);
                let out = dst.as_mut_ptr().add(done * stride);
                v128_store(out as *mut v128, i32x4_shuffle::<0, 1, 4, 5>(t0, t2));
                v128_store(out.add(stride) as *mut v128, i32x4_shuffle::<2, 3, 6, 7>(t0, t2));
                v128_store(out.add(2 * stride) as *mut v128, i32x4_shuffle::<0, 1, 4, 5>(t1, t3));
                v128_store(out.add(3 * stride) as *mut v128, i32x4_shuffle::<2, 3, 6, 7>(t1, t3));
            }
            done += 4;
        }
    }
    for p in done..kc {
        for (r, row) in rows.iter().enumerate() {
            dst[p * stride + r] = row[p];
        }
    }
}

/// Pack op(A)[i0..i0+mc, p0..p0+kc] into MR-row panels, k-major, zero-padded; with `sums`
/// (op(A)'s rows i0..i0+mc), also add each row's kc values to its sum, one after another in
/// k order, as they are read.
///
/// Each layout gets its own loop so that the reads run along memory: for A as stored
/// (m × k) a panel row is a contiguous run of kc values; for Aᵀ stored (k × m) a panel's k-step
/// is a contiguous run of MR values.
#[allow(clippy::too_many_arguments)]
fn pack_a(a: Rows, ta: Op, m: usize, k: usize, i0: usize, mc: usize, p0: usize, kc: usize, out: &mut Vec<f32>, mut sums: Option<&mut [f32]>) {
    out.clear();
    out.resize(mc.next_multiple_of(MR) * kc, 0.0);
    for (panel, ir) in (0..mc).step_by(MR).enumerate() {
        let dst = &mut out[panel * kc * MR..(panel + 1) * kc * MR];
        let rows = MR.min(mc - ir);
        let sums = sums.as_deref_mut().map(|s| &mut s[ir..ir + rows]);
        match ta {
            Op::N => {
                let row = |r: usize| &a.row(i0 + ir + r, k)[p0..][..kc];
                if let Some(sums) = sums {
                    for (r, s) in sums.iter_mut().enumerate() {
                        *s = row(r).iter().fold(*s, |s, &v| s + v);
                    }
                }
                if rows == MR {
                    interleave4([row(0), row(1), row(2), row(3)], dst, MR);
                } else {
                    for r in 0..rows {
                        for (p, &v) in row(r).iter().enumerate() {
                            dst[p * MR + r] = v;
                        }
                    }
                }
            }
            Op::T => match sums {
                Some(sums) if rows == MR => {
                    // four sums side by side: a vector add per k step on wasm simd128
                    let mut acc: [f32; MR] = sums.try_into().expect("MR sums");
                    for p in 0..kc {
                        let src: &[f32; MR] = a.row(p0 + p, m)[i0 + ir..][..MR].try_into().expect("MR values");
                        dst[p * MR..][..MR].copy_from_slice(src);
                        acc.iter_mut().zip(src).for_each(|(s, &v)| *s += v);
                    }
                    sums.copy_from_slice(&acc);
                }
                mut sums => {
                    for p in 0..kc {
                        let src = &a.row(p0 + p, m)[i0 + ir..];
                        if rows == MR {
                            // A constant length, so the copy is inlined rather than a memcpy call.
                            dst[p * MR..][..MR].copy_from_slice(&src[..MR]);
                        } else {
                            dst[p * MR..][..rows].copy_from_slice(&src[..rows]);
                        }
                        if let Some(sums) = sums.as_deref_mut() {
                            sums.iter_mut().zip(src).for_each(|(s, &v)| *s += v);
                        }
                    }
                }
            },
        }
    }
}

/// Pack op(B)[p0..p0+kc, j0..j0+nc] into NR-column panels, k-major, zero-padded (reads run
/// along memory for both layouts, as in [`pack_a`]).
#[allow(clippy::too_many_arguments)]
fn pack_b(b: Rows, tb: Op, k: usize, n: usize, p0: usize, kc: usize, j0: usize, nc: usize, out: &mut Vec<f32>) {
    out.clear();
    out.resize(nc.next_multiple_of(NR) * kc, 0.0);
    for (panel, jr) in (0..nc).step_by(NR).enumerate() {
        let dst = &mut out[panel * kc * NR..(panel + 1) * kc * NR];
        let cols = NR.min(nc - jr);
        match tb {
            Op::N => {
                for p in 0..kc {
                    let src = &b.row(p0 + p, n)[j0 + jr..];
                    if cols == NR {
                        dst[p * NR..][..NR].copy_from_slice(&src[..NR]); // inlined, as in pack_a
                    } else {
                        dst[p * NR..][..cols].copy_from_slice(&src[..cols]);
                    }
                }
            }
            Op::T => {
                let col = |c: usize| &b.row(j0 + jr + c, k)[p0..][..kc];
                let mut c = 0;
                while c + 4 <= cols {
                    interleave4([col(c), col(c + 1), col(c + 2), col(c + 3)], &mut dst[c..], NR);
                    c += 4;
                }
                for c in c..cols {
                    for (p, &v) in col(c).iter().enumerate() {
                        dst[p * NR + c] = v;
                    }
                }
            }
        }
    }
}

/// Which k steps a micro-kernel call visits: all of `0..kc`, or a panel's list of the steps
/// that are not all zero (see [`nonzero_steps`]).
#[derive(Clone, Copy)]
enum Steps<'a> {
    All(usize),
    Only(&'a [u32]),
}

/// How a micro-kernel call writes its tile to C: `store` it (the first k block of a beta = 0
/// product), plus the bias row when there is one (`bias[j]` for the tile's column j: the same
/// `bias + tile` the unfused layer computed by starting C from the bias), or add it to C; then,
/// on a product's last k block, with `relu` ReLU the result as `Activation::Relu` does
/// (`x < 0 → 0`, NaN and −0 kept), and with `relu_grad` (a ReLU's output y, laid out as C)
/// zero it where y ≤ 0, as `Activation::Relu`'s backward does. So a layer's output, or the
/// gradient below a ReLU, is written once, bit for bit as before.
#[derive(Clone, Copy)]
struct Write<'a> {
    store: bool,
    bias: Option<&'a [f32]>,
    relu: bool,
    relu_grad: Option<&'a [f32]>,
}

/// The portable micro-kernel: `tile += Apanel (MR × kc) · Bpanel (kc × NR)`.
#[allow(dead_code)]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn micro_portable(steps: Steps, ap: &[f32], bp: &[f32], ldb: usize, c: &mut [f32], ldc: usize, rows: usize, cols: usize, write: Write) {
    let mut tile = [[0f32; NR]; MR];
    let mut step = |p: usize| {
        let a = &ap[p * MR..p * MR + MR];
        let b = &bp[p * ldb..p * ldb + NR];
        for r in 0..MR {
            for j in 0..NR {
                tile[r][j] += a[r] * b[j];
            }
        }
    };
    match steps {
        Steps::All(kc) => (0..kc).for_each(&mut step),
        Steps::Only(list) => list.iter().for_each(|&p| step(p as usize)),
    }
    write_clipped(&tile, c, ldc, rows, cols, write);
}

/// The wasm simd128 micro-kernel: eight 4-lane accumulators hold the 4×8 tile. (A 6×8 tile
/// fills 15 of x86's 16 vector registers and measured slower in V8 than this one.)
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn micro_simd(steps: Steps, ap: &[f32], bp: &[f32], ldb: usize, c: &mut [f32], ldc: usize, rows: usize, cols: usize, write: Write) {
    use core::arch::wasm32::*;
    // c + a·b: one fused multiply-add in the relaxed-SIMD build (where the browser may round
    // once instead of twice), a multiply and an add otherwise.
    #[inline(always)]
    fn madd(a: v128, b: v128, c: v128) -> v128 {
        #[cfg(target_feature = "relaxed-simd")]
        return f32x4_relaxed_madd(a, b, c);
        #[cfg(not(target_feature = "relaxed-simd"))]
        return f32x4_add(c, f32x4_mul(a, b));
    }
    /// One k step: the outer product of the four A values at `pa` and the eight B values at
    /// `pb`, added to the tile.
    ///
    /// SAFETY: `pa` must have MR and `pb` NR readable floats (unaligned is fine; load32_splat
    /// broadcasts one A value to four lanes).
    #[inline(always)]
    unsafe fn step(pa: *const f32, pb: *const f32, t: &mut [v128; 8]) {
        let b0 = v128_load(pb as *const v128);
        let b1 = v128_load(pb.add(4) as *const v128);
        for r in 0..MR {
            let a = v128_load32_splat(pa.add(r) as *const u32);
            t[2 * r] = madd(a, b0, t[2 * r]);
            t[2 * r + 1] = madd(a, b1, t[2 * r + 1]);
        }
    }
    let mut t = [f32x4_splat(0.0); 8];
    match steps {
        Steps::All(kc) => {
            assert!(kc > 0 && ap.len() >= kc * MR && bp.len() >= (kc - 1) * ldb + NR);
            let (mut pa, mut pb) = (ap.as_ptr(), bp.as_ptr());
            for _ in 0..kc {
                // SAFETY: the assert above keeps every read inside the panels.
                unsafe { step(pa, pb, &mut t) };
                // wrapping: after the last step an in-place B pointer may point past the end
                // of B (never read), which `add` would make undefined behaviour
                pa = pa.wrapping_add(MR);
                pb = pb.wrapping_add(ldb);
            }
        }
        Steps::Only(list) => {
            let last = list.last().map_or(0, |&p| p as usize); // the list is ascending
            assert!(list.is_empty() || (ap.len() >= (last + 1) * MR && bp.len() >= last * ldb + NR));
            for &p in list {
                let p = p as usize;
                // SAFETY: every listed step is at most `last`, whose reads the assert bounds.
                unsafe { step(ap.as_ptr().add(p * MR), bp.as_ptr().add(p * ldb), &mut t) };
            }
        }
    }
    let acc = [(t[0], t[1]), (t[2], t[3]), (t[4], t[5]), (t[6], t[7])];
    if rows == MR && cols == NR {
        // A whole tile: add the accumulators to C (or store them) straight from the registers.
        assert!(
            c.len() >= (MR - 1) * ldc + NR
                && write.bias.is_none_or(|b| b.len() >= NR)
                && write.relu_grad.is_none_or(|y| y.len() >= (MR - 1) * ldc + NR)
        );
        let z = f32x4_splat(0.0);
        let relu = |v: v128| v128_bitselect(z, v, f32x4_lt(v, z));
        // SAFETY: the assert keeps the bias's eight values inside it.
        let bias = write.bias.map(|b| unsafe { (v128_load(b.as_ptr() as *const v128), v128_load(b.as_ptr().add(4) as *const v128)) });
        for (r, (lo, hi)) in acc.into_iter().enumerate() {
            // SAFETY: the assert keeps row r's eight values inside `c`.
            unsafe {
                let at = c.as_mut_ptr().add(r * ldc);
                let (mut lo, mut hi) = match (write.store, bias) {
                    (true, None) => (lo, hi),
                    (true, Some((b0, b1))) => (f32x4_add(b0, lo), f32x4_add(b1, hi)),
                    (false, _) => (f32x4_add(v128_load(at as *const v128), lo), f32x4_add(v128_load(at.add(4) as *const v128), hi)),
                };
                if write.relu {
                    (lo, hi) = (relu(lo), relu(hi));
                }
                if let Some(y) = write.relu_grad {
                    // SAFETY: the assert keeps row r's eight values inside `y`.
                    let y = y.as_ptr().add(r * ldc);
                    lo = v128_bitselect(z, lo, f32x4_le(v128_load(y as *const v128), z));
                    hi = v128_bitselect(z, hi, f32x4_le(v128_load(y.add(4) as *const v128), z));
                }
                v128_store(at as *mut v128, lo);
                v128_store(at.add(4) as *mut v128, hi);
            }
        }
    } else {
        let mut tile = [[0f32; NR]; MR];
        for (row, (lo, hi)) in tile.iter_mut().zip(acc) {
            // SAFETY: each tile row is NR = 8 floats: two 4-lane stores fit exactly.
            unsafe {
                v128_store(row.as_mut_ptr() as *mut v128, lo);
                v128_store(row.as_mut_ptr().add(4) as *mut v128, hi);
            }
        }
        write_clipped(&tile, c, ldc, rows, cols, write);
    }
}

/// Write the tile's `rows × cols` corner that lies inside C, as `write` says.
#[inline(always)]
fn write_clipped(tile: &[[f32; NR]; MR], c: &mut [f32], ldc: usize, rows: usize, cols: usize, write: Write) {
    for (r, trow) in tile.iter().enumerate().take(rows) {
        let row = &mut c[r * ldc..][..cols];
        for (j, (cv, &t)) in row.iter_mut().zip(trow).enumerate() {
            let v = match (write.store, write.bias) {
                (true, None) => t,
                (true, Some(b)) => b[j] + t,
                (false, _) => *cv + t,
            };
            let v = if write.relu { super::relu_value(v) } else { v };
            *cv = write.relu_grad.map_or(v, |y| super::relu_grad_value(y[r * ldc + j], v));
        }
    }
}

/// `C[..rows, ..cols] += Apanel · Bpanel` (or as `write` says) over `steps`, with `c` starting
/// at the tile's corner and rows `ldc` apart.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn micro(steps: Steps, ap: &[f32], bp: &[f32], ldb: usize, c: &mut [f32], ldc: usize, rows: usize, cols: usize, write: Write) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    micro_simd(steps, ap, bp, ldb, c, ldc, rows, cols, write);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    micro_portable(steps, ap, bp, ldb, c, ldc, rows, cols, write);
}

/// Whether any of the `width` (4 or 8) floats at `v` is non-zero (NaN counts as non-zero).
#[inline(always)]
fn any_nonzero(v: &[f32]) -> bool {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        assert!(v.len() == 4 || v.len() == 8);
        let z = f32x4_splat(0.0);
        // SAFETY: the assert keeps both loads inside `v`.
        unsafe {
            let lo = f32x4_ne(v128_load(v.as_ptr() as *const v128), z);
            let hi = if v.len() == 8 { f32x4_ne(v128_load(v.as_ptr().add(4) as *const v128), z) } else { lo };
            v128_any_true(v128_or(lo, hi))
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    v.iter().any(|&x| x != 0.0)
}

/// The steps `p < kc` of a panel (the `width` values at `panel[p·ld..]`) that are not all
/// zero, written to `out`; `None` when too few are zero for skipping to pay (the listed
/// kernel does a little more per step than the dense one).
fn nonzero_steps<'a>(panel: &[f32], width: usize, kc: usize, ld: usize, out: &'a mut [u32]) -> Option<&'a [u32]> {
    let mut n = 0;
    for p in 0..kc {
        // branch-free: always write the step, keep it only if it has a non-zero value
        out[n] = p as u32;
        n += usize::from(any_nonzero(&panel[p * ld..][..width]));
    }
    (n * 5 < kc * 4).then_some(&out[..n])
}

/// Whether [`gemm`] skips zero steps (on unless the bench turns it off to time a step without).
static SKIP_ZEROS: AtomicBool = AtomicBool::new(true);

/// Turn [`gemm`]'s zero-step skipping off (or back on) for the whole module instance: what
/// `cargo xtask bench` uses to time the same training step both ways in one run. The numbers
/// do not change either way (see the module's doc); only the time does.
pub fn set_zero_skipping(on: bool) {
    SKIP_ZEROS.store(on, Ordering::Relaxed);
}

/// What a product does besides `C ← op(A)·op(B) + beta·C`, in the same pass: see [`Write`]
/// for `bias`, `relu` and `relu_grad`; `row_sums` gets each row of op(A) added to it (the
/// bias gradient Σ dY of a weight gradient dYᵀ·X), value by value in k order, as the rows are
/// packed (so exactly the sums a separate loop over the rows of dY would make).
#[derive(Default)]
struct Fuse<'a> {
    bias: Option<&'a [f32]>,
    relu: bool,
    relu_grad: Option<&'a [f32]>,
    row_sums: Option<&'a mut [f32]>,
}

/// See [`super::gemm`]; k steps that are zero across a panel of A or of B are skipped.
#[allow(clippy::too_many_arguments)]
pub fn gemm(m: usize, k: usize, n: usize, a: &[f32], ta: Op, b: &[f32], tb: Op, beta: f32, c: &mut [f32]) {
    gemm_with(m, k, n, a.into(), ta, b.into(), tb, beta, c, SKIP_ZEROS.load(Ordering::Relaxed), Fuse::default());
}

/// `C ← op(A)·op(B) + bias` (the bias row added to every row of C), then ReLU when `relu`: a
/// Linear layer's forward with its bias and activation in the product's write-back, so C is
/// written once (see [`super::gemm_bias_act`]). Bit for bit the unfused C ← bias,
/// C += op(A)·op(B), ReLU. A may be gathered rows ([`Rows::gathered`]): they are read
/// straight into A's panels.
#[allow(clippy::too_many_arguments)]
pub fn gemm_bias_relu<'a>(m: usize, k: usize, n: usize, a: impl Into<Rows<'a>>, ta: Op, b: &[f32], tb: Op, bias: &[f32], relu: bool, c: &mut [f32]) {
    assert!(bias.len() == n && c.len() == m * n, "bias has {} values and C {} for {m} × {n}", bias.len(), c.len());
    if k == 0 || m == 0 || n == 0 {
        for row in c.chunks_exact_mut(n.max(1)) {
            row.copy_from_slice(bias);
        }
        if relu {
            super::relu(c);
        }
        return;
    }
    gemm_with(m, k, n, a.into(), ta, b.into(), tb, 0.0, c, SKIP_ZEROS.load(Ordering::Relaxed), Fuse { bias: Some(bias), relu, ..Fuse::default() });
}

/// `C ← op(A)·op(B)`, zeroed where `y` ≤ 0: the gradient of a layer's input taken on through
/// the ReLU whose output `y` (laid out as C) that input was (see [`super::gemm_relu_grad`]).
/// Bit for bit the product followed by `Activation::Relu`'s backward.
#[allow(clippy::too_many_arguments)]
pub fn gemm_relu_grad(m: usize, k: usize, n: usize, a: &[f32], ta: Op, b: &[f32], tb: Op, y: &[f32], c: &mut [f32]) {
    assert!(y.len() == m * n && c.len() == m * n, "the ReLU output has {} values and C {} for {m} × {n}", y.len(), c.len());
    // (with k = 0, C is all zero: nothing to mask)
    gemm_with(m, k, n, a.into(), ta, b.into(), tb, 0.0, c, SKIP_ZEROS.load(Ordering::Relaxed), Fuse { relu_grad: Some(y), ..Fuse::default() });
}

/// `C ← op(A)·op(B) + beta·C` and `sums[i] += Σ_p op(A)[i][p]`, the sums taken as A is packed
/// (see [`super::gemm_row_sums`]). B may be gathered rows ([`Rows::gathered`]): they are read
/// straight into B's panels.
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
    assert_eq!(sums.len(), m, "{} row sums for {m} rows", sums.len());
    if n == 0 {
        super::add_row_sums(m, k, a, ta, sums); // no product to pack A for
        return;
    }
    gemm_with(m, k, n, a.into(), ta, b.into(), tb, beta, c, SKIP_ZEROS.load(Ordering::Relaxed), Fuse { row_sums: Some(sums), ..Fuse::default() });
}

/// [`gemm`] without skipping zero steps: the dense product the skipping is tested (bit for
/// bit) and benched against.
#[allow(clippy::too_many_arguments)]
pub fn gemm_dense(m: usize, k: usize, n: usize, a: &[f32], ta: Op, b: &[f32], tb: Op, beta: f32, c: &mut [f32]) {
    gemm_with(m, k, n, a.into(), ta, b.into(), tb, beta, c, false, Fuse::default());
}

/// The packing buffers and step lists, kept between products: a training step's products
/// all fit the capacity the first step grew them to, so a run allocates them once.
#[derive(Default)]
struct Scratch {
    apack: Vec<f32>,
    bpack: Vec<f32>,
    asteps: Vec<u32>,
    bsteps: Vec<u32>,
    bsparse: Vec<Option<usize>>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

#[allow(clippy::too_many_arguments)]
fn gemm_with(m: usize, k: usize, n: usize, a: Rows, ta: Op, b: Rows, tb: Op, beta: f32, c: &mut [f32], skip: bool, fuse: Fuse) {
    // a product never calls another, so the buffers are free here; should one ever be busy,
    // fresh ones do the same work
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => gemm_in(m, k, n, a, ta, b, tb, beta, c, skip, fuse, &mut s),
        Err(_) => gemm_in(m, k, n, a, ta, b, tb, beta, c, skip, fuse, &mut Scratch::default()),
    })
}

#[allow(clippy::too_many_arguments)]
fn gemm_in(m: usize, k: usize, n: usize, a: Rows, ta: Op, b: Rows, tb: Op, beta: f32, c: &mut [f32], skip: bool, fuse: Fuse, s: &mut Scratch) {
    let Fuse { bias, relu, relu_grad, mut row_sums } = fuse;
    debug_assert!(bias.is_none() || beta == 0.0, "a bias is written by the first k block's store");
    if m == 0 || n == 0 || k == 0 {
        if beta == 0.0 {
            c.iter_mut().for_each(|v| *v = 0.0); // overwrite, even NaN, as BLAS does for beta = 0
        } else if beta != 1.0 {
            c.iter_mut().for_each(|v| *v *= beta);
        }
        return;
    }
    // beta = 0: the first k block stores its tiles (overwriting C, NaN included, as BLAS does
    // for beta = 0), so C is not zeroed first; the later blocks add to it.
    if beta != 0.0 && beta != 1.0 {
        c.iter_mut().for_each(|v| *v *= beta);
    }
    // Finding a panel's zero steps reads it once; that pays when the panel then serves several
    // micro-kernel calls (A panels are used n / NR times, B panels m / MR times).
    let (skip_a, skip_b) = (skip && n >= 2 * NR, skip && m >= 4 * MR);
    let Scratch { apack, bpack, asteps, bsteps, bsparse } = s;
    asteps.resize(if skip_a { KC.min(k) } else { 0 }, 0);
    bsteps.resize(if skip_b { NC.min(n).div_ceil(NR) * KC.min(k) } else { 0 }, 0);
    for p0 in (0..k).step_by(KC) {
        let kc = KC.min(k - p0);
        for j0 in (0..n).step_by(NC) {
            let nc = NC.min(n - j0);
            // B as stored (k × n) already holds every k step's eight columns side by side.
            // When A is one block of rows (m ≤ MC: a mini-batch), each B panel is used by few
            // A panels, so packing it costs more than it saves: full panels are read in place,
            // n apart, and only a ragged last panel is packed. Taller A reuses B enough for
            // packing to pay (and in-place rows a power of two apart collide in the cache).
            // Gathered rows are always packed: their panels are where they are gathered.
            let stored = b.as_dense().filter(|_| tb == Op::N && m <= MC);
            let full = if stored.is_some() { nc / NR * NR } else { 0 };
            pack_b(b, tb, k, n, p0, kc, j0 + full, nc - full, bpack);
            let b_panel = |jr: usize| -> (&[f32], usize) {
                if let Some(b) = stored.filter(|_| jr < full) {
                    (&b[p0 * n + j0 + jr..], n)
                } else {
                    let pj = (jr - full) / NR;
                    (&bpack[pj * kc * NR..(pj + 1) * kc * NR], NR)
                }
            };
            // each B panel's non-zero steps, found once for all the A panels that use it
            bsparse.clear();
            if skip_b {
                for (pj, jr) in (0..nc).step_by(NR).enumerate() {
                    let (bp, ldb) = b_panel(jr);
                    // in place or packed (zero-padded), a panel's step is NR values wide
                    let out = &mut bsteps[pj * kc..(pj + 1) * kc];
                    bsparse.push(nonzero_steps(bp, NR, kc, ldb, out).map(|s| s.len()));
                }
            }
            for i0 in (0..m).step_by(MC) {
                let mc = MC.min(m - i0);
                // A's rows are summed the first time they are packed (for the first n block)
                let sums = row_sums.as_deref_mut().filter(|_| j0 == 0).map(|s| &mut s[i0..i0 + mc]);
                pack_a(a, ta, m, k, i0, mc, p0, kc, apack, sums);
                for (pi, ir) in (0..mc).step_by(MR).enumerate() {
                    let ap = &apack[pi * kc * MR..(pi + 1) * kc * MR];
                    let a_list = if skip_a { nonzero_steps(ap, MR, kc, MR, asteps) } else { None };
                    for (pj, jr) in (0..nc).step_by(NR).enumerate() {
                        let (bp, ldb) = b_panel(jr);
                        let b_list = bsparse.get(pj).copied().flatten().map(|len| &bsteps[pj * kc..pj * kc + len]);
                        // the shorter list where both panels have zero steps
                        let steps = match (a_list, b_list) {
                            (Some(sa), Some(sb)) => Steps::Only(if sa.len() <= sb.len() { sa } else { sb }),
                            (Some(s), None) | (None, Some(s)) => Steps::Only(s),
                            (None, None) => Steps::All(kc),
                        };
                        let (rows, cols) = (MR.min(mc - ir), NR.min(nc - jr));
                        let (store, last) = (beta == 0.0 && p0 == 0, p0 + kc == k);
                        let at = (i0 + ir) * n + j0 + jr;
                        let write = Write {
                            store,
                            bias: bias.filter(|_| store).map(|b| &b[j0 + jr..]),
                            relu: relu && last,
                            relu_grad: relu_grad.filter(|_| last).map(|y| &y[at..]),
                        };
                        micro(steps, ap, bp, ldb, &mut c[at..], n, rows, cols, write);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{reference, Op};
    use crate::Rng;

    /// Shapes around every block edge (MR, NR, KC, MC) and the MLP's own.
    #[test]
    fn matches_reference_on_awkward_shapes() {
        let mut rng = Rng::new(8);
        let shapes =
            [(1, 1, 1), (1, 300, 9), (9, 300, 1), (4, 8, 8), (5, 257, 9), (65, 3, 17), (6, 263, 13), (64, 784, 128), (128, 64, 784), (3, 513, 70)];
        for &(m, k, n) in &shapes {
            for (ta, tb) in [(Op::N, Op::N), (Op::N, Op::T), (Op::T, Op::N), (Op::T, Op::T)] {
                let a: Vec<f32> = (0..m * k).map(|_| rng.normal(0.0, 1.0)).collect();
                let b: Vec<f32> = (0..k * n).map(|_| rng.normal(0.0, 1.0)).collect();
                let c0: Vec<f32> = (0..m * n).map(|_| rng.normal(0.0, 1.0)).collect();
                for beta in [0.0, 1.0, 0.5] {
                    let (mut c, mut r) = (c0.clone(), c0.clone());
                    super::gemm(m, k, n, &a, ta, &b, tb, beta, &mut c);
                    reference::gemm(m, k, n, &a, ta, &b, tb, beta, &mut r);
                    for (x, y) in c.iter().zip(&r) {
                        let tol = 1e-5 * (k as f32).sqrt() * (1.0 + y.abs());
                        assert!((x - y).abs() <= tol, "{m}x{k}x{n} {ta:?}{tb:?} beta {beta}: {x} vs {y}");
                    }
                }
            }
        }
    }
}
