//! Every backward pass in `descent::nn` against finite differences of its own forward pass.
//!
//! How a derivative is estimated: the five-point central stencil
//!
//!   f'(v) ≈ (f(v − 2h) − 8·f(v − h) + 8·f(v + h) − f(v + 2h)) / 12h,
//!
//! whose truncation error is (h⁴/30)·f⁽⁵⁾: about 3e-8·f⁽⁵⁾ at the default h = 2⁻⁵. To keep the
//! step itself exact, every perturbed value is a multiple of 2⁻¹⁰ (below 4096 in size) and h
//! is a power of two, so v ± h and v ± 2h are exact f32 numbers.
//!
//! A vector-valued layer is reduced to a scalar with fixed random weights c, L = Σ c·y,
//! summed in f64; its analytic gradient is the layer's backward pass given dy = c.
//!
//! A check passes when |numeric − analytic| ≤ rtol·max(|numeric|, |analytic|) + atol.
//! The library computes in f32, so the objective carries rounding of about ε·|f| per ulp
//! (ε = 1.2e-7), and the stencil multiplies that by (1 + 8 + 8 + 1)/12h = 48 at h = 2⁻⁵:
//! each atol below is roughly two ulps of its objective carried through the stencil, e.g.
//! 2·ε·12·48 ≈ 1.4e-4 for a summed cross-entropy of 12. The rtol parts cover the stencil's
//! truncation. The errors actually seen (printed by every test) use well under half of each
//! tolerance, while a wrong term in a backward pass is off by a sizeable fraction of the
//! gradient itself. Kinks (ReLU at 0, |w| at 0) stay more than 2h away from checked values.
//! Linear and dropout (fixed mask) are linear in what is perturbed and come out exact.

use descent::nn::activation::Activation;
use descent::nn::batch_norm::BatchNorm1d;
use descent::nn::loss::{cross_entropy, mse, Reduction};
use descent::nn::mlp::{Mlp, MlpSpec};
use descent::nn::penalty::Penalty;
use descent::nn::{dropout, linear};
use descent::Rng;

/// The stencil's step, a power of two.
const H: f32 = 1.0 / 32.0;

/// Round to a multiple of 2⁻¹⁰ so that v ± 2H is exact in f32.
fn q(v: f32) -> f32 {
    (v * 1024.0).round() / 1024.0
}

/// `n` quantized values ~ mean + std·N(0, 1).
fn normal(rng: &mut Rng, n: usize, mean: f32, std: f32) -> Vec<f32> {
    (0..n).map(|_| q(rng.normal(mean, std))).collect()
}

/// Σ c·y in f64.
fn dot(c: &[f32], y: &[f32]) -> f64 {
    assert_eq!(c.len(), y.len());
    c.iter().zip(y).map(|(&c, &y)| c as f64 * y as f64).sum()
}

#[derive(Clone, Copy, Debug)]
struct Tol {
    /// The stencil's step, a power of two ≥ 2⁻⁹.
    h: f32,
    rtol: f64,
    atol: f64,
}

/// Worst agreement seen by one check, as a share of its tolerance.
#[derive(Default)]
struct Worst {
    checked: usize,
    share: f64,
    abs_err: f64,
    /// Where the largest share was used.
    at: String,
}

/// Compare `analytic[i]` with the stencil estimate of ∂f/∂v[i] for every i in `indices`,
/// where `f` is evaluated on a perturbed copy of `v`.
fn check(
    what: &str,
    v: &[f32],
    analytic: &[f32],
    indices: impl IntoIterator<Item = usize>,
    tol: Tol,
    worst: &mut Worst,
    mut f: impl FnMut(&[f32]) -> f64,
) {
    assert_eq!(v.len(), analytic.len(), "{what}: gradient length");
    let mut p = v.to_vec();
    for i in indices {
        assert!(v[i].abs() < 4096.0 && q(v[i]) == v[i], "{what}[{i}] = {} is not on the 2⁻¹⁰ grid", v[i]);
        let mut at = |k: f32| {
            p[i] = v[i] + k * tol.h; // exact: see q
            let y = f(&p);
            p[i] = v[i];
            y
        };
        let numeric = (at(-2.0) - 8.0 * at(-1.0) + 8.0 * at(1.0) - at(2.0)) / (12.0 * tol.h as f64);
        let a = analytic[i] as f64;
        let err = (numeric - a).abs();
        let allowed = tol.rtol * numeric.abs().max(a.abs()) + tol.atol;
        assert!(err <= allowed, "{what}[{i}]: backward {a:e}, finite difference {numeric:e} (diff {err:e}, allowed {allowed:e})");
        worst.checked += 1;
        if err / allowed > worst.share {
            worst.share = err / allowed;
            worst.at = format!("{what}[{i}]");
        }
        worst.abs_err = worst.abs_err.max(err);
    }
}

