//! Preflight (instantiate) against the simulator: what would block a recovery is named, and
//! nothing is changed.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use common::*;
use drs_module::aws::Clients;
use drs_module::preflight::{preflight, Concern, Finding, LaunchIssue};
use drs_sim::client::Control;
use serde_json::json;

#[tokio::test]
async fn blockers_and_warnings_are_named_and_nothing_changes() {
    let sim = drs_sim::start(drs_sim::Fleet::demo(), 0).await.unwrap();
    let control = Control::new(&sim.endpoint);
    control.ok("POST", "servers/db-02", Some(&json!({"replicationState": "STALLED"}))).await.unwrap();
    let cfg = config(&sim.endpoint, &["us-east-1", "us-west-2"], demo_accounts(), 3);
    let clients = Clients::new(cfg.clone(), hub_sdk(), "preflight-test");
    // db-03 will launch stopped: a warning, not a blocker.
    let db3 = control.ok("GET", "servers", None).await.unwrap()["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["sourceProperties"]["identificationHints"]["hostname"] == "db-03")
        .cloned()
        .unwrap();
    let p = drs_module::config::Partition {
        account: db3["accountId"].as_str().unwrap().into(),
        region: db3["region"].as_str().unwrap().into(),
    };
    clients
        .drs(&p)
        .await
        .unwrap()
        .update_launch_configuration()
        .source_server_id(db3["sourceServerID"].as_str().unwrap())
        .launch_disposition(aws_sdk_drs::types::LaunchDisposition::Stopped)
        .send()
        .await
        .unwrap();
    let before = sim.world.calls.len();

    let resource = json!({"action": "DRS", "resourceName": "Databases",
        "parameters": {"Tags": {"Tier": "db"}, "LaunchSettings": {"LaunchDisposition": "STARTED", "CopyTags": true}}});
    let r = preflight(&clients, &drs_module::resource::DrsResource::from_value(&resource).unwrap()).await.unwrap();
    assert!(!r.ready());
    let has = |list: &[Finding], concern: Concern, parts: &[&str]| {
        list.iter().any(|f| f.concern == concern && parts.iter().all(|p| f.to_string().contains(p)))
    };
    assert!(has(&r.blockers, Concern::Selection, &["db-02", "STALLED"]), "{:?}", r.blockers);
    assert!(has(&r.warnings, Concern::LaunchSettings, &["db-03", "STOPPED"]), "{:?}", r.warnings);
    assert_eq!(r.launch_settings.len(), 1, "db-03's setting alone is worth a word: {:?}", r.launch_settings);
    assert_eq!(r.launch_settings[0].issue, LaunchIssue::StartsStopped);
    // Its LaunchSettings say STARTED: db-03 alone drifts, a warning naming the field.
    assert_eq!(r.launch_drift.as_ref().map(|d| d.drifting()), Some(1));
    let drift: Vec<String> = r.warnings.iter().filter(|w| w.concern == Concern::LaunchDrift).map(ToString::to_string).collect();
    assert_eq!(drift.len(), 1, "{:?}", r.warnings);
    assert!(drift[0].contains("db-03") && drift[0].contains("LaunchDisposition is STOPPED (want STARTED)"), "{drift:?}");
    assert!(r.accounts.healthy());
    assert_eq!(r.plan.resources[0].resolution.servers.len(), 12, "the not-ready server stays in the group and blocks");
    let mutating = sim.world.calls.since(before as u64).into_iter().filter(|c| {
        c.status < 300
            && matches!(
                c.operation.as_str(),
                "StartRecovery" | "TerminateRecoveryInstances" | "UpdateLaunchConfiguration" | "CreateTags" | "TagResource"
            )
    });
    assert_eq!(mutating.count(), 0, "preflight changes nothing");
    let reads = sim.world.calls.since(before as u64).into_iter().filter(|c| c.operation == "GetLaunchConfiguration").count();
    // The 12 servers once each, and accounts check's probe of one server per partition (6).
    assert_eq!(reads, 12 + 6, "each server's launch configuration is read once");
}

/// A region where DRS was never initialized holds no source server: a warning for a resource
/// that does not name it, a blocker for one that does.
#[tokio::test]
async fn an_uninitialized_region_warns_unless_the_resource_names_it() {
    let mut fleet = drs_sim::Fleet::demo();
    fleet.accounts[2].uninitialized_regions.push("eu-west-1".into());
    let sim = drs_sim::start(fleet, 0).await.unwrap();
    let two = json!(["us-east-1", "us-west-2"]);
    let cfg = config(
        &sim.endpoint,
        &["us-east-1", "us-west-2", "eu-west-1"],
        json!([{"accountId": "200000000001", "regions": two}, {"accountId": "200000000002", "regions": two},
               {"accountId": "200000000003"}]),
        3,
    );
    let clients = Clients::new(cfg, hub_sdk(), "preflight-test");
    let unnamed = json!({"action": "DRS", "resourceName": "Databases", "parameters": {"Tags": {"Tier": "db"}}});
    let r = preflight(&clients, &drs_module::resource::DrsResource::from_value(&unnamed).unwrap()).await.unwrap();
    assert!(r.ready(), "{:?}", r.blockers);
    assert!(
        r.warnings.iter().any(|w| w.concern == Concern::DrsNotInitialized && w.at.as_deref() == Some("200000000003/eu-west-1")),
        "{:?}",
        r.warnings
    );

    let named = json!({"action": "DRS", "resourceName": "Databases",
        "parameters": {"Tags": {"Tier": "db"}, "Regions": ["us-east-1", "eu-west-1"]}});
    let r = preflight(&clients, &drs_module::resource::DrsResource::from_value(&named).unwrap()).await.unwrap();
    assert!(!r.ready());
    assert!(r.blockers.iter().any(|b| b.at.as_deref() == Some("200000000003/eu-west-1")), "{:?}", r.blockers);
}
