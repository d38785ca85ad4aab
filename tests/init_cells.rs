//! What the initialization cells promise, checked natively on the types the page runs
//! (`lab::equal_start`, `lab::probe`, `lab::init_runs`) with the page's own defaults, read
//! from index.html, on the MNIST files shipped in data/.

#[path = "common/page.rs"]
mod page;

use descent::data::Split;
use descent::lab::equal_start::{EqualSpec, EqualStart};
use descent::lab::init_runs::{CustomRuns, CustomSpec, SchemeRuns, SchemesSpec};
use descent::lab::probe::{Probe, ProbeSpec};
use descent::lab::start::{mnist_weights, Start};
use descent::lab::{Cpu, Data, SystemClock};
use serde_json::json;
use std::sync::Arc;

/// A change to a spec, a part of the message it must bring, and why.
type Change<S> = (fn(&mut S), &'static str, &'static str);
fn data(seed: u64) -> Data {
    let split = Split::mnist_default(&page::mnist(), seed).unwrap();
    Data { train: Arc::new(split.train), validation: Arc::new(split.validation) }
}

/// The "Why not start equal?" cell's defaults.
fn equal_spec(seed: u64) -> EqualSpec {
    let html = page::html();
    EqualSpec {
        hidden: page::number_of(&html, "equal-hidden"),
        value: page::number_of(&html, "equal-value"),
        activation: "relu".into(),
        steps: page::number_of(&html, "equal-steps"),
        lr: page::number_of(&html, "equal-lr"),
        seed,
    }
}

#[test]
fn an_equal_start_stays_equal_and_a_random_one_does_not() {
    let d = data(1);
    let clock = SystemClock::default();
    // (activation, c, steps, reason)
    let rows = [
        ("relu", None, None, "the page's defaults"),
        ("tanh", Some(0.5), Some(80), "a large c and a saturating activation"),
        ("sigmoid", Some(-0.2), Some(80), "negative weights, outputs around 0.5"),
        ("relu", Some(0.0), Some(40), "all zeros: the hidden units never even move"),
    ];
    for (activation, value, steps, why) in rows {
        let mut spec = EqualSpec { activation: activation.into(), ..equal_spec(1) };
        spec.value = value.unwrap_or(spec.value);
        spec.steps = steps.unwrap_or(spec.steps);
        let mut e = EqualStart::new(&d, spec.clone(), &Cpu).unwrap();
        while e.run_for(50.0, &clock).unwrap() {}
        let r = e.report();
        assert_eq!(r.status, "finished", "{why}");
        assert_eq!((r.progress.done, r.progress.total), (2 * spec.steps, 2 * spec.steps), "{why}");
        let (equal, random) = (&r.runs[0], &r.runs[1]);
        assert_eq!((equal.steps, random.steps), (spec.steps, spec.steps), "{why}: held at exactly the steps asked for");
        assert_eq!(equal.spread, 0.0, "{why}: the equal start's units stay copies");
        assert!(random.spread > 0.01, "{why}: random units differ ({})", random.spread);
        if value.is_none() {
            // the page's text: eight different units learn more than one unit eight times
            let (a, b) = (equal.loss.unwrap(), random.loss.unwrap());
            assert!(b < a, "{why}: the random start learns more: {b} vs {a}");
            assert_eq!(e.chart("equal").unwrap().title, format!("equal start, after {} steps", spec.steps));
        }
    }
}

#[test]
fn equal_start_settings_are_checked_and_stop_ends_it() {
    let d = data(1);
    // (change, part of the message, reason)
    let rows: [Change<EqualSpec>; 5] = [
        (|s| s.hidden = 1, "hidden units: 1 is out of range: pick 2 to 16", "one unit has no twin"),
        (|s| s.hidden = 17, "hidden units: 17", "too many pictures"),
        (|s| s.steps = 0, "steps: 0", "nothing to train"),
        (|s| s.steps = 3001, "steps: 3001", "too long"),
        (|s| s.value = f32::NAN, "equal value c: NaN", "not a number"),
    ];
    for (change, want, why) in rows {
        let mut s = equal_spec(1);
        change(&mut s);
        let err = EqualStart::new(&d, s, &Cpu).err().unwrap_or_else(|| panic!("{why}: accepted"));
        assert!(err.message().contains(want), "{why}: {}", err.message());
    }
    let mut e = EqualStart::new(&d, equal_spec(1), &Cpu).unwrap();
    assert_eq!(e.chart("random").unwrap().title, "random start, before training");
    e.run_for(1.0, &SystemClock::default()).unwrap();
    e.stop();
    assert_eq!(e.report().status, "stopped");
}

