//! Failure policies: a wave failing by its threshold stops the run before the next wave;
//! under a looser threshold the run goes on and records the failure; fail-fast stops at the
//! first failed server; an execution past its timeout fails naming what is not done.

use crate::common::{resource, rig, shop_parameters, Rig};
use serde_json::json;

async fn fail_launch(r: &Rig, host: &str, seconds: u64) {
    r.control
        .ok(
            "POST",
            &format!("servers/{host}"),
            Some(&json!({"launchOutcome": "FAILED", "launchSeconds": seconds,
                         "failureReason": "InsufficientInstanceCapacity: no r5.xlarge capacity in the zone"})),
        )
        .await
        .unwrap();
}

async fn waves_started(r: &Rig) -> std::collections::BTreeSet<String> {
    r.all_jobs().await.iter().filter_map(|(_, j)| j.tags().and_then(|t| t.get("drs-orch:wave")).cloned()).collect()
}

#[tokio::test]
async fn a_wave_over_its_threshold_fails_naming_servers_and_reasons() {
    let r = rig().await;
    fail_launch(&r, "db-01", 900).await;
    let token = r.token().await;
    let e = r.run(&resource("ShopStack", shop_parameters()), "activate", Some(&token)).await.unwrap_err();
    assert_eq!(e.code, "WaveFailed");
    for part in ["wave databases", "1 of 12", "db-01", "InsufficientInstanceCapacity", "MaxFailed 0"] {
        assert!(e.message.contains(part), "'{part}' not in: {}", e.message);
    }
    let state = r.token_state(&token).await;
    assert_eq!((state["status"].as_str(), state["error"].as_str()), (Some("FAILED"), Some("WaveFailed")));
    assert!(state["cause"].as_str().unwrap().contains("db-01"));
    assert_eq!(waves_started(&r).await, ["0".to_string()].into(), "the next wave never started");
    // The failed run's metrics say so: RunSucceeded 0, the error's code, the failed server.
    let run = e.metrics.iter().map(crate::common::emf_fields).find(|d| d.contains_key("RunSucceeded"));
    let run = run.expect("a failed run has metrics");
    assert_eq!((run["RunSucceeded"].as_f64(), run["RunFailed"].as_f64()), (Some(0.0), Some(1.0)));
    assert_eq!(run["error"], "WaveFailed");
}

#[tokio::test]
async fn under_a_looser_threshold_the_run_goes_on_and_records_the_failure() {
    let r = rig().await;
    fail_launch(&r, "db-01", 900).await;
    let mut params = shop_parameters();
    params["Waves"][0]["FailurePolicy"] = json!({"MaxFailed": 1});
    let token = r.token().await;
    r.run(&resource("ShopStack", params), "activate", Some(&token)).await.expect("one failure is allowed");
    let out = r.token_state(&token).await["output"].clone();
    assert_eq!((out["launched"].as_u64(), out["failed"].as_u64()), (Some(59), Some(1)), "{out}");
    let f = &out["waves"][0]["failures"][0];
    assert_eq!(f["hostname"], "db-01");
    assert!(f["reason"].as_str().unwrap().contains("InsufficientInstanceCapacity"));
}

#[tokio::test]
async fn fail_fast_stops_at_the_first_failed_server() {
    let r = rig().await;
    fail_launch(&r, "db-01", 60).await;
    let mut params = shop_parameters();
    params["FailurePolicy"] = json!("fail-fast");
    let e = r.run(&resource("ShopStack", params), "activate", None).await.unwrap_err();
    assert_eq!(e.code, "WaveFailed");
    assert!(e.message.contains("fail-fast") && e.message.contains("db-01"), "{}", e.message);
    // The other databases were still launching (900 s) when the run stopped.
    let clock = r.control.ok("GET", "clock", None).await.unwrap();
    let running = r.all_jobs().await.iter().filter(|(_, j)| j.status().is_some_and(|s| s.as_str() != "COMPLETED")).count();
    assert!(running > 0, "fail-fast did not wait for the wave's other jobs (clock {clock})");
    assert_eq!(waves_started(&r).await.len(), 1);
}

#[tokio::test]
async fn an_execution_past_its_timeout_fails_naming_what_is_not_done() {
    let r = rig().await;
    let mut params = shop_parameters();
    params["TimeoutMinutes"] = json!(0);
    let token = r.token().await;
    let e = r.run(&resource("ShopStack", params), "activate", Some(&token)).await.unwrap_err();
    assert_eq!(e.code, "Timeout");
    assert!(e.message.contains("databases") && e.message.contains("web"), "{}", e.message);
    assert_eq!(r.token_state(&token).await["error"], "Timeout");
}

#[tokio::test]
async fn bad_recovery_parameters_fail_naming_the_field() {
    let r = rig().await;
    let mut params = shop_parameters();
    params["PauseBefore"] = json!(["no-such-wave"]);
    let e = r.run(&resource("ShopStack", params), "activate", None).await.unwrap_err();
    assert!(e.message.contains("no-such-wave") && e.message.contains("databases"), "{}", e.message);
    let mut params = shop_parameters();
    params["Mode"] = json!("failover");
    let e = r.run(&resource("ShopStack", params), "activate", None).await.unwrap_err();
    assert_eq!(e.code, "InvalidParameters");
    assert!(e.message.contains("parameters.Mode"), "{}", e.message);
}
