//! Small synthetic inputs: Gaussian noise batches (the recitation's "type check" of the batch
//! dimension) and 2-D toy sets.

use crate::Rng;

/// A (batch × features) matrix of standard-normal noise from the seed's `"noise"` stream.
pub fn gaussian_noise(batch: usize, features: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::stream(seed, "noise");
    (0..batch * features).map(|_| rng.normal(0.0, 1.0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_has_the_asked_shape_and_is_seeded() {
        let a = gaussian_noise(3, 5, 1);
        assert_eq!(a.len(), 15);
        assert_eq!(a, gaussian_noise(3, 5, 1));
        assert_ne!(a, gaussian_noise(3, 5, 2));
    }
}
