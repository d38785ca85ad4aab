//! Data: MNIST in IDX form, seeded splits and k-fold partitions, and small synthetic sets.

pub mod folds;
pub mod mnist;
pub mod split;
pub mod synthetic;

pub use folds::{fold_of, k_fold, stratified_k_fold, Folds};
pub use mnist::Mnist;
pub use split::{repeated_holdout, Dataset, Split};
