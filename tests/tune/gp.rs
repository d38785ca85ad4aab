//! The Gaussian process: scikit-learn's numbers, closed forms, the LML gradient, fitting,
//! duplicates, and the checks on bad input.

use super::{close, fixture, GpCase};
use descent::tune::gp::{GaussianProcess, GpConfig};
use descent::tune::{FitOptions, Kernel};

fn fixed() -> FitOptions {
    FitOptions { optimize: false, ..FitOptions::default() }
}

fn fitted(c: &GpCase) -> GaussianProcess {
    let kernel = if c.kernel == "rbf" { Kernel::Rbf } else { Kernel::Matern52 };
    let config = GpConfig { kernel, variance: c.variance, length_scales: c.length_scales.clone(), noise: c.noise, normalize_y: c.normalize_y };
    let mut gp = GaussianProcess::new(config).unwrap();
    gp.fit(&c.x, c.dims, &c.y, &fixed()).unwrap();
    gp
}

/// Mean, std and LML against GaussianProcessRegressor(optimizer=None, alpha=noise).
///
/// Tolerance: 1e-9 relative (+1e-9 absolute) for means and the LML: both sides factor the
/// same matrix in double precision, in a different order, and the 200-point case's K has a
/// condition number near 1e6. The std is compared through the variance, σ_ours² against
/// σ_ref² to 1e-9 of the signal variance: at a training point with noise 1e-10 the variance is
/// ~1e-10, the difference of two numbers near 1, so its square root keeps only ~5 digits.
#[test]
fn matches_scikit_learn() {
    let f = fixture();
    for c in &f.gp {
        let gp = fitted(c);
        let (mean, std) = gp.predict(&c.x_star).unwrap();
        let scale = c.variance * if c.normalize_y { sample_var(&c.y) } else { 1.0 };
        for i in 0..mean.len() {
            assert!(close(mean[i], c.mean[i], 1e-9, 1e-9), "{}: mean[{i}] = {} vs scikit-learn {}", c.reason, mean[i], c.mean[i]);
            assert!(
                close(std[i] * std[i], c.std[i] * c.std[i], 1e-9, 1e-9 * scale),
                "{}: std[{i}] = {} vs scikit-learn {}",
                c.reason,
                std[i],
                c.std[i]
            );
        }
        let lml = gp.log_marginal_likelihood().unwrap();
        assert!(close(lml, c.lml, 1e-9, 1e-9), "{}: LML {lml} vs scikit-learn {}", c.reason, c.lml);
        let grad = gp.log_marginal_likelihood_gradient().unwrap();
        for (k, (ours, theirs)) in grad.iter().zip(&c.lml_gradient).enumerate() {
            assert!(close(*ours, *theirs, 1e-7, 1e-7), "{}: ∂LML/∂θ[{k}] = {ours} vs scikit-learn {theirs}", c.reason);
        }
        assert_eq!(grad.len(), c.lml_gradient.len() + 1, "ours adds ∂/∂log noise");
    }
}

/// The population variance, as normalize_y scales by (1 when the targets are constant).
fn sample_var(y: &[f64]) -> f64 {
    let m = y.iter().sum::<f64>() / y.len() as f64;
    let v = y.iter().map(|v| (v - m).powi(2)).sum::<f64>() / y.len() as f64;
    if v > 0.0 {
        v
    } else {
        1.0
    }
}

/// One observation (x₁, y₁), worked by hand: with k = k(x*, x₁) and s = σ² + noise,
/// mean = k·y₁/s and var = σ² − k²/s.
#[test]
fn one_observation_by_hand() {
    let (variance, noise, l, y1) = (2.0, 0.5, 0.4, 3.0);
    // (x*, k(x*, x₁) for x₁ = 0.1 by hand, kernel, reason)
    let r = 0.3 / l; // |x* − x₁|/ℓ at x* = 0.4
    let s5 = 5f64.sqrt() * r;
    let rows = [
        (0.1, variance, Kernel::Rbf, "at the observation: the noise shrinks the mean towards 0"),
        (0.4, variance * (-0.5 * r * r).exp(), Kernel::Rbf, "RBF at distance 0.3"),
        (0.4, variance * (1.0 + s5 + s5 * s5 / 3.0) * (-s5).exp(), Kernel::Matern52, "Matérn 5/2 at distance 0.3"),
        (50.0, 0.0, Kernel::Rbf, "far away: back to the prior, mean 0 and std σ"),
    ];
    for (x_star, k, kernel, reason) in rows {
        let mut gp = GaussianProcess::new(GpConfig { kernel, variance, length_scales: vec![l], noise, normalize_y: false }).unwrap();
        gp.fit(&[0.1], 1, &[y1], &fixed()).unwrap();
        let (mean, std) = gp.predict_point(&[x_star]).unwrap();
        let s = variance + noise;
        assert!(close(mean, k * y1 / s, 1e-14, 1e-15), "{reason}: mean {mean}");
        assert!(close(std * std, variance - k * k / s, 1e-13, 1e-15), "{reason}: std {std}");
        // log N(y₁; 0, s) = −½ y₁²/s − ½ log s − ½ log 2π
        let lml = -0.5 * y1 * y1 / s - 0.5 * s.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
        assert!(close(gp.log_marginal_likelihood().unwrap(), lml, 1e-14, 0.0), "{reason}: LML");
    }
}

