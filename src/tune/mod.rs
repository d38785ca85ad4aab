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
//! Everything is seeded through [`crate::Rng`] streams and replays exactly.

pub mod grid;
pub mod lhs;
pub mod random;
pub mod space;

pub use space::{Dimension, Kind, Point, Space, Value};
