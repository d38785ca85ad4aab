//! The `contour` chart kind: a [`Surface`]'s contour map with optimizer paths over it.
//!
//! A chart names its surface and the box it wants to show, not a grid of values: the view is
//! fitted to the canvas's aspect at draw time (so a round bowl looks round on any canvas),
//! and the map is sampled at that canvas's pixels. The map is the slow part and the paths
//! the moving one, so the kind draws in two passes ([`draw_map`], [`draw_map_paths`]); the
//! page keeps a copy of the first (see `Chart::still_key`).
//!
//! Levels are spaced evenly in log f, `per_decade` to a factor of ten, from `decades` below
//! the highest value in view up to it (lower levels enclose too little to see).

use super::contour::{self, Path, PixelFrame, View};
use crate::landscape::{Objective, Surface};
use crate::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The view on an area of `size` pixels: `want` widened so a unit of x is as long as a unit
/// of y.
pub fn view_on(want: View, size: (u32, u32), scale: f64) -> View {
    let (w, h) = contour::plot_size(size, scale);
    View::fit(want, w / h)
}

/// Where the plotting area lies on an area of `size` pixels, and the data range it shows.
pub fn frame_on(want: View, size: (u32, u32), scale: f64) -> PixelFrame {
    contour::plot_frame(size, scale, view_on(want, size, scale))
}

/// The highest value in `view` (sampled on a 41 × 41 grid); 1 when nothing there is positive.
fn highest(f: &dyn Objective, view: View) -> f64 {
    let n = 40;
    let mut hi: f64 = 0.0;
    for j in 0..=n {
        for i in 0..=n {
            let x = view.x.0 + i as f64 / n as f64 * (view.x.1 - view.x.0);
            let y = view.y.0 + j as f64 / n as f64 * (view.y.1 - view.y.0);
            hi = hi.max(f.value(x, y));
        }
    }
    if hi > 0.0 {
        hi
    } else {
        1.0
    }
}

/// The contour levels for `view`: `per_decade` a decade, from `decades` (rounded out to a
/// whole power of ten) below the highest value in view up to it.
pub fn levels(f: &dyn Objective, view: View, decades: f64, per_decade: usize) -> Vec<f64> {
    let hi = highest(f, view);
    contour::log_levels(10f64.powf((hi.log10() - decades).floor()), hi, per_decade)
}

/// The still pass: bands, contour lines, axes and title. Returns where the plot landed.
#[allow(clippy::too_many_arguments)]
pub fn draw_map<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    surface: &Surface,
    want: View,
    decades: f64,
    per_decade: usize,
    title: &str,
    scale: f64,
) -> Result<PixelFrame> {
    let obj = surface.objective()?;
    let view = view_on(want, area.dim_in_pixel(), scale);
    let levels = levels(obj.as_ref(), view, decades, per_decade);
    contour::draw_contour_map(area, &|x, y| obj.value(x, y), view, &levels, title, scale)
}

/// The moving pass: `paths` (each drawn whole), the minimum and a legend, over a copy of
/// what [`draw_map`] drew on an area of the same size.
pub fn draw_map_paths<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, surface: &Surface, want: View, paths: &[Path], scale: f64) -> Result<()> {
    let obj = surface.objective()?;
    let view = view_on(want, area.dim_in_pixel(), scale);
    contour::draw_paths(area, view, paths, usize::MAX - 1, obj.minimum(), scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_reach_down_the_decades_asked_for() {
        let bowl = Surface::Quadratic { kappa: 1.0, degrees: 0.0 }.objective().unwrap();
        let view = View { x: (-2.0, 2.0), y: (-2.0, 2.0) };
        // the highest value in view is ½(4 + 4) = 4 at a corner
        let l = levels(bowl.as_ref(), view, 2.0, 1);
        assert_eq!(l.len(), 3, "{l:?}: 0.01, 0.1 and 1 (10 lies above 4)");
        assert!((l[0] - 0.01).abs() < 1e-12 && (l[2] - 1.0).abs() < 1e-12, "{l:?}");
    }

    #[test]
    fn the_view_keeps_x_and_y_to_one_scale() {
        let want = View { x: (-5.0, 5.0), y: (-3.0, 3.0) };
        for (size, scale) in [((800, 400), 1.0), ((400, 800), 2.0)] {
            let f = frame_on(want, size, scale);
            let per_x = f.width / (f.x1 - f.x0);
            let per_y = f.height / (f.y1 - f.y0);
            assert!((per_x / per_y - 1.0).abs() < 1e-9, "{size:?}: {per_x} vs {per_y} pixels per unit");
            assert!(f.x0 <= -5.0 && f.x1 >= 5.0 && f.y0 <= -3.0 && f.y1 >= 3.0, "the whole box stays in view: {f:?}");
        }
    }
}
