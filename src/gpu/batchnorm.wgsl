// Batch normalization over a (rows × features) input, as src/nn/batch_norm.rs, followed by
// the layer's activation (activation.wgsl is prepended by Rust):
//
//   training   μ_j = mean_i x_ij,  σ²_j = mean_i (x_ij − μ_j)²   (biased)
//              x̂ = (x − μ)·inv_std,  inv_std = 1/√(σ² + ε),  y = act(γ·x̂ + β)
//              running_mean ← (1 − f)·running_mean + f·μ
//              running_var  ← (1 − f)·running_var  + f·σ²·m/(m − 1)
//   evaluation the running statistics in place of μ and σ²
//   backward   dβ_j = Σ_i g_ij,  dγ_j = Σ_i g_ij·x̂_ij
//              dx_ij = γ_j·inv_std_j/m · (m·g_ij − dβ_j − x̂_ij·dγ_j)
//
// One invocation per feature j walks down its column (neighbouring invocations read
// neighbouring features, so every row is read contiguously); 64 per workgroup since hidden
// layers are a few hundred wide; the guard `j >= features` drops the extra invocations.
// Sums are in f32 (the CPU adds in f64): they agree to about 1e-6 relative for batches of
// thousands. γ, β live in the flat parameter buffer and their gradients in the flat
// gradient buffer, at the element offsets given.

struct Params {
    rows: u32,
    features: u32,
    gamma_off: u32,   // γ in `param` (β follows at beta_off)
    beta_off: u32,
    eps: f32,
    momentum: f32,    // f in the running-statistics update
    act: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;             // (rows × features) input
@group(0) @binding(1) var<storage, read> param: array<f32>;         // flat parameters
@group(0) @binding(2) var<storage, read_write> y: array<f32>;       // output (forward) / dx (backward)
@group(0) @binding(3) var<storage, read_write> x_hat: array<f32>;   // cache for backward
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;   // [running_mean | running_var | inv_std], 3·features
@group(0) @binding(5) var<uniform> p: Params;
@group(0) @binding(6) var<storage, read_write> grad: array<f32>;    // flat gradients (backward)

@compute @workgroup_size(64, 1, 1)
fn bn_forward_train(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    let f = p.features;
    if (j >= f) {
        return;
    }
    let m = f32(p.rows);
    var mean = 0.0;
    for (var i = 0u; i < p.rows; i++) {
        mean = mean + x[i * f + j];
    }
    mean = mean / m;
    var var_ = 0.0;
    for (var i = 0u; i < p.rows; i++) {
        let d = x[i * f + j] - mean;
        var_ = var_ + d * d;
    }
    var_ = var_ / m;
    let mom = p.momentum;
    stats[j] = (1.0 - mom) * stats[j] + mom * mean;
    stats[f + j] = (1.0 - mom) * stats[f + j] + mom * var_ * (m / (m - 1.0));
    let inv_std = 1.0 / sqrt(var_ + p.eps);
    stats[2u * f + j] = inv_std;
    let g = param[p.gamma_off + j];
    let b = param[p.beta_off + j];
    for (var i = 0u; i < p.rows; i++) {
        let h = (x[i * f + j] - mean) * inv_std;
        x_hat[i * f + j] = h;
        y[i * f + j] = activate(g * h + b, p.act);
    }
}

@compute @workgroup_size(64, 1, 1)
fn bn_forward_eval(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    let f = p.features;
    if (j >= f) {
        return;
    }
    let mean = stats[j];
    let inv_std = 1.0 / sqrt(stats[f + j] + p.eps);
    let g = param[p.gamma_off + j];
    let b = param[p.beta_off + j];
    for (var i = 0u; i < p.rows; i++) {
        y[i * f + j] = activate(g * ((x[i * f + j] - mean) * inv_std) + b, p.act);
    }
}

// Backward of training mode; `x` is the incoming gradient g (already through the activation),
// `y` receives dx, and dγ, dβ overwrite their slots in `grad`.
@compute @workgroup_size(64, 1, 1)
fn bn_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    let f = p.features;
    if (j >= f) {
        return;
    }
    var sum_g = 0.0;
    var sum_gx = 0.0;
    for (var i = 0u; i < p.rows; i++) {
        let g = x[i * f + j];
        sum_g = sum_g + g;
        sum_gx = sum_gx + g * x_hat[i * f + j];
    }
    grad[p.beta_off + j] = sum_g;
    grad[p.gamma_off + j] = sum_gx;
    let m = f32(p.rows);
    let k = param[p.gamma_off + j] * stats[2u * f + j] / m;
    for (var i = 0u; i < p.rows; i++) {
        y[i * f + j] = k * (m * x[i * f + j] - sum_g - x_hat[i * f + j] * sum_gx);
    }
}
