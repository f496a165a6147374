//! The crash-point matrix: for each AWS write the module makes, the Nth call fails before it
//! is applied, or is applied and its reply is lost; the SDK does not retry (so the module
//! itself sees the failure), and the platform delivers the same event again, as it does
//! after a Lambda killed mid-call. Each run is re-driven to its end and checked against the
//! simulator: every server launched once, the same end state as an uninterrupted run, and
//! no drill instance left after cleanup. Every status check is also delivered twice at once,
//! as a platform retry racing the original would.

use crate::common::{launches_per_server, resource, rig_configured, shop_parameters, Rig, POLL_S};
use aws_config::retry::RetryConfig;
use drs_module::driver::event;
use drs_module::lifecycle::handle_detailed;
use serde_json::{json, Value};

/// The demo drill with every write in it: LaunchSettings (launch configuration and launch
/// template writes) and an approval gate before the second wave.
fn drill(mode: &str) -> Value {
    let mut params = shop_parameters();
    params["Mode"] = json!(mode);
    params["LaunchSettings"] = json!({"CopyPrivateIp": true, "RightSizing": "NONE", "InstanceType": "m5.large"});
    params["Waves"][1]["PauseBefore"] = json!("sign-off");
    resource("Shop", params)
}

/// A rig whose AWS calls are sent once: a crash reaches the module instead of the SDK's retry.
async fn once_rig() -> Rig {
    rig_configured(drs_sim::Fleet::demo(), |c| c.retry.max_attempts = 1).await
}

/// Approves every approval execution that waits.
async fn approve_all(r: &Rig) {
    let v = r.control.ok("GET", "executions", None).await.unwrap();
    let sfn = aws_sdk_sfn::Client::from_conf(
        aws_sdk_sfn::config::Builder::from(r.clients.hub()).retry_config(RetryConfig::standard()).build(),
    );
    for e in v["executions"].as_array().into_iter().flatten().filter(|e| e["status"] == "RUNNING") {
        if let Some(t) = e["taskToken"].as_str() {
            let _ = sfn.send_task_success().task_token(t).output("{}").send().await;
        }
    }
}

/// Runs `phase` to its end as the platform would, delivering a call again when it fails
/// (at most `max_errors` times). Returns the phase's answer, the last detail and the errors.
async fn drive(r: &Rig, state: &Value, phase: &str, max_errors: usize) -> (Value, Option<Value>, Vec<String>) {
    let mut errors = vec![];
    // One event, delivered again as it was: the same run.
    let call = event(state, phase, None);
    let answer = loop {
        match handle_detailed(&r.clients, &call).await {
            Ok(h) => break h.answer,
            Err(e) => errors.push(format!("{phase}: {e}")),
        }
        assert!(errors.len() <= max_errors, "{errors:?}");
    };
    let mut check = call.clone();
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": answer});
    for _ in 0..400 {
        r.control.advance(POLL_S as f64).await.unwrap();
        approve_all(r).await;
        let (a, b) = tokio::join!(handle_detailed(&r.clients, &check), handle_detailed(&r.clients, &check));
        let mut ended = None;
        for x in [a, b] {
            match x {
                Ok(h) if h.answer == json!(true) => ended = Some(h.detail),
                Ok(_) => {}
                Err(e) => errors.push(format!("{phase} check: {e}")),
            }
        }
        assert!(errors.len() <= max_errors, "{errors:?}");
        if let Some(detail) = ended {
            return (answer, detail, errors);
        }
    }
    panic!("{phase} never ended: {errors:?}");
}

async fn crash(r: &Rig, service: &str, operation: &str, at: &str, nth: u64) {
    let crash = json!({"service": service, "operation": operation, "at": at, "nth": nth});
    r.control.ok("PUT", "faults", Some(&json!({ "crashes": [crash] }))).await.unwrap();
}

/// How many calls of `operation` the simulator crashed.
async fn crashed(r: &Rig, operation: &str) -> usize {
    r.control.calls().await.unwrap().iter().filter(|c| c["operation"] == operation && !c["fault"].is_null()).count()
}

