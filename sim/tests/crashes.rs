//! Crashes of the Nth call of an operation, through the official SDK: `before` refuses the
//! call and changes nothing; `lost` applies it and closes the connection without a reply, so
//! the caller sees a transient failure after the write took effect, and the SDK's retry
//! sends it again.
#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed step fails the test

mod common;
use aws_config::retry::RetryConfig;
use aws_sdk_drs::config::http::HttpResponse;
use aws_sdk_drs::error::SdkError;
use aws_sdk_drs::operation::start_recovery::StartRecoveryError;
use aws_sdk_drs::types::StartRecoveryRequestSourceServer;
use aws_smithy_types::retry::ErrorKind;
use common::*;
use drs_sim::Fleet;
use serde_json::{json, Value};

/// A DRS client acting in `account` whose calls are sent once, never retried.
async fn drs_once(sim: &Sim, account: &str) -> aws_sdk_drs::Client {
    let config = aws_sdk_drs::config::Builder::from(&target(sim, account, EAST).await).retry_config(RetryConfig::disabled());
    aws_sdk_drs::Client::from_conf(config.build())
}

type StartError = SdkError<StartRecoveryError, HttpResponse>;

/// Starts a drill of the `n`th source server `drs` sees.
async fn start_drill(drs: &aws_sdk_drs::Client, n: usize) -> Result<(), StartError> {
    let servers = drs.describe_source_servers().send().await.unwrap();
    let id = servers.items()[n].source_server_id().unwrap();
    let server = StartRecoveryRequestSourceServer::builder().source_server_id(id).build().unwrap();
    drs.start_recovery().source_servers(server).is_drill(true).send().await.map(|_| ())
}

async fn job_count(drs: &aws_sdk_drs::Client) -> usize {
    drs.describe_jobs().send().await.unwrap().items().len()
}

/// The call log's StartRecovery records.
async fn start_recovery_calls(sim: &Sim) -> Vec<Value> {
    sim.control.calls().await.unwrap().into_iter().filter(|c| c["operation"] == "StartRecovery").collect()
}

async fn set_crash(sim: &Sim, crash: Value) {
    sim.control.ok("PUT", "faults", Some(&json!({ "crashes": [crash] }))).await.unwrap();
}

#[tokio::test]
async fn before_refuses_start_recovery_and_no_job_exists() {
    let sim = demo().await;
    let drs = drs_once(&sim, A1).await;
    set_crash(&sim, json!({"account": A1, "service": "drs", "operation": "StartRecovery", "at": "before"})).await;

    let e = start_drill(&drs, 0).await.expect_err("the first StartRecovery is refused");
    assert_eq!(code(&e), "InternalServerException");
    assert_eq!(status(&e), 500);
    assert_eq!(job_count(&drs).await, 0, "a refused call changes nothing");

    // The crash fired once (the default count): the same call now goes through.
    start_drill(&drs, 0).await.expect("the second StartRecovery is served");
    assert_eq!(job_count(&drs).await, 1);
    let calls = start_recovery_calls(&sim).await;
    assert_eq!(calls.len(), 2);
    assert_eq!((calls[0]["status"].as_u64(), calls[0]["fault"].as_str()), (Some(500), Some("before")));
    assert_eq!(calls[0]["error"], "InternalServerException");
    assert_eq!((calls[1]["status"].as_u64(), calls[1].get("fault")), (Some(202), None));
}

#[tokio::test]
async fn lost_applies_start_recovery_but_the_caller_sees_a_transient_failure() {
    let sim = demo().await;
    let drs = drs_once(&sim, A1).await;
    set_crash(&sim, json!({"operation": "StartRecovery", "at": "lost"})).await;

    let e = start_drill(&drs, 0).await.expect_err("the reply never arrives");
    let SdkError::DispatchFailure(failure) = &e else { panic!("expected a dispatch failure, got {e:?}") };
    // hyper reports the closed connection as an incomplete message, which the SDK's
    // connector classifies as a transient error: the kind its standard retry sends again.
    assert_eq!(failure.as_other(), Some(ErrorKind::TransientError), "{failure:?}");
    assert_eq!(job_count(&drs).await, 1, "the call was applied before its reply was lost");
    let calls = start_recovery_calls(&sim).await;
    assert_eq!(calls.len(), 1);
    assert_eq!((calls[0]["status"].as_u64(), calls[0]["fault"].as_str()), (Some(202), Some("lost")));
}

#[tokio::test]
async fn lost_with_default_retries_sends_the_call_again_from_a_fleet_file() {
    // Set through the fleet file, which is checked against its schema, this time.
    let mut fleet: Value = serde_json::from_str(drs_sim::fleet::DEMO_FLEET).unwrap();
    fleet["clock"]["speed"] = json!(0.0);
    fleet["faults"]["crashes"] = json!([{"account": A1, "operation": "StartRecovery", "at": "lost", "nth": 2}]);
    let sim = start(Fleet::from_value(fleet).expect("a fleet with crashes matches the schema")).await;
    let drs = drs(&sim, A1, EAST).await;

    start_drill(&drs, 0).await.expect("the first call is not the nth");
    // The second is applied and its reply lost; the SDK sends it again, and DRS answers the
    // retry as it answers any StartRecovery of a server already in an active job.
    let e = start_drill(&drs, 1).await.expect_err("the retry conflicts with the job the lost call started");
    assert_eq!(code(&e), "ConflictException");
    let calls = start_recovery_calls(&sim).await;
    let seen: Vec<_> = calls.iter().map(|c| (c["status"].as_u64().unwrap(), c["fault"].as_str())).collect();
    assert_eq!(seen, [(202, None), (202, Some("lost")), (409, None)], "the lost call was sent again");
    assert_eq!(calls[1]["request"], calls[2]["request"], "the retry is the same request");
    assert_eq!(job_count(&drs).await, 2, "the lost call's job exists");
}

#[tokio::test]
async fn step_functions_start_execution_refused_before_leaves_no_execution() {
    let sim = demo().await;
    set_crash(&sim, json!({"service": "states", "operation": "StartExecution", "at": "before", "count": 3})).await;
    let sfn = aws_sdk_sfn::Client::new(&hub(&sim, EAST));
    let hub_account = &sim.server.world.hub.account_id;
    let e = sfn
        .start_execution()
        .state_machine_arn(format!("arn:aws:states:{EAST}:{hub_account}:stateMachine:approval"))
        .name("gate-1")
        .send()
        .await
        .expect_err("three attempts, three refusals");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(500));
    let executions = sim.control.ok("GET", "executions", None).await.unwrap();
    assert_eq!(executions["executions"], json!([]));
    let refused = sim.control.calls().await.unwrap().iter().filter(|c| c["fault"] == "before").count();
    assert_eq!(refused, 3, "the SDK retried the 500 up to its three attempts");
}

#[tokio::test]
async fn a_crash_counts_calls_from_one() {
    let sim = demo().await;
    let (status, body) = sim
        .control
        .call("PUT", "faults", Some(&json!({"crashes": [{"operation": "StartRecovery", "at": "lost", "nth": 0}]})))
        .await
        .unwrap();
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("crashes[0].nth"), "{body}");
    let bad_fleet = json!({"crashes": [{"operation": "StartRecovery", "at": "sideways"}]});
    assert_eq!(sim.control.call("PUT", "faults", Some(&bad_fleet)).await.unwrap().0, 400);
}
