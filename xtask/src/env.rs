//! Finding and installing the tools the other commands need.

use std::path::{Path, PathBuf};
use std::process::Command;

pub type Result<T> = std::result::Result<T, String>;

/// The wasm-bindgen version pinned in the crate (and therefore of the test runner).
pub const WASM_BINDGEN: &str = "0.2.130";
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The workspace root (the folder holding the top Cargo.toml).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace").to_path_buf()
}

/// Run a command, echoing it; fail with its name if it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("+ {}", describe(cmd));
    let status = cmd.status().map_err(|e| format!("could not start `{}`: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(cmd)))
    }
}

/// Run a command and capture its stdout (None if it cannot start or fails).
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Is `name` an executable on PATH?
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    home.join("bin").join(name)
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).map(|s| s.trim() == "0").unwrap_or(false)
}

/// The wasm32 target of the active toolchain.
pub fn ensure_wasm_target() -> Result<()> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]));
    match installed {
        Some(list) if list.lines().any(|l| l.trim() == WASM_TARGET) => Ok(()),
        Some(_) => run(Command::new("rustup").args(["target", "add", WASM_TARGET])),
        None => {
            // No rustup: trust that the target is there, and say what to do if it is not.
            eprintln!("note: rustup not found; if the build fails, install the Rust target {WASM_TARGET}");
            Ok(())
        }
    }
}

/// `wasm-bindgen-test-runner` of exactly the pinned version; returns its path.
pub fn ensure_test_runner() -> Result<PathBuf> {
    let candidates = [which("wasm-bindgen-test-runner"), Some(cargo_bin("wasm-bindgen-test-runner"))];
    for c in candidates.into_iter().flatten() {
        if let Some(v) = output(Command::new(&c).arg("--version")) {
            if v.contains(WASM_BINDGEN) {
                return Ok(c);
            }
        }
    }
    // Without --locked: the CLI's lockfile pins a dependency version the registry may lack.
    run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &format!("={WASM_BINDGEN}")]))?;
    let p = cargo_bin("wasm-bindgen-test-runner");
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!("installed wasm-bindgen-cli {WASM_BINDGEN} but cannot find wasm-bindgen-test-runner at {}", p.display()))
    }
}

/// Debian's Chromium and its WebDriver; returns (chromium, chromedriver).
pub fn ensure_chromium() -> Result<(PathBuf, PathBuf)> {
    let find = || {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].iter().map(PathBuf::from).find(|p| p.is_file());
        let driver = which("chromedriver").or_else(|| Some(PathBuf::from("/usr/bin/chromedriver")).filter(|p| p.is_file()));
        chromium.zip(driver)
    };
    if let Some(found) = find() {
        return Ok(found);
    }
    if is_root() && which("apt-get").is_some() {
        run(Command::new("apt-get").arg("update"))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "chromium", "chromium-driver"])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
        if let Some(found) = find() {
            return Ok(found);
        }
    }
    Err("Chromium and ChromeDriver are needed for the browser tests: install them with \
         `sudo apt-get install chromium chromium-driver` (Debian), then run `cargo xtask test` again"
        .into())
}

/// Node.js and npm; returns the path of node.
pub fn ensure_node() -> Result<PathBuf> {
    if let (Some(node), Some(_)) = (which("node"), which("npm")) {
        let v = output(Command::new(&node).arg("--version")).unwrap_or_default();
        let major: u32 = v.trim().trim_start_matches('v').split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
        if major >= 20 {
            return Ok(node);
        }
        if !is_root() {
            return Err(format!("Node.js 20 or newer is needed (found {}); install it, then run `cargo xtask test` again", v.trim()));
        }
    }
    if is_root() && which("apt-get").is_some() {
        run(Command::new("apt-get").arg("update"))?;
        run(Command::new("apt-get").args(["install", "-y", "nodejs", "npm"]).env("DEBIAN_FRONTEND", "noninteractive"))?;
        if let Some(node) = which("node") {
            return Ok(node);
        }
    }
    Err("Node.js (20 or newer) and npm are needed for the end-to-end tests: install them \
         (e.g. `sudo apt-get install nodejs npm`), then run `cargo xtask test` again"
        .into())
}

/// npm packages of `tests/e2e/package.json` into `tests/e2e/node_modules`.
pub fn ensure_npm_packages() -> Result<()> {
    let dir = root().join("tests/e2e");
    let marker = dir.join("node_modules/playwright-core/package.json");
    if marker.is_file() {
        return Ok(());
    }
    let verb = if dir.join("package-lock.json").is_file() { "ci" } else { "install" };
    run(Command::new("npm")
        .args([verb, "--no-audit", "--no-fund", "--ignore-scripts"])
        .current_dir(&dir)
        // playwright-core never downloads a browser by itself; this makes sure of it.
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))
}
