//! Hook decisions applied atomically: a wave's crossing (the servers its hooks skip) is one
//! conditional write to the run's ledger record. A crash of that write (refused before it
//! applies, or applied with its reply lost, on every attempt the SDK makes) leaves no half
//! decision: the re-driven run decides again or follows the record, skips exactly what the
//! hook decided, and launches none of it.

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

/// Crashes every attempt the SDK makes at the first UpdateItem of the run (the first wave's
/// crossing).
async fn crash_mid_decision(at: &str) {
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
    // Every attempt the SDK makes at the crossing's UpdateItem fails.
    let attempts = u64::from(r.clients.config().retry.max_attempts);
    let crash = json!({"service": "dynamodb", "operation": "UpdateItem", "at": at, "nth": 1, "count": attempts});
    r.control.ok("PUT", "faults", Some(&json!({"crashes": [crash]}))).await.unwrap();

    let call = event(&resource("ShopStack", with_tenant(shop_parameters(), &["skip-tagged"])), "activate", None);
    let failures = drive(&r, &call).await;
    // A lost reply leaves the SDK's retry refused (the record is there): nothing fails then.
    let crashed = r.control.calls().await.unwrap().iter().filter(|c| c["fault"] == at).count();
    assert!(crashed >= 1 && failures <= 1, "the crash fired ({crashed}); {failures} calls failed");

    let launched = launches_per_server(&r.all_jobs().await);
    assert_eq!(launched.len(), 57, "every server but the three skipped launched: {launched:?}");
    assert!(launched.values().all(|n| *n == 1), "{launched:?}");
    for id in &decided {
        assert!(!launched.contains_key(id), "{id} was skipped by the hook and launched anyway");
    }
    // The run's record holds one crossing per wave, and its skips are exactly the hook's.
    let items = r.control.ok("GET", "tables/drs-orch-runs", None).await.unwrap();
    let record = items["items"].as_array().unwrap().iter().find(|i| i["sk"]["S"].as_str().unwrap().starts_with("run#")).unwrap();
    let crossings = record["crossings"]["M"].as_object().unwrap();
    assert_eq!(crossings.len(), 3, "one crossing per wave: {record}");
    let skipped: BTreeSet<String> =
        crossings.values().flat_map(|c| c["M"]["skip"]["M"].as_object().unwrap().keys().cloned()).collect();
    assert_eq!(skipped, decided, "the recorded skips are the hook's");
}

#[tokio::test]
async fn a_crossing_refused_before_it_is_recorded_is_decided_again_whole() {
    crash_mid_decision("before").await;
}

#[tokio::test]
async fn a_crossing_recorded_with_its_reply_lost_is_followed_not_decided_twice() {
    crash_mid_decision("lost").await;
}
