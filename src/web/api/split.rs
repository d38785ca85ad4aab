//! `kFold`: the fold of every example, for cross-validation (`data::folds`).

use crate::data::folds::{class_labels, fold_count, Folds};
use crate::web::{js_err, seed_from};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// `kFold(labels: Uint8Array | Uint32Array, k, seed, stratified = false)` → Uint32Array: the fold
/// (0…k−1) of every example. Plain folds use only `labels.length`; stratified ones balance every
/// class over the folds, and then each label must be at most 255.
#[wasm_bindgen(js_name = kFold)]
pub fn k_fold(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | Uint32Array")] labels: JsValue,
    k: f64,
    seed: f64,
    stratified: Option<bool>,
) -> Result<Vec<u32>, JsError> {
    let stratified = stratified.unwrap_or(false);
    let seed = seed_from(seed)?;
    // The number of examples, and (stratified only) the labels as classes.
    let (n, classes) = if let Some(a) = labels.dyn_ref::<js_sys::Uint8Array>() {
        (a.length() as usize, stratified.then(|| Ok(a.to_vec())))
    } else if let Some(a) = labels.dyn_ref::<js_sys::Uint32Array>() {
        (a.length() as usize, stratified.then(|| class_labels(&a.to_vec())))
    } else {
        return Err(JsError::new(&format!("kFold: labels must be a Uint8Array or a Uint32Array (got {})", kind_of(&labels))));
    };
    let k = fold_count(k, n).map_err(js_err)?;
    let folds = match classes {
        Some(classes) => Folds::stratified(&classes.map_err(js_err)?, k, seed),
        None => Folds::plain(n, k, seed),
    };
    Ok(folds.map_err(js_err)?.into_assignment())
}

/// What a JS value is, for an error message: an object's constructor name ("Array",
/// "Float32Array"; "object" if it has none), else its `typeof` ("number", "undefined"), or "null".
fn kind_of(v: &JsValue) -> String {
    if v.is_null() {
        return "null".into();
    }
    if !v.is_object() {
        return v.js_typeof().as_string().unwrap_or_default();
    }
    let constructor = js_sys::Reflect::get(v, &JsValue::from_str("constructor")).ok().and_then(|c| c.dyn_into::<js_sys::Function>().ok());
    constructor.map(|c| String::from(c.name())).filter(|name| !name.is_empty()).unwrap_or_else(|| "object".into())
}
