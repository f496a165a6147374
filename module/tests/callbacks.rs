//! Task-token callbacks against the simulator's Step Functions: heartbeat, success with the
//! summary, failure with error and cause within Step Functions' limits, a gone parent.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use common::*;
use drs_module::callbacks::{CallbackError, Callbacks};
use drs_module::secret::Secret;
use drs_sim::client::Control;
use serde_json::json;

async fn token(control: &Control) -> String {
    let v = control.ok("POST", "tokens", Some(&json!({"timeoutSeconds": 3600, "heartbeatSeconds": 300}))).await.unwrap();
    v["taskToken"].as_str().unwrap().to_owned()
}

fn hub_at(endpoint: &str) -> aws_config::SdkConfig {
    hub_sdk().to_builder().endpoint_url(endpoint).build()
}

#[tokio::test]
async fn heartbeat_then_success_reaches_the_parent() {
    let sim = drs_sim::start(drs_sim::Fleet::demo(), 0).await.unwrap();
    let control = Control::new(&sim.endpoint);
    let t = token(&control).await;
    let cb = Callbacks::new(&hub_at(&sim.endpoint), Secret::new(t.clone()));
    cb.heartbeat().await.unwrap();
    cb.heartbeat().await.unwrap();
    cb.success(&json!({"waves": 3, "launched": 60})).await.unwrap();
    let state = control.ok("GET", &format!("tokens/{t}"), None).await.unwrap();
    assert_eq!(state["status"], "SUCCEEDED");
    assert_eq!(state["heartbeats"], 2);
    assert_eq!(state["output"], json!({"waves": 3, "launched": 60}));
    // A second end finds the parent gone.
    assert!(matches!(cb.success(&json!({})).await, Err(CallbackError::ParentGone(_))));
}

#[tokio::test]
async fn failure_carries_code_and_cause_within_limits() {
    let sim = drs_sim::start(drs_sim::Fleet::demo(), 0).await.unwrap();
    let control = Control::new(&sim.endpoint);
    let t = token(&control).await;
    let cb = Callbacks::new(&hub_at(&sim.endpoint), Secret::new(t.clone()));
    let cause = "db-01: LAUNCH_FAILED ".repeat(5000);
    cb.failure(&"WaveFailed".repeat(40), &cause).await.unwrap();
    let state = control.ok("GET", &format!("tokens/{t}"), None).await.unwrap();
    assert_eq!(state["status"], "FAILED");
    assert_eq!(state["error"].as_str().unwrap().len(), 256);
    assert_eq!(state["cause"].as_str().unwrap().len(), 32_768);
    let unknown = Callbacks::new(&hub_at(&sim.endpoint), Secret::new("not-a-token"));
    assert!(matches!(unknown.heartbeat().await, Err(CallbackError::ParentGone(_))));
}
