//! Bayesian optimization as a state machine: the page (or a test) asks for trials, runs them
//! wherever it likes, and tells the results back, one batch at a time.
//!
//! # The loop (minimizing f over the unit cube of a [`Space`])
//!
//! 1. Start: the first `initial` trials (default 5) are a Latin hypercube ([`super::lhs`]), so
//!    the model begins with points spread over every axis. (If trials are asked for before any
//!    result is in and the design is used up, they are uniform random points.)
//! 2. Model: a Gaussian process ([`super::gp`], Matérn 5/2 by default, targets normalized) on
//!    every observation, its hyperparameters refitted each round by maximizing the marginal
//!    likelihood within [`bounds`], warm-started from the last round's.
//! 3. Propose: maximize the acquisition (expected improvement by default, incumbent y* = the
//!    best observation) over `candidates` seeded uniform points (default 2000), then refine
//!    the best five by a compass search — try ±h along each axis, keep a gain of more than
//!    0.1 %, halve h when nothing gains, from h = 0.05 down to 1e-4. The acquisition is
//!    evaluated at the snapped point (the configuration that would really run). The 0.1 %
//!    matters: along an axis the model finds flat, the acquisition still creeps up towards the
//!    box's edge (σ is largest far from data), and chasing every bit of that creep parks an
//!    unimportant hyperparameter at 0 or 1, often its worst value (Bayesian optimization's
//!    known over-exploration of the boundary). On our synthetic objective, refining without
//!    the threshold lost Bayesian optimization its lead over random search. The threshold
//!    lessens the tendency; it does not remove it.
//! 4. Run the trial, [`tell`](BayesOpt::tell) its result, go to 2.
//!
//! # Batches: the constant liar
//!
//! A worker pool wants several trials at once, and results arrive out of order. While a trial
//! is pending we pretend it has already returned a made-up value, the *lie*, and refit the
//! model with the same hyperparameters on observations plus lies (Ginsbourger, Le Riche and
//! Carraro, "Kriging is well-suited to parallelize optimization", 2010). Each proposal of a
//! batch is added as a lie before the next is chosen; a lie is replaced by the truth when its
//! result is told.
//!
//! The lie is the *worst* value observed so far (their CL-max): the model then expects nothing
//! good at a pending point, its expected improvement there and around it falls, and the next
//! proposal goes elsewhere, so a batch spreads over the promising regions. Lying with the best
//! value (CL-min) instead keeps a batch huddled around the incumbent, and believing the model's
//! own mean (the "kriging believer") only shrinks σ at the pending point; on our synthetic
//! objective both leave the proposals of a batch barely apart, which is not what a pool of
//! workers is for.
//!
//! With a noisy model even a lie does not make it sure, and a proposal could land on a pending
//! point again. So candidates the model correlates above 0.99 with a pending trial
//! (k(x, x_pending) > 0.99 σ², closer than about a seventh of a length-scale) are never
//! proposed: such a trial would teach almost nothing the pending one will not. (If every
//! candidate is that close, as in a tiny discrete space, the first candidate is proposed
//! anyway.)
//!
//! Candidates and fits are seeded from `seed` and the proposal's index (streams
//! `"bayes-candidates-k"`, `"bayes-fit-k"`), so a run replays exactly for the same sequence of
//! asks and tells.

use super::acquisition::{self, Acquisition};
use super::fit::{Bounds, FitOptions};
use super::gp::{GaussianProcess, GpConfig, Params};
use super::kernel::{scaled_sq_dist, Kernel};
use super::random::unit;
use super::space::{Point, Space};
use super::{lhs, random};
use crate::optim::Num;
use crate::{ensure, Result, Rng};
use serde::{Deserialize, Serialize};

/// Settings of a [`BayesOpt`]; JSON in camelCase, every field optional.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BayesOptions {
    /// Trials of the Latin-hypercube start. Default 5.
    pub initial: usize,
    /// Random candidates the acquisition is maximized over each proposal (>= 1). Default 2000.
    pub candidates: usize,
    /// Default expected improvement.
    pub acquisition: Acquisition,
    /// The improvement EI and PI ask for, in the objective's units. Default 0.01.
    pub xi: f64,
    /// The weight of σ in the lower confidence bound (>= 0). Default 1.96.
    pub kappa: f64,
    /// The model's covariance function. Default Matérn 5/2.
    pub kernel: Kernel,
    /// Random starts of each round's hyperparameter fit, besides the warm start. Default 2.
    pub restarts: usize,
    /// Seeds the design, the candidates and the fits. Default 0.
    pub seed: u64,
}

