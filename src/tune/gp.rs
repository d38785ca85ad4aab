//! Gaussian-process regression: a distribution over smooth functions, conditioned on a few
//! noisy observations, that says both what the function probably is and how unsure it is.
//!
//! # The model
//!
//! f ~ GP(0, k) with a [`Kernel`] k of signal variance σ² and length-scales ℓ_d, observed as
//! y_i = f(x_i) + ε_i with ε_i ~ N(0, noise). With `normalize_y` the targets are first
//! standardized, y ← (y − mean(y))/std(y) (the population std; a std of 0 is taken as 1), as
//! scikit-learn's `normalize_y=True` does, and predictions are mapped back; the zero prior mean
//! is then the mean of the data rather than 0. The algorithm is Rasmussen and Williams'
//! Algorithm 2.1 ("Gaussian Processes for Machine Learning", 2006, p. 19):
//!
//! 1. K = k(X, X) + noise·I                          (n, n); the noise on the diagonal only
//! 2. L = cholesky(K)                                with jitter retries (see `linalg.rs`)
//! 3. α = Lᵀ \ (L \ y)                               = K⁻¹y
//! 4. for a query x*: k* = k(X, x*), mean = k*ᵀα
//! 5. v = L \ k*, var = k(x*, x*) − vᵀv              the latent f's variance: no noise added
//! 6. log p(y | X) = −½ yᵀα − Σ_i log L_ii − (n/2) log 2π
//!
//! The predicted std is √var (times std(y) when normalized): the uncertainty about f itself,
//! which is what an acquisition function needs, not about a new noisy observation of it. The
//! log marginal likelihood (LML) is that of the targets the model was fitted to, the
//! standardized ones under `normalize_y`, as in scikit-learn.
//!
//! # Fitting the hyperparameters
//!
//! [`GaussianProcess::fit`] with `optimize` (the default) chooses σ², ℓ_d and noise by
//! maximizing the LML, from several seeded starts within stated bounds; see [`super::fit`]. The
//! gradient it climbs is, for each hyperparameter θ (Rasmussen and Williams eq. 5.9),
//! ∂LML/∂θ = ½ tr((ααᵀ − K⁻¹) ∂K/∂θ), with ∂K/∂θ from the kernel (in log space) and
//! ∂K/∂log noise = noise·I.

use super::fit::{self, FitOptions, FitReport};
use super::kernel::{scaled_sq_dist, Kernel};
use super::linalg;
use crate::optim::Num;
use crate::{bail, ensure, Result};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// How to build a [`GaussianProcess`]; JSON in camelCase, every field optional.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct GpConfig {
    /// The covariance function. Default `rbf`.
    pub kernel: Kernel,
    /// The signal variance σ² (> 0). Default 1.
    pub variance: f64,
    /// One length-scale ℓ_d > 0 per input dimension; empty (the default) means 1 for each.
    pub length_scales: Vec<f64>,
    /// The observation-noise variance added to the training diagonal (>= 0). Default 1e-10,
    /// scikit-learn's `alpha`.
    pub noise: f64,
    /// Standardize the targets before fitting. Default false.
    pub normalize_y: bool,
}

impl Default for GpConfig {
    fn default() -> Self {
        GpConfig { kernel: Kernel::Rbf, variance: 1.0, length_scales: Vec::new(), noise: 1e-10, normalize_y: false }
    }
}

impl GpConfig {
    /// This config with the hyperparameters `params`.
    pub fn with_params(self, params: &Params) -> GpConfig {
        GpConfig { variance: params.variance, length_scales: params.length_scales.clone(), noise: params.noise, ..self }
    }
}

/// The kernel's hyperparameters: what fitting changes and [`GaussianProcess::params`] shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    pub variance: f64,
    pub length_scales: Vec<f64>,
    pub noise: f64,
}

impl Params {
    fn check(&self) -> Result<()> {
        ensure!(self.variance.is_finite() && self.variance > 0.0, "Invalid variance: {} (need a finite number > 0)", Num(self.variance));
        ensure!(self.noise.is_finite() && self.noise >= 0.0, "Invalid noise: {} (need a finite variance >= 0)", Num(self.noise));
        for (d, &l) in self.length_scales.iter().enumerate() {
            ensure!(l.is_finite() && l > 0.0, "Invalid length-scale for dimension {d}: {} (need a finite number > 0)", Num(l));
        }
        Ok(())
    }
}

/// Checked training data, targets standardized when asked: what the LML is evaluated on.
pub(crate) struct Data<'a> {
    pub x: &'a [f64],
    pub n: usize,
    pub dims: usize,
    pub y: Vec<f64>,
    pub y_mean: f64,
    pub y_std: f64,
}

