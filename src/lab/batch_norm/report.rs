//! What the batch-norm cell reports: its looks inside and the read-out's lines (camelCase JSON).

use super::measure::{Identity, ModeAccuracy, Profile};
use crate::lab::Progress;
use serde::Serialize;

/// One look at the traced unit: its input's percentiles on the probe digits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trace {
    pub step: usize,
    /// 15th, 50th, 85th percentiles.
    pub percentiles: [f64; 3],
}

/// The followed units' statistics at a step: running (the batch-norm layer's own) or over the
/// whole training set.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub step: usize,
    pub mean: Vec<f64>,
    pub var: Vec<f64>,
}

/// One run's line of the read-out.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunLine {
    pub name: &'static str,
    pub status: &'static str,
    pub message: Option<String>,
    pub steps: usize,
    pub total_steps: usize,
    /// The smoothed training loss at the last step.
    pub loss: Option<f64>,
    /// The last validation check's error, and the lowest.
    pub val_error: Option<f32>,
    pub best_val_error: Option<f32>,
    pub backend: &'static str,
    /// The traced unit's input percentiles at the last look.
    pub percentiles: Option<[f64; 3]>,
    /// The last loss-along-the-gradient profile.
    pub profile: Option<Profile>,
}

/// One unit's γ and β, with the batch-norm run's running statistics beside them.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitAffine {
    /// 1-based.
    pub unit: usize,
    pub gamma: f32,
    pub beta: f32,
    pub running_mean: f32,
    pub running_var: f32,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchNormReport {
    /// running | finished | stopped (a run that cannot go on makes `run_for` fail with its
    /// message; a diverged run says so on its own line).
    pub status: &'static str,
    pub progress: Progress,
    pub runs: Vec<RunLine>,
    pub layer: usize,
    pub unit: usize,
    /// The followed units, 1-based.
    pub units: Vec<usize>,
    pub momentum: f32,
    /// The same momentum in Keras's convention (the weight of the old value): 1 − momentum.
    pub keras_momentum: f32,
    pub running: Option<Stats>,
    pub population: Option<Stats>,
    /// How many training digits the whole-set statistics cover.
    pub train_size: usize,
    pub affine: Vec<UnitAffine>,
    pub modes: Vec<ModeAccuracy>,
    pub probe: usize,
}

/// The identity exercise's answer (see [`BatchNormLab::identity`]).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityReport {
    pub layer: usize,
    pub step: usize,
    pub gamma: String,
    pub beta: String,
    #[serde(flatten)]
    pub check: Identity,
}
