//! Early stopping: when to end a run, read off its validation curve.
//!
//! Every rule here is a function of the recorded checks v_1, v_2, … (1-based check numbers; in
//! mode `max` the values and thresholds are negated first, so "better" is always "lower").
//! In this order, at each check t:
//!
//! 1. a value that is not a finite number stops the run at once, warm-up or not (Lightning's
//!    `check_finite`);
//! 2. the first `warmup` checks are ignored as if they were absent (Keras' `start_from_epoch`):
//!    "after warm-up" below counts only the checks after them, u = t − warmup;
//! 3. `stopping_threshold`: stop when the value reaches it (v_t ≤ threshold: good enough);
//!    `divergence_threshold`: stop when it is worse (v_t > threshold: hopeless);
//! 4. the criterion:
//!    - `patience` (Keras `EarlyStopping`): an improvement at t iff v_t < best − min_delta (then
//!      best = v_t, the best checkpoint is t, wait = 0), else wait += 1; stop at the first t
//!      with wait ≥ patience. Defaults: patience 5, min_delta 0.
//!    - `gl` (Prechelt 1998, generalization loss): GL(t) = 100 · (v_t / min_{t'≤t} v_t' − 1), the
//!      percentage by which the value stands above its best so far; stop at the first t with
//!      GL(t) > alpha (default 2).
//!    - `pq` (Prechelt's progress quotient): over strips of k = `strip` checks (default 5), the
//!      training progress P_k(t) = 1000 · (mean of the strip's k training errors / their
//!      minimum − 1) says how much training still moves; at each strip end, stop when
//!      GL(t) / P_k(t) > alpha (default 0.75): the value worsens faster than training improves.
//!    - `up` (Prechelt's UP_s): at strip ends u = k, 2k, 3k, … (after warm-up), stop at the first
//!      strip end at which the value rose at each of the last s = `strips` strip ends (default
//!      3): v(u − i·k) > v(u − (i+1)·k) for i = 0 … s−1, all compared indices strip ends ≥ k.
//!    - `cumulative`: the sum of one-step differences over a window of w = `window` checks
//!      (default 5) is positive beyond min_delta: Σ_{i=t−w+1..t} (v_i − v_{i−1}) > min_delta. The
//!      sum telescopes to v_t − v_{t−w}: only the two ends of the window count, so the wiggles in
//!      between cancel, and the rule asks "is the value now worse than w checks ago?".
//!
//! The best checkpoint is, for `patience`, its last improvement; for every other rule, the first
//! minimum among the checks seen after warm-up (up to the stop).
//!
//! Division by a best value of 0 (an error rate can reach it): GL is 0 while the value stays 0
//! and infinite once it rises; a strip with a minimum training error of 0 has P = 0 if all its
//! errors are 0 (training stopped moving) and infinite otherwise; GL / P with both 0 is 0.

use crate::{bail, ensure, Result};
use serde::{Deserialize, Serialize};

/// Which rule decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Criterion {
    Patience,
    Gl,
    Pq,
    Up,
    Cumulative,
}

/// Lower is better (`min`, a loss or an error rate) or higher (`max`, an accuracy).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Min,
    Max,
}

/// A stopping rule with Keras' and Prechelt's parameters (defaults in brackets).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    pub criterion: Criterion,
    #[serde(default)]
    pub mode: Mode,
    /// An improvement must beat the best by more than this [0] (`patience`, `cumulative`).
    #[serde(default)]
    pub min_delta: f64,
    /// Checks without improvement before stopping [5].
    #[serde(default = "five")]
    pub patience: f64,
    /// Checks ignored at the start [0].
    #[serde(default)]
    pub warmup: f64,
    /// The threshold of `gl` [2] or `pq` [0.75].
    #[serde(default)]
    pub alpha: Option<f64>,
    /// Strip length k of `pq` and `up` [5].
    #[serde(default = "five")]
    pub strip: f64,
    /// Successive rising strips s of `up` [3].
    #[serde(default = "three")]
    pub strips: f64,
    /// Window w of `cumulative` [5].
    #[serde(default = "five")]
    pub window: f64,
    /// Stop once the value is at least this good [none].
    #[serde(default)]
    pub stopping_threshold: Option<f64>,
    /// Stop once the value is worse than this [none].
    #[serde(default)]
    pub divergence_threshold: Option<f64>,
}

fn five() -> f64 {
    5.0
}
fn three() -> f64 {
    3.0
}

impl Rule {
    /// A rule with its defaults.
    pub fn new(criterion: Criterion) -> Rule {
        Rule {
            criterion,
            mode: Mode::Min,
            min_delta: 0.0,
            patience: 5.0,
            warmup: 0.0,
            alpha: None,
            strip: 5.0,
            strips: 3.0,
            window: 5.0,
            stopping_threshold: None,
            divergence_threshold: None,
        }
    }

    /// The rule's threshold alpha, with its criterion's default.
    pub fn alpha(&self) -> f64 {
        self.alpha.unwrap_or(if self.criterion == Criterion::Pq { 0.75 } else { 2.0 })
    }

