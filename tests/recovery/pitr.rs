//! Point-in-time recovery (`RecoverBefore`) driven as the platform drives it, across the demo's
//! 3 accounts x 2 regions: each server launches its newest recovery snapshot taken before the
//! time (read back from the simulator's recovery instances, and computed here from DRS's own
//! list of snapshots, not from the module's output); a server without one follows
//! `Selection.onNotReady`; a re-delivered activate and the later waves launch the snapshots the
//! run chose when it was planned; the plan and the report show the choice.

use crate::common::{resource, rig, rig_with, shop_parameters, Rig};
use aws_sdk_drs::types::RecoverySnapshotsOrder;
use chrono::{DateTime, Duration, Utc};
use drs_module::driver::event;
use drs_module::lifecycle::handle;
use drs_module::report::LeftOutKind;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// (snapshot id, taken) of each server's newest snapshot before `before`, by server id, from
/// every partition's DescribeRecoverySnapshots (all of them, oldest first), chosen here.
pub(crate) async fn newest_before(r: &Rig, before: DateTime<Utc>) -> BTreeMap<String, (String, DateTime<Utc>)> {
    let mut out = BTreeMap::new();
    for p in r.clients.config().partitions() {
        let drs = r.clients.drs(&p).await.unwrap();
        let servers = drs.describe_source_servers().send().await.unwrap();
        for s in servers.items() {
            let id = s.source_server_id().unwrap();
            let pages =
                drs.describe_recovery_snapshots().source_server_id(id).order(RecoverySnapshotsOrder::Asc).into_paginator();
            let snaps: Vec<_> = pages.items().send().collect::<Result<Vec<_>, _>>().await.unwrap();
            let best = snaps
                .iter()
                .map(|x| (x.snapshot_id().to_owned(), x.timestamp().unwrap().parse::<DateTime<Utc>>().unwrap()))
                .filter(|(_, t)| *t < before)
                .max_by_key(|(_, t)| *t);
            if let Some(best) = best {
                out.insert(id.to_owned(), best);
            }
        }
    }
    out
}

/// Each recovery instance's point in time, by source server id, as the simulator holds it.
pub(crate) async fn launched_points(r: &Rig) -> BTreeMap<String, DateTime<Utc>> {
    r.recovery_instances()
        .await
        .iter()
        .map(|i| {
            let id = i["sourceServerID"].as_str().unwrap().to_owned();
            (id, i["pointInTimeSnapshotDateTime"].as_str().unwrap().parse().unwrap())
        })
        .collect()
}

/// The id of the demo server `host`.
pub(crate) async fn id_of(r: &Rig, host: &str) -> String {
    let v = r.control.ok("GET", "servers", None).await.unwrap();
    let all = v["servers"].as_array().or(v.as_array()).cloned().unwrap_or_default();
    let s = all.iter().find(|s| s["sourceProperties"]["identificationHints"]["hostname"] == host).unwrap();
    s["sourceServerID"].as_str().unwrap().to_owned()
}

pub(crate) fn at(t: DateTime<Utc>) -> String {
    drs_module::time::secs(&t)
}

/// `minutes` before the run's clock, to the second (as the parameters write it).
fn ago(r: &Rig, minutes: i64) -> DateTime<Utc> {
    let t = r.clients.now() - Duration::minutes(minutes);
    DateTime::from_timestamp(t.timestamp(), 0).unwrap()
}

