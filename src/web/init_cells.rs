//! What the initialization cells call: hidden units drawn as pictures, per-layer probes of a
//! deep network's forward and backward signals, weights files, and the pretraining sets.
//!
//! ```text
//! drawUnitWeights(canvas, params, inputs, units, title, dpr)   unitSpread(params, inputs, units)
//! new LayerProbe(data, hidden, activation, seed, init, start?, batch)
//!     .activationStd() .gradientStd() .loss .drawActivations(canvas, title, color, dpr) .drawGradients(…)
//! drawLayerStds(canvas, { title, yLabel, series: [{ name, y, color, dashed }] }, dpr)
//! parseWeights(text) → WeightsData { sizes, parameters }     weightsJson(sizes, parameters)
//! sessionFrom(data, config, init, start?, validationSize?)
//! pretrainSession(data, config, init)      digits 0–4 as classes 0–4
//! finetuneSession(data, config, init, labelled, pretrained?)   digits 5–9 as classes 0–4
//! pretrainSizes(data) → { pretrainTrain, pretrainValidation, finetuneAvailable, finetuneValidation }
//! ```

use super::api::{init_from, sizes_from};
use super::notebook::{run_spec, MnistData, TrainSession};
use super::{canvas, js_err, seed_from};
use crate::data::Dataset;
use crate::init::WeightsFile;
use crate::lab::pretrain;
use crate::nn::{Activation, Mlp, MlpSpec, Penalty, Reduction};
use crate::plot::layers;
use crate::plot::unit_weights;
use crate::plot::Series;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use web_sys::HtmlCanvasElement;

/// MNIST images are 28 × 28.
const SIDE: usize = 28;
/// The most examples a probe pushes through the network at once.
const MAX_PROBE_BATCH: usize = 1024;

/// Check that `params` can hold a first layer of `units × inputs` weights and `units` biases.
fn first_layer(params: &[f32], inputs: usize, units: usize) -> Result<(), JsError> {
    let need = inputs * units + units;
    if inputs == 0 || units == 0 || params.len() < need {
        return Err(JsError::new(&format!(
            "the parameters hold {} values, fewer than a first layer of {units} units × {inputs} inputs needs ({need})",
            params.len()
        )));
    }
    Ok(())
}

/// Draw the first hidden layer's units as images: unit u's incoming weights `W1[u, :]`.
#[wasm_bindgen(js_name = drawUnitWeights)]
pub fn draw_unit_weights(canvas_el: HtmlCanvasElement, params: &[f32], inputs: usize, units: usize, title: &str, dpr: f64) -> Result<(), JsError> {
    first_layer(params, inputs, units)?;
    let (rows, cols) = if inputs == SIDE * SIDE { (SIDE, SIDE) } else { (1, inputs) };
    let columns = if units <= 4 { units } else { units.div_ceil(2).min(8) };
    unit_weights::draw_unit_weights(&canvas::area(canvas_el)?, &params[..inputs * units], units, (rows, cols), columns, title, dpr).map_err(js_err)
}

/// The largest difference between any first-layer unit and unit 1, weights and bias together
/// (0: every unit is an exact copy).
#[wasm_bindgen(js_name = unitSpread)]
pub fn unit_spread(params: &[f32], inputs: usize, units: usize) -> Result<f32, JsError> {
    first_layer(params, inputs, units)?;
    let w = unit_weights::unit_spread(&params[..inputs * units], units, inputs);
    let b = unit_weights::unit_spread(&params[inputs * units..inputs * units + units], units, 1);
    Ok(w.max(b))
}

/// One forward and backward pass of a deep network on a batch of validation digits, keeping
/// what each layer saw: the hidden activations and the weight gradients.
#[wasm_bindgen]
pub struct LayerProbe {
    /// Hidden layer l's activations (batch × width).
    activations: Vec<Vec<f32>>,
    /// Weight matrix l's gradient (fan_out × fan_in), output layer included.
    gradients: Vec<Vec<f32>>,
    loss: f32,
}

