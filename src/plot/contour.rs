//! Contour maps of a 2-D objective with optimizer paths on top (the momentum cell).
//!
//! The map is drawn in two passes so that the page can animate cheaply:
//! [`draw_contour_map`] paints the expensive part once (level bands, contour lines, axes,
//! title), and [`draw_paths`] draws the paths over a copy of it every frame. Both lay the chart
//! out with the same private `layout`, so the two passes agree on where each point lands.
//!
//! - Levels are spaced evenly in log f ([`log_levels`]): a valley's floor and its walls differ
//!   by orders of magnitude, and evenly spaced levels would crowd the walls and miss the floor.
//! - Bands: every pixel of a row is sampled and the row is filled as runs of equal band index,
//!   a few thousand rectangles in all.
//! - Lines: marching squares on a grid a few pixels apart ([`contour_lines`]), the segments
//!   chained into polylines so each line is one stroke.

use super::{err, font, PALETTE};
use crate::Result;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The rectangle of data space shown: x from `x.0` to `x.1`, y from `y.0` to `y.1`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct View {
    pub x: (f64, f64),
    pub y: (f64, f64),
}

impl View {
    /// The smallest view that holds `want` and whose width / height is `aspect` (so a unit on
    /// x is as long on screen as a unit on y, and a round bowl looks round): the short side is
    /// widened about its centre.
    pub fn fit(want: View, aspect: f64) -> View {
        let (w, h) = (want.x.1 - want.x.0, want.y.1 - want.y.0);
        let (cx, cy) = (0.5 * (want.x.0 + want.x.1), 0.5 * (want.y.0 + want.y.1));
        if !(aspect.is_finite() && aspect > 0.0) {
            return want;
        }
        if w / h < aspect {
            let half = 0.5 * h * aspect;
            View { x: (cx - half, cx + half), y: want.y }
        } else {
            let half = 0.5 * w / aspect;
            View { x: want.x, y: (cy - half, cy + half) }
        }
    }

    fn contains(&self, (x, y): (f64, f64)) -> bool {
        x >= self.x.0 && x <= self.x.1 && y >= self.y.0 && y <= self.y.1
    }
}

/// Where the plotting area lies on the canvas, in canvas (backing-store) pixels, and the data
/// range it shows: what the page needs to turn a click into a point.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PixelFrame {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
}

// Layout in CSS pixels (multiplied by `scale`): room for the title on top, tick labels left
// and below.
const MARGIN: f64 = 8.0;
const TITLE: f64 = 30.0;
const X_LABELS: f64 = 36.0;
const Y_LABELS: f64 = 46.0;

/// The size in pixels of the plotting area inside an area of `size` pixels, before any chart
/// is built (to pick a view of the right aspect).
pub fn plot_size(size: (u32, u32), scale: f64) -> (f64, f64) {
    let w = size.0 as f64 - (2.0 * MARGIN + Y_LABELS) * scale;
    let h = size.1 as f64 - (MARGIN + TITLE + X_LABELS) * scale;
    (w.max(1.0), h.max(1.0))
}

/// Where [`draw_contour_map`] puts the plotting area on an area of `size` pixels showing
/// `view`, worked out without drawing (plotters truncates each margin to whole pixels), so a
/// click can be turned into a point before or between draws.
pub fn plot_frame(size: (u32, u32), scale: f64, view: View) -> PixelFrame {
    let px = |v: f64| (v * scale) as i64 as f64;
    let (margin, top) = (px(MARGIN), px(TITLE));
    let (left, bottom) = (margin + px(Y_LABELS), margin + px(X_LABELS));
    PixelFrame {
        left,
        top,
        width: (size.0 as f64 - left - margin).max(0.0),
        height: (size.1 as f64 - top - bottom).max(0.0),
        x0: view.x.0,
        x1: view.x.1,
        y0: view.y.0,
        y1: view.y.1,
    }
}

