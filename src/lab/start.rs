//! How a network's weights begin, for the initialization cells: a built-in scheme by its key,
//! any init the student describes, or every parameter from a weights file — each with the
//! name the read-outs and legends give it.
//!
//! The built-in schemes are listed once, in [`SCHEMES`] (the page's order): the probe, the
//! "every scheme trained side by side" runs and the custom cell's comparison all read it.
//! Two of them take the student's numbers: "uniform ±a" is `U(−a, a)` and "normal σ" is
//! `N(0, σ²)`; the others are `torch.nn.init`'s formulas, which need no number.

use crate::init::WeightsFile;
use crate::{bail, ensure, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// MNIST images are 28 × 28.
pub const MNIST_INPUTS: usize = 28 * 28;
/// MNIST has ten classes.
pub const MNIST_CLASSES: usize = 10;

/// The built-in schemes, in the page's order: (key, label). The key is the init's `scheme`.
pub const SCHEMES: [(&str, &str); 7] = [
    ("uniform", "uniform ±a"),
    ("normal", "normal σ"),
    ("xavier_uniform", "Xavier uniform"),
    ("xavier_normal", "Xavier normal"),
    ("kaiming_uniform", "He uniform"),
    ("kaiming_normal", "He normal"),
    ("default", "PyTorch default"),
];

/// Where a network's weights come from. JSON: `{ "from": "scheme", "key": "kaiming_uniform" }`,
/// `{ "from": "init", "label": "your U(-0.1, 0.1)", "init": { "scheme": "uniform", "a": -0.1,
/// "b": 0.1 } }` or `{ "from": "weights", "label": "weights from w.json", "parameters": […] }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "camelCase", deny_unknown_fields)]
pub enum Start {
    /// A built-in scheme (see [`SCHEMES`]); `a` is the bound of "uniform ±a" (default 1),
    /// `std` the σ of "normal σ" (default 0.01).
    Scheme {
        key: String,
        #[serde(default = "one")]
        a: f64,
        #[serde(default = "hundredth")]
        std: f64,
    },
    /// Any init scheme with its options (see `crate::init`), under the student's label.
    Init { label: String, init: Value },
    /// Every parameter, flat in PyTorch's order (a weights file); replaces the init.
    Weights { label: String, parameters: Vec<f32> },
}

fn one() -> f64 {
    1.0
}
fn hundredth() -> f64 {
    0.01
}

impl Start {
    /// A built-in scheme by key.
    pub fn scheme(key: &str, a: f64, std: f64) -> Start {
        Start::Scheme { key: key.into(), a, std }
    }

    /// Check the scheme's key (the init's own options are checked when a network is built).
    pub fn check(&self) -> Result<()> {
        if let Start::Scheme { key, .. } = self {
            if !SCHEMES.iter().any(|(k, _)| k == key) {
                let keys: Vec<&str> = SCHEMES.iter().map(|s| s.0).collect();
                bail!("unknown init scheme {key:?}: pick one of {}", keys.join(", "));
            }
        }
        Ok(())
    }

    /// What the read-outs call it: "uniform ±1", "normal σ=0.01", "He uniform", or the label.
    pub fn label(&self) -> String {
        match self {
            Start::Scheme { key, a, std } => match key.as_str() {
                "uniform" => format!("uniform ±{a}"),
                "normal" => format!("normal σ={std}"),
                k => SCHEMES.iter().find(|s| s.0 == k).map_or(k, |s| s.1).to_string(),
            },
            Start::Init { label, .. } | Start::Weights { label, .. } => label.clone(),
        }
    }

    /// The init a network is built with (`None` with a weights file: its parameters replace
    /// whatever the default init drew).
    pub fn init(&self) -> Option<Value> {
        match self {
            Start::Scheme { key, a, std } => Some(match key.as_str() {
                "uniform" => json!({ "scheme": "uniform", "a": -a, "b": a }),
                "normal" => json!({ "scheme": "normal", "mean": 0, "std": std }),
                k => json!({ "scheme": k }),
            }),
            Start::Init { init, .. } => Some(init.clone()),
            Start::Weights { .. } => None,
        }
    }

    /// The parameters a weights file gives (`None` for a scheme or init).
    pub fn parameters(&self) -> Option<&[f32]> {
        match self {
            Start::Weights { parameters, .. } => Some(parameters),
            _ => None,
        }
    }
}

/// Every hidden layer needs a width: a network with none is not what these cells are about.
pub fn check_hidden(hidden: &[usize], example: &str) -> Result<()> {
    ensure!(!hidden.is_empty(), "hidden sizes: give at least one hidden layer, e.g. \"{example}\"");
    Ok(())
}

/// Read a weights file `{"sizes": [784, …, 10], "parameters": […]}`: valid JSON, the right
/// number of finite parameters, and a network that fits MNIST (784 inputs, 10 outputs).
pub fn mnist_weights(text: &str) -> Result<WeightsFile> {
    let file = WeightsFile::parse(text)?;
    let (first, last) = (file.sizes[0], file.sizes[file.sizes.len() - 1]);
    ensure!(
        first == MNIST_INPUTS,
        "This network takes {first} inputs (sizes {:?}), but an MNIST digit has 784 pixels: the first size must be 784",
        file.sizes
    );
    ensure!(last == MNIST_CLASSES, "This network has {last} outputs (sizes {:?}), but MNIST has 10 classes: the last size must be 10", file.sizes);
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_have_the_pages_labels_and_inits() {
        // (start, label, init, reason)
        let rows = [
            (Start::scheme("uniform", 0.5, 0.01), "uniform ±0.5", json!({ "scheme": "uniform", "a": -0.5, "b": 0.5 }), "±a is U(−a, a)"),
            (Start::scheme("normal", 1.0, 0.01), "normal σ=0.01", json!({ "scheme": "normal", "mean": 0, "std": 0.01 }), "σ is the std"),
            (Start::scheme("kaiming_uniform", 1.0, 1.0), "He uniform", json!({ "scheme": "kaiming_uniform" }), "He is Kaiming"),
            (Start::scheme("default", 1.0, 1.0), "PyTorch default", json!({ "scheme": "default" }), "nn.Linear's own"),
        ];
        for (s, label, init, why) in rows {
            assert_eq!((s.label(), s.init()), (label.to_string(), Some(init)), "{why}");
            s.check().unwrap();
        }
        let err = Start::scheme("xavier", 1.0, 1.0).check().unwrap_err();
        assert!(err.message().contains("\"xavier\"") && err.message().contains("xavier_uniform"), "{}", err.message());
    }

    #[test]
    fn starts_read_from_json() {
        let s: Start = serde_json::from_value(json!({ "from": "scheme", "key": "uniform" })).unwrap();
        assert_eq!(s.label(), "uniform ±1", "a defaults to 1");
        let w: Start = serde_json::from_value(json!({ "from": "weights", "label": "w.json", "parameters": [1, 2] })).unwrap();
        assert_eq!((w.init(), w.parameters()), (None, Some(&[1.0f32, 2.0][..])));
        assert!(serde_json::from_value::<Start>(json!({ "from": "file" })).is_err());
    }

    #[test]
    fn weights_files_must_fit_mnist() {
        // (file, part of the message, reason)
        let rows = [
            (json!({ "sizes": [100, 10], "parameters": vec![0; 1010] }), "takes 100 inputs", "not 784 pixels"),
            (json!({ "sizes": [784, 3], "parameters": vec![0; 2355] }), "has 3 outputs", "not 10 classes"),
            (json!({ "sizes": [784, 10], "parameters": [1, 2, 3] }), "Wrong number of parameters", "the file's own check"),
        ];
        for (file, want, why) in rows {
            let err = mnist_weights(&file.to_string()).unwrap_err();
            assert!(err.message().contains(want), "{why}: {}", err.message());
        }
        assert_eq!(mnist_weights(&json!({ "sizes": [784, 10], "parameters": vec![0; 7850] }).to_string()).unwrap().sizes, [784, 10]);
        assert!(check_hidden(&[], "8").unwrap_err().message().contains("e.g. \"8\""));
    }
}
