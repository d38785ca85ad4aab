//! Search spaces: the hyperparameters a search may change, each mapped to and from [0, 1].
//!
//! Every search method in `tune` works in the unit cube [0, 1]^d, one axis per dimension, and
//! only turns a point into real values (a learning rate, a width, an activation) when a trial
//! runs. The map of each kind of dimension, for a unit coordinate u:
//!
//! | kind            | from_unit(u)                                       | to_unit(x)                       |
//! |-----------------|----------------------------------------------------|----------------------------------|
//! | `uniform`       | low + u·(high − low)                               | (x − low)/(high − low)           |
//! | `logUniform`    | exp(ln low + u·(ln high − ln low))                 | (ln x − ln low)/(ln high − ln low) |
//! | `intUniform`    | low + ⌊u·n⌋ (the last bin closed), n = high − low + 1 | (k − low + ½)/n                |
//! | `intLogUniform` | round(exp(a + u·(b − a))), a = ln(low − ½), b = ln(high + ½) | (ln k − a)/(b − a)     |
//! | `choice`        | options[⌊u·n⌋] (the last bin closed), n options     | (i + ½)/n                        |
//!
//! A log scale spends as many trials between 1e-4 and 1e-3 as between 0.1 and 1: that is the
//! right prior for a learning rate or a penalty strength, whose effect depends on its order of
//! magnitude. An integer dimension stretches its axis from low − ½ to high + ½ so that every
//! integer owns an equal share of it (on the log axis for `intLogUniform`, so a width of 16 and
//! one of 512 are equally easy to reach), and a choice owns one of n equal bins.
//!
//! Many unit points fall on the same integer or option, so a search [`snap`](Space::snap)s a
//! proposal to that value's own position before running it: a model then never sees two
//! different coordinates for one configuration. A choice is placed on one axis in the order
//! given, which treats it as ordinal; that is a simplification (scikit-optimize one-hot
//! encodes categories), fine for a few options in a small notebook.
//!
//! As JSON (camelCase): `{ "name": "lr", "kind": "logUniform", "low": 1e-4, "high": 1 }`,
//! `{ "name": "width", "kind": "intLogUniform", "low": 16, "high": 512 }`,
//! `{ "name": "act", "kind": "choice", "options": ["relu", "tanh"] }`; a space is an array of them.

use crate::optim::Num;
use crate::{bail, ensure, Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What values a dimension takes; see the module documentation for each map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Kind {
    /// A real number in [low, high].
    Uniform { low: f64, high: f64 },
    /// A positive real number in [low, high], uniform in its logarithm.
    LogUniform { low: f64, high: f64 },
    /// An integer in low..=high, each equally likely.
    IntUniform { low: i64, high: i64 },
    /// An integer in low..=high (low >= 1), uniform in its logarithm.
    IntLogUniform { low: i64, high: i64 },
    /// One of a list of named options.
    Choice { options: Vec<String> },
}

/// One hyperparameter: a name and its [`Kind`]. Built only through [`Dimension::new`] (or serde,
/// which calls it), so every dimension in use is valid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawDimension")]
pub struct Dimension {
    name: String,
    #[serde(flatten)]
    kind: Kind,
}

#[derive(Deserialize)]
struct RawDimension {
    name: String,
    #[serde(flatten)]
    kind: Kind,
}

impl TryFrom<RawDimension> for Dimension {
    type Error = Error;
    fn try_from(raw: RawDimension) -> Result<Dimension> {
        Dimension::new(raw.name, raw.kind)
    }
}

/// A hyperparameter's real value: what a trial runs with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Int(i64),
    Float(f64),
    Choice(String),
}

impl Value {
    /// The value as a number (an integer widened), or `None` for a choice.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(k) => Some(*k as f64),
            Value::Float(x) => Some(*x),
            Value::Choice(_) => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(k) => write!(f, "{k}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Choice(s) => f.write_str(s),
        }
    }
}

