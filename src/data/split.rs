//! Seeded splits: train / validation / test hold-outs and k-fold partitions.
//!
//! A split is a permutation of the indices drawn from the seed's `"split"` stream, cut into
//! consecutive pieces. The same seed always gives the same three sets, on every platform.

use crate::data::Mnist;
use crate::{ensure, Result, Rng};

/// A labelled set of examples: `x` is (len × features) row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub x: Vec<f32>,
    pub labels: Vec<u8>,
    pub features: usize,
    pub classes: usize,
}

impl Dataset {
    pub fn new(x: Vec<f32>, labels: Vec<u8>, features: usize, classes: usize) -> Result<Dataset> {
        ensure!(features > 0, "a dataset needs at least one feature");
        ensure!(x.len() == labels.len() * features, "dataset: {} values do not make {} examples of {features} features", x.len(), labels.len());
        if let Some(&l) = labels.iter().find(|&&l| l as usize >= classes) {
            crate::bail!("dataset: label {l} is out of range for {classes} classes");
        }
        Ok(Dataset { x, labels, features, classes })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The examples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let f = self.features;
        let mut x = Vec::with_capacity(indices.len() * f);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            x.extend_from_slice(&self.x[i * f..(i + 1) * f]);
            labels.push(self.labels[i]);
        }
        Dataset { x, labels, features: f, classes: self.classes }
    }

    /// Copy rows `indices` into `x_out` / `labels_out` (reused buffers, for mini-batches).
    pub fn gather(&self, indices: &[usize], x_out: &mut Vec<f32>, labels_out: &mut Vec<u32>) {
        let f = self.features;
        x_out.clear();
        labels_out.clear();
        for &i in indices {
            x_out.extend_from_slice(&self.x[i * f..(i + 1) * f]);
            labels_out.push(self.labels[i] as u32);
        }
    }

    /// Only the examples whose label passes `keep`.
    pub fn filter_labels(&self, keep: impl Fn(u8) -> bool) -> Dataset {
        let idx: Vec<usize> = (0..self.len()).filter(|&i| keep(self.labels[i])).collect();
        self.select(&idx)
    }

    /// The first `n` examples (or all, if fewer).
    pub fn take(&self, n: usize) -> Dataset {
        let idx: Vec<usize> = (0..n.min(self.len())).collect();
        self.select(&idx)
    }

    /// Relabel every example with `f(label)` (e.g. digits 5–9 → classes 0–4).
    pub fn map_labels(&self, classes: usize, f: impl Fn(u8) -> u8) -> Result<Dataset> {
        Dataset::new(self.x.clone(), self.labels.iter().map(|&l| f(l)).collect(), self.features, classes)
    }
}

impl From<&Mnist> for Dataset {
    fn from(m: &Mnist) -> Dataset {
        Dataset { x: m.images.clone(), labels: m.labels.clone(), features: m.features(), classes: 10 }
    }
}

/// Fixed train / validation / test sets.
#[derive(Clone, Debug)]
pub struct Split {
    pub train: Dataset,
    pub validation: Dataset,
    pub test: Dataset,
    pub seed: u64,
}

impl Split {
    /// Shuffle with `seed` and cut into `n_train`, `n_val`, `n_test` examples.
    pub fn holdout(data: &Dataset, n_train: usize, n_val: usize, n_test: usize, seed: u64) -> Result<Split> {
        let total = n_train + n_val + n_test;
        ensure!(n_train > 0 && n_val > 0, "a split needs at least one training and one validation example");
        ensure!(total <= data.len(), "a split of {n_train} + {n_val} + {n_test} = {total} examples needs more than the {} available", data.len());
        let perm = Rng::stream(seed, "split").permutation(data.len());
        Ok(Split {
            train: data.select(&perm[..n_train]),
            validation: data.select(&perm[n_train..n_train + n_val]),
            test: data.select(&perm[n_train + n_val..total]),
            seed,
        })
    }

    /// The default MNIST split used by the notebook: 7,000 / 1,500 / 1,500.
    pub fn mnist_default(m: &Mnist, seed: u64) -> Result<Split> {
        Split::holdout(&Dataset::from(m), 7000, 1500, 1500, seed)
    }
}

/// k-fold cross-validation: the indices `0..n` shuffled with `seed` and dealt into `k` folds of
/// near-equal size. Fold `i` is the validation set of round `i`; the others form its training set.
pub fn k_fold(n: usize, k: usize, seed: u64) -> Result<Vec<(Vec<usize>, Vec<usize>)>> {
    ensure!(k >= 2, "k-fold cross-validation needs k ≥ 2 (got {k})");
    ensure!(n >= k, "cannot make {k} folds from {n} examples");
    let perm = Rng::stream(seed, "kfold").permutation(n);
    let bounds: Vec<usize> = (0..=k).map(|i| i * n / k).collect();
    Ok((0..k)
        .map(|i| {
            let val = perm[bounds[i]..bounds[i + 1]].to_vec();
            let train = perm[..bounds[i]].iter().chain(&perm[bounds[i + 1]..]).copied().collect();
            (train, val)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counting(n: usize) -> Dataset {
        Dataset::new((0..n).map(|i| i as f32).collect(), (0..n).map(|i| (i % 10) as u8).collect(), 1, 10).unwrap()
    }

    #[test]
    fn holdout_is_reproducible_and_disjoint() {
        let d = counting(100);
        let a = Split::holdout(&d, 60, 20, 20, 3).unwrap();
        let b = Split::holdout(&d, 60, 20, 20, 3).unwrap();
        assert_eq!(a.train, b.train);
        assert_eq!(a.validation, b.validation);
        let c = Split::holdout(&d, 60, 20, 20, 4).unwrap();
        assert_ne!(a.train, c.train, "another seed gives another split");
        let mut all: Vec<f32> = a.train.x.iter().chain(&a.validation.x).chain(&a.test.x).copied().collect();
        all.sort_by(f32::total_cmp);
        assert_eq!(all, (0..100).map(|i| i as f32).collect::<Vec<_>>());
    }

    #[test]
    fn holdout_refuses_too_many() {
        let err = Split::holdout(&counting(10), 8, 2, 1, 0).unwrap_err();
        assert!(err.message().contains("needs more than the 10"), "{err}");
    }

    #[test]
    fn k_fold_partitions() {
        let folds = k_fold(23, 5, 1).unwrap();
        let mut seen: Vec<usize> = folds.iter().flat_map(|(_, v)| v.clone()).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..23).collect::<Vec<_>>());
        for (t, v) in &folds {
            assert_eq!(t.len() + v.len(), 23);
            assert!(v.len() == 4 || v.len() == 5);
        }
        assert!(k_fold(3, 1, 0).is_err());
    }
}
