//! Batch normalization over a (batch × features) input, as `torch.nn.BatchNorm1d`
//! (Ioffe & Szegedy, 2015).
//!
//! Training, per feature j over the m rows of the batch:
//!   μ_j  = (1/m) Σ_i x_ij
//!   σ²_j = (1/m) Σ_i (x_ij − μ_j)²            (biased: divides by m)
//!   x̂_ij = (x_ij − μ_j) / √(σ²_j + ε)
//!   y_ij = γ_j · x̂_ij + β_j
//!   running_mean ← (1 − momentum)·running_mean + momentum·μ
//!   running_var  ← (1 − momentum)·running_var  + momentum·σ²·m/(m − 1)   (unbiased)
//! With `momentum = None`, the running statistics are a plain cumulative average
//! (factor 1/num_batches_tracked), as in PyTorch.
//!
//! Evaluation uses the running statistics instead of the batch's:
//!   y = γ·(x − running_mean)/√(running_var + ε) + β
//!
//! Backward (training), with g = dL/dy:
//!   dβ_j = Σ_i g_ij,   dγ_j = Σ_i g_ij·x̂_ij
//!   dx_ij = γ_j/(m·√(σ²_j+ε)) · (m·g_ij − Σ_k g_kj − x̂_ij·Σ_k g_kj·x̂_kj)
//!
//! γ = 1 and β = 0 recover the plain standardized activity; γ = √(σ²+ε), β = μ recover the
//! original activity, which is why the network loses nothing by having the layer.
//! Defaults as PyTorch: eps = 1e-5, momentum = 0.1, running_mean = 0, running_var = 1.

use super::check_batch;
use crate::{ensure, Result};

/// The running statistics and the cache for backward; γ and β live with the caller (inside an
/// MLP they sit in its flat parameter vector).
#[derive(Clone, Debug)]
pub struct BatchNormState {
    pub features: usize,
    pub eps: f32,
    /// `None` means a cumulative moving average.
    pub momentum: Option<f32>,
    pub running_mean: Vec<f32>,
    pub running_var: Vec<f32>,
    pub num_batches_tracked: u64,
    cache: Option<Cache>,
    work: Work,
}

/// A step's per-feature sums, kept so that a run allocates them once.
#[derive(Clone, Debug, Default)]
struct Work {
    mean: Vec<f64>,
    var: Vec<f64>,
    mean32: Vec<f32>,
    sum_g: Vec<f64>,
    sum_gx: Vec<f64>,
}

#[derive(Clone, Debug, Default)]
struct Cache {
    batch: usize,
    x_hat: Vec<f32>,
    inv_std: Vec<f32>,
    training: bool,
}

impl BatchNormState {
    pub fn new(features: usize, eps: f32, momentum: Option<f32>) -> Result<Self> {
        ensure!(features > 0, "BatchNorm: the number of features must be at least 1");
        ensure!(
            features <= crate::limits::MAX_WIDTH,
            "BatchNorm: {features} features is more than a layer can have (at most {})",
            crate::limits::MAX_WIDTH
        );
        ensure!(eps > 0.0 && eps.is_finite(), "BatchNorm: invalid eps: {eps} (must be > 0)");
        if let Some(m) = momentum {
            ensure!((0.0..=1.0).contains(&m), "BatchNorm: invalid momentum: {m} (must be in [0, 1])");
        }
        Ok(BatchNormState {
            features,
            eps,
            momentum,
            running_mean: vec![0.0; features],
            running_var: vec![1.0; features],
            num_batches_tracked: 0,
            cache: None,
            work: Work::default(),
        })
    }

    /// Normalize `x` (batch × features); see the module comment for the two modes.
    pub fn forward(&mut self, x: &[f32], batch: usize, gamma: &[f32], beta: &[f32], training: bool) -> Result<Vec<f32>> {
        let mut y = Vec::new();
        self.forward_into(x, batch, gamma, beta, training, &mut y)?;
        Ok(y)
    }

