//! Hook decisions applied atomically: a crash while a skip decision's marks are written
//! (TagResource refused before it applies, or applied with its reply lost) leaves no half
//! decision: the re-driven run decides again and skips exactly what the hook decided, and
//! launches none of it.

use super::hooks::{tag_server, tenant, with_tenant};
use crate::common::{launches_per_server, resource, rig_configured, shop_parameters, Rig, POLL_S};
use drs_module::config::HookFailure;
use drs_module::driver::event;
use drs_module::lifecycle::handle;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Sends `call` until it is answered (a crashed call is delivered again), then its status
/// checks until the run ends, each check re-delivered after a failure.
async fn drive(r: &Rig, call: &Value) -> usize {
    let mut failures = 0;
    let payload = loop {
        match handle(&r.clients, call).await {
            Ok(p) => break p,
            Err(e) => {
                failures += 1;
                assert!(failures < 10, "activate keeps failing: {e}");
            }
        }
    };
    let mut check = call.clone();
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": payload});
    for _ in 0..500 {
        r.control.advance(POLL_S as f64).await.unwrap();
        match handle(&r.clients, &check).await {
            Ok(Value::Bool(true)) => return failures,
            Ok(_) => {}
            Err(e) => {
                failures += 1;
                assert!(failures < 10, "checks keep failing: {e}");
            }
        }
    }
    panic!("the run did not end");
}

/// Crashes the `nth` TagResource and the ones after it, `marks` marks' worth of the SDK's
/// attempts: the marks are written at once, so a crash meant to fail one mark must outlast
/// the others' first attempts too.
async fn crash_mid_decision(at: &str, nth: u64, marks: u64) {
    let hooks = tenant(&[("skip-tagged", "skip_tagged")], HookFailure::FailClosed, None);
    // Two attempts per call: the SDK's backoff over lost replies stays short.
    let r = rig_configured(drs_sim::Fleet::demo(), |c| {
        hooks(c);
        c.retry.max_attempts = 2;
    })
    .await;
    // Two databases of the first wave, and web-01 (tagged in the demo fleet), are skipped.
    let mut decided = BTreeSet::new();
    for host in ["db-01", "db-02"] {
        decided.insert(tag_server(&r, host, "dr:skip", "true").await);
    }
    let servers = r.control.ok("GET", "servers", None).await.unwrap();
    for s in servers["servers"].as_array().unwrap().iter().filter(|s| s["tags"]["dr:skip"] == "true") {
        decided.insert(s["sourceServerID"].as_str().unwrap().to_owned());
    }
    assert_eq!(decided.len(), 3);
    // Every attempt the SDK makes at the crashed TagResource calls fails: the check fails mid-way.
    let attempts = u64::from(r.clients.config().retry.max_attempts);
    let crash = json!({"service": "drs", "operation": "TagResource", "at": at, "nth": nth, "count": attempts * marks});
    r.control.ok("PUT", "faults", Some(&json!({"crashes": [crash]}))).await.unwrap();

    let call = event(&resource("ShopStack", with_tenant(shop_parameters(), &["skip-tagged"])), "activate", None);
    let failures = drive(&r, &call).await;
    assert!(failures >= 1, "the crash made a call fail");
    let crashed = r.control.calls().await.unwrap().iter().filter(|c| c["fault"] == at).count();
    assert_eq!(crashed as u64, attempts * marks, "the crash fired on every attempt");

    let launched = launches_per_server(&r.all_jobs().await);
    assert_eq!(launched.len(), 57, "every server but the three skipped launched: {launched:?}");
    assert!(launched.values().all(|n| *n == 1), "{launched:?}");
    for id in &decided {
        assert!(!launched.contains_key(id), "{id} was skipped by the hook and launched anyway");
    }
    // The skip marks the run's decisions took are exactly the hook's.
    let servers = r.control.ok("GET", "servers", None).await.unwrap();
    let recorded: usize =
        servers["servers"].as_array().unwrap().iter().filter(|s| s["tags"]["drs-orch:decision"].is_string()).count();
    assert_eq!(recorded, 2, "one decision record per wave that skipped");
}

#[tokio::test]
async fn a_skip_decision_refused_mid_way_is_decided_again_whole() {
    // The second mark of the first wave is refused: only the first was written.
    crash_mid_decision("before", 2, 1).await;
}

#[tokio::test]
async fn a_skip_decision_whose_first_mark_reply_was_lost_is_decided_again_whole() {
    // Both marks of the first wave are applied, their replies lost: no decision recorded.
    crash_mid_decision("lost", 1, 2).await;
}
