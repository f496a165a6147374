//! Waves as a graph: waves whose dependencies have completed run at once. Two applications
//! of the demo fleet (billing's databases; shop's application tier, then its web tier) in
//! three waves, billing's wave depending on nothing.

use crate::common::{launches_per_server, resource, rig, rig_configured, Rig, POLL_S};
use aws_sdk_drs::types::Job;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// billing (wave 0: 12 databases of 900 s or more) beside shop (wave 1: 24 application
/// servers of about 600 s; wave 2: 24 web servers after them).
fn two_branches() -> Value {
    json!({
        "Tags": {"Application": ["shop", "billing"]},
        "Waves": [
            {"Name": "billing", "Tags": {"Application": "billing"}, "DependsOn": []},
            {"Name": "shop-app", "Tags": {"Tier": "app"}, "DependsOn": []},
            {"Name": "shop-web", "Tags": {"Tier": "web"}, "DependsOn": ["shop-app"]}
        ]
    })
}

fn tag<'a>(j: &'a Job, k: &str) -> Option<&'a str> {
    j.tags().and_then(|t| t.get(k)).map(String::as_str)
}

fn secs(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp()
}

/// Per wave (its tag): the first job's creation and the last job's end, in seconds.
async fn spans(r: &Rig) -> BTreeMap<String, (i64, i64)> {
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (_, j) in r.all_jobs().await.iter().filter(|(_, j)| j.r#type().is_some_and(|t| t.as_str() == "LAUNCH")) {
        let Some(w) = tag(j, "drs-orch:wave") else { continue };
        let start = secs(j.creation_date_time().unwrap());
        let end = j.end_date_time().map_or(i64::MAX, secs);
        let e = out.entry(w.to_owned()).or_insert((start, end));
        *e = (e.0.min(start), if e.1 == i64::MAX || end == i64::MAX { i64::MAX } else { e.1.max(end) });
    }
    out
}

#[tokio::test]
async fn independent_branches_start_together_and_a_dependent_follows_only_its_own_wave() {
    let r = rig().await;
    let token = r.token().await;
    let done = r.run(&resource("TwoApps", two_branches()), "activate", Some(&token)).await.expect("the drill succeeds");
    let out = r.token_state(&token).await["output"].clone();
    assert_eq!((out["launched"].as_u64(), out["failed"].as_u64()), (Some(60), Some(0)), "{out}");
    let launches = launches_per_server(&r.all_jobs().await);
    assert!(launches.len() == 60 && launches.values().all(|n| *n == 1), "{launches:?}");

    let s = spans(&r).await;
    let (billing, app, web) = (s["0"], s["1"], s["2"]);
    assert_eq!(billing.0, app.0, "both branches start at activation: {s:?}");
    let handoff = web.0 - app.1;
    assert!((0..=POLL_S as i64).contains(&handoff), "shop-web started {handoff} s after shop-app ended: {s:?}");
    assert!(web.0 < billing.1, "shop-web waited for billing, which it does not depend on: {s:?}");

    // The report shows the branches: what each wave waited for, in its JSON and its wave table.
    let execution = drs_module::recovery::run::of_payload(&r.clients, &done.payload).await.unwrap().record.execution;
    let report: drs_module::report::RunReport =
        serde_json::from_str(&r.report_file("TwoApps", &execution, "json").await).unwrap();
    let after: Vec<(&str, Vec<&str>)> =
        report.resources[0].waves.iter().map(|w| (w.name.as_str(), w.after.iter().map(String::as_str).collect())).collect();
    assert_eq!(after, [("billing", vec![]), ("shop-app", vec![]), ("shop-web", vec!["shop-app"])]);
    let md = r.report_file("TwoApps", &execution, "md").await;
    let waves = md.lines().skip_while(|l| *l != "### Waves");
    let rows: Vec<&str> = waves.filter(|l| l.starts_with("| wave ")).take(3).collect();
    assert!(rows.len() == 3 && rows[0].contains("| - |") && rows[2].contains("| shop-app |"), "{rows:#?}");
}

