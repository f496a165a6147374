//! Builds the guest components in hooks/ once per test process and hands out their paths.

use drs_host::{HookHost, HostConfig, Mode, Server, WaveContext};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const TARGET: &str = "wasm32-wasip2";

fn target_dir() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    base.join("hooks")
}

fn build_all() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let sysroot = Command::new("rustc").args(["--print", "sysroot"]).output().expect("run rustc --print sysroot");
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    if !Path::new(&sysroot).join("lib/rustlib").join(TARGET).exists() {
        panic!("the {TARGET} target is not installed; run: rustup target add {TARGET}");
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hooks/Cargo.toml");
    let dir = target_dir();
    let out = Command::new(cargo)
        .args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &dir)
        .output()
        .expect("spawn cargo to build hooks/");
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("may not be installed") || stderr.contains("can't find crate for `core`") {
            panic!("the {TARGET} target is not installed; run: rustup target add {TARGET}\n{stderr}");
        }
        panic!("building hooks/ failed:\n{stderr}");
    }
    dir.join(TARGET).join("release")
}

/// Path of a built guest, by crate name (e.g. "hostile-multi").
pub fn guest(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(build_all).join(format!("{}.wasm", name.replace('-', "_")))
}

/// A guest's bytes and their SHA-256 pin.
pub fn guest_bytes(name: &str) -> (Vec<u8>, String) {
    let bytes = std::fs::read(guest(name)).expect("read built guest");
    let pin = drs_host::sha256_hex(&bytes);
    (bytes, pin)
}

/// A host with a cache directory of its own.
pub fn host(test: &str) -> (HookHost, PathBuf) {
    let dir = std::env::temp_dir().join(format!("drs-host-test-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    (HookHost::new(HostConfig::new(&dir)).expect("create host"), dir)
}

pub fn server(id: &str, tags: &[(&str, &str)]) -> Server {
    Server {
        account: "111122223333".into(),
        region: "eu-west-1".into(),
        hostname: format!("{id}.example.internal"),
        source_server_id: id.into(),
        tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

/// A wave context whose execution id selects the hostile guest's behaviour.
pub fn context(execution_id: &str, servers: Vec<Server>) -> WaveContext {
    WaveContext {
        execution_id: execution_id.into(),
        tenant: "acme".into(),
        mode: Mode::Drill,
        wave_index: 0,
        wave_name: "databases".into(),
        servers,
    }
}