fn report(test: &str, worst: &Worst) {
    println!(
        "{test}: {} derivatives; worst used {:.1}% of its tolerance (at {}); largest |diff| {:.2e}",
        worst.checked,
        100.0 * worst.share,
        worst.at,
        worst.abs_err
    );
}

// ---------------------------------------------------------------------------------------
// Layers
// ---------------------------------------------------------------------------------------

#[test]
fn linear_backward_matches_finite_differences() {
    // (batch, fan_in, fan_out, reason)
    let rows = [(1, 3, 2, "batch of 1"), (5, 4, 3, "small"), (8, 1, 6, "one input"), (6, 7, 1, "one output")];
    // Y is linear in each of X, W, b: only rounding separates the two sides.
    let tol = Tol { h: H, rtol: 1e-5, atol: 1e-5 };
    let mut worst = Worst::default();
    let mut rng = Rng::new(1);
    for (batch, fi, fo, reason) in rows {
        let (x, w, b) = (normal(&mut rng, batch * fi, 0.0, 1.0), normal(&mut rng, fo * fi, 0.0, 0.5), normal(&mut rng, fo, 0.0, 0.5));
        let c = normal(&mut rng, batch * fo, 0.0, 1.0);
        let (mut dw, mut db) = (vec![0.0; w.len()], vec![0.0; b.len()]);
        let dx = linear::backward(&x, &c, batch, &w, &mut dw, &mut db, fi, fo, true).unwrap();
        let label = format!("linear {batch}×{fi}→{fo} ({reason})");
        check(&format!("{label} dx"), &x, &dx, 0..x.len(), tol, &mut worst, |x| dot(&c, &linear::forward(x, batch, &w, &b, fi, fo)));
        check(&format!("{label} dW"), &w, &dw, 0..w.len(), tol, &mut worst, |w| dot(&c, &linear::forward(&x, batch, w, &b, fi, fo)));
        check(&format!("{label} db"), &b, &db, 0..b.len(), tol, &mut worst, |b| dot(&c, &linear::forward(&x, batch, &w, b, fi, fo)));
    }
    report("linear", &worst);
}

#[test]
fn activation_backward_matches_finite_differences() {
    // Inputs stay ≥ 0.1 from ReLU's kink (the stencil reaches 2h = 0.0625), and reach ±6 where
    // tanh and sigmoid are nearly flat.
    let x: Vec<f32> = [-6.0, -2.5, -1.0, -0.4, -0.1, 0.1, 0.3, 0.9, 1.7, 3.0, 6.0].iter().map(|&v| q(v)).collect();
    let c = normal(&mut Rng::new(2), x.len(), 0.0, 1.0);
    #[rustfmt::skip]
    let rows = [
        (Activation::Relu, "piecewise linear: exact away from 0"),
        (Activation::LeakyRelu, "piecewise linear, slope 0.01 below 0"),
        (Activation::Tanh, "derivative from the output: 1 − y²"),
        (Activation::Sigmoid, "derivative from the output: y(1 − y)"),
        (Activation::Identity, "derivative 1"),
    ];
    let tol = Tol { h: H, rtol: 1e-4, atol: 1e-5 };
    let mut worst = Worst::default();
    for (act, reason) in rows {
        let mut y = x.clone();
        act.forward(&mut y);
        let mut dx = c.clone();
        act.backward(&y, &mut dx);
        check(&format!("{} ({reason})", act.name()), &x, &dx, 0..x.len(), tol, &mut worst, |x| {
            let mut y = x.to_vec();
            act.forward(&mut y);
            dot(&c, &y)
        });
    }
    report("activations", &worst);
}

