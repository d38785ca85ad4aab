//! Inverted dropout, as `torch.nn.Dropout` (Srivastava et al., 2014).
//!
//! Training: each value is kept with probability 1 − p and then scaled by 1/(1 − p), so the
//! expected value of every unit is unchanged:  y = x · mask / (1 − p),  mask ~ Bernoulli(1 − p).
//! Evaluation: identity. Because the scaling happens at training time, nothing has to be
//! rescaled at test time. Backward multiplies dy by the same mask and scale.
//!
//! # Where the masks come from
//!
//! A counter-based generator: whether element `i` of a layer's output is dropped at training
//! step `t` is a pure function of (key, t, i), where the key mixes the model's seed with the
//! layer index. So a run replays from its seed with no generator state to carry, and the CPU
//! here and the GPU (`gpu/rng.wgsl`, the same function in WGSL) draw the very same
//! masks: a run with dropout gives the same numbers on both paths. The generator lives in
//! `rng` with the seed's other streams ([`crate::rng::uniform01`]). PyTorch draws its masks from its own generator, so
//! masks (not their statistics) differ from PyTorch's.

use crate::{ensure, Result};

/// Check a drop probability the way PyTorch does (0 ≤ p < 1 here: p = 1 would drop everything
/// and make the 1/(1 − p) scale infinite).
pub fn check_p(p: f32) -> Result<()> {
    ensure!((0.0..1.0).contains(&p), "dropout probability has to be in [0, 1), but got {p}");
    Ok(())
}

pub use crate::rng::{dropout_key as key, mix32, uniform01};

/// The mask of `n` elements at `step`: 0 where dropped (probability p), else 1/(1 − p).
pub fn mask(key: u32, step: u32, n: usize, p: f32) -> Vec<f32> {
    let scale = 1.0 / (1.0 - p);
    (0..n).map(|i| mask_value(key, step, i, p, scale)).collect()
}

/// Element `i` of the mask of (`key`, `step`): 0 where dropped, else `scale` = 1/(1 − p).
#[inline]
fn mask_value(key: u32, step: u32, i: usize, p: f32, scale: f32) -> f32 {
    if uniform01(key, step, i as u32) < p {
        0.0
    } else {
        scale
    }
}

/// Apply dropout to `x` with the mask of (`key`, `step`); returns the output and the mask
/// (0 or 1/(1 − p) per value) needed by [`backward`]. In evaluation mode (or with p = 0) the
/// output is `x` and the mask is empty.
pub fn forward(x: &[f32], p: f32, training: bool, key: u32, step: u32) -> Result<(Vec<f32>, Vec<f32>)> {
    let (mut y, mut mask) = (Vec::new(), Vec::new());
    forward_into(x, p, training, key, step, &mut y, &mut mask)?;
    Ok((y, mask))
}

/// [`forward`] into `y` and `mask`, whose allocations are kept (a training run reuses them
/// from step to step); their old values are overwritten.
pub fn forward_into(x: &[f32], p: f32, training: bool, key: u32, step: u32, y: &mut Vec<f32>, mask: &mut Vec<f32>) -> Result<()> {
    check_p(p)?;
    y.clear();
    mask.clear();
    if !training || p == 0.0 {
        y.extend_from_slice(x);
        return Ok(());
    }
    let scale = 1.0 / (1.0 - p);
    mask.extend((0..x.len()).map(|i| mask_value(key, step, i, p, scale)));
    y.extend(x.iter().zip(mask.iter()).map(|(v, m)| v * m));
    Ok(())
}

/// Dropout applied to `x` in place, in training, where the mask need not be kept (the input
/// layer's: the first layer caches the dropped pixels themselves). The values of [`forward`].
pub fn apply(x: &mut [f32], p: f32, key: u32, step: u32) -> Result<()> {
    check_p(p)?;
    if p > 0.0 {
        let scale = 1.0 / (1.0 - p);
        for (i, v) in x.iter_mut().enumerate() {
            *v *= mask_value(key, step, i, p, scale);
        }
    }
    Ok(())
}

/// dx = dy · mask (identity when the mask is empty).
pub fn backward(dy: &mut [f32], mask: &[f32]) {
    if !mask.is_empty() {
        dy.iter_mut().zip(mask).for_each(|(d, m)| *d *= m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_expected_value_and_replays() {
        let x = vec![1.0f32; 100_000];
        let (y, mask) = forward(&x, 0.3, true, key(9, 0), 0).unwrap();
        let mean = y.iter().sum::<f32>() / y.len() as f32;
        assert!((mean - 1.0).abs() < 0.01, "mean {mean}");
        let kept = mask.iter().filter(|&&m| m > 0.0).count() as f32 / mask.len() as f32;
        assert!((kept - 0.7).abs() < 0.01);
        assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6));
        let (y2, _) = forward(&x, 0.3, true, key(9, 0), 0).unwrap();
        assert_eq!(y, y2);
        for (other, why) in [
            (forward(&x, 0.3, true, key(9, 0), 1), "next step"),
            (forward(&x, 0.3, true, key(9, 1), 0), "next layer"),
            (forward(&x, 0.3, true, key(10, 0), 0), "another seed"),
        ] {
            assert_ne!(other.unwrap().0, y, "{why}: a fresh mask");
        }
    }

    #[test]
    fn identity_in_evaluation_and_bad_p_refused() {
        let x = [1.0, -2.0, 3.0];
        assert_eq!(forward(&x, 0.5, false, 1, 0).unwrap().0, x.to_vec());
        for p in [-0.1, 1.0, 2.0, f32::NAN] {
            assert!(forward(&x, p, true, 1, 0).is_err(), "p = {p}");
        }
    }

    #[test]
    fn the_hash_keeps_one_minus_p_and_decorrelates_steps_and_layers() {
        let k = key(42, 0);
        assert_ne!(k, key(42, 1), "layers get their own masks");
        assert_ne!(k, key(43, 0), "seeds get their own masks");
        let n = 200_000;
        for p in [0.1f32, 0.5, 0.8] {
            let mask = mask(k, 7, n, p);
            let kept = mask.iter().filter(|&&m| m > 0.0).count() as f64 / n as f64;
            let sd = ((1.0 - p as f64) * p as f64 / n as f64).sqrt();
            assert!((kept - (1.0 - p as f64)).abs() < 5.0 * sd, "p = {p}: kept {kept}");
            assert!(mask.iter().all(|&m| m == 0.0 || m == 1.0 / (1.0 - p)));
        }
        // Two steps' masks agree on about p² + (1 − p)² of the elements, as independent draws do.
        let (a, b) = (mask(k, 1, n, 0.5), mask(k, 2, n, 0.5));
        let same = a.iter().zip(&b).filter(|(x, y)| x == y).count() as f64 / n as f64;
        assert!((same - 0.5).abs() < 0.01, "steps: {same}");
        // Neighbouring elements are uncorrelated.
        let pairs = a.windows(2).filter(|w| w[0] == w[1]).count() as f64 / (n - 1) as f64;
        assert!((pairs - 0.5).abs() < 0.01, "neighbours: {pairs}");
    }
}