#[tokio::test]
async fn a_point_in_time_drill_launches_each_servers_newest_snapshot_before_the_time_and_reports_it() {
    let r = rig().await;
    // 90 minutes back: hourly snapshots, kept for a day, so the drill's length does not matter.
    let before = ago(&r, 90);
    let expected = newest_before(&r, before).await;
    assert_eq!(expected.len(), 60, "every demo server has a snapshot from before the time");
    let mut params = shop_parameters();
    params["RecoverBefore"] = json!(at(before));
    let drill = resource("ShopStack", params);
    let token = r.token().await;
    let run = r.run(&drill, "activate", Some(&token)).await.unwrap();

    // The simulator's recovery instances: 60, across the 6 partitions, each at its point.
    let launched = launched_points(&r).await;
    assert_eq!(launched.len(), 60);
    for (id, (_, taken)) in &expected {
        assert_eq!(launched.get(id), Some(taken), "server {id}");
        assert!(*taken < before);
    }
    let starts = r.start_recoveries().await;
    let named: usize = starts
        .iter()
        .flat_map(|c| c["request"]["sourceServers"].as_array().cloned().unwrap_or_default())
        .filter(|s| s["recoverySnapshotID"].as_str().is_some_and(|pit| expected[s["sourceServerID"].as_str().unwrap()].0 == pit))
        .count();
    assert_eq!(named, 60, "every StartRecovery names the server's snapshot");
    let partitions: std::collections::BTreeSet<String> = r
        .recovery_instances()
        .await
        .iter()
        .map(|i| format!("{}/{}", i["accountId"].as_str().unwrap(), i["region"].as_str().unwrap()))
        .collect();
    assert_eq!(partitions.len(), 6, "3 accounts x 2 regions");

    // The answer the parent got names each server's recovered point.
    let answer = &r.token_state(&token).await["output"];
    let points = &answer["recoveryPoints"];
    assert_eq!(points["recoverBefore"], at(before));
    assert_eq!(points["fromSnapshots"], 60);
    for s in points["servers"].as_array().unwrap() {
        let (pit, taken) = &expected[s["sourceServerID"].as_str().unwrap()];
        assert_eq!((s["snapshotID"].as_str().unwrap(), s["taken"].as_str().unwrap()), (pit.as_str(), at(*taken).as_str()));
    }

    // The run's report: each server's recovered point, and the time, in the JSON and the Markdown.
    let loaded = drs_module::recovery::run::of_payload(&r.clients, &run.payload).await.unwrap();
    let report = drs_module::report::from_ledger::build(&r.clients, &loaded, None).await.unwrap();
    let res = &report.resources[0];
    assert_eq!(res.recover_before, Some(before));
    let servers: Vec<_> = res.waves.iter().flat_map(|w| &w.servers).collect();
    assert_eq!(servers.len(), 60);
    for s in servers {
        let point = s.recovered_point.as_ref().unwrap();
        assert_eq!((&point.snapshot_id, point.taken), (&expected[&s.source_server_id].0, expected[&s.source_server_id].1));
    }
    let md = drs_module::report::markdown::render(&report);
    let (pit, _) = expected.values().next().unwrap();
    assert!(md.contains("Recovered point") && md.contains(pit.as_str()) && md.contains("Recover before"), "{md}");
}

#[tokio::test]
async fn a_re_delivered_activate_and_the_later_waves_launch_the_snapshots_chosen_when_the_run_was_planned() {
    let r = rig().await;
    let before = ago(&r, 90);
    let expected = newest_before(&r, before).await;
    let mut params = shop_parameters();
    params["RecoverBefore"] = json!(at(before));
    let drill = resource("ShopStack", params);
    let token = r.token().await;
    let first = handle(&r.clients, &event(&drill, "activate", Some(&token))).await.unwrap();
    let started = r.start_recoveries().await.len();
    assert!(started > 0);

    // DRS now keeps a snapshot every minute for 3 hours of a web server (its hourly ones as
    // well): asked again, its newest before the time would be a later one than the run chose.
    let web = id_of(&r, "web-01").await;
    let p = r.clients.config().partitions().into_iter().find(|p| p.account == "200000000001" && p.region == "us-west-2").unwrap();
    let drs = r.clients.drs(&p).await.unwrap();
    let policy = [("MINUTE", 1, 180), ("HOUR", 1, 24), ("DAY", 1, 7)].map(|(u, i, d)| {
        aws_sdk_drs::types::PitPolicyRule::builder()
            .units(u.into())
            .interval(i)
            .retention_duration(d)
            .enabled(true)
            .build()
            .unwrap()
    });
    drs.update_replication_configuration().source_server_id(&web).set_pit_policy(Some(policy.to_vec())).send().await.unwrap();
    let now_newest = newest_before(&r, before).await;
    assert!(now_newest[&web].1 > expected[&web].1, "the every-minute policy offers a newer snapshot");

    // The activate delivered again: the same run, nothing started twice.
    r.control.advance(60.0).await.unwrap();
    let again = handle(&r.clients, &event(&drill, "activate", Some(&token))).await.unwrap();
    assert_eq!(again["execution"], first["execution"]);
    assert_eq!(r.start_recoveries().await.len(), started, "the re-delivery started nothing");

    // Its status checks to the end: every wave launches the snapshot chosen at the start.
    let mut check = event(&drill, "activate", Some(&token));
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": again});
    for _ in 0..500 {
        r.control.advance(crate::common::POLL_S as f64).await.unwrap();
        if handle(&r.clients, &check).await.unwrap() == Value::Bool(true) {
            break;
        }
    }
    let launches = crate::common::launches_per_server(&r.all_jobs().await);
    assert!(launches.len() == 60 && launches.values().all(|n| *n == 1), "{launches:?}");
    let launched = launched_points(&r).await;
    assert_eq!(launched[&web], expected[&web].1, "web-01 (the last wave) launched the point chosen at the start");
    for (id, (_, taken)) in &expected {
        assert_eq!(launched.get(id), Some(taken), "server {id}");
    }
}

