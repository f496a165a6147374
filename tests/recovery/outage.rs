//! One account x region failing mid-run: the status check goes on with the others, names the
//! partition as unreachable (since when, the last error), and after the resource's grace its
//! servers count as failed under the wave's FailurePolicy. Servers counted failed are never
//! started late, out of wave order, when the partition comes back.

use crate::common::{launches_per_server, quick_rig, resource, shop_parameters, Rig, POLL_S};
use drs_module::driver::event;
use drs_module::lifecycle::{handle_detailed, Handled, LifecycleError};
use serde_json::{json, Value};

const DARK_ACCOUNT: &str = "200000000001";
const DARK_REGION: &str = "us-east-1";
const DARK: &str = "200000000001/us-east-1";

/// The run's events: its activate and its checks carry one RunId, as the standalone
/// machine's do.
fn run_event(state: &Value) -> Value {
    let mut e = event(state, "activate", None);
    e["RunId"] = json!("arn:aws:states:us-east-1:100000000000:execution:drs-orch-standalone:outage");
    e
}

fn check_event(state: &Value, payload: &Value) -> Value {
    let mut e = run_event(state);
    e["status"] = json!(true);
    e["lifecycle_output"] = json!({"Payload": payload});
    e
}

async fn check(r: &Rig, state: &Value, payload: &Value) -> Result<Handled, LifecycleError> {
    r.control.advance(POLL_S as f64).await.unwrap();
    handle_detailed(&r.clients, &check_event(state, payload)).await
}

/// The partitions the runs' records hold as down (the simulator's view of the ledger).
async fn down_marks(r: &Rig) -> usize {
    let items = r.control.ok("GET", "tables/drs-orch-runs", None).await.unwrap();
    items["items"].as_array().unwrap().iter().filter_map(|i| i["down"]["M"].as_object()).map(|m| m.len()).sum()
}

/// StartRecovery calls in the dark partition (the call log names account and region).
async fn starts_in_dark(r: &Rig) -> usize {
    r.start_recoveries().await.iter().filter(|c| c["account"] == DARK_ACCOUNT && c["region"] == DARK_REGION).count()
}

#[tokio::test]
async fn a_partition_down_mid_wave_holds_its_servers_while_the_others_go_on() {
    down_mid_wave(quick_rig().await, None).await;
}

/// The crash-point matrix's outage record: the partition is back and the first removal of
/// its record (a conditional UpdateItem of the run's ledger record) fails before it is applied, or is applied with its reply lost; the SDK does not
/// retry, so the module sees it.
#[tokio::test]
async fn the_removal_of_an_outage_mark_crashed_before_it_was_applied_is_done_again() {
    down_mid_wave(crate::common::rig_configured(drs_sim::Fleet::demo(), |c| c.retry.max_attempts = 1).await, Some("before"))
        .await;
}

#[tokio::test]
async fn the_removal_of_an_outage_mark_whose_reply_was_lost_is_not_done_twice() {
    down_mid_wave(crate::common::rig_configured(drs_sim::Fleet::demo(), |c| c.retry.max_attempts = 1).await, Some("lost")).await;
}

async fn down_mid_wave(r: Rig, untag_crash: Option<&str>) {
    // A grace longer than the checks below (the module's clock is the simulator's, 30 s a
    // check): the dark partition's servers wait rather than count as failed.
    let mut params = shop_parameters();
    params["UnreachableGraceMinutes"] = json!(240);
    let shop = resource("ShopStack", params);
    let first = handle_detailed(&r.clients, &run_event(&shop)).await.unwrap();
    let payload = first.answer;
    assert!(starts_in_dark(&r).await > 0, "the first wave started in every partition, the dark one too");

    r.outage(DARK_ACCOUNT, DARK_REGION, true).await;
    // Until every server of the other partitions has launched.
    let mut held = None;
    for _ in 0..100 {
        let h = check(&r, &shop, &payload).await.expect("one partition down does not fail the check");
        assert_eq!(h.answer, json!(false), "the wave waits for the dark partition's servers");
        let d = h.detail.unwrap();
        let down = d["unreachable"].as_array().cloned().unwrap_or_default();
        assert_eq!(down.len(), 1, "{d}");
        assert_eq!(down[0]["partition"], DARK, "{d}");
        assert!(down[0]["error"].as_str().unwrap().contains("unavailable"), "{d}");
        let wave = &d["waves"][0];
        let others_launched = wave["launched"].as_u64().unwrap() + 2 >= wave["servers"].as_u64().unwrap();
        held = Some(d);
        if others_launched {
            break;
        }
    }
    let d = held.unwrap();
    let wave = &d["waves"][0];
    assert_eq!(wave["state"], "running", "{wave}");
    assert_eq!(wave["launched"].as_u64().unwrap() + 2, wave["servers"].as_u64().unwrap(), "the others launched: {wave}");
    assert_eq!(d["waves"][1]["state"], "waiting", "the next wave waits for the dark partition");
    let waiting = wave["waitingFor"].to_string();
    assert!(waiting.contains(DARK) && waiting.contains("count as failed at"), "{waiting}");
    assert!(down_marks(&r).await > 0, "the outage is recorded in the run's record");

    r.outage(DARK_ACCOUNT, DARK_REGION, false).await;
    if let Some(at) = untag_crash {
        let crash = json!({"crashes": [{"service": "dynamodb", "operation": "UpdateItem", "at": at, "nth": 1}]});
        r.control.ok("PUT", "faults", Some(&crash)).await.unwrap();
    }
    let mut done = None;
    for _ in 0..200 {
        let h = check(&r, &shop, &payload).await.expect("the run goes on once the partition is back");
        if h.answer == json!(true) {
            done = h.detail;
            break;
        }
    }
    let d = done.expect("the run ended");
    assert_eq!(d["outcome"]["state"], "done", "{d}");
    let launches = launches_per_server(&r.all_jobs().await);
    assert_eq!(
        launches.len(),
        d["waves"].as_array().unwrap().iter().map(|w| w["servers"].as_u64().unwrap() as usize).sum::<usize>()
    );
    assert!(launches.values().all(|n| *n == 1), "every server launched once: {launches:?}");
    assert_eq!(down_marks(&r).await, 0, "the partition is back: its mark is gone");
    if untag_crash.is_some() {
        let calls = r.control.calls().await.unwrap();
        let crashed = calls.iter().filter(|c| c["operation"] == "UpdateItem" && !c["fault"].is_null()).count();
        assert_eq!(crashed, 1, "the crash fired");
    }
}