#[test]
fn loss_gradients_match_finite_differences() {
    let mut rng = Rng::new(3);
    let mut worst = Worst::default();
    // (batch, classes, logit scale, reduction, tolerance, reason). The loss is summed in f64
    // and rounded once to f32, so atol follows the size of the loss (see the module comment).
    #[rustfmt::skip]
    let rows = [
        (1, 4, 1.0, Reduction::Mean, Tol { h: H, rtol: 1e-4, atol: 5e-5 }, "batch of 1, loss ~2"),
        (6, 5, 1.5, Reduction::Mean, Tol { h: H, rtol: 1e-4, atol: 5e-5 }, "mean divides by the batch, loss ~2"),
        (6, 5, 1.5, Reduction::Sum, Tol { h: H, rtol: 1e-4, atol: 2e-4 }, "sum, loss ~12"),
        (4, 3, 7.0, Reduction::Sum, Tol { h: H, rtol: 1e-4, atol: 1e-3 }, "logits of scale 7, loss up to ~50"),
    ];
    for (batch, classes, scale, reduction, tol, reason) in rows {
        let logits = normal(&mut rng, batch * classes, 0.0, scale);
        let labels: Vec<u32> = (0..batch).map(|_| rng.below(classes) as u32).collect();
        let (_, grad) = cross_entropy(&logits, &labels, classes, reduction).unwrap();
        let label = format!("cross-entropy {batch}×{classes} {reduction:?} ({reason})");
        check(&label, &logits, &grad, 0..logits.len(), tol, &mut worst, |z| cross_entropy(z, &labels, classes, reduction).unwrap().0 as f64);
    }
    for (n, reduction, reason) in [(1, Reduction::Mean, "one value"), (12, Reduction::Mean, "mean over all values"), (12, Reduction::Sum, "sum")] {
        let pred = normal(&mut rng, n, 0.0, 2.0);
        let target = normal(&mut rng, n, 0.0, 1.0);
        let (_, grad) = mse(&pred, &target, reduction).unwrap();
        let atol = if reduction == Reduction::Sum { 5e-4 } else { 1e-4 }; // loss ~60 or ~5
        let tol = Tol { h: H, rtol: 1e-4, atol };
        check(&format!("mse {n} {reduction:?} ({reason})"), &pred, &grad, 0..n, tol, &mut worst, |p| mse(p, &target, reduction).unwrap().0 as f64);
    }
    report("losses", &worst);
}

#[test]
fn penalty_gradient_matches_finite_differences() {
    // Weights at least 0.1 from 0, where |w| has its kink.
    let w: Vec<f32> = [-2.0, -0.7, -0.1, 0.1, 0.35, 1.2, 3.5].iter().map(|&v| q(v)).collect();
    let rows = [(Penalty::new(0.01, 0.0), "L1: λ₁·sign(w)"), (Penalty::new(0.0, 0.1), "L2: λ₂·w"), (Penalty::new(0.05, 0.3), "both")];
    let tol = Tol { h: H, rtol: 1e-4, atol: 5e-5 }; // penalties up to ~4
    let mut worst = Worst::default();
    for (penalty, reason) in rows {
        let mut grad = vec![0.0; w.len()];
        penalty.apply(&w, &mut grad);
        check(&format!("penalty ({reason})"), &w, &grad, 0..w.len(), tol, &mut worst, |w| penalty.apply(w, &mut vec![0.0; w.len()]) as f64);
    }
    report("penalty", &worst);
}

