#!/usr/bin/env python3
"""Write tests/fixtures/tune_gp.json: reference values for descent::tune from scikit-learn
and scipy.

Run from the repository root:

    pip install scikit-learn scipy mpmath
    python3 tools/tune_fixtures.py

The fixture records the versions that produced it. CI never runs this; tests/tune/main.rs reads
the committed JSON.

What it holds:

- "gp": Gaussian-process regressions, each GaussianProcessRegressor(kernel=ConstantKernel(σ²)
  * RBF(ℓ) or ConstantKernel(σ²) * Matern(ℓ, nu=2.5), alpha=noise, optimizer=None,
  normalize_y=...) fitted on a small data set, with the posterior mean and std at query
  points (predict(return_std=True)), the log marginal likelihood at the given
  hyperparameters, and its gradient with respect to scikit-learn's theta = (log σ², log ℓ_1,
  …, log ℓ_d) (the noise, alpha, is not one of scikit-learn's hyperparameters).
- "normal": scipy.stats.norm.cdf and .pdf at points from the far lower tail to the upper,
  and Φ worked out by mpmath at 50 digits ("cdf_exact"): in the lower tail scipy's own value
  is off by about z²·1e-16 relative (the rounding of z/√2, magnified), so the tests compare
  with both.
- "acquisition": expected improvement and probability of improvement for minimization,
  written out from scipy's cdf and pdf: EI = (y* − μ − ξ)Φ(z) + σφ(z), PI = Φ(z),
  z = (y* − μ − ξ)/σ; for σ = 0, max(y* − μ − ξ, 0) and [y* − μ − ξ > 0]; and EI by the same
  formula in mpmath at 50 digits ("ei_exact"), since deep in the tail the two terms cancel.
"""

import json
import os

import mpmath
import numpy as np
import scipy
import sklearn
from scipy.stats import norm
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Matern

mpmath.mp.dps = 50

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tune_gp.json")

rng = np.random.default_rng(20240614)


def smooth(x):
    """A smooth test function of the rows of x (n, d)."""
    return np.sin(3.0 * x[:, 0]) + 0.5 * np.cos(2.0 * x.sum(axis=1)) + 0.3 * x[:, -1] ** 2


def case(reason, kernel, variance, length_scales, noise, normalize_y, x, y, x_star):
    ls = np.asarray(length_scales, dtype=float)
    shape = RBF(length_scale=ls) if kernel == "rbf" else Matern(length_scale=ls, nu=2.5)
    gpr = GaussianProcessRegressor(kernel=ConstantKernel(variance) * shape, alpha=noise, optimizer=None, normalize_y=normalize_y)
    gpr.fit(x, y)
    mean, std = gpr.predict(x_star, return_std=True)
    lml, grad = gpr.log_marginal_likelihood(gpr.kernel_.theta, eval_gradient=True)
    return {
        "reason": reason,
        "kernel": kernel,
        "variance": variance,
        "length_scales": ls.tolist(),
        "noise": noise,
        "normalize_y": normalize_y,
        "dims": x.shape[1],
        "x": x.ravel().tolist(),
        "y": y.tolist(),
        "x_star": x_star.ravel().tolist(),
        "mean": mean.tolist(),
        "std": std.tolist(),
        "lml": float(lml),
        "lml_gradient": grad.tolist(),
    }


