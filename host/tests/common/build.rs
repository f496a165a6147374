//! Builds the guest components in hooks/: the Rust ones with cargo for wasm32-wasip2, the
//! JavaScript one with node (ComponentizeJS). Used by the host's tests (`common/mod.rs`) and
//! by `drs-orch bench hooks` (included there by path), so it needs only std and drs_host.
//!
//! Everything lands under `$CARGO_TARGET_DIR/hooks` (or `target/hooks`).
#![allow(dead_code)] // each includer uses a part

use std::fs::File;
use std::io::Write;
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
    // None found: the compile-time directory; the build's error then names the missing hooks/.
    compiled_in
}

pub fn hooks_out_dir() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"));
    base.join("hooks")
}

/// Why the Rust guests could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// `rustc --print sysroot` could not be run.
    Rustc(std::io::Error),
    /// The target is missing and there is no rustup to add it.
    NoRustup { toolchain: String, source: std::io::Error },
    /// `rustup target add` failed (offline, a toolchain rustup does not manage, ...).
    TargetAdd { toolchain: String, detail: String },
    /// The lock serializing target installs could not be taken.
    Lock { path: PathBuf, source: std::io::Error },
    /// cargo could not be started, or the build failed.
    Cargo(String),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::Rustc(e) => write!(f, "run `rustc --print sysroot`: {e}"),
            BuildError::NoRustup { toolchain, source } => write!(
                f,
                "the {TARGET} target is not installed for {toolchain} and rustup, which would add it, \
                 could not be run ({source}); install the target for that compiler"
            ),
            BuildError::TargetAdd { toolchain, detail } => {
                write!(f, "`rustup target add {TARGET}` for {toolchain} failed (is the network reachable?): {detail}")
            }
            BuildError::Lock { path, source } => write!(f, "lock {}: {source}", path.display()),
            BuildError::Cargo(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for BuildError {}

/// Build every Rust guest (cargo's own freshness check makes a repeat cheap), adding the
/// wasm32-wasip2 target first when it is missing; returns the directory holding
/// `<crate_name>.wasm`.
pub fn build_rust_guests() -> Result<PathBuf, BuildError> {
    ensure_target()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = repo_root().join("hooks/Cargo.toml");
    let dir = hooks_out_dir();
    let out = Command::new(cargo)
        .args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &dir)
        .output()
        .map_err(|e| BuildError::Cargo(format!("spawn cargo to build hooks/: {e}")))?;
    if !out.status.success() {
        return Err(BuildError::Cargo(format!("building hooks/ failed:\n{}", String::from_utf8_lossy(&out.stderr))));
    }
    Ok(dir.join(TARGET).join("release"))
}

/// The toolchain the tests run under: rustup's proxies set RUSTUP_TOOLCHAIN for what they
/// start (cargo, and so the test binaries), and it wins over the default for rustc as well.
fn toolchain() -> Option<String> {
    std::env::var("RUSTUP_TOOLCHAIN").ok().filter(|t| !t.is_empty())
}

fn target_installed() -> Result<bool, BuildError> {
    let out = Command::new("rustc").args(["--print", "sysroot"]).output().map_err(BuildError::Rustc)?;
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(!sysroot.is_empty() && Path::new(&sysroot).join("lib/rustlib").join(TARGET).is_dir())
}

/// Add the target with rustup when the toolchain lacks it, so that `cargo test` alone works on
/// a fresh machine (a rust-toolchain.toml's `targets` would not: rustup adds those only when it
/// installs the toolchain itself). Test binaries run this at once; rustup does not lock its
/// own directory, so a file lock makes one add it and the others find it there.
fn ensure_target() -> Result<(), BuildError> {
    if target_installed()? {
        return Ok(());
    }
    let dir = hooks_out_dir();
    let lock_path = dir.join(format!("{TARGET}-target-add.lock"));
    let lock = |source| BuildError::Lock { path: lock_path.clone(), source };
    std::fs::create_dir_all(&dir).map_err(lock)?;
    let _guard = File::create(&lock_path).and_then(|f| f.lock().map(|_| f)).map_err(lock)?;
    if target_installed()? {
        return Ok(());
    }
    let toolchain_name = toolchain();
    let described = toolchain_name.clone().unwrap_or_else(|| "the active toolchain".into());
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", TARGET]);
    if let Some(t) = &toolchain_name {
        cmd.args(["--toolchain", t]);
    }
    // Straight to stderr, past libtest's capture: a download that takes a while should say so.
    let say = |line: String| drop(writeln!(std::io::stderr(), "{line}"));
    say(format!("the {TARGET} target is missing: rustup target add {TARGET} (toolchain: {described})"));
    let started = std::time::Instant::now();
    let out = cmd.output().map_err(|source| BuildError::NoRustup { toolchain: described.clone(), source })?;
    if !out.status.success() {
        let detail = format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
        return Err(BuildError::TargetAdd { toolchain: described, detail });
    }
    if !target_installed()? {
        let detail = "rustup reported success, but rustc's sysroot still lacks the target".to_owned();
        return Err(BuildError::TargetAdd { toolchain: described, detail });
    }
    say(format!("added the {TARGET} target in {:.1?}", started.elapsed()));
    Ok(())
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
    if let Some(why) = js_tools_missing() {
        return Ok(JsHook::Unavailable(why));
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

/// The oldest node ComponentizeJS runs on (its `engines` in package-lock.json).
const MIN_NODE_MAJOR: u32 = 18;

/// Why node or npm cannot build the hook: missing, or a node too old. None when they can.
fn js_tools_missing() -> Option<String> {
    let mut node_version = String::new();
    for tool in ["node", "npm"] {
        match Command::new(tool).arg("--version").output() {
            Ok(o) if o.status.success() && tool == "node" => node_version = String::from_utf8_lossy(&o.stdout).trim().to_owned(),
            Ok(o) if o.status.success() => {}
            _ => return Some(format!("{tool} is not installed")),
        }
    }
    let major = node_version.trim_start_matches('v').split('.').next().and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(m) if m >= MIN_NODE_MAJOR => None,
        _ => Some(format!("node {node_version} is older than {MIN_NODE_MAJOR}, which ComponentizeJS needs")),
    }
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
