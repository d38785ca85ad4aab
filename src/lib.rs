//! Descent: a browser notebook for learning how neural networks are trained.
//!
//! The core (everything but `web`) is plain Rust that builds and tests natively; `web` is
//! the only module that touches wasm-bindgen, js-sys or web-sys.
//!
//! Data flows one way, and the module graph has no cycles: `rng` ← `backend` kernels ← `nn` ←
//! `optim` ← `gpu` (the WGSL training step, described in plain Rust) ← `train` ← `lab` (the
//! notebook's experiments) ← `web` → page.

pub mod backend;
pub mod data;
mod error;
pub mod gpu;
pub mod init;
pub mod lab;
pub mod landscape;
pub mod limits;
pub mod memory;
pub mod nn;
pub mod optim;
pub mod plot;
pub mod rng;
pub mod train;
pub mod tune;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{count, finite, seed, Error, Result};
pub use rng::Rng;
