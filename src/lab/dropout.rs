//! The "Dropout" cell (section 11b): the L1/L2 cell's overfitting network trained from one
//! seed without and with dropout p after every hidden activation, then the trained dropout
//! network taken apart on a fixed probe of validation digits.
//!
//! Dropout here is inverted dropout, as PyTorch's `nn.Dropout`: in training each hidden unit is
//! zeroed with probability p and the kept ones are scaled by 1/(1 − p), so that in evaluation
//! mode the network is used as it is. What the cell measures on the probe:
//!
//! - **train mode vs evaluation mode**, at every epoch's end: the error of one dropout-on pass
//!   (fresh masks) beside the error of the evaluation-mode network. Early on the thinned
//!   networks disagree with the whole one; as training goes on they learn to do without any
//!   single unit and the gap narrows.
//! - **the scaling lab**, once trained: four ways to use the weights at test time, each scored.
//!   (1) inverted dropout in evaluation mode (ours). (2) The original scheme (Srivastava et al.
//!   2014) trains without the 1/(1 − p) and multiplies by (1 − p) at test time; a network trained
//!   that way computes in training exactly what ours computes when each layer after a dropout
//!   has its weights divided by (1 − p), so that is the network scored here, with its test-time
//!   (1 − p). (3) The same network without the test-time (1 − p): the units' inputs come out
//!   1/(1 − p) times too large. (4) Ours with dropout still on at test time (PyTorch's
//!   "forgot `model.eval()`"): one stochastic pass.
//! - **the ensemble view**: the average of the softmax outputs of K dropout-on passes (each a
//!   different thinned network), K = 1, 2, 4, …, beside the evaluation-mode network, which is the
//!   cheap approximation of that average; and how much the passes disagree on each digit
//!   (1 − the share of the passes voting for the majority class), whose most disputed digits are
//!   drawn.
//!
//! Input dropout (the slide's "considerations for input?") is a second probability, `inputP`:
//! the dropout run then also drops input pixels before the first layer
//! (`nn::MlpSpec::input_dropout`), and every analysis above treats it like the hidden layers'
//! (the dropout-on passes drop pixels too; the 2014 network divides the first layer's weights
//! by 1 − input p). Either probability may be 0, not both.
//!
//! Both can be moved while the runs train ([`Dropout::set_p`]): the dropout run takes them
//! from its next step, and the change is marked on the curves. The analyses once trained use
//! the probabilities the network ended with.

use super::run::{Data, Device, RunSpec};
use super::schedule::{Clock, Cost, Runs};
use super::{Progress, STOPPED_BY_STUDENT};
use crate::data::Dataset;
use crate::nn::loss::{argmax_rows, softmax};
use crate::nn::Mlp;
use crate::plot::{Body, Chart, Series};
use crate::train::{EpochRecord, Status};
use crate::{bail, ensure, Result};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The largest dropout probability the cell takes (hidden layers and input).
pub const MAX_P: f32 = 0.9;
/// The most dropout-on passes the ensemble averages.
pub const MAX_PASSES: usize = 64;
/// The most validation digits in the probe.
pub const MAX_PROBE: usize = 1500;
/// Where the analysis passes' dropout masks start (far from any training step's).
const PROBE_MASKS: u32 = 1 << 30;
/// Disputed digits drawn.
const DISPUTED: usize = 16;

/// The cell's settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DropoutSpec {
    /// The shared run (its `dropout` is set per run).
    pub run: RunSpec,
    /// Dropout probability after every hidden activation of the dropout run.
    pub p: f32,
    /// Dropout probability on the input pixels of the dropout run (default 0: none).
    #[serde(default)]
    pub input_p: f32,
    /// Dropout-on passes the ensemble averages, at most [`MAX_PASSES`] (default 64).
    #[serde(default = "passes")]
    pub passes: usize,
    /// Validation digits the analyses use (default 500).
    #[serde(default = "probe")]
    pub probe: usize,
}

fn passes() -> usize {
    MAX_PASSES
}
fn probe() -> usize {
    500
}

/// Train vs evaluation mode at one epoch's end.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Modes {
    pub epoch: usize,
    pub eval_error: f32,
    pub train_mode_error: f32,
}