    /// [`BatchNormState::forward`] into `y` (its allocation kept, its values overwritten);
    /// the cache and the per-feature sums reuse the last step's buffers.
    pub fn forward_into(&mut self, x: &[f32], batch: usize, gamma: &[f32], beta: &[f32], training: bool, y: &mut Vec<f32>) -> Result<()> {
        let f = self.features;
        check_batch("BatchNorm", x, batch, f)?;
        ensure!(
            !training || batch > 1,
            "BatchNorm: expected more than 1 value per feature when training (got a batch of 1); use a larger batch or evaluation mode"
        );
        let mut c = self.cache.take().unwrap_or_default();
        let w = &mut self.work;
        c.inv_std.clear();
        w.mean32.clear();
        if training {
            let mean = &mut w.mean;
            mean.clear();
            mean.resize(f, 0.0);
            for row in x.chunks_exact(f) {
                mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v as f64);
            }
            mean.iter_mut().for_each(|m| *m /= batch as f64);
            let var = &mut w.var;
            var.clear();
            var.resize(f, 0.0);
            for row in x.chunks_exact(f) {
                for ((s, &v), &m) in var.iter_mut().zip(row).zip(mean.iter()) {
                    *s += (v as f64 - m).powi(2);
                }
            }
            var.iter_mut().for_each(|v| *v /= batch as f64);
            // running statistics (unbiased variance)
            self.num_batches_tracked += 1;
            let factor = match self.momentum {
                Some(m) => m as f64,
                None => 1.0 / self.num_batches_tracked as f64,
            };
            let unbias = batch as f64 / (batch as f64 - 1.0);
            for j in 0..f {
                self.running_mean[j] = ((1.0 - factor) * self.running_mean[j] as f64 + factor * mean[j]) as f32;
                self.running_var[j] = ((1.0 - factor) * self.running_var[j] as f64 + factor * var[j] * unbias) as f32;
            }
            c.inv_std.extend(var.iter().map(|&v| (1.0 / (v + self.eps as f64).sqrt()) as f32));
            w.mean32.extend(mean.iter().map(|&m| m as f32));
        } else {
            c.inv_std.extend(self.running_var.iter().map(|&v| 1.0 / (v + self.eps).sqrt()));
            w.mean32.extend_from_slice(&self.running_mean);
        }
        let (mean, inv_std) = (&w.mean32, &c.inv_std);
        c.x_hat.clear();
        y.clear();
        for row in x.chunks_exact(f) {
            for j in 0..f {
                let h = (row[j] - mean[j]) * inv_std[j];
                c.x_hat.push(h);
                y.push(gamma[j] * h + beta[j]);
            }
        }
        (c.batch, c.training) = (batch, training);
        self.cache = Some(c);
        Ok(())
    }

    /// Given dy, accumulate dγ and dβ and return dx for the last forward.
    pub fn backward(&mut self, dy: &[f32], gamma: &[f32], dgamma: &mut [f32], dbeta: &mut [f32]) -> Result<Vec<f32>> {
        let mut dx = Vec::new();
        self.backward_into(dy, gamma, dgamma, dbeta, &mut dx)?;
        Ok(dx)
    }

    /// [`BatchNormState::backward`] into `dx` (its allocation kept, its values overwritten).
    pub fn backward_into(&mut self, dy: &[f32], gamma: &[f32], dgamma: &mut [f32], dbeta: &mut [f32], dx: &mut Vec<f32>) -> Result<()> {
        let f = self.features;
        let Some(c) = self.cache.as_ref() else {
            crate::bail!("BatchNorm: backward called before forward");
        };
        let m = c.batch;
        check_batch("BatchNorm backward", dy, m, f)?;
        let Work { sum_g, sum_gx, .. } = &mut self.work;
        sum_g.clear();
        sum_g.resize(f, 0.0);
        sum_gx.clear();
        sum_gx.resize(f, 0.0);
        for (g_row, h_row) in dy.chunks_exact(f).zip(c.x_hat.chunks_exact(f)) {
            for j in 0..f {
                sum_g[j] += g_row[j] as f64;
                sum_gx[j] += (g_row[j] * h_row[j]) as f64;
            }
        }
        for j in 0..f {
            dbeta[j] += sum_g[j] as f32;
            dgamma[j] += sum_gx[j] as f32;
        }
        dx.clear();
        for (g_row, h_row) in dy.chunks_exact(f).zip(c.x_hat.chunks_exact(f)) {
            for j in 0..f {
                let v = if c.training {
                    let scale = gamma[j] as f64 * c.inv_std[j] as f64 / m as f64;
                    scale * (m as f64 * g_row[j] as f64 - sum_g[j] - h_row[j] as f64 * sum_gx[j])
                } else {
                    (g_row[j] * gamma[j] * c.inv_std[j]) as f64
                };
                dx.push(v as f32);
            }
        }
        Ok(())
    }

    /// Back to fresh running statistics.
    pub fn reset_running_stats(&mut self) {
        self.running_mean.iter_mut().for_each(|v| *v = 0.0);
        self.running_var.iter_mut().for_each(|v| *v = 1.0);
        self.num_batches_tracked = 0;
        self.cache = None;
    }
}

/// A stand-alone BatchNorm1d that owns γ (weight), β (bias) and their gradients; this is what
/// the JS `BatchNorm` class wraps.
#[derive(Clone, Debug)]
pub struct BatchNorm1d {
    pub state: BatchNormState,
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
    pub grad_gamma: Vec<f32>,
    pub grad_beta: Vec<f32>,
}

impl BatchNorm1d {
    pub fn new(features: usize, eps: f32, momentum: Option<f32>) -> Result<Self> {
        Ok(BatchNorm1d {
            state: BatchNormState::new(features, eps, momentum)?,
            gamma: vec![1.0; features],
            beta: vec![0.0; features],
            grad_gamma: vec![0.0; features],
            grad_beta: vec![0.0; features],
        })
    }

    pub fn forward(&mut self, x: &[f32], batch: usize, training: bool) -> Result<Vec<f32>> {
        self.state.forward(x, batch, &self.gamma, &self.beta, training)
    }

