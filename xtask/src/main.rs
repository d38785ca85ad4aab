//! `cargo xtask <command>`: the project's whole set-up and workflow.
//!
//! - `build [--debug]`        compile to wasm and write the static site to `dist/`
//! - `serve [--port N]`       build, then serve `dist/` on 127.0.0.1
//! - `test [--skip-e2e]`      native tests, wasm tests in headless Chromium, end-to-end page tests
//! - `bench [--quick]`        GEMM and training speed beside TensorFlow.js, in Node
//!
//! Every command installs what it needs (the rustup target, the wasm-bindgen test runner,
//! npm packages into a local folder, Debian's Chromium when running as root) or stops with a
//! message naming exactly what to install.

mod bench;
mod build;
mod env;
mod serve;
mod test;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <build [--debug] | serve [--port N] | test [--skip-e2e] [--skip-wasm] | bench [--quick]>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build") => build::run(&args[1..]).map(|_| ()),
        Some("serve") => serve::run(&args[1..]),
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("xtask: {msg}");
            ExitCode::FAILURE
        }
    }
}