#[wasm_bindgen]
impl LayerProbe {
    /// `hidden` widths (e.g. 256 × 8), `init` `{ scheme, ... }`, `start` an optional flat
    /// parameter vector (from a weights file) that replaces the init; `batch` digits.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        data: &MnistData,
        hidden: &[u32],
        activation: &str,
        seed: f64,
        init: JsValue,
        start: Option<Vec<f32>>,
        batch: usize,
    ) -> Result<LayerProbe, JsError> {
        if batch == 0 || batch > MAX_PROBE_BATCH {
            return Err(JsError::new(&format!("probe batch {batch} is out of range: pick 1 to {MAX_PROBE_BATCH}")));
        }
        let seed = seed_from(seed)?;
        let val = &data.validation;
        let mut sizes = vec![val.features];
        sizes.extend(sizes_from(hidden));
        sizes.push(val.classes);
        let mut spec = MlpSpec::new(&sizes, Activation::parse(activation).map_err(js_err)?);
        spec.init = init_from(&init)?;
        let mut mlp = Mlp::new(spec, seed).map_err(js_err)?;
        if let Some(p) = start {
            mlp.set_parameters(&p).map_err(js_err)?;
        }
        let pick: Vec<usize> = crate::Rng::stream(seed, "probe").permutation(val.len()).into_iter().take(batch).collect();
        let digits = val.select(&pick);
        let labels: Vec<u32> = digits.labels.iter().map(|&l| l as u32).collect();
        let loss = mlp.loss_and_gradients(&digits.x, &labels, Reduction::Mean, Penalty::default()).map_err(js_err)?;
        let layers = mlp.num_layers();
        Ok(LayerProbe {
            activations: (0..layers - 1).map(|l| mlp.activations(l).to_vec()).collect(),
            gradients: (0..layers).map(|l| mlp.weight_grad(l).to_vec()).collect(),
            loss,
        })
    }

    /// Mean cross-entropy of the probe batch.
    #[wasm_bindgen(getter)]
    pub fn loss(&self) -> f32 {
        self.loss
    }

    /// Standard deviation of each hidden layer's activations (layer 1 first).
    #[wasm_bindgen(js_name = activationStd)]
    pub fn activation_std(&self) -> Vec<f64> {
        self.activations.iter().map(|a| layers::mean_std(a).1).collect()
    }

    /// Standard deviation of each weight matrix's gradient (layer 1 first, output layer last).
    #[wasm_bindgen(js_name = gradientStd)]
    pub fn gradient_std(&self) -> Vec<f64> {
        self.gradients.iter().map(|g| layers::mean_std(g).1).collect()
    }

    /// Fraction of hidden activations that are exactly zero, per layer (ReLU's silent units).
    #[wasm_bindgen(js_name = zeroFraction)]
    pub fn zero_fraction(&self) -> Vec<f64> {
        self.activations.iter().map(|a| a.iter().filter(|v| **v == 0.0).count() as f64 / a.len().max(1) as f64).collect()
    }

    /// Violins of the hidden activations, one per layer (exact zeros left out).
    #[wasm_bindgen(js_name = drawActivations)]
    pub fn draw_activations(&self, canvas_el: HtmlCanvasElement, title: &str, color: usize, dpr: f64) -> Result<(), JsError> {
        let views: Vec<&[f32]> = self.activations.iter().map(|a| a.as_slice()).collect();
        let (range, violins) = layers::violins(&views, true);
        layers::draw_violins(&canvas::area(canvas_el)?, range, &violins, title, "hidden layer", "activation", color, dpr).map_err(js_err)
    }

    /// Violins of the weight gradients, one per layer (exact zeros left out).
    #[wasm_bindgen(js_name = drawGradients)]
    pub fn draw_gradients(&self, canvas_el: HtmlCanvasElement, title: &str, color: usize, dpr: f64) -> Result<(), JsError> {
        let views: Vec<&[f32]> = self.gradients.iter().map(|g| g.as_slice()).collect();
        let (range, violins) = layers::violins(&views, true);
        layers::draw_violins(&canvas::area(canvas_el)?, range, &violins, title, "weight layer", "∂loss/∂w", color, dpr).map_err(js_err)
    }
}

/// A per-layer chart as the page describes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LayerChart {
    #[serde(default)]
    title: String,
    #[serde(default)]
    y_label: String,
    series: Vec<LayerSeries>,
}

#[derive(Deserialize)]
struct LayerSeries {
    #[serde(default)]
    name: String,
    y: Vec<f64>,
    #[serde(default)]
    color: usize,
    #[serde(default)]
    dashed: bool,
}

/// Per-layer values on a log axis: `{ title, yLabel, series: [{ name, y, color, dashed }] }`.
#[wasm_bindgen(js_name = drawLayerStds)]
pub fn draw_layer_stds(canvas_el: HtmlCanvasElement, chart: JsValue, dpr: f64) -> Result<(), JsError> {
    let spec: LayerChart = serde_wasm_bindgen::from_value(chart).map_err(|e| JsError::new(&format!("chart: {e}")))?;
    let lines: Vec<Series> = spec
        .series
        .into_iter()
        .map(|s| {
            let line = Series::new(s.name, s.y.into_iter().enumerate().map(|(i, y)| ((i + 1) as f64, y)).collect(), s.color);
            if s.dashed {
                line.dashed()
            } else {
                line
            }
        })
        .collect();
    layers::draw_layer_stds(&canvas::area(canvas_el)?, &lines, &spec.title, "layer", &spec.y_label, dpr).map_err(js_err)
}

/// A weights file read and checked against MNIST.
#[wasm_bindgen]
pub struct WeightsData {
    file: WeightsFile,
}

