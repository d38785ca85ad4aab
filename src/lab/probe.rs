//! A layer probe: one forward and one backward pass of a deep network on a batch of validation
//! digits, keeping what every layer saw — the hidden activations on the way forward, the
//! weight gradients on the way back — for each of a few starts of the same network.
//!
//! The variance argument behind Xavier and He (see `crate::init`) predicts how the spread of
//! these signals changes from layer to layer: a constant factor per layer, which compounds.
//! The probe measures it. Each layer's values become a violin (a histogram on its side, exact
//! zeros left out: ReLU's silent units and the weights of pixels blank in every digit would
//! hide the shape), and their standard deviations a line on a log axis, where a constant
//! factor per layer is a straight line: flat is healthy, falling vanishes, rising explodes.
//!
//! The digits are drawn from the validation split by the seed (stream "probe"), so one seed
//! probes every start on the same batch.

use super::run::{Data, RunSpec};
use super::start::{check_hidden, Start};
use crate::nn::{Penalty, Reduction};
use crate::plot::layers::{mean_std, violins};
use crate::plot::{Body, Chart, Series};
use crate::{ensure, Result};
use serde::{Deserialize, Serialize};

/// The most examples a probe pushes through the network at once.
pub const MAX_PROBE_BATCH: usize = 1024;

/// What to probe.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProbeSpec {
    pub hidden: Vec<usize>,
    /// "relu" (default), "tanh", "sigmoid" or "leaky_relu".
    #[serde(default = "relu")]
    pub activation: String,
    /// Seeds the inits and the choice of digits.
    #[serde(default)]
    pub seed: u64,
    /// Digits in the batch (default 64).
    #[serde(default = "sixty_four")]
    pub batch: usize,
    /// The starts to compare: the first is the one the violins show (and, in the custom cell,
    /// the student's own).
    pub starts: Vec<Start>,
}

fn relu() -> String {
    "relu".into()
}
fn sixty_four() -> usize {
    64
}

/// What one start's probe saw.
struct Probed {
    label: String,
    /// Hidden layer l's activations (batch × width).
    activations: Vec<Vec<f32>>,
    /// Weight matrix l's gradient (fan_out × fan_in), output layer included.
    gradients: Vec<Vec<f32>>,
    loss: f32,
}

/// One start's numbers for the read-out.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeLine {
    pub label: String,
    /// Mean cross-entropy of the batch.
    pub loss: f32,
    /// Standard deviation of each hidden layer's activations (layer 1 first).
    pub activation_std: Vec<f64>,
    /// Standard deviation of each weight matrix's gradient (output layer last).
    pub gradient_std: Vec<f64>,
    /// Fraction of each hidden layer's activations that are exactly zero (ReLU's silent units).
    pub zero_fraction: Vec<f64>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeReport {
    pub batch: usize,
    pub hidden: Vec<usize>,
    pub activation: String,
    pub starts: Vec<ProbeLine>,
}

/// The probed starts of one network.
pub struct Probe {
    spec: ProbeSpec,
    probed: Vec<Probed>,
}

impl Probe {
    /// Probe every start on the same `batch` validation digits.
    pub fn new(data: &Data, spec: ProbeSpec) -> Result<Probe> {
        ensure!((1..=MAX_PROBE_BATCH).contains(&spec.batch), "probe batch {} is out of range: pick 1 to {MAX_PROBE_BATCH}", spec.batch);
        ensure!(!spec.starts.is_empty(), "nothing to probe: give at least one start");
        check_hidden(&spec.hidden, "128, 128, 128")?;
        let val = &data.validation;
        // a forward and backward pass per start, on the page's thread: held to the page-step
        // limit as one training step of all the starts' batches together
        let all = RunSpec { hidden: spec.hidden.clone(), batch_size: spec.batch * spec.starts.len(), ..RunSpec::default() };
        all.check_page_step(val.features, val.classes, usize::MAX)
            .map_err(|e| crate::Error::new(format!("probing {} starts of {} digits: {}", spec.starts.len(), spec.batch, e.message())))?;
        let pick: Vec<usize> = crate::Rng::stream(spec.seed, "probe").permutation(val.len()).into_iter().take(spec.batch).collect();
        let digits = val.select(&pick);
        let labels: Vec<u32> = digits.labels.iter().map(|&l| l as u32).collect();
        let mut probed = Vec::new();
        for start in &spec.starts {
            start.check()?;
            let run = RunSpec {
                hidden: spec.hidden.clone(),
                activation: spec.activation.clone(),
                init: start.init(),
                seed: spec.seed,
                ..RunSpec::default()
            };
            let mut mlp = run.model(val.features, val.classes)?;
            if let Some(p) = start.parameters() {
                mlp.set_parameters(p)?;
            }
            let loss = mlp.loss_and_gradients(&digits.x, &labels, Reduction::Mean, Penalty::default())?;
            let layers = mlp.num_layers();
            probed.push(Probed {
                label: start.label(),
                activations: (0..layers - 1).map(|l| mlp.activations(l).to_vec()).collect(),
                gradients: (0..layers).map(|l| mlp.weight_grad(l).to_vec()).collect(),
                loss,
            });
        }
        Ok(Probe { spec, probed })
    }

