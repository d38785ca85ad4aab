//! The "L1 and L2" cell (section 11a): one network that overfits a small training subset,
//! trained from one seed without a penalty, with L1, with L2 and (under Adam) with decoupled
//! weight decay (AdamW), side by side.
//!
//! Every run is the same [`RunSpec`] (same initial weights, same batch order) except for its
//! regularizer:
//!
//! | run      | what changes                                                              |
//! |----------|---------------------------------------------------------------------------|
//! | none     | nothing                                                                   |
//! | L1       | `l1 = λ₁`, followed by subgradient or by the proximal step (`l1Mode`)     |
//! | L2       | `l2 = λ₂`: λ₂·w added to the gradient (PyTorch's `weight_decay`, coupled) |
//! | AdamW    | only with `optimizer: "adam"`: optimizer `adamw` with `weight_decay = λ₂` |
//!
//! Under SGD, L2 and decoupled decay are the same update (w shrinks by lr·λ₂·w either way), so
//! the fourth run exists only for Adam, where they differ: coupled L2 goes through Adam's
//! per-weight scaling (a weight with large gradients is barely decayed), AdamW shrinks every
//! weight by lr·λ₂·w outside it (Loshchilov & Hutter 2019).
//!
//! While the runs train, λ₁, λ₂ and the L1 mode can be moved ([`Regularization::set_penalty`]):
//! the L1 and L2 runs take the new value from their next step, AdamW its `weight_decay = λ₂`
//! (as editing PyTorch's `param_groups` would), and the change is marked on the curves.
//!
//! The read-out counts the first layer's weights that are exactly zero; the charts show their
//! magnitudes on a log axis and the weights themselves as 28 × 28 pictures, one per hidden unit.

use super::equal_start::first_layer_chart;
use super::run::{Data, Device, RunSpec};
use super::schedule::{Clock, Cost, Runs};
use super::start::MNIST_INPUTS;
use super::{Progress, STOPPED_BY_STUDENT};
use crate::nn::{L1Mode, Penalty};
use crate::plot::{Body, Chart, Group, Series};
use crate::train::{EpochRecord, Status, Trainer};
use crate::{bail, ensure, Result};
use serde::{Deserialize, Serialize};

/// The largest λ₁ or λ₂ the cell takes (the page's slider ends below it).
pub const MAX_LAMBDA: f32 = 1.0;
/// The most hidden units drawn as pictures per run.
pub const MAX_UNITS_SHOWN: usize = 32;

/// The cell's settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegularizationSpec {
    /// The shared run (its own `l1`, `l2` and `l1Mode` are ignored: each run sets its own).
    pub run: RunSpec,
    /// λ₁ of the L1 run.
    pub l1: f32,
    /// λ₂ of the L2 run, and AdamW's `weight_decay`, in the convention `l2Convention` (default
    /// ours, PyTorch's: gradient λ₂·w).
    pub l2: f32,
    /// The tool whose convention `l2` is given in: "pytorch" (default), "keras" or "playground".
    #[serde(default = "pytorch")]
    pub l2_convention: String,
    /// "subgradient" (default) or "proximal".
    #[serde(default = "subgradient")]
    pub l1_mode: String,
    /// Also train AdamW with `weight_decay = λ₂` (needs `optimizer: "adam"`; default false).
    #[serde(default)]
    pub decoupled: bool,
    /// Hidden units drawn per run (default 16).
    #[serde(default = "sixteen")]
    pub units_shown: usize,
}

fn subgradient() -> String {
    L1Mode::Subgradient.name().into()
}
fn pytorch() -> String {
    "pytorch".into()
}
fn sixteen() -> usize {
    16
}

/// One λ₂ in the conventions of other tools: type in a number from one of them and get the
/// same regularization here.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conventions {
    /// Ours and PyTorch's `weight_decay`: penalty (λ/2)·Σw², gradient λ·w.
    pub pytorch: f64,
    /// Keras `l2(λ)`: penalty λ·Σw², gradient 2λ·w, so the same strength is half our λ.
    pub keras: f64,
    /// TensorFlow Playground's regularization rate: its L2 penalty is ½w² (derivative w),
    /// scaled by the rate, which is our λ.
    pub playground: f64,
}

