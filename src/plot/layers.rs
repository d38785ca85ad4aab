//! Per-layer pictures of a deep network's signals, for the initialization cells:
//!
//! - [`draw_violins`]: one mirrored histogram ("violin") per layer on a shared value axis, so a
//!   signal that fades layer after layer shrinks to a sliver and one that blows up stretches out
//!   ([`violins`] bins the values, so a chart carries counts rather than every activation);
//! - [`draw_layer_stds`]: the standard deviation per layer on a log axis, which shows fading and
//!   blowing up as straight lines (a constant factor per layer is a constant slope).

use super::{err, font, Series, PALETTE};
use crate::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

/// Bins of each violin.
pub const BINS: usize = 41;

/// An axis label that stays short over many decades: "0.5", "20", "1e-5", "3e+6".
pub(crate) fn short(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if (1e-3..1e4).contains(&a) {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        let s = format!("{v:.0e}");
        s.replace("e", if a >= 1.0 { "e+" } else { "e" })
    }
}

/// Mean and standard deviation of the finite values (0, 0 when there are none).
pub fn mean_std(values: &[f32]) -> (f64, f64) {
    let (mut n, mut sum, mut sq) = (0usize, 0f64, 0f64);
    for &v in values.iter().filter(|v| v.is_finite()) {
        n += 1;
        sum += v as f64;
        sq += v as f64 * v as f64;
    }
    if n == 0 {
        return (0.0, 0.0);
    }
    let mean = sum / n as f64;
    (mean, (sq / n as f64 - mean * mean).max(0.0).sqrt())
}

/// The value below which a fraction `q` of the finite values lie (`None` when there are none).
fn quantile(values: &[f32], q: f64) -> Option<f64> {
    let mut a: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if a.is_empty() {
        return None;
    }
    let k = ((a.len() - 1) as f64 * q).round() as usize;
    let (_, v, _) = a.select_nth_unstable_by(k, f32::total_cmp);
    Some(*v as f64)
}

/// The value axis shared by all violins: from the 0.25th to the 99.75th percentile of every
/// layer (so a few outliers do not squash the rest), always including 0, padded by 5%.
fn value_range(layers: &[Vec<f32>]) -> (f64, f64) {
    let lo = layers.iter().filter_map(|l| quantile(l, 0.0025)).fold(0.0, f64::min);
    let hi = layers.iter().filter_map(|l| quantile(l, 0.9975)).fold(0.0, f64::max);
    if hi > lo && (hi - lo).is_finite() {
        let pad = 0.05 * (hi - lo);
        (if lo < 0.0 { lo - pad } else { lo }, if hi > 0.0 { hi + pad } else { hi })
    } else {
        (-1.0, 1.0)
    }
}

/// Counts of `values` in [`BINS`] equal bins over [lo, hi]; values outside are not counted.
fn histogram(values: &[f32], (lo, hi): (f64, f64)) -> [usize; BINS] {
    let bin = (hi - lo) / BINS as f64;
    let mut counts = [0usize; BINS];
    for &v in values {
        let b = ((v as f64 - lo) / bin).floor();
        if (0.0..BINS as f64).contains(&b) {
            counts[b as usize] += 1;
        } else if v as f64 == hi {
            counts[BINS - 1] += 1; // the top edge belongs to the last bin
        }
    }
    counts
}

/// One layer's violin: its values binned on the shared axis, and their mean and standard
/// deviation (the black bar).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Violin {
    /// [`BINS`] counts over the chart's value range (all zero for a layer with no values).
    pub counts: Vec<usize>,
    pub mean: f64,
    pub std: f64,
}

/// Bin each layer's values for [`draw_violins`]: exact zeros are left out when `skip_zeros`
/// (ReLU's switched-off units would otherwise hide the shape), and so are values that are not
/// finite. Returns the shared value axis (see [`value_range`]) and one violin per layer.
pub fn violins(layers: &[&[f32]], skip_zeros: bool) -> ((f64, f64), Vec<Violin>) {
    let kept: Vec<Vec<f32>> = layers.iter().map(|l| l.iter().copied().filter(|v| v.is_finite() && !(skip_zeros && *v == 0.0)).collect()).collect();
    let range = value_range(&kept);
    let violins = kept
        .iter()
        .map(|values| {
            let (mean, std) = mean_std(values);
            Violin { counts: histogram(values, range).to_vec(), mean, std }
        })
        .collect();
    (range, violins)
}

