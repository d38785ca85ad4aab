// Optimizer updates on the flat parameter vector, one invocation per weight, exactly the
// element-wise rules of src/optim/{sgd,rprop,rmsprop,adam}.rs, in the same order of f32
// operations. Every scalar that PyTorch works out in double precision (1 − dampening,
// lr/(1 − β₁ᵗ), √(1 − β₂ᵗ), 1 − lr·λ, 1 − α, …) is computed on the CPU in f64 and arrives
// here rounded to f32, as in the CPU optimizers (see the uniforms in optim.rs).
//
// 256 invocations per workgroup, the grid folded into 2-D for more than 65,535 workgroups
// (index = x + y·(groups_x·256)); the guard `i >= n` drops the invocations past the end.

struct Sgd {
    n: u32,
    flags: u32,          // MAXIMIZE | WEIGHT_DECAY | MOMENTUM | NESTEROV | FIRST
    lr: f32,
    weight_decay: f32,
    momentum: f32,
    keep: f32,           // 1 − dampening
    _pad0: u32,
    _pad1: u32,
}

struct Rprop {
    n: u32,
    flags: u32,          // MAXIMIZE | INIT
    lr: f32,             // the first Δ (with INIT)
    eta_minus: f32,
    eta_plus: f32,
    step_size_min: f32,
    step_size_max: f32,
    _pad0: u32,
}

struct RmsProp {
    n: u32,
    flags: u32,          // MAXIMIZE | WEIGHT_DECAY | MOMENTUM | CENTERED
    lr: f32,
    alpha: f32,
    one_minus_alpha: f32,
    eps: f32,
    weight_decay: f32,
    momentum: f32,
}

struct Adam {
    n: u32,
    flags: u32,          // MAXIMIZE | WEIGHT_DECAY | DECOUPLED | AMSGRAD
    step_size: f32,      // γ / c₁
    bc2_sqrt: f32,       // √c₂
    decay_factor: f32,   // 1 − γλ
    weight_decay: f32,   // λ
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    eps: f32,
    _pad0: u32,
    _pad1: u32,
}

const MAXIMIZE: u32 = 1u;
const WEIGHT_DECAY: u32 = 2u;
const MOMENTUM: u32 = 4u;
const NESTEROV: u32 = 8u;
const FIRST: u32 = 16u;
const DECOUPLED: u32 = 32u;
const AMSGRAD: u32 = 64u;
const INIT: u32 = 128u;
const CENTERED: u32 = 256u;

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
// SGD: momentum_buffer; Rprop: step_size; RMSprop: square_avg; Adam: exp_avg
@group(0) @binding(2) var<storage, read_write> state0: array<f32>;
// Rprop: prev; RMSprop: grad_avg (centered); Adam: exp_avg_sq
@group(0) @binding(3) var<storage, read_write> state1: array<f32>;
// RMSprop: momentum_buffer (momentum > 0); Adam: max_exp_avg_sq (amsgrad)
@group(0) @binding(4) var<storage, read_write> state2: array<f32>;
@group(0) @binding(5) var<uniform> sgd: Sgd;
@group(0) @binding(6) var<uniform> adam: Adam;
@group(0) @binding(7) var<uniform> rprop: Rprop;
@group(0) @binding(8) var<uniform> rms: RmsProp;

fn has(flags: u32, bit: u32) -> bool {
    return (flags & bit) != 0u;
}

@compute @workgroup_size(256, 1, 1)
fn sgd_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i >= sgd.n) {
        return;
    }
    let theta = param[i];
    var g = grad[i];
    if (has(sgd.flags, MAXIMIZE)) {
        g = -g;
    }
    if (has(sgd.flags, WEIGHT_DECAY)) {
        g = g + sgd.weight_decay * theta;                      // g ← g + λ·θ
    }
    if (has(sgd.flags, MOMENTUM)) {
        var b: f32;
        if (has(sgd.flags, FIRST)) {
            b = g;                                             // b₁ = g (undamped)
        } else {
            b = state0[i] * sgd.momentum + sgd.keep * g;       // b ← μ·b + (1−τ)·g
        }
        state0[i] = b;
        if (has(sgd.flags, NESTEROV)) {
            g = g + sgd.momentum * b;
        } else {
            g = b;
        }
    }
    param[i] = theta - sgd.lr * g;                             // θ ← θ − γ·g
}

