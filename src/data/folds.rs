//! k-fold cross-validation: which fold holds out each example.
//!
//! Cross-validation trains k times. Round i keeps fold i aside for validation and trains on the
//! other k − 1 folds; every example is validated exactly once, and the k validation scores give
//! both an estimate (their mean) and a sense of how much a single holdout could mislead (their
//! spread). Everything here is a pure function of (n or the labels, k, seed).
//!
//! ## Plain k-fold
//!
//! 1. Draw a permutation π of `0..n` from the seed's `"kfold"` stream.
//! 2. Deal it out like cards: the example at position j of π goes to fold j mod k.
//!
//! Fold f receives the positions f, f + k, f + 2k, … below n, which is ⌊n/k⌋ + 1 positions when
//! f < n mod k and ⌊n/k⌋ otherwise. So the sizes differ by at most one and the *first* n mod k folds
//! are the larger ones: scikit-learn's `KFold` convention. (scikit-learn cuts the shuffled order into
//! consecutive blocks rather than dealing it. Either way every assignment with these sizes is equally
//! likely, so the two agree in distribution, though not fold for fold on a given seed.)
//!
//! ## Stratified k-fold
//!
//! 1. Take the same permutation π and sort it *stably* by label. The classes now lie in consecutive
//!    runs (class 0 first), and inside each run the order is still uniformly random: a random
//!    permutation, restricted to a subset, orders that subset at random.
//! 2. Deal this order exactly as above: position j → fold j mod k, the fold pointer running on from
//!    one class into the next instead of restarting at fold 0.
//!
//! Why both balances hold:
//!
//! - **Fold sizes.** This is the plain dealing applied to another ordering of the same n examples; the
//!   size of fold f depends only on n, k and f, so the sizes are the plain ones (⌊n/k⌋ + 1 for the first
//!   n mod k folds, ⌊n/k⌋ for the others).
//! - **Each class.** Class c fills m_c consecutive positions s_c, …, s_c + m_c − 1. Consecutive positions
//!   visit the folds in cyclic order, so ⌊m_c/k⌋ full turns give every fold ⌊m_c/k⌋ of the class, and
//!   the remaining m_c mod k < k positions land in distinct folds, one each. Every fold therefore holds
//!   ⌊m_c/k⌋ or ⌊m_c/k⌋ + 1 examples of class c.
//!
//! Carrying the pointer across classes is what keeps the fold sizes balanced: restarting at fold 0 for
//! every class would balance each class too, but all the leftovers would pile onto the first folds
//! (ten classes of 7 examples and k = 3 would give fold 0 thirty examples and the other two twenty).
//!
//! With a single label the stable sort changes nothing, so the stratified folds of one class are the
//! plain folds. A class with fewer than k examples is allowed; it is simply missing from some folds
//! (scikit-learn warns about this, we leave it to the page, which shows the per-class counts).

use crate::{bail, ensure, Result, Rng};

/// The fold (`0..k`) of every example.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folds {
    assignment: Vec<u32>,
    k: usize,
}

impl Folds {
    /// Plain k-fold over the examples `0..n` (2 ≤ k ≤ n).
    pub fn plain(n: usize, k: usize, seed: u64) -> Result<Folds> {
        let k = fold_count(k as f64, n)?;
        Ok(Folds::deal(&Rng::stream(seed, "kfold").permutation(n), k))
    }

    /// Stratified k-fold: as [`Folds::plain`], and every class is spread over the folds within one
    /// example (2 ≤ k ≤ `labels.len()`).
    pub fn stratified(labels: &[u8], k: usize, seed: u64) -> Result<Folds> {
        let k = fold_count(k as f64, labels.len())?;
        let mut order = Rng::stream(seed, "kfold").permutation(labels.len());
        // Stable: inside each class the shuffled order survives.
        order.sort_by_key(|&i| labels[i]);
        Ok(Folds::deal(&order, k))
    }

    /// Position j of `order` goes to fold j mod k.
    fn deal(order: &[usize], k: usize) -> Folds {
        let mut assignment = vec![0; order.len()];
        for (j, &i) in order.iter().enumerate() {
            assignment[i] = (j % k) as u32;
        }
        Folds { assignment, k }
    }

    /// The number of folds.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.assignment.len()
    }

    /// Never true: a fold needs at least one example.
    pub fn is_empty(&self) -> bool {
        self.assignment.is_empty()
    }

    /// `assignment()[i]` is the fold of example i.
    pub fn assignment(&self) -> &[u32] {
        &self.assignment
    }

    pub fn into_assignment(self) -> Vec<u32> {
        self.assignment
    }

    /// How many examples each fold holds.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.k];
        for &f in &self.assignment {
            sizes[f as usize] += 1;
        }
        sizes
    }

    /// Round `i`: (training indices, validation indices), both ascending. Panics unless `i < k`.
    pub fn fold(&self, i: usize) -> (Vec<usize>, Vec<usize>) {
        assert!(i < self.k, "fold {i} does not exist: there are {} folds", self.k);
        (0..self.len()).partition(|&j| self.assignment[j] as usize != i)
    }

    /// Every round, fold 0 first.
    pub fn rounds(&self) -> Vec<(Vec<usize>, Vec<usize>)> {
        (0..self.k).map(|i| self.fold(i)).collect()
    }
}

