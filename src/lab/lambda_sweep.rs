//! The "L1 and L2" cell's validation curve over log λ: one run per λ on a log grid, plus one
//! without a penalty, all from one seed, trained in the worker pool; training and validation
//! error against log₁₀ λ, the λ with the lowest validation error marked.
//!
//! Small λ leaves the overfitting run as it was (the curve meets the no-penalty line on the
//! left); large λ drowns the data term and both errors climb together (underfitting, on the
//! right); in between, the validation error may dip. Whether the dip is real is a question
//! for the noise: the read-out gives the binomial standard error √(p(1−p)/n) of the best
//! point's validation error, and a dip smaller than that is not evidence.

use super::job::{Examples, Job};
use super::pooled::{self, Ending, Record};
use super::regularization::MAX_LAMBDA;
use super::run::RunSpec;
use super::{argmin, Progress};
use crate::nn::L1Mode;
use crate::plot::{Chart, Series};
use crate::{bail, ensure, Result};
use serde::{Deserialize, Serialize};

/// The most λ values one sweep trains.
pub const MAX_POINTS: usize = 12;

/// What to sweep.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LambdaSweepSpec {
    /// The shared run (its `l1` and `l2` are set per point; its `l1Mode` is kept).
    pub run: RunSpec,
    /// "l2" (default) or "l1": which penalty the grid moves.
    #[serde(default = "l2")]
    pub penalty: String,
    /// log₁₀ of the smallest and the largest λ.
    pub from: f64,
    pub to: f64,
    /// λ values on the grid, evenly spaced in log λ (2 to [`MAX_POINTS`]).
    pub points: usize,
}

fn l2() -> String {
    "l2".into()
}

/// One λ of the curve.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    pub lambda: f64,
    pub status: String,
    pub val_error: Option<f32>,
    pub train_error: Option<f32>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LambdaSweepReport {
    pub status: &'static str,
    pub progress: Progress,
    pub penalty: String,
    pub points: Vec<Point>,
    /// The run without a penalty.
    pub baseline: Point,
    /// The grid's λ with the lowest validation error, and that error's standard error.
    pub best: Option<f64>,
    pub best_val_error: Option<f32>,
    pub noise: Option<f64>,
    pub ended: usize,
    pub jobs: usize,
    pub message: Option<String>,
}

/// The sweep (its runs train in the pool: see `lab::pooled`).
pub struct LambdaSweep {
    spec: LambdaSweepSpec,
    lambdas: Vec<f64>,
    /// Record 0 is the run without a penalty, then one per λ.
    records: Vec<Record>,
    handed: bool,
    stopped: bool,
}

impl LambdaSweep {
    pub fn new(spec: LambdaSweepSpec) -> Result<LambdaSweep> {
        ensure!(spec.penalty == "l1" || spec.penalty == "l2", "unknown penalty '{}': sweep \"l1\" or \"l2\"", spec.penalty);
        ensure!((2..=MAX_POINTS).contains(&spec.points), "{} points is out of range: pick 2 to {MAX_POINTS}", spec.points);
        let top = (MAX_LAMBDA as f64).log10();
        ensure!(
            spec.from.is_finite() && spec.to.is_finite() && spec.from < spec.to,
            "the λ range 10^{} to 10^{} is empty: from must be below to",
            spec.from,
            spec.to
        );
        ensure!(
            spec.from >= -8.0 && spec.to <= top,
            "the λ range 10^{} to 10^{} is out of range: keep it within 10^-8 to 10^{top}",
            spec.from,
            spec.to
        );
        L1Mode::parse(&spec.run.l1_mode)?;
        spec.run.train_config()?; // epochs and the rest, checked before anything is handed out
        let n = spec.points;
        let lambdas = (0..n).map(|i| 10f64.powf(spec.from + (spec.to - spec.from) * i as f64 / (n - 1) as f64)).collect();
        Ok(LambdaSweep { records: vec![Record::default(); n + 1], spec, lambdas, handed: false, stopped: false })
    }

    pub fn spec(&self) -> &LambdaSweepSpec {
        &self.spec
    }
    /// The grid's λ values, smallest first.
    pub fn lambdas(&self) -> &[f64] {
        &self.lambdas
    }

    /// Every run, once: the one without a penalty first, then one per λ.
    pub fn jobs(&mut self) -> Vec<Job> {
        if self.handed || self.stopped {
            return Vec::new();
        }
        self.handed = true;
        let job = |l1: f32, l2: f32| Job {
            spec: RunSpec { l1, l2, ..self.spec.run.clone() },
            train: Examples::default(),
            validation: Examples::default(),
            label_map: None,
            test: false,
            keep_parameters: false,
        };
        let l1 = self.spec.penalty == "l1";
        std::iter::once(job(0.0, 0.0)).chain(self.lambdas.iter().map(|&v| if l1 { job(v as f32, 0.0) } else { job(0.0, v as f32) })).collect()
    }

