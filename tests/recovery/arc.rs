//! ARC Region switch's custom-action Lambda block, as ARC calls it: the block's payload with
//! `InvokedBy`, `PlanArn`, `ExecutionId` and `StepName` merged in, sent to the Lambda handler
//! again after each retry interval (the simulator's clock moved) until it succeeds; a call
//! delivered twice at once, calls after the end, another step, a failing run and a payload
//! missing a key.

use crate::common::{launches_per_server, rig, shop_parameters, Rig};
use drs_module::event::arc::Invocation;
use drs_module::lifecycle::{handle_detailed, LifecycleError};
use drs_module::recovery::tags;
use serde_json::{json, Value};

/// ARC's retry interval in these tests (the block's `retryIntervalMinutes`: 1).
const RETRY_S: f64 = 60.0;

fn invocation(step: &str) -> Value {
    json!({
        "InvokedBy": "ARC",
        "PlanArn": "arn:aws:arc-region-switch::100000000000:plan/shop-failover:a1b2c3",
        "ExecutionId": "e-0123456789",
        "StepName": step,
        "Resource": {"action": "DRS", "resourceName": "ShopStack", "parameters": shop_parameters()},
        "Mode": "drill"
    })
}

async fn call(r: &Rig, inv: &Value) -> Result<Value, LifecycleError> {
    handle_detailed(&r.clients, inv).await.map(|h| h.answer)
}

/// The module's execution id of an invocation's run.
fn execution_of(inv: &Value) -> String {
    let run_id = Invocation::parse(inv).unwrap().run_id();
    tags::execution_id(None, None, Some(&run_id), "ShopStack").unwrap()
}

/// No answer or error carries the payload key or the hub's secret.
fn assert_no_secret(r: &Rig, text: &str) {
    let key = r.clients.config().ledger.payload_key.as_ref().map(|k| k.expose().to_owned()).unwrap();
    assert!(!text.contains(&key), "the payload key is in: {text}");
    assert!(!text.contains(drs_sim::generate::HUB_SECRET), "the hub secret is in: {text}");
}

/// ARC's calls until one succeeds or fails other than InProgress, each delivered twice at once;
/// how many were answered InProgress.
async fn until_ended(r: &Rig, inv: &Value) -> (Result<Value, LifecycleError>, usize) {
    let mut in_progress = 0;
    for _ in 0..400 {
        r.control.advance(RETRY_S).await.unwrap();
        let (a, b) = tokio::join!(call(r, inv), call(r, inv));
        for x in [&a, &b] {
            assert_no_secret(r, &format!("{x:?}"));
        }
        let ended: Vec<_> = [a, b].into_iter().filter(|x| !matches!(x, Err(e) if e.code == "InProgress")).collect();
        let Some(first_ok) = ended.first().map(Result::is_ok) else {
            in_progress += 1;
            continue;
        };
        // The twins read the same run: both that ended answer the same way.
        assert!(ended.iter().all(|x| x.is_ok() == first_ok), "{ended:?}");
        return (ended.into_iter().next().unwrap(), in_progress);
    }
    panic!("the step never ended");
}

#[tokio::test]
async fn an_arc_step_runs_to_its_end_across_retries_and_launches_each_server_once() {
    let r = rig().await;
    let inv = invocation("recover-shop");
    let execution = execution_of(&inv);
    // The first call starts the activation and answers not yet.
    let first = call(&r, &inv).await.unwrap_err();
    assert_eq!(first.code, "InProgress", "{first}");
    assert!(first.message.contains(&execution) && first.message.contains("recover-shop"), "{}", first.message);
    let started = r.start_recoveries().await.len();
    assert!(started > 0, "the first call started the first wave");

    let (end, in_progress) = until_ended(&r, &inv).await;
    let summary = end.unwrap();
    assert!(in_progress >= 2, "the run took several retries: {in_progress}");
    assert_eq!((summary["execution"].as_str(), summary["outcome"]["state"].as_str()), (Some(execution.as_str()), Some("done")));
    assert_eq!(summary["servers"], 60, "{summary}");

    // ARC's calls after the end (a retry racing the success, a re-run of the block): the same
    // answer, nothing started.
    let recoveries = r.start_recoveries().await.len();
    r.control.advance(RETRY_S).await.unwrap();
    let (a, b) = tokio::join!(call(&r, &inv), call(&r, &inv));
    for again in [a.unwrap(), b.unwrap()] {
        assert_eq!((&again["execution"], &again["outcome"]), (&summary["execution"], &summary["outcome"]));
    }
    assert_eq!(r.start_recoveries().await.len(), recoveries, "a call after the end started nothing");
    let launches = launches_per_server(&r.all_jobs().await);
    assert_eq!(launches.len(), 60, "every server launched");
    assert!(launches.values().all(|n| *n == 1), "a server was launched twice: {launches:?}");

    // Long after the end (a later execution whose block payload sets ARC's keys itself): not
    // this run's step; refused, not answered with the old success, and nothing started.
    let lookback = r.clients.config().idempotency_lookback_minutes as f64 * 60.0;
    r.control.advance(lookback + RETRY_S).await.unwrap();
    let late = call(&r, &inv).await.unwrap_err();
    assert_eq!(late.code, "InvalidEvent", "{late}");
    assert!(late.message.contains(&execution) && late.message.contains("idempotencyLookbackMinutes"), "{}", late.message);
    assert_eq!(r.start_recoveries().await.len(), recoveries, "a late call started nothing");
    let runs = r.ledger_items().await.len();

    // Another step of the same plan execution is another run.
    let other = invocation("recover-shop-again");
    let e = call(&r, &other).await.unwrap_err();
    assert_eq!(e.code, "InProgress", "{e}");
    assert_ne!(execution_of(&other), execution);
    assert!(e.message.contains(&execution_of(&other)), "{}", e.message);
    assert!(r.ledger_items().await.len() > runs, "the other step opened its own run");
}