#[test]
fn batch_norm_backward_matches_finite_differences() {
    // (batch, features, eps, reason). In training mode x̂ depends on every row of the batch,
    // so dx carries the two extra terms through μ and σ²; evaluation mode is affine in x.
    #[rustfmt::skip]
    let rows = [
        (2, 3, 1e-5, "batch of 2: x̂ = ±1, dx nearly 0"),
        (5, 4, 1e-5, "PyTorch defaults"),
        (16, 3, 1e-3, "larger batch, eps 1e-3"),
    ];
    // L = Σ c·y over up to 48 outputs of size ~γ, each rounded a few times in f32 (through
    // μ, σ² and the division): atol 1e-4.
    let tol = Tol { h: H, rtol: 2e-4, atol: 1e-4 };
    let mut worst = Worst::default();
    let mut rng = Rng::new(4);
    for (batch, features, eps, reason) in rows {
        let x = if batch == 2 {
            // Each column's two values differ by ≥ 1.75, far more than the stencil's reach
            // 4h: where they cross, x̂ jumps from −1 to +1.
            vec![-1.0, 0.5, 2.0, 0.75, -1.25, 0.25]
        } else {
            normal(&mut rng, batch * features, 0.5, 1.5)
        };
        let gamma = normal(&mut rng, features, 1.0, 0.4);
        let beta = normal(&mut rng, features, 0.0, 0.5);
        let c = normal(&mut rng, batch * features, 0.0, 1.0);
        for training in [true, false] {
            let mode = if training { "training" } else { "evaluation" };
            let label = format!("BatchNorm1d {batch}×{features} eps {eps} {mode} ({reason})");
            // Non-trivial running statistics for evaluation mode.
            let fresh = || {
                let mut bn = BatchNorm1d::new(features, eps, Some(0.1)).unwrap();
                bn.state.running_mean = (0..features).map(|j| 0.3 * j as f32 - 0.2).collect();
                bn.state.running_var = (0..features).map(|j| 0.5 + 0.7 * j as f32).collect();
                bn
            };
            let run = |x: &[f32], gamma: &[f32], beta: &[f32]| {
                let mut bn = fresh();
                bn.set_gamma(gamma).unwrap();
                bn.set_beta(beta).unwrap();
                dot(&c, &bn.forward(x, batch, training).unwrap())
            };
            let mut bn = fresh();
            bn.set_gamma(&gamma).unwrap();
            bn.set_beta(&beta).unwrap();
            bn.forward(&x, batch, training).unwrap();
            let dx = bn.backward(&c).unwrap();
            check(&format!("{label} dx"), &x, &dx, 0..x.len(), tol, &mut worst, |x| run(x, &gamma, &beta));
            check(&format!("{label} dγ"), &gamma, &bn.grad_gamma, 0..features, tol, &mut worst, |g| run(&x, g, &beta));
            check(&format!("{label} dβ"), &beta, &bn.grad_beta, 0..features, tol, &mut worst, |b| run(&x, &gamma, b));
        }
    }
    report("batch_norm", &worst);
}

#[test]
fn dropout_backward_matches_finite_differences() {
    // The same seed draws the same mask on every call, so with the mask fixed dropout is
    // linear in x: dx = dy·mask.
    let mut rng = Rng::new(5);
    let x = normal(&mut rng, 40, 0.0, 1.0);
    let c = normal(&mut rng, 40, 0.0, 1.0);
    let tol = Tol { h: H, rtol: 1e-5, atol: 1e-5 };
    let mut worst = Worst::default();
    for (p, training, reason) in [(0.2, true, "p = 0.2"), (0.5, true, "p = 0.5"), (0.5, false, "evaluation: identity")] {
        let (_, mask) = dropout::forward(&x, p, training, dropout::key(17, 0), 0).unwrap();
        assert_eq!(mask.is_empty(), !training, "{reason}: a mask only when training");
        let mut dx = c.clone();
        dropout::backward(&mut dx, &mask);
        check(&format!("dropout ({reason})"), &x, &dx, 0..x.len(), tol, &mut worst, |x| {
            dot(&c, &dropout::forward(x, p, training, dropout::key(17, 0), 0).unwrap().0)
        });
    }
    report("dropout", &worst);
}

// ---------------------------------------------------------------------------------------
// Whole networks
// ---------------------------------------------------------------------------------------

