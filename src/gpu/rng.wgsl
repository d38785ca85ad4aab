// Counter-based random numbers for dropout: the mask bit of element `index` at training step
// `step` is a pure function of (key, step, index), so the GPU needs no generator state, the
// backward pass recomputes the forward's mask instead of storing it, and a run replays from
// its seed. The key (from the seed and the layer) is mixed on the CPU. `nn::dropout` holds the
// same functions in Rust, and the CPU's layers draw their masks with them: the same masks on
// both paths.
//
// mix32 is the "lowbias32" integer hash (Wellons): two multiply–xorshift rounds, every input
// bit affecting every output bit. Chaining it over the counter words is the usual way to
// build a counter-based generator from a hash (it is not Philox).

fn mix32(v: u32) -> u32 {
    var x = v;
    x = x ^ (x >> 16u);
    x = x * 0x7feb352du;
    x = x ^ (x >> 15u);
    x = x * 0x846ca68bu;
    x = x ^ (x >> 16u);
    return x;
}

// A uniform number in [0, 1) with 24 random bits: exact in f32, so Rust and WGSL agree to
// the bit on which elements are dropped.
fn uniform01(key: u32, step: u32, index: u32) -> f32 {
    let h = mix32(mix32(key ^ step) ^ index);
    return f32(h >> 8u) * (1.0 / 16777216.0);
}

// Inverted dropout's per-element factor: 0 with probability p, else 1/(1 − p).
fn dropout_factor(key: u32, step: u32, index: u32, p: f32, scale: f32) -> f32 {
    return select(scale, 0.0, uniform01(key, step, index) < p);
}
