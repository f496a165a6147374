//! Every run leaves its report in the reports bucket, read back here through the official S3
//! client: a run of the standalone state machine and one driven by the platform's events
//! (with task tokens), their cleanup recorded as it ended; a server left out as not ready is
//! named with its reason; every time is on the run's clock; a report is written once at its
//! run's key however often the end is delivered; and a report that cannot be written never
//! changes a run's outcome.

use crate::common::{resource, rig, rig_configured, shop_parameters, Rig};
use crate::standalone::{definition, play};
use chrono::{DateTime, Utc};
use drs_module::report::{LeftOutKind, RunReport, ServerState, Verdict};
use serde_json::{json, Value};

/// The keys under `prefix`.
async fn keys(r: &Rig, prefix: &str) -> Vec<String> {
    let page = r.s3().list_objects_v2().bucket("drs-orch-reports").prefix(prefix).send().await.unwrap();
    page.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect()
}

/// The run's report as written, and the version id of its JSON.
async fn report_of(r: &Rig, resource: &str, execution: &str) -> (RunReport, String) {
    let key = format!("runs/{resource}/{execution}/report.json");
    let got = r.s3().get_object().bucket("drs-orch-reports").key(&key).send().await.unwrap_or_else(|e| panic!("{key}: {e:?}"));
    let version = got.version_id().unwrap_or_default().to_owned();
    let bytes = got.body.collect().await.unwrap().into_bytes();
    (serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{key}: {e}")), version)
}

/// Every time the report holds, by its JSON path.
fn times(v: &Value, at: &str, out: &mut Vec<(String, DateTime<Utc>)>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, v)| times(v, &format!("{at}.{k}"), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| times(v, &format!("{at}[{i}]"), out)),
        Value::String(s) => {
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                out.push((at.to_owned(), t.with_timezone(&Utc)));
            }
        }
        _ => {}
    }
}

/// The cleanup phase's detail.
fn cleanup(report: &RunReport) -> &Value {
    let phase = report.phases.iter().find(|p| p.phase == "cleanup").expect("the cleanup is in the report");
    assert_eq!(phase.outcome, Verdict::Succeeded, "{:?}", phase.detail);
    &phase.detail
}

#[tokio::test]
async fn a_standalone_run_leaves_its_report_in_s3_on_the_runs_clock() {
    let r = rig().await;
    // The run's clock is forty days ahead of the wall: a wall-clock time would stand out.
    r.control.advance(40.0 * 86400.0).await.unwrap();
    // The ledger writes times to the second.
    let from = r.sim.world.clock.now() - chrono::Duration::seconds(1);
    let out = play(&r, &definition(), json!({"resource": resource("ShopStack", shop_parameters()), "cleanup": true}))
        .await
        .expect("the machine succeeds");
    let to = r.sim.world.clock.now();
    let run = drs_module::recovery::run::of_payload(&r.clients, &out["activate"]["Payload"]).await.unwrap();
    let execution = &run.record.execution;
    let folder = format!("runs/ShopStack/{execution}/");
    let mut written = keys(&r, &folder).await;
    written.sort();
    assert_eq!(written, ["html", "json", "md"].map(|e| format!("{folder}report.{e}")));

    let (report, _) = report_of(&r, "ShopStack", execution).await;
    assert_eq!(report.outcome, Verdict::Succeeded);
    let servers: Vec<_> = report.resources[0].waves.iter().flat_map(|w| &w.servers).collect();
    assert_eq!(servers.len(), 60);
    assert!(servers.iter().all(|s| s.status == ServerState::Launched && s.recovery_instance_id.is_some()));
    let c = cleanup(&report);
    assert_eq!((c["remaining"].as_u64(), c["terminated"].as_u64()), (Some(0), Some(60)), "{c}");
    assert!(c["firstClean"].is_string(), "the pass that found nothing left is dated: {c}");

    // One clock, stated: the run's start and end are the ledger's, and every time lies
    // within the run on the simulator's clock, nowhere near the wall's.
    assert!(report.clock.contains("run's clock"), "{}", report.clock);
    assert_eq!(report.started, run.record.started);
    assert_eq!(Some(report.ended), run.record.end.as_ref().map(|e| e.at));
    let mut all = vec![];
    times(&serde_json::to_value(&report).unwrap(), "$", &mut all);
    assert!(all.len() > 120, "{} times", all.len());
    // The point in time of the data each server launched is before the run, by its lag.
    let (snapshots, all): (Vec<_>, Vec<_>) = all.into_iter().partition(|(at, _)| at.ends_with(".snapshot"));
    assert_eq!(snapshots.len(), 60);
    assert!(snapshots.iter().all(|(_, t)| *t <= to && *t > from - chrono::Duration::minutes(10)), "{snapshots:?}");
    let outside: Vec<_> = all.iter().filter(|(_, t)| *t < from || *t > to).collect();
    assert!(outside.is_empty(), "times off the run's clock ({from} to {to}): {outside:?}");
    let md = r.s3().get_object().bucket("drs-orch-reports").key(format!("{folder}report.md")).send().await.unwrap();
    let md = String::from_utf8(md.body.collect().await.unwrap().into_bytes().to_vec()).unwrap();
    assert!(md.contains("run's clock") && md.contains("| cleanup |"), "{md}");
}

