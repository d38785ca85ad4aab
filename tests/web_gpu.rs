//! WebGPU kernels against the scalar oracle, in headless Chromium.
//!
//! `cargo xtask test` runs this file with Chromium's software WebGPU adapter (SwiftShader on
//! Vulkan: --enable-unsafe-webgpu --enable-features=Vulkan --use-vulkan=swiftshader
//! --use-angle=swiftshader --disable-vulkan-surface), built with DESCENT_REQUIRE_WEBGPU=1 so a
//! missing adapter fails. In a browser without WebGPU every test prints a note and passes.
//!
//! Each WGSL kernel is compared with the code the CPU path runs: `backend::reference::gemm`
//! for the three matrix products, `nn::Activation`, `nn::loss::cross_entropy`,
//! `nn::BatchNorm1d`, `optim::build(...)`, and `nn::dropout::mask` for the
//! counter-based dropout masks (the same ones the CPU's layers draw).
#![cfg(target_arch = "wasm32")]

#[path = "gpu/common.rs"]
mod common;
#[path = "gpu/engine.rs"]
mod engine;
#[path = "gpu/state.rs"]
mod state;
#[path = "gpu/train.rs"]
mod train;

use common::{assert_close, assert_rel, gpu, normal};
use descent::backend::{reference, Op};
use descent::gpu::{self as webgpu, PointwiseUniform, ACT_IDENTITY};
use descent::nn::loss::{argmax_rows, cross_entropy};
use descent::nn::{dropout, Activation, BatchNorm1d, Reduction};
use descent::web::gpu::mlp::act_code;
use descent::web::gpu::ops;
use serde_json::json;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const ACTIVATIONS: [Activation; 5] = [Activation::Identity, Activation::Relu, Activation::LeakyRelu, Activation::Tanh, Activation::Sigmoid];

/// `reference::gemm` of op(A)·op(B), and of |op(A)|·|op(B)|: the sum of absolute products
/// bounds the rounding error of any summation order, so the tolerance scales with it.
fn reference_product(m: usize, k: usize, n: usize, a: &[f32], ta: bool, b: &[f32], tb: bool) -> (Vec<f32>, Vec<f32>) {
    let op = |t: bool| if t { Op::T } else { Op::N };
    let (mut c, mut bound) = (vec![0.0; m * n], vec![0.0; m * n]);
    reference::gemm(m, k, n, a, op(ta), b, op(tb), 0.0, &mut c);
    let (aa, ba): (Vec<f32>, Vec<f32>) = (a.iter().map(|v| v.abs()).collect(), b.iter().map(|v| v.abs()).collect());
    reference::gemm(m, k, n, &aa, op(ta), &ba, op(tb), 0.0, &mut bound);
    (c, bound)
}

#[wasm_bindgen_test]
async fn matmul_matches_the_reference_on_awkward_shapes() {
    let Some(ctx) = gpu("matmul").await else { return };
    // (m, k, n, why)
    let shapes = [
        (1, 1, 1, "scalar"),
        (1, 37, 19, "one row (1×N)"),
        (19, 37, 1, "one column (N×1)"),
        (33, 65, 17, "nothing a multiple of a tile"),
        (64, 64, 64, "exactly one large tile"),
        (65, 17, 129, "one past the tile in m and n"),
        (7, 3000, 5, "large k: split-K"),
        (10, 1500, 130, "output layer's dW over a big batch: split-K"),
        (128, 784, 64, "a first layer"),
    ];
    for (m, k, n, why) in shapes {
        let plan = webgpu::MatmulPlan::new(m, k, n);
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            let a = normal(m * k, (m * 31 + k) as u64);
            let b = normal(k * n, (n * 17 + k) as u64);
            let got = ops::matmul(&ctx, (m, k, n), &a, ta, &b, tb, None, &vec![0.0; m * n], 0.0, ACT_IDENTITY).await.unwrap();
            let (want, bound) = reference_product(m, k, n, &a, ta, &b, tb);
            assert_close(&format!("{m}×{k}×{n} ({why}) ta={ta} tb={tb} {plan:?}"), &got, &want, |i| 2e-6 * bound[i] + 1e-6);
        }
    }
}

