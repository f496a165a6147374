//! Run identity: every run is its own, token or not. A token-less activate that names no run
//! is refused; the standalone state machine names each execution's run; a drill input sent
//! again is a fresh run that launches again; an explicit ExecutionId that already ran to an
//! end (recorded in the run ledger, or shown by its answered approval) is refused naming it; a re-delivery of the same
//! event within a run starts nothing twice.

use super::standalone::{context, definition, play_as};
use crate::common::{launches_per_server, resource, rig, shop_parameters, Rig, POLL_S};
use drs_module::driver::event;
use drs_module::lifecycle::{handle, handle_detailed};
use serde_json::{json, Value};

fn servers_started(calls: &[Value]) -> usize {
    calls.iter().map(|c| c["request"]["sourceServers"].as_array().map_or(0, Vec::len)).sum()
}

/// Status checks of `check` until the run answers `true` (Ok) or fails (Err code).
async fn checks_to_end(r: &Rig, check: &Value) -> Result<usize, String> {
    for n in 1..500 {
        r.control.advance(POLL_S as f64).await.unwrap();
        match handle(&r.clients, check).await {
            Ok(Value::Bool(true)) => return Ok(n),
            Ok(_) => {}
            Err(e) => return Err(e.code.as_str().to_owned()),
        }
    }
    panic!("the run did not end");
}

#[tokio::test]
async fn a_token_less_activate_without_a_run_is_refused_naming_the_fields() {
    let r = rig().await;
    let raw = json!({"StatePayload": resource("ShopStack", shop_parameters()), "LifeCyclePhase": "activate"});
    let e = handle(&r.clients, &raw).await.unwrap_err();
    assert_eq!(e.code.as_str(), "InvalidEvent");
    assert!(e.message.contains("RunId") && e.message.contains("ExecutionId"), "{}", e.message);
    assert!(r.start_recoveries().await.is_empty(), "nothing was started");
}

#[tokio::test]
async fn the_standalone_machine_run_twice_with_one_input_launches_twice() {
    let r = rig().await;
    let input = json!({"resource": resource("ShopStack", shop_parameters()), "cleanup": true});
    let a = play_as(&r, &definition(), input.clone(), &context("monthly-1")).await.expect("the first drill");
    assert_eq!(servers_started(&r.start_recoveries().await), 60);
    // Next month's schedule sends the same input: another execution, another run.
    let b = play_as(&r, &definition(), input, &context("monthly-2")).await.expect("the second drill");
    assert_ne!(a["activate"]["Payload"]["execution"], b["activate"]["Payload"]["execution"]);
    assert_eq!(servers_started(&r.start_recoveries().await), 120, "the second run launched every server again");
    let launches = launches_per_server(&r.all_jobs().await);
    assert!(launches.len() == 60 && launches.values().all(|n| *n == 2), "{launches:?}");
}

#[tokio::test]
async fn the_same_run_id_delivered_twice_is_one_run() {
    let r = rig().await;
    let mut call = event(&resource("ShopStack", shop_parameters()), "activate", None);
    call["RunId"] = json!("arn:aws:states:us-east-1:100000000000:execution:drs-orch-standalone:once");
    let first = handle(&r.clients, &call).await.unwrap();
    let started = r.start_recoveries().await.len();
    assert!(started > 0);
    let again = handle(&r.clients, &call).await.unwrap();
    assert_eq!(first["execution"], again["execution"], "a re-delivery is the same run");
    assert_eq!(r.start_recoveries().await.len(), started, "the re-delivery started nothing");
    let mut check = call.clone();
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": first});
    checks_to_end(&r, &check).await.expect("the run ends");
    let launches = launches_per_server(&r.all_jobs().await);
    assert!(launches.len() == 60 && launches.values().all(|n| *n == 1), "{launches:?}");
}

