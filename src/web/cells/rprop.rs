//! The Rprop cell's classes: the thought experiment (`lab::rprop_thought`, no MNIST) and the
//! MNIST comparison (`lab::rprop`).

use super::frames::standalone;

standalone!(
    /// One weight, ten mini-batch gradients that cancel (`lab::rprop_thought`).
    RpropThought,
    crate::lab::rprop_thought::RpropThought,
    crate::lab::rprop_thought::ThoughtSpec,
    "thought experiment settings"
);

experiment!(
    /// Full-batch Rprop, mini-batch Rprop and mini-batch RMSprop on MNIST (`lab::rprop`).
    RpropCompare,
    crate::lab::rprop::RpropCompare,
    crate::lab::rprop::RpropSpec,
    "rprop settings"
);