// torch.lerp for one element, with both of PyTorch's forms (as optim::lerp).
fn lerp(start: f32, end: f32, weight: f32) -> f32 {
    if (abs(weight) < 0.5) {
        return start + weight * (end - start);
    }
    return end - (end - start) * (1.0 - weight);
}

@compute @workgroup_size(256, 1, 1)
fn adam_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i >= adam.n) {
        return;
    }
    var theta = param[i];
    var g = grad[i];
    if (has(adam.flags, MAXIMIZE)) {
        g = -g;
    }
    if (has(adam.flags, WEIGHT_DECAY)) {
        if (has(adam.flags, DECOUPLED)) {
            theta = theta * adam.decay_factor;                 // θ ← θ·(1 − γλ)
        } else {
            g = g + adam.weight_decay * theta;                 // g ← g + λ·θ
        }
    }
    let m = lerp(state0[i], g, adam.one_minus_beta1);          // m ← lerp(m, g, 1−β₁)
    state0[i] = m;
    let v = state1[i] * adam.beta2 + adam.one_minus_beta2 * g * g;   // v ← β₂·v + (1−β₂)·g²
    state1[i] = v;
    var second = v;
    if (has(adam.flags, AMSGRAD)) {
        second = max(state2[i], v);                            // v_max ← max(v_max, v)
        state2[i] = second;
    }
    let denom = sqrt(second) / adam.bc2_sqrt + adam.eps;       // d ← √v/√c₂ + ε
    param[i] = theta - (adam.step_size * m) / denom;           // θ ← θ − (γ/c₁)·m/d
}

// torch.sign: 0 for ±0 (written out rather than WGSL's sign(), to pin down ±0).
fn sign0(x: f32) -> f32 {
    if (x > 0.0) {
        return 1.0;
    }
    if (x < 0.0) {
        return -1.0;
    }
    return 0.0;
}

@compute @workgroup_size(256, 1, 1)
fn rprop_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i >= rprop.n) {
        return;
    }
    var g = grad[i];
    if (has(rprop.flags, MAXIMIZE)) {
        g = -g;
    }
    var delta = rprop.lr;                                      // Δ and g_prev start at lr, 0
    var prev = 0.0;
    if (!has(rprop.flags, INIT)) {
        delta = state0[i];
        prev = state1[i];
    }
    let s = sign0(g * prev);                                   // s ← sign(g·g_prev)
    var factor = 1.0;
    if (s > 0.0) {
        factor = rprop.eta_plus;
    } else if (s < 0.0) {
        factor = rprop.eta_minus;
    }
    // Δ ← clamp(Δ·factor, Δ_min, Δ_max), as max then min (the CPU's order)
    delta = min(max(delta * factor, rprop.step_size_min), rprop.step_size_max);
    if (s < 0.0) {
        g = 0.0;                                               // sign flip: no move, forget g
    }
    param[i] = param[i] - sign0(g) * delta;                    // θ ← θ − sign(g)·Δ
    state0[i] = delta;
    state1[i] = g;                                             // g_prev ← g
}

@compute @workgroup_size(256, 1, 1)
fn rmsprop_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i >= rms.n) {
        return;
    }
    let theta = param[i];
    var g = grad[i];
    if (has(rms.flags, MAXIMIZE)) {
        g = -g;
    }
    if (has(rms.flags, WEIGHT_DECAY)) {
        g = g + rms.weight_decay * theta;                      // g ← g + λ·θ
    }
    let v = state0[i] * rms.alpha + rms.one_minus_alpha * g * g;   // v ← α·v + (1−α)·g²
    state0[i] = v;
    var avg: f32;
    if (has(rms.flags, CENTERED)) {
        let m = lerp(state1[i], g, rms.one_minus_alpha);       // ḡ ← lerp(ḡ, g, 1−α)
        state1[i] = m;
        avg = sqrt(v - m * m) + rms.eps;                       // a ← √(v − ḡ²) + ε
    } else {
        avg = sqrt(v) + rms.eps;                               // a ← √v + ε
    }
    if (has(rms.flags, MOMENTUM)) {
        let b = state2[i] * rms.momentum + g / avg;            // b ← μ·b + g/a
        state2[i] = b;
        param[i] = theta - rms.lr * b;                         // θ ← θ − γ·b
    } else {
        param[i] = theta - (rms.lr * g) / avg;                 // θ ← θ − γ·g/a
    }
}