    /// dx for the last forward; the gradients of γ and β are *replaced* (not accumulated).
    pub fn backward(&mut self, dy: &[f32]) -> Result<Vec<f32>> {
        self.grad_gamma.iter_mut().for_each(|g| *g = 0.0);
        self.grad_beta.iter_mut().for_each(|g| *g = 0.0);
        self.state.backward(dy, &self.gamma, &mut self.grad_gamma, &mut self.grad_beta)
    }

    pub fn set_gamma(&mut self, v: &[f32]) -> Result<()> {
        ensure!(v.len() == self.gamma.len(), "BatchNorm: gamma needs {} values, got {}", self.gamma.len(), v.len());
        self.gamma.copy_from_slice(v);
        Ok(())
    }

    pub fn set_beta(&mut self, v: &[f32]) -> Result<()> {
        ensure!(v.len() == self.beta.len(), "BatchNorm: beta needs {} values, got {}", self.beta.len(), v.len());
        self.beta.copy_from_slice(v);
        Ok(())
    }
}

/// "Noisy" batch-norm (Santurkar et al., 2018, "How does batch normalization help
/// optimization?", section 2.1): after a batch-norm layer, each unit j's output is moved by a
/// random scale and shift that are drawn afresh at every training step,
///   y'_ij = s_tj · y_ij + b_tj,   s_tj = exp(n·(2u − 1)),   b_tj = n·(2u' − 1),
/// with u, u' uniform in [0, 1) and n the strength: the distribution a later layer sees jumps
/// at every step, however well batch-norm standardized it. The draws are a pure function of
/// (key, step, unit) — the counter hash dropout uses — so a run replays from its seed.
/// Returns (s, b) for `features` units; evaluation mode never adds noise.
pub fn noise(key: u32, step: u32, features: usize, strength: f32) -> (Vec<f32>, Vec<f32>) {
    let draw = |i: usize| 2.0 * crate::rng::uniform01(key, step, i as u32) - 1.0;
    let scale = (0..features).map(|j| (strength * draw(2 * j)).exp()).collect();
    let shift = (0..features).map(|j| strength * draw(2 * j + 1)).collect();
    (scale, shift)
}

/// The noise strength [`noise`] accepts: 0 (off) to 3 (scales from e⁻³ to e³).
pub fn check_noise(strength: f32) -> Result<()> {
    ensure!((0.0..=3.0).contains(&strength), "batch-norm noise {strength} is out of range: pick 0 (off) to 3");
    Ok(())
}

/// `{ eps = 1e-5, momentum = 0.1 }` as `BatchNorm1d::new` takes them (`momentum: null` is
/// the cumulative average, as in PyTorch); an unknown or non-numeric option is named.
pub fn options_from_json(o: &serde_json::Value) -> Result<(f32, Option<f32>)> {
    let Some(obj) = o.as_object() else { crate::bail!("BatchNorm options must be an object") };
    if let Some(k) = obj.keys().find(|k| *k != "eps" && *k != "momentum") {
        crate::bail!("unknown BatchNorm option '{k}'; expected eps or momentum");
    }
    let num = |key: &str, default: f64| -> Result<Option<f64>> {
        match obj.get(key) {
            None => Ok(Some(default)),
            Some(serde_json::Value::Null) => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or_else(|| crate::Error::new(format!("BatchNorm option {key} must be a number"))),
        }
    };
    let eps = num("eps", 1e-5)?.unwrap_or(1e-5) as f32;
    let momentum = num("momentum", 0.1)?.map(|m| m as f32);
    Ok((eps, momentum))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_output_is_standardized() {
        let mut bn = BatchNorm1d::new(2, 1e-5, Some(0.1)).unwrap();
        let x = [1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0];
        let y = bn.forward(&x, 4, true).unwrap();
        for j in 0..2 {
            let col: Vec<f32> = (0..4).map(|i| y[i * 2 + j]).collect();
            let mean: f32 = col.iter().sum::<f32>() / 4.0;
            let var: f32 = col.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 4.0;
            assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-3);
        }
        // running_mean = 0.1·[2.5, 25]; running_var = 0.9 + 0.1·var·4/3
        assert!((bn.state.running_mean[0] - 0.25).abs() < 1e-6);
        assert!((bn.state.running_var[0] - (0.9 + 0.1 * 1.25 * 4.0 / 3.0)).abs() < 1e-6);
    }

    #[test]
    fn refuses_a_batch_of_one_in_training_only() {
        let mut bn = BatchNorm1d::new(3, 1e-5, Some(0.1)).unwrap();
        assert!(bn.forward(&[1.0, 2.0, 3.0], 1, true).unwrap_err().message().contains("more than 1 value"));
        assert!(bn.forward(&[1.0, 2.0, 3.0], 1, false).is_ok());
        assert!(BatchNorm1d::new(3, 0.0, None).is_err());
        assert!(BatchNorm1d::new(3, 1e-5, Some(1.5)).is_err());
    }
}
