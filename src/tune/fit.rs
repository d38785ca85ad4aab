//! Fitting a Gaussian process's hyperparameters (σ², ℓ_d, noise) by maximizing the log
//! marginal likelihood (LML) — "type II maximum likelihood" (Rasmussen and Williams, §5.4).
//!
//! # Where
//!
//! In log space, θ = (log σ², log ℓ_1, …, log ℓ_d, log noise): the parameters are positive and
//! matter by their order of magnitude, and a step of 0.1 in θ is a 10 % change whatever the
//! value. θ stays in a box, [`Bounds`]; the defaults are scikit-learn's default kernel bounds,
//! (1e-5, 1e5) for σ² and each ℓ_d, with (1e-10, 1e5) for the noise (down to its default
//! `alpha`).
//!
//! # From where
//!
//! The LML has several local maxima (typically one that explains the data as a smooth function
//! with little noise and one that calls everything noise), so we climb from several starts and
//! keep the highest: the current hyperparameters (clamped into the box), then `restarts`
//! points drawn log-uniformly in the box from the stream `"gp-restarts"` of `seed`, as
//! scikit-learn's `n_restarts_optimizer` does. Every start and where it ended is reported.
//!
//! # How
//!
//! Projected gradient ascent with a backtracking (Armijo) line search, with the analytic
//! gradient of [`super::gp`]:
//!
//! 1. g = ∇LML(θ); θ′ = clamp(θ + t·g) into the box;
//! 2. accept θ′ if LML(θ′) >= LML(θ) + 1e-4·g·(θ′ − θ) (a sufficient rise), then double t;
//!    otherwise halve t and try again;
//! 3. stop when the step moves θ by less than 1e-8, the LML rises by less than 1e-10·(1 + |LML|),
//!    or after `max_iter` accepted steps.
//!
//! We chose this over L-BFGS-B (scikit-learn's optimizer) because it fits in a few lines a
//! student can follow and, with so few parameters, converges well enough; the line search
//! only ever accepts a rise, so the result is never worse than its start. It is slower on long
//! curved ridges, which is what the extra iterations and starts pay for.

use super::gp::{evaluate, Data, Params};
use super::kernel::Kernel;
use super::random::unit;
use crate::optim::Num;
use crate::{ensure, Result, Rng};
use serde::{Deserialize, Serialize};

/// The box the hyperparameters are fitted in: (low, high) for each, 0 < low <= high.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Bounds {
    /// For σ². Default (1e-5, 1e5).
    pub variance: (f64, f64),
    /// For every ℓ_d. Default (1e-5, 1e5).
    pub length_scale: (f64, f64),
    /// For the noise variance. Default (1e-10, 1e5).
    pub noise: (f64, f64),
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds { variance: (1e-5, 1e5), length_scale: (1e-5, 1e5), noise: (1e-10, 1e5) }
    }
}

/// How [`GaussianProcess::fit`](super::gp::GaussianProcess::fit) treats the hyperparameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FitOptions {
    /// Fit them by maximizing the LML; false uses the given ones as they are. Default true.
    pub optimize: bool,
    /// Seeds the random starts. Default 0.
    pub seed: u64,
    /// Random starts besides the current hyperparameters. Default 4.
    pub restarts: usize,
    /// Accepted steps per start at most. Default 200.
    pub max_iter: usize,
    /// Default [`Bounds::default`].
    pub bounds: Bounds,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions { optimize: true, seed: 0, restarts: 4, max_iter: 200, bounds: Bounds::default() }
    }
}

/// One climb: where it started and where it ended (an LML of −∞ where the kernel matrix could
/// not be factored).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Start {
    pub from: Params,
    pub from_lml: f64,
    pub to: Params,
    pub to_lml: f64,
    pub iterations: usize,
}

/// Every climb of a fit and which one won (`None` when nothing was optimized).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FitReport {
    pub starts: Vec<Start>,
    pub best: Option<usize>,
}

fn check_bounds(what: &str, (low, high): (f64, f64)) -> Result<(f64, f64)> {
    ensure!(
        low.is_finite() && high.is_finite() && 0.0 < low && low <= high,
        "Invalid {what} bounds: ({}, {}) (need 0 < low <= high)",
        Num(low),
        Num(high)
    );
    Ok((low.ln(), high.ln()))
}

