//! The hyperparameters the tuning cell searches over, and how a trial's values become a run.
//!
//! Each is a dimension of a [`Space`] with the range the cell offers:
//!
//! | axis          | kind           | range                            | in the run                  |
//! |---------------|----------------|----------------------------------|-----------------------------|
//! | learning rate | log-uniform    | 1e-4 … 0.3 (SGD: 1e-3 … 3)       | `options.lr`                |
//! | L2 strength λ | log-uniform    | 1e-6 … 0.1                       | `l2` (gradient λw)          |
//! | hidden width  | int log-uniform| 4 … 256                          | every hidden layer's width  |
//! | dropout p     | uniform        | 0 … 0.8                          | `dropout` after each hidden |
//!
//! The ranges are wide on purpose: each reaches from too little to too much, so the search
//! has a real optimum to find inside them (a learning rate of 0.3 makes Adam jump about; one
//! of 1e-4 barely moves in a few epochs).
//!
//! The synthetic objective ([`crate::tune::synthetic`]) has its own two axes, `important`
//! and `unimportant`, on [0, 1].

use crate::lab::RunSpec;
use crate::plot::FieldAxis;
use crate::tune::{Dimension, Kind, Space, Value};
use crate::Result;
use serde::{Deserialize, Serialize};

/// A hyperparameter of the MNIST objective.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Axis {
    LearningRate,
    L2,
    Width,
    Dropout,
}

impl Axis {
    /// Its name in the read-out and on the plots.
    pub fn label(self) -> &'static str {
        match self {
            Axis::LearningRate => "learning rate",
            Axis::L2 => "L2 strength λ",
            Axis::Width => "hidden width",
            Axis::Dropout => "dropout p",
        }
    }

    /// Its dimension, for a run with `optimizer`.
    pub fn dimension(self, optimizer: &str) -> Result<Dimension> {
        let name = self.label();
        match self {
            Axis::LearningRate if optimizer == "sgd" => Dimension::log_uniform(name, 1e-3, 3.0),
            Axis::LearningRate => Dimension::log_uniform(name, 1e-4, 0.3),
            Axis::L2 => Dimension::log_uniform(name, 1e-6, 0.1),
            Axis::Width => Dimension::int_log_uniform(name, 4, 256),
            Axis::Dropout => Dimension::uniform(name, 0.0, 0.8),
        }
    }

    /// `run` with this hyperparameter set to `value`.
    pub fn apply(self, run: &mut RunSpec, value: &Value) -> Result<()> {
        let v = value.as_f64().ok_or_else(|| crate::Error::new(format!("{}: {value} is not a number", self.label())))?;
        match self {
            Axis::LearningRate => {
                let mut options = run.options.as_object().cloned().unwrap_or_default();
                options.insert("lr".into(), serde_json::json!(v));
                run.options = serde_json::Value::Object(options);
            }
            Axis::L2 => run.l2 = v as f32,
            Axis::Width => run.hidden.iter_mut().for_each(|h| *h = v as usize),
            Axis::Dropout => run.dropout = vec![v as f32],
        }
        Ok(())
    }
}

/// The search space of two MNIST axes.
pub fn space(axes: [Axis; 2], optimizer: &str) -> Result<Space> {
    Space::new(vec![axes[0].dimension(optimizer)?, axes[1].dimension(optimizer)?])
}

/// How a dimension's unit axis reads as values on a plot: an integer axis is stretched half a
/// step beyond its ends (as its unit map is, see `tune::space`).
pub fn field_axis(dim: &Dimension) -> FieldAxis {
    match *dim.kind() {
        Kind::Uniform { low, high } => FieldAxis { lo: low, hi: high, log: false },
        Kind::LogUniform { low, high } => FieldAxis { lo: low, hi: high, log: true },
        Kind::IntUniform { low, high } => FieldAxis { lo: low as f64 - 0.5, hi: high as f64 + 0.5, log: false },
        Kind::IntLogUniform { low, high } => FieldAxis { lo: low as f64 - 0.5, hi: high as f64 + 0.5, log: true },
        Kind::Choice { ref options } => FieldAxis { lo: 0.0, hi: options.len() as f64, log: false },
    }
}

/// A value as the read-out writes it: 3 significant digits, integers whole.
pub fn show(value: &Value) -> String {
    match value {
        Value::Int(i) => i.to_string(),
        Value::Float(x) if *x != 0.0 && (x.abs() < 1e-2 || x.abs() >= 1e4) => format!("{x:.2e}"),
        Value::Float(x) => format!("{:.3}", x).trim_end_matches('0').trim_end_matches('.').to_string(),
        other => other.to_string(),
    }
}
