//! The Rprop cell's thought experiment (Hinton's recitation): one weight, an epoch of ten
//! mini-batches whose gradients are +0.1 nine times and then −0.9, so every epoch's gradients
//! sum to zero. Rprop and SGD step on each mini-batch; Rprop also steps once an epoch on the
//! whole batch, whose gradient is that zero sum.
//!
//! SGD ends each epoch where it began; full-batch Rprop never moves; mini-batch Rprop sees
//! nine "downhill is this way" and one sign flip (which halves its step and, in PyTorch's
//! Rprop, moves nothing), so it drifts, faster every epoch (its step ends each epoch about
//! 1.2⁸/2 ≈ 2.1 times larger).
//!
//! The whole experiment is worked out when it is built; a cursor says how many mini-batch
//! steps are shown. Built `from` step k, it shows k at once; `run_for` plays on one step per
//! [`PLAY_MS`] up to `until` (default: the end). So the cell's Play builds from where it is,
//! its Step builds at the next step with nothing to play, and Reset builds at step 0.

use super::{Clock, Progress, STOPPED_BY_STUDENT};
use crate::optim::{Num, Optimizer};
use crate::plot::{Chart, Series};
use crate::{bail, ensure, Result};
use serde::{Deserialize, Serialize};

/// The most epochs the experiment may take.
pub const MAX_EPOCHS: usize = 100;
/// The largest initial Rprop step (PyTorch's largest step size, `step_sizes.1`).
pub const MAX_RPROP_LR: f64 = 50.0;
/// The largest SGD learning rate.
pub const MAX_SGD_LR: f64 = 100.0;
/// Playing shows one mini-batch step per this many milliseconds.
pub const PLAY_MS: f64 = 90.0;
/// The mini-batch gradients of an epoch in tenths, so the epoch's sum is exactly zero (0.1·9 −
/// 0.9 in floating point is not, and Rprop would follow the sign of the rounding error).
const TENTHS: [i32; 10] = [1, 1, 1, 1, 1, 1, 1, 1, 1, -9];

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThoughtSpec {
    /// Epochs of ten mini-batches (default 5).
    #[serde(default = "five")]
    pub epochs: usize,
    /// Rprop's initial step size (default 0.01); its other settings are PyTorch's defaults.
    #[serde(default = "centi")]
    pub lr: f64,
    /// Plain SGD's learning rate on the same gradients (default 0.1).
    #[serde(default = "deci")]
    pub sgd_lr: f64,
    /// Mini-batch steps already shown when built (default 0).
    #[serde(default)]
    pub from: usize,
    /// Where playing stops (default: the end); at or below `from`, nothing plays.
    #[serde(default)]
    pub until: Option<usize>,
}
fn five() -> usize {
    5
}
fn centi() -> f64 {
    0.01
}
fn deci() -> f64 {
    0.1
}

/// The experiment, step by step. Index 0 of every per-step list is the start.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trace {
    /// The gradient of each mini-batch step.
    pub grads: Vec<f32>,
    pub batches_per_epoch: usize,
    /// Mini-batch Rprop: weight and step size after each step.
    pub rprop_w: Vec<f32>,
    pub rprop_step: Vec<f32>,
    /// Mini-batch SGD: weight after each step.
    pub sgd_w: Vec<f32>,
    /// Full-batch Rprop: weight, step size and gradient after each epoch's one step.
    pub full_w: Vec<f32>,
    pub full_step: Vec<f32>,
    pub full_grad: Vec<f32>,
}

