//! Hyperparameter search, in plain Rust.
//!
//! A search works in the unit cube of a [`Space`] (one axis per hyperparameter, each mapped to
//! and from [0, 1]) and turns points into real values only to run a trial. Ways to choose the
//! trials:
//!
//! - [`grid`]: every combination of a few levels per axis;
//! - [`random`]: independent uniform points (Bergstra and Bengio, JMLR 2012);
//! - [`lhs`]: a Latin hypercube, random but spread evenly along every axis.
//!
//! The model a Bayesian optimization needs: a Gaussian process ([`gp`], [`kernel`],
//! hyperparameters by [`fit`]) and the acquisition functions that score trials with it
//! ([`acquisition`], through the normal distribution of [`normal`]).
//!
//! Everything is seeded through [`crate::Rng`] streams and replays exactly.

pub mod acquisition;
pub mod fit;
pub mod gp;
pub mod grid;
pub mod kernel;
pub mod lhs;
mod linalg;
pub mod normal;
pub mod random;
pub mod space;

pub use acquisition::Acquisition;
pub use fit::{Bounds, FitOptions, FitReport};
pub use gp::{GaussianProcess, GpConfig, Params};
pub use kernel::Kernel;
pub use space::{Dimension, Kind, Point, Space, Value};
