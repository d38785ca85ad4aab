//! Convergence charts: quantities that shrink by orders of magnitude (an optimizer's distance
//! to the minimum, a training loss heading for zero) on a log y axis, with an optional
//! threshold line (a tolerance). On a log axis a steady rate of convergence is a straight
//! line, and a faster rate a steeper one.
//!
//! For animation the chart comes in two passes, like the contour map: [`draw_log_axes`]
//! paints the frame (title, grid, labels, threshold, legend) once, and [`draw_log_series`]
//! draws only the lines over a copy of it each frame. Laying out text costs the browser a
//! page layout per label, so a frame that draws no text stays cheap.

use super::lines::{draw_legend, draw_line, legend_entry};
use super::log_curves::short_num;
use super::{err, font, tick, Series};
use crate::Result;
use plotters::coord::combinators::LogCoord;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The fixed frame of a log chart.
#[derive(Clone, Copy, Debug)]
pub struct LogAxes<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub x_range: (f64, f64),
    /// Positive, lo < hi.
    pub y_range: (f64, f64),
    /// A dashed horizontal line and its label.
    pub hline: Option<(f64, &'a str)>,
}

const MARGIN: f64 = 8.0;
const TITLE: f64 = 28.0;

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, LogCoord<f64>>>;

/// The chart both passes share; it draws nothing by itself.
fn layout<'a, DB: DrawingBackend>(area: &'a DrawingArea<DB, Shift>, axes: &LogAxes, scale: f64) -> Result<Chart<'a, DB>> {
    let (lo, hi) = axes.y_range;
    ChartBuilder::on(area)
        .margin(MARGIN * scale)
        .margin_top(TITLE * scale)
        .x_label_area_size(32.0 * scale)
        .y_label_area_size(52.0 * scale)
        .build_cartesian_2d(axes.x_range.0..axes.x_range.1, (lo..hi).log_scale())
        .map_err(err)
}

/// The y range that holds every positive finite point, widened to whole decades.
fn fit_decades(series: &[Series]) -> (f64, f64) {
    let ys = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|y| y.is_finite() && *y > 0.0);
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| (lo.min(y), hi.max(y)));
    if !lo.is_finite() {
        return (0.01, 10.0);
    }
    let (lo, hi) = (10f64.powf(lo.log10().floor()), 10f64.powf(hi.log10().ceil()));
    if hi > lo {
        (lo, hi)
    } else {
        (lo / 10.0, hi * 10.0)
    }
}

/// Paint the frame: white background, title, grid and labels, the threshold line, and a
/// legend naming `legend` (name, colour index into [`PALETTE`], dashed).
pub fn draw_log_axes<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, axes: &LogAxes, legend: &[(String, usize, bool)], scale: f64) -> Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let (w, _) = area.dim_in_pixel();
    area.draw_text(axes.title, &font(15.0, scale).pos(Pos::new(HPos::Center, VPos::Top)), ((w / 2) as i32, (MARGIN * scale) as i32)).map_err(err)?;
    let mut chart = layout(area, axes, scale)?;
    // At most one x label per 45 CSS pixels, so long step counts do not run together.
    let (plot_w, _) = chart.plotting_area().dim_in_pixel();
    let x_labels = ((plot_w as f64 / (45.0 * scale)) as usize).clamp(4, 12);
    chart
        .configure_mesh()
        .x_labels(x_labels)
        .x_desc(axes.x_label)
        .y_desc(axes.y_label)
        .label_style(font(11.0, scale))
        .axis_desc_style(font(12.0, scale))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| short_num(*v))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(err)?;
    let (x_lo, x_hi) = axes.x_range;
    let (y_lo, y_hi) = axes.y_range;
    if let Some((y, label)) = axes.hline.filter(|(y, _)| *y > y_lo && *y < y_hi) {
        let style = ShapeStyle::from(&RGBColor(110, 110, 110)).stroke_width((1.0 * scale).max(1.0) as u32);
        chart.draw_series(DashedLineSeries::new([(x_lo, y), (x_hi, y)], (5.0 * scale) as u32, (4.0 * scale) as u32, style)).map_err(err)?;
        let pad = (4.0 * scale) as i32;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((x_lo, y)) + Text::new(label.to_string(), (pad, -pad), font(10.5, scale).pos(Pos::new(HPos::Left, VPos::Bottom))),
            ))
            .map_err(err)?;
    }
    for (name, color, dashed) in legend {
        legend_entry(&mut chart, name, *color, *dashed, scale)?;
    }
    if !legend.is_empty() {
        draw_legend(&mut chart, scale)?;
    }
    area.present().map_err(err)?;
    Ok(())
}

