//! Cross-account tag sync on the simulator's demo fleet: each DRS source server (3 accounts x
//! 2 regions) gets its source EC2 instance's tags (read in the instance's origin account and
//! region), one TagResource per server; a differing DRS value is a conflict until
//! `overwrite`; a second sync finds everything in sync.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use common::*;

use drs_module::aws::Clients;
use drs_module::discovery::{discover, DiscoveredServer};
use drs_module::tagsync::{apply, plan, Rules};

fn by_name<'a>(servers: &'a [DiscoveredServer], host: &str) -> &'a DiscoveredServer {
    servers.iter().find(|s| s.hostname == host).unwrap()
}

#[tokio::test]
async fn source_instance_tags_reach_their_drs_servers_across_accounts() {
    let sim = drs_sim::start(drs_sim::Fleet::demo(), 0).await.unwrap();
    let control = drs_sim::client::Control::new(&sim.endpoint);
    let cfg = config(&sim.endpoint, &["us-east-1", "us-west-2"], demo_accounts(), 3);
    let clients = Clients::new(cfg.clone(), hub_sdk(), "test-tag-sync");
    let d = discover(&clients, &cfg.partitions(), |_| {}).await;
    assert_eq!(d.servers.len(), 60);

    // db-01's team set its own Owner on the DRS server.
    let db01 = by_name(&d.servers, "db-01").clone();
    let ec2_owner = db01.instance.as_ref().unwrap().tags["Owner"].clone();
    let drs =
        clients.drs(&drs_module::config::Partition { account: db01.account.clone(), region: db01.region.clone() }).await.unwrap();
    drs.tag_resource().resource_arn(&db01.arn).tags("Owner", "dba-on-call").send().await.unwrap();
    let d = discover(&clients, &cfg.partitions(), |_| {}).await;

    let p = plan(&d.servers, &Rules::default());
    let expected: usize =
        d.servers.iter().map(|s| s.instance.as_ref().unwrap().tags.keys().filter(|k| !s.tags.contains_key(*k)).count()).sum();
    assert!(expected >= 60, "every server lacks some of its instance's tags: {expected}");
    assert_eq!(p.tags_to_set(), expected);
    let c = p.changes.iter().find(|c| c.hostname == "db-01").unwrap();
    assert_eq!(c.conflicts, ["Owner"]);
    assert!(!c.set.contains_key("Owner"));

    let before = control.calls().await.unwrap().len();
    let applied = apply(&clients, &p).await;
    assert!(applied.failures.is_empty(), "{:?}", applied.failures);
    assert_eq!((applied.servers_tagged, applied.tags_set), (60, expected));
    let calls = control.calls().await.unwrap();
    let tag_calls: Vec<_> = calls[before..].iter().filter(|c| c["operation"] == "TagResource").collect();
    assert_eq!(tag_calls.len(), 60, "one TagResource per server");
    let accounts: std::collections::BTreeSet<&str> = tag_calls.iter().map(|c| c["account"].as_str().unwrap()).collect();
    assert_eq!(accounts.len(), 3, "in each server's own account: {accounts:?}");

    // The DRS servers now carry their instances' tags; db-01 kept its own Owner.
    let d = discover(&clients, &cfg.partitions(), |_| {}).await;
    let web01 = by_name(&d.servers, "web-01");
    for (k, v) in &web01.instance.as_ref().unwrap().tags {
        assert_eq!(web01.tags.get(k), Some(v), "web-01 {k}");
    }
    assert_eq!(by_name(&d.servers, "db-01").tags["Owner"], "dba-on-call");
    let again = plan(&d.servers, &Rules::default());
    assert_eq!((again.tags_to_set(), again.in_sync, again.changes.len()), (0, 59, 1), "only db-01's conflict is left");

    // With overwrite, EC2's value wins.
    let fix = plan(&d.servers, &Rules { overwrite: true, ..Default::default() });
    assert_eq!(fix.tags_to_set(), 1);
    assert_eq!(apply(&clients, &fix).await.servers_tagged, 1);
    let d = discover(&clients, &cfg.partitions(), |_| {}).await;
    assert_eq!(by_name(&d.servers, "db-01").tags["Owner"], ec2_owner);
    assert_eq!(plan(&d.servers, &Rules::default()).in_sync, 60);
}
