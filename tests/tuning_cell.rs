//! `lab::tuning`: grid, random and Bayesian search with one budget, on the synthetic objective
//! over many seeds (the section's lesson) and on a real training objective driven as the page
//! drives the pool.

#[path = "common/clusters.rs"]
mod clusters;
#[path = "common/pooled.rs"]
mod pooled;

use descent::lab::job::Sets;
use descent::lab::tuning::{Axis, Method, Objective, Tuning, TuningSpec};
use descent::lab::{Data, RunSpec, SystemClock};
use descent::plot::{Body, Chart, Mark};
use std::sync::Arc;

fn run() -> RunSpec {
    RunSpec { hidden: vec![8], seed: 5, optimizer: "adam".into(), batch_size: 16, epochs: 2, ..RunSpec::default() }
}

fn spec(objective: Objective) -> TuningSpec {
    serde_json::from_value(serde_json::json!({ "objective": objective, "run": run(), "n": 200, "validation": 80 })).unwrap()
}

fn synthetic(seed: u64, seeds: usize) -> Tuning {
    let mut s = spec(Objective::Synthetic);
    s.run.seed = seed;
    s.seeds = seeds;
    let mut t = Tuning::new(s, 0, 0, 12, 4).unwrap();
    let clock = SystemClock::default();
    while t.run_for(50.0, &clock).unwrap() {}
    t
}

fn points(chart: &Chart) -> Vec<(f64, f64, Mark)> {
    match &chart.body {
        Body::Field { points, values, nx, ny, .. } => {
            assert_eq!(values.len(), nx * ny);
            points.iter().map(|p| (p.x, p.y, p.mark)).collect()
        }
        other => panic!("not a field: {other:?}"),
    }
}

/// The lesson on the cell's own code, as the student sees it: over 20 seeds of 16 trials on
/// the synthetic objective, Bayesian optimization's median best is below random search's, and
/// random's below the grid's; the grid tried 4 values of the important axis, random 16.
#[test]
fn on_the_synthetic_objective_bayes_beats_random_beats_grid() {
    let t = synthetic(0, 20);
    let r = t.report();
    assert_eq!(r.status, "finished");
    assert_eq!((r.progress.done, r.progress.total), (3 * 16 * 20, 3 * 16 * 20));
    let median = |m: Method| r.methods.iter().find(|x| x.method == m).unwrap().median_best.unwrap();
    let (g, rs, b) = (median(Method::Grid), median(Method::Random), median(Method::Bayes));
    eprintln!("median best over 20 seeds: grid {g:.4}, random {rs:.4}, Bayesian {b:.4}");
    assert!(b < rs && rs < g, "grid {g}, random {rs}, Bayesian {b}");
    let distinct = |m: Method| r.methods.iter().find(|x| x.method == m).unwrap().distinct.clone();
    assert_eq!(distinct(Method::Grid), vec![4, 4]);
    assert_eq!(distinct(Method::Random), vec![16, 16]);
    // every map shows its 16 trials, the best as a star; the best-so-far chart falls
    for name in ["grid", "random", "bayes"] {
        let p = points(&t.chart(name).unwrap());
        assert_eq!(p.len(), 16, "{name}");
        assert_eq!(p.iter().filter(|x| x.2 == Mark::Star).count(), 1, "{name}");
    }
    let best = t.chart("best").unwrap();
    for s in best.series().iter().take(3) {
        assert_eq!(s.points.len(), 16, "{}", s.name);
        assert!(s.points.windows(2).all(|w| w[1].1 <= w[0].1), "best so far never rises: {}", s.name);
    }
    let Body::Lines { bands, .. } = &best.body else { panic!() };
    assert_eq!(bands.len(), 3, "a middle-half band per method");
}

#[test]
fn a_seed_replays_the_whole_comparison() {
    let (a, b, c) = (synthetic(3, 2), synthetic(3, 2), synthetic(4, 2));
    assert_eq!(a.trials_csv(), b.trials_csv());
    assert_ne!(a.trials_csv(), c.trials_csv());
    let csv = a.trials_csv();
    assert!(csv.starts_with("seed,method,trial,important,unimportant,objective,status\n0,grid,1,"), "{}", &csv[..120]);
    assert_eq!(csv.lines().count(), 1 + 2 * 3 * 16, "one row per trial");
}

