//! Shared by the WebGPU tests: one device for the whole run, seeded data and comparisons.

use descent::web::gpu::GpuContext;
use descent::Rng;
use std::cell::RefCell;
use std::rc::Rc;

thread_local! {
    static CONTEXT: RefCell<Option<Option<Rc<GpuContext>>>> = const { RefCell::new(None) };
}

/// The test device, or `None` (with a note) where the browser has no WebGPU adapter. Built
/// with DESCENT_REQUIRE_WEBGPU=1 (as `cargo xtask test` does for its SwiftShader run), a
/// missing adapter fails the test instead of skipping it.
pub async fn gpu(test: &str) -> Option<Rc<GpuContext>> {
    let cached = CONTEXT.with(|c| c.borrow().clone());
    let ctx = match cached {
        Some(c) => c,
        None => {
            let c = GpuContext::request().await.unwrap_or_else(|e| panic!("WebGPU adapter present but unusable: {e}"));
            if let Some(ctx) = &c {
                wasm_bindgen_test::console_log!("WebGPU adapter: {}", ctx.adapter_name);
            }
            CONTEXT.with(|cell| *cell.borrow_mut() = Some(c.clone()));
            c
        }
    };
    if ctx.is_none() {
        assert!(
            option_env!("DESCENT_REQUIRE_WEBGPU").is_none(),
            "{test}: no WebGPU adapter, but this run requires one (Chromium needs --enable-unsafe-webgpu and a Vulkan/SwiftShader backend)"
        );
        wasm_bindgen_test::console_log!("{test}: skipped, this browser has no WebGPU adapter");
    }
    ctx
}

/// `n` standard normal values from `seed`.
pub fn normal(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| rng.normal(0.0, 1.0)).collect()
}

/// Assert |got − want| ≤ tol(i) for every element, naming the first failure.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], tol: impl Fn(usize) -> f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol(i), "{what}: element {i}: GPU {g} vs reference {w} (tolerance {})", tol(i));
    }
}

/// Relative closeness with a floor at `floor` (for values near zero).
pub fn assert_rel(what: &str, got: &[f32], want: &[f32], rel: f32, floor: f32) {
    assert_close(what, got, want, |i| rel * want[i].abs().max(floor));
}
