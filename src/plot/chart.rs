//! [`Chart`]: a plot as plain data, and [`draw`], the one function that puts any chart on a
//! drawing area.
//!
//! Experiments return `Chart`s; the page draws them with the `drawChart` export (or an
//! experiment's own `draw(name, canvas, dpr)`), and the Export menu writes them as JSON and
//! CSV. A new kind of plot is a new [`Body`] variant drawn by its own `draw_*` function, not a
//! new export with nine arguments. JSON is camelCase with a `kind` tag:
//!
//! ```json
//! { "kind": "lines", "title": "training loss", "xLabel": "step", "yLabel": "cross-entropy",
//!   "xMax": 600, "yRange": [0, 2.5], "series": [{ "name": "SGD", "y": [2.3, 2.1], "color": 0 }] }
//! ```

use super::curves::Series;
use super::layers::Violin;
use super::rates::{Group, RefLine};
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
}

fn default_floor() -> f64 {
    1e-6
}

impl Default for Body {
    fn default() -> Self {
        Body::Lines { series: Vec::new(), x_max: None, y_range: None, marks: Vec::new() }
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
            body: Body::Lines { series, x_max: None, y_range: None, marks: Vec::new() },
        }
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

    /// The chart's line series (none for other kinds).
    pub fn series(&self) -> &[Series] {
        match &self.body {
            Body::Lines { series, .. } | Body::LogY { series, .. } | Body::LayerStds { series } => series,
            _ => &[],
        }
    }

    /// The plotted data as CSV with a header row, in long form (one row per point), so
    /// series of different lengths fit one table: `series,x,y` for lines (per-layer values
    /// too), `row,col,value` for a heatmap, `group,value` for histograms, `layer,from,to,count`
    /// for violins (one row per bin), `unit,row,col,weight` for unit pictures.
    pub fn to_csv(&self) -> String {
        let quote = |s: &str| if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() };
        let num = |v: f64| if v.is_finite() { v.to_string() } else { String::new() };
        let mut out = String::new();
        match &self.body {
            Body::Lines { series, .. } | Body::LogY { series, .. } | Body::LayerStds { series } => {
                out.push_str("series,x,y\n");
                for s in series {
                    for &(x, y) in &s.points {
                        out.push_str(&format!("{},{},{}\n", quote(&s.name), num(x), num(y)));
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
            Body::Violins { range: (lo, hi), violins, .. } => {
                out.push_str("layer,from,to,count\n");
                for (l, v) in violins.iter().enumerate() {
                    let bin = (hi - lo) / v.counts.len().max(1) as f64;
                    for (b, c) in v.counts.iter().enumerate() {
                        out.push_str(&format!("{},{},{},{c}\n", l + 1, num(lo + b as f64 * bin), num(lo + (b + 1) as f64 * bin)));
                    }
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
        Body::Lines { series, x_max, y_range, marks } => super::draw_curves(area, series, t, xl, yl, *x_max, *y_range, marks, scale),
        Body::LogY { series, x_max, y_floor } => super::draw_log_curves(area, series, t, xl, yl, *x_max, *y_floor, scale),
        Body::Heatmap { values, rows, cols, range } => super::draw_heatmap(area, values, *rows, *cols, *range, t, xl, yl, scale),
        Body::LogHistogram { groups, lines } => super::draw_log_histogram(area, groups, lines, t, xl, scale),
        Body::Violins { range, violins, color } => super::layers::draw_violins(area, *range, violins, t, xl, yl, *color, scale),
        Body::LayerStds { series } => super::layers::draw_layer_stds(area, series, t, xl, yl, scale),
        Body::UnitWeights { weights, units, rows, cols, columns } => {
            super::unit_weights::draw_unit_weights(area, weights, *units, (*rows, *cols), *columns, t, scale)
        }
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
    fn csv_has_a_header_and_one_row_per_point() {
        let c = Chart::lines("t", "x", "y", vec![Series::new("a, b", vec![(1.0, 2.0), (2.0, f64::NAN)], 0)]);
        assert_eq!(c.to_csv(), "series,x,y\n\"a, b\",1,2\n\"a, b\",2,\n");
    }

    #[test]
    fn every_kind_has_a_csv() {
        let (range, violins) = crate::plot::layers::violins(&[&[-1.0, 1.0]], false);
        // (body, header, rows after the header, reason)
        let rows = [
            (Body::Violins { range, violins, color: 0 }, "layer,from,to,count", crate::plot::layers::BINS, "one row per bin"),
            (Body::LayerStds { series: vec![Series::new("a", vec![(1.0, 0.5), (2.0, 0.1)], 0)] }, "series,x,y", 2, "one row per layer"),
            (Body::UnitWeights { weights: vec![0.0; 6], units: 2, rows: 1, cols: 3, columns: 2 }, "unit,row,col,weight", 6, "one row per weight"),
        ];
        for (body, header, n, why) in rows {
            let csv = Chart { body, ..Chart::default() }.to_csv();
            let lines: Vec<&str> = csv.lines().collect();
            assert_eq!((lines[0], lines.len() - 1), (header, n), "{why}");
        }
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
            {
                let (range, violins) = crate::plot::layers::violins(&[&[0.5, -0.5, 1.0], &[0.1, 0.2]], true);
                Chart { body: Body::Violins { range, violins, color: 1 }, ..Chart::default() }
            },
            Chart { body: Body::LayerStds { series: vec![Series::new("a", vec![(1.0, 0.5), (2.0, 0.05)], 0)] }, ..Chart::default() },
            Chart { body: Body::UnitWeights { weights: vec![0.5, -0.5, 0.0, 1.0], units: 2, rows: 1, cols: 2, columns: 2 }, ..Chart::default() },
        ];
        for c in &charts {
            let backend = Counting::new(200, 150);
            let inked = backend.inked.clone();
            draw(&backend.into_drawing_area(), c, 1.0).unwrap();
            assert!(inked.get() > 100, "{:?} drew only {} non-white pixels", c.body, inked.get());
        }
    }
}