fn data(n: usize) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).flat_map(|i| [(i as f64 * 0.37) % 1.0, (i as f64 * 0.61 + 0.2) % 1.0]).collect();
    let y = x.chunks(2).map(|p| (4.0 * p[0]).sin() + 0.2 * p[1]).collect();
    (x, y)
}

/// The noise gradient, which scikit-learn does not give, against central differences.
#[test]
fn noise_gradient_matches_finite_differences() {
    let (x, y) = data(9);
    for kernel in [Kernel::Rbf, Kernel::Matern52] {
        let config = |noise: f64| GpConfig { kernel, variance: 1.3, length_scales: vec![0.4, 0.9], noise, normalize_y: true };
        let lml_at = |log_noise: f64| {
            let mut gp = GaussianProcess::new(config(log_noise.exp())).unwrap();
            gp.fit(&x, 2, &y, &fixed()).unwrap();
            gp.log_marginal_likelihood().unwrap()
        };
        let (log_noise, h) = (0.02f64.ln(), 1e-5);
        let numeric = (lml_at(log_noise + h) - lml_at(log_noise - h)) / (2.0 * h);
        let mut gp = GaussianProcess::new(config(log_noise.exp())).unwrap();
        gp.fit(&x, 2, &y, &fixed()).unwrap();
        let analytic = gp.log_marginal_likelihood_gradient().unwrap()[3];
        assert!(close(analytic, numeric, 1e-6, 1e-8), "{kernel:?}: {analytic} vs {numeric}");
    }
}

/// Fitting climbs: the final LML is above the LML of every start, and it is the LML of the
/// hyperparameters the model keeps.
#[test]
fn fitting_raises_the_lml_above_every_start() {
    let (x, y) = data(12);
    for kernel in [Kernel::Rbf, Kernel::Matern52] {
        let mut gp = GaussianProcess::new(GpConfig { kernel, normalize_y: true, ..GpConfig::default() }).unwrap();
        let report = gp.fit(&x, 2, &y, &FitOptions { seed: 3, restarts: 3, ..FitOptions::default() }).unwrap();
        let fitted = gp.log_marginal_likelihood().unwrap();
        assert_eq!(report.starts.len(), 4);
        for (i, s) in report.starts.iter().enumerate() {
            assert!(fitted > s.from_lml + 1e-3, "{kernel:?}: start {i} had LML {} and the fit {fitted}", s.from_lml);
            assert!(s.to_lml >= s.from_lml, "{kernel:?}: start {i} went down");
        }
        assert!(close(fitted, report.starts[report.best.unwrap()].to_lml, 1e-12, 0.0));
        assert_eq!(gp.params(), &report.starts[report.best.unwrap()].to);
        // The noiseless data want a small noise and a short length-scale on the axis that matters.
        let p = gp.params();
        assert!(p.noise < 1e-3 && p.length_scales[0] < p.length_scales[1], "{kernel:?}: {p:?}");
    }
}

/// Duplicate inputs with no noise make K singular; jitter rescues the factorization and the
/// predictions stay finite, with a std >= 0.
#[test]
fn duplicates_without_noise_are_safe() {
    let x = [0.3, 0.3, 0.3, 0.7, 0.7];
    let y = [1.0, 1.0, 1.0, 2.0, 2.0];
    for kernel in [Kernel::Rbf, Kernel::Matern52] {
        let mut gp = GaussianProcess::new(GpConfig { kernel, noise: 0.0, length_scales: vec![0.5], ..GpConfig::default() }).unwrap();
        gp.fit(&x, 1, &y, &fixed()).unwrap();
        assert!(gp.jitter().unwrap() > 0.0, "{kernel:?}: a zero pivot needs jitter");
        let (mean, std) = gp.predict(&[0.3, 0.5, 0.7]).unwrap();
        assert!(mean.iter().chain(&std).all(|v| v.is_finite()) && std.iter().all(|s| *s >= 0.0), "{mean:?} {std:?}");
        assert!((mean[0] - 1.0).abs() < 1e-3 && (mean[2] - 2.0).abs() < 1e-3, "{mean:?}");
        let report = gp.fit(&x, 1, &y, &FitOptions::default()).unwrap();
        assert!(report.best.is_some() && gp.log_marginal_likelihood().unwrap().is_finite());
    }
}

