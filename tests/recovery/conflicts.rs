//! Conflicts per server: a server of a wave busy in another run's active job does not hold
//! back the rest of its StartRecovery chunk; it waits, named in the status with the job that
//! holds it, and starts once that job ends; held past `busyWaitMinutes`, it counts as failed
//! under the wave's FailurePolicy.

use crate::common::{launches_per_server, resource, rig, rig_configured, shop_parameters, Rig, POLL_S};
use drs_module::config::Partition;
use drs_module::driver::event;
use drs_module::lifecycle::{handle_detailed, Handled};
use serde_json::{json, Value};

/// A server by hostname: (partition, source server id).
async fn server(r: &Rig, host: &str) -> (Partition, String) {
    let servers = r.control.ok("GET", "servers", None).await.unwrap();
    let s = servers["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["sourceProperties"]["identificationHints"]["hostname"] == host)
        .unwrap()
        .clone();
    let parts: Vec<&str> = s["arn"].as_str().unwrap().split(':').collect();
    (Partition { account: parts[4].into(), region: parts[3].into() }, s["sourceServerID"].as_str().unwrap().to_owned())
}

fn waiting(h: &Handled) -> Vec<String> {
    serde_json::from_value(h.detail.as_ref().unwrap()["waves"][0]["waitingFor"].clone()).unwrap()
}

/// Another run's drill job holding `host`; its job id.
async fn hold(r: &Rig, host: &str) -> (String, String) {
    let (p, id) = server(r, host).await;
    let drs = r.clients.drs(&p).await.unwrap();
    let s = aws_sdk_drs::types::StartRecoveryRequestSourceServer::builder().source_server_id(&id).build().unwrap();
    let job = drs.start_recovery().source_servers(s).is_drill(true).send().await.unwrap();
    (id, job.job().unwrap().job_id().to_owned())
}

#[tokio::test]
async fn a_server_busy_past_the_bound_fails_by_the_waves_policy() {
    let r = rig_configured(drs_sim::Fleet::demo(), |c| c.busy_wait_minutes = 0).await;
    // The foreign job takes two hours: only the bound can end the wait.
    r.control.ok("POST", "servers/db-01", Some(&json!({"launchSeconds": 7200}))).await.unwrap();
    let (busy, foreign) = hold(&r, "db-01").await;
    let token = r.token().await;
    let e = r.run(&resource("ShopStack", shop_parameters()), "activate", Some(&token)).await.unwrap_err();
    assert_eq!(e.code.as_str(), "WaveFailed");
    assert!(
        e.message.contains("db-01") && e.message.contains(&foreign) && e.message.contains("busyWaitMinutes"),
        "{}",
        e.message
    );
    let jobs = r.all_jobs().await;
    let held = jobs.iter().find(|(_, j)| j.job_id() == foreign).unwrap();
    assert_ne!(held.1.status().unwrap().as_str(), "COMPLETED", "the bound ended the wait, not the job");
    assert_eq!(launches_per_server(&jobs).get(&busy), Some(&1), "db-01 was never started by the run");
    let waves: std::collections::BTreeSet<String> =
        jobs.iter().filter_map(|(_, j)| j.tags().and_then(|t| t.get("drs-orch:wave")).cloned()).collect();
    assert_eq!(waves.into_iter().collect::<Vec<_>>(), ["0"], "the failed wave stopped the run");
}

#[tokio::test]
async fn a_busy_server_waits_named_while_the_rest_of_its_chunk_starts() {
    let r = rig().await;
    let (p, busy) = server(&r, "db-01").await;
    // Another run's drill holds db-01.
    let drs = r.clients.drs(&p).await.unwrap();
    let server = aws_sdk_drs::types::StartRecoveryRequestSourceServer::builder().source_server_id(&busy).build().unwrap();
    let foreign = drs.start_recovery().source_servers(server).is_drill(true).send().await.unwrap();
    let foreign = foreign.job().unwrap().job_id().to_owned();

    let call = event(&resource("ShopStack", shop_parameters()), "activate", None);
    let first = handle_detailed(&r.clients, &call).await.expect("activate");
    let w = waiting(&first);
    assert!(w.iter().any(|l| l.contains(&busy) && l.contains(&foreign)), "db-01 is named with its job: {w:?}");
    // Every other database of db-01's partition started at the first check.
    let launched = launches_per_server(&r.all_jobs().await);
    let ours: Vec<String> = r
        .start_recoveries()
        .await
        .iter()
        .skip(1)
        .flat_map(|c| {
            c["request"]["sourceServers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["sourceServerID"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!ours.contains(&busy), "db-01 was not started twice at once");
    let payload = drs_module::recovery::run::of_payload(&r.clients, &first.answer).await.unwrap().plan;
    let wave0: Vec<&String> = payload.waves[0].groups.iter().flat_map(|g| g.servers.iter()).collect();
    for id in wave0.iter().filter(|id| **id != &busy) {
        assert_eq!(launched.get(*id), Some(&1), "{id} started at the first check");
    }

    // When the foreign job ends, db-01 starts; the run ends done.
    let mut check = call.clone();
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": first.answer});
    let mut done = false;
    for _ in 0..500 {
        r.control.advance(POLL_S as f64).await.unwrap();
        if handle_detailed(&r.clients, &check).await.expect("a check").answer == Value::Bool(true) {
            done = true;
            break;
        }
    }
    assert!(done, "the run ended");
    let launched = launches_per_server(&r.all_jobs().await);
    assert_eq!(launched.get(&busy), Some(&2), "db-01: the foreign job, then ours");
    assert_eq!(launched.len(), 60);
    assert!(launched.iter().filter(|(id, _)| **id != busy).all(|(_, n)| *n == 1), "{launched:?}");
}

#[tokio::test]
async fn under_a_looser_policy_a_given_up_server_is_a_recorded_failure_and_the_run_goes_on() {
    let r = rig_configured(drs_sim::Fleet::demo(), |c| c.busy_wait_minutes = 0).await;
    r.control.ok("POST", "servers/db-01", Some(&json!({"launchSeconds": 7200}))).await.unwrap();
    let (busy, _) = hold(&r, "db-01").await;
    let mut params = shop_parameters();
    params["Waves"][0]["FailurePolicy"] = json!({"MaxFailed": 1});
    let token = r.token().await;
    r.run(&resource("ShopStack", params), "activate", Some(&token)).await.expect("one failure is allowed");
    let out = r.token_state(&token).await["output"].clone();
    assert_eq!((out["launched"].as_u64(), out["failed"].as_u64()), (Some(59), Some(1)), "{out}");
    let f = &out["waves"][0]["failures"][0];
    assert_eq!(f["sourceServerId"], busy.as_str(), "{out}");
    assert!(f["reason"].as_str().unwrap().contains("busyWaitMinutes"), "{f}");
    assert_eq!(launches_per_server(&r.all_jobs().await).get(&busy), Some(&1), "only the other run's job holds db-01");
}

#[tokio::test]
async fn a_server_given_up_is_never_started_later_in_the_run_when_it_comes_free() {
    let r = rig_configured(drs_sim::Fleet::demo(), |c| c.busy_wait_minutes = 0).await;
    // The other run's job frees db-01 some ten minutes in, while this run's later waves go on.
    r.control.ok("POST", "servers/db-01", Some(&json!({"launchSeconds": 600}))).await.unwrap();
    let (busy, foreign) = hold(&r, "db-01").await;
    let mut params = shop_parameters();
    params["Waves"][0]["FailurePolicy"] = json!({"MaxFailed": 1});
    let token = r.token().await;
    let run = r.run(&resource("ShopStack", params), "activate", Some(&token)).await.expect("one failure is allowed");
    assert!(run.checks * crate::common::POLL_S as usize > 900, "the run outlasted the other job: {} checks", run.checks);
    let jobs = r.all_jobs().await;
    let held = jobs.iter().find(|(_, j)| j.job_id() == foreign).unwrap();
    assert_eq!(held.1.status().unwrap().as_str(), "COMPLETED", "db-01 came free during the run");
    assert_eq!(launches_per_server(&jobs).get(&busy), Some(&1), "the run never started db-01 once it gave it up");
    let out = r.token_state(&token).await["output"].clone();
    assert_eq!((out["launched"].as_u64(), out["failed"].as_u64()), (Some(59), Some(1)), "{out}");
    let items = r.control.ok("GET", "tables/drs-orch-runs", None).await.unwrap();
    assert!(items.to_string().contains(&format!("0/{busy}")), "the ledger records db-01 given up in wave 0: {items}");
}