impl PixelFrame {
    /// The point of data space under pixel (`px`, `py`) of the canvas, if it lies on the
    /// plotting area.
    pub fn point_at(&self, px: f64, py: f64) -> Option<(f64, f64)> {
        let (u, v) = (px - self.left, py - self.top);
        if !(u >= 0.0 && v >= 0.0 && u <= self.width && v <= self.height) || self.width <= 0.0 || self.height <= 0.0 {
            return None;
        }
        Some((self.x0 + u / self.width * (self.x1 - self.x0), self.y1 - v / self.height * (self.y1 - self.y0)))
    }
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The chart both passes share; it draws nothing by itself.
fn layout<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, view: View, scale: f64) -> Result<Chart<'_, DB>> {
    ChartBuilder::on(area)
        .margin(MARGIN * scale)
        .margin_top(TITLE * scale)
        .x_label_area_size(X_LABELS * scale)
        .y_label_area_size(Y_LABELS * scale)
        .build_cartesian_2d(view.x.0..view.x.1, view.y.0..view.y.1)
        .map_err(err)
}

/// Levels `lo`, `lo`·r, `lo`·r², … up to `hi`, with `per_decade` levels per factor of 10.
pub fn log_levels(lo: f64, hi: f64, per_decade: usize) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && per_decade > 0) {
        return Vec::new();
    }
    let step = 1.0 / per_decade as f64;
    let (a, b) = (lo.log10(), hi.log10());
    (0..).map(|k| a + k as f64 * step).take_while(|e| *e <= b + 1e-9).map(|e| 10f64.powf(e)).collect()
}

/// The band of value `v`: how many of the (ascending) `levels` lie at or below it.
fn band(levels: &[f64], v: f64) -> usize {
    levels.partition_point(|&l| l <= v)
}

/// Band colours, from the lowest band (deepest) to the highest (near white).
fn band_color(t: f64) -> RGBColor {
    // Slate to white: unlike the paths' blue, orange and green, so every path stays visible.
    const STOPS: [(f64, (f64, f64, f64)); 4] =
        [(0.0, (112.0, 120.0, 170.0)), (0.3, (160.0, 168.0, 205.0)), (0.65, (212.0, 217.0, 235.0)), (1.0, (252.0, 252.0, 250.0))];
    let t = t.clamp(0.0, 1.0);
    let i = STOPS.iter().rposition(|s| s.0 <= t).unwrap_or(0).min(STOPS.len() - 2);
    let (t0, c0) = STOPS[i];
    let (t1, c1) = STOPS[i + 1];
    let u = (t - t0) / (t1 - t0);
    let mix = |a: f64, b: f64| (a + (b - a) * u).round() as u8;
    RGBColor(mix(c0.0, c1.0), mix(c0.1, c1.1), mix(c0.2, c1.2))
}

/// Marching squares: the contour `f = level` of a grid of samples, as polylines.
///
/// `values` holds `nx × ny` samples, row by row from the bottom (`values[j·nx + i]` at
/// x = x₀ + i·(x₁−x₀)/(nx−1), y = y₀ + j·(y₁−y₀)/(ny−1)). Each grid cell whose corners lie on
/// both sides of `level` gets one segment (two at a saddle, split by the cell's mean), with
/// ends placed by linear interpolation along the cell's edges; segments sharing an edge are
/// then chained. A closed contour comes back with its first point repeated at the end.
pub fn contour_lines(values: &[f64], nx: usize, ny: usize, view: View, level: f64) -> Vec<Vec<(f64, f64)>> {
    if nx < 2 || ny < 2 || values.len() != nx * ny {
        return Vec::new();
    }
    let dx = (view.x.1 - view.x.0) / (nx - 1) as f64;
    let dy = (view.y.1 - view.y.0) / (ny - 1) as f64;
    let v = |i: usize, j: usize| values[j * nx + i];
    // Edge ids: 2·(j·nx + i) for the edge from (i, j) to (i+1, j), +1 for (i, j) to (i, j+1).
    let h_edge = |i: usize, j: usize| 2 * (j * nx + i);
    let v_edge = |i: usize, j: usize| 2 * (j * nx + i) + 1;
    let cross = |a: f64, b: f64| if (b - a).abs() > 0.0 { ((level - a) / (b - a)).clamp(0.0, 1.0) } else { 0.5 };
    let mut point_of: HashMap<usize, (f64, f64)> = HashMap::new();
    let mut segments: Vec<(usize, usize)> = Vec::new();
    for j in 0..ny - 1 {
        for i in 0..nx - 1 {
            // corners: a bottom-left, b bottom-right, c top-right, d top-left
            let (a, b, c, d) = (v(i, j), v(i + 1, j), v(i + 1, j + 1), v(i, j + 1));
            if ![a, b, c, d].iter().all(|x| x.is_finite()) {
                continue;
            }
            let case = (a >= level) as u8 | ((b >= level) as u8) << 1 | ((c >= level) as u8) << 2 | ((d >= level) as u8) << 3;
            if case == 0 || case == 15 {
                continue;
            }
            let (x, y) = (view.x.0 + i as f64 * dx, view.y.0 + j as f64 * dy);
            let bottom = h_edge(i, j);
            let top = h_edge(i, j + 1);
            let left = v_edge(i, j);
            let right = v_edge(i + 1, j);
            let mut at = |id: usize, p: (f64, f64)| {
                point_of.entry(id).or_insert(p);
                id
            };
            let pb = (x + cross(a, b) * dx, y);
            let pt = (x + cross(d, c) * dx, y + dy);
            let pl = (x, y + cross(a, d) * dy);
            let pr = (x + dx, y + cross(b, c) * dy);
            let (eb, et, el, er) = (at(bottom, pb), at(top, pt), at(left, pl), at(right, pr));
            let centre_high = 0.25 * (a + b + c + d) >= level;
            match case {
                1 | 14 => segments.push((el, eb)),
                2 | 13 => segments.push((eb, er)),
                3 | 12 => segments.push((el, er)),
                4 | 11 => segments.push((er, et)),
                6 | 9 => segments.push((eb, et)),
                7 | 8 => segments.push((el, et)),
                // Saddles: if the centre is high, the high corners a and c connect through it,
                // so the lines cut off the low corners b and d; otherwise they cut off a and c.
                5 if centre_high => segments.extend([(eb, er), (el, et)]),
                5 => segments.extend([(el, eb), (er, et)]),
                10 if centre_high => segments.extend([(el, eb), (er, et)]),
                10 => segments.extend([(eb, er), (el, et)]),
                _ => {}
            }
        }
    }
    chain(&segments, &point_of)
}