impl<'a> Data<'a> {
    fn new(x: &'a [f64], dims: usize, y: &[f64], normalize_y: bool) -> Result<Data<'a>> {
        ensure!(dims >= 1, "Invalid dims: 0 (each input needs at least one coordinate)");
        ensure!(!y.is_empty(), "Invalid training data: no targets (need at least one observation)");
        ensure!(
            x.len() == y.len() * dims,
            "Invalid training data: {} input numbers for {} targets of {dims} dimensions (need {})",
            x.len(),
            y.len(),
            y.len() * dims
        );
        check_finite("training input", x)?;
        check_finite("target", y)?;
        let n = y.len();
        let (mut y_mean, mut y_std) = (0.0, 1.0);
        if normalize_y {
            y_mean = y.iter().sum::<f64>() / n as f64;
            let var = y.iter().map(|v| (v - y_mean).powi(2)).sum::<f64>() / n as f64;
            // scikit-learn divides by 1 for constant targets; rounding can leave a tiny std.
            y_std = if var.sqrt() > 1e-12 * y_mean.abs().max(1e-300) { var.sqrt() } else { 1.0 };
        }
        let y = y.iter().map(|v| (v - y_mean) / y_std).collect();
        Ok(Data { x, n, dims, y, y_mean, y_std })
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.dims..(i + 1) * self.dims]
    }
}

fn check_finite(what: &str, values: &[f64]) -> Result<()> {
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        bail!("Invalid {what} at index {i}: {} (need finite numbers)", Num(values[i]));
    }
    Ok(())
}

/// The LML at some hyperparameters, the factors that gave it and, if asked, its gradient
/// with respect to [log σ², log ℓ_1, …, log ℓ_d, log noise].
pub(crate) struct Evaluation {
    pub lml: f64,
    pub grad: Vec<f64>,
    l: Vec<f64>,
    alpha: Vec<f64>,
    jitter: f64,
}

/// Steps 1–3 and 6 of the algorithm (and eq. 5.9 when `want_grad`).
pub(crate) fn evaluate(kernel: Kernel, data: &Data, params: &Params, want_grad: bool) -> Result<Evaluation> {
    let (n, ls, var) = (data.n, &params.length_scales, params.variance);
    let mut k = vec![0.0; n * n]; // (n, n)
    for i in 0..n {
        for j in 0..=i {
            let v = kernel.value(var, ls, data.row(i), data.row(j));
            k[i * n + j] = v;
            k[j * n + i] = v;
        }
        k[i * n + i] += params.noise;
    }
    let (l, jitter) = linalg::cholesky_jittered(&k, n)?;
    let alpha = linalg::cho_solve(&l, n, &data.y);
    let fit: f64 = data.y.iter().zip(&alpha).map(|(y, a)| y * a).sum();
    let log_det_half: f64 = (0..n).map(|i| l[i * n + i].ln()).sum();
    let lml = -0.5 * fit - log_det_half - 0.5 * n as f64 * (2.0 * PI).ln();
    ensure!(lml.is_finite(), "The log marginal likelihood is not finite ({}); the targets may be too large for the variance", Num(lml));
    let mut grad = Vec::new();
    if want_grad {
        let d = data.dims;
        let inv = linalg::cho_inverse(&l, n);
        grad = vec![0.0; d + 2];
        for i in 0..n {
            for j in 0..=i {
                // W_ij = α_i α_j − (K⁻¹)_ij, each off-diagonal pair counted twice.
                let w = (alpha[i] * alpha[j] - inv[i * n + j]) * if i == j { 1.0 } else { 2.0 };
                let (a, b) = (data.row(i), data.row(j));
                let kf = k[i * n + j] - if i == j { params.noise } else { 0.0 }; // without the noise
                grad[0] += w * kf;
                if i != j {
                    let factor = var * kernel.length_scale_factor(scaled_sq_dist(ls, a, b));
                    for dim in 0..d {
                        grad[1 + dim] += w * factor * ((a[dim] - b[dim]) / ls[dim]).powi(2);
                    }
                } else {
                    grad[d + 1] += w * params.noise;
                }
            }
        }
        grad.iter_mut().for_each(|g| *g *= 0.5);
    }
    Ok(Evaluation { lml, grad, l, alpha, jitter })
}

/// What a fit leaves for predictions.
#[derive(Clone, Debug)]
struct Posterior {
    x: Vec<f64>,
    /// The targets as fitted (standardized under `normalize_y`).
    y: Vec<f64>,
    n: usize,
    dims: usize,
    y_mean: f64,
    y_std: f64,
    l: Vec<f64>,
    alpha: Vec<f64>,
    lml: f64,
    jitter: f64,
}

/// A Gaussian-process regressor; see the module documentation.
#[derive(Clone, Debug)]
pub struct GaussianProcess {
    kernel: Kernel,
    normalize_y: bool,
    /// Whether the length-scales came from the config (so their count is fixed).
    length_scales_given: bool,
    params: Params,
    posterior: Option<Posterior>,
}

