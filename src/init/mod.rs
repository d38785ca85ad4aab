//! Parameter initializers, with the formulas and defaults of `torch.nn.init`.
//!
//! A weight matrix is `(fan_out, fan_in)`, row-major, exactly like a PyTorch `nn.Linear`
//! weight: row `o` holds the `fan_in` weights feeding output `o`.
//!
//! # Why the scale of the first weights matters
//!
//! One unit computes `y = Σ_i w_i·x_i` over its `fan_in` inputs. If the weights and inputs
//! are independent with mean zero, the variances multiply and add up:
//! `Var(y) = fan_in · Var(w) · Var(x)`. Stack many layers and this factor compounds: a bit
//! above 1 and activations blow up, a bit below 1 and they fade to nothing, long before any
//! training step. The same happens to gradients on the way back, except that a gradient
//! reaching an input sums over the `fan_out` units that input feeds, so the backward factor
//! is `fan_out · Var(w)`.
//!
//! **Xavier / Glorot** (Glorot & Bengio 2010, "Understanding the difficulty of training deep
//! feedforward neural networks"). Keeping the forward factor at 1 asks for
//! `Var(w) = 1/fan_in`, keeping the backward factor at 1 asks for `Var(w) = 1/fan_out`. Both
//! hold only when the layer is square, so Glorot and Bengio split the difference:
//! `Var(w) = 2/(fan_in + fan_out)`. A uniform `U(-r, r)` has variance `r²/3`, so the uniform
//! version uses `r = sqrt(6/(fan_in + fan_out))`; the normal version uses
//! `std = sqrt(2/(fan_in + fan_out))`. Same variance, different shape. The argument treats
//! the activation as the identity, which is fair for tanh or a sigmoid near zero (slope
//! about 1 there) but not for ReLU.
//!
//! **Kaiming / He** (He et al. 2015, "Delving Deep into Rectifiers"). ReLU sets every
//! negative pre-activation to zero, so for a symmetric `y` it keeps only half of the second
//! moment: `E[relu(y)²] = Var(y)/2`. With Xavier weights each ReLU layer therefore halves
//! the signal, and twenty layers shrink it about a million-fold. He et al. put the lost
//! factor 2 back into the weights, looking at the forward pass only: `Var(w) = 2/fan_in`.
//! PyTorch writes this with a *gain*: `std = gain/sqrt(fan_in)`, uniform bound
//! `sqrt(3)·std = gain·sqrt(3/fan_in)`, with `gain = sqrt(2)` for ReLU (see
//! [`calculate_gain`] for the other nonlinearities).
//!
//! **PyTorch's `nn.Linear` default** ([`Init::Default`]) is `kaiming_uniform_` with
//! `a = sqrt(5)`, i.e. `gain² = 2/(1 + 5) = 1/3`, which simplifies to
//! `w ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))`, `Var(w) = 1/(3·fan_in)`: a sixth of He's
//! variance, inherited from Lua Torch rather than derived. The bias gets the same range.
//!
//! # Schemes (JSON `{"scheme": name, ...options}`), defaults as in PyTorch
//!
//! | scheme            | weight                                                | options (default)    |
//! |-------------------|-------------------------------------------------------|----------------------|
//! | `default`         | `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`                  | —                    |
//! | `zeros`           | `0`                                                   | —                    |
//! | `constant`        | `value`                                               | `value` (required)   |
//! | `uniform`         | `U(a, b)`                                             | `a` (0), `b` (1)     |
//! | `normal`          | `N(mean, std²)`                                       | `mean` (0), `std` (1)|
//! | `xavier_uniform`  | `U(-r, r)`, `r = gain·sqrt(6/(fan_in+fan_out))`       | `gain` (1)           |
//! | `xavier_normal`   | `N(0, σ²)`, `σ = gain·sqrt(2/(fan_in+fan_out))`       | `gain` (1)           |
//! | `kaiming_uniform` | `U(-r, r)`, `r = gain·sqrt(3/fan_in)`                 | `gain` (sqrt 2)      |
//! | `kaiming_normal`  | `N(0, σ²)`, `σ = gain/sqrt(fan_in)`                   | `gain` (sqrt 2)      |
//!
//! Aliases, kept to the names other libraries (Keras) use: `glorot_uniform`,
//! `glorot_normal`, `he_uniform`, `he_normal`. A bare `xavier` or `he` is refused on
//! purpose: it does not say uniform or normal.
//!
//! # Differences from PyTorch
//!
//! - Kaiming takes the `gain` directly instead of `(a, mode, nonlinearity)`, and uses fan_in
//!   mode only. `kaiming_uniform_(w, a, nonlinearity=n)` is
//!   `KaimingUniform { gain: calculate_gain(n, Some(a)) }`; the defaults agree (`sqrt(2)`).
//! - [`Init::bias`] is zeros for every scheme except `default`, which follows
//!   `nn.Linear.reset_parameters`. Draw the weight first, then the bias, as PyTorch does.
//! - A layer with `fan_in` or `fan_out` 0 is refused (PyTorch warns and does nothing).
//! - Random numbers come from [`Rng`] (ChaCha8), so values match PyTorch in distribution,
//!   not bit for bit. Reference values: `tools/gen_init_notes.py`.

