//! The cell's four plots as [`Chart`]s.

use super::{Adaptive, Trace, ADAM, ADAM_RAW, LOSS_BETA, NAMES, RMSPROP};
use crate::plot::{Body, Chart, Group, RefLine, Series};
use crate::train::smoothed;
use crate::{bail, Result};

impl Adaptive {
    /// "rates": the histogram of the layer's effective learning rates under RMSprop and Adam,
    /// with SGD's single rate as a line; "moments": Adam's raw m, √v beside the corrected m̂,
    /// √v̂ (layer means), with |g|; "loss": the smoothed loss of all four runs; "updates": the
    /// mean size of Adam's updates with and without the correction.
    pub fn chart(&self, name: &str) -> Result<Chart> {
        let target = self.spec.steps as f64;
        let layer = self.spec.layer;
        let log_y = |title: String, x_label: &str, y_label: &str, series: Vec<Series>| Chart {
            title,
            x_label: x_label.into(),
            y_label: y_label.into(),
            body: Body::LogY { series, x_max: target, y_floor: 1e-7 },
        };
        let per_step = |trace: &[Trace], f: &dyn Fn(usize, &Trace) -> f64| -> Vec<(f64, f64)> {
            trace.iter().enumerate().map(|(i, t)| ((i + 1) as f64, f(i + 1, t))).collect()
        };
        match name {
            "rates" => {
                let groups = [(RMSPROP, "RMSprop: lr / (√v + eps)", 4), (ADAM, "Adam: lr / (√v̂ + eps)", 5)]
                    .into_iter()
                    .filter_map(|(i, name, color)| self.rates(i).map(|(values, _)| Group { name: name.into(), values, color }))
                    .collect();
                let lines = vec![RefLine { name: format!("SGD: lr = {} for every weight", self.spec.sgd_lr), x: self.spec.sgd_lr, color: 0 }];
                Ok(Chart {
                    title: format!("per-weight learning rate, layer {layer} ({} → {})", self.fan.0, self.fan.1),
                    x_label: "learning rate the weight gets (log scale)".into(),
                    y_label: "% of the layer's weights".into(),
                    body: Body::LogHistogram { groups, lines },
                })
            }
            "moments" => {
                let (b1, b2) = self.adam.betas;
                let trace = self.trace(ADAM);
                let line = |name: &str, color: usize, f: &dyn Fn(usize, &Trace) -> f64| Series::new(name, per_step(trace, f), color);
                let series = vec![
                    line("|g|, this step's gradient", 6, &|_, t| t.grad),
                    line("|m|, raw", 5, &|_, t| t.m).dashed(),
                    line("|m̂| = |m| / (1 − β₁ᵗ)", 5, &|s, t| t.m / (1.0 - b1.powi(s as i32))),
                    line("√v, raw", 1, &|_, t| t.sqrt_v).dashed(),
                    line("√v̂ = √v / √(1 − β₂ᵗ)", 1, &|s, t| t.sqrt_v / (1.0 - b2.powi(s as i32)).sqrt()),
                ];
                Ok(log_y(format!("Adam's moments, layer {layer}: raw vs bias-corrected"), "step t", "mean over the layer's weights", series))
            }
            "loss" => {
                let style = [(0, false), (4, false), (5, false), (3, true)];
                let series: Vec<Series> = self
                    .runs
                    .iter()
                    .zip(style)
                    .enumerate()
                    .map(|(i, (t, (color, dashed)))| {
                        let points = smoothed(&t.history().step_loss, LOSS_BETA).into_iter().enumerate().map(|(s, y)| ((s + 1) as f64, y)).collect();
                        let s = Series::new(NAMES[i], points, color);
                        if dashed {
                            s.dashed()
                        } else {
                            s
                        }
                    })
                    .collect();
                // room for the untrained loss (ln 10 ≈ 2.3), and for a run that climbs above it
                let top = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| v.is_finite()).fold(0.0, f64::max);
                let y_hi = (top * 1.05).clamp(2.6, 10.0);
                Ok(Chart::lines(format!("training loss, moving average (β = {LOSS_BETA})"), "step", "cross-entropy", series)
                    .x_max(target)
                    .y_range(0.0, y_hi))
            }
            "updates" => {
                let line = |i: usize, color: usize| Series::new(NAMES[i], per_step(self.trace(i), &|_, t| t.update), color);
                let lr = self.adam.lr;
                let series =
                    vec![line(ADAM, 5), line(ADAM_RAW, 3).dashed(), Series::new(format!("lr = {lr}"), vec![(0.0, lr), (target, lr)], 6).dashed()];
                Ok(log_y(format!("mean update size |Δw| per step, layer {layer}"), "step t", "mean |Δw|", series))
            }
            _ => bail!("this cell has no chart {name:?} (it has \"rates\", \"moments\", \"loss\" and \"updates\")"),
        }
    }
}
