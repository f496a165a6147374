//! The plan against the simulator's demo fleet: groups, ordered waves and DRS jobs within
//! the quotas, starting nothing.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

use drs_module::aws::Clients;
use drs_module::config::{ModuleConfig, Quotas};
use drs_module::discovery::{discover, Discovery};
use drs_module::manifest::layers;
use drs_module::plan::plan;
use drs_sim::generate;
use serde_json::{json, Value};
use std::sync::Arc;

async fn demo_discovery() -> (drs_sim::SimServer, Discovery) {
    let sim = drs_sim::start(drs_sim::Fleet::demo(), 0).await.unwrap();
    let mut cfg = ModuleConfig::parse(drs_module::config::DEMO).unwrap();
    cfg.hub.endpoint_url = Some(sim.endpoint.clone());
    let cfg = Arc::new(cfg);
    let clients = Clients::new(
        cfg.clone(),
        drs_module::aws::static_hub("us-east-1", generate::HUB_ACCESS_KEY, generate::HUB_SECRET),
        "plan-test",
    );
    let d = discover(&clients, &cfg.partitions(), |_| {}).await;
    (sim, d)
}

fn manifest(name: &str) -> Value {
    let path = format!("../manifests/{name}");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn demo_manifest_plans_three_ordered_waves_within_quotas_and_starts_nothing() {
    let (sim, found) = demo_discovery().await;
    let q = Quotas { servers_per_job: 3, servers_in_active_jobs: 500, concurrent_jobs: 1 };
    let p = plan(&layers(&manifest("demo-drill.json")).unwrap(), &found, &q);
    assert!(p.is_ok(), "{}", p.text());
    let r = &p.resources[0];
    let names: Vec<&str> = r.waves.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["databases", "applications", "web"]);
    let sizes: Vec<usize> = r.waves.iter().map(|w| w.servers.len()).collect();
    assert_eq!(sizes, [12, 24, 24]);
    assert!(r.waves[0].servers.iter().all(|h| h.starts_with("db-")));
    // 4 app servers per account x region, 3 per job: two jobs each, the second waits (1 concurrent job).
    let apps = &r.waves[1].jobs;
    assert_eq!(apps.len(), 12);
    assert!(apps.iter().all(|j| j.source_server_ids.len() <= 3));
    assert_eq!(apps.iter().filter(|j| !j.starts_with_wave).count(), 6);
    let every: std::collections::HashSet<&String> =
        r.waves.iter().flat_map(|w| w.jobs.iter().flat_map(|j| &j.source_server_ids)).collect();
    assert_eq!(every.len(), 60, "each server in exactly one job");
    assert!(sim.world.calls.since(0).iter().all(|c| c.operation != "StartRecovery"), "planning starts nothing");
}

#[tokio::test]
async fn bad_waves_and_misses_are_named() {
    let (_sim, found) = demo_discovery().await;
    let m = json!([{"layer": 1, "resources": [
        {"action": "DRS", "resourceName": "Cyclic", "parameters": {"Tags": {"Tier": "db"}, "Waves": [
            {"Name": "a", "Tags": {"Tier": "db"}, "DependsOn": ["b"]},
            {"Name": "b", "Tags": {"Tier": "db"}, "DependsOn": ["a"]}]}},
        {"action": "DRS", "resourceName": "Ghost", "parameters": {"HostNames": ["no-such-host"]}}
    ]}]);
    let p = plan(&layers(&m).unwrap(), &found, &Quotas::default());
    assert!(!p.is_ok());
    let text = p.text();
    assert!(text.contains("Cyclic") && text.contains("cycle"), "{text}");
    assert!(text.contains("Ghost") && text.contains("no-such-host"), "{text}");
}