impl Dimension {
    /// A checked dimension: a non-empty name, finite bounds with low < high (low > 0 on a log
    /// scale, low >= 1 for `intLogUniform`), at least two distinct options for a choice.
    pub fn new(name: impl Into<String>, kind: Kind) -> Result<Dimension> {
        let name = name.into();
        ensure!(!name.trim().is_empty(), "Invalid dimension: the name is empty");
        let bad = |why: String| Err(Error::new(format!("Invalid dimension \"{name}\": {why}")));
        match &kind {
            Kind::Uniform { low, high } | Kind::LogUniform { low, high } => {
                if !(low.is_finite() && high.is_finite() && low < high) {
                    return bad(format!("need finite bounds with low < high, got low {} and high {}", Num(*low), Num(*high)));
                }
                if matches!(kind, Kind::LogUniform { .. }) && *low <= 0.0 {
                    return bad(format!("a log-uniform range needs low > 0, got low {}", Num(*low)));
                }
            }
            Kind::IntUniform { low, high } | Kind::IntLogUniform { low, high } => {
                if low >= high {
                    return bad(format!("need low < high, got low {low} and high {high}"));
                }
                if matches!(kind, Kind::IntLogUniform { .. }) && *low < 1 {
                    return bad(format!("an integer log-uniform range needs low >= 1, got low {low}"));
                }
            }
            Kind::Choice { options } => {
                if options.len() < 2 {
                    return bad(format!("a choice needs at least two options, got {}", options.len()));
                }
                for (i, option) in options.iter().enumerate() {
                    if options[..i].contains(option) {
                        return bad(format!("the option \"{option}\" appears twice"));
                    }
                }
            }
        }
        Ok(Dimension { name, kind })
    }

    /// A real number in [low, high].
    pub fn uniform(name: impl Into<String>, low: f64, high: f64) -> Result<Dimension> {
        Dimension::new(name, Kind::Uniform { low, high })
    }

    /// A positive real number in [low, high], uniform in its logarithm.
    pub fn log_uniform(name: impl Into<String>, low: f64, high: f64) -> Result<Dimension> {
        Dimension::new(name, Kind::LogUniform { low, high })
    }

    /// An integer in low..=high.
    pub fn int_uniform(name: impl Into<String>, low: i64, high: i64) -> Result<Dimension> {
        Dimension::new(name, Kind::IntUniform { low, high })
    }

    /// An integer in low..=high, uniform in its logarithm.
    pub fn int_log_uniform(name: impl Into<String>, low: i64, high: i64) -> Result<Dimension> {
        Dimension::new(name, Kind::IntLogUniform { low, high })
    }

    /// One of `options`.
    pub fn choice(name: impl Into<String>, options: &[&str]) -> Result<Dimension> {
        Dimension::new(name, Kind::Choice { options: options.iter().map(|s| s.to_string()).collect() })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn kind(&self) -> &Kind {
        &self.kind
    }

    /// How many distinct values the dimension has: `None` for a continuous one.
    pub fn levels(&self) -> Option<usize> {
        match &self.kind {
            Kind::Uniform { .. } | Kind::LogUniform { .. } => None,
            Kind::IntUniform { low, high } | Kind::IntLogUniform { low, high } => Some((high - low + 1) as usize),
            Kind::Choice { options } => Some(options.len()),
        }
    }

    /// The real value at unit coordinate `u` ∈ [0, 1].
    pub fn from_unit(&self, u: f64) -> Result<Value> {
        ensure!((0.0..=1.0).contains(&u), "Invalid unit coordinate for \"{}\": {} (need a number in [0, 1])", self.name, Num(u));
        // The bin of u among n equal bins, the last one closed so u = 1 belongs to it.
        let bin = |n: usize| ((u * n as f64) as usize).min(n - 1);
        Ok(match &self.kind {
            Kind::Uniform { low, high } => Value::Float((low + u * (high - low)).clamp(*low, *high)),
            Kind::LogUniform { low, high } => Value::Float((low.ln() + u * (high.ln() - low.ln())).exp().clamp(*low, *high)),
            Kind::IntUniform { low, high } => Value::Int(low + bin((high - low + 1) as usize) as i64),
            Kind::IntLogUniform { low, high } => {
                let (a, b) = log_int_axis(*low, *high);
                Value::Int(((a + u * (b - a)).exp().round() as i64).clamp(*low, *high))
            }
            Kind::Choice { options } => Value::Choice(options[bin(options.len())].clone()),
        })
    }

    /// The unit coordinate of a real value (for an integer or an option, its own position).
    pub fn to_unit(&self, value: &Value) -> Result<f64> {
        let name = &self.name;
        match (&self.kind, value) {
            (Kind::Choice { options }, Value::Choice(s)) => match options.iter().position(|o| o == s) {
                Some(i) => Ok((i as f64 + 0.5) / options.len() as f64),
                None => bail!("Invalid value for \"{name}\": \"{s}\" is not one of {options:?}"),
            },
            (Kind::Choice { .. }, v) => bail!("Invalid value for \"{name}\": {v} (need one of the options, as a string)"),
            (_, Value::Choice(s)) => bail!("Invalid value for \"{name}\": \"{s}\" (need a number)"),
            (kind, v) => {
                let x = v.as_f64().unwrap_or(f64::NAN);
                let out_of = |low: f64, high: f64| Error::new(format!("Invalid value for \"{name}\": {} (need a number in [{low}, {high}])", Num(x)));
                match *kind {
                    Kind::Uniform { low, high } => {
                        ensure!((low..=high).contains(&x), "{}", out_of(low, high));
                        Ok((x - low) / (high - low))
                    }
                    Kind::LogUniform { low, high } => {
                        ensure!((low..=high).contains(&x), "{}", out_of(low, high));
                        Ok(((x.ln() - low.ln()) / (high.ln() - low.ln())).clamp(0.0, 1.0))
                    }
                    Kind::IntUniform { low, high } | Kind::IntLogUniform { low, high } => {
                        ensure!(x.fract() == 0.0 && (low as f64..=high as f64).contains(&x), "{} (a whole number)", out_of(low as f64, high as f64));
                        if let Kind::IntLogUniform { .. } = kind {
                            let (a, b) = log_int_axis(low, high);
                            Ok((x.ln() - a) / (b - a))
                        } else {
                            Ok((x - low as f64 + 0.5) / (high - low + 1) as f64)
                        }
                    }
                    Kind::Choice { .. } => unreachable!("handled above"),
                }
            }
        }
    }

    /// `u` moved to the position of the value it maps to: itself on a continuous axis, the
    /// integer's or option's own coordinate on a discrete one.
    pub fn snap(&self, u: f64) -> Result<f64> {
        match self.kind {
            Kind::Uniform { .. } | Kind::LogUniform { .. } => {
                ensure!((0.0..=1.0).contains(&u), "Invalid unit coordinate for \"{}\": {} (need a number in [0, 1])", self.name, Num(u));
                Ok(u)
            }
            _ => self.to_unit(&self.from_unit(u)?),
        }
    }
}

/// (ln(low − ½), ln(high + ½)): the ends of an integer log axis.
fn log_int_axis(low: i64, high: i64) -> (f64, f64) {
    ((low as f64 - 0.5).ln(), (high as f64 + 0.5).ln())
}

/// A search space: one or more dimensions with distinct names, in a fixed order (the order of
/// the unit cube's axes). As JSON, an array of dimensions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Dimension>", into = "Vec<Dimension>")]
pub struct Space {
    dims: Vec<Dimension>,
}

impl TryFrom<Vec<Dimension>> for Space {
    type Error = Error;
    fn try_from(dims: Vec<Dimension>) -> Result<Space> {
        Space::new(dims)
    }
}

impl From<Space> for Vec<Dimension> {
    fn from(space: Space) -> Vec<Dimension> {
        space.dims
    }
}

/// A point of a search: where it is in the unit cube, and the real values a trial runs with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    pub unit: Vec<f64>,
    pub values: Vec<Value>,
}

