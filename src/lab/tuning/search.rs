//! One search method's run of trials: which points it hands out, in what order, and what
//! came back.
//!
//! Grid and random search fix every point before the first result (a design); they hand out
//! as many trials at once as there are free workers. Bayesian optimization asks its model for
//! each next point ([`BayesOpt`]); with several workers it keeps up to `q` trials out at
//! once, each later proposal chosen with the earlier pending ones lied about (the constant
//! liar, see `tune::bayes`). Its batch is asynchronous, not a round: a new proposal is asked
//! for whenever one of its trials ends and a worker is free, so it never waits for the
//! slowest of a batch, and the other methods' trials share the same workers.

use crate::tune::{grid, random, BayesOpt, BayesOptions, Space, Value};
use crate::Result;
use serde::{Deserialize, Serialize};

/// The three ways to choose trials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Grid,
    Random,
    Bayes,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::Grid, Method::Random, Method::Bayes];

    pub fn label(self) -> &'static str {
        match self {
            Method::Grid => "grid search",
            Method::Random => "random search",
            Method::Bayes => "Bayesian optimization",
        }
    }

    /// Its name in JSON and CSV.
    pub fn key(self) -> &'static str {
        match self {
            Method::Grid => "grid",
            Method::Random => "random",
            Method::Bayes => "bayes",
        }
    }

    /// Its colour on every plot (the palette's blue, orange, green).
    pub fn color(self) -> usize {
        match self {
            Method::Grid => 0,
            Method::Random => 1,
            Method::Bayes => 2,
        }
    }
}

/// A trial: where, and (once it has run) its objective value.
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    pub unit: Vec<f64>,
    pub values: Vec<Value>,
    /// The objective; `None` while it runs, or when it ended without one (stopped, an error).
    pub y: Option<f64>,
    /// Ended (with or without a value).
    pub ended: bool,
    /// The model proposal it came from (Bayesian optimization after its initial design).
    pub proposal: Option<usize>,
}

enum Planner {
    Design(Vec<Vec<f64>>),
    Model(Box<BayesOpt>),
}

/// One method's trials on one space.
pub struct Search {
    pub method: Method,
    planner: Planner,
    budget: usize,
    /// Trials Bayesian optimization keeps out at once.
    q: usize,
    pub trials: Vec<Trial>,
    space: Space,
}

impl Search {
    /// `budget` trials of `method` on `space`, seeded by `seed` (random points; the model's
    /// initial design, candidates and fits); Bayesian optimization with `options` keeps up to
    /// `q` trials out at once. A grid of `budget` points may come out smaller (see
    /// `tune::grid`): its budget is then its size.
    pub fn new(method: Method, space: &Space, budget: usize, seed: u64, options: &BayesOptions, q: usize) -> Result<Search> {
        let (planner, budget) = match method {
            Method::Grid => {
                let points = grid::design(space, budget)?;
                let n = points.len();
                (Planner::Design(points), n)
            }
            Method::Random => (Planner::Design(random::design(space, budget, seed)?), budget),
            Method::Bayes => (Planner::Model(Box::new(BayesOpt::new(space.clone(), BayesOptions { seed, ..options.clone() })?)), budget),
        };
        Ok(Search { method, planner, budget, q: q.max(1), trials: Vec::new(), space: space.clone() })
    }

    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Trials out and not ended.
    pub fn out(&self) -> usize {
        self.trials.iter().filter(|t| !t.ended).count()
    }

    /// Whether it would hand out another trial now.
    pub fn ready(&self) -> bool {
        self.trials.len() < self.budget && (matches!(self.planner, Planner::Design(_)) || self.out() < self.q)
    }

    /// Every trial handed out and ended.
    pub fn done(&self) -> bool {
        self.trials.len() >= self.budget && self.out() == 0
    }

    /// Hand out the next trial: its index.
    pub fn hand_out(&mut self) -> Result<usize> {
        let (unit, proposal) = match &mut self.planner {
            Planner::Design(points) => (points[self.trials.len()].clone(), None),
            Planner::Model(bayes) => {
                let before = bayes.proposals().len();
                let p = bayes.ask(1)?.remove(0).unit;
                (p, (bayes.proposals().len() > before).then_some(before))
            }
        };
        let values = self.space.from_unit(&unit)?;
        self.trials.push(Trial { unit, values, y: None, ended: false, proposal });
        Ok(self.trials.len() - 1)
    }

    /// Trial `t` came back with objective `y` (`None`: it ended without one).
    pub fn tell(&mut self, t: usize, y: Option<f64>) -> Result<()> {
        let trial = &mut self.trials[t];
        trial.ended = true;
        trial.y = y;
        if let Planner::Model(bayes) = &mut self.planner {
            match y {
                Some(y) => bayes.tell(&trial.unit, y)?,
                None => bayes.forget(&trial.unit)?,
            }
        }
        Ok(())
    }

    /// No more trials (the student's Stop): the budget shrinks to what was handed out.
    pub fn close(&mut self) {
        self.budget = self.trials.len();
        for t in &mut self.trials {
            t.ended = true;
        }
    }

    /// Best-so-far by trial number: entry i is the lowest y among trials 1..=i+1, as far as
    /// every one of them has ended (a trial without a value is skipped).
    pub fn best_so_far(&self) -> Vec<f64> {
        let mut best = f64::INFINITY;
        let mut out = Vec::new();
        for t in &self.trials {
            if !t.ended {
                break;
            }
            if let Some(y) = t.y {
                best = best.min(y);
            }
            out.push(best);
        }
        out
    }

    /// The trial with the lowest objective (the first of equals).
    pub fn best(&self) -> Option<(usize, &Trial)> {
        self.trials.iter().enumerate().filter(|(_, t)| t.y.is_some()).min_by(|a, b| a.1.y.partial_cmp(&b.1.y).expect("finite"))
    }

    /// How many distinct values of axis `d` its trials tried.
    pub fn distinct(&self, d: usize) -> usize {
        let mut u: Vec<f64> = self.trials.iter().map(|t| t.unit[d]).collect();
        u.sort_by(f64::total_cmp);
        u.dedup();
        u.len()
    }

    /// The model behind Bayesian optimization (None for the other two).
    pub fn bayes(&self) -> Option<&BayesOpt> {
        match &self.planner {
            Planner::Model(b) => Some(b),
            Planner::Design(_) => None,
        }
    }
}
