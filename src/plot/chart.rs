//! [`Chart`]: a plot as plain data, and [`draw`], the one function that puts any chart on a
//! drawing area.
//!
//! Experiments return `Chart`s; the page draws them with the `drawChart` export (or an
//! experiment's own `draw(name, canvas, dpr)`), and the Export menu writes them as JSON and
//! CSV. A new kind of plot is a new [`Body`] variant drawn by its own `draw_*` function, not a
//! new export with nine arguments.
//!
//! Kinds that animate over a slow-to-draw frame (`contour`, `convergence`) draw in two passes,
//! [`draw_still`] then [`draw_moving`]; [`Chart::still_key`] says when the still part changes,
//! so the page can keep a copy of it and draw only the moving part each frame. JSON is
//! camelCase with a `kind` tag:
//!
//! ```json
//! { "kind": "lines", "title": "training loss", "xLabel": "step", "yLabel": "cross-entropy",
//!   "xMax": 600, "yRange": [0, 2.5], "series": [{ "name": "SGD", "y": [2.3, 2.1], "color": 0 }] }
//! ```

use super::contour::{Path, View};
use super::convergence::{self, LogAxes};
use super::curves::{Band, Series};
use super::field::{FieldAxis, FieldPoint};
use super::layers::Violin;
use super::rates::{Group, RefLine};
use crate::landscape::Surface;
use crate::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

/// A chart: its title and axis labels, and what it plots.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Chart {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub x_label: String,
    #[serde(default)]
    pub y_label: String,
    #[serde(flatten)]
    pub body: Body,
}

/// What a chart plots, by kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Body {
    /// Line series on linear axes; `x_max` fixes the right end (a run fills in from the left),
    /// `y_range` the y axis (otherwise it fits the data); `marks` are labelled vertical lines.
    #[serde(rename_all = "camelCase")]
    Lines {
        #[serde(default)]
        series: Vec<Series>,
        #[serde(default)]
        x_max: Option<f64>,
        #[serde(default)]
        y_range: Option<(f64, f64)>,
        #[serde(default)]
        marks: Vec<(f64, String)>,
        /// Shaded regions under the lines.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        bands: Vec<Band>,
    },
    /// Line series on a log10 y axis of whole decades, no lower than `y_floor`.
    #[serde(rename_all = "camelCase")]
    LogY {
        #[serde(default)]
        series: Vec<Series>,
        x_max: f64,
        #[serde(default = "default_floor")]
        y_floor: f64,
    },
    /// A rows × cols grid of values, coloured from `range.0` to `range.1`.
    Heatmap { values: Vec<f32>, rows: usize, cols: usize, range: (f32, f32) },
    /// Histograms of positive values on a log10 x axis, with reference lines.
    #[serde(rename_all = "camelCase")]
    LogHistogram {
        groups: Vec<Group>,
        #[serde(default)]
        lines: Vec<RefLine>,
    },
    /// Images in a grid of `columns`, each captioned "prediction (label)", green when they
    /// agree and red when not (the captions say what the grid is: the title is not drawn).
    #[serde(rename_all = "camelCase")]
    Digits {
        /// One image after another, each `size.0` rows × `size.1` columns of values in [0, 1].
        images: Vec<f32>,
        size: (usize, usize),
        labels: Vec<u8>,
        predictions: Vec<usize>,
        columns: usize,
    },
    /// A surface's contour map over the box `view` (widened to the canvas's aspect), levels
    /// evenly spaced in log f (`per_decade` a decade, from `decades` below the highest value in
    /// view), with `paths` over it. Two passes: the map is still, the paths move.
    #[serde(rename_all = "camelCase")]
    Contour {
        surface: Surface,
        view: View,
        #[serde(default)]
        paths: Vec<Path>,
        #[serde(default = "default_decades")]
        decades: f64,
        #[serde(default = "default_per_decade")]
        per_decade: usize,
    },
    /// Line series on a log10 y axis over `y_range` (else whole decades around the data), x
    /// up to `x_max` (else the data's), with an optional dashed threshold `hline: [y, label]`.
    /// Two passes: the frame is still, the lines move.
    #[serde(rename_all = "camelCase")]
    Convergence {
        #[serde(default)]
        series: Vec<Series>,
        #[serde(default)]
        x_max: Option<f64>,
        #[serde(default)]
        y_range: Option<(f64, f64)>,
        #[serde(default)]
        hline: Option<(f64, String)>,
    },
    /// One violin per layer (layer 1 first) on the shared value axis `range`, in palette
    /// colour `color` (see `layers::violins`, which bins the values).
    Violins {
        range: (f64, f64),
        violins: Vec<Violin>,
        #[serde(default)]
        color: usize,
    },
    /// Per-layer values (point i of a series is layer i + 1) on a log10 axis of whole
    /// decades, with a marker at every layer and the legend above the plot.
    LayerStds {
        #[serde(default)]
        series: Vec<Series>,
    },
    /// A layer's units as pictures: unit u's incoming weights `weights[u·rows·cols ..]` as a
    /// rows × cols image, in a grid of `columns`, on one diverging colour scale.
    UnitWeights { weights: Vec<f32>, units: usize, rows: usize, cols: usize, columns: usize },
    /// One bar per row cut into class segments (see `strips`), e.g. what each fold holds.
    Strips { strips: Vec<super::Strip> },
    /// Values over a search space's unit square (nx × ny cell centres, row 0 at the bottom),
    /// coloured from `range.0` to `range.1`, with points on top; each axis reads unit
    /// coordinates as its hyperparameter's values (see `field`).
    #[serde(rename_all = "camelCase")]
    Field {
        values: Vec<f32>,
        nx: usize,
        ny: usize,
        range: (f32, f32),
        x_axis: FieldAxis,
        y_axis: FieldAxis,
        #[serde(default)]
        points: Vec<FieldPoint>,
        #[serde(default)]
        color_label: String,
    },
}