/// The inspector rebuilds the model that chose each proposal: its slice runs through the
/// trial it chose (marked), the acquisition's maximum on that slice is there, and its maps
/// carry the results it knew and the chosen trial as a cross.
#[test]
fn the_inspector_shows_the_model_behind_each_trial() {
    let mut t = synthetic(1, 1);
    let r = t.report();
    let model = r.model.expect("a model after the initial trials");
    assert_eq!((model.proposals, model.proposal, model.trial), (11, 10, 16), "5 initial trials, then 11 proposals");
    t.inspect(Some(6), 0).unwrap();
    let first = t.report().model.unwrap();
    assert_eq!((first.trial, first.observed, first.pending), (6, 5, 0));
    let trial6 = &t.searches(0)[2].trials[5];
    let slice = t.chart("slice").unwrap();
    let Body::Lines { marks, bands, .. } = &slice.body else { panic!() };
    assert_eq!(marks[0], (trial6.unit[0], "trial 6".to_string()), "the important axis is linear on [0, 1]: x is the unit coordinate");
    assert_eq!(bands.len(), 1);
    assert_eq!(slice.series()[1].points.len(), 5, "the five results it knew");
    let acq = t.chart("acquisition").unwrap();
    let Body::Lines { marks, .. } = &acq.body else { panic!() };
    assert_eq!(marks.len(), 1, "the slice's maximum is the chosen trial: {marks:?}");
    let map = points(&t.chart("acquisition-map").unwrap());
    assert_eq!(map.len(), 6);
    assert_eq!(map[5], (trial6.unit[0], trial6.unit[1], Mark::Cross));
    t.inspect(Some(99), 1).unwrap();
    assert_eq!(t.report().model.unwrap().proposal, 10, "past the last: the latest");
    t.inspect(Some(2), 1).unwrap();
    let m = t.report().model.unwrap();
    assert_eq!((m.proposal, m.trial, m.first_trial, m.last_trial), (0, 6, 6, 16), "a trial of the design: the first model");
    assert!(t.inspect(None, 2).unwrap_err().to_string().contains("axis 2"));
    assert!(t.chart("pie").unwrap_err().to_string().contains("no chart \"pie\""));
}

fn sets() -> Sets {
    Sets { train: clusters::clusters(240, 1, 0.9), validation: clusters::clusters(80, 2, 0.9), test: clusters::clusters(40, 3, 0.9) }
}

/// On a real training objective through the pool's protocol: at most `parallel` trials out
/// at once; each trial is the spec's run with the searched values set, and its objective is
/// that run's last validation error, the same as training it alone.
#[test]
fn mnist_trials_are_runs_with_the_values_set() {
    let sets = sets();
    let mut s = spec(Objective::Mnist);
    s.budget = 6;
    s.initial = 3;
    s.parallel = 2;
    s.axes = [Axis::LearningRate, Axis::Width];
    let mut t = Tuning::new(s.clone(), 240, 80, 12, 4).unwrap();
    let first = t.jobs();
    assert_eq!(first.len(), 2, "two trials out at once");
    assert!(t.jobs().is_empty(), "no more until one ends");
    let job = &first[1];
    let values = &t.searches(0)[1].trials[0].values;
    assert_eq!(job.spec.options["lr"].as_f64(), values[0].as_f64(), "random's first trial sets lr");
    assert_eq!(job.spec.hidden, vec![values[1].as_f64().unwrap() as usize]);
    // run them all, two at a time
    let mut t = Tuning::new(s.clone(), 240, 80, 12, 4).unwrap();
    pooled::run_all(&mut t, &sets);
    let r = t.report();
    assert_eq!(r.status, "finished");
    assert_eq!(r.trials.len(), 6 + 6 + 6);
    assert!(r.trials.iter().all(|x| x.status == "finished" && x.y.is_some() || x.status == "diverged" && x.y == Some(1.0)), "{:?}", r.trials);
    assert!(r.trials.iter().any(|x| x.status == "diverged"), "a learning rate near 0.3 diverges here, and counts as an error of 1");
    let bayes = t.searches(0)[2].bayes().unwrap();
    assert_eq!(bayes.proposals().len(), 3, "3 initial trials, 3 from the model");
    // one trial retrained alone gives its objective
    let trial = &t.searches(0)[2].trials[4];
    let mut alone = s.run.clone();
    for (axis, v) in s.axes.iter().zip(&trial.values) {
        axis.apply(&mut alone, v).unwrap();
    }
    let data = Data {
        train: Arc::new(sets.train.select(&(0..200).collect::<Vec<_>>())),
        validation: Arc::new(sets.validation.select(&(0..80).collect::<Vec<_>>())),
    };
    let mut trainer = alone.build(&data, None).unwrap();
    trainer.run().unwrap();
    assert_eq!(trial.y, Some(trainer.history().epochs.last().unwrap().val_error as f64));
    // the maps have a model behind them once results are in; Stop ends the search
    assert!(r.map_length_scales.is_some());
    let mut t = Tuning::new(s, 240, 80, 12, 4).unwrap();
    let _ = t.jobs();
    t.stop();
    assert!(t.jobs().is_empty());
    let r = t.report();
    assert_eq!(r.status, "stopped");
    assert!(!t.active());
}

