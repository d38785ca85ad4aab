//! What the batch-norm cell measures on a network at its current weights, as plain functions
//! of (network, data): none of them changes the network (they work on [`Mlp::inside`] or on a
//! copy).

use crate::nn::{loss::cross_entropy, BatchNorm1d, Mlp, Penalty, Reduction};
use crate::{bail, ensure, Result};
use serde::Serialize;

/// The 15th, 50th and 85th percentiles of `values` (Ioffe and Szegedy's Figure 1), by the
/// nearest rank; NaN for no values.
pub fn percentiles(values: &[f32]) -> [f64; 3] {
    let mut v: Vec<f64> = values.iter().filter(|x| x.is_finite()).map(|&x| x as f64).collect();
    if v.is_empty() {
        return [f64::NAN; 3];
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    [at(0.15), at(0.5), at(0.85)]
}

/// Column `unit` of a (rows × width) matrix.
pub fn column(values: &[f32], width: usize, unit: usize) -> Vec<f32> {
    values.chunks_exact(width).map(|row| row[unit]).collect()
}

/// Sums that give the mean and (population) variance of some columns over many chunks.
#[derive(Clone, Debug, Default)]
pub struct Moments {
    pub n: usize,
    sum: Vec<f64>,
    sum_sq: Vec<f64>,
}

impl Moments {
    pub fn new(columns: usize) -> Moments {
        Moments { n: 0, sum: vec![0.0; columns], sum_sq: vec![0.0; columns] }
    }
    /// Add the rows of `values` (rows × width), columns `units`.
    pub fn add(&mut self, values: &[f32], width: usize, units: &[usize]) {
        for row in values.chunks_exact(width) {
            for (k, &u) in units.iter().enumerate() {
                let v = row[u] as f64;
                self.sum[k] += v;
                self.sum_sq[k] += v * v;
            }
            self.n += 1;
        }
    }
    /// (mean, variance dividing by n) of each column.
    pub fn mean_var(&self) -> (Vec<f64>, Vec<f64>) {
        let n = self.n.max(1) as f64;
        let mean: Vec<f64> = self.sum.iter().map(|s| s / n).collect();
        let var = self.sum_sq.iter().zip(&mean).map(|(s, m)| (s / n - m * m).max(0.0)).collect();
        (mean, var)
    }
}

/// The mean and variance of a layer's Linear outputs over a whole data set at fixed weights,
/// with every batch-norm below normalizing by the whole set's own statistics (the batch is the
/// whole set): what a batch-norm layer's running statistics estimate. Computed a layer at a
/// time and a chunk of rows at a time ([`Population::step`]), keeping the layer below's output
/// for all rows (rows × width floats).
pub struct Population {
    model: Mlp,
    layer: usize,
    units: Vec<usize>,
    /// The layer being measured now, and how many rows it has done.
    at_layer: usize,
    at_row: usize,
    /// The layer below's output for every row (empty for layer 0, which reads the data).
    below: Vec<f32>,
    /// This layer's Linear output for every row done so far.
    z: Vec<f32>,
    rows: usize,
}

impl Population {
    /// Measure `layer` (0-based hidden layer) of `model` over `rows` rows, reporting `units`.
    pub fn new(model: Mlp, layer: usize, units: Vec<usize>, rows: usize) -> Population {
        Population { model, layer, units, at_layer: 0, at_row: 0, below: Vec::new(), z: Vec::new(), rows }
    }

    /// One chunk of `chunk` rows of `x` (rows × inputs); the (mean, variance dividing by n) of
    /// the followed units once the whole set is done.
    pub fn step(&mut self, x: &[f32], chunk: usize) -> Option<(Vec<f64>, Vec<f64>)> {
        let l = self.at_layer;
        let (fan_in, fan_out) = self.model.layer_shape(l);
        let end = (self.at_row + chunk).min(self.rows);
        let input = if l == 0 { &x[self.at_row * fan_in..end * fan_in] } else { &self.below[self.at_row * fan_in..end * fan_in] };
        let b = &self.model.parameters()[self.model.layout()[l].b.clone()];
        self.z.extend(crate::nn::linear::forward(input, end - self.at_row, self.model.weight(l), b, fan_in, fan_out));
        self.at_row = end;
        if end < self.rows {
            return None;
        }
        let all: Vec<usize> = (0..fan_out).collect();
        let mut m = Moments::new(fan_out);
        m.add(&self.z, fan_out, &all);
        let (mean, var) = m.mean_var();
        if l == self.layer {
            return Some((self.units.iter().map(|&u| mean[u]).collect(), self.units.iter().map(|&u| var[u]).collect()));
        }
        // this layer's output for every row: normalized by the whole set's statistics, then γ, β
        // and the non-linearity
        let mut h = std::mem::take(&mut self.z);
        if let Some((g, be)) = self.model.bn_affine(l) {
            let eps = self.model.spec().bn_eps as f64;
            let inv: Vec<f64> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
            for row in h.chunks_exact_mut(fan_out) {
                for j in 0..fan_out {
                    row[j] = g[j] * ((row[j] as f64 - mean[j]) * inv[j]) as f32 + be[j];
                }
            }
        }
        self.model.spec().activation.forward(&mut h);
        self.below = h;
        self.at_layer += 1;
        self.at_row = 0;
        None
    }
}

/// Accuracy of `labels` from logits (rows × classes).
fn accuracy(logits: &[f32], labels: &[u8], classes: usize) -> f64 {
    let right = logits
        .chunks_exact(classes)
        .zip(labels)
        .filter(|(row, &y)| {
            let best = row.iter().enumerate().fold(0, |b, (i, v)| if *v > row[b] { i } else { b });
            best == y as usize
        })
        .count();
    right as f64 / labels.len().max(1) as f64
}

/// The network's logits for `x` (rows × inputs), normalizing with each batch's own statistics
/// (`batch_stats`, batches of `batch` rows; the last may be smaller, never 1) or with the
/// running statistics; the network itself is not changed.
fn logits(model: &Mlp, x: &[f32], rows: usize, batch: usize, batch_stats: bool) -> Result<Vec<f32>> {
    let (f, l) = (model.inputs(), model.num_layers() - 1);
    let mut out = Vec::with_capacity(rows * model.classes());
    for start in (0..rows).step_by(batch) {
        let end = (start + batch).min(rows);
        let inside = model.inside(&x[start * f..end * f], end - start, batch_stats)?;
        let h = &inside.last().expect("a hidden layer").output;
        let (w, b) = (model.weight(l), &model.parameters()[model.layout()[l].b.clone()]);
        let (fan_in, fan_out) = model.layer_shape(l);
        out.extend(crate::nn::linear::forward(h, end - start, w, b, fan_in, fan_out));
    }
    Ok(out)
}

/// One batch size's line of the train-vs-eval comparison.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModeAccuracy {
    pub batch: usize,
    /// The validation batch cut into batches of this size, each normalized with its own
    /// statistics (training mode).
    pub train_mode: f64,
    /// The same digits with the running statistics (evaluation mode): no batch size in it.
    pub eval_mode: f64,
}

