//! The trainer/engine contract (`train::engine`), checked natively with an engine that behaves
//! like the GPU one: steps finish only when a "readback" lands, that readback takes a call or
//! two to arrive, and the device can be lost with steps in flight. The trainer must keep
//! exactly the record it keeps with the plain CPU engine.

#[path = "common/clusters.rs"]
mod clusters;

use descent::data::Dataset;
use descent::nn::{Activation, Mlp, MlpSpec, Penalty};
use descent::train::{CpuEngine, Engine, History, Status, TrainConfig, Trainer};
use std::sync::Arc;

#[path = "common/delayed.rs"]
mod delayed;
use delayed::Delayed;

fn data(n: usize, seed: u64) -> Arc<Dataset> {
    clusters::clusters(n, seed, 0.5)
}

fn engine(optimizer: &str) -> CpuEngine {
    let mut spec = MlpSpec::new(&[12, 16, 4], Activation::Relu);
    spec.batch_norm = vec![true];
    let model = Mlp::new(spec, 3).unwrap();
    let opt = descent::optim::build(optimizer, &serde_json::json!({ "lr": 0.05 })).unwrap();
    CpuEngine::new(model, opt)
}

fn config() -> TrainConfig {
    TrainConfig { batch_size: 16, epochs: 3, seed: 9, penalty: Penalty::new(0.0, 1e-3), ..TrainConfig::default() }
}

fn run(e: Box<dyn Engine>, calls_limit: usize) -> (Trainer, usize) {
    let mut t = Trainer::with_engine(e, data(200, 1), data(60, 2), config()).unwrap();
    let mut waits = 0;
    for _ in 0..calls_limit {
        if *t.step().unwrap() != Status::Running {
            break;
        }
        waits += t.waiting() as usize;
    }
    (t, waits)
}

fn same_record(a: &History, b: &History) {
    assert_eq!(a.step_loss, b.step_loss, "step losses");
    assert_eq!(a.epochs.len(), b.epochs.len());
    for (x, y) in a.epochs.iter().zip(&b.epochs) {
        assert_eq!(x.step, y.step);
        assert_eq!(x.train_loss, y.train_loss);
        assert_eq!(x.val_loss, y.val_loss);
        assert_eq!(x.val_error, y.val_error);
    }
}

#[test]
fn a_delayed_engine_gives_the_same_record_as_the_cpu() {
    let (cpu, waits) = run(Box::new(engine("adam")), 100_000);
    assert_eq!(*cpu.status(), Status::Finished);
    assert_eq!(waits, 0, "the CPU never makes the trainer wait");
    assert_eq!(cpu.history().epochs.len(), 3);
    for (ring, latency) in [(1, 0), (4, 2), (5, 1), (32, 3)] {
        let (t, waits) = run(Box::new(Delayed::new(engine("adam"), ring, latency, None)), 100_000);
        assert_eq!(*t.status(), Status::Finished, "ring {ring}");
        same_record(cpu.history(), t.history());
        assert_eq!(t.model().parameters(), cpu.model().parameters(), "ring {ring}: final parameters");
        if latency > 0 {
            assert!(waits > 0, "ring {ring}: a readback in flight makes the trainer wait");
        }
    }
}

#[test]
fn steps_lost_with_the_device_are_taken_again() {
    // Plain SGD keeps no state, so rolling the parameters back is the whole rollback.
    let (cpu, _) = run(Box::new(engine("sgd")), 100_000);
    for lose_at in [3, 13, 14, 30] {
        let (t, _) = run(Box::new(Delayed::new(engine("sgd"), 4, 1, Some(lose_at))), 100_000);
        assert_eq!(*t.status(), Status::Finished, "lost at {lose_at}");
        same_record(cpu.history(), t.history());
        assert_eq!(t.model().parameters(), cpu.model().parameters(), "lost at {lose_at}");
    }
}

#[test]
fn divergence_found_late_still_stops_the_run_at_the_right_step() {
    let mk = || {
        let model = Mlp::new(MlpSpec::new(&[12, 16, 4], Activation::Relu), 3).unwrap();
        CpuEngine::new(model, descent::optim::build("sgd", &serde_json::json!({ "lr": 1e30 })).unwrap())
    };
    let (cpu, _) = run(Box::new(mk()), 1000);
    let (late, _) = run(Box::new(Delayed::new(mk(), 8, 2, None)), 1000);
    let Status::Diverged(msg) = cpu.status() else { panic!("{:?}", cpu.status()) };
    assert_eq!(late.status(), cpu.status(), "{msg}");
    assert_eq!(late.steps(), cpu.steps());
    assert_eq!(late.history().step_loss, cpu.history().step_loss);
}

/// Every step's (parameters, gradients, exp_avg), taken with `Trainer::step_to` 1, 2, 3, …
fn trace_every_step(e: Box<dyn Engine>, steps: usize) -> Vec<(Vec<f32>, Vec<f32>, Vec<f32>)> {
    let mut t = Trainer::with_engine(e, data(200, 1), data(60, 2), config()).unwrap();
    t.engine_mut().want_gradients(); // as a cell does, so later syncs bring them
    let mut out = Vec::new();
    for _ in 0..100_000 {
        if out.len() == steps {
            break;
        }
        if t.step_to(out.len() + 1).unwrap() {
            let grads = t.engine().gradients().unwrap().to_vec();
            let m = t.engine().optimizer_state("exp_avg").unwrap().to_vec();
            let params = t.engine_mut().synced_model().unwrap().unwrap().parameters().to_vec();
            out.push((params, grads, m));
        }
    }
    assert_eq!(out.len(), steps, "step_to never reached step {}", out.len() + 1);
    assert!(t.steps() == steps && *t.status() == Status::Running, "held at the last traced step");
    out
}

#[test]
fn step_to_syncs_every_step_on_a_delayed_engine() {
    // 20 steps cross the epoch end (13 batches of 16 in 200 examples) and its evaluation.
    let cpu = trace_every_step(Box::new(engine("adam")), 20);
    for (ring, latency) in [(1, 0), (4, 2), (32, 3)] {
        let delayed = trace_every_step(Box::new(Delayed::new(engine("adam"), ring, latency, None)), 20);
        for (s, (a, b)) in cpu.iter().zip(&delayed).enumerate() {
            assert_eq!(a, b, "ring {ring}, latency {latency}: step {} differs", s + 1);
        }
    }
    // each step's record differs from the last: the trace is not one state repeated
    assert!(cpu.windows(2).all(|w| w[0].0 != w[1].0 && w[0].1 != w[1].1));
}
