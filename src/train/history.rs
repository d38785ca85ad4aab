//! What a run records, cheapest first:
//! - the loss of every mini-batch (free: the step computes it anyway);
//! - the training error of each epoch, counted on the fly from the mini-batches' own
//!   predictions while the weights still move (a cheap stand-in for a second full pass);
//! - the validation loss and error at every check: `checks_per_epoch` times per epoch, the
//!   last at the epoch's end (one evaluation pass over the held-out set each).
//!
//! Curves are smoothed in one place, [`smoothed`], whatever cell draws them.

use serde::{Deserialize, Serialize};

/// One epoch's summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// The global step count when the epoch ended.
    pub step: usize,
    /// Mean mini-batch loss over the epoch.
    #[serde(deserialize_with = "nan_for_null")]
    pub train_loss: f32,
    /// Fraction of training examples misclassified during the epoch.
    #[serde(deserialize_with = "nan_for_null")]
    pub train_error: f32,
    #[serde(deserialize_with = "nan_for_null")]
    pub val_loss: f32,
    #[serde(deserialize_with = "nan_for_null")]
    pub val_error: f32,
    /// With `full_train_error`: the training set's loss and error in evaluation mode, with the
    /// epoch's final weights (what the on-the-fly `train_error` only approximates).
    pub full_train_loss: Option<f32>,
    pub full_train_error: Option<f32>,
}

/// One validation check: the whole validation set evaluated on the model as of `step`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// Steps booked when the check was taken.
    pub step: usize,
    /// Fractional epochs at the check (`step / steps_per_epoch`).
    pub epoch: f64,
    #[serde(deserialize_with = "nan_for_null")]
    pub val_loss: f32,
    #[serde(deserialize_with = "nan_for_null")]
    pub val_error: f32,
    /// With a test set (`Trainer::set_test`): its loss and error on the same model.
    pub test_loss: Option<f32>,
    pub test_error: Option<f32>,
}

/// An f32 that JSON wrote as null where it was NaN (JSON has no NaN).
pub fn nan_for_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    Ok(Option::<f32>::deserialize(d)?.unwrap_or(f32::NAN))
}

/// A list of f32 with nulls for NaN, as [`nan_for_null`].
pub fn nans_for_nulls<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
    Ok(Vec::<Option<f32>>::deserialize(d)?.into_iter().map(|v| v.unwrap_or(f32::NAN)).collect())
}

/// Everything a run has recorded so far.
#[derive(Clone, Debug, Default, Serialize)]
pub struct History {
    /// Mini-batch loss per step (index = step − 1).
    pub step_loss: Vec<f32>,
    pub epochs: Vec<EpochRecord>,
    /// Every validation check, in order (the epoch ends included).
    pub checks: Vec<Check>,
    /// Notes pinned to a step (e.g. "lr → 0.01"), drawn on the curves.
    pub marks: Vec<(usize, String)>,
}

impl History {
    /// The best (lowest) validation error so far and its epoch.
    pub fn best_val_error(&self) -> Option<(usize, f32)> {
        self.epochs.iter().map(|e| (e.epoch, e.val_error)).filter(|e| e.1.is_finite()).fold(None, |best, (ep, v)| match best {
            Some((_, b)) if b <= v => best,
            _ => Some((ep, v)),
        })
    }

    /// The mini-batch loss, smoothed by [`smoothed`] with `beta`.
    pub fn smoothed_loss(&self, beta: f64) -> Vec<f64> {
        smoothed(&self.step_loss, beta)
    }

    /// The training curves as CSV (a header row, then one row per step): step, loss, and the
    /// epoch summary and check columns filled in on the steps they were taken.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "step,loss,epoch,train_loss,train_error,val_loss,val_error,full_train_loss,full_train_error,check_val_loss,check_val_error\n",
        );
        let opt = |v: Option<f32>| v.map_or(String::new(), |v| v.to_string());
        let (mut e, mut c) = (self.epochs.iter().peekable(), self.checks.iter().peekable());
        for (i, loss) in self.step_loss.iter().enumerate() {
            let step = i + 1;
            out.push_str(&format!("{step},{loss}"));
            match e.next_if(|r| r.step == step) {
                Some(r) => out.push_str(&format!(
                    ",{},{},{},{},{},{},{}",
                    r.epoch,
                    r.train_loss,
                    r.train_error,
                    r.val_loss,
                    r.val_error,
                    opt(r.full_train_loss),
                    opt(r.full_train_error)
                )),
                None => out.push_str(",,,,,,,"),
            }
            match c.next_if(|k| k.step == step) {
                Some(k) => out.push_str(&format!(",{},{}\n", k.val_loss, k.val_error)),
                None => out.push_str(",,\n"),
            }
        }
        out
    }
}

/// An exponential moving average with the start-up correction Adam uses:
/// s_t = β·s_{t−1} + (1−β)·x_t from s_0 = 0, reported as s_t / (1 − β^t) so the first values
/// are not dragged toward 0 (about the last 1/(1−β) values count). Non-finite inputs are
/// skipped; a value before any finite input is NaN.
pub fn smoothed(xs: &[f32], beta: f64) -> Vec<f64> {
    let mut s = 0.0;
    let mut correction = 1.0;
    xs.iter()
        .map(|&x| {
            if x.is_finite() {
                s = beta * s + (1.0 - beta) * x as f64;
                correction *= beta;
            }
            if correction < 1.0 {
                s / (1.0 - correction)
            } else {
                f64::NAN
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_starts_at_the_first_value_and_skips_gaps() {
        let s = smoothed(&[f32::NAN, 2.0, 2.0, f32::INFINITY, 4.0], 0.5);
        assert!(s[0].is_nan(), "nothing to average yet");
        assert_eq!(s[1], 2.0, "bias-corrected: the first value itself");
        assert_eq!(s[2], 2.0, "a constant stays constant");
        assert_eq!(s[3], 2.0, "a non-finite value is skipped");
        // s = 0.5·(0.5·(0.5·0 + 0.5·2) + 0.5·2) ... = 0.5·1.5 + 2 = 2.75 over 1 − 0.125
        assert!((s[4] - 2.75 / 0.875).abs() < 1e-12, "{}", s[4]);
    }

    #[test]
    fn csv_has_a_header_and_a_row_per_step() {
        let h = History {
            step_loss: vec![2.0, 1.5, 1.0],
            epochs: vec![EpochRecord {
                epoch: 1,
                step: 3,
                train_loss: 1.5,
                train_error: 0.5,
                val_loss: 1.2,
                val_error: 0.4,
                full_train_loss: None,
                full_train_error: None,
            }],
            checks: vec![
                Check { step: 2, epoch: 2.0 / 3.0, val_loss: 1.3, val_error: 0.45, test_loss: None, test_error: None },
                Check { step: 3, epoch: 1.0, val_loss: 1.2, val_error: 0.4, test_loss: None, test_error: None },
            ],
            marks: vec![],
        };
        let csv = h.to_csv();
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows.len(), 4);
        assert!(rows[0].starts_with("step,loss,"));
        assert_eq!(rows[1], "1,2,,,,,,,,,");
        assert_eq!(rows[2], "2,1.5,,,,,,,,1.3,0.45");
        assert_eq!(rows[3], "3,1,1,1.5,0.5,1.2,0.4,,,1.2,0.4");
        assert!(rows.iter().all(|r| r.split(',').count() == 11), "every row has every column");
    }
}