/// Draw one violin per layer (layer 1 first) on the shared value axis `(lo, hi)`, so sizes
/// compare across layers; each violin's width is scaled to its own peak. A black bar marks
/// mean ± one standard deviation.
#[allow(clippy::too_many_arguments)]
pub fn draw_violins<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (lo, hi): (f64, f64),
    violins: &[Violin],
    title: &str,
    x_label: &str,
    y_label: &str,
    color: usize,
    scale: f64,
) -> Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let n = violins.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(title, font(15.0, scale))
        .margin(8.0 * scale)
        .x_label_area_size(32.0 * scale)
        .y_label_area_size(56.0 * scale)
        .build_cartesian_2d(0.5f64..n as f64 + 0.5, lo..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.min(12))
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(font(11.0, scale))
        .axis_desc_style(font(12.0, scale))
        .x_label_formatter(&|v| if (v - v.round()).abs() < 1e-9 && *v >= 1.0 { format!("{}", v.round() as usize) } else { String::new() })
        .y_label_formatter(&|v| if v.abs() < 1e-6 * (hi - lo) { "0".into() } else { short(*v) })
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(220, 220, 220))
        .draw()
        .map_err(err)?;
    let fill = PALETTE[color % PALETTE.len()];
    let bin = (hi - lo) / BINS as f64;
    for (i, v) in violins.iter().enumerate() {
        let x = (i + 1) as f64;
        let counts = &v.counts;
        let peak = *counts.iter().max().unwrap_or(&0) as f64;
        if peak == 0.0 {
            continue; // no values, or every value lies outside the shared range
        }
        // a violin half-width of at most 0.42 of the column, bins as steps
        let half = |c: usize| 0.42 * c as f64 / peak;
        // only from the lowest to the highest occupied bin, so empty tails draw nothing
        let first = counts.iter().position(|&c| c > 0).unwrap_or(0);
        let last = counts.iter().rposition(|&c| c > 0).unwrap_or(0);
        let mut right = Vec::with_capacity(2 * BINS);
        for (b, &c) in counts.iter().enumerate().take(last + 1).skip(first) {
            let (y0, y1) = (lo + b as f64 * bin, lo + (b + 1) as f64 * bin);
            right.push((x + half(c), y0));
            right.push((x + half(c), y1));
        }
        let left: Vec<(f64, f64)> = right.iter().rev().map(|&(px, y)| (2.0 * x - px, y)).collect();
        let outline: Vec<(f64, f64)> = right.into_iter().chain(left).collect();
        chart.draw_series(std::iter::once(Polygon::new(outline.clone(), fill.mix(0.45).filled()))).map_err(err)?;
        let mut closed = outline;
        closed.push(closed[0]);
        chart.draw_series(std::iter::once(PathElement::new(closed, ShapeStyle::from(&fill).stroke_width((scale).max(1.0) as u32)))).map_err(err)?;
        let bar = ShapeStyle::from(&BLACK).stroke_width((2.0 * scale) as u32);
        let (a, b) = ((v.mean - v.std).max(lo), (v.mean + v.std).min(hi));
        chart.draw_series(std::iter::once(PathElement::new(vec![(x, a), (x, b)], bar))).map_err(err)?;
        chart.draw_series(std::iter::once(Circle::new((x, v.mean.clamp(lo, hi)), (2.5 * scale) as i32, BLACK.filled()))).map_err(err)?;
    }
    area.present().map_err(err)?;
    Ok(())
}

