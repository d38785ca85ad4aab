//! Optimizers: one algorithm per file, each exactly as `torch.optim` defines it.
//!
//! Every optimizer works on one flat parameter vector (the model's parameters in PyTorch
//! order) and the matching flat gradient. All of PyTorch's rules used here are elementwise,
//! so stepping a flat vector gives the same numbers as stepping each tensor of a
//! `param_group`.
//!
//! | name      | file          | PyTorch class            |
//! |-----------|---------------|--------------------------|
//! | `sgd`     | `sgd.rs`      | `torch.optim.SGD`        |
//! | `rprop`   | `rprop.rs`    | `torch.optim.Rprop`      |
//! | `rmsprop` | `rmsprop.rs`  | `torch.optim.RMSprop`    |
//! | `adam`    | `adam.rs`     | `torch.optim.Adam`       |
//! | `adamw`   | `adam.rs`     | `torch.optim.AdamW`      |
//!
//! # Numbers, the way PyTorch gets them
//!
//! Hyperparameters are `f64`, like the Python floats PyTorch receives. PyTorch works out
//! scalar expressions such as `1 - beta2`, `lr / (1 - beta1^t)` or `1 - lr * weight_decay`
//! in double precision and rounds them to `f32` only where they meet a float32 tensor; the
//! optimizers here do the same, and keep all state in `f32`. The fixtures in
//! `tests/fixtures/optim.json` (written by `tools/gen_optim_fixtures.py` with real PyTorch)
//! pin this down. Agreement is to about one unit in the last place per operation, not
//! bit for bit: PyTorch's CPU kernels fuse multiply-adds and its vectorised `sqrt` is not
//! always correctly rounded, while Rust does neither.
//!
//! # Building one from JSON
//!
//! [`build`] takes PyTorch's option names, so a notebook cell (or a URL) can say
//! `build("adam", &json!({"lr": 0.01, "betas": [0.9, 0.99]}))`.

pub mod adam;
pub mod rmsprop;
pub mod rprop;
pub mod sgd;

pub use adam::{Adam, AdamConfig, AdamW, AdamWConfig};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use rprop::{Rprop, RpropConfig};
pub use sgd::{Sgd, SgdConfig};

use crate::{bail, ensure, Result};
use serde_json::{Map, Value};

/// The names [`build`] accepts, in the order the notebook lists them.
pub const NAMES: &[&str] = &["sgd", "rprop", "rmsprop", "adam", "adamw"];

