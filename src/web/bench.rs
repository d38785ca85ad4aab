//! Kernels exposed for `cargo xtask bench` (timed from JS, in Node or the browser): the CPU
//! GEMM kernels, the build's multiply-add peak (`backend::peak`) and the WebGPU product.

use super::gpu::{self, context::describe, kernels};
use crate::backend::{cpu, packed, peak, Op, Rows};
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

/// Where a training step's time goes: the step of `cargo xtask bench`'s training run (MLP
/// 784-256-128-10, ReLU, Adam, batch 64, on the notebook's training digits) taken apart. Each
/// part runs on its own, `iters` times, on exactly the shapes and pixels of the step — each
/// layer's forward product with its bias (and ReLU), softmax cross-entropy, each layer's
/// weight and bias gradient (one product), the input gradients with the ReLU backward of the
/// layer below in their write-back (none for the first layer), Adam's update of every
/// parameter; the first layer's two products read the batch's digits straight from the
/// training set, as a run does (the gather is in their packing) — then the whole step
/// (`Mlp::train_step` on the batch's rows of the training set, the path a CPU run takes)
/// `iters` times with the packed product's zero-step skipping and
/// `iters` times without it. The first layer's two products are also timed dense.
/// Returns `{ parts: [[name, µs per step, GFLOP per step]], dense: [[name, µs, GFLOP]],
/// wholeUs, wholeDenseUs, flop }`: `flop` is the dense step's count, whatever the parts do not
/// account for (copies, bookkeeping, the cache effects of running the parts apart) is
/// `wholeUs − Σ parts`.
#[wasm_bindgen(js_name = benchStepParts)]
pub fn bench_step_parts(data: &super::notebook::MnistData, iters: usize) -> Result<JsValue, JsError> {
    use crate::nn::{linear, loss, Activation, Mlp, MlpSpec, Reduction};
    let iters = iters.clamp(1, 10_000);
    let (batch, sizes) = (64usize, [784usize, 256, 128, 10]);
    let data = data.data().train;
    let n = data.len();
    if n < 2 * batch {
        return Err(JsError::new(&format!("benchStepParts needs at least {} training digits, got {n}", 2 * batch)));
    }
    // a fixed shuffle of the training digits (797 is prime to any n it is not a factor of)
    let stride = if n.is_multiple_of(797) { 1 } else { 797 };
    let order: Vec<usize> = (0..n).map(|i| (i * stride) % n).collect();
    let mut model = Mlp::new(MlpSpec::new(&sizes, Activation::Relu), 1).map_err(super::js_err)?;
    let mut opt = crate::optim::build("adam", &serde_json::json!({ "lr": 1e-3 })).map_err(super::js_err)?;
    let (mut x, mut labels) = (Vec::new(), Vec::new());
    data.gather(&order[..batch], &mut x, &mut labels);
    let params = model.parameters().to_vec();
    let layout = model.layout();
    // every layer's input, pre-activation and output as the step computes them
    let mut inputs = vec![x.clone()];
    for s in &layout {
        let mut z = linear::forward(inputs.last().unwrap(), batch, &params[s.w.clone()], &params[s.b.clone()], s.fan_in, s.fan_out);
        Activation::Relu.forward(&mut z);
        inputs.push(z);
    }
    let mut parts: Vec<(String, f64, f64)> = Vec::new();
    let mut time = |name: String, flop: f64, f: &mut dyn FnMut()| -> Result<(), JsError> {
        f();
        let t0 = now_ms()?;
        for _ in 0..iters {
            f();
        }
        parts.push((name, (now_ms()? - t0) * 1000.0 / iters as f64, flop / 1e9));
        Ok(())
    };
    // the first layer reads the batch's rows where they lie in the training set
    let rows = |l: usize| if l == 0 { Rows::gathered(&data.x, &order[..batch]) } else { Rows::dense(&inputs[l]) };
    let mut y = Vec::new();
    for (l, s) in layout.iter().enumerate() {
        let (w, b) = (&params[s.w.clone()], &params[s.b.clone()]);
        let flop = 2.0 * (batch * s.fan_in * s.fan_out) as f64;
        // a hidden layer's ReLU is applied as its product writes (linear::forward_act)
        let relu = l + 1 < layout.len();
        time(format!("layer {l} forward: X·Wᵀ + b{}", if relu { ", ReLU" } else { "" }), flop, &mut || {
            linear::forward_into(rows(l), batch, w, b, s.fan_in, s.fan_out, relu, &mut y);
            std::hint::black_box(&mut y);
        })?;
    }
    let logits = inputs.last().unwrap().clone();
    let mut dlogits = Vec::new();
    time("softmax cross-entropy".into(), 0.0, &mut || {
        dlogits = loss::cross_entropy(&logits, &labels, 10, Reduction::Mean).map(|(_, d)| d).unwrap_or_default();
    })?;
    let mut grads = vec![0f32; params.len()];
    for (l, s) in layout.iter().enumerate().rev() {
        let g: Vec<f32> = (0..batch * s.fan_out).map(|k| ((k % 7) as f32 - 3.0) * 1e-3).collect();
        let flop = 2.0 * (batch * s.fan_in * s.fan_out) as f64;
        let (w, wr, br) = (&params[s.w.clone()], s.w.clone(), s.b.clone());
        time(format!("layer {l} weight and bias gradient: dYᵀ·X, Σ dY"), flop, &mut || {
            let (dw, db) = grads.split_at_mut(br.start);
            linear::backward_into(
                rows(l),
                &g,
                batch,
                w,
                &mut dw[wr.clone()],
                &mut db[..br.len()],
                s.fan_in,
                s.fan_out,
                linear::InputGrad::None,
                false,
            );
        })?;
        if l > 0 {
            // the layer below's ReLU backward is applied as this product writes
            let mut dx = vec![0.0; batch * s.fan_in];
            time(format!("layer {l} input gradient through ReLU: dY·W, ReLU′"), flop, &mut || {
                crate::backend::gemm_relu_grad(batch, s.fan_out, s.fan_in, &g, Op::N, w, Op::N, &inputs[l], &mut dx);
                std::hint::black_box(&mut dx);
            })?;
        }
    }
    let mut p = params.clone();
    time(format!("Adam update ({} parameters)", p.len()), 0.0, &mut || {
        opt.step(&mut p, &grads).expect("same length");
    })?;
    // the whole step, as a CPU run takes it
    let flop: f64 = parts.iter().map(|p| p.2).sum::<f64>() * 1e9;
    let parts_opt = opt.parts().ok_or_else(|| JsError::new("adam takes its step in parts"))?;
    let mut j = 0;
    let mut step = || -> Result<(), JsError> {
        j = (j + batch) % (n - batch);
        let x = data.rows(&order[j..j + batch], &mut labels);
        model.train_step(x, &labels, Reduction::Mean, f32::MAX, parts_opt).map_err(super::js_err)?;
        Ok(())
    };
    let mut whole = |skip: bool| -> Result<f64, JsError> {
        packed::set_zero_skipping(skip);
        step()?;
        let t0 = now_ms()?;
        for _ in 0..iters {
            step()?;
        }
        Ok((now_ms()? - t0) * 1000.0 / iters as f64)
    };
    let (whole_us, whole_dense_us) = (whole(true)?, whole(false));
    packed::set_zero_skipping(true);
    let whole_dense_us = whole_dense_us?;
    // the first layer's two products without skipping, on the same pixels
    let mut dense: Vec<(String, f64, f64)> = Vec::new();
    let s0 = &layout[0];
    let flop0 = 2.0 * (batch * s0.fan_in * s0.fan_out) as f64;
    let w0 = &params[s0.w.clone()];
    let mut y0 = vec![0f32; batch * s0.fan_out];
    let g0: Vec<f32> = (0..batch * s0.fan_out).map(|k| ((k % 7) as f32 - 3.0) * 1e-3).collect();
    let mut dw0 = vec![0f32; w0.len()];
    for (name, f) in [
        (
            "layer 0 forward X·Wᵀ, dense",
            &mut (|| packed::gemm_dense(batch, s0.fan_in, s0.fan_out, &inputs[0], Op::N, w0, Op::T, 0.0, &mut y0)) as &mut dyn FnMut(),
        ),
        ("layer 0 weight gradient dYᵀ·X, dense", &mut || {
            packed::gemm_dense(s0.fan_out, batch, s0.fan_in, &g0, Op::T, &inputs[0], Op::N, 0.0, &mut dw0)
        }),
    ] {
        f();
        let t0 = now_ms()?;
        for _ in 0..iters {
            f();
        }
        dense.push((name.into(), (now_ms()? - t0) * 1000.0 / iters as f64, flop0 / 1e9));
    }
    // the share of the first layer's k steps the skipping products visit on these pixels: a
    // pixel is a step of the forward for four digits at once (one A panel), an 8-pixel run of
    // one digit a step of the weight gradient (one B panel)
    let (x0, f) = (&inputs[0], s0.fan_in);
    let nz = |v: &[f32]| v.iter().any(|&p| p != 0.0);
    let forward_steps =
        (0..batch / 4).flat_map(|g| (0..f).map(move |p| (g, p))).filter(|&(g, p)| (0..4).any(|r| x0[(4 * g + r) * f + p] != 0.0)).count();
    let gradient_steps: usize = x0.chunks_exact(f).map(|row| row.chunks(8).filter(|run| nz(run)).count()).sum();
    let visited = [forward_steps as f64 / (batch / 4 * f) as f64, gradient_steps as f64 / (batch * f.div_ceil(8)) as f64];
    let performed = flop - flop0 * ((1.0 - visited[0]) + (1.0 - visited[1]));
    let out = serde_json::json!({
        "parts": parts, "dense": dense, "wholeUs": whole_us, "wholeDenseUs": whole_dense_us, "flop": flop,
        "layer0Visited": { "forward": visited[0], "weightGradient": visited[1] }, "performedFlop": performed,
    });
    super::to_js(&out)
}
