//! The "Pretraining" cell's experiment (`lab::pretrain`).

experiment!(
    /// Pretrain on digits 0–4, then fine-tune from those weights and from random ones
    /// (`lab::pretrain::Pretrain`).
    Pretrain,
    crate::lab::pretrain::Pretrain,
    crate::lab::pretrain::PretrainSpec,
    "pretraining settings"
);
