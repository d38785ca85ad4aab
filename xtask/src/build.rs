//! `cargo xtask build`: the static site in `dist/`.
//!
//! ```text
//! dist/index.html, dist/favicon.svg
//! dist/www/…            the page's modules and style
//! dist/data/…           gzipped MNIST IDX files
//! dist/pkg/descent.js   wasm-bindgen glue (--target web)
//! dist/pkg/descent_bg.wasm          simd128
//! dist/pkg/descent_relaxed_bg.wasm  simd128 + relaxed SIMD (fused multiply-add), release only
//! ```
//! The page picks the relaxed module when `WebAssembly.validate` accepts a relaxed-SIMD
//! instruction, the plain one otherwise; both share the same JS glue.
//! Every URL in the page is relative, so `dist/` works from any sub-path of a static host.

use crate::env::{self, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Build the site; returns the path of `dist/`. `--bench` builds the benchmark's site instead
/// (the same page with the bench-only exports, the `bench` feature) into `target/bench/site`.
pub fn run(args: &[String]) -> Result<PathBuf> {
    let release = !args.iter().any(|a| a == "--debug");
    let bench = args.iter().any(|a| a == "--bench");
    let features: &[&str] = if bench { &["--features", "bench"] } else { &[] };
    env::ensure_wasm_target()?;
    let root = env::root();
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(&root).args(["build", "--package", "descent", "--lib", "--target", env::WASM_TARGET]).args(features);
    if release {
        cargo.arg("--release");
    }
    env::run(&mut cargo)?;
    let profile = if release { "release" } else { "debug" };
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let wasm = target_dir.join(env::WASM_TARGET).join(profile).join("descent.wasm");
    // DESCENT_DIST lets parallel work build into separate folders; dist/ is the default.
    let dist =
        if bench { target_dir.join("bench/site") } else { std::env::var_os("DESCENT_DIST").map(PathBuf::from).unwrap_or_else(|| root.join("dist")) };
    if dist.exists() {
        fs::remove_dir_all(&dist).map_err(|e| format!("cannot clear {}: {e}", dist.display()))?;
    }
    let pkg = dist.join("pkg");
    eprintln!("+ wasm-bindgen --target web {} → {}", wasm.display(), pkg.display());
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .out_name("descent")
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e}"))?
        .typescript(true)
        // `__wbg_reset_state()`: after a trap the page re-instantiates the module in place
        .reset_state_function(true)
        .omit_default_module_path(false)
        .generate(&pkg)
        .map_err(|e| format!("wasm-bindgen failed on {}: {e}", wasm.display()))?;
    let bg = pkg.join("descent_bg.wasm");
    if release {
        if let Some(opt) = env::which("wasm-opt").filter(|o| wasm_opt_is_recent(o)) {
            let tmp = pkg.join("descent_opt.wasm");
            let ok = env::run(
                Command::new(opt)
                    .args([
                        "-O3",
                        "--enable-simd",
                        "--enable-bulk-memory",
                        "--enable-sign-ext",
                        "--enable-nontrapping-float-to-int",
                        "--enable-mutable-globals",
                        "--enable-multivalue",
                        "--enable-reference-types",
                    ])
                    .arg(&bg)
                    .arg("-o")
                    .arg(&tmp),
            );
            match ok {
                Ok(()) => fs::rename(&tmp, &bg).map_err(|e| e.to_string())?,
                Err(e) => eprintln!("note: wasm-opt did not run ({e}); keeping the unoptimized module"),
            }
        } else {
            eprintln!("note: no wasm-opt {MIN_WASM_OPT} or newer on PATH; skipping it (install a recent binaryen for a smaller module)");
        }
    }
    if release {
        build_relaxed(&root, &target_dir, &pkg, features)?;
    }
    copy_file(&root.join("index.html"), &dist.join("index.html"))?;
    copy_file(&root.join("www/favicon.svg"), &dist.join("favicon.svg"))?;
    copy_dir(&root.join("www"), &dist.join("www"))?;
    copy_dir(&root.join("data"), &dist.join("data"))?;
    let size = fs::metadata(&bg).map(|m| m.len()).unwrap_or(0);
    eprintln!("built {} (wasm {:.0} KiB)", dist.display(), size as f64 / 1024.0);
    Ok(dist)
}

/// The relaxed-SIMD twin of the module: the same crate with `+relaxed-simd`, in its own
/// target folder so the two builds never invalidate each other. Its glue must equal the plain
/// build's (same exports, same imports), so one `descent.js` loads either.
fn build_relaxed(root: &Path, target_dir: &Path, pkg: &Path, features: &[&str]) -> Result<()> {
    let relaxed_target = target_dir.join("relaxed");
    env::run(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(root)
            .args(["build", "--package", "descent", "--lib", "--target", env::WASM_TARGET, "--release"])
            .args(features)
            .env("CARGO_TARGET_DIR", &relaxed_target)
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", "-C target-feature=+simd128,+relaxed-simd --cfg=web_sys_unstable_apis"),
    )?;
    let wasm = relaxed_target.join(env::WASM_TARGET).join("release").join("descent.wasm");
    let out = relaxed_target.join("pkg");
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .out_name("descent")
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e}"))?
        .typescript(true)
        .reset_state_function(true)
        .omit_default_module_path(false)
        .generate(&out)
        .map_err(|e| format!("wasm-bindgen failed on {}: {e}", wasm.display()))?;
    let glue = |dir: &Path| fs::read_to_string(dir.join("descent.js")).map_err(|e| e.to_string());
    if glue(&out)? != glue(pkg)? {
        return Err("the relaxed-SIMD build's JS glue differs from the plain build's; they must export the same API".into());
    }
    copy_file(&out.join("descent_bg.wasm"), &pkg.join("descent_relaxed_bg.wasm"))
}

/// Older binaryen releases (Debian 12 ships 108) rewrite wasm-bindgen's externref table into
/// one the browser refuses, so only a recent wasm-opt is used.
const MIN_WASM_OPT: u32 = 116;

fn wasm_opt_is_recent(path: &Path) -> bool {
    let v = env::output(Command::new(path).arg("--version")).unwrap_or_default();
    // "wasm-opt version 123 (version_123)"
    let n = v.split_whitespace().nth(2).and_then(|n| n.parse::<u32>().ok()).unwrap_or(0);
    n >= MIN_WASM_OPT
}

fn copy_file(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    fs::copy(from, to).map(|_| ()).map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).map_err(|e| e.to_string())?;
    let entries = fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            copy_dir(&path, &to.join(&name))?;
        } else {
            copy_file(&path, &to.join(&name))?;
        }
    }
    Ok(())
}