impl Conventions {
    /// Our λ₂ in every convention.
    pub fn of(l2: f64) -> Conventions {
        Conventions { pytorch: l2, keras: l2 / 2.0, playground: l2 }
    }

    /// A λ₂ given in `convention` ("pytorch", "keras" or "playground") as ours.
    pub fn to_ours(value: f64, convention: &str) -> Result<f64> {
        Ok(match convention {
            "pytorch" | "playground" => value,
            "keras" => 2.0 * value,
            other => bail!("unknown convention '{other}': use pytorch, keras or playground"),
        })
    }
}

/// One run's line of the read-out.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    pub label: String,
    pub color: usize,
    /// What regularizes it, in words ("L1 λ₁ = 0.001, proximal").
    pub regularizer: String,
    pub status: &'static str,
    pub message: Option<String>,
    pub steps: usize,
    pub total_steps: usize,
    pub last: Option<EpochRecord>,
    pub backend: &'static str,
    pub cost: Cost,
    /// First-layer weights that are exactly 0, of how many.
    pub zeros: usize,
    pub weights: usize,
    /// √Σw² over every weight matrix (not biases).
    pub weight_norm: f64,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegularizationReport {
    pub status: &'static str,
    pub progress: Progress,
    pub l1: f32,
    pub l2: f32,
    pub l1_mode: &'static str,
    /// The λ₂ of the L2 run in other tools' conventions.
    pub conventions: Conventions,
    pub runs: Vec<RunReport>,
}

/// Which regularizer a run has.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    None,
    L1,
    L2,
    AdamW,
}

const LABELS: [(Kind, &str, usize); 4] = [(Kind::None, "none", 0), (Kind::L1, "L1", 4), (Kind::L2, "L2", 1), (Kind::AdamW, "AdamW", 5)];

/// The cell's experiment.
pub struct Regularization {
    spec: RegularizationSpec,
    kinds: Vec<Kind>,
    runs: Runs,
}

fn check_lambda(what: &str, v: f32) -> Result<()> {
    ensure!(v.is_finite() && (0.0..=MAX_LAMBDA).contains(&v), "{what} = {v} is out of range: pick 0 to {MAX_LAMBDA}");
    Ok(())
}

