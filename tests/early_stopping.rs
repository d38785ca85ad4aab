//! The stopping rules of `train::early_stopping`, each from hand-made sequences with the reason
//! for every row (check numbers are 1-based; every value is exact in binary where an edge is
//! tested, so the rows say what they mean).

use descent::train::early_stopping::{evaluate, Criterion, Mode, Rule};

const NAN: f64 = f64::NAN;

fn rule(criterion: Criterion, tweak: impl FnOnce(&mut Rule)) -> Rule {
    let mut r = Rule::new(criterion);
    tweak(&mut r);
    r
}

/// (values, training errors, rule, stop, best, reason)
type Row = (&'static [f64], Option<&'static [f64]>, Rule, Option<usize>, Option<usize>, &'static str);

fn check(rows: Vec<Row>) {
    for (values, train, r, stop, best, reason) in rows {
        let out = evaluate(values, &r, train).unwrap_or_else(|e| panic!("{reason}: {e}"));
        assert_eq!((out.stop, out.best), (stop, best), "{reason}: {values:?} with {r:?} → {out:?}");
        assert!(!out.reason.is_empty(), "{reason}: says why");
    }
}

#[test]
fn patience() {
    use Criterion::Patience as P;
    check(vec![
        (&[1.0, 0.9, 0.8, 0.85, 0.86, 0.87], None, rule(P, |r| r.patience = 3.0), Some(6), Some(3), "stops `patience` checks after the best"),
        (&[1.0, 0.9, 0.8, 0.85, 0.86, 0.87], None, rule(P, |_| {}), None, Some(3), "patience 5 outlasts a run of 3 bad checks"),
        (&[1.0, 1.0, 1.0], None, rule(P, |r| r.patience = 2.0), Some(3), Some(1), "a tie is not an improvement"),
        (
            &[1.0, 0.75, 0.5],
            None,
            rule(P, |r| (r.min_delta, r.patience) = (0.25, 1.0)),
            Some(2),
            Some(1),
            "beating the best by exactly minDelta does not count",
        ),
        (&[1.0, 0.5, 0.125], None, rule(P, |r| (r.min_delta, r.patience) = (0.25, 1.0)), None, Some(3), "beating it by more does"),
        (&[1.0, 2.0], None, rule(P, |r| r.patience = 0.0), Some(2), Some(1), "patience 0 stops at the first check without improvement"),
        (
            &[0.5, 1.0, 0.9, 0.95, 0.96],
            None,
            rule(P, |r| (r.warmup, r.patience) = (1.0, 2.0)),
            Some(5),
            Some(3),
            "the warm-up's low value is not the best",
        ),
        (&[1.0, 2.0, 3.0], None, rule(P, |r| r.warmup = 3.0), None, None, "a warm-up covering the whole run: nothing counts"),
        (&[1.0, NAN, 0.5], None, rule(P, |r| r.warmup = 5.0), Some(2), None, "NaN stops at once, even in the warm-up"),
        (&[1.0, 0.5, f64::INFINITY], None, rule(P, |_| {}), Some(3), Some(2), "an infinite value stops too"),
        (
            &[1.0, 0.5, 0.125, 0.0625],
            None,
            rule(P, |r| r.stopping_threshold = Some(0.125)),
            Some(3),
            Some(3),
            "reaching the stopping threshold stops",
        ),
        (&[1.0, 3.0], None, rule(P, |r| r.divergence_threshold = Some(2.0)), Some(2), Some(1), "passing the divergence threshold stops"),
        (&[1.0, 3.0], None, rule(P, |r| (r.warmup, r.divergence_threshold) = (2.0, Some(2.0))), None, None, "thresholds wait for the warm-up"),
        (&[0.5, 0.6, 0.55, 0.54], None, rule(P, |r| (r.mode, r.patience) = (Mode::Max, 2.0)), Some(4), Some(2), "mode max: higher is better"),
        (
            &[0.5, 0.75, 0.875],
            None,
            rule(P, |r| (r.mode, r.stopping_threshold) = (Mode::Max, Some(0.75))),
            Some(2),
            Some(2),
            "mode max: the threshold is reached from below",
        ),
    ]);
}

#[test]
fn generalization_loss() {
    use Criterion::Gl;
    check(vec![
        (&[1.0, 0.8, 0.81, 0.9], None, rule(Gl, |_| {}), Some(4), Some(2), "GL 1.25% at check 3 is within alpha 2; 12.5% at check 4 is not"),
        (&[1.0, 0.8, 0.81, 0.9], None, rule(Gl, |r| r.alpha = Some(20.0)), None, Some(2), "a larger alpha tolerates 12.5%"),
        (&[0.0, 0.0, 0.01], None, rule(Gl, |_| {}), Some(3), Some(1), "a best error of 0: any rise is an infinite GL"),
        (
            &[1.0, 0.9, 0.9, 0.8, 0.9],
            None,
            rule(Gl, |r| r.alpha = Some(10.0)),
            Some(5),
            Some(4),
            "GL is measured from the best so far (12.5% over 0.8)",
        ),
        (&[0.9, 0.8, 0.8, 0.85], None, rule(Gl, |r| r.alpha = Some(10.0)), None, Some(2), "the best is the first of equal minima"),
    ]);
}

#[test]
fn progress_quotient() {
    use Criterion::Pq;
    check(vec![
        (
            &[1.0, 0.8, 0.8, 0.9],
            Some(&[0.5, 0.4, 0.3, 0.3]),
            rule(Pq, |r| r.strip = 2.0),
            Some(4),
            Some(2),
            "training has stalled (P = 0) while GL > 0",
        ),
        (
            &[1.0, 0.8, 0.8, 0.9],
            Some(&[0.5, 0.4, 0.3, 0.2]),
            rule(Pq, |r| r.strip = 2.0),
            None,
            Some(2),
            "GL 12.5 / P 250 = 0.05: training still moves",
        ),
        (
            &[1.0, 0.8, 0.9, 0.9],
            Some(&[0.4, 0.4, 0.4, 0.4]),
            rule(Pq, |r| r.strip = 4.0),
            Some(4),
            Some(2),
            "judged only at strip ends (check 4, not 3)",
        ),
        (&[1.0, 0.8, 0.9, 0.9], Some(&[0.5, 0.4, 0.4, 0.4]), rule(Pq, |r| r.strip = 4.0), None, Some(2), "GL 12.5 / P 62.5 = 0.2 ≤ 0.75"),
        (&[1.0, 0.8, 0.9], Some(&[0.5, 0.4, 0.4]), rule(Pq, |r| r.strip = 2.0), None, Some(2), "check 3 is no strip end"),
    ]);
    let err = evaluate(&[1.0, 2.0], &Rule::new(Pq), None).unwrap_err();
    assert!(err.message().contains("needs the training errors"), "{}", err.message());
}

#[test]
fn up_strips() {
    use Criterion::Up;
    check(vec![
        (&[1.0, 0.9, 1.0, 1.1], None, rule(Up, |r| (r.strip, r.strips) = (1.0, 2.0)), Some(4), Some(2), "two rises in a row, strips of one check"),
        (&[1.0, 0.9, 1.0, 0.95, 1.0], None, rule(Up, |r| (r.strip, r.strips) = (1.0, 2.0)), None, Some(2), "a fall between two rises resets"),
        (
            &[1.0, 0.9, 0.8, 0.85],
            None,
            rule(Up, |r| (r.strip, r.strips) = (2.0, 1.0)),
            None,
            Some(3),
            "compared with the previous strip end (0.9), not the check before",
        ),
        (
            &[1.0, 0.9, 0.8, 0.95],
            None,
            rule(Up, |r| (r.strip, r.strips) = (2.0, 1.0)),
            Some(4),
            Some(3),
            "0.95 at the strip end is above 0.9 at the last one",
        ),
        (
            &[0.0, 1.0, 0.9, 1.0, 1.1],
            None,
            rule(Up, |r| (r.strip, r.strips, r.warmup) = (1.0, 2.0, 1.0)),
            Some(5),
            Some(3),
            "strip ends are counted after the warm-up",
        ),
    ]);
}

#[test]
fn cumulative_difference() {
    use Criterion::Cumulative as C;
    check(vec![
        (&[1.0, 0.8, 0.9, 0.85], None, rule(C, |r| r.window = 2.0), Some(4), Some(2), "the sum telescopes: 0.85 − 0.8 two checks before > 0"),
        (&[1.0, 0.8, 1.2, 0.7], None, rule(C, |r| r.window = 3.0), None, Some(4), "the rise at check 3 is cancelled within the window"),
        (&[1.0, 0.8, 0.9, 0.85], None, rule(C, |r| (r.window, r.min_delta) = (2.0, 0.1)), None, Some(2), "a rise below minDelta does not stop"),
        (
            &[1.0, 0.5, 2.0, 3.0],
            None,
            rule(C, |r| (r.window, r.warmup) = (2.0, 2.0)),
            None,
            Some(3),
            "both ends of the window must be after the warm-up",
        ),
        (&[1.0, 0.5, 2.0, 3.0, 4.0, 5.0], None, rule(C, |r| (r.window, r.warmup) = (2.0, 2.0)), Some(5), Some(3), "…and then it fires"),
    ]);
}

#[test]
fn bad_rules_are_named() {
    // (rule as JSON, part of the message, reason)
    let rows = [
        (r#"{ "criterion": "magic" }"#, "magic", "unknown criterion"),
        (r#"{ "criterion": "patience", "patience": -1 }"#, "patience must be a whole number ≥ 0, got -1", "negative patience"),
        (r#"{ "criterion": "patience", "patience": 1.5 }"#, "patience must be a whole number", "fractional patience"),
        (r#"{ "criterion": "gl", "alpha": 0 }"#, "alpha must be a number > 0, got 0", "alpha 0"),
        (r#"{ "criterion": "cumulative", "window": 0 }"#, "window must be a whole number ≥ 1, got 0", "window 0"),
        (r#"{ "criterion": "up", "strip": 0 }"#, "strip must be a whole number ≥ 1", "strip 0"),
        (r#"{ "criterion": "patience", "minDelta": -0.1 }"#, "minDelta must be a number ≥ 0", "negative minDelta"),
        (r#"{ "criterion": "patience", "pateince": 3 }"#, "unknown field `pateince`", "a misspelt option"),
    ];
    for (json, want, reason) in rows {
        let err = serde_json::from_str::<Rule>(json)
            .map_err(|e| e.to_string())
            .and_then(|r| evaluate(&[1.0], &r, None).map(|_| ()).map_err(|e| e.to_string()));
        let msg = err.unwrap_err();
        assert!(msg.contains(want), "{reason}: {json} gave {msg:?}");
    }
    let err = evaluate(&[1.0, 2.0], &Rule::new(Criterion::Gl), Some(&[0.1])).unwrap_err();
    assert!(err.message().contains("1 training errors for 2 validation values"), "{}", err.message());
}

#[path = "common/page.rs"]
mod page;

/// Online: a run that overfits stops by its rule, and with restoreBest it ends with exactly the
/// weights of the same seed trained for the best check's epochs without early stopping.
#[test]
fn a_stopped_run_restores_exactly_the_best_epochs_weights() {
    use descent::data::Split;
    use descent::lab::{Data, RunSpec};
    use descent::train::Status;
    use std::sync::Arc;
    let split = Split::mnist_default(&page::mnist(), 4).unwrap();
    let data = Data { train: Arc::new(split.train), validation: Arc::new(split.validation) };
    // 300 digits, a wide layer and Adam: the validation loss turns up within a few epochs
    let spec: RunSpec = serde_json::from_value(serde_json::json!({
        "hidden": [128], "seed": 4, "optimizer": "adam", "options": { "lr": 0.01 }, "batchSize": 30, "epochs": 40,
        "trainSubset": 300, "earlyStopping": { "monitor": "val_loss", "criterion": "patience", "patience": 3 }
    }))
    .unwrap();
    let mut stopped = spec.build(&data, None).unwrap();
    stopped.run().unwrap();
    let Status::Stopped(reason) = stopped.status().clone() else { panic!("the run should stop early: {:?}", stopped.status()) };
    assert!(reason.starts_with("early stopping: no improvement"), "{reason}");
    let (best, params) = stopped.best().map(|(c, p)| (*c, p.to_vec())).unwrap();
    let last = stopped.history().checks.last().unwrap();
    assert_eq!(last.step - best.step, 3 * stopped.steps_per_epoch(), "stopped 3 checks after the best");
    assert_eq!(stopped.model().parameters(), &params[..], "the model is the best checkpoint's");
    assert!(stopped.epoch() < 40, "stopped early, after {} epochs", stopped.epoch());
    assert_eq!(stopped.stopped_at(), Some(stopped.history().checks.len()));
    assert_eq!(stopped.best_check(), Some(best.epoch as usize), "one check an epoch: the best check is its epoch");

    let epochs = best.epoch as usize;
    let mut plain = RunSpec { epochs, early_stopping: None, ..spec.clone() }.build(&data, None).unwrap();
    plain.run().unwrap();
    assert_eq!(plain.model().parameters(), &params[..], "the same as training for the best's {epochs} epochs");

    // without restoreBest the model is the last one
    let mut last_kept = RunSpec { restore_best: false, ..spec }.build(&data, None).unwrap();
    last_kept.run().unwrap();
    assert_ne!(last_kept.model().parameters(), &params[..]);
    assert_eq!(last_kept.best().unwrap().1, &params[..], "the best is still kept");
}

#[test]
fn online_rules_are_checked_when_the_run_is_built() {
    use descent::lab::RunSpec;
    let bad = [
        (serde_json::json!({ "hidden": [4], "earlyStopping": { "criterion": "patience", "patince": 3 } }), "unknown field `patince`"),
        (serde_json::json!({ "hidden": [4], "earlyStopping": { "criterion": "gl", "monitor": "val_acc" } }), "val_acc"),
    ];
    for (json, want) in bad {
        let err = RunSpec::from_json(&json).unwrap_err();
        assert!(err.message().contains(want), "{json}: {}", err.message());
    }
    let spec =
        RunSpec::from_json(&serde_json::json!({ "hidden": [4], "earlyStopping": { "criterion": "pq", "strip": 2 }, "checksPerEpoch": 2 })).unwrap();
    let m = page::mnist();
    let split = descent::data::Split::mnist_default(&m, 1).unwrap();
    let data = descent::lab::Data { train: std::sync::Arc::new(split.train), validation: std::sync::Arc::new(split.validation) };
    let Err(err) = spec.build(&data, None) else { panic!("pq with two checks an epoch must be refused") };
    assert!(err.message().contains("use one check per epoch"), "{}", err.message());
}
