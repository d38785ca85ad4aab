//! The "From GD to SGD: the batch dimension" cell: a batch of Gaussian noise and a batch of
//! real validation digits through a freshly initialized network — no training, only the shapes
//! and what an untrained network says.
//!
//! By convention the first dimension is the batch: an (m, 784) input keeps its m rows through
//! every layer, (m, h₁) → (m, h₂) → … → (m, 10), so the output is one row of class scores per
//! example whatever m is. The cell reports that chain of shapes, draws the softmax rows of both
//! batches as heatmaps, and the first digits captioned with the network's guess.
//!
//! Everything is computed when the experiment is built, from one seed: the network's weights,
//! the noise and which digits are picked. `run_for` has nothing left to do.

use super::run::{Data, Device, RunSpec};
use super::Progress;
use crate::data::synthetic;
use crate::nn::loss::{argmax_rows, softmax};
use crate::plot::{Body, Chart};
use crate::{ensure, Result};
use serde::{Deserialize, Serialize};

/// The largest batch the cell pushes through.
pub const MAX_BATCH: usize = 1024;
/// MNIST's ten digits.
pub const CLASSES: usize = 10;
/// Softmax rows drawn in each heatmap (the first of the batch).
pub const ROWS_SHOWN: usize = 24;
/// Digits drawn with their predictions, in rows of [`DIGIT_COLUMNS`].
pub const DIGITS_SHOWN: usize = 16;
pub const DIGIT_COLUMNS: usize = 4;
/// MNIST's images are 28 × 28.
const IMAGE: (usize, usize) = (28, 28);

/// The cell's settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchSpec {
    /// Seeds the weights, the noise and the pick of digits.
    pub seed: u64,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// "relu" (default), "tanh", "sigmoid" or "leaky_relu".
    #[serde(default = "relu")]
    pub activation: String,
    /// The batch size m.
    pub batch_size: usize,
}

fn relu() -> String {
    "relu".into()
}

/// What the read-out shows.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchReport {
    pub status: &'static str,
    pub progress: Progress,
    /// (rows, cols) of the input and after every layer: the "type check".
    pub shapes: Vec<[usize; 2]>,
    pub noise_output: [usize; 2],
    pub digits_output: [usize; 2],
    /// The predicted class and the true label of each digit shown.
    pub predictions: Vec<usize>,
    pub labels: Vec<u8>,
    pub rows_shown: usize,
    pub digits_shown: usize,
    pub parameters: usize,
}

/// Both batches through one fresh network, computed at once.
pub struct Batch {
    report: BatchReport,
    /// Softmax of the first `rows_shown` rows of each batch, (rows_shown, classes).
    noise_p: Vec<f32>,
    digit_p: Vec<f32>,
    /// The digits shown, (digits_shown, 784).
    images: Vec<f32>,
}

impl Batch {
    /// The device is not used: nothing here trains, and two forward passes are instant.
    pub fn new(data: &Data, spec: BatchSpec, _device: &dyn Device) -> Result<Batch> {
        let validation = &data.validation;
        let most = MAX_BATCH.min(validation.len());
        let m = spec.batch_size;
        ensure!((1..=most).contains(&m), "batch size {m} is out of range: pick 1 to {most}");
        let features = validation.features;
        let run = RunSpec { hidden: spec.hidden.clone(), activation: spec.activation.clone(), seed: spec.seed, ..RunSpec::default() };
        let mut mlp = run.model(features, CLASSES)?;

        // (m, features) in, (m, classes) out, and every layer keeps the m rows
        let noise = synthetic::gaussian_noise(m, features, spec.seed);
        let noise_logits = mlp.forward(&noise, m, false)?;
        let mut shapes = vec![[m, features]];
        shapes.extend((0..mlp.num_layers()).map(|l| [m, mlp.layer_shape(l).1]));

        let pick: Vec<usize> = crate::Rng::stream(spec.seed, "pick").permutation(validation.len()).into_iter().take(m).collect();
        let digits = validation.select(&pick);
        let digit_logits = mlp.forward(&digits.x, m, false)?;
        let predictions = argmax_rows(&digit_logits, CLASSES);

        let (rows_shown, digits_shown) = (m.min(ROWS_SHOWN), m.min(DIGITS_SHOWN));
        let report = BatchReport {
            status: "finished",
            progress: Progress { done: 1, total: 1 },
            shapes,
            noise_output: [m, CLASSES],
            digits_output: [m, CLASSES],
            predictions: predictions[..digits_shown].to_vec(),
            labels: digits.labels[..digits_shown].to_vec(),
            rows_shown,
            digits_shown,
            parameters: mlp.parameters().len(),
        };
        Ok(Batch {
            noise_p: softmax(&noise_logits[..rows_shown * CLASSES], CLASSES),
            digit_p: softmax(&digit_logits[..rows_shown * CLASSES], CLASSES),
            images: digits.x[..digits_shown * features].to_vec(),
            report,
        })
    }

    /// Nothing is left to do: everything was computed when the experiment was built.
    pub fn run_for(&mut self, _budget_ms: f64, _clock: &dyn super::Clock) -> Result<bool> {
        Ok(false)
    }

    /// Nothing runs.
    pub fn stop(&mut self) {}

    pub fn report(&self) -> BatchReport {
        self.report.clone()
    }

