//! A field: values over a 2-D box drawn as colour, with points on top — a search's trials over
//! the objective (or a model's mean, its uncertainty, an acquisition function).
//!
//! The box is the unit square of a search space: `values` are sampled on an nx × ny grid of
//! cell centres, row 0 at the bottom (y = 0), and points are given in the same unit
//! coordinates. Each axis says how a unit coordinate reads as the hyperparameter's value
//! ([`FieldAxis`]: linear or logarithmic between `lo` and `hi`), so the ticks show learning
//! rates and widths, not fractions. Colour runs from dark (low) to bright (high) along
//! viridis, with a colour bar on the right; a non-finite value is grey.

use super::{err, font, PALETTE};
use crate::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use serde::{Deserialize, Serialize};

/// Shades of the colour scale a field is drawn in.
const LEVELS: usize = 64;

/// How an axis's unit coordinate u ∈ [0, 1] reads as a value: lo + u·(hi − lo), or on a log
/// axis exp(ln lo + u·(ln hi − ln lo)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldAxis {
    pub lo: f64,
    pub hi: f64,
    #[serde(default)]
    pub log: bool,
}

impl FieldAxis {
    pub fn unit() -> FieldAxis {
        FieldAxis { lo: 0.0, hi: 1.0, log: false }
    }

    /// The value at unit coordinate `u`.
    pub fn value(&self, u: f64) -> f64 {
        if self.log {
            (self.lo.ln() + u * (self.hi.ln() - self.lo.ln())).exp()
        } else {
            self.lo + u * (self.hi - self.lo)
        }
    }