#[test]
fn bad_settings_are_refused_by_name() {
    let bad = |patch: serde_json::Value| {
        let mut v = serde_json::to_value(spec(Objective::Mnist)).unwrap();
        for (k, x) in patch.as_object().unwrap() {
            v[k] = x.clone();
        }
        match serde_json::from_value::<TuningSpec>(v) {
            Ok(s) => Tuning::new(s, 240, 80, 12, 4).err().map(|e| e.to_string()).unwrap_or_default(),
            Err(e) => e.to_string(),
        }
    };
    assert!(bad(serde_json::json!({ "budget": 1 })).contains("a budget of 1 trials: use 2 to 64"));
    assert!(bad(serde_json::json!({ "axes": ["l2", "l2"] })).contains("two different hyperparameters"));
    assert!(bad(serde_json::json!({ "axes": ["lr", "l2"] })).contains("unknown variant `lr`"));
    assert!(bad(serde_json::json!({ "methods": [] })).contains("no search method"));
    assert!(bad(serde_json::json!({ "methods": ["grid", "grid"] })).contains("grid search is listed twice"));
    assert!(bad(serde_json::json!({ "n": 5000 })).contains("5000 training digits: use 10 to 240"));
    assert!(bad(serde_json::json!({ "xi": -1 })).contains("ξ = -1"));
    assert!(bad(serde_json::json!({ "initial": 16 })).contains("16 initial trials"));
    assert!(bad(serde_json::json!({ "parallel": 0 })).contains("0 trials at once"));
    assert!(bad(serde_json::json!({ "objective": "synthetic", "seeds": 0 })).contains("0 seeds"));
}

/// "Next trial": step by step, Bayesian optimization runs its initial design and waits; each
/// step lets it run exactly one more trial (a second step before that trial has run is
/// refused), after which the inspector's latest model is the one that chose it — a new slice
/// each time. Grid and random search do not wait. `run_on` goes on to the budget, and the
/// trials are the same as those of a search that never paused.
#[test]
fn next_trial_runs_exactly_one_more_bayes_trial() {
    let mut s = spec(Objective::Synthetic);
    (s.seeds, s.budget, s.step) = (2, 12, true);
    let mut t = Tuning::new(s.clone(), 0, 0, 12, 4).unwrap();
    let clock = SystemClock::default();
    let bayes = |t: &Tuning, seed: usize| t.searches(seed)[2].trials.len();
    assert!(t.run_for(1e9, &clock).unwrap(), "still active while it waits");
    let r = t.report();
    assert!(r.stepping && r.waiting);
    assert_eq!(r.status, "running");
    assert_eq!((t.searches(0)[0].trials.len(), t.searches(0)[1].trials.len(), bayes(&t, 0), bayes(&t, 1)), (12, 12, 5, 5));
    assert!(r.model.is_none(), "no model proposal before the first step");
    let mut slices = Vec::new();
    for k in 1..=3 {
        assert!(t.step_bayes(), "step {k}");
        assert!(!t.step_bayes(), "step {k}: a second click before the trial has run adds nothing");
        assert!(!t.report().waiting);
        t.run_for(1e9, &clock).unwrap();
        assert_eq!((bayes(&t, 0), bayes(&t, 1)), (5 + k, 5 + k), "step {k}: one more trial in every seed");
        let m = t.report().model.unwrap();
        assert_eq!((m.proposals, m.trial, m.observed), (k, 5 + k, 4 + k), "step {k}: the latest model chose the new trial");
        assert!(t.searches(0)[2].trials.iter().all(|x| x.ended && x.y.is_some()));
        assert!(t.report().waiting);
        slices.push(format!("{:?}", t.chart("slice").unwrap()));
    }
    assert!(slices[0] != slices[1] && slices[1] != slices[2], "each step draws a new model");
    t.run_on();
    while t.run_for(1e9, &clock).unwrap() {}
    let r = t.report();
    assert_eq!((r.status, r.stepping, r.waiting, bayes(&t, 0)), ("finished", false, false, 12));
    assert!(!t.step_bayes(), "nothing to step once the budget is spent");
    s.step = false;
    let mut free = Tuning::new(s, 0, 0, 12, 4).unwrap();
    while free.run_for(1e9, &clock).unwrap() {}
    assert_eq!(free.trials_csv(), t.trials_csv(), "stepping changes when trials run, not which");
}

