//! Discovery against the simulator, through the protocol: cross-account AssumeRole with the
//! ExternalId, every account x region, EC2 enrichment, and failures reported per partition.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use common::*;

use drs_module::aws::errors::Kind;
use drs_module::aws::Clients;
use drs_module::discovery::discover;
use serde_json::json;

#[tokio::test]
async fn three_accounts_two_regions_are_discovered_whole_and_enriched() {
    let sim = drs_sim::start(drs_sim::Fleet::demo(), 0).await.unwrap();
    let cfg = config(&sim.endpoint, &["us-east-1", "us-west-2"], demo_accounts(), 3);
    let clients = Clients::new(cfg.clone(), hub_sdk(), "test-exec-1");
    let seen = std::sync::Mutex::new(0);
    let d = discover(&clients, &cfg.partitions(), |_| *seen.lock().unwrap() += 1).await;
    assert_eq!(*seen.lock().unwrap(), 6);
    assert_eq!(d.partitions.len(), 6);
    assert!(d.failed().next().is_none(), "{:?}", d.partitions);
    assert_eq!(d.servers.len(), 60);
    assert!(d.servers.iter().all(|s| s.instance.is_some()), "every source instance found in its origin region");
    let db1 = d.servers.iter().find(|s| s.hostname == "db-01").unwrap();
    assert_eq!(db1.tags.get("Wave").map(String::as_str), Some("1"));
    let inst = db1.instance.as_ref().unwrap();
    assert_eq!(inst.tags.get("Name").map(String::as_str), Some("db-01"));
    assert_eq!(inst.state, "running");
    assert_ne!(db1.origin_region.as_deref(), Some(db1.region.as_str()));
    // AssumeRole ran once per account, with a session name naming the execution.
    let calls = sim.world.calls.since(0);
    let assumes: Vec<_> = calls.iter().filter(|c| c.operation == "AssumeRole").collect();
    assert_eq!(assumes.len(), 3, "credentials are cached per account and role");
    assert!(assumes.iter().all(|c| c.request["RoleSessionName"] == "drsorch-test-exec-1"));
    assert!(assumes.iter().all(|c| !c.request.to_string().contains("drsorch-demo-2000")), "ExternalId masked in the log");
}

#[tokio::test]
async fn failing_partitions_are_reported_by_reason_and_hide_nothing_else() {
    let mut fleet = drs_sim::Fleet::demo();
    fleet.faults.throttle.push(drs_sim::faults::Throttle {
        on: drs_sim::faults::Selector {
            account: Some("200000000003".into()),
            region: Some("us-west-2".into()),
            service: Some("drs".into()),
            operation: None,
        },
        requests_per_second: 0.001,
        burst: Some(0.0),
        retry_after_seconds: 0,
        per_partition: true,
    });
    let sim = drs_sim::start(fleet, 0).await.unwrap();
    let accounts = json!([
        {"accountId": "200000000001", "externalId": {"value": "wrong-external-id"}},
        {"accountId": "200000000002", "roleName": "no-such-role"},
        {"accountId": "200000000003"}
    ]);
    let cfg = config(&sim.endpoint, &["us-east-1", "us-west-2"], accounts, 2);
    let clients = Clients::new(cfg.clone(), hub_sdk(), "test-exec-2");
    let d = discover(&clients, &cfg.partitions(), |_| {}).await;
    let by = |a: &str, r: &str| d.partitions.iter().find(|p| p.partition.account == a && p.partition.region == r).unwrap();
    for r in ["us-east-1", "us-west-2"] {
        let e = by("200000000001", r).error.clone().expect("a wrong ExternalId fails");
        assert_eq!((e.reason.as_str(), e.kind), ("trust-refused-or-external-id-mismatch", Some(Kind::TrustRefused)), "{e}");
        let e = by("200000000002", r).error.clone().expect("a missing role fails");
        assert_eq!((e.reason.as_str(), e.kind), ("trust-refused-or-external-id-mismatch", Some(Kind::TrustRefused)), "{e}");
    }
    let throttled = by("200000000003", "us-west-2").error.clone().expect("the throttled partition fails");
    assert_eq!((throttled.reason.as_str(), throttled.kind), ("throttled", Some(Kind::Throttled)), "{throttled}");
    assert!(throttled.may_pass(), "a throttled partition is read again");
    let healthy = by("200000000003", "us-east-1");
    assert!(healthy.error.is_none(), "{:?}", healthy.error);
    assert_eq!(d.servers.len(), healthy.servers);
    assert_eq!(d.servers.len(), 10);
}
