//! The "Why not start equal?" cell: one small network (784 → h → 10) trained twice from one
//! seed on the same batches — once with every weight equal, once from PyTorch's default
//! random init — for a number of steps the student picks.
//!
//! Why the equal start fails: hidden units with the same incoming weights compute the same
//! output for every image, and their (equal) outgoing weights give them the same share of the
//! loss, so back-propagation hands them the same gradient. After the update they are still
//! copies, and the argument repeats at every step. [`first_layer_spread`] measures it: the
//! largest difference between any hidden unit and unit 1, weights and bias together, stays
//! exactly 0 from the equal start. The units are drawn as pictures (unit u's 784 incoming
//! weights as a 28 × 28 image), so the copies are visible too.
//!
//! Both runs are one [`Runs`], held at the target step ([`Trainer::hold_after`]) so that they
//! stop exactly there on any device.

use super::run::{Data, Device, RunSpec};
use super::schedule::{Clock, Runs};
use super::start::MNIST_INPUTS;
use super::{Progress, STOPPED_BY_STUDENT};
use crate::plot::{Body, Chart, Series};
use crate::train::{smoothed, Status, Trainer};
use crate::{ensure, Result};
use serde::{Deserialize, Serialize};

/// Mini-batch size of both runs.
pub const BATCH: usize = 32;
/// The fewest and the most hidden units (more would not fit the pictures).
pub const UNITS: (usize, usize) = (2, 16);
/// The most steps a run may take.
pub const MAX_STEPS: usize = 3000;
/// Smoothing of the loss curves and read-out (β of `train::smoothed`).
pub const LOSS_BETA: f64 = 0.9;
/// Why a run ended when it reached its steps.
const REACHED: &str = "reached its steps";

/// The cell's settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EqualSpec {
    /// Hidden units h.
    pub hidden: usize,
    /// The value c every weight of the equal start takes (biases start at 0, as the constant
    /// init leaves them).
    pub value: f32,
    #[serde(default = "relu")]
    pub activation: String,
    /// Steps each run takes.
    pub steps: usize,
    /// SGD's learning rate.
    pub lr: f64,
    #[serde(default)]
    pub seed: u64,
}

fn relu() -> String {
    "relu".into()
}

/// One run's line of the read-out.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EqualRun {
    /// "equal" or "random".
    pub key: &'static str,
    pub label: String,
    pub color: usize,
    pub status: &'static str,
    pub message: Option<String>,
    pub steps: usize,
    /// The largest difference between any hidden unit and unit 1 (0: all copies).
    pub spread: f32,
    /// The last value of the smoothed loss curve.
    pub loss: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EqualReport {
    pub status: &'static str,
    pub progress: Progress,
    pub target: usize,
    pub hidden: usize,
    pub runs: Vec<EqualRun>,
}

/// The equal start beside the random one.
pub struct EqualStart {
    spec: EqualSpec,
    runs: Runs,
}

impl EqualStart {
    pub fn new(data: &Data, spec: EqualSpec, device: &dyn Device) -> Result<EqualStart> {
        let (lo, hi) = UNITS;
        ensure!((lo..=hi).contains(&spec.hidden), "hidden units: {} is out of range: pick {lo} to {hi}", spec.hidden);
        ensure!((1..=MAX_STEPS).contains(&spec.steps), "steps: {} is out of range: pick 1 to {MAX_STEPS}", spec.steps);
        ensure!(spec.value.is_finite(), "equal value c: {} is not a number", spec.value);
        let per_epoch = data.train.len().div_ceil(BATCH);
        let base = RunSpec {
            hidden: vec![spec.hidden],
            activation: spec.activation.clone(),
            seed: spec.seed,
            optimizer: "sgd".into(),
            options: serde_json::json!({ "lr": spec.lr }),
            batch_size: BATCH,
            epochs: spec.steps.div_ceil(per_epoch.max(1)).max(1),
            ..RunSpec::default()
        };
        let equal = RunSpec { init: Some(serde_json::json!({ "scheme": "constant", "value": spec.value })), ..base.clone() };
        let random = RunSpec { init: Some(serde_json::json!({ "scheme": "default" })), ..base };
        let mut trainers = vec![equal.build_on(data, None, device)?, random.build_on(data, None, device)?];
        for t in &mut trainers {
            t.hold_after(Some(spec.steps)); // exactly `steps` steps, also on the GPU
        }
        Ok(EqualStart { spec, runs: Runs::new(trainers) })
    }

    pub fn runs(&self) -> &Runs {
        &self.runs
    }

    /// Advance both runs; a run held at its target ends once its engine has synced that step.
    pub fn run_for(&mut self, budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        self.runs.run_for(budget_ms, clock)?;
        let target = self.spec.steps;
        for i in 0..self.runs.len() {
            let t = self.runs.get_mut(i);
            if *t.status() == Status::Running && t.steps() >= target && t.step_to(target)? {
                t.stop(REACHED);
            }
        }
        Ok(self.runs.active())
    }

    pub fn stop(&mut self) {
        self.runs.stop(STOPPED_BY_STUDENT);
    }

