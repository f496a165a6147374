//! A point-in-time run whose chosen snapshots DRS stops keeping before their wave starts: the
//! web wave waits behind an approval for longer than DRS keeps a 10-minute snapshot. Each one
//! gone is replaced by the newest DRS still keeps from before the time (computed here from DRS's
//! own listing when the run has ended), recorded once in the run's ledger record, named in the
//! answer's warnings; a server with none left is given up (or, under `onNotReady: warn`,
//! launches its latest data), named with the field. Nothing launches twice.

use super::pitr::{at, launched_points, newest_before};
use crate::common::{resource, shop_parameters, Rig, POLL_S};
use chrono::{DateTime, Duration, Timelike, Utc};
use drs_module::config::Partition;
use drs_module::driver::PhaseRun;
use drs_module::lifecycle::LifecycleError;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Minutes the web wave's approval is held: past the hour DRS keeps a 10-minute snapshot.
const HELD_MIN: u64 = 80;

/// A rig whose clock stands at 25 minutes past an hour: `RecoverBefore` 5 minutes back (20
/// past) then chooses the snapshot due at 10 past, which DRS keeps for an hour only (the one
/// at 20 past is taken a few seconds after it was due: after the time).
async fn rig_at_25_past(fleet: drs_sim::Fleet) -> (Rig, DateTime<Utc>) {
    let r = crate::common::rig_with(fleet).await;
    let now = r.clients.now();
    let mut target = now.with_minute(25).unwrap().with_second(0).unwrap().with_nanosecond(0).unwrap();
    while target <= now + Duration::minutes(1) {
        target += Duration::hours(1);
    }
    r.control.advance((target - now).num_milliseconds() as f64 / 1000.0).await.unwrap();
    let before = target - Duration::minutes(5);
    (r, before)
}

/// The demo drill recovering the data from before `before`, the web wave behind an approval.
fn drill(before: DateTime<Utc>, on_not_ready: &str) -> Value {
    let mut params = shop_parameters();
    params["RecoverBefore"] = json!(at(before));
    params["Waves"][2]["PauseBefore"] = json!("web sign-off");
    params["Selection"] = json!({"onNotReady": on_not_ready});
    resource("ShopStack", params)
}

