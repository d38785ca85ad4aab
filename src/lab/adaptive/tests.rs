use super::*;
use crate::data::Dataset;
use crate::lab::Cpu;
use crate::plot::Body;
use std::cell::Cell;
use std::sync::Arc;

/// 40 examples of 4 features, 3 classes: 4 steps an epoch in batches of 10. The last feature
/// is always 0, like a pixel blank in every digit: its weights never get a gradient.
fn data() -> Data {
    let n = 40;
    let x: Vec<f32> = (0..n * 4).map(|i| if i % 4 == 3 { 0.0 } else { ((i * 13) % 7) as f32 / 7.0 - 0.3 }).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 3) as u8).collect();
    let d = Arc::new(Dataset::new(x, labels, 4, 3).unwrap());
    Data { train: d.clone(), validation: d }
}

fn spec(steps: usize) -> AdaptiveSpec {
    AdaptiveSpec { seed: 5, hidden: vec![8], batch_size: 10, steps, layer: 1, sgd_lr: 0.3, rmsprop_lr: 0.01, adam_lr: 0.01 }
}

/// A clock that moves on by 1 ms each time it is read.
struct Ticks(Cell<f64>);

impl Clock for Ticks {
    fn now_ms(&self) -> f64 {
        self.0.set(self.0.get() + 1.0);
        self.0.get()
    }
}

fn run(spec: AdaptiveSpec) -> Adaptive {
    let mut lab = Adaptive::new(&data(), spec, &Cpu).unwrap();
    let clock = Ticks(Cell::new(0.0));
    while lab.run_for(5.0, &clock).unwrap() {}
    lab
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs())
}