#[tokio::test]
async fn an_execution_id_that_already_ran_is_refused_naming_it_with_a_token_or_without() {
    let r = rig().await;
    let mut params = shop_parameters();
    params["ExecutionId"] = json!("drill-2026-11");
    let shop = resource("ShopStack", params);
    r.run(&shop, "activate", None).await.expect("the first run");
    let before = r.start_recoveries().await.len();
    // The run ledger records the end, once, on the run's record (the simulator's own view).
    let items = r.control.ok("GET", "tables/drs-orch-runs", None).await.unwrap();
    let runs: Vec<&Value> =
        items["items"].as_array().unwrap().iter().filter(|i| i["execution"]["S"] == "drill-2026-11").collect();
    assert_eq!(runs.len(), 1, "{items}");
    assert!(runs[0]["end"]["M"]["at"]["S"].is_string() && runs[0]["end"]["M"].get("error").is_none(), "{}", runs[0]);
    let ended = |j: &aws_sdk_drs::types::Job| j.tags().is_some_and(|t| t.keys().any(|k| k.contains("ended")));
    assert!(!r.all_jobs().await.iter().any(|(_, j)| ended(j)), "the end is the ledger's, not a job tag");

    for token in [None, Some(r.token().await)] {
        let e = r.run(&shop, "activate", token.as_deref()).await.unwrap_err();
        assert_eq!(e.code.as_str(), "InvalidParameters");
        assert!(
            e.message.contains("parameters.ExecutionId")
                && e.message.contains("drill-2026-11")
                && e.message.contains("done at 20"),
            "{}",
            e.message
        );
        if let Some(t) = token {
            assert_eq!(r.token_state(&t).await["error"], "InvalidParameters", "the parent is told");
        }
    }
    assert_eq!(r.start_recoveries().await.len(), before, "the refused runs started nothing");
}

#[tokio::test]
async fn an_answered_approval_is_never_taken_by_a_later_run_of_its_id() {
    let r = rig().await;
    let mut params = shop_parameters();
    params["ExecutionId"] = json!("gated-1");
    params["Waves"][0]["PauseBefore"] = json!("sign-off");
    let shop = resource("ShopStack", params);
    let call = event(&shop, "activate", None);
    let first = handle_detailed(&r.clients, &call).await.unwrap();
    assert_eq!(first.detail.unwrap()["waves"][0]["state"], "paused");
    let running = r.control.ok("GET", "executions?status=RUNNING", None).await.unwrap();
    let gate = &running["executions"][0];
    let sfn = aws_sdk_sfn::Client::new(r.clients.hub());
    sfn.send_task_failure().task_token(gate["taskToken"].as_str().unwrap()).error("Rejected").send().await.unwrap();
    let mut check = call.clone();
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": first.answer});
    assert_eq!(checks_to_end(&r, &check).await, Err("ApprovalRejected".to_owned()));

    // The run had no job; its rejected approval shows that it ran.
    let e = handle(&r.clients, &event(&shop, "activate", None)).await.unwrap_err();
    assert_eq!(e.code.as_str(), "InvalidParameters");
    assert!(e.message.contains("gated-1") && e.message.contains("failed (ApprovalRejected)"), "{}", e.message);
    assert!(r.start_recoveries().await.is_empty());
}

#[tokio::test]
async fn an_approval_left_waiting_by_an_earlier_run_of_the_id_is_never_taken_over() {
    // Last month's run of "gated-2" reached its gate and was never answered nor ended.
    let r = rig().await;
    let mut params = shop_parameters();
    params["ExecutionId"] = json!("gated-2");
    params["Waves"][0]["PauseBefore"] = json!("sign-off");
    let shop = resource("ShopStack", params);
    let first = handle_detailed(&r.clients, &event(&shop, "activate", None)).await.unwrap();
    assert_eq!(first.detail.unwrap()["waves"][0]["state"], "paused");
    assert!(r.start_recoveries().await.is_empty());

    // A month on (the module's clock is the simulator's), the schedule runs the same id: its
    // gate would be last month's approval, its record last month's run.
    r.control.advance(30.0 * 86400.0).await.unwrap();
    let e = handle(&r.clients, &event(&shop, "activate", None)).await.unwrap_err();
    assert_eq!(e.code.as_str(), "InvalidParameters");
    assert!(e.message.contains("gated-2") && e.message.contains("never ended"), "{}", e.message);
    let running = r.control.ok("GET", "executions?status=RUNNING", None).await.unwrap();
    assert_eq!(running["executions"].as_array().map(Vec::len), Some(1), "no second approval was asked for");
    assert!(r.start_recoveries().await.is_empty(), "nothing was started");
}