#[wasm_bindgen_test]
async fn matmul_epilogue_adds_bias_and_beta_c_then_activates() {
    let Some(ctx) = gpu("matmul epilogue").await else { return };
    for (m, k, n) in [(5, 9, 3), (70, 40, 33), (3, 2000, 20)] {
        for act in ACTIVATIONS {
            let (a, b) = (normal(m * k, 1), normal(n * k, 2));
            let (bias, c0) = (normal(n, 3), normal(m * n, 4));
            // forward of a Linear layer: act(X·Wᵀ + b + 0.5·C)
            let got = ops::matmul(&ctx, (m, k, n), &a, false, &b, true, Some(&bias), &c0, 0.5, act_code(act)).await.unwrap();
            let (mut z, bound) = reference_product(m, k, n, &a, false, &b, true);
            for (i, v) in z.iter_mut().enumerate() {
                *v += bias[i % n] + 0.5 * c0[i];
            }
            act.forward(&mut z);
            // every activation has |f'| ≤ 1, so the product's error bound carries over
            assert_close(&format!("{m}×{k}×{n} {act:?}"), &got, &z, |i| 2e-6 * (bound[i] + 2.0) + 1e-6);
        }
    }
}

#[wasm_bindgen_test]
async fn activation_backward_matches_the_layers() {
    let Some(ctx) = gpu("activation backward").await else { return };
    let n = 1000;
    for act in ACTIVATIONS {
        let mut y = normal(n, 5).iter().map(|v| 3.0 * v).collect::<Vec<_>>();
        y[0] = 0.0; // the kink of (leaky) ReLU: derivative taken as 0 / slope
        act.forward(&mut y);
        let dy = normal(n, 6);
        let mut want = dy.clone();
        act.backward(&y, &mut want);
        let u = PointwiseUniform { act: act_code(act), ..Default::default() };
        let got = ops::act_backward(&ctx, &y, &dy, u).await.unwrap();
        assert_rel(&format!("{act:?}"), &got, &want, 1e-6, 1e-6);
    }
}

#[wasm_bindgen_test]
async fn dropout_masks_are_the_counter_based_reference_bit_for_bit() {
    let Some(ctx) = gpu("dropout").await else { return };
    let key = webgpu::dropout_key(1234, 1);
    for (n, p, step) in [(1usize, 0.5f32, 0u32), (1000, 0.1, 3), (100_003, 0.3, 17), (70_000, 0.9, 1_000_000)] {
        let x: Vec<f32> = (0..n).map(|i| 1.0 + i as f32 * 1e-3).collect();
        let got = ops::dropout_forward(&ctx, &x, p, key, step).await.unwrap();
        let mask = dropout::mask(key, step, n, p);
        for i in 0..n {
            assert_eq!(got[i].to_bits(), (x[i] * mask[i]).to_bits(), "n {n}, p {p}, step {step}: element {i}");
        }
        if n > 10_000 {
            // Bernoulli(1 − p): the kept share within 5 standard deviations
            let kept = got.iter().filter(|&&v| v != 0.0).count() as f64 / n as f64;
            let sd = ((p * (1.0 - p)) as f64 / n as f64).sqrt();
            assert!((kept - (1.0 - p as f64)).abs() < 5.0 * sd, "p {p}: kept {kept}");
        }
    }
    // backward recomputes the same mask: grad · mask · f'(y), here with ReLU
    let (n, p, step) = (5000, 0.4, 9);
    let mut y = normal(n, 7);
    Activation::Relu.forward(&mut y);
    let dy = normal(n, 8);
    let u = PointwiseUniform { act: act_code(Activation::Relu), dropout: 1, p, scale: 1.0 / (1.0 - p), key, step, ..Default::default() };
    let got = ops::act_backward(&ctx, &y, &dy, u).await.unwrap();
    let mask = dropout::mask(key, step, n, p);
    let want: Vec<f32> = (0..n).map(|i| if y[i] <= 0.0 { 0.0 } else { dy[i] * mask[i] }).collect();
    assert_rel("dropout + relu backward", &got, &want, 1e-6, 1e-7);
}

