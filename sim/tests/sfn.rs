//! Step Functions through the official SDK: task tokens (heartbeats, success, failure, and
//! the errors for ended, unknown and timed-out tasks and non-JSON output), and the executions
//! of approval gates, each waiting on a task token (start, idempotent restart, conflicts,
//! approval, rejection, stop, the control endpoint's views, the IAM gate).
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use aws_sdk_sfn::types::ExecutionStatus;
use common::*;
use drs_sim::generate::HUB_ACCOUNT;
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

const GATE: &str = "arn:aws:states:us-east-1:100000000000:stateMachine:drs-orch-approval";

/// The execution of `arn` as `/_sim/executions/<arn>` shows it (with the full task token).
async fn execution(sim: &Sim, arn: &str) -> Value {
    let a = percent_encoding::utf8_percent_encode(arn, percent_encoding::NON_ALPHANUMERIC);
    sim.control.ok("GET", &format!("executions/{a}"), None).await.unwrap()
}

async fn token_of(sim: &Sim, arn: &str) -> String {
    execution(sim, arn).await["taskToken"].as_str().expect("the execution's task token").to_owned()
}

#[tokio::test]
async fn an_approval_gate_runs_until_its_task_succeeds() {
    let sim = demo().await;
    let sfn = sfn(&sim).await;
    let input = json!({"wave": 2, "application": "shop", "approvers": ["ops@example.com"]}).to_string();
    let started = sfn.start_execution().state_machine_arn(GATE).name("shop-wave-2").input(&input).send().await.unwrap();
    let arn = started.execution_arn().to_owned();
    assert_eq!(arn, format!("arn:aws:states:{EAST}:{HUB_ACCOUNT}:execution:drs-orch-approval:shop-wave-2"));
    let start = *started.start_date();
    assert_eq!(start.secs(), sim.server.world.clock.now().timestamp(), "startDate is the simulator's time");

    let d = sfn.describe_execution().execution_arn(&arn).send().await.unwrap();
    assert_eq!(d.status(), &ExecutionStatus::Running);
    assert_eq!((d.state_machine_arn(), d.name(), d.input()), (GATE, Some("shop-wave-2"), Some(input.as_str())));
    assert_eq!(d.start_date(), &start);
    assert!(d.stop_date().is_none() && d.output().is_none() && d.error().is_none());

    // The same name and input while RUNNING is the same execution; another input conflicts.
    sim.control.advance(30.0).await.unwrap();
    let again = sfn.start_execution().state_machine_arn(GATE).name("shop-wave-2").input(&input).send().await.unwrap();
    assert_eq!((again.execution_arn(), again.start_date()), (arn.as_str(), &start));
    let err = sfn.start_execution().state_machine_arn(GATE).name("shop-wave-2").input("{}").send().await.unwrap_err();
    assert_eq!((code(&err), status(&err)), ("ExecutionAlreadyExists".into(), 400));
    assert!(err.as_service_error().is_some_and(|e| e.is_execution_already_exists()));

    // The control endpoint: the full token in /_sim/executions, masked in /_sim/tokens.
    let view = execution(&sim, &arn).await;
    assert_eq!((view["status"].as_str(), view["taskStatus"].as_str()), (Some("RUNNING"), Some("PENDING")));
    assert_eq!(view["input"], serde_json::from_str::<Value>(&input).unwrap());
    assert_eq!((view["accountId"].as_str(), view["region"].as_str()), (Some(HUB_ACCOUNT), Some(EAST)));
    let token = token_of(&sim, &arn).await;
    assert!(token.len() > 100);
    let listed = sim.control.ok("GET", "executions?status=RUNNING", None).await.unwrap();
    assert_eq!(listed["executions"].as_array().map(Vec::len), Some(1));
    let tokens = sim.control.ok("GET", "tokens", None).await.unwrap();
    let entry = tokens["tokens"].as_array().unwrap().iter().find(|t| t["executionArn"] == arn.as_str()).expect("listed");
    assert_eq!(entry["input"], view["input"]);
    assert_eq!(entry["state"]["status"], "PENDING");
    assert!(!tokens.to_string().contains(&token), "GET /_sim/tokens shows tokens masked");

    // Approval: the task's output becomes the execution's.
    sim.control.advance(90.0).await.unwrap();
    let output = json!({"approved": true, "by": "ops@example.com"}).to_string();
    sfn.send_task_success().task_token(&token).output(&output).send().await.unwrap();
    let d = sfn.describe_execution().execution_arn(&arn).send().await.unwrap();
    assert_eq!(d.status(), &ExecutionStatus::Succeeded);
    assert_eq!(d.output(), Some(output.as_str()));
    assert_eq!(d.stop_date().map(|t| t.secs() - start.secs()), Some(120));
    assert!(d.error().is_none() && d.cause().is_none());
    assert_eq!(state(&sim, &token).await["executionArn"], arn.as_str());

    // Without data: no input or output, and the details say so.
    let m = sfn
        .describe_execution()
        .execution_arn(&arn)
        .included_data(aws_sdk_sfn::types::IncludedData::MetadataOnly)
        .send()
        .await
        .unwrap();
    assert!(m.input().is_none() && m.output().is_none());
    assert_eq!(m.input_details().map(|d| d.included()), Some(false));

    // A closed execution's name is taken, whatever the input.
    let err = sfn.start_execution().state_machine_arn(GATE).name("shop-wave-2").input(&input).send().await.unwrap_err();
    assert_eq!(code(&err), "ExecutionAlreadyExists");
    let err = sfn.send_task_success().task_token(&token).output("{}").send().await.unwrap_err();
    assert_eq!(code(&err), "TaskDoesNotExist");
    // Stopping a closed execution changes nothing.
    let stopped = sfn.stop_execution().execution_arn(&arn).send().await.unwrap();
    assert_eq!(Some(stopped.stop_date()), d.stop_date());
    let d = sfn.describe_execution().execution_arn(&arn).send().await.unwrap();
    assert_eq!(d.status(), &ExecutionStatus::Succeeded);

    let log = call_log_text(&sim).await;
    assert!(!log.contains(&token), "the task token leaked into the call log");
    let calls = sim.control.calls().await.unwrap();
    assert!(calls.iter().all(|c| c["service"] == "states" && c["account"] == HUB_ACCOUNT));
}