#[tokio::test]
async fn a_gated_activate_delivered_again_within_its_window_is_the_same_run() {
    let r = rig().await;
    let mut params = shop_parameters();
    params["ExecutionId"] = json!("gated-3");
    params["Waves"][0]["PauseBefore"] = json!("sign-off");
    let shop = resource("ShopStack", params);
    let first = handle(&r.clients, &event(&shop, "activate", None)).await.unwrap();
    let again = handle(&r.clients, &event(&shop, "activate", None)).await.expect("the re-delivery is accepted");
    assert_eq!(first["execution"], again["execution"]);
    let running = r.control.ok("GET", "executions?status=RUNNING", None).await.unwrap();
    assert_eq!(running["executions"].as_array().map(Vec::len), Some(1), "one approval for the run");
}

#[tokio::test]
async fn a_status_check_handed_another_runs_payload_is_refused_before_any_call() {
    let r = rig().await;
    let token = r.token().await;
    let shop = resource("ShopStack", shop_parameters());
    let activate = event(&shop, "activate", Some(&token));
    let payload = handle(&r.clients, &activate).await.unwrap();
    let started = r.start_recoveries().await.len();
    let check_of = |state: &Value, token: Option<&str>, payload: &Value| {
        let mut c = event(state, "activate", token);
        c["status"] = json!(true);
        c["lifecycle_output"] = json!({"Payload": payload});
        c
    };
    // Another resource's event, another selection of this one, another run: each with its
    // own token (whose parent is told), or none.
    let mut billing = shop_parameters();
    billing["Tags"] = json!({"Application": ["billing"]});
    let cases = [
        (resource("Billing", shop_parameters()), Some(r.token().await), "Payload.resource"),
        (resource("ShopStack", billing), Some(r.token().await), "Payload.rid"),
        (shop.clone(), Some(r.token().await), "Payload.execution"),
        (shop.clone(), None, "Payload.execution"),
    ];
    for (state, other, field) in cases {
        let e = handle(&r.clients, &check_of(&state, other.as_deref(), &payload)).await.unwrap_err();
        assert_eq!(e.code.as_str(), "InvalidEvent", "{field}: {}", e.message);
        assert!(e.message.contains(field), "{field}: {}", e.message);
        if let Some(t) = other {
            assert_eq!(r.token_state(&t).await["error"], "InvalidEvent", "{field}: the event's parent is told");
        }
    }
    assert_eq!(r.start_recoveries().await.len(), started, "no refused check started anything");
    // The run's own check goes on.
    handle(&r.clients, &check_of(&shop, Some(&token), &payload)).await.expect("its own check");
}

#[tokio::test]
async fn looking_for_an_earlier_run_reads_a_partition_again_and_names_it_when_it_stays_unread() {
    let one =
        json!({"service": "drs", "operation": "DescribeJobs", "account": "200000000001", "region": "us-east-1", "status": 503});
    // Refused past the SDK's two attempts once: read again, and the run starts.
    let r = crate::common::quick_rig().await;
    let mut brief = one.clone();
    brief["count"] = json!(2);
    r.control.ok("PUT", "faults", Some(&json!({"outages": [brief]}))).await.unwrap();
    let mut call = event(&resource("ShopStack", shop_parameters()), "activate", None);
    call["RunId"] = json!("run-read-again");
    handle(&r.clients, &call).await.expect("the partition is read again");
    assert!(!r.start_recoveries().await.is_empty());

    // Refused every time: the activate fails naming it, before anything starts.
    let r = crate::common::quick_rig().await;
    r.control.ok("PUT", "faults", Some(&json!({"outages": [one]}))).await.unwrap();
    let e = handle(&r.clients, &call).await.unwrap_err();
    assert_eq!(e.code.as_str(), "ActivationFailed", "{}", e.message);
    assert!(
        e.message.contains("200000000001/us-east-1") && e.message.contains("earlier runs could not be looked for"),
        "{}",
        e.message
    );
    assert!(r.start_recoveries().await.is_empty(), "nothing was started");
}
