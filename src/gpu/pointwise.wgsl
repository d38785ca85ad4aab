// Element-wise and per-column kernels of the MLP's training step (activation.wgsl and
// rng.wgsl are prepended by Rust).
//
// Workgroups of 256 invocations, one element (or one column) each. A long vector needs more
// than the 65,535 workgroups one grid dimension allows, so Rust folds the grid into 2-D and
// every kernel recovers its index as x + y·(groups_x·256); the guard `idx >= n` drops the
// invocations past the end (n need not be a multiple of 256).
//
// `scale` is 1/(1 − p), computed on the CPU exactly as src/nn/dropout.rs does.

struct Params {
    n: u32,           // elements (rows · cols), or columns for col_sum
    rows: u32,        // col_sum: rows to add up
    act: u32,         // activation code
    dropout: u32,     // 1: a dropout mask follows the activation
    p: f32,           // drop probability
    scale: f32,       // 1 / (1 − p)
    key: u32,         // dropout key of this layer (seed and layer mixed on the CPU)
    step: u32,        // training step: a fresh mask every step
    out_off: u32,     // col_sum: element offset of the result in `dst`
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 256u;
}

// Inverted dropout after the activation: dst = src · mask · 1/(1 − p). `src` holds the
// activation output, which backward needs unmasked; `dst` becomes the next layer's input.
@compute @workgroup_size(256, 1, 1)
fn dropout_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let idx = flat_index(gid, groups);
    if (idx >= p.n) {
        return;
    }
    dst[idx] = src[idx] * dropout_factor(p.key, p.step, idx, p.p, p.scale);
}

// Back through [dropout and] the activation, in place on the gradient:
//   dst = (dst · mask) · f'(y),  y = src (the activation output kept from forward).
// The mask is recomputed from the counter, so forward never stores it. Same order of
// multiplications as src/nn/mlp.rs (dropout first, then the activation).
@compute @workgroup_size(256, 1, 1)
fn act_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let idx = flat_index(gid, groups);
    if (idx >= p.n) {
        return;
    }
    var d = dst[idx];
    if (p.dropout != 0u) {
        d = d * dropout_factor(p.key, p.step, idx, p.p, p.scale);
    }
    dst[idx] = d * activate_grad(src[idx], p.act);
}

// The bias gradient db_j = Σ_i dY[i, j] over the batch: one invocation per column j, walking
// down the rows (neighbouring invocations read neighbouring columns, so each row is read
// contiguously). Overwrites dst[out_off + j].
@compute @workgroup_size(256, 1, 1)
fn col_sum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let j = flat_index(gid, groups);
    if (j >= p.n) {
        return;
    }
    var s = 0.0;
    for (var i = 0u; i < p.rows; i++) {
        s = s + src[i * p.n + j];
    }
    dst[p.out_off + j] = s;
}
