//! What the "Momentum" and "Rprop" cells call: optimizer paths on 2-D landscapes drawn as
//! contour maps, the recitation's Rprop thought experiment, and log-scale line charts.

use super::{canvas, js_err};
use crate::landscape::{steps_to_tolerance, trajectory, Objective, Quadratic, Rosenbrock};
use crate::plot::contour::{self, Path, View};
use crate::plot::convergence::{self, LogAxes};
use crate::plot::{self, Series};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use web_sys::HtmlCanvasElement;

/// The most steps a landscape run may take (each is a handful of flops; this bounds memory).
const MAX_STEPS: usize = 20_000;
/// Contour levels: this many decades below the highest value in view, three levels a decade
/// (lower levels enclose too little to see).
const DECADES: f64 = 5.0;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LandscapeConfig {
    surface: String,
    #[serde(default = "kappa")]
    kappa: f64,
    /// Tilt of the quadratic's long axis, in degrees.
    #[serde(default)]
    angle: f64,
    start: (f64, f64),
    steps: usize,
    #[serde(default = "tol")]
    tol: f64,
    runs: Vec<RunConfig>,
}
fn kappa() -> f64 {
    10.0
}
fn tol() -> f64 {
    1e-3
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunConfig {
    name: String,
    #[serde(default)]
    color: usize,
    /// Options for `optim::build("sgd", …)`, with PyTorch's names: lr, momentum, nesterov, …
    #[serde(default)]
    options: serde_json::Value,
}

/// One optimizer's run from the common start.
struct Run {
    name: String,
    color: usize,
    points: Vec<(f64, f64)>,
    distance: Vec<f64>,
    reached: Option<usize>,
    diverged_at: Option<usize>,
}

/// What the page shows for each run.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunSummary {
    name: String,
    /// The step from which the run stays within `tol` of the minimum, if it does.
    reached: Option<usize>,
    /// The step at which the run blew up (left the finite numbers or got 10× farther from the
    /// minimum than it started), if it did.
    diverged_at: Option<usize>,
    final_distance: f64,
}

/// Optimizer paths on a 2-D surface. `new Landscape({ surface: "quadratic" | "rosenbrock",
/// kappa, angle, start: [x, y], steps, tol, runs: [{ name, color, options: { lr, momentum,
/// nesterov } }] })` runs every optimizer up front; the draw methods then show the first
/// `shown` steps, so the page can animate by calling them with a growing `shown`.
#[wasm_bindgen]
pub struct Landscape {
    objective: Box<dyn Objective>,
    title: String,
    want: View,
    runs: Vec<Run>,
    steps: usize,
    tol: f64,
}