struct NetRow {
    sizes: &'static [usize],
    activation: Activation,
    batch_norm: &'static [bool],
    bn_eps: f32,
    reduction: Reduction,
    penalty: Penalty,
    batch: usize,
    /// The stencil's step: 2⁻⁶, or 2⁻⁷ where the loss curves sharply enough that the
    /// stencil's truncation error shows at 2⁻⁶.
    h: f32,
    reason: &'static str,
}

/// Smooth activations only: a ReLU net's loss has kinks wherever a pre-activation crosses 0,
/// and a perturbation of any weight moves every pre-activation downstream.
fn nets() -> Vec<NetRow> {
    use Activation::*;
    use Reduction::*;
    let none = Penalty::default();
    #[rustfmt::skip]
    let rows = vec![
        NetRow { sizes: &[6, 8, 3], activation: Tanh, batch_norm: &[], bn_eps: 1e-5, reduction: Sum, penalty: none, batch: 1, h: 1.0 / 64.0, reason: "batch of 1, no BatchNorm" },
        NetRow { sizes: &[4, 6, 3], activation: Tanh, batch_norm: &[true], bn_eps: 1e-5, reduction: Mean, penalty: Penalty::new(0.01, 0.05), batch: 8, h: 1.0 / 64.0, reason: "tanh, BatchNorm, L1 + L2" },
        NetRow { sizes: &[5, 7, 6, 4], activation: Sigmoid, batch_norm: &[true, true], bn_eps: 1e-5, reduction: Sum, penalty: Penalty::new(0.02, 0.1), batch: 6, h: 1.0 / 64.0, reason: "sigmoid, two BatchNorms, summed, L1 + L2" },
        NetRow { sizes: &[5, 7, 6, 4], activation: Tanh, batch_norm: &[true, false], bn_eps: 1e-3, reduction: Mean, penalty: Penalty::new(0.0, 0.2), batch: 5, h: 1.0 / 128.0, reason: "BatchNorm on the first layer only, eps 1e-3, L2" },
        NetRow { sizes: &[3, 5, 2], activation: Identity, batch_norm: &[true], bn_eps: 1e-5, reduction: Mean, penalty: Penalty::new(0.05, 0.0), batch: 7, h: 1.0 / 128.0, reason: "no non-linearity, BatchNorm, L1" },
    ];
    rows
}

#[test]
fn mlp_gradients_match_finite_differences() {
    // The loss is one f32 (cross-entropy rounded from f64, plus the penalties in f32) of up to
    // ~10, and h is 2⁻⁶ or 2⁻⁷ (stencil factor 96 or 192): atol 2e-4. Every parameter's
    // derivative is checked, biases in front of a BatchNorm included (there the analytic
    // gradient is 0 up to rounding: BN subtracts the batch mean).
    let mut worst = Worst::default();
    for (k, row) in nets().into_iter().enumerate() {
        let tol = Tol { h: row.h, rtol: 1e-3, atol: 2e-4 };
        let spec = MlpSpec { batch_norm: row.batch_norm.to_vec(), bn_eps: row.bn_eps, ..MlpSpec::new(row.sizes, row.activation) };
        let mut mlp = Mlp::new(spec, 40 + k as u64).unwrap();
        let mut rng = Rng::new(100 + k as u64);
        // Parameters on the 2⁻¹⁰ grid; weights at least 0.08 from 0 (L1's kink), γ ≈ 1,
        // β and biases ≈ 0 but not equal to them.
        let mut params: Vec<f32> = mlp.parameters().iter().map(|&v| q(v)).collect();
        let mut covered = 0;
        for layer in mlp.layout() {
            for w in &mut params[layer.w.clone()] {
                *w = q(w.signum() * w.abs().max(0.08));
            }
            // b, then [γ, β]: biases and β near 0, γ near 1
            let mut groups = vec![(layer.b.clone(), 0.0)];
            if let Some((gamma, beta)) = &layer.bn {
                groups.extend([(gamma.clone(), 1.0), (beta.clone(), 0.0)]);
            }
            covered += layer.w.len();
            for (range, mean) in groups {
                covered += range.len();
                params[range].copy_from_slice(&normal(&mut rng, layer.fan_out, mean, 0.3));
            }
        }
        assert_eq!(covered, params.len(), "the layout covers every parameter");
        mlp.set_parameters(&params).unwrap();
        let x = normal(&mut rng, row.batch * row.sizes[0], 0.0, 1.0);
        let classes = *row.sizes.last().unwrap();
        let labels: Vec<u32> = (0..row.batch).map(|_| rng.below(classes) as u32).collect();

        mlp.loss_and_gradients(&x, &labels, row.reduction, row.penalty).unwrap();
        let analytic = mlp.gradients().to_vec();
        let label =
            format!("MLP {:?} {} bn {:?} {:?} {:?} ({})", row.sizes, row.activation.name(), row.batch_norm, row.reduction, row.penalty, row.reason);
        check(&label, &params, &analytic, 0..params.len(), tol, &mut worst, |p| {
            mlp.set_parameters(p).unwrap();
            mlp.loss_and_gradients(&x, &labels, row.reduction, row.penalty).unwrap() as f64
        });
    }
    report("mlp", &worst);
}

