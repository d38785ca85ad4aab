//! The trainer's validation checks: where they fall, what they record, the stopping hook and
//! the best checkpoint.

#[path = "common/clusters.rs"]
mod clusters;

use descent::data::Dataset;
use descent::nn::{Activation, Mlp, MlpSpec};
use descent::train::trainer::mid_epoch_checks;
use descent::train::{History, Status, TrainConfig, Trainer};
use std::sync::Arc;

fn data(n: usize, seed: u64) -> Arc<Dataset> {
    clusters::clusters(n, seed, 0.7)
}

fn trainer(cfg: TrainConfig, lr: f64) -> Trainer {
    let model = Mlp::new(MlpSpec::new(&[12, 16, 4], Activation::Relu), 3).unwrap();
    let opt = descent::optim::build("sgd", &serde_json::json!({ "lr": lr })).unwrap();
    Trainer::new(model, opt, data(200, 1), data(80, 2), cfg).unwrap()
}

#[test]
fn checks_are_spread_evenly_over_each_epoch() {
    // (steps per epoch, epochs, checks per epoch, mid-epoch check steps, reason)
    let rows: &[(usize, usize, usize, &[usize], &str)] = &[
        (10, 2, 1, &[], "one check per epoch is the epoch's end alone"),
        (10, 2, 2, &[5, 15], "halfway"),
        (10, 1, 5, &[2, 4, 6, 8], "every other step"),
        (3, 1, 5, &[1, 2], "no more checks than steps"),
        (110, 1, 5, &[22, 44, 66, 88], "the race's shape: 7,000 digits in batches of 64"),
        (7, 1, 3, &[2, 5], "rounded to the nearest step"),
    ];
    for &(spe, epochs, k, want, reason) in rows {
        assert_eq!(mid_epoch_checks(spe, epochs, k), want, "{reason}");
    }
}

#[test]
fn every_check_is_recorded_and_the_epoch_end_is_the_last() {
    let cfg = TrainConfig { batch_size: 20, epochs: 2, checks_per_epoch: 4, seed: 1, ..TrainConfig::default() };
    let mut t = trainer(cfg.clone(), 0.1);
    t.run().unwrap();
    let h = t.history();
    let steps: Vec<usize> = h.checks.iter().map(|c| c.step).collect();
    assert_eq!(steps, [3, 5, 8, 10, 13, 15, 18, 20]);
    for r in &h.epochs {
        let c = h.checks.iter().find(|c| c.step == r.step).expect("a check at every epoch end");
        assert_eq!((c.val_loss, c.val_error), (r.val_loss, r.val_error), "the epoch's record is its last check");
        assert_eq!(c.epoch, r.epoch as f64);
    }
    // checking more often does not change the training itself
    let mut once = trainer(TrainConfig { checks_per_epoch: 1, ..cfg }, 0.1);
    once.run().unwrap();
    assert_eq!(once.history().step_loss, h.step_loss);
    assert_eq!(once.history().epochs, h.epochs);
    // a mid-epoch check is the model of that step: the same as a run that ends there
    let mut short = trainer(TrainConfig { batch_size: 20, epochs: 1, seed: 1, ..TrainConfig::default() }, 0.1);
    while short.steps() < 5 {
        short.step().unwrap();
    }
    let (l, e) = short.engine_mut().synced_model().unwrap().unwrap().evaluate(&data(80, 2).x, &data(80, 2).labels).unwrap();
    let c = h.checks[1];
    assert!((c.val_loss - l).abs() < 1e-6 && c.val_error == e, "check at step 5: {c:?} vs ({l}, {e})");
}

#[test]
fn a_stopping_rule_ends_the_run_after_a_check() {
    let cfg = TrainConfig { batch_size: 20, epochs: 10, checks_per_epoch: 2, seed: 1, ..TrainConfig::default() };
    let mut t = trainer(cfg, 0.1);
    t.set_stopper(Box::new(|h: &History| (h.checks.len() == 3).then(|| "three checks are enough".to_string())));
    while *t.step().unwrap() == Status::Running {}
    assert_eq!(*t.status(), Status::Stopped("three checks are enough".into()));
    assert_eq!(t.steps(), 15, "stopped at the third check (step 15), not later");
    assert_eq!(t.history().checks.len(), 3);
    assert_eq!(t.status().word(), "stopped");
}