/// The "Random, Xavier, He" cell's network: its depth and width, the given activation.
fn probe_spec(activation: &str, start: Start) -> ProbeSpec {
    let html = page::html();
    let depth: usize = page::number_of(&html, "schemes-depth");
    ProbeSpec { hidden: vec![page::number_of(&html, "schemes-width"); depth], activation: activation.into(), seed: 1, batch: 64, starts: vec![start] }
}

#[test]
fn probes_show_what_the_variance_argument_predicts() {
    let d = data(1);
    let html = page::html();
    let (a, std) = (page::number_of(&html, "schemes-a"), page::number_of(&html, "schemes-std"));
    // (activation, scheme, last/first activation std within, reason)
    let rows = [
        ("relu", "xavier_uniform", (0.0, 0.2), "ReLU halves the variance per layer under Xavier"),
        ("relu", "kaiming_uniform", (0.3, 3.0), "He puts the factor 2 back"),
        ("relu", "kaiming_normal", (0.3, 3.0), "same variance, other shape"),
        ("tanh", "xavier_uniform", (0.2, 1.5), "tanh is about linear near 0: Xavier holds up"),
        ("relu", "normal", (0.0, 1e-6), "std 0.01 is far too small: the signal vanishes"),
        ("relu", "default", (0.0, 0.5), "a sixth of He's variance fades, until the default's random biases hold it up"),
    ];
    for (act, key, (lo, hi), why) in rows {
        let r = Probe::new(&d, probe_spec(act, Start::scheme(key, a, std))).unwrap().report();
        let s = &r.starts[0].activation_std;
        assert_eq!(s.len(), 8, "{why}: one std per hidden layer");
        let ratio = s[7] / s[0];
        assert!(lo <= ratio && ratio < hi, "{why}: {act} + {key}: last/first = {ratio} ({s:?})");
    }
}

/// The schemes cell's training defaults, on a narrower network (as the page test does).
fn schemes_spec() -> SchemesSpec {
    let html = page::html();
    SchemesSpec {
        hidden: vec![64; page::number_of::<usize>(&html, "schemes-depth")],
        activation: "relu".into(),
        seed: 1,
        lr: page::number_of(&html, "schemes-lr"),
        epochs: page::number_of(&html, "schemes-epochs"),
        train_digits: Some(page::number_of(&html, "schemes-n")),
        a: page::number_of(&html, "schemes-a"),
        std: page::number_of(&html, "schemes-std"),
    }
}

#[test]
fn every_scheme_trains_side_by_side_and_the_scale_decides() {
    let mut s = SchemeRuns::new(&data(1), schemes_spec(), &Cpu).unwrap();
    let clock = SystemClock::default();
    while s.run_for(50.0, &clock).unwrap() {}
    let r = s.report();
    let labels: Vec<&str> = r.runs.iter().map(|x| x.label.as_str()).collect();
    assert_eq!(labels, ["uniform ±1", "normal σ=0.01", "Xavier uniform", "Xavier normal", "He uniform", "He normal", "PyTorch default"]);
    assert_eq!((r.status, r.curves), ("finished", 7), "one diverged scheme does not fail the experiment");
    let run = |l: &str| r.runs.iter().find(|x| x.label == l).unwrap();
    assert_eq!(run("uniform ±1").status, "diverged", "±1 in eight ReLU layers blows up");
    let (tiny, he) = (run("normal σ=0.01").val_error.unwrap(), run("He uniform").val_error.unwrap());
    assert!(tiny > 0.8, "a vanishing start learns next to nothing in an epoch: {tiny}");
    assert!(he + 0.3 < tiny, "He's start trains: {he} vs {tiny}");
    assert!(s.runs().iter().all(|t| t.steps() == r.runs[0].total_steps || t.status().word() == "diverged"));
}