#[wasm_bindgen_test]
async fn column_sums_are_the_bias_gradient() {
    let Some(ctx) = gpu("col_sum").await else { return };
    for (rows, cols) in [(1, 1), (1, 300), (300, 1), (64, 257), (1000, 10)] {
        let x = normal(rows * cols, 9);
        let got = ops::col_sum(&ctx, &x, rows, cols).await.unwrap();
        let want = reference::col_sum(&x, rows, cols);
        assert_close(&format!("{rows}×{cols}"), &got, &want, |_| 1e-6 * rows as f32);
    }
}

#[wasm_bindgen_test]
async fn softmax_cross_entropy_matches_the_cpu_loss() {
    let Some(ctx) = gpu("softmax cross-entropy").await else { return };
    // (rows, classes, logit scale, why)
    let cases = [(1, 10, 1.0, "one row"), (64, 10, 3.0, "a batch"), (300, 3, 1.0, "more than one workgroup"), (5, 10, 500.0, "huge logits")];
    for (rows, classes, s, why) in cases {
        let logits: Vec<f32> = normal(rows * classes, 10).iter().map(|v| v * s).collect();
        let labels: Vec<u32> = (0..rows).map(|i| ((i * 7) % classes) as u32).collect();
        let missed = argmax_rows(&logits, classes).iter().zip(&labels).filter(|(p, &y)| **p != y as usize).count();
        for reduction in [Reduction::Mean, Reduction::Sum] {
            let scale = if reduction == Reduction::Mean { 1.0 / rows as f32 } else { 1.0 };
            let (loss, wrong, grad) = ops::softmax_xent(&ctx, &logits, &labels, classes, scale).await.unwrap();
            let (want_loss, want_grad) = cross_entropy(&logits, &labels, classes, reduction).unwrap();
            assert!((loss - want_loss).abs() <= 2e-5 * want_loss.abs().max(1.0), "{why} {reduction:?}: loss {loss} vs {want_loss}");
            assert_eq!(wrong, missed, "{why}: misclassified rows");
            assert_close(&format!("{why} {reduction:?} gradient"), &grad, &want_grad, |_| 2e-6);
        }
    }
}

#[wasm_bindgen_test]
async fn optimizer_updates_match_torch_optim_rules() {
    let Some(ctx) = gpu("optimizers").await else { return };
    // (name, options, why)
    let cases = [
        ("sgd", json!({"lr": 0.1}), "plain"),
        ("sgd", json!({"lr": 0.1, "momentum": 0.9, "dampening": 0.3}), "momentum with dampening"),
        ("sgd", json!({"lr": 0.05, "momentum": 0.9, "nesterov": true, "weight_decay": 0.01}), "nesterov + weight decay"),
        ("sgd", json!({"lr": 0.1, "maximize": true}), "maximize"),
        ("adam", json!({"lr": 0.01}), "defaults"),
        ("adam", json!({"lr": 0.01, "betas": [0.8, 0.99], "weight_decay": 0.1, "eps": 1e-6}), "L2 weight decay"),
        ("adam", json!({"lr": 0.01, "amsgrad": true}), "amsgrad"),
        ("adam", json!({"lr": 0.01, "bias_correction": false, "maximize": true}), "no bias correction, maximize"),
        ("adamw", json!({"lr": 0.01, "weight_decay": 0.1}), "decoupled decay"),
        ("rprop", json!({"lr": 0.01}), "defaults"),
        ("rprop", json!({"lr": 0.5, "etas": [0.3, 1.5], "step_sizes": [0.01, 0.6], "maximize": true}), "clamped both ways, maximize"),
        ("rmsprop", json!({"lr": 0.01}), "plain"),
        ("rmsprop", json!({"lr": 0.01, "alpha": 0.9, "eps": 1e-4, "weight_decay": 0.1, "maximize": true}), "weight decay, maximize"),
        ("rmsprop", json!({"lr": 0.01, "centered": true}), "centred"),
        ("rmsprop", json!({"lr": 0.01, "momentum": 0.9}), "momentum (its buffer in the third slot)"),
        ("rmsprop", json!({"lr": 0.01, "centered": true, "momentum": 0.5}), "centred with momentum"),
    ];
    let n = 1537;
    let start = normal(n, 11);
    let grads: Vec<Vec<f32>> = (0..6).map(|s| normal(n, 100 + s)).collect();
    for (name, options, why) in cases {
        let (got, state) = ops::optimizer_steps(&ctx, name, &options, &start, &grads).await.unwrap();
        let mut cpu = descent::optim::build(name, &options).unwrap();
        let mut want = start.clone();
        for g in &grads {
            cpu.step(&mut want, g).unwrap();
        }
        assert_rel(&format!("{name} ({why}) parameters"), &got, &want, 1e-5, 1e-3);
        let cpu_state = cpu.state();
        assert_eq!(state.len(), cpu_state.len(), "{name} ({why}): state tensors");
        for ((k, v), (ck, cv)) in state.iter().zip(&cpu_state) {
            assert_eq!(k, ck);
            assert_rel(&format!("{name} ({why}) {k}"), v, cv, 1e-5, 1e-4);
        }
    }
    let err = ops::optimizer_steps(&ctx, "lbfgs", &json!({}), &start, &grads).await.unwrap_err();
    assert!(err.contains("unknown optimizer 'lbfgs'"), "{err}");
}