/// One row of the scaling lab.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scaling {
    pub name: &'static str,
    pub how: &'static str,
    pub error: f32,
    /// Mean cross-entropy on the probe: where a mistake that keeps the argmax still shows.
    pub loss: f32,
    /// Whether this is a right way to use the weights.
    pub correct: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunLine {
    pub label: &'static str,
    pub status: &'static str,
    pub message: Option<String>,
    pub last: Option<EpochRecord>,
    pub backend: &'static str,
    pub cost: Cost,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DropoutReport {
    pub status: &'static str,
    pub progress: Progress,
    pub p: f32,
    pub input_p: f32,
    /// The dropout run's changes of p while it trained: (epoch, what), as marked on the curves.
    pub changes: Vec<(f64, String)>,
    pub runs: Vec<RunLine>,
    pub modes: Vec<Modes>,
    /// Empty until the runs have finished.
    pub scaling: Vec<Scaling>,
    /// (K, error of the average of K dropout-on passes), K = 1, 2, 4, …
    pub ensemble: Vec<(usize, f32)>,
    pub passes_done: usize,
    pub passes: usize,
    /// The evaluation-mode network's error on the probe, once trained.
    pub eval_error: Option<f32>,
    /// Mean disagreement between the passes over the probe.
    pub disagreement: Option<f32>,
    pub probe: usize,
}

/// The analysis of the trained dropout network, built a pass at a time.
struct Analysis {
    model: Mlp,
    eval_error: f32,
    scaling: Vec<Scaling>,
    /// Σ softmax over the passes so far (probe × classes).
    probs: Vec<f32>,
    /// Votes per (digit, class) so far.
    votes: Vec<u32>,
    done: usize,
    ensemble: Vec<(usize, f32)>,
}

/// The cell's experiment.
pub struct Dropout {
    spec: DropoutSpec,
    runs: Runs,
    probe: Arc<Dataset>,
    modes: Vec<Modes>,
    analysis: Option<Analysis>,
}

/// Both probabilities in [0, MAX_P], and at least one of them above 0.
fn check_ps(p: f32, input_p: f32) -> Result<()> {
    for (what, v) in [("dropout p", p), ("input dropout p", input_p)] {
        ensure!(v.is_finite() && (0.0..=MAX_P).contains(&v), "{what} = {v} is out of range: pick 0 to {MAX_P}");
    }
    ensure!(p > 0.0 || input_p > 0.0, "with dropout p and input p both 0 the two runs would be the same: set one of them above 0");
    Ok(())
}

/// Mean cross-entropy of `logits` (rows × classes) on `labels`.
fn loss_of(logits: &[f32], classes: usize, labels: &[u8]) -> Result<f32> {
    let y: Vec<u32> = labels.iter().map(|&l| l as u32).collect();
    Ok(crate::nn::loss::cross_entropy(logits, &y, classes, crate::nn::Reduction::Mean)?.0)
}

/// Error rate of `logits` (rows × classes) on `labels`.
fn error_of(logits: &[f32], classes: usize, labels: &[u8]) -> f32 {
    let wrong = argmax_rows(logits, classes).iter().zip(labels).filter(|(p, &y)| **p != y as usize).count();
    wrong as f32 / labels.len().max(1) as f32
}

impl Dropout {
    pub fn new(data: &Data, spec: DropoutSpec, device: &dyn Device) -> Result<Dropout> {
        check_ps(spec.p, spec.input_p)?;
        ensure!((1..=MAX_PASSES).contains(&spec.passes), "{} passes is out of range: pick 1 to {MAX_PASSES}", spec.passes);
        ensure!((10..=MAX_PROBE).contains(&spec.probe), "a probe of {} digits is out of range: pick 10 to {MAX_PROBE}", spec.probe);
        ensure!(!spec.run.hidden.is_empty(), "dropout needs at least one hidden layer");
        ensure!(spec.run.batch_norm.iter().all(|b| !b), "this cell compares dropout alone: leave batch-norm off");
        let plain = RunSpec { dropout: Vec::new(), ..spec.run.clone() };
        let dropped = RunSpec { dropout: vec![spec.p; spec.run.hidden.len()], input_dropout: spec.input_p, ..spec.run.clone() };
        let trainers = vec![plain.build_on(data, None, device)?, dropped.build_on(data, None, device)?];
        let probe = Arc::new(data.validation.take(spec.probe));
        Ok(Dropout { spec, runs: Runs::new(trainers), probe, modes: Vec::new(), analysis: None })
    }

    pub fn spec(&self) -> &DropoutSpec {
        &self.spec
    }
    pub fn runs(&self) -> &Runs {
        &self.runs
    }

    /// Move the dropout run's p (every hidden layer) and input p while it trains: it takes them
    /// from its next step, marked on its curves. Once it has ended they stay as they were.
    pub fn set_p(&mut self, p: f32, input_p: f32) -> Result<()> {
        check_ps(p, input_p)?;
        let t = self.runs.get_mut(1);
        if *t.status() != Status::Running {
            return Ok(());
        }
        t.set_dropout(&vec![p; self.spec.run.hidden.len()], input_p)?;
        (self.spec.p, self.spec.input_p) = (p, input_p);
        Ok(())
    }

    /// One dropout-on pass of `model` over the probe with masks `t`: its logits.
    fn stochastic(&self, model: &Mlp, t: u32) -> Result<Vec<f32>> {
        let mut m = model.clone();
        m.set_dropout_step(t);
        m.forward(&self.probe.x, self.probe.len(), true)
    }

    fn eval(&self, model: &Mlp) -> Result<Vec<f32>> {
        model.clone().forward(&self.probe.x, self.probe.len(), false)
    }

    /// Train the runs; at each of the dropout run's epoch ends compare its modes; once both
    /// have ended, the scaling lab and then the ensemble passes, a few per call.
    pub fn run_for(&mut self, budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        let start = clock.now_ms();
        let more = self.runs.run_for(budget_ms, clock)?;
        let t = self.runs.get(1);
        if t.epoch() > self.modes.len() && t.history().epochs.len() == t.epoch() {
            let classes = t.model().classes();
            let eval_error = error_of(&self.eval(t.model())?, classes, &self.probe.labels);
            let train_mode_error = error_of(&self.stochastic(t.model(), PROBE_MASKS + t.epoch() as u32)?, classes, &self.probe.labels);
            self.modes.push(Modes { epoch: t.epoch(), eval_error, train_mode_error });
        }
        if more {
            return Ok(true);
        }
        if *self.runs.get(1).status() != Status::Finished {
            return Ok(false); // stopped or diverged: nothing to take apart
        }
        if self.analysis.is_none() {
            self.analysis = Some(self.scaling_lab()?);
        }
        while self.analysis.as_ref().is_some_and(|a| a.done < self.spec.passes) {
            self.ensemble_pass()?;
            if clock.now_ms() - start >= budget_ms {
                break;
            }
        }
        Ok(self.analysis.as_ref().is_some_and(|a| a.done < self.spec.passes))
    }

    fn scaling_lab(&self) -> Result<Analysis> {
        let model = self.runs.get(1).model().clone();
        let (classes, labels) = (model.classes(), &self.probe.labels);
        // what survives of each layer's input: the pixels, then each hidden layer's units
        let keep: Vec<f32> = std::iter::once(model.spec().input_dropout).chain(model.layout().iter().map(|s| s.dropout)).map(|p| 1.0 - p).collect();
        let score = |logits: Vec<f32>| -> Result<(f32, f32)> { Ok((error_of(&logits, classes, labels), loss_of(&logits, classes, labels)?)) };
        let ours = score(self.eval(&model)?)?;
        // the original scheme's network: every layer after a dropout layer has W / (1 − p)
        let mut original = model.clone();
        let ranges = original.weight_ranges();
        let params = original.parameters_mut();
        for (r, &k) in ranges.iter().zip(&keep) {
            params[r.clone()].iter_mut().for_each(|w| *w /= k);
        }
        let uncompensated = score(self.eval(&original)?)?;
        // its test-time rule: multiply by (1 − p) (here: on those same weights)
        let params = original.parameters_mut();
        for (r, &k) in ranges.iter().zip(&keep) {
            params[r.clone()].iter_mut().for_each(|w| *w *= k);
        }
        let weight_scaled = score(self.eval(&original)?)?;
        let forgot = score(self.stochastic(&model, PROBE_MASKS - 1)?)?;
        let row = |name, how, (error, loss): (f32, f32), correct| Scaling { name, how, error, loss, correct };
        let scaling = vec![
            row("inverted dropout (PyTorch, ours)", "kept units ×1/(1−p) in training; used as is in eval()", ours, true),
            row("weight scaling (Srivastava et al. 2014)", "no scaling in training; weights ×(1−p) at test time", weight_scaled, true),
            row(
                "mistake: no compensation",
                "trained the 2014 way, used without the ×(1−p): every unit's input 1/(1−p) too large",
                uncompensated,
                false,
            ),
            row("mistake: forgot eval()", "dropout still on at test time: one random thinned network", forgot, false),
        ];
        let eval_error = ours.0;
        let n = self.probe.len();
        Ok(Analysis { model, eval_error, scaling, probs: vec![0.0; n * classes], votes: vec![0; n * classes], done: 0, ensemble: Vec::new() })
    }

    fn ensemble_pass(&mut self) -> Result<()> {
        let Some(a) = self.analysis.as_ref() else { return Ok(()) };
        let logits = self.stochastic(&a.model, PROBE_MASKS + 1_000 + a.done as u32)?;
        let classes = a.model.classes();
        let probs = softmax(&logits, classes);
        let picks = argmax_rows(&logits, classes);
        let labels = &self.probe.labels;
        let a = self.analysis.as_mut().expect("checked above");
        a.probs.iter_mut().zip(&probs).for_each(|(s, p)| *s += p);
        for (i, &c) in picks.iter().enumerate() {
            a.votes[i * classes + c] += 1;
        }
        a.done += 1;
        if a.done.is_power_of_two() || a.done == self.spec.passes {
            a.ensemble.push((a.done, error_of(&a.probs, classes, labels)));
        }
        Ok(())
    }

    /// Per probe digit: 1 − (votes for its majority class) / passes.
    fn disagreement(&self) -> Option<Vec<f32>> {
        let a = self.analysis.as_ref().filter(|a| a.done > 0)?;
        let c = a.model.classes();
        Some(a.votes.chunks_exact(c).map(|v| 1.0 - *v.iter().max().unwrap_or(&0) as f32 / a.done as f32).collect())
    }

    pub fn stop(&mut self) {
        self.runs.stop(STOPPED_BY_STUDENT);
        if let Some(a) = self.analysis.as_mut() {
            a.done = a.done.max(self.spec.passes); // no more passes
        }
    }

    pub fn report(&self) -> DropoutReport {
        let labels = ["no dropout", "dropout"];
        let runs = self
            .runs
            .iter()
            .enumerate()
            .map(|(i, t)| RunLine {
                label: labels[i],
                status: t.status().word(),
                message: t.status().message().map(String::from),
                last: t.history().epochs.last().cloned(),
                backend: t.engine().label(),
                cost: self.runs.cost(i),
            })
            .collect();
        let a = self.analysis.as_ref();
        let analysing = a.is_some_and(|a| a.done < self.spec.passes);
        let status = if self.runs.active() || analysing {
            "running"
        } else if self.runs.iter().any(|t| t.status().message() == Some(STOPPED_BY_STUDENT)) {
            "stopped"
        } else if self.runs.iter().any(|t| matches!(t.status(), Status::Diverged(_))) {
            "diverged"
        } else {
            "finished"
        };
        let (done, total) = self.runs.progress();
        let extra = self.spec.passes * self.probe.len() / 64; // a pass over the probe ≈ a step of 64
        let passes_done = a.map_or(0, |a| a.done.min(self.spec.passes));
        let progress = Progress { done: done + passes_done * self.probe.len() / 64, total: total + extra };
        DropoutReport {
            status,
            progress,
            p: self.spec.p,
            input_p: self.spec.input_p,
            changes: self.changes(),
            runs,
            modes: self.modes.clone(),
            scaling: a.map(|a| a.scaling.clone()).unwrap_or_default(),
            ensemble: a.map(|a| a.ensemble.clone()).unwrap_or_default(),
            passes_done,
            passes: self.spec.passes,
            eval_error: a.map(|a| a.eval_error),
            disagreement: self.disagreement().map(|d| d.iter().sum::<f32>() / d.len().max(1) as f32),
            probe: self.probe.len(),
        }
    }

    /// The dropout run's changes of p: (epoch at which they took effect, what).
    fn changes(&self) -> Vec<(f64, String)> {
        let t = self.runs.get(1);
        let spe = t.steps_per_epoch().max(1) as f64;
        t.history().marks.iter().map(|(step, what)| (*step as f64 / spe, what.clone())).collect()
    }

    /// `chart` with the dropout run's changes of p marked where they took effect.
    fn marked(&self, mut chart: Chart) -> Chart {
        for (x, what) in self.changes() {
            chart = chart.mark(x, what);
        }
        chart
    }

    /// "error": both runs' validation (solid) and training (dashed) error per epoch; "modes":
    /// the dropout run's probe error in evaluation and in train mode per epoch; "ensemble": the
    /// error of the average of K passes against log₂ K, the evaluation-mode network as a line;
    /// "disputed": the probe digits the passes disagree on most, with the majority's vote.
    pub fn chart(&self, name: &str) -> Result<Chart> {
        let epochs = self.spec.run.epochs as f64;
        match name {
            "error" => {
                let mut series = Vec::new();
                for (i, (t, label)) in self.runs.iter().zip(["no dropout", "dropout"]).enumerate() {
                    let ep = &t.history().epochs;
                    let pts = |f: fn(&EpochRecord) -> f32| ep.iter().map(|r| (r.epoch as f64, f(r) as f64)).collect();
                    let color = [0, 2][i];
                    series.push(Series::new(format!("{label}: validation"), pts(|r| r.val_error), color).markers());
                    series.push(Series::new(format!("{label}: training"), pts(|r| r.train_error), color).dashed());
                }
                let top = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| v.is_finite()).fold(0.0, f64::max);
                let chart = Chart::lines("error per epoch (dashed: training)", "epoch", "error rate", series)
                    .x_max(epochs)
                    .y_range(0.0, (top * 1.1).clamp(0.05, 1.0));
                Ok(self.marked(chart))
            }
            "modes" => {
                let pts = |f: fn(&Modes) -> f32| self.modes.iter().map(|m| (m.epoch as f64, f(m) as f64)).collect();
                let series = vec![
                    Series::new("evaluation mode (dropout off)", pts(|m| m.eval_error), 2).markers(),
                    Series::new("train mode (dropout on, one pass)", pts(|m| m.train_mode_error), 3).markers(),
                ];
                let top = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| v.is_finite()).fold(0.0, f64::max);
                let title = format!("dropout run, {} validation digits: train vs eval mode", self.probe.len());
                Ok(self.marked(Chart::lines(title, "epoch", "error rate", series).x_max(epochs).y_range(0.0, (top * 1.1).clamp(0.05, 1.0))))
            }
            "ensemble" => {
                let a = self.analysis.as_ref();
                let pts: Vec<(f64, f64)> = a.map(|a| a.ensemble.iter().map(|&(k, e)| ((k as f64).log2(), e as f64)).collect()).unwrap_or_default();
                let right = (self.spec.passes as f64).log2().max(1.0);
                let eval = a.map(|a| vec![(0.0, a.eval_error as f64), (right, a.eval_error as f64)]).unwrap_or_default();
                let series = vec![
                    Series::new("average of K dropout-on passes", pts, 2).markers(),
                    Series::new("evaluation-mode network (one pass)", eval, 0).dashed(),
                ];
                let top = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| v.is_finite()).fold(0.0, f64::max);
                Ok(Chart::lines("the ensemble view", "log₂ K (passes averaged)", "error rate", series)
                    .x_max(right)
                    .y_range(0.0, (top * 1.2).clamp(0.05, 1.0)))
            }
            "disputed" => {
                if self.analysis.as_ref().is_none_or(|a| a.done == 0) {
                    // empty axes until the trained network has been taken apart (the digit grid has no title)
                    return Ok(Chart::lines("digits the passes disagree on most: after training", "", "", Vec::new()));
                }
                let f = self.probe.features;
                let (mut images, mut labels, mut predictions) = (Vec::new(), Vec::new(), Vec::new());
                if let (Some(d), Some(a)) = (self.disagreement(), self.analysis.as_ref()) {
                    let c = a.model.classes();
                    let mut order: Vec<usize> = (0..d.len()).collect();
                    order.sort_by(|&i, &j| d[j].total_cmp(&d[i]).then(i.cmp(&j)));
                    for &i in order.iter().take(DISPUTED).filter(|&&i| d[i] > 0.0) {
                        images.extend_from_slice(&self.probe.x[i * f..(i + 1) * f]);
                        labels.push(self.probe.labels[i]);
                        let v = &a.votes[i * c..(i + 1) * c];
                        predictions.push((0..c).max_by_key(|&k| (v[k], std::cmp::Reverse(k))).unwrap_or(0));
                    }
                }
                ensure!(f == 28 * 28, "the disputed digits are drawn as 28 × 28 images ({f} features)");
                Ok(Chart {
                    title: "digits the passes disagree on most: majority vote (label)".into(),
                    body: Body::Digits { images, size: (28, 28), labels, predictions, columns: 8 },
                    ..Chart::default()
                })
            }
            _ => bail!("this cell has no chart {name:?} (it has \"error\", \"modes\", \"ensemble\" and \"disputed\")"),
        }
    }
}
