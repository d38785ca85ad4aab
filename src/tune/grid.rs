//! Grid search: every combination of a few levels per dimension.
//!
//! An axis with k levels places them at the centres of k equal cells of [0, 1]:
//! u_i = (i + ½)/k for i = 0..k. Centres rather than the two ends and points between them,
//! because then one level sits in the middle of the range, no trial is spent on a corner, and
//! an integer or choice axis with k equal to its number of values gets exactly its values.
//! Each level is [snapped](super::space::Dimension::snap) to the value it maps to; two levels
//! that round to the same integer are kept once, so such a grid can come out smaller than
//! planned.
//!
//! The points are the Cartesian product of the axes in a fixed order: the first dimension
//! changes slowest and the last fastest, as Python's `itertools.product` (and so scikit-learn's
//! `ParameterGrid`) enumerate them.
//!
//! With a budget of n trials in d dimensions, [`per_axis`] gives each axis k = ⌊n^(1/d)⌋
//! levels (never more than a discrete axis has values), then adds levels to the axes in turn,
//! first to last, while the product stays within the budget. With 16 trials on two continuous
//! axes that is a 4 × 4 grid, which tries only 4 distinct values of each hyperparameter: the
//! weakness Bergstra and Bengio (2012) point at when only one of them matters.

use super::space::{Dimension, Space};
use crate::{ensure, Result};

/// How many levels each axis gets for a budget of `budget` trials (>= 1).
pub fn per_axis(space: &Space, budget: usize) -> Result<Vec<usize>> {
    ensure!(budget >= 1, "Invalid grid budget: 0 (need at least one trial)");
    let d = space.n_dims() as u32;
    // The largest k with k^d <= budget.
    let mut k = 1usize;
    while (k + 1).checked_pow(d).is_some_and(|p| p <= budget) {
        k += 1;
    }
    let caps: Vec<usize> = space.dims().iter().map(|dim| dim.levels().unwrap_or(usize::MAX)).collect();
    let mut counts: Vec<usize> = caps.iter().map(|&cap| k.min(cap)).collect();
    // Fill what the caps left of the budget, one level per axis per pass.
    loop {
        let mut grew = false;
        for i in 0..counts.len() {
            let product: usize = counts.iter().product();
            if counts[i] < caps[i] && product / counts[i] * (counts[i] + 1) <= budget {
                counts[i] += 1;
                grew = true;
            }
        }
        if !grew {
            return Ok(counts);
        }
    }
}

/// The `k` (>= 1) unit coordinates of one axis: cell centres, snapped, duplicates dropped.
pub fn levels(dim: &Dimension, k: usize) -> Result<Vec<f64>> {
    ensure!(k >= 1, "Invalid grid: 0 levels for \"{}\" (need at least one)", dim.name());
    let mut out: Vec<f64> = Vec::with_capacity(k);
    for i in 0..k {
        let u = dim.snap((i as f64 + 0.5) / k as f64)?;
        if !out.contains(&u) {
            out.push(u);
        }
    }
    Ok(out)
}

/// The Cartesian product of the axes' levels, first dimension slowest; unit coordinates.
pub fn points(space: &Space, per_axis: &[usize]) -> Result<Vec<Vec<f64>>> {
    ensure!(per_axis.len() == space.n_dims(), "Invalid grid: {} level counts for a space of {} dimensions", per_axis.len(), space.n_dims());
    let axes: Vec<Vec<f64>> = space.dims().iter().zip(per_axis).map(|(dim, &k)| levels(dim, k)).collect::<Result<_>>()?;
    let total: usize = axes.iter().map(Vec::len).product();
    let mut out = Vec::with_capacity(total);
    for mut index in 0..total {
        // Mixed-radix digits of `index`, the last axis the fastest digit.
        let mut point = vec![0.0; axes.len()];
        for (axis, coordinate) in axes.iter().zip(point.iter_mut()).rev() {
            *coordinate = axis[index % axis.len()];
            index /= axis.len();
        }
        out.push(point);
    }
    Ok(out)
}

/// The grid a budget of `budget` trials buys: [`points`] at [`per_axis`].
pub fn design(space: &Space, budget: usize) -> Result<Vec<Vec<f64>>> {
    points(space, &per_axis(space, budget)?)
}
