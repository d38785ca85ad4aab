//! Plots, drawn with plotters onto any drawing backend (a `<canvas>` in the page).
//!
//! Each plot is one `draw_*` function taking a drawing area and plain data. `scale` is the
//! device-pixel ratio: the canvas is `scale` times larger than its CSS box so plots stay crisp
//! on HiDPI screens, and every font size and line width is multiplied by it.

pub mod chart;
pub mod contour;
pub mod convergence;
pub mod curves;
pub mod digits;
pub mod field;
pub mod heatmap;
pub mod layers;
pub(crate) mod lines;
pub mod log_curves;
pub mod rates;
pub mod strips;
pub mod surface;
pub mod unit_weights;

pub use chart::{draw, draw_moving, draw_still, Body, Chart};
pub use curves::{draw_curves, Band, Series};
pub use digits::draw_digits;
pub use field::{FieldAxis, FieldPoint, Mark};
pub use heatmap::draw_heatmap;
pub use log_curves::draw_log_curves;
pub use rates::{draw_log_histogram, Group, RefLine};
pub use strips::{draw_strips, Strip};

use crate::Error;
use plotters::prelude::*;

/// Turn a plotters error into ours.
pub(crate) fn err<E: std::fmt::Debug>(e: E) -> Error {
    Error::new(format!("drawing failed: {e:?}"))
}

/// Series colours: distinguishable, colour-blind-friendly (Okabe–Ito).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(240, 228, 66),
];

/// An axis tick label: whole numbers without decimals, others with up to 3 significant decimals.
pub(crate) fn tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 * v.abs().max(1.0) {
        format!("{v:.0}")
    } else {
        // small values keep two significant digits (0.0035, not a rounded 0.003 twice)
        let decimals = if v.abs() < 0.01 { ((-v.abs().log10().floor()) as usize + 1).min(12) } else { 3 };
        let s = format!("{v:.decimals$}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Font for titles and labels, scaled for the device-pixel ratio.
pub(crate) fn font(size: f64, scale: f64) -> TextStyle<'static> {
    ("sans-serif", size * scale).into_font().color(&RGBColor(40, 40, 40))
}

/// A drawing backend for native tests: it draws nothing and counts the non-white pixels and
/// text it is asked for (plotters' own bitmap backend needs fonts the core does not ship).
#[cfg(test)]
pub(crate) mod testing {
    use plotters::prelude::*;
    use plotters_backend::{BackendColor, BackendCoord, BackendTextStyle, DrawingErrorKind};
    use std::cell::Cell;
    use std::rc::Rc;

    pub struct Counting {
        size: (u32, u32),
        pub inked: Rc<Cell<usize>>,
    }

    impl Counting {
        pub fn new(w: u32, h: u32) -> Counting {
            Counting { size: (w, h), inked: Rc::new(Cell::new(0)) }
        }
    }

    impl DrawingBackend for Counting {
        type ErrorType = std::convert::Infallible;
        fn get_size(&self) -> (u32, u32) {
            self.size
        }
        fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            Ok(())
        }
        fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            Ok(())
        }
        fn draw_pixel(&mut self, _: BackendCoord, c: BackendColor) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            if c.alpha > 0.0 && c.rgb != (255, 255, 255) {
                self.inked.set(self.inked.get() + 1);
            }
            Ok(())
        }
        fn draw_text<S: BackendTextStyle>(&mut self, text: &str, _: &S, _: BackendCoord) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inked.set(self.inked.get() + text.len());
            Ok(())
        }
        fn estimate_text_size<S: BackendTextStyle>(&self, text: &str, style: &S) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
            let h = style.size().max(1.0);
            Ok(((0.6 * h * text.chars().count() as f64) as u32, h as u32))
        }
    }
}