use std::f32::consts::SQRT_2;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Result, Rng};

mod weights_file;
pub use weights_file::WeightsFile;

const XAVIER_GAIN: f32 = 1.0;
const KAIMING_GAIN: f32 = SQRT_2;

/// An initialization scheme, as a student asks for it. See the module docs for the formulas.
///
/// Serializes as `{"scheme": "xavier_uniform", "gain": 1.0}`. Deserializing goes through
/// [`Init::from_json`] (serde's derive would let `{"scheme": "zeros", "value": 1}` through),
/// so every path applies the same defaults, aliases and checks.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(tag = "scheme", rename_all = "snake_case", try_from = "Value")]
pub enum Init {
    /// PyTorch's `nn.Linear` default: weight and bias `~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))`
    /// (the weight rule is `kaiming_uniform_` with `a = sqrt(5)`).
    #[default]
    Default,
    /// All zeros (`nn.init.zeros_`). Every unit then computes the same thing forever.
    Zeros,
    /// Every weight equal to `value` (`nn.init.constant_`; no default).
    Constant { value: f32 },
    /// `U(a, b)` (`nn.init.uniform_`), `a` default 0, `b` default 1.
    Uniform { a: f32, b: f32 },
    /// `N(mean, std²)` (`nn.init.normal_`), `mean` default 0, `std` default 1.
    Normal { mean: f32, std: f32 },
    /// `U(-r, r)` with `r = gain·sqrt(6/(fan_in + fan_out))`, `gain` default 1.
    XavierUniform { gain: f32 },
    /// `N(0, σ²)` with `σ = gain·sqrt(2/(fan_in + fan_out))`, `gain` default 1.
    XavierNormal { gain: f32 },
    /// `U(-r, r)` with `r = gain·sqrt(3/fan_in)`, `gain` default `sqrt(2)` (ReLU).
    KaimingUniform { gain: f32 },
    /// `N(0, σ²)` with `σ = gain/sqrt(fan_in)`, `gain` default `sqrt(2)` (ReLU).
    KaimingNormal { gain: f32 },
}

impl TryFrom<Value> for Init {
    type Error = crate::Error;
    fn try_from(v: Value) -> Result<Init> {
        Init::from_json(&v)
    }
}

/// One row of the scheme table that drives JSON checking and error messages.
struct Scheme {
    name: &'static str,
    aliases: &'static [&'static str],
    /// (option, default); `None` = required.
    options: &'static [(&'static str, Option<f32>)],
}

#[rustfmt::skip]
const SCHEMES: &[Scheme] = &[
    Scheme { name: "default", aliases: &[], options: &[] },
    Scheme { name: "zeros", aliases: &[], options: &[] },
    Scheme { name: "constant", aliases: &[], options: &[("value", None)] },
    Scheme { name: "uniform", aliases: &[], options: &[("a", Some(0.0)), ("b", Some(1.0))] },
    Scheme { name: "normal", aliases: &[], options: &[("mean", Some(0.0)), ("std", Some(1.0))] },
    Scheme { name: "xavier_uniform", aliases: &["glorot_uniform"], options: &[("gain", Some(XAVIER_GAIN))] },
    Scheme { name: "xavier_normal", aliases: &["glorot_normal"], options: &[("gain", Some(XAVIER_GAIN))] },
    Scheme { name: "kaiming_uniform", aliases: &["he_uniform"], options: &[("gain", Some(KAIMING_GAIN))] },
    Scheme { name: "kaiming_normal", aliases: &["he_normal"], options: &[("gain", Some(KAIMING_GAIN))] },
];

/// The canonical scheme names, in the order the page lists them.
pub fn scheme_names() -> impl Iterator<Item = &'static str> {
    SCHEMES.iter().map(|s| s.name)
}