impl Trace {
    fn new(epochs: usize, lr: f64, sgd_lr: f64) -> Result<Trace> {
        let rprop_options = serde_json::json!({ "lr": lr });
        let mut rprop = crate::optim::build("rprop", &rprop_options)?;
        let mut full = crate::optim::build("rprop", &rprop_options)?;
        let mut sgd = crate::optim::build("sgd", &serde_json::json!({ "lr": sgd_lr }))?;
        let step_size = |o: &dyn Optimizer| o.state().into_iter().find(|(k, _)| *k == "step_size").and_then(|(_, v)| v.first().copied());
        let initial = rprop.lr();
        let (mut w_r, mut w_s, mut w_f) = ([0.0f32], [0.0f32], [0.0f32]);
        let mut t = Trace {
            grads: Vec::new(),
            batches_per_epoch: TENTHS.len(),
            rprop_w: vec![0.0],
            rprop_step: vec![initial],
            sgd_w: vec![0.0],
            full_w: vec![0.0],
            full_step: vec![initial],
            full_grad: Vec::new(),
        };
        for _ in 0..epochs {
            for &k in &TENTHS {
                let g = k as f32 / 10.0;
                rprop.step(&mut w_r, &[g])?;
                sgd.step(&mut w_s, &[g])?;
                t.grads.push(g);
                t.rprop_w.push(w_r[0]);
                t.rprop_step.push(step_size(rprop.as_ref()).unwrap_or(initial));
                t.sgd_w.push(w_s[0]);
            }
            let g = TENTHS.iter().sum::<i32>() as f32 / 10.0;
            full.step(&mut w_f, &[g])?;
            t.full_grad.push(g);
            t.full_w.push(w_f[0]);
            t.full_step.push(step_size(full.as_ref()).unwrap_or(initial));
        }
        Ok(t)
    }
}

/// What the read-out shows at the step shown.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThoughtReport {
    pub status: &'static str,
    pub progress: Progress,
    /// Mini-batch steps shown, of `total`.
    pub step: usize,
    pub total: usize,
    /// The epoch and mini-batch (from 1) of the step shown, and its gradient; none at the start.
    pub epoch: Option<usize>,
    pub batch: Option<usize>,
    pub gradient: Option<f32>,
    pub rprop_step_size: f32,
    pub rprop_weight: f32,
    pub sgd_weight: f32,
    /// Full-batch Rprop after the epochs finished so far, and the gradient it saw.
    pub epochs_done: usize,
    pub full_weight: f32,
    pub full_gradient: f32,
}

/// The thought experiment with its cursor.
pub struct RpropThought {
    trace: Trace,
    from: usize,
    shown: usize,
    until: usize,
    started_ms: Option<f64>,
    stopped: bool,
}

impl RpropThought {
    pub fn new(spec: ThoughtSpec) -> Result<RpropThought> {
        ensure!((1..=MAX_EPOCHS).contains(&spec.epochs), "epochs: {} is out of range (1 to {MAX_EPOCHS})", spec.epochs);
        ensure!((0.0..=MAX_RPROP_LR).contains(&spec.lr), "rprop initial step: {} is out of range (0 to {MAX_RPROP_LR})", Num(spec.lr));
        ensure!((0.0..=MAX_SGD_LR).contains(&spec.sgd_lr), "SGD lr: {} is out of range (0 to {MAX_SGD_LR})", Num(spec.sgd_lr));
        let trace = Trace::new(spec.epochs, spec.lr, spec.sgd_lr)?;
        let total = trace.grads.len();
        ensure!(spec.from <= total, "from: step {} is past the end ({total} steps)", spec.from);
        let until = spec.until.unwrap_or(total).clamp(spec.from, total);
        Ok(RpropThought { trace, from: spec.from, shown: spec.from, until, started_ms: None, stopped: false })
    }

    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Mini-batch steps shown.
    pub fn shown(&self) -> usize {
        self.shown
    }

    fn total(&self) -> usize {
        self.trace.grads.len()
    }

    /// Show the steps due by now: the first at once, then one per [`PLAY_MS`]. True while
    /// steps are left to play.
    pub fn run_for(&mut self, _budget_ms: f64, clock: &dyn Clock) -> Result<bool> {
        if self.stopped || self.shown >= self.until {
            return Ok(false);
        }
        let now = clock.now_ms();
        let t0 = *self.started_ms.get_or_insert(now);
        let due = self.from + 1 + ((now - t0).max(0.0) / PLAY_MS) as usize;
        self.shown = due.clamp(self.shown, self.until);
        Ok(self.shown < self.until)
    }

    /// The student's Pause: the cursor stays where it is.
    pub fn stop(&mut self) {
        if self.shown < self.until {
            self.stopped = true;
        }
    }