impl Default for BayesOptions {
    fn default() -> Self {
        BayesOptions {
            initial: 5,
            candidates: 2000,
            acquisition: Acquisition::ExpectedImprovement,
            xi: acquisition::DEFAULT_XI,
            kappa: acquisition::DEFAULT_KAPPA,
            kernel: Kernel::Matern52,
            restarts: 2,
            seed: 0,
        }
    }
}

/// The hyperparameter box of the model, for inputs in the unit cube and standardized targets:
/// σ² in (1e-2, 1e2), each ℓ_d in (1e-2, 1e2) (from a hundredth of an axis to "flat"), noise in
/// (1e-6, 1) (from almost noiseless to as large as the signal).
pub fn bounds() -> Bounds {
    Bounds { variance: (1e-2, 1e2), length_scale: (1e-2, 1e2), noise: (1e-6, 1.0) }
}

/// A trial's result: where (unit coordinates, snapped) and the objective's value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    pub unit: Vec<f64>,
    pub y: f64,
}

/// What a model proposal was made from, kept so it can be shown afterwards: the model is
/// rebuilt from the first `observed` observations and the lies at `pending` with `params`
/// ([`BayesOpt::proposal_model`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    /// How many observations (in the order told) the model had.
    pub observed: usize,
    /// The trials pending then, each lied about with the worst observation.
    pub pending: Vec<Vec<f64>>,
    /// The model's hyperparameters (fitted on those observations).
    pub params: Params,
    /// The incumbent y* the acquisition was scored against.
    pub best: f64,
    /// What was proposed (snapped).
    pub unit: Vec<f64>,
}

/// Bayesian optimization, one [`ask`](Self::ask) and [`tell`](Self::tell) at a time.
#[derive(Clone, Debug)]
pub struct BayesOpt {
    space: Space,
    options: BayesOptions,
    design: Vec<Vec<f64>>,
    handed_out: usize,
    observed: Vec<Observation>,
    pending: Vec<Vec<f64>>,
    /// Model proposals made so far (the k-th gets its own seeded streams).
    proposals: Vec<Proposal>,
    fallback: Rng,
    /// The model of the last round, on observations only, and the y* it was scored against.
    model: Option<(GaussianProcess, f64)>,
}

impl BayesOpt {
    pub fn new(space: Space, options: BayesOptions) -> Result<BayesOpt> {
        ensure!(options.candidates >= 1, "Invalid number of candidates: 0 (need at least one)");
        ensure!(options.xi.is_finite(), "Invalid xi: {} (need a finite number)", Num(options.xi));
        ensure!(options.kappa.is_finite() && options.kappa >= 0.0, "Invalid kappa: {} (need a finite number >= 0)", Num(options.kappa));
        let design = lhs::design(&space, options.initial, options.seed)?;
        let fallback = Rng::stream(options.seed, "bayes-fallback");
        Ok(BayesOpt {
            space,
            options,
            design,
            handed_out: 0,
            observed: Vec::new(),
            pending: Vec::new(),
            proposals: Vec::new(),
            fallback,
            model: None,
        })
    }

    /// The next `q` (>= 1) trials to run; each stays pending until told.
    pub fn ask(&mut self, q: usize) -> Result<Vec<Point>> {
        ensure!(q >= 1, "Invalid batch size: 0 (ask for at least one trial)");
        let mut fitted_this_ask = false;
        let mut out = Vec::with_capacity(q);
        for _ in 0..q {
            let unit = if self.handed_out < self.design.len() {
                self.handed_out += 1;
                self.design[self.handed_out - 1].clone()
            } else if self.observed.is_empty() {
                let u: Vec<f64> = (0..self.space.n_dims()).map(|_| unit(&mut self.fallback)).collect();
                self.space.snap(&u)?
            } else {
                if !fitted_this_ask {
                    self.refit()?;
                    fitted_this_ask = true;
                }
                self.propose()?
            };
            self.pending.push(unit.clone());
            out.push(self.space.point(&unit)?);
        }
        Ok(out)
    }

