//! The sizes no object may pass, defined once below every module that allocates: a layer's
//! width, a network's depth and parameter count, a run's epochs. Checked before anything is
//! allocated, so a request past them is a message, not an out-of-memory abort.

/// The most epochs a run may take.
pub const MAX_EPOCHS: usize = 500;
/// The widest layer a run may have.
pub const MAX_WIDTH: usize = 4096;
/// The most hidden layers a run may have.
pub const MAX_HIDDEN_LAYERS: usize = 16;
/// The most parameters a network may have (about 200 MB of f32 with its gradients and two
/// optimizer buffers): a larger one would not fit a browser tab's memory.
pub const MAX_PARAMETERS: usize = 12_000_000;

/// The most work one training step may take on the page's own thread, in floating-point
/// operations (forward and backward: 6 per weight per example). One core of a laptop does
/// 20–50 GFLOP/s in the SIMD build, so a step this large holds the page for 0.1–0.25 s a frame:
/// a stutter the student sees, not a frozen tab. A larger run is refused there with its cost (on
/// WebGPU, or in a worker, it is not: neither holds the page).
pub const MAX_PAGE_STEP_FLOP: f64 = 5e9;
/// The most weights and biases a network may have to be built and trained on the page's own
/// thread: drawing the initial weights alone takes about 17 ns a parameter in the browser, so a
/// network of this size is built in about 50 ms, one of 2048 × 2048 (5.8 M) in 0.1 s, and a cell
/// builds several. Larger ones train on WebGPU or in the worker pool.
pub const MAX_PAGE_RUN_PARAMETERS: usize = 3_000_000;
/// The speed [`MAX_PAGE_STEP_FLOP`] assumes, in GFLOP/s, until the page has measured its own.
pub const ASSUMED_PAGE_GFLOPS: f64 = 25.0;
/// The longest one training step may hold the page's thread at the measured speed, in
/// seconds: the same 0.2 s that [`MAX_PAGE_STEP_FLOP`] is at the assumed speed.
pub const MAX_PAGE_STEP_SECONDS: f64 = MAX_PAGE_STEP_FLOP / (ASSUMED_PAGE_GFLOPS * 1e9);

/// The CPU speed the page measured (`www/warmup.js`, from its warm-up run), as f64 bits; 0 until
/// then.
static PAGE_GFLOPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Record the page's measured CPU speed in GFLOP/s (ignored unless it is finite and between
/// 0.1 and 10,000).
pub fn set_page_gflops(gflops: f64) {
    if gflops.is_finite() && (0.1..=10_000.0).contains(&gflops) {
        PAGE_GFLOPS.store(gflops.to_bits(), std::sync::atomic::Ordering::Relaxed);
    }
}

/// The page's measured CPU speed in GFLOP/s, if it has measured one.
pub fn page_gflops() -> Option<f64> {
    let bits = PAGE_GFLOPS.load(std::sync::atomic::Ordering::Relaxed);
    (bits != 0).then(|| f64::from_bits(bits))
}

/// The most bytes the core may hold at once in one page, every experiment and session together
/// (`memory`): browsers give a tab's wasm 2–4 GB, and the page itself needs some of it.
pub const MAX_PAGE_BYTES: usize = 1_500_000_000;
