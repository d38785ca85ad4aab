//! Read-outs over plain numbers: the loaded module's self-check (`gemmMaxError`) and the
//! stopping rules over a recorded curve (`earlyStopping`).

use crate::web::{js_err, spec_from, to_js};
use wasm_bindgen::prelude::*;

/// The largest error of the build's own matrix product (`backend::gemm`: the packed kernel,
/// relaxed or plain SIMD, whichever module the page loaded) against the scalar oracle, each
/// difference divided by √k·(1 + |exact|): a self-check of the loaded module (the page's
/// end-to-end test calls it).
/// Each size is a whole number from 1 to 1024.
#[wasm_bindgen(js_name = gemmMaxError)]
pub fn gemm_max_error(m: f64, k: f64, n: f64, ta: bool, tb: bool) -> Result<f64, JsError> {
    let size = |v: f64, what: &str| match crate::web::count_from(v, what)? {
        s @ 1..=1024 => Ok(s),
        s => Err(js_err(crate::Error::new(format!("{what} = {s}: use 1 to 1024")))),
    };
    let (m, k, n) = (size(m, "m")?, size(k, "k")?, size(n, "n")?);
    let mut rng = crate::Rng::new(7);
    let a: Vec<f32> = (0..m * k).map(|_| rng.normal(0.0, 1.0)).collect();
    let b: Vec<f32> = (0..k * n).map(|_| rng.normal(0.0, 1.0)).collect();
    let c0: Vec<f32> = (0..m * n).map(|_| rng.normal(0.0, 1.0)).collect();
    let (mut c, mut r) = (c0.clone(), c0);
    let op = |t: bool| if t { crate::backend::Op::T } else { crate::backend::Op::N };
    crate::backend::gemm(m, k, n, &a, op(ta), &b, op(tb), 0.5, &mut c);
    crate::backend::reference::gemm(m, k, n, &a, op(ta), &b, op(tb), 0.5, &mut r);
    Ok(c.iter().zip(&r).map(|(x, y)| ((x - y).abs() / ((k as f32).sqrt() * (1.0 + y.abs()))) as f64).fold(0.0, f64::max))
}

/// Where a stopping rule would stop a recorded curve (`train::early_stopping`):
/// `earlyStopping(values, { criterion: "patience" | "gl" | "pq" | "up" | "cumulative", mode?,
/// minDelta?, patience?, warmup?, alpha?, strip?, strips?, window?, stoppingThreshold?,
/// divergenceThreshold? }, trainErrors?)` → `{ stop, best, reason }`, 1-based check numbers
/// (null when the rule never fires / no check counted).
#[wasm_bindgen(js_name = earlyStopping)]
pub fn early_stopping(
    #[wasm_bindgen(unchecked_param_type = "Float64Array | number[]")] values: JsValue,
    rule: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Float64Array | number[] | null")] train_errors: JsValue,
) -> Result<JsValue, JsError> {
    let values = &crate::web::convert::f64s(&values, "values")?[..];
    let train_errors = crate::web::convert::opt(&train_errors, |v| crate::web::convert::f64s(v, "train errors"))?;
    let rule: crate::train::early_stopping::Rule = spec_from(&rule, "stopping rule")?;
    let out = crate::train::early_stopping::evaluate(values, &rule, train_errors.as_deref()).map_err(js_err)?;
    to_js(&out)
}