impl GaussianProcess {
    /// An unfitted process; the hyperparameters are checked here.
    pub fn new(config: GpConfig) -> Result<GaussianProcess> {
        let params = Params { variance: config.variance, length_scales: config.length_scales, noise: config.noise };
        params.check()?;
        let length_scales_given = !params.length_scales.is_empty();
        Ok(GaussianProcess { kernel: config.kernel, normalize_y: config.normalize_y, length_scales_given, params, posterior: None })
    }

    /// Conditions on n observations: `x` holds n rows of `dims` numbers (row-major), `y` the n
    /// targets. With `options.optimize` the hyperparameters are fitted first, starting from
    /// the current ones; otherwise they are used as they are (the report is then empty).
    pub fn fit(&mut self, x: &[f64], dims: usize, y: &[f64], options: &FitOptions) -> Result<FitReport> {
        let data = Data::new(x, dims, y, self.normalize_y)?;
        if self.params.length_scales.len() != dims {
            ensure!(!self.length_scales_given, "Invalid length-scales: {} given for inputs of {dims} dimensions", self.params.length_scales.len());
            self.params.length_scales = vec![1.0; dims];
        }
        let report = if options.optimize { fit::optimize(self.kernel, &data, &self.params, options)? } else { FitReport::default() };
        if let Some(best) = report.best {
            self.params = report.starts[best].to.clone();
        }
        let e = evaluate(self.kernel, &data, &self.params, false)?;
        let posterior = Posterior {
            x: x.to_vec(),
            y: data.y.clone(),
            n: data.n,
            dims,
            y_mean: data.y_mean,
            y_std: data.y_std,
            l: e.l,
            alpha: e.alpha,
            lml: e.lml,
            jitter: e.jitter,
        };
        self.posterior = Some(posterior);
        Ok(report)
    }

    fn posterior(&self) -> Result<&Posterior> {
        match &self.posterior {
            Some(p) => Ok(p),
            None => bail!("The Gaussian process has not been fitted yet (call fit first)"),
        }
    }

    /// (mean, std) of f at one point of `dims` coordinates (steps 4–5).
    pub fn predict_point(&self, x: &[f64]) -> Result<(f64, f64)> {
        let p = self.posterior()?;
        ensure!(x.len() == p.dims, "Invalid query point: {} coordinates for a model of {} dimensions", x.len(), p.dims);
        check_finite("query coordinate", x)?;
        Ok(self.at(p, x))
    }

    fn at(&self, p: &Posterior, x: &[f64]) -> (f64, f64) {
        let (ls, var) = (&self.params.length_scales, self.params.variance);
        let ks: Vec<f64> = (0..p.n).map(|i| self.kernel.value(var, ls, &p.x[i * p.dims..(i + 1) * p.dims], x)).collect(); // (n,)
        let mean: f64 = ks.iter().zip(&p.alpha).map(|(k, a)| k * a).sum();
        let v = linalg::solve_lower(&p.l, p.n, &ks);
        let latent_var = (var - v.iter().map(|v| v * v).sum::<f64>()).max(0.0);
        (p.y_mean + p.y_std * mean, p.y_std * latent_var.sqrt())
    }

    /// (means, stds) at the rows of `x` (row-major, `dims` numbers per row).
    pub fn predict(&self, x: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
        let p = self.posterior()?;
        ensure!(x.len().is_multiple_of(p.dims), "Invalid query points: {} numbers is not a whole number of {}-dimensional points", x.len(), p.dims);
        check_finite("query coordinate", x)?;
        Ok(x.chunks(p.dims).map(|row| self.at(p, row)).unzip())
    }

    /// The log marginal likelihood of the training targets at the current hyperparameters.
    pub fn log_marginal_likelihood(&self) -> Result<f64> {
        Ok(self.posterior()?.lml)
    }

    /// ∂LML/∂(log σ², log ℓ_1, …, log ℓ_d, log noise) at the current hyperparameters: what
    /// fitting climbs (the first 1 + d entries are scikit-learn's `eval_gradient=True`).
    pub fn log_marginal_likelihood_gradient(&self) -> Result<Vec<f64>> {
        let p = self.posterior()?;
        let data = Data { x: &p.x, n: p.n, dims: p.dims, y: p.y.clone(), y_mean: p.y_mean, y_std: p.y_std };
        Ok(evaluate(self.kernel, &data, &self.params, true)?.grad)
    }

    /// The current hyperparameters (the fitted ones after an optimizing fit).
    pub fn params(&self) -> &Params {
        &self.params
    }

    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// The jitter the last fit had to add to the diagonal (0 when none was needed).
    pub fn jitter(&self) -> Option<f64> {
        self.posterior.as_ref().map(|p| p.jitter)
    }

    /// How many observations the model is conditioned on (0 before a fit).
    pub fn n_train(&self) -> usize {
        self.posterior.as_ref().map_or(0, |p| p.n)
    }
}
