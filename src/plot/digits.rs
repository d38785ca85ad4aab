//! A grid of 28×28 digits, each captioned "prediction (label)", green when they agree and
//! red when not.

use super::{err, font};
use crate::{ensure, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Draw up to `columns × ⌈n/columns⌉` digits. `images` is (n × rows·cols) in [0, 1].
pub fn draw_digits<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    images: &[f32],
    (rows, cols): (usize, usize),
    labels: &[u8],
    predictions: &[usize],
    columns: usize,
    scale: f64,
) -> Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let n = labels.len().min(predictions.len());
    if n == 0 || columns == 0 {
        return Ok(());
    }
    let px = rows * cols;
    ensure!(images.len() >= n * px, "{n} digits of {rows}×{cols} need {} pixel values, got {}", n * px, images.len());
    let grid_rows = n.div_ceil(columns);
    let cells = area.split_evenly((grid_rows, columns));
    for (i, cell) in cells.iter().enumerate().take(n) {
        let (w, h) = cell.dim_in_pixel();
        let caption_h = (16.0 * scale) as i32;
        let side = (w as i32 - 4).min(h as i32 - caption_h - 4).max(1);
        let x0 = (w as i32 - side) / 2;
        let pixel = side as f64 / cols as f64;
        let img = &images[i * px..(i + 1) * px];
        for r in 0..rows {
            for c in 0..cols {
                let v = img[r * cols + c].clamp(0.0, 1.0);
                if v <= 0.0 {
                    continue; // white background already
                }
                let g = (255.0 * (1.0 - v)) as u8;
                let (xa, ya) = (x0 + (c as f64 * pixel) as i32, 2 + (r as f64 * pixel) as i32);
                let (xb, yb) = (x0 + ((c + 1) as f64 * pixel).ceil() as i32, 2 + ((r + 1) as f64 * pixel).ceil() as i32);
                cell.draw(&Rectangle::new([(xa, ya), (xb, yb)], RGBColor(g, g, g).filled())).map_err(err)?;
            }
        }
        let ok = predictions[i] == labels[i] as usize;
        let color = if ok { RGBColor(0, 130, 60) } else { RGBColor(200, 30, 30) };
        let text = format!("{} ({})", predictions[i], labels[i]);
        let style = font(11.0, scale)
            .color(&color)
            .pos(plotters::style::text_anchor::Pos::new(plotters::style::text_anchor::HPos::Center, plotters::style::text_anchor::VPos::Top));
        cell.draw(&Text::new(text, (w as i32 / 2, side + 4), style)).map_err(err)?;
    }
    area.present().map_err(err)?;
    Ok(())
}