/// Accuracy on the same validation digits in training mode (batches of `batch`) and in
/// evaluation mode.
pub fn mode_accuracy(model: &Mlp, x: &[f32], labels: &[u8], batch: usize) -> Result<ModeAccuracy> {
    let rows = labels.len();
    ensure!(batch >= 2 && rows % batch != 1, "batches of {batch} would leave one digit alone in a batch");
    let c = model.classes();
    let train_mode = accuracy(&logits(model, x, rows, batch, true)?, labels, c);
    let eval_mode = accuracy(&logits(model, x, rows, rows, false)?, labels, c);
    Ok(ModeAccuracy { batch, train_mode, eval_mode })
}

/// The student's choice of γ and β for the identity exercise.
pub fn affine_choice(gamma: &str, beta: &str, mean: &[f64], var: &[f64], eps: f64) -> Result<(Vec<f32>, Vec<f32>)> {
    let g: Vec<f32> = match gamma {
        "one" => vec![1.0; var.len()],
        "var" => var.iter().map(|&v| v as f32).collect(),
        "std" => var.iter().map(|&v| v.sqrt() as f32).collect(),
        "std_eps" => var.iter().map(|&v| (v + eps).sqrt() as f32).collect(),
        "inv_std_eps" => var.iter().map(|&v| (1.0 / (v + eps).sqrt()) as f32).collect(),
        _ => bail!("γ choice {gamma:?} is not one of one, var, std, std_eps, inv_std_eps"),
    };
    let b: Vec<f32> = match beta {
        "zero" => vec![0.0; mean.len()],
        "mean" => mean.iter().map(|&m| m as f32).collect(),
        "neg_mean" => mean.iter().map(|&m| -m as f32).collect(),
        _ => bail!("β choice {beta:?} is not one of zero, mean, neg_mean"),
    };
    Ok((g, b))
}

/// The identity exercise's verdict: batch-norm in training mode with the given γ and β on a
/// layer's input z (rows × width), and how far its output is from z.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// max over rows and units of |BN(z) − z|.
    pub max_difference: f64,
    /// max |z|, for scale.
    pub max_input: f64,
    /// The unit and row where the largest difference is (0-based).
    pub unit: usize,
    pub row: usize,
    pub rows: usize,
}

/// Push z (rows × width) through `torch.nn.BatchNorm1d` semantics (training mode, `eps`) with
/// γ and β, and compare with z.
pub fn identity(z: &[f32], rows: usize, width: usize, gamma: &[f32], beta: &[f32], eps: f32) -> Result<Identity> {
    let mut bn = BatchNorm1d::new(width, eps, Some(0.1))?;
    bn.set_gamma(gamma)?;
    bn.set_beta(beta)?;
    let y = bn.forward(z, rows, true)?;
    let (mut worst, mut at) = (0f64, 0usize);
    for (i, (a, b)) in y.iter().zip(z).enumerate() {
        let d = (*a as f64 - *b as f64).abs();
        if d > worst || d.is_nan() {
            (worst, at) = (d, i);
        }
    }
    let max_input = z.iter().fold(0f64, |m, v| m.max(v.abs() as f64));
    Ok(Identity { max_difference: worst, max_input, unit: at % width, row: at / width, rows })
}

