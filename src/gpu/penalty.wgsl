// L1/L2 penalty on one layer's weight matrix, as src/nn/penalty.rs applies it after the
// backward pass (weights only: never biases, never batch-norm's γ/β):
//   ∂/∂w += λ₁·sign(w) + λ₂·w              (sign(0) = 0)
//   value  = Σ λ₁·|w| + (λ₂/2)·w²           added to the step's recorded loss
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
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> param: array<f32>;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> ring: array<f32>;   // (loss, missed) per step
@group(0) @binding(3) var<uniform> p: Params;

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
        grad[at] = grad[at] + (p.l1 * s + p.l2 * w);           // g += λ₁·sign(w) + λ₂·w
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