    /// The unit coordinate of `v`.
    pub fn unit_of(&self, v: f64) -> f64 {
        if self.log {
            (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }

    /// Unit coordinates of round values to label: on a log axis 1, 2, 5 × powers of ten
    /// (only the powers of ten when the axis spans more than two decades), else about five
    /// evenly spaced steps of 1, 2 or 5 × a power of ten.
    pub fn ticks(&self) -> Vec<(f64, f64)> {
        let (lo, hi) = (self.lo.min(self.hi), self.lo.max(self.hi));
        let mut values = Vec::new();
        if self.log && lo > 0.0 {
            let decades = (hi / lo).log10();
            let mults: &[f64] = if decades > 2.0 { &[1.0] } else { &[1.0, 2.0, 5.0] };
            let mut p = 10f64.powi(lo.log10().floor() as i32);
            while p <= hi * 1.0001 {
                for m in mults {
                    let v = m * p;
                    if v >= lo * 0.9999 && v <= hi * 1.0001 {
                        values.push(v);
                    }
                }
                p *= 10.0;
            }
        } else if hi > lo {
            let raw = (hi - lo) / 5.0;
            let mag = 10f64.powi(raw.log10().floor() as i32);
            let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
            let mut v = (lo / step).ceil() * step;
            while v <= hi + 1e-9 * step {
                values.push(v);
                v += step;
            }
        }
        values.into_iter().map(|v| (self.unit_of(v), v)).filter(|(u, _)| (-1e-9..=1.0 + 1e-9).contains(u)).collect()
    }
}

/// How a point is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Mark {
    /// A filled dot with a white rim (a finished trial).
    #[default]
    Dot,
    /// An open ring (a trial still running).
    Ring,
    /// A large star (the best trial).
    Star,
    /// A cross (the next trial, what the model chose).
    Cross,
}

/// A point on the field, in unit coordinates, optionally numbered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldPoint {
    pub x: f64,
    pub y: f64,
    /// Index into [`PALETTE`].
    #[serde(default)]
    pub color: usize,
    #[serde(default)]
    pub mark: Mark,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Draw a field (see the module documentation); `values` hold nx·ny numbers, row 0 at the
/// bottom, coloured from `range.0` to `range.1`, the colour bar labelled `color_label`.
#[allow(clippy::too_many_arguments)]
pub fn draw_field<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    values: &[f32],
    (nx, ny): (usize, usize),
    range: (f32, f32),
    (x_axis, y_axis): (&FieldAxis, &FieldAxis),
    points: &[FieldPoint],
    color_label: &str,
    (title, x_label, y_label): (&str, &str, &str),
    scale: f64,
) -> Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let (w, _) = area.dim_in_pixel();
    let bar_w = (58.0 * scale) as u32;
    let (plot, bar) = area.split_horizontally(w.saturating_sub(bar_w));
    let mut chart = ChartBuilder::on(&plot)
        .caption(title, font(14.0, scale))
        .margin(6.0 * scale)
        .margin_right(14.0 * scale)
        .x_label_area_size(32.0 * scale)
        .y_label_area_size(50.0 * scale)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)
        .map_err(err)?;
    let label = |axis: &FieldAxis, u: f64| {
        let ticks = axis.ticks();
        match ticks.iter().find(|(t, _)| (t - u).abs() < 1e-6) {
            Some((_, v)) => short(*v),
            None => String::new(),
        }
    };
    let (xt, yt) = (x_axis.ticks(), y_axis.ticks());
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(font(11.0, scale))
        .axis_desc_style(font(12.0, scale))
        // ticks where the axis has round values: plotters asks for its own positions, so
        // give it many and label only the round ones
        .x_labels(0)
        .y_labels(0)
        .draw()
        .map_err(err)?;
    let (lo, hi) = range;
    let span = if hi > lo { hi - lo } else { 1.0 };
    if nx > 0 && ny > 0 && values.len() == nx * ny {
        // one rectangle per run of equal colour (quantized to LEVELS shades), grown upwards
        // while the rows above repeat it: a canvas pays per rectangle and per colour change
        let (cw, ch) = (1.0 / nx as f64, 1.0 / ny as f64);
        let level = |v: f32| if v.is_finite() { ((((v - lo) / span).clamp(0.0, 1.0)) * (LEVELS - 1) as f32).round() as i32 } else { -1 };
        let runs_of = |r: usize| {
            let mut runs: Vec<(usize, usize, i32)> = Vec::new();
            for c in 0..nx {
                let l = level(values[r * nx + c]);
                match runs.last_mut() {
                    Some(last) if last.2 == l => last.1 = c + 1,
                    _ => runs.push((c, c + 1, l)),
                }
            }
            runs
        };
        let mut rects: Vec<(f64, f64, f64, f64, i32)> = Vec::new();
        let mut open: Vec<(usize, usize, i32)> = Vec::new();
        let mut open_from = 0;
        for r in 0..=ny {
            let runs = if r < ny { runs_of(r) } else { Vec::new() };
            if runs != open || r == ny {
                rects.extend(open.iter().map(|&(c0, c1, l)| (c0 as f64 * cw, open_from as f64 * ch, c1 as f64 * cw, r as f64 * ch, l)));
                open = runs;
                open_from = r;
            }
        }
        let shade = |l: i32| if l < 0 { RGBColor(200, 200, 200) } else { ViridisRGB::get_color(l as f32 / (LEVELS - 1) as f32) };
        chart.draw_series(rects.into_iter().map(|(x0, y0, x1, y1, l)| Rectangle::new([(x0, y0), (x1, y1)], shade(l).filled()))).map_err(err)?;
    }
    // tick marks and labels by hand, at the round values
    let px = |v: f64| (v * scale) as i32;
    let tick_style = font(11.0, scale);
    for (u, _) in &xt {
        let (x, y) = chart.backend_coord(&(*u, 0.0));
        plot.draw(&PathElement::new(vec![(x, y), (x, y + px(4.0))], BLACK.stroke_width(scale.max(1.0) as u32))).map_err(err)?;
        let text = label(x_axis, *u);
        let half = (text.chars().count() as f64 * 3.0 * scale) as i32;
        plot.draw(&Text::new(text, (x - half, y + px(6.0)), tick_style.clone())).map_err(err)?;
    }
    for (u, _) in &yt {
        let (x, y) = chart.backend_coord(&(0.0, *u));
        plot.draw(&PathElement::new(vec![(x - px(4.0), y), (x, y)], BLACK.stroke_width(scale.max(1.0) as u32))).map_err(err)?;
        let text = label(y_axis, *u);
        let width = (text.chars().count() as f64 * 6.2 * scale) as i32;
        plot.draw(&Text::new(text, (x - px(7.0) - width, y - px(6.0)), tick_style.clone())).map_err(err)?;
    }
    let r = 4.5 * scale;
    for p in points {
        if !(p.x.is_finite() && p.y.is_finite()) {
            continue;
        }
        let at = chart.backend_coord(&(p.x.clamp(0.0, 1.0), p.y.clamp(0.0, 1.0)));
        let color = PALETTE[p.color % PALETTE.len()];
        match p.mark {
            Mark::Dot => {
                plot.draw(&Circle::new(at, (r + 1.5 * scale) as i32, WHITE.filled())).map_err(err)?;
                plot.draw(&Circle::new(at, r as i32, color.filled())).map_err(err)?;
            }
            Mark::Ring => {
                plot.draw(&Circle::new(at, (r + 1.0 * scale) as i32, WHITE.stroke_width((3.0 * scale) as u32))).map_err(err)?;
                plot.draw(&Circle::new(at, r as i32, color.stroke_width((1.5 * scale).max(1.0) as u32))).map_err(err)?;
            }
            Mark::Star => {
                let star = |rad: f64| -> Vec<(i32, i32)> {
                    (0..10)
                        .map(|k| {
                            let a = std::f64::consts::PI * (k as f64 / 5.0 - 0.5);
                            let rr = if k % 2 == 0 { rad } else { 0.45 * rad };
                            (at.0 + (rr * a.cos()) as i32, at.1 + (rr * a.sin()) as i32)
                        })
                        .collect()
                };
                plot.draw(&Polygon::new(star(3.0 * r), WHITE.filled())).map_err(err)?;
                plot.draw(&Polygon::new(star(2.4 * r), color.filled())).map_err(err)?;
            }
            Mark::Cross => {
                let d = (2.0 * r) as i32;
                for (a, b) in [((-d, -d), (d, d)), ((-d, d), (d, -d))] {
                    let line = vec![(at.0 + a.0, at.1 + a.1), (at.0 + b.0, at.1 + b.1)];
                    plot.draw(&PathElement::new(line.clone(), WHITE.stroke_width((5.0 * scale) as u32))).map_err(err)?;
                    plot.draw(&PathElement::new(line, color.stroke_width((2.5 * scale) as u32))).map_err(err)?;
                }
            }
        }
        if let Some(text) = &p.label {
            plot.draw(&Text::new(text.clone(), (at.0 + px(6.0), at.1 - px(14.0)), font(10.0, scale))).map_err(err)?;
        }
    }
    draw_color_bar(&bar, range, color_label, scale)?;
    area.present().map_err(err)?;
    Ok(())
}