#[tokio::test]
async fn a_failed_branch_under_fail_fast_starts_no_new_wave_anywhere() {
    let r = rig().await;
    r.control
        .ok(
            "POST",
            "servers/db-01",
            Some(&json!({"launchOutcome": "FAILED", "launchSeconds": 60, "failureReason": "InsufficientInstanceCapacity"})),
        )
        .await
        .unwrap();
    let mut params = two_branches();
    params["Waves"][0]["FailurePolicy"] = json!("fail-fast");
    let e = r.run(&resource("TwoApps", params), "activate", None).await.unwrap_err();
    assert_eq!(e.code, "WaveFailed");
    assert!(e.message.contains("billing") && e.message.contains("db-01"), "{}", e.message);
    // shop-app was still launching (about 600 s) when billing failed; shop-web never started.
    let started: BTreeSet<String> =
        r.all_jobs().await.iter().filter_map(|(_, j)| tag(j, "drs-orch:wave").map(str::to_owned)).collect();
    assert_eq!(started, ["0".to_string(), "1".to_string()].into());
}

#[tokio::test]
async fn branches_starting_in_one_partition_share_its_quotas() {
    // Two jobs of one server at a time per account x region: without sharing, the first
    // wave judged would take both.
    let r = rig_configured(drs_sim::Fleet::demo(), |c| {
        c.quotas.concurrent_jobs = 2;
        c.quotas.servers_per_job = 1;
    })
    .await;
    r.run(&resource("TwoApps", two_branches()), "activate", None).await.expect("the drill succeeds");
    let jobs = r.all_jobs().await;
    let first = jobs.iter().filter_map(|(_, j)| j.creation_date_time().map(secs)).min().unwrap();
    let mut at_start: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (p, j) in jobs.iter().filter(|(_, j)| j.creation_date_time().map(secs) == Some(first)) {
        at_start.entry(p.as_str()).or_default().insert(tag(j, "drs-orch:wave").unwrap());
    }
    assert_eq!(at_start.len(), 6, "{at_start:?}");
    for (p, waves) in &at_start {
        assert_eq!(waves, &BTreeSet::from(["0", "1"]), "{p}: the two branches' first jobs");
    }
    // And never more than the quota at once in a partition.
    for p in at_start.keys() {
        let mut times: Vec<(i64, i32)> = vec![];
        for (_, j) in jobs.iter().filter(|(q, _)| q == p) {
            times.push((secs(j.creation_date_time().unwrap()), 1));
            times.push((secs(j.end_date_time().unwrap()), -1));
        }
        times.sort();
        let peak = times.iter().scan(0, |n, (_, d)| {
            *n += d;
            Some(*n)
        });
        assert!(peak.max().unwrap() <= 2, "{p}: more than 2 jobs at once");
    }
}

#[tokio::test]
async fn a_waves_after_wave_hooks_run_once_at_its_dependents_crossing_or_at_the_end() {
    use crate::hooks::{tenant, with_tenant};
    let r = rig_configured(
        drs_sim::Fleet::demo(),
        tenant(&[("skip-tagged", "skip_tagged")], drs_module::config::HookFailure::FailClosed, None),
    )
    .await;
    let token = r.token().await;
    r.run(&resource("TwoApps", with_tenant(two_branches(), &["skip-tagged"])), "activate", Some(&token))
        .await
        .expect("the drill runs");
    // Each wave's jobs carry the decisions of its crossing: shop-web's, shop-app's after-wave
    // (its only dependent); billing and shop-app start with the run, after nothing.
    let mut tags: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, j) in r.all_jobs().await {
        if let (Some(w), Some(h)) = (tag(&j, "drs-orch:wave"), tag(&j, "drs-orch:hooks")) {
            tags.entry(w.to_owned()).or_default().insert(h.to_owned());
        }
    }
    let after_in = |w: &str| tags[w].iter().filter(|t| t.contains(":after-wave=")).count();
    assert_eq!((after_in("0"), after_in("1"), after_in("2")), (0, 0, 1), "{tags:?}");
    // The waves nothing depends on (billing, shop-web) hear after-wave at the run's end, once.
    let out = r.token_state(&token).await["output"].clone();
    let after_at_end: Vec<usize> = out["waves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["hookDecisions"].as_array().unwrap().iter().filter(|d| d["point"] == "after-wave").count())
        .collect();
    assert_eq!(after_at_end, [1, 0, 1], "{out}");
    assert_eq!(out["waves"][2]["dependsOn"], json!(["shop-app"]), "{out}");
}
