//! Tenants' wave hooks, as the module calls them: the tenant's components from the module
//! configuration, loaded once per process into the hook host (pinned by SHA-256, compiled
//! once into the cache), called at a wave boundary with the wave's context, and each answer
//! (or failure, judged by the tenant's fail-closed or fail-open policy) turned into one
//! decision for the executor (`recovery/boundary.rs`).

pub mod context;
pub mod runner;
pub mod tenancy;

use crate::config::ModuleConfig;
use anyhow::{anyhow, bail};

/// The hooks a resource runs: `wanted` (its `Hooks`), or all of the tenant's, checked against
/// the configuration with errors naming the field.
pub fn names(cfg: &ModuleConfig, tenant: &str, wanted: Option<&[String]>) -> anyhow::Result<Vec<String>> {
    let tenants = cfg.hooks.as_ref().map(|h| &h.tenants);
    let t = tenants
        .and_then(|t| t.get(tenant))
        .ok_or_else(|| anyhow!("parameters.Tenant: '{tenant}' is not a tenant of the module configuration (hooks.tenants)"))?;
    match wanted {
        None => Ok(t.components.keys().cloned().collect()),
        Some(list) => {
            for (i, n) in list.iter().enumerate() {
                if !t.components.contains_key(n) {
                    let known: Vec<&str> = t.components.keys().map(String::as_str).collect();
                    bail!("parameters.Hooks[{i}]: tenant {tenant} has no hook '{n}' (it has: {})", known.join(", "));
                }
            }
            Ok(list.to_vec())
        }
    }
}