fn to_params(theta: &[f64]) -> Params {
    let d = theta.len() - 2;
    Params { variance: theta[0].exp(), length_scales: theta[1..=d].iter().map(|t| t.exp()).collect(), noise: theta[d + 1].exp() }
}

/// Runs every start and reports them; see the module documentation.
pub(crate) fn optimize(kernel: Kernel, data: &Data, current: &Params, options: &FitOptions) -> Result<FitReport> {
    let b = &options.bounds;
    let (var, ls, noise) = (check_bounds("variance", b.variance)?, check_bounds("length-scale", b.length_scale)?, check_bounds("noise", b.noise)?);
    let d = data.dims;
    let lo: Vec<f64> = std::iter::once(var.0).chain(std::iter::repeat_n(ls.0, d)).chain([noise.0]).collect();
    let hi: Vec<f64> = std::iter::once(var.1).chain(std::iter::repeat_n(ls.1, d)).chain([noise.1]).collect();
    let clamp = |theta: &mut [f64]| theta.iter_mut().enumerate().for_each(|(i, t)| *t = t.clamp(lo[i], hi[i]));

    let mut first: Vec<f64> =
        std::iter::once(current.variance.ln()).chain(current.length_scales.iter().map(|l| l.ln())).chain([current.noise.max(1e-300).ln()]).collect();
    clamp(&mut first);
    let mut rng = Rng::stream(options.seed, "gp-restarts");
    let mut starts = vec![first];
    for _ in 0..options.restarts {
        starts.push((0..d + 2).map(|i| lo[i] + unit(&mut rng) * (hi[i] - lo[i])).collect());
    }

    let eval = |theta: &[f64]| evaluate(kernel, data, &to_params(theta), true).ok().map(|e| (e.lml, e.grad));
    let mut report = FitReport::default();
    for theta in starts {
        let from = to_params(&theta);
        let (from_lml, to, to_lml, iterations) = match eval(&theta) {
            None => (f64::NEG_INFINITY, from.clone(), f64::NEG_INFINITY, 0),
            Some((f, g)) => {
                let (end, f_end, iterations) = ascend(&eval, theta, f, g, &lo, &hi, options.max_iter);
                (f, to_params(&end), f_end, iterations)
            }
        };
        if to_lml.is_finite() && report.best.is_none_or(|b| to_lml > report.starts[b].to_lml) {
            report.best = Some(report.starts.len());
        }
        report.starts.push(Start { from, from_lml, to, to_lml, iterations });
    }
    ensure!(report.best.is_some(), "Could not fit the Gaussian process: the kernel matrix was singular at every start; try a larger noise");
    Ok(report)
}

/// θ ↦ (LML, ∇LML), or `None` where the kernel matrix cannot be factored.
type Lml<'a> = dyn Fn(&[f64]) -> Option<(f64, Vec<f64>)> + 'a;

/// Projected gradient ascent with backtracking from θ (LML f, gradient g): (θ, LML, steps).
fn ascend(eval: &Lml, mut theta: Vec<f64>, mut f: f64, mut g: Vec<f64>, lo: &[f64], hi: &[f64], max_iter: usize) -> (Vec<f64>, f64, usize) {
    // The first trial step moves θ by at most 1 in any coordinate.
    let mut t = 1.0 / g.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for iteration in 0..max_iter {
        loop {
            let candidate: Vec<f64> = theta.iter().zip(&g).enumerate().map(|(i, (th, gi))| (th + t * gi).clamp(lo[i], hi[i])).collect();
            let step: Vec<f64> = candidate.iter().zip(&theta).map(|(c, th)| c - th).collect();
            if step.iter().all(|s| s.abs() < 1e-8) {
                return (theta, f, iteration);
            }
            let rise: f64 = g.iter().zip(&step).map(|(gi, s)| gi * s).sum();
            match eval(&candidate) {
                Some((fc, gc)) if fc >= f + 1e-4 * rise => {
                    let small = fc - f < 1e-10 * (1.0 + f.abs());
                    (theta, f, g) = (candidate, fc, gc);
                    t *= 2.0;
                    if small {
                        return (theta, f, iteration + 1);
                    }
                    break;
                }
                _ => t *= 0.5,
            }
        }
    }
    (theta, f, max_iter)
}
