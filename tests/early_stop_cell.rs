//! What the "Tracking metrics and early stopping" cell promises, checked on the type the page
//! runs (`lab::early_stop::EarlyStop`) with index.html's defaults: the run overfits (its
//! validation loss turns and climbs), every rule's verdict is `early_stopping::evaluate` on the
//! recorded curve, moving a rule's knob moves its stop without training, and the table's
//! numbers are the recorded checks'.

#[path = "common/page.rs"]
mod page;

use descent::data::Split;
use descent::lab::early_stop::{EarlyStop, EarlyStopSpec};
use descent::lab::{Cpu, Data, RunSpec, SystemClock};
use descent::train::early_stopping::{evaluate, Criterion, Monitor, Rule};
use std::sync::Arc;

/// The page's five rules (early_stop.js builds the same from the knobs).
fn rules(html: &str, patience: f64) -> Vec<Rule> {
    let n = |id: &str| page::number_of::<f64>(html, id);
    let warmup = n("early-stop-warmup");
    let with = |c: Criterion, f: &dyn Fn(&mut Rule)| {
        let mut r = Rule::new(c);
        r.warmup = warmup;
        f(&mut r);
        r
    };
    vec![
        with(Criterion::Patience, &|r| (r.patience, r.min_delta) = (patience, n("early-stop-min-delta"))),
        with(Criterion::Gl, &|r| r.alpha = Some(n("early-stop-gl-alpha"))),
        with(Criterion::Pq, &|r| (r.alpha, r.strip) = (Some(n("early-stop-pq-alpha")), n("early-stop-strip"))),
        with(Criterion::Up, &|r| (r.strip, r.strips) = (n("early-stop-strip"), n("early-stop-strips"))),
        with(Criterion::Cumulative, &|r| (r.window, r.min_delta) = (n("early-stop-window"), n("early-stop-min-delta"))),
    ]
}

fn cell(seed: u64) -> (EarlyStop, String) {
    let html = page::html();
    let run = RunSpec {
        hidden: page::sizes_of(&html, "early-stop-hidden"),
        seed,
        optimizer: "adam".into(),
        options: serde_json::json!({ "lr": page::number_of::<f64>(&html, "early-stop-lr") }),
        batch_size: page::number_of(&html, "early-stop-batch"),
        epochs: page::number_of(&html, "early-stop-epochs"),
        train_subset: Some(page::number_of(&html, "early-stop-n")),
        full_train_error: page::checked(&html, "early-stop-full"),
        ..RunSpec::default()
    };
    let spec = EarlyStopSpec {
        run,
        monitor: Monitor::ValLoss,
        rules: rules(&html, page::number_of(&html, "early-stop-patience")),
        validate_every: page::number_of(&html, "early-stop-every"),
    };
    let split = Split::mnist_default(&page::mnist(), seed).unwrap();
    let data = Data { train: Arc::new(split.train), validation: Arc::new(split.validation) };
    let mut es = EarlyStop::new(&data, Some(Arc::new(split.test)), spec, &Cpu).unwrap();
    let clock = SystemClock::default();
    while es.run_for(200.0, &clock).unwrap() {}
    (es, html)
}

#[test]
fn the_default_run_overfits_and_every_rule_reads_the_same_record() {
    let (mut es, html) = cell(1);
    let r = es.report();
    assert_eq!(r.status, "finished");
    assert_eq!(r.epoch, 60, "the defaults train 60 epochs");
    let checks = es.trainer().history().checks.clone();
    assert_eq!(checks.len(), 60, "one check an epoch");
    // It overfits: the best validation loss comes early and the last is clearly above it.
    let best = r.best.unwrap();
    let last = r.last.unwrap();
    assert!(best.epoch <= 20.0, "the validation loss turns by epoch 20 (best at {})", best.epoch);
    assert!(last.val_loss > 1.2 * best.val_loss, "and climbs: {} at the end vs {} at best", last.val_loss, best.val_loss);
    assert!(checks.iter().all(|c| c.test_error.is_some()), "the test error is taken at every check");
    assert!(r.cost.validation_ms > 0.0 && r.cost.train_pass_ms > 0.0 && r.cost.test_ms > 0.0, "each metric is priced: {:?}", r.cost);
    // Every rule is early_stopping::evaluate on the recorded values (and PQ on the full-pass training errors).
    let values: Vec<f64> = checks.iter().map(|c| c.val_loss as f64).collect();
    let train: Vec<f64> = es.trainer().history().epochs.iter().map(|e| e.full_train_error.unwrap() as f64).collect();
    let best_error = checks.iter().map(|c| c.val_error).fold(f32::INFINITY, f32::min);
    for (rule, o) in es.spec().rules.clone().iter().zip(&r.rules) {
        let want = evaluate(&values, rule, Some(&train)).unwrap();
        assert_eq!((o.stop, o.best), (want.stop, want.best), "{}", o.name);
        if let Some(stop) = o.stop {
            let c = checks[stop - 1];
            assert_eq!(o.epochs_saved, Some(60.0 - c.epoch), "{}", o.name);
            assert_eq!(o.test_error_at_stop, c.test_error, "{}", o.name);
        }
        let b = checks[o.best.unwrap() - 1];
        assert_eq!(o.test_error_best, b.test_error, "{}: the restored best's test error", o.name);
        assert!(o.regret.unwrap() >= 0.0 && o.regret.unwrap() == b.val_error - best_error, "{}", o.name);
    }
    let patience = &r.rules[0];
    assert!(patience.stop.is_some(), "patience 5 stops this overfitting run: {}", patience.reason);
    // Moving a knob moves the stop at once, and trains nothing.
    let steps = es.trainer().steps();
    es.set_rules(rules(&html, 15.0), 1).unwrap();
    let later = es.report().rules[0].stop;
    assert_eq!(es.trainer().steps(), steps, "no training");
    assert_eq!(later, patience.stop.map(|s| s + 10), "patience 15 waits ten checks longer than 5 (no improvement in between)");
    let chart = es.chart("error").unwrap();
    let json = serde_json::to_value(&chart).unwrap();
    let marks: Vec<String> = json["marks"].as_array().unwrap().iter().map(|m| m[1].as_str().unwrap().to_string()).collect();
    assert!(marks.contains(&"best".to_string()) && marks.contains(&"patience".to_string()), "{marks:?}");
    assert!(es.set_rules(vec![], 1).is_err(), "no rules is refused");
    // validating every 5 epochs with patience 3 trains at least 15 epochs past the best
    es.set_rules(rules(&html, 3.0), 5).unwrap();
    let p = &es.report().rules[0];
    let (stop, best) = (p.stop_epoch.unwrap(), p.best_epoch.unwrap());
    assert!(stop - best >= 15.0, "every 5 epochs × patience 3: best at {best}, stop at {stop}");
    assert!(best % 5.0 == 0.0 && stop % 5.0 == 0.0, "only every fifth epoch is read: {best}, {stop}");
}
