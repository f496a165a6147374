//! Step Functions task tokens through the official SDK: heartbeats, success, failure, and
//! the errors for ended, unknown and timed-out tasks and non-JSON output.

mod common;
use common::*;
use serde_json::{json, Value};

async fn mint(sim: &Sim, body: Value) -> String {
    let v = sim.control.ok("POST", "tokens", Some(&body)).await.unwrap();
    v["taskToken"].as_str().expect("a task token").to_owned()
}

async fn state(sim: &Sim, token: &str) -> Value {
    let t = percent_encoding::utf8_percent_encode(token, percent_encoding::NON_ALPHANUMERIC);
    sim.control.ok("GET", &format!("tokens/{t}"), None).await.unwrap()
}

async fn sfn(sim: &Sim) -> aws_sdk_sfn::Client {
    aws_sdk_sfn::Client::new(&hub(sim, EAST))
}

#[tokio::test]
async fn heartbeats_then_success_is_recorded_once() {
    let sim = demo().await;
    let sfn = sfn(&sim).await;
    let token = mint(&sim, json!({"timeoutSeconds": 600, "heartbeatSeconds": 60})).await;
    assert_eq!(state(&sim, &token).await["status"], "PENDING");

    sfn.send_task_heartbeat().task_token(&token).send().await.unwrap();
    sfn.send_task_heartbeat().task_token(&token).send().await.unwrap();
    let s = state(&sim, &token).await;
    assert_eq!((s["status"].as_str(), s["heartbeats"].as_u64()), (Some("PENDING"), Some(2)));

    let output = json!({"wave": 2, "recoveryInstances": ["i-0abc", "i-0def"], "ok": true});
    sfn.send_task_success().task_token(&token).output(output.to_string()).send().await.unwrap();
    let s = state(&sim, &token).await;
    assert_eq!(s["status"], "SUCCEEDED");
    assert_eq!(s["output"], output);

    let err = sfn.send_task_success().task_token(&token).output("{}").send().await.unwrap_err();
    assert_eq!(code(&err), "TaskDoesNotExist");
    assert!(err.as_service_error().is_some_and(|e| e.is_task_does_not_exist()), "the SDK maps the modeled error");
    let err = sfn.send_task_heartbeat().task_token(&token).send().await.unwrap_err();
    assert_eq!(code(&err), "TaskDoesNotExist");
    assert_eq!(state(&sim, &token).await["output"], output, "the first output stays");

    let calls = sim.control.calls().await.unwrap();
    let ops: Vec<(&str, u64)> = calls.iter().map(|c| (c["operation"].as_str().unwrap(), c["status"].as_u64().unwrap())).collect();
    assert_eq!(
        ops,
        [
            ("SendTaskHeartbeat", 200),
            ("SendTaskHeartbeat", 200),
            ("SendTaskSuccess", 200),
            ("SendTaskSuccess", 400),
            ("SendTaskHeartbeat", 400)
        ]
    );
    assert!(calls.iter().all(|c| c["service"] == "states" && c["region"] == EAST));
    assert!(calls.iter().all(|c| c["account"] == drs_sim::generate::HUB_ACCOUNT));
    assert!(!call_log_text(&sim).await.contains(&token), "the task token leaked into the call log");
}

#[tokio::test]
async fn failure_records_error_and_cause() {
    let sim = demo().await;
    let sfn = sfn(&sim).await;
    let token = mint(&sim, json!({"timeoutSeconds": 600})).await;
    let cause = json!({"failed": ["web-01"], "reason": "LAUNCH_FAILED"}).to_string();
    sfn.send_task_failure().task_token(&token).error("Drs.LaunchFailed").cause(&cause).send().await.unwrap();
    let s = state(&sim, &token).await;
    assert_eq!(s["status"], "FAILED");
    assert_eq!(s["error"], "Drs.LaunchFailed");
    assert_eq!(s["cause"].as_str(), Some(cause.as_str()));
    assert!(s.get("output").is_none());
    let err = sfn.send_task_success().task_token(&token).output("{}").send().await.unwrap_err();
    assert_eq!(code(&err), "TaskDoesNotExist");

    // Error is at most 256 characters (SensitiveError in the model).
    let other = mint(&sim, json!({})).await;
    let err = sfn.send_task_failure().task_token(&other).error("E".repeat(257)).send().await.unwrap_err();
    assert_eq!(code(&err), "ValidationException");
    assert_eq!(state(&sim, &other).await["status"], "PENDING");
}

#[tokio::test]
async fn unknown_tokens_and_bad_output_are_refused() {
    let sim = demo().await;
    let sfn = sfn(&sim).await;
    let err = sfn.send_task_heartbeat().task_token("AQCnot-a-token-we-issued").send().await.unwrap_err();
    assert_eq!((code(&err), status(&err)), ("InvalidToken".into(), 400));
    assert!(err.as_service_error().is_some_and(|e| e.is_invalid_token()));
    let err = sfn.send_task_success().task_token("AQCnot-a-token-we-issued").output("{}").send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidToken");

    let token = mint(&sim, json!({"timeoutSeconds": 600, "heartbeatSeconds": 60})).await;
    let err = sfn.send_task_success().task_token(&token).output("{not json").send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidOutput");
    assert!(err.as_service_error().is_some_and(|e| e.is_invalid_output()));
    assert_eq!(state(&sim, &token).await["status"], "PENDING", "a refused output ends nothing");
    sfn.send_task_success().task_token(&token).output("[1,2]").send().await.unwrap();
    assert_eq!(state(&sim, &token).await["output"], json!([1, 2]));
}

#[tokio::test]
async fn tasks_time_out_on_the_simulator_clock() {
    let sim = demo().await;
    let sfn = sfn(&sim).await;
    let token = mint(&sim, json!({"timeoutSeconds": 600, "heartbeatSeconds": 60})).await;
    // Each heartbeat opens a new interval: 95 seconds in two beats is fine.
    sim.control.advance(50.0).await.unwrap();
    sfn.send_task_heartbeat().task_token(&token).send().await.unwrap();
    sim.control.advance(45.0).await.unwrap();
    sfn.send_task_heartbeat().task_token(&token).send().await.unwrap();
    sim.control.advance(61.0).await.unwrap();
    assert_eq!(state(&sim, &token).await["status"], "TIMED_OUT");
    let err = sfn.send_task_heartbeat().task_token(&token).send().await.unwrap_err();
    assert_eq!(code(&err), "TaskTimedOut");
    assert!(err.as_service_error().is_some_and(|e| e.is_task_timed_out()));
    let err = sfn.send_task_success().task_token(&token).output("{}").send().await.unwrap_err();
    assert_eq!(code(&err), "TaskTimedOut");

    // The task's own timeout counts from its start, heartbeats or not.
    let token = mint(&sim, json!({"timeoutSeconds": 120, "heartbeatSeconds": 60})).await;
    for _ in 0..2 {
        sim.control.advance(50.0).await.unwrap();
        sfn.send_task_heartbeat().task_token(&token).send().await.unwrap();
    }
    sim.control.advance(30.0).await.unwrap();
    let err = sfn.send_task_success().task_token(&token).output("{}").send().await.unwrap_err();
    assert_eq!(code(&err), "TaskTimedOut");
    assert_eq!(state(&sim, &token).await["heartbeats"], 2);
}
