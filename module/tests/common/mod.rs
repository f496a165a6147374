//! Shared by the module's tests: the simulator's hub identity and module configurations
//! pointed at a running simulator.
#![allow(dead_code)]

use aws_config::SdkConfig;
use drs_module::config::ModuleConfig;
use drs_sim::generate;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn hub_sdk() -> SdkConfig {
    drs_module::aws::static_hub("us-east-1", generate::HUB_ACCESS_KEY, generate::HUB_SECRET)
}

pub fn demo_accounts() -> Value {
    json!([{"accountId": "200000000001"}, {"accountId": "200000000002"}, {"accountId": "200000000003"}])
}

/// The demo fleet's ExternalId rule and role, with these regions, accounts and retry attempts.
pub fn config(endpoint: &str, regions: &[&str], accounts: Value, max_attempts: u32) -> Arc<ModuleConfig> {
    Arc::new(
        ModuleConfig::from_value(json!({
            "project": "drsorch", "environment": "demo",
            "hub": {"region": "us-east-1", "endpointUrl": endpoint},
            "roleName": generate::TARGET_ROLE,
            "externalId": {"rule": "{project}-{environment}-{accountId}"},
            "ledger": {"payloadKey": "drsorch-module-tests-payload-key-0001"},
            "regions": regions,
            "accounts": accounts,
            "retry": {"mode": "standard", "maxAttempts": max_attempts}
        }))
        .unwrap(),
    )
}
