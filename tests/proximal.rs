//! L1 by its proximal step (`nn::penalty`, `l1Mode: "proximal"`): the soft-threshold against
//! its formula, the penalty's gradient without the λ₁ term, a whole CPU step against "the
//! optimizer's step on the smooth part, then w ← sign(w)·max(|w| − η·λ₁, 0) on the weights",
//! and the reason to have it at all: exact zeros, which the subgradient never reaches.

#[path = "common/clusters.rs"]
mod clusters;

use descent::backend::Rows;
use descent::nn::penalty::soft_threshold;
use descent::nn::{Activation, L1Mode, Mlp, MlpSpec, Penalty, Reduction};
use descent::train::{CpuEngine, Engine, Status, TrainConfig, Trainer};

#[test]
fn soft_threshold_follows_its_formula() {
    // (w, t, expected, reason)
    let rows: [(f32, f32, f32, &str); 9] = [
        (0.5, 0.1, 0.4, "a positive weight moves t towards zero"),
        (-0.5, 0.1, -0.4, "a negative weight moves t towards zero"),
        (0.05, 0.1, 0.0, "below the threshold: exactly zero"),
        (-0.05, 0.1, 0.0, "below the threshold, negative: exactly zero"),
        (0.1, 0.1, 0.0, "at the threshold: zero"),
        (0.0, 0.1, 0.0, "zero stays zero"),
        (3.0, 0.0, 3.0, "no threshold: unchanged"),
        (-1e-8, 1e-9, -1e-8 - -1e-9, "tiny numbers are not flushed"),
        (2.0, 2.5, 0.0, "a threshold above every weight empties the layer"),
    ];
    for (w, t, want, reason) in rows {
        let mut v = [w];
        soft_threshold(&mut v, t);
        assert_eq!(v[0], want, "{reason}: w {w}, t {t}");
        assert!(v[0].to_bits() != (-0.0f32).to_bits(), "{reason}: zeros are +0");
    }
}

#[test]
fn proximal_l1_leaves_its_gradient_out_but_keeps_its_value() {
    let w = [0.5f32, -0.25, 0.0, 2.0];
    let (l1, l2) = (0.1f32, 0.2f32);
    let mut sub = vec![0.0; 4];
    let mut prox = vec![0.0; 4];
    let v_sub = Penalty::new(l1, l2).apply(&w, &mut sub);
    let v_prox = Penalty::new(l1, l2).proximal().apply(&w, &mut prox);
    assert_eq!(v_sub, v_prox, "the penalty's value is λ₁Σ|w| + λ₂/2·Σw² either way");
    for i in 0..4 {
        assert_eq!(prox[i], l2 * w[i], "proximal: only λ₂·w in the gradient (w = {})", w[i]);
        let sign = if w[i] > 0.0 {
            1.0
        } else if w[i] < 0.0 {
            -1.0
        } else {
            0.0
        };
        assert_eq!(sub[i], l1 * sign + l2 * w[i], "subgradient: λ₁·sign(w) + λ₂·w (w = {})", w[i]);
    }
    assert_eq!(Penalty::new(l1, l2).prox_threshold(0.5), None, "subgradient mode has no threshold");
    assert_eq!(Penalty::new(l1, l2).proximal().prox_threshold(0.5), Some(0.5 * l1));
    assert_eq!(Penalty::new(0.0, l2).proximal().prox_threshold(0.5), None, "no L1, no threshold");
    assert_eq!(L1Mode::parse("proximal").unwrap(), L1Mode::Proximal);
    assert!(L1Mode::parse("ista").unwrap_err().message().contains("'ista'"));
}

/// A 12 → 16 → 4 network and one batch of the cluster data.
fn net_and_batch() -> (Mlp, Vec<f32>, Vec<u32>) {
    let mlp = Mlp::new(MlpSpec::new(&[12, 16, 4], Activation::Relu), 5).unwrap();
    let d = clusters::clusters(32, 3, 0.5);
    (mlp, d.x.clone(), d.labels.iter().map(|&l| l as u32).collect())
}

