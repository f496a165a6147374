//! Hostile guests against the host's bounds: a call ends within its wall-time cap whatever
//! the guest does (it cannot wait), and what a guest returns or writes is bounded before it
//! reaches the module.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;

use common::{context, guest_bytes, host, server};
use drs_host::{Decision, Hook, HookError, HookHost, HostConfig, Refusal, MAX_MESSAGE_BYTES};
use std::time::{Duration, Instant};

fn servers() -> Vec<drs_host::Server> {
    vec![server("s-1", &[("Name", "db1")]), server("s-2", &[("dr:skip", "true")])]
}

/// What the cap may be overrun by on a loaded two-core machine: the timer's wake-up and the
/// guest's unwinding take a few ms; the rest is scheduling noise. (The old host overran a
/// sleeping hook's cap by the whole sleep, 30 s.)
const SLACK: Duration = Duration::from_millis(300);

fn hostile_with(test: &str, config: impl FnOnce(HostConfig) -> HostConfig) -> (HookHost, Hook) {
    let (host, _) = host(test);
    let host = HookHost::new(config(host.config().clone())).unwrap();
    let (bytes, pin) = guest_bytes("hostile-multi");
    let hook = host.load(&bytes, &pin).expect("load hostile-multi");
    (host, hook)
}

/// A cap the guest's 40 MB of writing fits in on a loaded machine: these test sizes, not time.
fn generous(config: HostConfig) -> HostConfig {
    HostConfig { call_timeout: Duration::from_secs(10), ..config }
}

fn still_works(host: &HookHost, hook: &Hook) {
    let out = host.before_wave(hook, &context("ok", servers())).expect("normal call after a hostile one");
    assert_eq!(out.decision, Decision::Proceed);
}

/// A hook that sleeps (30 s, forever, or 1 ms at a time) is stopped at its first sleep: its
/// clocks are stopped at the module's `now`, so a sleep could only be on the real clock. It
/// used to sleep until its 50 ms cap (and before the cap held waits, for the whole 30 s).
#[test]
fn a_sleeping_hook_is_refused_at_its_first_sleep() {
    let (host, hook) = hostile_with("sleep", |c| c);
    let cap = host.config().call_timeout;
    for mode in ["sleep", "sleep-forever", "sleep-loop"] {
        let started = Instant::now();
        let err = host.before_wave(&hook, &context(mode, servers())).unwrap_err();
        let took = started.elapsed();
        eprintln!("{mode}: {err} after {took:?}");
        assert!(
            matches!(err, HookError::HostCall { import: "wasi:clocks/monotonic-clock.subscribe-duration", refusal: Refusal::Wait { nanos } } if nanos > 0),
            "{mode}: {err}"
        );
        assert!(took < cap + SLACK, "{mode}: took {took:?} against a {cap:?} cap");
    }
    still_works(&host, &hook);
}

/// From async code, both the blocking call (as `drs-orch hooks check` made it, which then
/// panicked: "Cannot start a runtime from within a runtime") and the async one end at the cap.
#[test]
fn a_looping_hook_called_from_async_code_times_out_without_panicking() {
    let (host, hook) = hostile_with("loop-async", |c| c);
    let cap = host.config().call_timeout;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let started = Instant::now();
        let blocking = host.before_wave(&hook, &context("loop", servers()));
        assert!(matches!(blocking, Err(HookError::Timeout { .. })), "{blocking:?}");
        let awaited = host.before_wave_async(&hook, &context("loop", servers())).await;
        assert!(matches!(awaited, Err(HookError::Timeout { .. })), "{awaited:?}");
        assert!(started.elapsed() < 2 * (cap + SLACK), "took {:?}", started.elapsed());
    });
}

