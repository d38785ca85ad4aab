//! Losses: softmax cross-entropy (as `torch.nn.functional.cross_entropy` on logits) and mean
//! squared error (as `mse_loss`).
//!
//! Cross-entropy of one row z (c logits) with label y, computed stably with the log-sum-exp
//! trick (subtract the row maximum M before exponentiating, so nothing overflows):
//!   ℓ = log Σ_k e^{z_k} − z_y = M + log Σ_k e^{z_k − M} − z_y
//!   ∂ℓ/∂z_k = softmax(z)_k − [k = y]
//! `reduction = mean` divides the summed loss (and so every gradient) by the batch size m;
//! `sum` does not. With `sum`, the gradient grows with m, and so does the effective step of
//! SGD: that is the "averaging or summing?" experiment.

use super::check_batch;
use crate::{bail, ensure, Result};
use serde::{Deserialize, Serialize};

/// How per-example losses are combined.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    #[default]
    Mean,
    Sum,
}

impl Reduction {
    /// The loss of one example, from a batch's `loss` of `rows` rows reduced this way (what
    /// the divergence guard compares with its limit).
    pub fn per_example(self, loss: f32, rows: usize) -> f32 {
        match self {
            Reduction::Mean => loss,
            Reduction::Sum => loss / rows as f32,
        }
    }

    pub fn parse(s: &str) -> Result<Reduction> {
        match s {
            "mean" => Ok(Reduction::Mean),
            "sum" => Ok(Reduction::Sum),
            other => bail!("unknown reduction \"{other}\"; expected \"mean\" or \"sum\""),
        }
    }
}

/// Row-wise softmax of (batch × classes) logits.
pub fn softmax(logits: &[f32], classes: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(logits.len());
    softmax_into(logits, classes, &mut out);
    out
}

/// [`softmax`] into `out` (cleared first, its allocation kept).
pub fn softmax_into(logits: &[f32], classes: usize, out: &mut Vec<f32>) {
    out.clear();
    for row in logits.chunks_exact(classes) {
        let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let start = out.len();
        let mut s = 0f32;
        for &z in row {
            let e = (z - m).exp();
            s += e;
            out.push(e);
        }
        out[start..].iter_mut().for_each(|e| *e /= s);
    }
}

/// Cross-entropy of (batch × classes) logits against integer labels. Returns the loss and
/// ∂loss/∂logits.
pub fn cross_entropy(logits: &[f32], labels: &[u32], classes: usize, reduction: Reduction) -> Result<(f32, Vec<f32>)> {
    let mut grad = Vec::new();
    let loss = cross_entropy_into(logits, labels, classes, reduction, &mut grad)?;
    Ok((loss, grad))
}

/// [`cross_entropy`], writing ∂loss/∂logits into `grad` (its allocation kept).
pub fn cross_entropy_into(logits: &[f32], labels: &[u32], classes: usize, reduction: Reduction, grad: &mut Vec<f32>) -> Result<f32> {
    let batch = labels.len();
    check_batch("cross-entropy", logits, batch, classes)?;
    if let Some((i, &l)) = labels.iter().enumerate().find(|(_, &l)| l as usize >= classes) {
        bail!("cross-entropy: label {l} at row {i} is out of range for {classes} classes");
    }
    softmax_into(logits, classes, grad);
    let mut total = 0f64;
    for (i, (row, &y)) in logits.chunks_exact(classes).zip(labels).enumerate() {
        let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let lse = m as f64 + row.iter().map(|&z| ((z - m) as f64).exp()).sum::<f64>().ln();
        total += lse - row[y as usize] as f64;
        grad[i * classes + y as usize] -= 1.0;
    }
    let scale = match reduction {
        Reduction::Mean => 1.0 / batch as f32,
        Reduction::Sum => 1.0,
    };
    if reduction == Reduction::Mean {
        grad.iter_mut().for_each(|g| *g *= scale);
        total /= batch as f64;
    }
    Ok(total as f32)
}

/// Mean squared error between predictions and targets of the same shape, and its gradient.
/// `mean` averages over every element, as PyTorch does.
pub fn mse(pred: &[f32], target: &[f32], reduction: Reduction) -> Result<(f32, Vec<f32>)> {
    ensure!(pred.len() == target.len(), "MSE: {} predictions but {} targets", pred.len(), target.len());
    ensure!(!pred.is_empty(), "MSE: nothing to compare");
    let n = pred.len() as f32;
    let scale = if reduction == Reduction::Mean { 1.0 / n } else { 1.0 };
    let total: f64 = pred.iter().zip(target).map(|(p, t)| ((p - t) as f64).powi(2)).sum();
    let grad = pred.iter().zip(target).map(|(p, t)| 2.0 * (p - t) * scale).collect();
    Ok(((total * scale as f64) as f32, grad))
}

/// The predicted class of each row (first maximum wins, as `argmax`).
pub fn argmax_rows(logits: &[f32], classes: usize) -> Vec<usize> {
    logits.chunks_exact(classes).map(argmax).collect()
}

/// The index of a row's largest value (the first one on a tie; NaN never wins).
pub fn argmax(row: &[f32]) -> usize {
    row.iter().enumerate().fold(0, |best, (k, &v)| if v > row[best] { k } else { best })
}

/// How many rows' [`argmax`] is not their label.
pub fn count_wrong(logits: &[f32], labels: &[u32], classes: usize) -> usize {
    logits.chunks_exact(classes).zip(labels).filter(|(row, &y)| argmax(row) != y as usize).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_logits_do_not_overflow() {
        let (loss, grad) = cross_entropy(&[1000.0, 0.0, -1000.0], &[0], 3, Reduction::Mean).unwrap();
        assert!(loss.abs() < 1e-6 && grad.iter().all(|g| g.is_finite()));
        let (loss, _) = cross_entropy(&[1000.0, 0.0, -1000.0], &[2], 3, Reduction::Mean).unwrap();
        assert!((loss - 2000.0).abs() < 1e-3);
    }

    #[test]
    fn sum_is_batch_times_mean() {
        let logits = [0.3, -1.2, 2.0, 0.1, 0.0, -0.5];
        let (m, gm) = cross_entropy(&logits, &[2, 0], 3, Reduction::Mean).unwrap();
        let (s, gs) = cross_entropy(&logits, &[2, 0], 3, Reduction::Sum).unwrap();
        assert!((s - 2.0 * m).abs() < 1e-6);
        gm.iter().zip(&gs).for_each(|(a, b)| assert!((2.0 * a - b).abs() < 1e-6));
    }

    #[test]
    fn bad_labels_and_shapes_are_refused() {
        assert!(cross_entropy(&[0.0; 6], &[0, 3], 3, Reduction::Mean).unwrap_err().message().contains("out of range"));
        assert!(cross_entropy(&[0.0; 5], &[0, 1], 3, Reduction::Mean).is_err());
        assert!(mse(&[1.0], &[1.0, 2.0], Reduction::Mean).is_err());
    }
}
