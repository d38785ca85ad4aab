//! `initialize`: the weight initializers from JS.

use crate::init::Init;
use crate::web::{count_from, js_err, options_json, seed_from};
use wasm_bindgen::prelude::*;

/// Weights for a (fanOut × fanIn) matrix, row-major, drawn by `scheme` ("zeros", "constant",
/// "uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform",
/// "kaiming_normal", "default") with `options` such as `{ gain: 1 }` or `{ a: -1, b: 1 }`.
#[wasm_bindgen]
pub fn initialize(
    #[wasm_bindgen(unchecked_param_type = "string")] scheme: JsValue,
    fan_in: f64,
    fan_out: f64,
    seed: f64,
    options: JsValue,
) -> Result<Vec<f32>, JsError> {
    let scheme = crate::web::string_arg(&scheme, "the init scheme")?;
    let (fan_in, fan_out) = (count_from(fan_in, "fanIn")?, count_from(fan_out, "fanOut")?);
    let mut o = options_json(&options)?;
    let obj = o.as_object_mut().ok_or_else(|| JsError::new("initialize: options must be an object"))?;
    obj.insert("scheme".into(), serde_json::Value::String(scheme));
    let init = Init::from_json(&o).map_err(js_err)?;
    crate::init::initialize(&init, fan_in, fan_out, seed_from(seed)?).map_err(js_err)
}
