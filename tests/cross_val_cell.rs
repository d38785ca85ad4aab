//! `lab::cross_val` driven as the page drives it: its jobs run (here in one `Jobs` group, as on
//! the page thread; in workers each alone), their updates fed back. Each fold's history is the
//! run of the same spec trained on that fold alone; the estimate is the folds' mean.

#[path = "common/clusters.rs"]
mod clusters;

use descent::data::folds::Folds;
use descent::lab::cross_val::{CrossVal, CrossValSpec};
use descent::lab::job::{Jobs, Sets};
use descent::lab::{Clock, Data, RunSpec};
use descent::plot::{Body, Chart};
use std::cell::Cell;
use std::sync::Arc;

struct StepClock(Cell<f64>);

impl Clock for StepClock {
    fn now_ms(&self) -> f64 {
        self.0.set(self.0.get() + 1.0);
        self.0.get()
    }
}

fn sets() -> Sets {
    Sets { train: clusters::clusters(120, 1, 0.9), validation: clusters::clusters(40, 2, 0.9), test: clusters::clusters(40, 3, 0.9) }
}

fn spec(k: usize, stratified: bool, holdouts: usize) -> CrossValSpec {
    let run = RunSpec {
        hidden: vec![6],
        seed: 11,
        optimizer: "adam".into(),
        options: serde_json::json!({ "lr": 0.02 }),
        batch_size: 16,
        epochs: 4,
        ..RunSpec::default()
    };
    CrossValSpec { run, n: 100, k, stratified, holdouts }
}

/// Run every job of `cv` and feed back what they report, as www/pool.js does.
fn run_all(cv: &mut CrossVal, sets: &Sets) {
    let mut jobs = Jobs::new(sets, cv.jobs().into_iter().map(Ok).collect());
    let clock = StepClock(Cell::new(0.0));
    let mut ended = vec![false; jobs.len()];
    loop {
        let more = jobs.run_for(3.0, &clock).unwrap();
        for (i, done) in ended.iter_mut().enumerate() {
            let u = jobs.update(i);
            if !u.is_empty() {
                cv.absorb(i, u).unwrap();
            }
            let r = jobs.result(i);
            if !*done && r.status != "running" {
                *done = true;
                cv.finish(i, r.status, r.message, r.compute_ms).unwrap();
            }
        }
        assert!(cv.report().ended < cv.report().jobs || !more);
        if !more {
            break;
        }
    }
}

#[test]
fn each_fold_is_the_run_of_its_spec_on_that_fold_alone() {
    let sets = sets();
    let s = spec(3, true, 2);
    let mut cv = CrossVal::new(&sets.train, s.clone()).unwrap();
    assert_eq!(cv.jobs().len(), 5, "3 folds and 2 holdouts");
    run_all(&mut cv, &sets);
    let report = cv.report();
    assert_eq!(report.status, "finished");
    assert_eq!((report.ended, report.jobs), (5, 5));
    let labels = &sets.train.labels[..100];
    let folds = Folds::stratified(labels, 3, 11).unwrap();
    for (i, row) in report.folds.iter().enumerate() {
        let (train, val) = folds.fold(i);
        assert_eq!((row.train_size, row.validation_size), (train.len(), val.len()));
        let data = Data { train: Arc::new(sets.train.select(&train)), validation: Arc::new(sets.train.select(&val)) };
        let mut alone = s.run.build(&data, None).unwrap();
        alone.run().unwrap();
        assert_eq!(cv.histories()[i].epochs, alone.history().epochs, "fold {}: the same epochs as training it alone", i + 1);
        assert_eq!(cv.histories()[i].step_loss, alone.history().step_loss, "fold {}: the same losses", i + 1);
    }
    let finals: Vec<f64> = report.folds.iter().map(|f| f.val_error.unwrap() as f64).collect();
    let est = report.estimate.unwrap();
    let mean = finals.iter().sum::<f64>() / 3.0;
    assert!((est.mean - mean).abs() < 1e-12, "the estimate is the folds' mean");
    let var = finals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 2.0;
    assert!((est.std - var.sqrt()).abs() < 1e-12, "and their sample standard deviation");
    assert_eq!(report.holdout_spread.unwrap().n, 2);
    assert_eq!(report.holdouts[0].validation_size, 20, "80/20 of 100 digits");
    assert!(report.class_imbalance <= 1, "stratified: every class within one across folds");
    assert_eq!(report.fold_sizes, vec![34, 33, 33]);
}

#[test]
fn the_charts_show_folds_means_bands_and_strips() {
    let sets = sets();
    let mut cv = CrossVal::new(&sets.train, spec(4, false, 3)).unwrap();
    run_all(&mut cv, &sets);
    let Chart { body: Body::Lines { series, bands, .. }, .. } = cv.chart("curves").unwrap() else { panic!("curves is a line chart") };
    assert_eq!(series.iter().filter(|s| s.faint).count(), 8, "each fold's validation and training curve, faint");
    let mean = series.iter().find(|s| s.name.starts_with("validation, mean of 4 folds")).expect("the folds' mean");
    assert_eq!(mean.points.len(), 4, "a mean for every epoch");
    assert_eq!(bands.len(), 2);
    assert!(bands[0].lo.iter().zip(&bands[0].hi).all(|(lo, hi)| lo <= hi));
    let Chart { body: Body::Strips { strips }, .. } = cv.chart("folds").unwrap() else { panic!("folds are strips") };
    assert_eq!(strips.len(), 4);
    assert_eq!(strips.iter().map(|s| s.counts.iter().sum::<usize>()).sum::<usize>(), 100, "every digit in one fold");
    let Chart { body: Body::Lines { series, .. }, .. } = cv.chart("estimates").unwrap() else { panic!("estimates") };
    assert_eq!((series[0].points.len(), series[1].points.len()), (4, 3), "a dot per fold and per holdout");
    assert!(cv.chart("nope").unwrap_err().message().contains("curves, estimates, folds"));
}

#[test]
fn bad_settings_are_named_and_stop_counts_as_stopped() {
    let sets = sets();
    let rows = [
        (CrossValSpec { k: 1, ..spec(3, false, 0) }, "k = 1 folds"),
        (CrossValSpec { k: 11, ..spec(3, false, 0) }, "k = 11 folds"),
        (CrossValSpec { n: 500, ..spec(3, false, 0) }, "500 digits: the training set has 120"),
        (CrossValSpec { n: 12, ..spec(3, false, 0) }, "too few for 3 folds"),
        (CrossValSpec { holdouts: 21, ..spec(3, false, 0) }, "21 holdouts"),
    ];
    for (s, want) in rows {
        let err = CrossVal::new(&sets.train, s).err().expect("refused");
        assert!(err.message().contains(want), "{}", err.message());
    }
    let mut cv = CrossVal::new(&sets.train, spec(3, false, 0)).unwrap();
    cv.finish(0, "finished", None, 1.0).unwrap();
    let begun = descent::lab::job::Update { steps: 3, total_steps: 28, step_loss: vec![1.0; 3], ..Default::default() };
    cv.absorb(1, begun).unwrap();
    cv.stop();
    let r = cv.report();
    assert_eq!(r.status, "stopped");
    assert_eq!(
        r.folds.iter().map(|f| f.status.as_str()).collect::<Vec<_>>(),
        ["finished", "stopped", "cancelled"],
        "a begun job stopped, one not begun cancelled"
    );
    assert_eq!((r.finished, r.ended), (1, 3));
    assert!(cv.finish(7, "finished", None, 0.0).is_err(), "no job 7");
}
