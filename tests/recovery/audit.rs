//! Every cross-account write of a run leaves an audit record (`module/src/aws/audit.rs`):
//! counted against the simulator's own log of the calls it served, with the run's execution,
//! the partition, the ids written and the request id; and no secret in any of it.

use crate::common::{resource, rig, shop_parameters};
use drs_module::aws::audit;
use serde_json::json;
use std::collections::BTreeMap;

#[tokio::test]
async fn every_write_of_a_drill_and_its_cleanup_is_audited_and_holds_no_secret() {
    audit::capture();
    let r = rig().await;
    let mut params = shop_parameters();
    params["ExecutionId"] = json!("audited-drill-1");
    let shop = resource("ShopStack", params);
    r.run(&shop, "activate", Some(&r.token().await)).await.expect("the drill succeeds");
    r.run(&shop, "cleanup", None).await.expect("the cleanup succeeds");

    // What the simulator served: DRS and EC2 writes in the target accounts.
    let served = r.sim.world.calls.since(0);
    let mut writes: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for c in served.iter().filter(|c| matches!(c.service.as_str(), "drs" | "ec2") && audit::is_write(&c.operation)) {
        *writes.entry((c.operation.clone(), c.account.clone(), c.region.clone())).or_default() += 1;
    }
    assert!(writes.keys().any(|(op, _, _)| op == "StartRecovery"), "{writes:?}");
    assert!(writes.keys().any(|(op, _, _)| op == "TerminateRecoveryInstances"), "{writes:?}");
    // Every role session of the run is named after its execution: CloudTrail in a target
    // account ties each call to it.
    let sessions: Vec<String> = served
        .iter()
        .filter(|c| c.operation == "AssumeRole")
        .map(|c| c.request["RoleSessionName"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(!sessions.is_empty());
    assert!(sessions.iter().all(|s| s == "drsorch-audited-drill-1"), "{sessions:?}");

    let records: Vec<audit::Record> = audit::captured().into_iter().filter(|r| r.execution == "audited-drill-1").collect();
    let mut audited: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for rec in &records {
        *audited.entry((rec.operation.clone(), rec.account.clone(), rec.region.clone())).or_default() += 1;
        assert!(rec.request_id.as_deref().is_some_and(|id| !id.is_empty()), "{rec:?}");
        assert!(rec.outcome == "ok" || rec.outcome.starts_with("http "), "{rec:?}");
    }
    assert_eq!(audited, writes, "one record per write the simulator served, under the run's execution");
    let starts: Vec<&audit::Record> = records.iter().filter(|r| r.operation == "StartRecovery").collect();
    assert!(starts.iter().all(|r| r.resources.iter().any(|id| id.starts_with("s-"))), "the source servers started: {starts:?}");

    // No secret: the ExternalIds the demo derives, the payload key, the hub's secret key.
    let text = serde_json::to_string(&records.iter().map(|r| json!(format!("{r:?}"))).collect::<Vec<_>>()).unwrap();
    let cfg = r.clients.config();
    let mut secrets: Vec<String> =
        cfg.accounts.iter().map(|a| cfg.external_id_for(&a.account_id).unwrap().expose().to_owned()).collect();
    secrets.push(cfg.ledger.payload_key.as_ref().unwrap().expose().to_owned());
    secrets.push(drs_sim::generate::HUB_SECRET.to_owned());
    for s in secrets {
        assert!(!text.contains(&s), "a secret in the audit records");
    }
}
