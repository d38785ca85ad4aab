//! The "Momentum" cell's class (`lab::landscape`): no MNIST, so built from its settings
//! alone; its map and distance plot animate over cached still passes. `Landscape.pointAt`
//! turns a click on the map into a start point.

use super::frames::standalone;
use wasm_bindgen::prelude::*;

standalone!(
    /// SGD, momentum and Nesterov paths on a 2-D surface (`lab::landscape`).
    Landscape,
    crate::lab::landscape::Landscape,
    crate::lab::landscape::LandscapeSpec,
    "landscape settings"
);

#[wasm_bindgen]
impl Landscape {
    /// The point `[x, y]` under canvas pixel (`px`, `py`) of a map of `surface` on a canvas of
    /// `width` × `height` pixels at `dpr`; undefined off the plot.
    #[wasm_bindgen(js_name = pointAt)]
    pub fn point_at(surface: &str, width: u32, height: u32, dpr: f64, px: f64, py: f64) -> Result<Option<Vec<f64>>, JsError> {
        let p = crate::lab::landscape::point_at(surface, (width, height), dpr, (px, py)).map_err(super::super::js_err)?;
        Ok(p.map(|(x, y)| vec![x, y]))
    }
}
