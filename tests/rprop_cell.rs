//! What the "Rprop: full batch works, mini-batches fail" cell promises, checked natively on the
//! real MNIST files in data/, with the runs the cell builds (`lab::RunSpec`, as rprop.js
//! writes them) from the defaults in index.html, trained side by side by `lab::Compare`.
//! From one seed (same init weights, same batch order), Rprop on the whole training subset
//! keeps driving its training loss down; Rprop on mini-batches of the same data stalls (or
//! blows up), and ends far behind RMSprop on the same mini-batches.

#[path = "common/page.rs"]
mod page;

use descent::data::Split;
use descent::lab::compare::Entry;
use descent::lab::{Compare, CompareSpec, Cpu, Data, RunSpec, SystemClock};
use descent::train::{Status, Trainer};
use serde_json::json;
use std::sync::Arc;

/// The cell's three runs on `seed`: full-batch Rprop, mini-batch Rprop, mini-batch RMSprop.
fn cell(seed: u64) -> (Compare, usize, usize, usize) {
    let html = page::html();
    let subset: usize = page::number_of(&html, "rprop-n");
    let batch: usize = page::number_of(&html, "rprop-batch");
    let epochs: usize = page::number_of(&html, "rprop-epochs");
    let base = RunSpec { hidden: vec![page::number_of(&html, "rprop-hidden")], seed, epochs, train_subset: Some(subset), ..RunSpec::default() };
    let rprop = json!({ "lr": page::number_of::<f64>(&html, "rprop-lr") });
    let rms = json!({ "lr": page::number_of::<f64>(&html, "rprop-rms-lr") });
    let entry = |label: &str, optimizer: &str, options: &serde_json::Value, batch_size: usize| Entry {
        label: label.into(),
        color: 0,
        run: RunSpec { optimizer: optimizer.into(), options: options.clone(), batch_size, ..base.clone() },
    };
    let spec = CompareSpec {
        runs: vec![entry("full", "rprop", &rprop, subset), entry("mini", "rprop", &rprop, batch), entry("rmsprop", "rmsprop", &rms, batch)],
        smooth: None,
    };
    let split = Split::mnist_default(&page::mnist(), seed).unwrap();
    let data = Data { train: Arc::new(split.train), validation: Arc::new(split.validation) };
    (Compare::new(&data, spec, &Cpu).unwrap(), subset, batch, epochs)
}

fn last(t: &Trainer) -> (f32, f32) {
    let e = t.history().epochs.last().unwrap();
    (e.train_loss, e.val_error)
}

fn median_step_size(t: &Trainer) -> f32 {
    let mut s = t.engine().optimizer_state("step_size").unwrap().to_vec();
    s.sort_by(f32::total_cmp);
    s[s.len() / 2]
}

#[test]
fn the_cells_defaults_are_the_recitations_setting() {
    let (c, subset, batch, epochs) = cell(1);
    assert_eq!((subset, batch, epochs), (1000, 100, 30), "1,000 examples in batches of 100, ten updates an epoch");
    assert_eq!(c.runs().get(1).steps_per_epoch(), subset / batch);
    assert_eq!(c.runs().get(0).steps_per_epoch(), 1, "the full batch is one step an epoch");
}

#[test]
fn full_batch_rprop_learns_minibatch_rprop_stalls_behind_minibatch_rmsprop() {
    for seed in [1, 2, 3] {
        let (mut c, _, _, epochs) = cell(seed);
        let clock = SystemClock::default();
        while c.run_for(100.0, &clock).unwrap() {}
        let (full, mini, rms) = (c.runs().get(0), c.runs().get(1), c.runs().get(2));
        assert_eq!(*full.status(), Status::Finished, "seed {seed}: full-batch rprop runs to the end");
        assert_eq!(*rms.status(), Status::Finished, "seed {seed}: RMSprop runs to the end");
        assert_eq!(full.steps(), epochs, "one full-batch step per epoch");
        let ((full_loss, full_err), (rms_loss, rms_err)) = (last(full), last(rms));
        eprintln!(
            "seed {seed}: final training loss / validation error: full-batch rprop {full_loss:.3} / {full_err:.3}, \
             mini-batch rprop {:?} ({}), mini-batch RMSprop {rms_loss:.3} / {rms_err:.3}; median rprop step size full {:.2e}, mini {:.2e}",
            mini.history().epochs.last().map(|e| (e.train_loss, e.val_error)),
            mini.status().word(),
            median_step_size(full),
            median_step_size(mini)
        );
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
