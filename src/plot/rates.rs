//! A histogram of positive per-weight quantities on a log10 axis, e.g. the learning rate each
//! weight effectively gets from RMSprop or Adam, with vertical lines for single values to
//! compare against (plain SGD gives every weight the same rate).

use super::log_curves::short_num;
use super::{err, font, PALETTE};
use crate::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One set of values, drawn as translucent bars.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Group {
    pub name: String,
    /// Positive values; others are ignored.
    pub values: Vec<f64>,
    /// Index into [`PALETTE`].
    #[serde(default)]
    pub color: usize,
}

/// A vertical line at `x` (not a logarithm: the value itself).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RefLine {
    pub name: String,
    pub x: f64,
    #[serde(default)]
    pub color: usize,
}

/// Shared bins over log10 values: `(lo, width, count)`, covering every value and line with a
/// margin, on whole decades, about 10 bins per decade (fewer when the span is wide).
pub fn log_bins(logs: impl Iterator<Item = f64>) -> (f64, f64, usize) {
    let (lo, hi) = logs.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (-3.0, 0.1, 30);
    }
    let lo = (lo - 0.2).floor();
    let hi = (hi + 0.2).ceil().max(lo + 2.0);
    let decades = hi - lo;
    let per_decade = if decades <= 7.0 {
        10.0
    } else if decades <= 14.0 {
        5.0
    } else {
        2.0
    };
    let width = 1.0 / per_decade;
    (lo, width, (decades * per_decade).round() as usize)
}

/// Percentage of `logs` falling in each bin.
pub fn histogram(logs: &[f64], (lo, width, count): (f64, f64, usize)) -> Vec<f64> {
    let mut bins = vec![0.0; count];
    let finite = logs.iter().filter(|v| v.is_finite()).count();
    for &v in logs.iter().filter(|v| v.is_finite()) {
        let i = (((v - lo) / width).floor().max(0.0) as usize).min(count - 1);
        bins[i] += 1.0;
    }
    if finite > 0 {
        bins.iter_mut().for_each(|b| *b *= 100.0 / finite as f64);
    }
    bins
}

/// Draw the groups' histograms over log10 of their values, with the reference lines.
pub fn draw_log_histogram<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    groups: &[Group],
    lines: &[RefLine],
    title: &str,
    x_label: &str,
    scale: f64,
) -> Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let logs: Vec<Vec<f64>> = groups.iter().map(|g| g.values.iter().filter(|v| **v > 0.0).map(|v| v.log10()).collect()).collect();
    let bins = log_bins(logs.iter().flatten().copied().chain(lines.iter().filter(|l| l.x > 0.0).map(|l| l.x.log10())));
    let (lo, width, count) = bins;
    let hi = lo + width * count as f64;
    let hists: Vec<Vec<f64>> = logs.iter().map(|l| histogram(l, bins)).collect();
    let top = hists.iter().flatten().copied().fold(0.0, f64::max);
    let y_hi = if top > 0.0 { top * 1.15 } else { 10.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(title, font(15.0, scale))
        .margin(8.0 * scale)
        .x_label_area_size(32.0 * scale)
        .y_label_area_size(48.0 * scale)
        .build_cartesian_2d(lo..hi, 0f64..y_hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("% of the layer's weights")
        .x_labels((hi - lo) as usize + 1)
        .label_style(font(11.0, scale))
        .axis_desc_style(font(12.0, scale))
        // ticks sit on whole decades; label them with the value itself, not its logarithm
        .x_label_formatter(&|v| if (v - v.round()).abs() < 1e-6 { short_num(10f64.powf(v.round())) } else { String::new() })
        .y_label_formatter(&|v| super::tick(*v))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(err)?;
    let width_px = (1.2 * scale).max(1.0) as u32;
    for (g, h) in groups.iter().zip(&hists) {
        let color = PALETTE[g.color % PALETTE.len()];
        chart
            .draw_series(h.iter().enumerate().filter(|(_, &p)| p > 0.0).map(|(i, &p)| {
                let x0 = lo + i as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width, p)], color.mix(0.45).filled())
            }))
            .map_err(err)?
            .label(g.name.clone())
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - (5.0 * scale) as i32), (x + (16.0 * scale) as i32, y + (5.0 * scale) as i32)], color.mix(0.45).filled())
            });
        // the outline of the bars, so overlapping groups stay readable
        let mut outline = vec![(lo, 0.0)];
        for (i, &p) in h.iter().enumerate() {
            let x0 = lo + i as f64 * width;
            outline.extend([(x0, p), (x0 + width, p)]);
        }
        outline.push((hi, 0.0));
        chart.draw_series(std::iter::once(PathElement::new(outline, ShapeStyle::from(&color).stroke_width(width_px)))).map_err(err)?;
    }
    for l in lines.iter().filter(|l| l.x > 0.0) {
        let color = PALETTE[l.color % PALETTE.len()];
        let x = l.x.log10();
        let style = ShapeStyle::from(&color).stroke_width((2.0 * scale).max(1.0) as u32);
        chart
            .draw_series(std::iter::once(PathElement::new(vec![(x, 0.0), (x, y_hi)], style)))
            .map_err(err)?
            .label(l.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + (16.0 * scale) as i32, y)], style));
    }
    super::lines::draw_legend(&mut chart, scale)?;
    area.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_cover_whole_decades_around_the_data() {
        // (log10 values, (lo, bins), reason)
        let rows: &[(&[f64], (f64, usize), &str)] = &[
            (&[-2.5, -0.5], (-3.0, 30), "from the decade below the smallest to the one above the largest"),
            (&[-1.0], (-2.0, 20), "a single value still gets two decades"),
            (&[], (-3.0, 30), "no data: a default range"),
            (&[-10.0, 5.0], (-11.0, 34), "a very wide span gets coarser bins (2 per decade)"),
        ];
        for &(logs, (lo, count), reason) in rows {
            let (l, _, c) = log_bins(logs.iter().copied());
            assert_eq!((l, c), (lo, count), "{reason}");
        }
    }

    #[test]
    fn histogram_is_in_percent_and_keeps_the_edges() {
        let bins = log_bins([-2.0, 0.0].into_iter());
        let h = histogram(&[-2.0, -1.95, 0.0, f64::NAN], bins);
        assert!((h.iter().sum::<f64>() - 100.0).abs() < 1e-9, "sums to 100%");
        assert!((h.iter().copied().fold(0.0, f64::max) - 200.0 / 3.0).abs() < 1e-9, "two of three in one bin");
    }
}