    /// Check every parameter, naming the bad one.
    pub fn validate(&self) -> Result<()> {
        let whole = |v: f64, what: &str, min: f64| -> Result<()> {
            ensure!(v.is_finite() && v.fract() == 0.0 && v >= min, "{what} must be a whole number ≥ {min}, got {v}");
            Ok(())
        };
        whole(self.patience, "patience", 0.0)?;
        whole(self.warmup, "warmup", 0.0)?;
        whole(self.strip, "strip", 1.0)?;
        whole(self.strips, "strips", 1.0)?;
        whole(self.window, "window", 1.0)?;
        ensure!(self.min_delta.is_finite() && self.min_delta >= 0.0, "minDelta must be a number ≥ 0, got {}", self.min_delta);
        let a = self.alpha();
        ensure!(a.is_finite() && a > 0.0, "alpha must be a number > 0, got {a}");
        for (what, t) in [("stoppingThreshold", self.stopping_threshold), ("divergenceThreshold", self.divergence_threshold)] {
            if let Some(t) = t {
                ensure!(t.is_finite(), "{what} must be a finite number, got {t}");
            }
        }
        Ok(())
    }
}

/// Which recorded value a rule watches during training.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    #[default]
    ValLoss,
    ValError,
}

/// A rule applied while a run trains: after every validation check the trainer asks it
/// whether to stop (`TrainConfig::early_stopping`).
/// As JSON, the rule's fields beside `monitor` (`{ monitor, criterion, patience, … }`); read
/// through a map so that a misspelt option is still refused by name (serde ignores
/// `deny_unknown_fields` under `flatten`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "serde_json::Value")]
pub struct EarlyStopping {
    #[serde(default)]
    pub monitor: Monitor,
    #[serde(flatten)]
    pub rule: Rule,
}

impl TryFrom<serde_json::Value> for EarlyStopping {
    type Error = String;
    fn try_from(mut v: serde_json::Value) -> std::result::Result<Self, String> {
        let Some(map) = v.as_object_mut() else {
            return Err(format!("early stopping must be an object like {{ \"criterion\": \"patience\" }}, got {v}"));
        };
        let monitor = match map.remove("monitor") {
            Some(m) => serde_json::from_value(m).map_err(|e| format!("monitor: {e}"))?,
            None => Monitor::default(),
        };
        let rule = serde_json::from_value(v).map_err(|e| e.to_string())?;
        Ok(EarlyStopping { monitor, rule })
    }
}

impl EarlyStopping {
    /// The trainer's stopping hook: the rule over the checks so far, firing at the newest one.
    /// `pq` reads each epoch's training error, so it needs one check per epoch.
    pub fn stopper(&self, checks_per_epoch: usize) -> Result<super::Stopper> {
        self.rule.validate()?;
        ensure!(
            self.rule.criterion != Criterion::Pq || checks_per_epoch == 1,
            "the pq rule compares validation with each epoch's training error: use one check per epoch (got {checks_per_epoch})"
        );
        let (monitor, rule) = (self.monitor, self.rule.clone());
        Ok(Box::new(move |h: &super::History| {
            let values: Vec<f64> = h
                .checks
                .iter()
                .map(|c| match monitor {
                    Monitor::ValLoss => c.val_loss as f64,
                    Monitor::ValError => c.val_error as f64,
                })
                .collect();
            // each check's epoch's training error (checks may skip epochs: validateEvery)
            let train: Option<Vec<f64>> = (rule.criterion == Criterion::Pq)
                .then(|| h.checks.iter().map(|c| h.epochs.iter().find(|e| e.step == c.step).map_or(f64::NAN, |e| e.train_error as f64)).collect());
            let out = evaluate(&values, &rule, train.as_deref()).ok()?;
            (out.stop == Some(values.len())).then(|| format!("early stopping: {}", out.reason))
        }))
    }
}

/// Where a rule stops a recorded run (1-based check numbers) and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// The check at which the run stops, or `None` if the rule lets it run to the end.
    pub stop: Option<usize>,
    /// The best checkpoint (see the module doc), or `None` if no check counted.
    pub best: Option<usize>,
    pub reason: String,
}

