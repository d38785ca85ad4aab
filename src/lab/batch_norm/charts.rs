//! The batch-norm cell's charts: what [`BatchNormLab::chart`] draws from the recorded looks.

use super::{BatchNormLab, Stats, BN, NAMES, NOISY, PLAIN};
use crate::plot::layers::violins;
use crate::plot::{Band, Body, Chart, Series};
use crate::train::smoothed;
use crate::Result;

impl BatchNormLab {
    /// "loss", "error" (every run), "percentiles" (plain), "percentilesBn" (batch-norm, and the
    /// noisy run dashed), "activations" / "activationsBn" (violins per layer), "runningMean" /
    /// "runningVar" (batch-norm run; the variance on a log axis), "affine" (the batch-norm run's
    /// γ and β of every unit of the chosen layer, against the unit), "smoothness" (the range of
    /// the loss along the gradient at each profile) and "profile" (the last profile's loss
    /// against η).
    pub fn chart(&self, name: &str) -> Result<Chart> {
        let total = self.runs.iter().map(|t| t.total_steps()).max().unwrap_or(1) as f64;
        let (layer, unit) = (self.spec.layer, self.spec.unit);
        let k = self.runs.len();
        Ok(match name {
            "loss" => {
                let series = (0..k)
                    .map(|i| {
                        let ys = smoothed(&self.runs.get(i).history().step_loss, super::LOSS_BETA);
                        Series::new(NAMES[i], ys.into_iter().enumerate().map(|(s, y)| ((s + 1) as f64, y)).collect(), i)
                    })
                    .collect();
                Chart::lines("training loss (moving average, β = 0.9)", "step", "cross-entropy", series).x_max(total).y_range(0.0, 2.6)
            }
            "error" => {
                let series = (0..k)
                    .map(|i| {
                        let pts = self.runs.get(i).history().checks.iter().map(|c| (c.step as f64, c.val_error as f64)).collect();
                        Series::new(NAMES[i], pts, i).markers()
                    })
                    .collect();
                Chart::lines("validation error", "step", "error rate", series).x_max(total).y_range(0.0, 1.0)
            }
            "percentiles" | "percentilesBn" => {
                let which: &[usize] = if name == "percentiles" { &[PLAIN] } else if k > NOISY { &[BN, NOISY] } else { &[BN] };
                let mut series = Vec::new();
                for &i in which {
                    let at = |q: usize| self.traces[i].iter().map(|t| (t.step as f64, t.percentiles[q])).collect::<Vec<_>>();
                    let prefix = if which.len() > 1 { format!("{}: ", NAMES[i]) } else { String::new() };
                    let noisy = i == NOISY;
                    for (q, label) in [(2, "85th"), (1, "50th"), (0, "15th")] {
                        let s = Series::new(format!("{prefix}{label}"), at(q), i);
                        series.push(if q != 1 || noisy { s.dashed() } else { s });
                    }
                }
                let title = format!("{}: layer {layer}, unit {unit}'s input", NAMES[which[0]]);
                // the axis fits the lines (not 0): a drift of a narrow band shows
                let ys = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| v.is_finite());
                let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
                let chart = Chart::lines(title, "step", "input to the non-linearity", series).x_max(total);
                if lo <= hi {
                    let pad = ((hi - lo) * 0.1).max(0.05);
                    chart.y_range(lo - pad, hi + pad)
                } else {
                    chart
                }
            }
            "activations" | "activationsBn" => {
                let i = if name == "activations" { PLAIN } else { BN };
                let views: Vec<&[f32]> = self.last_inside[i].iter().map(|x| x.output.as_slice()).collect();
                let (range, violins) = violins(&views, false);
                let step = self.traces[i].last().map_or(0, |t| t.step);
                Chart {
                    title: format!("{}: activations per layer, step {step}", NAMES[i]),
                    x_label: "hidden layer".into(),
                    y_label: format!("{} output", self.spec.activation),
                    body: Body::Violins { range, violins, color: i },
                }
            }
            "runningMean" | "runningVar" => {
                let mean = name == "runningMean";
                let pick = |s: &Stats, k: usize| if mean { s.mean[k] } else { s.var[k] };
                let mut series = Vec::new();
                for (k, &u) in self.units.iter().enumerate() {
                    let run = self.running.iter().map(|s| (s.step as f64, pick(s, k))).collect();
                    series.push(Series::new(format!("unit {}: running", u + 1), run, 3 + k));
                    let pop = self.population.iter().map(|s| (s.step as f64, pick(s, k))).collect();
                    series.push(Series::new(format!("unit {}: whole training set", u + 1), pop, 3 + k).dots());
                }
                let what = if mean { "mean" } else { "variance" };
                let title = format!("layer {layer}: running {what}, momentum {}", self.spec.bn_momentum);
                let y = format!("{what} of the Linear's output");
                if mean {
                    Chart::lines(title, "step", &y, series).x_max(total)
                } else {
                    // a log axis: the running variance starts at 1, often decades above the
                    // layer's own (small weights into a sigmoid layer)
                    Chart { title, x_label: "step".into(), y_label: format!("{y} (log scale)"), body: Body::LogY { series, x_max: total, y_floor: 1e-4 } }
                }
            }
            "affine" => {
                // (colours apart from the runs' 0 and 1: both pairs are the batch-norm run's)
                // γ_j and β_j of every unit j (1-based) as they are now, with the values they
                // start from (γ = 1, β = 0) as faint lines: how far training moved each pair
                let width = self.spec.hidden[layer - 1];
                let model = self.runs.get(BN).model();
                let (gamma, beta) = model.bn_affine(layer - 1).map_or((Vec::new(), Vec::new()), |(g, b)| (g.to_vec(), b.to_vec()));
                let at = |v: &[f32]| v.iter().enumerate().map(|(j, &y)| ((j + 1) as f64, y as f64)).collect();
                let start = |y: f64| vec![(0.5, y), (width as f64 + 0.5, y)];
                let series = vec![
                    Series::new("γ = 1 (start)", start(1.0), 2).dashed().faint(),
                    Series::new("β = 0 (start)", start(0.0), 4).dashed().faint(),
                    Series::new("γ", at(&gamma), 2).dots(),
                    Series::new("β", at(&beta), 4).dots(),
                ];
                let step = self.traces[BN].last().map_or(0, |t| t.step);
                // room above the dots for the legend (it sits top right)
                let values = gamma.iter().chain(&beta).map(|&v| v as f64).filter(|v| v.is_finite());
                let (lo, hi) = values.fold((0.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
                let span = hi - lo;
                Chart::lines(format!("batch-norm: layer {layer}'s γ and β per unit, step {step}"), "unit", "γ, β", series)
                    .x_max(width as f64 + 0.5)
                    .y_range(lo - 0.1 * span, hi + 0.45 * span)
            }
            "smoothness" => {
                let mut chart = Chart::lines("loss along the gradient, η from lr/4 to 8·lr", "step", "cross-entropy", Vec::new());
                let mut series = Vec::new();
                for (i, p) in self.profiles.iter().enumerate() {
                    let finite = |v: f64| if v.is_finite() { v.min(10.0) } else { 10.0 };
                    let lo = p.iter().map(|p| p.losses.iter().chain([&p.loss]).fold(f64::INFINITY, |a, &b| a.min(finite(b)))).collect();
                    let hi = p.iter().map(|p| p.losses.iter().chain([&p.loss]).fold(f64::NEG_INFINITY, |a, &b| a.max(finite(b)))).collect();
                    chart = chart.band(Band { name: format!("{}: range over η", NAMES[i]), x: p.iter().map(|p| p.step as f64).collect(), lo, hi, color: i });
                    series.push(Series::new(format!("{}: loss at w", NAMES[i]), p.iter().map(|p| (p.step as f64, p.loss)).collect(), i).markers());
                }
                // fit the bands too (capped: a step that blows the loss up would flatten the rest)
                let top = self.profiles.iter().flatten().flat_map(|p| p.losses.iter().chain([&p.loss])).map(|&v| if v.is_finite() { v.min(10.0) } else { 10.0 }).fold(2.5, f64::max);
                if let Body::Lines { series: s, .. } = &mut chart.body {
                    *s = series;
                }
                chart.x_max(total).y_range(0.0, 1.05 * top)
            }
            "profile" => {
                let series = (0..k)
                    .filter_map(|i| {
                        let p = self.profiles[i].last()?;
                        let pts = std::iter::once((0.0, p.loss)).chain(p.etas.iter().copied().zip(p.losses.iter().map(|&l| l.min(10.0)))).collect();
                        Some(Series::new(format!("{} (step {})", NAMES[i], p.step), pts, i).markers())
                    })
                    .collect();
                Chart::lines("loss at w − η·g, last look", "step size η", "cross-entropy", series)
            }
            _ => crate::bail!(
                "this cell has no chart {name:?} (it has loss, error, percentiles, percentilesBn, activations, activationsBn, runningMean, runningVar, affine, smoothness, profile)"
            ),
        })
    }
}
