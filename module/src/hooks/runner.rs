//! One hook host per process and the tenants' components loaded into it, then the calls:
//! each hook of the set in order, on a blocking thread (a call is CPU-bound and capped), its
//! answer or failure kept with its logs for the record. A hook that cannot load is a member
//! of the set too: at each boundary it answers with why, and the tenant's failure policy
//! judges that as it judges a call that failed (`recovery/boundary.rs`).

use crate::config::{HookFailure, HooksConfig, ModuleConfig};
use drs_host::{CallOutcome, Decision, Hook, HookError, HookHost, HostConfig, WaveContext, WaveResult};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The hooks of one resource, loaded (or not).
pub struct HookSet {
    pub tenant: String,
    pub on_failure: HookFailure,
    hooks: Vec<(String, Member)>,
    /// Each loaded hook's component, by its SHA-256 (hex): what decided, for the run's record.
    digests: std::collections::BTreeMap<String, String>,
}

/// A hook of the set.
enum Member {
    Loaded {
        host: Arc<HookHost>,
        hook: Arc<Hook>,
    },
    /// Why it could not load: its file, size, pin, imports or compile, or the host itself.
    Unloadable(String),
}

/// Why a hook has no decision at a boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// It could not load (the reason).
    Load(String),
    /// Its call failed: trapped, timed out, was refused a host call, returned what cannot be
    /// applied (the host's error).
    Call(String),
}

impl Failure {
    /// What happened, in the words of the run's record.
    pub fn what(&self) -> &'static str {
        match self {
            Failure::Load(_) => "could not load",
            Failure::Call(_) => "failed",
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Failure::Load(why) | Failure::Call(why) => why,
        }
    }
}

/// One hook's answer at a boundary.
#[derive(Debug)]
pub struct Answer {
    pub hook: String,
    /// before-wave or after-wave.
    pub point: &'static str,
    pub result: Result<Decision, Failure>,
    pub logs: Vec<String>,
}

/// A host and the hooks loaded into it (a hook is bound to its host's engine).
struct Loader {
    host: Result<Arc<HookHost>, String>,
    /// By `sha256:path`.
    loaded: Mutex<HashMap<String, Arc<Hook>>>,
}

/// What tells hosts apart: the settings the configuration gives them.
type HostKey = (PathBuf, usize, Duration, Duration);

/// One host per process and hooks configuration: a configuration read again with another
/// size cap or compile limit gets a host that applies it.
static HOSTS: OnceLock<Mutex<HashMap<HostKey, Arc<Loader>>>> = OnceLock::new();

/// The host's settings from the module configuration's `hooks`.
fn host_config(hooks: Option<&HooksConfig>) -> HostConfig {
    let dir = hooks.and_then(|h| h.cache_dir.clone()).map(PathBuf::from).unwrap_or_else(drs_host::default_cache_dir);
    let defaults = HostConfig::new(dir);
    HostConfig {
        max_component_bytes: hooks.and_then(|h| h.max_component_bytes).unwrap_or(defaults.max_component_bytes),
        compile_timeout: hooks
            .and_then(|h| h.compile_timeout_seconds)
            .map(Duration::from_secs)
            .unwrap_or(defaults.compile_timeout),
        call_timeout: hooks.and_then(|h| h.call_timeout_millis).map(Duration::from_millis).unwrap_or(defaults.call_timeout),
        ..defaults
    }
}

fn loader(cfg: &ModuleConfig) -> Arc<Loader> {
    let config = host_config(cfg.hooks.as_ref());
    let key = (config.cache_dir.clone(), config.max_component_bytes, config.compile_timeout, config.call_timeout);
    let mut hosts = HOSTS.get_or_init(Default::default).lock();
    hosts
        .entry(key)
        .or_insert_with(|| {
            let host = HookHost::new(config).map(Arc::new).map_err(|e| format!("the hook host could not start: {e:#}"));
            Arc::new(Loader { host, loaded: Mutex::default() })
        })
        .clone()
}

/// The tenant's named hooks, each loaded once per process (off the async worker, within the
/// host's size cap and compile limit). A hook that cannot load (its file unreadable or too
/// large, its pin not matched, its imports refused, its compile too slow, or no host) is in
/// the set as such, and its tenant's policy decides at each boundary; only a tenant or hook
/// the configuration does not have is an error here.
pub async fn load(cfg: &ModuleConfig, tenant: &str, names: &[String]) -> anyhow::Result<HookSet> {
    let t = cfg
        .hooks
        .as_ref()
        .and_then(|h| h.tenants.get(tenant))
        .ok_or_else(|| anyhow::anyhow!("tenant {tenant} is not in the module configuration (hooks.tenants)"))?;
    let loader = loader(cfg);
    let mut hooks = vec![];
    let mut digests = std::collections::BTreeMap::new();
    for name in names {
        let c = t.components.get(name).ok_or_else(|| anyhow::anyhow!("tenant {tenant} has no hook {name}"))?;
        let member = match &loader.host {
            Ok(host) => match loaded(host, &loader.loaded, Path::new(&c.path), &c.sha256).await {
                Ok(hook) => Member::Loaded { host: host.clone(), hook },
                Err(e) => Member::Unloadable(e.to_string()),
            },
            Err(why) => Member::Unloadable(why.clone()),
        };
        match &member {
            Member::Loaded { .. } => drop(digests.insert(name.clone(), c.sha256.to_ascii_lowercase())),
            Member::Unloadable(why) => tracing::warn!(tenant, hook = %name, "hook cannot load: {why}"),
        }
        hooks.push((name.clone(), member));
    }
    Ok(HookSet { tenant: tenant.to_owned(), on_failure: t.on_failure, hooks, digests })
}

