//! Training: the mini-batch loop and what it records.

pub mod engine;
pub mod metrics;
pub mod trainer;

pub use engine::{CpuEngine, Engine, Finished};
pub use metrics::{EpochRecord, History};
pub use trainer::{Status, TrainConfig, Trainer};
