//! The WebAssembly hook host (WIT world, wasmtime embedding, sandbox limits).
//!
//! One [`HookHost`] per process owns the wasmtime Engine. [`HookHost::load`] checks a
//! component's SHA-256 pin, compiles it (or loads it from the cache) and refuses imports
//! outside the sandbox. Each call gets a fresh Store with memory, CPU-time, table and
//! instance limits; every failure comes back as a [`HookError`] and the host stays usable.

mod bindings;
// The compiled-artifact cache deserializes native code (wasmtime's `Component::deserialize`), which is unsafe by nature: `cache.rs` says what it trusts.
#[allow(unsafe_code)]
mod cache;
mod engine;
mod error;
mod imports;
mod limits;
mod sandbox;

pub use bindings::{Decision, LaunchOutcome, Level, Mode, Server, ServerOutcome, WaveContext, WaveResult};
pub use cache::{sha256_hex, LoadSource};
pub use error::HookError;
pub use sandbox::{LogLimits, LogLine};

use bindings::{WaveHooks, WaveHooksPre};
use sandbox::CallState;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Engine, Store, Trap};

#[derive(Clone, Debug)]
pub struct HostConfig {
    /// Compiled components, keyed by hash and engine settings. Writable by the module only.
    pub cache_dir: PathBuf,
    /// Linear-memory cap per call.
    pub memory_bytes: usize,
    /// CPU-time (wall-clock, via epochs) cap per call.
    pub call_timeout: Duration,
    /// Native stack the guest may use; deeper recursion traps.
    pub max_wasm_stack: usize,
    pub log_limits: LogLimits,
}

impl HostConfig {
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        HostConfig {
            cache_dir: cache_dir.into(),
            memory_bytes: 64 << 20,
            call_timeout: Duration::from_millis(50),
            max_wasm_stack: 512 << 10,
            log_limits: LogLimits::default(),
        }
    }
}

/// A loaded, checked component, ready to instantiate cheaply per call.
pub struct Hook {
    pub sha256: String,
    pub source: LoadSource,
    /// Time to compile or deserialize, and pre-instantiate.
    pub load_time: Duration,
    pre: WaveHooksPre<CallState>,
    /// The tag keys the hook reads (`tag-keys`); None: every tag.
    tag_keys: Option<std::collections::HashSet<String>>,
}

impl Hook {
    /// The tag keys the hook asked for; None when it reads every tag.
    pub fn tag_keys(&self) -> Option<&std::collections::HashSet<String>> {
        self.tag_keys.as_ref()
    }
}

/// What one call returned, with what the guest logged on the way.
#[derive(Debug)]
pub struct CallOutcome {
    pub decision: Decision,
    pub logs: Vec<LogLine>,
    /// `log` calls past the per-call cap.
    pub dropped_logs: u64,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

pub struct HookHost {
    engine: Engine,
    linker: Linker<CallState>,
    config: HostConfig,
}

impl HookHost {
    pub fn new(config: HostConfig) -> wasmtime::Result<Self> {
        let engine = engine::new_engine(config.max_wasm_stack)?;
        let mut linker = Linker::new(&engine);
        // The full p2 set is linked, but imports::check refuses network interfaces at load
        // and the WasiCtx denies what remains (no preopens, env, args or sockets).
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        WaveHooks::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
        Ok(HookHost { engine, linker, config })
    }

    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// Check the pin (before parsing anything), compile or load from the cache, check imports.
    pub fn load(&self, bytes: &[u8], pin: &str) -> Result<Hook, HookError> {
        let started = Instant::now();
        let sha256 = cache::check_pin(bytes, pin)?;
        let (component, source) = cache::load(&self.config.cache_dir, &self.engine, bytes, &sha256)?;
        imports::check(&self.engine, &component)?;
        let pre = self.linker.instantiate_pre(&component).map_err(|e| HookError::Invalid(format!("{e:#}")))?;
        let pre = WaveHooksPre::new(pre).map_err(|e| HookError::Invalid(format!("{e:#}")))?;
        let keys = self.ask_tag_keys(&pre)?;
        let tag_keys = (!keys.is_empty()).then(|| keys.into_iter().collect());
        Ok(Hook { sha256, source, load_time: started.elapsed(), pre, tag_keys })
    }

    /// `tag-keys`, once at load, in a store of its own under the same caps as a call.
    fn ask_tag_keys(&self, pre: &WaveHooksPre<CallState>) -> Result<Vec<String>, HookError> {
        let mut store = Store::new(&self.engine, CallState::new(self.config.memory_bytes, self.config.log_limits.clone(), 0));
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(engine::deadline_ticks(self.config.call_timeout));
        store.epoch_deadline_trap();
        let result = pre.instantiate(&mut store).and_then(|hooks| hooks.call_tag_keys(&mut store));
        let state = store.into_data();
        let stderr = String::from_utf8_lossy(&state.stderr.contents()).into_owned();
        result.map_err(|e| match self.classify(e, state.limits.memory_exceeded, &stderr) {
            HookError::BadReturn(m) => HookError::Invalid(format!("tag-keys: {m}")),
            other => other,
        })
    }