fn default_floor() -> f64 {
    1e-6
}
fn default_decades() -> f64 {
    5.0
}
fn default_per_decade() -> usize {
    3
}

impl Default for Body {
    fn default() -> Self {
        Body::Lines { series: Vec::new(), x_max: None, y_range: None, marks: Vec::new(), bands: Vec::new() }
    }
}

impl Chart {
    /// Read a chart from JSON (see the module doc), with a message that names the problem.
    pub fn from_json(v: serde_json::Value) -> Result<Chart> {
        serde_json::from_value(v).map_err(|e| crate::Error::new(format!("chart: {e}")))
    }

    /// A line chart.
    pub fn lines(title: impl Into<String>, x_label: &str, y_label: &str, series: Vec<Series>) -> Chart {
        Chart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            body: Body::Lines { series, x_max: None, y_range: None, marks: Vec::new(), bands: Vec::new() },
        }
    }

    /// Composition strips (one bar per row, a segment per class).
    pub fn strips(title: impl Into<String>, strips: Vec<super::Strip>) -> Chart {
        Chart { title: title.into(), x_label: String::new(), y_label: String::new(), body: Body::Strips { strips } }
    }

    /// Fix the x axis's right end (line charts).
    pub fn x_max(mut self, v: f64) -> Chart {
        if let Body::Lines { x_max, .. } = &mut self.body {
            *x_max = Some(v);
        }
        self
    }

    /// Fix the y axis (line charts).
    pub fn y_range(mut self, lo: f64, hi: f64) -> Chart {
        if let Body::Lines { y_range, .. } = &mut self.body {
            *y_range = Some((lo, hi));
        }
        self
    }

    /// A labelled vertical line at `x` (line charts).
    pub fn mark(mut self, x: f64, text: impl Into<String>) -> Chart {
        if let Body::Lines { marks, .. } = &mut self.body {
            marks.push((x, text.into()));
        }
        self
    }

    /// A shaded region (line charts).
    pub fn band(mut self, band: Band) -> Chart {
        if let Body::Lines { bands, .. } = &mut self.body {
            bands.push(band);
        }
        self
    }

    /// The chart's line series (none for other kinds).
    pub fn series(&self) -> &[Series] {
        match &self.body {
            Body::Lines { series, .. } | Body::LogY { series, .. } | Body::Convergence { series, .. } | Body::LayerStds { series } => series,
            _ => &[],
        }
    }

    /// For a kind drawn in two passes, a key that changes whenever [`draw_still`] would draw
    /// something else on the same canvas; `None` for kinds drawn in one pass.
    pub fn still_key(&self) -> Option<String> {
        match &self.body {
            Body::Contour { surface, view, decades, per_decade, .. } => {
                Some(format!("contour {:?}", (&self.title, surface, view, decades, per_decade)))
            }
            Body::Convergence { series, .. } => {
                let axes = self.log_axes().expect("a convergence chart has log axes");
                Some(format!("convergence {:?} {:?}", axes, convergence::legend_of(series)))
            }
            _ => None,
        }
    }

    /// The fixed frame of a convergence chart.
    fn log_axes(&self) -> Option<LogAxes<'_>> {
        match &self.body {
            Body::Convergence { series, x_max, y_range, hline } => Some(convergence::fit_axes(
                series,
                &self.title,
                &self.x_label,
                &self.y_label,
                *x_max,
                *y_range,
                hline.as_ref().map(|(y, l)| (*y, l.as_str())),
            )),
            _ => None,
        }
    }

    /// The plotted data as CSV with a header row, in long form (one row per point), so
    /// series of different lengths fit one table: `series,x,y` for lines (per-layer values
    /// too; a band's edges are two series, "name (low)" and "name (high)"), `row,col,value` for a heatmap, `group,value` for histograms, `digit,label,prediction`
    /// for digits, `path,step,x,y` for contour paths, `layer,from,to,count` for violins (one row
    /// per bin), `unit,row,col,weight` for unit pictures, `what,x,y,value` for a field (its cells'
    /// centres and its points, in the axes' values).
    pub fn to_csv(&self) -> String {
        let quote = |s: &str| if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() };
        let num = |v: f64| if v.is_finite() { v.to_string() } else { String::new() };
        let mut out = String::new();
        match &self.body {
            Body::Lines { series, .. } | Body::LogY { series, .. } | Body::Convergence { series, .. } | Body::LayerStds { series } => {
                out.push_str("series,x,y\n");
                for s in series {
                    for &(x, y) in &s.points {
                        out.push_str(&format!("{},{},{}\n", quote(&s.name), num(x), num(y)));
                    }
                }
                // a band is two more series, its lower and its upper edge
                let bands = if let Body::Lines { bands, .. } = &self.body { &bands[..] } else { &[] };
                for b in bands {
                    for (edge, ys) in [("low", &b.lo), ("high", &b.hi)] {
                        for (&x, &y) in b.x.iter().zip(ys) {
                            out.push_str(&format!("{},{},{}\n", quote(&format!("{} ({edge})", b.name)), num(x), num(y)));
                        }
                    }
                }
            }
            Body::Heatmap { values, cols, .. } => {
                out.push_str("row,col,value\n");
                for (i, v) in values.iter().enumerate() {
                    out.push_str(&format!("{},{},{}\n", i / cols.max(&1), i % cols.max(&1), num(*v as f64)));
                }
            }
            Body::LogHistogram { groups, .. } => {
                out.push_str("group,value\n");
                for g in groups {
                    for v in &g.values {
                        out.push_str(&format!("{},{}\n", quote(&g.name), num(*v)));
                    }
                }
            }
            Body::Digits { labels, predictions, .. } => {
                out.push_str("digit,label,prediction\n");
                for (i, (l, p)) in labels.iter().zip(predictions).enumerate() {
                    out.push_str(&format!("{i},{l},{p}\n"));
                }
            }
            Body::Contour { paths, .. } => {
                out.push_str("path,step,x,y\n");
                for p in paths {
                    for (k, &(x, y)) in p.points.iter().enumerate() {
                        out.push_str(&format!("{},{k},{},{}\n", quote(&p.name), num(x), num(y)));
                    }
                }
            }
            Body::Violins { range: (lo, hi), violins, .. } => {
                out.push_str("layer,from,to,count\n");
                for (l, v) in violins.iter().enumerate() {
                    let bin = (hi - lo) / v.counts.len().max(1) as f64;
                    for (b, c) in v.counts.iter().enumerate() {
                        out.push_str(&format!("{},{},{},{c}\n", l + 1, num(lo + b as f64 * bin), num(lo + (b + 1) as f64 * bin)));
                    }
                }
            }
            Body::Strips { strips } => {
                out.push_str("row,class,count\n");
                for s in strips {
                    for (c, n) in s.counts.iter().enumerate() {
                        out.push_str(&format!("{},{c},{n}\n", quote(&s.label)));
                    }
                }
            }
            Body::Field { values, nx, ny, x_axis, y_axis, points, .. } => {
                out.push_str("what,x,y,value\n");
                for r in 0..*ny {
                    for c in 0..*nx {
                        let (u, v) = ((c as f64 + 0.5) / *nx as f64, (r as f64 + 0.5) / *ny as f64);
                        let value = values.get(r * nx + c).map_or(f64::NAN, |&v| v as f64);
                        out.push_str(&format!("cell,{},{},{}\n", num(x_axis.value(u)), num(y_axis.value(v)), num(value)));
                    }
                }
                for p in points {
                    out.push_str(&format!(
                        "point,{},{},{}\n",
                        num(x_axis.value(p.x)),
                        num(y_axis.value(p.y)),
                        quote(p.label.as_deref().unwrap_or(""))
                    ));
                }
            }
            Body::UnitWeights { weights, rows, cols, .. } => {
                out.push_str("unit,row,col,weight\n");
                let px = (rows * cols).max(1);
                for (i, w) in weights.iter().enumerate() {
                    let (u, p) = (i / px, i % px);
                    out.push_str(&format!("{},{},{},{}\n", u + 1, p / cols.max(&1), p % cols.max(&1), num(*w as f64)));
                }
            }
        }
        out
    }
}

