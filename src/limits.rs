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

/// The most bytes the core may hold at once in one page, every experiment and session together
/// (`memory`): browsers give a tab's wasm 2–4 GB, and the page itself needs some of it.
pub const MAX_PAGE_BYTES: usize = 1_500_000_000;
