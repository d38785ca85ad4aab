//! The "RMSprop and Adam" cell's wasm class.

experiment!(
    /// Four short runs from one seed and their per-weight view (`lab::adaptive`): charts
    /// "rates", "moments", "loss" and "updates".
    Adaptive,
    crate::lab::adaptive::Adaptive,
    crate::lab::adaptive::AdaptiveSpec,
    "settings"
);