fn describe_options(s: &Scheme) -> String {
    if s.options.is_empty() {
        return "it takes no options".into();
    }
    let list: Vec<String> = s
        .options
        .iter()
        .map(|(o, d)| match d {
            Some(d) => format!("{o} (default {d})"),
            None => format!("{o} (required)"),
        })
        .collect();
    format!("valid options: {}", list.join(", "))
}

/// Refuses NaN and ±inf, naming the option and the scheme.
fn finite(what: &str, scheme: &str, v: f32) -> Result<()> {
    crate::ensure!(v.is_finite(), "Invalid {what} for {scheme} init: {v} (must be a finite number)");
    Ok(())
}

impl Init {
    /// Parses `{"scheme": "xavier_uniform", "gain": 1.0}` and validates it. Missing options
    /// take PyTorch's defaults; an unknown scheme, an unknown option, a value that is not a
    /// number, or a value [`Init::validate`] refuses gives an error saying which and why.
    pub fn from_json(v: &Value) -> Result<Init> {
        let Some(obj) = v.as_object() else {
            crate::bail!("An init must be a JSON object like {{\"scheme\": \"xavier_uniform\"}}, got {v}");
        };
        let name = match obj.get("scheme") {
            Some(Value::String(s)) => s.as_str(),
            Some(other) => crate::bail!("The init \"scheme\" must be a string, got {other}"),
            None => crate::bail!("The init is missing \"scheme\"; valid schemes: {}", scheme_names().collect::<Vec<_>>().join(", ")),
        };
        let Some(scheme) = SCHEMES.iter().find(|s| s.name == name || s.aliases.contains(&name)) else {
            let aliases: Vec<&str> = SCHEMES.iter().flat_map(|s| s.aliases.iter().copied()).collect();
            crate::bail!(
                "Unknown init scheme '{name}'; valid schemes: {} (aliases: {})",
                scheme_names().collect::<Vec<_>>().join(", "),
                aliases.join(", ")
            );
        };
        for (key, value) in obj.iter().filter(|(k, _)| k.as_str() != "scheme") {
            crate::ensure!(
                scheme.options.iter().any(|(o, _)| o == key),
                "Unknown option '{key}' for init scheme '{}'; {}",
                scheme.name,
                describe_options(scheme)
            );
            crate::ensure!(value.is_number(), "Init option '{key}' of '{}' must be a number, got {value}", scheme.name);
        }
        for (o, _) in scheme.options.iter().filter(|(_, d)| d.is_none()) {
            crate::ensure!(obj.contains_key(*o), "Init scheme '{}' needs option '{o}'", scheme.name);
        }
        // Every option is now known and numeric; absent ones take the table's default.
        let opt = |o: &str| -> f32 {
            match obj.get(o).and_then(Value::as_f64) {
                Some(x) => x as f32, // out of f32 range becomes ±inf, which validate refuses
                // Required options were checked above, so a missing one always has a default.
                None => scheme.options.iter().find(|(k, _)| *k == o).and_then(|(_, d)| *d).unwrap_or(f32::NAN),
            }
        };
        let init = match scheme.name {
            "default" => Init::Default,
            "zeros" => Init::Zeros,
            "constant" => Init::Constant { value: opt("value") },
            "uniform" => Init::Uniform { a: opt("a"), b: opt("b") },
            "normal" => Init::Normal { mean: opt("mean"), std: opt("std") },
            "xavier_uniform" => Init::XavierUniform { gain: opt("gain") },
            "xavier_normal" => Init::XavierNormal { gain: opt("gain") },
            "kaiming_uniform" => Init::KaimingUniform { gain: opt("gain") },
            "kaiming_normal" => Init::KaimingNormal { gain: opt("gain") },
            other => unreachable!("scheme table row '{other}' has no variant"),
        };
        init.validate()?;
        Ok(init)
    }