/// The loss along the gradient direction at the current weights (Santurkar et al. 2018,
/// Figure 4): the gradient g of one training batch, then that batch's loss at w − η·g for
/// each step size η. A smooth landscape changes little over the range; a rough one jumps.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub step: usize,
    /// The loss at w (η = 0).
    pub loss: f64,
    pub etas: Vec<f64>,
    pub losses: Vec<f64>,
    /// max − min of the losses (η = 0 included): the landscape's variation along the gradient.
    pub range: f64,
    /// |g|, the gradient's length.
    pub grad_norm: f64,
}

/// [`Profile`] of `model` on (x, labels); η = `lr`·each of `factors`. Works on a copy.
pub fn profile(model: &Mlp, step: usize, x: &[f32], labels: &[u32], lr: f64, factors: &[f64]) -> Result<Profile> {
    let mut m = model.clone();
    m.set_dropout_step(model.dropout_step());
    let loss = m.loss_and_gradients(x, labels, Reduction::Mean, Penalty::default())? as f64;
    let (w, g) = (m.parameters().to_vec(), m.gradients().to_vec());
    let grad_norm = g.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
    let mut losses = Vec::with_capacity(factors.len());
    let mut moved = vec![0f32; w.len()];
    for &k in factors {
        let eta = (lr * k) as f32;
        moved.iter_mut().zip(w.iter().zip(&g)).for_each(|(v, (w, g))| *v = w - eta * g);
        let mut probe = model.clone();
        if probe.set_parameters(&moved).is_err() {
            losses.push(f64::INFINITY); // the step left the finite numbers: as rough as it gets
            continue;
        }
        // the same batch statistics as the step would see (training mode), on a copy
        let logits = probe.forward(x, labels.len(), true)?;
        let (l, _) = cross_entropy(&logits, labels, model.classes(), Reduction::Mean)?;
        losses.push(l as f64);
    }
    let all = losses.iter().chain([&loss]);
    let range = all.clone().fold(f64::NEG_INFINITY, |a, &b| a.max(b)) - all.fold(f64::INFINITY, |a, &b| a.min(b));
    Ok(Profile { step, loss, etas: factors.iter().map(|k| lr * k).collect(), losses, range, grad_norm })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn population_statistics_are_those_of_one_batch_of_the_whole_set() {
        use crate::nn::{Activation, MlpSpec};
        let spec = MlpSpec { batch_norm: vec![true], ..MlpSpec::new(&[4, 6, 5, 3], Activation::Tanh) };
        let model = Mlp::new(spec, 5).unwrap();
        let rows = 23;
        let x: Vec<f32> = (0..rows * 4).map(|i| ((i * 29) % 17) as f32 / 5.0 - 1.6).collect();
        let mut p = Population::new(model.clone(), 1, vec![0, 4], rows);
        let got = loop {
            if let Some(r) = p.step(&x, 5) {
                break r;
            }
        };
        // the whole set as one training-mode batch normalizes every layer by its statistics
        let z = model.inside(&x, rows, true).unwrap().swap_remove(1).linear;
        let mut m = Moments::new(2);
        m.add(&z, 5, &[0, 4]);
        let (mean, var) = m.mean_var();
        for k in 0..2 {
            assert!((got.0[k] - mean[k]).abs() < 1e-5 && (got.1[k] - var[k]).abs() < 1e-5, "unit {k}: {got:?} vs {mean:?} {var:?}");
        }
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f32> = (0..=100).map(|i| i as f32).collect();
        assert_eq!(percentiles(&v), [15.0, 50.0, 85.0]);
        assert!(percentiles(&[]).iter().all(|p| p.is_nan()));
    }

    #[test]
    fn moments_over_chunks_are_those_of_the_whole_set() {
        let mut m = Moments::new(1);
        m.add(&[1.0, 9.0, 2.0, 9.0], 2, &[0]);
        m.add(&[3.0, 9.0], 2, &[0]);
        let (mean, var) = m.mean_var();
        assert_eq!((mean[0], m.n), (2.0, 3));
        assert!((var[0] - 2.0 / 3.0).abs() < 1e-12, "{}", var[0]);
    }

    #[test]
    fn the_wrong_affine_is_far_from_the_identity() {
        let z = [1.0, -2.0, 3.0, 4.0, 5.0, 0.5];
        let (mean, var) = (vec![3.0, 0.83], vec![2.67, 6.5]);
        let (g, b) = affine_choice("one", "zero", &mean, &var, 1e-5).unwrap();
        assert!(identity(&z, 3, 2, &g, &b, 1e-5).unwrap().max_difference > 0.5);
        assert!(affine_choice("sigma", "zero", &mean, &var, 1e-5).unwrap_err().message().contains("sigma"));
    }
}