/// A drill (or recovery) with a crash on the `nth` `operation`, re-driven to the end, then its
/// cleanup (or replicate): the checks every case makes.
async fn case(service: &str, operation: &str, at: &str, nth: u64, mode: &str) {
    let r = once_rig().await;
    let shop = drill(mode);
    let activate_phase_crash = !matches!(operation, "TerminateRecoveryInstances" | "ReverseReplication");
    if activate_phase_crash {
        crash(&r, service, operation, at, nth).await;
    }
    let (_, detail, errors) = drive(&r, &shop, "activate", 5).await;
    let d = detail.unwrap();
    assert_eq!(d["outcome"]["state"], "done", "{operation} {at}: {d}");
    let launched: u64 = d["waves"].as_array().unwrap().iter().map(|w| w["launched"].as_u64().unwrap()).sum();
    assert_eq!(launched, 60, "{operation} {at}: the same end state as without the crash: {d}");
    let launches = launches_per_server(&r.all_jobs().await);
    assert_eq!(launches.len(), 60);
    assert!(launches.values().all(|n| *n == 1), "{operation} {at}: a server launched twice: {launches:?}");

    let after = if mode == "drill" { "cleanup" } else { "replicate" };
    if !activate_phase_crash {
        crash(&r, service, operation, at, nth).await;
    }
    let (_, _, after_errors) = drive(&r, &shop, after, 5).await;
    // The matrix as the closing note gives it: what each crash did before the re-drive.
    println!(
        "matrix: {operation} {at}: re-driven after {} failed calls: {:?}",
        errors.len() + after_errors.len(),
        [errors.clone(), after_errors.clone()].concat()
    );
    assert_eq!(crashed(&r, operation).await, 1, "{operation} {at}: the crash fired once (errors: {errors:?} {after_errors:?})");
    // No call failed: the module waited and retried on its next check by itself (a failed
    // activate or check would fail the platform's run).
    assert!(errors.is_empty() && after_errors.is_empty(), "{operation} {at}: {errors:?} {after_errors:?}");
    let instances = r.recovery_instances().await;
    if mode == "drill" {
        assert_eq!(instances.iter().filter(|i| i["isDrill"] == true).count(), 0, "{operation} {at}: drill instances left");
    } else {
        let continuous = instances.iter().filter(|i| i["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS").count();
        assert_eq!(continuous, 60, "{operation} {at}: every recovered server replicates back");
    }
}

macro_rules! matrix {
    ($($name:ident: $service:literal $op:literal $at:literal $nth:literal $mode:literal;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                case($service, $op, $at, $nth, $mode).await;
            }
        )*
    };
}

matrix! {
    start_recovery_before: "drs" "StartRecovery" "before" 2 "drill";
    start_recovery_lost: "drs" "StartRecovery" "lost" 2 "drill";
    update_launch_configuration_before: "drs" "UpdateLaunchConfiguration" "before" 5 "drill";
    update_launch_configuration_lost: "drs" "UpdateLaunchConfiguration" "lost" 5 "drill";
    create_launch_template_version_before: "ec2" "CreateLaunchTemplateVersion" "before" 5 "drill";
    create_launch_template_version_lost: "ec2" "CreateLaunchTemplateVersion" "lost" 5 "drill";
    modify_launch_template_before: "ec2" "ModifyLaunchTemplate" "before" 5 "drill";
    modify_launch_template_lost: "ec2" "ModifyLaunchTemplate" "lost" 5 "drill";
    start_execution_before: "states" "StartExecution" "before" 1 "drill";
    start_execution_lost: "states" "StartExecution" "lost" 1 "drill";
    terminate_recovery_instances_before: "drs" "TerminateRecoveryInstances" "before" 2 "drill";
    terminate_recovery_instances_lost: "drs" "TerminateRecoveryInstances" "lost" 2 "drill";
    reverse_replication_before: "drs" "ReverseReplication" "before" 7 "recovery";
    reverse_replication_lost: "drs" "ReverseReplication" "lost" 7 "recovery";
    // The run ledger: the transaction that opens the run (its record and plan), the
    // conditional update that records the gate asked before the second wave (the first
    // UpdateItem), and the one that records the run's end (two checks race to it).
    open_run_before: "dynamodb" "TransactWriteItems" "before" 1 "drill";
    open_run_lost: "dynamodb" "TransactWriteItems" "lost" 1 "drill";
    record_gate_before: "dynamodb" "UpdateItem" "before" 1 "drill";
    record_gate_lost: "dynamodb" "UpdateItem" "lost" 1 "drill";
    record_end_before: "dynamodb" "UpdateItem" "before" 2 "drill";
    record_end_lost: "dynamodb" "UpdateItem" "lost" 2 "drill";
}

/// SendTaskFailure crashed (refused, or applied with its reply lost), the SDK not retrying:
/// the platform delivers the failing event again, and the parent's task ends failed, once,
/// with the run's own error (never left waiting, never failed twice).
async fn failure_callback_case(at: &str) {
    let r = once_rig().await;
    let token = r.token().await;
    crash(&r, "states", "SendTaskFailure", at, 1).await;
    // Replicate after a drill is refused: the module tells the parent with SendTaskFailure.
    let call = event(&resource("Shop", shop_parameters()), "replicate", Some(&token));
    for _ in 0..2 {
        let e = handle_detailed(&r.clients, &call).await.expect_err("replicate after a drill is refused");
        assert_eq!(e.code, "PhaseNotApplicable");
    }
    assert_eq!(crashed(&r, "SendTaskFailure").await, 1, "{at}: the crash fired");
    let state = r.token_state(&token).await;
    assert_eq!(
        (state["status"].as_str(), state["error"].as_str()),
        (Some("FAILED"), Some("PhaseNotApplicable")),
        "{at}: {state}"
    );
    let applied = r
        .control
        .calls()
        .await
        .unwrap()
        .iter()
        .filter(|c| c["operation"] == "SendTaskFailure" && c["status"].as_u64().is_some_and(|s| s < 300))
        .count();
    assert_eq!(applied, 1, "{at}: the parent was failed once");
}

#[tokio::test]
async fn send_task_failure_before() {
    failure_callback_case("before").await;
}

#[tokio::test]
async fn send_task_failure_lost() {
    failure_callback_case("lost").await;
}
