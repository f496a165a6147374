//! Granted WASI imports held to the call's bounds (hooks/hostile/wasi calls them by hand):
//! random bytes capped per call and counted in the memory budget, and clocks that never wait.
//! The tests of this file run one at a time: they read the process's peak RSS.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;

use common::{context, guest_bytes, host, server};
use drs_host::{Decision, Hook, HookError, HookHost, HostConfig, Refusal, MAX_HOST_CALL_BYTES};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

/// One test at a time: a peak RSS read while another test compiles means nothing.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn hostile(test: &str, config: impl FnOnce(HostConfig) -> HostConfig) -> (HookHost, Hook) {
    let (host, _) = host(test);
    let host = HookHost::new(config(host.config().clone())).unwrap();
    let (bytes, pin) = guest_bytes("hostile-wasi");
    let hook = host.load(&bytes, &pin).expect("load hostile-wasi");
    (host, hook)
}

/// A cap long enough that a refusal, not the deadline, is what ends these calls.
fn ten_seconds(config: HostConfig) -> HostConfig {
    HostConfig { call_timeout: Duration::from_secs(10), ..config }
}

fn call(host: &HookHost, hook: &Hook, mode: &str) -> Result<Decision, HookError> {
    host.before_wave(hook, &context(mode, vec![server("s-1", &[])])).map(|o| o.decision)
}

/// The process's resident set (from /proc/self/status), in bytes.
fn status_field(name: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(name)).unwrap();
    line[name.len()..].trim().trim_end_matches("kB").trim().parse::<u64>().unwrap() * 1024
}

/// `f`'s result and how far the process's peak RSS rose above its RSS before it (the peak is
/// reset first, through /proc/self/clear_refs).
fn peak_growth<T>(f: impl FnOnce() -> T) -> (T, u64) {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
    let before = status_field("VmRSS:");
    let out = f();
    (out, status_field("VmHWM:").saturating_sub(before))
}

/// 64 MiB of random bytes in one call, secure or not, is refused before the host makes any:
/// the peak RSS stays far below 64 MiB. wasmtime-wasi's own import made all 64 MiB on the
/// host, then the guest's copy hit its memory cap.
#[test]
fn random_bytes_over_the_per_call_cap_are_refused_before_they_are_made() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (host, hook) = hostile("random-64mib", ten_seconds);
    for (mode, import) in [
        ("random-64mib", "wasi:random/random.get-random-bytes"),
        ("insecure-64mib", "wasi:random/insecure.get-insecure-random-bytes"),
    ] {
        let started = Instant::now();
        let (err, growth) = peak_growth(|| call(&host, &hook, mode).unwrap_err());
        eprintln!("{mode}: {err} in {:?}, peak RSS +{:.1} MiB", started.elapsed(), growth as f64 / MIB as f64);
        let refused = Refusal::TooLarge { asked: 64 * MIB, limit: MAX_HOST_CALL_BYTES };
        assert!(matches!(&err, HookError::HostCall { import: i, refusal } if *i == import && *refusal == refused), "{err}");
        assert!(growth < 16 * MIB, "{mode}: the peak RSS rose by {growth} bytes");
    }
    assert_eq!(call(&host, &hook, "ok").unwrap(), Decision::Proceed);
}

/// Calls within the per-call cap draw on the call's memory budget (4 MiB here: making 64 MiB
/// of random bytes a byte at a time takes wasmtime-wasi's unoptimized generator seconds): 16
/// calls of 64 KiB (1 MiB) fit beside the guest's own ~1.5 MiB of memory; 2,048 (128 MiB) do
/// not, and the call ends at the budget. A 2 MiB budget stops the same 16 calls.
#[test]
fn random_bytes_count_in_the_memory_budget() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    const BUDGET: usize = 4 << 20;
    let (host, hook) = hostile("random-budget", |c| HostConfig { memory_bytes: BUDGET, ..ten_seconds(c) });
    assert_eq!(call(&host, &hook, "random-64kib-x16").unwrap(), Decision::Abort(format!("got {} bytes", MIB)));
    for mode in ["random-64kib-x2048", "insecure-64kib-x2048"] {
        let started = Instant::now();
        let (err, growth) = peak_growth(|| call(&host, &hook, mode).unwrap_err());
        eprintln!("{mode}: {err} in {:?}, peak RSS +{:.1} MiB", started.elapsed(), growth as f64 / MIB as f64);
        assert!(matches!(err, HookError::MemoryLimit { limit_bytes: BUDGET }), "{mode}: {err}");
        assert!(growth < 16 * MIB, "{mode}: the peak RSS rose by {growth} bytes");
    }
    let (host, hook) = hostile("random-budget-small", |c| HostConfig { memory_bytes: 2 << 20, ..ten_seconds(c) });
    let err = call(&host, &hook, "random-64kib-x16").unwrap_err();
    assert!(matches!(err, HookError::MemoryLimit { limit_bytes } if limit_bytes == 2 << 20), "{err}");
}

/// A wait of 10 s on the monotonic clock, by duration or by instant (then polled), is refused
/// at once under a 10 s cap: the guest's clocks are stopped, so it never waits real time. A
/// wait for no time is ready at once, and the clock still reads the module's `now`.
#[test]
fn a_hook_cannot_wait_on_a_clock() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (host, hook) = hostile("clocks", ten_seconds);
    for (mode, import) in [
        ("sleep-10s", "wasi:clocks/monotonic-clock.subscribe-duration"),
        ("until-10s", "wasi:clocks/monotonic-clock.subscribe-instant"),
    ] {
        let started = Instant::now();
        let err = call(&host, &hook, mode).unwrap_err();
        let took = started.elapsed();
        eprintln!("{mode}: {err} after {took:?}");
        let refused = Refusal::Wait { nanos: 10_000_000_000 };
        assert!(matches!(&err, HookError::HostCall { import: i, refusal } if *i == import && *refusal == refused), "{err}");
        assert!(took < Duration::from_secs(1), "{mode} took {took:?}");
    }
    let now = context("poll-now", vec![]).now;
    assert_eq!(call(&host, &hook, "poll-now").unwrap(), Decision::Abort(format!("ready=[0, 1] now={}", now * 1_000_000_000)));
}
