//! Cleanup acts on what its resource launched, everywhere it can reach: an unreachable
//! partition keeps it from ending (never done with an instance left), its deadline fails it
//! naming what is left, and another resource with the same name keeps its instances.

use crate::common::{quick_rig, resource, shop_parameters, Rig, POLL_S};
use drs_module::driver::event;
use drs_module::lifecycle::handle_detailed;
use serde_json::{json, Value};

const DARK_ACCOUNT: &str = "200000000002";
const DARK_REGION: &str = "us-west-2";

/// Live drill instances, in all and in the dark partition.
async fn drill_instances(r: &Rig) -> (usize, usize) {
    let all: Vec<Value> = r.recovery_instances().await.into_iter().filter(|i| i["isDrill"] == true).collect();
    let dark = all.iter().filter(|i| i["accountId"] == DARK_ACCOUNT && i["region"] == DARK_REGION).count();
    (all.len(), dark)
}

fn check_event(state: &Value, phase_answer: &Value) -> Value {
    let mut e = event(state, "cleanup", None);
    e["status"] = json!(true);
    e["lifecycle_output"] = json!({"Payload": phase_answer});
    e
}

#[tokio::test]
async fn cleanup_terminates_what_it_reaches_and_is_not_done_while_a_partition_is_dark() {
    let r = quick_rig().await;
    let shop = resource("ShopStack", shop_parameters());
    r.run(&shop, "activate", None).await.expect("the drill succeeds");
    let (live, dark) = drill_instances(&r).await;
    assert!(live == 60 && dark > 0, "{live} {dark}");

    r.outage(DARK_ACCOUNT, DARK_REGION, true).await;
    let first = handle_detailed(&r.clients, &event(&shop, "cleanup", None)).await.expect("cleanup starts where it can");
    let phase_answer = first.answer;
    assert!(phase_answer["unreachable"].to_string().contains(DARK_REGION), "{phase_answer}");
    assert!(phase_answer["deadline"].is_string(), "{phase_answer}");
    for _ in 0..20 {
        r.control.advance(POLL_S as f64).await.unwrap();
        let h = handle_detailed(&r.clients, &check_event(&shop, &phase_answer)).await.expect("not done, not failed");
        assert_eq!(h.answer, json!(false), "never done while a partition is dark: {:?}", h.detail);
    }
    assert_eq!(drill_instances(&r).await, (dark, dark), "everything reachable is terminated, only the dark partition's left");

    r.outage(DARK_ACCOUNT, DARK_REGION, false).await;
    let mut done = false;
    for _ in 0..60 {
        r.control.advance(POLL_S as f64).await.unwrap();
        if handle_detailed(&r.clients, &check_event(&shop, &phase_answer)).await.unwrap().answer == json!(true) {
            done = true;
            break;
        }
    }
    assert!(done, "cleanup ends once the partition is back");
    assert_eq!(drill_instances(&r).await, (0, 0));
}

#[tokio::test]
async fn cleanup_past_its_deadline_fails_naming_the_partition_and_what_is_left() {
    let r = quick_rig().await;
    let mut params = shop_parameters();
    params["CleanupTimeoutMinutes"] = json!(0);
    let shop = resource("ShopStack", params);
    r.run(&shop, "activate", None).await.expect("the drill succeeds");
    r.outage(DARK_ACCOUNT, DARK_REGION, true).await;
    let phase_answer = handle_detailed(&r.clients, &event(&shop, "cleanup", None)).await.unwrap().answer;
    r.control.advance(POLL_S as f64).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let e = handle_detailed(&r.clients, &check_event(&shop, &phase_answer)).await.expect_err("the deadline passed");
    assert_eq!(e.code, "CleanupFailed");
    assert!(e.message.contains(&format!("{DARK_ACCOUNT}/{DARK_REGION}")) && e.message.contains("unreachable"), "{}", e.message);
}