/// Apply `rule` to the recorded `values` (one per check); `pq` also needs the training error at
/// each check.
pub fn evaluate(values: &[f64], rule: &Rule, train_errors: Option<&[f64]>) -> Result<Outcome> {
    rule.validate()?;
    if rule.criterion == Criterion::Pq {
        let Some(te) = train_errors else { bail!("the pq rule needs the training errors beside the validation values") };
        ensure!(te.len() == values.len(), "pq: {} training errors for {} validation values (give one per check)", te.len(), values.len());
    } else if let Some(te) = train_errors {
        ensure!(te.len() == values.len(), "{} training errors for {} validation values (give one per check)", te.len(), values.len());
    }
    let sign = if rule.mode == Mode::Max { -1.0 } else { 1.0 };
    let v: Vec<f64> = values.iter().map(|x| sign * x).collect();
    let (warmup, k, s, w) = (rule.warmup as usize, rule.strip as usize, rule.strips as usize, rule.window as usize);
    let (patience, alpha) = (rule.patience as usize, rule.alpha());
    let stopping = rule.stopping_threshold.map(|x| sign * x);
    let divergence = rule.divergence_threshold.map(|x| sign * x);

    // state: the first minimum after warm-up, and patience's own best and wait
    let mut first_min: Option<usize> = None;
    let (mut best_p, mut best_v, mut wait) = (None, f64::INFINITY, 0usize);
    let best_of = |first_min: Option<usize>, best_p: Option<usize>| if rule.criterion == Criterion::Patience { best_p } else { first_min };
    let stop = |t: usize, best: Option<usize>, reason: String| Ok(Outcome { stop: Some(t), best, reason });

    for t in 1..=v.len() {
        let vt = v[t - 1];
        if !vt.is_finite() {
            let what = if vt.is_nan() { "NaN" } else { "infinite" };
            return stop(t, best_of(first_min, best_p), format!("the value became {what} at check {t}"));
        }
        if t <= warmup {
            continue;
        }
        let u = t - warmup; // checks after warm-up, 1-based
        if first_min.is_none_or(|m| vt < v[m - 1]) {
            first_min = Some(t);
        }
        // the bests take this check in first, whichever rule then stops the run
        let improved = vt < best_v - rule.min_delta;
        if improved {
            (best_v, best_p, wait) = (vt, Some(t), 0);
        }
        if let Some(th) = stopping.filter(|&th| vt <= th) {
            return stop(t, best_of(first_min, best_p), format!("check {t} reached the stopping threshold {}", sign * th));
        }
        if let Some(th) = divergence.filter(|&th| vt > th) {
            return stop(t, best_of(first_min, best_p), format!("check {t} is worse than the divergence threshold {}", sign * th));
        }
        let best_so_far = v[first_min.expect("set above") - 1];
        let gl = |t: usize| generalization_loss(v[t - 1], best_so_far);
        match rule.criterion {
            Criterion::Patience => {
                if !improved {
                    wait += 1;
                    if wait >= patience {
                        let since = best_p.map_or(String::new(), |b| format!(" since check {b}"));
                        return stop(t, best_p, format!("no improvement by more than {} for {wait} checks{since}", rule.min_delta));
                    }
                }
            }
            Criterion::Gl => {
                let g = gl(t);
                if g > alpha {
                    return stop(t, first_min, format!("generalization loss {} > {alpha} at check {t}", short(g)));
                }
            }
            Criterion::Pq => {
                if u.is_multiple_of(k) {
                    let te = &train_errors.expect("checked above")[t - k..t];
                    let p = progress(te);
                    let g = gl(t);
                    let q = if g == 0.0 { 0.0 } else { g / p };
                    if q > alpha {
                        return stop(t, first_min, format!("GL/P = {} > {alpha} at check {t} (GL {}, P {})", short(q), short(g), short(p)));
                    }
                }
            }
            Criterion::Up => {
                // strip ends u, u − k, …, u − s·k, all ≥ k
                if u.is_multiple_of(k) && u >= (s + 1) * k {
                    let at = |i: usize| v[warmup + u - i * k - 1];
                    if (0..s).all(|i| at(i) > at(i + 1)) {
                        return stop(t, first_min, format!("the value rose at {s} successive strip ends of {k} checks, up to check {t}"));
                    }
                }
            }
            Criterion::Cumulative => {
                if u > w {
                    let d = vt - v[t - w - 1];
                    if d > rule.min_delta {
                        return stop(
                            t,
                            first_min,
                            format!("the last {w} steps add up to a rise of {} (> {}) at check {t}", short(sign * d), rule.min_delta),
                        );
                    }
                }
            }
        }
    }
    let best = best_of(first_min, best_p);
    let reason = if v.len() <= warmup { "every check is inside the warm-up".to_string() } else { "the rule never fired".to_string() };
    Ok(Outcome { stop: None, best, reason })
}

/// GL = 100 · (v / best − 1), with a best of 0 read as described in the module doc.
fn generalization_loss(v: f64, best: f64) -> f64 {
    if best == 0.0 {
        return if v == 0.0 { 0.0 } else { f64::INFINITY };
    }
    100.0 * (v / best - 1.0)
}

/// P_k = 1000 · (mean / min − 1) of a strip of training errors.
fn progress(strip: &[f64]) -> f64 {
    let mean = strip.iter().sum::<f64>() / strip.len() as f64;
    let min = strip.iter().copied().fold(f64::INFINITY, f64::min);
    if min == 0.0 {
        return if mean == 0.0 { 0.0 } else { f64::INFINITY };
    }
    1000.0 * (mean / min - 1.0)
}

/// A number for a message: 3 significant digits.
fn short(v: f64) -> String {
    if v.is_finite() {
        format!("{}", (v * 1000.0).round() / 1000.0)
    } else {
        "∞".into()
    }
}
