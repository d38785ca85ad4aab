//! Weights saved to and loaded from a JSON file, for the "your turn" (custom) start and for
//! downloading a trained network.
//!
//! The file comes from the student's disk, so its sizes are checked before they are used:
//! the parameter count `Σ_layers out·in + out` is computed with `checked_mul`/`checked_add`
//! (a list such as `[4294967295, 4294967295]` would otherwise wrap where `usize` has 32
//! bits, as on wasm32), and no function here can panic, whatever the sizes (huge values and
//! `usize::MAX` included). Numbers JSON cannot give a `usize` (negative, fractional, past
//! `usize::MAX`) or an `f32` (`NaN`, `1e400`) are refused by the JSON reader; finite JSON
//! numbers past f32's range become ±∞ there and are refused by [`WeightsFile::validate`].

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
        Self::checked_len(sizes).unwrap_or(usize::MAX)
    }

    /// `Σ_layers out·in + out`, or `None` when it does not fit in a `usize`.
    pub fn checked_len(sizes: &[usize]) -> Option<usize> {
        sizes.windows(2).try_fold(0usize, |sum, w| w[1].checked_mul(w[0])?.checked_add(w[1])?.checked_add(sum))
    }

    /// At least two sizes, all positive; exactly [`WeightsFile::expected_len`] parameters,
    /// all finite.
    pub fn validate(&self) -> Result<()> {
        let sizes = &self.sizes;
        crate::ensure!(sizes.len() >= 2, "Invalid sizes {sizes:?}: need at least 2 layer sizes (inputs and outputs)");
        if let Some(i) = sizes.iter().position(|&s| s == 0) {
            crate::bail!("Invalid sizes {sizes:?}: size {i} is 0 (every layer needs at least one unit)");
        }
        let Some(expected) = Self::checked_len(sizes) else {
            crate::bail!("Invalid sizes {sizes:?}: the network would have more than {} parameters (out·in + out summed over the layers)", usize::MAX)
        };
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

    /// Each layer's `(weight, bias)` slices, weight `(out, in)` row-major. For a file that
    /// [`WeightsFile::validate`] accepts they have the full lengths; for any other (the fields
    /// are public) the layers past the end of `parameters` come out short or empty, never a panic.
    pub fn layers(&self) -> Vec<(&[f32], &[f32])> {
        let mut rest = self.parameters.as_slice();
        let mut out = Vec::with_capacity(self.sizes.len().saturating_sub(1));
        for w in self.sizes.windows(2) {
            let (weight, r) = rest.split_at(w[0].saturating_mul(w[1]).min(rest.len()));
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