/// The colour bar: the scale from `lo` (bottom) to `hi` (top), its ends and middle labelled.
fn draw_color_bar<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, (lo, hi): (f32, f32), label: &str, scale: f64) -> Result<()> {
    let (_, h) = area.dim_in_pixel();
    let px = |v: f64| (v * scale) as i32;
    let (top, bottom) = (px(34.0), h as i32 - px(40.0));
    if bottom <= top {
        return Ok(());
    }
    let (x0, x1) = (px(4.0), px(16.0));
    for k in 0..LEVELS {
        let (y0, y1) = (bottom - (bottom - top) * k as i32 / LEVELS as i32, bottom - (bottom - top) * (k as i32 + 1) / LEVELS as i32);
        let color = ViridisRGB::get_color(k as f64 / (LEVELS - 1) as f64);
        area.draw(&Rectangle::new([(x0, y1), (x1, y0)], color.filled())).map_err(err)?;
    }
    for (t, v) in [(0.0, lo), (0.5, 0.5 * (lo + hi)), (1.0, hi)] {
        let y = bottom - ((bottom - top) as f64 * t) as i32;
        area.draw(&Text::new(short(v as f64), (x1 + px(3.0), y - px(6.0)), font(10.0, scale))).map_err(err)?;
    }
    area.draw(&Text::new(label.to_string(), (x0, top - px(16.0)), font(10.0, scale))).map_err(err)?;
    Ok(())
}

/// A value as a short label: 0.001 as "1e-3", 0.25 as "0.25", 128 as "128".
fn short(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(0.01..1e5).contains(&a) {
        let e = a.log10().floor() as i32;
        let m = v / 10f64.powi(e);
        if (m - m.round()).abs() < 1e-6 {
            format!("{}e{e}", m.round())
        } else {
            format!("{m:.1}e{e}")
        }
    } else {
        super::tick((v * 1000.0).round() / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::testing::Counting;

    #[test]
    fn axes_read_unit_coordinates_as_values_and_tick_round_ones() {
        let lr = FieldAxis { lo: 1e-4, hi: 1.0, log: true };
        assert!((lr.value(0.5) - 1e-2).abs() < 1e-12);
        assert!((lr.unit_of(1e-3) - 0.25).abs() < 1e-12);
        let ticks: Vec<f64> = lr.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(ticks.len(), 5, "four decades: the powers of ten only: {ticks:?}");
        let narrow: Vec<f64> = FieldAxis { lo: 0.01, hi: 0.3, log: true }.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(narrow.len(), 5, "0.01, 0.02, 0.05, 0.1, 0.2: {narrow:?}");
        let p: Vec<f64> = FieldAxis { lo: 0.0, hi: 0.8, log: false }.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(p.len(), 5, "0, 0.2, …, 0.8: {p:?}");
        assert_eq!((short(0.001), short(0.25), short(128.0), short(3e-5)), ("1e-3".into(), "0.25".into(), "128".into(), "3e-5".into()));
    }

    #[test]
    fn draws_the_field_points_and_bar() {
        let values: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let points = [
            FieldPoint { x: 0.2, y: 0.3, color: 0, mark: Mark::Dot, label: Some("1".into()) },
            FieldPoint { x: 0.5, y: 0.5, color: 1, mark: Mark::Star, label: None },
            FieldPoint { x: 0.7, y: 0.1, color: 2, mark: Mark::Cross, label: None },
            FieldPoint { x: f64::NAN, y: 0.1, color: 2, mark: Mark::Ring, label: None },
        ];
        let draw = |values: &[f32], points: &[FieldPoint]| {
            let backend = Counting::new(400, 300);
            let inked = backend.inked.clone();
            let area = backend.into_drawing_area();
            let axis = FieldAxis::unit();
            draw_field(&area, values, (4, 3), (0.0, 11.0), (&axis, &axis), points, "error", ("t", "x", "y"), 1.0).unwrap();
            inked.get()
        };
        let full = draw(&values, &points);
        assert!(full > draw(&values, &[]), "points add ink");
        assert!(draw(&values, &[]) > draw(&[], &[]), "the field adds ink (a wrong-sized field draws none)");
    }
}
