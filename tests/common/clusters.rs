//! Four noisy clusters in 12 dimensions, for the trainer's and the scheduler's native tests:
//! learnable, so losses move and epochs differ, and small, so a run takes milliseconds.

use descent::data::Dataset;
use std::sync::Arc;

/// `n` examples of 4 classes; each class lights up every fourth feature, plus N(0, noise²).
pub fn clusters(n: usize, seed: u64, noise: f32) -> Arc<Dataset> {
    let mut rng = descent::Rng::new(seed);
    let labels: Vec<u8> = (0..n).map(|i| (i % 4) as u8).collect();
    let x = labels
        .iter()
        .flat_map(|&c| (0..12).map(move |j| if j % 4 == c as usize { 1.0 } else { 0.0 }))
        .map(|v: f32| v + rng.normal(0.0, noise))
        .collect();
    Arc::new(Dataset::new(x, labels, 12, 4).unwrap())
}
