//! The JS face of Descent: the only module that touches wasm-bindgen, js-sys and web-sys.
//!
//! `api` holds the documented JS API (Mlp, BatchNorm, dropout, Optimizer, initialize);
//! `notebook` holds what the page's cells call (data loading, demos, training sessions);
//! `cells` wraps the lab's experiments (one class each); `page` gives them the page's clock
//! and device; `canvas` turns a `<canvas>` into a plotters drawing area.

mod api;
#[cfg(feature = "bench")]
mod bench;
pub(crate) mod canvas;
mod cells;
mod charts;
pub(crate) mod convert;
pub mod gpu;
mod init_cells;
mod jobs;
pub(crate) mod notebook;
pub(crate) mod page;
mod session;
mod session_record;
mod warm_up;

use wasm_bindgen::prelude::*;

/// Turn a core error into a JS `Error`.
pub(crate) fn js_err(e: crate::Error) -> JsError {
    JsError::new(e.message())
}

/// A JS number as a seed (`crate::seed`: a whole number from 0 to 2^53).
pub(crate) fn seed_from(v: f64) -> Result<u64, JsError> {
    crate::seed(v).map_err(js_err)
}

/// A JS number as a count (`crate::count`: -1 is refused by name, not wrapped).
pub(crate) fn count_from(v: f64, what: &str) -> Result<usize, JsError> {
    crate::count(v, what).map_err(js_err)
}

/// A JS value that must be a string (wasm-bindgen's own `&str` reads a number or an object
/// as wild memory), with a message naming the argument and what came instead.
pub(crate) fn string_arg(v: &JsValue, what: &str) -> Result<String, JsError> {
    v.as_string().ok_or_else(|| {
        let got = if v.is_null() {
            "null".to_string()
        } else if v.is_undefined() {
            "nothing (undefined)".to_string()
        } else if let Some(n) = v.as_f64() {
            format!("the number {n}")
        } else if let Some(b) = v.as_bool() {
            format!("{b}")
        } else {
            "an object".to_string()
        };
        js_err(crate::Error::new(format!("{what} must be a string, got {got}")))
    })
}

/// A JS object (or undefined/null) as JSON, for option bags with PyTorch's names.
pub(crate) fn options_json(v: &JsValue) -> Result<serde_json::Value, JsError> {
    // JSON has no NaN or Infinity: they would arrive as null, which some settings read as
    // "none" (a batch-norm momentum of null is a cumulative average), so refuse them here
    convert::finite_numbers(v, "options")?;
    plain_json(v)
}

/// A JS object as JSON, NaN and Infinity as null (a chart's gaps).
pub(crate) fn plain_json(v: &JsValue) -> Result<serde_json::Value, JsError> {
    if v.is_undefined() || v.is_null() {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    serde_wasm_bindgen::from_value(v.clone()).map_err(|e| js_err(crate::Error::new(format!("options must be a plain object: {e}"))))
}

/// What a worker reported (a job's update or result), NaN read as null where a run diverged.
pub(crate) fn report_from<T: serde::de::DeserializeOwned>(v: &JsValue, what: &str) -> Result<T, JsError> {
    serde_json::from_value(plain_json(v)?).map_err(|e| js_err(crate::Error::new(format!("{what}: {e}"))))
}

/// A JS object as a lab spec, with a message that names the settings and the field.
pub(crate) fn spec_from<T: serde::de::DeserializeOwned>(v: &JsValue, what: &str) -> Result<T, JsError> {
    serde_json::from_value(options_json(v)?).map_err(|e| js_err(crate::Error::new(format!("{what}: {e}"))))
}

/// A report or chart as a plain JS object (maps as objects, NaN as null).
pub(crate) fn to_js<T: serde::Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
}

/// Which compute path new training sessions use: "WebGPU" (after `initWebGpu` found an
/// adapter and unless `setBackend("cpu")`), else "CPU (SIMD)" in a simd128 build.
#[wasm_bindgen(js_name = backendName)]
pub fn backend_name() -> String {
    gpu::label().to_string()
}

/// A fresh random seed (from `crypto.getRandomValues`), below 2^53.
#[wasm_bindgen(js_name = randomSeed)]
pub fn random_seed() -> f64 {
    crate::Rng::entropy_seed() as f64
}

/// The crate version, shown in the page footer.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
