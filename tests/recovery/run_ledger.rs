//! One record per run (`module/src/ledger/`), driven as the platform drives the module: two
//! resources given one ExecutionId are two runs with two approvals; every ending is recorded
//! and an ended execution id is refused whatever its outcome; a status check acts on what the
//! ledger records, not on an edited payload; a run that launched nothing is never a success;
//! a lost SendTaskFailure is sent again by the next check; cleanup waits for the launches of a
//! failed drill, reads a selection written another way as the same, and ends where DRS was
//! never initialized.

use crate::common::{quick_rig, resource, rig, rig_configured, shop_parameters, Rig, POLL_S};
use drs_module::driver::event;
use drs_module::lifecycle::{handle, handle_detailed};
use serde_json::{json, Value};

fn check_of(activate: &Value, payload: &Value) -> Value {
    let mut c = activate.clone();
    c["status"] = json!(true);
    c["lifecycle_output"] = json!({"Payload": payload});
    c
}

/// Status checks until the run answers `true` (Ok) or fails (Err code), the clock moving.
async fn to_end(r: &Rig, check: &Value) -> Result<Value, String> {
    for _ in 0..400 {
        r.control.advance(POLL_S as f64).await.unwrap();
        match handle_detailed(&r.clients, check).await {
            Ok(h) if h.answer == json!(true) => return Ok(h.detail.unwrap_or_default()),
            Ok(_) => {}
            Err(e) => return Err(format!("{}: {}", e.code.as_str(), e.message)),
        }
    }
    panic!("the run did not end");
}

fn text<'a>(item: &'a Value, attr: &str) -> Option<&'a str> {
    item[attr]["S"].as_str()
}

async fn fail_launch(r: &Rig, host: &str, seconds: u64) {
    let change = json!({"launchOutcome": "FAILED", "launchSeconds": seconds, "failureReason": "InsufficientInstanceCapacity"});
    r.control.ok("POST", &format!("servers/{host}"), Some(&change)).await.unwrap();
}

fn started_ids(calls: &[Value]) -> Vec<String> {
    calls
        .iter()
        .flat_map(|c| c["request"]["sourceServers"].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s["sourceServerID"].as_str().map(str::to_owned))
        .collect()
}