/// The same step on MNIST trials: the step is a job for the pool, handed out by `jobs`, and
/// nothing more is handed out until the next step.
#[test]
fn next_trial_on_mnist_is_one_more_job() {
    let sets = sets();
    let mut s = spec(Objective::Mnist);
    (s.budget, s.initial, s.parallel, s.step) = (5, 2, 2, true);
    s.methods = vec![Method::Bayes];
    let mut t = Tuning::new(s, 240, 80, 12, 4).unwrap();
    pooled::run_all(&mut t, &sets);
    assert_eq!(t.searches(0)[0].trials.len(), 2, "the initial design, then it waits");
    assert!(t.report().waiting && t.jobs().is_empty());
    let mut first = 2;
    for k in 1..=2 {
        assert!(t.step_bayes());
        let jobs = t.jobs();
        assert_eq!(jobs.len(), 1, "step {k}: exactly one trial");
        first += pooled::run_batch(&mut t, &sets, jobs, first);
        assert!(t.jobs().is_empty());
        let m = t.report().model.unwrap();
        assert_eq!((m.proposals, m.trial, m.observed), (k, 2 + k, 1 + k));
    }
    t.run_on();
    let jobs = t.jobs();
    assert_eq!(jobs.len(), 1, "the last of the budget");
    pooled::run_batch(&mut t, &sets, jobs, first);
    assert_eq!(t.report().status, "finished");
}

/// With many workers Bayesian optimization keeps a batch out: 12 workers over three methods
/// give it q = 4. Once its 4 initial trials are in, the next round hands it 4 model proposals
/// at once (grid and random take the other 8 workers); each was chosen with the earlier ones
/// pending and lied about with the worst error so far (the constant liar), and they are spread
/// apart, not one point of maximum expected improvement four times over.
#[test]
fn many_workers_give_bayes_a_spread_out_batch_of_lied_about_trials() {
    let sets = sets();
    let mut s = spec(Objective::Mnist);
    (s.budget, s.initial, s.parallel) = (8, 4, 12);
    s.axes = [Axis::LearningRate, Axis::L2];
    let mut t = Tuning::new(s, 240, 80, 12, 4).unwrap();
    assert_eq!(t.report().bayes_batch, 4);
    let round = t.jobs();
    assert_eq!(round.len(), 12);
    let n = pooled::run_batch(&mut t, &sets, round, 0);
    let round = t.jobs();
    assert_eq!(round.len(), 12, "every worker busy again");
    let r = t.report();
    let out = |m: Method| r.trials.iter().filter(|x| x.method == m && x.y.is_none()).count();
    assert_eq!((out(Method::Grid), out(Method::Random), out(Method::Bayes)), (4, 4, 4));
    let search = &t.searches(0)[2];
    let bayes = search.bayes().unwrap();
    assert_eq!(bayes.pending().len(), 4, "four trials out at once");
    let batch = bayes.proposals();
    assert_eq!(batch.len(), 4);
    for (i, p) in batch.iter().enumerate() {
        assert_eq!(p.observed, 4, "proposal {i}: made before any of the batch came back");
        assert_eq!(p.pending, batch[..i].iter().map(|b| b.unit.clone()).collect::<Vec<_>>(), "proposal {i}: the earlier ones pending");
    }
    // the model the last one was chosen on believes the lie at the pending trials
    let worst = bayes.observations().iter().map(|o| o.y).fold(f64::NEG_INFINITY, f64::max);
    let model = bayes.proposal_model(3).unwrap();
    for p in &batch[..3] {
        let (m, sd) = model.predict_point(&p.unit).unwrap();
        assert!((m - worst).abs() < 0.05 * worst.max(0.01) + 2.0 * sd, "the lie {worst} at a pending trial, the model says {m} ± {sd}");
    }
    // spread: no two of the batch are near-duplicate settings. Without the lies every proposal
    // would sit at the edge of the rule that only forbids repeating a pending trial (about 0.11
    // length-scales, here 0.06 of the learning rate's range, all four on the same edge of λ)
    let mut closest = f64::INFINITY;
    for i in 0..4 {
        for j in 0..i {
            let d2: f64 = (0..2).map(|d| (batch[i].unit[d] - batch[j].unit[d]).powi(2)).sum();
            closest = closest.min(d2.sqrt());
        }
    }
    let units: Vec<&Vec<f64>> = batch.iter().map(|b| &b.unit).collect();
    assert!(closest > 0.1, "the closest two of the batch are {closest} apart (in the unit square): {units:?}");
    // one of them coming back frees a worker for the next: still at most 4 out
    pooled::run_batch(&mut t, &sets, round, n);
    assert!(t.searches(0)[2].out() == 0 && t.searches(0)[2].trials.len() == 8);
}