#[tokio::test]
async fn past_the_grace_a_dark_partitions_servers_fail_by_the_policy_and_never_start_late() {
    let r = quick_rig().await;
    // Under "continue", the run goes on without them; under the default fail-fast, it fails.
    let mut params = shop_parameters();
    params["UnreachableGraceMinutes"] = json!(0);
    params["FailurePolicy"] = json!("continue");
    let shop = resource("ShopStack", params);
    let payload = handle_detailed(&r.clients, &run_event(&shop)).await.unwrap().answer;
    let before = starts_in_dark(&r).await;

    r.outage(DARK_ACCOUNT, DARK_REGION, true).await;
    let mut last = None;
    for _ in 0..200 {
        let h = check(&r, &shop, &payload).await.expect("the check goes on");
        if h.answer == json!(true) {
            last = h.detail;
            break;
        }
    }
    let d = last.expect("the run ended without the dark partition");
    assert_eq!(d["outcome"]["state"], "done", "{d}");
    let failures: Vec<&Value> = d["waves"].as_array().unwrap().iter().flat_map(|w| w["failures"].as_array().unwrap()).collect();
    assert!(!failures.is_empty(), "the dark partition's servers are counted failed: {d}");
    for f in &failures {
        assert_eq!(f["partition"], DARK, "{f}");
        assert!(f["reason"].as_str().unwrap().contains("unreachable"), "{f}");
    }
    assert_eq!(starts_in_dark(&r).await, before, "nothing more started in the dark partition");

    // Back: the check finds the first wave's jobs there again, and never starts the later
    // waves' servers there (they were counted failed, out of wave order now).
    r.outage(DARK_ACCOUNT, DARK_REGION, false).await;
    let h = check(&r, &shop, &payload).await.unwrap();
    assert_eq!(h.answer, json!(true), "{:?}", h.detail);
    assert_eq!(starts_in_dark(&r).await, before, "nothing started late");

    // Under fail-fast, the same outage fails the run naming the partition.
    let r = quick_rig().await;
    let mut params = shop_parameters();
    params["UnreachableGraceMinutes"] = json!(0);
    params["FailurePolicy"] = json!("fail-fast");
    let shop = resource("ShopStack", params);
    let payload = handle_detailed(&r.clients, &run_event(&shop)).await.unwrap().answer;
    r.outage(DARK_ACCOUNT, DARK_REGION, true).await;
    let e = check(&r, &shop, &payload).await.expect_err("fail-fast fails on the first server counted failed");
    assert_eq!(e.code, "WaveFailed");
    assert!(e.message.contains(DARK) && e.message.contains("unreachable"), "{}", e.message);
}

