//! `lab::job`: what the worker pool runs. A job in a group gives the run its spec gives on its
//! own, bit for bit; its updates add up to its history; a job that cannot be built fails alone.

#[path = "common/clusters.rs"]
mod clusters;

use descent::lab::job::{Job, Jobs, Sets};
use descent::lab::{Clock, Data, RunSpec};
use serde_json::json;
use std::cell::Cell;

/// A clock that moves on by a millisecond each time it is read.
struct StepClock(Cell<f64>);

impl Clock for StepClock {
    fn now_ms(&self) -> f64 {
        self.0.set(self.0.get() + 1.0);
        self.0.get()
    }
}

fn sets() -> Sets {
    Sets { train: clusters::clusters(96, 1, 0.8), validation: clusters::clusters(40, 2, 0.8), test: clusters::clusters(40, 3, 0.8) }
}

fn job(v: serde_json::Value) -> descent::Result<Job> {
    Job::from_json(&v)
}

fn spec(seed: u64) -> serde_json::Value {
    json!({ "hidden": [6], "seed": seed, "optimizer": "adam", "options": { "lr": 0.02 }, "batchSize": 16, "epochs": 3 })
}

/// Run a group to its end in slices of `ms`.
fn finish(jobs: &mut Jobs, ms: f64) {
    let clock = StepClock(Cell::new(0.0));
    let mut calls = 0;
    while jobs.run_for(ms, &clock).unwrap() {
        calls += 1;
        assert!(calls < 100_000, "the group never finished");
    }
}

#[test]
fn a_job_in_a_group_is_the_run_its_spec_gives_alone() {
    let sets = sets();
    let mut jobs = Jobs::new(&sets, vec![job(json!({ "spec": spec(4) })), job(json!({ "spec": spec(5) }))]);
    finish(&mut jobs, 3.0);
    for (i, seed) in [(0, 4), (1, 5)] {
        let alone = RunSpec::from_json(&spec(seed))
            .unwrap()
            .build(&Data { train: sets.train.clone(), validation: sets.validation.clone() }, None)
            .unwrap()
            .run()
            .unwrap()
            .clone();
        let r = jobs.result(i);
        assert_eq!(r.status, "finished");
        assert_eq!(r.history.step_loss, alone.step_loss, "job {i}: the same losses, step by step");
        assert_eq!(r.history.epochs, alone.epochs, "job {i}: the same epochs");
        assert_eq!((r.steps, r.total_steps), (18, 18));
    }
    assert_ne!(jobs.result(0).history.step_loss, jobs.result(1).history.step_loss, "the seeds differ");
}

#[test]
fn updates_add_up_to_the_history() {
    let sets = sets();
    let mut jobs = Jobs::new(&sets, vec![job(json!({ "spec": spec(4), "test": true }))]);
    let clock = StepClock(Cell::new(0.0));
    let (mut losses, mut epochs, mut checks, mut updates) = (Vec::new(), Vec::new(), Vec::new(), 0);
    loop {
        let active = jobs.run_for(2.0, &clock).unwrap();
        let u = jobs.update(0);
        if !u.is_empty() {
            updates += 1;
        }
        losses.extend(u.step_loss);
        epochs.extend(u.epochs);
        checks.extend(u.checks);
        if !active {
            break;
        }
    }
    assert!(jobs.update(0).is_empty(), "nothing new after the end");
    let r = jobs.result(0);
    assert!(updates > 3, "the run was reported as it went ({updates} updates)");
    assert_eq!((losses, epochs, checks), (r.history.step_loss.clone(), r.history.epochs.clone(), r.history.checks.clone()));
    let mut model = jobs.trainer(0).unwrap().model().clone();
    let (loss, error) = model.evaluate(&sets.test.x, &sets.test.labels).unwrap();
    let score = r.test.expect("the test score");
    assert_eq!((score.loss, score.error), (loss, error), "scored on the test set with the final model");
}