#[wasm_bindgen]
impl Landscape {
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> Result<Landscape, JsError> {
        let c: LandscapeConfig = serde_wasm_bindgen::from_value(config).map_err(|e| JsError::new(&format!("landscape settings: {e}")))?;
        if c.steps == 0 || c.steps > MAX_STEPS {
            return Err(JsError::new(&format!("steps: {} is out of range (1 to {MAX_STEPS})", c.steps)));
        }
        if !(c.tol.is_finite() && c.tol > 0.0) {
            return Err(JsError::new(&format!("tolerance: {} must be a positive number", c.tol)));
        }
        if !(c.start.0.is_finite() && c.start.1.is_finite()) {
            return Err(JsError::new("the start point must be two finite numbers"));
        }
        let (objective, title, want): (Box<dyn Objective>, String, View) = match c.surface.as_str() {
            "quadratic" => {
                if c.kappa > 1e4 {
                    return Err(JsError::new(&format!("condition number: {} is too large (at most 10000)", c.kappa)));
                }
                let q = Quadratic::rotated(c.kappa, c.angle.to_radians()).map_err(js_err)?;
                let tilt = if c.angle != 0.0 { format!(", long axis at {}°", plot::tick(c.angle)) } else { String::new() };
                let title = format!("½(u² + κ·v²) with κ = {}{tilt}", plot::tick(c.kappa));
                (Box::new(q), title, View { x: (-5.0, 5.0), y: (-3.0, 3.0) })
            }
            "rosenbrock" => (Box::new(Rosenbrock::default()), "Rosenbrock: (1 − x)² + 100·(y − x²)²".into(), View { x: (-2.0, 2.0), y: (-1.0, 3.0) }),
            other => return Err(JsError::new(&format!("unknown surface '{other}': use quadratic or rosenbrock"))),
        };
        let start = (c.start.0 as f32, c.start.1 as f32);
        let (mx, my) = objective.minimum();
        let dist = |(x, y): (f64, f64)| (x - mx).hypot(y - my);
        let mut runs = Vec::with_capacity(c.runs.len());
        for r in c.runs {
            let options = if r.options.is_null() { serde_json::json!({}) } else { r.options };
            let mut opt = crate::optim::build("sgd", &options).map_err(|e| JsError::new(&format!("{}: {}", r.name, e.message())))?;
            let points: Vec<(f64, f64)> =
                trajectory(objective.as_ref(), opt.as_mut(), start, c.steps).into_iter().map(|(x, y)| (x as f64, y as f64)).collect();
            let distance: Vec<f64> = points.iter().map(|&p| dist(p)).collect();
            // Arrived: within the tolerance from this step to the end of the run. Merely
            // passing within it (what `steps_to_tolerance` counts) would credit a momentum
            // run that swings through the minimum on its way to overshooting.
            let first = steps_to_tolerance(objective.as_ref(), opt.as_mut(), start, c.steps, c.tol);
            // NaN counts as "not within": a diverged path never settles
            let settled = distance.iter().rposition(|&d| d.is_nan() || d > c.tol).map_or(0, |i| i + 1);
            let reached = first.filter(|_| settled < distance.len()).map(|f| f.max(settled));
            let far = 10.0 * distance[0].max(c.tol);
            let diverged_at = distance.iter().position(|&d| d > far).or((points.len() < c.steps + 1).then_some(points.len()));
            runs.push(Run { name: r.name, color: r.color, points, distance, reached, diverged_at });
        }
        Ok(Landscape { objective, title, want, runs, steps: c.steps, tol: c.tol })
    }