#[test]
fn effective_rates_are_lr_over_root_v_hat_plus_eps() {
    // (v, lr, eps, c₂, rates, weights without a gradient, reason)
    type Row = (&'static [f32], f64, f64, f64, &'static [f64], usize, &'static str);
    let rows: &[Row] = &[
        (&[4.0], 0.1, 0.0, 1.0, &[0.05], 0, "RMSprop: lr / √v"),
        (&[0.0, 1e-4], 1e-3, 1e-8, 1.0, &[1e-3 / (1e-2 + 1e-8)], 1, "v = 0 is counted, not rated"),
        (&[2.5e-4], 1e-3, 1e-8, 1e-3, &[1e-3 / (0.5 + 1e-8)], 0, "Adam after one step with g = 0.5: v̂ = g², the rate is lr / |g|"),
        (&[1e-20], 1e-3, 1e-8, 1.0, &[1e-3 / (1e-10 + 1e-8)], 0, "a tiny v: eps caps the rate near lr / eps"),
    ];
    for &(v, lr, eps, c2, want, zero, reason) in rows {
        let (rates, z) = effective_rates(v, lr, eps, c2);
        assert_eq!(z, zero, "{reason}");
        assert_eq!(rates.len(), want.len(), "{reason}");
        for (r, w) in rates.iter().zip(want) {
            assert!(close(*r, *w, 1e-6), "{reason}: {r} ≠ {w}");
        }
    }
}

#[test]
fn after_one_step_the_rates_and_traces_follow_from_the_gradient() {
    let lab = run(spec(1));
    let range = lab.range.clone();
    let eps = 1e-8;
    // every run starts from the same weights on the same batch: one gradient g at step 1
    let g: Vec<f64> = lab.runs().get(ADAM).engine().gradients().unwrap()[range.clone()].iter().map(|&g| g as f64).collect();
    let sgd_g: Vec<f64> = lab.runs().get(SGD).engine().gradients().unwrap()[range.clone()].iter().map(|&g| g as f64).collect();
    assert_eq!(g, sgd_g, "one seed, one first gradient");
    let live: Vec<f64> = g.iter().copied().filter(|g| *g != 0.0).collect();
    assert!(!live.is_empty() && live.len() < g.len(), "the data leaves some weights without a gradient, and not all");
    // (run, lr, √v as a multiple of |g| after one step, reason)
    let rows = [(RMSPROP, 0.01, (1.0f64 - 0.99).sqrt(), "RMSprop: v = (1 − α)·g², uncorrected"), (ADAM, 0.01, 1.0, "Adam: v̂ = v / (1 − β₂) = g²")];
    for (which, lr, scale, reason) in rows {
        let (rates, zero) = lab.rates(which).unwrap();
        assert_eq!(zero, g.len() - live.len(), "{reason}: the weights without a gradient");
        for (r, g) in rates.iter().zip(&live) {
            assert!(close(*r, lr / (scale * g.abs() + eps), 1e-4), "{reason}: rate {r} for g = {g}");
        }
    }
    let mean = |f: &dyn Fn(f64) -> f64| g.iter().map(|&g| f(g)).sum::<f64>() / g.len() as f64;
    let (t, raw) = (lab.trace(ADAM)[0], lab.trace(ADAM_RAW)[0]);
    assert!(close(t.grad, mean(&|g| g.abs()), 1e-6), "|g|");
    assert!(close(t.m, 0.1 * t.grad, 1e-5), "m = (1 − β₁)·g");
    assert!(close(t.sqrt_v, 0.001f64.sqrt() * t.grad, 1e-4), "√v = √(1 − β₂)·|g|");
    // corrected, the first step moves every weight with a gradient by lr·|g|/(|g| + eps) ≈ lr
    assert!(close(t.update, mean(&|g| 0.01 * g.abs() / (g.abs() + eps)), 1e-3), "first update {}", t.update);
    assert!(
        close(raw.update / t.update, 0.1 / 0.001f64.sqrt(), 1e-3),
        "uncorrected: (1 − β₁)/√(1 − β₂) ≈ 3.2× larger, got {}",
        raw.update / t.update
    );
    assert_eq!(lab.report().first_updates, [vec![t.update], vec![raw.update]]);
}

#[test]
fn the_layer_choice_picks_the_weights_shown() {
    // (hidden, layer, (fan_in, fan_out), reason)
    type Row = (&'static [usize], usize, (usize, usize), &'static str);
    let rows: &[Row] = &[
        (&[8], 1, (4, 8), "the first layer reads the inputs"),
        (&[8], 2, (8, 3), "the last layer writes the classes"),
        (&[8, 6], 2, (8, 6), "a middle layer"),
        (&[], 1, (4, 3), "no hidden layer: the only one"),
    ];
    for &(hidden, layer, fan, reason) in rows {
        let lab = run(AdaptiveSpec { hidden: hidden.to_vec(), layer, ..spec(2) });
        let r = lab.report();
        assert_eq!((r.layer, r.fan_in, r.fan_out), (layer, fan.0, fan.1), "{reason}");
        assert_eq!(lab.range, lab.runs().get(SGD).model().weight_ranges()[layer - 1], "{reason}");
        for which in [RMSPROP, ADAM] {
            let (rates, zero) = lab.rates(which).unwrap();
            assert_eq!(rates.len() + zero, fan.0 * fan.1, "{reason}: one rate or one 'no gradient' per weight, biases left out");
        }
    }
}

#[test]
fn every_run_stops_at_the_step_count_and_the_runs_keep_together() {
    // 4 steps an epoch: 7 steps cross the epoch end at 4 and never reach the one at 8, where
    // 8 steps end (the runs then finish their last epoch).
    // (steps, budget per call in clock ticks, reason)
    let rows = [
        (7, 3.0, "a unit or two per call"),
        (7, 1e6, "a budget that would fit the whole run"),
        (8, 3.0, "the step count on an epoch's end, a unit or two per call"),
        (8, 1e6, "the step count on an epoch's end, a budget that would fit the whole run"),
    ];
    for (n, budget, reason) in rows {
        let mut lab = Adaptive::new(&data(), spec(n), &Cpu).unwrap();
        let clock = Ticks(Cell::new(0.0));
        let steps = |lab: &Adaptive| lab.runs().iter().map(Trainer::steps).collect::<Vec<_>>();
        for _ in 0..1000 {
            let before = steps(&lab);
            let more = lab.run_for(budget, &clock).unwrap();
            let after = steps(&lab);
            assert!(after[ADAM].abs_diff(after[ADAM_RAW]) <= 1, "{reason}: the Adam runs stay within a step of each other: {after:?}");
            let adam = after[ADAM].min(after[ADAM_RAW]);
            assert!(after[SGD].max(after[RMSPROP]) <= adam + LEAD, "{reason}: the others lead them by {LEAD} steps at most: {after:?}");
            let crossed = before.iter().zip(&after).filter(|(b, a)| **b < 4 && **a >= 4).count();
            assert!(crossed <= 1, "{reason}: at most one epoch-end evaluation starts per call: {before:?} → {after:?}");
            assert_eq!(more, lab.report().status == "running", "{reason}");
            if !more {
                break;
            }
        }
        let r = lab.report();
        assert_eq!(steps(&lab), [n; 4], "{reason}: held at exactly the step count");
        assert_eq!((lab.trace(ADAM).len(), lab.trace(ADAM_RAW).len()), (n, n), "{reason}: every Adam step traced");
        assert_eq!((r.status, r.steps, r.target, r.done), ("finished", n, n, true), "{reason}");
        assert!(r.runs.iter().all(|run| run.status == "finished" && run.loss.is_some()), "{reason}: {:?}", r.runs);
        assert_eq!((r.progress.done, r.progress.total), (4 * n, 4 * n), "{reason}");
        assert!(r.rmsprop.is_some() && r.adam.is_some(), "{reason}");
    }
}

#[test]
fn stop_ends_the_runs_that_have_steps_left() {
    let mut lab = Adaptive::new(&data(), spec(7), &Cpu).unwrap();
    let clock = Ticks(Cell::new(0.0));
    assert!(lab.run_for(2.0, &clock).unwrap());
    lab.stop();
    let r = lab.report();
    assert_eq!(r.status, "stopped");
    assert!(r.steps < 7 && r.runs.iter().all(|run| run.status == "stopped"), "{:?}", r.runs);
    assert!(!lab.run_for(2.0, &clock).unwrap(), "nothing left to do");
}

#[test]
fn a_diverging_run_ends_alone() {
    // (settings, the runs that blow up, reason)
    let rows = [
        (AdaptiveSpec { sgd_lr: 1e6, ..spec(7) }, vec![SGD], "SGD with a huge step"),
        (AdaptiveSpec { adam_lr: 1e3, ..spec(7) }, vec![ADAM, ADAM_RAW], "both Adam runs: the others no longer wait for them"),
    ];
    for (s, diverged, reason) in rows {
        let lab = run(s);
        let r = lab.report();
        assert_eq!(r.status, "diverged", "{reason}");
        for (i, run) in r.runs.iter().enumerate() {
            if diverged.contains(&i) {
                assert_eq!(run.status, "diverged", "{reason}: {run:?}");
            } else {
                assert!(run.status == "finished" && run.steps == 7, "{reason}: {run:?}");
            }
        }
        for i in [ADAM, ADAM_RAW] {
            assert_eq!(lab.trace(i).len(), r.runs[i].steps, "{reason}: every step run {i} booked is traced, the last one too");
        }
    }
}

#[test]
fn bad_settings_are_named() {
    // (settings, part of the message, reason)
    let rows = [
        (AdaptiveSpec { steps: 0, ..spec(1) }, "steps: 0 is out of range: pick 1 to 3000", "no steps"),
        (AdaptiveSpec { steps: 3001, ..spec(1) }, "steps: 3001", "too many steps"),
        (AdaptiveSpec { layer: 0, ..spec(1) }, "layer 0 does not exist: this network has layers 1 to 2", "layers count from 1"),
        (AdaptiveSpec { layer: 3, ..spec(1) }, "layer 3 does not exist", "past the last layer"),
        (AdaptiveSpec { batch_size: 0, ..spec(1) }, "batch size 0 is out of range: pick 1 to 40", "an empty batch"),
        (AdaptiveSpec { batch_size: 41, ..spec(1) }, "batch size 41", "more than the training set"),
        (AdaptiveSpec { sgd_lr: -1.0, ..spec(1) }, "SGD: ", "a bad SGD lr names SGD"),
        (AdaptiveSpec { rmsprop_lr: -1.0, ..spec(1) }, "RMSprop: ", "a bad RMSprop lr names RMSprop"),
        (AdaptiveSpec { adam_lr: -1.0, ..spec(1) }, "Adam: ", "a bad Adam lr names Adam"),
        (AdaptiveSpec { hidden: vec![0], ..spec(1) }, "hidden layer 1 has 0 units", "an empty hidden layer"),
        (AdaptiveSpec { batch_size: 40, steps: 3000, ..spec(1) }, "3000 epochs is too many", "one batch an epoch: 3000 steps are 3000 epochs"),
    ];
    for (s, want, reason) in rows {
        let err = Adaptive::new(&data(), s, &Cpu).err().unwrap_or_else(|| panic!("{reason}: accepted"));
        assert!(err.message().contains(want), "{reason}: {:?}", err.message());
    }
}

#[test]
fn the_charts_before_and_after_a_run() {
    let fresh = Adaptive::new(&data(), spec(3), &Cpu).unwrap();
    let done = run(spec(3));
    // (chart, series or groups before, after, reason)
    let rows = [
        ("rates", 0, 2, "no state before a step; RMSprop's and Adam's rates after"),
        ("moments", 5, 5, "|g|, m, m̂, √v and √v̂, empty before a step"),
        ("loss", 4, 4, "all four runs"),
        ("updates", 3, 3, "both Adam runs and the lr line"),
    ];
    for (name, before, after, reason) in rows {
        let count = |lab: &Adaptive| match lab.chart(name).unwrap().body {
            Body::LogHistogram { groups, lines } => {
                assert_eq!(lines.len(), 1, "SGD's rate is one line");
                groups.len()
            }
            Body::LogY { series, x_max, .. } | Body::Lines { series, x_max: Some(x_max), .. } => {
                assert_eq!(x_max, 3.0, "{name}: the x axis spans the step count from the start");
                series.len()
            }
            other => panic!("{name}: unexpected {other:?}"),
        };
        assert_eq!((count(&fresh), count(&done)), (before, after), "{reason}");
    }
    let moments = done.chart("moments").unwrap();
    assert!(moments.series().iter().all(|s| s.points.len() == 3), "one point per step");
    assert!(done.chart("weights").unwrap_err().message().contains("\"updates\""));
}