/// The common face of every optimizer.
pub trait Optimizer {
    /// PyTorch's name: "sgd", "rprop", "rmsprop", "adam" or "adamw".
    fn name(&self) -> &'static str;
    /// One update of `params` in place from `grads`. Errors if the lengths differ, or differ
    /// from the length the optimizer's state was created for.
    fn step(&mut self, params: &mut [f32], grads: &[f32]) -> Result<()>;
    /// Forget all state (momentum buffers, moments, step sizes, step count).
    fn reset(&mut self);
    /// The current learning rate.
    fn lr(&self) -> f32;
    /// Change the learning rate mid-run (state is kept, as when editing `param_groups`).
    fn set_lr(&mut self, lr: f32) -> Result<()>;
    /// Change `weight_decay` mid-run, as editing `param_groups[0]["weight_decay"]` does in
    /// PyTorch: the state is kept and the next step uses the new λ. Rprop has none.
    fn set_weight_decay(&mut self, weight_decay: f32) -> Result<()> {
        bail!("{} has no weight_decay to change (weight_decay = {weight_decay})", self.name())
    }
    /// Named per-parameter state, for plotting (e.g. rprop's "step_size", Adam's "exp_avg").
    fn state(&self) -> Vec<(&'static str, &[f32])>;
    /// PyTorch's `state["step"]`: how many steps since construction or the last
    /// [`reset`](Optimizer::reset). `None` for optimizers PyTorch keeps no counter for (SGD).
    fn step_count(&self) -> Option<u64> {
        Some(self.steps())
    }
    /// Steps taken since construction or the last [`reset`](Optimizer::reset). Unlike
    /// [`step_count`](Optimizer::step_count) every optimizer counts, SGD included: its
    /// momentum buffer starts as the first gradient (step 0), Adam's bias corrections read
    /// the count, and so on.
    fn steps(&self) -> u64;
    /// Set the step count, to resume a run elsewhere (PyTorch's `load_state_dict` restores
    /// `state["step"]`). Together with [`set_state`](Optimizer::set_state) this moves a run
    /// between optimizers (CPU and GPU) without changing a single number.
    fn set_steps(&mut self, t: u64);
    /// Overwrite the state tensor `key` (a name [`state`](Optimizer::state) lists for this
    /// configuration) with `values`. The first call on an optimizer without state sizes every
    /// buffer it uses to `values.len()`, the others at the values a first step gives them;
    /// later calls must match that length. Errors name an unknown key or a wrong length.
    fn set_state(&mut self, key: &str, values: &[f32]) -> Result<()>;
    /// The step as parts, where this rule can be applied a slice at a time (see
    /// [`PartialStep`]); `None` for the rules that need the whole vector at once or were not
    /// written that way.
    fn parts(&mut self) -> Option<&mut dyn PartialStep> {
        None
    }
}

/// A step that can be applied a slice of the parameters at a time, with the numbers of one
/// whole [`Optimizer::step`]: element-wise rules (Adam, AdamW) offer it through
/// [`Optimizer::parts`], so a network can update each layer as soon as its gradient is ready.
pub trait PartialStep {
    /// Begin one step over `n` parameters (the step count moves, the state is sized on the
    /// first step); errors as `step` would for a length that does not match the state.
    fn begin_step(&mut self, n: usize) -> Result<()>;
    /// Update `params` from `grads`: the elements `offset..offset + params.len()` of the
    /// vector, with the step begun. Every element is updated at most once per step.
    fn update_part(&mut self, params: &mut [f32], grads: &[f32], offset: usize);
}

/// Copy every state tensor and the step count of `from` into `to` (same kind of
/// optimizer, same configuration), so that both continue with the same numbers.
pub fn copy_state(from: &dyn Optimizer, to: &mut dyn Optimizer) -> Result<()> {
    ensure!(from.name() == to.name(), "cannot copy {} state into {}", from.name(), to.name());
    for (key, values) in from.state() {
        to.set_state(key, values)?;
    }
    to.set_steps(from.steps());
    Ok(())
}

/// Build an optimizer by PyTorch name from PyTorch-named options.
///
/// `options` is a JSON object such as `{"lr": 0.1, "momentum": 0.9}`,
/// `{"betas": [0.9, 0.999]}` or `{"etas": [0.5, 1.2], "step_sizes": [1e-6, 50]}`;
/// `null` or `{}` means PyTorch's defaults. Unknown names, unknown keys, values of the
/// wrong type and invalid values are errors that name them.
pub fn build(name: &str, options: &Value) -> Result<Box<dyn Optimizer>> {
    Ok(match name {
        "sgd" => Box::new(Sgd::new(SgdConfig::from_json(options)?)?),
        "rprop" => Box::new(Rprop::new(RpropConfig::from_json(options)?)?),
        "rmsprop" => Box::new(RmsProp::new(RmsPropConfig::from_json(options)?)?),
        "adam" => Box::new(Adam::new(AdamConfig::from_json(options)?)?),
        "adamw" => Box::new(AdamW::new(AdamWConfig::from_json(options)?)?),
        other => bail!("unknown optimizer '{other}'; expected one of {}", NAMES.join(", ")),
    })
}

/// Reads PyTorch-named options from a JSON object for one optimizer, checking the keys
/// up front so a typo is reported rather than silently ignored.
pub(crate) struct Options<'a> {
    optimizer: &'static str,
    map: Option<&'a Map<String, Value>>,
}

