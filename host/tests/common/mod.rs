//! Builds the guest components in hooks/ once per test process and hands out their paths.

#![allow(dead_code)] // each test binary uses a part

pub mod build;

use drs_host::{HookHost, HostConfig, Mode, Server, WaveContext};
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Path of a built Rust guest, by crate name (e.g. "hostile-multi").
pub fn guest(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| build::build_rust_guests().unwrap_or_else(|e| panic!("{e}")))
        .join(format!("{}.wasm", name.replace('-', "_")))
}

/// Path of the JavaScript hook (hooks/freeze-window-js), built when node and npm exist.
/// None (with the reason printed) when they do not, unless DRS_REQUIRE_JS_HOOK=1 (CI sets it),
/// which turns a missing node into a failure.
pub fn js_guest() -> Option<PathBuf> {
    static PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
    PATH.get_or_init(|| match build::build_js_hook().unwrap_or_else(|e| panic!("building the JavaScript hook: {e}")) {
        build::JsHook::Built { path, rebuilt } => {
            eprintln!("JavaScript hook {} ({})", path.display(), if rebuilt { "built" } else { "inputs unchanged, not rebuilt" });
            Some(path)
        }
        build::JsHook::Unavailable(why) if std::env::var("DRS_REQUIRE_JS_HOOK").is_ok_and(|v| v == "1") => {
            panic!("DRS_REQUIRE_JS_HOOK=1 but the JavaScript hook cannot be built: {why}")
        }
        build::JsHook::Unavailable(why) => {
            // Past libtest's capture, so that a passing run still says what it left out.
            let _ = writeln!(std::io::stderr(), "skipped: the JavaScript hook's tests: {why}");
            None
        }
    })
    .clone()
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
        // 2026-12-01T00:00:00Z
        now: 1_796_083_200,
        servers,
    }
}
