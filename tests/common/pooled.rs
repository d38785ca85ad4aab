//! Drive a pooled experiment as www/pool.js does: every batch of jobs it hands out runs in one
//! `Jobs` group (as on the page thread), updates and endings fed back, more jobs asked for
//! after each batch.

use descent::lab::job::{Job, Jobs, Sets, Update};
use descent::lab::pooled::Ending;
use descent::lab::Clock;
use std::cell::Cell;

/// What the page calls on a pooled experiment.
pub trait Pooled {
    fn jobs(&mut self) -> Vec<Job>;
    fn absorb(&mut self, i: usize, u: Update);
    fn finish(&mut self, i: usize, e: Ending, parameters: Option<Vec<f32>>);
}

/// The pooled experiments all answer the page the same way.
macro_rules! pooled {
    ($($t:ty),*) => {$(
        impl Pooled for $t {
            fn jobs(&mut self) -> Vec<Job> {
                self.jobs()
            }
            fn absorb(&mut self, i: usize, u: Update) {
                self.absorb(i, u).unwrap()
            }
            fn finish(&mut self, i: usize, e: Ending, p: Option<Vec<f32>>) {
                self.finish(i, e, p).unwrap()
            }
        }
    )*};
}

pooled!(descent::lab::cross_val::CrossVal, descent::lab::overfit::Overfit, descent::lab::tuning::Tuning, descent::lab::lambda_sweep::LambdaSweep);

struct StepClock(Cell<f64>);

impl Clock for StepClock {
    fn now_ms(&self) -> f64 {
        self.0.set(self.0.get() + 1.0);
        self.0.get()
    }
}

/// Runs every job the experiment hands out, batch after batch, until it hands out none.
pub fn run_all(exp: &mut impl Pooled, sets: &Sets) {
    let mut first = 0;
    loop {
        let batch = exp.jobs();
        if batch.is_empty() {
            break;
        }
        first += run_batch(exp, sets, batch, first);
    }
}

/// Runs one batch of jobs (numbered from `first`) to its end, feeding back updates and
/// endings, without asking for more: how many there were.
pub fn run_batch(exp: &mut impl Pooled, sets: &Sets, batch: Vec<Job>, first: usize) -> usize {
    let clock = StepClock(Cell::new(0.0));
    let mut jobs = Jobs::new(sets, batch.into_iter().map(Ok).collect());
    let mut ended = vec![false; jobs.len()];
    loop {
        let more = jobs.run_for(3.0, &clock).unwrap();
        for (i, done) in ended.iter_mut().enumerate() {
            let u = jobs.update(i);
            if !u.is_empty() {
                exp.absorb(first + i, u);
            }
            let r = jobs.result(i);
            if !*done && r.status != "running" {
                *done = true;
                let e = Ending {
                    status: r.status.into(),
                    message: r.message,
                    compute_ms: r.compute_ms,
                    best_check: r.best_check,
                    stopped_at: r.stopped_at,
                    test: r.test,
                    validation_size: r.validation_size,
                };
                exp.finish(first + i, e, jobs.parameters(i).map(<[f32]>::to_vec));
            }
        }
        if !more {
            break;
        }
    }
    jobs.len()
}