#[tokio::test]
async fn cleanup_leaves_the_instances_of_another_resource_with_the_same_name() {
    let r = quick_rig().await;
    let shop = resource("Web", json!({"Tags": {"Application": ["shop"]}}));
    let billing = resource("Web", json!({"Tags": {"Application": ["billing"]}}));
    r.run(&shop, "activate", Some(&r.token().await)).await.expect("the shop drill succeeds");
    let (shop_live, _) = drill_instances(&r).await;
    r.run(&billing, "activate", Some(&r.token().await)).await.expect("the billing drill succeeds");
    let (both_live, _) = drill_instances(&r).await;
    let billing_live = both_live - shop_live;
    assert!(shop_live > 0 && billing_live > 0, "{shop_live} {billing_live}");

    let cleanup = r.run(&shop, "cleanup", None).await.expect("the shop cleanup succeeds");
    assert_eq!(cleanup.payload["instances"].as_u64(), Some(shop_live as u64), "{}", cleanup.payload);
    assert_eq!(cleanup.payload["leftToOtherResources"].as_u64(), Some(billing_live as u64), "{}", cleanup.payload);
    let named = cleanup.payload["leftToOtherResourcesNamed"].as_array().map_or(0, Vec::len);
    assert_eq!(named, billing_live.min(20), "the other resource's instances are named: {}", cleanup.payload);
    assert_eq!(drill_instances(&r).await.0, billing_live, "the other Web's instances are left");
}

