// Element-wise non-linearities shared by several kernels (Rust prepends this file to the
// modules that use it, so every kernel agrees on the same formulas).
//
// Codes, as `ACT_*` in src/gpu/mod.rs:
//   0 identity, 1 relu, 2 leaky_relu (slope 0.01), 3 tanh, 4 sigmoid.
// The derivative is written from the forward *output* y, exactly as src/nn/activation.rs
// does, so backward never needs the pre-activation.

const ACT_IDENTITY: u32 = 0u;
const ACT_RELU: u32 = 1u;
const ACT_LEAKY_RELU: u32 = 2u;
const ACT_TANH: u32 = 3u;
const ACT_SIGMOID: u32 = 4u;
const LEAKY_SLOPE: f32 = 0.01;

// tanh from one exponential of −2|x|: never overflows (WGSL's tanh may be computed as
// sinh/cosh, which gives inf/inf = NaN for large |x| on some implementations).
fn tanh_stable(x: f32) -> f32 {
    let t = exp(-2.0 * abs(x));
    let r = (1.0 - t) / (1.0 + t);
    return select(r, -r, x < 0.0);
}

// The logistic function without overflow, the same two branches as the CPU sigmoid.
fn sigmoid_stable(x: f32) -> f32 {
    if (x >= 0.0) {
        return 1.0 / (1.0 + exp(-x));
    }
    let e = exp(x);
    return e / (1.0 + e);
}

fn activate(x: f32, act: u32) -> f32 {
    switch act {
        case 1u: { return select(x, 0.0, x < 0.0); } // keeps NaN, as PyTorch's relu does
        case 2u: { return select(x, x * LEAKY_SLOPE, x < 0.0); }
        case 3u: { return tanh_stable(x); }
        case 4u: { return sigmoid_stable(x); }
        default: { return x; }
    }
}

// f'(x) expressed through y = f(x): for (leaky) ReLU, y > 0 exactly when x > 0, and
// at x = 0 the derivative is taken as 0 (ReLU) / the slope (leaky), as PyTorch does.
fn activate_grad(y: f32, act: u32) -> f32 {
    switch act {
        case 1u: { return select(1.0, 0.0, y <= 0.0); }
        case 2u: { return select(1.0, LEAKY_SLOPE, y <= 0.0); }
        case 3u: { return 1.0 - y * y; }
        case 4u: { return y * (1.0 - y); }
        default: { return 1.0; }
    }
}
