//! A hub in two regions: the run ledger a global table served by both, a configuration and an
//! approval state machine in each. A run started through region A goes on through region B
//! when A's STS, Step Functions and DynamoDB stop answering: the same run (its record and plan
//! read from B's replica), nothing launched twice, one approval, asked in B.

use crate::common::{launches_per_server, resource, shop_parameters, POLL_S};
use drs_module::aws::{static_hub, Clients};
use drs_module::config::{Approvals, ModuleConfig};
use drs_module::driver::event;
use drs_module::lifecycle::handle_detailed;
use drs_sim::client::Control;
use drs_sim::generate;
use serde_json::{json, Value};
use std::sync::Arc;

const A: &str = "us-east-1";
const B: &str = "us-west-2";

fn clients_in(region: &str, sim: &drs_sim::SimServer) -> Clients {
    let mut cfg = ModuleConfig::parse(drs_module::config::DEMO).unwrap();
    cfg.hub.region = region.into();
    cfg.hub.endpoint_url = Some(sim.endpoint.clone());
    cfg.retry.max_attempts = 2;
    cfg.approvals =
        Some(Approvals { state_machine_arn: format!("arn:aws:states:{region}:100000000000:stateMachine:drs-orch-approval") });
    let world = sim.world.clone();
    Clients::new(Arc::new(cfg), static_hub(region, generate::HUB_ACCESS_KEY, generate::HUB_SECRET), "test")
        .with_clock(Arc::new(move || world.clock.now()))
}

#[tokio::test]
async fn a_run_started_through_region_a_ends_through_region_b_when_a_goes_dark() {
    let mut fleet = drs_sim::Fleet::demo();
    for t in fleet.tables.iter_mut().filter(|t| t.name == "drs-orch-runs") {
        t.regions = vec![A.into(), B.into()];
    }
    let sim = drs_sim::start(fleet, 0).await.unwrap();
    let control = Control::new(&sim.endpoint);
    control.ok("POST", "clock", Some(&json!({"speed": 0}))).await.unwrap();
    let (hub_a, hub_b) = (clients_in(A, &sim), clients_in(B, &sim));

    let mut params = shop_parameters();
    params["ExecutionId"] = json!("failover-1");
    params["Waves"][2]["PauseBefore"] = json!("sign-off");
    let shop = resource("ShopStack", params);
    let call = event(&shop, "activate", None);
    let reference = handle_detailed(&hub_a, &call).await.expect("activate through A").answer;
    let mut check = call.clone();
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": reference});
    for _ in 0..3 {
        control.advance(POLL_S as f64).await.unwrap();
        assert_eq!(handle_detailed(&hub_a, &check).await.expect("checks through A").answer, json!(false));
    }
    let started_in_a = control.calls().await.unwrap().iter().filter(|c| c["operation"] == "StartRecovery").count();
    assert!(started_in_a > 0);

    // Region A's hub services go dark; the target accounts' DRS there still answers.
    let dark: Vec<Value> = ["sts", "states", "dynamodb"]
        .iter()
        .map(|s| json!({"account": "100000000000", "region": A, "service": s, "status": 503}))
        .collect();
    control.ok("PUT", "faults", Some(&json!({"outages": dark}))).await.unwrap();
    let through_a = handle_detailed(&hub_a, &check).await;
    assert!(through_a.as_ref().map_or(true, |h| h.answer == json!(false)), "A can no longer move the run: {through_a:?}");

    let sfn_b = aws_sdk_sfn::Client::new(hub_b.hub());
    let mut done = None;
    for _ in 0..400 {
        control.advance(POLL_S as f64).await.unwrap();
        let running = control.ok("GET", "executions?status=RUNNING", None).await.unwrap();
        for e in running["executions"].as_array().unwrap() {
            sfn_b.send_task_success().task_token(e["taskToken"].as_str().unwrap()).output("{}").send().await.unwrap();
        }
        let h = handle_detailed(&hub_b, &check).await.expect("checks through B go on");
        if h.answer == json!(true) {
            done = h.detail;
            break;
        }
    }
    let detail = done.expect("the run ends through B");
    assert_eq!(detail["outcome"]["state"], "done", "{detail}");
    let launches = launches_per_server(&all_jobs(&hub_b).await);
    assert!(launches.len() == 60 && launches.values().all(|n| *n == 1), "each server once: {launches:?}");
    let approvals = control.ok("GET", "executions", None).await.unwrap();
    let approvals = approvals["executions"].as_array().unwrap();
    assert_eq!(approvals.len(), 1, "one approval: {approvals:?}");
    assert!(approvals[0]["executionArn"].as_str().unwrap().contains(&format!(":states:{B}:")), "asked in B");
    let items = control.ok("GET", &format!("tables/drs-orch-runs?region={B}"), None).await.unwrap();
    let record = items["items"].as_array().unwrap().iter().find(|i| i["execution"]["S"] == "failover-1").unwrap().clone();
    assert!(record["end"]["M"].get("error").is_none() && record["end"]["M"]["at"]["S"].is_string(), "{record}");
}

async fn all_jobs(c: &Clients) -> Vec<(String, aws_sdk_drs::types::Job)> {
    let mut out = vec![];
    for p in c.config().partitions() {
        let page = c.drs(&p).await.unwrap().describe_jobs().max_results(1000).send().await.unwrap();
        out.extend(page.items().iter().map(|j| (p.to_string(), j.clone())));
    }
    out
}
