//! The JavaScript hook (hooks/freeze-window-js, ComponentizeJS) in the host: a second
//! language through the same WIT world and sandbox. The component is ~12 MB, so it is built
//! (when node and npm exist) and loaded once per test binary, the compiled artifact is kept
//! between runs, and the tests are few.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;

use common::{context, js_guest, server};
use drs_host::{Decision, Hook, HookHost, HostConfig, LaunchOutcome, Mode, ServerOutcome, WaveContext, WaveResult};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

struct Js {
    host: HookHost,
    hook: Hook,
    cache_dir: PathBuf,
}

/// The host and the loaded hook, or None when node/npm are missing (the tests then skip).
fn js() -> Option<&'static Js> {
    static LOADED: OnceLock<Option<Js>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let path = js_guest()?;
            let bytes = std::fs::read(&path).expect("read the JavaScript hook");
            // A cache kept between runs (keyed by the component's hash and the engine's
            // settings): the debug-build compile of ~12 MB takes about a minute, a reload ms.
            let cache_dir = common::build::hooks_out_dir().join("js-test-cache");
            let sha256 = drs_host::sha256_hex(&bytes);
            // Earlier builds' artifacts (~37 MB each) are of no more use.
            for old in std::fs::read_dir(&cache_dir).into_iter().flatten().flatten() {
                if !old.file_name().to_string_lossy().starts_with(&sha256) {
                    let _ = std::fs::remove_file(old.path());
                }
            }
            // Generous time caps: an unoptimized host on a loaded machine is slow to compile
            // and instantiate a 12 MB component, and the caps are not what these tests are about.
            let config = HostConfig {
                call_timeout: Duration::from_secs(5),
                compile_timeout: Duration::from_secs(600),
                ..HostConfig::new(&cache_dir)
            };
            let host = HookHost::new(config).expect("create host");
            let started = Instant::now();
            // A refused import (wasi:http, wasi:sockets) would fail here, by name.
            let hook = host.load(&bytes, &sha256).expect("load the JavaScript hook");
            eprintln!("JavaScript hook: {} bytes, loaded ({:?}) in {:?}", bytes.len(), hook.source, started.elapsed());
            Some(Js { host, hook, cache_dir })
        })
        .as_ref()
}

/// A context at `time` (RFC 3339), the module's clock as the WIT passes it.
fn at(time: &str, mode: Mode, servers: Vec<drs_host::Server>) -> WaveContext {
    let now = chrono::DateTime::parse_from_rfc3339(time).unwrap().timestamp() as u64;
    WaveContext { mode, now, ..context("exec-1", servers) }
}

fn pause_reason(decision: Decision) -> String {
    match decision {
        Decision::Pause(reason) => reason,
        other => panic!("expected a pause, got {other:?}"),
    }
}

#[test]
fn before_wave_pauses_inside_a_freeze_window_only() {
    let Some(Js { host, hook, .. }) = js() else { return };
    let plain = || vec![server("s-1", &[("Name", "db1")]), server("s-2", &[])];

    // Inside the hook's built-in year-end window, at the time the context carries.
    let out = host.before_wave(hook, &at("2025-12-24T10:15:00Z", Mode::Drill, plain())).unwrap();
    let reason = pause_reason(out.decision);
    assert!(reason.contains("2025-12-24T10:15:00.000Z") && reason.contains("year-end change freeze"), "{reason}");
    assert!(out.logs.iter().any(|l| l.message.contains("pausing")), "{:?}", out.logs);
    // Outside every window, and at a window's (exclusive) end.
    for time in ["2025-11-15T09:00:00Z", "2026-01-05T00:00:00Z"] {
        assert_eq!(host.before_wave(hook, &at(time, Mode::Drill, plain())).unwrap().decision, Decision::Proceed, "{time}");
    }
    // A window from a server's change-freeze tag.
    let tagged = vec![server("s-1", &[]), server("s-2", &[("change-freeze", "2025-11-28T00:00:00Z/2025-12-01T00:00:00Z")])];
    let reason = pause_reason(host.before_wave(hook, &at("2025-11-29T12:00:00Z", Mode::Drill, tagged)).unwrap().decision);
    assert!(reason.contains("change-freeze tag on s-2"), "{reason}");

    // A real recovery is not held by the freeze; it says so.
    let out = host.before_wave(hook, &at("2025-12-24T10:15:00Z", Mode::Recovery, plain())).unwrap();
    assert_eq!(out.decision, Decision::Proceed);
    assert!(out.logs.iter().any(|l| l.message.contains("not held")), "{:?}", out.logs);

    // Fails closed: a malformed tag.
    let bad = vec![server("s-9", &[("change-freeze", "next week")])];
    let reason = pause_reason(host.before_wave(hook, &at("2025-11-15T09:00:00Z", Mode::Drill, bad)).unwrap().decision);
    assert!(reason.contains("s-9 has a malformed change-freeze tag"), "{reason}");
}

#[test]
fn after_wave_aborts_when_more_than_half_failed() {
    let Some(Js { host, hook, .. }) = js() else { return };
    let result = |failed: usize| WaveResult {
        context: at("2025-11-15T09:00:00Z", Mode::Drill, vec![]),
        outcomes: (0..4)
            .map(|i| ServerOutcome {
                server: server(&format!("s-{i}"), &[]),
                outcome: if i < failed { LaunchOutcome::Failed(format!("quota {i}")) } else { LaunchOutcome::Launched },
            })
            .collect(),
    };
    assert_eq!(host.after_wave(hook, &result(0)).unwrap().decision, Decision::Proceed);
    let half = host.after_wave(hook, &result(2)).unwrap();
    assert_eq!(half.decision, Decision::Proceed);
    assert!(half.logs.iter().any(|l| l.message.contains("2 of 4 servers failed")), "{:?}", half.logs);
    match host.after_wave(hook, &result(3)).unwrap().decision {
        Decision::Abort(reason) => {
            assert!(reason.starts_with("3 of 4 servers failed") && reason.contains("s-0: quota 0"), "{reason}")
        }
        other => panic!("expected an abort, got {other:?}"),
    }
}

#[test]
fn imports_no_network_interfaces() {
    let Some(Js { hook, cache_dir, .. }) = js() else { return };
    // It loaded, so imports::check passed it. Read its imports back from the compiled artifact
    // with an engine of the host's settings (host/src/engine.rs; a mismatch fails to deserialize).
    let engine = Engine::new(Config::new().epoch_interruption(true)).unwrap();
    let artifact = std::fs::read_dir(cache_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name().unwrap().to_string_lossy().starts_with(&hook.sha256) && p.extension().is_some_and(|x| x == "cwasm")
        })
        .expect("the compiled artifact in the cache");
    // The file is a record line (host/src/cache.rs), then the compiled bytes.
    let file = std::fs::read(&artifact).unwrap();
    let body = &file[file.iter().position(|b| *b == b'\n').expect("the record line") + 1..];
    // SAFETY: written by the host's own compile of this component just before.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize(&engine, body) }.expect("the host's engine settings");
    let imports: Vec<String> = component.component_type().imports(&engine).map(|(name, _)| name.to_string()).collect();
    assert!(imports.iter().any(|n| n.starts_with("drs-orch:hooks/host-log@")), "{imports:?}");
    let network = imports.iter().find(|n| n.starts_with("wasi:http/") || n.starts_with("wasi:sockets/"));
    assert!(network.is_none(), "the JavaScript hook imports {network:?}: build it without the http features");
}