/// Draw `chart` on `area`; `scale` is the device-pixel ratio.
pub fn draw<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, chart: &Chart, scale: f64) -> Result<()> {
    let (t, xl, yl) = (chart.title.as_str(), chart.x_label.as_str(), chart.y_label.as_str());
    match &chart.body {
        Body::Lines { series, x_max, y_range, marks, bands } => super::draw_curves(area, series, t, xl, yl, *x_max, *y_range, marks, bands, scale),
        Body::LogY { series, x_max, y_floor } => super::draw_log_curves(area, series, t, xl, yl, *x_max, *y_floor, scale),
        Body::Heatmap { values, rows, cols, range } => super::draw_heatmap(area, values, *rows, *cols, *range, t, xl, yl, scale),
        Body::LogHistogram { groups, lines } => super::draw_log_histogram(area, groups, lines, t, xl, scale),
        Body::Digits { images, size, labels, predictions, columns } => super::draw_digits(area, images, *size, labels, predictions, *columns, scale),
        Body::Violins { range, violins, color } => super::layers::draw_violins(area, *range, violins, t, xl, yl, *color, scale),
        Body::LayerStds { series } => super::layers::draw_layer_stds(area, series, t, xl, yl, scale),
        Body::UnitWeights { weights, units, rows, cols, columns } => {
            super::unit_weights::draw_unit_weights(area, weights, *units, (*rows, *cols), *columns, t, scale)
        }
        Body::Strips { strips } => super::draw_strips(area, strips, t, scale),
        Body::Field { values, nx, ny, range, x_axis, y_axis, points, color_label } => {
            super::field::draw_field(area, values, (*nx, *ny), *range, (x_axis, y_axis), points, color_label, (t, xl, yl), scale)
        }
        Body::Contour { .. } | Body::Convergence { .. } => {
            draw_still(area, chart, scale)?;
            draw_moving(area, chart, scale)
        }
    }
}

