//! The module driven through the platform's event protocol against the simulator:
//! instantiate (preflight) and its status check, with the parent's task token answered by
//! SendTaskSuccess or SendTaskFailure.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

use drs_module::aws::{static_hub, Clients};
use drs_module::config::ModuleConfig;
use drs_module::lifecycle::handle;
use drs_sim::client::Control;
use drs_sim::generate;
use serde_json::{json, Value};
use std::sync::Arc;

struct Rig {
    _sim: drs_sim::SimServer,
    control: Control,
    clients: Clients,
}

async fn rig() -> Rig {
    let sim = drs_sim::start(drs_sim::Fleet::demo(), 0).await.unwrap();
    let mut cfg = ModuleConfig::parse(drs_module::config::DEMO).unwrap();
    cfg.hub.endpoint_url = Some(sim.endpoint.clone());
    let clients = Clients::new(Arc::new(cfg), static_hub("us-east-1", generate::HUB_ACCESS_KEY, generate::HUB_SECRET), "test");
    Rig { control: Control::new(&sim.endpoint), _sim: sim, clients }
}

impl Rig {
    async fn token(&self) -> String {
        let v = self.control.ok("POST", "tokens", Some(&json!({"timeoutSeconds": 3600}))).await.unwrap();
        v["taskToken"].as_str().unwrap().to_owned()
    }
    async fn token_state(&self, t: &str) -> Value {
        self.control.ok("GET", &format!("tokens/{t}"), None).await.unwrap()
    }
}

fn event(phase: &str, token: &str, parameters: Value) -> Value {
    json!({
        "StatePayload": {"action": "DRS", "resourceName": "Databases", "AccountId": "200000000001", "parameters": parameters},
        "LifeCyclePhase": phase,
        "TaskToken": token
    })
}

#[tokio::test]
async fn instantiate_then_its_status_check_ends_in_send_task_success() {
    let r = rig().await;
    let t = r.token().await;
    let payload = handle(&r.clients, &event("instantiate", &t, json!({"Tags": {"Tier": "db"}}))).await.unwrap();
    assert_eq!(payload["ready"], true);
    assert_eq!(payload["servers"], 4, "the event's AccountId scopes the group: 4 db servers in 200000000001");
    assert_eq!(r.token_state(&t).await["status"], "PENDING", "the phase call does not end the task");

    let mut check = event("instantiate", &t, json!({"Tags": {"Tier": "db"}}));
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": payload.clone()});
    assert_eq!(handle(&r.clients, &check).await.unwrap(), json!(true));
    let state = r.token_state(&t).await;
    assert_eq!(state["status"], "SUCCEEDED");
    assert_eq!(state["heartbeats"], 1);
    assert_eq!(state["output"], payload);
}

#[tokio::test]
async fn bad_input_and_blockers_end_in_send_task_failure() {
    let r = rig().await;
    let t = r.token().await;
    let mut bad = event("instantiate", &t, json!({"Tags": {"Tier": "db"}}));
    bad["LifeCyclePhase"] = json!("failover");
    let e = handle(&r.clients, &bad).await.unwrap_err();
    assert_eq!(e.code, "InvalidEvent");
    assert!(e.message.contains("/LifeCyclePhase"), "{}", e.message);
    let state = r.token_state(&t).await;
    assert_eq!((state["status"].as_str(), state["error"].as_str()), (Some("FAILED"), Some("InvalidEvent")));

    r.control.ok("POST", "servers/db-01", Some(&json!({"replicationState": "STALLED"}))).await.unwrap();
    let t = r.token().await;
    let e = handle(&r.clients, &event("instantiate", &t, json!({"Tags": {"Tier": "db"}}))).await.unwrap_err();
    assert_eq!(e.code, "PreflightBlocked");
    assert!(e.message.contains("db-01"), "{}", e.message);
    let state = r.token_state(&t).await;
    assert_eq!(state["error"], "PreflightBlocked");
    assert!(state["cause"].as_str().unwrap().contains("db-01"));

    let t = r.token().await;
    let mut check = event("activate", &t, json!({"Tags": {"Tier": "web"}}));
    check["status"] = json!(true);
    let e = handle(&r.clients, &check).await.unwrap_err();
    assert_eq!(e.code, "InvalidEvent", "a status check without the phase's payload says what is missing");
    assert!(e.message.contains("lifecycle_output.Payload"), "{}", e.message);
    assert_eq!(r.token_state(&t).await["status"], "FAILED", "the parent is told, not left waiting");
}

#[tokio::test]
async fn preflight_blocks_a_run_the_ledger_could_not_open_naming_why() {
    // No ledger table where the configuration says, and no key to sign the payload.
    let sim = drs_sim::start(drs_sim::Fleet::demo(), 0).await.unwrap();
    let mut cfg = ModuleConfig::parse(drs_module::config::DEMO).unwrap();
    cfg.hub.endpoint_url = Some(sim.endpoint.clone());
    cfg.ledger.table_name = "drs-orch-missing".into();
    cfg.ledger.payload_key = None;
    let clients = Clients::new(Arc::new(cfg), static_hub("us-east-1", generate::HUB_ACCESS_KEY, generate::HUB_SECRET), "test");
    let r = Rig { control: Control::new(&sim.endpoint), _sim: sim, clients };
    let t = r.token().await;
    let e = handle(&r.clients, &event("instantiate", &t, json!({"Tags": {"Tier": "db"}}))).await.unwrap_err();
    assert_eq!(e.code, "PreflightBlocked");
    for part in ["ledger.payloadKey", "drs-orch-missing", "ResourceNotFoundException"] {
        assert!(e.message.contains(part), "'{part}' not in: {}", e.message);
    }
    // The same resource with the demo's ledger is ready.
    let ready = rig().await;
    let t = ready.token().await;
    handle(&ready.clients, &event("instantiate", &t, json!({"Tags": {"Tier": "db"}}))).await.expect("ready");
}
