//! The normal distribution and the acquisition functions against scipy.

use super::{close, fixture};
use descent::tune::acquisition::{expected_improvement, lower_confidence_bound, probability_of_improvement, DEFAULT_KAPPA, DEFAULT_XI};
use descent::tune::{normal, Acquisition};

/// The relative error a double-precision Φ(z), φ(z) can have: rounding z (or z/√2, or z²)
/// by ε moves the result by about z²·ε relative, because d log Φ/dz ≈ |z| in the lower tail.
/// So no implementation, ours or scipy's, does better than a few ε·(1 + z²) there.
fn tail_tolerance(z: f64) -> f64 {
    4.0 * f64::EPSILON * (1.0 + z * z)
}

/// Φ and φ against mpmath's exact Φ and against scipy.stats.norm, from z = −37 (Φ ≈ 6e-300)
/// up: the lower tail is where expected improvement is computed for hopeless candidates, so
/// relative accuracy there matters, and Cody's approximation keeps it.
#[test]
fn normal_matches_scipy() {
    for c in &fixture().normal {
        let (cdf, pdf, tol) = (normal::cdf(c.z), normal::pdf(c.z), tail_tolerance(c.z));
        assert!(close(cdf, c.cdf_exact, tol, 1e-300), "Φ({}) = {cdf:e}, exactly {:e}", c.z, c.cdf_exact);
        assert!(close(cdf, c.cdf, 2.0 * tol, 1e-300), "Φ({}) = {cdf:e}, scipy {:e}", c.z, c.cdf);
        assert!(close(pdf, c.pdf, 2.0 * tol, 1e-300), "φ({}) = {pdf:e}, scipy {:e}", c.z, c.pdf);
    }
}

/// EI and PI against the formulas evaluated with scipy's cdf and pdf, and EI against the same
/// formula in 50-digit arithmetic. Deep in the tail EI = σ(φ(z) + zΦ(z)) is a difference of
/// two terms z² times larger than itself, so the tolerance is the tail tolerance of Φ times
/// (1 + z²): at z = −16.1 that is 6e-11 relative (ours is off by 1e-12, scipy's by 7e-12).
#[test]
fn expected_improvement_matches_scipy() {
    for c in &fixture().acquisition {
        let ei = expected_improvement(c.mean, c.std, c.best, c.xi);
        let pi = probability_of_improvement(c.mean, c.std, c.best, c.xi);
        let z = if c.std > 0.0 { (c.best - c.mean - c.xi) / c.std } else { 0.0 };
        let tol = tail_tolerance(z) * (1.0 + z * z);
        assert!(close(ei, c.ei_exact, tol, 1e-300), "{}: EI {ei:e}, exactly {:e}", c.reason, c.ei_exact);
        assert!(close(ei, c.ei, 2.0 * tol, 1e-300), "{}: EI {ei:e}, scipy {:e}", c.reason, c.ei);
        assert!(close(pi, c.pi, 2.0 * tail_tolerance(z), 1e-300), "{}: PI {pi:e}, scipy {:e}", c.reason, c.pi);
    }
}

#[test]
fn defaults_and_scores() {
    assert_eq!((DEFAULT_XI, DEFAULT_KAPPA), (0.01, 1.96));
    assert_eq!(lower_confidence_bound(1.0, 0.5, 1.96), 1.0 - 0.98);
    // (acquisition, mean, std, score, reason)
    let rows = [
        (Acquisition::ExpectedImprovement, 0.3, 0.0, 0.09, "EI with σ = 0: y* − μ − ξ = 0.4 − 0.3 − 0.01"),
        (Acquisition::ProbabilityOfImprovement, 0.3, 0.0, 1.0, "PI with σ = 0 and an improvement"),
        (Acquisition::LowerConfidenceBound, 1.0, 0.5, -0.02, "the score is −LCB, to maximize"),
    ];
    for (acq, mean, std, want, reason) in rows {
        let got = acq.score(mean, std, 0.4, DEFAULT_XI, DEFAULT_KAPPA);
        assert!(close(got, want, 1e-14, 1e-16), "{reason}: {got}");
    }
    // More spread never lowers EI at a fixed mean (∂EI/∂σ = φ(z) >= 0).
    let spread: Vec<f64> = (0..20).map(|i| expected_improvement(0.5, 0.05 * i as f64, 0.4, 0.01)).collect();
    assert!(spread.windows(2).all(|w| w[1] >= w[0]), "{spread:?}");
    let json: Acquisition = serde_json::from_str("\"lcb\"").unwrap();
    assert_eq!(json, Acquisition::LowerConfidenceBound);
}

#[test]
fn scores_check_their_input() {
    let ei = Acquisition::ExpectedImprovement;
    let rows = [
        (ei.scores(&[0.1, 0.2], &[0.1], 0.0, 0.01, 1.96), "2 means but 1 stds", "lengths differ"),
        (ei.scores(&[0.1], &[-0.1], 0.0, 0.01, 1.96), "Invalid std at index 0: -0.1", "negative std"),
        (ei.scores(&[f64::NAN], &[0.1], 0.0, 0.01, 1.96), "Invalid mean at index 0: NaN", "NaN mean"),
        (ei.scores(&[0.1], &[0.1], f64::INFINITY, 0.01, 1.96), "Invalid best value: inf", "infinite best"),
        (ei.scores(&[0.1], &[0.1], 0.0, 0.01, -1.0), "Invalid kappa: -1", "negative kappa"),
    ];
    for (got, want, reason) in rows {
        let message = got.unwrap_err().to_string();
        assert!(message.contains(want), "{reason}: {message}");
    }
    assert_eq!(ei.scores(&[0.3], &[0.0], 0.4, 0.01, 1.96).unwrap().len(), 1);
}
