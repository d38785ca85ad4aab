//! [`Runs`]: several training runs advanced together, a time slice at a time — the one
//! scheduler every cell that trains uses.
//!
//! The page gives a cell a few milliseconds per animation frame. Within them `Runs` always
//! advances the active run that is furthest behind (the smallest share of its own steps
//! booked, so a full-batch run of one step an epoch keeps pace with mini-batch runs of many;
//! ties to the first),
//! one unit of work at a time — a training step, or a slice of a validation check — so the
//! curves of side-by-side runs grow together. Two rules keep frames short and the loop honest:
//!
//! 1. A step that closes an epoch starts that epoch's validation pass: such a step is only
//!    taken as the first unit of a call, so one call holds at most one epoch-end evaluation.
//! 2. A run whose engine is busy (a GPU readback in flight: [`Trainer::waiting`]) sits out the
//!    rest of the call instead of being polled in a tight loop; the call ends when every
//!    active run sits out.
//!
//! Time comes from a [`Clock`], so tests drive the scheduler with a step clock.

use crate::train::{Status, Trainer, Unit};
use crate::Result;
use serde::Serialize;

/// Milliseconds, from any fixed origin.
pub trait Clock {
    fn now_ms(&self) -> f64;
}

/// What one run's work has cost so far, by kind, in milliseconds: the price of each metric,
/// measured (the mini-batch loss and the on-the-fly training error come with the steps).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    pub steps_ms: f64,
    pub validation_ms: f64,
    pub train_pass_ms: f64,
    /// Passes over a test set, for read-outs only.
    pub test_ms: f64,
}

impl Cost {
    pub fn total_ms(&self) -> f64 {
        self.steps_ms + self.validation_ms + self.train_pass_ms + self.test_ms
    }
}

/// The runs of one experiment.
pub struct Runs {
    trainers: Vec<Trainer>,
    /// What each run's own units of work have cost.
    cost: Vec<Cost>,
}

impl Runs {
    pub fn new(trainers: Vec<Trainer>) -> Runs {
        let n = trainers.len();
        Runs { trainers, cost: vec![Cost::default(); n] }
    }

    pub fn len(&self) -> usize {
        self.trainers.len()
    }
    pub fn is_empty(&self) -> bool {
        self.trainers.is_empty()
    }
    pub fn get(&self, i: usize) -> &Trainer {
        &self.trainers[i]
    }
    pub fn get_mut(&mut self, i: usize) -> &mut Trainer {
        &mut self.trainers[i]
    }
    pub fn iter(&self) -> impl Iterator<Item = &Trainer> {
        self.trainers.iter()
    }
    /// Milliseconds run `i` has computed so far.
    pub fn compute_ms(&self, i: usize) -> f64 {
        self.cost[i].total_ms()
    }
    /// Run `i`'s cost by kind of work.
    pub fn cost(&self, i: usize) -> Cost {
        self.cost[i]
    }

    /// Whether any run still has work to do.
    pub fn active(&self) -> bool {
        self.trainers.iter().any(|t| *t.status() == Status::Running)
    }

    /// (steps done, steps in all): a run that ended early counts as done.
    pub fn progress(&self) -> (usize, usize) {
        self.trainers.iter().fold((0, 0), |(d, n), t| {
            let total = t.total_steps();
            let done = if *t.status() == Status::Running { t.steps().min(total) } else { total };
            (d + done, n + total)
        })
    }

    /// End every run that is still going.
    pub fn stop(&mut self, reason: &str) {
        for t in &mut self.trainers {
            t.stop(reason);
        }
    }

    /// Advance the runs for about `budget_ms` (at least one unit when any run can take one).
    /// Returns whether any run still has work to do.
    pub fn run_for(&mut self, budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        let start = clock.now_ms();
        let mut first = true;
        let mut sitting_out = vec![false; self.trainers.len()];
        loop {
            let share = |t: &Trainer| t.steps() as f64 / t.total_steps().max(1) as f64;
            let next = self
                .trainers
                .iter()
                .enumerate()
                .filter(|(i, t)| !sitting_out[*i] && *t.status() == Status::Running)
                .fold(None, |best: Option<(usize, f64)>, (i, t)| match best {
                    Some((_, b)) if b <= share(t) => best,
                    _ => Some((i, share(t))),
                })
                .map(|(i, _)| i);
            let Some(i) = next else { break };
            if !first && self.trainers[i].next_step_ends_epoch() {
                break; // rule 1: the next epoch-end evaluation starts the next call
            }
            let t0 = clock.now_ms();
            self.trainers[i].step()?;
            let ms = clock.now_ms() - t0;
            let cost = &mut self.cost[i];
            match self.trainers[i].last_unit() {
                Unit::Validation => cost.validation_ms += ms,
                Unit::TrainPass => cost.train_pass_ms += ms,
                Unit::TestPass => cost.test_ms += ms,
                // waiting for a readback is the steps' cost on a GPU
                Unit::Step | Unit::Idle => cost.steps_ms += ms,
            }
            sitting_out[i] = self.trainers[i].waiting(); // rule 2
            first = false;
            if clock.now_ms() - start >= budget_ms {
                break;
            }
        }
        Ok(self.active())
    }
}