    /// The context as the hook may see it: each server with only the tags it asked for.
    fn visible<'a>(&self, hook: &Hook, context: &'a WaveContext) -> std::borrow::Cow<'a, WaveContext> {
        let Some(keys) = &hook.tag_keys else { return std::borrow::Cow::Borrowed(context) };
        let servers = context
            .servers
            .iter()
            .map(|s| Server {
                tags: s.tags.iter().filter(|(k, _)| keys.contains(k)).cloned().collect(),
                ..s.clone_without_tags()
            })
            .collect();
        std::borrow::Cow::Owned(WaveContext { servers, ..context.clone_without_servers() })
    }

    pub fn before_wave(&self, hook: &Hook, context: &WaveContext) -> Result<CallOutcome, HookError> {
        let context = self.visible(hook, context);
        self.call(hook, &context.servers, context.now, |hooks, store| hooks.call_before_wave(store, &context))
    }

    pub fn after_wave(&self, hook: &Hook, result: &WaveResult) -> Result<CallOutcome, HookError> {
        let context = self.visible(hook, &result.context);
        let result = match &hook.tag_keys {
            None => std::borrow::Cow::Borrowed(result),
            Some(keys) => std::borrow::Cow::Owned(WaveResult {
                context: context.into_owned(),
                outcomes: result
                    .outcomes
                    .iter()
                    .map(|o| ServerOutcome {
                        server: Server {
                            tags: o.server.tags.iter().filter(|(k, _)| keys.contains(k)).cloned().collect(),
                            ..o.server.clone_without_tags()
                        },
                        outcome: o.outcome.clone(),
                    })
                    .collect(),
            }),
        };
        self.call(hook, &result.context.servers, result.context.now, |hooks, store| hooks.call_after_wave(store, &result))
    }

    fn call(
        &self,
        hook: &Hook,
        servers: &[Server],
        now: u64,
        f: impl FnOnce(&WaveHooks, &mut Store<CallState>) -> wasmtime::Result<Decision>,
    ) -> Result<CallOutcome, HookError> {
        let started = Instant::now();
        let mut store = Store::new(&self.engine, CallState::new(self.config.memory_bytes, self.config.log_limits.clone(), now));
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(engine::deadline_ticks(self.config.call_timeout));
        store.epoch_deadline_trap();

        let result = hook.pre.instantiate(&mut store).and_then(|hooks| f(&hooks, &mut store));
        let state = store.into_data();
        let outcome = CallOutcome {
            decision: Decision::Proceed,
            stdout: String::from_utf8_lossy(&state.stdout.contents()).into_owned(),
            stderr: String::from_utf8_lossy(&state.stderr.contents()).into_owned(),
            elapsed: started.elapsed(),
            dropped_logs: state.dropped_logs,
            logs: state.logs,
        };
        forward_to_tracing(&hook.sha256, &outcome);
        match result {
            Ok(decision) => {
                check_decision(&decision, servers)?;
                Ok(CallOutcome { decision, ..outcome })
            }
            Err(e) => Err(self.classify(e, state.limits.memory_exceeded, &outcome.stderr)),
        }
    }

    fn classify(&self, err: wasmtime::Error, memory_exceeded: bool, stderr: &str) -> HookError {
        let trap = err.downcast_ref::<Trap>().copied();
        if matches!(trap, Some(Trap::Interrupt | Trap::OutOfFuel)) {
            return HookError::Timeout { limit_ms: self.config.call_timeout.as_millis() as u64 };
        }
        if memory_exceeded {
            return HookError::MemoryLimit { limit_bytes: self.config.memory_bytes };
        }
        match trap {
            // A Rust panic message lands on stderr just before the trap; it says more than the trap.
            Some(trap) => {
                let said: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).take(3).collect();
                match said.is_empty() {
                    true => HookError::Trap(trap.to_string()),
                    false => HookError::Trap(format!("{trap}; stderr: {}", said.join(" | "))),
                }
            }
            // Not a trap: the guest's return could not be lifted, or a host call failed for it.
            None => HookError::BadReturn(format!("{err:#}")),
        }
    }
}

/// The host only applies decisions about servers that are in the wave.
fn check_decision(decision: &Decision, servers: &[Server]) -> Result<(), HookError> {
    if let Decision::Skip(ids) = decision {
        // A set: a skip list of a large wave is checked in one pass, not ids x servers.
        let known: std::collections::HashSet<&str> = servers.iter().map(|s| s.source_server_id.as_str()).collect();
        if let Some(id) = ids.iter().find(|id| !known.contains(id.as_str())) {
            return Err(HookError::BadReturn(format!("skip names {id}, which is not in the wave")));
        }
    }
    Ok(())
}

fn forward_to_tracing(sha256: &str, outcome: &CallOutcome) {
    let hook = &sha256[..12.min(sha256.len())];
    for line in &outcome.logs {
        let (msg, truncated) = (&line.message, line.truncated);
        match line.level {
            Level::Trace => tracing::trace!(target: "drs_host::hook", hook, truncated, "{msg}"),
            Level::Debug => tracing::debug!(target: "drs_host::hook", hook, truncated, "{msg}"),
            Level::Info => tracing::info!(target: "drs_host::hook", hook, truncated, "{msg}"),
            Level::Warn => tracing::warn!(target: "drs_host::hook", hook, truncated, "{msg}"),
            Level::Error => tracing::error!(target: "drs_host::hook", hook, truncated, "{msg}"),
        }
    }
    if outcome.dropped_logs > 0 {
        tracing::warn!(target: "drs_host::hook", hook, dropped = outcome.dropped_logs, "hook log messages dropped over the per-call cap");
    }
    for (stream, text) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
        if !text.is_empty() {
            tracing::info!(target: "drs_host::hook", hook, stream, "{text}");
        }
    }
}
