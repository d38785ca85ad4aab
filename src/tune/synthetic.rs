//! A fast stand-in for a real training run, to compare search methods over many seeds: a
//! smooth function of two hyperparameters of which only the first matters much.
//!
//! On the unit square, with u the important and v the unimportant coordinate,
//!
//! f(u, v) = 0.05 + 0.9·(1 − exp(−(u − 0.27)²/(2·0.12²))) + 0.1·(v − 0.6)².
//!
//! Read it as a validation error against (log learning rate, log L2 strength): a basin about
//! 0.12 wide around the right learning rate, climbing from the best error 0.05 towards 0.95
//! away from it, while the penalty moves the error by at most 0.036. That is the shape
//! Bergstra and Bengio (JMLR 2012) report for real networks: a low effective dimension. The
//! minimum, 0.05 at (0.27, 0.6), lies off the 4 × 4 grid's levels (0.125, 0.375, 0.625, 0.875),
//! as a real optimum would.

use super::space::{Dimension, Space};

/// Where the minimum is, (u, v).
pub const MINIMUM: [f64; 2] = [0.27, 0.6];
/// The minimum value.
pub const MINIMUM_VALUE: f64 = 0.05;

/// f(u, v); see the module documentation. Defined for any real u, v.
pub fn value(u: f64, v: f64) -> f64 {
    let basin = 1.0 - (-(u - MINIMUM[0]).powi(2) / (2.0 * 0.12 * 0.12)).exp();
    MINIMUM_VALUE + 0.9 * basin + 0.1 * (v - MINIMUM[1]).powi(2)
}

/// The search space of [`value`]: two uniform dimensions on [0, 1], `important` and
/// `unimportant`, so unit coordinates and values coincide.
pub fn space() -> Space {
    let dims = vec![Dimension::uniform("important", 0.0, 1.0).expect("valid"), Dimension::uniform("unimportant", 0.0, 1.0).expect("valid")];
    Space::new(dims).expect("distinct names")
}
