//! The notebook's experiments, in plain Rust: what every cell computes, tested with
//! `cargo test`. `src/web/` only wraps these types for the page.
//!
//! Every experiment keeps one contract, so the page's `defineCell` drives them all alike:
//!
//! - built from (data, spec): a serde spec in camelCase, checked with messages naming the value;
//! - `run_for(budget_ms, clock)` → whether work is left (through [`schedule::Runs`], the one
//!   scheduler);
//! - `report()` → a serde struct with `status` ∈ idle | running | finished | stopped |
//!   diverged | error, `progress` (done/total) and the numbers the read-out shows;
//! - `chart(name)` → a [`Chart`](crate::plot::Chart);
//! - `stop()`.
//!
//! `run` builds a training run from a [`RunSpec`](run::RunSpec); `schedule` advances several;
//! then one file per experiment.

pub mod adaptive;
pub mod batch;
pub mod batch_norm;
pub mod compare;
pub mod cross_val;
pub mod dropout;
pub mod early_stop;
pub mod equal_start;
pub mod init_runs;
pub mod job;
pub mod lambda_sweep;
pub mod landscape;
pub mod overfit;
pub mod pooled;
pub mod pretrain;
pub mod probe;
pub mod race;
pub mod regularization;
pub mod rprop;
pub mod rprop_thought;
pub mod run;
pub mod schedule;
pub mod start;
pub mod tuning;

pub use compare::{Compare, CompareSpec};
pub use race::{Race, RaceSpec};
pub use run::{Cpu, Data, Device, RunSpec};
pub use schedule::{Clock, Cost, Runs};

use serde::Serialize;

/// Why runs end when the student presses Stop.
pub const STOPPED_BY_STUDENT: &str = "stopped";

/// Steps done of steps in all, for the page's progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

impl Progress {
    pub fn of(runs: &Runs) -> Progress {
        let (done, total) = runs.progress();
        Progress { done, total }
    }
}

/// The index of the smallest key among `Some` keys; ties go to the first.
pub fn argmin<K: PartialOrd>(keys: impl Iterator<Item = Option<K>>) -> Option<usize> {
    let mut best: Option<(usize, K)> = None;
    for (i, k) in keys.enumerate() {
        if let Some(k) = k {
            if best.as_ref().is_none_or(|(_, b)| k < *b) {
                best = Some((i, k));
            }
        }
    }
    best.map(|(i, _)| i)
}

/// The time since this clock was made (native use; the page has its own clock).
#[cfg(not(target_arch = "wasm32"))]
pub struct SystemClock(std::time::Instant);

#[cfg(not(target_arch = "wasm32"))]
impl Default for SystemClock {
    fn default() -> Self {
        SystemClock(std::time::Instant::now())
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Clock for SystemClock {
    fn now_ms(&self) -> f64 {
        self.0.elapsed().as_secs_f64() * 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::argmin;

    #[test]
    fn argmin_skips_none_and_keeps_the_first_of_ties() {
        assert_eq!(argmin([None, Some(2), Some(1), Some(1)].into_iter()), Some(2));
        assert_eq!(argmin([None::<i32>, None].into_iter()), None);
    }
}