#[test]
fn a_proximal_step_is_the_smooth_step_then_the_soft_threshold() {
    // (optimizer, options, reason): η is lr for every optimizer (see nn::penalty)
    let rows = [
        ("sgd", serde_json::json!({ "lr": 0.5 }), "plain SGD: the proximal gradient step"),
        ("sgd", serde_json::json!({ "lr": 0.1, "momentum": 0.9 }), "SGD with momentum"),
        ("adam", serde_json::json!({ "lr": 0.05 }), "Adam, threshold lr·λ₁"),
    ];
    let (l1, l2) = (0.04f32, 0.01f32);
    for (name, options, reason) in rows {
        let (mlp, x, labels) = net_and_batch();
        // the engine the trainer uses, with proximal L1
        let mut engine = CpuEngine::new(mlp.clone(), descent::optim::build(name, &options).unwrap());
        // by hand: the optimizer on the data term + L2, then the formula on each weight
        let mut by_hand = mlp.clone();
        let mut opt = descent::optim::build(name, &options).unwrap();
        let eta = opt.lr();
        let mut zeros = 0;
        for _ in 0..3 {
            engine.submit(Rows::dense(&x), &labels, Reduction::Mean, Penalty::new(l1, l2).proximal(), f32::INFINITY).unwrap();
            by_hand.train_batch(&x, &labels, Reduction::Mean, Penalty::new(0.0, l2)).unwrap();
            let (p, g) = by_hand.params_and_grads();
            opt.step(p, g).unwrap();
            let before = by_hand.parameters().to_vec();
            let weights = by_hand.weight_ranges();
            let p = by_hand.parameters_mut();
            let t = eta * l1;
            for (i, v) in p.iter_mut().enumerate() {
                if weights.iter().any(|r| r.contains(&i)) {
                    *v = if v.abs() <= t { 0.0 } else { v.signum() * (v.abs() - t) };
                }
            }
            for (i, (&a, &b)) in p.iter().zip(&before).enumerate() {
                if weights.iter().any(|r| r.contains(&i)) {
                    if b.abs() <= t {
                        assert_eq!(a, 0.0, "{reason}: a weight within η·λ₁ of 0 lands on 0");
                        zeros += 1;
                    } else {
                        assert!((b.abs() - a.abs() - t).abs() <= 1e-7 && a.signum() == b.signum(), "{reason}: moved by η·λ₁");
                    }
                } else {
                    assert_eq!(a, b, "{reason}: biases are not thresholded");
                }
            }
            assert_eq!(engine.model().parameters(), by_hand.parameters(), "{reason}: the engine's step is the smooth step, then the threshold");
        }
        assert!(zeros > 0, "{reason}: the threshold zeroed something (else this test shows nothing)");
    }
}

/// Exactly-zero first-layer weights after training on the clusters with L1 in `mode`.
fn zeros_after_training(mode: L1Mode) -> (usize, usize, Status) {
    let spec = MlpSpec::new(&[12, 32, 4], Activation::Relu);
    let model = Mlp::new(spec, 2).unwrap();
    let opt = descent::optim::build("sgd", &serde_json::json!({ "lr": 0.1 })).unwrap();
    let config = TrainConfig { batch_size: 16, epochs: 10, seed: 4, penalty: Penalty { l1: 1e-2, l2: 0.0, l1_mode: mode }, ..TrainConfig::default() };
    let mut t = Trainer::new(model, opt, clusters::clusters(320, 1, 0.5), clusters::clusters(80, 2, 0.5), config).unwrap();
    t.run().unwrap();
    let w = t.model().weight(0);
    (w.iter().filter(|&&v| v == 0.0).count(), w.len(), t.status().clone())
}

#[test]
fn proximal_l1_makes_exact_zeros_where_the_subgradient_jitters() {
    let (sub, n, s1) = zeros_after_training(L1Mode::Subgradient);
    let (prox, _, s2) = zeros_after_training(L1Mode::Proximal);
    assert_eq!((s1, s2), (Status::Finished, Status::Finished));
    // Observed (λ₁ = 0.01, SGD lr 0.1, 10 epochs): 0 of 384 weights exactly 0 by subgradient,
    // 191 by the proximal step. The bounds leave a wide margin on both sides.
    assert!(sub <= n / 100, "subgradient: {sub} of {n} weights exactly 0 (it should almost never land on 0)");
    assert!(prox >= n / 4, "proximal: only {prox} of {n} weights exactly 0");
}
