//! Builds the guest components in hooks/: the Rust ones with cargo for wasm32-wasip2, the
//! JavaScript one with node (ComponentizeJS). Used by the host's tests (`common/mod.rs`) and
//! by `drs-orch bench hooks` (included there by path), so it needs only std and drs_host.
//!
//! Everything lands under `$CARGO_TARGET_DIR/hooks` (or `target/hooks`).
#![allow(dead_code)] // each includer uses a part

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const TARGET: &str = "wasm32-wasip2";

/// The name of the JavaScript hook's directory under hooks/ (and, with `_`, of its .wasm).
pub const JS_HOOK: &str = "freeze-window-js";

/// The repository root: the nearest ancestor holding hooks/Cargo.toml, searched from the
/// working directory (cargo runs tests in their package's directory) before the directory
/// this was compiled in, since a shared target dir may hold a build made in another clone.
pub fn repo_root() -> PathBuf {
    let compiled_in = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    let starts = std::env::current_dir().into_iter().chain([compiled_in.clone()]);
    for start in starts {
        if let Some(root) = start.ancestors().find(|dir| dir.join("hooks/Cargo.toml").is_file()) {
            return root.to_path_buf();
        }
    }
    panic!("no hooks/Cargo.toml above the working directory or {}", compiled_in.display())
}

pub fn hooks_out_dir() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"));
    base.join("hooks")
}

/// Build every Rust guest (cargo's own freshness check makes a repeat cheap); returns the
/// directory holding `<crate_name>.wasm`.
pub fn build_rust_guests() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let sysroot = Command::new("rustc").args(["--print", "sysroot"]).output().map_err(|e| format!("run rustc: {e}"))?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    if !Path::new(&sysroot).join("lib/rustlib").join(TARGET).exists() {
        return Err(format!("the {TARGET} target is not installed; run: rustup target add {TARGET}"));
    }
    let manifest = repo_root().join("hooks/Cargo.toml");
    let dir = hooks_out_dir();
    let out = Command::new(cargo)
        .args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &dir)
        .output()
        .map_err(|e| format!("spawn cargo to build hooks/: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("may not be installed") || stderr.contains("can't find crate for `core`") {
            return Err(format!("the {TARGET} target is not installed; run: rustup target add {TARGET}\n{stderr}"));
        }
        return Err(format!("building hooks/ failed:\n{stderr}"));
    }
    Ok(dir.join(TARGET).join("release"))
}

/// What became of the JavaScript hook.
pub enum JsHook {
    /// Built now, or unchanged since the last build.
    Built { path: PathBuf, rebuilt: bool },
    /// node or npm is missing: the reason, for a skip message.
    Unavailable(String),
}

/// Build hooks/freeze-window-js into `$CARGO_TARGET_DIR/hooks/freeze_window_js.wasm` when node and
/// npm exist. The inputs (hook.js, build.mjs, package-lock.json and the WIT) are hashed into a
/// stamp beside the output; an unchanged hash skips the build (ComponentizeJS takes 10-45 s).
/// `npm ci` runs when node_modules is missing or was installed from another lock file.
pub fn build_js_hook() -> Result<JsHook, String> {
    let src = repo_root().join("hooks").join(JS_HOOK);
    let out = hooks_out_dir().join(format!("{}.wasm", JS_HOOK.replace('-', "_")));
    let stamp = out.with_extension("wasm.inputs-sha256");
    // One builder at a time (test binaries and the bench may race); held until return.
    std::fs::create_dir_all(hooks_out_dir()).map_err(|e| format!("{}: {e}", hooks_out_dir().display()))?;
    let lock_path = out.with_extension("lock");
    let _guard =
        File::create(&lock_path).and_then(|f| f.lock().map(|_| f)).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    let lock = read(&src.join("package-lock.json"))?;
    let inputs = inputs_hash(&src, &lock)?;
    if out.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == inputs) {
        return Ok(JsHook::Built { path: out, rebuilt: false });
    }
    for tool in ["node", "npm"] {
        if !Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return Ok(JsHook::Unavailable(format!("{tool} is not installed")));
        }
    }
    // node_modules/.drs-lock-sha256 records the lock file it was installed from: `npm ci` when
    // there is no node_modules, or it came from another lock. One installed by hand (or by
    // .ci/run) without the record is taken as installed from the lock there now.
    let installed = src.join("node_modules/.drs-lock-sha256");
    let lock_hash = drs_host::sha256_hex(&lock);
    let recorded = std::fs::read_to_string(&installed).ok();
    let modules = src.join("node_modules/@bytecodealliance/componentize-js").is_dir();
    if !modules || recorded.is_some_and(|r| r.trim() != lock_hash) {
        run(Command::new("npm").args(["ci", "--prefer-offline", "--no-audit", "--no-fund"]).current_dir(&src), "npm ci")?;
    }
    std::fs::write(&installed, &lock_hash).map_err(|e| format!("{}: {e}", installed.display()))?;
    run(Command::new("node").arg("build.mjs").arg("--out").arg(&out).current_dir(&src), "node build.mjs")?;
    std::fs::write(&stamp, &inputs).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(JsHook::Built { path: out, rebuilt: true })
}

/// SHA-256 over each input's name and bytes, in a fixed order.
fn inputs_hash(src: &Path, lock: &[u8]) -> Result<String, String> {
    let mut wit: Vec<PathBuf> = std::fs::read_dir(repo_root().join("host/wit"))
        .map_err(|e| format!("host/wit: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wit"))
        .collect();
    wit.sort();
    let mut all = Vec::new();
    for path in [src.join("hook.js"), src.join("build.mjs")].iter().chain(&wit) {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        all.extend_from_slice(format!("{name}\0{}\0", drs_host::sha256_hex(&read(path)?)).as_bytes());
    }
    all.extend_from_slice(format!("package-lock.json\0{}\0", drs_host::sha256_hex(lock)).as_bytes());
    Ok(drs_host::sha256_hex(&all))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("spawn {what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}
