//! The hook host against real components: the skip-tagged example and hostile guests.
//! Every hostile call must come back as a typed error, and the next call must still work.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;

use common::{context, guest_bytes, host, server};
use drs_host::{Decision, Hook, HookError, HookHost, HostConfig, LaunchOutcome, LoadSource, ServerOutcome, WaveResult};
use std::time::{Duration, Instant};

fn servers() -> Vec<drs_host::Server> {
    vec![server("s-1", &[("Name", "db1")]), server("s-2", &[("dr:skip", "true")])]
}

fn hostile(test: &str) -> (HookHost, Hook) {
    let (host, _) = host(test);
    let (bytes, pin) = guest_bytes("hostile-multi");
    let hook = host.load(&bytes, &pin).expect("load hostile-multi");
    (host, hook)
}

/// The same host and hook answer a well-behaved call after whatever came before.
fn still_works(host: &HookHost, hook: &Hook) {
    let out = host.before_wave(hook, &context("ok", servers())).expect("normal call after a hostile one");
    assert_eq!(out.decision, Decision::Proceed);
}

#[test]
fn skip_tagged_example_skips_dr_skip_servers() {
    let (host, _) = host("skip-tagged");
    let (bytes, pin) = guest_bytes("skip-tagged");
    let hook = host.load(&bytes, &pin).unwrap();
    let out = host.before_wave(&hook, &context("exec-1", servers())).unwrap();
    assert_eq!(out.decision, Decision::Skip(vec!["s-2".into()]));
    assert!(out.logs[0].message.contains("skipping 1 server"), "{:?}", out.logs);

    let untagged = vec![server("s-1", &[]), server("s-3", &[("dr:skip", "false")])];
    assert_eq!(host.before_wave(&hook, &context("exec-1", untagged)).unwrap().decision, Decision::Proceed);

    let result = WaveResult {
        context: context("exec-1", servers()),
        outcomes: vec![
            ServerOutcome { server: server("s-1", &[]), outcome: LaunchOutcome::Launched },
            ServerOutcome { server: server("s-2", &[]), outcome: LaunchOutcome::Failed("quota".into()) },
        ],
    };
    assert_eq!(host.after_wave(&hook, &result).unwrap().decision, Decision::Proceed);
}

