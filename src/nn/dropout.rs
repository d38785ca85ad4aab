//! Inverted dropout, as `torch.nn.Dropout` (Srivastava et al., 2014).
//!
//! Training: each value is kept with probability 1 − p and then scaled by 1/(1 − p), so the
//! expected value of every unit is unchanged:  y = x · mask / (1 − p),  mask ~ Bernoulli(1 − p).
//! Evaluation: identity. Because the scaling happens at training time, nothing has to be
//! rescaled at test time. Backward multiplies dy by the same mask and scale.
//!
//! Masks come from a seeded stream, so a run (masks included) replays exactly.

use crate::{ensure, Result, Rng};

/// Check a drop probability the way PyTorch does (0 ≤ p < 1 here: p = 1 would drop everything
/// and make the 1/(1 − p) scale infinite).
pub fn check_p(p: f32) -> Result<()> {
    ensure!((0.0..1.0).contains(&p), "dropout probability has to be in [0, 1), but got {p}");
    Ok(())
}

/// Apply dropout to `x`; returns the output and the per-value scale (0 or 1/(1 − p)) needed by
/// [`backward`]. In evaluation mode (or with p = 0) the output is `x` and the mask is empty.
pub fn forward(x: &[f32], p: f32, training: bool, rng: &mut Rng) -> Result<(Vec<f32>, Vec<f32>)> {
    check_p(p)?;
    if !training || p == 0.0 {
        return Ok((x.to_vec(), Vec::new()));
    }
    let scale = 1.0 / (1.0 - p);
    let mask: Vec<f32> = x.iter().map(|_| if rng.bernoulli(p) { 0.0 } else { scale }).collect();
    let y = x.iter().zip(&mask).map(|(v, m)| v * m).collect();
    Ok((y, mask))
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
        let (y, mask) = forward(&x, 0.3, true, &mut Rng::new(9)).unwrap();
        let mean = y.iter().sum::<f32>() / y.len() as f32;
        assert!((mean - 1.0).abs() < 0.01, "mean {mean}");
        let kept = mask.iter().filter(|&&m| m > 0.0).count() as f32 / mask.len() as f32;
        assert!((kept - 0.7).abs() < 0.01);
        assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6));
        let (y2, _) = forward(&x, 0.3, true, &mut Rng::new(9)).unwrap();
        assert_eq!(y, y2);
    }

    #[test]
    fn identity_in_evaluation_and_bad_p_refused() {
        let x = [1.0, -2.0, 3.0];
        assert_eq!(forward(&x, 0.5, false, &mut Rng::new(1)).unwrap().0, x.to_vec());
        for p in [-0.1, 1.0, 2.0, f32::NAN] {
            assert!(forward(&x, p, true, &mut Rng::new(1)).is_err(), "p = {p}");
        }
    }
}
