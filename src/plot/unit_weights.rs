//! A hidden layer's units as pictures: unit u's incoming weights `W[u, :]` (one per input
//! pixel) drawn as a 28×28 image, negative blue, positive red, zero white. All units share one
//! colour scale, so two units with the same weights give the same picture.

use super::{err, font};
use crate::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Colour of `v` on a diverging scale over [-r, r]: blue, white at 0, red.
pub fn diverging(v: f32, r: f32) -> RGBColor {
    let t = if r > 0.0 { (v / r).clamp(-1.0, 1.0) } else { 0.0 };
    let t = if t.is_nan() { 0.0 } else { t };
    let (end, a) = if t < 0.0 { ((33.0, 102.0, 172.0), -t) } else { ((178.0, 24.0, 43.0), t) };
    let mix = |e: f32| (255.0 + (e - 255.0) * a).round() as u8;
    RGBColor(mix(end.0), mix(end.1), mix(end.2))
}

/// The largest difference between any unit's weights and unit 0's: `max_u max_i |W[u,i] − W[0,i]|`
/// over `units` rows of `len` values. Zero means every unit is a copy of the first.
pub fn unit_spread(weights: &[f32], units: usize, len: usize) -> f32 {
    if len == 0 || units < 2 || weights.len() < units * len {
        return 0.0;
    }
    let first = &weights[..len];
    (1..units).flat_map(|u| weights[u * len..(u + 1) * len].iter().zip(first).map(|(a, b)| (a - b).abs())).fold(0.0, f32::max)
}

/// Draw `units` images of `rows × cols` weights each (row-major `(units, rows·cols)`) in a grid
/// of `columns`, each captioned "unit k", under `title`. The colour scale is ±max |w| over all
/// units (stated in the title when `title` is not empty).
#[allow(clippy::too_many_arguments)]
pub fn draw_unit_weights<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    weights: &[f32],
    units: usize,
    (rows, cols): (usize, usize),
    columns: usize,
    title: &str,
    scale: f64,
) -> Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let px = rows * cols;
    let units = units.min(weights.len().checked_div(px).unwrap_or(0));
    let r = weights[..units * px].iter().filter(|v| v.is_finite()).fold(0.0f32, |m, v| m.max(v.abs()));
    let full_title = if title.is_empty() { String::new() } else { format!("{title} (colour ±{})", super::layers::short(r as f64)) };
    let body = if full_title.is_empty() { area.clone() } else { area.titled(&full_title, font(15.0, scale)).map_err(err)? };
    if units == 0 || columns == 0 {
        area.present().map_err(err)?;
        return Ok(());
    }
    let columns = columns.min(units);
    let grid_rows = units.div_ceil(columns);
    let cells = body.split_evenly((grid_rows, columns));
    for (u, cell) in cells.iter().enumerate().take(units) {
        let (w, h) = cell.dim_in_pixel();
        let caption_h = (15.0 * scale) as i32;
        let side = (w as i32 - 6).min(h as i32 - caption_h - 6).max(1);
        let x0 = (w as i32 - side) / 2;
        let y0 = 3;
        let pixel = side as f64 / cols.max(rows) as f64;
        let img = &weights[u * px..(u + 1) * px];
        for y in 0..rows {
            for x in 0..cols {
                let color = diverging(img[y * cols + x], r);
                let (xa, ya) = (x0 + (x as f64 * pixel) as i32, y0 + (y as f64 * pixel) as i32);
                let (xb, yb) = (x0 + ((x + 1) as f64 * pixel).ceil() as i32, y0 + ((y + 1) as f64 * pixel).ceil() as i32);
                cell.draw(&Rectangle::new([(xa, ya), (xb, yb)], color.filled())).map_err(err)?;
            }
        }
        let frame = ShapeStyle::from(&RGBColor(200, 200, 200)).stroke_width(1);
        cell.draw(&Rectangle::new([(x0 - 1, y0 - 1), (x0 + side, y0 + side)], frame)).map_err(err)?;
        let style = font(11.0, scale).pos(Pos::new(HPos::Center, VPos::Top));
        cell.draw(&Text::new(format!("unit {}", u + 1), (w as i32 / 2, y0 + side + 3), style)).map_err(err)?;
    }
    area.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_is_white_at_zero_and_saturates() {
        assert_eq!(diverging(0.0, 1.0), RGBColor(255, 255, 255));
        assert_eq!(diverging(1.0, 1.0), RGBColor(178, 24, 43));
        assert_eq!(diverging(-5.0, 1.0), RGBColor(33, 102, 172), "clamped");
        assert_eq!(diverging(3.0, 0.0), RGBColor(255, 255, 255), "an all-zero layer is white");
        assert_eq!(diverging(f32::NAN, 1.0), RGBColor(255, 255, 255));
    }

    #[test]
    fn spread_is_zero_only_for_copies() {
        let same = [0.5, -1.0, 0.5, -1.0, 0.5, -1.0];
        assert_eq!(unit_spread(&same, 3, 2), 0.0);
        let apart = [0.5, -1.0, 0.5, -1.0, 0.5, -0.75];
        assert_eq!(unit_spread(&apart, 3, 2), 0.25);
        assert_eq!(unit_spread(&apart, 1, 2), 0.0, "one unit has nothing to differ from");
    }
}
