//! A heatmap of a (rows × cols) matrix, e.g. the softmax output of a batch: one row per
//! example, one column per class, colour = probability.

use super::{err, font};
use crate::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

/// Draw `values` (rows × cols, row-major) with colours spanning `[lo, hi]`.
#[allow(clippy::too_many_arguments)]
pub fn draw_heatmap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    values: &[f32],
    rows: usize,
    cols: usize,
    (lo, hi): (f32, f32),
    title: &str,
    x_label: &str,
    y_label: &str,
    scale: f64,
) -> Result<()> {
    area.fill(&WHITE).map_err(err)?;
    if rows == 0 || cols == 0 || values.len() != rows * cols {
        return Ok(());
    }
    let mut chart = ChartBuilder::on(area)
        .caption(title, font(15.0, scale))
        .margin(8.0 * scale)
        .x_label_area_size(30.0 * scale)
        .y_label_area_size(40.0 * scale)
        .build_cartesian_2d(0f64..cols as f64, rows as f64..0f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_labels(cols.min(10))
        .y_labels(rows.min(8))
        .x_label_formatter(&|v| if v.fract() == 0.0 { format!("{}", *v as usize) } else { String::new() })
        .y_label_formatter(&|v| if v.fract() == 0.0 { format!("{}", *v as usize) } else { String::new() })
        .label_style(font(11.0, scale))
        .axis_desc_style(font(12.0, scale))
        .draw()
        .map_err(err)?;
    let span = if hi > lo { hi - lo } else { 1.0 };
    chart
        .draw_series((0..rows).flat_map(|r| {
            (0..cols).map(move |c| {
                let t = ((values[r * cols + c] - lo) / span).clamp(0.0, 1.0);
                let color = ViridisRGB::get_color(t);
                Rectangle::new([(c as f64, r as f64), (c as f64 + 1.0, r as f64 + 1.0)], color.filled())
            })
        }))
        .map_err(err)?;
    area.present().map_err(err)?;
    Ok(())
}