#[tokio::test]
async fn replicate_reverses_what_it_reaches_and_is_not_done_while_a_partition_is_dark() {
    let r = quick_rig().await;
    let mut params = shop_parameters();
    params["Mode"] = json!("recovery");
    let shop = resource("ShopStack", params);
    r.run(&shop, "activate", None).await.expect("the recovery succeeds");

    r.outage(DARK_ACCOUNT, DARK_REGION, true).await;
    let first = handle_detailed(&r.clients, &event(&shop, "replicate", None)).await.expect("replicate starts where it can");
    let phase_answer = first.answer;
    assert!(phase_answer["unreachable"].to_string().contains(DARK_REGION), "{phase_answer}");
    let check = |answer: &Value| {
        let mut e = event(&shop, "replicate", None);
        e["status"] = json!(true);
        e["lifecycle_output"] = json!({"Payload": answer});
        e
    };
    for _ in 0..40 {
        r.control.advance(POLL_S as f64).await.unwrap();
        let h = handle_detailed(&r.clients, &check(&phase_answer)).await.expect("not done, not failed");
        assert_eq!(h.answer, json!(false), "never done while a partition is dark: {:?}", h.detail);
    }
    r.outage(DARK_ACCOUNT, DARK_REGION, false).await;
    let mut done = false;
    for _ in 0..200 {
        r.control.advance(POLL_S as f64).await.unwrap();
        if handle_detailed(&r.clients, &check(&phase_answer)).await.unwrap().answer == json!(true) {
            done = true;
            break;
        }
    }
    assert!(done, "replicate ends once the partition is back");
    let continuous =
        r.recovery_instances().await.iter().filter(|i| i["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS").count();
    assert_eq!(continuous, 60, "every recovered server replicates back, the dark partition's too");
}

/// Drives a cleanup (phase call, then checks with the clock moving) with `clients` until it
/// answers done; its last answer.
async fn cleanup_to_done(r: &Rig, clients: &drs_module::aws::Clients, shop: &Value) -> Value {
    let phase_answer = handle_detailed(clients, &event(shop, "cleanup", None)).await.expect("cleanup starts").answer;
    for _ in 0..60 {
        r.control.advance(POLL_S as f64).await.unwrap();
        let h = handle_detailed(clients, &check_event(shop, &phase_answer)).await.expect("cleanup does not fail");
        if h.answer == json!(true) {
            return h.detail.unwrap_or_default();
        }
    }
    panic!("cleanup did not end");
}

#[tokio::test]
async fn cleanup_looks_everywhere_the_ledger_says_a_run_reached_and_records_what_it_saw() {
    let r = quick_rig().await;
    let shop = resource("ShopStack", shop_parameters());
    r.run(&shop, "activate", None).await.expect("the drill succeeds");
    let narrowed_away = drill_instances(&r).await.0
        - r.recovery_instances()
            .await
            .iter()
            .filter(|i| i["isDrill"] == true && !(i["accountId"] == "200000000001" && i["region"] == "us-west-2"))
            .count();
    assert!(narrowed_away > 0, "the drill launched in 200000000001/us-west-2");

    // Between the drill and its cleanup the configuration stops naming one of the partitions
    // the drill reached: the run's record still names it.
    let narrowed = r.clients_with(|c| {
        let a = c.accounts.iter_mut().find(|a| a.account_id == "200000000001").unwrap();
        a.regions = Some(vec!["us-east-1".into()]);
    });
    let last = cleanup_to_done(&r, &narrowed, &shop).await;
    assert_eq!(drill_instances(&r).await, (0, 0), "nothing left, in the partition the configuration dropped too: {last}");
    assert_eq!(last["runs"], json!(1), "{last}");
    assert_eq!(last["notInLedger"], json!(0), "{last}");

    let records: Vec<Value> =
        r.ledger_items().await.into_iter().filter(|i| i["sk"]["S"].as_str().is_some_and(|s| s.starts_with("run#"))).collect();
    assert_eq!(records.len(), 1);
    let rec = &records[0];
    assert_eq!(rec["cleanupRemaining"]["N"], json!("0"), "the last pass found nothing: {rec}");
    let done = rec["cleanupDone"]["S"].as_str().expect("the record says when the run was clean").to_owned();
    let jobs = rec["cleanupJobs"]["L"].as_array().map_or(0, Vec::len);
    assert!(jobs >= 4, "the terminate jobs are recorded, one per partition at least: {rec}");
    assert!(rec["cleanupOpen"].is_null(), "nothing kept the last pass from being sure: {rec}");

    // A cleanup called again later changes nothing, and the first time it was clean holds.
    r.control.advance(600.0).await.unwrap();
    cleanup_to_done(&r, &r.clients, &shop).await;
    let again =
        r.ledger_items().await.into_iter().find(|i| i["sk"]["S"].as_str().is_some_and(|s| s.starts_with("run#"))).unwrap();
    assert_eq!(again["cleanupDone"]["S"].as_str(), Some(done.as_str()));
    assert_eq!(again["cleanupJobs"]["L"].as_array().map_or(0, Vec::len), jobs, "no terminate job twice");
}

#[tokio::test]
async fn cleanup_is_not_done_while_the_ledger_cannot_be_read() {
    let r = quick_rig().await;
    let shop = resource("ShopStack", shop_parameters());
    r.run(&shop, "activate", None).await.expect("the drill succeeds");
    let faults = json!({"outages": [{"service": "dynamodb", "status": 503}]});
    r.control.ok("PUT", "faults", Some(&faults)).await.unwrap();
    let phase_answer = handle_detailed(&r.clients, &event(&shop, "cleanup", None)).await.expect("cleanup starts").answer;
    assert!(phase_answer["unreachable"].to_string().contains("run ledger"), "{phase_answer}");
    for _ in 0..10 {
        r.control.advance(POLL_S as f64).await.unwrap();
        let h = handle_detailed(&r.clients, &check_event(&shop, &phase_answer)).await.expect("not done, not failed");
        assert_eq!(h.answer, json!(false), "a cleanup that cannot list the runs is not sure it is done: {:?}", h.detail);
    }
    assert_eq!(drill_instances(&r).await.0, 0, "what tags find is still cleaned");
    r.control.ok("PUT", "faults", Some(&json!({}))).await.unwrap();
    cleanup_to_done(&r, &r.clients, &shop).await;
}

/// A phase call and its status checks to the end, the event as given (its RunId kept).
async fn to_end(r: &Rig, call: &Value) -> Result<Value, drs_module::lifecycle::LifecycleError> {
    let first = handle_detailed(&r.clients, call).await?;
    let mut check = call.clone();
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": first.answer});
    for _ in 0..400 {
        r.control.advance(POLL_S as f64).await.unwrap();
        let h = handle_detailed(&r.clients, &check).await?;
        if h.answer == Value::Bool(true) {
            return Ok(h.detail.unwrap_or_default());
        }
    }
    panic!("the phase never ended")
}

/// A run that has not ended (its drill held at a gate between waves) is not cleaned under it:
/// its instances stay, and cleanup is not done, naming it; once it ended, cleanup cleans all.
#[tokio::test]
async fn cleanup_leaves_a_run_that_has_not_ended_and_names_it() {
    let r = quick_rig().await;
    let mut params = shop_parameters();
    params["Waves"][1]["PauseBefore"] = json!("sign-off");
    params["ExecutionId"] = json!("held-y");
    let held = resource("ShopStack", params);
    let activate = event(&held, "activate", None);
    let first = handle_detailed(&r.clients, &activate).await.expect("activate");
    let mut check = activate.clone();
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": first.answer});
    for _ in 0..100 {
        r.control.advance(POLL_S as f64).await.unwrap();
        handle_detailed(&r.clients, &check).await.expect("the drill goes on");
        if drill_instances(&r).await.0 == 12 {
            break;
        }
    }
    assert_eq!(drill_instances(&r).await.0, 12, "the databases launched; the applications wait at the gate");

    let shop = resource("ShopStack", shop_parameters());
    let first = handle_detailed(&r.clients, &event(&shop, "cleanup", None)).await.expect("cleanup starts");
    let mut last = first.answer.clone();
    for _ in 0..3 {
        r.control.advance(POLL_S as f64).await.unwrap();
        let h = handle_detailed(&r.clients, &check_event(&shop, &first.answer)).await.expect("not done, not failed");
        assert_eq!(h.answer, Value::Bool(false), "cleanup is not done while the drill goes on");
        last = h.detail.unwrap();
    }
    assert!(last["running"].to_string().contains("held-y"), "{last}");
    assert_eq!(drill_instances(&r).await.0, 12, "the running drill's instances are left");

    // Approved, the drill ends; a cleanup then cleans every instance, the later waves' too.
    let sfn = aws_sdk_sfn::Client::new(r.clients.hub());
    loop {
        crate::common::approve_open_gates(&r.control, &sfn).await;
        r.control.advance(POLL_S as f64).await.unwrap();
        if handle_detailed(&r.clients, &check).await.expect("the drill ends well").answer == Value::Bool(true) {
            break;
        }
    }
    assert_eq!(drill_instances(&r).await.0, 60);
    r.run(&shop, "cleanup", None).await.expect("cleanup ends");
    assert_eq!(drill_instances(&r).await.0, 0);
}

/// The standalone state machine passes its execution's id as RunId with every call: its
/// cleanup is its own run's, and another drill of the resource keeps its instances.
#[tokio::test]
async fn a_cleanup_whose_run_id_names_a_run_cleans_that_run_alone() {
    let r = quick_rig().await;
    let shop = resource("ShopStack", shop_parameters());
    let mut scheduled = event(&shop, "activate", None);
    scheduled["RunId"] = json!("arn:aws:states:us-east-1:100000000000:execution:drs-orch-standalone:monthly-1");
    to_end(&r, &scheduled).await.expect("the scheduled drill");
    let mut other = shop_parameters();
    other["ExecutionId"] = json!("operator-drill");
    to_end(&r, &event(&resource("ShopStack", other), "activate", None)).await.expect("the operator's drill");
    assert_eq!(drill_instances(&r).await.0, 60, "the second drill replaced the first one's instances");

    // The first run's instances were replaced by the second's launches: its cleanup finds none
    // of its own and leaves the operator's.
    let mut cleanup = scheduled.clone();
    cleanup["LifeCyclePhase"] = json!("cleanup");
    let done = to_end(&r, &cleanup).await.expect("the scheduled run's cleanup");
    assert_eq!(done["runs"], 1, "{done}");
    assert_eq!(drill_instances(&r).await.0, 60, "the operator's drill keeps its instances");
    r.run(&shop, "cleanup", None).await.expect("the resource's cleanup");
    assert_eq!(drill_instances(&r).await.0, 0);
}