/// k-fold cross-validation over `0..n`: round i's (training, validation) indices, for i in `0..k`.
pub fn k_fold(n: usize, k: usize, seed: u64) -> Result<Vec<(Vec<usize>, Vec<usize>)>> {
    Ok(Folds::plain(n, k, seed)?.rounds())
}

/// Stratified k-fold cross-validation: as [`k_fold`], with every class balanced over the folds.
pub fn stratified_k_fold(labels: &[u8], k: usize, seed: u64) -> Result<Vec<(Vec<usize>, Vec<usize>)>> {
    Ok(Folds::stratified(labels, k, seed)?.rounds())
}

/// The fold of every example; only `labels.len()` matters unless `stratified`.
pub fn fold_of(labels: &[u8], k: usize, seed: u64, stratified: bool) -> Result<Vec<u32>> {
    let folds = if stratified { Folds::stratified(labels, k, seed)? } else { Folds::plain(labels.len(), k, seed)? };
    Ok(folds.into_assignment())
}

/// A number of folds as JavaScript passes it: a whole number from 2 to n (NaN, 2.5, 1 or n + 1 are
/// refused, each by its value).
pub fn fold_count(k: f64, n: usize) -> Result<usize> {
    ensure!(k.is_finite() && k.fract() == 0.0, "k-fold cross-validation needs a whole number of folds (got k = {k})");
    ensure!(k >= 2.0, "k-fold cross-validation needs k ≥ 2 folds (got k = {k})");
    ensure!(k <= n as f64, "k-fold cross-validation needs k ≤ n: cannot make k = {k} folds from n = {n} examples");
    Ok(k as usize)
}

