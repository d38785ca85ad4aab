//! Training: the mini-batch loop and what it records.

pub mod early_stopping;
pub mod engine;
pub mod history;
pub mod trainer;

pub use engine::{CpuEngine, Engine, Finished};
pub use history::{smoothed, Check, EpochRecord, History};
pub use trainer::{Status, Stopper, TrainConfig, Trainer, Unit, MAX_CHECKS_PER_EPOCH};
