//! The tuning cell's charts: each method's trials on the map of the two hyperparameters, the
//! best-so-far race, and Bayesian optimization's model at a chosen proposal (a slice through
//! the trial it chose with the acquisition beneath, and maps of mean, σ and acquisition).
//!
//! The maps' background is the objective itself where it is known (synthetic), else a
//! Gaussian process fitted on every result so far, of all three methods (MNIST): the best
//! picture of the error surface the trials give, drawn behind each method alike.

use super::{axes, Method, Objective, Tuning};
use crate::plot::{Band, Body, Chart, FieldAxis, FieldPoint, Mark, Series};
use crate::tune::{bayes, synthetic, Acquisition, FitOptions, GaussianProcess, GpConfig, Kernel};
use crate::{bail, Result, Rng};

/// Cells per side of the maps.
const CELLS: usize = 40;
/// Points along a slice.
const SLICE: usize = 121;

/// The MNIST maps' model on the grid of cells.
#[derive(Clone, Debug)]
pub(super) struct Background {
    pub values: Vec<f32>,
    pub length_scales: Vec<f64>,
}

/// The centres of the map's cells, row 0 at the bottom.
fn cells() -> impl Iterator<Item = [f64; 2]> {
    (0..CELLS * CELLS).map(|i| [((i % CELLS) as f64 + 0.5) / CELLS as f64, ((i / CELLS) as f64 + 0.5) / CELLS as f64])
}

fn short_name(a: Acquisition) -> &'static str {
    match a {
        Acquisition::ExpectedImprovement => "EI",
        Acquisition::ProbabilityOfImprovement => "PI",
        Acquisition::LowerConfidenceBound => "−LCB",
    }
}

fn acquisition_name(a: Acquisition) -> &'static str {
    match a {
        Acquisition::ExpectedImprovement => "expected improvement",
        Acquisition::ProbabilityOfImprovement => "probability of improvement",
        Acquisition::LowerConfidenceBound => "−(lower confidence bound)",
    }
}

impl Tuning {
    /// The maps' model (MNIST): fitted on every result so far, refitted when one comes in;
    /// None before three.
    pub(super) fn background(&self) -> Option<Background> {
        let results: Vec<(&[f64], f64)> = self.runs[0].iter().flat_map(|s| &s.trials).filter_map(|t| t.y.map(|y| (t.unit.as_slice(), y))).collect();
        if results.len() < 3 {
            return None;
        }
        if let Some((n, b)) = &*self.background.borrow() {
            if *n == results.len() {
                return Some(b.clone());
            }
        }
        let config = GpConfig { kernel: Kernel::Matern52, variance: 1.0, length_scales: vec![0.3; 2], noise: 1e-4, normalize_y: true };
        let mut gp = GaussianProcess::new(config).ok()?;
        let x: Vec<f64> = results.iter().flat_map(|r| r.0.iter().copied()).collect();
        let y: Vec<f64> = results.iter().map(|r| r.1).collect();
        let seed = Rng::stream(self.spec.run.seed, "tuning-map").next_u64();
        gp.fit(&x, 2, &y, &FitOptions { seed, restarts: 2, max_iter: 100, bounds: bayes::bounds(), ..FitOptions::default() }).ok()?;
        let grid: Vec<f64> = cells().flatten().collect();
        let (mean, _) = gp.predict(&grid).ok()?;
        let b = Background { values: mean.iter().map(|&m| m as f32).collect(), length_scales: gp.params().length_scales.clone() };
        *self.background.borrow_mut() = Some((results.len(), b.clone()));
        Some(b)
    }

    fn field_axes(&self) -> (FieldAxis, FieldAxis) {
        let d = self.space.dims();
        (axes::field_axis(&d[0]), axes::field_axis(&d[1]))
    }

    /// A field over the space with the axes' names.
    fn field(&self, title: String, values: Vec<f32>, range: (f32, f32), points: Vec<FieldPoint>, color_label: &str) -> Chart {
        let (x_axis, y_axis) = self.field_axes();
        let labels = self.axis_labels();
        Chart {
            title,
            x_label: labels[0].into(),
            y_label: labels[1].into(),
            body: Body::Field { values, nx: CELLS, ny: CELLS, range, x_axis, y_axis, points, color_label: color_label.into() },
        }
    }

