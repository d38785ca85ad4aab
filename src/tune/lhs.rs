//! Latin-hypercube sampling: a space-filling random design, the start of Bayesian optimization.
//!
//! For n points, cut every axis of the unit cube into n equal strata. Each axis gets its own
//! random permutation π of 0..n, and point i takes, on that axis, a uniform draw inside
//! stratum π(i): x_i = (π(i) + U)/n with U uniform on [0, 1). So every stratum of every axis
//! holds exactly one point: projected onto any one hyperparameter, the n points are spread
//! evenly, which plain random points are not (McKay, Beckman and Conover, "A comparison of
//! three methods for selecting values of input variables in the analysis of output from a
//! computer code", Technometrics 1979). The points are then snapped to the values they map to.
//!
//! Draws come from the stream `"tune-lhs"` of the seed: for each axis in turn the permutation,
//! then the n offsets.

use super::random::unit;
use super::space::Space;
use crate::{Result, Rng};

/// `n` points of `space`'s unit cube in a Latin hypercube, snapped, from `seed`.
pub fn design(space: &Space, n: usize, seed: u64) -> Result<Vec<Vec<f64>>> {
    let mut rng = Rng::stream(seed, "tune-lhs");
    let mut points = vec![vec![0.0; space.n_dims()]; n];
    for axis in 0..space.n_dims() {
        let strata = rng.permutation(n);
        for (point, stratum) in points.iter_mut().zip(strata) {
            point[axis] = (stratum as f64 + unit(&mut rng)) / n as f64;
        }
    }
    points.iter().map(|p| space.snap(p)).collect()
}