/// Runs activate to its end, approving the open gate once `HELD_MIN` minutes have passed.
async fn run_holding(r: &Rig, state: &Value, token: &str) -> Result<PhaseRun, LifecycleError> {
    let control = r.control.clone();
    let sfn = aws_sdk_sfn::Client::new(r.clients.hub());
    let waited = Arc::new(AtomicU64::new(0));
    let wait = move |d: std::time::Duration| {
        let (c, sfn, waited) = (control.clone(), sfn.clone(), waited.clone());
        Box::pin(async move {
            if waited.load(Ordering::SeqCst) >= HELD_MIN * 60 {
                crate::common::approve_open_gates(&c, &sfn).await;
            }
            c.advance(d.as_secs_f64()).await.unwrap();
            waited.fetch_add(d.as_secs(), Ordering::SeqCst);
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
    };
    r.driver().run(state, "activate", Some(token), &wait, |_| {}).await
}

/// The web servers (the last wave's: `Tier` web): id -> the partition it is in.
async fn web_servers(r: &Rig) -> BTreeMap<String, Partition> {
    let v = r.control.ok("GET", "servers", None).await.unwrap();
    let all = v["servers"].as_array().or(v.as_array()).cloned().unwrap_or_default();
    all.iter()
        .filter(|s| s["tags"]["Tier"] == "web")
        .map(|s| {
            // arn:aws:drs:<region>:<account>:source-server/<id>
            let arn: Vec<&str> = s["arn"].as_str().unwrap().split(':').collect();
            let p = Partition { account: arn[4].to_owned(), region: arn[3].to_owned() };
            (s["sourceServerID"].as_str().unwrap().to_owned(), p)
        })
        .collect()
}

/// The server's policy from now on: a snapshot a minute kept 30 minutes, no hourly ones, and
/// the daily ones (kept 7 days) only when `daily` (DRS takes the three rules, switched on or off).
async fn keep_minutes_only(drs: &aws_sdk_drs::Client, id: &str, daily: bool) {
    let policy = [("MINUTE", 30, true), ("HOUR", 24, false), ("DAY", 7, daily)].map(|(unit, keep, on)| {
        aws_sdk_drs::types::PitPolicyRule::builder()
            .units(unit.into())
            .interval(1)
            .retention_duration(keep)
            .enabled(on)
            .build()
            .unwrap()
    });
    let update = drs.update_replication_configuration().source_server_id(id);
    update.set_pit_policy(Some(policy.to_vec())).send().await.unwrap();
}

fn warnings(answer: &Value) -> Vec<String> {
    answer["warnings"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

#[tokio::test]
async fn a_snapshot_no_longer_kept_when_its_wave_starts_is_replaced_by_the_newest_kept_before_the_time() {
    let (r, before) = rig_at_25_past(drs_sim::Fleet::demo()).await;
    let chosen = newest_before(&r, before).await;
    assert_eq!(chosen.len(), 60);
    assert!(chosen.values().all(|(_, t)| t.minute() == 10), "each server's newest before the time is the one of 10 past");
    let token = r.token().await;
    let run = run_holding(&r, &drill(before, "fail"), &token).await.unwrap();
    assert_eq!(POLL_S, 30);

    // Now DRS keeps nothing of 10 past: each server's newest before the time is the hourly one.
    let kept_now = newest_before(&r, before).await;
    let web = web_servers(&r).await;
    assert_eq!(web.len(), 24);
    let launched = launched_points(&r).await;
    assert_eq!(launched.len(), 60, "every server launched");
    let launches = crate::common::launches_per_server(&r.all_jobs().await);
    assert!(launches.len() == 60 && launches.values().all(|n| *n == 1), "nothing launched twice: {launches:?}");
    for (id, (_, taken)) in &chosen {
        if web.contains_key(id) {
            assert_eq!(launched[id], kept_now[id].1, "web server {id}: the newest DRS still keeps from before the time");
            assert!(launched[id] < before && launched[id] < *taken, "{id}: older than the point chosen at planning");
        } else {
            assert_eq!(launched[id], *taken, "server {id} of an earlier wave: the point chosen at planning");
        }
    }

    // The ledger record holds each replacement; the answer names them and gives the
    // replaced points as the recovered ones; so does the report.
    let loaded = drs_module::recovery::run::of_payload(&r.clients, &run.payload).await.unwrap();
    assert_eq!(loaded.record.repointed.len(), web.len(), "{:?}", loaded.record.repointed.keys());
    for id in web.keys() {
        let rp = &loaded.record.repointed[id];
        assert_eq!((&rp.was.snapshot_id, rp.now.as_ref().map(|n| &n.snapshot_id)), (&chosen[id].0, Some(&kept_now[id].0)));
    }
    let answer = r.token_state(&token).await["output"].clone();
    let named = warnings(&answer);
    let first = web.keys().next().unwrap();
    assert!(
        named.iter().any(|w| w.contains("no longer kept") && w.contains(first) && w.contains(&kept_now[first].0)),
        "{named:?}"
    );
    for s in answer["recoveryPoints"]["servers"].as_array().unwrap() {
        let id = s["sourceServerID"].as_str().unwrap();
        let want = if web.contains_key(id) { &kept_now[id].0 } else { &chosen[id].0 };
        assert_eq!(s["snapshotID"].as_str().unwrap(), want, "server {id}");
    }
    let report = drs_module::report::from_ledger::build(&r.clients, &loaded, None).await.unwrap();
    for s in report.resources[0].waves.iter().flat_map(|w| &w.servers) {
        let want =
            if web.contains_key(&s.source_server_id) { &kept_now[&s.source_server_id] } else { &chosen[&s.source_server_id] };
        assert_eq!(s.recovered_point.as_ref().map(|p| &p.snapshot_id), Some(&want.0), "{}", s.source_server_id);
    }
}

#[tokio::test]
async fn a_server_with_no_snapshot_left_before_the_time_is_given_up_or_launches_its_latest_data_under_warn() {
    for on_not_ready in ["fail", "warn"] {
        let (r, before) = rig_at_25_past(drs_sim::Fleet::demo()).await;
        let (gone, at_p) = web_servers(&r).await.into_iter().next().unwrap();
        let token = r.token().await;
        let state = drill(before, on_not_ready);
        let first = drs_module::lifecycle::handle(&r.clients, &drs_module::driver::event(&state, "activate", Some(&token)))
            .await
            .unwrap();
        assert!(first.is_object(), "the run opened: {first}");
        // Planned: now the web server keeps a snapshot a minute for 30 minutes only, nothing from
        // before the time.
        let drs = r.clients.drs(&at_p).await.unwrap();
        keep_minutes_only(&drs, &gone, false).await;

        let mut check = drs_module::driver::event(&state, "activate", Some(&token));
        check["status"] = json!(true);
        check["lifecycle_output"] = json!({"Payload": first});
        let outcome = run_checks(&r, &check).await;
        let launched = launched_points(&r).await;
        let answer = r.token_state(&token).await;
        match on_not_ready {
            "fail" => {
                assert!(!launched.contains_key(&gone), "the server is given up, not launched");
                let cause = answer["cause"].as_str().unwrap_or_default().to_owned() + &outcome;
                assert!(cause.contains(&gone) && cause.contains("RecoverBefore") && cause.contains("no longer kept"), "{answer}");
                assert_eq!(launched.len(), 59, "the others launched");
            }
            _ => {
                assert!(launched[&gone] > before, "the server launched its latest data");
                assert_eq!(launched.len(), 60);
                let named = warnings(&answer["output"]);
                assert!(named.iter().any(|w| w.contains(&gone) && w.contains("latest data")), "{named:?}");
            }
        }
        let launches = crate::common::launches_per_server(&r.all_jobs().await);
        assert!(launches.values().all(|n| *n == 1), "nothing launched twice: {launches:?}");
    }
}

/// Status checks to the run's end, approving the gate once `HELD_MIN` minutes have passed;
/// the last answer, as text.
async fn run_checks(r: &Rig, check: &Value) -> String {
    let sfn = aws_sdk_sfn::Client::new(r.clients.hub());
    let mut waited = 0;
    for _ in 0..1000 {
        r.control.advance(POLL_S as f64).await.unwrap();
        waited += POLL_S;
        if waited >= HELD_MIN * 60 {
            crate::common::approve_open_gates(&r.control, &sfn).await;
        }
        match drs_module::lifecycle::handle(&r.clients, check).await {
            Ok(Value::Bool(false)) => continue,
            Ok(v) => return v.to_string(),
            Err(e) => return e.to_string(),
        }
    }
    panic!("the run did not end")
}

/// The snapshots' retention cannot be read again in one account x region when its web servers'
/// StartRecovery is refused (DescribeRecoverySnapshots answers 503 for a while): those servers
/// wait, named, rather than fail the run; once it answers, their snapshots are replaced and
/// they launch, every server once; the other accounts and regions' web servers go on meanwhile.
#[tokio::test]
async fn a_recheck_that_cannot_read_the_snapshots_waits_and_fails_nothing() {
    let (r, before) = rig_at_25_past(drs_sim::Fleet::demo()).await;
    let web = web_servers(&r).await;
    let dark = web.values().next().unwrap().clone();
    let token = r.token().await;
    let state = drill(before, "fail");
    let first =
        drs_module::lifecycle::handle(&r.clients, &drs_module::driver::event(&state, "activate", Some(&token))).await.unwrap();
    let mut check = drs_module::driver::event(&state, "activate", Some(&token));
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": first});
    let sfn = aws_sdk_sfn::Client::new(r.clients.hub());
    let (mut waited, mut named, mut faulted) = (0, vec![], None);
    let mut ended = None;
    for checks in 0..1000 {
        r.control.advance(POLL_S as f64).await.unwrap();
        waited += POLL_S;
        if waited >= HELD_MIN * 60 && faulted.is_none() {
            let outage = json!({"service": "drs", "operation": "DescribeRecoverySnapshots", "account": dark.account,
                "region": dark.region, "status": 503});
            r.control.ok("PUT", "faults", Some(&json!({"outages": [outage]}))).await.unwrap();
            faulted = Some(checks);
            crate::common::approve_open_gates(&r.control, &sfn).await;
        }
        if faulted.is_some_and(|at| checks == at + 2) {
            r.control.ok("PUT", "faults", Some(&json!({}))).await.unwrap();
        }
        match drs_module::lifecycle::handle_detailed(&r.clients, &check).await {
            Ok(h) if h.answer == Value::Bool(true) => {
                ended = Some(Ok(()));
                break;
            }
            Ok(h) => {
                let waits = h.detail.as_ref().map(|d| d["waves"][2]["waitingFor"].to_string()).unwrap_or_default();
                if waits.contains("could not be read") {
                    named.push(waits);
                }
            }
            Err(e) => {
                ended = Some(Err(e));
                break;
            }
        }
    }
    assert!(matches!(ended, Some(Ok(()))), "the run ends well: {ended:?}");
    assert!(named.iter().any(|w| w.contains(&dark.to_string())), "the dark partition's servers were named waiting: {named:?}");
    let launches = crate::common::launches_per_server(&r.all_jobs().await);
    assert!(launches.len() == 60 && launches.values().all(|n| *n == 1), "each server launched once: {launches:?}");
    let kept_now = newest_before(&r, before).await;
    let launched = launched_points(&r).await;
    for id in web.keys() {
        assert_eq!(launched[id], kept_now[id].1, "web server {id}: the newest DRS still keeps from before the time");
    }
}

/// A replacement that is itself no longer kept when its server can start: a web server busy in
/// another run's drill when its wave starts has its chosen snapshot replaced by the hourly one;
/// while it waits, its policy stops keeping hourly snapshots; when it can start, the hourly
/// one is replaced in turn by the newest DRS keeps from before the time (a daily one), the
/// record keeping the snapshot chosen at planning as the one replaced; the server launches it,
/// once, and the run ends well.
#[tokio::test]
async fn a_replacement_no_longer_kept_when_its_server_can_start_is_replaced_in_turn() {
    let (r, before) = rig_at_25_past(drs_sim::Fleet::demo()).await;
    let chosen = newest_before(&r, before).await;
    let (gone, at_p) = web_servers(&r).await.into_iter().next().unwrap();
    let v = r.control.ok("GET", "servers", None).await.unwrap();
    let all = v["servers"].as_array().or(v.as_array()).cloned().unwrap_or_default();
    let host = all.iter().find(|s| s["sourceServerID"] == gone.as_str()).unwrap()["sourceProperties"]["identificationHints"]
        ["hostname"]
        .as_str()
        .unwrap()
        .to_owned();
    // Another run's drill holds it until ten minutes after the gate opens.
    let path = format!("servers/{host}");
    r.control.ok("POST", &path, Some(&json!({"launchSeconds": HELD_MIN * 60 + 600}))).await.unwrap();
    let drs = r.clients.drs(&at_p).await.unwrap();
    let one = aws_sdk_drs::types::StartRecoveryRequestSourceServer::builder().source_server_id(&gone).build().unwrap();
    drs.start_recovery().source_servers(one).is_drill(true).send().await.unwrap();
    r.control.ok("POST", &path, Some(&json!({"launchSeconds": 300}))).await.unwrap();

    let token = r.token().await;
    let state = drill(before, "fail");
    let first =
        drs_module::lifecycle::handle(&r.clients, &drs_module::driver::event(&state, "activate", Some(&token))).await.unwrap();
    let mut check = drs_module::driver::event(&state, "activate", Some(&token));
    check["status"] = json!(true);
    check["lifecycle_output"] = json!({"Payload": first});
    let sfn = aws_sdk_sfn::Client::new(r.clients.hub());
    let (mut waited, mut hourly) = (0, None);
    let mut ended = None;
    for _ in 0..1000 {
        r.control.advance(POLL_S as f64).await.unwrap();
        waited += POLL_S;
        if waited == HELD_MIN * 60 {
            crate::common::approve_open_gates(&r.control, &sfn).await;
        }
        if waited == HELD_MIN * 60 + 120 {
            // The hourly replacement is recorded by now; from here on DRS keeps it no more.
            hourly = newest_before(&r, before).await.get(&gone).cloned();
            keep_minutes_only(&drs, &gone, true).await;
        }
        match drs_module::lifecycle::handle(&r.clients, &check).await {
            Ok(Value::Bool(false)) => continue,
            Ok(v) => {
                ended = Some(Ok(v));
                break;
            }
            Err(e) => {
                ended = Some(Err(e));
                break;
            }
        }
    }
    assert!(matches!(ended, Some(Ok(_))), "the run ends well: {ended:?}");
    let hourly = hourly.expect("the hourly snapshot was the replacement");
    let daily = newest_before(&r, before).await[&gone].clone();
    assert_ne!(hourly.0, daily.0, "the policy change left an older snapshot before the time");
    assert!(daily.1 < hourly.1);
    let loaded = drs_module::recovery::run::of_payload(&r.clients, &first).await.unwrap();
    let rp = &loaded.record.repointed[&gone];
    assert_eq!(rp.was.snapshot_id, chosen[&gone].0, "the record keeps the snapshot chosen at planning");
    assert_eq!(rp.now.as_ref().map(|n| &n.snapshot_id), Some(&daily.0), "replaced in turn by the daily one");
    assert_eq!(launched_points(&r).await[&gone], daily.1, "it launched the daily snapshot");
    let launches = crate::common::launches_per_server(&r.all_jobs().await);
    assert_eq!(launches[&gone], 2, "the other run's drill and this run's launch");
    assert!(launches.iter().filter(|(id, _)| **id != gone).all(|(_, n)| *n == 1), "{launches:?}");
}