    pub fn report(&self) -> ProbeReport {
        let stds = |layers: &[Vec<f32>]| layers.iter().map(|a| mean_std(a).1).collect();
        let starts = self
            .probed
            .iter()
            .map(|p| ProbeLine {
                label: p.label.clone(),
                loss: p.loss,
                activation_std: stds(&p.activations),
                gradient_std: stds(&p.gradients),
                zero_fraction: p.activations.iter().map(|a| a.iter().filter(|v| **v == 0.0).count() as f64 / a.len().max(1) as f64).collect(),
            })
            .collect();
        ProbeReport { batch: self.spec.batch, hidden: self.spec.hidden.clone(), activation: self.spec.activation.clone(), starts }
    }

    /// The first start: "activations" and "gradients" (violins per layer), "stds" (both
    /// spreads per layer). Every start side by side: "activationStd", "gradientStd" — the
    /// first solid in colour 3, the others dashed in colours 0, 1, ….
    pub fn chart(&self, name: &str) -> Result<Chart> {
        let first = &self.probed[0];
        let per_layer = |values: &[f64]| values.iter().enumerate().map(|(i, &v)| ((i + 1) as f64, v)).collect::<Vec<_>>();
        let violin = |layers: &[Vec<f32>], what: &str, x: &str, y: &str, color: usize| {
            let views: Vec<&[f32]> = layers.iter().map(Vec::as_slice).collect();
            let (range, violins) = violins(&views, true);
            Chart {
                title: format!("{}: {what} per layer", first.label),
                x_label: x.into(),
                y_label: y.into(),
                body: Body::Violins { range, violins, color },
            }
        };
        let stds = |title: String, series: Vec<Series>| Chart {
            title,
            x_label: "layer".into(),
            y_label: "standard deviation".into(),
            body: Body::LayerStds { series },
        };
        let report = self.report();
        let each = |f: fn(&ProbeLine) -> &Vec<f64>| {
            report
                .starts
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let line = Series::new(s.label.clone(), per_layer(f(s)), if i == 0 { 3 } else { i - 1 });
                    if i == 0 {
                        line
                    } else {
                        line.dashed()
                    }
                })
                .collect()
        };
        Ok(match name {
            "activations" => violin(&first.activations, "activations", "hidden layer", "activation", 0),
            "gradients" => violin(&first.gradients, "weight gradients", "weight layer", "∂loss/∂w", 1),
            "stds" => stds(
                format!("{}: spread per layer (log scale)", first.label),
                vec![
                    Series::new("activations (forward)", per_layer(&report.starts[0].activation_std), 0),
                    Series::new("weight gradients (backward)", per_layer(&report.starts[0].gradient_std), 1).dashed(),
                ],
            ),
            "activationStd" => stds("activation std per layer (forward)".into(), each(|s| &s.activation_std)),
            "gradientStd" => stds("weight-gradient std per layer (backward)".into(), each(|s| &s.gradient_std)),
            _ => crate::bail!(
                "the probe has no chart {name:?} (it has \"activations\", \"gradients\", \"stds\", \"activationStd\" and \"gradientStd\")"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;
    use serde_json::json;
    use std::sync::Arc;

    fn data() -> Data {
        let n = 50;
        let x: Vec<f32> = (0..n * 6).map(|i| ((i * 7) % 11) as f32 / 11.0).collect();
        let d = Arc::new(Dataset::new(x, (0..n).map(|i| (i % 3) as u8).collect(), 6, 3).unwrap());
        Data { train: d.clone(), validation: d }
    }

    fn spec(starts: serde_json::Value) -> ProbeSpec {
        serde_json::from_value(json!({ "hidden": [16, 16, 16], "seed": 2, "batch": 20, "starts": starts })).unwrap()
    }

    #[test]
    fn a_probe_too_large_for_the_page_is_refused_with_its_cost() {
        let n = 300;
        let d = Arc::new(Dataset::new(vec![0.5; n * 784], (0..n).map(|i| (i % 10) as u8).collect(), 784, 10).unwrap());
        let data = Data { train: d.clone(), validation: d };
        let big = json!({ "hidden": [2048, 2048], "seed": 2, "batch": 256, "starts": [{ "from": "scheme", "key": "kaiming_normal" }, { "from": "scheme", "key": "xavier_uniform" }] });
        let e = Probe::new(&data, serde_json::from_value(big).unwrap()).map(|_| ()).unwrap_err();
        assert!(e.message().starts_with("probing 2 starts of 256 digits: ") && e.message().contains("GFLOP"), "{}", e.message());
    }

    #[test]
    fn a_tiny_start_vanishes_and_he_keeps_the_scale() {
        let p =
            Probe::new(&data(), spec(json!([{ "from": "scheme", "key": "normal", "std": 0.001 }, { "from": "scheme", "key": "kaiming_normal" }])))
                .unwrap();
        let r = p.report();
        let (tiny, he) = (&r.starts[0].activation_std, &r.starts[1].activation_std);
        assert_eq!((tiny.len(), r.starts[0].gradient_std.len()), (3, 4), "three hidden layers, four weight matrices");
        assert!(tiny[2] < 1e-3 * tiny[0], "σ = 0.001 fades layer after layer: {tiny:?}");
        assert!(he[2] > 0.2 * he[0], "He keeps the spread within a factor of a few: {he:?}");
        assert_eq!(r.starts[0].label, "normal σ=0.001");
    }

    #[test]
    fn every_chart_is_there_and_named() {
        let p =
            Probe::new(&data(), spec(json!([{ "from": "init", "label": "mine", "init": { "scheme": "uniform", "a": -0.1, "b": 0.1 } }]))).unwrap();
        // (chart, title, reason)
        let rows = [
            ("activations", "mine: activations per layer", "a violin per hidden layer"),
            ("gradients", "mine: weight gradients per layer", "a violin per weight matrix"),
            ("stds", "mine: spread per layer (log scale)", "both spreads"),
            ("activationStd", "activation std per layer (forward)", "every start's activations"),
            ("gradientStd", "weight-gradient std per layer (backward)", "every start's gradients"),
        ];
        for (name, title, why) in rows {
            assert_eq!(p.chart(name).unwrap().title, title, "{why}");
        }
        let Body::Violins { violins, .. } = p.chart("gradients").unwrap().body else { panic!("violins") };
        assert_eq!(violins.len(), 4);
        assert!(p.chart("pie").unwrap_err().message().contains("\"pie\""));
    }

    #[test]
    fn bad_probes_are_refused_by_name() {
        // (starts, batch, part of the message, reason)
        let rows = [
            (json!([{ "from": "scheme", "key": "he" }]), 20, "unknown init scheme \"he\"", "an unknown key"),
            (json!([{ "from": "weights", "label": "w", "parameters": [1, 2] }]), 20, "parameters", "a weights file of the wrong size"),
            (json!([{ "from": "scheme", "key": "default" }]), 0, "probe batch 0", "an empty batch"),
            (json!([]), 20, "nothing to probe", "no start"),
        ];
        for (starts, batch, want, why) in rows {
            let mut s = spec(starts);
            s.batch = batch;
            let err = Probe::new(&data(), s).err().unwrap_or_else(|| panic!("{why}: accepted"));
            assert!(err.message().contains(want), "{why}: {}", err.message());
        }
    }
}