/// Per-layer values (standard deviations) on a log10 axis spanning whole decades around the
/// data, with a marker at every layer: each series' point i is layer i + 1 (non-positive or
/// non-finite values are left out).
pub fn draw_layer_stds<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lines: &[Series],
    title: &str,
    x_label: &str,
    y_label: &str,
    scale: f64,
) -> Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let ok = |v: f64| v.is_finite() && v > 0.0;
    let n = lines.iter().map(|l| l.points.len()).max().unwrap_or(1).max(1);
    let ys: Vec<f64> = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).filter(|&v| ok(v)).collect();
    let (lo, hi) = ys.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| (a.min(y), b.max(y)));
    let (lo, hi) = if lo.is_finite() {
        let lo = 10f64.powf(lo.log10().floor());
        let hi = 10f64.powf(hi.log10().ceil()).max(lo * 10.0);
        // at least two decades, so the axis always shows labelled powers of ten
        (if hi / lo < 99.0 { lo / 10.0 } else { lo }, hi)
    } else {
        (1e-3, 10.0)
    };
    // The legend gets rows of its own above the plot, so it never hides a line: entries
    // (a short line and the name) left to right, wrapping when the row is full.
    let text_style = font(11.0, scale).pos(Pos::new(HPos::Left, VPos::Center));
    let (seg, gap, after) = ((18.0 * scale) as i32, (4.0 * scale) as i32, (14.0 * scale) as i32);
    let row_h = (18.0 * scale) as i32;
    let (left, right) = ((64.0 * scale) as i32, area.dim_in_pixel().0 as i32 - (8.0 * scale) as i32);
    let mut entries = Vec::new(); // (line, x, row)
    let (mut x, mut row) = (left, 0);
    for line in lines.iter().filter(|l| !l.name.is_empty()) {
        let (w, _) = area.estimate_text_size(&line.name, &text_style).map_err(err)?;
        let width = seg + gap + w as i32;
        if x > left && x + width > right {
            (x, row) = (left, row + 1);
        }
        entries.push((line, x, row));
        x += width + after;
    }
    let rows = entries.last().map_or(0, |e| e.2 + 1);
    // title, then the legend rows, then the chart
    let margin = (8.0 * scale) as i32;
    let title_h = if title.is_empty() { 0 } else { (24.0 * scale) as i32 };
    if !title.is_empty() {
        let style = font(15.0, scale).pos(Pos::new(HPos::Center, VPos::Center));
        area.draw(&Text::new(title.to_string(), (area.dim_in_pixel().0 as i32 / 2, margin + title_h / 2), style)).map_err(err)?;
    }
    let mut chart = ChartBuilder::on(area)
        .margin(8.0 * scale)
        .margin_top((margin + title_h + rows * row_h + (6.0 * scale) as i32) as f64)
        .x_label_area_size(32.0 * scale)
        .y_label_area_size(56.0 * scale)
        .build_cartesian_2d(0.5f64..n as f64 + 0.5, (lo..hi).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(n.min(12))
        .x_desc(if x_label.is_empty() { "layer" } else { x_label })
        .y_desc(y_label)
        .label_style(font(11.0, scale))
        .axis_desc_style(font(12.0, scale))
        .x_label_formatter(&|v| if (v - v.round()).abs() < 1e-9 && *v >= 1.0 { format!("{}", v.round() as usize) } else { String::new() })
        .y_label_formatter(&|v| short(*v))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(220, 220, 220))
        .draw()
        .map_err(err)?;
    let width = (1.8 * scale).max(1.0) as u32;
    for line in lines {
        let color = PALETTE[line.color % PALETTE.len()];
        let style = ShapeStyle::from(&color).stroke_width(width);
        let pts: Vec<(f64, f64)> = line.points.iter().enumerate().filter(|(_, p)| ok(p.1)).map(|(i, p)| ((i + 1) as f64, p.1)).collect();
        if line.dashed {
            chart.draw_series(DashedLineSeries::new(pts.clone(), (6.0 * scale) as u32, (4.0 * scale) as u32, style)).map_err(err)?;
        } else {
            chart.draw_series(LineSeries::new(pts.clone(), style)).map_err(err)?;
        }
        if line.dashed {
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, (3.0 * scale) as i32, ShapeStyle::from(&color).stroke_width(width))))
                .map_err(err)?;
        } else {
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, (3.0 * scale) as i32, color.filled()))).map_err(err)?;
        }
    }
    if !entries.is_empty() {
        let top = margin + title_h;
        for (line, x, row) in entries {
            let y = top + row * row_h + row_h / 2;
            let color = PALETTE[line.color % PALETTE.len()];
            let style = ShapeStyle::from(&color).stroke_width(width);
            if line.dashed {
                area.draw(&PathElement::new(vec![(x, y), (x + seg * 2 / 5, y)], style)).map_err(err)?;
                area.draw(&PathElement::new(vec![(x + seg * 3 / 5, y), (x + seg, y)], style)).map_err(err)?;
            } else {
                area.draw(&PathElement::new(vec![(x, y), (x + seg, y)], style)).map_err(err)?;
            }
            area.draw(&Text::new(line.name.clone(), (x + seg + gap, y), text_style.clone())).map_err(err)?;
        }
    }
    area.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_std_skips_non_finite() {
        let (m, s) = mean_std(&[1.0, 3.0, f32::NAN, f32::INFINITY]);
        assert!((m - 2.0).abs() < 1e-12 && (s - 1.0).abs() < 1e-12);
        assert_eq!(mean_std(&[]), (0.0, 0.0));
    }

    #[test]
    fn labels_stay_short() {
        // (value, label, reason)
        let rows: &[(f64, &str, &str)] = &[
            (0.0, "0", "zero"),
            (0.25, "0.25", "ordinary"),
            (-20.0, "-20", "whole"),
            (1e-5, "1e-5", "tiny: exponent"),
            (3e6, "3e+6", "huge: exponent"),
        ];
        for &(v, want, why) in rows {
            assert_eq!(short(v), want, "{why}");
        }
    }

    #[test]
    fn histogram_counts_values_inside_the_range() {
        let c = histogram(&[-1.0, -0.999, 0.0, 0.999, 5.0], (-1.0, 1.0));
        assert_eq!(c.iter().sum::<usize>(), 4, "5.0 lies outside ±1");
        assert_eq!(c[0], 2);
        assert_eq!(c[BINS / 2], 1, "0 falls in the middle bin");
        assert_eq!(c[BINS - 1], 1);
    }

    #[test]
    fn the_value_range_ignores_outliers_and_keeps_zero() {
        let mut v: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0 + 1.0).collect();
        v.push(1e9);
        v.push(f32::NAN);
        assert!((quantile(&v, 0.995).unwrap() - 1.995).abs() < 0.01);
        assert_eq!(quantile(&[], 0.5), None);
        let (lo, hi) = value_range(&[v]);
        assert_eq!(lo, 0.0, "all positive (ReLU): the axis starts at 0");
        assert!(hi > 1.99 && hi < 2.2, "the outlier 1e9 is not on the axis: {hi}");
        let (lo, hi) = value_range(&[vec![-3.0, 1.0], vec![]]);
        assert!(lo < -3.0 && hi > 1.0, "both signs, padded: {lo} {hi}");
        assert_eq!(value_range(&[vec![0.0; 4]]), (-1.0, 1.0), "nothing to span");
    }
}