/// The still pass of a two-pass kind (the whole chart for other kinds).
pub fn draw_still<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, chart: &Chart, scale: f64) -> Result<()> {
    match &chart.body {
        Body::Contour { surface, view, decades, per_decade, .. } => {
            super::surface::draw_map(area, surface, *view, *decades, *per_decade, &chart.title, scale).map(|_| ())
        }
        Body::Convergence { series, .. } => {
            let axes = chart.log_axes().expect("a convergence chart has log axes");
            convergence::draw_log_axes(area, &axes, &convergence::legend_of(series), scale)
        }
        _ => draw(area, chart, scale),
    }
}

/// The moving pass of a two-pass kind, over a copy of what [`draw_still`] drew on an area of
/// the same size (nothing for other kinds).
pub fn draw_moving<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, chart: &Chart, scale: f64) -> Result<()> {
    match &chart.body {
        Body::Contour { surface, view, paths, .. } => super::surface::draw_map_paths(area, surface, *view, paths, scale),
        Body::Convergence { series, .. } => {
            let axes = chart.log_axes().expect("a convergence chart has log axes");
            convergence::draw_log_series(area, &axes, series, scale)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::testing::Counting;

    #[test]
    fn json_from_the_page_reads_with_defaults() {
        let c: Chart = serde_json::from_str(
            r#"{ "kind": "lines", "title": "t", "series": [{ "name": "a", "y": [3, 2, null] }, { "x": [0.5, 1], "y": [1, 1], "dashed": true }] }"#,
        )
        .unwrap();
        let s = c.series();
        assert_eq!(s[0].points[..2], [(1.0, 3.0), (2.0, 2.0)], "x defaults to 1, 2, 3, …");
        assert!(s[0].points[2].1.is_nan(), "null is a gap");
        assert!(s[1].dashed && s[1].points == [(0.5, 1.0), (1.0, 1.0)]);
        let back: Chart = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back.series()[1], c.series()[1], "a chart round-trips through JSON");
        assert!(serde_json::from_str::<Chart>(r#"{ "kind": "pie" }"#).unwrap_err().to_string().contains("pie"));
    }

    #[test]
    fn two_pass_kinds_read_from_json_and_key_their_still_part() {
        let map = r#"{ "kind": "contour", "title": "bowl", "surface": { "kind": "quadratic", "kappa": 50 },
                       "view": { "x": [-5, 5], "y": [-3, 3] }, "paths": [{ "name": "SGD", "points": [[-4, 1.5], [-3, 1]], "color": 0 }] }"#;
        let c: Chart = serde_json::from_str(map).unwrap();
        let Body::Contour { decades, per_decade, paths, .. } = &c.body else { panic!("{c:?}") };
        assert_eq!((*decades, *per_decade, paths[0].points[1]), (5.0, 3, (-3.0, 1.0)), "defaults: 5 decades, 3 levels each");
        assert_eq!(c.to_csv(), "path,step,x,y\nSGD,0,-4,1.5\nSGD,1,-3,1\n");
        let mut moved = c.clone();
        if let Body::Contour { paths, .. } = &mut moved.body {
            paths[0].points.push((-2.0, 0.5));
        }
        assert_eq!(moved.still_key(), c.still_key(), "a path that grows leaves the map as it was");
        let mut other = c.clone();
        other.title = "another bowl".into();
        assert_ne!(other.still_key(), c.still_key(), "a new title is a new map");

        let log = |ys: &[f64]| Chart {
            body: Body::Convergence {
                series: vec![Series::new("a", ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect(), 0)],
                x_max: Some(30.0),
                y_range: None,
                hline: None,
            },
            ..Chart::default()
        };
        // (earlier points, later points, same frame?, reason)
        let rows = [
            (vec![5.0, 2.0], vec![5.0, 2.0, 1.5], true, "a new point within the fitted decade (1 to 10)"),
            (vec![5.0, 2.0], vec![5.0, 2.0, 0.5], false, "a point below the lowest decade widens the axis"),
        ];
        for (a, b, same, reason) in rows {
            assert_eq!(log(&a).still_key() == log(&b).still_key(), same, "{reason}");
        }
        assert_eq!(Chart::lines("t", "x", "y", vec![]).still_key(), None, "lines draw in one pass");
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_point() {
        let c = Chart::lines("t", "x", "y", vec![Series::new("a, b", vec![(1.0, 2.0), (2.0, f64::NAN)], 0)]);
        assert_eq!(c.to_csv(), "series,x,y\n\"a, b\",1,2\n\"a, b\",2,\n");
    }

    #[test]
    fn digits_read_from_json_and_write_one_csv_row_per_digit() {
        let c: Chart =
            serde_json::from_str(r#"{ "kind": "digits", "images": [0, 1, 1, 0], "size": [2, 2], "labels": [7], "predictions": [1], "columns": 1 }"#)
                .unwrap();
        assert_eq!(c.to_csv(), "digit,label,prediction\n0,7,1\n");
        let short = Chart {
            body: Body::Digits { images: vec![0.0; 3], size: (2, 2), labels: vec![7], predictions: vec![1], columns: 1 },
            ..Chart::default()
        };
        let err = draw(&Counting::new(100, 100).into_drawing_area(), &short, 1.0).unwrap_err();
        assert!(err.message().contains("need 4 pixel values, got 3"), "{}", err.message());
    }

    #[test]
    fn every_kind_has_a_csv() {
        let (range, violins) = crate::plot::layers::violins(&[&[-1.0, 1.0]], false);
        // (body, header, rows after the header, reason)
        let rows = [
            (Body::Violins { range, violins, color: 0 }, "layer,from,to,count", crate::plot::layers::BINS, "one row per bin"),
            (Body::LayerStds { series: vec![Series::new("a", vec![(1.0, 0.5), (2.0, 0.1)], 0)] }, "series,x,y", 2, "one row per layer"),
            (Body::UnitWeights { weights: vec![0.0; 6], units: 2, rows: 1, cols: 3, columns: 2 }, "unit,row,col,weight", 6, "one row per weight"),
            (
                Body::Strips { strips: vec![crate::plot::Strip { label: "fold 1".into(), counts: vec![3, 4], members: vec![] }; 2] },
                "row,class,count",
                4,
                "one row per strip and class",
            ),
        ];
        for (body, header, n, why) in rows {
            let csv = Chart { body, ..Chart::default() }.to_csv();
            let lines: Vec<&str> = csv.lines().collect();
            assert_eq!((lines[0], lines.len() - 1), (header, n), "{why}");
        }
        let banded = Chart::lines("t", "x", "y", vec![Series::new("a", vec![(1.0, 0.5)], 0)]).band(Band {
            name: "range, η".into(),
            x: vec![1.0, 2.0],
            lo: vec![0.25, 0.5],
            hi: vec![1.0, 2.0],
            color: 0,
        });
        assert_eq!(
            banded.to_csv(),
            "series,x,y\na,1,0.5\n\"range, η (low)\",1,0.25\n\"range, η (low)\",2,0.5\n\"range, η (high)\",1,1\n\"range, η (high)\",2,2\n",
            "a band's edges follow the lines"
        );
        let c = Chart { body: Body::UnitWeights { weights: vec![0.0, 1.0, 2.0, 3.0], units: 2, rows: 1, cols: 2, columns: 2 }, ..Chart::default() };
        assert_eq!(c.to_csv().lines().last(), Some("2,0,1,3"), "unit 2's second pixel");
    }

    #[test]
    fn every_kind_draws() {
        let charts = [
            Chart::lines("lines", "x", "y", vec![Series::new("a", vec![(1.0, 2.0), (2.0, 1.0)], 1)]).x_max(3.0).y_range(0.0, 3.0),
            Chart {
                body: Body::LogY { series: vec![Series::new("a", vec![(1.0, 1e-3), (2.0, 1.0)], 0)], x_max: 2.0, y_floor: 1e-6 },
                ..Chart::default()
            },
            Chart { body: Body::Heatmap { values: vec![0.0, 0.5, 1.0, 0.2], rows: 2, cols: 2, range: (0.0, 1.0) }, ..Chart::default() },
            Chart {
                body: Body::LogHistogram {
                    groups: vec![Group { name: "g".into(), values: vec![1e-3, 1e-2, 2e-2], color: 0 }],
                    lines: vec![RefLine { name: "SGD".into(), x: 1e-2, color: 1 }],
                },
                ..Chart::default()
            },
            Chart {
                body: Body::Digits { images: vec![0.8; 2 * 28 * 28], size: (28, 28), labels: vec![3, 4], predictions: vec![3, 5], columns: 2 },
                ..Chart::default()
            },
            Chart {
                body: Body::Contour {
                    surface: Surface::Quadratic { kappa: 10.0, degrees: 30.0 },
                    view: View { x: (-5.0, 5.0), y: (-3.0, 3.0) },
                    paths: vec![Path { name: "SGD".into(), points: vec![(-4.0, 1.5), (-3.0, 0.5)], color: 0 }],
                    decades: 5.0,
                    per_decade: 3,
                },
                ..Chart::default()
            },
            Chart {
                body: Body::Convergence {
                    series: vec![Series::new("a", vec![(0.0, 1.0), (5.0, 1e-3)], 0)],
                    x_max: Some(10.0),
                    y_range: Some((1e-5, 10.0)),
                    hline: Some((1e-3, "tolerance".into())),
                },
                ..Chart::default()
            },
            {
                let (range, violins) = crate::plot::layers::violins(&[&[0.5, -0.5, 1.0], &[0.1, 0.2]], true);
                Chart { body: Body::Violins { range, violins, color: 1 }, ..Chart::default() }
            },
            Chart { body: Body::LayerStds { series: vec![Series::new("a", vec![(1.0, 0.5), (2.0, 0.05)], 0)] }, ..Chart::default() },
            Chart { body: Body::UnitWeights { weights: vec![0.5, -0.5, 0.0, 1.0], units: 2, rows: 1, cols: 2, columns: 2 }, ..Chart::default() },
            Chart::strips(
                "folds",
                vec![crate::plot::Strip { label: "fold 1".into(), counts: vec![30, 20, 10], members: vec![Some(1), None, Some(2)] }; 3],
            ),
        ];
        for c in &charts {
            let backend = Counting::new(200, 150);
            let inked = backend.inked.clone();
            draw(&backend.into_drawing_area(), c, 1.0).unwrap();
            assert!(inked.get() > 100, "{:?} drew only {} non-white pixels", c.body, inked.get());
        }
    }
}