impl Regularization {
    pub fn new(data: &Data, mut spec: RegularizationSpec, device: &dyn Device) -> Result<Regularization> {
        spec.l2 = Conventions::to_ours(spec.l2 as f64, &spec.l2_convention)? as f32;
        spec.l2_convention = pytorch(); // from here on, ours
        check_lambda("λ₁", spec.l1)?;
        check_lambda("λ₂", spec.l2)?;
        let mode = L1Mode::parse(&spec.l1_mode)?;
        ensure!((1..=MAX_UNITS_SHOWN).contains(&spec.units_shown), "{} units to draw is out of range: pick 1 to {MAX_UNITS_SHOWN}", spec.units_shown);
        ensure!(spec.run.hidden.first().is_some_and(|&h| h >= spec.units_shown), "draw at most as many units as the first hidden layer has");
        ensure!(
            !spec.decoupled || spec.run.optimizer == "adam",
            "decoupled weight decay is compared under Adam (optimizer \"adam\", not \"{}\"): under SGD it is the same update as L2",
            spec.run.optimizer
        );
        let mut kinds = vec![Kind::None, Kind::L1, Kind::L2];
        if spec.decoupled {
            kinds.push(Kind::AdamW);
        }
        let trainers = kinds
            .iter()
            .map(|&k| {
                let mut run = RunSpec { l1: 0.0, l2: 0.0, l1_mode: mode.name().into(), ..spec.run.clone() };
                match k {
                    Kind::None => {}
                    Kind::L1 => run.l1 = spec.l1,
                    Kind::L2 => run.l2 = spec.l2,
                    Kind::AdamW => {
                        run.optimizer = "adamw".into();
                        let mut options = if spec.run.options.is_object() { spec.run.options.clone() } else { serde_json::json!({}) };
                        options["weight_decay"] = serde_json::json!(spec.l2);
                        run.options = options;
                    }
                }
                run.build_on(data, None, device)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Regularization { spec, kinds, runs: Runs::new(trainers) })
    }

    pub fn spec(&self) -> &RegularizationSpec {
        &self.spec
    }
    pub fn runs(&self) -> &Runs {
        &self.runs
    }
    /// The run of `label` ("none", "L1", "L2", "AdamW"), if the cell has it.
    pub fn trainer(&self, label: &str) -> Option<&Trainer> {
        self.kinds.iter().position(|&k| label_of(k) == label).map(|i| self.runs.get(i))
    }

    pub fn run_for(&mut self, budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        self.runs.run_for(budget_ms, clock)
    }

    pub fn stop(&mut self) {
        self.runs.stop(STOPPED_BY_STUDENT);
    }

    /// Move λ₁, λ₂ or the L1 mode while the runs train: the L1 and L2 runs take them from their
    /// next step, and AdamW takes λ₂ as its `weight_decay` (each marked on its curves).
    /// `l2` is given in `convention` (see [`Conventions::to_ours`]).
    /// Runs that have ended keep what they trained with (and so does the report).
    pub fn set_penalty(&mut self, l1: f32, l2: f32, convention: &str, l1_mode: &str) -> Result<()> {
        let l2 = Conventions::to_ours(l2 as f64, convention)? as f32;
        check_lambda("λ₁", l1)?;
        check_lambda("λ₂", l2)?;
        let mode = L1Mode::parse(l1_mode)?;
        if !self.runs.active() {
            return Ok(());
        }
        for (i, &k) in self.kinds.iter().enumerate() {
            let t = self.runs.get_mut(i);
            if *t.status() != Status::Running {
                continue;
            }
            match k {
                Kind::L1 => t.set_penalty(Penalty { l1, l2: 0.0, l1_mode: mode })?,
                Kind::L2 => t.set_penalty(Penalty::new(0.0, l2))?,
                Kind::AdamW if l2 != self.spec.l2 => t.set_weight_decay(l2)?,
                Kind::None | Kind::AdamW => {}
            }
        }
        (self.spec.l1, self.spec.l2, self.spec.l1_mode) = (l1, l2, mode.name().into());
        Ok(())
    }

    fn regularizer(&self, k: Kind, t: &Trainer) -> String {
        let p = t.config().penalty;
        match k {
            Kind::None => "no penalty".into(),
            Kind::L1 => format!("L1 λ₁ = {}, {}", p.l1, p.l1_mode.name()),
            Kind::L2 => format!("L2 λ₂ = {} (coupled)", p.l2),
            Kind::AdamW => format!("AdamW weight_decay = {} (decoupled)", self.spec.l2),
        }
    }

    pub fn report(&self) -> RegularizationReport {
        let runs = self
            .kinds
            .iter()
            .zip(self.runs.iter())
            .enumerate()
            .map(|(i, (&k, t))| {
                let w = t.model().weight(0);
                let norm: f64 =
                    t.model().weight_ranges().into_iter().flat_map(|r| t.model().parameters()[r].to_vec()).map(|v| (v as f64).powi(2)).sum();
                RunReport {
                    label: label_of(k).into(),
                    color: color_of(k),
                    regularizer: self.regularizer(k, t),
                    status: t.status().word(),
                    message: t.status().message().map(String::from),
                    steps: t.steps(),
                    total_steps: t.total_steps(),
                    last: t.history().epochs.last().cloned(),
                    backend: t.engine().label(),
                    cost: self.runs.cost(i),
                    zeros: w.iter().filter(|&&v| v == 0.0).count(),
                    weights: w.len(),
                    weight_norm: norm.sqrt(),
                }
            })
            .collect();
        let mode = L1Mode::parse(&self.spec.l1_mode).unwrap_or_default();
        RegularizationReport {
            status: self.status(),
            progress: Progress::of(&self.runs),
            l1: self.spec.l1,
            l2: self.spec.l2,
            l1_mode: mode.name(),
            conventions: Conventions::of(self.spec.l2 as f64),
            runs,
        }
    }

    fn status(&self) -> &'static str {
        let any = |f: &dyn Fn(&Status) -> bool| self.runs.iter().any(|t| f(t.status()));
        if self.runs.active() {
            "running"
        } else if any(&|s| s.message() == Some(STOPPED_BY_STUDENT)) {
            "stopped"
        } else if any(&|s| matches!(s, Status::Diverged(_))) {
            "diverged"
        } else {
            "finished"
        }
    }

