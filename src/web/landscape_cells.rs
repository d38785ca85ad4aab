//! Empty: the momentum and rprop cells' bindings now live in `cells/landscape.rs` and
//! `cells/rprop.rs` (their experiments in `lab::landscape`, `lab::rprop_thought` and
//! `lab::rprop`), and `drawLogChart` is the `convergence` chart kind, drawn by `drawChart`.
//! This file goes when `web/mod.rs` drops its `mod landscape_cells;`.