    /// Reports the objective `y` (finite) at a trial's unit point: one that was asked for (it
    /// stops being pending) or any other point of the cube.
    pub fn tell(&mut self, unit: &[f64], y: f64) -> Result<()> {
        ensure!(y.is_finite(), "Invalid objective value: {} (report a diverged trial as a large finite error)", Num(y));
        let unit = self.space.snap(unit)?;
        if let Some(i) = self.pending.iter().position(|p| *p == unit) {
            self.pending.remove(i);
        }
        self.observed.push(Observation { unit, y });
        Ok(())
    }

    /// A trial that was asked for will not report (it failed, or was cancelled): it stops
    /// being pending, so no lie stands for it any longer.
    pub fn forget(&mut self, unit: &[f64]) -> Result<()> {
        let unit = self.space.snap(unit)?;
        if let Some(i) = self.pending.iter().position(|p| *p == unit) {
            self.pending.remove(i);
        }
        Ok(())
    }

    /// Step 2: the model on every observation, hyperparameters refitted from the last ones.
    fn refit(&mut self) -> Result<()> {
        let d = self.space.n_dims();
        let config = match &self.model {
            Some((gp, _)) => GpConfig { kernel: self.options.kernel, normalize_y: true, ..GpConfig::default() }.with_params(gp.params()),
            None => GpConfig { kernel: self.options.kernel, variance: 1.0, length_scales: vec![0.3; d], noise: 1e-4, normalize_y: true },
        };
        let mut gp = GaussianProcess::new(config)?;
        let x: Vec<f64> = self.observed.iter().flat_map(|o| o.unit.iter().copied()).collect();
        let y: Vec<f64> = self.observed.iter().map(|o| o.y).collect();
        let seed = Rng::stream(self.options.seed, &format!("bayes-fit-{}", self.proposals.len())).next_u64();
        let options = FitOptions { seed, restarts: self.options.restarts, max_iter: 100, bounds: bounds(), ..FitOptions::default() };
        gp.fit(&x, d, &y, &options)?;
        let best = y.iter().copied().fold(f64::INFINITY, f64::min);
        self.model = Some((gp, best));
        Ok(())
    }