/// The component at `path` pinned by `sha256`: loaded before in this process, or now. A
/// failure is not kept: the next check tries again (a file put right, a compile finished).
async fn loaded(
    host: &HookHost,
    cache: &Mutex<HashMap<String, Arc<Hook>>>,
    path: &Path,
    sha256: &str,
) -> Result<Arc<Hook>, HookError> {
    let key = format!("{sha256}:{}", path.display());
    if let Some(hook) = cache.lock().get(&key).cloned() {
        return Ok(hook);
    }
    let hook = Arc::new(host.load_file_async(path, sha256).await?);
    cache.lock().insert(key, hook.clone());
    Ok(hook)
}

impl HookSet {
    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    /// Each loaded hook's component digest (SHA-256, hex), by hook name.
    pub fn digests(&self) -> &std::collections::BTreeMap<String, String> {
        &self.digests
    }

    pub async fn before_wave(&self, ctx: WaveContext) -> Vec<Answer> {
        let ctx = Arc::new(ctx);
        self.each("before-wave", move |host, hook| host.before_wave(hook, &ctx)).await
    }

    pub async fn after_wave(&self, result: WaveResult) -> Vec<Answer> {
        let result = Arc::new(result);
        self.each("after-wave", move |host, hook| host.after_wave(hook, &result)).await
    }

    async fn each(
        &self,
        point: &'static str,
        call: impl Fn(&HookHost, &Hook) -> Result<CallOutcome, HookError> + Send + Sync + 'static,
    ) -> Vec<Answer> {
        let call = Arc::new(call);
        let mut out = vec![];
        for (name, member) in &self.hooks {
            let (host, hook) = match member {
                Member::Loaded { host, hook } => (host.clone(), hook.clone()),
                Member::Unloadable(why) => {
                    out.push(Answer { hook: name.clone(), point, result: Err(Failure::Load(why.clone())), logs: vec![] });
                    continue;
                }
            };
            let call = call.clone();
            let done = tokio::task::spawn_blocking(move || call(&host, &hook)).await;
            let (result, logs) = match done {
                Ok(Ok(o)) => (Ok(o.decision), o.logs.iter().map(|l| format!("{:?}: {}", l.level, l.message)).collect()),
                Ok(Err(e)) => (Err(Failure::Call(e.to_string())), vec![]),
                Err(e) => (Err(Failure::Call(format!("the hook call did not finish: {e}"))), vec![]),
            };
            out.push(Answer { hook: name.clone(), point, result, logs });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration's size cap and compile limit reach the host (through the schema and
    /// serde); left out, the host's defaults hold.
    #[test]
    fn the_configured_size_cap_and_compile_limit_reach_the_host() {
        let mut value: serde_json::Value = serde_json::from_str(crate::config::DEMO).unwrap();
        let defaults = host_config(ModuleConfig::from_value(value.clone()).unwrap().hooks.as_ref());
        assert_eq!(defaults.max_component_bytes, drs_host::DEFAULT_MAX_COMPONENT_BYTES);
        assert_eq!(defaults.compile_timeout, drs_host::DEFAULT_COMPILE_TIMEOUT);
        value["hooks"]["maxComponentBytes"] = serde_json::json!(1024);
        value["hooks"]["compileTimeoutSeconds"] = serde_json::json!(5);
        let set = host_config(ModuleConfig::from_value(value.clone()).unwrap().hooks.as_ref());
        assert_eq!((set.max_component_bytes, set.compile_timeout), (1024, Duration::from_secs(5)));
        assert_eq!(set.call_timeout, Duration::from_millis(500), "the demo's call limit");
        value["hooks"]["callTimeoutMillis"] = serde_json::json!(75);
        let set = host_config(ModuleConfig::from_value(value.clone()).unwrap().hooks.as_ref());
        assert_eq!(set.call_timeout, Duration::from_millis(75));
        value["hooks"]["compileTimeoutSeconds"] = serde_json::json!(0);
        let err = ModuleConfig::from_value(value).unwrap_err().to_string();
        assert!(err.contains("compileTimeoutSeconds"), "{err}");
    }
}