#[test]
fn the_best_checkpoint_is_the_lowest_validation_loss_and_its_weights() {
    // a learning rate that first helps and then overshoots, so the best is not the last
    let cfg = TrainConfig { batch_size: 20, epochs: 6, checks_per_epoch: 2, seed: 1, keep_best: true, ..TrainConfig::default() };
    let mut t = trainer(cfg, 0.5);
    while *t.step().unwrap() == Status::Running {}
    let h = t.history().clone();
    let lowest = h.checks.iter().filter(|c| c.val_loss.is_finite()).map(|c| c.val_loss).fold(f32::INFINITY, f32::min);
    let (best, params) = t.best().expect("a best checkpoint");
    assert_eq!(best.val_loss, lowest);
    // the kept weights give that check's loss again
    let mut m = t.model().clone();
    m.set_parameters(params).unwrap();
    let v = data(80, 2);
    let (l, e) = m.evaluate(&v.x, &v.labels).unwrap();
    assert!((l - best.val_loss).abs() < 1e-6 && e == best.val_error, "{l} {e} vs {best:?}");
    let mut plain = trainer(TrainConfig { keep_best: false, ..t.config().clone() }, 0.5);
    while *plain.step().unwrap() == Status::Running {}
    assert!(plain.best().is_none(), "no checkpoint unless asked");
}

#[test]
fn stop_is_final() {
    let mut t = trainer(TrainConfig { batch_size: 20, epochs: 3, ..TrainConfig::default() }, 0.1);
    for _ in 0..4 {
        t.step().unwrap();
    }
    t.stop("stopped");
    let steps = t.steps();
    assert_eq!(*t.step().unwrap(), Status::Stopped("stopped".into()));
    assert_eq!(t.steps(), steps);
    t.stop("again");
    assert_eq!(t.status().message(), Some("stopped"), "a second stop keeps the first reason");
}

#[test]
fn the_full_training_pass_is_the_epochs_final_weights_on_the_training_set() {
    let cfg = TrainConfig { batch_size: 20, epochs: 2, seed: 1, full_train_error: true, ..TrainConfig::default() };
    let mut t = trainer(cfg.clone(), 0.1);
    let train = data(200, 1);
    let mut last_epoch = 0;
    while *t.step().unwrap() == Status::Running {
        if t.epoch() > last_epoch {
            last_epoch = t.epoch();
            let r = t.history().epochs.last().unwrap().clone();
            let (l, e) = t.engine_mut().synced_model().unwrap().unwrap().evaluate(&train.x, &train.labels).unwrap();
            assert!((r.full_train_loss.unwrap() - l).abs() < 1e-5, "epoch {}: {r:?} vs {l}", r.epoch);
            assert_eq!(r.full_train_error, Some(e));
        }
    }
    let h = t.history();
    assert_eq!(h.epochs.len(), 2);
    assert!(h.epochs.iter().all(|r| r.full_train_error.is_some()));
    // the pass only reads: the training is the same without it
    let mut plain = trainer(TrainConfig { full_train_error: false, ..cfg }, 0.1);
    plain.run().unwrap();
    assert_eq!(plain.history().step_loss, h.step_loss);
    assert!(plain.history().epochs.iter().all(|r| r.full_train_error.is_none()), "no pass unless asked");
}