    /// Step 3 on the model with a lie at every pending point.
    fn propose(&mut self) -> Result<Vec<f64>> {
        let (model, best) = self.model.as_ref().expect("refit before propose");
        let (best, d) = (*best, self.space.n_dims());
        let liar = if self.pending.is_empty() { model.clone() } else { liar(model.kernel(), model.params(), &self.observed, &self.pending, d)? };
        let (acq, xi, kappa) = (self.options.acquisition, self.options.xi, self.options.kappa);
        let (kernel, ls) = (liar.kernel(), &liar.params().length_scales);
        // A point the model correlates above 0.99 with a pending trial would repeat it.
        let repeats = |u: &[f64]| self.pending.iter().any(|p| kernel.correlation(scaled_sq_dist(ls, p, u)) > 0.99);
        let score = |u: &[f64]| match self.space.snap(u) {
            Ok(s) if !repeats(&s) => liar.predict_point(&s).map(|(m, sd)| acq.score(m, sd, best, xi, kappa)).unwrap_or(f64::NEG_INFINITY),
            _ => f64::NEG_INFINITY,
        };
        let mut rng = Rng::stream(self.options.seed, &format!("bayes-candidates-{}", self.proposals.len()));
        let mut scored: Vec<(f64, Vec<f64>)> = (0..self.options.candidates)
            .map(|_| {
                let u: Vec<f64> = (0..d).map(|_| random::unit(&mut rng)).collect();
                (score(&u), u)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut winner = scored[0].clone();
        for (s, u) in scored.into_iter().take(5) {
            let refined = compass_search(&score, u, s);
            if refined.0 > winner.0 {
                winner = refined;
            }
        }
        let unit = self.space.snap(&winner.1)?;
        let params = liar.params().clone();
        self.proposals.push(Proposal { observed: self.observed.len(), pending: self.pending.clone(), params, best, unit: unit.clone() });
        Ok(unit)
    }

    /// Every model proposal so far, in order (the initial design's trials are not among them).
    pub fn proposals(&self) -> &[Proposal] {
        &self.proposals
    }

    /// The model proposal `i` was chosen on: the GP on the observations it had, with a lie at
    /// each trial then pending, at its hyperparameters.
    pub fn proposal_model(&self, i: usize) -> Result<GaussianProcess> {
        let Some(p) = self.proposals.get(i) else {
            crate::bail!("proposal {i} does not exist: there are {}", self.proposals.len());
        };
        liar(self.options.kernel, &p.params, &self.observed[..p.observed], &p.pending, self.space.n_dims())
    }

    /// The acquisition value at a unit point under the last round's model (observations only,
    /// no lies), for drawing; `None` before the model's first round.
    pub fn score(&self, unit: &[f64]) -> Result<Option<f64>> {
        let Some((gp, best)) = &self.model else { return Ok(None) };
        let (m, s) = gp.predict_point(unit)?;
        Ok(Some(self.options.acquisition.score(m, s, *best, self.options.xi, self.options.kappa)))
    }

    /// The last round's model (fitted on observations only), `None` before the first round.
    pub fn model(&self) -> Option<&GaussianProcess> {
        self.model.as_ref().map(|(gp, _)| gp)
    }

    /// Every result told, in the order told.
    pub fn observations(&self) -> &[Observation] {
        &self.observed
    }

    /// Trials asked for and not yet told.
    pub fn pending(&self) -> &[Vec<f64>] {
        &self.pending
    }

    /// The observation with the lowest y (the first of equals).
    pub fn best(&self) -> Option<&Observation> {
        self.observed.iter().reduce(|a, b| if b.y < a.y { b } else { a })
    }

    pub fn space(&self) -> &Space {
        &self.space
    }

    pub fn options(&self) -> &BayesOptions {
        &self.options
    }
}

/// The constant liar's model: `observed` and a lie (their worst y) at each of `pending`, with
/// the hyperparameters `params` as they are (normalized targets, as every round's model).
fn liar(kernel: Kernel, params: &Params, observed: &[Observation], pending: &[Vec<f64>], d: usize) -> Result<GaussianProcess> {
    let mut gp = GaussianProcess::new(GpConfig { kernel, normalize_y: true, ..GpConfig::default() }.with_params(params))?;
    let lie = observed.iter().map(|o| o.y).fold(f64::NEG_INFINITY, f64::max);
    let points = observed.iter().map(|o| (&o.unit, o.y)).chain(pending.iter().map(|p| (p, lie)));
    let (x, y): (Vec<Vec<f64>>, Vec<f64>) = points.map(|(u, y)| (u.clone(), y)).unzip();
    gp.fit(&x.concat(), d, &y, &FitOptions { optimize: false, ..FitOptions::default() })?;
    Ok(gp)
}

/// Maximizes `score` from `u` by compass search inside the unit cube: (best score, point).
fn compass_search(score: &dyn Fn(&[f64]) -> f64, mut u: Vec<f64>, mut best: f64) -> (f64, Vec<f64>) {
    let mut h = 0.05;
    // At most 100 sweeps: a slope can keep paying at one step size for a while.
    for _ in 0..100 {
        if h < 1e-4 {
            break;
        }
        let mut gained = false;
        for axis in 0..u.len() {
            for sign in [1.0, -1.0] {
                let mut v = u.clone();
                v[axis] = (v[axis] + sign * h).clamp(0.0, 1.0);
                let s = score(&v);
                if s > best + 1e-3 * best.abs() {
                    (best, u, gained) = (s, v, true);
                }
            }
        }
        if !gained {
            h *= 0.5;
        }
    }
    (best, u)
}

/// Runs Bayesian optimization on `f` for `trials` trials, asking `q` at a time: every
/// observation, in order.
pub fn minimize(space: Space, options: BayesOptions, trials: usize, q: usize, mut f: impl FnMut(&Point) -> f64) -> Result<Vec<Observation>> {
    let mut search = BayesOpt::new(space, options)?;
    while search.observations().len() < trials {
        let batch = search.ask(q.min(trials - search.observations().len()))?;
        for point in batch {
            let y = f(&point);
            search.tell(&point.unit, y)?;
        }
    }
    Ok(search.observed)
}
