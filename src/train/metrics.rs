//! What a run records, cheapest first:
//! - the loss of every mini-batch (free: the step computes it anyway);
//! - the training error of each epoch, counted on the fly from the mini-batches' own
//!   predictions while the weights still move (a cheap stand-in for a second full pass);
//! - the validation loss and error after each epoch (one evaluation pass over the held-out set).

use serde::Serialize;

/// One epoch's summary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// The global step count when the epoch ended.
    pub step: usize,
    /// Mean mini-batch loss over the epoch.
    pub train_loss: f32,
    /// Fraction of training examples misclassified during the epoch.
    pub train_error: f32,
    pub val_loss: f32,
    pub val_error: f32,
}

/// Everything a run has recorded so far.
#[derive(Clone, Debug, Default, Serialize)]
pub struct History {
    /// Mini-batch loss per step (index = step − 1).
    pub step_loss: Vec<f32>,
    pub epochs: Vec<EpochRecord>,
    /// Notes pinned to a step (e.g. "lr → 0.01"), drawn on the curves.
    pub marks: Vec<(usize, String)>,
}

impl History {
    /// The best (lowest) validation error so far and its epoch.
    pub fn best_val_error(&self) -> Option<(usize, f32)> {
        self.epochs.iter().map(|e| (e.epoch, e.val_error)).fold(None, |best, (ep, v)| match best {
            Some((_, b)) if b <= v => best,
            _ => Some((ep, v)),
        })
    }
}