#[tokio::test]
async fn a_rejected_gate_fails_and_a_stopped_one_is_aborted() {
    let sim = demo().await;
    let sfn = sfn(&sim).await;
    let rejected = sfn.start_execution().state_machine_arn(GATE).name("db-wave-1").send().await.unwrap();
    let arn = rejected.execution_arn().to_owned();
    let d = sfn.describe_execution().execution_arn(&arn).send().await.unwrap();
    assert_eq!(d.input(), Some("{}"), "no input is an empty object");
    let token = token_of(&sim, &arn).await;
    sim.control.advance(45.0).await.unwrap();
    let cause = json!({"rejectedBy": "ops@example.com", "reason": "change freeze"}).to_string();
    sfn.send_task_failure().task_token(&token).error("Approval.Rejected").cause(&cause).send().await.unwrap();
    let d = sfn.describe_execution().execution_arn(&arn).send().await.unwrap();
    assert_eq!(d.status(), &ExecutionStatus::Failed);
    assert_eq!((d.error(), d.cause()), (Some("Approval.Rejected"), Some(cause.as_str())));
    assert!(d.output().is_none());
    assert_eq!(d.stop_date().map(|t| t.secs() - d.start_date().secs()), Some(45));
    let view = execution(&sim, &arn).await;
    assert_eq!((view["status"].as_str(), view["taskStatus"].as_str()), (Some("FAILED"), Some("FAILED")));

    // StopExecution: ABORTED with the caller's error and cause; the task is gone.
    let started = sfn.start_execution().state_machine_arn(GATE).name("app-wave-2").input("{\"wave\":2}").send().await.unwrap();
    let arn = started.execution_arn().to_owned();
    let token = token_of(&sim, &arn).await;
    sim.control.advance(10.0).await.unwrap();
    let stopped = sfn.stop_execution().execution_arn(&arn).error("Drill.Cancelled").cause("operator").send().await.unwrap();
    let d = sfn.describe_execution().execution_arn(&arn).send().await.unwrap();
    assert_eq!(d.status(), &ExecutionStatus::Aborted);
    assert_eq!((d.error(), d.cause()), (Some("Drill.Cancelled"), Some("operator")));
    assert_eq!(d.stop_date(), Some(stopped.stop_date()));
    let err = sfn.send_task_success().task_token(&token).output("{}").send().await.unwrap_err();
    assert_eq!(code(&err), "TaskDoesNotExist");
    assert_eq!(state(&sim, &token).await["status"], "ABORTED");

    // Without a name, a UUID is the name.
    let anon = sfn.start_execution().state_machine_arn(GATE).send().await.unwrap();
    let name = anon.execution_arn().rsplit(':').next().unwrap();
    assert_eq!(name.split('-').map(str::len).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
    let all = sim.control.ok("GET", "executions", None).await.unwrap();
    let statuses: Vec<&str> = all["executions"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["FAILED", "ABORTED", "RUNNING"], "in start order");
}

#[tokio::test]
async fn bad_arns_names_and_inputs_are_refused_as_the_model_names_them() {
    let sim = demo().await;
    let sfn = sfn(&sim).await;
    let missing = format!("arn:aws:states:{EAST}:{HUB_ACCOUNT}:execution:drs-orch-approval:never-started");
    let err = sfn.describe_execution().execution_arn(&missing).send().await.unwrap_err();
    assert_eq!((code(&err), status(&err)), ("ExecutionDoesNotExist".into(), 400));
    assert!(err.as_service_error().is_some_and(|e| e.is_execution_does_not_exist()));
    let err = sfn.stop_execution().execution_arn(&missing).send().await.unwrap_err();
    assert!(err.as_service_error().is_some_and(|e| e.is_execution_does_not_exist()));

    for bad in [
        "not-an-arn",
        "arn:aws:states:us-east-1:100000000000:stateMachine:gate",
        "arn:aws:sns:us-east-1:100000000000:execution:a:b",
    ] {
        let err = sfn.describe_execution().execution_arn(bad).send().await.unwrap_err();
        assert!(err.as_service_error().is_some_and(|e| e.is_invalid_arn()), "{bad}: {err:?}");
    }
    for bad in
        ["gate", "arn:aws:states:us-east-1:100000000000:execution:gate:x", "arn:aws:states:us-east-1:1000:stateMachine:gate"]
    {
        let err = sfn.start_execution().state_machine_arn(bad).send().await.unwrap_err();
        assert!(err.as_service_error().is_some_and(|e| e.is_invalid_arn()), "{bad}: {err:?}");
    }
    let elsewhere = format!("arn:aws:states:{EAST}:{A1}:stateMachine:drs-orch-approval");
    let err = sfn.start_execution().state_machine_arn(&elsewhere).send().await.unwrap_err();
    assert!(err.as_service_error().is_some_and(|e| e.is_state_machine_does_not_exist()));

    for name in ["has space", "a/b", "x:y", "{wave}", &"n".repeat(81), ""] {
        let err = sfn.start_execution().state_machine_arn(GATE).name(name).send().await.unwrap_err();
        assert!(err.as_service_error().is_some_and(|e| e.is_invalid_name()), "{name:?}: {err:?}");
    }
    sfn.start_execution().state_machine_arn(GATE).name("n".repeat(80)).send().await.unwrap();
    sfn.start_execution().state_machine_arn(GATE).name("vague-été_1").send().await.unwrap();

    let err = sfn.start_execution().state_machine_arn(GATE).name("bad-input").input("{wave").send().await.unwrap_err();
    assert!(err.as_service_error().is_some_and(|e| e.is_invalid_execution_input()));
    let err = sfn.start_execution().state_machine_arn(GATE).input("x".repeat(262_145)).send().await.unwrap_err();
    assert!(err.as_service_error().is_some_and(|e| e.is_validation_exception()));
    // A Distributed Map state's ARN cannot be started.
    let err = sfn.start_execution().state_machine_arn(format!("{GATE}/map")).send().await.unwrap_err();
    assert!(err.as_service_error().is_some_and(|e| e.is_validation_exception()));

    // An alias: the execution belongs to the state machine and names the alias.
    let alias = sfn.start_execution().state_machine_arn(format!("{GATE}:PROD")).name("via-alias").send().await.unwrap();
    assert_eq!(alias.execution_arn(), format!("arn:aws:states:{EAST}:{HUB_ACCOUNT}:execution:drs-orch-approval:via-alias"));
    let d = sfn.describe_execution().execution_arn(alias.execution_arn()).send().await.unwrap();
    assert_eq!((d.state_machine_arn(), d.state_machine_alias_arn()), (GATE, Some(format!("{GATE}:PROD").as_str())));
}

#[tokio::test]
async fn the_role_policy_gates_executions_by_action() {
    let mut fleet = drs_sim::Fleet::demo();
    fleet.clock.speed = 0.0;
    let hub_role = format!("arn:aws:iam::{HUB_ACCOUNT}:role/{}", drs_sim::generate::HUB_ROLE);
    add_role(&mut fleet, A1, "no-gates", &hub_role, None, &["states:StartExecution"]);
    let sim = start(fleet).await;
    let sts = aws_sdk_sts::Client::new(&hub(&sim, EAST));
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{A1}:role/no-gates"))
        .role_session_name("gate-test")
        .send()
        .await
        .unwrap();
    let sfn = aws_sdk_sfn::Client::new(&config_with(&sim, creds_of(out.credentials().unwrap()), EAST));
    let sm = format!("arn:aws:states:{EAST}:{A1}:stateMachine:drs-orch-approval");
    let err = sfn.start_execution().state_machine_arn(&sm).send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    // DescribeExecution is not denied: the execution is simply not there.
    let err = sfn
        .describe_execution()
        .execution_arn(format!("arn:aws:states:{EAST}:{A1}:execution:drs-orch-approval:x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ExecutionDoesNotExist");

    // The demo hub has no policy of its own: it may start, describe and stop executions.
    let hub_sfn = aws_sdk_sfn::Client::new(&hub(&sim, EAST));
    let arn = hub_sfn.start_execution().state_machine_arn(GATE).send().await.unwrap().execution_arn().to_owned();
    hub_sfn.describe_execution().execution_arn(&arn).send().await.unwrap();
    hub_sfn.stop_execution().execution_arn(&arn).send().await.unwrap();
}
