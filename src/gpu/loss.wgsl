// Softmax cross-entropy on (rows × classes) logits against integer labels, as
// src/nn/loss.rs computes it:
//   M = max_k z_k,  s = Σ_k e^{z_k − M},  ℓ = log s − (z_y − M)
//   ∂ℓ/∂z_k = (e^{z_k − M} / s − [k = y]) · scale,  scale = 1/rows (mean) or 1 (sum)
//
// `softmax_xent`: one invocation per row (a row has only `classes` ≈ 10 values, so a
// workgroup per row would sit mostly idle); 256 rows per workgroup, the grid folded into 2-D
// for very many rows, the guard `row >= rows` dropping the invocations past the end. It
// writes the gradient, each row's loss and whether the row's argmax (first maximum wins)
// missed its label.
//
// `reduce_loss`: a single workgroup of 256 invocations adds the row losses and the misses
// (each invocation a strided share, then a tree in workgroup memory) and stores
// (loss · scale, misses) in slot `slot` of a small ring of per-step records, so the CPU
// reads the losses of many steps back with one mapAsync instead of one per step.

struct Params {
    rows: u32,
    classes: u32,
    scale: f32,       // 1/rows for the mean, 1 for the sum
    slot: u32,        // reduce_loss: which record of the ring to write
    logits_off: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> row_loss: array<f32>;   // (loss, missed) per row
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(256, 1, 1)
fn softmax_xent(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = gid.x + gid.y * groups.x * 256u;
    if (row >= p.rows) {
        return;
    }
    let base = p.logits_off + row * p.classes;
    let y = labels[row];
    var m = logits[base];
    var best = 0u;
    for (var k = 1u; k < p.classes; k++) {
        let z = logits[base + k];
        if (z > m) {
            m = z;
            best = k;
        }
    }
    var s = 0.0;
    for (var k = 0u; k < p.classes; k++) {
        s = s + exp(logits[base + k] - m);
    }
    for (var k = 0u; k < p.classes; k++) {
        var g = exp(logits[base + k] - m) / s;
        if (k == y) {
            g = g - 1.0;
        }
        grad[row * p.classes + k] = g * p.scale;
    }
    row_loss[2u * row] = log(s) - (logits[base + y] - m);
    row_loss[2u * row + 1u] = select(0.0, 1.0, best != y);
}

// reduce_loss reads the row records and writes the ring; bindings 0 and 1 are unused there.
@group(0) @binding(5) var<storage, read_write> ring: array<f32>;

var<workgroup> part_loss: array<f32, 256>;
var<workgroup> part_miss: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn reduce_loss(@builtin(local_invocation_index) li: u32) {
    var l = 0.0;
    var w = 0.0;
    for (var r = li; r < p.rows; r += 256u) {
        l = l + row_loss[2u * r];
        w = w + row_loss[2u * r + 1u];
    }
    part_loss[li] = l;
    part_miss[li] = w;
    workgroupBarrier();
    for (var half = 128u; half > 0u; half = half >> 1u) {
        if (li < half) {
            part_loss[li] = part_loss[li] + part_loss[li + half];
            part_miss[li] = part_miss[li] + part_miss[li + half];
        }
        workgroupBarrier();
    }
    if (li == 0u) {
        ring[2u * p.slot] = part_loss[0] * p.scale;
        ring[2u * p.slot + 1u] = part_miss[0];
    }
}
