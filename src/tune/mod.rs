//! Hyperparameter search: grid, random and Bayesian optimization, in plain Rust.
//!
//! A search works in the unit cube of a [`Space`] (one axis per hyperparameter, each mapped to
//! and from [0, 1]) and turns points into real values only to run a trial. Three ways to choose
//! the trials:
//!
//! - [`grid`]: every combination of a few levels per axis;
//! - [`random`]: independent uniform points (Bergstra and Bengio, JMLR 2012);
//! - [`bayes`]: Bayesian optimization — a Latin-hypercube start ([`lhs`]), then a Gaussian
//!   process ([`gp`], [`kernel`], hyperparameters by [`fit`]) models the objective and an
//!   acquisition function ([`acquisition`]) picks the next trials.
//!
//! [`synthetic`] is a cheap objective of the same shape as a real one, for comparing the three
//! over many seeds. Everything is seeded through [`crate::Rng`] streams and replays exactly.

pub mod acquisition;
pub mod bayes;
pub mod fit;
pub mod gp;
pub mod grid;
pub mod kernel;
pub mod lhs;
mod linalg;
pub mod normal;
pub mod random;
pub mod space;
pub mod synthetic;

pub use acquisition::Acquisition;
pub use bayes::{BayesOpt, BayesOptions, Observation, Proposal};
pub use fit::{Bounds, FitOptions, FitReport};
pub use gp::{GaussianProcess, GpConfig, Params};
pub use kernel::Kernel;
pub use space::{Dimension, Kind, Point, Space, Value};