#[wasm_bindgen]
impl WeightsData {
    /// Layer widths, inputs first.
    #[wasm_bindgen(getter)]
    pub fn sizes(&self) -> Vec<u32> {
        self.file.sizes.iter().map(|&s| s as u32).collect()
    }
    /// The hidden widths (sizes without the first and the last).
    #[wasm_bindgen(getter)]
    pub fn hidden(&self) -> Vec<u32> {
        self.file.sizes[1..self.file.sizes.len() - 1].iter().map(|&s| s as u32).collect()
    }
    /// All parameters, flat: W1 (out×in), b1, W2, b2, …
    #[wasm_bindgen(getter)]
    pub fn parameters(&self) -> Vec<f32> {
        self.file.parameters.clone()
    }
}

/// Read a weights file `{"sizes": [784, …, 10], "parameters": […]}`: valid JSON, the right
/// number of finite parameters, and a network that fits MNIST (784 inputs, 10 outputs).
#[wasm_bindgen(js_name = parseWeights)]
pub fn parse_weights(text: &str) -> Result<WeightsData, JsError> {
    let file = WeightsFile::parse(text).map_err(js_err)?;
    let (first, last) = (file.sizes[0], file.sizes[file.sizes.len() - 1]);
    if first != SIDE * SIDE {
        return Err(JsError::new(&format!(
            "This network takes {first} inputs (sizes {:?}), but an MNIST digit has 784 pixels: the first size must be 784",
            file.sizes
        )));
    }
    if last != 10 {
        return Err(JsError::new(&format!(
            "This network has {last} outputs (sizes {:?}), but MNIST has 10 classes: the last size must be 10",
            file.sizes
        )));
    }
    Ok(WeightsData { file })
}

/// A weights file for `sizes` and `parameters` (the format [`parse_weights`] reads).
#[wasm_bindgen(js_name = weightsJson)]
pub fn weights_json(sizes: &[u32], parameters: &[f32]) -> Result<String, JsError> {
    let file = WeightsFile { sizes: sizes_from(sizes), parameters: parameters.to_vec() };
    file.validate().map_err(js_err)?;
    Ok(file.to_json())
}

/// A training session on MNIST that starts from `start` (a flat parameter vector) when given,
/// otherwise from `init`. `config` as for `new TrainSession`. `validation_size` keeps only the
/// first n validation digits (the end-of-epoch check of a deep network then stays short).
#[wasm_bindgen(js_name = sessionFrom)]
pub fn session_from(
    data: &MnistData,
    config: JsValue,
    init: JsValue,
    start: Option<Vec<f32>>,
    validation_size: Option<usize>,
) -> Result<TrainSession, JsError> {
    let validation = match validation_size {
        Some(0) => return Err(JsError::new("validation size must be at least 1")),
        Some(n) if n < data.validation.len() => Arc::new(data.validation.take(n)),
        _ => data.validation.clone(),
    };
    TrainSession::build(data.train.clone(), validation, config, init, start.as_deref())
}

/// Train on digits 0–4 of the training split (5 outputs), validate on digits 0–4 of the
/// validation split (`lab::pretrain`).
#[wasm_bindgen(js_name = pretrainSession)]
pub fn pretrain_session(data: &MnistData, config: JsValue, init: JsValue) -> Result<TrainSession, JsError> {
    let d = pretrain::pretrain_data(&data.data());
    TrainSession::build(d.train, d.validation, config, init, None)
}

/// Fine-tune on the first `labelled` digits 5–9 of the (already shuffled) training split,
/// relabelled 0–4; validate on digits 5–9 of the validation split. With `pretrained` (the
/// parameters of a finished `pretrainSession` with the same `hidden` sizes), every hidden
/// layer starts from those weights and the output layer starts fresh (`lab::pretrain`).
#[wasm_bindgen(js_name = finetuneSession)]
pub fn finetune_session(
    data: &MnistData,
    config: JsValue,
    init: JsValue,
    labelled: usize,
    pretrained: Option<Vec<f32>>,
) -> Result<TrainSession, JsError> {
    let d = pretrain::finetune_data(&data.data(), labelled).map_err(js_err)?;
    let start = match pretrained {
        Some(pre) => Some(pretrain::finetune_start(&run_spec(&config, &init)?, &d, &pre).map_err(js_err)?),
        None => None,
    };
    TrainSession::build(d.train, d.validation, config, init, start.as_deref())
}

/// How many examples each part of the pretraining experiment has.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PretrainSizes {
    pretrain_train: usize,
    pretrain_validation: usize,
    finetune_available: usize,
    finetune_validation: usize,
}

/// `{ pretrainTrain, pretrainValidation, finetuneAvailable, finetuneValidation }`.
#[wasm_bindgen(js_name = pretrainSizes)]
pub fn pretrain_sizes(data: &MnistData) -> Result<JsValue, JsError> {
    let count = |d: &Dataset, lo: bool| d.labels.iter().filter(|&&l| (l < 5) == lo).count();
    let sizes = PretrainSizes {
        pretrain_train: count(&data.train, true),
        pretrain_validation: count(&data.validation, true),
        finetune_available: count(&data.train, false),
        finetune_validation: count(&data.validation, false),
    };
    serde_wasm_bindgen::to_value(&sizes).map_err(|e| JsError::new(&e.to_string()))
}