impl<'a> Options<'a> {
    /// `allowed` lists the option names the optimizer understands, in PyTorch's order.
    pub(crate) fn new(optimizer: &'static str, value: &'a Value, allowed: &[&str]) -> Result<Options<'a>> {
        let map = match value {
            Value::Null => None,
            Value::Object(map) => Some(map),
            other => bail!("options for {optimizer} must be a JSON object, got {other}"),
        };
        for key in map.into_iter().flat_map(|m| m.keys()) {
            ensure!(allowed.contains(&key.as_str()), "unknown option '{key}' for {optimizer}; expected one of {}", allowed.join(", "));
        }
        Ok(Options { optimizer, map })
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(key))
    }

    /// A number, or `default` when the key is absent.
    pub(crate) fn f64(&self, key: &str, default: f64) -> Result<f64> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => match v.as_f64() {
                // the update runs in float32: a value past its range would be Infinity there
                Some(x) if !(x as f32).is_finite() => {
                    bail!("option '{key}' for {} is {}, too large for float32 (at most about 3.4e38)", self.optimizer, Num(x))
                }
                Some(x) => Ok(x),
                None => bail!("option '{key}' for {} must be a number, got {v}", self.optimizer),
            },
        }
    }

    /// A boolean, or `default` when the key is absent.
    pub(crate) fn bool(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => bail!("option '{key}' for {} must be true or false, got {v}", self.optimizer),
        }
    }

    /// A pair of numbers written as a two-element array (`"betas": [0.9, 0.999]`).
    pub(crate) fn pair(&self, key: &str, default: (f64, f64)) -> Result<(f64, f64)> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        match v.as_array().map(|a| a.as_slice()) {
            Some([a, b]) => match (a.as_f64(), b.as_f64()) {
                (Some(a), Some(b)) => Ok((a, b)),
                _ => bail!("option '{key}' for {} must hold two numbers, got {v}", self.optimizer),
            },
            _ => bail!("option '{key}' for {} must be a list of two numbers, got {v}", self.optimizer),
        }
    }
}

/// A hyperparameter as an error message shows it: plain decimals for ordinary sizes
/// (`-1`, `1.5`, `0.001`), exponent form for tiny or huge ones (`1e-8`, not
/// `0.00000001`), `NaN` and `inf` as such.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Num(pub f64);

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let x = self.0;
        if x == 0.0 || (x.is_finite() && (1e-4..1e16).contains(&x.abs())) {
            write!(f, "{x}")
        } else {
            write!(f, "{x:?}")
        }
    }
}

/// PyTorch's learning-rate check (`0 <= lr`), plus finiteness.
pub(crate) fn check_lr(lr: f64) -> Result<()> {
    ensure!(lr.is_finite() && lr >= 0.0, "Invalid learning rate: {}", Num(lr));
    Ok(())
}

/// A hyperparameter that must be a finite number >= 0, with PyTorch's wording
/// (`Invalid momentum value: -1`).
pub(crate) fn check_non_negative(what: &str, value: f64) -> Result<()> {
    ensure!(value.is_finite() && value >= 0.0, "Invalid {what} value: {}", Num(value));
    Ok(())
}

/// A hyperparameter that must lie in `[0, 1]` (stricter than PyTorch, which lets values
/// outside this range through and then produces meaningless averages).
pub(crate) fn check_unit(what: &str, value: f64) -> Result<()> {
    ensure!(value.is_finite() && (0.0..=1.0).contains(&value), "Invalid {what} value: {} (need 0 <= {what} <= 1)", Num(value));
    Ok(())
}

/// The length checks every `step` starts with. `state_len` is the parameter count the
/// state was created for, `None` before the first step.
pub(crate) fn check_lengths(state_len: Option<usize>, params: &[f32], grads: &[f32]) -> Result<()> {
    ensure!(params.len() == grads.len(), "got {} parameters but {} gradients; they must have the same length", params.len(), grads.len());
    if let Some(n) = state_len {
        ensure!(
            n == params.len(),
            "optimizer state holds {n} values but {} parameters were given \
             (call reset() after changing the model)",
            params.len()
        );
    }
    Ok(())
}

/// `x ** t` as Python computes it for a float base and the float step count PyTorch reads
/// back from its `state["step"]` tensor.
pub(crate) fn powf_step(x: f64, t: u64) -> f64 {
    x.powf(t as f64)
}

/// `torch.lerp(start, end, weight)` for one float32 element, with PyTorch's two forms:
/// the one that stays accurate near `start` for small weights, and near `end` for large.
/// Adam's first moment and centred RMSprop's mean gradient are updated this way, which
/// rounds differently from `β·m + (1−β)·g`.
pub(crate) fn lerp(start: f32, end: f32, weight: f32) -> f32 {
    if weight.abs() < 0.5 {
        start + weight * (end - start)
    } else {
        end - (end - start) * (1.0 - weight)
    }
}