    /// Refuses what PyTorch refuses (`a > b`, `std < 0`) plus what would silently give
    /// garbage: NaN or infinite values, a negative gain, a range `b - a` that overflows.
    pub fn validate(&self) -> Result<()> {
        let name = self.name();
        match *self {
            Init::Default | Init::Zeros => {}
            Init::Constant { value } => finite("value", name, value)?,
            Init::Uniform { a, b } => {
                finite("a", name, a)?;
                finite("b", name, b)?;
                if a > b {
                    crate::bail!("Invalid uniform bounds: a={a} > b={b} (need a <= b)");
                }
                crate::ensure!((b - a).is_finite(), "Invalid uniform bounds: b - a = {b} - {a} overflows f32");
            }
            Init::Normal { mean, std } => {
                finite("mean", name, mean)?;
                finite("std", name, std)?;
                if std < 0.0 {
                    crate::bail!("Invalid std for normal init: {std} (must be >= 0)");
                }
            }
            Init::XavierUniform { gain } | Init::XavierNormal { gain } | Init::KaimingUniform { gain } | Init::KaimingNormal { gain } => {
                finite("gain", name, gain)?;
                // NaN was refused just above, so `<` decides.
                if gain < 0.0 {
                    crate::bail!("Invalid gain for {name} init: {gain} (must be >= 0)");
                }
            }
        }
        Ok(())
    }

    /// The canonical (snake_case) scheme name, as in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Init::Default => "default",
            Init::Zeros => "zeros",
            Init::Constant { .. } => "constant",
            Init::Uniform { .. } => "uniform",
            Init::Normal { .. } => "normal",
            Init::XavierUniform { .. } => "xavier_uniform",
            Init::XavierNormal { .. } => "xavier_normal",
            Init::KaimingUniform { .. } => "kaiming_uniform",
            Init::KaimingNormal { .. } => "kaiming_normal",
        }
    }

    /// The mean and variance of one weight under this scheme, from the formulas (for the
    /// notebook's "theory" curve over the histogram).
    pub fn moments(&self, fan_in: usize, fan_out: usize) -> Result<(f64, f64)> {
        self.validate()?;
        check_fans(fan_in, fan_out)?;
        let (fi, fo) = (fan_in as f64, fan_out as f64);
        Ok(match *self {
            Init::Default => (0.0, 1.0 / (3.0 * fi)), // U(-r, r): r² / 3 with r² = 1/fan_in
            Init::Zeros => (0.0, 0.0),
            Init::Constant { value } => (value as f64, 0.0),
            Init::Uniform { a, b } => ((a as f64 + b as f64) / 2.0, (b as f64 - a as f64).powi(2) / 12.0),
            Init::Normal { mean, std } => (mean as f64, (std as f64).powi(2)),
            Init::XavierUniform { gain } | Init::XavierNormal { gain } => (0.0, (gain as f64).powi(2) * 2.0 / (fi + fo)),
            Init::KaimingUniform { gain } | Init::KaimingNormal { gain } => (0.0, (gain as f64).powi(2) / fi),
        })
    }

    /// A `(fan_out, fan_in)` row-major weight matrix drawn from `rng`.
    pub fn weight(&self, fan_in: usize, fan_out: usize, rng: &mut Rng) -> Result<Vec<f32>> {
        self.validate()?;
        let n = check_fans(fan_in, fan_out)?;
        let (fi, fo) = (fan_in as f64, fan_out as f64);
        let w = match *self {
            Init::Default => uniform_sym(n, (1.0 / fi).sqrt(), rng),
            Init::Zeros => vec![0.0; n],
            Init::Constant { value } => vec![value; n],
            Init::Uniform { a, b } => (0..n).map(|_| rng.uniform(a, b)).collect(),
            Init::Normal { mean, std } => (0..n).map(|_| rng.normal(mean, std)).collect(),
            // r = gain·sqrt(6/(fan_in + fan_out))
            Init::XavierUniform { gain } => uniform_sym(n, gain as f64 * (6.0 / (fi + fo)).sqrt(), rng),
            // σ = gain·sqrt(2/(fan_in + fan_out))
            Init::XavierNormal { gain } => normal0(n, gain as f64 * (2.0 / (fi + fo)).sqrt(), rng),
            // r = sqrt(3)·σ = gain·sqrt(3/fan_in)
            Init::KaimingUniform { gain } => uniform_sym(n, gain as f64 * (3.0 / fi).sqrt(), rng),
            // σ = gain/sqrt(fan_in)
            Init::KaimingNormal { gain } => normal0(n, gain as f64 / fi.sqrt(), rng),
        };
        Ok(w)
    }

    /// A bias of length `fan_out`: `U(-1/sqrt(fan_in), 1/sqrt(fan_in))` for
    /// [`Init::Default`] (PyTorch's `nn.Linear` rule), zeros for every other scheme.
    pub fn bias(&self, fan_in: usize, fan_out: usize, rng: &mut Rng) -> Result<Vec<f32>> {
        self.validate()?;
        check_fans(fan_in, fan_out)?;
        Ok(match self {
            Init::Default => uniform_sym(fan_out, (1.0 / fan_in as f64).sqrt(), rng),
            _ => vec![0.0; fan_out],
        })
    }
}