#[test]
fn indices_and_a_label_map_pick_the_examples() {
    let sets = sets();
    let fold: Vec<u32> = (0..96).filter(|i| i % 3 != 0).collect();
    let held: Vec<u32> = (0..96).filter(|i| i % 3 == 0).collect();
    let mut jobs = Jobs::new(
        &sets,
        vec![
            job(json!({ "spec": spec(4), "train": { "indices": fold }, "validation": { "from": "train", "indices": held }, "keepParameters": true })),
            job(json!({ "spec": spec(4), "labelMap": [null, 0, 1, null] })),
        ],
    );
    finish(&mut jobs, 5.0);
    let r = jobs.result(0);
    assert_eq!((r.train_size, r.validation_size), (64, 32));
    let idx: Vec<usize> = fold.iter().map(|&i| i as usize).collect();
    let held_idx: Vec<usize> = held.iter().map(|&i| i as usize).collect();
    let data = Data { train: sets.train.select(&idx).into(), validation: sets.train.select(&held_idx).into() };
    let mut alone = RunSpec::from_json(&spec(4)).unwrap().build(&data, None).unwrap();
    alone.run().unwrap();
    assert_eq!(r.history.epochs, alone.history().epochs, "trained on the fold, validated on the held-out part");
    assert_eq!(jobs.parameters(0).unwrap(), alone.model().parameters(), "the trained parameters come back");

    let relabelled = jobs.result(1);
    assert_eq!((relabelled.train_size, relabelled.validation_size), (48, 20), "digits 0 and 3 dropped");
    assert_eq!(jobs.trainer(1).unwrap().model().spec().sizes.last(), Some(&2), "two classes left");
    assert!(jobs.parameters(1).is_none(), "parameters only when asked for");
}

#[test]
fn a_job_that_cannot_be_built_fails_alone() {
    let sets = sets();
    let rows = [
        (json!({ "spec": { "hidden": [0] } }), "hidden layer 1 has 0 units"),
        (json!({ "spec": { "hidden": [4], "lr": 1 } }), "unknown field `lr`"),
        (json!({ "spec": { "hidden": [4] }, "train": { "indices": [0, 96] } }), "training index 96 is out of range"),
        (json!({ "spec": { "hidden": [4] }, "validation": { "indices": [] } }), "validation examples are an empty list"),
        (json!({ "spec": { "hidden": [4] }, "train": { "from": "everything" } }), "unknown variant `everything`"),
        (json!({ "spec": { "hidden": [4] }, "labelMap": [0, 1] }), "labelMap has 2 entries"),
        (json!({ "spec": { "hidden": [4] }, "labelMap": [0, null, null, null] }), "fewer than two classes"),
        (json!({ "hidden": [4] }), "unknown field `hidden`"),
    ];
    let mut list: Vec<_> = rows.iter().map(|(v, _)| job(v.clone())).collect();
    list.push(job(json!({ "spec": spec(4) })));
    let mut jobs = Jobs::new(&sets, list);
    finish(&mut jobs, 5.0);
    for (i, (v, want)) in rows.iter().enumerate() {
        let r = jobs.result(i);
        assert_eq!(r.status, "error", "{v}");
        let message = r.message.unwrap();
        assert!(message.contains(want), "{v}: {message}");
    }
    assert_eq!(jobs.result(rows.len()).status, "finished", "the good job went on");
}

#[test]
fn a_stopped_job_keeps_its_record_and_the_others_go_on() {
    let sets = sets();
    let mut jobs = Jobs::new(&sets, vec![job(json!({ "spec": spec(4) })), job(json!({ "spec": spec(5) }))]);
    let clock = StepClock(Cell::new(0.0));
    jobs.run_for(4.0, &clock).unwrap();
    jobs.stop(0, "stopped");
    finish(&mut jobs, 5.0);
    let (a, b) = (jobs.result(0), jobs.result(1));
    assert_eq!((a.status, b.status), ("stopped", "finished"));
    assert!(a.steps > 0 && a.steps < a.total_steps, "stopped part-way ({} of {})", a.steps, a.total_steps);
    assert_eq!(a.history.step_loss.len(), a.steps);
}
