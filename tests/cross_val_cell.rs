//! `lab::cross_val` driven as the page drives it: its jobs run (here in one `Jobs` group, as on
//! the page thread; in workers each alone), their updates fed back. Each fold's history is the
//! run of the same spec trained on that fold alone; the estimate is the folds' mean.

#[path = "common/clusters.rs"]
mod clusters;
#[path = "common/pooled.rs"]
mod pooled;

use descent::data::folds::Folds;
use descent::lab::cross_val::{CrossVal, CrossValSpec, Ending};
use descent::lab::job::Sets;
use descent::lab::{Data, RunSpec};
use descent::plot::{Body, Chart};
use std::sync::Arc;

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
    CrossValSpec { run, n: 100, k, stratified, holdouts, finals: false }
}

fn ending(status: &str) -> Ending {
    Ending { status: status.into(), ..Ending::default() }
}

fn run_all(cv: &mut CrossVal, sets: &Sets) {
    pooled::run_all(cv, sets);
    assert!(!cv.active(), "every job ended");
}

#[test]
fn each_fold_is_the_run_of_its_spec_on_that_fold_alone() {
    let sets = sets();
    let s = spec(3, true, 2);
    let mut cv = CrossVal::new(&sets.train, sets.test.clone(), s.clone()).unwrap();
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
        assert_eq!(cv.histories()[i].1.epochs, alone.history().epochs, "fold {}: the same epochs as training it alone", i + 1);
        assert_eq!(cv.histories()[i].1.step_loss, alone.history().step_loss, "fold {}: the same losses", i + 1);
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
    let mut cv = CrossVal::new(&sets.train, sets.test.clone(), spec(4, false, 3)).unwrap();
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
    for i in 0..100 {
        let holders: Vec<usize> = (0..4).filter(|&f| strips[f].members[i].is_some()).collect();
        assert_eq!(holders.len(), 1, "digit {i} is held out by exactly one fold");
        assert_eq!(strips[holders[0]].members[i], Some(sets.train.labels[i]), "and drawn in its class");
    }
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
        let err = CrossVal::new(&sets.train, sets.test.clone(), s).err().expect("refused");
        assert!(err.message().contains(want), "{}", err.message());
    }
    let mut cv = CrossVal::new(&sets.train, sets.test.clone(), spec(3, false, 0)).unwrap();
    cv.finish(0, ending("finished"), None).unwrap();
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
    assert!(cv.finish(7, ending("finished"), None).is_err(), "no job 7");
}

#[test]
fn early_stopped_folds_give_a_best_epoch_a_retrain_and_an_ensemble() {
    let sets = sets();
    let mut s = spec(3, true, 0);
    s.finals = true;
    s.run.epochs = 12;
    s.run.early_stopping = Some(serde_json::from_value(serde_json::json!({ "criterion": "patience", "patience": 2 })).unwrap());
    let mut cv = CrossVal::new(&sets.train, sets.test.clone(), s.clone()).unwrap();
    assert_eq!(cv.jobs().len(), 3, "the folds first");
    assert!(cv.jobs().is_empty(), "the retrain waits for the folds");
    let mut cv = CrossVal::new(&sets.train, sets.test.clone(), s.clone()).unwrap();
    run_all(&mut cv, &sets);
    let r = cv.report();
    assert_eq!((r.ended, r.jobs), (4, 4), "3 folds and the retrain");
    let best = r.best_epochs.expect("each fold's best epoch");
    assert_eq!(best.n, 3);
    let finals = r.finals.expect("the final models");
    assert_eq!(finals.retrain_epochs, best.mean.round() as usize, "retrained for the mean best epoch");
    let retrain = cv.retrain_row().unwrap();
    assert_eq!((retrain.train_size, retrain.epochs_done), (100, finals.retrain_epochs), "on all n digits");
    assert!(finals.retrain_test_error.is_some() && finals.ensemble_test_error.is_some());
    assert_eq!(finals.fold_test_errors.len(), 3);
    // the ensemble, by hand: the fold models' mean probabilities
    let folds = Folds::stratified(&sets.train.labels[..100], 3, 11).unwrap();
    let mut mean = vec![0f32; sets.test.len() * 4];
    for i in 0..3 {
        let (train, val) = folds.fold(i);
        let data = Data { train: Arc::new(sets.train.select(&train)), validation: Arc::new(sets.train.select(&val)) };
        let mut t = s.run.build(&data, None).unwrap();
        t.run().unwrap();
        let mut m = t.model().clone();
        let p = descent::nn::loss::softmax(&m.forward(&sets.test.x, sets.test.len(), false).unwrap(), 4);
        mean.iter_mut().zip(p).for_each(|(a, b)| *a += b / 3.0);
    }
    let wrong = descent::nn::loss::argmax_rows(&mean, 4).iter().zip(&sets.test.labels).filter(|(&p, &l)| p != l as usize).count();
    assert_eq!(finals.ensemble_test_error, Some(wrong as f32 / sets.test.len() as f32));
}
