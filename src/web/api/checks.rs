//! Read-outs over plain numbers: the loaded module's self-check (`gemmMaxError`) and the
//! stopping rules over a recorded curve (`earlyStopping`).

use crate::web::{js_err, spec_from, to_js};
use wasm_bindgen::prelude::*;

/// The largest error of the build's own matrix product (`backend::gemm`: the packed kernel,
/// relaxed or plain SIMD, whichever module the page loaded) against the scalar oracle, each
/// difference divided by √k·(1 + |exact|): a self-check of the loaded module (the page's
/// end-to-end test calls it).
#[wasm_bindgen(js_name = gemmMaxError)]
pub fn gemm_max_error(m: usize, k: usize, n: usize, ta: bool, tb: bool) -> f64 {
    let mut rng = crate::Rng::new(7);
    let a: Vec<f32> = (0..m * k).map(|_| rng.normal(0.0, 1.0)).collect();
    let b: Vec<f32> = (0..k * n).map(|_| rng.normal(0.0, 1.0)).collect();
    let c0: Vec<f32> = (0..m * n).map(|_| rng.normal(0.0, 1.0)).collect();
    let (mut c, mut r) = (c0.clone(), c0);
    let op = |t: bool| if t { crate::backend::Op::T } else { crate::backend::Op::N };
    crate::backend::gemm(m, k, n, &a, op(ta), &b, op(tb), 0.5, &mut c);
    crate::backend::reference::gemm(m, k, n, &a, op(ta), &b, op(tb), 0.5, &mut r);
    c.iter().zip(&r).map(|(x, y)| ((x - y).abs() / ((k as f32).sqrt() * (1.0 + y.abs()))) as f64).fold(0.0, f64::max)
}

/// Where a stopping rule would stop a recorded curve (`train::early_stopping`):
/// `earlyStopping(values, { criterion: "patience" | "gl" | "pq" | "up" | "cumulative", mode?,
/// minDelta?, patience?, warmup?, alpha?, strip?, strips?, window?, stoppingThreshold?,
/// divergenceThreshold? }, trainErrors?)` → `{ stop, best, reason }`, 1-based check numbers
/// (null when the rule never fires / no check counted).
#[wasm_bindgen(js_name = earlyStopping)]
pub fn early_stopping(values: &[f64], rule: JsValue, train_errors: Option<Vec<f64>>) -> Result<JsValue, JsError> {
    let rule: crate::train::early_stopping::Rule = spec_from(&rule, "stopping rule")?;
    let out = crate::train::early_stopping::evaluate(values, &rule, train_errors.as_deref()).map_err(js_err)?;
    to_js(&out)
}
