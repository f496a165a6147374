//! A 3-wave drill over 3 accounts x 2 regions, end to end, then its cleanup.

use crate::common::{emf_fields, launches_per_server, resource, rig, shop_parameters, POLL_S};
use aws_sdk_drs::types::Job;
use serde_json::Value;

fn tag<'a>(j: &'a Job, k: &str) -> Option<&'a str> {
    j.tags().and_then(|t| t.get(k)).map(String::as_str)
}

#[tokio::test]
async fn a_three_wave_drill_runs_in_order_and_its_cleanup_leaves_no_drill_instance() {
    let r = rig().await;
    let shop = resource("ShopStack", shop_parameters());
    let token = r.token().await;
    let run = r.run(&shop, "activate", Some(&token)).await.expect("the drill succeeds");

    // The parent got SendTaskSuccess with the summary, and a heartbeat per status check.
    let state = r.token_state(&token).await;
    assert_eq!(state["status"], "SUCCEEDED", "{state}");
    assert_eq!(state["heartbeats"].as_u64(), Some(run.checks as u64));
    let out = &state["output"];
    assert_eq!(
        (out["servers"].as_u64(), out["launched"].as_u64(), out["failed"].as_u64()),
        (Some(60), Some(60), Some(0)),
        "{out}"
    );
    let names: Vec<&str> = out["waves"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["databases", "applications", "web"]);

    // The run's metrics (EMF, logged by the Lambda): a document per wave, then the run's; then
    // what it achieved (no objectives set: the achieved RTO and RPO, no verdict), per wave and
    // for the resource.
    assert_eq!(run.metrics.len(), 8);
    let achieved: Vec<_> = run.metrics[4..].iter().map(emf_fields).collect();
    assert_eq!(achieved.iter().filter_map(|d| d.get("Wave").and_then(|w| w.as_str())).collect::<Vec<_>>(), names);
    assert!(achieved.iter().all(|d| d["AchievedRtoSeconds"].as_f64().unwrap() > 0.0 && !d.contains_key("RtoObjectiveMissed")));
    let waves: Vec<_> = run.metrics[..3].iter().map(emf_fields).collect();
    assert_eq!(waves.iter().map(|w| w["Wave"].as_str().unwrap()).collect::<Vec<_>>(), names);
    assert_eq!(waves.iter().map(|w| w["ServersLaunched"].as_f64().unwrap()).sum::<f64>(), 60.0);
    assert!(waves.iter().all(|w| w["WaveSeconds"].as_f64().unwrap() > 0.0 && w["Mode"] == "drill"));
    let total = emf_fields(&run.metrics[3]);
    assert_eq!(
        (total["RunLaunched"].as_f64(), total["RunFailed"].as_f64(), total["RunSucceeded"].as_f64()),
        (Some(60.0), Some(0.0), Some(1.0))
    );
    assert!(total["RunSeconds"].as_f64().unwrap() >= waves.iter().map(|w| w["WaveSeconds"].as_f64().unwrap()).sum::<f64>());

    // Every server launched once, as a drill, in jobs tagged with the execution and the wave,
    // in 3 accounts x 2 regions.
    let jobs = r.all_jobs().await;
    let launches = launches_per_server(&jobs);
    assert_eq!(launches.len(), 60);
    assert!(launches.values().all(|n| *n == 1), "{launches:?}");
    let launch_jobs: Vec<&(String, Job)> =
        jobs.iter().filter(|(_, j)| j.r#type().is_some_and(|t| t.as_str() == "LAUNCH")).collect();
    assert!(launch_jobs.iter().all(|(_, j)| j.initiated_by().is_some_and(|i| i.as_str() == "START_DRILL")));
    assert!(launch_jobs.iter().all(|(_, j)| tag(j, "drs-orch:execution") == run.payload["execution"].as_str()));
    let partitions: std::collections::BTreeSet<&str> = launch_jobs.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(partitions.len(), 6, "{partitions:?}");

    // Waves in order: a wave's first job starts after the previous wave's last job ended,
    // within one status-poll interval of it.
    let wave_times = |w: &str| -> (String, String) {
        let js: Vec<&Job> = launch_jobs.iter().map(|(_, j)| j).filter(|j| tag(j, "drs-orch:wave") == Some(w)).collect();
        assert!(!js.is_empty(), "wave {w} has jobs");
        let first = js.iter().filter_map(|j| j.creation_date_time()).min().unwrap().to_owned();
        let last_end =
            js.iter().map(|j| j.end_date_time().expect("a completed job has an endDateTime")).max().unwrap().to_owned();
        (first, last_end)
    };
    let secs = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp();
    for (prev, next) in [("0", "1"), ("1", "2")] {
        let (_, prev_end) = wave_times(prev);
        let (next_start, _) = wave_times(next);
        let handoff = secs(&next_start) - secs(&prev_end);
        assert!((0..=POLL_S as i64).contains(&handoff), "wave {next} started {handoff}s after wave {prev} ended");
    }

    // The drill's instances exist until cleanup, which ends with none left.
    let drill_instances = |v: &[Value]| v.iter().filter(|i| i["isDrill"] == true).count();
    assert_eq!(drill_instances(&r.recovery_instances().await), 60);
    let token = r.token().await;
    let cleanup = r.run(&shop, "cleanup", Some(&token)).await.expect("cleanup succeeds");
    assert_eq!(cleanup.payload["instances"], 60, "{}", cleanup.payload);
    assert_eq!(drill_instances(&r.recovery_instances().await), 0);
    assert_eq!(r.token_state(&token).await["status"], "SUCCEEDED");
    let terminate_jobs =
        r.all_jobs().await.into_iter().filter(|(_, j)| j.r#type().is_some_and(|t| t.as_str() == "TERMINATE")).count();
    assert!(terminate_jobs >= 6, "one terminate job per partition at least: {terminate_jobs}");

    // A second cleanup finds nothing left and ends at once.
    let again = r.run(&shop, "cleanup", None).await.unwrap();
    assert_eq!((again.payload["instances"].as_u64(), again.checks), (Some(0), 1));
}
