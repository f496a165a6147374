//! `bench hooks`, hostile cases: hooks/hostile/multi misbehaving one way per case, and
//! hooks/hostile/memories.wasm (four memories; before-wave grows three by 40 MiB), each call
//! timed (wall time around `HookHost::before_wave`) with the process's peak RSS growth over
//! it: the kernel's high-water mark (VmHWM) is reset before the call (`/proc/self/clear_refs`)
//! and read after, less VmRSS before. The guest's linear memory is this process's memory too,
//! so the growth includes what the guest itself allocated (under the call's memory cap).
//! Run it without RUST_BACKTRACE: with it, every error captures a backtrace.

use drs_host::{Decision, HookError, HookHost, HostConfig, Server, WaveContext};
use std::path::Path;
use std::time::{Duration, Instant};

/// One hostile case's figures.
pub struct Case {
    /// Its key in the final line.
    pub key: &'static str,
    pub wall: Duration,
    pub rss_growth_bytes: u64,
}

struct Spec {
    /// hooks/hostile/memories.wasm instead of hostile-multi.
    memories: bool,
    key: &'static str,
    what: &'static str,
    mode: &'static str,
    /// The call's wall-time cap and memory cap.
    cap: Duration,
    memory_bytes: usize,
}

const MIB: usize = 1 << 20;

fn specs() -> Vec<Spec> {
    let spec = |key, what, mode, cap_ms, memory_mib| Spec {
        memories: false,
        key,
        what,
        mode,
        cap: Duration::from_millis(cap_ms),
        memory_bytes: memory_mib * MIB,
    };
    vec![
        // Refused at the first sleep: a hook's clocks do not move, so it may not wait.
        spec("sleep", "sleeps 30 s (subscribe-duration + block)", "sleep", 50, 64),
        spec("sleep_forever", "sleeps on a deadline that never comes", "sleep-forever", 50, 64),
        spec("sleep_loop", "sleeps 1 ms at a time, forever", "sleep-loop", 50, 64),
        // Room for the guest to build the list (~150 MB of its own), and time to.
        spec("ids3m", "returns 3,000,000 copies of a valid id", "skip-3m", 20_000, 512),
        spec("msg40mb", "returns a 40 MB pause reason", "pause-40mb", 10_000, 64),
        spec("id40mb", "returns a skip of one 40 MB id", "skip-long-id", 10_000, 64),
        spec("memory_bomb", "grows its memory until refused", "memory", 10_000, 64),
        Spec { memories: true, ..spec("memories", "grows 3 of its 4 memories by 40 MiB each", "any", 10_000, 64) },
    ]
}

/// Runs every case against the built hostile guest (`multi`) or the many-memories component
/// (`memories`); prints one line per case.
pub fn run(multi: &Path, memories: &Path) -> anyhow::Result<Vec<Case>> {
    if std::env::var_os("RUST_BACKTRACE").is_some() {
        println!("hostile cases: RUST_BACKTRACE is set; errors capture backtraces, which the RSS figures include");
    }
    let read = |path: &Path| std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    let (multi, memories) = (read(multi)?, read(memories)?);
    let cache_dir = std::env::temp_dir().join(format!("drs-bench-hooks-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache_dir);
    let mut cases = Vec::new();
    for spec in specs() {
        let config = HostConfig { call_timeout: spec.cap, memory_bytes: spec.memory_bytes, ..HostConfig::new(&cache_dir) };
        let host = HookHost::new(config).map_err(|e| anyhow::anyhow!("{e:#}"))?;
        let bytes = if spec.memories { &memories } else { &multi };
        let hook = host.load(bytes, &drs_host::sha256_hex(bytes))?;
        let context = context(spec.mode);
        let before = rss::reset_peak()?;
        let started = Instant::now();
        let result = host.before_wave(&hook, &context);
        let wall = started.elapsed();
        let growth = rss::peak()?.saturating_sub(before);
        println!(
            "hostile {:<13} a hook that {}: {} in {:.1} ms (cap {} ms, memory cap {} MiB), peak RSS +{:.1} MB",
            spec.key,
            spec.what,
            summary(&result),
            wall.as_secs_f64() * 1e3,
            spec.cap.as_millis(),
            spec.memory_bytes / MIB,
            growth as f64 / 1e6
        );
        cases.push(Case { key: spec.key, wall, rss_growth_bytes: growth });
    }
    let _ = std::fs::remove_dir_all(&cache_dir);
    Ok(cases)
}

/// What the call came to, in a few words (a decision's text can be long: its size instead).
fn summary(result: &Result<drs_host::CallOutcome, HookError>) -> String {
    match result {
        Ok(outcome) => match &outcome.decision {
            Decision::Proceed => "proceed".into(),
            Decision::Skip(ids) => format!("skip of {} id(s)", ids.len()),
            Decision::Delay(s) => format!("delay {s} s"),
            Decision::Pause(text) => format!("pause, reason kept to {} bytes", text.len()),
            Decision::Abort(text) => format!("abort, message kept to {} bytes", text.len()),
        },
        Err(e) => format!("error `{}`", drs_host::cut(&e.to_string(), 240)),
    }
}

/// A two-server wave whose execution id picks the guest's misbehaviour.
fn context(mode: &str) -> WaveContext {
    let server = |id: &str| Server {
        account: "111122223333".into(),
        region: "eu-west-1".into(),
        hostname: format!("{id}.bench.internal"),
        source_server_id: id.into(),
        tags: vec![],
    };
    WaveContext {
        execution_id: mode.into(),
        tenant: "bench".into(),
        mode: drs_host::Mode::Drill,
        wave_index: 0,
        wave_name: "hostile".into(),
        now: 1_796_083_200,
        servers: vec![server("s-1"), server("s-2")],
    }
}

/// The process's resident set, from /proc/self (Linux).
mod rss {
    /// Resets the peak (VmHWM) to the current RSS and returns the current RSS, in bytes.
    /// Where the peak cannot be reset, the peak so far: growth is then counted above it only.
    pub fn reset_peak() -> anyhow::Result<u64> {
        match std::fs::write("/proc/self/clear_refs", "5") {
            Ok(()) => field("VmRSS:"),
            Err(e) => {
                println!("hostile cases: the peak RSS cannot be reset ({e}); growth is counted above the peak so far");
                field("VmHWM:")
            }
        }
    }

    /// The peak RSS since the last reset, in bytes.
    pub fn peak() -> anyhow::Result<u64> {
        field("VmHWM:")
    }

    fn field(name: &str) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string("/proc/self/status")?;
        let line =
            status.lines().find(|l| l.starts_with(name)).ok_or_else(|| anyhow::anyhow!("no {name} in /proc/self/status"))?;
        let kb: u64 = line[name.len()..].trim().trim_end_matches("kB").trim().parse()?;
        Ok(kb * 1024)
    }
}