#[tokio::test]
async fn a_failing_step_fails_every_later_call_with_the_modules_error() {
    let r = rig().await;
    r.control
        .ok(
            "POST",
            "servers/db-01",
            Some(&json!({"launchOutcome": "FAILED", "launchSeconds": 900,
                         "failureReason": "InsufficientInstanceCapacity: no r5.xlarge capacity in the zone"})),
        )
        .await
        .unwrap();
    let inv = invocation("recover-shop");
    assert_eq!(call(&r, &inv).await.unwrap_err().code, "InProgress");
    let (end, _) = until_ended(&r, &inv).await;
    let failed = end.unwrap_err();
    assert_eq!(failed.code, "WaveFailed", "{failed}");
    assert!(failed.message.contains("db-01"), "{}", failed.message);
    let recoveries = r.start_recoveries().await.len();
    for _ in 0..3 {
        r.control.advance(RETRY_S).await.unwrap();
        let again = call(&r, &inv).await.unwrap_err();
        assert_eq!((again.code, &again.message), (failed.code, &failed.message), "the recorded end, every time");
    }
    assert_eq!(r.start_recoveries().await.len(), recoveries, "nothing started after the failure");
}

#[tokio::test]
async fn a_payload_missing_a_key_is_refused_naming_it_and_starts_nothing() {
    let r = rig().await;
    for key in ["StepName", "ExecutionId", "PlanArn", "InvokedBy", "Resource"] {
        let mut inv = invocation("recover-shop");
        inv.as_object_mut().unwrap().remove(key);
        let e = call(&r, &inv).await.unwrap_err();
        assert_eq!(e.code, "InvalidEvent", "{e}");
        assert!(e.message.contains(key), "{key} not named in: {}", e.message);
    }
    let mut own_id = invocation("recover-shop");
    own_id["Resource"]["parameters"]["ExecutionId"] = json!("mine");
    let e = call(&r, &own_id).await.unwrap_err();
    assert!(e.message.contains("Resource.parameters.ExecutionId"), "{}", e.message);
    let mut bad_params = invocation("recover-shop");
    bad_params["Resource"]["parameters"]["Waves"] = json!("all");
    let e = call(&r, &bad_params).await.unwrap_err();
    assert_eq!(e.code, "InvalidParameters", "{e}");
    assert!(e.message.contains("Waves"), "{}", e.message);
    assert!(r.start_recoveries().await.is_empty(), "a refused call started nothing");
}

/// The example plan (cloudformation/arc-plan.json): its properties are members of ARC's model
/// (cfn-lint has no schema for AWS::ARCRegionSwitch::Plan: `scripts/arc_plan_shapes.py`
/// compares them with botocore's), and its step's payload, with ARC's keys merged, is an
/// invocation the module takes, for a resource it can read.
#[test]
fn the_example_plan_matches_arcs_model_and_its_payload_is_an_invocation() {
    let path = "cloudformation/arc-plan.json";
    let t: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let step = &t["Resources"]["Plan"]["Properties"]["Workflows"][0]["Steps"][0];
    let block = &step["ExecutionBlockConfiguration"]["CustomActionLambdaConfig"];
    assert_eq!(block["Lambdas"][0]["Arn"], json!({"Ref": "HubFunctionArn"}));
    assert_eq!(block["Ungraceful"]["Behavior"], "skip", "ungraceful runs skip the block, as README says");
    let mut payload: Value = serde_json::from_str(block["Lambdas"][0]["Payload"].as_str().unwrap()).unwrap();
    for (k, v) in drs_module::event::arc::MERGED_KEYS.iter().zip(["ARC", "arn:aws:arc-region-switch::1:plan/p", "e-1", "s"]) {
        payload[*k] = json!(v);
    }
    let inv = Invocation::parse(&payload).unwrap();
    drs_module::resource::DrsResource::from_value(&inv.state_payload()).unwrap();

    let out = std::process::Command::new("python3").args(["scripts/arc_plan_shapes.py", path]).output();
    match out {
        Ok(out) if out.status.code() == Some(0) => {}
        Ok(out) if out.status.code() == Some(2) && std::env::var("DRS_REQUIRE_BOTOCORE").as_deref() != Ok("1") => {
            eprintln!("skipped: the example plan against botocore's model: {}", String::from_utf8_lossy(&out.stdout));
        }
        Ok(out) => panic!(
            "{path} against botocore's model:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!("python3 cannot run: {e}"),
    }
}