/// "training digits" cuts every scheme's epoch to that many digits; fewer than a batch is refused.
#[test]
fn training_digits_cut_each_epoch() {
    let d = data(1);
    let spec = SchemesSpec { hidden: vec![16], epochs: 2, train_digits: Some(640), ..schemes_spec() };
    let s = SchemeRuns::new(&d, spec.clone(), &Cpu).unwrap();
    assert!(s.report().runs.iter().all(|r| r.total_steps == 2 * 640 / 64), "{:?}", s.report().runs[0].total_steps);
    let all = SchemeRuns::new(&d, SchemesSpec { train_digits: None, ..spec.clone() }, &Cpu).unwrap();
    assert_eq!(all.report().runs[0].total_steps, 2 * d.train.len().div_ceil(64), "absent: every training digit");
    let err = SchemeRuns::new(&d, SchemesSpec { train_digits: Some(10), ..spec }, &Cpu).err().expect("10 digits is refused").to_string();
    assert!(err.contains("training digits: 10 is fewer than one batch"), "{err}");
}

/// The "Your turn" cell's defaults, on two hidden layers of 64 (as the page test does).
fn custom_spec(mine: Start) -> CustomSpec {
    let html = page::html();
    CustomSpec {
        hidden: vec![64, 64],
        activation: "relu".into(),
        seed: 1,
        lr: page::number_of(&html, "custom-lr"),
        epochs: page::number_of(&html, "custom-epochs"),
        train_digits: Some(page::number_of(&html, "custom-n")),
        mine,
        compare: "kaiming_uniform".into(),
    }
}

#[test]
fn trained_weights_round_trip_through_a_file() {
    let d = data(1);
    let html = page::html();
    let (a, b): (f64, f64) = (page::number_of(&html, "custom-a"), page::number_of(&html, "custom-b"));
    let mine = Start::Init { label: format!("your U({a}, {b})"), init: json!({ "scheme": "uniform", "a": a, "b": b }) };
    let mut c = CustomRuns::new(&d, custom_spec(mine), &Cpu).unwrap();
    let clock = SystemClock::default();
    while c.run_for(50.0, &clock).unwrap() {}
    let r = c.report();
    assert_eq!((r.status, r.runs[0].label.as_str(), r.runs[1].label.as_str()), ("finished", "your U(-0.1, 0.1)", "He uniform"));
    assert!(r.runs.iter().all(|x| x.val_error.unwrap() < 0.5), "both starts train in an epoch");
    assert_eq!(r.runs[0].sizes, [784, 64, 64, 10]);

    let file = mnist_weights(&c.weights_json(0).unwrap()).unwrap();
    let trained = c.runs().get(0).model().parameters().to_vec();
    assert_eq!(file.parameters, trained, "the file holds the trained parameters, bit for bit");
    let again = CustomRuns::new(&d, custom_spec(Start::Weights { label: "weights from w.json".into(), parameters: file.parameters }), &Cpu).unwrap();
    assert_eq!(again.runs().get(0).model().parameters(), &trained[..], "and a run started from the file starts there");
    assert_eq!(again.report().runs[0].label, "weights from w.json");
}

#[test]
fn custom_starts_are_checked() {
    let d = data(1);
    // (start, compare, hidden, part of the message, reason)
    let rows = [
        (Start::scheme("default", 1.0, 1.0), "he", vec![64], "unknown init scheme \"he\"", "the comparison must be a built-in scheme"),
        (Start::Weights { label: "w".into(), parameters: vec![0.0; 10] }, "default", vec![64], "parameters", "a file for another network"),
        (Start::scheme("default", 1.0, 1.0), "default", vec![], "give at least one hidden layer", "no hidden layer"),
        (
            Start::Init { label: "mine".into(), init: json!({ "scheme": "uniform", "a": 1, "b": -1 }) },
            "default",
            vec![64],
            "Invalid uniform bounds: a=1 > b=-1",
            "the init's own check",
        ),
    ];
    for (mine, compare, hidden, want, why) in rows {
        let spec = CustomSpec { compare: compare.into(), hidden, ..custom_spec(mine) };
        let err = CustomRuns::new(&d, spec, &Cpu).err().unwrap_or_else(|| panic!("{why}: accepted"));
        assert!(err.message().contains(want), "{why}: {}", err.message());
    }
}
