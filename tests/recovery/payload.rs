//! The lifecycle payload is a signed reference to the run ledger: the same few hundred bytes
//! for any fleet. A 25,000-server plan (over the 256 KiB that the payload had to fit when it
//! carried the plan) opens, reads back whole from the ledger and starts.

use crate::common::{resource, rig_configured};
use drs_module::driver::event;
use drs_module::lifecycle::handle;
use drs_sim::generate::{fleet, Spec};
use serde_json::json;

#[tokio::test]
async fn a_25000_server_plan_opens_behind_a_payload_of_a_few_hundred_bytes() {
    let f = fleet(&Spec { servers: 25_000, accounts: 5, regions: 2 }).unwrap();
    let accounts: Vec<String> = f.accounts.iter().map(|a| a.account_id.clone()).collect();
    let r = rig_configured(f, |c| {
        let template = c.accounts[0].clone();
        c.accounts =
            accounts.iter().map(|a| drs_module::config::TargetAccount { account_id: a.clone(), ..template.clone() }).collect();
    })
    .await;
    let params = json!({"Tags": {"Wave": ["1", "2", "3"]}, "Waves": {"ByTag": "Wave"}, "Selection": {"onNotReady": "skip"}});
    let answer = handle(&r.clients, &event(&resource("Everything", params), "activate", None)).await.expect("activate");
    let size = answer.to_string().len();
    let run = drs_module::recovery::run::of_payload(&r.clients, &answer).await.expect("the run reads back from the ledger");
    let servers = run.plan.server_count();
    println!("payload: {size} bytes for {servers} servers; plan {} bytes", run.plan.text().unwrap().len());
    assert!(servers > 24_000, "{servers} servers");
    assert!(size < 400, "{size} bytes: {answer}");
    assert_eq!(answer.as_object().map(|o| o.len()), Some(6), "v, phase, resource, rid, execution, mac: {answer}");
    assert_eq!(run.record.servers, servers);
    assert!(!r.start_recoveries().await.is_empty(), "the first wave started");
    // The plan is in chunks under DynamoDB's item limit, each in the simulator's table.
    let items = r.control.ok("GET", "tables/drs-orch-runs", None).await.unwrap();
    let chunks: Vec<&serde_json::Value> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["sk"]["S"].as_str().is_some_and(|sk| sk.starts_with("plan#")))
        .collect();
    assert!(chunks.len() > 1, "{} chunks", chunks.len());
    assert!(chunks.iter().all(|c| c["text"]["S"].as_str().is_some_and(|t| t.len() <= 350_000)));
}
