//! The initialization cells' plain functions (their experiments are in `cells::init`,
//! `cells::pretrain` and `cells::probe`): hidden units as pictures, per-layer charts,
//! weights files, and training sessions on the pretraining tasks.
//!
//! ```text
//! drawUnitWeights(canvas, params, inputs, units, title, dpr)   unitSpread(params, inputs, units)
//! drawLayerStds(canvas, { title, yLabel, series: [{ name, y, color, dashed }] }, dpr)
//! parseWeights(text) → WeightsData { sizes, hidden, parameters }     weightsJson(sizes, parameters)
//! sessionFrom(data, config, init, start?, validationSize?)
//! pretrainSession(data, config, init)      digits 0–4 as classes 0–4
//! finetuneSession(data, config, init, labelled, pretrained?)   digits 5–9 as classes 0–4
//! pretrainSizes(data) → { pretrainTrain, pretrainValidation, finetuneAvailable, finetuneValidation }
//! ```

use super::api::sizes_from;
use super::notebook::{run_spec, MnistData, TrainSession};
use super::{canvas, convert, count_from, js_err, to_js};
use crate::init::WeightsFile;
use crate::lab::equal_start::{first_layer_chart, first_layer_spread};
use crate::lab::{init_runs, pretrain, start};
use crate::plot::{self, Chart};
use wasm_bindgen::prelude::*;
use web_sys::HtmlCanvasElement;

/// Draw the first hidden layer's units as images: unit u's incoming weights `W1[u, :]`.
#[wasm_bindgen(js_name = drawUnitWeights)]
pub fn draw_unit_weights(
    canvas_el: HtmlCanvasElement,
    #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] params: JsValue,
    inputs: f64,
    units: f64,
    #[wasm_bindgen(unchecked_param_type = "string")] title: JsValue,
    dpr: f64,
) -> Result<(), JsError> {
    let (params, title) = (convert::f32s(&params, "params")?, crate::web::string_arg(&title, "title")?);
    let (inputs, units) = (count_from(inputs, "inputs")?, count_from(units, "units")?);
    let chart = first_layer_chart(&params, inputs, units, &title).map_err(js_err)?;
    plot::draw(&canvas::area(canvas_el)?, &chart, dpr).map_err(js_err)
}

/// The largest difference between any first-layer unit and unit 1, weights and bias together
/// (0: every unit is an exact copy).
#[wasm_bindgen(js_name = unitSpread)]
pub fn unit_spread(
    #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] params: JsValue,
    inputs: f64,
    units: f64,
) -> Result<f32, JsError> {
    let params = convert::f32s(&params, "params")?;
    // a NaN weight would compare unequal to nothing and read as "every unit an exact copy"
    crate::finite(&params, "params").map_err(js_err)?;
    first_layer_spread(&params, count_from(inputs, "inputs")?, count_from(units, "units")?).map_err(js_err)
}

/// Per-layer values on a log axis: `{ title, yLabel, series: [{ name, y, color, dashed }] }`
/// (a chart of kind "layerStds").
#[wasm_bindgen(js_name = drawLayerStds)]
pub fn draw_layer_stds(canvas_el: HtmlCanvasElement, chart: JsValue, dpr: f64) -> Result<(), JsError> {
    let mut json = super::plain_json(&chart)?;
    if let Some(o) = json.as_object_mut() {
        o.insert("kind".into(), "layerStds".into());
    }
    plot::draw(&canvas::area(canvas_el)?, &Chart::from_json(json).map_err(js_err)?, dpr).map_err(js_err)
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
pub fn parse_weights(#[wasm_bindgen(unchecked_param_type = "string")] text: JsValue) -> Result<WeightsData, JsError> {
    let text = crate::web::string_arg(&text, "the weights file's text")?;
    Ok(WeightsData { file: start::mnist_weights(&text).map_err(js_err)? })
}

/// A weights file for `sizes` and `parameters` (the format [`parse_weights`] reads).
#[wasm_bindgen(js_name = weightsJson)]
pub fn weights_json(
    #[wasm_bindgen(unchecked_param_type = "Uint32Array | number[]")] sizes: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Float32Array | number[]")] parameters: JsValue,
) -> Result<String, JsError> {
    let file = WeightsFile { sizes: sizes_from(&convert::u32s(&sizes, "sizes")?), parameters: convert::f32s(&parameters, "parameters")? };
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
    #[wasm_bindgen(unchecked_param_type = "Float32Array | number[] | null")] start: JsValue,
    validation_size: Option<f64>,
) -> Result<TrainSession, JsError> {
    let start = convert::opt(&start, |v| convert::f32s(v, "start"))?;
    let validation_size = validation_size.map(|v| count_from(v, "validation size")).transpose()?;
    let d = init_runs::first_validation(&data.data(), validation_size.unwrap_or(usize::MAX)).map_err(js_err)?;
    TrainSession::build(d.train, d.validation, config, init, start.as_deref())
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
    labelled: f64,
    #[wasm_bindgen(unchecked_param_type = "Float32Array | number[] | null")] pretrained: JsValue,
) -> Result<TrainSession, JsError> {
    let pretrained = convert::opt(&pretrained, |v| convert::f32s(v, "pretrained"))?;
    let d = pretrain::finetune_data(&data.data(), count_from(labelled, "labelled")?).map_err(js_err)?;
    let start = match pretrained {
        Some(pre) => Some(pretrain::finetune_start(&run_spec(&config, &init)?, &d, &pre).map_err(js_err)?),
        None => None,
    };
    TrainSession::build(d.train, d.validation, config, init, start.as_deref())
}

/// `{ pretrainTrain, pretrainValidation, finetuneAvailable, finetuneValidation }`.
#[wasm_bindgen(js_name = pretrainSizes)]
pub fn pretrain_sizes(data: &MnistData) -> Result<JsValue, JsError> {
    to_js(&pretrain::sizes(&data.data()))
}