/// A panic after 1 MiB written to stderr in one line: the trap quotes stderr (64 KiB of it
/// were kept), cut to the bound of a pause reason, as the module's error, the report and the
/// parent's failure cause carry it. It used to carry all 64 KiB.
#[test]
fn a_trap_after_a_stderr_flood_has_a_bounded_message() {
    let (host, hook) = hostile_with("stderr-flood", |c| c);
    let err = host.before_wave(&hook, &context("stderr-flood-panic", servers())).unwrap_err();
    let HookError::Trap(message) = &err else { panic!("expected a trap, got {err:.200}") };
    eprintln!("trap message: {} bytes, error: {} bytes", message.len(), err.to_string().len());
    assert!(message.len() <= MAX_MESSAGE_BYTES, "{} bytes", message.len());
    assert!(message.contains("stderr: eeee") && message.ends_with(" bytes]"), "{message:.200}");
    assert!(err.to_string().len() <= MAX_MESSAGE_BYTES + "hook trapped: ".len());
    still_works(&host, &hook);
}

/// 3 million copies of a valid id: refused from the list's length, before any element is
/// copied (the old host lifted all of them and accepted the list). The memory cap is raised
/// so that the guest can build the list at all.
#[test]
fn three_million_ids_are_refused_from_the_length_alone() {
    let (host, hook) =
        hostile_with("skip-3m", |c| HostConfig { memory_bytes: 512 << 20, call_timeout: Duration::from_secs(20), ..c });
    let started = Instant::now();
    let err = host.before_wave(&hook, &context("skip-3m", servers())).unwrap_err();
    eprintln!("skip-3m: {err} after {:?}", started.elapsed());
    match &err {
        HookError::BadReturn(m) => assert!(m.contains("lists 3000000 items"), "{m}"),
        other => panic!("expected a bad return, got {other}"),
    }
    still_works(&host, &hook);
}

/// A list as long as the wave that repeats one id comes back with it once; a list longer
/// than the wave (but under the read bound) is refused after the lift.
#[test]
fn a_skip_list_is_deduplicated_and_no_longer_than_the_wave() {
    let (host, hook) = hostile_with("skip-dup", |c| c);
    let out = host.before_wave(&hook, &context("skip-dup", servers())).unwrap();
    assert_eq!(out.decision, Decision::Skip(vec!["s-2".into()]));
    let one = vec![server("s-1", &[])];
    let err = host.before_wave(&hook, &context("skip-twice", one)).unwrap_err();
    assert!(matches!(&err, HookError::BadReturn(m) if m.contains("skip lists 2 ids; the wave has 1 server")), "{err}");
}

/// A 40 MB id is not in the wave: refused, and the error quotes a few bytes of it, not 40 MB.
#[test]
fn a_40mb_id_is_refused_with_a_short_error() {
    let (host, hook) = hostile_with("skip-long-id", generous);
    let err = host.before_wave(&hook, &context("skip-long-id", servers())).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, HookError::BadReturn(_)), "{text:.200}");
    assert!(text.len() < 200 && text.contains("not in the wave"), "{} bytes: {text:.200}", text.len());
}

/// 40 MB pause reasons and abort messages come back cut to the documented length, at a
/// character boundary, saying how long they were.
#[test]
fn a_40mb_message_is_cut_to_the_documented_length() {
    let (host, hook) = hostile_with("message", generous);
    match host.before_wave(&hook, &context("pause-40mb", servers())).unwrap().decision {
        Decision::Pause(reason) => {
            assert!(reason.len() <= MAX_MESSAGE_BYTES, "{} bytes", reason.len());
            assert!(reason.starts_with("pppp") && reason.ends_with("[cut from 41943040 bytes]"), "{reason:.100}");
        }
        other => panic!("expected a pause, got {other:?}"),
    }
    match host.before_wave(&hook, &context("abort-40mb", servers())).unwrap().decision {
        Decision::Abort(message) => {
            assert!(message.len() <= MAX_MESSAGE_BYTES && message.len() > MAX_MESSAGE_BYTES - 64, "{} bytes", message.len());
            assert!(message.starts_with("éé") && message.ends_with("[cut from 41943040 bytes]"), "{message:.100}");
        }
        other => panic!("expected an abort, got {other:?}"),
    }
    still_works(&host, &hook);
}