#[tokio::test]
async fn a_server_without_a_snapshot_before_the_time_follows_on_not_ready_and_is_named() {
    let mut fleet = drs_sim::Fleet::demo();
    // db-01's replication started 30 minutes before the simulator: nothing of it from an hour ago.
    fleet.servers.iter_mut().find(|s| s.hostname == "db-01").unwrap().replication.started_minutes_ago = 30;
    let r = rig_with(fleet).await;
    let db01 = id_of(&r, "db-01").await;
    let before = ago(&r, 60);
    let with = |policy: &str| {
        let mut params = shop_parameters();
        params["RecoverBefore"] = json!(at(before));
        params["Selection"] = json!({"onNotReady": policy});
        resource("ShopStack", params)
    };

    // fail (the default): nothing starts, and the server is named.
    let refused = r.run(&with("fail"), "activate", Some(&r.token().await)).await.unwrap_err();
    assert_eq!(refused.code, "ActivationFailed", "{}", refused.message);
    assert!(refused.message.contains("db-01") && refused.message.contains("no recovery snapshot before"), "{}", refused.message);
    assert!(r.start_recoveries().await.is_empty());

    // skip: left out, named in the answer and the report's left-out list.
    let token = r.token().await;
    let run = r.run(&with("skip"), "activate", Some(&token)).await.unwrap();
    assert!(!launched_points(&r).await.contains_key(&db01));
    assert_eq!(launched_points(&r).await.len(), 59);
    let answer = r.token_state(&token).await["output"].clone();
    let warned = answer["warnings"].as_array().unwrap().iter().filter_map(Value::as_str).any(|w| w.contains("db-01"));
    assert!(warned, "{answer}");
    let loaded = drs_module::recovery::run::of_payload(&r.clients, &run.payload).await.unwrap();
    let report = drs_module::report::from_ledger::build(&r.clients, &loaded, None).await.unwrap();
    let left: Vec<_> = report.resources[0].left_out.iter().filter(|l| l.kind == LeftOutKind::NoRecoveryPoint).collect();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].source_server_id.as_deref(), Some(db01.as_str()));
    assert!(left[0].reason.contains("no recovery snapshot before"), "{}", left[0].reason);

    // warn: launched from its latest data, named; the others from their snapshots.
    let token = r.token().await;
    r.run(&with("warn"), "activate", Some(&token)).await.unwrap();
    let launched = launched_points(&r).await;
    assert!(launched[&db01] > before, "db-01 launched its latest data");
    assert_eq!(launched.values().filter(|t| **t < before).count(), 59);
    let answer = r.token_state(&token).await["output"].clone();
    let warned = answer["warnings"].as_array().unwrap().iter().filter_map(Value::as_str).any(|w| w.contains(&db01));
    assert!(warned, "{answer}");
}

#[tokio::test]
async fn a_time_after_the_runs_clock_is_refused_naming_the_field() {
    let r = rig().await;
    let mut params = shop_parameters();
    params["RecoverBefore"] = json!(at(r.clients.now() + Duration::hours(1)));
    let refused = r.run(&resource("ShopStack", params), "activate", Some(&r.token().await)).await.unwrap_err();
    assert_eq!(refused.code, "InvalidParameters", "{}", refused.message);
    assert!(refused.message.contains("parameters.RecoverBefore") && refused.message.contains("future"), "{}", refused.message);
    assert!(r.start_recoveries().await.is_empty());
}

#[tokio::test]
async fn the_plan_shows_each_servers_snapshot_and_its_age_against_the_time() {
    let r = rig().await;
    let before = ago(&r, 90);
    let expected = newest_before(&r, before).await;
    let mut params = shop_parameters();
    params["RecoverBefore"] = json!(at(before));
    let manifest = json!([{"layer": 1, "resources": [resource("ShopStack", params)]}]);
    let layers = drs_module::manifest::layers(&manifest).unwrap();
    let found = drs_module::discovery::discover(&r.clients, &r.clients.config().partitions(), |_| {}).await;
    let mut plan = drs_module::plan::plan(&layers, &found, &r.clients.config().quotas);
    let resources: Vec<_> = layers.iter().flat_map(|l| l.resources.iter()).collect();
    drs_module::plan::points::attach(&r.clients, &mut plan, &resources).await.unwrap();
    assert!(plan.is_ok());
    let text = plan.text();
    assert!(
        text.contains(&format!("recover before {}: 60 servers from a recovery snapshot, 0 without one", at(before))),
        "{text}"
    );
    for (id, (pit, taken)) in &expected {
        let line = text.lines().find(|l| l.contains(id.as_str())).unwrap_or_else(|| panic!("{id} not in the plan:\n{text}"));
        assert!(line.contains(pit.as_str()) && line.contains(&at(*taken)), "{line}");
        let age = (before - *taken).num_minutes();
        assert!(line.ends_with(" before") && line.contains(&format!("{age}m ")), "{line} (age {age} minutes)");
    }
    assert!(r.start_recoveries().await.is_empty(), "planning starts nothing");
}