    fn status_of(t: &Trainer) -> &'static str {
        if t.status().message() == Some(REACHED) {
            "finished"
        } else {
            t.status().word()
        }
    }

    pub fn report(&self) -> EqualReport {
        let (h, target) = (self.spec.hidden, self.spec.steps);
        let runs: Vec<EqualRun> = self
            .runs
            .iter()
            .enumerate()
            .map(|(i, t)| EqualRun {
                key: ["equal", "random"][i],
                label: self.label(i),
                color: [1, 0][i],
                status: Self::status_of(t),
                message: t.status().message().filter(|m| *m != REACHED).map(String::from),
                steps: t.steps(),
                spread: first_layer_spread(t.model().parameters(), MNIST_INPUTS, h).unwrap_or(f32::NAN),
                loss: smoothed(&t.history().step_loss, LOSS_BETA).last().copied().filter(|v| v.is_finite()),
            })
            .collect();
        let status = super::init_runs::runs_status(&[&self.runs]);
        let done = self.runs.iter().map(|t| if *t.status() == Status::Running { t.steps().min(target) } else { target }).sum();
        EqualReport { status, progress: Progress { done, total: target * self.runs.len() }, target, hidden: h, runs }
    }

    fn label(&self, i: usize) -> String {
        if i == 0 {
            format!("all weights = {}", self.spec.value)
        } else {
            "random (PyTorch default)".into()
        }
    }

    /// "equal" and "random": the hidden units as pictures; "loss": both smoothed loss curves.
    pub fn chart(&self, name: &str) -> Result<Chart> {
        let units = |i: usize, what: &str| {
            let t = self.runs.get(i);
            let when = if t.steps() == 0 { "before training".to_string() } else { format!("after {} steps", t.steps()) };
            first_layer_chart(t.model().parameters(), MNIST_INPUTS, self.spec.hidden, &format!("{what} start, {when}"))
        };
        match name {
            "equal" => units(0, "equal"),
            "random" => units(1, "random"),
            "loss" => {
                let series = self
                    .runs
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        let ys = smoothed(&t.history().step_loss, LOSS_BETA);
                        Series::new(self.label(i), ys.into_iter().enumerate().map(|(s, y)| ((s + 1) as f64, y)).collect(), [1, 0][i])
                    })
                    .collect();
                Ok(Chart::lines("training loss (smoothed)", "step", "cross-entropy", series).x_max(self.spec.steps.max(1) as f64).y_range(0.0, 2.6))
            }
            _ => crate::bail!("this cell has no chart {name:?} (it has \"equal\", \"random\" and \"loss\")"),
        }
    }
}

/// Check that `params` can hold a first layer of `units × inputs` weights and `units` biases.
fn check_first_layer(params: &[f32], inputs: usize, units: usize) -> Result<()> {
    let need = inputs * units + units;
    ensure!(
        inputs > 0 && units > 0 && params.len() >= need,
        "the parameters hold {} values, fewer than a first layer of {units} units × {inputs} inputs needs ({need})",
        params.len()
    );
    Ok(())
}

/// The largest difference between any first-layer unit and unit 1, weights and bias together
/// (0: every unit is an exact copy). `params` is a flat parameter vector, W1 (units × inputs)
/// first, then b1.
pub fn first_layer_spread(params: &[f32], inputs: usize, units: usize) -> Result<f32> {
    check_first_layer(params, inputs, units)?;
    let w = crate::plot::unit_weights::unit_spread(&params[..inputs * units], units, inputs);
    let b = crate::plot::unit_weights::unit_spread(&params[inputs * units..inputs * units + units], units, 1);
    Ok(w.max(b))
}

/// The first layer's units as pictures: unit u's incoming weights `W1[u, :]`, as 28 × 28
/// images when there are 784 inputs (else one row each), in up to 8 columns.
pub fn first_layer_chart(params: &[f32], inputs: usize, units: usize, title: &str) -> Result<Chart> {
    check_first_layer(params, inputs, units)?;
    let (rows, cols) = if inputs == MNIST_INPUTS { (28, 28) } else { (1, inputs) };
    let columns = if units <= 4 { units } else { units.div_ceil(2).min(8) };
    Ok(Chart {
        title: title.into(),
        body: Body::UnitWeights { weights: params[..inputs * units].to_vec(), units, rows, cols, columns },
        ..Chart::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spread_sees_weights_and_biases() {
        // 3 units × 2 inputs, then 3 biases: (parameters, spread, reason)
        let rows: [(&[f32], f32, &str); 4] = [
            (&[0.5, -1.0, 0.5, -1.0, 0.5, -1.0, 0.1, 0.1, 0.1], 0.0, "three copies"),
            (&[0.5, -1.0, 0.5, -1.0, 0.5, -0.5, 0.1, 0.1, 0.1], 0.5, "one weight apart"),
            (&[0.5, -1.0, 0.5, -1.0, 0.5, -1.0, 0.1, 0.1, 0.35], 0.25, "only a bias apart: still not copies"),
            (&[0.5, -1.0, 0.5, -1.0, 0.5, -1.0, 0.1, 0.1, 0.1, 9.0], 0.0, "what follows the first layer does not count"),
        ];
        for (params, want, why) in rows {
            assert_eq!(first_layer_spread(params, 2, 3).unwrap(), want, "{why}");
        }
        let err = first_layer_spread(&[0.0; 8], 2, 3).unwrap_err();
        assert!(err.message().contains("hold 8 values") && err.message().contains("(9)"), "{}", err.message());
    }

    #[test]
    fn unit_pictures_are_28_by_28_in_up_to_8_columns() {
        // (units, inputs, (rows, cols), columns, reason)
        let rows = [
            (2, 784, (28, 28), 2, "a few units side by side"),
            (8, 784, (28, 28), 4, "two rows of four"),
            (16, 784, (28, 28), 8, "two rows of eight"),
            (3, 10, (1, 10), 3, "not an image: one row each"),
        ];
        for (units, inputs, shape, want, why) in rows {
            let c = first_layer_chart(&vec![0.1; inputs * units + units], inputs, units, "t").unwrap();
            let Body::UnitWeights { weights, rows, cols, columns, .. } = c.body else { panic!("{why}: not unit pictures") };
            assert_eq!(((rows, cols), columns, weights.len()), (shape, want, inputs * units), "{why}");
        }
    }
}
