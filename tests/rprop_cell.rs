//! What the "Rprop: full batch works, mini-batches fail" cell promises, checked natively with
//! the lab types the page runs, on index.html's defaults: (a) the one-weight thought
//! experiment (`lab::rprop_thought`), and (b) the comparison on the real MNIST files in data/
//! (`lab::rprop::RpropCompare`: three runs side by side on one `lab::Compare`). From one seed
//! (same init weights, same batch order), Rprop on the whole training subset keeps driving its
//! training loss down; Rprop on mini-batches of the same data stalls (or blows up), and ends
//! far behind RMSprop on the same mini-batches.

#[path = "common/page.rs"]
mod page;

use descent::data::Split;
use descent::lab::rprop::{self, RpropCompare, RpropSpec};
use descent::lab::rprop_thought::{self, RpropThought, ThoughtSpec};
use descent::lab::{Clock, Cpu, Data, SystemClock};
use descent::train::{Status, Trainer};
use std::sync::Arc;

/// The cell's settings as index.html starts them, on `seed`.
fn settings(seed: u64) -> RpropSpec {
    let html = page::html();
    RpropSpec {
        seed,
        digits: page::number_of(&html, "rprop-n"),
        hidden: page::number_of(&html, "rprop-hidden"),
        batch_size: page::number_of(&html, "rprop-batch"),
        epochs: page::number_of(&html, "rprop-epochs"),
        lr: page::number_of(&html, "rprop-lr"),
        rmsprop_lr: page::number_of(&html, "rprop-rms-lr"),
    }
}

fn mnist(seed: u64) -> Data {
    let split = Split::mnist_default(&page::mnist(), seed).unwrap();
    Data { train: Arc::new(split.train), validation: Arc::new(split.validation) }
}

/// The cell's three runs on `seed`: full-batch Rprop, mini-batch Rprop, mini-batch RMSprop.
fn cell(seed: u64) -> (RpropCompare, usize, usize, usize) {
    let s = settings(seed);
    let (subset, batch, epochs) = (s.digits, s.batch_size, s.epochs);
    (RpropCompare::new(&mnist(seed), s, &Cpu).unwrap(), subset, batch, epochs)
}

fn last(t: &Trainer) -> (f32, f32) {
    let e = t.history().epochs.last().unwrap();
    (e.train_loss, e.val_error)
}

#[test]
fn the_cells_defaults_are_the_recitations_setting() {
    let (c, subset, batch, epochs) = cell(1);
    assert_eq!((subset, batch, epochs), (1000, 100, 30), "1,000 examples in batches of 100, ten updates an epoch");
    assert_eq!(c.compare().runs().get(1).steps_per_epoch(), subset / batch);
    assert_eq!(c.compare().runs().get(0).steps_per_epoch(), 1, "the full batch is one step an epoch");
    let keys: Vec<&str> = c.report().runs.iter().map(|r| r.key).collect();
    assert_eq!(keys, ["full", "mini", "rmsprop"]);
}

#[test]
fn full_batch_rprop_learns_minibatch_rprop_stalls_behind_minibatch_rmsprop() {
    for seed in [1, 2, 3] {
        let (mut c, _, _, epochs) = cell(seed);
        let clock = SystemClock::default();
        while c.run_for(100.0, &clock).unwrap() {}
        let report = c.report();
        assert_eq!(report.status, "finished", "seed {seed}: the cell finishes, whatever mini-batch rprop did");
        let median = |i: usize| report.runs[i].median_step_size;
        let runs = c.compare().runs();
        let (full, mini, rms) = (runs.get(0), runs.get(1), runs.get(2));
        assert_eq!(*full.status(), Status::Finished, "seed {seed}: full-batch rprop runs to the end");
        assert_eq!(*rms.status(), Status::Finished, "seed {seed}: RMSprop runs to the end");
        assert_eq!(full.steps(), epochs, "one full-batch step per epoch");
        let ((full_loss, full_err), (rms_loss, rms_err)) = (last(full), last(rms));
        eprintln!(
            "seed {seed}: final training loss / validation error: full-batch rprop {full_loss:.3} / {full_err:.3}, \
             mini-batch rprop {:?} ({}), mini-batch RMSprop {rms_loss:.3} / {rms_err:.3}; median rprop step size full {:.2e}, mini {:?}",
            mini.history().epochs.last().map(|e| (e.train_loss, e.val_error)),
            mini.status().word(),
            median(0).expect("full-batch rprop shows its median step size"),
            median(1)
        );
        // The read-out's median is the last epoch's (taken once an epoch, not every frame).
        assert_eq!(median(0), rprop::median_step_size(full), "seed {seed}: full-batch median");
        if *mini.status() == Status::Finished {
            assert_eq!(median(1), rprop::median_step_size(mini), "seed {seed}: mini-batch median");
            // What the page's prose says: most step sizes sink to the floor (1e-6) and freeze.
            assert!(matches!(median(1), Some(m) if m < 1e-5), "seed {seed}: mini-batch rprop's median step size {:?} near the floor", median(1));
        }
        // What the page's note says: a few thousandths, near 0.1, about a quarter.
        assert!(full_loss < 0.01 && full_err < 0.2, "seed {seed}: full-batch rprop learns ({full_loss}, {full_err})");
        assert!(rms_loss > 0.05 && rms_loss < 0.2 && rms_err < 0.15, "seed {seed}: mini-batch RMSprop learns ({rms_loss}, {rms_err})");
        let e = &mini.history().epochs;
        match mini.status() {
            // Blowing up is one way to fail on mini-batches; then it must not have been
            // learning well up to the blow-up either.
            Status::Diverged(msg) => {
                let best = e.iter().map(|r| r.val_error).fold(1.0, f32::min);
                assert!(best > rms_err, "seed {seed}: mini-batch rprop blew up ({msg}) after reaching {best}, better than RMSprop's {rms_err}");
                assert!(mini.steps() < rms.steps(), "seed {seed}: a blown-up run stops early");
            }
            Status::Finished => {
                let (mini_loss, mini_err) = last(mini);
                assert!(
                    mini_loss > 0.2 && mini_loss > 1.5 * rms_loss && mini_loss > 10.0 * full_loss,
                    "seed {seed}: mini-batch rprop's training loss {mini_loss} stalls far above RMSprop's {rms_loss} and full-batch rprop's {full_loss}"
                );
                assert!(mini_err > rms_err, "seed {seed}: mini-batch rprop ({mini_err}) ends behind RMSprop ({rms_err})");
                // It stalls: over the last two thirds of the run its training loss hardly moves.
                let (at10, at30) = (e[epochs / 3 - 1].train_loss, e[epochs - 1].train_loss);
                assert!(at30 > 0.8 * at10, "seed {seed}: mini-batch rprop's training loss {at10} → {at30} should have stalled");
            }
            s => panic!("seed {seed}: mini-batch rprop ended as {s:?}"),
        }
    }
}

