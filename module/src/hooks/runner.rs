//! One hook host per process and the tenants' components loaded into it, then the calls:
//! each hook of the set in order, on a blocking thread (a call is CPU-bound and capped), its
//! answer or failure kept with its logs for the record.

use crate::config::{HookFailure, ModuleConfig};
use drs_host::{CallOutcome, Decision, Hook, HookError, HookHost, HostConfig, WaveContext, WaveResult};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// The hooks of one resource, loaded.
pub struct HookSet {
    pub tenant: String,
    pub on_failure: HookFailure,
    host: Arc<HookHost>,
    hooks: Vec<(String, Arc<Hook>)>,
    /// Each hook's component, by its SHA-256 (hex): what decided, for the run's record.
    digests: std::collections::BTreeMap<String, String>,
}

/// One hook's answer at a boundary.
#[derive(Debug)]
pub struct Answer {
    pub hook: String,
    /// before-wave or after-wave.
    pub point: &'static str,
    pub result: Result<Decision, String>,
    pub logs: Vec<String>,
}

static HOST: OnceLock<Result<Arc<HookHost>, String>> = OnceLock::new();
static LOADED: OnceLock<Mutex<HashMap<String, Arc<Hook>>>> = OnceLock::new();

fn host(cfg: &ModuleConfig) -> Result<Arc<HookHost>, String> {
    HOST.get_or_init(|| {
        let dir =
            cfg.hooks.as_ref().and_then(|h| h.cache_dir.clone()).map(PathBuf::from).unwrap_or_else(drs_host::default_cache_dir);
        HookHost::new(HostConfig::new(dir)).map(Arc::new).map_err(|e| format!("the hook host could not start: {e:#}"))
    })
    .clone()
}

/// Loads (once per process) the tenant's named hooks: a file that cannot be read, does not
/// match its pin, or imports what hooks may not is an error naming the hook.
pub fn load(cfg: &ModuleConfig, tenant: &str, names: &[String]) -> anyhow::Result<HookSet> {
    let t = cfg
        .hooks
        .as_ref()
        .and_then(|h| h.tenants.get(tenant))
        .ok_or_else(|| anyhow::anyhow!("tenant {tenant} is not in the module configuration (hooks.tenants)"))?;
    let host = host(cfg).map_err(anyhow::Error::msg)?;
    let mut hooks = vec![];
    let mut digests = std::collections::BTreeMap::new();
    for name in names {
        let c = t.components.get(name).ok_or_else(|| anyhow::anyhow!("tenant {tenant} has no hook {name}"))?;
        let loaded = LOADED.get_or_init(Default::default);
        let key = format!("{}:{}", c.sha256, c.path);
        let existing = loaded.lock().get(&key).cloned();
        let hook = match existing {
            Some(h) => h,
            None => {
                let bytes = std::fs::read(&c.path).map_err(|e| anyhow::anyhow!("hook {tenant}/{name}: {}: {e}", c.path))?;
                let h = Arc::new(host.load(&bytes, &c.sha256).map_err(|e| anyhow::anyhow!("hook {tenant}/{name}: {e}"))?);
                loaded.lock().insert(key, h.clone());
                h
            }
        };
        hooks.push((name.clone(), hook));
        digests.insert(name.clone(), c.sha256.to_ascii_lowercase());
    }
    Ok(HookSet { tenant: tenant.to_owned(), on_failure: t.on_failure, host, hooks, digests })
}

impl HookSet {
    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    /// Each hook's component digest (SHA-256, hex), by hook name.
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
        for (name, hook) in &self.hooks {
            let (host, hook, call) = (self.host.clone(), hook.clone(), call.clone());
            let done = tokio::task::spawn_blocking(move || call(&host, &hook)).await;
            let (result, logs) = match done {
                Ok(Ok(o)) => (Ok(o.decision), o.logs.iter().map(|l| format!("{:?}: {}", l.level, l.message)).collect()),
                Ok(Err(e)) => (Err(e.to_string()), vec![]),
                Err(e) => (Err(format!("the hook call did not finish: {e}")), vec![]),
            };
            out.push(Answer { hook: name.clone(), point, result, logs });
        }
        out
    }
}
