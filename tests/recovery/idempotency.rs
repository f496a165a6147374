//! Re-delivered and crashed invocations start nothing twice: a duplicate activate, an
//! activate that crashed after StartRecovery, and status checks delivered twice at once.

use crate::common::{launches_per_server, resource, rig, shop_parameters, POLL_S};
use drs_module::driver::event;
use drs_module::lifecycle::handle;
use drs_module::recovery::{activate, tags};
use drs_module::secret::Secret;
use serde_json::{json, Value};

#[tokio::test]
async fn a_duplicate_activate_and_duplicate_status_checks_start_nothing_twice() {
    let r = rig().await;
    let shop = resource("ShopStack", shop_parameters());
    let token = r.token().await;
    let first = handle(&r.clients, &event(&shop, "activate", Some(&token))).await.unwrap();
    let started = r.start_recoveries().await.len();
    assert!(started > 0);
    let again = handle(&r.clients, &event(&shop, "activate", Some(&token))).await.unwrap();
    assert_eq!(again["execution"], first["execution"], "a re-delivery is the same execution");
    assert_eq!(r.start_recoveries().await.len(), started, "the duplicate started nothing");

    // Every status check delivered twice, concurrently, until the end.
    let mut check = event(&shop, "activate", Some(&token));
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": first});
    for _ in 0..500 {
        r.control.advance(POLL_S as f64).await.unwrap();
        let (a, b) = tokio::join!(handle(&r.clients, &check), handle(&r.clients, &check));
        // The twin that ends the task wins; the other finds the parent gone, and says so.
        let ended = [&a, &b].iter().any(|x| matches!(x, Ok(Value::Bool(true))));
        for x in [a, b] {
            if let Err(e) = x {
                assert!(ended && e.code == "ParentGone", "{e}");
            }
        }
        if ended {
            break;
        }
    }
    let launches = launches_per_server(&r.all_jobs().await);
    assert_eq!(launches.len(), 60, "every server launched");
    assert!(launches.values().all(|n| *n == 1), "a server was launched twice: {launches:?}");
}

#[tokio::test]
async fn an_activate_that_crashed_after_start_recovery_is_healed_by_its_retry() {
    let r = rig().await;
    let shop = resource("ShopStack", shop_parameters());
    let token = r.token().await;
    // The first delivery starts wave 1 and dies before it answers: its payload is lost.
    let execution = tags::execution_id(None, Some(&Secret::new(token.clone())), None, "ShopStack").unwrap();
    let parsed = drs_module::resource::DrsResource::from_value(&shop).unwrap();
    let (_lost, _) = activate::activate(&r.clients, &parsed, &execution).await.unwrap();
    let started = r.start_recoveries().await;
    assert!(!started.is_empty());

    // Lambda retries the same event: the same execution, its jobs found by their tags.
    let payload = handle(&r.clients, &event(&shop, "activate", Some(&token))).await.unwrap();
    assert_eq!(payload["execution"], execution);
    assert_eq!(r.start_recoveries().await.len(), started.len(), "the retry started nothing");
    let launches = launches_per_server(&r.all_jobs().await);
    assert!(launches.values().all(|n| *n == 1), "{launches:?}");
}

#[tokio::test]
async fn another_run_of_the_same_manifest_is_another_execution() {
    let r = rig().await;
    let shop = resource("ShopStack", shop_parameters());
    let a = handle(&r.clients, &event(&shop, "activate", Some(&r.token().await))).await.unwrap();
    let b = handle(&r.clients, &event(&shop, "activate", Some(&r.token().await))).await;
    // The servers are still in the first run's jobs: DRS refuses them, the run waits.
    let b = b.unwrap();
    assert_ne!(a["execution"], b["execution"]);
}
