//! Dynamic protection groups on the simulator's demo fleet: discovered through the protocol
//! as tests/discovery.rs does, then resolved from manifest resources.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use common::*;

use drs_module::aws::Clients;
use drs_module::discovery::discover;
use drs_module::resource::DrsResource;
use drs_module::selection::{resolve, ResourceSelection};
use serde_json::json;

fn resource(name: &str, parameters: serde_json::Value) -> ResourceSelection {
    DrsResource::new(name, &parameters).unwrap().selection
}

#[tokio::test]
async fn the_demo_fleet_resolves_by_tags_and_names() {
    let sim = drs_sim::start(drs_sim::Fleet::demo(), 0).await.unwrap();
    drs_sim::client::Control::new(&sim.endpoint)
        .ok("POST", "servers/db-01", Some(&json!({"replicationState": "INITIAL_SYNC"})))
        .await
        .unwrap();
    let cfg = config(&sim.endpoint, &["us-east-1", "us-west-2"], demo_accounts(), 3);
    let clients = Clients::new(cfg.clone(), hub_sdk(), "test-selection");
    let d = discover(&clients, &cfg.partitions(), |_| {}).await;
    assert!(d.failed().next().is_none(), "{:?}", d.partitions);
    assert_eq!(d.servers.len(), 60);

    // Wave 1 is the 12 db servers across the three accounts; db-01 is still syncing.
    let r = resolve(&resource("Databases", json!({"Tags": {"Wave": "1"}})), &d.servers);
    assert_eq!(r.servers.len(), 12, "{:?}", r.servers);
    assert!(r.servers.iter().all(|s| s.hostname.starts_with("db-")));
    let accounts: std::collections::BTreeSet<_> = r.servers.iter().map(|s| s.account.as_str()).collect();
    assert_eq!(accounts.len(), 3);
    let not_ready: Vec<_> = r.not_ready.iter().map(|n| n.server.hostname.as_str()).collect();
    assert_eq!(not_ready, ["db-01"]);
    assert!(!r.is_ok());
    assert!(r.errors[0].starts_with("Databases: db-01 (") && r.errors[0].contains("INITIAL_SYNC"), "{:?}", r.errors);
    let r = resolve(&resource("Databases", json!({"Tags": {"Wave": "1"}, "Selection": {"onNotReady": "skip"}})), &d.servers);
    assert!(r.is_ok(), "{:?}", r.errors);
    assert_eq!((r.servers.len(), r.warnings.len()), (11, 1));

    // Names: case-insensitive, a short name or an FQDN; one name nowhere is a miss by name.
    let r = resolve(&resource("Web", json!({"HostNames": ["web-01", "WEB-02.corp.example.com"]})), &d.servers);
    let mut names: Vec<_> = r.servers.iter().map(|s| s.hostname.as_str()).collect();
    names.sort();
    assert_eq!(names, ["web-01", "web-02"]);
    assert!(r.is_ok(), "{:?}", r.errors);
    let r = resolve(&resource("Web", json!({"HostNames": ["web-01", "web-99"]})), &d.servers);
    assert_eq!(r.misses.len(), 1);
    assert_eq!(r.misses[0].entry, "HostNames[1] 'web-99'");
    assert_eq!(r.errors, ["Web: HostNames[1] 'web-99' matches no server"]);
    assert_eq!(r.servers.len(), 1);
}