#[test]
fn a_test_set_is_evaluated_at_every_check_and_changes_nothing_else() {
    let cfg = TrainConfig { batch_size: 20, epochs: 2, checks_per_epoch: 2, seed: 1, full_train_error: true, ..TrainConfig::default() };
    let test = data(50, 9);
    let mut with = trainer(cfg.clone(), 0.1);
    with.set_test(test.clone()).unwrap();
    let mut seen = 0;
    while *with.step().unwrap() == Status::Running {
        let checks = &with.history().checks;
        if checks.len() > seen {
            seen = checks.len();
            let c = *checks.last().unwrap();
            let (l, e) = with.engine_mut().synced_model().unwrap().unwrap().evaluate(&test.x, &test.labels).unwrap();
            assert!((c.test_loss.unwrap() - l).abs() < 1e-5 && c.test_error == Some(e), "check {seen}: {c:?} vs ({l}, {e})");
        }
    }
    // the last check ends the run, so the loop above stops before it: it is the model now
    assert_eq!((seen, with.history().checks.len()), (3, 4));
    let c = *with.history().checks.last().unwrap();
    let (l, e) = with.engine_mut().synced_model().unwrap().unwrap().evaluate(&test.x, &test.labels).unwrap();
    assert!((c.test_loss.unwrap() - l).abs() < 1e-5 && c.test_error == Some(e), "the last check: {c:?} vs ({l}, {e})");
    let mut without = trainer(cfg, 0.1);
    without.run().unwrap();
    let strip = |h: &descent::train::History| h.checks.iter().map(|c| (c.step, c.val_loss, c.val_error)).collect::<Vec<_>>();
    assert_eq!(strip(with.history()), strip(without.history()), "the validation checks are the same");
    assert_eq!(with.history().epochs, without.history().epochs, "and so is every epoch's record, the full training pass included");
    assert!(without.history().checks.iter().all(|c| c.test_error.is_none()));
    let wide = Arc::new(Dataset::new(vec![0.0; 13], vec![0], 13, 4).unwrap());
    let mut t = trainer(TrainConfig::default(), 0.1);
    assert!(t.set_test(wide).unwrap_err().message().contains("13 features"));
}

#[test]
fn validating_every_n_epochs_checks_those_epochs_and_the_last() {
    let cfg = TrainConfig { batch_size: 20, epochs: 7, seed: 1, validate_every: 3, ..TrainConfig::default() };
    let mut t = trainer(cfg.clone(), 0.1);
    t.run().unwrap();
    let h = t.history();
    let checked: Vec<usize> = h.checks.iter().map(|c| c.epoch as usize).collect();
    assert_eq!(checked, [3, 6, 7], "every third epoch, and the last");
    for r in &h.epochs {
        assert_eq!(r.val_loss.is_finite(), checked.contains(&r.epoch), "epoch {}: validation numbers only where validated", r.epoch);
    }
    // the training is the same as validating every epoch
    let mut every = trainer(TrainConfig { validate_every: 1, ..cfg.clone() }, 0.1);
    every.run().unwrap();
    assert_eq!(every.history().step_loss, h.step_loss);
    assert_eq!(every.history().epochs[2].val_loss, h.epochs[2].val_loss);
    let Err(both) = Trainer::new(
        Mlp::new(MlpSpec::new(&[12, 16, 4], Activation::Relu), 3).unwrap(),
        descent::optim::build("sgd", &serde_json::json!({ "lr": 0.1 })).unwrap(),
        data(200, 1),
        data(80, 2),
        TrainConfig { checks_per_epoch: 2, ..cfg },
    ) else {
        panic!("every 3 epochs and twice an epoch at once must be refused")
    };
    assert!(both.message().contains("not both"), "{}", both.message());
}

#[test]
fn validation_frequency_times_patience_is_how_long_a_rule_waits() {
    use descent::train::early_stopping::{Criterion, EarlyStopping, Monitor, Rule};
    // validate every 2 epochs, patience 2: at least 4 epochs between the best and the stop
    let rule = EarlyStopping { monitor: Monitor::ValLoss, rule: Rule { patience: 2.0, ..Rule::new(Criterion::Patience) } };
    let cfg = TrainConfig { batch_size: 20, epochs: 40, seed: 1, validate_every: 2, early_stopping: Some(rule), ..TrainConfig::default() };
    let mut t = trainer(cfg, 0.5);
    while *t.step().unwrap() == Status::Running {}
    let Status::Stopped(why) = t.status().clone() else { panic!("{:?}", t.status()) };
    let (best, _) = t.best().unwrap();
    let stop = t.history().checks.last().unwrap();
    assert!(stop.epoch - best.epoch >= 4.0, "{why}: best at epoch {}, stopped at {}", best.epoch, stop.epoch);
    assert_eq!(stop.epoch - best.epoch, 4.0, "exactly two checks of two epochs each");
}
