//! Checked conversions of array arguments: wasm-bindgen's own `&[f32]` reads `undefined` as a
//! glue TypeError ("Cannot read properties of undefined") and a plain array of strings as
//! NaNs. Every exported function takes its arrays as `JsValue` through these instead, so a
//! wrong argument is an `Error` that names it and says what came.

use super::js_err;
use wasm_bindgen::{JsCast, JsError, JsValue};

/// What a JS value is, in a message: `undefined`, `null`, `a string`, `a Float64Array`, ….
pub(crate) fn kind_of(v: &JsValue) -> String {
    if v.is_undefined() {
        return "nothing (undefined)".into();
    }
    if v.is_null() {
        return "null".into();
    }
    if let Some(s) = v.as_string() {
        return format!("a string ({:?})", s.chars().take(20).collect::<String>());
    }
    if let Some(x) = v.as_f64() {
        return format!("the number {x}");
    }
    if v.as_bool().is_some() {
        return "a boolean".into();
    }
    if v.is_function() {
        return "a function".into();
    }
    let name = js_sys::Reflect::get(v, &"constructor".into())
        .ok()
        .and_then(|c| js_sys::Reflect::get(&c, &"name".into()).ok())
        .and_then(|n| n.as_string())
        .unwrap_or_else(|| "an object".into());
    format!("a{} {name}", if name.starts_with(['A', 'E', 'I', 'O', 'U']) { "n" } else { "" })
}

fn wrong(what: &str, wants: &str, v: &JsValue) -> JsError {
    js_err(crate::Error::new(format!("{what} must be {wants}, got {}", kind_of(v))))
}

/// The numbers of a plain JS array, each checked to be a number.
fn plain(v: &JsValue, what: &str) -> Result<Option<Vec<f64>>, JsError> {
    if !js_sys::Array::is_array(v) {
        return Ok(None);
    }
    let array: &js_sys::Array = v.unchecked_ref();
    let mut out = Vec::with_capacity(array.length() as usize);
    for (i, x) in array.iter().enumerate() {
        match x.as_f64() {
            Some(n) => out.push(n),
            None => return Err(js_err(crate::Error::new(format!("{what}[{i}] must be a number, got {}", kind_of(&x))))),
        }
    }
    Ok(Some(out))
}

/// A `Float32Array`, a `Float64Array` or a plain array of numbers, as f32s.
pub(crate) fn f32s(v: &JsValue, what: &str) -> Result<Vec<f32>, JsError> {
    if let Some(a) = v.dyn_ref::<js_sys::Float32Array>() {
        return Ok(a.to_vec());
    }
    if let Some(a) = v.dyn_ref::<js_sys::Float64Array>() {
        return Ok(a.to_vec().into_iter().map(|x| x as f32).collect());
    }
    plain(v, what)?.map(|xs| xs.into_iter().map(|x| x as f32).collect()).ok_or_else(|| wrong(what, "a Float32Array (or an array of numbers)", v))
}

/// A `Float64Array`, a `Float32Array` or a plain array of numbers, as f64s.
pub(crate) fn f64s(v: &JsValue, what: &str) -> Result<Vec<f64>, JsError> {
    if let Some(a) = v.dyn_ref::<js_sys::Float64Array>() {
        return Ok(a.to_vec());
    }
    if let Some(a) = v.dyn_ref::<js_sys::Float32Array>() {
        return Ok(a.to_vec().into_iter().map(f64::from).collect());
    }
    plain(v, what)?.ok_or_else(|| wrong(what, "a Float64Array (or an array of numbers)", v))
}

/// An optional array argument: `undefined` or `null` is none.
pub(crate) fn opt<T>(v: &JsValue, read: impl Fn(&JsValue) -> Result<T, JsError>) -> Result<Option<T>, JsError> {
    if v.is_undefined() || v.is_null() {
        Ok(None)
    } else {
        read(v).map(Some)
    }
}

/// A `Uint32Array`, a `Uint8Array` or a plain array of whole numbers from 0 to 2³² − 1.
pub(crate) fn u32s(v: &JsValue, what: &str) -> Result<Vec<u32>, JsError> {
    if let Some(a) = v.dyn_ref::<js_sys::Uint32Array>() {
        return Ok(a.to_vec());
    }
    if let Some(a) = v.dyn_ref::<js_sys::Uint8Array>() {
        return Ok(a.to_vec().into_iter().map(u32::from).collect());
    }
    let Some(xs) = plain(v, what)? else { return Err(wrong(what, "a Uint32Array (or an array of whole numbers)", v)) };
    xs.into_iter()
        .enumerate()
        .map(|(i, x)| {
            if x.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&x) {
                Ok(x as u32)
            } else {
                Err(js_err(crate::Error::new(format!("{what}[{i}] must be a whole number from 0 to {}, got {x}", u32::MAX))))
            }
        })
        .collect()
}

/// Bytes: a `Uint8Array` (a Node `Buffer` is one).
pub(crate) fn bytes(v: &JsValue, what: &str) -> Result<Vec<u8>, JsError> {
    v.dyn_ref::<js_sys::Uint8Array>().map(|a| a.to_vec()).ok_or_else(|| wrong(what, "a Uint8Array of the file's bytes", v))
}

/// Every number inside a settings object or array (to a depth of 8) is finite; else an Error
/// naming where (`options.momentum is NaN`).
pub(crate) fn finite_numbers(v: &JsValue, path: &str) -> Result<(), JsError> {
    fn walk(v: &JsValue, path: &str, depth: usize) -> Result<(), JsError> {
        if let Some(x) = v.as_f64() {
            if !x.is_finite() {
                let shown = if x.is_nan() {
                    "NaN"
                } else if x > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                };
                return Err(js_err(crate::Error::new(format!("{path} is {shown}: every number in the settings must be finite"))));
            }
            return Ok(());
        }
        if depth == 0 || !v.is_object() || v.is_function() || v.is_instance_of::<js_sys::ArrayBuffer>() {
            return Ok(());
        }
        if js_sys::Array::is_array(v) {
            let a: &js_sys::Array = v.unchecked_ref();
            for (i, x) in a.iter().enumerate().take(100_000) {
                walk(&x, &format!("{path}[{i}]"), depth - 1)?;
            }
            return Ok(());
        }
        if js_sys::ArrayBuffer::is_view(v) {
            return Ok(());
        }
        let entries = js_sys::Object::entries(v.unchecked_ref());
        for e in entries.iter() {
            let pair: js_sys::Array = e.unchecked_into();
            let key = pair.get(0).as_string().unwrap_or_default();
            walk(&pair.get(1), &format!("{path}.{key}"), depth - 1)?;
        }
        Ok(())
    }
    walk(v, path, 8)
}