#[wasm_bindgen_test]
async fn batch_norm_matches_the_layer_in_both_modes() {
    let Some(ctx) = gpu("batch norm").await else { return };
    for (rows, f) in [(2, 1), (5, 3), (64, 70), (300, 129)] {
        let x: Vec<f32> = normal(rows * f, 12).iter().enumerate().map(|(i, v)| 2.0 * v + (i % f) as f32).collect();
        let mut layer = BatchNorm1d::new(f, 1e-5, Some(0.1)).unwrap();
        layer.set_gamma(&normal(f, 13)).unwrap();
        layer.set_beta(&normal(f, 14)).unwrap();
        layer.state.running_mean = normal(f, 15);
        layer.state.running_var = normal(f, 16).iter().map(|v| 1.0 + v.abs()).collect();
        let (gamma, beta) = (layer.gamma.clone(), layer.beta.clone());
        let (rm, rv) = (layer.state.running_mean.clone(), layer.state.running_var.clone());
        let dy = normal(rows * f, 17);

        // training: batch statistics, running update, backward
        let want_y = layer.forward(&x, rows, true).unwrap();
        let want_dx = layer.backward(&dy).unwrap();
        let got = ops::batch_norm(&ctx, &x, rows, &gamma, &beta, (&rm, &rv), (1e-5, 0.1, ACT_IDENTITY), true, Some(&dy)).await.unwrap();
        let what = format!("{rows}×{f} training");
        assert_close(&format!("{what} y"), &got.y, &want_y, |_| 1e-4);
        assert_rel(&format!("{what} running_mean"), &got.running_mean, &layer.state.running_mean, 1e-5, 1e-2);
        assert_rel(&format!("{what} running_var"), &got.running_var, &layer.state.running_var, 1e-5, 1e-2);
        let (dx, dgamma, dbeta) = got.grads.unwrap();
        assert_close(&format!("{what} dx"), &dx, &want_dx, |_| 1e-4);
        assert_close(&format!("{what} dgamma"), &dgamma, &layer.grad_gamma, |_| 1e-5 * rows as f32);
        assert_close(&format!("{what} dbeta"), &dbeta, &layer.grad_beta, |_| 1e-5 * rows as f32);

        // evaluation: the running statistics, followed by an activation
        let (rm, rv) = (layer.state.running_mean.clone(), layer.state.running_var.clone());
        let mut want = layer.forward(&x, rows, false).unwrap();
        Activation::Tanh.forward(&mut want);
        let got = ops::batch_norm(&ctx, &x, rows, &gamma, &beta, (&rm, &rv), (1e-5, 0.1, act_code(Activation::Tanh)), false, None).await.unwrap();
        assert_close(&format!("{rows}×{f} evaluation"), &got.y, &want, |_| 1e-5);
        assert_eq!(got.running_mean, rm, "evaluation leaves the running statistics alone");
    }
}
