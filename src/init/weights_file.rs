//! Weights saved to and loaded from a JSON file, for the "your turn" (custom) start and for
//! downloading a trained network.

use serde::{Deserialize, Serialize};

use crate::Result;

/// A saved MLP for the "custom" init: `{"sizes": [784, 128, 10], "parameters": [...]}`.
///
/// `parameters` holds the layers in order, each as its `(out, in)` row-major weight
/// followed by its `out` biases — the order of `nn.Sequential(Linear, …).parameters()`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WeightsFile {
    pub sizes: Vec<usize>,
    pub parameters: Vec<f32>,
}

impl WeightsFile {
    /// Parses and validates a weights file (see [`WeightsFile::validate`]).
    pub fn parse(json: &str) -> Result<WeightsFile> {
        let file: WeightsFile = serde_json::from_str(json)
            .map_err(|e| crate::Error::new(format!("Invalid weights file (expected {{\"sizes\": [784, 128, 10], \"parameters\": [...]}}): {e}")))?;
        file.validate()?;
        Ok(file)
    }

    /// Number of parameters of a plain MLP: `Σ_layers out·in + out` (saturating).
    pub fn expected_len(sizes: &[usize]) -> usize {
        sizes.windows(2).map(|w| w[1].saturating_mul(w[0]).saturating_add(w[1])).fold(0, usize::saturating_add)
    }

    /// At least two sizes, all positive; exactly [`WeightsFile::expected_len`] parameters,
    /// all finite.
    pub fn validate(&self) -> Result<()> {
        let sizes = &self.sizes;
        crate::ensure!(sizes.len() >= 2, "Invalid sizes {sizes:?}: need at least 2 layer sizes (inputs and outputs)");
        if let Some(i) = sizes.iter().position(|&s| s == 0) {
            crate::bail!("Invalid sizes {sizes:?}: size {i} is 0 (every layer needs at least one unit)");
        }
        let expected = Self::expected_len(sizes);
        let got = self.parameters.len();
        if got != expected {
            let terms: Vec<String> = sizes.windows(2).map(|w| format!("{}×{}+{}", w[1], w[0], w[1])).collect();
            crate::bail!("Wrong number of parameters for sizes {sizes:?}: expected {expected} ({}), got {got}", terms.join(" + "));
        }
        if let Some(i) = self.parameters.iter().position(|p| !p.is_finite()) {
            crate::bail!("Invalid parameter {i}: {} (must be a finite number)", self.parameters[i]);
        }
        Ok(())
    }

    /// Each layer's `(weight, bias)` slices, weight `(out, in)` row-major.
    pub fn layers(&self) -> Vec<(&[f32], &[f32])> {
        let mut rest = self.parameters.as_slice();
        let mut out = Vec::with_capacity(self.sizes.len().saturating_sub(1));
        for w in self.sizes.windows(2) {
            let (weight, r) = rest.split_at((w[0] * w[1]).min(rest.len()));
            let (bias, r) = r.split_at(w[1].min(r.len()));
            out.push((weight, bias));
            rest = r;
        }
        out
    }

    /// Compact JSON that [`WeightsFile::parse`] reads back bit for bit (f32 printed shortest).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a struct of numbers always serializes")
    }
}
