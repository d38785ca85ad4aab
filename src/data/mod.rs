//! Data: MNIST in IDX form, seeded splits, and small synthetic sets.

pub mod mnist;
pub mod split;
pub mod synthetic;

pub use mnist::Mnist;
pub use split::{Dataset, Split};