    /// Method `m`'s trials (seed 0) over the objective or the maps' model.
    fn method_map(&self, m: usize) -> Chart {
        let search = &self.runs[0][m];
        let (values, what) = match self.spec.objective {
            Objective::Synthetic => (cells().map(|[u, v]| synthetic::value(u, v) as f32).collect(), "objective"),
            Objective::Mnist => match self.background() {
                Some(b) => (b.values, "mean"),
                None => (vec![f32::NAN; CELLS * CELLS], "(map after 3 results)"),
            },
        };
        let ys = self.runs[0].iter().flat_map(|s| &s.trials).filter_map(|t| t.y).map(|y| y as f32);
        let finite = values.iter().copied().filter(|v| v.is_finite()).chain(ys);
        let (lo, hi) = finite.fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        let range = if lo.is_finite() { (lo, hi.min(1.0).max(lo + 1e-3)) } else { (0.0, 1.0) };
        let best = search.best().map(|(i, _)| i);
        let mut points: Vec<FieldPoint> = search
            .trials
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != best)
            .map(|(i, t)| FieldPoint {
                x: t.unit[0],
                y: t.unit[1],
                color: search.method.color(),
                mark: if t.y.is_some() || t.ended { Mark::Dot } else { Mark::Ring },
                label: (search.method == Method::Bayes).then(|| (i + 1).to_string()),
            })
            .collect();
        if let Some(i) = best {
            let t = &search.trials[i];
            let label = (search.method == Method::Bayes).then(|| (i + 1).to_string());
            points.push(FieldPoint { x: t.unit[0], y: t.unit[1], color: 4, mark: Mark::Star, label });
        }
        let name = match search.method {
            Method::Grid => "grid",
            Method::Random => "random",
            Method::Bayes => "Bayesian",
        };
        let title = match search.best() {
            Some((i, t)) => format!("{name}: best {} (trial {})", show_y(self.spec.objective, t.y), i + 1),
            None => format!("{name}: {} trials", search.budget()),
        };
        self.field(title, values, range, points, what)
    }

    /// Best so far against trial number: per method, seed 0 (MNIST), or the median over
    /// seeds with the middle half shaded (synthetic).
    fn best_chart(&self) -> Chart {
        let mut series = Vec::new();
        let mut bands = Vec::new();
        for (m, method) in self.spec.methods.iter().enumerate() {
            let curves: Vec<Vec<f64>> = self.runs.iter().map(|r| r[m].best_so_far()).collect();
            let reach = curves.iter().map(Vec::len).min().unwrap_or(0);
            let mut median = Vec::new();
            let mut band = Band { name: String::new(), x: Vec::new(), lo: Vec::new(), hi: Vec::new(), color: method.color() };
            for i in 0..reach {
                let at: Vec<f64> = curves.iter().map(|c| c[i]).filter(|v| v.is_finite()).collect();
                if at.len() < curves.len() {
                    continue;
                }
                let x = (i + 1) as f64;
                median.push((x, super::quantile(&at, 0.5)));
                band.x.push(x);
                band.lo.push(super::quantile(&at, 0.25));
                band.hi.push(super::quantile(&at, 0.75));
            }
            let name = if self.runs.len() > 1 { format!("{} (median of {} seeds)", method.label(), self.runs.len()) } else { method.label().into() };
            series.push(Series::new(name, median, method.color()).markers());
            if self.runs.len() > 1 {
                band.name = if m == 0 { "middle half of the seeds".into() } else { String::new() };
                bands.push(band);
            }
        }
        let (title, y) = match self.spec.objective {
            Objective::Synthetic => ("best so far: median over seeds", "best objective so far"),
            Objective::Mnist => ("best so far", "best validation error so far"),
        };
        let mut chart = Chart::lines(title, "trial", y, series).x_max(self.spec.budget as f64);
        if self.spec.objective == Objective::Synthetic {
            chart = chart.y_range(0.0, 1.0);
            if let Body::Lines { series, .. } = &mut chart.body {
                let min = synthetic::MINIMUM_VALUE;
                series.push(Series::new("the minimum", vec![(1.0, min), (self.spec.budget as f64, min)], 6).dashed());
            }
        }
        bands.into_iter().fold(chart, Chart::band)
    }

    /// Where a slice's unit coordinate sits on a line chart's x axis: the value, or its log10
    /// on a log axis; and that axis's label.
    fn slice_x(&self, axis: usize) -> (impl Fn(f64) -> f64, String) {
        let fa = axes::field_axis(&self.space.dims()[axis]);
        let label = self.axis_labels()[axis];
        let name = if fa.log { format!("log₁₀ {label}") } else { label.to_string() };
        (move |u: f64| if fa.log { fa.value(u).log10() } else { fa.value(u) }, name)
    }

    /// The model of the shown proposal and what it knew.
    fn inspected(&self) -> Option<(GaussianProcess, &crate::tune::Proposal, &[crate::tune::Observation], &crate::tune::BayesOpt)> {
        let bayes = self.bayes()?.bayes()?;
        let p = self.shown_proposal()?;
        let gp = bayes.proposal_model(p).ok()?;
        let proposal = &bayes.proposals()[p];
        Some((gp, proposal, &bayes.observations()[..proposal.observed], bayes))
    }

    fn waiting(&self, title: &str, x: &str, y: &str) -> Chart {
        let initial = self.spec.initial;
        let note = if self.bayes().is_none() {
            "(Bayesian optimization is not among the methods)".to_string()
        } else {
            format!("{title}: after the {initial} initial trials")
        };
        Chart::lines(note, x, y, Vec::new()).x_max(1.0).y_range(0.0, 1.0)
    }

    /// The slice through the shown proposal's trial along the inspector's axis: the model's
    /// mean ± 2σ and the results it knew ("slice"), or the acquisition ("acquisition").
    fn slice_chart(&self, acquisition: bool) -> Result<Chart> {
        let axis = self.view.axis;
        let (x_of, x_label) = self.slice_x(axis);
        let y_label = if acquisition { acquisition_name(self.spec.acquisition) } else { "validation error" };
        let Some((gp, proposal, observed, search)) = self.inspected() else {
            return Ok(self.waiting(if acquisition { "the acquisition" } else { "the model" }, &x_label, y_label));
        };
        let trial = self.model_row().map_or(0, |r| r.trial);
        let points: Vec<Vec<f64>> = (0..SLICE)
            .map(|i| {
                let mut p = proposal.unit.clone();
                p[axis] = i as f64 / (SLICE - 1) as f64;
                p
            })
            .collect();
        let (mean, std) = gp.predict(&points.concat())?;
        let xs: Vec<f64> = points.iter().map(|p| x_of(p[axis])).collect();
        let next = x_of(proposal.unit[axis]);
        let other = self.axis_labels()[1 - axis];
        let other_value = axes::show(&self.space.dims()[1 - axis].from_unit(proposal.unit[1 - axis])?);
        if acquisition {
            let o = search.options();
            let scores: Vec<f64> = mean.iter().zip(&std).map(|(&m, &s)| o.acquisition.score(m, s, proposal.best, o.xi, o.kappa)).collect();
            let top = (0..SLICE).max_by(|&a, &b| scores[a].total_cmp(&scores[b])).unwrap_or(0);
            let series = vec![Series::new(acquisition_name(o.acquisition), xs.iter().copied().zip(scores.iter().copied()).collect(), 2)];
            let (lo, hi) = scores.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            let pad = 0.05 * (hi - lo).max(1e-12);
            let mut chart =
                Chart::lines(format!("{}: its maximum chooses trial {trial}", acquisition_name(o.acquisition)), &x_label, y_label, series)
                    .y_range(if o.acquisition == Acquisition::LowerConfidenceBound { lo - pad } else { 0.0 }, hi + pad);
            let (first, last) = (xs[0], xs[SLICE - 1]);
            chart = chart.x_max(last).mark(next, format!("trial {trial}"));
            if (xs[top] - next).abs() > 0.02 * (last - first) {
                chart = chart.mark(xs[top], "max on this slice");
            }
            return Ok(chart);
        }
        let band = Band {
            name: "mean ± 2σ".into(),
            x: xs.clone(),
            lo: mean.iter().zip(&std).map(|(m, s)| m - 2.0 * s).collect(),
            hi: mean.iter().zip(&std).map(|(m, s)| m + 2.0 * s).collect(),
            color: 2,
        };
        let results: Vec<(f64, f64)> = observed.iter().map(|o| (x_of(o.unit[axis]), o.y)).collect();
        let series = vec![
            Series::new("model's mean", xs.iter().copied().zip(mean.iter().copied()).collect(), 2),
            Series::new(format!("the {} results it knew (at any {other})", results.len()), results, 6).dots(),
        ];
        let ys = observed.iter().map(|o| o.y).chain(band.lo.iter().copied()).chain(band.hi.iter().copied());
        let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        let pending = if proposal.pending.is_empty() { String::new() } else { format!(", {} pending", proposal.pending.len()) };
        let title = format!("model before trial {trial} ({} results{pending}), at {other} = {other_value}", observed.len());
        Ok(Chart::lines(title, &x_label, y_label, series)
            .band(band)
            .x_max(xs[SLICE - 1])
            .y_range(lo.max(-0.5), hi.min(1.5).max(lo + 1e-3))
            .mark(next, format!("trial {trial}")))
    }

    /// A map of the shown proposal's model: its mean, σ, or acquisition, with the results it
    /// knew, the trials pending, and the trial it chose.
    fn model_map(&self, what: &str) -> Result<Chart> {
        let Some((gp, proposal, observed, search)) = self.inspected() else {
            let (x, y) = (self.axis_labels()[0], self.axis_labels()[1]);
            return Ok(self.field(self.waiting(what, x, y).title, vec![f32::NAN; CELLS * CELLS], (0.0, 1.0), Vec::new(), ""));
        };
        let trial = self.model_row().map_or(0, |r| r.trial);
        let grid: Vec<f64> = cells().flatten().collect();
        let (mean, std) = gp.predict(&grid)?;
        let o = search.options();
        let (values, title, label): (Vec<f64>, String, &str) = match what {
            "mean" => (mean, format!("mean before trial {trial}"), "error"),
            "std" => (std, format!("σ before trial {trial}"), "σ"),
            _ => (
                mean.iter().zip(&std).map(|(&m, &s)| o.acquisition.score(m, s, proposal.best, o.xi, o.kappa)).collect(),
                format!("{} before trial {trial} (× its max)", short_name(o.acquisition)),
                "score",
            ),
        };
        let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        let mut points: Vec<FieldPoint> =
            observed.iter().map(|ob| FieldPoint { x: ob.unit[0], y: ob.unit[1], color: 6, mark: Mark::Dot, label: None }).collect();
        points.extend(proposal.pending.iter().map(|u| FieldPoint { x: u[0], y: u[1], color: 6, mark: Mark::Ring, label: None }));
        points.push(FieldPoint { x: proposal.unit[0], y: proposal.unit[1], color: 3, mark: Mark::Cross, label: Some(trial.to_string()) });
        let range = (lo as f32, (hi as f32).max(lo as f32 + 1e-6));
        Ok(self.field(title, values.iter().map(|&v| v as f32).collect(), range, points, label))
    }

    /// "grid", "random", "bayes": a method's trials on the map; "best": best so far by trial;
    /// "slice" and "acquisition": the shown model through its trial; "mean", "std",
    /// "acquisition-map": the shown model's maps.
    pub fn chart(&self, name: &str) -> Result<Chart> {
        let method = |m: Method| self.spec.methods.iter().position(|&x| x == m);
        match name {
            "grid" | "random" | "bayes" => {
                let m = match name {
                    "grid" => Method::Grid,
                    "random" => Method::Random,
                    _ => Method::Bayes,
                };
                match method(m) {
                    Some(i) => Ok(self.method_map(i)),
                    None => Ok(self.field(format!("{} is not among the methods", m.label()), Vec::new(), (0.0, 1.0), Vec::new(), "")),
                }
            }
            "best" => Ok(self.best_chart()),
            "slice" => self.slice_chart(false),
            "acquisition" => self.slice_chart(true),
            "mean" | "std" | "acquisition-map" => self.model_map(name),
            other => bail!("the tuning cell has no chart \"{other}\" (grid, random, bayes, best, slice, acquisition, mean, std, acquisition-map)"),
        }
    }
}

fn show_y(objective: Objective, y: Option<f64>) -> String {
    match (objective, y) {
        (_, None) => "–".into(),
        (Objective::Mnist, Some(y)) => format!("{:.1}%", 100.0 * y),
        (Objective::Synthetic, Some(y)) => format!("{y:.3}"),
    }
}
