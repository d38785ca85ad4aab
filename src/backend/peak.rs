//! The most f32 multiply-adds per second this wasm build gets from one core: the yardstick that
//! `cargo xtask bench` holds each GEMM kernel against ("the packed kernel runs at 60% of peak").
//!
//! The probe keeps `CHAINS` independent 4-lane accumulators and updates each once per
//! iteration, `acc ← acc·x + y`: a multiply and an add in the plain simd128 build, one
//! `f32x4.relaxed_madd` in the relaxed-SIMD build (the same instruction choice as the packed
//! GEMM's micro-kernel, so each build is compared with its own ceiling).
//!
//! Why many chains: one update has to wait for the previous one on the same accumulator (a
//! multiply then an add is about 8 cycles on current x86 cores, a fused multiply-add about 4),
//! while the core can start about two vector operations per cycle. A single chain would measure
//! that latency, several times below the peak. To hide it, at least latency × issue rate ≈ 8
//! updates must be in flight; 12 chains leave a margin and, with `x` and `y`, still fit in the
//! 16 vector registers of x86-64 (no spills to memory inside the loop).
//!
//! Counting: each update of one lane is 2 flops (multiply, add — a fused multiply-add counts as
//! both, as BLAS benchmarks count it), so one iteration is `2 · 4 · CHAINS` flops.
//!
//! Checking the count: `x` = `y` = 1 (read through a volatile load, so the compiler cannot fold
//! the multiply away) and lane `l` starts at `l`. After `n` iterations lane `l` holds exactly
//! `l + n` (every value is an integer below 2²⁴, so f32 is exact). The sum of all lanes is the
//! checksum; it equals [`expected_checksum`] only if every lane of every chain was updated
//! exactly `n` times, which is what [`flops`] assumes. Multiplying by one costs the hardware as
//! much as by any other normal number.

/// Independent accumulators (each a 4-lane vector).
pub const CHAINS: usize = 12;
/// f32 lanes of a wasm v128.
pub const LANES: usize = 4;
/// Largest iteration count whose checksum is exact in f32 (lane values stay below 2²⁴).
pub const MAX_ITERS: usize = (1 << 24) - LANES * CHAINS;

/// Floating-point operations done by `iters` iterations.
pub fn flops(iters: usize) -> f64 {
    (2 * LANES * CHAINS) as f64 * iters as f64
}

/// The checksum [`run`] must return: Σ over lanes l of (l + iters).
pub fn expected_checksum(iters: usize) -> f64 {
    let lanes = (LANES * CHAINS) as f64;
    lanes * (lanes - 1.0) / 2.0 + lanes * iters as f64
}

/// The instruction(s) of one update in this build, for the report.
pub fn instruction() -> &'static str {
    if cfg!(all(target_arch = "wasm32", target_feature = "relaxed-simd")) {
        "f32x4.relaxed_madd"
    } else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        "f32x4.mul + f32x4.add"
    } else {
        "scalar mul + add"
    }
}

/// Run `iters` iterations (at most [`MAX_ITERS`]) and return the checksum.
pub fn run(iters: usize) -> Result<f64, String> {
    if iters > MAX_ITERS {
        return Err(format!("Invalid iteration count: {iters} (at most {MAX_ITERS}, so the checksum stays exact)"));
    }
    // SAFETY: reading a local f32; volatile only hides the value from the optimizer.
    let one = unsafe { std::ptr::read_volatile(&1.0f32) };
    Ok(chains(iters, one, one))
}

/// The simd128 probe: twelve named accumulators, as in the packed micro-kernel, so they live
/// in registers.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(never)]
fn chains(iters: usize, x: f32, y: f32) -> f64 {
    use core::arch::wasm32::*;
    // acc·x + y: fused in the relaxed build, a multiply then an add otherwise.
    #[inline(always)]
    fn madd(acc: v128, x: v128, y: v128) -> v128 {
        #[cfg(target_feature = "relaxed-simd")]
        return f32x4_relaxed_madd(acc, x, y);
        #[cfg(not(target_feature = "relaxed-simd"))]
        return f32x4_add(f32x4_mul(acc, x), y);
    }
    let (x, y) = (f32x4_splat(x), f32x4_splat(y));
    let start = |c: usize| {
        let l = (c * LANES) as f32;
        f32x4(l, l + 1.0, l + 2.0, l + 3.0)
    };
    let [mut c0, mut c1, mut c2, mut c3, mut c4, mut c5, mut c6, mut c7, mut c8, mut c9, mut c10, mut c11]: [v128; CHAINS] =
        std::array::from_fn(start);
    for _ in 0..iters {
        c0 = madd(c0, x, y);
        c1 = madd(c1, x, y);
        c2 = madd(c2, x, y);
        c3 = madd(c3, x, y);
        c4 = madd(c4, x, y);
        c5 = madd(c5, x, y);
        c6 = madd(c6, x, y);
        c7 = madd(c7, x, y);
        c8 = madd(c8, x, y);
        c9 = madd(c9, x, y);
        c10 = madd(c10, x, y);
        c11 = madd(c11, x, y);
    }
    let lanes = |v: v128| [f32x4_extract_lane::<0>(v), f32x4_extract_lane::<1>(v), f32x4_extract_lane::<2>(v), f32x4_extract_lane::<3>(v)];
    [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11].into_iter().flat_map(lanes).map(f64::from).sum()
}

/// The portable probe (native builds, and wasm without simd128): the same recurrence on plain
/// arrays, so the counting is tested natively.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(never)]
fn chains(iters: usize, x: f32, y: f32) -> f64 {
    let mut acc: [[f32; LANES]; CHAINS] = std::array::from_fn(|c| std::array::from_fn(|l| (c * LANES + l) as f32));
    for _ in 0..iters {
        for lane in acc.iter_mut().flatten() {
            *lane = *lane * x + y;
        }
    }
    acc.iter().flatten().map(|&v| f64::from(v)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_counts_every_update() {
        // (iterations, why)
        let rows = [(0, "no work: the starting values alone"), (1, "one update per lane"), (1000, "a short run"), (100_000, "a longer run")];
        for (iters, why) in rows {
            assert_eq!(run(iters).unwrap(), expected_checksum(iters), "{why}");
        }
        // the last exact values: the largest lane reaches 2²⁴ - 1
        assert_eq!(expected_checksum(MAX_ITERS) - expected_checksum(MAX_ITERS - 1), (LANES * CHAINS) as f64);
        assert_eq!((LANES * CHAINS - 1 + MAX_ITERS) as f64, ((1u32 << 24) - 1) as f64);
    }

    #[test]
    fn flops_are_two_per_lane_update() {
        assert_eq!(flops(1), 96.0);
        assert_eq!(flops(1000), 96_000.0);
    }

    #[test]
    fn too_many_iterations_is_an_error_naming_the_count() {
        let err = run(MAX_ITERS + 1).unwrap_err();
        assert!(err.contains(&(MAX_ITERS + 1).to_string()), "{err}");
    }
}