    /// "error": validation (solid) and training (dashed) error per epoch of every run, with
    /// the λ changes marked; "magnitudes": the first layer's |w| on a log axis, per run (exact
    /// zeros cannot sit on a log axis: the legend counts them); "weights0" … "weights3": run
    /// i's first hidden units as 28 × 28 pictures of their incoming weights.
    pub fn chart(&self, name: &str) -> Result<Chart> {
        match name {
            "error" => {
                let mut series = Vec::new();
                let mut chart_marks = Vec::new();
                for (&k, t) in self.kinds.iter().zip(self.runs.iter()) {
                    let ep = &t.history().epochs;
                    let pts = |f: fn(&EpochRecord) -> f32| ep.iter().map(|r| (r.epoch as f64, f(r) as f64)).collect();
                    series.push(Series::new(format!("{}: validation", label_of(k)), pts(|r| r.val_error), color_of(k)).markers());
                    series.push(Series::new(format!("{}: training", label_of(k)), pts(|r| r.train_error), color_of(k)).dashed());
                    let spe = t.steps_per_epoch().max(1) as f64;
                    for (step, what) in &t.history().marks {
                        chart_marks.push((*step as f64 / spe, format!("{}: {what}", label_of(k))));
                    }
                }
                let top = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| v.is_finite()).fold(0.0, f64::max);
                let mut chart = Chart::lines("error per epoch (dashed: training)", "epoch", "error rate", series)
                    .x_max(self.spec.run.epochs as f64)
                    .y_range(0.0, (top * 1.1).clamp(0.05, 1.0));
                for (x, text) in chart_marks {
                    chart = chart.mark(x, text);
                }
                Ok(chart)
            }
            "magnitudes" => {
                let groups = self
                    .kinds
                    .iter()
                    .zip(self.runs.iter())
                    .map(|(&k, t)| {
                        let w = t.model().weight(0);
                        let zeros = w.iter().filter(|&&v| v == 0.0).count();
                        let values = w.iter().filter(|&&v| v != 0.0).map(|&v| v.abs() as f64).collect();
                        let share = 100.0 * zeros as f64 / w.len().max(1) as f64;
                        Group { name: format!("{} ({zeros} exact zeros, {share:.1}%, not drawn)", label_of(k)), values, color: color_of(k) }
                    })
                    .collect();
                Ok(Chart {
                    title: "first layer: weight magnitudes".into(),
                    x_label: "|w| (log scale)".into(),
                    y_label: "% of the layer's weights".into(),
                    body: Body::LogHistogram { groups, lines: Vec::new() },
                })
            }
            _ => {
                let Some(i) = name.strip_prefix("weights").and_then(|s| s.parse::<usize>().ok()).filter(|&i| i < LABELS.len()) else {
                    bail!("this cell has no chart {name:?} (it has \"error\", \"magnitudes\" and \"weights0\" to \"weights3\")")
                };
                if i >= self.kinds.len() {
                    // the page keeps a canvas for AdamW's pictures; say why it is empty
                    return Ok(Chart::lines("AdamW: a fourth run only when the optimizer is Adam", "", "", Vec::new()));
                }
                let t = self.runs.get(i);
                let inputs = t.model().inputs();
                let units = self.spec.units_shown.min(t.model().layer_shape(0).1);
                // W1 (units × inputs) opens the flat parameters, so its first rows are the first units
                let params = t.model().parameters();
                let mut chart = first_layer_chart(params, inputs, units, &format!("{}: first {units} units", label_of(self.kinds[i])))?;
                if inputs != MNIST_INPUTS {
                    chart.title = format!("{} (rows of {inputs} inputs)", chart.title);
                }
                Ok(chart)
            }
        }
    }
}

fn label_of(k: Kind) -> &'static str {
    LABELS.iter().find(|l| l.0 == k).map_or("?", |l| l.1)
}
fn color_of(k: Kind) -> usize {
    LABELS.iter().find(|l| l.0 == k).map_or(0, |l| l.2)
}