/// Finite differences through a network whose training pass draws random numbers (noise,
/// masks): the step is held at `step` so every evaluation of the stencil draws the same ones.
/// First, the network built from `off(spec)` (the feature switched off, same parameters) must
/// give a different loss, so the check is not passing on a no-op.
fn stochastic_gradcheck(what: &str, spec: MlpSpec, off: impl Fn(&MlpSpec) -> MlpSpec, step: u32, batch: usize, data_seed: u64) {
    let mut worst = Worst::default();
    let tol = Tol { h: 1.0 / 128.0, rtol: 1e-3, atol: 2e-4 };
    let (inputs, classes) = (spec.sizes[0], *spec.sizes.last().unwrap());
    let mut mlp = Mlp::new(spec, 9).unwrap();
    let mut rng = Rng::new(data_seed);
    let params: Vec<f32> = mlp.parameters().iter().map(|&v| q(v)).collect();
    mlp.set_parameters(&params).unwrap();
    let x = normal(&mut rng, batch * inputs, 0.0, 1.0);
    let labels: Vec<u32> = (0..batch).map(|_| rng.below(classes) as u32).collect();
    let loss = |mlp: &mut Mlp| {
        mlp.set_dropout_step(step);
        mlp.loss_and_gradients(&x, &labels, Reduction::Mean, Penalty::default()).unwrap()
    };
    let without = {
        let mut plain = Mlp::new(off(mlp.spec()), 9).unwrap();
        plain.set_parameters(&params).unwrap();
        loss(&mut plain)
    };
    let with = loss(&mut mlp);
    assert!((with - without).abs() > 1e-3, "{what} changes the loss ({with} vs {without})");
    let analytic = mlp.gradients().to_vec();
    let label = format!("{what} MLP {:?}", mlp.spec().sizes);
    check(&label, &params, &analytic, 0..params.len(), tol, &mut worst, |p| {
        mlp.set_parameters(p).unwrap();
        loss(&mut mlp) as f64
    });
    report(what, &worst);
}

#[test]
fn noisy_batch_norm_gradients_match_finite_differences() {
    // Noisy batch-norm (Santurkar et al. 2018): after each batch-norm, y' = s·y + b with s, b
    // drawn for the training step; backward must scale by s.
    let spec = MlpSpec { batch_norm: vec![true], bn_noise: 1.0, ..MlpSpec::new(&[5, 7, 6, 4], Activation::Tanh) };
    stochastic_gradcheck("noisy batch-norm", spec, |s| MlpSpec { bn_noise: 0.0, ..s.clone() }, 3, 6, 77);
}

#[test]
fn input_dropout_gradients_match_finite_differences() {
    // Input dropout drops pixels before the first Linear; the first layer's weight gradient
    // must see the dropped (and 1/(1 − p)-scaled) input.
    let spec = MlpSpec { input_dropout: 0.5, dropout: vec![0.25], ..MlpSpec::new(&[6, 7, 5, 4], Activation::Tanh) };
    stochastic_gradcheck("input dropout", spec, |s| MlpSpec { input_dropout: 0.0, ..s.clone() }, 5, 8, 78);
}
