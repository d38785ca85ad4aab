//! Random search: independent uniform points of the unit cube, seeded.
//!
//! Each coordinate is uniform on [0, 1), so each dimension is sampled from the prior its
//! [`Kind`](super::space::Kind) states (a log-uniform learning rate, say), then snapped to the
//! value it maps to. Bergstra and Bengio ("Random search for hyper-parameter optimization",
//! JMLR 2012) show why this beats a grid of the same size: when only a few hyperparameters
//! matter, n random trials try n distinct values of each important one, where a k^d grid tries
//! only k = n^(1/d).
//!
//! The points come from the stream `"tune-random"` of the seed, so a search replays from it.

use super::space::Space;
use crate::{Result, Rng};

/// A uniform number in [0, 1) with 53 random bits (every double of that form equally likely).
pub fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// `n` random points of `space`'s unit cube, snapped, from `seed`.
pub fn design(space: &Space, n: usize, seed: u64) -> Result<Vec<Vec<f64>>> {
    let mut rng = Rng::stream(seed, "tune-random");
    (0..n).map(|_| space.snap(&(0..space.n_dims()).map(|_| unit(&mut rng)).collect::<Vec<_>>())).collect()
}
