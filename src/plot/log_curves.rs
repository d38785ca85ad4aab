//! Line plots on a logarithmic y axis, for quantities that change by orders of magnitude
//! (e.g. Adam's raw and bias-corrected moments, or the size of its first updates).

use super::curves::Series;
use super::lines::{draw_legend, draw_line};
use super::{err, font};
use crate::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

/// A number as an axis label: powers of ten from 0.001 to 1000 written out ("0.01", "100"),
/// smaller and larger ones in exponent form ("1e-5"); others with up to 2 significant digits.
pub(crate) fn short_num(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if v == 0.0 {
        return "0".into();
    }
    let k = v.abs().log10();
    if (1e-3..1e4).contains(&v.abs()) {
        // enough decimals for two significant digits, then drop trailing zeros
        let decimals = (1.0 - k.floor()).max(0.0) as usize;
        let s = format!("{v:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        let e = k.floor() as i32;
        let m = v / 10f64.powi(e);
        if (m - m.round()).abs() < 1e-6 {
            format!("{}e{e}", m.round())
        } else {
            format!("{m:.1}e{e}")
        }
    }
}

/// Draw `series` with a log10 y axis. Points that are not finite and positive are skipped;
/// the y axis spans whole decades around the data (or `y_floor`..1 when there is none), with
/// one more on top for a legend of three lines or more.
#[allow(clippy::too_many_arguments)]
pub fn draw_log_curves<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[Series],
    title: &str,
    x_label: &str,
    y_label: &str,
    x_max: f64,
    y_floor: f64,
    scale: f64,
) -> Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let ok = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite() && p.1 > 0.0;
    let ys: Vec<f64> = series.iter().flat_map(|s| s.points.iter().filter(ok).map(|p| p.1)).collect();
    let (mut lo, mut hi) = ys.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| (a.min(y), b.max(y)));
    if !lo.is_finite() {
        (lo, hi) = (y_floor.max(1e-12), 1.0);
    }
    let lo = 10f64.powf(lo.max(y_floor.max(1e-12)).log10().floor());
    // a legend of several lines sits in the upper right: give it a decade of its own
    let named = series.iter().filter(|s| !s.name.is_empty()).count();
    let headroom = if named >= 3 { 1.0 } else { 0.0 };
    let hi = 10f64.powf(hi.log10().ceil() + headroom).max(lo * 10.0);
    let x_hi = x_max.max(1.0);
    let mut chart = ChartBuilder::on(area)
        .caption(title, font(15.0, scale))
        .margin(8.0 * scale)
        // room for the last x tick's label, which is centred on the right edge
        .margin_right(18.0 * scale)
        .x_label_area_size(32.0 * scale)
        .y_label_area_size(52.0 * scale)
        .build_cartesian_2d(0f64..x_hi, (lo..hi).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(font(11.0, scale))
        .axis_desc_style(font(12.0, scale))
        .x_label_formatter(&|v| super::tick(*v))
        .y_label_formatter(&|v| short_num(*v))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(err)?;
    for s in series {
        let pts: Vec<(f64, f64)> = s.points.iter().filter(ok).map(|&(x, y)| (x, y.clamp(lo, hi))).collect();
        draw_line(&mut chart, s, pts, true, scale)?;
    }
    if named > 0 {
        draw_legend(&mut chart, scale)?;
    }
    area.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::short_num;

    #[test]
    fn labels_read_naturally() {
        // (value, label, reason)
        let rows: &[(f64, &str, &str)] = &[
            (0.001, "0.001", "small powers of ten written out"),
            (100.0, "100", "whole numbers without decimals"),
            (0.02, "0.02", "two significant digits at most"),
            (0.25, "0.25", "two significant digits kept"),
            (1e-5, "1e-5", "tiny values in exponent form"),
            (3e-6, "3e-6", "tiny non-powers in exponent form"),
            (1e5, "1e5", "huge values in exponent form"),
            (0.0, "0", "zero"),
        ];
        for &(v, want, reason) in rows {
            assert_eq!(short_num(v), want, "{reason}");
        }
    }
}