#[tokio::test]
async fn a_platform_run_names_what_it_left_out_and_its_cleanup_as_it_ended() {
    let r = rig().await;
    r.control.ok("POST", "servers/db-01", Some(&json!({"replicationState": "STALLED"}))).await.unwrap();
    let mut params = shop_parameters();
    params["Selection"] = json!({"onNotReady": "skip"});
    let drill = resource("ShopStack", params);
    let token = r.token().await;
    let activated = r.run(&drill, "activate", Some(&token)).await.unwrap();
    let run = drs_module::recovery::run::of_payload(&r.clients, &activated.payload).await.unwrap();
    let execution = run.record.execution.clone();
    // The parent is told where the report went.
    let state = r.token_state(&token).await;
    assert_eq!(state["output"]["report"], format!("s3://drs-orch-reports/runs/ShopStack/{execution}/report.json"), "{state}");

    let (report, version) = report_of(&r, "ShopStack", &execution).await;
    let res = &report.resources[0];
    let stalled: Vec<_> = res.left_out.iter().filter(|l| l.hostname.as_deref() == Some("db-01")).collect();
    assert_eq!(stalled.len(), 1, "{:?}", res.left_out);
    assert_eq!(stalled[0].kind, LeftOutKind::NotReady);
    assert!(stalled[0].reason.contains("STALLED"), "{}", stalled[0].reason);
    let in_waves = res.waves.iter().flat_map(|w| &w.servers).count();
    assert_eq!((in_waves, res.left_out.len()), (59, 1), "every server of the group is in the report");
    assert!(report.phases.is_empty(), "no cleanup yet");

    // The end delivered again (the parent's task is over, so it is refused as ParentGone), and
    // a check repeated after the end without the token (answered done again): the same
    // report, not rewritten, nothing beside it.
    let mut again = drs_module::driver::event(&drill, "activate", Some(&token));
    again["status"] = json!(true);
    again["lifecycle_output"] = json!({"Payload": activated.payload});
    let gone = drs_module::lifecycle::handle(&r.clients, &again).await.unwrap_err();
    assert_eq!(gone.code, "ParentGone", "{}", gone.message);
    again.as_object_mut().unwrap().remove("TaskToken");
    assert_eq!(drs_module::lifecycle::handle(&r.clients, &again).await.unwrap(), json!(true));
    assert_eq!(drs_module::lifecycle::handle(&r.clients, &again).await.unwrap(), json!(true));
    assert_eq!(report_version(&r, &execution).await, version, "a repeated end leaves the report as written");
    assert_eq!(keys(&r, "runs/").await.len(), 3, "one report, at its run's key");

    let cleaned = r.run(&drill, "cleanup", Some(&r.token().await)).await.unwrap();
    assert!(cleaned.payload["instances"].as_u64().unwrap() > 0, "the first call found the instances");
    let (report, version) = report_of(&r, "ShopStack", &execution).await;
    let c = cleanup(&report);
    assert_eq!((c["remaining"].as_u64(), c["terminated"].as_u64()), (Some(0), Some(59)), "the cleanup as it ended: {c}");
    assert!(c["terminateJobs"].as_array().is_some_and(|j| !j.is_empty()), "{c}");
    // A cleanup delivered again says the same: the report stays as it is.
    r.run(&drill, "cleanup", Some(&r.token().await)).await.unwrap();
    assert_eq!(report_version(&r, &execution).await, version);
    assert_eq!(keys(&r, "runs/").await.len(), 3);
    // Written in the hub's own bucket with the hub's role: not a cross-account write.
    let calls = r.control.calls().await.unwrap();
    let puts: Vec<&Value> = calls.iter().filter(|c| c["operation"] == "PutObject").collect();
    assert_eq!(puts.len(), 6, "written twice (the end, the cleanup), three files each");
    assert!(puts.iter().all(|c| c["account"] == drs_sim::generate::HUB_ACCOUNT && c["status"] == 200), "{puts:?}");
}