#[tokio::test]
async fn sessions_that_end_mid_run_are_assumed_again_and_the_run_completes() {
    let r = quick_rig().await;
    let shop = resource("ShopStack", shop_parameters());
    let payload = handle_detailed(&r.clients, &run_event(&shop)).await.unwrap().answer;
    let ended = r.control.ok("POST", "credentials/expire", None).await.unwrap();
    assert!(ended["expired"].as_u64().unwrap() >= 3, "every account's session ended: {ended}");
    let h = check(&r, &shop, &payload).await.expect("ended sessions do not fail the check");
    let down = h.detail.unwrap()["unreachable"].as_array().cloned().unwrap_or_default();
    assert!(!down.is_empty() && down[0]["error"].as_str().unwrap().contains("ExpiredToken"), "{down:?}");
    let mut done = false;
    for _ in 0..200 {
        let h = check(&r, &shop, &payload).await.expect("the run goes on with new sessions");
        if h.answer == json!(true) {
            done = true;
            break;
        }
    }
    assert!(done, "the run ended");
    let launches = launches_per_server(&r.all_jobs().await);
    assert!(launches.len() == 60 && launches.values().all(|n| *n == 1), "{launches:?}");
}

/// With a tenant's hooks, the boundary reads the next wave's servers (their marks, the hooks'
/// context) in every partition: one that cannot be read holds the crossing, named, rather
/// than failing the check, and the run completes once it answers again; a partition down
/// altogether is left out of the hooks' view and waits as a running wave's would.
#[tokio::test]
async fn with_hooks_a_partition_unreadable_at_a_boundary_holds_it_and_the_run_completes() {
    use drs_module::config::HookFailure;
    let hooks = super::hooks::tenant(&[("skip-tagged", "skip_tagged")], HookFailure::FailClosed, None);
    let r = crate::common::rig_configured(drs_sim::Fleet::demo(), |c| {
        c.retry.max_attempts = 2;
        hooks(c)
    })
    .await;
    let mut params = super::hooks::with_tenant(shop_parameters(), &["skip-tagged"]);
    params["UnreachableGraceMinutes"] = json!(240);
    let shop = resource("ShopStack", params);
    let first = handle_detailed(&r.clients, &run_event(&shop)).await.unwrap();
    let payload = first.answer;
    // DescribeSourceServers refused in one partition: the jobs still read, the servers not.
    let fault = json!({"outages": [{"account": DARK_ACCOUNT, "region": DARK_REGION, "service": "drs",
                                    "operation": "DescribeSourceServers", "status": 503}]});
    r.control.ok("PUT", "faults", Some(&fault)).await.unwrap();
    let mut held = false;
    for _ in 0..60 {
        let h = check(&r, &shop, &payload).await.expect("a partition unreadable at the boundary does not fail the check");
        assert_eq!(h.answer, json!(false));
        let waiting = h.detail.unwrap()["waves"].to_string();
        held |= waiting.contains("could not be read for the hooks") && waiting.contains(DARK);
        if held {
            break;
        }
    }
    assert!(held, "the crossing waited, naming the partition");
    let starts_before = r.start_recoveries().await.len();
    for _ in 0..3 {
        check(&r, &shop, &payload).await.expect("still held, not failed");
    }
    assert_eq!(r.start_recoveries().await.len(), starts_before, "nothing of the next wave started while held");
    r.control.ok("PUT", "faults", Some(&json!({}))).await.unwrap();
    let mut done = false;
    for _ in 0..200 {
        let h = check(&r, &shop, &payload).await.expect("the run goes on");
        if h.answer == json!(true) {
            done = true;
            break;
        }
    }
    assert!(done, "the run completes");
    let launches = launches_per_server(&r.all_jobs().await);
    assert!(launches.values().all(|n| *n == 1), "{launches:?}");
}

/// A wave judged completed stays completed: a partition dark past the grace during a later
/// wave fails that wave (its servers there count failed), never the completed one whose jobs
/// there can no longer be read.
#[tokio::test]
async fn a_partition_dark_past_the_grace_fails_the_running_wave_not_a_completed_one() {
    let r = quick_rig().await;
    let mut params = shop_parameters();
    params["UnreachableGraceMinutes"] = json!(2);
    let shop = resource("ShopStack", params);
    let payload = handle_detailed(&r.clients, &run_event(&shop)).await.unwrap().answer;
    // Until the second wave has launched some of its servers.
    for _ in 0..200 {
        let d = check(&r, &shop, &payload).await.expect("the run goes on").detail.unwrap();
        if d["waves"][1]["launched"].as_u64().unwrap_or(0) > 0 {
            assert_eq!(d["waves"][0]["state"], "completed", "{d}");
            break;
        }
    }
    r.outage(DARK_ACCOUNT, "us-west-2", true).await;
    let mut ended = None;
    for _ in 0..40 {
        match check(&r, &shop, &payload).await {
            Ok(h) => {
                let d = h.detail.unwrap();
                assert_eq!(d["waves"][0]["state"], "completed", "the completed wave stays completed: {d}");
                if h.answer == json!(true) {
                    ended = Some(Ok(d));
                    break;
                }
            }
            Err(e) => {
                ended = Some(Err(e));
                break;
            }
        }
    }
    let e = ended.expect("the run ended").expect_err("the dark partition's servers failed the running wave");
    assert_eq!(e.code, "WaveFailed");
    assert!(e.message.contains("wave applications") && !e.message.contains("wave databases"), "{}", e.message);
}