    /// Steps per run.
    #[wasm_bindgen(getter)]
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// `[{ name, reached, divergedAt, finalDistance }]`, one per run.
    pub fn summary(&self) -> Result<JsValue, JsError> {
        let s: Vec<RunSummary> = self
            .runs
            .iter()
            .map(|r| RunSummary {
                name: r.name.clone(),
                reached: r.reached,
                diverged_at: r.diverged_at,
                final_distance: *r.distance.last().unwrap_or(&f64::NAN),
            })
            .collect();
        serde_wasm_bindgen::to_value(&s).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Paint the contour map (the slow part: draw it once onto a spare canvas and copy that
    /// under every frame). Returns `{ left, top, width, height, x0, x1, y0, y1 }`: the plotting
    /// area in canvas pixels and the data range it shows, for turning clicks into points.
    #[wasm_bindgen(js_name = drawBackground)]
    pub fn draw_background(&self, canvas_el: HtmlCanvasElement, dpr: f64) -> Result<JsValue, JsError> {
        let area = canvas::area(canvas_el)?;
        let view = self.view(area.dim_in_pixel(), dpr);
        let hi = self.highest(view);
        let levels = contour::log_levels(10f64.powf((hi.log10() - DECADES).floor()), hi, 3);
        let f = |x: f64, y: f64| self.objective.value(x, y);
        let frame = contour::draw_contour_map(&area, &f, view, &levels, &self.title, dpr).map_err(js_err)?;
        serde_wasm_bindgen::to_value(&frame).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Draw the first `shown` steps of every run (over a copy of the background).
    #[wasm_bindgen(js_name = drawPaths)]
    pub fn draw_paths(&self, canvas_el: HtmlCanvasElement, shown: usize, dpr: f64) -> Result<(), JsError> {
        let area = canvas::area(canvas_el)?;
        let view = self.view(area.dim_in_pixel(), dpr);
        // A diverged run is drawn up to the step that took it far away, not as a blot of
        // ever longer jumps across the whole map.
        let paths: Vec<Path> = self
            .runs
            .iter()
            .map(|r| {
                let end = r.diverged_at.map_or(r.points.len(), |d| (d + 1).min(r.points.len()));
                Path { name: r.name.clone(), points: r.points[..end].to_vec(), color: r.color }
            })
            .collect();
        contour::draw_paths(&area, view, &paths, shown, self.objective.minimum(), dpr).map_err(js_err)
    }

    /// The frame of the distance plot (axes, tolerance line, legend): draw it once onto a
    /// spare canvas and copy it under every frame of [`draw_distance_curves`].
    #[wasm_bindgen(js_name = drawDistanceAxes)]
    pub fn draw_distance_axes(&self, canvas_el: HtmlCanvasElement, dpr: f64) -> Result<(), JsError> {
        let label = format!("tolerance {}", tol_text(self.tol));
        let axes = self.distance_axes(&label);
        let legend: Vec<(String, usize, bool)> = self.runs.iter().map(|r| (r.name.clone(), r.color, false)).collect();
        convergence::draw_log_axes(&canvas::area(canvas_el)?, &axes, &legend, dpr).map_err(js_err)
    }

    /// Distance to the minimum against step (log scale) for the first `shown` steps of every
    /// run, over a copy of [`draw_distance_axes`]'s frame.
    #[wasm_bindgen(js_name = drawDistanceCurves)]
    pub fn draw_distance_curves(&self, canvas_el: HtmlCanvasElement, shown: usize, dpr: f64) -> Result<(), JsError> {
        let series: Vec<Series> = self
            .runs
            .iter()
            .map(|r| Series {
                name: r.name.clone(),
                points: r.distance.iter().take(shown + 1).enumerate().map(|(k, &d)| (k as f64, d.max(1e-300))).collect(),
                color: r.color,
                dashed: false,
                markers: false,
            })
            .collect();
        convergence::draw_log_series(&canvas::area(canvas_el)?, &self.distance_axes(""), &series, dpr).map_err(js_err)
    }
}

impl Landscape {
    /// Fixed axes for the whole animation: from two decades under the tolerance to a decade
    /// over the start, steps 0 to `steps`.
    fn distance_axes<'a>(&self, label: &'a str) -> LogAxes<'a> {
        let start = self.runs.first().map(|r| r.distance[0]).unwrap_or(1.0).max(self.tol);
        LogAxes {
            title: "distance to the minimum",
            x_label: "step",
            y_label: "distance (log scale)",
            x_range: (0.0, self.steps as f64),
            y_range: (10f64.powf(self.tol.log10().floor() - 2.0), 10f64.powf(start.log10().ceil() + 1.0)),
            hline: Some((self.tol, label)),
        }
    }

    /// The view for a canvas of `size` pixels: the surface's box, widened so x and y share a
    /// scale.
    fn view(&self, size: (u32, u32), dpr: f64) -> View {
        let (w, h) = contour::plot_size(size, dpr);
        View::fit(self.want, w / h)
    }

    /// The highest value in view (sampled), which sets the top contour level.
    fn highest(&self, view: View) -> f64 {
        let n = 40;
        let mut hi: f64 = 0.0;
        for j in 0..=n {
            for i in 0..=n {
                let x = view.x.0 + i as f64 / n as f64 * (view.x.1 - view.x.0);
                let y = view.y.0 + j as f64 / n as f64 * (view.y.1 - view.y.0);
                hi = hi.max(self.objective.value(x, y));
            }
        }
        if hi > 0.0 {
            hi
        } else {
            1.0
        }
    }
}

fn tol_text(tol: f64) -> String {
    let e = tol.log10();
    if (e - e.round()).abs() < 1e-9 {
        format!("1e{}", e.round())
    } else {
        format!("{tol}")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ThoughtConfig {
    #[serde(default = "five")]
    epochs: usize,
    /// Rprop's options (PyTorch names); its `lr` is the initial step size.
    #[serde(default)]
    rprop: serde_json::Value,
    /// Plain SGD's learning rate on the same gradients.
    #[serde(default = "sgd_lr")]
    sgd_lr: f64,
}
fn five() -> usize {
    5
}
fn sgd_lr() -> f64 {
    0.1
}

/// The thought experiment, step by step. Index 0 of every per-step list is the start.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Thought {
    /// The gradient of each mini-batch step.
    grads: Vec<f32>,
    batches_per_epoch: usize,
    /// Mini-batch Rprop: weight and step size after each step.
    rprop_w: Vec<f32>,
    rprop_step: Vec<f32>,
    /// Mini-batch SGD: weight after each step.
    sgd_w: Vec<f32>,
    /// Full-batch Rprop: one step per epoch, on the epoch's summed gradient.
    full_w: Vec<f32>,
    full_step: Vec<f32>,
    full_grad: Vec<f32>,
}

/// The recitation's thought experiment: one weight, an epoch of ten mini-batches whose
/// gradients are +0.1 nine times, then −0.9; they sum to zero. Runs Rprop and SGD on the
/// mini-batches, and Rprop once per epoch on the whole batch, for `epochs` epochs.
/// `rpropThought({ epochs: 5, rprop: { lr: 0.01 }, sgdLr: 0.1 })`.
#[wasm_bindgen(js_name = rpropThought)]
pub fn rprop_thought(config: JsValue) -> Result<JsValue, JsError> {
    let c: ThoughtConfig = serde_wasm_bindgen::from_value(config).map_err(|e| JsError::new(&format!("thought experiment settings: {e}")))?;
    if c.epochs == 0 || c.epochs > 100 {
        return Err(JsError::new(&format!("epochs: {} is out of range (1 to 100)", c.epochs)));
    }
    let rprop_options = if c.rprop.is_null() { serde_json::json!({}) } else { c.rprop };
    let mut rprop = crate::optim::build("rprop", &rprop_options).map_err(js_err)?;
    let mut full = crate::optim::build("rprop", &rprop_options).map_err(js_err)?;
    let mut sgd = crate::optim::build("sgd", &serde_json::json!({ "lr": c.sgd_lr })).map_err(js_err)?;
    // Gradients in tenths, so the epoch's sum is exactly zero (0.1·9 − 0.9 in floating point
    // is not, and Rprop would follow the sign of the rounding error).
    let tenths: [i32; 10] = [1, 1, 1, 1, 1, 1, 1, 1, 1, -9];
    let step_size = |o: &dyn crate::optim::Optimizer| o.state().into_iter().find(|(k, _)| *k == "step_size").and_then(|(_, v)| v.first().copied());
    let initial = rprop.lr();
    let (mut w_r, mut w_s, mut w_f) = ([0.0f32], [0.0f32], [0.0f32]);
    let mut t = Thought {
        grads: Vec::new(),
        batches_per_epoch: tenths.len(),
        rprop_w: vec![0.0],
        rprop_step: vec![initial],
        sgd_w: vec![0.0],
        full_w: vec![0.0],
        full_step: vec![initial],
        full_grad: Vec::new(),
    };
    for _ in 0..c.epochs {
        for &k in &tenths {
            let g = k as f32 / 10.0;
            rprop.step(&mut w_r, &[g]).map_err(js_err)?;
            sgd.step(&mut w_s, &[g]).map_err(js_err)?;
            t.grads.push(g);
            t.rprop_w.push(w_r[0]);
            t.rprop_step.push(step_size(rprop.as_ref()).unwrap_or(initial));
            t.sgd_w.push(w_s[0]);
        }
        let g = tenths.iter().sum::<i32>() as f32 / 10.0;
        full.step(&mut w_f, &[g]).map_err(js_err)?;
        t.full_grad.push(g);
        t.full_w.push(w_f[0]);
        t.full_step.push(step_size(full.as_ref()).unwrap_or(initial));
    }
    serde_wasm_bindgen::to_value(&t).map_err(|e| JsError::new(&e.to_string()))
}

/// A chart with a log y axis, as the page describes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogChartSpec {
    #[serde(default)]
    title: String,
    #[serde(default)]
    x_label: String,
    #[serde(default)]
    y_label: String,
    #[serde(default)]
    x_max: Option<f64>,
    #[serde(default)]
    y_range: Option<(f64, f64)>,
    #[serde(default)]
    hline: Option<(f64, String)>,
    series: Vec<Series>,
}

/// Line chart with a fixed log y axis: `{ title, xLabel, yLabel, xMax?, yRange?: [lo, hi],
/// hline?: [y, "label"], series: [{ name, x?, y, color, dashed, markers }] }`. Values ≤ 0 are
/// left out.
#[wasm_bindgen(js_name = drawLogChart)]
pub fn draw_log_chart(canvas_el: HtmlCanvasElement, chart: JsValue, dpr: f64) -> Result<(), JsError> {
    let spec: LogChartSpec = serde_wasm_bindgen::from_value(chart).map_err(|e| JsError::new(&format!("chart: {e}")))?;
    let series = spec.series;
    let hline = spec.hline.as_ref().map(|(y, l)| (*y, l.as_str()));
    plot::convergence::draw_convergence(
        &canvas::area(canvas_el)?,
        &series,
        &spec.title,
        &spec.x_label,
        &spec.y_label,
        spec.x_max,
        spec.y_range,
        hline,
        dpr,
    )
    .map_err(js_err)
}
