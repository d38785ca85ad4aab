//! Seeded splits: train / validation / test hold-outs and repeated 80/20 holdouts (k-fold
//! partitions are in `folds.rs`).
//!
//! A split is a permutation of the indices drawn from one named stream of the seed (`"split"`,
//! `"holdout 0"`, `"holdout 1"`, …), cut into consecutive pieces. The same seed always gives the
//! same sets, on every platform.

use crate::backend::Rows;
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

    /// The examples at `indices` as rows of the product ([`Rows::gathered`], read where they
    /// lie), with their labels copied into `labels_out` (a reused buffer, for mini-batches).
    pub fn rows<'a>(&'a self, indices: &'a [usize], labels_out: &mut Vec<u32>) -> Rows<'a> {
        labels_out.clear();
        labels_out.extend(indices.iter().map(|&i| self.labels[i] as u32));
        Rows::gathered(&self.x, indices)
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

// k-fold partitions live in `folds.rs`; this path keeps working for code that used it from here.
pub use super::folds::k_fold;

/// Repeated holdout: `r` independent 80/20 splits of `0..n`, as (training, validation) index pairs
/// (`r = 1` is the plain holdout).
///
/// Each repeat shuffles `0..n` with its own stream of the seed, `"holdout {i}"` for repeat i, and
/// cuts the permutation in two: the first n − ⌈n/5⌉ indices train, the last ⌈n/5⌉ validate. The
/// validation share rounds *up*, as scikit-learn's `train_test_split(test_size=0.2)` does, so n = 2
/// already gives one example on each side; for n a multiple of 5 it is exactly 80/20. Repeat i does
/// not depend on r, so asking for more repeats only appends. Both parts keep the permutation's order:
/// any prefix of them is itself a random sample (a learning curve can take the first m).
pub fn repeated_holdout(n: usize, r: usize, seed: u64) -> Result<Vec<(Vec<usize>, Vec<usize>)>> {
    ensure!(r >= 1, "repeated holdout needs at least one repeat (got r = {r})");
    ensure!(n >= 2, "a holdout needs at least 2 examples, one to train and one to validate (got n = {n})");
    let n_val = n.div_ceil(5);
    Ok((0..r)
        .map(|i| {
            let mut perm = Rng::stream(seed, &format!("holdout {i}")).permutation(n);
            let val = perm.split_off(n - n_val);
            (perm, val)
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
    fn repeated_holdout_cuts_80_20_disjoint_and_distinct() {
        // (n, r, validation size, reason)
        let rows = [
            (2, 1, 1, "the smallest holdout: one example each side"),
            (10, 1, 2, "r = 1 is the plain holdout"),
            (11, 3, 3, "⌈11/5⌉ = 3: the validation share rounds up"),
            (14, 4, 3, "⌈14/5⌉ = 3"),
            (100, 10, 20, "exactly 80/20"),
            (10_000, 10, 2000, "MNIST-sized"),
        ];
        for (n, r, n_val, reason) in rows {
            for seed in [0, 7] {
                let splits = repeated_holdout(n, r, seed).unwrap();
                assert_eq!(splits.len(), r, "{reason}");
                for (train, val) in &splits {
                    assert_eq!((train.len(), val.len()), (n - n_val, n_val), "{reason}");
                    let mut all: Vec<usize> = train.iter().chain(val).copied().collect();
                    all.sort_unstable();
                    assert_eq!(all, (0..n).collect::<Vec<_>>(), "{reason}: train and validation are disjoint and cover 0..n");
                }
                assert_eq!(splits, repeated_holdout(n, r, seed).unwrap(), "{reason}: reproducible from the seed");
                assert_eq!(splits[..1], repeated_holdout(n, 1, seed).unwrap()[..], "{reason}: more repeats only append");
                if n >= 100 {
                    let mut vals: Vec<Vec<usize>> = splits.iter().map(|(_, v)| v.clone()).collect();
                    vals.iter_mut().for_each(|v| v.sort_unstable());
                    vals.sort();
                    vals.dedup();
                    assert_eq!(vals.len(), r, "{reason}: the r validation sets are distinct");
                    assert_ne!(splits, repeated_holdout(n, r, seed + 1).unwrap(), "{reason}: another seed, other splits");
                }
            }
        }
    }

    #[test]
    fn repeated_holdout_refuses_by_value() {
        assert!(repeated_holdout(10, 0, 0).unwrap_err().message().contains("got r = 0"));
        assert!(repeated_holdout(1, 1, 0).unwrap_err().message().contains("got n = 1"));
    }
}