impl Space {
    /// A space of `dims` (at least one, names distinct).
    pub fn new(dims: Vec<Dimension>) -> Result<Space> {
        ensure!(!dims.is_empty(), "Invalid search space: it has no dimensions");
        for (i, d) in dims.iter().enumerate() {
            ensure!(dims[..i].iter().all(|e| e.name != d.name), "Invalid search space: the name \"{}\" appears twice", d.name);
        }
        Ok(Space { dims })
    }

    pub fn dims(&self) -> &[Dimension] {
        &self.dims
    }

    /// The number of dimensions d (the unit cube is [0, 1]^d).
    pub fn n_dims(&self) -> usize {
        self.dims.len()
    }

    fn check_len(&self, got: usize) -> Result<()> {
        ensure!(got == self.dims.len(), "Invalid point: {got} coordinates for a space of {} dimensions", self.dims.len());
        Ok(())
    }

    /// The real values at a unit point.
    pub fn from_unit(&self, unit: &[f64]) -> Result<Vec<Value>> {
        self.check_len(unit.len())?;
        self.dims.iter().zip(unit).map(|(d, &u)| d.from_unit(u)).collect()
    }

    /// The unit point of real values.
    pub fn to_unit(&self, values: &[Value]) -> Result<Vec<f64>> {
        self.check_len(values.len())?;
        self.dims.iter().zip(values).map(|(d, v)| d.to_unit(v)).collect()
    }

    /// Every coordinate [snapped](Dimension::snap).
    pub fn snap(&self, unit: &[f64]) -> Result<Vec<f64>> {
        self.check_len(unit.len())?;
        self.dims.iter().zip(unit).map(|(d, &u)| d.snap(u)).collect()
    }

    /// The snapped unit point and its real values.
    pub fn point(&self, unit: &[f64]) -> Result<Point> {
        let unit = self.snap(unit)?;
        let values = self.from_unit(&unit)?;
        Ok(Point { unit, values })
    }
}
