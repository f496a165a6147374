//! The state of one hook call: a deny-by-default WASI context, captured stdio, the bounded
//! `log` import and the resource limits. A fresh one per call, so nothing leaks between calls.

use crate::bindings::{drs_orch::hooks::host_log, drs_orch::hooks::types, Level};
use crate::limits::CallLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Bounds on what one call may write to the module's logs.
#[derive(Clone, Debug)]
pub struct LogLimits {
    /// Longer `log` messages are cut at this many bytes.
    pub max_message_bytes: usize,
    /// `log` calls past this many are counted, not kept.
    pub max_messages: usize,
    /// Bytes of stdout (and, separately, stderr) kept; past it the stream reports closed.
    pub max_stdio_bytes: usize,
}

impl Default for LogLimits {
    fn default() -> Self {
        LogLimits { max_message_bytes: 4096, max_messages: 100, max_stdio_bytes: 64 * 1024 }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    pub level: Level,
    pub message: String,
    pub truncated: bool,
}

pub struct CallState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    /// The module's `now` in nanoseconds: what the monotonic clock reads (`wasi.rs`).
    pub(crate) now_ns: u64,
    pub limits: CallLimits,
    log_limits: LogLimits,
    pub logs: Vec<LogLine>,
    pub dropped_logs: u64,
    pub stdout: MemoryOutputPipe,
    pub stderr: MemoryOutputPipe,
}

impl CallState {
    /// `now`: the context's instant (Unix seconds); the guest's WASI clocks read it and
    /// nothing else, so a hook sees only the time the module passed in.
    pub fn new(memory_bytes: usize, log_limits: LogLimits, now: u64) -> Self {
        let stdout = MemoryOutputPipe::new(log_limits.max_stdio_bytes);
        let stderr = MemoryOutputPipe::new(log_limits.max_stdio_bytes);
        // WasiCtxBuilder starts empty: no preopens, env, args or stdin. Network is shut explicitly.
        let wasi = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .wall_clock(FixedClock(now))
            .monotonic_clock(FixedClock(now))
            // `wasi.rs` replaces the random imports with capped ones; this is the same cap
            // for any path that reaches wasmtime-wasi's own.
            .max_random_size(crate::wasi::MAX_HOST_CALL_BYTES)
            .build();
        CallState {
            wasi,
            table: ResourceTable::new(),
            now_ns: now.saturating_mul(1_000_000_000),
            limits: CallLimits::new(memory_bytes),
            log_limits,
            logs: Vec::new(),
            dropped_logs: 0,
            stdout,
            stderr,
        }
    }
}

/// A clock stopped at the instant the module passed in.
struct FixedClock(u64);

impl wasmtime_wasi::HostWallClock for FixedClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }
    fn now(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.0)
    }
}

impl wasmtime_wasi::HostMonotonicClock for FixedClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        self.0.saturating_mul(1_000_000_000)
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

// The types interface has no functions; the binding still wants it implemented.
impl types::Host for CallState {}

impl host_log::Host for CallState {
    fn log(&mut self, level: Level, message: String) {
        if self.logs.len() >= self.log_limits.max_messages {
            self.dropped_logs += 1;
            return;
        }
        let (message, truncated) = truncate(message, self.log_limits.max_message_bytes);
        self.logs.push(LogLine { level, message, truncated });
    }
}

/// Cut at a char boundary at or below `max` bytes.
fn truncate(mut s: String, max: usize) -> (String, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    (s, true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn truncate_keeps_char_boundaries() {
        assert_eq!(super::truncate("héllo".into(), 2), ("h".into(), true));
        assert_eq!(super::truncate("abc".into(), 3), ("abc".into(), false));
    }
}
