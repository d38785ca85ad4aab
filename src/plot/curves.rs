//! Line plots of training curves: several named series on shared axes, with optional
//! vertical marks (e.g. "lr → 0.01" at a step).

use super::lines::{draw_legend, draw_line};
use super::{err, font};
use crate::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

/// One named line. As JSON: `{ name, x?, y, color, dashed, markers, faint?, dots? }`, x
/// defaulting to 1, 2, 3, …; a null y is a gap. A series without a name has no legend entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "SeriesData", into = "SeriesData")]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Index into [`PALETTE`].
    pub color: usize,
    /// Draw dashed (e.g. training error beside a solid validation error).
    pub dashed: bool,
    /// Draw a marker at each point (for sparse, per-epoch series).
    pub markers: bool,
    /// Draw thin and pale (one of many, e.g. a fold's curve under the folds' mean).
    pub faint: bool,
    /// Draw the points alone, without joining them (a dot plot).
    pub dots: bool,
}

impl Series {
    /// A solid line without markers.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>, color: usize) -> Series {
        Series { name: name.into(), points, color, dashed: false, markers: false, faint: false, dots: false }
    }
    pub fn dashed(mut self) -> Series {
        self.dashed = true;
        self
    }
    pub fn markers(mut self) -> Series {
        self.markers = true;
        self
    }
    pub fn faint(mut self) -> Series {
        self.faint = true;
        self
    }
    pub fn dots(mut self) -> Series {
        self.dots = true;
        self.markers = true;
        self
    }
}

/// A series as JSON: x and y as separate arrays (what a spreadsheet or the page has).
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SeriesData {
    #[serde(default)]
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<Vec<f64>>,
    y: Vec<Option<f64>>,
    #[serde(default)]
    color: usize,
    #[serde(default)]
    dashed: bool,
    #[serde(default)]
    markers: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    faint: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    dots: bool,
}

impl From<SeriesData> for Series {
    fn from(d: SeriesData) -> Series {
        let y = d.y.into_iter().map(|v| v.unwrap_or(f64::NAN));
        let points = match d.x {
            Some(x) => x.into_iter().zip(y).collect(),
            None => y.enumerate().map(|(i, y)| ((i + 1) as f64, y)).collect(),
        };
        Series { name: d.name, points, color: d.color, dashed: d.dashed, markers: d.markers || d.dots, faint: d.faint, dots: d.dots }
    }
}

impl From<Series> for SeriesData {
    fn from(s: Series) -> SeriesData {
        let finite = |v: f64| v.is_finite().then_some(v);
        SeriesData {
            name: s.name,
            x: Some(s.points.iter().map(|p| p.0).collect()),
            y: s.points.iter().map(|p| finite(p.1)).collect(),
            color: s.color,
            dashed: s.dashed,
            markers: s.markers,
            faint: s.faint,
            dots: s.dots,
        }
    }
}

/// A shaded region between two curves over the same x values (a ±1 standard error band, or a
/// vertical strip with constant `lo` and `hi`), drawn translucent under the lines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Band {
    #[serde(default)]
    pub name: String,
    pub x: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
    #[serde(default)]
    pub color: usize,
}

/// An axis from `lo` to `hi` that can be drawn: finite ends, `lo` below `hi`, and a finite
/// span (an infinite or inverted range would make the tick loop run forever or panic).
fn check_axis(axis: &str, lo: f64, hi: f64) -> Result<()> {
    if lo.is_finite() && hi.is_finite() && lo < hi && (hi - lo).is_finite() {
        Ok(())
    } else {
        Err(crate::Error::new(format!("the {axis} axis from {lo} to {hi} cannot be drawn: it needs two finite ends, the first below the second")))
    }
}

