// L1/L2 penalty on one layer's weight matrix, as src/nn/penalty.rs applies it after the
// backward pass (weights only: never biases, never batch-norm's γ/β):
//   ∂/∂w += λ₁·sign(w) + λ₂·w              (sign(0) = 0; the λ₁ term is 0 when L1 is proximal)
//   value  = Σ λ₁·|w| + (λ₂/2)·w²           added to the step's recorded loss
//
// `prox`, after the optimizer's update when L1 is proximal: w ← sign(w)·max(|w| − t, 0) with
// t = lr·λ₁ worked out on the CPU (`Penalty::prox_threshold`), one invocation per weight.
//
// One workgroup of 256 invocations per layer: each invocation walks a strided share of the
// layer's `n` weights (adding the gradient term in place and summing its share of the value),
// then a tree in workgroup memory adds the 256 shares, and invocation 0 adds the sum to the
// loss record of ring slot `slot`. The layers' dispatches run one after another in the step's
// compute pass, so each sees the record as the previous one left it: loss + v₁ + v₂ + …, the
// CPU's order. The CPU sums each layer in f64 and rounds once; here the sum is f32 (relative
// error about 1e-7·log₂(n), far inside the 1e-4 the tests allow).
//
// A single workgroup is plenty: the penalty runs once per step over at most a few million
// weights, next to matrix products over the whole batch.

struct Params {
    n: u32,           // weights in the layer
    w_off: u32,       // where they start in the flat parameter (and gradient) vector
    slot: u32,        // the ring record of this step
    _pad0: u32,
    l1: f32,
    l2: f32,
    half_l2: f32,     // λ₂/2, exact in f32
    l1_grad: f32,     // λ₁ in the gradient: λ₁ by subgradient, 0 when L1 is proximal
}

struct Prox {
    n: u32,           // weights in the layer
    w_off: u32,       // where they start in the flat parameter vector
    threshold: f32,   // t = lr·λ₁
    _pad0: u32,
}

@group(0) @binding(0) var<storage, read> param: array<f32>;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> ring: array<f32>;   // (loss, missed) per step
@group(0) @binding(3) var<uniform> p: Params;

// prox's own bindings (a pipeline's automatic layout holds only the bindings its entry uses)
@group(0) @binding(4) var<storage, read_write> weights: array<f32>;
@group(0) @binding(5) var<uniform> q: Prox;

var<workgroup> part: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn penalty(@builtin(local_invocation_index) li: u32) {
    var value = 0.0;
    for (var j = li; j < p.n; j += 256u) {
        let w = param[p.w_off + j];
        var s = 0.0;                                           // torch.sign(w)
        if (w > 0.0) {
            s = 1.0;
        } else if (w < 0.0) {
            s = -1.0;
        }
        let at = p.w_off + j;
        grad[at] = grad[at] + (p.l1_grad * s + p.l2 * w);      // g += λ₁·sign(w) + λ₂·w
        value = value + (p.l1 * abs(w) + p.half_l2 * w * w);   // λ₁·|w| + (λ₂/2)·w²
    }
    part[li] = value;
    workgroupBarrier();
    for (var half = 128u; half > 0u; half = half >> 1u) {
        if (li < half) {
            part[li] = part[li] + part[li + half];
        }
        workgroupBarrier();
    }
    if (li == 0u) {
        ring[2u * p.slot] = ring[2u * p.slot] + part[0];
    }
}

// Soft-thresholding, the proximal step of t·|w|: weights within t of zero land on exactly 0,
// the others move t towards it. The same two f32 operations as `nn::penalty::soft_threshold`
// (|w| − t, then the sign put back), so the CPU and the GPU agree bit for bit.
@compute @workgroup_size(256, 1, 1)
fn prox(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let j = gid.x + gid.y * groups.x * 256u;                   // grid_1d's fold
    if (j >= q.n) {                                            // the last group's spare lanes
        return;
    }
    let at = q.w_off + j;
    let w = weights[at];
    let shrunk = abs(w) - q.threshold;
    weights[at] = select(0.0, sign(w) * shrunk, shrunk > 0.0);
}
