//! The "L1 and L2" cell's validation curve over log λ (`lab::lambda_sweep`), driven as the
//! page's pool drives it, on MNIST with the page's network: one job per λ plus one without a
//! penalty, the same seed for all; a tiny λ changes nothing, a large one underfits, the best
//! point is the lowest validation error and is marked.

#[path = "common/page.rs"]
mod page;
#[path = "common/pooled.rs"]
mod pooled;

use descent::data::Split;
use descent::lab::job::Sets;
use descent::lab::lambda_sweep::{LambdaSweep, LambdaSweepSpec};
use descent::lab::RunSpec;
use std::sync::Arc;

fn sets() -> Sets {
    let split = Split::mnist_default(&page::mnist(), 0).unwrap();
    Sets { train: Arc::new(split.train), validation: Arc::new(split.validation), test: Arc::new(split.test) }
}

/// The page's sweep on a smaller run (300 digits, 10 epochs) to keep the test quick.
fn spec(penalty: &str, from: f64, to: f64, points: usize) -> LambdaSweepSpec {
    let html = page::html();
    let run = RunSpec {
        hidden: page::sizes_of(&html, "l1-l2-hidden"),
        options: serde_json::json!({ "lr": page::number_of::<f64>(&html, "l1-l2-lr") }),
        batch_size: page::number_of(&html, "l1-l2-batch"),
        epochs: 10,
        train_subset: Some(300),
        ..RunSpec::default()
    };
    LambdaSweepSpec { run, penalty: penalty.into(), from, to, points }
}

#[test]
fn the_sweep_goes_from_no_effect_to_underfitting_and_marks_its_best() {
    let sets = sets();
    let mut s = LambdaSweep::new(spec("l2", -6.0, -0.5, 4)).unwrap();
    assert_eq!(s.jobs().len(), 5, "the run without a penalty, then 4 λ");
    // the jobs were handed out above; a fresh sweep for the driver
    let mut s2 = LambdaSweep::new(spec("l2", -6.0, -0.5, 4)).unwrap();
    pooled::run_all(&mut s2, &sets);
    let r = s2.report();
    assert_eq!((r.status, r.ended, r.jobs), ("finished", 5, 5));
    let val = |i: usize| r.points[i].val_error.unwrap();
    let train = |i: usize| r.points[i].train_error.unwrap();
    let (base_val, base_train) = (r.baseline.val_error.unwrap(), r.baseline.train_error.unwrap());
    // λ₂ = 1e-6 is the same run to within a digit or two; λ₂ ≈ 0.32 drowns the data term
    assert!((val(0) - base_val).abs() <= 2.0 / 1500.0 + 1e-6, "λ = 1e-6: {} vs no penalty {base_val}", val(0));
    assert!(train(3) > base_train + 0.05 && val(3) > base_val, "λ ≈ 0.32 underfits: training {} vs {base_train}", train(3));
    let best = r.best.unwrap();
    let lowest = (0..4).map(val).fold(f32::INFINITY, f32::min);
    assert_eq!(r.best_val_error, Some(lowest));
    assert!(s2.lambdas().contains(&best));
    let noise = r.noise.unwrap();
    assert!((0.003..0.02).contains(&noise), "√(p(1−p)/1500) for p ≈ 0.15: {noise}");
    let chart = s2.chart("sweep").unwrap();
    let descent::plot::Body::Lines { marks, series, .. } = chart.body else { panic!("lines") };
    assert_eq!(marks.len(), 1);
    assert!((marks[0].0 - best.log10()).abs() < 1e-12 && marks[0].1.starts_with("best λ₂ = "), "{marks:?}");
    assert_eq!(series[0].points.len(), 4, "a validation point per λ");
    assert_eq!(s2.histories().len(), 5);
}

#[test]
fn an_l1_sweep_puts_lambda_in_l1_and_bad_settings_are_named() {
    let mut s = LambdaSweep::new(spec("l1", -5.0, -2.0, 3)).unwrap();
    let jobs = s.jobs();
    assert_eq!(jobs.iter().map(|j| (j.spec.l1 > 0.0, j.spec.l2)).collect::<Vec<_>>(), [(false, 0.0), (true, 0.0), (true, 0.0), (true, 0.0)]);
    assert!((jobs[2].spec.l1 as f64 - 10f64.powf(-3.5)).abs() < 1e-9, "evenly spaced in log λ");
    assert!(s.jobs().is_empty(), "handed out once");
    // (penalty, from, to, points, part of the message, reason)
    let rows = [
        ("l3", -5.0, -1.0, 4, "unknown penalty 'l3'", "an unknown penalty"),
        ("l2", -1.0, -3.0, 4, "from must be below to", "an empty range"),
        ("l2", -5.0, 1.0, 4, "out of range", "λ above the lab's limit"),
        ("l2", -5.0, -1.0, 1, "1 points", "too few points"),
        ("l2", -5.0, -1.0, 13, "13 points", "too many points"),
    ];
    for (p, from, to, n, want, reason) in rows {
        let e = LambdaSweep::new(spec(p, from, to, n)).map(|_| ()).unwrap_err();
        assert!(e.message().contains(want), "{reason}: {}", e.message());
    }
    assert!(s.chart("curve").unwrap_err().message().contains("\"sweep\""));
}