/// Join segments that share an end into polylines.
fn chain(segments: &[(usize, usize)], point_of: &HashMap<usize, (f64, f64)>) -> Vec<Vec<(f64, f64)>> {
    let mut touching: HashMap<usize, Vec<usize>> = HashMap::new();
    for (s, &(a, b)) in segments.iter().enumerate() {
        touching.entry(a).or_default().push(s);
        touching.entry(b).or_default().push(s);
    }
    let mut used = vec![false; segments.len()];
    // From `end`, follow unused segments until none is left; returns the edge ids visited.
    let walk = |mut end: usize, used: &mut Vec<bool>| {
        let mut ids = Vec::new();
        while let Some(&s) = touching.get(&end).and_then(|list| list.iter().find(|&&s| !used[s])) {
            used[s] = true;
            let (a, b) = segments[s];
            end = if a == end { b } else { a };
            ids.push(end);
        }
        ids
    };
    let mut lines = Vec::new();
    for s in 0..segments.len() {
        if used[s] {
            continue;
        }
        used[s] = true;
        let (a, b) = segments[s];
        let forward = walk(b, &mut used);
        let backward = walk(a, &mut used);
        let ids: Vec<usize> = backward.into_iter().rev().chain([a, b]).chain(forward).collect();
        lines.push(ids.iter().map(|id| point_of[id]).collect());
    }
    lines
}

