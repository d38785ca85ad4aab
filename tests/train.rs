//! Training on the real MNIST files shipped in data/: what the "simple optimizer" cell promises.

use descent::data::{Mnist, Split};
use descent::nn::{Activation, Mlp, MlpSpec, Reduction};
use descent::train::{Status, TrainConfig, Trainer};
use std::sync::Arc;

fn mnist() -> Mnist {
    let img = std::fs::read("data/mnist-images-idx3-ubyte.gz").unwrap();
    let lab = std::fs::read("data/mnist-labels-idx1-ubyte.gz").unwrap();
    Mnist::parse(&img, &lab).unwrap()
}

fn run(seed: u64, lr: f64, batch: usize, hidden: usize, epochs: usize, reduction: Reduction) -> Trainer {
    let split = Split::mnist_default(&mnist(), seed).unwrap();
    let model = Mlp::new(MlpSpec::new(&[784, hidden, 10], Activation::Relu), seed).unwrap();
    let opt = descent::optim::build("sgd", &serde_json::json!({ "lr": lr })).unwrap();
    let cfg = TrainConfig { batch_size: batch, epochs, reduction, seed, ..TrainConfig::default() };
    let mut t = Trainer::new(model, opt, Arc::new(split.train), Arc::new(split.validation), cfg).unwrap();
    while *t.step().unwrap() == Status::Running {}
    t
}

/// The "simple optimizer" cell's defaults.
const LR: f64 = 0.3;
const BATCH: usize = 32;

#[test]
fn sgd_defaults_reach_90_percent_validation_accuracy_in_3_epochs() {
    for seed in [1, 2, 3] {
        let t = run(seed, LR, BATCH, 128, 3, Reduction::Mean);
        assert_eq!(*t.status(), Status::Finished);
        let last = t.history().epochs.last().unwrap();
        assert_eq!(last.epoch, 3);
        assert!(last.val_error <= 0.10, "seed {seed}: validation error {}", last.val_error);
        assert!(last.train_error < t.history().epochs[0].train_error, "training error falls");
    }
}

#[test]
fn too_large_a_learning_rate_stops_with_a_message() {
    let t = run(1, 5.0, 64, 128, 1, Reduction::Mean);
    match t.status() {
        Status::Diverged(msg) => {
            assert!(msg.contains("lower the learning rate"), "{msg}");
            assert!(t.steps() < 20, "caught early, at step {}", t.steps());
        }
        other => panic!("lr 5 should diverge, got {other:?}"),
    }
    let t = run(1, 1e30, 64, 128, 1, Reduction::Mean);
    assert!(matches!(t.status(), Status::Diverged(m) if m.contains("at step 2")), "{:?}", t.status());
}

#[test]
fn summing_scales_the_step_with_the_batch_size() {
    // The same lr that trains well with the mean acts like lr·m with the sum, and blows up.
    let mean = run(1, LR, BATCH, 64, 1, Reduction::Mean);
    assert_eq!(*mean.status(), Status::Finished);
    let sum = run(1, LR, BATCH, 64, 1, Reduction::Sum);
    assert!(matches!(sum.status(), Status::Diverged(_)), "{:?}", sum.status());
    // With lr/m, summing is exactly averaging (up to rounding).
    let scaled = run(1, LR / BATCH as f64, BATCH, 64, 1, Reduction::Sum);
    let (a, b) = (&mean.history().step_loss, &scaled.history().step_loss);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-3 * x.abs().max(1.0), "{x} vs {y}");
    }
}

#[test]
fn a_seed_replays_the_run_exactly() {
    let a = run(5, LR, 128, 32, 1, Reduction::Mean);
    let b = run(5, LR, 128, 32, 1, Reduction::Mean);
    assert_eq!(a.history().step_loss, b.history().step_loss);
    assert_eq!(a.model().parameters(), b.model().parameters());
    let c = run(6, LR, 128, 32, 1, Reduction::Mean);
    assert_ne!(a.history().step_loss, c.history().step_loss);
}

#[test]
fn bad_settings_are_refused() {
    let split = Split::mnist_default(&mnist(), 1).unwrap();
    let (train, val) = (Arc::new(split.train), Arc::new(split.validation));
    let cases: Vec<(TrainConfig, Vec<usize>, &str, &str)> = vec![
        (TrainConfig { batch_size: 0, ..Default::default() }, vec![784, 10], "invalid batch size", "zero batch"),
        (TrainConfig { batch_size: 7001, ..Default::default() }, vec![784, 10], "larger than the training set", "batch too big"),
        (TrainConfig { epochs: 0, ..Default::default() }, vec![784, 10], "epochs", "no epochs"),
        (TrainConfig::default(), vec![100, 10], "takes 100 inputs", "wrong input width"),
    ];
    for (cfg, sizes, expected, reason) in cases {
        let model = Mlp::new(MlpSpec::new(&sizes, Activation::Relu), 1).unwrap();
        let opt = descent::optim::build("sgd", &serde_json::json!({})).unwrap();
        let err = Trainer::new(model, opt, train.clone(), val.clone(), cfg).err().expect(reason);
        assert!(err.message().contains(expected), "{reason}: {err}");
    }
}

#[test]
fn last_partial_batch_is_kept_or_dropped() {
    let split = Split::mnist_default(&mnist(), 1).unwrap();
    let (train, val) = (Arc::new(split.train), Arc::new(split.validation));
    for (drop_last, expected) in [(false, 7000usize.div_ceil(64)), (true, 7000 / 64)] {
        let model = Mlp::new(MlpSpec::new(&[784, 10], Activation::Relu), 1).unwrap();
        let opt = descent::optim::build("sgd", &serde_json::json!({"lr": 0.1})).unwrap();
        let cfg = TrainConfig { batch_size: 64, epochs: 1, drop_last, ..Default::default() };
        let mut t = Trainer::new(model, opt, train.clone(), val.clone(), cfg).unwrap();
        assert_eq!(t.steps_per_epoch(), expected);
        t.run().unwrap();
        assert_eq!(t.steps(), expected, "drop_last = {drop_last}");
    }
}
