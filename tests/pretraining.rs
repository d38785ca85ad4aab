//! What the "Pretraining" cell promises, checked natively on the MNIST files shipped in data/:
//! a network pretrained on digits 0–4 and fine-tuned on 100 labelled digits 5–9 is ahead of
//! the same network fine-tuned from a random start.
//!
//! The experiment is the cell's own (`lab::pretrain::Pretrain`, what the page's `Pretrain`
//! class wraps), built from index.html's defaults; its fixed settings (momentum 0.9, batches
//! of 32 and of 10) are the lab's.

#[path = "common/page.rs"]
mod page;

use descent::data::Split;
use descent::lab::pretrain::{Pretrain, PretrainSpec, FINETUNE_BATCH, MOMENTUM, PRETRAIN_BATCH};
use descent::lab::{Cpu, Data, SystemClock};
use descent::train::History;
use std::sync::Arc;

/// A change to a spec, a part of the message it must bring, and why.
type Change<S> = (fn(&mut S), &'static str, &'static str);
/// The cell's settings, from the page, with `finetune_epochs` of fine-tuning.
fn spec(seed: u64, finetune_epochs: usize) -> PretrainSpec {
    let html = page::html();
    PretrainSpec {
        hidden: page::sizes_of(&html, "pre-hidden"),
        seed,
        lr: page::number_of(&html, "pre-lr"),
        epochs: page::number_of(&html, "pre-epochs"),
        finetune_epochs,
        labelled: page::number_of(&html, "pre-labelled"),
    }
}

fn data(seed: u64) -> Data {
    let split = Split::mnist_default(&page::mnist(), seed).unwrap();
    Data { train: Arc::new(split.train), validation: Arc::new(split.validation) }
}

/// (pretrained, random) fine-tuning histories for one seed, and pretraining's final error.
fn experiment(seed: u64, finetune_epochs: usize) -> (History, History, f32) {
    let s = spec(seed, finetune_epochs);
    let mut p = Pretrain::new(&data(seed), s.clone(), &Cpu).unwrap();
    let clock = SystemClock::default();
    while p.finetuning().is_none() {
        assert!(p.run_for(50.0, &clock).unwrap(), "seed {seed}: pretraining ended without handing over");
    }
    assert_eq!(p.report().phase, "fine-tuning");
    let ft = p.finetuning().unwrap();
    let (pre, rnd) = (ft.get(0).model().parameters(), ft.get(1).model().parameters());
    assert_eq!(ft.get(0).steps(), 0, "the hand-over builds the runs; training starts on the next call");
    // the two differ only in the hidden layers: the same fresh output layer, the same batches
    let head = 5 * (s.hidden.last().unwrap() + 1);
    let n = pre.len();
    assert_eq!(pre[n - head..], rnd[n - head..]);
    assert_ne!(pre[..n - head], rnd[..n - head]);
    while p.run_for(50.0, &clock).unwrap() {}
    let r = p.report();
    assert_eq!(r.status, "finished", "seed {seed}");
    assert_eq!(r.progress.done, r.progress.total, "seed {seed}: the bar ends full");
    let ft = p.finetuning().unwrap();
    assert_eq!(ft.get(0).steps(), finetune_epochs * s.labelled.div_ceil(FINETUNE_BATCH));
    let early = r.early.unwrap();
    assert_eq!(early.epochs, finetune_epochs.min(5));
    assert_eq!(early.pretrained, ft.get(0).history().epochs[early.epochs - 1].val_error, "the read-out compares like with like");
    let pre_error = p.pretraining().history().epochs.last().unwrap().val_error;
    assert_eq!(r.pretrain.val_error, Some(pre_error));
    (ft.get(0).history().clone(), ft.get(1).history().clone(), pre_error)
}

#[test]
fn the_defaults_are_what_the_cell_says() {
    let s = spec(1, 4);
    assert_eq!((s.hidden.as_slice(), s.epochs, s.labelled), ([256, 256].as_slice(), 2, 100));
    assert_eq!(s.lr, 0.01);
    let (pre, ft) = (s.pretrain_run(), s.finetune_run());
    assert_eq!((pre.batch_size, ft.batch_size), (PRETRAIN_BATCH, FINETUNE_BATCH));
    assert_eq!(ft.options["momentum"], MOMENTUM);
    assert_eq!(pre.options, ft.options, "both phases: SGD with the same lr and momentum");
}

#[test]
fn bad_settings_are_named() {
    let d = data(1);
    // (change, part of the message, reason)
    let rows: [Change<PretrainSpec>; 5] = [
        (|s| s.labelled = 5, "labelled examples: 5 is too few", "the cell's minimum is 10"),
        (|s| s.labelled = 100_000, "labelled examples: 100000 is out of range", "more 5–9s than the split has"),
        (|s| s.hidden.clear(), "give at least one hidden layer", "nothing to pretrain"),
        (|s| s.finetune_epochs = 0, "fine-tuning epochs: 0", "no fine-tuning"),
        (|s| s.lr = 20.0, "learning rate: 20", "above the cell's limit"),
    ];
    for (change, want, why) in rows {
        let mut s = spec(1, 4);
        change(&mut s);
        let err = Pretrain::new(&d, s, &Cpu).err().unwrap_or_else(|| panic!("{why}: accepted"));
        assert!(err.message().contains(want), "{why}: {}", err.message());
    }
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
