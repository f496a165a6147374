//! The WebAssembly hook host (WIT world, wasmtime embedding, sandbox limits).
//!
//! One [`HookHost`] per process owns the wasmtime Engine. [`HookHost::load`] refuses a
//! component over the size cap, checks its SHA-256 pin, compiles it (or loads it from the
//! cache) on a blocking thread under a time limit (`load.rs`) and refuses imports outside the
//! sandbox. Each call gets a fresh Store with one memory budget (memories, tables and what
//! host calls hand out), instance limits, clocks that never wait (`wasi.rs`) and a wall-time
//! cap that holds whatever the guest does; what it returns is lifted within bounds
//! (`decision.rs`). Every failure comes back as a [`HookError`], its message bounded, and the
//! host stays usable.

mod bindings;
// Lifting with a bound implements wasmtime's unsafe `ComponentType` and `Lift` by hand:
// `bounded.rs` says why each is sound.
#[allow(unsafe_code)]
mod bounded;
// The compiled-artifact cache deserializes native code (wasmtime's `Component::deserialize`), which is unsafe by nature: `cache.rs` says what it trusts.
#[allow(unsafe_code)]
mod cache;
mod deadline;
mod decision;
mod engine;
mod error;
mod imports;
mod limits;
mod load;
mod private_dir;
mod sandbox;
mod wasi;

pub use bindings::{Decision, LaunchOutcome, Level, Mode, Server, ServerOutcome, WaveContext, WaveResult};
pub use cache::{sha256_hex, verify as verify_artifact_record, LoadSource, RecordError};
pub use decision::{cut, MAX_ID_BYTES, MAX_MESSAGE_BYTES, MAX_SKIP_IDS, MAX_TAG_KEYS, MAX_TAG_KEY_BYTES};
pub use error::{HookError, Refusal};
pub use limits::{MAX_MEMORIES, TABLE_ELEMENT_BYTES};
pub use private_dir::default_cache_dir;
pub use sandbox::{LogLimits, LogLine};
pub use wasi::MAX_HOST_CALL_BYTES;

use bindings::{WaveHooks, WaveHooksPre};
use decision::{RawDecision, TagKeys};
use sandbox::CallState;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wasmtime::component::{ComponentExportIndex, ComponentNamedList, HasSelf, InstancePre, Linker, Lower};
use wasmtime::{Engine, Store, Trap};

/// See `HookHost::store`.
const HOSTCALL_FUEL_BYTES: usize = 4 << 20;

#[derive(Clone, Debug)]
pub struct HostConfig {
    /// Compiled components, keyed by hash and engine settings. A directory of this user's
    /// own: the cache refuses one that is not (see `cache.rs`).
    pub cache_dir: PathBuf,
    /// Memory budget per call: all of the instance's memories and tables together, and the
    /// bytes host calls hand it (`limits.rs`).
    pub memory_bytes: usize,
    /// Wall-time cap per call: instantiation, guest code, and any host call the guest waits
    /// on (sleep, poll). The call returns [`HookError::Timeout`] within it plus a few ms.
    pub call_timeout: Duration,
    /// Native stack the guest may use; deeper recursion traps.
    pub max_wasm_stack: usize,
    pub log_limits: LogLimits,
    /// A component file larger than this is refused before it is read whole or compiled.
    pub max_component_bytes: usize,
    /// Reading, hashing and compiling a component (or reading its cached artifact) on the
    /// blocking pool; past this the load fails with [`HookError::CompileTimeout`].
    pub compile_timeout: Duration,
}

/// The default size cap: the JavaScript example (a JS engine with its script) is 12 MB.
pub const DEFAULT_MAX_COMPONENT_BYTES: usize = 32 << 20;
/// The default compile limit: the JavaScript example compiles in about a minute unoptimized
/// (tests) and in seconds optimized, and a status check has minutes.
pub const DEFAULT_COMPILE_TIMEOUT: Duration = Duration::from_secs(120);

impl HostConfig {
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        HostConfig {
            cache_dir: cache_dir.into(),
            memory_bytes: 64 << 20,
            call_timeout: Duration::from_millis(50),
            max_wasm_stack: 512 << 10,
            log_limits: LogLimits::default(),
            max_component_bytes: DEFAULT_MAX_COMPONENT_BYTES,
            compile_timeout: DEFAULT_COMPILE_TIMEOUT,
        }
    }
}

