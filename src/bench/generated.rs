//! The generated fleet the scale and discovery benchmarks run on: its shape (the same
//! `--servers`, `--accounts`, `--regions` options in both), and the module configuration
//! that reaches each of its accounts through the simulator.

use drs_module::config::ModuleConfig;
use drs_sim::generate::{self, Spec};
use serde_json::json;
use std::sync::Arc;

#[derive(clap::Args, Clone)]
pub struct Shape {
    #[arg(long, default_value_t = 10_000)]
    pub servers: usize,
    #[arg(long, default_value_t = 20)]
    pub accounts: usize,
    #[arg(long, default_value_t = 3)]
    pub regions: usize,
}

/// Signs the benchmarks' lifecycle payloads (a key of the generated configuration, no secret).
pub const PAYLOAD_KEY: &str = "drsorch-bench-payload-key-not-a-secret-01";

impl Shape {
    pub fn fleet(&self) -> anyhow::Result<drs_sim::Fleet> {
        generate::fleet(&Spec { servers: self.servers, accounts: self.accounts, regions: self.regions })
    }

    /// The module configuration for this fleet behind the simulator at `endpoint`; the hub
    /// in the first of `regions`.
    pub fn config(&self, regions: &[String], endpoint: &str) -> anyhow::Result<Arc<ModuleConfig>> {
        Ok(Arc::new(ModuleConfig::from_value(json!({
            "project": "drsorch", "environment": "demo",
            "hub": {"region": regions[0], "endpointUrl": endpoint},
            "roleName": generate::TARGET_ROLE,
            "externalId": {"rule": "{project}-{environment}-{accountId}"},
            "ledger": {"payloadKey": PAYLOAD_KEY},
            "regions": regions,
            "accounts": (0..self.accounts).map(|a| json!({"accountId": generate::account_id(a)})).collect::<Vec<_>>(),
        }))?))
    }
}