/// [`Optimizer::set_state`] for one optimizer: `slots` are the (name, buffer, initial value)
/// of every state buffer its configuration uses, in [`Optimizer::state`] order.
pub(crate) fn set_named(optimizer: &str, mut slots: Vec<(&'static str, &mut Vec<f32>, f32)>, key: &str, values: &[f32]) -> Result<()> {
    let names: Vec<&str> = slots.iter().map(|(k, _, _)| *k).collect();
    let Some(at) = names.iter().position(|k| *k == key) else {
        if names.is_empty() {
            bail!("{optimizer} keeps no state in this configuration, so it has no '{key}'");
        }
        bail!("{optimizer} has no state '{key}' in this configuration; it keeps {}", names.join(", "));
    };
    ensure!(!values.is_empty(), "state '{key}' of {optimizer} needs at least one value");
    if let Some(n) = slots.iter().map(|(_, b, _)| b.len()).find(|&n| n > 0) {
        ensure!(
            n == values.len(),
            "{optimizer} state holds {n} values per tensor but {} were given for '{key}' \
             (call reset() after changing the model)",
            values.len()
        );
    } else {
        // Nothing sized yet: allocate every buffer as a first step would.
        for (_, buf, init) in slots.iter_mut() {
            **buf = vec![*init; values.len()];
        }
    }
    slots[at].1.copy_from_slice(values);
    Ok(())
}

/// The state buffers in use (non-empty), by name, for [`Optimizer::state`].
pub(crate) fn in_use<'a, const N: usize>(named: [(&'static str, &'a Vec<f32>); N]) -> Vec<(&'static str, &'a [f32])> {
    named.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k, v.as_slice())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_name_builds_with_defaults() {
        for name in NAMES {
            for options in [Value::Null, json!({})] {
                let opt = build(name, &options).unwrap();
                assert_eq!(opt.name(), *name);
                assert!(opt.state().is_empty(), "{name}: state before the first step");
            }
        }
    }

    #[test]
    fn options_are_read_by_pytorch_name() {
        let opt = build("adam", &json!({"lr": 0.5, "betas": [0.8, 0.9]})).unwrap();
        assert_eq!(opt.lr(), 0.5);
        let err = build("sgd", &json!({"betas": [0.9, 0.999]})).err().unwrap();
        assert_eq!(
            err.message(),
            "unknown option 'betas' for sgd; expected one of lr, momentum, dampening, \
             weight_decay, nesterov, maximize"
        );
    }

    #[test]
    fn numbers_in_messages_read_like_python() {
        // (value, shown, reason)
        let rows: &[(f64, &str, &str)] = &[
            (-1.0, "-1", "whole numbers without a trailing .0"),
            (1.5, "1.5", "ordinary decimals as typed"),
            (0.001, "0.001", "small but readable"),
            (1e-8, "1e-8", "tiny values in exponent form, not 0.00000001"),
            (-2e20, "-2e20", "huge values in exponent form"),
            (f64::NAN, "NaN", "NaN named"),
            (f64::INFINITY, "inf", "infinity named"),
        ];
        for &(x, shown, reason) in rows {
            assert_eq!(Num(x).to_string(), shown, "{reason}");
        }
    }

    #[test]
    fn lerp_uses_both_forms() {
        // (start, end, weight, expected, reason)
        let rows: &[(f32, f32, f32, f32, &str)] = &[
            (1.0, 3.0, 0.0, 1.0, "weight 0 gives start exactly"),
            (1.0, 3.0, 1.0, 3.0, "weight 1 gives end exactly (large-weight form)"),
            (1.0, 3.0, 0.25, 1.5, "small-weight form"),
            (1.0, 3.0, 0.75, 2.5, "large-weight form"),
        ];
        for &(a, b, w, want, reason) in rows {
            assert_eq!(lerp(a, b, w), want, "{reason}");
        }
    }

    #[test]
    fn length_checks_name_both_lengths() {
        let err = check_lengths(Some(10), &[0.0; 12], &[0.0; 12]).unwrap_err();
        assert!(err.message().contains("holds 10 values but 12 parameters"), "{err}");
        let err = check_lengths(None, &[0.0; 3], &[0.0; 2]).unwrap_err();
        assert!(err.message().contains("3 parameters but 2 gradients"), "{err}");
        assert!(check_lengths(Some(3), &[0.0; 3], &[0.0; 3]).is_ok());
    }
}