/// A loaded, checked component, ready to instantiate cheaply per call.
pub struct Hook {
    pub sha256: String,
    pub source: LoadSource,
    /// Time to compile or deserialize, and pre-instantiate.
    pub load_time: Duration,
    pre: InstancePre<CallState>,
    exports: Exports,
    /// The tag keys the hook reads (`tag-keys`); None: every tag.
    tag_keys: Option<std::collections::HashSet<String>>,
}

impl Hook {
    /// The tag keys the hook asked for; None when it reads every tag.
    pub fn tag_keys(&self) -> Option<&std::collections::HashSet<String>> {
        self.tag_keys.as_ref()
    }
}

/// The component's exports, looked up once at load.
struct Exports {
    tag_keys: ComponentExportIndex,
    before_wave: ComponentExportIndex,
    after_wave: ComponentExportIndex,
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
        // The p2 interfaces hooks may import, clocks and random replaced (`wasi.rs`);
        // imports::check refuses the rest at load and the WasiCtx denies what remains (no
        // preopens, env, args or stdin). The async flavour: a host call the guest waits on is
        // a future that the call's deadline can drop (see `deadline.rs`).
        wasi::add_to_linker(&mut linker)?;
        WaveHooks::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
        Ok(HookHost { engine, linker, config })
    }

    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// [`HookHost::load_async`], blocking the calling thread until it ends. Callable from any
    /// thread, async code included (there, prefer the async methods).
    pub fn load(&self, bytes: &[u8], pin: &str) -> Result<Hook, HookError> {
        if bytes.len() > self.config.max_component_bytes {
            return Err(HookError::TooLarge { bytes: bytes.len() as u64, limit: self.config.max_component_bytes });
        }
        deadline::block_on(self.load_from(load::Source::Bytes(bytes.to_vec()), pin))
    }

    /// Refuse a component over the size cap, check the pin (before parsing anything), compile
    /// or load from the cache (on the blocking pool, within the compile limit), check imports
    /// and exports, and ask the hook for its tag keys. Needs a tokio runtime.
    pub async fn load_async(&self, bytes: Vec<u8>, pin: &str) -> Result<Hook, HookError> {
        self.load_from(load::Source::Bytes(bytes), pin).await
    }

    /// [`HookHost::load_async`] of a file: a file over the size cap is refused from its size,
    /// unread, and the read is inside the compile limit.
    pub async fn load_file_async(&self, path: &Path, pin: &str) -> Result<Hook, HookError> {
        self.load_from(load::Source::File(path.to_owned()), pin).await
    }

    async fn load_from(&self, source: load::Source, pin: &str) -> Result<Hook, HookError> {
        let started = Instant::now();
        let limits = load::Limits {
            engine: &self.engine,
            cache_dir: &self.config.cache_dir,
            max_bytes: self.config.max_component_bytes,
            time: self.config.compile_timeout,
        };
        let load::Compiled { component, source, sha256 } = load::compile(source, pin, limits).await?;
        imports::check(&self.engine, &component)?;
        let invalid = |e: wasmtime::Error| HookError::Invalid(error::bounded(&format!("{e:#}")));
        let pre = self.linker.instantiate_pre(&component).map_err(invalid)?;
        // The generated bindings check every export's type at load; the calls themselves go
        // through `decision.rs`, which lifts the result within bounds.
        WaveHooksPre::new(pre.clone()).map_err(invalid)?;
        let export = |name: &str| {
            component
                .get_export_index(None, name)
                .ok_or_else(|| HookError::Invalid(format!("the component does not export {name}")))
        };
        let exports =
            Exports { tag_keys: export("tag-keys")?, before_wave: export("before-wave")?, after_wave: export("after-wave")? };
        let keys = self.ask_tag_keys(&pre, &exports.tag_keys).await?;
        let tag_keys = (!keys.is_empty()).then(|| keys.into_iter().collect());
        Ok(Hook { sha256, source, load_time: started.elapsed(), pre, exports, tag_keys })
    }

    /// `tag-keys`, once at load, in a store of its own under the same caps as a call.
    async fn ask_tag_keys(&self, pre: &InstancePre<CallState>, export: &ComponentExportIndex) -> Result<Vec<String>, HookError> {
        let mut store = self.store(0);
        let ran = deadline::within(self.config.call_timeout, async {
            let instance = pre.instantiate_async(&mut store).await?;
            let func = instance.get_typed_func::<(), (TagKeys,)>(&mut store, export)?;
            let (keys,) = func.call_async(&mut store, ()).await?;
            Ok(decision::tag_keys(keys))
        })
        .await;
        let state = store.into_data();
        let stderr = String::from_utf8_lossy(&state.stderr.contents()).into_owned();
        match self.settle(ran, state.limits.memory_exceeded, &stderr) {
            Err(HookError::BadReturn(m)) => Err(HookError::Invalid(format!("tag-keys: {m}"))),
            other => other,
        }
    }

    /// A fresh store under the call's caps; its guest code yields to the executor at every
    /// epoch tick, so that the call's deadline is looked at even while the guest computes.
    fn store(&self, now: u64) -> Store<CallState> {
        let mut store = Store::new(&self.engine, CallState::new(self.config.memory_bytes, self.config.log_limits.clone(), now));
        store.limiter(|s| &mut s.limits);
        // What a guest may hand the host in one host call (a `log` message) or one result:
        // more traps instead of being copied (`bounded.rs` keeps results far below it).
        store.set_hostcall_fuel(HOSTCALL_FUEL_BYTES);
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);
        store
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

    /// `before-wave`, blocking the calling thread until it ends (within the call's cap plus a
    /// few milliseconds). Callable from any thread, async code included; there
    /// [`HookHost::before_wave_async`] does not hold the thread.
    pub fn before_wave(&self, hook: &Hook, context: &WaveContext) -> Result<CallOutcome, HookError> {
        deadline::block_on(self.before_wave_async(hook, context))
    }

    /// `after-wave`, blocking; see [`HookHost::before_wave`].
    pub fn after_wave(&self, hook: &Hook, result: &WaveResult) -> Result<CallOutcome, HookError> {
        deadline::block_on(self.after_wave_async(hook, result))
    }

    /// `before-wave` as a future (it needs tokio's timer, as in any runtime built with
    /// `enable_time` or `enable_all`).
    pub async fn before_wave_async(&self, hook: &Hook, context: &WaveContext) -> Result<CallOutcome, HookError> {
        let context = self.visible(hook, context);
        self.call(hook, &hook.exports.before_wave, (&*context,), &context.servers, context.now).await
    }

    /// `after-wave` as a future; see [`HookHost::before_wave_async`].
    pub async fn after_wave_async(&self, hook: &Hook, result: &WaveResult) -> Result<CallOutcome, HookError> {
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
        self.call(hook, &hook.exports.after_wave, (&*result,), &result.context.servers, result.context.now).await
    }

    /// One call in a fresh store: instantiate, call, lift the decision within bounds, all
    /// under the wall-time cap (`deadline::within`).
    async fn call<P>(
        &self,
        hook: &Hook,
        export: &ComponentExportIndex,
        params: P,
        servers: &[Server],
        now: u64,
    ) -> Result<CallOutcome, HookError>
    where
        P: ComponentNamedList + Lower + Send + Sync,
    {
        let started = Instant::now();
        let mut store = self.store(now);
        let ran = deadline::within(self.config.call_timeout, async {
            let instance = hook.pre.instantiate_async(&mut store).await?;
            let func = instance.get_typed_func::<P, (RawDecision,)>(&mut store, export)?;
            let (raw,) = func.call_async(&mut store, params).await?;
            Ok(decision::check(raw, servers))
        })
        .await;
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
        let decision = self.settle(ran, state.limits.memory_exceeded, &outcome.stderr)?;
        Ok(CallOutcome { decision, ..outcome })
    }

    /// What a bounded run came to: its value, or the error that ended it.
    fn settle<T>(
        &self,
        ran: Result<wasmtime::Result<Result<T, HookError>>, deadline::Elapsed>,
        memory_exceeded: bool,
        stderr: &str,
    ) -> Result<T, HookError> {
        match ran {
            Err(deadline::Elapsed) => Err(HookError::Timeout { limit_ms: self.config.call_timeout.as_millis() as u64 }),
            Ok(Err(e)) => Err(self.classify(e, memory_exceeded, stderr)),
            Ok(Ok(lifted)) => lifted,
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
        if let Some(refused) = err.downcast_ref::<wasi::Refused>() {
            return HookError::HostCall { import: refused.import, refusal: refused.refusal.clone() };
        }
        match trap {
            // A Rust panic message lands on stderr just before the trap; it says more than the
            // trap. Cut as a pause reason is: stderr holds up to 64 KiB of the guest's text.
            Some(trap) => {
                let said: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).take(3).collect();
                match said.is_empty() {
                    true => HookError::Trap(trap.to_string()),
                    false => HookError::Trap(error::bounded(&format!("{trap}; stderr: {}", said.join(" | ")))),
                }
            }
            // Not a trap: the guest's return could not be lifted, or a host call failed for it.
            None => HookError::BadReturn(error::bounded(&format!("{err:#}"))),
        }
    }
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