async fn running_approvals(r: &Rig) -> Vec<Value> {
    let v = r.control.ok("GET", "executions?status=RUNNING", None).await.unwrap();
    v["executions"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn two_resources_given_one_execution_id_are_two_runs_with_two_approvals() {
    let r = rig().await;
    let gated = |tier: &str| {
        json!({"Tags": {"Tier": tier}, "ExecutionId": "shared-1",
               "Waves": [{"Name": tier, "Tags": {"Tier": tier}, "PauseBefore": "sign-off"}]})
    };
    let (db, web) = (resource("Db", gated("db")), resource("Web", gated("web")));
    let (db_call, web_call) = (event(&db, "activate", None), event(&web, "activate", None));
    let db_payload = handle(&r.clients, &db_call).await.expect("Db's run opens");
    let web_payload = handle(&r.clients, &web_call).await.expect("Web's run opens: another run, not Db's");
    assert_eq!((db_payload["execution"].as_str(), web_payload["execution"].as_str()), (Some("shared-1"), Some("shared-1")));
    assert_ne!(db_payload["rid"], web_payload["rid"]);
    let approvals = running_approvals(&r).await;
    assert_eq!(approvals.len(), 2, "one approval each: {approvals:?}");
    let runs: Vec<Value> = r.ledger_items().await.into_iter().filter(|i| text(i, "execution") == Some("shared-1")).collect();
    assert_eq!(runs.len(), 2, "two records: {runs:?}");

    // Db's approver answers; Web's does not.
    let db_gate = approvals.iter().find(|a| a["input"]["resource"] == "Db").expect("Db's approval");
    let sfn = aws_sdk_sfn::Client::new(r.clients.hub());
    sfn.send_task_success().task_token(db_gate["taskToken"].as_str().unwrap()).output("{}").send().await.unwrap();
    to_end(&r, &check_of(&db_call, &db_payload)).await.expect("Db's run ends");
    // Db's record holds its gate asked and answered; Web's the gate asked alone.
    let records: Vec<Value> = r.ledger_items().await.into_iter().filter(|i| text(i, "execution") == Some("shared-1")).collect();
    let db_record = records.iter().find(|i| text(i, "resource") == Some("Db")).unwrap();
    let web_record = records.iter().find(|i| text(i, "resource") == Some("Web")).unwrap();
    assert_eq!(db_record["answers"]["M"]["0"]["M"]["approved"]["BOOL"], true, "{db_record}");
    assert!(
        web_record["gates"]["M"]["0"].is_object() && web_record["answers"]["M"].as_object().unwrap().is_empty(),
        "{web_record}"
    );
    for _ in 0..5 {
        r.control.advance(POLL_S as f64).await.unwrap();
        let h = handle_detailed(&r.clients, &check_of(&web_call, &web_payload)).await.unwrap();
        assert_eq!(h.answer, json!(false), "Web still waits for its own approval");
    }
    let started = started_ids(&r.start_recoveries().await);
    let servers = r.control.ok("GET", "servers", None).await.unwrap();
    let web_ids: Vec<&str> = servers["servers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["sourceProperties"]["identificationHints"]["hostname"].as_str().is_some_and(|h| h.starts_with("web-")))
        .filter_map(|s| s["sourceServerID"].as_str())
        .collect();
    assert!(!web_ids.is_empty());
    assert!(started.iter().all(|id| !web_ids.contains(&id.as_str())), "no web server started without Web's approval");
    assert_eq!(started.len(), 12, "the demo fleet's 12 db servers, once each");
}

#[tokio::test]
async fn a_failed_run_is_recorded_and_its_execution_id_refused_whatever_the_outcome() {
    let r = rig().await;
    fail_launch(&r, "db-01", 60).await;
    let mut params = shop_parameters();
    params["ExecutionId"] = json!("fails-once");
    params["FailurePolicy"] = json!("fail-fast");
    let shop = resource("ShopStack", params);
    let e = r.run(&shop, "activate", None).await.unwrap_err();
    assert_eq!(e.code, "WaveFailed", "{}", e.message);
    let record = r.ledger_items().await.into_iter().find(|i| text(i, "execution") == Some("fails-once")).unwrap();
    assert_eq!(record["end"]["M"]["error"]["S"], "WaveFailed", "{record}");
    let before = r.start_recoveries().await.len();

    // Cleanup ends; the same execution id activated again is refused, naming the end.
    r.run(&shop, "cleanup", None).await.expect("cleanup");
    for token in [None, Some(r.token().await)] {
        let e = r.run(&shop, "activate", token.as_deref()).await.unwrap_err();
        assert_eq!(e.code.as_str(), "InvalidParameters");
        assert!(e.message.contains("fails-once") && e.message.contains("failed (WaveFailed)"), "{}", e.message);
    }
    assert_eq!(r.start_recoveries().await.len(), before, "nothing was launched again");
}

#[tokio::test]
async fn a_status_check_refuses_an_edited_payload_before_any_call() {
    let r = rig().await;
    let mut params = shop_parameters();
    params["Tenant"] = json!("shop-team");
    let shop = resource("ShopStack", params);
    let call = event(&shop, "activate", None);
    let payload = handle(&r.clients, &call).await.unwrap();
    let started = r.start_recoveries().await.len();
    // A drill made a real recovery, its hooks dropped, another run pointed at, a forged MAC.
    let edits = [
        ("mode", json!("recovery"), "mode"),
        ("hooks", json!([]), "hooks"),
        ("execution", json!("another-run"), "Payload.mac"),
        ("rid", json!("0123456789abcdef"), "Payload.mac"),
        ("mac", json!("A".repeat(43)), "Payload.mac"),
    ];
    for (field, value, named) in edits {
        let mut edited = payload.clone();
        edited[field] = value;
        r.control.advance(POLL_S as f64).await.unwrap();
        let seen = r.control.calls().await.unwrap().len();
        let e = handle(&r.clients, &check_of(&call, &edited)).await.unwrap_err();
        assert_eq!(e.code.as_str(), "InvalidEvent", "{field}: {}", e.message);
        assert!(e.message.contains(named), "{field}: {}", e.message);
        assert_eq!(r.control.calls().await.unwrap().len(), seen, "{field}: refused before any call");
    }
    assert_eq!(r.start_recoveries().await.len(), started, "no edited check started anything");
    let detail = to_end(&r, &check_of(&call, &payload)).await.expect("the run's own checks go on");
    assert_eq!(detail["execution"], payload["execution"]);
}

#[tokio::test]
async fn a_run_that_launched_nothing_is_not_a_success_whatever_the_policy() {
    let r = rig().await;
    for host in ["db-01", "db-02"] {
        fail_launch(&r, host, 30).await;
    }
    let params = json!({"HostNames": ["db-01", "db-02"], "FailurePolicy": "continue"});
    let token = r.token().await;
    let e = r.run(&resource("Pair", params), "activate", Some(&token)).await.unwrap_err();
    assert_eq!(e.code, "WaveFailed", "{}", e.message);
    assert!(e.message.contains("no server of the 2 planned launched"), "{}", e.message);
    assert_eq!(r.token_state(&token).await["status"], "FAILED");
}

#[tokio::test]
async fn a_send_task_failure_that_does_not_go_through_is_sent_again_by_the_next_check() {
    let r = quick_rig().await;
    fail_launch(&r, "db-01", 30).await;
    let params = json!({"HostNames": ["db-01"]});
    let token = r.token().await;
    let call = event(&resource("One", params), "activate", Some(&token));
    let payload = handle(&r.clients, &call).await.unwrap();
    // Both of the SDK's attempts at the first SendTaskFailure fail.
    let crash = json!({"crashes": [{"service": "states", "operation": "SendTaskFailure", "at": "before", "count": 2}]});
    r.control.ok("PUT", "faults", Some(&crash)).await.unwrap();
    let mut answers = vec![];
    for _ in 0..40 {
        r.control.advance(POLL_S as f64).await.unwrap();
        match handle(&r.clients, &check_of(&call, &payload)).await {
            Ok(v) => answers.push(v),
            Err(e) => {
                assert_eq!(e.code.as_str(), "WaveFailed", "{}", e.message);
                break;
            }
        }
    }
    let state = r.token_state(&token).await;
    assert_eq!((state["status"].as_str(), state["error"].as_str()), (Some("FAILED"), Some("WaveFailed")), "{state}");
    let calls = r.control.calls().await.unwrap();
    let failures: Vec<&Value> = calls.iter().filter(|c| c["operation"] == "SendTaskFailure").collect();
    assert_eq!(failures.len(), 3, "two refused attempts, then the next check's: {failures:?}");
    assert!(answers.contains(&json!(false)), "the check whose callback failed answered not done");
}

#[tokio::test]
async fn cleanup_waits_for_the_launches_of_a_drill_that_failed_fast_and_cleans_them() {
    let r = rig().await;
    fail_launch(&r, "db-01", 10).await;
    let mut params = shop_parameters();
    params["FailurePolicy"] = json!("fail-fast");
    let shop = resource("ShopStack", params);
    let e = r.run(&shop, "activate", None).await.unwrap_err();
    assert_eq!(e.code, "WaveFailed");
    let cleanup = r.run(&shop, "cleanup", None).await.expect("cleanup ends");
    assert!(cleanup.checks > 1, "cleanup waited for the launches in flight: {} checks", cleanup.checks);
    // Long after: nothing the drill launched is left, nothing appears later.
    r.control.advance(3600.0).await.unwrap();
    let live: Vec<Value> = r.recovery_instances().await.into_iter().filter(|i| i["isDrill"] == true).collect();
    assert!(live.is_empty(), "orphans: {live:?}");
}

#[tokio::test]
async fn cleanup_takes_a_selection_written_another_way_for_the_same() {
    let r = rig().await;
    r.run(&resource("Web", json!({"Tags": {"Tier": "web"}})), "activate", None).await.expect("the drill");
    let cleanup = r.run(&resource("Web", json!({"Tags": {"Tier": ["web"]}})), "cleanup", None).await.expect("cleanup");
    assert_eq!((cleanup.payload["instances"].as_u64(), cleanup.payload["leftToOtherResources"].as_u64()), (Some(24), Some(0)));
    let live = r.recovery_instances().await.into_iter().filter(|i| i["isDrill"] == true).count();
    assert_eq!(live, 0);
}

#[tokio::test]
async fn cleanup_ends_where_drs_was_never_initialized() {
    let mut fleet = drs_sim::Fleet::demo();
    fleet.accounts[0].uninitialized_regions = vec!["eu-west-1".into()];
    let r = rig_configured(fleet, |c| c.regions.push("eu-west-1".into())).await;
    let web = resource("Web", json!({"Tags": {"Tier": "web"}}));
    r.run(&web, "activate", None).await.expect("the drill");
    let cleanup = r.run(&web, "cleanup", None).await.expect("cleanup ends");
    assert_eq!(cleanup.payload["instances"].as_u64(), Some(24), "{}", cleanup.payload);
}

#[tokio::test]
async fn a_selection_by_ec2_tags_whose_source_region_is_down_is_refused_naming_it_before_any_write() {
    let r = quick_rig().await;
    // The source instances of account 200000000001's us-east-1 servers live in its us-west-2.
    let dark = json!({"outages": [{"account": "200000000001", "region": "us-west-2", "service": "ec2", "status": 503}]});
    r.control.ok("PUT", "faults", Some(&dark)).await.unwrap();
    let by_ec2_tag = resource("Billing", json!({"Tags": {"Owner": "team-billing"}}));
    let e = handle(&r.clients, &event(&by_ec2_tag, "activate", None)).await.unwrap_err();
    assert_eq!(e.code.as_str(), "ActivationFailed", "{}", e.message);
    for part in ["200000000001/us-west-2", "Owner", "cannot be read", "tags sync"] {
        assert!(e.message.contains(part), "'{part}' not in: {}", e.message);
    }
    assert!(!e.message.contains("match nothing"), "{}", e.message);
    assert!(r.start_recoveries().await.is_empty(), "nothing was started");
    assert!(r.ledger_items().await.is_empty(), "no run was opened");

    // Once the tags are on the DRS source servers (tags sync), the same selection needs no
    // source region.
    r.control.ok("PUT", "faults", Some(&json!({}))).await.unwrap();
    let found = drs_module::discovery::discover(&r.clients, &r.clients.config().partitions(), |_| {}).await;
    let plan =
        drs_module::tagsync::plan(&found.servers, &drs_module::tagsync::Rules { keys: vec!["Owner".into()], overwrite: false });
    drs_module::tagsync::apply(&r.clients, &plan).await;
    r.control.ok("PUT", "faults", Some(&dark)).await.unwrap();
    handle(&r.clients, &event(&by_ec2_tag, "activate", None)).await.expect("selected from the DRS tags alone");
    assert!(!r.start_recoveries().await.is_empty());
}

#[tokio::test]
async fn a_status_check_reads_the_record_and_the_jobs_once_and_writes_only_what_is_new() {
    let r = rig().await;
    let shop = resource("ShopStack", shop_parameters());
    let call = event(&shop, "activate", None);
    let payload = handle(&r.clients, &call).await.expect("the run opens");
    let check = check_of(&call, &payload);
    let (mut checks, mut quiet, mut writes) = (0, 0, vec![]);
    loop {
        r.control.advance(POLL_S as f64).await.unwrap();
        let before = r.sim.world.calls.len() as u64;
        let h = handle_detailed(&r.clients, &check).await.expect("the drill runs");
        checks += 1;
        let calls = r.sim.world.calls.since(before);
        let count = |op: &str| calls.iter().filter(|c| c.operation == op).count();
        assert_eq!(count("GetItem"), 1, "check {checks}: the run's record is read once");
        let starts = count("StartRecovery");
        let mut jobs_reads = std::collections::BTreeMap::new();
        for c in calls.iter().filter(|c| c.operation == "DescribeJobs") {
            *jobs_reads.entry((c.account.clone(), c.region.clone())).or_insert(0) += 1;
        }
        // A check that starts nothing reads each partition's jobs once; one that starts a
        // wave reads them once more for the servers busy elsewhere; the one that ends the run
        // once more for the run's report (written once, `report::publish`).
        let most = if starts == 0 { 1 } else { 2 } + usize::from(h.answer == json!(true));
        assert!(jobs_reads.values().all(|n| *n <= most), "check {checks}: the jobs read once: {jobs_reads:?}");
        let updates = count("UpdateItem") + count("PutItem") + count("TransactWriteItems");
        if updates == 0 && starts == 0 {
            quiet += 1;
        }
        writes.push(updates);
        if h.answer == json!(true) {
            break;
        }
        assert!(checks < 200, "the drill did not end");
    }
    // Three waves judged completed and the end: nothing else is new in a clean drill.
    assert_eq!(writes.iter().sum::<usize>(), 4, "writes per check: {writes:?}");
    assert!(quiet > checks / 2, "most checks only read: {quiet} of {checks}");
}