/// Labels as classes for stratification: each must fit in a byte, as a [`Dataset`](super::Dataset)'s do.
pub fn class_labels(labels: &[u32]) -> Result<Vec<u8>> {
    labels
        .iter()
        .enumerate()
        .map(|(i, &l)| match u8::try_from(l) {
            Ok(c) => Ok(c),
            Err(_) => bail!("stratified folds need class labels from 0 to 255: label {l} at example {i} is not one"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// n labels of `classes` classes, unevenly: class c has about twice as many examples as class c + 1.
    fn skewed_labels(n: usize, classes: u8, seed: u64) -> Vec<u8> {
        let mut rng = Rng::stream(seed, "test labels");
        (0..n)
            .map(|_| {
                let mut c = 0;
                while c + 1 < classes && rng.bernoulli(0.5) {
                    c += 1;
                }
                c
            })
            .collect()
    }

    // (n, k, classes, reason)
    const ROWS: &[(usize, usize, u8, &str)] = &[
        (2, 2, 1, "the smallest: one example a fold"),
        (10, 10, 2, "k = n: leave-one-out"),
        (23, 5, 3, "n mod k = 3: three larger folds"),
        (100, 10, 10, "even split, ten classes"),
        (101, 10, 10, "one extra example"),
        (109, 10, 10, "n mod k = 9: all but the last fold larger"),
        (37, 4, 7, "classes with fewer members than k"),
        (1000, 3, 10, "MNIST-like, k = 3"),
        (999, 7, 2, "two unbalanced classes"),
        (64, 2, 1, "one class: stratified = plain"),
    ];
    const SEEDS: [u64; 3] = [0, 1, 2_026];

    fn per_class(folds: &Folds, labels: &[u8]) -> Vec<Vec<usize>> {
        let mut counts = vec![vec![0; folds.k()]; 256];
        for (&f, &l) in folds.assignment().iter().zip(labels) {
            counts[l as usize][f as usize] += 1;
        }
        counts
    }

    #[test]
    fn folds_partition_and_balance() {
        for &(n, k, classes, reason) in ROWS {
            for seed in SEEDS {
                let labels = skewed_labels(n, classes, seed);
                for folds in [Folds::plain(n, k, seed).unwrap(), Folds::stratified(&labels, k, seed).unwrap()] {
                    let why = format!("{reason} (n {n}, k {k}, seed {seed})");
                    assert_eq!((folds.len(), folds.k()), (n, k), "{why}");
                    // Partition: the validation sets are disjoint and cover 0..n; each round trains on the rest.
                    let mut seen = vec![0; n];
                    for (train, val) in folds.rounds() {
                        assert_eq!(train.len() + val.len(), n, "{why}");
                        assert!(train.iter().all(|&j| !val.contains(&j)), "{why}: train and validation overlap");
                        val.iter().for_each(|&j| seen[j] += 1);
                    }
                    assert!(seen.iter().all(|&c| c == 1), "{why}: every example is validated exactly once");
                    // Sizes: ⌊n/k⌋ + 1 for the first n mod k folds, ⌊n/k⌋ after.
                    let want: Vec<usize> = (0..k).map(|f| n / k + usize::from(f < n % k)).collect();
                    assert_eq!(folds.sizes(), want, "{why}");
                }
            }
        }
    }

    #[test]
    fn stratified_folds_balance_every_class() {
        for &(n, k, classes, reason) in ROWS {
            for seed in SEEDS {
                let labels = skewed_labels(n, classes, seed);
                let folds = Folds::stratified(&labels, k, seed).unwrap();
                for (c, counts) in per_class(&folds, &labels).iter().enumerate() {
                    let (lo, hi) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
                    assert!(hi - lo <= 1, "{reason} (n {n}, k {k}, seed {seed}): class {c} is spread {counts:?}");
                }
            }
        }
    }

    #[test]
    fn plain_folds_do_not_balance_classes() {
        // The stratified test above can fail: without stratification the classes of a skewed set are
        // spread unevenly on most seeds.
        let labels = skewed_labels(1000, 10, 5);
        let unbalanced = (0..20)
            .filter(|&seed| {
                let folds = Folds::plain(1000, 5, seed).unwrap();
                per_class(&folds, &labels).iter().any(|c| c.iter().max().unwrap() - c.iter().min().unwrap() > 1)
            })
            .count();
        assert!(unbalanced >= 15, "only {unbalanced} of 20 plain splits were unbalanced");
    }

    #[test]
    fn one_class_stratified_is_plain() {
        for &(n, k, _, reason) in ROWS {
            assert_eq!(Folds::stratified(&vec![3; n], k, 9).unwrap(), Folds::plain(n, k, 9).unwrap(), "{reason}");
        }
    }

    #[test]
    fn folds_are_reproducible_and_seeds_differ() {
        // Rows big enough that two seeds giving the same assignment would be a bug, not chance.
        for &(n, k, classes, reason) in ROWS.iter().filter(|r| r.0 >= 23) {
            let labels = skewed_labels(n, classes, 0);
            for stratified in [false, true] {
                let a = fold_of(&labels, k, 11, stratified).unwrap();
                assert_eq!(a, fold_of(&labels, k, 11, stratified).unwrap(), "{reason}: same seed, same folds");
                assert_ne!(a, fold_of(&labels, k, 12, stratified).unwrap(), "{reason}: another seed, other folds");
            }
        }
    }

    #[test]
    fn fold_of_matches_the_rounds() {
        let labels = skewed_labels(50, 4, 1);
        let assignment = fold_of(&labels, 4, 3, true).unwrap();
        for (i, (train, val)) in stratified_k_fold(&labels, 4, 3).unwrap().iter().enumerate() {
            assert!(val.iter().all(|&j| assignment[j] == i as u32));
            assert!(train.iter().all(|&j| assignment[j] != i as u32));
        }
        assert_eq!(k_fold(50, 4, 3).unwrap(), Folds::plain(50, 4, 3).unwrap().rounds());
    }

    #[test]
    fn bad_k_is_refused_by_value() {
        // (k, n, the message names, reason)
        let rows: &[(f64, usize, &str, &str)] = &[
            (1.0, 10, "k ≥ 2 folds (got k = 1)", "one fold leaves nothing to train on"),
            (0.0, 10, "k ≥ 2 folds (got k = 0)", "zero"),
            (-3.0, 10, "k ≥ 2 folds (got k = -3)", "negative"),
            (11.0, 10, "cannot make k = 11 folds from n = 10 examples", "more folds than examples"),
            (2.5, 10, "whole number of folds (got k = 2.5)", "fractional"),
            (f64::NAN, 10, "whole number of folds (got k = NaN)", "NaN"),
            (f64::INFINITY, 10, "whole number of folds (got k = inf)", "infinite"),
        ];
        for &(k, n, says, reason) in rows {
            let err = fold_count(k, n).unwrap_err();
            assert!(err.message().contains(says), "{reason}: {err}");
        }
        assert_eq!(fold_count(10.0, 10), Ok(10));
        assert!(Folds::plain(3, 1, 0).unwrap_err().message().contains("got k = 1"));
        assert!(Folds::stratified(&[0, 1], 3, 0).unwrap_err().message().contains("from n = 2 examples"));
    }

    #[test]
    fn class_labels_must_fit_a_byte() {
        assert_eq!(class_labels(&[0, 9, 255]), Ok(vec![0, 9, 255]));
        let err = class_labels(&[1, 2, 256]).unwrap_err();
        assert!(err.message().contains("label 256 at example 2"), "{err}");
    }
}
