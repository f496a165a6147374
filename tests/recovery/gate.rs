//! Pause gates: a paused wave starts nothing until its approval execution succeeds; an
//! approver answers the gate's task token (SendTaskSuccess approves, SendTaskFailure rejects).

use crate::common::{resource, rig, shop_parameters, Rig, POLL_S};
use drs_module::driver::event;
use drs_module::lifecycle::{handle_detailed, LifecycleError};
use drs_module::recovery::status::{Status, WaveState};
use serde_json::{json, Value};

fn paused_shop() -> Value {
    let mut params = shop_parameters();
    params["Waves"][1]["PauseBefore"] = json!("change board sign-off for the application tier");
    resource("ShopStack", params)
}

/// Runs status checks until `until` holds for the status, or the run ends.
async fn checks_until(r: &Rig, check: &Value, until: impl Fn(&Status) -> bool) -> Result<Option<Status>, LifecycleError> {
    for _ in 0..200 {
        r.control.advance(POLL_S as f64).await.unwrap();
        let h = handle_detailed(&r.clients, check).await?;
        if h.answer == Value::Bool(true) {
            return Ok(None);
        }
        let st: Status = serde_json::from_value(h.detail.unwrap()).unwrap();
        if until(&st) {
            return Ok(Some(st));
        }
    }
    panic!("the run neither ended nor reached the awaited state");
}

async fn gate_execution(r: &Rig) -> Value {
    let v = r.control.ok("GET", "executions", None).await.unwrap();
    let list = v["executions"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "one approval execution: {list:?}");
    list[0].clone()
}

async fn paused_run(r: &Rig, token: &str) -> Value {
    let shop = paused_shop();
    let first = handle_detailed(&r.clients, &event(&shop, "activate", Some(token))).await.unwrap();
    let mut check = event(&shop, "activate", Some(token));
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": first.answer});
    let st = checks_until(r, &check, |s| s.waves[1].state == WaveState::Paused).await.unwrap().expect("wave 2 pauses");
    assert_eq!(st.waves[0].state, WaveState::Completed);
    assert!(st.waves[1].waiting_for[0].contains("change board sign-off"), "{:?}", st.waves[1].waiting_for);
    // While paused, more checks start nothing and ask for no second approval.
    for _ in 0..3 {
        let st = checks_until(r, &check, |_| true).await.unwrap().unwrap();
        assert_eq!(st.waves[1].state, WaveState::Paused);
    }
    let waves: Vec<String> =
        r.all_jobs().await.iter().filter_map(|(_, j)| j.tags().and_then(|t| t.get("drs-orch:wave")).cloned()).collect();
    assert!(waves.iter().all(|w| w == "0"), "only wave 1 started: {waves:?}");
    let gate = gate_execution(r).await;
    assert_eq!(gate["status"], "RUNNING");
    assert_eq!(gate["input"]["waveName"], "applications");
    check
}

#[tokio::test]
async fn a_paused_wave_waits_for_its_approval_then_runs() {
    let r = rig().await;
    let token = r.token().await;
    let check = paused_run(&r, &token).await;
    let gate = gate_execution(&r).await;
    let hub = r.clients.hub().clone();
    let sfn = aws_sdk_sfn::Client::new(&hub);
    sfn.send_task_success().task_token(gate["taskToken"].as_str().unwrap()).output("{\"approved\":true}").send().await.unwrap();

    assert!(checks_until(&r, &check, |_| false).await.unwrap().is_none(), "the run ends");
    assert_eq!(r.token_state(&token).await["status"], "SUCCEEDED");
    assert_eq!(gate_execution(&r).await["status"], "SUCCEEDED");
}

#[tokio::test]
async fn a_rejected_wave_fails_the_run_and_tells_the_parent() {
    let r = rig().await;
    let token = r.token().await;
    let check = paused_run(&r, &token).await;
    let gate = gate_execution(&r).await;
    let sfn = aws_sdk_sfn::Client::new(r.clients.hub());
    sfn.send_task_failure()
        .task_token(gate["taskToken"].as_str().unwrap())
        .error("Rejected")
        .cause("not tonight")
        .send()
        .await
        .unwrap();

    let e = checks_until(&r, &check, |_| false).await.unwrap_err();
    assert_eq!(e.code, "ApprovalRejected");
    assert!(e.message.contains("applications") && e.message.contains("not tonight"), "{}", e.message);
    let state = r.token_state(&token).await;
    assert_eq!((state["status"].as_str(), state["error"].as_str()), (Some("FAILED"), Some("ApprovalRejected")));
}

#[tokio::test]
async fn the_approvers_get_a_reason_as_plain_text_never_as_a_link_or_a_command() {
    let r = rig().await;
    let mut params = shop_parameters();
    params["Waves"][1]["PauseBefore"] =
        json!("sign-off\n[open the runbook](https://evil.example/x) <b>now</b> or run: drs-orch approve AAAAFAKE");
    let shop = resource("ShopStack", params);
    let token = r.token().await;
    let first = handle_detailed(&r.clients, &event(&shop, "activate", Some(&token))).await.unwrap();
    let mut check = event(&shop, "activate", Some(&token));
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": first.answer});
    checks_until(&r, &check, |s| s.waves[1].state == WaveState::Paused).await.unwrap().expect("wave 2 pauses");
    let reason = gate_execution(&r).await["input"]["reason"].as_str().unwrap().to_owned();
    assert!(reason.starts_with("sign-off open the runbook link-removed b now /b or run:"), "{reason}");
    for bad in ["https", "evil", "<", "[", "\n", "drs-orch approve AAAA"] {
        assert!(!reason.contains(bad), "{bad:?} reached the approvers: {reason}");
    }
}
