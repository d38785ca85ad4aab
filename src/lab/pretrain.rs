//! The "Pretraining" cell's two tasks and its hand-over.
//!
//! Pretraining: digits 0–4 as classes 0–4. Fine-tuning: a few labelled digits 5–9, relabelled
//! 0–4, validated on every 5–9 of the validation split. The fine-tuned network starts from
//! the pretrained hidden layers with a *fresh* output layer — the very output layer the
//! random-start run begins with, so the two fine-tuning runs differ only in their hidden
//! layers (and share the seed, hence the batch order).

use super::run::{Data, RunSpec};
use crate::data::Dataset;
use crate::{ensure, Result};
use std::sync::Arc;

/// The first `limit` examples whose label passes `keep`, relabelled by `relabel` into
/// `classes` classes. One copy of just the rows kept.
fn relabelled(d: &Dataset, keep: impl Fn(u8) -> bool, limit: usize, relabel: impl Fn(u8) -> u8, classes: usize) -> Dataset {
    let rows: Vec<usize> = (0..d.len()).filter(|&i| keep(d.labels[i])).take(limit).collect();
    let mut out = d.select(&rows);
    out.labels.iter_mut().for_each(|l| *l = relabel(*l));
    out.classes = classes;
    out
}

/// Digits 0–4 as classes 0–4 (the pretraining task).
pub fn low_digits(d: &Dataset) -> Dataset {
    relabelled(d, |l| l < 5, usize::MAX, |l| l, 5)
}

/// The first `limit` digits 5–9 as classes 0–4 (the task we fine-tune on).
pub fn high_digits(d: &Dataset, limit: usize) -> Dataset {
    relabelled(d, |l| l >= 5, limit, |l| l - 5, 5)
}

/// The pretraining task's data: digits 0–4 of both splits.
pub fn pretrain_data(data: &Data) -> Data {
    Data { train: Arc::new(low_digits(&data.train)), validation: Arc::new(low_digits(&data.validation)) }
}

/// How many digits 5–9 the training split has (the most that can be labelled).
pub fn finetune_available(data: &Data) -> usize {
    data.train.labels.iter().filter(|&&l| l >= 5).count()
}

/// The fine-tuning task's data: the first `labelled` digits 5–9 of the (already shuffled)
/// training split, and every 5–9 of the validation split.
pub fn finetune_data(data: &Data, labelled: usize) -> Result<Data> {
    let available = finetune_available(data);
    ensure!(
        (1..=available).contains(&labelled),
        "labelled examples: {labelled} is out of range: pick 1 to {available} (digits 5–9 in the training split)"
    );
    Ok(Data { train: Arc::new(high_digits(&data.train, labelled)), validation: Arc::new(high_digits(&data.validation, usize::MAX)) })
}

/// Where the pretrained fine-tuning run starts: every hidden layer from `pretrained` (the
/// parameters of a pretraining run with the same hidden sizes), the output layer as `spec`
/// initializes it on `data`.
pub fn finetune_start(spec: &RunSpec, data: &Data, pretrained: &[f32]) -> Result<Vec<f32>> {
    let fresh = spec.model(data.train.features, data.train.classes.max(data.validation.classes))?;
    let start = fresh.parameters();
    ensure!(
        pretrained.len() == start.len(),
        "the pretrained network has {} parameters but this one has {}: pretrain and fine-tune need the same hidden sizes",
        pretrained.len(),
        start.len()
    );
    let (fan_in, fan_out) = fresh.layer_shape(fresh.num_layers() - 1);
    let body = start.len() - (fan_in * fan_out + fan_out);
    let mut spliced = pretrained.to_vec();
    spliced[body..].copy_from_slice(&start[body..]); // W_out, b_out from the fresh init
    Ok(spliced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Data {
        let labels: Vec<u8> = (0..50).map(|i| (i % 10) as u8).collect();
        let x = (0..50 * 3).map(|i| i as f32).collect();
        let d = Arc::new(Dataset::new(x, labels, 3, 10).unwrap());
        Data { train: d.clone(), validation: d }
    }

    #[test]
    fn the_tasks_split_the_digits() {
        let d = data();
        let pre = pretrain_data(&d);
        assert!(pre.train.labels.iter().all(|&l| l < 5) && pre.train.classes == 5 && pre.train.len() == 25);
        let ft = finetune_data(&d, 7).unwrap();
        assert_eq!(ft.train.len(), 7);
        assert_eq!(&ft.train.labels[..5], &[0, 1, 2, 3, 4], "5–9 become 0–4, in order");
        assert_eq!(ft.train.x[..3], [15.0, 16.0, 17.0], "the first 5 of the split");
        assert!(finetune_data(&d, 26).unwrap_err().message().contains("pick 1 to 25"));
    }

    #[test]
    fn the_start_keeps_hidden_layers_and_takes_a_fresh_head() {
        let d = data();
        let ft = finetune_data(&d, 10).unwrap();
        let spec = RunSpec { hidden: vec![4], seed: 3, ..RunSpec::default() };
        let n = spec.model(3, 5).unwrap().parameters().len();
        let pretrained = vec![9.0; n];
        let start = finetune_start(&spec, &ft, &pretrained).unwrap();
        let fresh = spec.model(3, 5).unwrap().parameters().to_vec();
        let body = 3 * 4 + 4;
        assert!(start[..body].iter().all(|&v| v == 9.0), "hidden layer from pretraining");
        assert_eq!(start[body..], fresh[body..], "output layer as the random run starts");
        assert!(finetune_start(&spec, &ft, &[1.0; 3]).unwrap_err().message().contains("same hidden sizes"));
    }
}
