//! `cargo xtask bench [--quick]`: speed, measured as ratios against a peer in the same process.
//!
//! Builds the site, installs the peer (TensorFlow.js 4.22 with its wasm backend) into
//! `bench/node_modules`, and runs `bench/bench.mjs` in Node: GEMM GFLOP/s at the MLP's shapes
//! for each CPU kernel, and training samples/s of MLP 784-256-128-10 (ReLU, Adam, batch 64) on
//! MNIST next to TensorFlow.js. Results go to `target/bench/results.json` and a table.

use crate::env::{self, Result};
use std::process::Command;

pub fn run(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let root = env::root();
    let node = env::ensure_node()?;
    let dir = root.join("bench");
    if !dir.join("node_modules/@tensorflow/tfjs-backend-wasm/package.json").is_file() {
        let verb = if dir.join("package-lock.json").is_file() { "ci" } else { "install" };
        env::run(Command::new("npm").args([verb, "--no-audit", "--no-fund", "--ignore-scripts"]).current_dir(&dir))?;
    }
    let dist = crate::build::run(&[])?;
    let mut cmd = Command::new(node);
    // relaxed SIMD is behind a flag in Node 20 (Chromium has it on by default)
    cmd.current_dir(&root).arg("--experimental-wasm-relaxed-simd").arg("bench/bench.mjs").env("DESCENT_DIST", &dist).env("DESCENT_BENCH_OUT", root.join("target/bench"));
    if quick {
        cmd.env("DESCENT_BENCH_QUICK", "1");
    }
    env::run(&mut cmd)
}
