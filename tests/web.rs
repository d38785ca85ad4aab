//! wasm tests in headless Chromium (`cargo xtask test` runs them through ChromeDriver).
//!
//! They check that the core behaves in the browser exactly as natively: the module loads, it
//! was built with simd128, the CPU kernels agree with the scalar oracle, and a forward pass and
//! a few training steps run.
#![cfg(target_arch = "wasm32")]

use descent::backend::{self, reference, Op};
use descent::nn::{Activation, Mlp, MlpSpec};
use descent::Rng;
use wasm_bindgen_test::*;

mod common;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn built_with_simd128_and_reports_it() {
    // A compile-time fact, checked here so a build without simd128 cannot pass unnoticed.
    #[allow(clippy::assertions_on_constants)]
    {
        assert!(cfg!(target_feature = "simd128"), "the wasm build must enable simd128");
    }
    assert_eq!(descent::web::backend_name(), "CPU (SIMD)");
}

#[wasm_bindgen_test]
fn gemm_matches_the_scalar_reference_in_the_browser() {
    let mut rng = Rng::new(11);
    for &(m, k, n) in &[(1, 1, 1), (1, 9, 7), (7, 9, 1), (33, 65, 17), (64, 784, 128)] {
        for (ta, tb) in [(Op::N, Op::N), (Op::N, Op::T), (Op::T, Op::N)] {
            let a: Vec<f32> = (0..m * k).map(|_| rng.normal(0.0, 1.0)).collect();
            let b: Vec<f32> = (0..k * n).map(|_| rng.normal(0.0, 1.0)).collect();
            let mut c = vec![0.0; m * n];
            let mut r = vec![0.0; m * n];
            backend::gemm(m, k, n, &a, ta, &b, tb, 0.0, &mut c);
            reference::gemm(m, k, n, &a, ta, &b, tb, 0.0, &mut r);
            for (x, y) in c.iter().zip(&r) {
                assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{m}x{k}x{n}: {x} vs {y}");
            }
        }
    }
}

#[wasm_bindgen_test]
fn forward_keeps_the_batch_dimension() {
    let mut mlp = Mlp::new(MlpSpec::new(&[784, 64, 10], Activation::Relu), 3).unwrap();
    for m in [1, 5, 64] {
        let x = descent::data::synthetic::gaussian_noise(m, 784, 1);
        let y = mlp.forward(&x, m, false).unwrap();
        assert_eq!(y.len(), m * 10);
        assert!(y.iter().all(|v| v.is_finite()));
    }
}

#[wasm_bindgen_test]
fn the_same_seed_gives_the_same_numbers_as_natively() {
    // tests/replay.rs runs the same check natively.
    common::check_replay();
}

#[wasm_bindgen_test]
fn simd_optimizer_loops_equal_one_weight_at_a_time() {
    // tests/replay.rs runs the same check natively.
    common::check_vectorized_optimizers();
}

#[wasm_bindgen_test]
fn packed_simd128_gemm_skips_zero_steps_bit_for_bit() {
    // tests/replay.rs runs the same check natively, on the portable micro-kernel.
    common::check_zero_skipping();
}

#[wasm_bindgen_test]
fn packed_simd128_gemm_adds_bias_and_relu_as_it_writes_bit_for_bit() {
    // tests/replay.rs runs the same check natively, on the portable micro-kernel.
    common::check_fused_bias_relu();
}

#[wasm_bindgen_test]
fn packed_simd128_gemm_applies_relu_backward_as_it_writes_bit_for_bit() {
    common::check_fused_relu_grad();
}

#[wasm_bindgen_test]
fn packed_simd128_gemm_sums_the_bias_gradient_as_it_packs_bit_for_bit() {
    common::check_fused_row_sums();
}

#[wasm_bindgen_test]
fn packed_simd128_gemm_gathers_rows_into_its_panels_bit_for_bit() {
    common::check_gathered_rows();
}

#[wasm_bindgen_test]
fn a_fused_training_step_has_the_unfused_gradients_bit_for_bit() {
    // with the simd128 product: every fusion of the browser's CPU path in one step
    common::check_fused_step();
}

#[wasm_bindgen_test]
fn packed_simd128_gemm_matches_the_scalar_reference() {
    let mut rng = Rng::new(12);
    for &(m, k, n) in &[(1, 1, 1), (1, 300, 9), (9, 300, 1), (5, 257, 9), (65, 3, 17), (6, 263, 13), (64, 784, 128), (3, 513, 70)] {
        for (ta, tb) in [(Op::N, Op::N), (Op::N, Op::T), (Op::T, Op::N), (Op::T, Op::T)] {
            let a: Vec<f32> = (0..m * k).map(|_| rng.normal(0.0, 1.0)).collect();
            let b: Vec<f32> = (0..k * n).map(|_| rng.normal(0.0, 1.0)).collect();
            let c0: Vec<f32> = (0..m * n).map(|_| rng.normal(0.0, 1.0)).collect();
            let (mut c, mut r) = (c0.clone(), c0.clone());
            backend::packed::gemm(m, k, n, &a, ta, &b, tb, 0.5, &mut c);
            reference::gemm(m, k, n, &a, ta, &b, tb, 0.5, &mut r);
            for (x, y) in c.iter().zip(&r) {
                assert!((x - y).abs() <= 1e-5 * (k as f32).sqrt() * (1.0 + y.abs()), "{m}x{k}x{n} {ta:?}{tb:?}: {x} vs {y}");
            }
        }
    }
}
