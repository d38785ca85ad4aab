//! The hyperparameter-search pieces of the JS API (`crate::tune`): a Gaussian process and
//! expected improvement. Bindings only.

use crate::tune::acquisition::{Acquisition, DEFAULT_KAPPA, DEFAULT_XI};
use crate::tune::fit::FitOptions;
use crate::tune::gp::{GaussianProcess as Gp, GpConfig};
use crate::web::{count_from, js_err, spec_from, to_js};
use wasm_bindgen::prelude::*;

/// Gaussian-process regression (`tune::gp`): zero mean on (optionally standardized) targets,
/// an RBF or Matérn 5/2 kernel with one length-scale per dimension, observation noise on the
/// training diagonal.
#[wasm_bindgen(js_name = GaussianProcess)]
pub struct GaussianProcess {
    inner: Gp,
}

#[wasm_bindgen(js_class = GaussianProcess)]
impl GaussianProcess {
    /// `{ kernel: "rbf" | "matern52", variance?, lengthScales?, noise?, normalizeY? }`.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> Result<GaussianProcess, JsError> {
        let config: GpConfig = spec_from(&config, "GaussianProcess")?;
        Ok(GaussianProcess { inner: Gp::new(config).map_err(js_err)? })
    }

    /// Condition on `y` at the points `x` (n × dims, row-major); with `optimize` (default
    /// true) first fit the hyperparameters by the log marginal likelihood from seeded starts.
    pub fn fit(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Float64Array | number[]")] x: JsValue,
        dims: f64,
        #[wasm_bindgen(unchecked_param_type = "Float64Array | number[]")] y: JsValue,
        options: JsValue,
    ) -> Result<(), JsError> {
        let (x, y) = (&crate::web::convert::f64s(&x, "x")?[..], &crate::web::convert::f64s(&y, "y")?[..]);
        let dims = count_from(dims, "dims")?;
        let options: FitOptions = spec_from(&options, "fit options")?;
        self.inner.fit(x, dims, y, &options).map(|_| ()).map_err(js_err)
    }

    /// The posterior at the points `x` (m × dims): `{ mean, std }`, each a Float64Array of m
    /// (the latent function's std, without the noise).
    pub fn predict(&self, #[wasm_bindgen(unchecked_param_type = "Float64Array | number[]")] x: JsValue) -> Result<JsValue, JsError> {
        let x = &crate::web::convert::f64s(&x, "x")?[..];
        let (mean, std) = self.inner.predict(x).map_err(js_err)?;
        let out = js_sys::Object::new();
        js_sys::Reflect::set(&out, &"mean".into(), &js_sys::Float64Array::from(mean.as_slice()))
            .and_then(|_| js_sys::Reflect::set(&out, &"std".into(), &js_sys::Float64Array::from(std.as_slice())))
            .map_err(|_| JsError::new("could not build the prediction object"))?;
        Ok(out.into())
    }

    /// log p(y) at the current hyperparameters.
    #[wasm_bindgen(js_name = logMarginalLikelihood)]
    pub fn log_marginal_likelihood(&self) -> Result<f64, JsError> {
        self.inner.log_marginal_likelihood().map_err(js_err)
    }

    /// `{ variance, lengthScales, noise }`.
    pub fn params(&self) -> Result<JsValue, JsError> {
        to_js(self.inner.params())
    }
}

/// Expected improvement below `best` (for minimization) at each (mean, std): (y* − μ − ξ)Φ(z)
/// + σφ(z), z = (y* − μ − ξ)/σ; ξ defaults to 0.01.
#[wasm_bindgen(js_name = expectedImprovement)]
pub fn expected_improvement(
    #[wasm_bindgen(unchecked_param_type = "Float64Array | number[]")] mean: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Float64Array | number[]")] std: JsValue,
    best: f64,
    xi: Option<f64>,
) -> Result<Vec<f64>, JsError> {
    let (mean, std) = (&crate::web::convert::f64s(&mean, "mean")?[..], &crate::web::convert::f64s(&std, "std")?[..]);
    Acquisition::ExpectedImprovement.scores(mean, std, best, xi.unwrap_or(DEFAULT_XI), DEFAULT_KAPPA).map_err(js_err)
}