/// Draw only the lines (and markers) of `series` over a frame painted by [`draw_log_axes`]
/// with the same `axes` on an area of the same size. Points with y ≤ 0 or not finite are
/// left out; points beyond the y range are pinned to its edge, so a diverging run runs along
/// the top.
pub fn draw_log_series<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, axes: &LogAxes, series: &[Series], scale: f64) -> Result<()> {
    let mut chart = layout(area, axes, scale)?;
    let (y_lo, y_hi) = axes.y_range;
    for s in series {
        let pts: Vec<(f64, f64)> =
            s.points.iter().filter(|p| p.0.is_finite() && p.1.is_finite() && p.1 > 0.0).map(|&(x, y)| (x, y.clamp(y_lo, y_hi))).collect();
        draw_line(&mut chart, s, pts, false, scale)?;
    }
    area.present().map_err(err)?;
    Ok(())
}

/// The frame [`draw_convergence`] gives `series`: x from the smallest x (or 0) to `x_max`
/// (else the largest x), y over `y_range` when it is positive and increasing (else whole
/// decades around the data).
#[allow(clippy::too_many_arguments)]
pub fn fit_axes<'a>(
    series: &[Series],
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    x_max: Option<f64>,
    y_range: Option<(f64, f64)>,
    hline: Option<(f64, &'a str)>,
) -> LogAxes<'a> {
    let y_range = y_range.filter(|(lo, hi)| *lo > 0.0 && hi > lo).unwrap_or_else(|| fit_decades(series));
    let xs = || series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).filter(|x| x.is_finite());
    let x_hi = x_max.unwrap_or_else(|| xs().fold(1.0, f64::max)).max(1e-9);
    let x_lo = xs().fold(0.0, f64::min);
    LogAxes { title, x_label, y_label, x_range: (x_lo, x_hi), y_range, hline }
}

/// The legend of `series`: (name, colour, dashed) of each named one.
pub fn legend_of(series: &[Series]) -> Vec<(String, usize, bool)> {
    series.iter().filter(|s| !s.name.is_empty()).map(|s| (s.name.clone(), s.color, s.dashed)).collect()
}

/// Both passes at once, for charts redrawn rarely. `x_max` fixes the right end (else it fits
/// the data); `y_range` fixes the y axis (else whole decades around the data).
#[allow(clippy::too_many_arguments)]
pub fn draw_convergence<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[Series],
    title: &str,
    x_label: &str,
    y_label: &str,
    x_max: Option<f64>,
    y_range: Option<(f64, f64)>,
    hline: Option<(f64, &str)>,
    scale: f64,
) -> Result<()> {
    let axes = fit_axes(series, title, x_label, y_label, x_max, y_range, hline);
    draw_log_axes(area, &axes, &legend_of(series), scale)?;
    draw_log_series(area, &axes, series, scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fitted_range_is_whole_decades_around_the_data() {
        let s = |ys: &[f64]| Series::new("", ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect(), 0);
        // (series, expected range, reason)
        let rows = [
            (s(&[0.5, 0.003, f64::NAN, 0.0]), (1e-3, 1.0), "zero and NaN are left out"),
            (s(&[]), (0.01, 10.0), "nothing to fit"),
            (s(&[1.0]), (0.1, 10.0), "a single value on a decade boundary"),
        ];
        for (series, want, reason) in rows {
            assert_eq!(fit_decades(&[series]), want, "{reason}");
        }
    }
}
