//! What every line chart shares: drawing a [`Series`] (solid or dashed, optional markers) with
//! its legend entry, and the legend box. The charts differ only in their axes (linear or
//! log), so these functions take any chart whose data coordinates are `(f64, f64)`.

use super::{err, font, Series, PALETTE};
use crate::Result;
use plotters::coord::CoordTranslate;
use plotters::prelude::*;

/// Line width for a device-pixel ratio.
pub(crate) fn line_width(scale: f64) -> u32 {
    (1.6 * scale).max(1.0) as u32
}

/// A legend sample: a short line, broken in the middle for a dashed series, so solid and
/// dashed curves of one colour (validation vs training) differ there too. (A macro, not a
/// function: the closure's element type depends on the drawing backend, which an `impl Fn`
/// return would tie to `'static`.)
macro_rules! legend_mark {
    ($color:expr, $dashed:expr, $scale:expr) => {{
        let (color, dashed, scale) = ($color, $dashed, $scale);
        let width = $crate::plot::lines::line_width(scale);
        move |(x, y): (i32, i32)| {
            let seg = (16.0 * scale) as i32;
            let style = ShapeStyle::from(&color).stroke_width(width);
            let (gap_from, gap_to) = if dashed { (seg * 2 / 5, seg * 3 / 5) } else { (seg / 2, seg / 2) };
            EmptyElement::at((x, y)) + PathElement::new(vec![(0, 0), (gap_from, 0)], style) + PathElement::new(vec![(gap_to, 0), (seg, 0)], style)
        }
    }};
}

/// Register a legend entry without drawing anything (for charts whose lines are drawn in
/// another pass).
pub(crate) fn legend_entry<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>, name: &str, color: usize, dashed: bool, scale: f64) -> Result<()>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate<From = (f64, f64)>,
{
    let color = PALETTE[color % PALETTE.len()];
    chart
        .draw_series(LineSeries::new(std::iter::empty::<(f64, f64)>(), ShapeStyle::from(&color).stroke_width(line_width(scale))))
        .map_err(err)?
        .label(name)
        .legend(legend_mark!(color, dashed, scale));
    Ok(())
}

/// Draw one series at `pts` (already filtered and clamped by the caller), registering its
/// legend entry when `legend` is set.
pub(crate) fn draw_line<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>, s: &Series, pts: Vec<(f64, f64)>, legend: bool, scale: f64) -> Result<()>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate<From = (f64, f64)>,
{
    let color = PALETTE[s.color % PALETTE.len()];
    if s.dots {
        let anno = chart.draw_series(pts.iter().map(|&p| Circle::new(p, (3.0 * scale) as i32, color.mix(0.75).filled()))).map_err(err)?;
        if legend && !s.name.is_empty() {
            anno.label(s.name.clone()).legend(move |(x, y)| Circle::new((x + (8.0 * scale) as i32, y), (3.0 * scale) as i32, color.filled()));
        }
        return Ok(());
    }
    let style = if s.faint {
        ShapeStyle::from(&color.mix(0.35)).stroke_width((0.9 * scale).max(1.0) as u32)
    } else {
        ShapeStyle::from(&color).stroke_width(line_width(scale))
    };
    let anno = if s.dashed {
        chart.draw_series(DashedLineSeries::new(pts.clone(), (6.0 * scale) as u32, (4.0 * scale) as u32, style)).map_err(err)?
    } else {
        chart.draw_series(LineSeries::new(pts.clone(), style)).map_err(err)?
    };
    if legend && !s.name.is_empty() {
        anno.label(s.name.clone()).legend(legend_mark!(color, s.dashed, scale));
    }
    if s.markers {
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, (2.5 * scale) as i32, color.filled()))).map_err(err)?;
    }
    Ok(())
}

/// The legend box, upper right, in the house style.
pub(crate) fn draw_legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>, scale: f64) -> Result<()>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font(font(11.0, scale))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(err)?;
    Ok(())
}