#[test]
fn infinite_loop_times_out() {
    let (host, hook) = hostile("loop");
    let started = Instant::now();
    let err = host.before_wave(&hook, &context("loop", servers())).unwrap_err();
    assert!(matches!(err, HookError::Timeout { limit_ms: 50 }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    still_works(&host, &hook);
}

#[test]
fn memory_bomb_hits_the_memory_limit() {
    // A generous time cap, so a slow, loaded machine still reaches the memory cap first.
    let (host, _) = host("memory");
    let config = HostConfig { call_timeout: Duration::from_secs(5), ..host.config().clone() };
    let host = HookHost::new(config).unwrap();
    let (bytes, pin) = guest_bytes("hostile-multi");
    let hook = host.load(&bytes, &pin).unwrap();
    let err = host.before_wave(&hook, &context("memory", servers())).unwrap_err();
    assert!(matches!(err, HookError::MemoryLimit { limit_bytes } if limit_bytes == 64 << 20), "{err}");
    still_works(&host, &hook);
}

#[test]
fn deep_recursion_traps() {
    let (host, hook) = hostile("recurse");
    let err = host.before_wave(&hook, &context("recurse", servers())).unwrap_err();
    assert!(matches!(err, HookError::Trap(_)), "{err}");
    still_works(&host, &hook);
}

#[test]
fn panic_traps_with_its_message() {
    let (host, hook) = hostile("panic");
    let err = host.after_wave(&hook, &WaveResult { context: context("panic", servers()), outcomes: vec![] }).unwrap_err();
    match &err {
        HookError::Trap(msg) => assert!(msg.contains("panics on purpose"), "{msg}"),
        other => panic!("expected a trap, got {other}"),
    }
    still_works(&host, &hook);
}

#[test]
fn log_flood_is_bounded_and_counted() {
    // 10,000 log calls take ~11 ms alone; a generous cap keeps a loaded machine from turning
    // this count into a timeout.
    let (host, _) = host("log-flood");
    let host = HookHost::new(HostConfig { call_timeout: Duration::from_secs(5), ..host.config().clone() }).unwrap();
    let (bytes, pin) = guest_bytes("hostile-multi");
    let hook = host.load(&bytes, &pin).unwrap();
    let out = host.before_wave(&hook, &context("log-flood", servers())).unwrap();
    let limits = host.config().log_limits.clone();
    assert_eq!(out.logs.len(), limits.max_messages);
    assert_eq!(out.dropped_logs, 10_000 - limits.max_messages as u64);
    assert!(out.logs[0].truncated && out.logs[0].message.len() == limits.max_message_bytes);
    still_works(&host, &hook);
}

#[test]
fn files_env_and_args_are_not_there() {
    let (host, hook) = hostile("fs");
    let out = host.before_wave(&hook, &context("fs", servers())).unwrap();
    match out.decision {
        Decision::Abort(msg) => assert!(msg.starts_with("fs-denied"), "{msg}"),
        other => panic!("{other:?}"),
    }
    let out = host.before_wave(&hook, &context("env", servers())).unwrap();
    assert_eq!(out.decision, Decision::Abort("env=0 args=0".into()));
}

#[test]
fn stdio_is_captured() {
    let (host, hook) = hostile("stdio");
    let out = host.before_wave(&hook, &context("stdio", servers())).unwrap();
    assert_eq!(out.stdout, "hello on stdout\n");
    assert_eq!(out.stderr, "hello on stderr\n");
}

#[test]
fn skip_of_a_server_outside_the_wave_is_a_bad_return() {
    let (host, hook) = hostile("bad-skip");
    let err = host.before_wave(&hook, &context("bad-skip", servers())).unwrap_err();
    assert!(matches!(&err, HookError::BadReturn(m) if m.contains("s-not-in-this-wave")), "{err}");
    let ok = host.before_wave(&hook, &context("skip-first", servers())).unwrap();
    assert_eq!(ok.decision, Decision::Skip(vec!["s-1".into()]));
}

#[test]
fn sockets_import_is_refused_by_name() {
    let (host, _) = host("sockets");
    let (bytes, pin) = guest_bytes("hostile-sockets");
    match host.load(&bytes, &pin) {
        Err(HookError::Refused { import }) => assert!(import.starts_with("wasi:sockets/"), "{import}"),
        Err(e) => panic!("expected Refused, got {e}"),
        Ok(_) => panic!("a component importing wasi:sockets was accepted"),
    }
    let (bytes, pin) = guest_bytes("skip-tagged");
    let hook = host.load(&bytes, &pin).unwrap();
    assert_eq!(host.before_wave(&hook, &context("x", servers())).unwrap().decision, Decision::Skip(vec!["s-2".into()]));
}

#[test]
fn pin_mismatch_is_refused_before_compiling() {
    let (host, dir) = host("pin");
    let (bytes, pin) = guest_bytes("skip-tagged");
    let wrong = drs_host::sha256_hex(b"something else");
    match host.load(&bytes, &wrong) {
        Err(HookError::PinMismatch { expected, actual }) => assert_eq!((expected, actual), (wrong, pin.clone())),
        other => panic!("expected PinMismatch, got {:?}", other.err()),
    }
    // Nothing was compiled for the refused bytes.
    assert!(!dir.exists() || std::fs::read_dir(&dir).unwrap().next().is_none());
    assert!(host.load(&bytes, &format!("sha256:{}", pin.to_uppercase())).is_ok());
}

#[test]
fn second_load_deserializes_from_the_cache() {
    let (host, dir) = host("cache");
    let (bytes, pin) = guest_bytes("hostile-multi");
    let first = host.load(&bytes, &pin).unwrap();
    assert_eq!(first.source, LoadSource::Compiled);
    let cached = artifacts(&dir);
    assert_eq!(cached.len(), 1);
    assert!(cached[0].starts_with(&pin), "{cached:?}");

    // A new host (a new process, say) with the same engine settings reuses the artifact.
    let again = HookHost::new(host.config().clone()).unwrap();
    let second = again.load(&bytes, &pin).unwrap();
    assert_eq!(second.source, LoadSource::Cache);
    assert!(second.load_time < first.load_time, "cache {:?} vs compile {:?}", second.load_time, first.load_time);
    eprintln!("compile {:?}, cache load {:?}", first.load_time, second.load_time);
    still_works(&again, &second);
}

/// The compiled artifacts in a cache directory (its lock files aside); a temporary file left
/// behind would show up here too.
fn artifacts(dir: &std::path::Path) -> Vec<String> {
    let names = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap());
    names.filter(|n| !n.ends_with(".lock")).collect()
}

/// Tests (or wave boundaries) loading one component at once into an empty cache: each gets
/// it, it is compiled once, and the others read the artifact. The module's runner does this
/// when two resources of a tenant reach their first boundary together; before, both compiled
/// and wrote through one temporary file, and one load failed with a cache error.
#[test]
fn concurrent_loads_into_an_empty_cache_compile_once() {
    let (host, dir) = host("concurrent");
    let (bytes, pin) = guest_bytes("hostile-multi");
    let barrier = std::sync::Barrier::new(3);
    let sources: Vec<LoadSource> = std::thread::scope(|s| {
        let loads: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    host.load(&bytes, &pin).map(|hook| hook.source)
                })
            })
            .collect();
        loads.into_iter().map(|l| l.join().unwrap().expect("every concurrent load succeeds")).collect()
    });
    let compiled = sources.iter().filter(|s| **s == LoadSource::Compiled).count();
    assert_eq!(compiled, 1, "one compile, the others from the cache: {sources:?}");
    assert_eq!(artifacts(&dir).len(), 1, "one artifact and no temporary file: {:?}", artifacts(&dir));
}

#[test]
fn the_guest_clock_reads_the_time_the_module_passed_in() {
    let (host, hook) = hostile("clock");
    let ctx = context("clock", servers());
    let out = host.before_wave(&hook, &ctx).unwrap();
    assert_eq!(out.decision, Decision::Abort(format!("clock={}", ctx.now)));
}

#[test]
fn a_hook_sees_only_the_tag_keys_it_declares() {
    let (host, _) = host("tag-keys");
    let (bytes, pin) = guest_bytes("skip-tagged");
    let hook = host.load(&bytes, &pin).unwrap();
    let keys: Vec<&String> = hook.tag_keys().unwrap().iter().collect();
    assert_eq!(keys, ["dr:skip"]);
    // Filtered to dr:skip, the servers still carry what the hook needs.
    let out = host.before_wave(&hook, &context("exec-1", servers())).unwrap();
    assert_eq!(out.decision, Decision::Skip(vec!["s-2".into()]));
    let (_, multi) = hostile("keys");
    assert!(multi.tag_keys().is_none(), "an empty list asks for every tag");
}
