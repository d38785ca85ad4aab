//! The "From GD to SGD: the batch dimension" cell's wasm class.

experiment!(
    /// Noise and digits through a fresh network (`lab::batch`), computed when built: charts
    /// "noiseSoftmax", "digitSoftmax" and "digits".
    Batch,
    crate::lab::batch::Batch,
    crate::lab::batch::BatchSpec,
    "settings"
);
