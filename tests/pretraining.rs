//! What the "Pretraining" cell promises, checked natively on the MNIST files shipped in data/:
//! a network pretrained on digits 0–4 and fine-tuned on 100 labelled digits 5–9 is ahead of
//! the same network fine-tuned from a random start.
//!
//! The runs are the cell's: `lab::pretrain` gives the tasks and the hand-over (the same code
//! `pretrainSession` / `finetuneSession` call), the settings are index.html's defaults and
//! pretraining.js's fixed ones (momentum 0.9, batches of 32 and of 10).

#[path = "common/page.rs"]
mod page;

use descent::data::Split;
use descent::lab::{pretrain, Data, RunSpec};
use descent::train::{History, Status, Trainer};
use std::sync::Arc;

/// pretraining.js's fixed settings.
const MOMENTUM: f64 = 0.9;
const PRETRAIN_BATCH: usize = 32;
const FINETUNE_BATCH: usize = 10;

/// The cell's run settings, from the page: (pretraining, fine-tuning, labelled examples).
fn specs(seed: u64, finetune_epochs: usize) -> (RunSpec, RunSpec, usize) {
    let html = page::html();
    let base = RunSpec {
        hidden: page::sizes_of(&html, "pre-hidden"),
        seed,
        optimizer: "sgd".into(),
        options: serde_json::json!({ "lr": page::number_of::<f64>(&html, "pre-lr"), "momentum": MOMENTUM }),
        ..RunSpec::default()
    };
    let pre = RunSpec { batch_size: PRETRAIN_BATCH, epochs: page::number_of(&html, "pre-epochs"), ..base.clone() };
    let ft = RunSpec { batch_size: FINETUNE_BATCH, epochs: finetune_epochs, ..base };
    (pre, ft, page::number_of(&html, "pre-labelled"))
}

fn run(t: &mut Trainer) -> History {
    while *t.step().unwrap() == Status::Running {}
    assert_eq!(*t.status(), Status::Finished);
    t.history().clone()
}

/// (pretrained, random) fine-tuning histories for one seed, and pretraining's final error.
fn experiment(seed: u64, finetune_epochs: usize) -> (History, History, f32) {
    let split = Split::mnist_default(&page::mnist(), seed).unwrap();
    let data = Data { train: Arc::new(split.train), validation: Arc::new(split.validation) };
    let (pre_spec, ft_spec, labelled) = specs(seed, finetune_epochs);
    let mut pre = pre_spec.build(&pretrain::pretrain_data(&data), None).unwrap();
    let pre_error = run(&mut pre).epochs.last().unwrap().val_error;

    let ft = pretrain::finetune_data(&data, labelled).unwrap();
    assert_eq!(ft.train.len(), labelled);
    let start = pretrain::finetune_start(&ft_spec, &ft, pre.model().parameters()).unwrap();
    let mut pretrained = ft_spec.build(&ft, Some(&start)).unwrap();
    let mut random = ft_spec.build(&ft, None).unwrap();
    // the two differ only in the hidden layers: the same output layer, the same batches
    let head = 5 * (ft_spec.hidden.last().unwrap() + 1);
    let n = start.len();
    assert_eq!(pretrained.model().parameters()[n - head..], random.model().parameters()[n - head..]);
    assert_ne!(pretrained.model().parameters()[..n - head], random.model().parameters()[..n - head]);
    (run(&mut pretrained), run(&mut random), pre_error)
}

#[test]
fn the_defaults_are_what_the_cell_says() {
    let (pre, ft, labelled) = specs(1, 4);
    assert_eq!((pre.hidden.as_slice(), pre.epochs, labelled), ([256, 256].as_slice(), 2, 100));
    assert_eq!(ft.options["lr"], 0.01);
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
        assert!(p + 0.08 < r, "seed {seed}: after 4 epochs on 100 labels, pretrained {p} vs random {r}");
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