/// A clock the test moves by hand.
struct Manual(std::cell::Cell<f64>);
impl Clock for Manual {
    fn now_ms(&self) -> f64 {
        self.0.get()
    }
}

#[test]
fn the_thought_experiment_drifts_although_the_gradients_cancel() {
    let html = page::html();
    let spec = ThoughtSpec {
        epochs: page::number_of(&html, "rprop-t-epochs"),
        lr: page::number_of(&html, "rprop-t-lr"),
        sgd_lr: page::number_of(&html, "rprop-t-sgd-lr"),
        from: 0,
        until: None,
    };
    // Step three times (each Step builds at the next step), then Play to the end.
    let mut at = 0;
    for _ in 0..3 {
        at = RpropThought::new(ThoughtSpec { from: at + 1, until: Some(at + 1), ..spec.clone() }).unwrap().shown();
    }
    let stepped = RpropThought::new(ThoughtSpec { from: at, until: Some(at), ..spec.clone() }).unwrap().report();
    assert_eq!((stepped.step, stepped.epoch, stepped.batch, stepped.gradient), (3, Some(1), Some(3), Some(0.1)), "epoch 1, mini-batch 3: +0.1");
    let mut play = RpropThought::new(ThoughtSpec { from: at, ..spec }).unwrap();
    let clock = Manual(std::cell::Cell::new(0.0));
    play.run_for(12.0, &clock).unwrap();
    clock.0.set(1e9);
    assert!(!play.run_for(12.0, &clock).unwrap());
    let r = play.report();
    assert_eq!((r.status, r.step), ("finished", 50), "5 epochs × 10 mini-batches");
    assert!(r.rprop_weight < -1.0, "mini-batch rprop drifted to {}", r.rprop_weight);
    assert!(r.sgd_weight.abs() < 1e-3, "SGD ends each epoch where it began ({})", r.sgd_weight);
    assert_eq!(r.full_weight, 0.0, "full-batch rprop never moves: its gradient is 0");
}

#[test]
fn the_page_limits_are_the_cores() {
    let html = page::html();
    let attr =
        |id: &str, name: &str| -> f64 { page::attr(page::tag_of(&html, id), name).unwrap_or_else(|| panic!("#{id} has no {name}")).parse().unwrap() };
    // (input, attribute, the core's limit, reason)
    let rows = [
        ("rprop-t-epochs", "max", rprop_thought::MAX_EPOCHS as f64, "thought experiment epochs"),
        ("rprop-t-lr", "max", rprop_thought::MAX_RPROP_LR, "rprop's initial step"),
        ("rprop-t-sgd-lr", "max", rprop_thought::MAX_SGD_LR, "SGD's learning rate"),
        ("rprop-n", "min", rprop::MIN_DIGITS as f64, "the fewest training digits"),
        ("rprop-n", "max", 7000.0, "the training split's size (the page checks it against the data)"),
        ("rprop-hidden", "max", rprop::MAX_HIDDEN as f64, "hidden units"),
        ("rprop-epochs", "max", rprop::MAX_EPOCHS as f64, "MNIST epochs"),
        ("rprop-lr", "max", rprop_thought::MAX_RPROP_LR, "rprop's initial step on MNIST"),
        ("rprop-rms-lr", "max", rprop::MAX_RMSPROP_LR, "RMSprop's learning rate"),
    ];
    for (id, name, want, reason) in rows {
        assert_eq!(attr(id, name), want, "{reason}: #{id} {name}");
    }
    assert_eq!(mnist(1).train.len(), 7000, "the training split the page's digits limit describes");
}
