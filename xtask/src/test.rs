//! `cargo xtask test`: the house's habits, then every test, in three layers.
//!
//! 0. habits: `cargo fmt --check`, and `cargo clippy -D warnings` natively (every target) and
//!    for wasm32 (the library and the browser test suites);
//! 1. native: `cargo test` of the core (no browser);
//! 2. wasm: `wasm-bindgen-test` in headless Chromium through ChromeDriver (`tests/web.rs`),
//!    then the WebGPU kernels on Chromium's SwiftShader adapter (`tests/web_gpu.rs`);
//! 3. end-to-end: Node's test runner driving Debian's Chromium with playwright-core against
//!    `dist/` served on 127.0.0.1 (`tests/e2e/*.test.mjs`), plus the JS API in Node.

use crate::env::{self, Result};
use std::fs;
use std::process::Command;

/// Chromium flags every headless run uses (the closed network here makes the background
/// services' connections fail noisily, so they are off).
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

/// What Chromium needs for a WebGPU adapter without a GPU: WebGPU on Linux, on Vulkan, with
/// SwiftShader (a CPU implementation of Vulkan) as the Vulkan driver and no window surface.
pub const WEBGPU_FLAGS: &[&str] =
    &["--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=swiftshader", "--use-angle=swiftshader", "--disable-vulkan-surface"];

/// A WebDriver capabilities file that starts `chromium` with `flags`.
fn webdriver_json(path: &std::path::Path, chromium: &std::path::Path, flags: &[&str]) -> Result<()> {
    let args: Vec<String> = flags.iter().map(|f| format!("\"{}\"", f.trim_start_matches("--"))).collect();
    let caps = format!("{{\"goog:chromeOptions\": {{\"binary\": \"{}\", \"args\": [{}]}}}}", chromium.display(), args.join(", "));
    fs::write(path, caps).map_err(|e| e.to_string())
}

pub fn run(args: &[String]) -> Result<()> {
    let skip_e2e = args.iter().any(|a| a == "--skip-e2e");
    let skip_wasm = args.iter().any(|a| a == "--skip-wasm");
    let root = env::root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());

    eprintln!("== formatting and lints");
    env::run(Command::new(&cargo).current_dir(&root).args(["fmt", "--all", "--check"]))
        .map_err(|e| format!("{e}\nrun `cargo fmt --all` to format the code"))?;
    env::run(Command::new(&cargo).current_dir(&root).args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    if !skip_wasm {
        env::ensure_wasm_target()?;
        env::run(Command::new(&cargo).current_dir(&root).args([
            "clippy",
            "--package",
            "descent",
            "--target",
            env::WASM_TARGET,
            "--lib",
            "--test",
            "web",
            "--test",
            "web_gpu",
            "--",
            "-D",
            "warnings",
        ]))?;
    }

    eprintln!("== native tests");
    env::run(Command::new(&cargo).current_dir(&root).args(["test", "--package", "descent"]))?;

    if !skip_wasm {
        eprintln!("== wasm tests in headless Chromium");
        env::ensure_wasm_target()?;
        let runner = env::ensure_test_runner()?;
        let (chromium, driver) = env::ensure_chromium()?;
        let dir = root.join("target/webdriver");
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let json = dir.join("cpu.json");
        webdriver_json(&json, &chromium, CHROMIUM_FLAGS)?;
        env::run(
            Command::new(&cargo)
                .current_dir(&root)
                .args(["test", "--package", "descent", "--target", env::WASM_TARGET, "--test", "web"])
                // optimized as the site is: the loops the compiler vectorizes are only SIMD at -O2 and up
                .env("CARGO_PROFILE_TEST_OPT_LEVEL", "3")
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner)
                .env("CHROMEDRIVER", &driver)
                .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &json)
                .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
        )?;

        // The WebGPU kernels, on Chromium's software adapter; DESCENT_REQUIRE_WEBGPU makes a
        // missing adapter a failure instead of a skip.
        eprintln!("== WebGPU tests in headless Chromium (SwiftShader)");
        let gpu_json = dir.join("gpu.json");
        let flags: Vec<&str> = CHROMIUM_FLAGS.iter().chain(WEBGPU_FLAGS).copied().collect();
        webdriver_json(&gpu_json, &chromium, &flags)?;
        env::run(
            Command::new(&cargo)
                .current_dir(&root)
                .args(["test", "--package", "descent", "--target", env::WASM_TARGET, "--test", "web_gpu"])
                .env("CARGO_PROFILE_TEST_OPT_LEVEL", "3")
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner)
                .env("CHROMEDRIVER", &driver)
                .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &gpu_json)
                .env("WASM_BINDGEN_TEST_TIMEOUT", "300")
                .env("DESCENT_REQUIRE_WEBGPU", "1"),
        )?;
    }

    if !skip_e2e {
        eprintln!("== end-to-end tests");
        let (chromium, _) = env::ensure_chromium()?;
        let node = env::ensure_node()?;
        env::ensure_npm_packages()?;
        let dist = crate::build::run(&[])?;
        let e2e = root.join("tests/e2e");
        let mut files: Vec<_> = fs::read_dir(&e2e)
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
            .collect();
        files.sort();
        let out = std::env::var_os("DESCENT_E2E_OUT").map(std::path::PathBuf::from).unwrap_or_else(|| root.join("target/e2e"));
        fs::create_dir_all(&out).map_err(|e| e.to_string())?;
        env::run(
            Command::new(node)
                .current_dir(&root)
                .arg("--test")
                .arg("--test-concurrency=1")
                .args(&files)
                .env("DESCENT_DIST", &dist)
                .env("DESCENT_CHROMIUM", &chromium)
                .env("DESCENT_E2E_OUT", &out),
        )?;
    }
    eprintln!("all tests passed");
    Ok(())
}
