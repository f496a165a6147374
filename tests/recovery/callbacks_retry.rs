//! Callbacks that do not lie: a SendTaskSuccess that fails for a transient reason (503s
//! past the SDK's retries, or a reply lost after it was applied) never becomes
//! SendTaskFailure of a run that finished; the next check sends it again. A heartbeat that
//! fails goes on. The parent's task ends succeeded exactly once.

use crate::common::{resource, rig, shop_parameters, Rig};
use serde_json::{json, Value};

async fn set_faults(r: &Rig, faults: Value) {
    r.control.ok("PUT", "faults", Some(&faults)).await.unwrap();
}

/// SendTask* calls the simulator applied (2xx) and answered with an error, by operation.
async fn callbacks(r: &Rig, op: &str) -> (usize, usize) {
    let calls = r.control.calls().await.unwrap();
    let of: Vec<&Value> = calls.iter().filter(|c| c["operation"] == op).collect();
    let ok = of.iter().filter(|c| c["status"].as_u64().is_some_and(|s| s < 300)).count();
    (ok, of.len() - ok)
}

#[tokio::test]
async fn a_send_task_success_answered_503_is_sent_again_by_the_next_check() {
    let r = rig().await;
    // Every attempt of the SDK (three) fails once: the end's first SendTaskSuccess fails.
    set_faults(&r, json!({"outages": [{"service": "states", "operation": "SendTaskSuccess", "status": 503, "count": 3}]})).await;
    let token = r.token().await;
    let run = r.run(&resource("ShopStack", shop_parameters()), "activate", Some(&token)).await.expect("the drill ends done");
    let state = r.token_state(&token).await;
    assert_eq!(state["status"], "SUCCEEDED", "{state}");
    assert_eq!(state["output"]["launched"], 60, "{state}");
    assert_eq!(callbacks(&r, "SendTaskSuccess").await, (1, 3), "three refused attempts, then one applied");
    assert_eq!(callbacks(&r, "SendTaskFailure").await, (0, 0), "the finished run was never failed");
    assert!(run.checks > 1);
}

#[tokio::test]
async fn a_send_task_success_whose_reply_was_lost_is_not_turned_into_a_failure() {
    let r = rig().await;
    set_faults(&r, json!({"crashes": [{"service": "states", "operation": "SendTaskSuccess", "at": "lost"}]})).await;
    let token = r.token().await;
    let result = r.run(&resource("ShopStack", shop_parameters()), "activate", Some(&token)).await;
    // The SDK sends the lost call again; the parent answers that its task already ended.
    if let Err(e) = &result {
        assert_eq!(e.code.as_str(), "ParentGone", "{}", e.message);
    }
    let state = r.token_state(&token).await;
    assert_eq!(state["status"], "SUCCEEDED", "{state}");
    assert_eq!(state["output"]["launched"], 60, "{state}");
    let applied =
        r.control.calls().await.unwrap().iter().filter(|c| c["operation"] == "SendTaskSuccess" && c["fault"] == "lost").count();
    assert_eq!(applied, 1, "one SendTaskSuccess was applied");
    assert_eq!(callbacks(&r, "SendTaskFailure").await, (0, 0), "the finished run was never failed");
}

#[tokio::test]
async fn a_failing_heartbeat_does_not_stop_the_run() {
    let r = rig().await;
    set_faults(&r, json!({"outages": [{"service": "states", "operation": "SendTaskHeartbeat", "status": 503, "count": 9}]}))
        .await;
    let token = r.token().await;
    r.run(&resource("ShopStack", shop_parameters()), "activate", Some(&token)).await.expect("the drill ends done");
    let state = r.token_state(&token).await;
    assert_eq!(state["status"], "SUCCEEDED", "{state}");
    let (ok, refused) = callbacks(&r, "SendTaskHeartbeat").await;
    assert_eq!(refused, 9, "three checks' heartbeats failed (three attempts each)");
    assert!(ok > 0, "later checks beat again");
    assert_eq!(callbacks(&r, "SendTaskFailure").await, (0, 0));
}

/// The crash-point matrix's SendTaskHeartbeat, the SDK not retrying: a heartbeat applied with
/// its reply lost, and one refused before it was applied, are each passed over; the run ends
/// succeeded once.
#[tokio::test]
async fn a_heartbeat_whose_reply_was_lost_or_that_was_refused_does_not_stop_the_run() {
    for at in ["lost", "before"] {
        let r = crate::common::rig_configured(drs_sim::Fleet::demo(), |c| c.retry.max_attempts = 1).await;
        set_faults(&r, json!({"crashes": [{"service": "states", "operation": "SendTaskHeartbeat", "at": at, "nth": 2}]})).await;
        let token = r.token().await;
        r.run(&resource("ShopStack", shop_parameters()), "activate", Some(&token)).await.expect("the drill ends done");
        let state = r.token_state(&token).await;
        assert_eq!(state["status"], "SUCCEEDED", "{at}: {state}");
        assert_eq!(state["output"]["launched"], 60, "{at}: {state}");
        let calls = r.control.calls().await.unwrap();
        let crashed = calls.iter().filter(|c| c["operation"] == "SendTaskHeartbeat" && !c["fault"].is_null()).count();
        assert_eq!(crashed, 1, "{at}: the crash fired");
        assert_eq!(callbacks(&r, "SendTaskFailure").await, (0, 0), "{at}");
        assert_eq!(callbacks(&r, "SendTaskSuccess").await.0, 1, "{at}: succeeded once");
    }
}