/// Bad input is refused with a message naming the value.
#[test]
fn bad_input_is_refused_by_name() {
    let new = |c: GpConfig| GaussianProcess::new(c).map(|_| ()).unwrap_err().to_string();
    let rows = [
        (new(GpConfig { variance: -1.0, ..GpConfig::default() }), "Invalid variance: -1", "negative variance"),
        (new(GpConfig { noise: -0.1, ..GpConfig::default() }), "Invalid noise: -0.1", "negative noise"),
        (new(GpConfig { length_scales: vec![1.0, 0.0], ..GpConfig::default() }), "length-scale for dimension 1: 0", "zero length-scale"),
        (new(GpConfig { variance: f64::NAN, ..GpConfig::default() }), "Invalid variance: NaN", "NaN variance"),
    ];
    for (got, want, reason) in rows {
        assert!(got.contains(want), "{reason}: {got}");
    }
    let fit = |dims: usize, x: &[f64], y: &[f64], ls: Vec<f64>| {
        let mut gp = GaussianProcess::new(GpConfig { length_scales: ls, ..GpConfig::default() }).unwrap();
        gp.fit(x, dims, y, &fixed()).unwrap_err().to_string()
    };
    let rows = [
        (fit(0, &[], &[1.0], vec![]), "Invalid dims: 0", "dims 0"),
        (fit(2, &[0.1, 0.2, 0.3], &[1.0, 2.0], vec![]), "3 input numbers for 2 targets of 2 dimensions (need 4)", "wrong lengths"),
        (fit(1, &[0.1, f64::INFINITY], &[1.0, 2.0], vec![]), "training input at index 1: inf", "infinite input"),
        (fit(1, &[0.1, 0.2], &[1.0, f64::NAN], vec![]), "target at index 1: NaN", "NaN target"),
        (fit(1, &[], &[], vec![]), "no targets", "no data"),
        (fit(1, &[0.1], &[1.0], vec![1.0, 2.0]), "2 given for inputs of 1 dimensions", "length-scales of the wrong count"),
    ];
    for (got, want, reason) in rows {
        assert!(got.contains(want), "{reason}: {got}");
    }
    let mut gp = GaussianProcess::new(GpConfig::default()).unwrap();
    assert!(gp.predict(&[0.1]).unwrap_err().to_string().contains("call fit first"));
    gp.fit(&[0.1, 0.2], 2, &[1.0], &fixed()).unwrap();
    assert!(gp.predict(&[0.1, 0.2, 0.3]).unwrap_err().to_string().contains("not a whole number of 2-dimensional points"));
    assert!(gp.predict(&[0.1, f64::NAN]).unwrap_err().to_string().contains("query coordinate at index 1: NaN"));
    let bad_bounds = FitOptions { bounds: descent::tune::Bounds { noise: (0.0, 1.0), ..Default::default() }, ..FitOptions::default() };
    assert!(gp.fit(&[0.1, 0.2], 2, &[1.0], &bad_bounds).unwrap_err().to_string().contains("Invalid noise bounds: (0, 1)"));
}

/// The config is the JS API's: camelCase, every field optional.
#[test]
fn config_reads_camel_case_json() {
    let c: GpConfig = serde_json::from_str(r#"{ "kernel": "matern52", "lengthScales": [0.5, 2], "normalizeY": true }"#).unwrap();
    assert_eq!(c, GpConfig { kernel: Kernel::Matern52, length_scales: vec![0.5, 2.0], normalize_y: true, ..GpConfig::default() });
    let o: FitOptions = serde_json::from_str(r#"{ "optimize": false, "seed": 7 }"#).unwrap();
    assert!(!o.optimize && o.seed == 7 && o.restarts == FitOptions::default().restarts);
}

/// Fitting stays finite at the ends of the range the notebook uses: one observation (where
/// the length-scales have no say) and 200 (fewer steps and starts, to keep the test fast; the
/// points repeat with period 100, so this is also 100 pairs of duplicate inputs).
#[test]
fn fitting_is_safe_from_1_to_200_points() {
    for (n, options) in [(1, FitOptions::default()), (200, FitOptions { restarts: 1, max_iter: 40, ..FitOptions::default() })] {
        let (x, y) = data(n);
        for kernel in [Kernel::Rbf, Kernel::Matern52] {
            let mut gp = GaussianProcess::new(GpConfig { kernel, normalize_y: true, ..GpConfig::default() }).unwrap();
            let report = gp.fit(&x, 2, &y, &options).unwrap();
            let lml = gp.log_marginal_likelihood().unwrap();
            assert!(lml.is_finite() && lml >= report.starts[0].from_lml, "{kernel:?}, n = {n}: LML {lml}");
            let (mean, std) = gp.predict(&[0.5, 0.5, 0.1, 0.9]).unwrap();
            assert!(mean.iter().chain(&std).all(|v| v.is_finite()), "{kernel:?}, n = {n}: {mean:?} {std:?}");
        }
    }
}
