//! `lab::schedule::Runs`, the one scheduler, driven natively with a step clock (every reading
//! of the time moves it on by a fixed amount) and with engines that behave like the GPU's.

#[path = "common/delayed.rs"]
mod delayed;

#[path = "common/clusters.rs"]
mod clusters;

use delayed::Delayed;
use descent::data::Dataset;
use descent::lab::{Clock, Runs};
use descent::nn::{Activation, Mlp, MlpSpec};
use descent::train::{CpuEngine, Engine, Status, TrainConfig, Trainer};
use std::cell::Cell;
use std::sync::Arc;

/// A clock that moves on by `tick` milliseconds each time it is read.
struct StepClock {
    now: Cell<f64>,
    tick: f64,
}

impl StepClock {
    fn new(tick: f64) -> StepClock {
        StepClock { now: Cell::new(0.0), tick }
    }
}

impl Clock for StepClock {
    fn now_ms(&self) -> f64 {
        let t = self.now.get();
        self.now.set(t + self.tick);
        t
    }
}

fn data(n: usize, seed: u64) -> Arc<Dataset> {
    clusters::clusters(n, seed, 0.5)
}

fn cpu() -> CpuEngine {
    let model = Mlp::new(MlpSpec::new(&[12, 16, 4], Activation::Relu), 3).unwrap();
    CpuEngine::new(model, descent::optim::build("adam", &serde_json::json!({ "lr": 0.01 })).unwrap())
}

/// 200 examples in batches of 20: 10 steps an epoch, 3 epochs, validation checked twice an epoch.
fn trainer(engine: Box<dyn Engine>) -> Trainer {
    let cfg = TrainConfig { batch_size: 20, epochs: 3, seed: 5, checks_per_epoch: 2, ..TrainConfig::default() };
    Trainer::with_engine(engine, data(200, 1), data(60, 2), cfg).unwrap()
}

/// Call `run_for` until the runs end; the number of calls.
fn drive(runs: &mut Runs, budget: f64, clock: &StepClock, mut after_each: impl FnMut(&Runs)) -> usize {
    for calls in 1..100_000 {
        let more = runs.run_for(budget, clock).unwrap();
        after_each(runs);
        if !more {
            return calls;
        }
    }
    panic!("the runs never ended");
}

#[test]
fn the_run_furthest_behind_goes_next() {
    let mut runs = Runs::new((0..3).map(|_| trainer(Box::new(cpu()))).collect());
    let clock = StepClock::new(1.0);
    drive(&mut runs, 5.0, &clock, |r| {
        let steps: Vec<usize> = r.iter().map(|t| t.steps()).collect();
        let (lo, hi) = (steps.iter().min().unwrap(), steps.iter().max().unwrap());
        assert!(hi - lo <= 1, "the runs stay within one step of each other: {steps:?}");
    });
    for t in runs.iter() {
        assert_eq!(*t.status(), Status::Finished);
        assert_eq!(t.history().checks.len(), 6, "two checks an epoch");
    }
    // the same seed in every run, so the same record
    assert_eq!(runs.get(0).history().step_loss, runs.get(2).history().step_loss);
}

#[test]
fn a_call_keeps_to_its_budget_and_takes_at_most_one_epoch_end() {
    let mut runs = Runs::new((0..3).map(|_| trainer(Box::new(cpu()))).collect());
    // every unit of work reads the clock twice (1 ms each) and the loop once more
    let clock = StepClock::new(1.0);
    let mut started_before = 0;
    let mut units_before = 0;
    drive(&mut runs, 9.0, &clock, |r| {
        // booking an epoch's last step starts its validation pass (10 steps an epoch)
        let started: usize = r.iter().map(|t| t.steps() / 10).sum();
        assert!(started - started_before <= 1, "one epoch-end evaluation started per call at most ({started_before} → {started})");
        started_before = started;
        let units = (clock.now.get() / 1.0) as usize;
        assert!(units - units_before <= 12, "a 9 ms budget on a 1 ms clock is a handful of units, not {}", units - units_before);
        units_before = units;
    });
    assert!(!runs.active());
}

