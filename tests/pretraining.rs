//! What the "Pretraining" cell promises, checked natively on the MNIST files shipped in data/:
//! a network pretrained on digits 0–4 and fine-tuned on 100 labelled digits 5–9 is ahead of
//! the same network fine-tuned from a random start.
//!
//! The plumbing mirrors `src/web/init_cells.rs` (`pretrainSession` / `finetuneSession`): the
//! same splits, relabelling, subset, seeds and settings as the cell's defaults.

use descent::data::{Dataset, Mnist, Split};
use descent::nn::{Activation, Mlp, MlpSpec};
use descent::train::{History, Status, TrainConfig, Trainer};
use std::sync::Arc;

/// The cell's defaults.
const HIDDEN: [usize; 2] = [256, 256];
const LR: f64 = 0.01;
const MOMENTUM: f64 = 0.9;
const PRETRAIN_EPOCHS: usize = 2;
const LABELLED: usize = 100;
const FINETUNE_BATCH: usize = 10;

fn mnist() -> Mnist {
    let img = std::fs::read("data/mnist-images-idx3-ubyte.gz").unwrap();
    let lab = std::fs::read("data/mnist-labels-idx1-ubyte.gz").unwrap();
    Mnist::parse(&img, &lab).unwrap()
}

/// Digits 0–4 as classes 0–4, and digits 5–9 as classes 0–4.
fn low(d: &Dataset) -> Dataset {
    d.filter_labels(|l| l < 5).map_labels(5, |l| l).unwrap()
}
fn high(d: &Dataset) -> Dataset {
    d.filter_labels(|l| l >= 5).map_labels(5, |l| l - 5).unwrap()
}

fn trainer(seed: u64, train: Dataset, validation: Dataset, batch: usize, epochs: usize) -> Trainer {
    let sizes: Vec<usize> = std::iter::once(784).chain(HIDDEN).chain([5]).collect();
    let model = Mlp::new(MlpSpec::new(&sizes, Activation::Relu), seed).unwrap();
    let opt = descent::optim::build("sgd", &serde_json::json!({ "lr": LR, "momentum": MOMENTUM })).unwrap();
    let cfg = TrainConfig { batch_size: batch, epochs, seed, ..TrainConfig::default() };
    Trainer::new(model, opt, Arc::new(train), Arc::new(validation), cfg).unwrap()
}

fn run(t: &mut Trainer) -> History {
    while *t.step().unwrap() == Status::Running {}
    assert_eq!(*t.status(), Status::Finished);
    t.history().clone()
}

/// (pretrained, random) fine-tuning histories for one seed.
fn experiment(seed: u64, finetune_epochs: usize) -> (History, History, f32) {
    let split = Split::mnist_default(&mnist(), seed).unwrap();
    let mut pre = trainer(seed, low(&split.train), low(&split.validation), 32, PRETRAIN_EPOCHS);
    let pre_error = run(&mut pre).epochs.last().unwrap().val_error;

    let labelled = high(&split.train).take(LABELLED);
    assert_eq!(labelled.len(), LABELLED);
    let validation = high(&split.validation);
    let mut random = trainer(seed, labelled.clone(), validation.clone(), FINETUNE_BATCH, finetune_epochs);
    // The pretrained run: hidden layers from pretraining, the output layer exactly as the
    // random run starts it.
    let fresh = random.model().parameters().to_vec();
    let head = HIDDEN[HIDDEN.len() - 1] * 5 + 5;
    let mut start = pre.model().parameters().to_vec();
    assert_eq!(start.len(), fresh.len());
    let body = start.len() - head;
    start[body..].copy_from_slice(&fresh[body..]);
    let mut pretrained = trainer(seed, labelled, validation, FINETUNE_BATCH, finetune_epochs);
    pretrained.engine_mut().synced_model().unwrap().unwrap().set_parameters(&start).unwrap();
    (run(&mut pretrained), run(&mut random), pre_error)
}

#[test]
fn pretraining_gives_a_head_start_on_few_labels() {
    for seed in [1, 2, 3] {
        // 4 epochs over 100 labels = 40 steps of 10
        let (pre, rnd, pre_error) = experiment(seed, 4);
        assert!(pre_error < 0.08, "seed {seed}: pretraining on 0–4 reached only {pre_error} validation error");
        // ahead at every epoch of the short run
        for (a, b) in pre.epochs.iter().zip(&rnd.epochs) {
            assert!(a.val_error < b.val_error, "seed {seed}, epoch {}: pretrained {} vs random {}", a.epoch, a.val_error, b.val_error);
        }
        // and by a clear margin at the end of it, not a coin flip (seen 0.19–0.31 vs 0.32–0.61)
        let p = pre.epochs.last().unwrap().val_error;
        let r = rnd.epochs.last().unwrap().val_error;
        assert!(p + 0.08 < r, "seed {seed}: after 4 epochs on {LABELLED} labels, pretrained {p} vs random {r}");
    }
}

/// The cell's text says that with enough passes over the labels, the random start catches
/// up on this easy task: after 20 epochs the two are within a few points of each other.
#[test]
fn with_time_the_random_start_catches_up() {
    let (pre, rnd, _) = experiment(1, 20);
    let p = pre.epochs.last().unwrap().val_error;
    let r = rnd.epochs.last().unwrap().val_error;
    assert!((p - r).abs() < 0.06, "after 20 epochs: pretrained {p} vs random {r}");
    let mean = |h: &History| h.epochs.iter().map(|e| e.val_error).sum::<f32>() / h.epochs.len() as f32;
    assert!(mean(&pre) < mean(&rnd), "pretraining is ahead on average over the run: {} vs {}", mean(&pre), mean(&rnd));
}

/// The fine-tuning curves of four seeds, for choosing the cell's defaults:
/// `cargo test --release --test pretraining -- --ignored --nocapture`.
#[test]
#[ignore]
fn print_curves() {
    for seed in [1, 2, 3, 4] {
        let (pre, rnd, pe) = experiment(seed, 20);
        let f = |h: &History| h.epochs.iter().map(|e| format!("{:.2}", e.val_error)).collect::<Vec<_>>().join(" ");
        println!("seed {seed} pre_err {pe:.3}\n  pre {}\n  rnd {}", f(&pre), f(&rnd));
    }
}