    /// "noiseSoftmax" and "digitSoftmax": the softmax rows of each batch as heatmaps;
    /// "digits": the first digits captioned "prediction (label)".
    pub fn chart(&self, name: &str) -> Result<Chart> {
        let r = &self.report;
        // Colour from 0 to the largest probability shown, so an untrained network's nearly
        // uniform rows still show their structure; the title states the scale.
        let heatmap = |what: &str, p: &[f32]| {
            let hi = p.iter().copied().fold(0.0f32, f32::max).max(1e-3);
            Chart {
                title: format!("softmax of {what} ({} of {} rows, 0–{hi:.2})", r.rows_shown, r.noise_output[0]),
                x_label: "class".into(),
                y_label: "row".into(),
                body: Body::Heatmap { values: p.to_vec(), rows: r.rows_shown, cols: CLASSES, range: (0.0, hi) },
            }
        };
        match name {
            "noiseSoftmax" => Ok(heatmap("noise", &self.noise_p)),
            "digitSoftmax" => Ok(heatmap("digits", &self.digit_p)),
            "digits" => Ok(Chart {
                title: "validation digits: prediction (label)".into(),
                body: Body::Digits {
                    images: self.images.clone(),
                    size: IMAGE,
                    labels: r.labels.clone(),
                    predictions: r.predictions.clone(),
                    columns: DIGIT_COLUMNS,
                },
                ..Chart::default()
            }),
            _ => crate::bail!("this cell has no chart {name:?} (it has \"noiseSoftmax\", \"digitSoftmax\" and \"digits\")"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;
    use crate::lab::Cpu;
    use std::sync::Arc;

    /// 40 "images" of 784 pixels in [0, 1], labels 0–9.
    fn data() -> Data {
        let n = 40;
        let x: Vec<f32> = (0..n * 784).map(|i| ((i * 31) % 17) as f32 / 17.0).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let d = Arc::new(Dataset::new(x, labels, 784, 10).unwrap());
        Data { train: d.clone(), validation: d }
    }

    fn spec(hidden: &[usize], m: usize) -> BatchSpec {
        BatchSpec { seed: 3, hidden: hidden.to_vec(), activation: "relu".into(), batch_size: m }
    }

    #[test]
    fn every_layer_keeps_the_batch_dimension() {
        // (hidden, m, shapes, reason)
        type Row = (&'static [usize], usize, &'static [[usize; 2]], &'static str);
        let rows: &[Row] = &[
            (&[128, 64], 16, &[[16, 784], [16, 128], [16, 64], [16, 10]], "the page's default network"),
            (&[32], 37, &[[37, 784], [37, 32], [37, 10]], "another m, another width"),
            (&[], 1, &[[1, 784], [1, 10]], "no hidden layer: one Linear, a batch of one"),
        ];
        for &(hidden, m, shapes, reason) in rows {
            let r = Batch::new(&data(), spec(hidden, m), &Cpu).unwrap().report();
            assert_eq!(r.shapes, shapes, "{reason}");
            assert_eq!((r.noise_output, r.digits_output), ([m, 10], [m, 10]), "{reason}");
            let sizes: Vec<usize> = shapes.iter().map(|s| s[1]).collect();
            let params: usize = sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum();
            assert_eq!(r.parameters, params, "{reason}: weights and biases of every layer");
            assert_eq!((r.rows_shown, r.digits_shown), (m.min(ROWS_SHOWN), m.min(DIGITS_SHOWN)), "{reason}");
        }
    }

    #[test]
    fn the_charts_hold_probability_rows_and_the_digits_shown() {
        let b = Batch::new(&data(), spec(&[16], 30), &Cpu).unwrap();
        for name in ["noiseSoftmax", "digitSoftmax"] {
            let Body::Heatmap { values, rows, cols, range } = b.chart(name).unwrap().body else { panic!("{name} is a heatmap") };
            assert_eq!((rows, cols), (ROWS_SHOWN, 10), "{name}: the first 24 of 30 rows");
            for row in values.chunks(cols) {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{name}: each row is a distribution");
            }
            assert_eq!(range.1, values.iter().copied().fold(0.0, f32::max), "{name}: the scale ends at the largest value shown");
        }
        let r = b.report();
        let Body::Digits { images, labels, predictions, .. } = b.chart("digits").unwrap().body else { panic!("digits") };
        assert_eq!((images.len(), labels, predictions), (16 * 784, r.labels, r.predictions));
        assert!(b.chart("loss").unwrap_err().message().contains("\"digits\""));
    }

    #[test]
    fn one_seed_one_picture() {
        let a = Batch::new(&data(), spec(&[16], 8), &Cpu).unwrap();
        let b = Batch::new(&data(), spec(&[16], 8), &Cpu).unwrap();
        assert_eq!(a.chart("noiseSoftmax").unwrap(), b.chart("noiseSoftmax").unwrap());
        assert_eq!(a.report().labels, b.report().labels);
        let other = Batch::new(&data(), BatchSpec { seed: 4, ..spec(&[16], 8) }, &Cpu).unwrap();
        assert_ne!(a.chart("noiseSoftmax").unwrap(), other.chart("noiseSoftmax").unwrap(), "the seed changes the weights and the noise");
    }

    #[test]
    fn bad_settings_are_named() {
        // (spec, part of the message, reason)
        let rows = [
            (spec(&[16], 0), "batch size 0 is out of range: pick 1 to 40", "an empty batch"),
            (spec(&[16], 41), "batch size 41", "more digits than the validation set has"),
            (spec(&[0], 4), "hidden layer 1 has 0 units", "an empty layer"),
            (BatchSpec { activation: "swish".into(), ..spec(&[16], 4) }, "swish", "an unknown activation"),
        ];
        for (s, want, reason) in rows {
            let err = Batch::new(&data(), s, &Cpu).err().unwrap_or_else(|| panic!("{reason}: accepted"));
            assert!(err.message().contains(want), "{reason}: {:?}", err.message());
        }
    }
}