#[test]
fn a_busy_engine_sits_out_the_call_instead_of_being_polled() {
    // One GPU-like run (readbacks every 4 steps, landing 3 calls later) beside two CPU runs.
    let gpu = Delayed::new(cpu(), 4, 3, None);
    let busy = gpu.busy_calls.clone();
    let mut runs = Runs::new(vec![trainer(Box::new(gpu)), trainer(Box::new(cpu())), trainer(Box::new(cpu()))]);
    // a clock that never runs out within a call: only the rules end it
    let clock = StepClock::new(0.0);
    let mut calls = 0;
    for _ in 0..100_000 {
        calls += 1;
        let polls = busy.get();
        let more = runs.run_for(f64::INFINITY, &clock).unwrap();
        // A real readback lands only between tasks, so polling a busy engine again within the
        // call would spin away the frame's budget: once told to wait, the run sits out.
        assert!(busy.get() - polls <= 1, "call {calls}: the busy engine was polled {} times", busy.get() - polls);
        if !more {
            break;
        }
    }
    assert!(!runs.active(), "ran to the end in {calls} calls");
    assert!(busy.get() >= 5, "the engine was busy often ({}), so the rule was exercised", busy.get());
    let reference = runs.get(1).history();
    let delayed = runs.get(0).history();
    assert_eq!(delayed.step_loss, reference.step_loss, "the same record on the delayed engine");
    assert_eq!(delayed.checks, reference.checks, "the same checks, at the same steps");
}

#[test]
fn stop_ends_every_run_and_progress_counts_them_done() {
    let mut runs = Runs::new((0..2).map(|_| trainer(Box::new(cpu()))).collect());
    let clock = StepClock::new(1.0);
    runs.run_for(6.0, &clock).unwrap();
    let (done, total) = runs.progress();
    assert!(done > 0 && done < total, "{done}/{total}");
    runs.stop("stopped");
    assert!(!runs.active());
    assert_eq!(runs.progress(), (total, total), "ended runs count as done");
    let steps: Vec<usize> = runs.iter().map(|t| t.steps()).collect();
    assert!(!runs.run_for(6.0, &clock).unwrap());
    assert_eq!(steps, runs.iter().map(|t| t.steps()).collect::<Vec<_>>(), "no step after Stop");
    assert!(runs.iter().all(|t| matches!(t.status(), Status::Stopped(_))));
}

#[test]
fn each_kind_of_work_is_priced_apart() {
    let cfg = |full| TrainConfig { batch_size: 20, epochs: 2, seed: 5, checks_per_epoch: 2, full_train_error: full, ..TrainConfig::default() };
    let run = |full| {
        let t = Trainer::with_engine(Box::new(cpu()), data(200, 1), data(60, 2), cfg(full)).unwrap();
        let mut runs = Runs::new(vec![t]);
        // every reading moves the clock by 1 ms: a unit costs 1 ms between its two readings
        let clock = StepClock::new(1.0);
        drive(&mut runs, 50.0, &clock, |_| {});
        runs.cost(0)
    };
    let (plain, full) = (run(false), run(true));
    // 20 steps; 4 checks of 60 examples (one chunk each); 2 passes over 200 training examples (one chunk each)
    assert_eq!(plain.steps_ms, full.steps_ms, "the same steps either way");
    assert_eq!(plain.validation_ms, 4.0, "one unit per check");
    assert_eq!(plain.train_pass_ms, 0.0, "no training pass unless asked");
    assert_eq!(full.train_pass_ms, 2.0, "one unit per epoch's training pass");
    assert!(plain.steps_ms >= 20.0, "{plain:?}");
}

#[test]
fn runs_of_different_lengths_grow_together() {
    // full batch (one step an epoch) beside mini-batches of 20 (ten steps an epoch)
    let full = TrainConfig { batch_size: 200, epochs: 3, seed: 5, ..TrainConfig::default() };
    let mini = TrainConfig { batch_size: 20, epochs: 3, seed: 5, ..TrainConfig::default() };
    let build = |cfg: TrainConfig| Trainer::with_engine(Box::new(cpu()), data(200, 1), data(60, 2), cfg).unwrap();
    let mut runs = Runs::new(vec![build(full), build(mini)]);
    let clock = StepClock::new(1.0);
    drive(&mut runs, 5.0, &clock, |r| {
        let shares: Vec<f64> = r.iter().map(|t| t.steps() as f64 / t.total_steps() as f64).collect();
        // one full-batch step is a third of its run: the runs stay within one step's share
        assert!((shares[0] - shares[1]).abs() <= 1.0 / 3.0 + 1e-9, "the runs drift apart: {shares:?}");
    });
    assert!(!runs.active());
}