/// Cut the segment p→q down to the part inside `view` (Liang–Barsky), if any.
fn clip_segment(p: (f64, f64), q: (f64, f64), view: View) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (den, num) in [(-dx, p.0 - view.x.0), (dx, view.x.1 - p.0), (-dy, p.1 - view.y.0), (dy, view.y.1 - p.1)] {
        if den == 0.0 {
            if num < 0.0 {
                return None;
            }
        } else {
            let t = num / den;
            if den < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    (t0 <= t1).then_some(((p.0 + t0 * dx, p.1 + t0 * dy), (p.0 + t1 * dx, p.1 + t1 * dy)))
}

/// The parts of a polyline inside `view`: a path that leaves the view and comes back is
/// split in two, and one that flies off to 10³⁰ is cut at the border (never handed to the
/// canvas as a huge pixel coordinate).
pub fn clip_polyline(points: &[(f64, f64)], view: View) -> Vec<Vec<(f64, f64)>> {
    let mut pieces = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    if let [only] = points {
        if view.contains(*only) {
            pieces.push(vec![*only]);
        }
        return pieces;
    }
    for w in points.windows(2) {
        match clip_segment(w[0], w[1], view) {
            Some((p, q)) => {
                if current.last() != Some(&p) && !current.is_empty() {
                    pieces.push(std::mem::take(&mut current));
                }
                if current.is_empty() {
                    current.push(p);
                }
                current.push(q);
                if q != w[1] {
                    pieces.push(std::mem::take(&mut current));
                }
            }
            None => {
                if !current.is_empty() {
                    pieces.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// Paint the objective `f` over `view`: filled bands between `levels` (ascending), a line on
/// each level, axes and the title. Returns where the plotting area landed.
#[allow(clippy::too_many_arguments)]
pub fn draw_contour_map<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    f: &dyn Fn(f64, f64) -> f64,
    view: View,
    levels: &[f64],
    title: &str,
    scale: f64,
) -> Result<PixelFrame> {
    area.fill(&WHITE).map_err(err)?;
    let (w, _) = area.dim_in_pixel();
    area.draw_text(title, &font(15.0, scale).pos(Pos::new(HPos::Center, VPos::Top)), ((w / 2) as i32, (MARGIN * scale) as i32)).map_err(err)?;
    let mut chart = layout(area, view, scale)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("x")
        .y_desc("y")
        .label_style(font(11.0, scale))
        .axis_desc_style(font(12.0, scale))
        .x_label_formatter(&|v| super::tick(*v))
        .y_label_formatter(&|v| super::tick(*v))
        .draw()
        .map_err(err)?;
    let plot = chart.plotting_area().strip_coord_spec();
    let (pw, ph) = plot.dim_in_pixel();
    let ((left, _), (top, _)) = {
        let (xr, yr) = chart.plotting_area().get_pixel_range();
        ((xr.start, xr.end), (yr.start, yr.end))
    };
    let frame = PixelFrame {
        left: left as f64,
        top: top as f64,
        width: pw as f64,
        height: ph as f64,
        x0: view.x.0,
        x1: view.x.1,
        y0: view.y.0,
        y1: view.y.1,
    };
    if pw == 0 || ph == 0 {
        return Ok(frame);
    }
    let to_x = |px: f64| view.x.0 + px / pw as f64 * (view.x.1 - view.x.0);
    let to_y = |py: f64| view.y.1 - py / ph as f64 * (view.y.1 - view.y.0);
    let n_bands = levels.len().max(1) as f64;
    let colors: Vec<RGBColor> = (0..=levels.len()).map(|b| band_color(b as f64 / n_bands)).collect();

    // Bands: rows `row` pixels tall, each split into runs of one band.
    let row = scale.round().max(1.0) as u32;
    let mut rects = Vec::new();
    let mut bands = vec![0usize; pw as usize];
    for py in (0..ph).step_by(row as usize) {
        let y = to_y(py as f64 + 0.5 * row as f64);
        for (px, b) in bands.iter_mut().enumerate() {
            *b = band(levels, f(to_x(px as f64 + 0.5), y));
        }
        let mut start = 0;
        for px in 1..=pw as usize {
            if px == pw as usize || bands[px] != bands[start] {
                let y1 = (py + row).min(ph);
                rects.push(Rectangle::new([(start as i32, py as i32), (px as i32, y1 as i32)], colors[bands[start]].filled()));
                start = px;
            }
        }
    }
    for r in &rects {
        plot.draw(r).map_err(err)?;
    }

    // Lines: marching squares on a grid about 3 CSS pixels apart.
    let spacing = 3.0 * scale;
    let nx = ((pw as f64 / spacing).ceil() as usize + 1).max(2);
    let ny = ((ph as f64 / spacing).ceil() as usize + 1).max(2);
    let mut values = Vec::with_capacity(nx * ny);
    for j in 0..ny {
        let y = view.y.0 + j as f64 / (ny - 1) as f64 * (view.y.1 - view.y.0);
        for i in 0..nx {
            values.push(f(view.x.0 + i as f64 / (nx - 1) as f64 * (view.x.1 - view.x.0), y));
        }
    }
    let line_width = (0.9 * scale).max(1.0) as u32;
    for (k, &level) in levels.iter().enumerate() {
        let shade = band_color(k as f64 / n_bands);
        let ink = RGBColor((shade.0 as f64 * 0.62) as u8, (shade.1 as f64 * 0.66) as u8, (shade.2 as f64 * 0.72) as u8);
        let style = ShapeStyle::from(&ink.mix(0.75)).stroke_width(line_width);
        let lines = contour_lines(&values, nx, ny, view, level);
        chart.draw_series(lines.into_iter().map(|l| PathElement::new(l, style))).map_err(err)?;
    }
    area.present().map_err(err)?;
    Ok(frame)
}

/// One optimizer's path: its points in order (the start first) and its colour (index into
/// [`PALETTE`]). As JSON: `{ name, points: [[x, y], …], color }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Path {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub color: usize,
}

/// Draw the first `shown` steps of each path (points 0 to `shown`), the minimum (a black ×),
/// the start (a ring) and a legend, over a copy of the map [`draw_contour_map`] drew on an area
/// of the same size.
pub fn draw_paths<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    view: View,
    paths: &[Path],
    shown: usize,
    minimum: (f64, f64),
    scale: f64,
) -> Result<()> {
    let mut chart = layout(area, view, scale)?;
    let black = RGBColor(25, 25, 25);
    if view.contains(minimum) {
        let d = (6.0 * scale) as i32;
        let thick = ShapeStyle::from(&black).stroke_width((2.0 * scale) as u32);
        let cross = EmptyElement::at(minimum) + PathElement::new(vec![(-d, -d), (d, d)], thick) + PathElement::new(vec![(-d, d), (d, -d)], thick);
        chart.draw_series(std::iter::once(cross)).map_err(err)?;
    }
    let halo = ShapeStyle::from(&WHITE.mix(0.7)).stroke_width((3.6 * scale) as u32);
    let dot = (2.2 * scale).round().max(1.0) as i32;
    for p in paths {
        let color = PALETTE[p.color % PALETTE.len()];
        let line = ShapeStyle::from(&color).stroke_width((1.8 * scale).max(1.0) as u32);
        let upto = (shown + 1).min(p.points.len());
        let pts = &p.points[..upto];
        let pieces = clip_polyline(pts, view);
        // The halo segment by segment: as one wide polyline its joins at sharp turns (a
        // zig-zag, a path doubling back) would stick out as long white spikes.
        let segments = pieces.iter().flat_map(|piece| piece.windows(2).map(|w| PathElement::new(vec![w[0], w[1]], halo)));
        chart.draw_series(segments).map_err(err)?;
        chart.draw_series(pieces.into_iter().map(|piece| PathElement::new(piece, line))).map_err(err)?;
        // Markers for each step; thinned so a long run stays a line and not a blot.
        let every = (upto / 400).max(1);
        let inside = pts.iter().step_by(every).filter(|q| view.contains(**q));
        chart.draw_series(inside.map(|&q| Circle::new(q, dot, color.filled()))).map_err(err)?;
        if let Some(&last) = pts.last().filter(|q| view.contains(**q)) {
            chart
                .draw_series([Circle::new(last, (5.0 * scale) as i32, WHITE.filled()), Circle::new(last, (4.0 * scale) as i32, color.filled())])
                .map_err(err)?;
        }
    }
    if let Some(start) = paths.first().and_then(|p| p.points.first()).filter(|q| view.contains(**q)) {
        let ring = ShapeStyle::from(&black).stroke_width((2.0 * scale) as u32);
        chart.draw_series([Circle::new(*start, (6.0 * scale) as i32, ring)]).map_err(err)?;
    }
    legend(&chart.plotting_area().strip_coord_spec(), paths, view.contains(minimum), scale)
}

/// About how wide `text` is in a sans-serif font of `size` pixels. Asking the browser costs it a
/// layout of the whole page, too slow for every animation frame; a legend box needs no more
/// than this.
fn approx_text_width(text: &str, size: f64) -> f64 {
    let em: f64 = text
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | 'I' => 0.28,
            'f' | 't' | 'r' | ' ' | '(' | ')' | '-' => 0.36,
            'm' | 'w' | 'M' | 'W' => 0.85,
            c if c.is_ascii_uppercase() => 0.68,
            c if c.is_ascii_digit() => 0.56,
            _ => 0.56,
        })
        .sum();
    em * size
}

/// A legend box in the bottom-right corner of the plotting area, where neither surface's
/// paths usually go (they start upper left and end near the middle).
fn legend<DB: DrawingBackend>(plot: &DrawingArea<DB, Shift>, paths: &[Path], minimum: bool, scale: f64) -> Result<()> {
    let style = font(11.0, scale);
    let line_h = (15.0 * scale) as i32;
    let sample = (22.0 * scale) as i32;
    let pad = (7.0 * scale) as i32;
    let mut entries: Vec<(String, Option<usize>)> = paths.iter().map(|p| (p.name.clone(), Some(p.color))).collect();
    entries.push(("start".into(), None));
    if minimum {
        entries.push(("minimum".into(), None));
    }
    let text_w = entries.iter().map(|(t, _)| approx_text_width(t, 11.0 * scale) as i32).max().unwrap_or(0);
    let (w, h) = plot.dim_in_pixel();
    let box_w = pad * 3 + sample + text_w;
    let box_h = pad * 2 + line_h * entries.len() as i32;
    let x0 = w as i32 - box_w - pad;
    let y0 = h as i32 - box_h - pad;
    plot.draw(&Rectangle::new([(x0, y0), (x0 + box_w, y0 + box_h)], WHITE.mix(0.88).filled())).map_err(err)?;
    plot.draw(&Rectangle::new([(x0, y0), (x0 + box_w, y0 + box_h)], ShapeStyle::from(&RGBColor(190, 190, 190)).stroke_width(1))).map_err(err)?;
    let black = RGBColor(25, 25, 25);
    for (k, (text, color)) in entries.iter().enumerate() {
        let cy = y0 + pad + line_h * k as i32 + line_h / 2;
        let sx = x0 + pad;
        match (color, text.as_str()) {
            (Some(c), _) => {
                let c = PALETTE[c % PALETTE.len()];
                plot.draw(&PathElement::new(vec![(sx, cy), (sx + sample, cy)], ShapeStyle::from(&c).stroke_width((1.8 * scale) as u32)))
                    .map_err(err)?;
                plot.draw(&Circle::new((sx + sample / 2, cy), (2.6 * scale) as i32, c.filled())).map_err(err)?;
            }
            (None, "start") => {
                let ring = ShapeStyle::from(&black).stroke_width((2.0 * scale) as u32);
                plot.draw(&Circle::new((sx + sample / 2, cy), (5.0 * scale) as i32, ring)).map_err(err)?;
            }
            _ => {
                let d = (5.0 * scale) as i32;
                let m = sx + sample / 2;
                let thick = ShapeStyle::from(&black).stroke_width((2.0 * scale) as u32);
                plot.draw(&PathElement::new(vec![(m - d, cy - d), (m + d, cy + d)], thick)).map_err(err)?;
                plot.draw(&PathElement::new(vec![(m - d, cy + d), (m + d, cy - d)], thick)).map_err(err)?;
            }
        }
        plot.draw(&Text::new(text.clone(), (sx + sample + pad, cy), style.pos(Pos::new(HPos::Left, VPos::Center)))).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: View = View { x: (-1.0, 1.0), y: (-1.0, 1.0) };

    fn grid(f: impl Fn(f64, f64) -> f64, n: usize, view: View) -> Vec<f64> {
        let mut v = Vec::new();
        for j in 0..n {
            for i in 0..n {
                let x = view.x.0 + i as f64 / (n - 1) as f64 * (view.x.1 - view.x.0);
                let y = view.y.0 + j as f64 / (n - 1) as f64 * (view.y.1 - view.y.0);
                v.push(f(x, y));
            }
        }
        v
    }

    #[test]
    fn a_circle_comes_back_as_one_closed_line_on_the_circle() {
        let values = grid(|x, y| x * x + y * y, 41, UNIT);
        let lines = contour_lines(&values, 41, 41, UNIT, 0.25);
        assert_eq!(lines.len(), 1, "one closed contour");
        let line = &lines[0];
        assert_eq!(line.first(), line.last(), "closed: ends where it starts");
        assert!(line.len() > 20);
        for &(x, y) in line {
            let r = x.hypot(y);
            assert!((r - 0.5).abs() < 0.01, "point ({x}, {y}) at radius {r}");
        }
    }

    #[test]
    fn contours_follow_the_level_and_split_where_the_view_cuts_them() {
        // (f, level, expected number of lines, reason)
        type F = fn(f64, f64) -> f64;
        let rows: &[(F, f64, usize, &str)] = &[
            (|x, _| x, 0.3, 1, "a straight line across the view"),
            (|x, y| x * x + y * y, 4.0, 0, "a level outside the view"),
            (|x, y| (x * x - 0.25).abs() + y * y, 0.05, 2, "two separate ovals"),
            (|x, y| x * y, 0.1, 2, "a hyperbola: two open branches"),
        ];
        for &(f, level, want, reason) in rows {
            let values = grid(f, 61, UNIT);
            let lines = contour_lines(&values, 61, 61, UNIT, level);
            assert_eq!(lines.len(), want, "{reason}");
            for l in &lines {
                for &(x, y) in l {
                    assert!((f(x, y) - level).abs() < 0.02, "{reason}: f({x}, {y}) = {}", f(x, y));
                }
            }
        }
    }

    #[test]
    fn log_levels_are_evenly_spaced_in_log_f() {
        let l = log_levels(1e-3, 10.0, 2);
        assert_eq!(l.len(), 9, "{l:?}");
        assert!((l[0] - 1e-3).abs() < 1e-12 && (l[8] - 10.0).abs() < 1e-9);
        for w in l.windows(2) {
            assert!((w[1] / w[0] - 10f64.sqrt()).abs() < 1e-9);
        }
        assert!(log_levels(0.0, 1.0, 3).is_empty(), "log of zero");
        assert_eq!(band(&l, 5e-4), 0);
        assert_eq!(band(&l, 1e-3), 1);
        assert_eq!(band(&l, 100.0), 9);
    }

    #[test]
    fn clipping_keeps_what_is_inside_and_splits_excursions() {
        // (path, expected pieces, reason)
        type Row = (Vec<(f64, f64)>, Vec<Vec<(f64, f64)>>, &'static str);
        let rows: Vec<Row> = vec![
            (vec![(0.0, 0.0), (0.5, 0.5)], vec![vec![(0.0, 0.0), (0.5, 0.5)]], "all inside"),
            (vec![(0.0, 0.0), (2.0, 0.0)], vec![vec![(0.0, 0.0), (1.0, 0.0)]], "leaves through the right edge"),
            (
                vec![(0.0, 0.0), (0.0, 3.0), (0.5, 0.0)],
                vec![vec![(0.0, 0.0), (0.0, 1.0)], vec![(1.0 / 3.0, 1.0), (0.5, 0.0)]],
                "goes out and comes back: two pieces",
            ),
            (vec![(2.0, 2.0), (3.0, 3.0)], vec![], "all outside"),
            (vec![(0.0, 0.0), (1e30, -1e30)], vec![vec![(0.0, 0.0), (1.0, -1.0)]], "diverging: cut at the corner"),
            (vec![(0.2, 0.1)], vec![vec![(0.2, 0.1)]], "a single point"),
        ];
        for (path, want, reason) in rows {
            let got = clip_polyline(&path, UNIT);
            assert_eq!(got.len(), want.len(), "{reason}: {got:?}");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g.len(), w.len(), "{reason}: {got:?}");
                for (a, b) in g.iter().zip(w) {
                    assert!((a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12, "{reason}: {got:?}");
                }
            }
        }
    }

    #[test]
    fn the_frame_worked_out_ahead_is_where_the_map_lands() {
        use crate::plot::testing::Counting;
        let view = View { x: (-5.0, 5.0), y: (-3.0, 3.0) };
        // (canvas size, device-pixel ratio, reason)
        let rows = [((640, 480), 1.0, "a plain screen"), ((1280, 960), 2.0, "HiDPI"), ((963, 701), 1.5, "margins that do not come out whole")];
        for (size, scale, reason) in rows {
            let area = Counting::new(size.0, size.1).into_drawing_area();
            let drawn = draw_contour_map(&area, &|x, y| x * x + y * y, view, &[1.0, 4.0], "t", scale).unwrap();
            assert_eq!(plot_frame(size, scale, view), drawn, "{reason}");
        }
        let f = plot_frame((640, 480), 1.0, view);
        assert_eq!(f.point_at(f.left, f.top), Some((-5.0, 3.0)), "the top-left corner");
        assert_eq!(f.point_at(f.left + f.width, f.top + f.height), Some((5.0, -3.0)), "the bottom-right corner");
        assert_eq!(f.point_at(f.left - 1.0, f.top), None, "left of the plot: the y labels");
    }

    #[test]
    fn fit_widens_the_short_side_to_the_aspect() {
        let want = View { x: (-2.0, 2.0), y: (-1.0, 3.0) };
        let wide = View::fit(want, 2.0);
        assert_eq!(wide, View { x: (-4.0, 4.0), y: (-1.0, 3.0) });
        let tall = View::fit(want, 0.5);
        assert_eq!(tall, View { x: (-2.0, 2.0), y: (-3.0, 5.0) });
    }
}
