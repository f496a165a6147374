//! `accounts check` against the simulator: each broken account x region is named by its
//! exact reason, the healthy ones pass, and the write probes change nothing.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use common::*;

/// eu-west-1 is uninitialized in one account; an outage fails fast with one retry.
const THREE_REGIONS: &[&str] = &["us-east-1", "us-west-2", "eu-west-1"];

use drs_module::accounts::{check, Outcome, Status};
use drs_module::aws::Clients;
use drs_sim::faults::{Outage, Selector};
use serde_json::json;

/// Every tag, job and launch-template version in the simulated cloud.
fn state(sim: &drs_sim::SimServer) -> String {
    let mut out = String::new();
    for p in sim.world.partitions() {
        let p = p.lock();
        let servers: Vec<_> = p.drs.servers.values().map(|s| (&s.id, &s.tags)).collect();
        let instances: Vec<_> = p.ec2.instances.values().map(|i| (&i.id, &i.tags)).collect();
        let templates: Vec<_> = p.ec2.launch_templates.values().map(|t| (&t.id, &t.tags, t.versions.len())).collect();
        out += &format!("{}/{} jobs={} {servers:?} {instances:?} {templates:?}\n", p.account, p.region, p.drs.jobs.len());
    }
    out
}

#[tokio::test]
async fn each_broken_partition_is_named_and_nothing_changes() {
    let mut fleet = drs_sim::Fleet::demo();
    let role = fleet.roles.iter_mut().find(|r| r.account_id == "200000000002").unwrap();
    role.denied_actions.extend(["drs:StartRecovery".into(), "ec2:CreateTags".into()]);
    fleet.accounts[2].uninitialized_regions.push("eu-west-1".into());
    fleet.faults.outages.push(Outage {
        on: Selector { account: Some("200000000003".into()), region: Some("us-west-2".into()), ..Default::default() },
        status: 503,
        count: None,
    });
    let sim = drs_sim::start(fleet, 0).await.unwrap();
    let two = json!(["us-east-1", "us-west-2"]);
    let cfg = config(
        &sim.endpoint,
        THREE_REGIONS,
        json!([
            {"accountId": "200000000001", "regions": two, "externalId": {"value": "wrong-external-id"}},
            {"accountId": "200000000002", "regions": two},
            {"accountId": "200000000003"}
        ]),
        2,
    );
    let clients = Clients::new(cfg.clone(), hub_sdk(), "accounts-check");
    let before = state(&sim);

    let report = check(&clients, &cfg.partitions()).await;

    let table = report.table();
    println!("{table}");
    assert_eq!(report.partitions.len(), 7);
    assert!(!report.healthy());
    let row = |a: &str, r: &str| report.get(a, r).unwrap_or_else(|| panic!("{a}/{r} missing"));
    for r in ["us-east-1", "us-west-2"] {
        let wrong_id = row("200000000001", r);
        assert_eq!(wrong_id.reason_names(), ["trust-refused-or-external-id-mismatch"], "{table}");
        assert!(wrong_id.reasons[0].message.contains("AWS does not say"), "{:?}", wrong_id.reasons);
        assert_eq!(wrong_id.caller_arn, None);
        let denied = row("200000000002", r);
        assert_eq!(
            denied.reason_names(),
            ["permission-missing: drs:StartRecovery", "permission-missing: ec2:CreateTags"],
            "{table}"
        );
        assert_eq!(
            denied.caller_arn.as_deref(),
            Some("arn:aws:sts::200000000002:assumed-role/drs-orchestrator-target/drsorch-accounts-check")
        );
    }
    assert_eq!(row("200000000003", "eu-west-1").reason_names(), ["drs-not-initialized"], "{table}");
    assert_eq!(row("200000000003", "us-west-2").reason_names(), ["region-unreachable"], "{table}");
    let healthy = row("200000000003", "us-east-1");
    assert_eq!(healthy.status, Status::Ok, "{table}");
    assert!(healthy.reasons.is_empty() && healthy.warnings.is_empty(), "{table}");
    assert_eq!(healthy.probes.len(), 19);
    assert!(healthy.probes.iter().all(|p| p.outcome == Outcome::Allowed), "{:?}", healthy.probes);
    // Each write was refused only after authorization: a validation, a not-found or a dry run.
    let detail = |a: &str| healthy.probes.iter().find(|p| p.action == a).unwrap().detail.clone();
    assert!(detail("drs:StartRecovery").starts_with("ValidationException"), "{}", detail("drs:StartRecovery"));
    assert!(detail("drs:TerminateRecoveryInstances").starts_with("ValidationException"));
    assert!(detail("drs:TagResource").starts_with("ResourceNotFoundException"));
    assert!(detail("drs:ReverseReplication").starts_with("ResourceNotFoundException"), "{}", detail("drs:ReverseReplication"));
    assert_eq!(detail("drs:DescribeJobLogItems"), "ok", "the log of a job that does not exist is empty");
    assert_eq!(detail("drs:DescribeRecoverySnapshots"), "ok", "point-in-time recovery reads a server's snapshots");
    assert!(detail("drs:UpdateLaunchConfiguration").starts_with("ResourceNotFoundException"));
    assert!(detail("ec2:ModifyLaunchTemplate").starts_with("DryRunOperation"));
    assert!(detail("ec2:CreateTags").starts_with("DryRunOperation"));
    assert!(detail("ec2:CreateLaunchTemplateVersion").starts_with("DryRunOperation"));

    // The write probes proved or disproved their permission and changed nothing.
    assert_eq!(state(&sim), before);
    let calls = sim.world.calls.since(0);
    for op in [
        "StartRecovery",
        "TerminateRecoveryInstances",
        "TagResource",
        "ReverseReplication",
        "CreateTags",
        "CreateLaunchTemplateVersion",
    ] {
        let sent: Vec<_> = calls.iter().filter(|c| c.operation == op).collect();
        assert!(!sent.is_empty(), "{op} was probed");
        assert!(sent.iter().all(|c| c.status >= 400), "{op} never succeeded: {sent:?}");
    }
    let drs =
        clients.drs(&drs_module::config::Partition { account: "200000000003".into(), region: "us-east-1".into() }).await.unwrap();
    assert!(drs.describe_jobs().send().await.unwrap().items().is_empty(), "no job was started");

    // The ExternalId is never shown, whether the configured one or the right one.
    let json = serde_json::to_string(&report).unwrap();
    for text in [&table, &json] {
        assert!(!text.contains("wrong-external-id") && !text.contains("drsorch-demo-2000"), "{text}");
    }
}

#[tokio::test]
async fn a_role_without_an_external_id_condition_is_healthy_with_a_warning() {
    let mut fleet = drs_sim::Fleet::demo();
    fleet.roles.iter_mut().find(|r| r.account_id == "200000000003").unwrap().external_id = None;
    let sim = drs_sim::start(fleet, 0).await.unwrap();
    let cfg =
        config(&sim.endpoint, THREE_REGIONS, json!([{"accountId": "200000000003", "regions": ["us-east-1", "us-west-2"]}]), 2);
    let clients = Clients::new(cfg.clone(), hub_sdk(), "accounts-check");
    let report = check(&clients, &cfg.partitions()).await;
    let table = report.table();
    assert!(report.healthy(), "{table}");
    for p in &report.partitions {
        assert_eq!(p.warning_names(), ["external-id-not-required"], "{table}");
    }
    assert!(table.contains("warning: external-id-not-required"), "{table}");
}