    pub fn absorb(&mut self, i: usize, update: super::job::Update) -> Result<()> {
        pooled::record(&mut self.records, i)?.absorb(update);
        Ok(())
    }

    pub fn finish(&mut self, i: usize, ending: Ending, parameters: Option<Vec<f32>>) -> Result<()> {
        pooled::record(&mut self.records, i)?.finish(ending, parameters);
        Ok(())
    }

    pub fn stop(&mut self) {
        self.stopped = true;
        self.records.iter_mut().for_each(Record::stop);
    }

    /// The pool does the work: true while some job has not ended.
    pub fn run_for(&mut self, _budget_ms: f64, _clock: &dyn super::Clock) -> Result<bool> {
        Ok(self.active())
    }

    pub fn active(&self) -> bool {
        self.records.iter().any(|r| r.status.is_none())
    }

    fn point(r: &Record, lambda: f64) -> Point {
        let t = r.trained();
        Point { lambda, status: r.word(), val_error: r.kept_error().filter(|_| t), train_error: r.last_train_error().filter(|_| t) }
    }

    /// The index (into `lambdas`) of the lowest validation error among the trained points.
    fn best_index(&self) -> Option<usize> {
        argmin(self.records[1..].iter().map(|r| r.trained().then(|| r.kept_error()).flatten().filter(|v| v.is_finite())))
    }

    pub fn report(&self) -> LambdaSweepReport {
        let best = self.best_index();
        let best_val_error = best.and_then(|i| self.records[i + 1].kept_error());
        let n_val = best.map(|i| self.records[i + 1].ending.validation_size).unwrap_or(0);
        let noise = best_val_error.filter(|_| n_val > 0).map(|p| ((p as f64) * (1.0 - p as f64) / n_val as f64).sqrt());
        let failed = self.records.iter().find(|r| matches!(r.status.as_deref(), Some("error" | "diverged")));
        LambdaSweepReport {
            status: pooled::status(&self.records),
            progress: pooled::progress(&self.records),
            penalty: self.spec.penalty.clone(),
            points: self.lambdas.iter().zip(&self.records[1..]).map(|(&l, r)| Self::point(r, l)).collect(),
            baseline: Self::point(&self.records[0], 0.0),
            best: best.map(|i| self.lambdas[i]),
            best_val_error,
            noise,
            ended: self.records.iter().filter(|r| r.status.is_some()).count(),
            jobs: self.records.len(),
            message: failed.and_then(|r| r.message.clone()),
        }
    }

    /// "sweep": training (dashed) and validation error against log₁₀ λ, the run without a
    /// penalty as flat lines, the best λ marked.
    pub fn chart(&self, name: &str) -> Result<Chart> {
        if name != "sweep" {
            bail!("this cell has no chart {name:?} (it has \"sweep\")");
        }
        let r = self.report();
        let at = |f: &dyn Fn(&Point) -> Option<f32>| -> Vec<(f64, f64)> {
            r.points.iter().filter_map(|p| f(p).map(|v| (p.lambda.log10(), v as f64))).collect()
        };
        let (lo, hi) = (self.spec.from, self.spec.to);
        let flat = |v: Option<f32>| v.map(|v| vec![(lo, v as f64), (hi, v as f64)]).unwrap_or_default();
        let which = if self.spec.penalty == "l1" { "λ₁" } else { "λ₂" };
        let series = vec![
            Series::new("validation", at(&|p| p.val_error), 1).markers(),
            Series::new("training", at(&|p| p.train_error), 1).dashed().markers(),
            Series::new("no penalty: validation", flat(r.baseline.val_error), 0),
            Series::new("no penalty: training", flat(r.baseline.train_error), 0).dashed(),
            // a point with no name and no line: holds the x axis at the grid's left end before any run ends
            Series::new("", vec![(lo, 0.0)], 0),
        ];
        let top = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| v.is_finite()).fold(0.0, f64::max);
        let mut chart = Chart::lines(format!("validation curve over {which}"), &format!("log₁₀ {which}"), "error rate", series)
            .x_max(0.0) // the axis runs from the grid's left end to λ = 1 (the lines' x axis always holds 0)
            .y_range(0.0, (top * 1.1).clamp(0.05, 1.0));
        if let Some(b) = r.best {
            chart = chart.mark(b.log10(), format!("best {which} = {}", short(b)));
        }
        Ok(chart)
    }

    pub fn histories(&self) -> Vec<(String, &crate::train::history::History)> {
        let which = if self.spec.penalty == "l1" { "l1" } else { "l2" };
        std::iter::once(("no penalty".to_string(), &self.records[0].history))
            .chain(self.lambdas.iter().zip(&self.records[1..]).map(|(l, r)| (format!("{which} = {}", short(*l)), &r.history)))
            .collect()
    }
}

/// λ with two significant digits.
fn short(v: f64) -> String {
    let s = format!("{v:.1e}");
    s.parse::<f64>().map(|x| if (1e-4..1e3).contains(&x) { format!("{x}") } else { s.clone() }).unwrap_or(s)
}