    pub fn report(&self) -> ThoughtReport {
        let (t, k, n) = (&self.trace, self.shown, self.total());
        let per = t.batches_per_epoch;
        let status = if self.stopped {
            STOPPED_BY_STUDENT
        } else if k >= n {
            "finished"
        } else if k < self.until {
            "running"
        } else {
            "idle"
        };
        let epochs_done = k / per;
        ThoughtReport {
            status,
            progress: Progress { done: k, total: n },
            step: k,
            total: n,
            epoch: (k > 0).then(|| (k - 1) / per + 1),
            batch: (k > 0).then(|| (k - 1) % per + 1),
            gradient: (k > 0).then(|| t.grads[k - 1]),
            rprop_step_size: t.rprop_step[k],
            rprop_weight: t.rprop_w[k],
            sgd_weight: t.sgd_w[k],
            epochs_done,
            full_weight: t.full_w[epochs_done],
            full_gradient: if epochs_done > 0 { t.full_grad[epochs_done - 1] } else { 0.0 },
        }
    }

    /// "weight": the three weights so far against mini-batch steps (full-batch Rprop's one
    /// step an epoch at each epoch's end); "stepSize": both Rprop step sizes. The axes hold
    /// the whole experiment, so the curves grow into a still frame.
    pub fn chart(&self, name: &str) -> Result<Chart> {
        let (t, k, n) = (&self.trace, self.shown, self.total() as f64);
        let per = t.batches_per_epoch;
        let full_shown = k / per;
        let steps = |ys: &[f32]| ys[..=k].iter().enumerate().map(|(i, &y)| (i as f64, y as f64)).collect();
        let epochs = |ys: &[f32]| ys[..=full_shown].iter().enumerate().map(|(e, &y)| ((e * per) as f64, y as f64)).collect();
        match name {
            "weight" => {
                let all = t.rprop_w.iter().chain(&t.sgd_w).chain(&t.full_w).map(|&v| v as f64);
                let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
                let span = (hi - lo).max(0.1);
                let series = vec![
                    Series::new("Rprop, mini-batches", steps(&t.rprop_w), 3).markers(),
                    Series::new("SGD, mini-batches", steps(&t.sgd_w), 0).markers(),
                    Series::new("Rprop, full batch (1 step/epoch)", epochs(&t.full_w), 2).markers().dashed(),
                ];
                // room above the curves for the legend
                Ok(Chart::lines("the weight after each mini-batch step", &format!("step ({per} mini-batches per epoch)"), "weight w", series)
                    .x_max(n)
                    .y_range(lo - 0.05 * span, hi + 0.3 * span))
            }
            "stepSize" => {
                let top = t.rprop_step.iter().chain(&t.full_step).fold(0.0f64, |m, &v| m.max(v as f64));
                let series = vec![
                    Series::new("Rprop, mini-batches", steps(&t.rprop_step), 3).markers(),
                    Series::new("Rprop, full batch", epochs(&t.full_step), 2).markers().dashed(),
                ];
                Ok(Chart::lines("Rprop's step size", "step", "step size Δ", series).x_max(n).y_range(0.0, 1.4 * top))
            }
            _ => bail!("the thought experiment has no chart {name:?} (it has \"weight\" and \"stepSize\")"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    struct Manual(Cell<f64>);
    impl Clock for Manual {
        fn now_ms(&self) -> f64 {
            self.0.get()
        }
    }

    fn spec() -> ThoughtSpec {
        serde_json::from_value(serde_json::json!({})).unwrap()
    }

    #[test]
    fn the_gradients_cancel_but_minibatch_rprop_drifts_faster_every_epoch() {
        let t = RpropThought::new(spec()).unwrap();
        let t = t.trace();
        assert_eq!((t.grads.len(), t.batches_per_epoch), (50, 10), "5 epochs × 10 mini-batches by default");
        for e in 1..=5 {
            let end = 10 * e;
            // (value, holds, reason)
            let rows = [
                (t.sgd_w[end], t.sgd_w[end].abs() < 1e-6, "SGD ends each epoch where it began"),
                (t.full_w[e], t.full_w[e] == 0.0, "full-batch Rprop never moves: its gradient is 0"),
                (t.full_grad[e - 1], t.full_grad[e - 1] == 0.0, "the epoch's gradients sum to exactly 0"),
                (t.rprop_w[end], t.rprop_w[end] < t.rprop_w[end - 10], "mini-batch Rprop drifts further every epoch"),
            ];
            for (v, holds, reason) in rows {
                assert!(holds, "epoch {e}: {reason} ({v})");
            }
            let growth = t.rprop_step[end] / t.rprop_step[end - 10];
            assert!((growth - 1.2f32.powi(8) / 2.0).abs() < 1e-3, "epoch {e}: the step grows 1.2⁸/2 an epoch, not {growth}");
        }
        assert!(t.rprop_w[50] < -1.0, "after 5 epochs mini-batch Rprop is far off: {}", t.rprop_w[50]);
    }

    #[test]
    fn step_play_pause_and_reset_move_the_cursor() {
        let at = |from: usize, until: Option<usize>| RpropThought::new(ThoughtSpec { from, until, ..spec() }).unwrap();
        // Step: built at the next step, nothing to play
        let step = at(3, Some(3));
        let r = step.report();
        assert_eq!((r.status, r.step, r.epoch, r.batch, r.gradient), ("idle", 3, Some(1), Some(3), Some(0.1)), "after three steps");
        assert_eq!(at(0, Some(0)).report().epoch, None, "a Reset shows the start");
        assert_eq!(at(50, Some(50)).report().status, "finished", "stepped to the end");

        // Play from step 3: the first step at once, then one per PLAY_MS
        let clock = Manual(Cell::new(100.0));
        let mut play = at(3, None);
        assert!(play.run_for(12.0, &clock).unwrap());
        assert_eq!((play.shown(), play.report().status), (4, "running"));
        clock.0.set(100.0 + 2.5 * PLAY_MS);
        play.run_for(12.0, &clock).unwrap();
        assert_eq!(play.shown(), 6);
        play.stop();
        clock.0.set(1e6);
        assert!(!play.run_for(12.0, &clock).unwrap(), "paused");
        assert_eq!((play.shown(), play.report().status), (6, "stopped"));

        let mut to_end = at(0, None);
        to_end.run_for(12.0, &clock).unwrap();
        clock.0.set(2e6);
        assert!(!to_end.run_for(12.0, &clock).unwrap());
        assert_eq!((to_end.shown(), to_end.report().status), (50, "finished"));
        let (w, s) = (to_end.chart("weight").unwrap(), to_end.chart("stepSize").unwrap());
        assert_eq!(w.series().iter().map(|s| s.points.len()).collect::<Vec<_>>(), [51, 51, 6], "50 steps and 5 epochs, with the start");
        assert_eq!(s.series()[1].points[5], (50.0, 0.01f32 as f64), "full-batch Rprop keeps its first step size");
    }

    #[test]
    fn bad_settings_are_named() {
        // (settings, part of the message, reason)
        let rows = [
            (serde_json::json!({ "epochs": 0 }), "epochs: 0", "no epochs"),
            (serde_json::json!({ "epochs": 101 }), "epochs: 101 is out of range (1 to 100)", "too many epochs"),
            (serde_json::json!({ "lr": -0.5 }), "rprop initial step: -0.5", "a negative step"),
            (serde_json::json!({ "lr": 60 }), "rprop initial step: 60", "beyond Rprop's largest step"),
            (serde_json::json!({ "sgdLr": -1 }), "SGD lr: -1", "a negative learning rate"),
            (serde_json::json!({ "from": 51 }), "from: step 51 is past the end (50 steps)", "a cursor past the end"),
        ];
        for (v, want, reason) in rows {
            let err = RpropThought::new(serde_json::from_value(v).unwrap()).err().unwrap_or_else(|| panic!("{reason}: accepted"));
            assert!(err.message().contains(want), "{reason}: {}", err.message());
        }
        assert!(serde_json::from_value::<ThoughtSpec>(serde_json::json!({ "rprop": { "lr": 1 } })).is_err(), "unknown fields are refused");
    }
}
