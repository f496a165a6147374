//! Loading a component is bounded: a file over the size cap is refused before it is read
//! whole or compiled, and the compile runs on the blocking pool under a time limit, leaving
//! the caller's async worker free.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;

use common::{guest, guest_bytes, host};
use drs_host::{HookError, HookHost, HostConfig, LoadSource, DEFAULT_MAX_COMPONENT_BYTES};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MIB: usize = 1 << 20;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn is_empty(dir: &std::path::Path) -> bool {
    !dir.exists() || std::fs::read_dir(dir).unwrap().next().is_none()
}

/// 40 MiB, as bytes or as a file, is over the 32 MiB default cap: refused at once, nothing
/// compiled (the cache directory is not even made). The file is sparse: its size says 40 MiB,
/// and it is refused from that, unread. A real hook is refused the same way under a smaller cap.
#[test]
fn a_component_over_the_size_cap_is_refused_before_it_is_compiled() {
    let (host, dir) = host("too-large");
    assert_eq!(host.config().max_component_bytes, 32 * MIB);
    let big = vec![0u8; 40 * MIB];
    let pin = drs_host::sha256_hex(&big);
    let started = Instant::now();
    let err = host.load(&big, &pin).err().unwrap();
    eprintln!("40 MiB of bytes: {err} in {:?}", started.elapsed());
    assert!(
        matches!(err, HookError::TooLarge { bytes, limit } if bytes == 40 * MIB as u64 && limit == DEFAULT_MAX_COMPONENT_BYTES)
    );

    let file = std::env::temp_dir().join(format!("drs-host-too-large-{}.wasm", std::process::id()));
    std::fs::File::create(&file).unwrap().set_len(40 * MIB as u64).unwrap();
    let started = Instant::now();
    let err = runtime().block_on(host.load_file_async(&file, &"0".repeat(64))).err().unwrap();
    eprintln!("a 40 MiB file: {err} in {:?}", started.elapsed());
    assert!(matches!(err, HookError::TooLarge { bytes, .. } if bytes == 40 * MIB as u64), "{err}");
    std::fs::remove_file(&file).unwrap();
    assert!(is_empty(&dir), "nothing was compiled");

    let (bytes, pin) = guest_bytes("skip-tagged");
    let small = HookHost::new(HostConfig { max_component_bytes: bytes.len() - 1, ..host.config().clone() }).unwrap();
    assert!(matches!(small.load(&bytes, &pin), Err(HookError::TooLarge { .. })));
    assert!(is_empty(&dir), "nothing was compiled");
    assert!(host.load(&bytes, &pin).is_ok(), "under the default cap it loads");
    let missing = runtime().block_on(host.load_file_async(&dir.join("missing.wasm"), &pin)).err().unwrap();
    assert!(matches!(missing, HookError::Unreadable { .. }), "{missing}");
}

/// A compile past its limit (1 ms here) ends the load at the limit, not when the compile
/// ends. The compile goes on in the background under the cache entry's lock: the next load
/// waits for it there and reads its artifact instead of compiling again.
#[test]
fn a_compile_past_its_time_limit_ends_the_load_and_lands_in_the_cache() {
    let (host, dir) = host("compile-limit");
    let (bytes, pin) = guest_bytes("hostile-multi");
    let hurried = HookHost::new(HostConfig { compile_timeout: Duration::from_millis(1), ..host.config().clone() }).unwrap();
    let started = Instant::now();
    let err = hurried.load(&bytes, &pin).err().unwrap();
    let took = started.elapsed();
    eprintln!("compile limit 1 ms: {err} after {took:?}");
    assert!(matches!(err, HookError::CompileTimeout { limit_ms: 1 }), "{err}");
    assert!(took < Duration::from_millis(300), "the load waited {took:?}");
    // Time for the background compile to take the entry's lock.
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let hook = host.load(&bytes, &pin).unwrap();
    eprintln!("next load: {:?} after {:?}", hook.source, started.elapsed());
    assert_eq!(hook.source, LoadSource::Cache, "the background compile's artifact was read, not compiled again");
    assert!(!is_empty(&dir));
}

/// From a single-threaded runtime, a load into an empty cache (a compile of hundreds of ms
/// unoptimized) leaves the worker free: a task ticking every 5 ms keeps ticking meanwhile.
/// Before, the compile ran on the caller's thread and the ticker stood still.
#[test]
fn a_compile_leaves_the_async_worker_free() {
    let (host, _) = host("off-worker");
    let path = guest("hostile-multi");
    let pin = drs_host::sha256_hex(&std::fs::read(&path).unwrap());
    let ticks = Arc::new(AtomicU64::new(0));
    let (loaded, took) = runtime().block_on(async {
        let counter = ticks.clone();
        let ticker = tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(5));
            // Ticks missed while the worker was held are not made up afterwards.
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
        tokio::task::yield_now().await;
        let started = Instant::now();
        let loaded = host.load_file_async(&path, &pin).await;
        let took = started.elapsed();
        ticker.abort();
        (loaded, took)
    });
    let hook = loaded.unwrap();
    let ticks = ticks.load(Ordering::Relaxed);
    eprintln!("load ({:?}) took {took:?}; the worker ticked {ticks} times meanwhile", hook.source);
    assert_eq!(hook.source, LoadSource::Compiled);
    let expected = took.as_millis() as u64 / 5;
    // A quarter of the ticks at least: the compile takes both cores of a small machine.
    assert!(ticks * 4 >= expected && ticks >= 5, "{ticks} ticks in {took:?}: the worker was held");
}