/// Draw `series` on one chart. Non-finite points are skipped. `y_range` fixes the y axis
/// (otherwise it fits the data); `x_max` fixes the right end (so a run fills in from the left).
#[allow(clippy::too_many_arguments)]
pub fn draw_curves<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[Series],
    title: &str,
    x_label: &str,
    y_label: &str,
    x_max: Option<f64>,
    y_range: Option<(f64, f64)>,
    marks: &[(f64, String)],
    bands: &[Band],
    scale: f64,
) -> Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let all: Vec<(f64, f64)> = series.iter().flat_map(|s| s.points.iter().filter(finite).copied()).collect();
    let x_lo = all.iter().map(|p| p.0).fold(0.0, f64::min);
    // an axis of negative values (a log10 of small numbers) ends where its data or x_max does
    let x_hi = x_max.unwrap_or_else(|| all.iter().map(|p| p.0).fold(if x_lo < 0.0 { f64::NEG_INFINITY } else { 1.0 }, f64::max));
    let x_hi = if x_hi > x_lo { x_hi } else { x_lo + 1e-9_f64.max(1e-9 * x_lo.abs()) };
    let (y_lo, y_hi) = y_range.unwrap_or_else(|| {
        let lo = all.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let hi = all.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        if lo.is_finite() && hi > lo {
            let pad = 0.05 * (hi - lo);
            ((lo - pad).min(if lo >= 0.0 { 0.0 } else { lo - pad }), hi + pad)
        } else if lo.is_finite() {
            (lo - 1.0, lo + 1.0)
        } else {
            (0.0, 1.0)
        }
    });
    if let Some(m) = x_max {
        check_axis("x", x_lo, m)?;
    }
    check_axis("x", x_lo, x_hi)?;
    check_axis("y", y_lo, y_hi)?;
    let mut chart = ChartBuilder::on(area)
        .caption(title, font(15.0, scale))
        .margin(8.0 * scale)
        // room for the last x tick's label, which is centred on the right edge
        .margin_right(18.0 * scale)
        .x_label_area_size(32.0 * scale)
        // wide enough for the longest tick label (0.00045 needs more room than 0.5)
        .y_label_area_size(
            (14.0 + 6.6 * [y_lo, y_hi, 0.5 * (y_lo + y_hi)].map(|v| super::tick(v).len()).into_iter().max().unwrap_or(3) as f64).max(48.0) * scale,
        )
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(font(11.0, scale))
        .axis_desc_style(font(12.0, scale))
        .x_label_formatter(&|v| super::tick(*v))
        .y_label_formatter(&|v| super::tick(*v))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(err)?;
    for b in bands {
        let color = super::PALETTE[b.color % super::PALETTE.len()];
        let n = b.x.len().min(b.lo.len()).min(b.hi.len());
        let clamp = |y: f64| y.clamp(y_lo, y_hi);
        let mut outline: Vec<(f64, f64)> = (0..n).filter(|&i| b.lo[i].is_finite()).map(|i| (b.x[i], clamp(b.lo[i]))).collect();
        outline.extend((0..n).rev().filter(|&i| b.hi[i].is_finite()).map(|i| (b.x[i], clamp(b.hi[i]))));
        if outline.len() >= 3 {
            chart.draw_series(std::iter::once(Polygon::new(outline, color.mix(0.15).filled()))).map_err(err)?;
        }
    }
    // Marks' labels sit at the top; one that would overlap the label before it in a row goes
    // a row lower (several rules can stop a run within a few epochs of each other).
    let mut sorted: Vec<&(f64, String)> = marks.iter().filter(|m| m.0.is_finite()).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut row_ends: Vec<i32> = Vec::new();
    for (x, text) in sorted {
        let style = ShapeStyle::from(&RGBColor(150, 150, 150)).stroke_width(1);
        chart.draw_series(std::iter::once(PathElement::new(vec![(*x, y_lo), (*x, y_hi)], style))).map_err(err)?;
        let px = chart.backend_coord(&(*x, y_hi)).0;
        let width = (6.0 * scale * text.chars().count() as f64) as i32 + (4.0 * scale) as i32;
        let row = row_ends.iter().position(|&end| end < px).unwrap_or(row_ends.len());
        if row == row_ends.len() {
            row_ends.push(px + width);
        } else {
            row_ends[row] = px + width;
        }
        let offset = ((2.0 * scale) as i32, (row as f64 * 12.0 * scale) as i32);
        let label = EmptyElement::at((*x, y_hi)) + Text::new(text.clone(), offset, font(10.0, scale));
        chart.draw_series(std::iter::once(label)).map_err(err)?;
    }
    for s in series {
        let pts: Vec<(f64, f64)> = s.points.iter().filter(finite).map(|&(x, y)| (x, y.clamp(y_lo, y_hi))).collect();
        draw_line(&mut chart, s, pts, true, scale)?;
    }
    if series.iter().any(|s| !s.name.is_empty()) {
        draw_legend(&mut chart, scale)?;
    }
    area.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::testing::Counting;

    fn draw_with(series: Vec<Series>, x_max: Option<f64>, y_range: Option<(f64, f64)>) -> Result<()> {
        draw_curves(&Counting::new(120, 90).into_drawing_area(), &series, "t", "x", "y", x_max, y_range, &[], &[], 1.0)
    }

    #[test]
    fn axes_that_cannot_be_drawn_are_errors_not_hangs() {
        let one = || vec![Series::new("a", vec![(1.0, 0.5)], 0)];
        // (series, x_max, y_range, reason)
        let rows = [
            (one(), None, Some((f64::NEG_INFINITY, f64::INFINITY)), "an infinite y range"),
            (one(), None, Some((1.0, 0.0)), "an inverted y range"),
            (one(), None, Some((f64::NAN, f64::NAN)), "a NaN y range"),
            (vec![Series::new("a", vec![(1.0, 1e308), (2.0, -1e308)], 0)], None, None, "values whose span overflows"),
            (one(), Some(f64::INFINITY), None, "an infinite x end"),
            (one(), Some(-5.0), None, "an x end left of the start"),
        ];
        for (series, x_max, y_range, reason) in rows {
            let e = draw_with(series, x_max, y_range).expect_err(reason);
            assert!(e.message().contains("cannot be drawn"), "{reason}: {}", e.message());
        }
        assert!(draw_with(one(), Some(3.0), Some((0.0, 1.0))).is_ok(), "a good chart still draws");
    }
}