def gp_cases():
    cases = []
    x1 = np.array([[0.05], [0.2], [0.45], [0.6], [0.9]])
    y1 = smooth(x1)
    q1 = np.linspace(0.0, 1.0, 11)[:, None]
    for kernel in ["rbf", "matern52"]:
        cases.append(case(f"1-D {kernel}, almost noiseless: interpolates", kernel, 1.0, [0.3], 1e-10, False, x1, y1, q1))
        cases.append(case(f"1-D {kernel}, normalized targets, some noise", kernel, 0.8, [0.2], 1e-2, True, x1, y1 + 3.0, q1))
    x2 = rng.uniform(0.0, 1.0, size=(8, 2))
    q2 = rng.uniform(-0.2, 1.2, size=(6, 2))
    cases.append(case("2-D rbf, anisotropic length-scales, normalized", "rbf", 2.5, [0.3, 2.0], 1e-2, True, x2, smooth(x2), q2))
    cases.append(case("2-D matern52, anisotropic, unnormalized", "matern52", 1.5, [0.5, 0.25], 1e-4, False, x2, smooth(x2), q2))
    x3 = rng.uniform(0.0, 1.0, size=(20, 3))
    q3 = rng.uniform(0.0, 1.0, size=(5, 3))
    y3 = 10.0 + 2.0 * smooth(x3) + rng.normal(0.0, 0.1, size=20)
    cases.append(case("3-D matern52, noisy targets far from 0, normalized", "matern52", 1.0, [0.4, 0.7, 1.5], 0.1, True, x3, y3, q3))
    cases.append(case("3-D rbf, noisy targets far from 0, not normalized: the prior mean 0 pulls", "rbf", 4.0, [0.4, 0.7, 1.5], 0.1, False, x3, y3, q3))
    one = np.array([[0.3, 0.7]])
    cases.append(case("one observation, normalized (std 0 is taken as 1)", "rbf", 1.0, [0.5, 0.5], 1e-10, True, one, np.array([2.0]), q2))
    dup = np.array([[0.2], [0.2], [0.5], [0.5], [0.5], [0.8]])
    cases.append(case("duplicate inputs with noise: averages the repeats", "matern52", 1.0, [0.3], 0.05, False, dup, np.array([0.1, 0.3, -0.2, 0.0, -0.1, 0.4]), q1))
    x200 = rng.uniform(0.0, 1.0, size=(200, 2))
    q200 = rng.uniform(0.0, 1.0, size=(10, 2))
    y200 = smooth(x200) + rng.normal(0.0, 0.05, size=200)
    cases.append(case("200 observations in 2-D", "rbf", 1.0, [0.3, 0.5], 1e-3, True, x200, y200, q200))
    return cases


def normal_cases():
    z = [-37.0, -20.0, -10.0, -8.0, -5.0, -3.0, -1.5, -0.5, -0.1, 0.0, 0.2, 0.46875, 1.0, 2.0, 3.5, 6.0, 9.0]
    return [{"z": v, "cdf": float(norm.cdf(v)), "pdf": float(norm.pdf(v)), "cdf_exact": float(mpmath.ncdf(v))} for v in z]


def acquisition_cases():
    rows = [
        (0.5, 0.2, 0.4, 0.01, "mean above the best: EI from the spread alone"),
        (0.3, 0.2, 0.4, 0.01, "mean below the best"),
        (0.3, 0.05, 0.4, 0.0, "no xi, small spread"),
        (0.3, 1e-3, 0.4, 0.01, "nearly certain improvement"),
        (2.0, 0.1, 0.4, 0.01, "hopeless: z = -16.1, EI deep in the tail"),
        (0.0, 3.0, 0.0, 0.5, "wide spread, large xi"),
        (0.3, 0.0, 0.4, 0.01, "sigma = 0, an improvement: max(y* - mu - xi, 0)"),
        (0.5, 0.0, 0.4, 0.01, "sigma = 0, no improvement: 0"),
        (-1.0, 0.5, -0.8, -0.05, "negative xi"),
    ]
    out = []
    for mean, std, best, xi, reason in rows:
        imp = best - mean - xi
        if std == 0.0:
            ei, pi, exact = max(imp, 0.0), 1.0 if imp > 0 else 0.0, max(imp, 0.0)
        else:
            z = imp / std
            ei, pi = imp * norm.cdf(z) + std * norm.pdf(z), norm.cdf(z)
            # The same formula from the same doubles, in 50 digits.
            m_imp = mpmath.mpf(best) - mpmath.mpf(mean) - mpmath.mpf(xi)
            m_z = m_imp / mpmath.mpf(std)
            exact = m_imp * mpmath.ncdf(m_z) + mpmath.mpf(std) * mpmath.npdf(m_z)
        out.append({"reason": reason, "mean": mean, "std": std, "best": best, "xi": xi, "ei": float(ei), "pi": float(pi), "ei_exact": float(exact)})
    return out


def main():
    fixture = {
        "generator": "tools/tune_fixtures.py",
        "sklearn": sklearn.__version__,
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "mpmath": mpmath.__version__,
        "gp": gp_cases(),
        "normal": normal_cases(),
        "acquisition": acquisition_cases(),
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}: {len(fixture['gp'])} GP cases, {len(fixture['normal'])} normal points, {len(fixture['acquisition'])} acquisition rows")


if __name__ == "__main__":
    main()
