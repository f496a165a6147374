//! A real recovery of the same plan, then replicate (reverse replication) until continuous.

use crate::common::{resource, rig, shop_parameters};
use serde_json::json;

#[tokio::test]
async fn a_real_recovery_then_replicate_reverses_every_recovered_server() {
    let r = rig().await;
    let mut params = shop_parameters();
    params["Mode"] = json!("recovery");
    let shop = resource("ShopStack", params);
    let run = r.run(&shop, "activate", Some(&r.token().await)).await.expect("the recovery succeeds");
    let record = drs_module::recovery::run::of_payload(&r.clients, &run.payload).await.unwrap().record;
    assert_eq!(record.mode, drs_module::resource::Mode::Recovery, "the run ledger records a real recovery");
    let instances = r.recovery_instances().await;
    assert_eq!(instances.iter().filter(|i| i["isDrill"] == false).count(), 60);

    let token = r.token().await;
    let rep = r.run(&shop, "replicate", Some(&token)).await.expect("replicate succeeds");
    assert_eq!((rep.payload["instances"].as_u64(), rep.payload["reversed"].as_u64()), (Some(60), Some(60)), "{}", rep.payload);
    assert!(rep.checks > 1, "reverse replication takes time to reach CONTINUOUS");
    let states: Vec<String> = r
        .recovery_instances()
        .await
        .iter()
        .map(|i| i["dataReplicationInfo"]["dataReplicationState"].as_str().unwrap_or("none").to_owned())
        .collect();
    assert!(states.iter().all(|s| s == "CONTINUOUS"), "{states:?}");
    assert_eq!(r.token_state(&token).await["status"], "SUCCEEDED");

    // A real recovery's instances are not a drill's: the default cleanup keeps them.
    let cleanup = r.run(&shop, "cleanup", None).await.unwrap();
    assert_eq!(cleanup.payload["instances"], 0);
    assert_eq!(r.recovery_instances().await.len(), 60);
}

#[tokio::test]
async fn replicate_after_a_drill_fails_and_tells_the_parent() {
    let r = rig().await;
    let token = r.token().await;
    let e = r.run(&resource("ShopStack", shop_parameters()), "replicate", Some(&token)).await.unwrap_err();
    assert_eq!(e.code, "PhaseNotApplicable");
    let state = r.token_state(&token).await;
    assert_eq!((state["status"].as_str(), state["error"].as_str()), (Some("FAILED"), Some("PhaseNotApplicable")));
}

/// A server that already runs as a recovery instance of an earlier real recovery is not
/// launched again by a later one (a second instance would split the application), unless
/// the resource asks with RelaunchRecovered; the run's answers name what it left out.
#[tokio::test]
async fn a_real_recovery_does_not_launch_again_what_an_earlier_one_runs() {
    let r = rig().await;
    let real = |tags: serde_json::Value| resource("Recover", json!({"Tags": tags, "Mode": "recovery"}));
    r.run(&real(json!({"Tier": "db"})), "activate", None).await.expect("the databases recover");
    let before = launches(&r).await;
    assert_eq!(before.len(), 12);

    // The whole application now: the databases run already; the rest launches.
    let token = r.token().await;
    r.run(&real(json!({"Tier": ["db", "app"]})), "activate", Some(&token)).await.expect("the recovery goes on without them");
    let after = launches(&r).await;
    assert_eq!(after.len(), 36, "the 24 application servers launched");
    assert!(before.keys().all(|id| after[id] == 1), "no database was launched twice: {after:?}");
    let out = r.token_state(&token).await["output"].clone();
    assert_eq!(out["recoveredEarlier"], 12, "{out}");
    let warnings = out["warnings"].to_string();
    assert!(
        warnings.contains("12 servers left out") && warnings.contains("db-01") && warnings.contains("RelaunchRecovered"),
        "{warnings}"
    );

    // Only recovered servers: refused, naming the parameter; with it, they launch again.
    let e = r.run(&real(json!({"Tier": "db"})), "activate", None).await.unwrap_err();
    assert_eq!(e.code, "ActivationFailed");
    assert!(e.message.contains("RelaunchRecovered"), "{}", e.message);
    let again = resource("Recover", json!({"Tags": {"Tier": "db"}, "Mode": "recovery", "RelaunchRecovered": true}));
    r.run(&again, "activate", None).await.expect("asked for, they launch again");
    assert!(launches(&r).await.iter().filter(|(id, _)| before.contains_key(*id)).all(|(_, n)| *n == 2));
}

async fn launches(r: &crate::common::Rig) -> std::collections::BTreeMap<String, usize> {
    crate::common::launches_per_server(&r.all_jobs().await)
}

/// Two real recoveries of one resource at once (an ARC step and the platform's activation, two
/// executions): both plan every database (none runs yet), the first launches them and the
/// second, finding them busy, waits; once the first's job ends, the second finds them running
/// as the first's recovery instances and gives them up, named, instead of launching each a
/// second time.
#[tokio::test]
async fn a_second_real_recovery_at_once_does_not_launch_again_what_the_first_launched() {
    let r = rig().await;
    let state = resource("Recover", json!({"Tags": {"Tier": "db"}, "Mode": "recovery"}));
    let (a, b) = (drs_module::driver::event(&state, "activate", None), drs_module::driver::event(&state, "activate", None));
    let mut checks = vec![];
    for call in [a, b] {
        let first = drs_module::lifecycle::handle_detailed(&r.clients, &call).await.expect("activate");
        let mut check = call;
        check["status"] = json!(true);
        check["lifecycle_output"] = json!({"Payload": first.answer});
        checks.push(check);
    }
    let mut ended: Vec<Option<Result<(), drs_module::lifecycle::LifecycleError>>> = vec![None, None];
    for _ in 0..200 {
        if ended.iter().all(Option::is_some) {
            break;
        }
        r.control.advance(crate::common::POLL_S as f64).await.unwrap();
        for (i, check) in checks.iter().enumerate() {
            if ended[i].is_some() {
                continue;
            }
            match drs_module::lifecycle::handle_detailed(&r.clients, check).await {
                Ok(h) if h.answer == serde_json::Value::Bool(true) => ended[i] = Some(Ok(())),
                Ok(_) => {}
                Err(e) => ended[i] = Some(Err(e)),
            }
        }
    }
    let after = launches(&r).await;
    assert_eq!(after.len(), 12, "{after:?}");
    assert!(after.values().all(|n| *n == 1), "each database launched once: {after:?}");
    assert!(matches!(ended[0], Some(Ok(()))), "the first recovery ends well: {:?}", ended[0]);
    let Some(Err(e)) = &ended[1] else { panic!("the second recovery cannot end well: {:?}", ended[1]) };
    assert_eq!(e.code.as_str(), "WaveFailed", "{}", e.message);
    assert!(e.message.contains("already runs as recovery instance") && e.message.contains("RelaunchRecovered"), "{}", e.message);
}
