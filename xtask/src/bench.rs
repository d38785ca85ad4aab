//! `cargo xtask bench [--quick]`: speed, measured as ratios against a peer in the same process.
//!
//! Builds the site, installs the peer (TensorFlow.js 4.22 with its wasm backend) into
//! `bench/node_modules`, and runs `bench/bench.mjs` in Node: the multiply-add peak of each wasm
//! build, GEMM GFLOP/s at the MLP's shapes for each CPU kernel (and as a percentage of that
//! peak), and training samples/s of MLP 784-256-128-10 (ReLU, Adam, batch 64) on MNIST next to
//! TensorFlow.js. Then, where Debian's Chromium is installed, the WebGPU part: `bench/gpu.html`
//! in headless Chromium with its software (SwiftShader) adapter, driven by playwright-core from
//! the end-to-end tests' packages; without Chromium or an adapter that part is skipped with a
//! note. Results go to `target/bench/results.json` and a table.

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
    let dist = crate::build::run(&["--bench".into()])?;
    let mut cmd = Command::new(node);
    // relaxed SIMD is behind a flag in Node 20 (Chromium has it on by default). --no-liftoff:
    // every wasm function is compiled by V8's optimizing tier on its first call, so no timing
    // is taken on baseline code still waiting for its background tier-up (on a busy 2-core
    // machine that can lag for seconds, and ndarray's product sometimes read 3× slow).
    cmd.current_dir(&root)
        .args(["--experimental-wasm-relaxed-simd", "--no-liftoff", "bench/bench.mjs"])
        .env("DESCENT_DIST", &dist)
        .env("DESCENT_BENCH_OUT", root.join("target/bench"));
    if quick {
        cmd.env("DESCENT_BENCH_QUICK", "1");
    }
    // The WebGPU part needs a browser already on the machine (never downloaded here) and
    // playwright-core to drive it; without them bench.mjs skips that part.
    match ["/usr/bin/chromium", "/usr/bin/chromium-browser"].iter().map(std::path::Path::new).find(|p| p.is_file()) {
        Some(chromium) => match env::ensure_npm_packages() {
            Ok(()) => {
                cmd.env("DESCENT_CHROMIUM", chromium);
            }
            Err(e) => eprintln!("note: playwright-core is missing ({e}); the WebGPU part will be skipped"),
        },
        None => {
            cmd.env("DESCENT_CHROMIUM", "");
        }
    }
    env::run(&mut cmd)
}
