//! Kernels exposed for `cargo xtask bench` (timed from JS, in Node or the browser): the CPU
//! GEMM kernels, the build's multiply-add peak (`backend::peak`) and the WebGPU product.

use super::gpu::{self, context::describe, kernels};
use crate::backend::{cpu, packed, peak, Op};
use crate::gpu::{MatmulPlan, ACT_IDENTITY};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

fn op(t: bool) -> Op {
    if t {
        Op::T
    } else {
        Op::N
    }
}

/// Run `iters` products `C ← op(A)·op(B)` with the named kernel ("ndarray" or "packed") on
/// seeded random operands; returns the seconds the products took (drawing the operands is not
/// timed). C is checked to be finite afterwards, so the products cannot be optimized away.
#[wasm_bindgen(js_name = benchGemm)]
#[allow(clippy::too_many_arguments)]
pub fn bench_gemm(kernel: &str, m: usize, k: usize, n: usize, ta: bool, tb: bool, iters: usize) -> Result<f64, JsError> {
    let mut rng = crate::Rng::new(1);
    let a: Vec<f32> = (0..m * k).map(|_| rng.normal(0.0, 1.0)).collect();
    let b: Vec<f32> = (0..k * n).map(|_| rng.normal(0.0, 1.0)).collect();
    let mut c = vec![0f32; m * n];
    let f = match kernel {
        "ndarray" => cpu::gemm,
        "packed" => packed::gemm,
        other => return Err(JsError::new(&format!("unknown kernel \"{other}\"; expected \"ndarray\" or \"packed\""))),
    };
    let t0 = now_ms()?;
    for _ in 0..iters {
        f(m, k, n, &a, op(ta), &b, op(tb), 0.0, &mut c);
    }
    let seconds = (now_ms()? - t0) / 1000.0;
    let sum: f64 = c.iter().map(|&v| v as f64).sum();
    if !sum.is_finite() {
        return Err(JsError::new(&format!("{kernel} product {m}×{k}×{n} gave a non-finite result")));
    }
    Ok(seconds)
}

/// `performance.now()` in milliseconds, in the page and in Node alike (both have the global).
fn now_ms() -> Result<f64, JsError> {
    let perf = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance")).map_err(|e| JsError::new(&describe(&e)))?;
    if perf.is_undefined() {
        return Err(JsError::new("no performance.now() in this JS host"));
    }
    Ok(perf.unchecked_into::<web_sys::Performance>().now())
}

/// GFLOP/s of this build's multiply-add peak (`backend::peak`): one short warm-up run, then
/// `iters` timed iterations. Fails if the checksum shows that the loop did not do the counted
/// work. Call it a few times and keep the best: a slower run only means the core was shared.
#[wasm_bindgen(js_name = simdPeak)]
pub fn simd_peak(iters: usize) -> Result<f64, JsError> {
    peak::run(iters.min(1000)).map_err(|e| JsError::new(&e))?;
    let t0 = now_ms()?;
    let sum = peak::run(iters).map_err(|e| JsError::new(&e))?;
    let seconds = (now_ms()? - t0) / 1000.0;
    if sum != peak::expected_checksum(iters) {
        let want = peak::expected_checksum(iters);
        return Err(JsError::new(&format!("peak probe checksum {sum} ≠ {want}: the loop did not run {iters} iterations as counted")));
    }
    Ok(peak::flops(iters) / seconds.max(1e-9) / 1e9)
}

/// The instruction(s) the peak probe and the packed kernel use in this build.
#[wasm_bindgen(js_name = simdPeakInstruction)]
pub fn simd_peak_instruction() -> String {
    peak::instruction().into()
}

/// GFLOP/s of the WebGPU matrix product `C ← op(A)·op(B)` at one shape, on the page's device
/// (call `initWebGpu` first): the plan and dispatch builder of training (split-K included),
/// `iters` products recorded in one compute pass and one submit, timed from the submit until
/// `queue.onSubmittedWorkDone()` resolves. A first product, awaited the same way, compiles the
/// pipelines outside the timing. Fails on any WebGPU validation error, so a product that did not
/// run cannot pass for a fast one.
#[wasm_bindgen(js_name = benchGpuMatmul)]
pub async fn bench_gpu_matmul(m: usize, k: usize, n: usize, ta: bool, tb: bool, iters: usize) -> Result<f64, JsError> {
    let ctx = gpu::active().ok_or_else(|| JsError::new("no WebGPU device in use: call initWebGpu() first (and keep the backend on \"webgpu\")"))?;
    let err = |e: String| JsError::new(&e);
    let mut rng = crate::Rng::new(1);
    let a: Vec<f32> = (0..m * k).map(|_| rng.normal(0.0, 1.0)).collect();
    let b: Vec<f32> = (0..k * n).map(|_| rng.normal(0.0, 1.0)).collect();
    ctx.push_errors();
    let plan = MatmulPlan::new(m, k, n);
    let (ab, bb, cb) = (ctx.storage_from("a", &a).map_err(err)?, ctx.storage_from("b", &b).map_err(err)?, ctx.storage("c", m * n).map_err(err)?);
    let dummy = ctx.storage("dummy", 4).map_err(err)?;
    let scratch = if plan.splits > 1 { Some(ctx.storage("scratch", plan.scratch_len()).map_err(err)?) } else { None };
    let call = kernels::MatmulCall {
        plan,
        a: kernels::at(&ab),
        trans_a: ta,
        b: kernels::at(&bb),
        trans_b: tb,
        bias: None,
        c: kernels::at(&cb),
        beta: 0.0,
        act: ACT_IDENTITY,
        scratch: scratch.as_ref(),
        dummy: &dummy,
    };
    let product = kernels::matmul(&ctx, &call).map_err(err)?;
    let done = || async { ctx.queue.on_submitted_work_done().await.map_err(|e| JsError::new(&describe(&e))) };
    ctx.run(&product);
    done().await?;
    let t0 = now_ms()?;
    let encoder = ctx.device.create_command_encoder();
    ctx.record(&encoder, product.iter().cycle().take(iters * product.len()));
    ctx.submit(&encoder);
    done().await?;
    let seconds = (now_ms()? - t0) / 1000.0;
    ctx.pop_errors("matmul bench").await.map_err(err)?;
    for buf in [&ab, &bb, &cb, &dummy].into_iter().chain(scratch.as_ref()) {
        buf.destroy();
    }
    Ok(2.0 * (m * k * n) as f64 * iters as f64 / seconds.max(1e-9) / 1e9)
}