/// Refuses an empty layer and returns the weight count `fan_out·fan_in`.
fn check_fans(fan_in: usize, fan_out: usize) -> Result<usize> {
    crate::ensure!(fan_in > 0, "Invalid fan_in: 0 (a layer needs at least one input; fan_out={fan_out})");
    crate::ensure!(fan_out > 0, "Invalid fan_out: 0 (a layer needs at least one output; fan_in={fan_in})");
    match fan_in.checked_mul(fan_out) {
        Some(n) => Ok(n),
        None => crate::bail!("A layer of {fan_out}×{fan_in} weights is too large"),
    }
}

fn uniform_sym(n: usize, bound: f64, rng: &mut Rng) -> Vec<f32> {
    let r = bound as f32;
    (0..n).map(|_| rng.uniform(-r, r)).collect()
}

fn normal0(n: usize, std: f64, rng: &mut Rng) -> Vec<f32> {
    let s = std as f32;
    (0..n).map(|_| rng.normal(0.0, s)).collect()
}

/// The recommended gain for a nonlinearity, as `torch.nn.init.calculate_gain`:
/// `linear`, `conv1d/2d/3d`, `conv_transpose1d/2d/3d`, `sigmoid` → 1; `tanh` → 5/3;
/// `relu` → sqrt(2); `leaky_relu` → `sqrt(2/(1 + slope²))` with `slope = param`
/// (default 0.01); `selu` → 3/4. Like PyTorch, `param` is ignored by the others.
pub fn calculate_gain(nonlinearity: &str, param: Option<f32>) -> Result<f32> {
    Ok(match nonlinearity {
        "linear" | "conv1d" | "conv2d" | "conv3d" | "conv_transpose1d" | "conv_transpose2d" | "conv_transpose3d" | "sigmoid" => 1.0,
        "tanh" => 5.0 / 3.0,
        "relu" => SQRT_2,
        "leaky_relu" => {
            let slope = param.unwrap_or(0.01);
            crate::ensure!(slope.is_finite(), "Invalid negative_slope for leaky_relu: {slope} (must be a finite number)");
            (2.0 / (1.0 + slope as f64 * slope as f64)).sqrt() as f32
        }
        "selu" => 0.75,
        _ => crate::bail!(
            "Unsupported nonlinearity '{nonlinearity}'; valid: linear, conv1d, conv2d, conv3d, conv_transpose1d, \
             conv_transpose2d, conv_transpose3d, sigmoid, tanh, relu, leaky_relu, selu"
        ),
    })
}

/// `Rng::stream(seed, "init")` → [`Init::weight`]: the weights the JS API shows for a
/// `(fan_out, fan_in)` layer.
pub fn initialize(spec: &Init, fan_in: usize, fan_out: usize, seed: u64) -> Result<Vec<f32>> {
    // checked before anything is allocated: a product past the cap would not fit a tab's memory
    let max = crate::limits::MAX_PARAMETERS;
    match fan_in.checked_mul(fan_out) {
        Some(n) if n <= max => {}
        _ => crate::bail!("a {fan_out} × {fan_in} weight matrix is more than a network may have (at most {max} weights)"),
    }
    let mut rng = Rng::stream(seed, "init");
    spec.weight(fan_in, fan_out, &mut rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The scheme table and the enum must agree: every name and alias parses to a variant
    /// whose `name()` is the table's, and serializing writes the table's defaults back.
    #[test]
    fn scheme_table_matches_enum() {
        for s in SCHEMES {
            for alias in std::iter::once(&s.name).chain(s.aliases) {
                let mut v = json!({ "scheme": alias });
                for (o, _) in s.options.iter().filter(|(_, d)| d.is_none()) {
                    v[*o] = json!(0.5);
                }
                let init = Init::from_json(&v).unwrap();
                assert_eq!(init.name(), s.name, "{alias}");
                let back = serde_json::to_value(&init).unwrap();
                assert_eq!(back.as_object().unwrap().len(), s.options.len() + 1, "{alias}: {back}");
                for (o, d) in s.options {
                    assert_eq!(back[*o].as_f64().unwrap() as f32, d.unwrap_or(0.5), "{alias}.{o}");
                }
                let via_serde: Init = serde_json::from_value(back).unwrap();
                assert_eq!(via_serde, init, "{alias}");
            }
        }
    }
}