async fn report_version(r: &Rig, execution: &str) -> String {
    let key = format!("runs/ShopStack/{execution}/report.json");
    let head = r.s3().head_object().bucket("drs-orch-reports").key(key).send().await.unwrap();
    head.version_id().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_report_that_cannot_be_written_is_named_and_changes_no_outcome() {
    let r = rig_configured(drs_sim::Fleet::demo(), |c| {
        c.reports.as_mut().unwrap().bucket = "drs-orch-no-such-bucket".into();
        c.retry.max_attempts = 2;
    })
    .await;
    let token = r.token().await;
    r.run(&resource("ShopStack", shop_parameters()), "activate", Some(&token)).await.expect("the run succeeds");
    let state = r.token_state(&token).await;
    assert_eq!(state["status"], "SUCCEEDED", "{state}");
    let error = state["output"]["reportError"].as_str().unwrap_or_else(|| panic!("the answer names it: {state}"));
    assert!(error.contains("NoSuchBucket") && error.contains("drs-orch-no-such-bucket"), "{error}");

    // A failed run keeps its own error.
    r.control
        .ok(
            "POST",
            "servers/db-01",
            Some(&json!({"launchOutcome": "FAILED", "launchSeconds": 60, "failureReason": "no capacity"})),
        )
        .await
        .unwrap();
    let mut params = shop_parameters();
    params["FailurePolicy"] = json!("fail-fast");
    let err = r.run(&resource("ShopStack", params), "activate", Some(&r.token().await)).await.unwrap_err();
    assert_eq!(err.code, "WaveFailed", "{}", err.message);
}

#[tokio::test]
async fn an_activation_refused_before_its_run_opened_leaves_a_report_naming_why() {
    let r = rig().await;
    r.control.ok("POST", "servers/db-01", Some(&json!({"replicationState": "STALLED"}))).await.unwrap();
    let (error, _) = play(&r, &definition(), json!({"resource": resource("ShopStack", shop_parameters())})).await.unwrap_err();
    assert_eq!(error, "ActivationFailed");
    let written = keys(&r, "runs/ShopStack/").await;
    assert_eq!(written.len(), 3, "{written:?}");
    let execution = written[0].split('/').nth(2).unwrap().to_owned();
    let (report, _) = report_of(&r, "ShopStack", &execution).await;
    assert_eq!(report.outcome, Verdict::Failed(drs_module::error::ErrorCode::ActivationFailed));
    let why = report.resources[0].error.clone().unwrap_or_default();
    assert!(why.contains("db-01") && why.contains("STALLED"), "{why}");
}

/// A run whose parent's task ended mid-run: the check that finds the parent gone ends the run
/// (nothing checks it again, so it launches nothing more), and its cleanup does not wait for
/// it as for a run still going; the report says how it ended, never that it succeeded.
#[tokio::test]
async fn a_run_whose_parent_went_mid_run_ends_there_and_is_never_reported_a_success() {
    let r = rig().await;
    let drill = resource("ShopStack", shop_parameters());
    let token = r.token().await;
    let call = drs_module::driver::event(&drill, "activate", Some(&token));
    let first = drs_module::lifecycle::handle(&r.clients, &call).await.unwrap();
    let run = drs_module::recovery::run::of_payload(&r.clients, &first).await.unwrap();
    let execution = run.record.execution.clone();
    // The parent's task ends (timed out, stopped); the next check finds it gone.
    let sfn = aws_sdk_sfn::Client::new(r.clients.hub());
    sfn.send_task_failure().task_token(&token).error("Stopped").send().await.unwrap();
    let mut check = call.clone();
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": first.clone()});
    r.control.advance(30.0).await.unwrap();
    let gone = drs_module::lifecycle::handle(&r.clients, &check).await.unwrap_err();
    assert_eq!(gone.code, "ParentGone", "{}", gone.message);
    let ended = drs_module::recovery::run::of_payload(&r.clients, &first).await.unwrap();
    assert_eq!(ended.record.end.as_ref().and_then(|e| e.error), Some(drs_module::error::ErrorCode::ParentGone));

    // Well before its deadline, cleanup cleans it: it is not a run still going.
    let cleanup = drs_module::driver::event(&drill, "cleanup", None);
    let started = drs_module::lifecycle::handle_detailed(&r.clients, &cleanup).await.unwrap();
    assert!(!started.answer["running"].to_string().contains(&execution), "{}", started.answer);
    r.run(&drill, "cleanup", None).await.expect("the ended run is cleaned");
    let (report, _) = report_of(&r, "ShopStack", &execution).await;
    assert_eq!(report.outcome, Verdict::Failed(drs_module::error::ErrorCode::ParentGone), "{:?}", report.outcome);
}
