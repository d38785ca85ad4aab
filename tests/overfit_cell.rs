//! `lab::overfit`: the error-by-epoch folds, the width and size sweeps and the test-set reuse,
//! run as the pool would run them; each point is the folds' spread of runs trained alone.

#[path = "common/clusters.rs"]
mod clusters;
#[path = "common/pooled.rs"]
mod pooled;

use descent::data::folds::Folds;
use descent::lab::job::Sets;
use descent::lab::overfit::{Overfit, OverfitSpec};
use descent::lab::{Data, RunSpec};
use descent::plot::{Body, Chart};
use std::sync::Arc;

fn sets() -> Sets {
    Sets { train: clusters::clusters(120, 1, 1.2), validation: clusters::clusters(40, 2, 1.2), test: clusters::clusters(60, 3, 1.2) }
}

fn spec() -> OverfitSpec {
    let run = RunSpec {
        hidden: vec![32],
        seed: 5,
        optimizer: "adam".into(),
        options: serde_json::json!({ "lr": 0.03 }),
        batch_size: 16,
        epochs: 12,
        ..RunSpec::default()
    };
    OverfitSpec { run, n: 90, k: 3, widths: vec![2, 8, 32], fractions: vec![0.25, 1.0], sweep_epochs: 5, reuse: true }
}

#[test]
fn every_sweep_point_is_its_folds_trained_alone() {
    let sets = sets();
    let mut o = Overfit::new(&sets.train, &sets.test, spec()).unwrap();
    pooled::run_all(&mut o, &sets);
    let r = o.report();
    assert_eq!((r.jobs, r.ended, r.status), (3 + 9 + 6 + 3, 21, "finished"), "3 curve folds, 3 widths and 2 sizes × 3 folds, 3 reuse runs");
    // the width-8 point by hand
    let folds = Folds::stratified(&sets.train.labels[..90], 3, 5).unwrap();
    let errors: Vec<f64> = (0..3)
        .map(|i| {
            let (t, v) = folds.fold(i);
            let data = Data { train: Arc::new(sets.train.select(&t)), validation: Arc::new(sets.train.select(&v)) };
            let spec = RunSpec { hidden: vec![8], epochs: 5, ..spec().run };
            let mut run = spec.build(&data, None).unwrap();
            run.run().unwrap();
            run.history().epochs.last().unwrap().val_error as f64
        })
        .collect();
    let point = r.widths[1].val_error.unwrap();
    assert_eq!(r.widths[1].x, 8.0);
    assert!((point.mean - errors.iter().sum::<f64>() / 3.0).abs() < 1e-12, "the point is the folds' mean");
    assert_eq!(r.sizes.iter().map(|p| p.x).collect::<Vec<_>>(), [15.0, 60.0], "a quarter and all of a fold's 60 training digits");
    let reuse = r.reuse.expect("the reuse verdict");
    let (width, a, b) = reuse.by_test.expect("a width chosen by test half A");
    let i = spec().widths.iter().position(|&w| w == width).unwrap();
    assert_eq!((reuse.a[i], reuse.b[i]), (Some(a), Some(b)));
    assert!(reuse.a.iter().flatten().all(|&x| x >= a), "chosen as the lowest on half A");
    assert_eq!(reuse.optimism, Some(a - b));
    assert_eq!(reuse.by_validation.map(|v| v.0), r.best_width, "chosen by the cross-validated error");
    let (lo, hi) = r.onset_range.expect("an onset range");
    assert!(lo <= hi && hi <= 12);
    assert!(r.onset.is_some());
}

#[test]
fn charts_and_bad_settings() {
    let sets = sets();
    let mut o = Overfit::new(&sets.train, &sets.test, spec()).unwrap();
    pooled::run_all(&mut o, &sets);
    for name in ["real", "idealized", "widths", "sizes"] {
        let Chart { body: Body::Lines { series, .. }, .. } = o.chart(name).unwrap() else { panic!("{name} is a line chart") };
        assert!(series.iter().any(|s| !s.points.is_empty()), "{name} has data");
    }
    let Chart { body: Body::Lines { marks, bands, .. }, .. } = o.chart("idealized").unwrap() else { unreachable!() };
    assert_eq!(marks.len(), 1, "the onset is marked");
    assert_eq!(bands.len(), 1, "and its range shaded");
    assert!(o.chart("nope").is_err());
    let rows = [
        (OverfitSpec { k: 1, ..spec() }, "k = 1 folds"),
        (OverfitSpec { widths: vec![], ..spec() }, "1 to 10 widths"),
        (OverfitSpec { fractions: vec![0.0], ..spec() }, "fraction of 0"),
        (OverfitSpec { fractions: vec![1.5], ..spec() }, "fraction of 1.5"),
        (OverfitSpec { widths: vec![5000], ..spec() }, "5000 units"),
        (OverfitSpec { n: 20, ..spec() }, "too few for 3 folds"),
    ];
    for (s, want) in rows {
        let err = Overfit::new(&sets.train, &sets.test, s).err().expect("refused");
        assert!(err.message().contains(want), "{}", err.message());
    }
}
